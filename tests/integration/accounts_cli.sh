#!/bin/sh
# `fbld accounts` and `fbld report` for people and scripts, without a
# daemon: aligned text, valid JSON, the override's life cycle (pin with an
# expiry, pin again, release), and clear errors with exit status 2 for
# what a person mistypes.
. "$TOP/tests/lib/common.sh"
command -v python3 >/dev/null || skip "python3 is missing"
fbld_config ""
run() { "$FBLD" "$@" --config "$T/fbld.conf"; }
must_fail() { # STATUS MESSAGE COMMAND...
	want=$1 msg=$2
	shift 2
	set +e
	run "$@" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	[ "$rc" = "$want" ] || fail "$*: exit $rc, expected $want"
	grep -q "$msg" "$T/err" || fail "$*: no \"$msg\" in: $(cat "$T/err")"
}

run accounts list >"$T/out" || fail "list on an empty store"
grep -qx "no accounts" "$T/out" || fail "empty list: $(cat "$T/out")"
must_fail 2 "no account \"acme\" (--create makes it)" \
	accounts set acme block --reason x
run accounts set acme block --reason "phishing kit" --until 2h --create \
	>"$T/out" || fail "set"
grep -q "^acme: state changed, alerts queued" "$T/out" || fail "set output"
grep -q "  state     block since .* (pinned by an operator; scored state ok)" \
	"$T/out" || fail "show after set"
grep -q "  override  until .*: phishing kit" "$T/out" || fail "override line"
run accounts set globex watch --reason "new" --create >/dev/null
run accounts set acme block --reason "still bad" >"$T/out"
grep -q "^acme: override recorded, state unchanged" "$T/out" ||
	fail "pinning the same state"

run accounts list >"$T/out"
python3 - "$T/out" <<'PY' || fail "list layout: $(cat "$T/out")"
import sys
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].split()[:4] == ["ACCOUNT", "ID", "STATE", "SINCE"], lines
assert [l.split()[0] for l in lines[1:]] == ["acme", "globex"], "severity order"
col = lines[0].index("STATE")
assert [l[col:].split()[0] for l in lines[1:]] == ["block", "watch"], lines
assert not any(l != l.rstrip() for l in lines), "trailing blanks"
PY
run accounts list --state block --json >"$T/out.json"
python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
assert j["count"] == 1 and j["accounts"][0]["name"] == "acme", j
o = j["accounts"][0]["override"]
assert o["reason"] == "still bad" and o["until_ms"] is None, o' "$T/out.json" ||
	fail "list --json"
run accounts show acme --json --rows 1 >"$T/out.json"
python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
assert len(j["history"]) == 1 and j["history"][0]["reasons"] == ["still bad"]
assert set(j["traffic"]) == {"1h", "24h", "7d", "30d"}' "$T/out.json" ||
	fail "show --json"
run accounts set acme auto --reason "released" >"$T/out"
grep -q "  state     ok since" "$T/out" || fail "release: $(cat "$T/out")"

# Mistakes.
must_fail 2 "STATE: ok, watch, throttle, block, or auto" \
	accounts set acme banned --reason x
must_fail 2 "reason is required" accounts set acme block
must_fail 2 "is in the past" accounts set acme block --reason x \
	--until 2001-01-01
must_fail 2 "neither a duration" accounts set acme block --reason x \
	--until tomorrow
must_fail 2 "no account \"nobody\"" accounts show nobody
must_fail 2 "usage: fbld accounts list" accounts frobnicate
must_fail 2 "state: ok, watch, throttle, block or not-ok" \
	accounts list --state bad
must_fail 2 "neither a duration" report --since yesterday

run report --since 1h >"$T/out" || fail "report"
grep -q "^State changes (4)" "$T/out" || fail "report: $(cat "$T/out")"
grep -q "^  .*  acme  block -> ok  (operator)" "$T/out" ||
	fail "report: the release"
run report --json >"$T/out.json"
python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
assert [t["to"] for t in j["transitions"]] == ["ok", "block", "watch", "block"]
assert [a["name"] for a in j["not_ok"]] == ["globex"]' "$T/out.json" ||
	fail "report --json"
exit 0
