#!/bin/sh
# `fbld replay` on a small fixed stream: the compromised account is
# throttled early with readable reasons, the ordinary mailbox and the
# small newsletter with two complaints are left alone, operator overrides
# and their expiry come out with their source, output is deterministic,
# malformed input is refused with its line number. Then the population
# simulator of bench/scoring_sim.sh is deterministic for a seed and its
# events replay.
. "$TOP/tests/lib/common.sh"

python3 - >"$T/in.jsonl" <<'EOF_PY'
import json
T0 = 1767571200000  # 2026-01-05
H, D = 3600000, 86400000
ev = []
def add(ts, **kw):
    kw["ts"] = ts
    ev.append((ts, len(ev), kw))
# mailbox: 20 messages a day to 30 correspondents for two weeks
for d in range(14):
    for i in range(20):
        add(T0 + d * D + 9 * H + i * 600000, type="sent", account="mailbox",
            message="mb%d-%d" % (d, i), recipient="friend%d@example.org" % (i % 30))
# newsletter: 300 subscribers, two complaints hours later
for i in range(300):
    m = "nl%d" % i
    add(T0 + 3 * D + 10 * H + i * 1000, type="sent", account="newsletter",
        message=m, recipient="sub%d@%s" % (i, "yahoo.com" if i % 2 else "gmail.com"),
        fingerprint="issue-1", tracked=True)
    if i % 7 == 0:
        add(T0 + 3 * D + 12 * H + i * 1000, type="open", account="newsletter",
            message=m, machine=False)
for i in (11, 201):
    add(T0 + 3 * D + 15 * H + i, type="complaint", account="newsletter",
        message="nl%d" % i)
# shop: a week of orders, then a blast to never-mailed addresses, a fifth
# of them unknown
for d in range(7):
    for i in range(10):
        add(T0 + d * D + 8 * H + i * 1800000, type="sent", account="shop",
            message="o%d-%d" % (d, i), recipient="cust%d@example.net" % (d * 10 + i))
for i in range(1500):
    ts = T0 + 10 * D + i * 2000
    m = "b%d" % i
    add(ts, type="sent", account="shop", message=m,
        recipient="x%d@%s" % (i, "hotmail.com" if i % 3 == 0 else "d%d.example" % i),
        fingerprint="spam-1")
    if i % 5 == 0:
        add(ts + 4000, type="bounce", account="shop", message=m,
            reason="userunknown", class_="hard")
    if i % 3 == 0 and i % 40 == 3:
        add(ts + 3 * H, type="complaint", account="shop", message=m)
# the operator pins the shop to ok for two hours
add(T0 + 11 * D, type="override", account="shop", state="ok",
    until=T0 + 11 * D + 2 * H, reason="customer says it was a mistake")
add(T0 + 11 * D + 3 * H, type="sent", account="mailbox", message="late",
    recipient="friend1@example.org")
for _, _, kw in sorted(ev, key=lambda x: (x[0], x[1])):
    if "class_" in kw:
        kw["class"] = kw.pop("class_")
    print(json.dumps(kw))
EOF_PY

"$FBLD" replay "$T/in.jsonl" >"$T/out1.jsonl" 2>"$T/err.log" ||
	fail "replay failed: $(cat "$T/err.log")"
"$FBLD" replay - <"$T/in.jsonl" >"$T/out2.jsonl" || fail "replay from stdin"
cmp -s "$T/out1.jsonl" "$T/out2.jsonl" || fail "two runs differ"

python3 - "$T/out1.jsonl" <<'EOF_PY' || fail "output: $(cat "$T/out1.jsonl")"
import json, sys
T0 = 1767571200000
D = 86400000
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines, "no state changes"
last = 0
for l in lines:
    assert set(l) >= {"ts", "account", "from", "to", "reasons", "sent"}, l
    assert l["from"] != l["to"], l
    assert l["ts"] >= last, "not in time order"
    last = l["ts"]
    assert all(isinstance(r, str) and r for r in l["reasons"]), l
    assert l["source"] in ("scoring", "operator", "expiry"), l
accounts = {l["account"] for l in lines}
assert "mailbox" not in accounts, "the mailbox was flagged"
assert "newsletter" not in accounts, "the newsletter with 2 complaints was flagged"
shop = [l for l in lines if l["account"] == "shop"]
first = next(l for l in shop if l["to"] in ("throttle", "block"))
before = 70  # the week of orders
assert first["sent"] - before < 200, first["sent"]
assert first["ts"] - (T0 + 10 * D) < 10 * 60000, "not within minutes"
text = " ".join(first["reasons"])
assert "hard bounces (user unknown, bad domain)" in text, text
assert "95% interval" in text and "population median" in text, text
op = [l for l in shop if l["source"] == "operator"]
assert len(op) == 1 and op[0]["to"] == "ok", op
assert op[0]["reasons"] == ["customer says it was a mistake"], op
exp = [l for l in shop if l["source"] == "expiry"]
assert len(exp) == 1 and exp[0]["from"] == "ok", exp
assert exp[0]["to"] in ("throttle", "block"), exp
assert "expired" in exp[0]["reasons"][0], exp
EOF_PY

# Malformed input: refused with the line number.
head -n 5 "$T/in.jsonl" >"$T/bad.jsonl"
echo '{"ts": 1767571300000, "type": "sent", "account": ' >>"$T/bad.jsonl"
if "$FBLD" replay "$T/bad.jsonl" >/dev/null 2>"$T/err.log"; then
	fail "malformed JSON accepted"
fi
grep -q 'bad.jsonl:6: not JSON' "$T/err.log" || fail "error: $(cat "$T/err.log")"
printf '%s\n' '{"ts": 20, "type": "sent", "account": "a"}' \
	'{"ts": 10, "type": "sent", "account": "a"}' >"$T/back.jsonl"
if "$FBLD" replay "$T/back.jsonl" >/dev/null 2>"$T/err.log"; then
	fail "time going backwards accepted"
fi
grep -q 'back.jsonl:2: "ts" 10 goes back in time' "$T/err.log" ||
	fail "error: $(cat "$T/err.log")"
echo '{"ts": 1, "type": "sent", "account": "a", "machine": "yes"}' >"$T/type.jsonl"
if "$FBLD" replay "$T/type.jsonl" >/dev/null 2>"$T/err.log"; then
	fail "wrong type accepted"
fi
grep -q 'type.jsonl:1: "machine" must be true or false' "$T/err.log" ||
	fail "error: $(cat "$T/err.log")"

# Configuration: [scoring] keys are read and checked.
cat >"$T/strict.conf" <<EOC
[scoring]
throttle = 50
block = 60
EOC
"$FBLD" replay --config "$T/strict.conf" "$T/in.jsonl" >"$T/strict.jsonl" ||
	fail "replay with a configuration"
grep -q '"to":"throttle"' "$T/strict.jsonl" && fail "throttle = 50 ignored"
grep -q '"to":"watch"' "$T/strict.jsonl" || fail "no watch with throttle = 50"
cat >"$T/bad.conf" <<EOC
[scoring]
bounce_h0 = 140%
complaint_delay = 4 hours
tracking = sometimes
EOC
if "$FBLD" replay --config "$T/bad.conf" "$T/in.jsonl" >/dev/null 2>"$T/err.log"; then
	fail "bad configuration accepted"
fi
grep -q '\[scoring\] bounce_h0: "140%" is not a rate' "$T/err.log" &&
	grep -q '\[scoring\] complaint_delay: "4 hours"' "$T/err.log" &&
	grep -q '\[scoring\] tracking' "$T/err.log" ||
	fail "configuration errors: $(cat "$T/err.log")"

# The simulator: deterministic for a seed; its events replay.
SIM=$BUILD/tests/scoring_sim
[ -x "$SIM" ] || fail "no $SIM"
"$SIM" gen --seed 3 --scale 0.02 --days 28 "$T/s1.jsonl" "$T/t1.jsonl" 2>/dev/null ||
	fail "simulator failed"
"$SIM" gen --seed 3 --scale 0.02 --days 28 "$T/s2.jsonl" "$T/t2.jsonl" 2>/dev/null ||
	fail "simulator failed"
cmp -s "$T/s1.jsonl" "$T/s2.jsonl" && cmp -s "$T/t1.jsonl" "$T/t2.jsonl" ||
	fail "the simulator is not deterministic"
"$FBLD" replay "$T/s1.jsonl" >"$T/c1.jsonl" || fail "replaying the simulation"
# (A population this small says nothing about the targets: only that the
# evaluation runs.)
rc=0
"$SIM" eval "$T/t1.jsonl" "$T/c1.jsonl" >"$T/eval.txt" || rc=$?
[ "$rc" -le 1 ] && grep -q '^Targets' "$T/eval.txt" ||
	fail "eval (exit $rc): $(cat "$T/eval.txt")"
echo ok
