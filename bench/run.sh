#!/bin/sh
# bench/run.sh: every benchmark of bench/ in turn (make bench).
set -u
cd "$(dirname "$0")/.." || exit 1
status=0
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	echo "== $b"
	sh "$b" || { rc=$?; [ $rc -eq 77 ] || status=1; }
done
exit $status
