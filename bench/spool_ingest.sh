#!/bin/sh
# bench/spool_ingest.sh [N]: spool ingest throughput of the release build.
#   1. hand-over: N messages through `fbld ingest`, then N through the lean
#      fbld-ingest (one process each, as a pipe transport runs them; 4 in
#      parallel): messages per second and CPU per message (user+sys of the
#      whole phase / N; the `sh -c` that feeds each message is counted too,
#      and measured alone as "harness");
#   2. pickup: `fbld serve` started on the full spool (2N messages),
#      messages per second until every one is a committed row in the store;
#   3. end to end: fbld-ingest and serve running together.
# Prints the numbers; no pass/fail (machines are shared and noisy).
set -eu
N=${1:-5000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
FBLD=${FBLD:-$TOP/build/release/fbld}
FBLD_INGEST=${FBLD_INGEST:-$TOP/build/release/fbld-ingest}
[ -x "$FBLD" ] && [ -x "$FBLD_INGEST" ] || { echo "build first: make" >&2; exit 1; }
T=$(mktemp -d)
trap 'kill $(cat "$T/pid" 2>/dev/null) 2>/dev/null; rm -rf "$T"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/fbld.conf" <<EOC
[fbld]
state_dir = $T/var
[http]
listen = 127.0.0.1:$port
[log]
level = warn
EOC
now() { date +%s.%N; }
rows() { sqlite3 -cmd '.timeout 5000' "$T/var/fbld.db" 'SELECT count(*) FROM reports' 2>/dev/null || echo 0; }
# messages TAG: N distinct ~2 KiB bounces in $T/msg-TAG/, written beforehand
# so that the hand-over phase measures the hand-over.
messages() {
	python3 - "$T/msg-$1" "$N" "$1" <<'EOP'
import os, sys
d, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(d)
for i in range(1, n + 1):
    with open(os.path.join(d, str(i)), "w") as f:
        f.write("From: MAILER-DAEMON@example.org\nSubject: Undelivered %d %s\n\n%s\n"
                % (i, tag, "x" * 1500))
EOP
}
# handover TAG CMD...: every message of TAG through CMD, 4 in parallel;
# sets secs and cpu (user+sys of every process, in seconds).
handover() {
	_dir=$T/msg-$1
	shift
	seq 1 "$N" | /usr/bin/time -f '%e %U %S' -o "$T/time" \
		xargs -P 4 -I{} sh -c '"$@" <"$0/{}"' "$_dir" "$@"
	secs=$(cut -d' ' -f1 "$T/time")
	cpu=$(awk '{ print $2 + $3 }' "$T/time")
}
rate() { echo "$N / $1" | bc; }
ms_per_msg() { awk -v c="$1" -v n="$N" 'BEGIN { printf "%.2f", 1000 * c / n }'; }

for tag in a b c h; do messages $tag; done

handover h :
harness=$cpu
handover a "$FBLD" ingest --config "$T/fbld.conf"
echo "hand-over: $N messages via fbld ingest in $secs s: $(rate "$secs") msg/s," \
	"$(ms_per_msg "$cpu") ms CPU/msg"
full=$cpu full_secs=$secs
handover b "$FBLD_INGEST" --config "$T/fbld.conf"
echo "hand-over: $N messages via fbld-ingest in $secs s: $(rate "$secs") msg/s," \
	"$(ms_per_msg "$cpu") ms CPU/msg"
echo "hand-over: the harness alone (sh -c per message): $(ms_per_msg "$harness") ms CPU/msg"
awk -v fs="$full_secs" -v s="$secs" -v fc="$full" -v c="$cpu" -v h="$harness" \
	'BEGIN { printf "hand-over ratio: fbld-ingest runs at %.1fx the rate of fbld ingest, on %.3f of its CPU (harness subtracted)\n", fs / s, (c - h) / (fc - h) }'

"$FBLD" serve --config "$T/fbld.conf" 2>"$T/serve.log" &
echo $! >"$T/pid"
t0=$(now)
while [ "$(rows)" -lt $((2 * N)) ]; do sleep 0.05; done
t1=$(now)
echo "pickup: $((2 * N)) spooled messages committed in $(echo "$t1 - $t0" | bc) s:" \
	"$(echo "2 * $N / ($t1 - $t0)" | bc) msg/s"

t0=$(now)
handover c "$FBLD_INGEST" --config "$T/fbld.conf"
while [ "$(rows)" -lt $((3 * N)) ]; do sleep 0.05; done
t1=$(now)
echo "end to end: $N messages from fbld-ingest to committed rows in" \
	"$(echo "$t1 - $t0" | bc) s: $(echo "$N / ($t1 - $t0)" | bc) msg/s"
kill -TERM "$(cat "$T/pid")"
wait 2>/dev/null || true
