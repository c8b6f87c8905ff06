# tests/lib/fbl_dovecot.sh: a private Dovecot (Debian dovecot-imapd) for
# the fbl tests and bench/imap_ingest.sh, sourced after common.sh (or with
# T set). Everything lives under $T/dovecot; it listens on 127.0.0.1 only,
# on free ports, and is stopped by the caller's EXIT trap.
#
#   dovecot_setup [tls]  write the configuration (tls: also STARTTLS on the
#                        imap port and an imaps port, with a self-signed
#                        certificate for 127.0.0.1 in $T/dovecot/cert.pem)
#   dovecot_start        start it in the foreground and wait for the port
#   dovecot_kill         SIGKILL it and its children (a crash)
#   dovecot_count FOLDER messages in FOLDER of user fbl
#   dovecot_save FOLDER  append stdin to FOLDER (doveadm save)
#
# Sets DOVECOT_DIR, DOVECOT_CONF, IMAP_PORT, IMAPS_PORT, MAILDIR (the
# user's maildir) and IMAP_PASSWORD_FILE.

dovecot_usable() {
	command -v dovecot >/dev/null 2>&1 && command -v doveadm >/dev/null 2>&1 ||
		return 1
	[ "$(id -u)" != 0 ] || { id dovecot && id dovenull; } >/dev/null 2>&1
}

dovecot_setup() {
	DOVECOT_DIR=$T/dovecot
	DOVECOT_CONF=$DOVECOT_DIR/dovecot.conf
	IMAP_PORT=$(free_port)
	IMAPS_PORT=$(free_port)
	IMAP_PASSWORD_FILE=$DOVECOT_DIR/fbl.pass
	mkdir -p "$DOVECOT_DIR/run" "$DOVECOT_DIR/state" "$DOVECOT_DIR/home/fbl"
	MAILDIR=$DOVECOT_DIR/home/fbl/Maildir
	mkdir -p "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
	if [ "$(id -u)" = 0 ]; then
		# Mail may not belong to root: use nobody, and let it reach
		# its home through our private directories.
		muid=65534 mgid=65534
		iuser=dovecot luser=dovenull
		chmod 711 "$TESTS_TMP" "$T" 2>/dev/null || true
		chmod 711 "$DOVECOT_DIR" "$DOVECOT_DIR/home"
		chown -R $muid:$mgid "$DOVECOT_DIR/home/fbl"
	else
		muid=$(id -u) mgid=$(id -g)
		iuser=$(id -un) luser=$(id -un)
	fi
	echo "secret-$$" >"$IMAP_PASSWORD_FILE"
	echo "fbl:{PLAIN}secret-$$:$muid:$mgid::$DOVECOT_DIR/home/fbl" \
		>"$DOVECOT_DIR/passwd"
	ssl=no
	extra=""
	if [ "${1:-}" = tls ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
			-keyout "$DOVECOT_DIR/key.pem" -out "$DOVECOT_DIR/cert.pem" \
			-subj "/CN=localhost" \
			-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
			>/dev/null 2>&1 || fail "openssl could not make a certificate"
		ssl=yes
		extra="ssl_cert = <$DOVECOT_DIR/cert.pem
ssl_key = <$DOVECOT_DIR/key.pem"
	fi
	cat >"$DOVECOT_CONF" <<EOF
protocols = imap
listen = 127.0.0.1
base_dir = $DOVECOT_DIR/run
state_dir = $DOVECOT_DIR/state
log_path = $DOVECOT_DIR/dovecot.log
default_internal_user = $iuser
default_login_user = $luser
first_valid_uid = 1
ssl = $ssl
$extra
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DOVECOT_DIR/passwd
}
userdb {
  driver = passwd-file
  args = $DOVECOT_DIR/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
  }
}
service anvil {
  chroot =
}
service imap-login {
  chroot =
}
EOF
	[ "$ssl" = yes ] || sed -i "/inet_listener imaps {/,/}/s/port = $IMAPS_PORT/port = 0/" "$DOVECOT_CONF"
}

dovecot_start() {
	# A process group of its own, so that a crash can take all of it.
	setsid dovecot -F -c "$DOVECOT_CONF" >>"$DOVECOT_DIR/dovecot.out" 2>&1 &
	DOVECOT_PID=$!
	PIDS="$PIDS $DOVECOT_PID"
	wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $IMAP_PORT), 1)'" ||
		{ cat "$DOVECOT_DIR/dovecot.out" "$DOVECOT_DIR/dovecot.log" >&2 2>/dev/null; fail "dovecot did not start"; }
	DOVECOT_PGID=$(ps -o pgid= -p "$DOVECOT_PID" | tr -d ' ')
	[ "$DOVECOT_PGID" = "$DOVECOT_PID" ] || fail "dovecot is not in a group of its own"
	at_exit "kill -KILL -$DOVECOT_PGID 2>/dev/null"
}

# The live (not zombie) processes of Dovecot's group.
dovecot_procs() {
	ps -e -o pgid=,stat= | awk -v g="$DOVECOT_PGID" '$1 == g && $2 !~ /^Z/' | wc -l
}

dovecot_kill() {
	kill -KILL "-$DOVECOT_PGID" || fail "cannot kill dovecot"
	wait "$DOVECOT_PID" 2>/dev/null || true
	wait_for "[ \"\$(dovecot_procs)\" = 0 ]" 100 || fail "dovecot did not die"
}

dovecot_count() {
	doveadm -c "$DOVECOT_CONF" -f flow mailbox status -u fbl messages "$1" 2>/dev/null |
		sed -n 's/.*messages=\([0-9]*\).*/\1/p'
}

dovecot_save() {
	doveadm -c "$DOVECOT_CONF" save -u fbl -m "$1"
}

# dovecot_drop DIR: moves the files of DIR into the maildir's new/ (the
# fast way to fill a mailbox; Dovecot picks them up on its next look).
dovecot_drop() {
	for f in "$1"/*; do
		[ -f "$f" ] || continue
		mv "$f" "$MAILDIR/new/$(basename "$f")"
	done
	[ "$(id -u)" != 0 ] || chown -R 65534:65534 "$MAILDIR"
}

# fbl_imap_section NAME [EXTRA]: an [imap:NAME] section for this Dovecot.
fbl_imap_section() {
	cat <<EOF
[imap:$1]
host = 127.0.0.1
port = $IMAP_PORT
tls = none
user = fbl
password_file = $IMAP_PASSWORD_FILE
retry_max = 2s
timeout = 10s
${2:-}
EOF
}
