#!/bin/sh
# bench/scoring_sim.sh [SEED [SCALE]]: the scoring engine against a plain
# threshold baseline on a simulated population (bench/scoring_sim.c).
#
# Generates the population's events (kept under build/sim/ and reused while
# the simulator is unchanged), runs `fbld replay` on them, and prints
# recall per bad archetype, false positives on legitimate accounts and
# detection delays for fbld and for the baseline (SES style: bounces 5 %
# review / 10 % pause, complaints 0.1 % / 0.5 %, 7 days, >= 500 messages,
# evaluated by the simulator on the same events), then PASS/FAIL against
# the targets of issue 7. Exit status 0 only on PASS.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
SEED=${1:-1}
SCALE=${2:-1}
B=$TOP/build/release
make -C "$TOP" -s all build/release/tests/scoring_sim >&2
DIR=$TOP/build/sim
mkdir -p "$DIR"
EVENTS=$DIR/events-$SEED-$SCALE.jsonl
TRUTH=$DIR/truth-$SEED-$SCALE.jsonl
CHANGES=$DIR/changes-$SEED-$SCALE.jsonl
VERSION=$DIR/version-$SEED-$SCALE
want=$("$B/tests/scoring_sim" version)
if [ ! -s "$TRUTH" ] || [ "$(cat "$VERSION" 2>/dev/null)" != "$want" ]; then
	echo "generating the population (seed $SEED, scale $SCALE)..." >&2
	rm -f "$VERSION"
	"$B/tests/scoring_sim" gen --seed "$SEED" --scale "$SCALE" \
		"$EVENTS" "$TRUTH"
	echo "$want" >"$VERSION"
fi
n=$(wc -l <"$EVENTS")
echo "Scoring simulator: seed $SEED, scale $SCALE, $(wc -l <"$TRUTH") accounts, $n events"
t0=$(date +%s.%N)
"$B/fbld" replay "$EVENTS" >"$CHANGES"
t1=$(date +%s.%N)
awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$(wc -l <"$CHANGES")" \
	'BEGIN { printf "fbld replay: %d state changes in %.1f s (%.0f events/s)\n", c, b - a, n / (b - a) }'
echo
"$B/tests/scoring_sim" eval "$TRUTH" "$CHANGES"
