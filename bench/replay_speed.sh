#!/bin/sh
# bench/replay_speed.sh [SCALE]: `fbld replay` throughput on a simulated
# population (tests/lib/scoring_sim.c; at least a million events), in
# events a second on one core, against the 200,000 of issue 7, and beside
# the time Python's json module takes merely to parse the same lines.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
SCALE=${1:-0.1}
B=$TOP/build/release
make -C "$TOP" -s all build/release/tests/scoring_sim >&2
DIR=$TOP/build/sim
mkdir -p "$DIR"
EVENTS=$DIR/speed-$SCALE.jsonl
want=$("$B/tests/scoring_sim" version)
if [ ! -s "$EVENTS" ] || [ "$(cat "$EVENTS.version" 2>/dev/null)" != "$want" ]; then
	echo "generating events (scale $SCALE)..." >&2
	"$B/tests/scoring_sim" gen --seed 7 --scale "$SCALE" "$EVENTS" \
		"$DIR/speed-$SCALE.truth" 2>/dev/null
	echo "$want" >"$EVENTS.version"
fi
n=$(wc -l <"$EVENTS")
[ "$n" -ge 1000000 ] || { echo "only $n events: raise SCALE" >&2; exit 1; }
echo "fbld replay: $n events ($(du -m "$EVENTS" | cut -f1) MB)"
cat "$EVENTS" >/dev/null # warm the page cache
best=0
for i in 1 2 3; do
	# "... in W s (R events/s), C s of CPU (P events/s)"
	out=$("$B/fbld" replay --stats "$EVENTS" 2>&1 >/dev/null)
	wall=$(echo "$out" | sed -n 's/.* s (\([0-9]*\) events\/s), .*/\1/p')
	rate=$(echo "$out" | sed -n 's/.* of CPU (\([0-9]*\) events\/s)/\1/p')
	echo "  run $i: $rate events/s of CPU time ($wall events/s wall clock)"
	[ "$rate" -gt "$best" ] && best=$rate
done
t0=$(date +%s.%N)
python3 -c 'import json, sys
for line in sys.stdin:
    json.loads(line)' <"$EVENTS"
t1=$(date +%s.%N)
py=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
echo "python3 json.loads of the same lines: $py lines/s"
awk -v b="$best" -v p="$py" 'BEGIN {
	printf "fbld replay best %d events/s: %.2fx the 200000 target, %.2fx Python merely parsing\n", b, b / 200000, b / p
	print (b >= 200000 ? "PASS" : "FAIL")
	exit (b >= 200000 ? 0 : 1) }'
