#!/bin/sh
# Slow and stalled clients: cut off after [http] timeout, while the
# endpoint keeps answering everyone else.
. "$TOP/tests/lib/common.sh"

fbld_config "timeout = 1s"
start_fbld
OPEN=$("$FBLD" token url open --config "$T/fbld.conf" --account 7 --message 1)
PATHQ=${OPEN#http://127.0.0.1:$HTTP_PORT}

# 50 connections that stop in the middle of their request headers, one
# that stops in the middle of its body; each must be closed by the
# server, and a normal request must be answered meanwhile.
python3 - "$HTTP_PORT" "$PATHQ" >"$T/slow.out" 2>&1 <<'EOF2' &
import socket, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(50):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUser-Agent: slow" % path).encode())
    socks.append(s)
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /u/x/y HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nList-")
socks.append(s)
print("connected", flush=True)
closed = 0
for s in socks:
    s.settimeout(60)
    try:
        data = s.recv(4096)
        while data and not data.startswith(b"HTTP/"):
            data = s.recv(4096)
        # Closed (b"") or answered with an error and then closed.
        while data:
            data = s.recv(4096)
        closed += 1
    except OSError as e:
        print("not closed:", e)
print("closed", closed)
EOF2
SLOW=$!
wait_for "grep -q connected '$T/slow.out'" || fail "slow clients did not connect"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$OPEN")" = 200 ] ||
	fail "the pixel is not served beside stalled clients"
wait "$SLOW" || fail "slow client script failed: $(cat "$T/slow.out")"
grep -q '^closed 51$' "$T/slow.out" || fail "stalled clients: $(cat "$T/slow.out")"
curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" >/dev/null || fail "unhealthy"
# The listeners share their port (SO_REUSEPORT), but never with a second
# fbld started by mistake.
if "$FBLD" serve --config "$T/fbld.conf" >"$T/second.log" 2>&1; then
	fail "a second fbld started on the same port"
fi
grep -q "is in use" "$T/second.log" || fail "second fbld: $(cat "$T/second.log")"
kill -0 "$FBLD_PID" || fail "the daemon died"
exit 0
