# The whole loop, from send to enforcement: messages marked by `fbld
# milter` bounce back (DSNs to their token addresses, through `fbld
# ingest`), `fbld serve` attributes the bounces, the scoring job pushes
# the account to throttle or block with reasons, and the milter refuses
# the account's next message. Then an operator pins the account to block
# (refused with 5.7.1) and clears it (accepted again), and each change is
# in the history with its source.
. "$TOP/tests/lib/common.sh"

CLIENT=$BUILD/tests/milter_client
[ -x "$CLIENT" ] || fail "missing $CLIENT"
PORT=$(free_port)
fbld_config "[token]
bounce_domain = bounce.test.invalid
[milter]
listen = inet:127.0.0.1:$PORT
[scoring]
interval = 200ms
[spool]
poll_interval = 50ms"

for a in spammer bystander; do
	"$FBLD" accounts --config "$T/fbld.conf" set "$a" auto --create --reason "test account" >/dev/null
done
start_fbld
"$FBLD" milter --config "$T/fbld.conf" >>"$T/milter.log" 2>&1 &
PIDS="$PIDS $!"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $PORT))'" ||
	fail "fbld milter did not come up"

send() { # send LOGIN RCPT OUT: one message through the milter
	printf 'From: %s@cust.test.invalid\nTo: %s\nSubject: offer\n\nBuy now.\n' "$1" "$2" |
		"$CLIENT" --from "$1@cust.test.invalid" --rcpt "$2" \
			--macro "M:{auth_authen}=$1" "inet:127.0.0.1:$PORT" >"$T/$3" 2>&1 ||
		fail "milter_client: $(cat "$T/$3")"
}

# A compromised account blasting to addresses that do not exist: each
# send is marked, and each bounces with 5.1.1 to its token address, until
# the milter stops taking its mail.
dsn() { # dsn ADDR RCPT: a Postfix-style DSN for RCPT, sent to ADDR
	cat <<EOD
X-Original-To: $1
Delivered-To: $1
From: Mail Delivery System <MAILER-DAEMON@mx.test.invalid>
To: $1
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BB"

--BB
Content-Type: text/plain

<$2>: host mx.remote.test.invalid[192.0.2.1] said: 550 5.1.1 <$2>:
    User unknown

--BB
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.test.invalid

Final-Recipient: rfc822; $2
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <$2>: User unknown

--BB--
EOD
}
SPAMMER=$(sql "SELECT id FROM accounts WHERE name = 'spammer'")
i=1
refused=""
while [ $i -le 300 ]; do
	send spammer "nobody$i@remote.test.invalid" "s$i.out"
	if grep -q '^eom replycode' "$T/s$i.out"; then
		refused=$i
		break
	fi
	addr=$(sed -n 's/^chgfrom <\([^>]*\)>.*/\1/p' "$T/s$i.out")
	[ -n "$addr" ] || fail "message $i not marked: $(cat "$T/s$i.out")"
	dsn "$addr" "nobody$i@remote.test.invalid" |
		"$FBLD" ingest --config "$T/fbld.conf" || fail "ingest $i"
	i=$((i + 1))
	sleep 0.2
done
[ -n "$refused" ] || fail "300 messages and 300 bounces later the account is still $(sql "SELECT state FROM accounts WHERE id = $SPAMMER")"
bounces=$(sql "SELECT count(*) FROM events WHERE type = 'bounce' AND account_id = $SPAMMER")
state=$(sql "SELECT state FROM accounts WHERE id = $SPAMMER")
reasons=$(sql "SELECT reasons FROM state_history WHERE account_id = $SPAMMER AND source = 'scoring' ORDER BY id DESC LIMIT 1")
echo "report: message $refused refused after $bounces attributed bounces; state $state: $reasons"
[ "$bounces" -ge $((refused - 5)) ] || fail "bounces not attributed: $bounces"
echo "$reasons" | grep -qi "bounce" || fail "reasons do not name the bounces: $reasons"
# Refused as its state says: 550 5.7.1 when blocked, 451 4.7.1 when
# throttled.
case $state in
block) grep -q '^eom replycode 550 5.7.1' "$T/s$refused.out" || fail "blocked: $(cat "$T/s$refused.out")" ;;
throttle) grep -q '^eom replycode 451 4.7.1' "$T/s$refused.out" || fail "throttled: $(cat "$T/s$refused.out")" ;;
*) fail "refused in state $state: $(cat "$T/s$refused.out")" ;;
esac
# The bystander still gets through.
send bystander friend@remote.test.invalid by.out
grep -q '^chgfrom <' "$T/by.out" || fail "bystander not marked: $(cat "$T/by.out")"
# No public [tracking] base_url and no template: no dead loopback links.
if grep -qi 'List-Unsubscribe' "$T/by.out"; then fail "List-Unsubscribe without a base_url: $(cat "$T/by.out")"; fi
if grep -q '^eom replycode' "$T/by.out"; then fail "bystander refused: $(cat "$T/by.out")"; fi

# An operator pins the bystander to block: refused at once; cleared: back.
"$FBLD" accounts --config "$T/fbld.conf" set bystander block --reason "abuse desk ticket 42" ||
	fail "accounts set"
send bystander friend2@remote.test.invalid by2.out
grep -q '^eom replycode 550 5.7.1' "$T/by2.out" || fail "pinned block not enforced: $(cat "$T/by2.out")"
"$FBLD" accounts --config "$T/fbld.conf" set bystander auto --reason "ticket closed" ||
	fail "accounts clear"
send bystander friend3@remote.test.invalid by3.out
if grep -q '^eom replycode' "$T/by3.out"; then fail "cleared account still refused: $(cat "$T/by3.out")"; fi
[ "$(sql "SELECT count(*) FROM state_history h JOIN accounts a ON a.id = h.account_id WHERE a.name = 'bystander' AND source = 'operator'")" -ge 2 ] ||
	fail "operator changes not in the history"
exit 0
