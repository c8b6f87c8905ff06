#!/bin/sh
# A receiver that answers 500 twice, then 200, gets the event once it
# recovers: the same body and idempotency key on every attempt, a fresh
# valid signature each time, Fbld-Attempt counting up, and the outbox
# entry delivered after 3 attempts with the last error kept.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/webhook.sh"

start_receiver --fail 2
fbld_config "[outbox]
poll_interval = 100ms
[webhook:desk]
url = http://127.0.0.1:$RPORT/desk
secret_file = $T/secret
retry_base = 300ms
retry_max = 2s"
start_fbld
acct set acme block --reason "retry test" --create
wait_for '[ "$(hooks /desk 200)" -ge 1 ]' 150 ||
	fail "not delivered after the receiver recovered"

python3 - "$T/hooks.jsonl" <<'PY' || fail "attempts"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["status"] for r in rows] == [500, 500, 200], rows
assert len({r["key"] for r in rows}) == 1, "one key for every attempt"
assert [r["attempt"] for r in rows] == ["1", "2", "3"]
assert all(r["verified"] for r in rows), "every attempt is signed"
assert all(r["body"] == rows[0]["body"] for r in rows), "same body"
assert rows[0]["body"]["to"] == "block"
PY
[ "$(sql "SELECT attempts, done_ms IS NOT NULL, last_error FROM outbox
	WHERE channel = 'webhook:desk'")" = "3|1|HTTP 500: receiver says no" ] ||
	fail "outbox entry: $(sql 'SELECT * FROM outbox')"
grep -q "outbox: failed channel=webhook:desk .*attempt=2 retry_in_ms=" \
	"$T/fbld.log" || fail "no log line for the failed attempt"
stop_fbld
no_sanitizer_errors
exit 0
