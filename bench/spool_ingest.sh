#!/bin/sh
# bench/spool_ingest.sh [N]: spool ingest throughput of the release build.
#   1. hand-over: N messages through `fbld ingest` (one process each, as a
#      pipe transport runs it; 4 in parallel), messages per second;
#   2. pickup: `fbld serve` started on the full spool, messages per second
#      until every one is a committed row in the store;
#   3. end to end: ingest and serve running together.
# Prints the numbers; no pass/fail (machines are shared and noisy).
set -eu
N=${1:-5000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
FBLD=${FBLD:-$TOP/build/release/fbld}
[ -x "$FBLD" ] || { echo "build first: make" >&2; exit 1; }
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
spool() { # N: spool N distinct ~2 KiB bounces
	seq 1 "$1" | xargs -P 4 -I{} sh -c \
		'{ printf "From: MAILER-DAEMON@example.org\nSubject: Undelivered {} %s\n\n" "$2"; head -c 1500 /dev/zero | tr "\0" x; echo; } |
		 "$0" ingest --config "$1"' "$FBLD" "$T/fbld.conf" "$2"
}

t0=$(now)
spool "$N" a
t1=$(now)
echo "hand-over: $N messages via fbld ingest in $(echo "$t1 - $t0" | bc) s:" \
	"$(echo "$N / ($t1 - $t0)" | bc) msg/s"

"$FBLD" serve --config "$T/fbld.conf" 2>"$T/serve.log" &
echo $! >"$T/pid"
t0=$(now)
while [ "$(rows)" -lt "$N" ]; do sleep 0.05; done
t1=$(now)
echo "pickup: $N spooled messages committed in $(echo "$t1 - $t0" | bc) s:" \
	"$(echo "$N / ($t1 - $t0)" | bc) msg/s"

t0=$(now)
spool "$N" b
while [ "$(rows)" -lt $((2 * N)) ]; do sleep 0.05; done
t1=$(now)
echo "end to end: $N messages from fbld ingest to committed rows in" \
	"$(echo "$t1 - $t0" | bc) s: $(echo "$N / ($t1 - $t0)" | bc) msg/s"
kill -TERM "$(cat "$T/pid")"
wait 2>/dev/null || true
