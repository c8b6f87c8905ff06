#!/bin/sh
# front_end: `fbld` is the front end (core/main.c). It runs parse, token,
# ingest and check-config itself and execs every other subcommand in the
# fbld-daemon beside it: same process, argv unchanged (ps and the logs
# still say fbld). Without fbld-daemon beside it such a subcommand fails
# with a message naming the missing binary, and parse still works.
. "$TOP/tests/lib/common.sh"

DAEMON=$(dirname "$FBLD")/fbld-daemon
[ -x "$DAEMON" ] || fail "no $DAEMON: make test-bins builds it"
MSG=$TOP/tests/data/dsn/delivered.eml

# parse: the same line from the front end and from fbld-daemon.
"$FBLD" parse "$MSG" >"$T/front.json" || fail "fbld parse failed"
"$DAEMON" parse "$MSG" >"$T/daemon.json" || fail "fbld-daemon parse failed"
grep -q '"kind":' "$T/front.json" || fail "no JSON line: $(cat "$T/front.json")"
cmp -s "$T/front.json" "$T/daemon.json" ||
	fail "fbld and fbld-daemon parse differently"

# Both list the same commands.
"$FBLD" --help >"$T/front.help" && "$DAEMON" --help >"$T/daemon.help" ||
	fail "--help failed"
cmp -s "$T/front.help" "$T/daemon.help" || fail "the command lists differ"

# serve through the front end: the process started is the daemon, with
# fbld's argv[0].
fbld_config
start_fbld
exe=$(readlink "/proc/$FBLD_PID/exe")
[ "$exe" = "$(readlink -f "$DAEMON")" ] ||
	fail "serve runs $exe, not fbld-daemon"
arg0=$(tr '\0' '\n' <"/proc/$FBLD_PID/cmdline" | head -n 1)
[ "$arg0" = "$FBLD" ] || fail "argv[0] is \"$arg0\", not $FBLD"
stop_fbld

# The front end alone: a daemon subcommand says what is missing.
mkdir "$T/alone"
cp "$FBLD" "$T/alone/fbld"
rc=0
"$T/alone/fbld" reports --state-dir "$T/var" >"$T/alone.out" 2>&1 || rc=$?
[ "$rc" = 127 ] || fail "exit $rc without fbld-daemon, not 127"
grep -q "cannot run $T/alone/fbld-daemon for \"reports\"" "$T/alone.out" ||
	fail "unclear message: $(cat "$T/alone.out")"
"$T/alone/fbld" parse "$MSG" | cmp -s - "$T/front.json" ||
	fail "parse needs fbld-daemon"
echo "report: serve ran as fbld-daemon (pid $FBLD_PID), argv[0] $arg0"
