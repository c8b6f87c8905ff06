#!/bin/sh
# The email digest and the immediate alert, against a real SMTP receiver
# on loopback (tests/lib/smtp_receiver.py: Python's smtpd). Transitions
# made while the daemon is down are in the first digest after it starts;
# a block also gets a mail of its own at once. The mails are read back
# with Python's email package: envelope, headers, and a body that names
# the accounts, their traffic, the reasons and what fbld did. Then the
# relay goes away: the next digest is retried until it is back.
. "$TOP/tests/lib/common.sh"
command -v python3 >/dev/null || skip "python3 is missing"
python3 -c 'import warnings; warnings.simplefilter("ignore"); import smtpd' \
	2>/dev/null || skip "python3 has no smtpd module"

mkdir -p "$T/mail"
start_smtp() { # [PORT]
	rm -f "$T/smtp.port"
	python3 "$TOP/tests/lib/smtp_receiver.py" "$T/smtp.port" "$T/mail" \
		${1:-} >>"$T/smtp.log" 2>&1 &
	SMTP_PID=$!
	PIDS="$PIDS $SMTP_PID"
	wait_for "test -s '$T/smtp.port'" || fail "the SMTP receiver did not start"
	SPORT=$(cat "$T/smtp.port")
}
mails() { ls "$T/mail" | grep -c '\.eml$' || true; }

start_smtp
fbld_config "[outbox]
poll_interval = 100ms
[digest]
smtp_url = smtp://127.0.0.1:$SPORT
from = fbld@test.invalid
to = abuse@provider.test, noc@provider.test
hostname = mx-test
interval = 2s
immediate = block
starttls = no
retry_base = 300ms
retry_max = 1s"
acct() {
	"$FBLD" accounts --config "$T/fbld.conf" "$@" >>"$T/cli.log" 2>&1 ||
		fail "fbld accounts $*"
}

# While the daemon is down: traffic, then two transitions.
acct set acme watch --reason "seed" --create
acct set acme auto --reason "seed"
NOW=$(($(date +%s) * 1000))
sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
     WHERE i < 500) INSERT INTO sends (account_id, created_ms, rcpt_count)
     SELECT 1, $NOW - i * 1000, 1 FROM n;
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
     WHERE i < 60) INSERT INTO events (ts_ms, type, account_id, class,
     reason) SELECT $NOW - i * 1000, 'bounce', 1, 'hard', 'userunknown'
     FROM n;
     INSERT INTO events (ts_ms, type, account_id) VALUES
     ($NOW, 'complaint', 1), ($NOW, 'complaint', 1), ($NOW, 'complaint', 1);
     DELETE FROM outbox;"
acct set acme throttle \
	--reason "bounces: 60 unknown users of 500 messages (12.0 %)"
acct set spammer block --reason "confirmed phishing run" --create

start_fbld
wait_for '[ "$(mails)" -ge 2 ]' 200 || fail "two mails expected"
python3 - "$T/mail" <<'PY' || fail "mail contents"
import email, email.policy, json, os, re, sys
d = sys.argv[1]
mails = {}
for name in sorted(os.listdir(d)):
    if not name.endswith(".eml"):
        continue
    m = email.message_from_bytes(open(os.path.join(d, name), "rb").read(),
                                 policy=email.policy.default)
    env = json.load(open(os.path.join(d, name[:-4] + ".env")))
    assert env["from"] == "fbld@test.invalid", env
    assert env["to"] == ["abuse@provider.test", "noc@provider.test"], env
    assert m["Auto-Submitted"] == "auto-generated"
    assert m["Message-ID"] and m["Date"], "Message-ID and Date"
    assert "abuse@provider.test" in m["To"] and "fbld@test.invalid" in m["From"]
    kind = "digest" if "digest" in m["Subject"] else "alert"
    mails[kind] = (m["Subject"], m.get_body().get_content())
assert set(mails) == {"digest", "alert"}, mails.keys()

subject, body = mails["alert"]
assert subject == "[fbld mx-test] spammer is now block", subject
assert "ok -> block  (operator)" in body, body
assert "- confirmed phishing run" in body, body
assert "5.7.1" in body, body

subject, body = mails["digest"]
assert subject == ("[fbld mx-test] digest: 2 accounts changed state "
                   "(1 now block, 1 now throttle)"), subject
assert "== acme (id 1): now THROTTLE ==" in body, body
assert "== spammer (id 2): now BLOCK ==" in body, body
assert "- bounces: 60 unknown users of 500 messages (12.0 %)" in body, body
assert re.search(r"messages sent\s+500\n", body), body
assert re.search(r"hard bounces\s+60\s+12\.0 % of the messages sent", body)
assert re.search(r"complaints\s+3\s+0\.60 % of the messages sent", body)
assert "Enforcement: paced" in body and "4.7.1" in body, body
assert "Override:    pinned by an operator: bounces: 60" in body, body
PY
[ "$(sql "SELECT count(*) FROM outbox WHERE channel = 'digest' AND
	done_ms IS NULL")" = 0 ] || fail "digest items left"

# The relay goes away; the next digest waits for it.
kill "$SMTP_PID"
wait "$SMTP_PID" 2>/dev/null || true
acct set acme auto --reason "customer fixed the form"
wait_for 'grep -q "outbox: failed channel=email:digest" "$T/fbld.log"' 200 ||
	fail "the digest did not fail while the relay was down"
start_smtp "$SPORT"
wait_for '[ "$(mails)" -ge 3 ]' 200 || fail "the digest was not retried"
python3 - "$T/mail/3.eml" <<'PY' || fail "third mail"
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
body = m.get_body().get_content()
assert "digest: 1 account changed state (1 now ok)" in m["Subject"], m["Subject"]
assert "throttle -> ok  (operator)" in body and "customer fixed the form" in body
PY
[ "$(sql "SELECT attempts > 1, done_ms IS NOT NULL FROM outbox WHERE
	channel = 'email:digest' ORDER BY id DESC LIMIT 1")" = "1|1" ] ||
	fail "the last digest: $(sql 'SELECT * FROM outbox')"
stop_fbld
! grep -q "Sanitizer\|runtime error:" "$T/fbld.log" || fail "sanitizer report"
exit 0
