#!/bin/sh
# The tracking endpoint against a running daemon, with curl: each route,
# forged and expired tokens, a tampered click URL, GET vs POST
# unsubscribe, and the account and verdict of every event in the store.
. "$TOP/tests/lib/common.sh"

# Wide windows: the test asserts the rules, not the machine's speed.
fbld_config "[tracking]
early_window = 1h
burst_window = 60s
scanner_networks = 192.0.2.0/24"
start_fbld
B="http://127.0.0.1:$HTTP_PORT"
C="--config $T/fbld.conf"
HUMAN="Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0"

url() { # KIND ARGS...: a tracking URL from the CLI
	"$FBLD" token url "$@" $C || fail "fbld token url $*"
}
get() { # URL [CURL ARGS]: prints the status; headers in $T/h, body in $T/b
	_u=$1
	shift
	curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' "$@" "$_u"
}
header() { # NAME: the value of a response header in $T/h
	tr -d '\r' <"$T/h" | sed -n "s/^$1: //Ip" | head -n 1
}
events() { # WHERE: the number of events matching
	sql "SELECT count(*) FROM events WHERE $1"
}
metric() { # SERIES: its value on /metrics
	curl -s "$B/metrics" | awk -v s="$1" '$1 == s { print $2 }'
}
expect_events() { # WHERE N
	wait_for "[ \$(events \"$1\") -eq $2 ]" ||
		fail "events where $1: $(events "$1"), expected $2"
}

# ---- the pixel -------------------------------------------------------
OPEN=$(url open --account 7 --message 1001)
case $OPEN in "$B/o/"*.gif) ;; *) fail "open URL: $OPEN" ;; esac
[ "$(get "$OPEN" -A "$HUMAN")" = 200 ] || fail "pixel status"
printf 'GIF89a\001\000\001\000\200\001\000\000\000\000\377\377\377!\371\004\001\000\000\001\000,\000\000\000\000\001\000\001\000\000\002\002L\001\000;' >"$T/want.gif"
cmp -s "$T/b" "$T/want.gif" || fail "pixel is not the 43-byte GIF"
[ "$(header Content-Type)" = image/gif ] || fail "pixel type"
header Cache-Control | grep -q no-store || fail "pixel may be cached"
[ "$(header Pragma)" = no-cache ] || fail "no Pragma: no-cache"
expect_events "type = 'open' AND account_id = 7 AND send_id = 1001 AND
	verdict = 'human' AND machine = 0 AND reason = 'no-machine-signal'" 1
# The detail is in columns (the API shows it as a JSON object); no send
# record: no since_send_ms.
[ "$(sql "SELECT user_agent || ' ' || ip || ' ' ||
	coalesce(since_send_ms, 'none') FROM events")" = \
	"$HUMAN 127.0.0.0/24 none" ] || fail "open detail"

# Machines: HEAD, Apple's bare agent, an HTTP library; Gmail is a person.
[ "$(curl -s -o /dev/null -w '%{http_code}' -I -A "$HUMAN" "$OPEN")" = 200 ] ||
	fail "HEAD pixel"
get "$OPEN" -A "Mozilla/5.0" >/dev/null
get "$OPEN" >/dev/null # curl's own User-Agent
get "$OPEN" -A "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)" >/dev/null
get "$OPEN" -A "$HUMAN" -H "User-Agent:" >/dev/null
expect_events "reason = 'head-request' AND verdict = 'scanner' AND machine = 1" 1
expect_events "reason = 'bare-mozilla' AND verdict = 'proxy' AND machine = 1" 1
expect_events "reason = 'scanner-agent' AND verdict = 'scanner'" 1
expect_events "reason = 'gmail-image-proxy' AND verdict = 'human'" 1
expect_events "reason = 'no-user-agent' AND verdict = 'unknown'" 1

# A forged token (one character changed) and an expired one (a genuine
# MAC, dated 200 days ago): the same GIF, no event, a counter each.
TOK=${OPEN#"$B/o/"}
TOK=${TOK%.gif}
case $TOK in a*) FORGED=b${TOK#a} ;; *) FORGED=a${TOK#?} ;; esac
EXPIRED=$(python3 - "$T/var/keys/k1.key" <<'EOF'
import base64, hashlib, hmac, struct, sys, time
secret = open(sys.argv[1], "rb").read().strip()
day = int(time.time()) // 86400 - 19723 - 200
b = bytes([0x11]) + struct.pack(">I", 7) + (1001).to_bytes(5, "big") \
    + struct.pack(">H", day) + bytes(4)
mac = hmac.new(secret, b"fbtok1" + b, hashlib.sha256).digest()[:9]
print(base64.b32encode(b + mac).decode().lower())
EOF
)
"$FBLD" token verify $C "$EXPIRED" 2>/dev/null | grep -q '"error":"expired"' ||
	fail "the test's expired token is not recognised as expired"
before=$(events 1)
for t in "$FORGED" "$EXPIRED" "garbage"; do
	[ "$(get "$B/o/$t.gif" -A "$HUMAN")" = 200 ] || fail "pixel for $t"
	cmp -s "$T/b" "$T/want.gif" || fail "pixel body for $t"
done
# (The writer verifies the tokens of opens: the counters follow soon.)
wait_for "[ \"\$(metric 'fbld_tracking_bad_requests_total{type=\"open\",reason=\"forged\"}')\" = 1 ]" ||
	fail "forged pixel not counted"
wait_for "[ \"\$(metric 'fbld_tracking_bad_requests_total{type=\"open\",reason=\"expired\"}')\" = 1 ]" ||
	fail "expired pixel not counted"
[ "$(metric 'fbld_tracking_bad_requests_total{type="open",reason="malformed"}')" = 1 ] ||
	fail "malformed pixel not counted"
[ "$(events 1)" = "$before" ] || fail "a forged or expired pixel was recorded"

# ---- clicks ------------------------------------------------------------
TARGET="https://shop.example/sale?a=1&b=x+y#top"
CLICK=$(url click --account 7 --message 1002 --target "$TARGET")
[ "$(get "$CLICK" -A "$HUMAN")" = 302 ] || fail "click status"
[ "$(header Location)" = "$TARGET" ] || fail "Location: $(header Location)"
[ "$(header Referrer-Policy)" = no-referrer ] || fail "Referrer-Policy"
expect_events "type = 'click' AND send_id = 1002 AND account_id = 7 AND
	verdict = 'human' AND url = '$TARGET'" 1

# Tampered: another target under the same signature, another signature,
# a forged token. A plain 400, never a redirect.
SIGNED=${CLICK%%\?*}
for bad in "$SIGNED?u=https://evil.example/" \
	"$(echo "$SIGNED" | sed 's|/[a-z2-7]*$|/aaaaaaaaaaaaaaaa|')?${CLICK#*\?}" \
	"$B/c/$FORGED/${SIGNED##*/}?${CLICK#*\?}" \
	"$B/c/$TOK/${SIGNED##*/}?u=javascript:alert(1)"; do
	[ "$(get "$bad" -A "$HUMAN")" = 400 ] || fail "tampered click $bad"
	[ -z "$(header Location)" ] || fail "tampered click redirected"
	grep -q "not valid" "$T/b" || fail "400 page"
done
[ "$(events "type = 'click'")" -eq 1 ] || fail "tampered clicks recorded"
[ "$(metric 'fbld_tracking_bad_requests_total{type="click",reason="signature"}')" = 2 ] ||
	fail "bad signatures not counted"

# Two different links of one message within the burst window: both
# become scanner hits, the first one after the fact.
L1=$(url click --account 7 --message 1003 --target https://a.example/1)
L2=$(url click --account 7 --message 1003 --target https://a.example/2)
get "$L1" -A "$HUMAN" >/dev/null
expect_events "send_id = 1003" 1
get "$L2" -A "$HUMAN" >/dev/null
expect_events "send_id = 1003 AND verdict = 'scanner' AND reason = 'link-burst'" 2

# A send the store knows, hit at once: within the early window.
EARLY=$(url open --account acme)
get "$EARLY" -A "$HUMAN" >/dev/null
ACME=$(sql "SELECT id FROM accounts WHERE name = 'acme'")
expect_events "account_id = $ACME AND verdict = 'scanner' AND
	reason = 'early-hit' AND since_send_ms >= 0" 1

# ---- unsubscribe -------------------------------------------------------
UNSUB=$(url unsubscribe --account 7 --message 1004 --recipient Rcpt@Example.ORG)
[ "$(get "$UNSUB" -A "$HUMAN")" = 200 ] || fail "unsubscribe page"
grep -q '<form method="post">' "$T/b" || fail "no form on the page"
grep -q 'value="One-Click"' "$T/b" || fail "form without One-Click"
# GET, HEAD, and a POST without the one-click pair never unsubscribe.
curl -s -o /dev/null -I "$UNSUB"
[ "$(get "$UNSUB" -X POST -d 'foo=bar')" = 400 ] || fail "POST without One-Click"
[ "$(sql 'SELECT count(*) FROM suppressions')" = 0 ] || fail "GET unsubscribed"
[ "$(events "type = 'unsubscribe'")" = 0 ] || fail "GET recorded an unsubscribe"
# The RFC 8058 POST: committed before the answer, so no waiting here.
[ "$(get "$UNSUB" -X POST -d 'List-Unsubscribe=One-Click')" = 200 ] ||
	fail "one-click POST"
[ -z "$(header Location)" ] || fail "one-click POST redirected"
[ "$(sql "SELECT account_id || ' ' || recipient || ' ' || reason
	FROM suppressions")" = "7 rcpt@example.org unsubscribe" ] ||
	fail "no suppression after the POST"
[ "$(events "type = 'unsubscribe' AND account_id = 7 AND send_id = 1004 AND
	recipient = 'rcpt@example.org'")" = 1 ] || fail "unsubscribe event"
# Again, multipart this time: idempotent.
[ "$(get "$UNSUB" -F 'List-Unsubscribe=One-Click')" = 200 ] ||
	fail "multipart one-click POST"
[ "$(sql 'SELECT count(*) FROM suppressions')" = 1 ] || fail "suppressed twice"
# Without r=, the send's only recorded recipient is unsubscribed.
sql "INSERT INTO accounts (id, name, created_ms) VALUES (8, 'eight', 0);
	INSERT INTO sends (id, account_id, created_ms) VALUES (1005, 8, 0);
	INSERT INTO send_rcpts VALUES (1005, 'solo@example.net')"
U2=$(url unsubscribe --account 8 --message 1005)
case $U2 in *\?*) fail "unsubscribe URL without recipient has a query" ;; esac
[ "$(get "$U2" -X POST -d 'List-Unsubscribe=One-Click')" = 200 ] || fail "POST 2"
[ "$(sql "SELECT recipient FROM suppressions WHERE account_id = 8")" = \
	solo@example.net ] || fail "single recorded recipient not suppressed"
# A forged unsubscribe link: 400, nothing stored.
FORGED_UNSUB=$(echo "$UNSUB" | sed "s|/u/[a-z2-7]*/|/u/$FORGED/|")
[ "$(get "$FORGED_UNSUB" -X POST -d 'List-Unsubscribe=One-Click')" = 400 ] ||
	fail "forged unsubscribe"
[ "$(sql 'SELECT count(*) FROM suppressions')" = 2 ] || fail "forged unsubscribed"

# ---- limits and bad input ----------------------------------------------
[ "$(get "$B/nothing")" = 404 ] || fail "404"
[ "$(get "$OPEN" -X DELETE)" = 405 ] || fail "405"
long=$(python3 -c 'print("a" * 20000)')
code=$(get "$B/o/$long.gif")
case $code in 414 | 431) ;; *) fail "a 20 kB URL got $code" ;; esac
code=$(get "$OPEN" -H "X-Big: $long")
case $code in 413 | 431) ;; *) fail "a 20 kB header got $code" ;; esac
python3 -c 'print("List-Unsubscribe=One-Click&" + "x" * 100000)' >"$T/big"
[ "$(get "$UNSUB" -X POST --data-binary "@$T/big")" = 413 ] || fail "big body"
# A client that never finishes its request is cut off after [http]
# timeout (30 s here): checked in tracking_limits.sh with a short one.
curl -fsS "$B/healthz" >/dev/null || fail "daemon unhealthy after bad input"
curl -s "$B/metrics" | grep -q '^fbld_tracking_committed_total ' ||
	fail "no tracking metrics"
exit 0
