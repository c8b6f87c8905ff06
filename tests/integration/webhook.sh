#!/bin/sh
# Webhooks against a real HTTP receiver (tests/lib/webhook_receiver.py,
# Python's http.server, which checks the signature itself with hmac):
# operator overrides become signed JSON payloads, each endpoint gets only
# the states it asked for, all endpoints see the same event id, and an
# endpoint whose secret does not match is given up on after max_attempts
# (a dead letter, shown by `fbld report`).
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/webhook.sh"

printf 'not-the-receivers-secret\n' >"$T/wrong"
start_receiver
fbld_config "[outbox]
poll_interval = 100ms
[webhook:desk]
url = http://127.0.0.1:$RPORT/desk
secret_file = $T/secret
retry_base = 200ms
retry_max = 1s
[webhook:blocks]
url = http://127.0.0.1:$RPORT/blocks
secret_file = $T/secret
states = block
[webhook:wrong]
url = http://127.0.0.1:$RPORT/wrong
secret_file = $T/wrong
states = throttle
max_attempts = 2
retry_base = 200ms"
start_fbld

# Traffic to quote: 200 messages, 41 of them bounced as unknown users.
acct set acme watch --reason "first look" --create
NOW=$(($(date +%s) * 1000))
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
     WHERE i < 200) INSERT INTO sends (account_id, created_ms, rcpt_count)
     SELECT 1, $NOW - i * 1000, 1 FROM n;
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
     WHERE i < 41) INSERT INTO events (ts_ms, type, account_id, class,
     reason) SELECT $NOW - i * 1000, 'bounce', 1, 'hard', 'userunknown'
     FROM n;"
wait_for '[ "$(hooks /desk 200)" -ge 1 ]' 100 ||
	fail "the watch transition was not delivered"
acct set acme throttle --reason "unknown users: 41 of 200 messages (20.5 %)"
wait_for '[ "$(hooks /desk 200)" -ge 2 ]' 100 ||
	fail "the throttle transition was not delivered"
wait_for "[ \"\$(sql \"SELECT count(*) FROM outbox WHERE channel =
	'webhook:wrong' AND dead_ms IS NOT NULL\")\" = 1 ]" 100 ||
	fail "the endpoint with the wrong secret was not given up"

python3 - "$T/hooks.jsonl" <<'EOF' || fail "payloads"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
desk = [r for r in rows if r["path"] == "/desk"]
assert all(r["verified"] for r in desk), "unverified signature on /desk"
assert [r["body"]["to"] for r in desk] == ["watch", "throttle"], desk
b = desk[1]["body"]
assert desk[1]["key"] == desk[1]["event"] == b["id"], "idempotency key"
assert desk[1]["content_type"] == "application/json"
assert b["type"] == "account.state_changed"
assert b["account"]["name"] == "acme" and b["account"]["id"] == 1
assert (b["from"], b["to"], b["source"]) == ("watch", "throttle", "operator")
assert b["reasons"] == ["unknown users: 41 of 200 messages (20.5 %)"]
assert "4.7.1" in b["action"], b["action"]
t = b["traffic"]
assert (t["window_ms"], t["sent"], t["bounces_hard"]) == (86400000, 200, 41), t
assert not [r for r in rows if r["path"] == "/blocks"], "filter: blocks only"
wrong = [r for r in rows if r["path"] == "/wrong"]
assert len(wrong) == 2, "max_attempts = 2: %d" % len(wrong)
assert all(r["status"] == 401 and not r["verified"] for r in wrong)
assert [r["attempt"] for r in wrong] == ["1", "2"], wrong
EOF

# A block goes to both endpoints with the same event id; releasing the
# override (back to the scored state, ok) only to the one that wants ok.
acct set acme block --reason "confirmed spam run"
wait_for '[ "$(hooks /blocks 200)" -ge 1 ] && [ "$(hooks /desk 200)" -ge 3 ]' \
	100 || fail "the block transition was not delivered to both"
acct set acme auto --reason "customer cleaned up"
wait_for '[ "$(hooks /desk 200)" -ge 4 ]' 100 ||
	fail "the release was not delivered"
python3 - "$T/hooks.jsonl" <<'EOF' || fail "block and release"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"status": 200' in l]
desk = [r for r in rows if r["path"] == "/desk"]
blocks = [r for r in rows if r["path"] == "/blocks"]
assert len(blocks) == 1 and blocks[0]["body"]["to"] == "block"
assert blocks[0]["key"] == desk[2]["key"], "one event id for all endpoints"
assert (desk[3]["body"]["from"], desk[3]["body"]["to"]) == ("block", "ok")
assert len({r["key"] for r in desk}) == 4, "a new key per transition"
EOF

[ "$(sql "SELECT count(*) FROM outbox WHERE done_ms IS NULL AND dead_ms
	IS NULL")" = 0 ] || fail "entries left pending"
"$FBLD" report --config "$T/fbld.conf" >"$T/report.txt" 2>&1 ||
	fail "fbld report"
grep -q "Given up (1" "$T/report.txt" || fail "report: no dead letter"
grep -q "webhook:wrong .*HTTP 401: receiver says no" "$T/report.txt" ||
	fail "report: the dead letter's error"
grep -q "acme  watch -> throttle  (operator)" "$T/report.txt" ||
	fail "report: the transition"
grep -q "outbox: gave up channel=webhook:wrong" "$T/fbld.log" ||
	fail "no log line for the dead letter"
stop_fbld
no_sanitizer_errors
exit 0
