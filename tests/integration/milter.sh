#!/bin/sh
# fbld milter without an MTA: the miltertest scripts in tests/milter/ check
# headers and replies; tests/lib/milter_client checks what miltertest
# cannot see (the envelope sender change, the local-submission path) and
# what was recorded. A second milter whose store cannot be opened shows
# the fail-open path, logged and counted.
. "$TOP/tests/lib/common.sh"

command -v miltertest >/dev/null 2>&1 || skip "needs miltertest"
CLIENT=$BUILD/tests/milter_client
[ -x "$CLIENT" ] || fail "missing $CLIENT"

PORT=$(free_port)
fbld_config "[token]
bounce_domain = bounce.test.invalid
[milter]
listen = inet:127.0.0.1:$PORT
local_sender = yes
check_at_mail = yes
unsubscribe_url = https://t.test.invalid/u/{token}
click_url = https://t.test.invalid/c/{token}?u={url}
open_url = https://t.test.invalid/o/{token}.gif
stats_file = $T/var/milter.prom
stats_interval = 100ms
[sender-domain:blocked.test.invalid]
account = blockedco
[sender-domain:slow.test.invalid]
account = slowco
[sender-domain:shop.test.invalid]
account = shop"

# The accounts the scripts use, and their states.
for a in alice blocked blockedco slowco tracker shop; do
	"$FBLD" accounts --config "$T/fbld.conf" set "$a" auto --create --reason "test account" >/dev/null ||
		fail "cannot create account $a"
done
sql "UPDATE accounts SET state = 'block' WHERE name IN ('blocked', 'blockedco')"
sql "UPDATE accounts SET state = 'throttle' WHERE name = 'slowco'"
sql "UPDATE accounts SET options = '{\"track_opens\": true, \"track_clicks\": true}' WHERE name = 'tracker'"
sql "INSERT INTO suppressions SELECT id, 'gone@remote.test.invalid', 'unsubscribe', 0 FROM accounts WHERE name = 'alice'"
ALICE=$(sql "SELECT id FROM accounts WHERE name = 'alice'")
SHOP=$(sql "SELECT id FROM accounts WHERE name = 'shop'")

"$FBLD" milter --config "$T/fbld.conf" >>"$T/milter.log" 2>&1 &
PIDS="$PIDS $!"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $PORT))'" ||
	fail "fbld milter did not come up"

# ---- miltertest: headers and replies -------------------------------------------

for s in "$TOP"/tests/milter/t-*.lua; do
	name=$(basename "$s" .lua)
	[ "$name" = t-fail-open ] && continue
	miltertest -D "socket=inet:$PORT@127.0.0.1" -D "dir=$TOP/tests/milter" \
		-s "$s" >"$T/$name.log" 2>&1 ||
		fail "$name (exit $?): $(cat "$T/$name.log")"
done

# ---- the envelope sender (milter_client) ----------------------------------------

MSG='From: Alice <alice@cust1.test.invalid>
To: bob@remote.test.invalid
Subject: envelope

Hello Bob.
'
client() { # client OUT ARGS...: one message through the milter
	out=$1
	shift
	printf '%s' "$MSG" | "$CLIENT" "$@" "inet:127.0.0.1:$PORT" >"$T/$out" 2>&1 ||
		fail "milter_client $*: $(cat "$T/$out")"
}
chgfrom() { # chgfrom FILE: the new envelope sender, without <>
	sed -n 's/^chgfrom <\([^>]*\)>.*/\1/p' "$T/$1"
}

client sasl.out --from alice@cust1.test.invalid --rcpt bob@remote.test.invalid \
	--macro 'M:{auth_authen}=alice'
grep -q '^eom continue$' "$T/sasl.out" || fail "not continued: $(cat "$T/sasl.out")"
rp=$(chgfrom sasl.out)
tok=${rp%@bounce.test.invalid}
tok=${tok#b}
[ "${#tok}" = 40 ] || fail "no token return path: $(cat "$T/sasl.out")"
grep -q "^chgfrom <$rp> ENVID=$tok\$" "$T/sasl.out" || fail "no ENVID"
grep -q "^addheader X-Fbld-Ref: $tok\$" "$T/sasl.out" ||
	fail "the reference header is not the token of the return path"
"$FBLD" token verify --config "$T/fbld.conf" --recipient bob@remote.test.invalid \
	"$rp" >"$T/verify.json" || fail "token does not verify"
grep -q "\"account\":\"$ALICE\"" "$T/verify.json" || fail "wrong account"
grep -q '"recipient_matches":true' "$T/verify.json" ||
	fail "single-recipient token not bound to its recipient"
[ "$(sql "SELECT identity_source || ' ' || rcpt_count FROM sends WHERE token = '$tok'")" = "sasl 1" ] ||
	fail "send not recorded"

# The client's own ENVID is kept.
client envid.out --from alice@cust1.test.invalid --from-arg ENVID=own-id \
	--rcpt bob@remote.test.invalid --macro 'M:{auth_authen}=alice'
grep -q '^chgfrom <b[a-z2-7]*@bounce.test.invalid>$' "$T/envid.out" ||
	fail "ENVID overridden: $(grep chgfrom "$T/envid.out")"

# The account's own bounce domain.
sql "UPDATE accounts SET bounce_domain = 'rp.alice.test.invalid' WHERE id = $ALICE"
client bounce.out --from alice@cust1.test.invalid --rcpt bob@remote.test.invalid \
	--macro 'M:{auth_authen}=alice'
case $(chgfrom bounce.out) in
b*@rp.alice.test.invalid) ;;
*) fail "account bounce domain not used: $(chgfrom bounce.out)" ;;
esac

# A header of 300 kB (more than libmilter takes by default; the milter
# keeps 16 kB of it) and a forged reference after it.
python3 -c 'print("From: alice@cust1.test.invalid\nX-Huge: " + "x" * 300000 +
	"\nX-Fbld-Ref: forged\nSubject: huge\n\nbody")' >"$T/huge.eml"
"$CLIENT" --from alice@cust1.test.invalid --rcpt bob@remote.test.invalid \
	--macro 'M:{auth_authen}=alice' "inet:127.0.0.1:$PORT" \
	<"$T/huge.eml" >"$T/huge.out" 2>&1 || fail "huge header: $(cat "$T/huge.out")"
grep -q '^chgheader X-Fbld-Ref 1 (delete)$' "$T/huge.out" ||
	fail "forged reference after a huge header kept"
grep -q '^eom continue$' "$T/huge.out" || fail "huge header: not continued"

# ---- the local path (as Postfix's pickup presents it) ---------------------------

MSG='From: web@shop.test.invalid
To: bob@remote.test.invalid
Subject: local

Sent by PHP.
'
client local.out --local --from web@shop.test.invalid --rcpt bob@remote.test.invalid
case $(chgfrom local.out) in
b*@bounce.test.invalid) ;;
*) fail "local submission not marked: $(cat "$T/local.out")" ;;
esac
[ "$(sql "SELECT identity_source FROM sends WHERE account_id = $SHOP AND token IS NOT NULL")" = local ] ||
	fail "local identity not recorded"
sql "UPDATE accounts SET state = 'block' WHERE id = $SHOP"
client hold.out --local --from web@shop.test.invalid --rcpt bob@remote.test.invalid
grep -q '^quarantine fbld: account shop: ' "$T/hold.out" ||
	fail "blocked local submission not held: $(cat "$T/hold.out")"
grep -q '^eom continue$' "$T/hold.out" || fail "held message refused"
sql "UPDATE accounts SET state = 'throttle' WHERE id = $SHOP"
client defer.out --local --from web@shop.test.invalid --rcpt bob@remote.test.invalid
grep -q '^eom replycode 451 4.7.1 ' "$T/defer.out" ||
	fail "throttled local submission not deferred: $(cat "$T/defer.out")"
grep -q '^chgfrom' "$T/defer.out" && fail "deferred message modified"

# Many transactions on one connection (what the benchmark measures).
sql "UPDATE accounts SET state = 'ok' WHERE id = $SHOP"
client repeat.out --local --repeat 20 --from web@shop.test.invalid \
	--rcpt bob@remote.test.invalid
grep -q '^transactions=20 median_us=[0-9]* p99_us=[0-9]*$' "$T/repeat.out" ||
	fail "repeat: $(cat "$T/repeat.out")"

wait_for "grep -q 'fbld_milter_messages_total{result=\"held\"} 1' '$T/var/milter.prom'" ||
	fail "stats file: $(cat "$T/var/milter.prom")"
grep -q 'fbld_milter_unknown_total 1' "$T/var/milter.prom" ||
	fail "unknown sender not counted"

# ---- fail-open ------------------------------------------------------------------

DOWN_PORT=$(free_port)
: >"$T/not-a-directory"
cat >"$T/down.conf" <<EOC
[fbld]
state_dir = $T/var-down
[store]
path = $T/not-a-directory/fbld.db
[milter]
listen = inet:127.0.0.1:$DOWN_PORT
stats_file = $T/var-down/milter.prom
stats_interval = 100ms
EOC
mkdir -p "$T/var-down"
"$FBLD" milter --config "$T/down.conf" >>"$T/milter-down.log" 2>&1 &
PIDS="$PIDS $!"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $DOWN_PORT))'" ||
	fail "the second fbld milter did not come up"
miltertest -D "socket=inet:$DOWN_PORT@127.0.0.1" -D "dir=$TOP/tests/milter" \
	-s "$TOP/tests/milter/t-fail-open.lua" >"$T/t-fail-open.log" 2>&1 ||
	fail "t-fail-open: $(cat "$T/t-fail-open.log")"
wait_for "grep -q '^fbld_milter_store_failures_total 1' '$T/var-down/milter.prom'" ||
	fail "store failure not counted: $(cat "$T/var-down/milter.prom")"
grep -q 'milter: unchanged .* note=store unavailable' "$T/milter-down.log" ||
	fail "store failure not logged"
echo "ok: $(ls "$TOP"/tests/milter/t-*.lua | wc -l) miltertest scripts, envelope, local path, fail-open"
