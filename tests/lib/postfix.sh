# tests/lib/postfix.sh: a private Postfix instance on 127.0.0.1 for tests
# and benchmarks (sourced after tests/lib/common.sh). The system's
# /etc/postfix is only read: the instance has its own configuration
# directory, queue and data directories, log file and ports, is started by
# the caller and stopped by its EXIT trap. Needs root (Postfix's master)
# and the Debian postfix package ("Local only" is enough).
#
#   pf_init DIR        create the instance in DIR; sets PF, PF_CONF, PF_PORT
#   pf_conf K=V...     postconf -e on the instance
#   pf_service SPEC    postconf -M on the instance (master.cf line)
#   pf_start           postfix check + start, stopped at exit
#   pf_stop            stop now
#   pf_sendmail ARGS   the instance's sendmail(1)
#   pf_wait_empty [T]  wait until the queue is empty (tenths, default 300)
#   pf_log             the instance's log file

pf_usable() {
	[ "$(id -u)" = 0 ] || return 1
	for b in postfix postconf postqueue postsuper smtp-sink smtp-source sendmail; do
		command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || return 1
	done
	[ -f /etc/postfix/main.cf ] && [ -f /etc/postfix/master.cf ]
}

pf_conf() {
	postconf -c "$PF_CONF" -e "$@"
}

pf_service() {
	postconf -c "$PF_CONF" -M "$@"
}

pf_log() {
	echo "$PF/maillog"
}

pf_init() {
	PF=$1
	PF_CONF=$PF/etc
	mkdir -p "$PF_CONF" "$PF/data" "$PF/spool"
	# Postfix's daemons run as "postfix" and must reach the queue.
	d=$PF
	while [ "$d" != / ]; do
		chmod o+x "$d" 2>/dev/null || true
		d=$(dirname "$d")
	done
	cp /etc/postfix/main.cf /etc/postfix/master.cf "$PF_CONF/"
	chown postfix "$PF/data"
	PF_PORT=$(free_port)
	pf_conf "queue_directory = $PF/spool" "data_directory = $PF/data" \
		"inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" \
		"myhostname = mx.test.invalid" "mydomain = test.invalid" \
		"myorigin = mx.test.invalid" "mydestination =" \
		"alias_maps =" "alias_database =" "relayhost =" \
		"mynetworks = 127.0.0.0/8" \
		"maillog_file_prefixes = $PF" "maillog_file = $PF/maillog" \
		"smtpd_authorized_xclient_hosts = 127.0.0.1" \
		"default_transport = error" "relay_transport = error" \
		"smtpd_relay_restrictions = permit_mynetworks, reject" \
		"delay_warning_time = 0" "bounce_queue_lifetime = 1h" \
		"queue_run_delay = 1s" "minimal_backoff_time = 1s" \
		"maximal_backoff_time = 2s" "biff = no"
	# No chroot (the queue is not set up as one), and only our listener.
	postconf -c "$PF_CONF" -F '*/*/chroot = n'
	pf_service "smtp/inet=127.0.0.1:$PF_PORT inet n - n - - smtpd"
}

pf_start() {
	postfix -c "$PF_CONF" check || return 1
	postfix -c "$PF_CONF" start >/dev/null 2>&1 || return 1
	at_exit "postfix -c '$PF_CONF' stop >/dev/null 2>&1"
	wait_for "pf_banner $PF_PORT" 200
}

# pf_banner PORT: an SMTP server answers 220 on PORT.
pf_banner() {
	python3 -c 'import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),2)
sys.exit(0 if s.recv(200).startswith(b"220") else 1)' "$1"
}

pf_stop() {
	postfix -c "$PF_CONF" stop >/dev/null 2>&1 || true
}

pf_sendmail() {
	/usr/sbin/sendmail -C "$PF_CONF" "$@"
}

pf_wait_empty() {
	wait_for "[ -z \"\$(postqueue -c '$PF_CONF' -j)\" ]" "${1:-300}"
}
