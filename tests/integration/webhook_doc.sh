#!/bin/sh
# docs/webhooks.md's worked example is right: its shell (OpenSSL) and
# Python verification code, run as printed, accept the documented
# signature for the documented secret, timestamp and body, and refuse a
# changed body or a stale timestamp. (tests/unit/test_webhook.c checks
# that fbld's signing code produces the same numbers.)
. "$TOP/tests/lib/common.sh"
command -v python3 >/dev/null || skip "python3 is missing"
command -v openssl >/dev/null || skip "openssl is missing"
DOC=$TOP/docs/webhooks.md

# example NAME: the fenced block after "<!-- example: NAME -->".
example() {
	awk -v want="<!-- example: $1 -->" '
		$0 == want { found = 1; next }
		found == 1 && /^```/ { found = 2; next }
		found == 2 && /^```/ { exit }
		found == 2 { print }' "$DOC"
}

for n in secret timestamp body signature shell python; do
	example "$n" >"$T/$n"
	[ -s "$T/$n" ] || fail "no \"$n\" example in docs/webhooks.md"
done
printf '%s' "$(cat "$T/body")" >"$T/body.json"
[ "$(wc -c <"$T/body.json")" -eq 663 ] || fail "the body is not 663 bytes"
SECRET=$(cat "$T/secret")
TS=$(cat "$T/timestamp")
SIG=$(cat "$T/signature")
grep -q "^Fbld-Signature: $SIG\$" "$DOC" || fail "the request shows another signature"
grep -q "'$SECRET'" "$T/shell" && grep -q "'%s.' $TS " "$T/shell" ||
	fail "the shell example uses other numbers"

# The shell example, as printed, in the directory holding body.json.
GOT=$(cd "$T" && sh ./shell) || fail "the shell example failed"
[ "v1=$GOT" = "$SIG" ] || fail "shell: v1=$GOT, documented $SIG"

# The Python example, as printed.
python3 - "$T/python" "$SECRET" "$TS" "$SIG" "$T/body.json" <<'PY' ||
import sys
ns = {}
exec(open(sys.argv[1]).read(), ns)
verify = ns["fbld_verify"]
secret, ts, sig = sys.argv[2].encode(), sys.argv[3], sys.argv[4]
body = open(sys.argv[5], "rb").read()
assert verify(secret, ts, sig, body, now=int(ts) + 60)
assert not verify(secret, ts, sig, body.replace(b"throttle", b"block   "),
                  now=int(ts) + 60), "a changed body must fail"
assert not verify(secret, ts, sig, body, now=int(ts) + 3600), "stale"
assert not verify(secret + b"x", ts, sig, body, now=int(ts)), "wrong secret"
PY
	fail "the Python example"
exit 0
