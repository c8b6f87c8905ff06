#!/bin/sh
# Durability of the write queue. Clients hammer the pixel and count the
# answers they got; the daemon is killed in the middle. After SIGKILL the
# hits still queued are lost: the numbers are reported, not asserted.
# After SIGTERM the queue drains: every answered hit must be stored.
. "$TOP/tests/lib/common.sh"

fbld_config
"$FBLD" token url open --config "$T/fbld.conf" --account 7 --message 1 \
	--count 500 | sed "s|^http://127.0.0.1:$HTTP_PORT||" >"$T/paths"

# Four keep-alive clients until the server goes away; prints the number
# of 200 answers read in full.
cat >"$T/client.py" <<'EOF'
import http.client, sys, threading
port, paths = int(sys.argv[1]), open(sys.argv[2]).read().split()
counts = [0] * 4
def run(n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = n
    while True:
        try:
            c.request("GET", paths[i % len(paths)],
                      headers={"User-Agent": "Thunderbird/115"})
            r = c.getresponse()
            r.read()
        except Exception:
            return
        if r.status == 200:
            counts[n] += 1
        i += 4
        if counts[n] == 200:
            open(sys.argv[3], "w").close()  # under way
threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(counts))
EOF

# round SIGNAL: writes "answered stored" to $T/result
round() {
	before=$(sql "SELECT count(*) FROM events" 2>/dev/null || echo 0)
	rm -f "$T/going"
	start_fbld
	python3 "$T/client.py" "$HTTP_PORT" "$T/paths" "$T/going" >"$T/answered" &
	client=$!
	wait_for "[ -f '$T/going' ]" 300 || fail "the clients made no progress"
	sleep 1
	kill "-$1" "$FBLD_PID"
	wait "$FBLD_PID" 2>/dev/null || true
	wait "$client" || fail "client failed"
	after=$(sql "SELECT count(*) FROM events")
	echo "$(cat "$T/answered") $((after - before))" >"$T/result"
}

round KILL
set -- $(cat "$T/result")
echo "SIGKILL: $1 hits answered, $2 stored ($(($1 - $2)) lost in the queue)"
[ "$1" -gt 0 ] || fail "no hit answered before SIGKILL"

round TERM
set -- $(cat "$T/result")
echo "SIGTERM: $1 hits answered, $2 stored"
grep -q "tracking: writer drained and stopped" "$T/fbld.log" ||
	fail "no drain logged"
[ "$2" -ge "$1" ] || fail "SIGTERM lost $(($1 - $2)) answered hits"
exit 0
