#!/bin/sh
# tests/fuzz/smoke.sh SECONDS TARGET...: runs each libFuzzer target for a
# bounded time from its saved corpus (tests/fuzz/corpus/TARGET); new
# inputs go to a scratch directory, crashers are kept in the corpus
# directory as crash-* so they become regression files.
set -eu
secs=$1
shift
status=0
for t in "$@"; do
	corpus=tests/fuzz/corpus/$t
	scratch=$(mktemp -d)
	mkdir -p "$corpus"
	echo "fuzz: $t for ${secs}s"
	# A GLib critical (a broken precondition) is a finding too.
	if ! G_DEBUG=fatal-criticals build/fuzz/bin/"$t" -max_total_time="$secs" -max_len=65536 \
		-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$corpus/" \
		-print_final_stats=1 "$scratch" "$corpus" 2>"$scratch.log"; then
		tail -n 40 "$scratch.log"
		status=1
	else
		grep -E 'stat::number_of_executed_units|Done' "$scratch.log" | tail -n 2
	fi
	rm -rf "$scratch" "$scratch.log"
done
exit $status
