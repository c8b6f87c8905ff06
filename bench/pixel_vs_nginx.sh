#!/bin/sh
# bench/pixel_vs_nginx.sh [SECONDS]: fbld's open pixel against nginx's
# empty_gif, on this machine, in one run.
#
# nginx (Debian) serves `location = /o.gif { empty_gif; }` with one worker
# and a buffered access log (buffer=64k); fbld serves /o/TOKEN.gif from
# the release build (make), with a fresh state directory, verifying every
# token and committing every hit to SQLite. wrk (-t2 -c64 by default)
# requests a few thousand distinct valid tokens from fbld and the same
# number of distinct query strings from nginx. Printed: both request
# rates, both p99 latencies, the ratio, fbld's memory, and whether every
# 2xx answer was committed within one second of the end of the run.
#
# Environment: FBLD (binary), WRK_THREADS, WRK_CONNS, FBLD_THREADS (the
# [http] threads, default 2), TOKENS (default 4000).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
FBLD=${FBLD:-$TOP/build/release/fbld}
SECS=${1:-10}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-64}
FBLD_THREADS=${FBLD_THREADS:-2}
TOKENS=${TOKENS:-4000}

for tool in nginx wrk sqlite3 python3; do
	command -v "$tool" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin
	command -v "$tool" >/dev/null 2>&1 || {
		echo "bench: $tool is not installed (make deps-test)" >&2
		exit 77
	}
done
[ -x "$FBLD" ] || { echo "bench: build fbld first (make)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/fbld-bench.XXXXXX")
NGINX_PID=""
FBLD_PID=""
cleanup() {
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
	[ -n "$FBLD_PID" ] && kill "$FBLD_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() { # URL
	i=0
	until curl -fso /dev/null "$1"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "bench: $1 did not answer" >&2; exit 1; }
		sleep 0.1
	done
}

NPORT=$(free_port)
FPORT=$(free_port)
mkdir -p "$TMP/nginx/logs"
cat >"$TMP/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log $TMP/nginx/access.log combined buffer=64k;
	server {
		listen 127.0.0.1:$NPORT;
		location = /o.gif { empty_gif; }
	}
}
EOF
cat >"$TMP/fbld.conf" <<EOF
[fbld]
state_dir = $TMP/var
[log]
level = notice
[http]
listen = 127.0.0.1:$FPORT
threads = $FBLD_THREADS
EOF

# Distinct valid tokens for fbld; the same count of distinct queries for
# nginx, so both parse requests of about the same length.
"$FBLD" token url open --config "$TMP/fbld.conf" --account 1 --message 1 \
	--count "$TOKENS" | sed 's|^http://[^/]*||' >"$TMP/fbld.paths"
sed 's|^/o/\(.*\)\.gif$|/o.gif?t=\1|' "$TMP/fbld.paths" >"$TMP/nginx.paths"

cat >"$TMP/bench.lua" <<'EOF'
local reqs, n, i = {}, 0, 0
function init(args)
	for line in io.lines(args[1]) do
		n = n + 1
		reqs[n] = wrk.format("GET", line)
	end
	i = math.random(n)
end
function request()
	i = i % n + 1
	return reqs[i]
end
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT requests=%d non2xx=%d errors=%d " ..
		"p99_us=%d duration_us=%d\n", summary.requests, e.status,
		e.connect + e.read + e.write + e.timeout,
		latency:percentile(99), summary.duration))
end
EOF

run_wrk() { # URL PATHS SECONDS
	wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$3"s -s "$TMP/bench.lua" "$1" \
		-- "$2" | grep '^RESULT'
}

field() { # LINE NAME
	echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

nginx -c "$TMP/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log" &
NGINX_PID=$!
"$FBLD" serve --config "$TMP/fbld.conf" 2>"$TMP/fbld.log" &
FBLD_PID=$!
wait_http "http://127.0.0.1:$NPORT/o.gif"
wait_http "http://127.0.0.1:$FPORT/healthz"

echo "bench: wrk -t$WRK_THREADS -c$WRK_CONNS -d${SECS}s, $TOKENS distinct" \
	"tokens, fbld [http] threads=$FBLD_THREADS, nginx 1 worker, $(nproc) CPUs"
# A short warm-up each (page cache, connection setup, SQLite file growth).
run_wrk "http://127.0.0.1:$NPORT" "$TMP/nginx.paths" 2 >/dev/null
run_wrk "http://127.0.0.1:$FPORT" "$TMP/fbld.paths" 2 >/dev/null
sleep 1
before=$(sqlite3 "$TMP/var/fbld.db" "SELECT count(*) FROM events")

N=$(run_wrk "http://127.0.0.1:$NPORT" "$TMP/nginx.paths" "$SECS")
F=$(run_wrk "http://127.0.0.1:$FPORT" "$TMP/fbld.paths" "$SECS")
sleep 1
after=$(sqlite3 -cmd '.timeout 5000' "$TMP/var/fbld.db" \
	"SELECT count(*) FROM events")
hwm=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$FBLD_PID/status")
rss=$(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$FBLD_PID/status")

n_ok=$(($(field "$N" requests) - $(field "$N" non2xx)))
f_ok=$(($(field "$F" requests) - $(field "$F" non2xx)))
stored=$((after - before))
awk -v n="$N" -v f="$F" -v nok="$n_ok" -v fok="$f_ok" -v st="$stored" \
	-v hwm="$hwm" -v rss="$rss" 'function get(s, k,   a, i, kv) {
		split(s, a, " ")
		for (i in a) { split(a[i], kv, "="); if (kv[1] == k) return kv[2] }
	}
	BEGIN {
		nd = get(n, "duration_us") / 1e6; fd = get(f, "duration_us") / 1e6
		nr = nok / nd; fr = fok / fd
		printf "nginx empty_gif : %9.0f req/s  p99 %7.2f ms  (%d ok, %d errors)\n",
			nr, get(n, "p99_us") / 1000, nok, get(n, "errors")
		printf "fbld pixel      : %9.0f req/s  p99 %7.2f ms  (%d ok, %d errors)\n",
			fr, get(f, "p99_us") / 1000, fok, get(f, "errors")
		printf "ratio fbld/nginx: %.2f (target >= 0.90)\n", fr / nr
		printf "fbld memory     : peak RSS %s, RSS after the run %s\n", hwm, rss
		printf "committed       : %d events for %d 2xx answers, 1 s after the run: %s\n",
			st, fok, (st >= fok ? "all committed" : "MISSING " (fok - st))
	}'
