#!/bin/sh
# The Postfix policy service of fbld serve, spoken to as Postfix does
# (SMTPD_POLICY_README: attribute lines, an empty line, one reused
# connection): answers from account states and the recipient rate limit,
# per-message accounting by "instance", parallel connections, protocol
# errors closing the connection, and the counters on /metrics.
. "$TOP/tests/lib/common.sh"

POLICY_PORT=$(free_port)
fbld_config "[policy]
listen = 127.0.0.1:$POLICY_PORT
rate_limit = 3"
for a in alice blocked slow; do
	"$FBLD" accounts --config "$T/fbld.conf" set "$a" auto --create --reason "test account" >/dev/null ||
		fail "cannot create account $a"
done
sql "UPDATE accounts SET state = 'block' WHERE name = 'blocked'"
sql "UPDATE accounts SET override_state = 'throttle', override_until_ms = 0 WHERE name = 'slow'"
start_fbld

cat >"$T/client.py" <<'EOF'
import socket, sys, threading

port = int(sys.argv[1])

def req(login, state="RCPT", instance="i1", rcpt="r@remote.test.invalid"):
    lines = ["request=smtpd_access_policy", "protocol_state=" + state,
             "protocol_name=ESMTP", "client_address=127.0.0.1",
             "sasl_method=PLAIN", "sasl_username=" + login,
             "recipient=" + rcpt, "instance=" + instance, "", ""]
    return "\n".join(lines).encode()

def ask(f, s, data):
    s.sendall(data)
    line = f.readline().decode()
    empty = f.readline().decode()
    assert empty == "\n", "reply not ended by an empty line: %r" % empty
    return line.strip()

def expect(got, want, what):
    if not got.startswith(want):
        print("FAIL: %s: got %r, want %r" % (what, got, want))
        sys.exit(1)

s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
# One connection for everything, as Postfix reuses it.
expect(ask(f, s, req("nobody-known")), "action=DUNNO", "unknown login")
expect(ask(f, s, req("")), "action=DUNNO", "no login")
expect(ask(f, s, req("blocked")), "action=REJECT 5.7.1 ", "blocked")
expect(ask(f, s, req("slow")), "action=DEFER_IF_PERMIT 4.7.1 ", "throttled")
expect(ask(f, s, req("blocked", state="CONNECT")), "action=DUNNO",
       "not at RCPT")
# alice: 3 recipients per hour; the 4th of one message is deferred.
for i in range(3):
    expect(ask(f, s, req("alice", instance="m1")), "action=DUNNO",
           "alice recipient %d" % (i + 1))
expect(ask(f, s, req("alice", instance="m1")),
       "action=DEFER_IF_PERMIT 4.7.1 Recipient rate limit", "alice over")
expect(ask(f, s, req("alice", state="END-OF-MESSAGE", instance="m1")),
       "action=DUNNO", "end of message")
# A new message starts from what is recorded (nothing was sent).
expect(ask(f, s, req("alice", instance="m2")), "action=DUNNO", "next message")
# Two requests in one write are both answered, in order.
s.sendall(req("blocked") + req("alice", instance="m3"))
for want in ("action=REJECT", "action=DUNNO"):
    line = f.readline().decode().strip()
    f.readline()
    expect(line, want, "pipelined")

# Parallel connections.
errors = []
def worker(n):
    try:
        c = socket.create_connection(("127.0.0.1", port))
        cf = c.makefile("rb")
        for i in range(20):
            got = ask(cf, c, req("slow", instance="p%d" % n))
            if not got.startswith("action=DEFER_IF_PERMIT"):
                errors.append(got)
        c.close()
    except Exception as e:
        errors.append(repr(e))
threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
if errors:
    print("FAIL: parallel: %s" % errors[:3])
    sys.exit(1)

# A broken request: the connection is closed without a reply.
s.sendall(b"this is not an attribute\n\n")
if f.readline() != b"":
    print("FAIL: a protocol error was answered")
    sys.exit(1)
# And the service goes on for others.
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
expect(ask(f, s, req("blocked")), "action=REJECT", "after a protocol error")
print("ok")
EOF

python3 "$T/client.py" "$POLICY_PORT" >"$T/client.log" 2>&1 ||
	fail "$(cat "$T/client.log")"
curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" >"$T/metrics.txt"
grep -q '^fbld_policy_requests_total{action="reject"} 3$' "$T/metrics.txt" ||
	fail "reject count: $(grep policy "$T/metrics.txt")"
grep -q '^fbld_policy_protocol_errors_total 1$' "$T/metrics.txt" ||
	fail "protocol error not counted"
grep -q 'policy: closing connection: malformed attribute line' "$T/fbld.log" ||
	fail "protocol error not logged"
stop_fbld
grep -q 'daemon: stopping service=policy' "$T/fbld.log" || fail "not stopped"
echo "ok: policy service"
