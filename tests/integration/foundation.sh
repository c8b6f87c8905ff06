# The foundation end to end: serve answers /healthz and /metrics, a message
# handed to `fbld ingest` becomes exactly one stored report (identical
# bytes twice are stored once), an oversized one is kept truncated and
# flagged, check-config names every mistake, garbage tokens are refused
# with their reason.
. "$TOP/tests/lib/common.sh"

fbld_config "[spool]
max_message_size = 4096
poll_interval = 50ms"
start_fbld

curl -fsS "http://127.0.0.1:$HTTP_PORT/healthz" | grep -qx ok || fail "healthz"
curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" |
	grep -q '^fbld_spool_messages_total{result="stored"} 0$' || fail "metrics"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/nope")
[ "$code" = 404 ] || fail "unknown path gave $code"

printf 'From: someone@example.org\nTo: b@example.net\nSubject: t\n\nhello\n' >"$T/m1"
"$FBLD" ingest --config "$T/fbld.conf" <"$T/m1" || fail "ingest exit $?"
wait_for '[ "$(sql "SELECT count(*) FROM reports")" = 1 ]' || fail "report not stored"
id=$(sql "SELECT id FROM reports")
"$FBLD" reports --config "$T/fbld.conf" --raw "$id" >"$T/m1.back"
cmp "$T/m1" "$T/m1.back" || fail "stored bytes differ"
[ "$(sql "SELECT source FROM reports")" = spool ] || fail "source"
"$FBLD" reports --config "$T/fbld.conf" | grep -q "\"id\":$id" || fail "reports list"

# The same bytes again: stored once, counted as a duplicate.
"$FBLD" ingest --config "$T/fbld.conf" <"$T/m1" || fail "second ingest"
wait_for 'curl -fsS "http://127.0.0.1:$HTTP_PORT/metrics" | grep -q "result=\"duplicate\"} 1"' ||
	fail "duplicate not counted"
[ "$(sql "SELECT count(*) FROM reports")" = 1 ] || fail "duplicate stored twice"
[ -z "$(ls "$T/var/spool/new")" ] || fail "spool not emptied"

# Over the limit: kept truncated and flagged, never refused.
python3 -c 'print("Subject: big\n"); print("x" * 9999)' >"$T/big"
"$FBLD" ingest --config "$T/fbld.conf" <"$T/big" || fail "big ingest refused"
wait_for '[ "$(sql "SELECT count(*) FROM reports WHERE truncated = 1")" = 1 ]' ||
	fail "truncated report not stored"
[ "$(sql "SELECT size || ' ' || orig_size FROM reports WHERE truncated = 1")" = "4096 10014" ] ||
	fail "sizes: $(sql "SELECT size, orig_size FROM reports WHERE truncated = 1")"

# check-config reports every mistake as file: [section] key: reason.
cat >"$T/bad.conf" <<EOC
[http]
listen = nowhere
threads = 0
[spool]
max_message_size = lots
[nosuch]
x = 1
EOC
if "$FBLD" check-config "$T/bad.conf" >"$T/cc.out" 2>&1; then fail "bad config accepted"; fi
grep -q "^$T/bad.conf: \[http\] listen: \"nowhere\" is not ADDRESS:PORT$" "$T/cc.out" || fail "listen: $(cat "$T/cc.out")"
grep -q "^$T/bad.conf: \[http\] threads: 0 is out of range" "$T/cc.out" || fail "threads"
grep -q "^$T/bad.conf: \[spool\] max_message_size: \"lots\" is not a size" "$T/cc.out" || fail "size"
grep -q "^$T/bad.conf: \[nosuch\]: unknown section$" "$T/cc.out" || fail "section"
"$FBLD" check-config "$T/fbld.conf" | grep -q ": ok$" || fail "good config refused"

# Tokens: a minted address verifies, garbage is refused with its reason.
addr=$("$FBLD" token mint --config "$T/fbld.conf" --account acme --recipient r@example.net)
"$FBLD" token verify --config "$T/fbld.conf" "$addr" | grep -q '"valid":true' || fail "mint/verify"
[ "$(sql "SELECT count(*) FROM sends")" = 1 ] || fail "mint did not reserve a send"
for bad in 'bzzzz@x' 'b0000000000000000000000000000000000000000@x' "$(echo "$addr" | sed 's/^\(..\)./\1a/;s/^\(..\)aa/\1ba/')"; do
	if "$FBLD" token verify --config "$T/fbld.conf" "$bad" >"$T/v.out" 2>/dev/null; then
		fail "garbage token $bad accepted"
	fi
	grep -q '"valid":false,"error":"[a-z-]*","reason":' "$T/v.out" || fail "no reason for $bad: $(cat "$T/v.out")"
done

stop_fbld TERM
grep -q "serve: stopped" "$T/fbld.log" || fail "no clean stop"
