#!/bin/sh
# bench/pixel_vs_nginx.sh [SECONDS]: fbld's open pixel against nginx's
# empty_gif, on this machine, in one run.
#
# nginx (Debian) serves `location = /o.gif { empty_gif; }` with one worker
# and a buffered access log (buffer=64k); fbld serves /o/TOKEN.gif from
# the release build (make), with a fresh state directory, verifying every
# token and committing every hit to SQLite. wrk (-t2 -c64 by default)
# requests a few thousand distinct valid tokens from fbld and the same
# number of distinct query strings from nginx, in rounds that alternate
# the two (load from elsewhere on the machine then hits both alike).
# Printed: each round's rates, p99 latencies and ratio; the medians; the
# median of the rounds' ratios (the headline); fbld's peak memory; and
# whether every 2xx answer of each fbld round was committed to SQLite
# within one second after it. The load average is printed too: compare
# runs on a quiet machine only.
#
# Environment: FBLD (binary), WRK_THREADS, WRK_CONNS, FBLD_THREADS (the
# [http] threads, default 2 as in fbld's own default; 1 leaves a whole CPU
# to the writer, which keeps up better on a busy machine but caps the
# request rate), FBLD_HTTP_EXTRA (more [http] lines, e.g. "max_header =
# 8k"), TOKENS (default 4000), ROUNDS (default 3).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
FBLD=${FBLD:-$TOP/build/release/fbld}
SECS=${1:-10}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-64}
FBLD_THREADS=${FBLD_THREADS:-2}
TOKENS=${TOKENS:-4000}
ROUNDS=${ROUNDS:-3}

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
${FBLD_HTTP_EXTRA:-}
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

count_events() {
	sqlite3 -cmd '.timeout 5000' "$TMP/var/fbld.db" \
		"SELECT count(*) FROM events"
}

nginx -c "$TMP/nginx.conf" -p "$TMP/nginx" -e "$TMP/nginx/error.log" &
NGINX_PID=$!
"$FBLD" serve --config "$TMP/fbld.conf" 2>"$TMP/fbld.log" &
FBLD_PID=$!
wait_http "http://127.0.0.1:$NPORT/o.gif"
wait_http "http://127.0.0.1:$FPORT/healthz"
# A port taken between free_port and the bind: someone else answered.
for p in "$NGINX_PID" "$FBLD_PID"; do
	kill -0 "$p" 2>/dev/null || {
		echo "bench: a server did not start:" >&2
		cat "$TMP/fbld.log" "$TMP/nginx/error.log" >&2
		exit 1
	}
done

echo "bench: wrk -t$WRK_THREADS -c$WRK_CONNS -d${SECS}s x $ROUNDS rounds," \
	"$TOKENS distinct tokens, fbld [http] threads=$FBLD_THREADS," \
	"nginx 1 worker, $(nproc) CPUs"
# A short warm-up each (page cache, connection setup, SQLite file growth).
run_wrk "http://127.0.0.1:$NPORT" "$TMP/nginx.paths" 2 >/dev/null
run_wrk "http://127.0.0.1:$FPORT" "$TMP/fbld.paths" 2 >/dev/null
sleep 1

load0=$(cut -d' ' -f1-3 /proc/loadavg)
# Rounds alternate nginx and fbld, so that load from elsewhere on the
# machine hits both alike; the medians are compared. After each fbld
# round: were all its 2xx answers committed within one second?
: >"$TMP/results"
r=1
while [ $r -le "$ROUNDS" ]; do
	before=$(count_events)
	N=$(run_wrk "http://127.0.0.1:$NPORT" "$TMP/nginx.paths" "$SECS")
	F=$(run_wrk "http://127.0.0.1:$FPORT" "$TMP/fbld.paths" "$SECS")
	sleep 1
	after=$(count_events)
	echo "round $r nginx $N" >>"$TMP/results"
	echo "round $r fbld $F stored=$((after - before))" >>"$TMP/results"
	r=$((r + 1))
done
echo "bench: load average before $load0, after $(cut -d' ' -f1-3 /proc/loadavg)"
hwm=$(sed -n 's/^VmHWM:[[:space:]]*//p' "/proc/$FBLD_PID/status")
rss=$(sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$FBLD_PID/status")

awk -v hwm="$hwm" -v rss="$rss" '
function get(line, k,   n, a, i, kv) {
	n = split(line, a, " ")
	for (i = 1; i <= n; i++) {
		split(a[i], kv, "=")
		if (kv[1] == k) return kv[2] + 0
	}
	return 0
}
function median(v, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
{
	who = $3; k = ++n[who]
	ok = get($0, "requests") - get($0, "non2xx")
	rate[who, k] = ok / (get($0, "duration_us") / 1e6)
	p99[who, k] = get($0, "p99_us") / 1000
	errs[who] += get($0, "errors")
	if (who == "fbld") {
		answered += ok; stored += get($0, "stored")
		if (get($0, "stored") < ok) late++
	}
	printf "round %d %-5s %9.0f req/s  p99 %7.2f ms%s\n", $2, who,
		rate[who, k], p99[who, k],
		who == "fbld" ? sprintf("  ratio %.2f; %d answered, %d " \
		"committed 1 s later", rate[who, k] / rate["nginx", k], ok,
		get($0, "stored")) : ""
}
END {
	for (w in n) {
		for (i = 1; i <= n[w]; i++) { r[i] = rate[w, i]; p[i] = p99[w, i] }
		mr[w] = median(r, n[w]); mp[w] = median(p, n[w])
	}
	printf "nginx empty_gif : %9.0f req/s  p99 %7.2f ms  (median; %d errors)\n",
		mr["nginx"], mp["nginx"], errs["nginx"]
	printf "fbld pixel      : %9.0f req/s  p99 %7.2f ms  (median; %d errors)\n",
		mr["fbld"], mp["fbld"], errs["fbld"]
	for (i = 1; i <= n["fbld"]; i++)
		q[i] = rate["fbld", i] / rate["nginx", i]
	printf "ratio fbld/nginx: %.2f (median of the rounds\047 ratios; of the " \
		"medians %.2f; target >= 0.90)\n", median(q, n["fbld"]),
		mr["fbld"] / mr["nginx"]
	printf "fbld memory     : peak RSS %s, RSS after the run %s\n", hwm, rss
	printf "committed       : %d events for %d 2xx answers, 1 s after each round: %s\n",
		stored, answered, late ? "NOT ALL (" late " rounds behind)" : "all"
}' "$TMP/results"
