#!/bin/sh
# dsn_corpus: fbld parse against Sisimai's public corpus.
#  - accuracy: reason, hard/soft, recipient and status agreement with
#    expected.tsv, printed, each with its minimum (95, 97, 97, 97 %);
#  - robustness: every file of maildir/{bsd,dos,mac,err,not,tmp} and
#    mailbox/ gets exactly one line, with no crash, hang or leak (make check
#    runs this under ASan, UBSan and LeakSanitizer);
#  - maildir/not comes out not-feedback;
#  - the CRLF (dos) and CR (mac) copies give the lines of their LF twins.
. "$TOP/tests/lib/common.sh"
C=$TOP/../shared/corpus/sisimai
[ -f "$C/expected.tsv" ] || skip "corpus absent: $C"
command -v python3 >/dev/null || skip "python3 missing"

rc=0
python3 "$TOP/tests/lib/dsn_score.py" "$FBLD" "$C" --min-reason 95 \
	--min-class 97 --min-rcpt 97 --min-status 97 >"$T/score.txt" || rc=$?
grep -v '^disagree' "$T/score.txt" | sed 's/^/report: /'
echo "report: disagreements: $(grep -c '^disagree' "$T/score.txt")"
[ $rc -eq 0 ] || { grep '^disagree' "$T/score.txt"; fail "accuracy below its minimum"; }

# parse DIR...: one JSON line per file, in order, within a time limit.
parse_all() {
	out=$1
	shift
	(cd "$C" && timeout 600 "$FBLD" parse "$@") >"$out" ||
		fail "fbld parse failed (status $?) on $(dirname "$1")/ ($# files)"
	[ "$(wc -l <"$out")" -eq $# ] || fail "$# files, $(wc -l <"$out") lines"
}

for d in bsd dos mac err not tmp; do
	[ -d "$C/maildir/$d" ] || continue
	files=$(cd "$C" && ls maildir/$d/*)
	# shellcheck disable=SC2086
	parse_all "$T/$d.jsonl" $files
	echo "maildir/$d: $(wc -l <"$T/$d.jsonl") files parsed"
done
if [ -d "$C/mailbox" ]; then
	files=$(cd "$C" && ls mailbox/*)
	# shellcheck disable=SC2086
	parse_all "$T/mailbox.jsonl" $files
fi

n=$(grep -c '"kind":"not-feedback"' "$T/not.jsonl" || true)
[ "$n" -eq "$(wc -l <"$T/not.jsonl")" ] ||
	fail "maildir/not: $n of $(wc -l <"$T/not.jsonl") are not-feedback"

python3 - "$T" "$C" <<'PY' || fail "line ends change the results"
import json, os, sys
t, c = sys.argv[1], sys.argv[2]
def load(name):
    out = {}
    for line in open(os.path.join(t, name)):
        o = json.loads(line)
        f = os.path.basename(o.pop("file"))
        out[f] = o
    return out
def lf(path):
    data = open(path, "rb").read()
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
base = load("bsd.jsonl")
bad = 0
for d in ("dos", "mac"):
    if not os.path.exists(os.path.join(t, d + ".jsonl")):
        continue
    other, same, skipped = load(d + ".jsonl"), 0, 0
    for f, o in other.items():
        twin = os.path.join(c, "maildir/bsd", f)
        # Some copies were re-encoded besides: only true twins count.
        if f not in base or lf(twin) != lf(os.path.join(c, "maildir", d, f)):
            skipped += 1
            continue
        same += 1
        if base[f] != o:
            print("maildir/%s/%s differs from its LF twin" % (d, f))
            bad += 1
    print("maildir/%s: %d files equal to their LF twins, %d not twins"
          % (d, same, skipped))
sys.exit(1 if bad else 0)
PY
