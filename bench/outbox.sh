#!/bin/sh
# bench/outbox.sh [N]: webhook delivery throughput of fbld's alert outbox
# against curl's own parallel client, both posting the same 663-byte
# payload to the same nginx on 127.0.0.1 with 32 requests in flight.
# fbld also signs each request (HMAC-SHA256), claims it and records the
# result in SQLite; curl only sends. Prints both rates and the ratio.
set -eu
N=${1:-5000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
FBLD=${FBLD:-$TOP/build/release/fbld}
[ -x "$FBLD" ] || { echo "build fbld first (make)"; exit 1; }
for c in nginx curl sqlite3 python3; do
	command -v $c >/dev/null || { echo "bench: $c is missing"; exit 77; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/fbld-bench-outbox.XXXXXX")
NGINX_PID="" FBLD_PID=""
cleanup() {
	[ -n "$FBLD_PID" ] && kill "$FBLD_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

NPORT=$(port)
mkdir -p "$T/nginx"
cat >"$T/nginx.conf" <<EON
daemon off;
worker_processes 1;
error_log $T/nginx/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx;
	server {
		listen 127.0.0.1:$NPORT;
		location / { return 200 "ok\n"; }
	}
}
EON
nginx -c "$T/nginx.conf" -p "$T/nginx" &
NGINX_PID=$!
python3 - "$T/body.json" <<'PY'
import sys
body = ('{"id":"8a1f6f7e-2c4b-4d7e-9f1a-3b5c7d9e0f12","type":"account.state_changed",'
        '"ts_ms":1767225600000,"account":{"id":42,"name":"shop-example"},"from":"watch",'
        '"to":"throttle","source":"scoring","reasons":["bounces: 41 unknown users of 200 '
        'messages (20.5 %, at least 15.5 % with 95 % confidence)"],"sent":1234,"action":'
        '"paced: mail beyond the account\'s rate cap gets a temporary failure (4.7.1) and is '
        'retried later","stats":{"score":9.75,"bounce_cusum":8.5},"traffic":{"window_ms":'
        '86400000,"sent":200,"recipients":212,"bounces_hard":41,"bounces_soft":3,"delays":0,'
        '"complaints":1,"unsubscribes":0,"opens":12,"opens_machine":30,"clicks":0,'
        '"clicks_machine":0,"other":0}}')
open(sys.argv[1], "w").write(body)
PY
sleep 0.5

# The peer: curl, 32 at once.
start=$(now_ms)
curl -s -Z --parallel-max 32 -H 'Content-Type: application/json' \
	-H 'Fbld-Timestamp: 1767225600' -H 'Fbld-Signature: v1=x' \
	--data-binary "@$T/body.json" "http://127.0.0.1:$NPORT/hook?[1-$N]" \
	>/dev/null
curl_ms=$(($(now_ms) - start))

# fbld: N due rows in the outbox, then the daemon delivers them.
printf 'bench-secret-0123456789\n' >"$T/secret"
cat >"$T/fbld.conf" <<EOC
[fbld]
state_dir = $T/var
[log]
level = warn
[http]
listen = 127.0.0.1:$(port)
[outbox]
batch = 32
poll_interval = 50ms
[webhook:bench]
url = http://127.0.0.1:$NPORT/hook
secret_file = $T/secret
EOC
"$FBLD" accounts list --config "$T/fbld.conf" >/dev/null
sqlite3 "$T/var/fbld.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL
	SELECT i + 1 FROM n WHERE i < $N) INSERT INTO outbox (created_ms,
	channel, idem_key, payload, next_ms) SELECT 0, 'webhook:bench',
	'webhook:bench/' || i, readfile('$T/body.json'), 0 FROM n"
start=$(now_ms)
"$FBLD" serve --config "$T/fbld.conf" 2>"$T/fbld.log" &
FBLD_PID=$!
while [ "$(sqlite3 -cmd '.timeout 5000' "$T/var/fbld.db" \
	"SELECT count(*) FROM outbox WHERE done_ms IS NULL")" != 0 ]; do
	kill -0 "$FBLD_PID" || { cat "$T/fbld.log"; exit 1; }
	sleep 0.05
done
end=$(sqlite3 "$T/var/fbld.db" "SELECT max(done_ms) FROM outbox")
fbld_ms=$((end - start))
failed=$(sqlite3 "$T/var/fbld.db" "SELECT count(*) FROM outbox WHERE attempts > 1")

python3 - "$N" "$curl_ms" "$fbld_ms" "$failed" <<'PY'
import sys
n, c, f, failed = (int(x) for x in sys.argv[1:])
print("webhooks: %d posts of 663 bytes, 32 in flight, to nginx on 127.0.0.1" % n)
print("  curl --parallel (peer):     %6d ms  %8.0f posts/s" % (c, n * 1000 / c))
print("  fbld outbox (sign+record):  %6d ms  %8.0f posts/s  (retried: %d)" %
      (f, n * 1000 / f, failed))
print("  ratio fbld/curl: %.2f" % ((n / f) / (n / c)))
PY
