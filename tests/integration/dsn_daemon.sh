#!/bin/sh
# dsn_daemon: bounces through the daemon. A real DSN sent to a token
# address minted by `fbld token mint` (account by name, send reserved in
# the store) is piped into `fbld ingest` as an MTA pipe transport would;
# the running `fbld serve` picks it up and stores one event per recipient:
# the failed one a bounce tied to its account and send with reason, class,
# status and diagnostic, the delayed one a delay, the raw report linked.
# A bounce with no token is kept unattributed, with its reason.
. "$TOP/tests/lib/common.sh"
command -v sqlite3 >/dev/null || skip "sqlite3 missing"

head -c 48 /dev/urandom | base64 | tr -d "\n=+/" >"$T/k1.key"
chmod 600 "$T/k1.key"
fbld_config "[token]
bounce_domain = bounce.example.net
[key:k1]
slot = 1
secret_file = $T/k1.key
use = sign"
start_fbld

addr=$("$FBLD" token mint --config "$T/fbld.conf" --account acme) ||
	fail "token mint"
acct=$(sql "SELECT id FROM accounts WHERE name = 'acme'")
send=$(sql "SELECT max(id) FROM sends WHERE account_id = $acct")
[ -n "$acct" ] && [ -n "$send" ] || fail "no account or send for acme"

cat >"$T/bounce.eml" <<EOM
Return-Path: <>
X-Original-To: $addr
Delivered-To: $addr
From: MAILER-DAEMON@relay.example.com (Mail Delivery System)
To: $addr
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

<alice@example.org>: host mx.example.org[192.0.2.10] said: 550 5.1.1
    <alice@example.org>: Recipient address rejected: User unknown (in reply
    to RCPT TO command)

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.com

Final-Recipient: rfc822; alice@example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <alice@example.org>: Recipient address
    rejected: User unknown

Final-Recipient: rfc822; bob@example.org
Action: delayed
Status: 4.4.1
Diagnostic-Code: smtp; 421 4.4.1 Connection timed out

--B--
EOM
"$FBLD" ingest --config "$T/fbld.conf" <"$T/bounce.eml" ||
	fail "fbld ingest exited $?"

sed -e "s/$addr/postmaster@example.net/g" -e 's/alice@/carol@/g' \
	"$T/bounce.eml" >"$T/plain.eml"
"$FBLD" ingest --config "$T/fbld.conf" <"$T/plain.eml" ||
	fail "fbld ingest exited $?"

wait_for "[ \"\$(sql \"SELECT count(*) FROM events WHERE type IN ('bounce', 'delay')\")\" -eq 4 ]" 200 ||
	fail "events not stored: $(sql 'SELECT * FROM events')"

row=$(sql "SELECT account_id, send_id, recipient, reason, class, status
	FROM events WHERE type = 'bounce' AND recipient = 'alice@example.org'")
[ "$row" = "$acct|$send|alice@example.org|userunknown|hard|5.1.1" ] ||
	fail "bounce event: $row (want $acct|$send|alice@example.org|...)"
diag=$(sql "SELECT diagnostic FROM events WHERE recipient = 'alice@example.org'")
case $diag in *"550 5.1.1"*) ;; *) fail "diagnostic: $diag" ;; esac

row=$(sql "SELECT e.account_id, e.send_id, e.reason, r.kind, r.account_id
	FROM events e JOIN reports r ON r.id = e.report_id
	WHERE e.type = 'delay' AND e.account_id IS NOT NULL")
[ "$row" = "$acct|$send|expired|dsn|$acct" ] || fail "delay event: $row"

row=$(sql "SELECT coalesce(account_id, 'none'), reason, class FROM events
	WHERE recipient = 'carol@example.org'")
[ "$row" = "none|userunknown|hard" ] || fail "unattributed bounce: $row"
row=$(sql "SELECT count(*) FROM reports WHERE kind = 'dsn' AND account_id IS NULL")
[ "$row" = 1 ] || fail "unattributed report rows: $row"
echo "bounce event: account=$acct send=$send reason=userunknown class=hard"
