#!/bin/sh
# bench/dsn_vs_sisimai.sh: bounce decoding throughput, fbld against
# Sisimai (Debian's libsisimai-perl, Sisimai->make) on the same files, one
# core each, in this script:
#   - the whole public corpus (../shared/corpus/sisimai/maildir/bsd):
#     messages per second for both, and the ratio;
#   - a generated 15 MB bounce with base64 attachments: seconds for both;
#   - the peak memory (maximum RSS) of fbld's whole-corpus run.
# FBLD (default build/release/fbld) is the binary measured; RUNS (default
# 3) the repetitions of which the fastest counts. Prints numbers, asserts
# nothing.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
FBLD=${FBLD:-$TOP/build/release/fbld}
RUNS=${RUNS:-3}
C=$TOP/../shared/corpus/sisimai
[ -x "$FBLD" ] || { echo "bench: build $FBLD first (make)"; exit 1; }
[ -d "$C/maildir/bsd" ] || { echo "bench: corpus absent: $C"; exit 77; }
perl -MSisimai -e 1 2>/dev/null ||
	{ echo "bench: Sisimai missing (apt-get install libsisimai-perl)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fbld-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# One core for both, when taskset is there.
ONE=""
command -v taskset >/dev/null && ONE="taskset -c 0"

# best CMD...: the fastest of RUNS runs, "CPU WALL" in seconds. CPU is the
# user+system time of the process (what one core spent on it: fair on a
# shared, loaded machine), WALL the elapsed time.
best() {
	b=""
	i=0
	while [ $i -lt "$RUNS" ]; do
		/usr/bin/time -f "%U %S %e" -o "$tmp/t" "$@" >/dev/null 2>&1 || true
		t=$(awk '{ printf "%.3f %.3f", $1 + $2, $3 }' "$tmp/t")
		if [ -z "$b" ] || awk -v x="$t" -v y="$b" \
			'BEGIN { split(x, a, " "); split(y, c, " "); exit !(a[1] < c[1]) }'; then
			b=$t
		fi
		i=$((i + 1))
	done
	echo "$b"
}

cd "$C"
files=$(ls maildir/bsd/*.eml)
n=$(echo "$files" | wc -l)
echo "$files" >"$tmp/list"

SISIMAI='for my $f (@ARGV) { my $v = Sisimai->make($f, "delivered" => 1, "vacation" => 1) }'

# shellcheck disable=SC2086
tf=$(best $ONE "$FBLD" parse $files)
# shellcheck disable=SC2086
ts=$(RUNS=$(((RUNS + 1) / 2)) best $ONE perl -MSisimai -e "$SISIMAI" $files)
echo "$tf $ts" | awk -v n="$n" '{
	printf "corpus: %d messages (maildir/bsd), best of runs\n", n
	printf "                 %8s %10s   %8s %10s\n", "cpu s", "msgs/s", "wall s", "msgs/s"
	printf "  fbld parse     %8.3f %10.0f   %8.3f %10.0f\n", $1, n / $1, $2, n / $2
	printf "  Sisimai->make  %8.3f %10.0f   %8.3f %10.0f\n", $3, n / $3, $4, n / $4
	printf "  ratio          %8.1f x (CPU)        %8.1f x (wall)\n", $3 / $1, $4 / $2
}'

# Peak memory of the whole-corpus run.
# shellcheck disable=SC2086
/usr/bin/time -v "$FBLD" parse $files >/dev/null 2>"$tmp/time" || true
awk -F: '/Maximum resident set size/ {
	printf "  fbld peak RSS  %8.1f MB (whole corpus, one process)\n", $2 / 1024 }' "$tmp/time"

# A 15 MB bounce: a DSN with base64 attachments.
python3 - "$tmp/big.eml" <<'PY'
import base64, os, sys
out = open(sys.argv[1], "w")
out.write("""From: MAILER-DAEMON@relay.example.com (Mail Delivery System)
To: sender@example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BIG"

--BIG
Content-Type: text/plain

<kim@example.org>: host mx.example.org[192.0.2.10] said: 552 5.2.2 Mailbox
    full (in reply to end of DATA command)

--BIG
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.com

Final-Recipient: rfc822; kim@example.org
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp; 552 5.2.2 Mailbox full

--BIG
Content-Type: message/rfc822

From: sender@example.com
To: kim@example.org
Subject: photos
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="IN"

--IN
Content-Type: text/plain

see attached
""")
chunk = base64.encodebytes(os.urandom(3 * 1024 * 1024)).decode()
i = 0
while out.tell() < 15 * 1024 * 1024:
    out.write("--IN\nContent-Type: image/jpeg; name=\"p%d.jpg\"\n"
              "Content-Transfer-Encoding: base64\n\n" % i)
    out.write(chunk)
    i += 1
out.write("--IN--\n\n--BIG--\n")
PY
size=$(wc -c <"$tmp/big.eml")
tb=$(best $ONE "$FBLD" parse "$tmp/big.eml")
tsb=$(RUNS=1 best timeout 300 perl -MSisimai -e 'Sisimai->make($ARGV[0])' "$tmp/big.eml")
echo "$tb $tsb" | awk -v sz="$size" '{
	printf "15 MB bounce (%.1f MB, base64 attachments):\n", sz / 1048576
	printf "  fbld parse     %8.3f s cpu %8.3f s wall\n", $1, $2
	printf "  Sisimai->make  %8.3f s cpu %8.3f s wall (capped at 300 s)\n", $3, $4
}'
"$FBLD" parse "$tmp/big.eml" | python3 -c '
import json, sys
o = json.loads(sys.stdin.read())
r = o["recipients"][0]
print("  fbld says: %s %s %s %s" % (o["kind"], r["recipient"], r["status"], r["reason"]))'
