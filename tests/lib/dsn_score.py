#!/usr/bin/env python3
"""dsn_score.py FBLD CORPUS [--min-reason P --min-class P --min-rcpt P
--min-status P] [--quiet]

Runs `fbld parse` over every file of CORPUS/expected.tsv (Sisimai's public
corpus) and compares, row by row, the reason, the hard/soft class, the
recipient (case-insensitive) and the RFC 3463 status (only where the
expected code is a real one: Sisimai writes X.0.9NN when the message has
none). A row is paired with the recipient of the same address, else with
the one at the same index. Prints the four agreement figures and every
disagreement; exits 1 when a figure is below its minimum (percent).

ARF rows (arf-*.eml) belong to the complaint parser: when this build has
none (every ARF sample comes out not-feedback), they are left out and the
output says so.
"""
import argparse
import csv
import json
import os
import re
import subprocess
import sys

PSEUDO = re.compile(r"^[245]\.0\.9\d\d$")


def load_expected(corpus):
    rows = []
    with open(os.path.join(corpus, "expected.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            row["index"] = int(row["index"])
            # One row names its file with the upstream repository's
            # prefix ("set-of-emails/maildir/..."): the file is the same.
            if not os.path.exists(os.path.join(corpus, row["file"])):
                k = row["file"].find("maildir/")
                if k > 0:
                    row["file"] = row["file"][k:]
            rows.append(row)
    return rows


def run_parse(fbld, corpus, files):
    out = {}
    step = 200
    for i in range(0, len(files), step):
        chunk = files[i:i + step]
        p = subprocess.run([fbld, "parse"] + chunk, cwd=corpus,
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
            sys.exit("fbld parse failed with status %d" % p.returncode)
        lines = p.stdout.splitlines()
        if len(lines) != len(chunk):
            sys.exit("fbld parse printed %d lines for %d files"
                     % (len(lines), len(chunk)))
        for f, line in zip(chunk, lines):
            obj = json.loads(line)
            if obj.get("file") != f:
                sys.exit("line for %s names %s" % (f, obj.get("file")))
            out[f] = obj
    return out


def pick(got, row):
    rcpts = got.get("recipients") or []
    want = (row["recipient"] or "").lower()
    for r in rcpts:
        if (r.get("recipient") or "").lower() == want:
            return r
    if row["index"] - 1 < len(rcpts):
        return rcpts[row["index"] - 1]
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fbld")
    ap.add_argument("corpus")
    ap.add_argument("--min-reason", type=float, default=0)
    ap.add_argument("--min-class", type=float, default=0)
    ap.add_argument("--min-rcpt", type=float, default=0)
    ap.add_argument("--min-status", type=float, default=0)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()

    rows = load_expected(a.corpus)
    files = sorted({r["file"] for r in rows})
    got = run_parse(os.path.abspath(a.fbld), a.corpus, files)

    arf_files = [f for f in files if os.path.basename(f).startswith("arf-")]
    no_arf = arf_files and all(got[f]["kind"] == "not-feedback"
                               for f in arf_files)
    if no_arf:
        print("note: no ARF classifier in this build: %d ARF rows left out"
              % sum(1 for r in rows if r["file"] in arf_files))
        rows = [r for r in rows if r["file"] not in arf_files]

    n = len(rows)
    ok = {"reason": 0, "class": 0, "recipient": 0, "status": 0}
    nstatus = 0
    bad = []
    for row in rows:
        r = pick(got[row["file"]], row) or {}
        diffs = []
        if r.get("reason") == row["reason"]:
            ok["reason"] += 1
        else:
            diffs.append("reason %s != %s" % (r.get("reason"), row["reason"]))
        if r.get("class") == row["class"]:
            ok["class"] += 1
        else:
            diffs.append("class %s != %s" % (r.get("class"), row["class"]))
        if (r.get("recipient") or "").lower() == row["recipient"].lower():
            ok["recipient"] += 1
        else:
            diffs.append("rcpt %s != %s" % (r.get("recipient"),
                                            row["recipient"]))
        if row["status"] and not PSEUDO.match(row["status"]):
            nstatus += 1
            if r.get("status") == row["status"]:
                ok["status"] += 1
            else:
                diffs.append("status %s != %s" % (r.get("status"),
                                                   row["status"]))
        if diffs:
            bad.append("%s#%d: %s" % (row["file"], row["index"],
                                      "; ".join(diffs)))

    def pct(k, d):
        return 100.0 * ok[k] / d if d else 100.0

    figures = [("reason", pct("reason", n), n, a.min_reason),
               ("hard/soft", pct("class", n), n, a.min_class),
               ("recipient", pct("recipient", n), n, a.min_rcpt),
               ("status", pct("status", nstatus), nstatus, a.min_status)]
    if not a.quiet:
        for b in bad:
            print("disagree " + b)
    failed = False
    for name, value, count, minimum in figures:
        flag = ""
        if value < minimum:
            flag = "  BELOW %.1f%%" % minimum
            failed = True
        print("%-10s agreement %6.2f%% of %d rows%s" % (name, value, count,
                                                      flag))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
