# tests/lib/common.sh: shared by the integration scripts (sourced).
# Everything a test starts listens on 127.0.0.1, on a port nobody holds,
# and is stopped by the test's EXIT trap, whatever happens.
set -eu
: "${FBLD:?run through tests/run.sh or make check}"
: "${FBLD_INGEST:=$(dirname "$FBLD")/fbld-ingest}"
: "${TESTS_TMP:=$(mktemp -d)}"

T=$(mktemp -d "$TESTS_TMP/$(basename "$0" .sh).XXXXXX")
PIDS=""
CLEANUPS=""

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 60 lines)" >&2
		tail -n 60 "$f" >&2
	done
	exit 1
}

skip() {
	echo "$*"
	exit 77
}

# at_exit CMD: run CMD when the test ends (last registered runs first).
at_exit() {
	CLEANUPS="$*
$CLEANUPS"
}

_cleanup() {
	rc=$?
	set +e
	echo "$CLEANUPS" | while IFS= read -r c; do [ -n "$c" ] && eval "$c"; done
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PIDS; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$p" 2>/dev/null
	done
	exit $rc
}
trap _cleanup EXIT INT TERM

# free_port: a TCP port on 127.0.0.1 that is free right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for CMD [TENTHS]: retry CMD until it succeeds (default 10 s).
wait_for() {
	_cmd=$1
	_n=${2:-100}
	while [ "$_n" -gt 0 ]; do
		if eval "$_cmd" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# sql QUERY: run a query on the test daemon's store.
sql() {
	sqlite3 -cmd '.timeout 5000' "$T/var/fbld.db" "$1"
}

# fbld_config [EXTRA]: writes $T/fbld.conf for a daemon on free ports;
# sets HTTP_PORT. EXTRA is appended verbatim.
fbld_config() {
	HTTP_PORT=$(free_port)
	cat >"$T/fbld.conf" <<EOC
[fbld]
state_dir = $T/var
[log]
level = debug
[http]
listen = 127.0.0.1:$HTTP_PORT
${1:-}
EOC
}

# start_fbld: starts `fbld serve` with $T/fbld.conf, logs to $T/fbld.log,
# waits until /healthz answers; sets FBLD_PID.
start_fbld() {
	"$FBLD" serve --config "$T/fbld.conf" >>"$T/fbld.log" 2>&1 &
	FBLD_PID=$!
	PIDS="$PIDS $FBLD_PID"
	wait_for "curl -fsS http://127.0.0.1:$HTTP_PORT/healthz" ||
		fail "fbld serve did not come up"
}

# stop_fbld [SIGNAL]: stops it (TERM by default) and waits.
stop_fbld() {
	kill "-${1:-TERM}" "$FBLD_PID" 2>/dev/null || true
	wait "$FBLD_PID" 2>/dev/null || true
}
