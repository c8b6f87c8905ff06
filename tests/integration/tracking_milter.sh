#!/bin/sh
# The loop from send to engagement: the milter (without [milter] URL
# templates) marks a message with fbld's own signed tracking URLs, and the
# running endpoint accepts them: the pixel records an open of that send,
# the click redirects to the original link, the one-click unsubscribe
# suppresses the recipient the milter recorded.
. "$TOP/tests/lib/common.sh"

CLIENT=$BUILD/tests/milter_client
[ -x "$CLIENT" ] || skip "needs tests/lib/milter_client"
MPORT=$(free_port)
fbld_config "[token]
bounce_domain = bounce.test.invalid
[milter]
listen = inet:127.0.0.1:$MPORT"
B="http://127.0.0.1:$HTTP_PORT"
printf '[tracking]\nbase_url = %s\n' "$B" >>"$T/fbld.conf"

"$FBLD" accounts --config "$T/fbld.conf" set tracker auto --create --reason "test account" >/dev/null ||
	fail "cannot create the account"
sql "UPDATE accounts SET options = '{\"track_opens\": true, \"track_clicks\": true}' WHERE name = 'tracker'"
start_fbld
"$FBLD" milter --config "$T/fbld.conf" >>"$T/milter.log" 2>&1 &
PIDS="$PIDS $!"
wait_for "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", $MPORT))'" ||
	fail "fbld milter did not come up"

printf '%s' 'From: shop@tracker.test.invalid
To: rcpt@remote.test.invalid
Subject: news
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<html><body><p>Sale: <a href="https://shop.example/sale?a=1&amp;b=2">here</a></p></body></html>
' | "$CLIENT" --from shop@tracker.test.invalid --rcpt rcpt@remote.test.invalid \
	--macro 'M:{auth_authen}=tracker' --body-out "$T/body.html" \
	"inet:127.0.0.1:$MPORT" >"$T/client.out" 2>&1 ||
	fail "milter_client: $(cat "$T/client.out")"
grep -q '^eom continue$' "$T/client.out" || fail "not marked: $(cat "$T/client.out")"

# The one-click unsubscribe header, signed, and the body's URLs.
UNSUB=$(sed -n "s|^[a-z]*header.*List-Unsubscribe: <\($B/u/[^>]*\)>.*|\1|p" "$T/client.out")
[ -n "$UNSUB" ] || fail "no signed List-Unsubscribe: $(cat "$T/client.out")"
# (No List-Unsubscribe-Post here: RFC 8058 wants an https URL.)
[ -s "$T/body.html" ] || fail "the body was not rewritten: $(cat "$T/client.out")"
OPEN=$(grep -o "$B/o/[a-z2-7]*\.gif" "$T/body.html" | head -n 1)
CLICK=$(grep -o "$B/c/[^\"']*" "$T/body.html" | head -n 1 | sed 's/&amp;/\&/g')
[ -n "$OPEN" ] || fail "no pixel in the body: $(cat "$T/body.html")"
[ -n "$CLICK" ] || fail "no click URL in the body: $(cat "$T/body.html")"

TOK=$(sed -n 's/^addheader X-Fbld-Ref: //p' "$T/client.out")
SEND=$(sql "SELECT id FROM sends WHERE token = '$TOK'")
[ -n "$SEND" ] || fail "no send recorded for token $TOK"
case $OPEN in *"/o/$TOK.gif") ;; *) fail "the pixel is not the message's" ;; esac
curl -s -o /dev/null -A "Mozilla/5.0 (X11) Thunderbird/115" "$OPEN"
loc=$(curl -s -o /dev/null -w '%{redirect_url}' -A "Mozilla/5.0 (X11) Firefox/120" "$CLICK")
[ "$loc" = "https://shop.example/sale?a=1&b=2" ] || fail "click led to '$loc'"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
	-d List-Unsubscribe=One-Click "$UNSUB")" = 200 ] || fail "unsubscribe POST"
wait_for "[ \$(sql \"SELECT count(*) FROM events WHERE send_id = $SEND AND type IN ('open', 'click')\") -eq 2 ]" ||
	fail "the open and click of send $SEND were not recorded"
[ "$(sql "SELECT recipient FROM suppressions")" = rcpt@remote.test.invalid ] ||
	fail "the recipient was not suppressed"
exit 0
