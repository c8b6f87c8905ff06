#!/bin/sh
# bench/run.sh [NAME...]: runs the benchmarks (all of bench/*.sh, or the
# named ones) one after the other against the release build, each printing
# fbld's numbers beside its peer's and the ratio. Benchmarks are never
# pass/fail in the test suite; run them on a quiet machine.
set -u
cd "$(dirname "$0")/.."
status=0
if [ $# -eq 0 ]; then
	set -- $(ls bench/*.sh | grep -v '/run.sh$')
fi
for b in "$@"; do
	case "$b" in */*) ;; *) b=bench/$b ;; esac
	case "$b" in *.sh) ;; *) b=$b.sh ;; esac
	echo "==== $b"
	sh "$b" || { rc=$?; [ $rc -eq 77 ] || { echo "$b: exit $rc"; status=1; }; }
done
exit $status
