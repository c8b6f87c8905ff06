#!/bin/sh
# tests/run.sh BUILD_DIR [PATTERN]: runs every unit test binary, the fuzz
# corpora replays and every integration script, and ends with
# "N passed, N failed, N skipped". Exit status 0 only when nothing failed.
#
# Integration scripts (tests/integration/*.sh) get FBLD (the binary),
# FBLD_INGEST (the lean hand-over binary), BUILD, TOP and TESTS_TMP in the
# environment, exit 0 to pass, 77 to skip
# (a peer that cannot run here), anything else to fail. Lines a test prints
# starting with "report: " are shown even when it passes (measurements).
set -u
BUILD=${1:?usage: tests/run.sh BUILD_DIR [PATTERN]}
PATTERN=${2:-}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
BUILD=$(cd "$BUILD" && pwd)
FBLD=$BUILD/fbld
FBLD_INGEST=$BUILD/fbld-ingest
TESTS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fbld-tests.XXXXXX")
export BUILD TOP FBLD FBLD_INGEST TESTS_TMP
# Sanitizers: fail on the first error, report leaks, keep going otherwise.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$TOP/tests/lsan.supp:print_suppressions=0}
export G_SLICE=always-malloc G_DEBUG=gc-friendly

pass=0 fail=0 skip=0 failed=""

run() { # name, command...
	name=$1
	shift
	case "$name" in *"$PATTERN"*) ;; *) return ;; esac
	log=$TESTS_TMP/$(echo "$name" | tr '/ ' '__').log
	start=$(date +%s)
	"$@" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) pass=$((pass + 1)); echo "PASS $name (${secs}s)"
	   grep '^report: ' "$log" | sed 's/^/    /' ;;
	77) skip=$((skip + 1)); echo "SKIP $name: $(tail -n 1 "$log")" ;;
	*) fail=$((fail + 1)); failed="$failed $name"
	   echo "FAIL $name (exit $rc, ${secs}s)"; sed 's/^/    /' "$log" | tail -n 80 ;;
	esac
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run "unit/$(basename "$t")" "$t"
done
for r in "$BUILD"/fuzz/replay-*; do
	[ -x "$r" ] || continue
	target=${r##*/replay-}
	dir=$TOP/tests/fuzz/corpus/$target
	[ -d "$dir" ] || continue
	# A GLib critical (a broken precondition) is a finding too.
	run "fuzz-replay/$target" env G_DEBUG=gc-friendly,fatal-criticals \
		"$r" "$dir"
done
for s in tests/integration/*.sh; do
	[ -f "$s" ] || continue
	run "integration/$(basename "$s" .sh)" sh "$s"
done

echo "$pass passed, $fail failed, $skip skipped"
[ -n "$failed" ] && echo "failed:$failed"
if [ "$fail" -eq 0 ]; then rm -rf "$TESTS_TMP"; else echo "logs: $TESTS_TMP"; fi
[ "$fail" -eq 0 ]
