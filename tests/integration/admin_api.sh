#!/bin/sh
# The JSON admin API on its own loopback listener, with curl: bearer token
# required; accounts, one account, its traffic, events (paged), history
# and deliveries; overrides set and cleared (each announced by a webhook
# to a real receiver); dead letters retried; the report; errors as JSON
# with the right status; and the same documents as `fbld accounts --json`.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/webhook.sh"

TOKEN=admintoken-0123456789abcdef
printf '%s\n' "$TOKEN" >"$T/token"
printf 'not-the-receivers-secret\n' >"$T/wrong"
start_receiver
APORT=$(free_port)
fbld_config "[admin]
listen = 127.0.0.1:$APORT
token_file = $T/token
threads = 2
[outbox]
poll_interval = 100ms
[webhook:desk]
url = http://127.0.0.1:$RPORT/desk
secret_file = $T/secret
retry_base = 200ms
[webhook:wrong]
url = http://127.0.0.1:$RPORT/wrong
secret_file = $T/wrong
states = block
max_attempts = 1"
start_fbld
grep -q "admin: listening address=127.0.0.1 port=$APORT" "$T/fbld.log" ||
	fail "the admin listener did not start"

# api METHOD PATH [BODY]: the status in $CODE, the body in $T/out.json.
api() {
	CODE=$(curl -sS -o "$T/out.json" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer $TOKEN" ${3:+--data-binary "$3"} \
		"http://127.0.0.1:$APORT$2") || fail "curl $1 $2"
}
expect() { # STATUS
	[ "$CODE" = "$1" ] || fail "expected $1, got $CODE: $(cat "$T/out.json")"
}
# check PYTHON-EXPRESSION: true of the last body (as `j`).
check() {
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    sys.exit("%s is false of %s" % (sys.argv[2], json.dumps(j, indent=1)))' \
		"$T/out.json" "$1" || fail "check"
}

# Authentication.
CODE=$(curl -sS -o "$T/out.json" -D "$T/headers" -w '%{http_code}' \
	"http://127.0.0.1:$APORT/api/v1/accounts")
[ "$CODE" = 401 ] || fail "no token: $CODE"
grep -qi '^WWW-Authenticate: Bearer' "$T/headers" || fail "WWW-Authenticate"
CODE=$(curl -sS -o "$T/out.json" -w '%{http_code}' -H \
	"Authorization: Bearer ${TOKEN}x" "http://127.0.0.1:$APORT/api/v1/accounts")
[ "$CODE" = 401 ] || fail "wrong token: $CODE"
check 'j["error"] == "a valid bearer token is required"'

api GET /api/v1/accounts
expect 200
check 'j == {"count": 0, "accounts": []}'

# Overrides.
api PUT /api/v1/accounts/acme/override '{"state": "block", "reason": "r"}'
expect 404
api PUT /api/v1/accounts/acme/override \
	'{"state": "block", "reason": "phishing kit in /wp-content", "create": true}'
expect 200
check 'j["changed"] and j["state"] == "block" and j["scored_state"] == "ok"'
check 'j["override"]["reason"] == "phishing kit in /wp-content"'
check 'j["override"]["until_ms"] is None and j["since_ms"] > 0'
wait_for '[ "$(hooks /desk 200)" -ge 1 ]' 100 || fail "no webhook"
python3 - "$T/hooks.jsonl" <<'PY' || fail "webhook of the override"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if '"/desk"' in l][0]
b = r["body"]
assert r["verified"] and (b["from"], b["to"], b["source"]) == \
    ("ok", "block", "operator"), r
assert b["reasons"] == ["phishing kit in /wp-content"]
PY
api PUT /api/v1/accounts/acme/override \
	'{"state": "block", "reason": "still bad", "until": "1h"}'
expect 200
check 'not j["changed"] and 3500000 < j["override"]["until_ms"] - j["since_ms"] <= 3600000'
api PUT /api/v1/accounts/user%40example.org/override \
	'{"state": "watch", "reason": "new customer", "create": true}'
expect 200
check 'j["name"] == "user@example.org" and j["state"] == "watch"'

# Bad requests.
api PUT /api/v1/accounts/acme/override '{"state": "banned", "reason": "r"}'
expect 400
check '"state" in j["error"]'
api PUT /api/v1/accounts/acme/override '{"state": "ok"}'
expect 400
check '"reason" in j["error"]'
api PUT /api/v1/accounts/acme/override '{"state": "ok", "reason": "r", "until": "yesterday"}'
expect 400
api PUT /api/v1/accounts/acme/override '{"state": "ok", "reason": "r", "until": 1000}'
expect 400
api PUT /api/v1/accounts/acme/override 'not json'
expect 400
check 'j["error"].startswith("the body is not a JSON object")'
api GET /api/v1/accounts?state=bogus
expect 400
api GET /api/v1/nothing-here
expect 404
api GET /api/v1/accounts/nobody
expect 404
api GET /api/v1/accounts/acme/override
expect 405
api PATCH /api/v1/accounts/acme/override '{}'
expect 405

# Traffic and events of acme (id 1).
NOW=$(($(date +%s) * 1000))
sql "INSERT INTO sends (account_id, created_ms, rcpt_count) VALUES
     (1, $NOW - 7200000, 3), (1, $NOW - 60000, 2);
     INSERT INTO events (ts_ms, type, account_id, class, reason, recipient)
     VALUES ($NOW - 3000, 'bounce', 1, 'hard', 'userunknown', 'a@x.test'),
            ($NOW - 2000, 'complaint', 1, NULL, 'feedback', 'b@x.test'),
            ($NOW - 1000, 'open', 1, NULL, NULL, 'c@x.test');
     INSERT INTO events (ts_ms, type, account_id, machine)
     VALUES ($NOW - 1000, 'open', 1, 1);"
api GET /api/v1/accounts/acme/stats
expect 200
check 'j["1h"]["sent"] == 1 and j["24h"]["sent"] == 2 and j["24h"]["recipients"] == 5'
check 'j["1h"]["bounces_hard"] == 1 and j["1h"]["complaints"] == 1'
check 'j["1h"]["opens"] == 1 and j["1h"]["opens_machine"] == 1'
api GET "/api/v1/accounts/acme/events?limit=2"
expect 200
check '[e["type"] for e in j["events"]] == ["open", "open"]'
BEFORE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["events"][-1]["id"])' "$T/out.json")
api GET "/api/v1/accounts/acme/events?limit=10&before=$BEFORE"
expect 200
check '[e["type"] for e in j["events"]] == ["complaint", "bounce"]'
check 'j["events"][1]["recipient"] == "a@x.test" and j["events"][1]["class"] == "hard"'
api GET /api/v1/accounts/acme/history
expect 200
check '[h["to"] for h in j["history"]] == ["block", "block"] and j["history"][1]["source"] == "operator"'
api GET /api/v1/accounts/acme
expect 200
check 'j["traffic"]["24h"]["sent"] == 2 and len(j["history"]) == 2 and len(j["events"]) == 4'

# Dead letters: [webhook:wrong] gives up after one attempt; retry it.
wait_for "[ \"\$(sql \"SELECT count(*) FROM outbox WHERE dead_ms IS NOT
	NULL\")\" = 1 ]" 100 || fail "no dead letter"
api GET "/api/v1/outbox?status=dead"
expect 200
check 'len(j["deliveries"]) == 1 and j["deliveries"][0]["channel"] == "webhook:wrong"'
check 'j["deliveries"][0]["last_error"] == "HTTP 401: receiver says no"'
DEAD=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deliveries"][0]["id"])' "$T/out.json")
api POST "/api/v1/outbox/$DEAD/retry"
expect 200
check 'j["deliveries"][0]["status"] == "pending" and j["deliveries"][0]["attempts"] == 0'
api POST "/api/v1/outbox/1/retry"
expect 404
check 'j["error"] == "no given-up delivery 1"'
wait_for '[ "$(hooks /wrong 401)" -ge 2 ]' 100 || fail "the retry was not sent"
api GET "/api/v1/accounts/acme/deliveries"
expect 200
check 'sorted(d["channel"] for d in j["deliveries"]) == ["webhook:desk", "webhook:wrong"]'

# Clearing the override.
api DELETE /api/v1/accounts/acme/override
expect 400
api DELETE "/api/v1/accounts/acme/override?reason=verified+with+the+customer"
expect 200
check 'j["changed"] and j["state"] == "ok" and j["override"] is None'
wait_for '[ "$(hooks /desk 200)" -ge 3 ]' 100 || fail "no webhook for the release"

# The report, and the CLI's documents are the API's.
api GET "/api/v1/report?since=1h"
expect 200
check 'len(j["transitions"]) == 4 and j["traffic"]["sent"] == 1'
check '[a["name"] for a in j["not_ok"]] == ["user@example.org"]'
api GET /api/v1/accounts
expect 200
"$FBLD" accounts list --json --config "$T/fbld.conf" >"$T/cli.json" ||
	fail "fbld accounts list --json"
python3 -c 'import json, sys
assert json.load(open(sys.argv[1])) == json.load(open(sys.argv[2]))' \
	"$T/out.json" "$T/cli.json" || fail "CLI and API differ"
stop_fbld
no_sanitizer_errors
exit 0
