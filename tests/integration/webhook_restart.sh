#!/bin/sh
# Nothing is lost across restarts. The receiver answers 500 while
# $T/down exists. Transitions made while it is down, and while the daemon
# is down (the CLI writes the outbox itself), are delivered once both are
# back: after a SIGKILL and after a SIGTERM (the daemon finishes what is
# in flight). The receiver deduplicates by Idempotency-Key: every key the
# outbox holds reaches it, and since those 200s all come after a restart,
# exactly once. Last, a SIGKILL in the middle of a request: the entry's
# lease brings it back after the restart, and the receiver sees it twice
# (at least once).
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/webhook.sh"

touch "$T/down"
start_receiver --fail-file "$T/down" --slow-file "$T/slow"
fbld_config "[outbox]
poll_interval = 100ms
[webhook:desk]
url = http://127.0.0.1:$RPORT/desk
secret_file = $T/secret
timeout = 2s
max_attempts = 1000
retry_base = 200ms
retry_max = 500ms"

# Round 1: SIGKILL while deliveries fail.
start_fbld
acct set a1 throttle --reason "round 1" --create
acct set a2 block --reason "round 1" --create
wait_for '[ "$(keys 500)" -ge 2 ]' 150 || fail "no failed attempts seen"
stop_fbld KILL
acct set a3 watch --reason "made while the daemon is down" --create
rm -f "$T/down"
start_fbld
wait_for '[ "$(keys 200)" -ge 3 ]' 300 ||
	fail "not every entry was delivered after SIGKILL"

# Round 2: SIGTERM while deliveries fail.
touch "$T/down"
acct set a1 ok --reason "round 2"
wait_for '[ "$(keys 500)" -ge 3 ]' 150 || fail "round 2: no failed attempt"
stop_fbld TERM
grep -q "daemon: stopping service=outbox" "$T/fbld.log" ||
	fail "no clean stop"
acct set a2 auto --reason "released while the daemon is down"
rm -f "$T/down"
start_fbld
wait_for '[ "$(keys 200)" -ge 5 ]' 300 ||
	fail "not every entry was delivered after SIGTERM"

sql "SELECT substr(idem_key, instr(idem_key, '/') + 1) FROM outbox
	ORDER BY id" >"$T/expected"
[ "$(wc -l <"$T/expected")" -eq 5 ] || fail "expected 5 outbox entries"
python3 - "$T/hooks.jsonl" "$T/expected" <<'PY' || fail "deliveries"
import collections, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
expected = [l.strip() for l in open(sys.argv[2])]
ok = collections.Counter(r["key"] for r in rows if r["status"] == 200)
assert set(ok) == set(expected), (sorted(ok), expected)
assert all(n == 1 for n in ok.values()), ok
assert all(r["verified"] for r in rows)
PY
[ "$(sql "SELECT count(*) FROM outbox WHERE done_ms IS NULL")" = 0 ] ||
	fail "entries left undelivered"

# Round 3: SIGKILL while the receiver holds a request (3 s, more than the
# 2 s timeout: the entry stays leased for timeout + 10 s).
touch "$T/slow"
acct set a3 block --reason "round 3"
wait_for "test -f '$T/slow.hit'" 150 || fail "round 3: no request"
stop_fbld KILL
rm -f "$T/slow"
start_fbld
wait_for '[ "$(keys 200)" -ge 6 ] &&
	[ "$(sql "SELECT count(*) FROM outbox WHERE done_ms IS NULL")" = 0 ]' \
	400 || fail "the leased entry did not come back"
python3 - "$T/hooks.jsonl" <<'PY' || fail "round 3"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
last = rows[-1]["key"]
mine = [r for r in rows if r["key"] == last]
assert mine[0]["body"]["reasons"] == ["round 3"], mine[0]
# The held request was answered after the daemon died, then redelivered.
assert [r["attempt"] for r in mine] == ["1", "2"], mine
PY
[ "$(sql "SELECT attempts FROM outbox ORDER BY id DESC LIMIT 1")" = 2 ] ||
	fail "round 3: two attempts expected"
stop_fbld
no_sanitizer_errors
exit 0
