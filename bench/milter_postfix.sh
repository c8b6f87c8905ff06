#!/bin/sh
# bench/milter_postfix.sh [MESSAGES [SESSIONS]]: what fbld milter costs a
# real Postfix. A private Postfix instance on 127.0.0.1 relays the same
# messages (smtp-source, SESSIONS parallel sessions) to smtp-sink, in
# ROUNDS (default 3) alternating runs without and with fbld milter in
# smtpd_milters (marking, fingerprinting and recording every message in
# SQLite). It prints both throughputs (messages accepted and delivered per
# second, medians over the rounds), their ratio,
# and the milter's latency per message: the time spent in its callbacks
# (median, p99, from its log) and the full protocol round trip of one
# transaction measured by tests/lib/milter_client (median, p99).
#
# FLOOR=1 adds a third run to each round: Postfix with tests/lib/null_milter
# in place of fbld milter, a libmilter filter that negotiates the same steps
# and macros and asks for the same three modifications, and does nothing
# else. Its ratio is the floor set by libmilter and by Postfix's side of
# the milter protocol: what no work saved inside fbld milter can go past.
#
# Needs root and Debian's postfix; uses build/release (run `make` first;
# the milter_client helper is built here when missing). Not a test: no
# assertion on the numbers.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
MESSAGES=${1:-3000}
SESSIONS=${2:-10}
ROUNDS=${ROUNDS:-3}
# REUSE=1: several messages per SMTP session (smtp-source -d), as bulk
# senders do; by default every message has a session of its own.
REUSE=${REUSE:+-d}
# SOCKET=inet: the milter on 127.0.0.1 (TCP) instead of a unix socket,
# the deployment docs/postfix.md recommends.
SOCKET=${SOCKET:-unix}
FBLD=${FBLD:-$TOP/build/release/fbld}
CLIENT=$TOP/build/release/tests/milter_client
NULL_MILTER=$TOP/build/release/tests/null_milter
FLOOR=${FLOOR:-}
export FBLD
[ -x "$FBLD" ] || { echo "bench: build $FBLD first (make)" >&2; exit 1; }
[ -x "$CLIENT" ] || make -C "$TOP" --no-print-directory build/release/tests/milter_client >/dev/null
[ -z "$FLOOR" ] || [ -x "$NULL_MILTER" ] ||
	make -C "$TOP" --no-print-directory build/release/tests/null_milter >/dev/null
TESTS_TMP=$(mktemp -d /tmp/fbld-bench.XXXXXX)
export TESTS_TMP
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/postfix.sh"
at_exit "rm -rf '$TESTS_TMP'"
pf_usable || { echo "bench: needs root and Debian's postfix" >&2; exit 77; }

SINK_PORT=$(free_port)
if [ "$SOCKET" = inet ]; then
	MILTER=inet:127.0.0.1:$(free_port)
	NULL_PORT=$(free_port)
	NULL=inet:127.0.0.1:$NULL_PORT
	NULL_SPEC=inet:$NULL_PORT@127.0.0.1
else
	MILTER=unix:$T/milter.sock
	NULL=unix:$T/null.sock
	NULL_SPEC=$NULL
fi
fbld_config "[log]
level = info
[token]
bounce_domain = bounce.bench.invalid
[milter]
listen = $MILTER
socket_mode = 0666
${BENCH_MILTER_CONF:-}
[sender-domain:cust.bench.invalid]
account = newsletter"

# A realistic message: a plain-text newsletter of about 2.5 kB.
{
	echo "From: News <news@cust.bench.invalid>"
	echo "To: reader@remote.bench.invalid"
	echo "Subject: Our autumn newsletter"
	echo "MIME-Version: 1.0"
	echo "Content-Type: text/plain; charset=utf-8"
	echo ""
	for i in 1 2 3 4 5 6 7 8; do
		echo "Dear reader, this season we opened a new workshop by the river,"
		echo "extended our opening hours on Saturdays and started a repair"
		echo "service for bicycles bought anywhere. Come and see us soon."
		echo ""
	done
} >"$T/message.txt"

smtp-sink -u nobody "127.0.0.1:$SINK_PORT" 256 >/dev/null 2>&1 &
PIDS="$PIDS $!"
pf_init "$T/pf"
pf_conf "transport_maps = inline:{remote.bench.invalid=smtp:[127.0.0.1]:$SINK_PORT}" \
	"smtpd_client_connection_count_limit = 0" \
	"default_destination_concurrency_limit = 50"

now() { python3 -c 'import time; print(time.time())'; }

# run LABEL: pushes the messages, prints accepted/s and delivered/s.
run() {
	pf_start >/dev/null || fail "postfix did not start"
	t0=$(now)
	# shellcheck disable=SC2086
	smtp-source $REUSE -s "$SESSIONS" -m "$MESSAGES" -F "$T/message.txt" \
		-f "${BENCH_SENDER:-news@cust.bench.invalid}" \
		-t reader@remote.bench.invalid \
		"127.0.0.1:$PF_PORT" || fail "smtp-source failed"
	t1=$(now)
	pf_wait_empty 1200 || fail "the queue did not empty"
	t2=$(now)
	delivered=$(grep -c 'status=sent' "$(pf_log)" || true)
	pf_stop
	sleep 1
	python3 -c "import sys
n, t0, t1, t2 = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
print('%-14s %6d msgs  accepted %7.1f msg/s  delivered %7.1f msg/s' % (sys.argv[1], n, n / (t1 - t0), n / (t2 - t0)))
print('%s %f %f' % (sys.argv[1], n / (t1 - t0), n / (t2 - t0)), file=open(sys.argv[6], 'a'))" \
		"$1" "$MESSAGES" "$t0" "$t1" "$t2" "$T/rates"
	[ "$delivered" -ge "$MESSAGES" ] || fail "$1: only $delivered delivered"
	: >"$(pf_log)"
}

echo "fbld milter with Postfix $(postconf -h mail_version): $MESSAGES messages," \
	"$SESSIONS sessions${REUSE:+ (reused)}, $(wc -c <"$T/message.txt") bytes each," \
	"$ROUNDS rounds, milter on ${MILTER%%:*}"

"$FBLD" milter --config "$T/fbld.conf" >>"$T/milter.log" 2>&1 &
MILTER_PID=$!
PIDS="$PIDS $MILTER_PID"
wait_for "grep -q 'milter: listening' '$T/milter.log'" ||
	fail "fbld milter did not come up"
if [ -n "$FLOOR" ]; then
	"$NULL_MILTER" --modify "$NULL_SPEC" >>"$T/null.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for "grep -q 'milter: listening' '$T/null.log'" ||
		fail "null_milter did not come up"
	[ "$SOCKET" = inet ] || chmod 666 "$T/null.sock"
fi

# Rounds alternate without and with the milter, so that whatever else the
# machine does weighs on both alike.
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	pf_conf "smtpd_milters =" "non_smtpd_milters ="
	run "postfix"
	pf_conf "smtpd_milters = $MILTER" "non_smtpd_milters = $MILTER" \
		"milter_default_action = tempfail"
	run "postfix+milter"
	if [ -n "$FLOOR" ]; then
		pf_conf "smtpd_milters = $NULL" "non_smtpd_milters = $NULL"
		run "postfix+null"
	fi
	r=$((r + 1))
done
# CPU seconds the milter process used (user + system), all rounds.
milter_cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' \
	"/proc/$MILTER_PID/stat")
marked=$(grep -c 'milter: marked ' "$T/milter.log" || true)
[ -n "${BENCH_SENDER:-}" ] || [ "$marked" -ge $((MESSAGES * ROUNDS)) ] ||
	fail "only $marked messages marked"

python3 - "$T/rates" "$T/milter.log" "$milter_cpu" "$MESSAGES" "$ROUNDS" <<'EOF2'
import re, statistics, sys
rates = {}
for l in open(sys.argv[1]):
    k, a, d = l.split()
    rates.setdefault(k, []).append((float(a), float(d)))
med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
       for k, v in rates.items()}
a, b = med["postfix"], med["postfix+milter"]
print("median of %d rounds: postfix accepted %.1f delivered %.1f msg/s; "
      "postfix+milter accepted %.1f delivered %.1f msg/s"
      % (len(rates["postfix"]), a[0], a[1], b[0], b[1]))
print("ratio (with/without): accepted %.2f  delivered %.2f" % (b[0] / a[0], b[1] / a[1]))
if "postfix+null" in med:
    c = med["postfix+null"]
    print("floor (null_milter: libmilter and Postfix's milter protocol, same modifications): "
          "accepted %.1f delivered %.1f msg/s, ratio accepted %.2f delivered %.2f"
          % (c[0], c[1], c[0] / a[0], c[1] / a[1]))
us = sorted(int(m.group(1)) for m in
            (re.search(r" marked .* us=(\d+)", l) for l in open(sys.argv[2])) if m)
def pct(p): return us[min(len(us) - 1, int(len(us) * p))]
print("milter time per message (in its callbacks, %d messages): median %d us, p99 %d us"
      % (len(us), pct(0.5), pct(0.99)))
print("milter CPU per message (user+system, whole process): %.0f us"
      % (float(sys.argv[3]) * 1e6 / (int(sys.argv[4]) * int(sys.argv[5]))))
EOF2

# The protocol round trip of one transaction, MAIL to the end-of-message
# reply, as an MTA sees it (one connection, one message at a time).
"$CLIENT" --repeat 2000 --from news@cust.bench.invalid \
	--rcpt reader@remote.bench.invalid "$MILTER" \
	<"$T/message.txt" >"$T/client.out" || fail "milter_client failed"
sed -n 's/^transactions=\([0-9]*\) median_us=\([0-9]*\) p99_us=\([0-9]*\)$/milter round trip per message (milter_client, \1 transactions): median \2 us, p99 \3 us/p' "$T/client.out"
