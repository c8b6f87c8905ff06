#!/bin/sh
# fbl_sisimai: every complaint of the Sisimai corpus (each arf-* message and
# each row of expected.tsv whose reason is "feedback") through `fbld parse`,
# compared with the feedback type and recipient Sisimai expects; and no
# other message of the corpus may come out as a complaint. Prints the
# whole comparison. Sisimai writes a redacted recipient as its placeholder
# undisclosed-recipient-in-headers@libsisimai.org.invalid; fbld writes
# null there (formats.md), and the two are taken as equal.
. "$TOP/tests/lib/common.sh"

CORPUS=$TOP/../shared/corpus/sisimai
[ -f "$CORPUS/expected.tsv" ] || skip "corpus not found at $CORPUS"
command -v python3 >/dev/null || skip "python3 not installed"

fbld_config
"$FBLD" parse --config "$T/fbld.conf" "$CORPUS"/maildir/*/*.eml \
	>"$T/parsed.jsonl" 2>"$T/parse.log" || fail "fbld parse failed"

python3 - "$CORPUS" "$T/parsed.jsonl" <<'EOF' || fail "mismatches above"
import json, os, sys
corpus, parsed = sys.argv[1], sys.argv[2]
PLACEHOLDER = "undisclosed-recipient-in-headers@libsisimai.org.invalid"
expected = {}
with open(os.path.join(corpus, "expected.tsv")) as f:
    next(f)
    for line in f:
        file, index, status, reason, klass, ftype, rcpt = \
            line.rstrip("\n").split("\t")
        if reason == "feedback" or os.path.basename(file).startswith("arf-"):
            expected.setdefault(file, []).append((int(index), ftype, rcpt))
got = {}
for line in open(parsed):
    o = json.loads(line)
    got[os.path.relpath(o["file"], corpus)] = o
bad = rows = 0
print("%-34s %2s  %-12s %-12s  %-42s %s" % ("file", "#", "expected", "got",
      "expected recipient", "got recipient"))
for file in sorted(expected):
    o = got.get(file)
    for index, ftype, rcpt in sorted(expected[file]):
        rows += 1
        if o is None:
            print("%-34s %2d  missing from the output" % (file, index))
            bad += 1
            continue
        fb = o["feedback"] or {}
        rc = o["recipients"][index - 1]["recipient"] \
            if index <= len(o["recipients"]) else "(none)"
        ok_type = o["kind"] == "arf" and fb.get("type") == ftype
        ok_rcpt = rc == rcpt or (rcpt == PLACEHOLDER and rc is None)
        ok = ok_type and ok_rcpt
        bad += not ok
        print("%-34s %2d  %-12s %-12s  %-42s %s%s" % (file, index, ftype,
              fb.get("type") if o["kind"] == "arf" else o["kind"], rcpt,
              "null" if rc is None else rc, "" if ok else "   <-- MISMATCH"))
# Every other message of the corpus (bounces, auto-replies, not-bounces,
# broken mbox splits) must not be taken for a complaint.
false_pos = [f for f, o in got.items()
             if o["kind"] == "arf" and f not in expected
             and not os.path.basename(f).startswith("arf-")]
for f in false_pos:
    print("false complaint:", f)
arf_other = [f for f, o in got.items()
             if os.path.basename(f).startswith("arf-") and f not in expected]
ok_other = [f for f in arf_other if got[f]["kind"] == "arf"]
print("%d expected complaint results, %d mismatches; %d other copies of "
      "arf-* (dos/mac line ends) parsed as arf: %d; %d messages in all, "
      "%d false complaints" % (rows, bad, len(arf_other), len(ok_other),
      len(got), len(false_pos)))
sys.exit(1 if bad or false_pos or len(ok_other) != len(arf_other) else 0)
EOF
