#!/bin/sh
# bench/dsn_vs_sisimai.sh: bounce decoding throughput, fbld against
# Sisimai (Debian's libsisimai-perl, Sisimai->make) on the same files, one
# core each, in this script:
#   - the whole public corpus (../shared/corpus/sisimai/maildir/bsd):
#     messages per second for both, and the ratio, in RUNS rounds of
#     fbld then Sisimai (the median of the per-round ratios is the figure);
#   - a generated 15 MB bounce with base64 attachments: seconds for both;
#   - the peak memory (maximum RSS) of fbld's whole-corpus run.
# FBLD (default build/release/fbld) is the binary measured; RUNS (default
# 5) the rounds over the corpus, and the repetitions of the 15 MB bounce
# of which the fastest counts. Prints numbers, asserts nothing.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
FBLD=${FBLD:-$TOP/build/release/fbld}
RUNS=${RUNS:-5}
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

# The corpus, in rounds: fbld then Sisimai, one after the other on the
# same core, CPU time (user + system) of each from getrusage in
# microseconds (GNU time rounds to 10 ms, a tenth of fbld's run). The load
# of a shared machine moves both programs' times by a factor of up to two
# within minutes; the two runs of one round share it, so the median of the
# per-round ratios is the figure to read; the fastest run of each is shown
# too.
# shellcheck disable=SC2086
python3 - "$RUNS" "$n" $ONE -- "$FBLD" parse -- perl -MSisimai -e "$SISIMAI" \
	-- $files <<'PY'
import os, resource, statistics, subprocess, sys, time

runs, n = int(sys.argv[1]), int(sys.argv[2])
rest = sys.argv[3:]
cut = [i for i, a in enumerate(rest) if a == "--"]
pin, fbld, sisi, files = (rest[:cut[0]], rest[cut[0] + 1:cut[1]],
                          rest[cut[1] + 1:cut[2]], rest[cut[2] + 1:])

def cpu(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(pin + cmd + files, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime +
            after.ru_stime - before.ru_stime), wall

f, s, ratio = [], [], []
for _ in range(runs):
    a, b = cpu(fbld), cpu(sisi)
    f.append(a)
    s.append(b)
    ratio.append(b[0] / a[0])
fc, sc = [x[0] for x in f], [x[0] for x in s]
print("corpus: %d messages (maildir/bsd), %d rounds of fbld then Sisimai"
      % (n, runs))
print("                 %9s %9s %10s   %9s" % ("cpu ms", "median", "msgs/s",
                                               "wall ms"))
for name, c, w in (("fbld parse", fc, f), ("Sisimai->make", sc, s)):
    print("  %-14s %9.1f %9.1f %10.0f   %9.1f" % (
        name, min(c) * 1e3, statistics.median(c) * 1e3, n / min(c),
        min(x[1] for x in w) * 1e3))
print("  ratio, per round: %s" % " ".join("%.1f" % r for r in ratio))
print("  ratio            %6.1f x (median of the rounds; fastest against "
      "fastest: %.1f x)" % (statistics.median(ratio), min(sc) / min(fc)))
PY

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
