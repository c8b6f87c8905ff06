#!/bin/sh
# The daemon's scoring job against a real store: sends and bounces written
# into the database (as the milter and the bounce parser would) move an
# account to throttle or block with readable reasons in state_history and
# accounts.state; statistics and models are stored; an operator override
# masks the state until it expires, and the expiry is recorded; a restart
# reprocesses nothing.
. "$TOP/tests/lib/common.sh"

fbld_config "[scoring]
interval = 200ms
settle = 0
eval_interval = 1s"
start_fbld
wait_for "sql 'SELECT count(*) FROM scoring_values' >/dev/null" ||
	fail "no scoring tables"

now=$(($(date +%s) * 1000))
t0=$((now - 20 * 60 * 1000))
# 400 messages to never-mailed recipients, one a second; every fifth
# recipient is unknown, rejected three seconds later.
sql "INSERT INTO accounts (id, name, created_ms) VALUES (7, 'shop', $t0);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
INSERT INTO sends (id, account_id, created_ms, rcpt_count, fingerprint)
	SELECT i, 7, $t0 + i * 1000, 1, 'fp-blast' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
INSERT INTO send_rcpts (send_id, rcpt)
	SELECT i, 'v' || i || '@' || CASE WHEN i % 3 = 0 THEN 'hotmail.com'
		ELSE 'd' || i || '.example' END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
INSERT INTO events (ts_ms, type, account_id, send_id, recipient, reason,
		    class, machine, dedup)
	SELECT $t0 + i * 1000 + 3000, 'bounce', 7, i, 'v' || i || '@x',
	       'userunknown', 'hard', 0, 'b' || i FROM n WHERE i % 5 = 0;
-- A duplicate report of the same bounce counts once.
INSERT INTO events (ts_ms, type, account_id, send_id, recipient, reason,
		    class, machine, dedup)
	VALUES ($t0 + 9000, 'bounce', 7, 5, 'v5@x', 'userunknown', 'hard', 0,
		'b5-again');" || fail "inserting"

wait_for "[ \"\$(sql \"SELECT state IN ('throttle', 'block') FROM accounts WHERE id = 7\")\" = 1 ]" 100 ||
	fail "account not throttled: $(sql 'SELECT state FROM accounts WHERE id = 7')"
hist=$(sql "SELECT reasons FROM state_history WHERE account_id = 7 AND source = 'scoring' AND to_state = 'throttle'")
echo "$hist" | grep -q 'hard bounces (user unknown, bad domain) [0-9]* of [0-9]* messages' ||
	fail "no bounce reason in: $hist"
echo "$hist" | grep -q '95% interval' || fail "no interval in: $hist"
echo "$hist" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert isinstance(r, list) and len(r) >= 2, r' ||
	fail "reasons are not a JSON array of sentences: $hist"
sent=$(sql "SELECT sent FROM state_history WHERE account_id = 7 AND to_state = 'throttle'")
[ "$sent" -gt 0 ] && [ "$sent" -lt 200 ] || fail "throttled after $sent messages"

curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" >"$T/metrics.txt" ||
	fail "no metrics"
grep -q '^fbld_scoring_changes_total{to="throttle"} 1$' "$T/metrics.txt" ||
	fail "metrics: $(grep scoring "$T/metrics.txt")"

# Statistics: hourly counters and the account's JSON.
wait_for "[ \"\$(sql 'SELECT sum(sent) FROM scoring_hours WHERE account_id = 7')\" = 400 ]" ||
	fail "hourly counters: $(sql 'SELECT sum(sent), sum(unknown_user) FROM scoring_hours WHERE account_id = 7')"
[ "$(sql 'SELECT sum(unknown_user) FROM scoring_hours WHERE account_id = 7')" = 80 ] ||
	fail "duplicate bounce counted: $(sql 'SELECT sum(unknown_user) FROM scoring_hours')"
sql "SELECT stats FROM scoring_accounts WHERE account_id = 7" | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["sent"] == 400, s["sent"]
assert s["windows"]["24h"]["unknown_user"] == 80, s["windows"]["24h"]
assert s["tests"]["bounce"]["nats"] > 9, s["tests"]
assert s["state"] in ("throttle", "block"), s["state"]' || fail "stats JSON"

# An operator pins ok for three seconds (as `fbld accounts set` does);
# scoring records the expiry.
pinned=$(($(date +%s) * 1000 + 3000))
sql "UPDATE accounts SET override_state = 'ok', override_reason = 'checked with the customer', override_until_ms = $pinned WHERE id = 7;
INSERT INTO state_history (account_id, ts_ms, from_state, to_state, source, reasons)
	SELECT 7, $pinned - 3000, state, 'ok', 'operator', '[\"checked with the customer\"]' FROM accounts WHERE id = 7"
wait_for "[ \"\$(sql \"SELECT count(*) FROM state_history WHERE account_id = 7 AND source = 'expiry'\")\" = 1 ]" 100 ||
	fail "no expiry recorded"
exp=$(sql "SELECT from_state || ' ' || to_state || ' ' || reasons FROM state_history WHERE source = 'expiry'")
echo "$exp" | grep -q '^ok \(throttle\|block\) .*override to ok (checked with the customer) expired' ||
	fail "expiry row: $exp"
[ -z "$(sql 'SELECT override_state FROM accounts WHERE id = 7')" ] ||
	fail "override not cleared"
grep -q 'scoring: account=7 ok -> .* source=expiry' "$T/fbld.log" ||
	fail "expiry not logged"

# A restart reloads the models and reprocesses nothing.
before=$(sql 'SELECT count(*) FROM state_history')
stop_fbld
start_fbld
sleep 1
[ "$(sql 'SELECT sum(sent) FROM scoring_hours WHERE account_id = 7')" = 400 ] ||
	fail "sends counted twice after a restart"
[ "$(sql 'SELECT count(*) FROM state_history')" = "$before" ] ||
	fail "new history after a restart: $(sql 'SELECT * FROM state_history')"
grep -q 'starting it afresh' "$T/fbld.log" && fail "a model did not load"
stop_fbld
echo ok
