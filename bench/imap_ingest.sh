#!/bin/sh
# bench/imap_ingest.sh [N]: end-to-end IMAP intake speed. Fills a private
# Dovecot mailbox (127.0.0.1, started here) with N (default 5000) complaint
# reports carrying valid tokens, then runs `fbld serve` until every report
# is stored, classified, attributed and moved to the processed folder, and
# prints reports per second.
#
# Two yardsticks, printed beside it: the issue's bar (500 reports/s;
# parsedmarc users report well under 1/s on large mailboxes, issue #584),
# and the same Dovecot read by a bare client that only fetches (Python's
# imaplib, BODY.PEEK[] in batches of 200: no parsing, no store, no moves),
# the most any IMAP consumer could get out of this server here.
#
# Run from the repository root after `make`: sh bench/imap_ingest.sh
set -eu
N=${1:-5000}
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
make --no-print-directory all build/release/tests/fbl_mkreports >/dev/null
FBLD=$TOP/build/release/fbld
MK=$TOP/build/release/tests/fbl_mkreports
TESTS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fbld-bench.XXXXXX")
export FBLD TESTS_TMP
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/fbl_dovecot.sh"
at_exit "rm -rf '$TESTS_TMP'"
dovecot_usable || skip "dovecot-imapd not installed"

dovecot_setup
mkdir -p "$T/keys" "$T/gen"
head -c 32 /dev/urandom | base64 >"$T/keys/k1.key"
"$MK" --key-file "$T/keys/k1.key" --out "$T/gen" --count "$N" --accounts 50 \
	>/dev/null
dovecot_drop "$T/gen"
dovecot_start
# Let Dovecot index the new mail before anything is timed.
[ "$(dovecot_count INBOX)" = "$N" ] || fail "INBOX holds $(dovecot_count INBOX)"
bytes=$(du -sb "$MAILDIR/cur" "$MAILDIR/new" | awk '{s += $1} END {print s}')
echo "mailbox: $N reports, $((bytes / 1024)) KiB, Dovecot $(dovecot --version | cut -d' ' -f1) on 127.0.0.1:$IMAP_PORT"

fetch=$(python3 - "$IMAP_PORT" "$(cat "$IMAP_PASSWORD_FILE")" "$N" <<'EOF'
import imaplib, sys, time
port, password, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
t0 = time.monotonic()
m = imaplib.IMAP4("127.0.0.1", port)
m.login("fbl", password)
m.select("INBOX", readonly=True)
typ, data = m.uid("SEARCH", None, "ALL")
uids = data[0].split()
got = 0
for i in range(0, len(uids), 200):
    typ, data = m.uid("FETCH", b",".join(uids[i:i + 200]), "(BODY.PEEK[])")
    got += sum(1 for d in data if isinstance(d, tuple))
m.logout()
dt = time.monotonic() - t0
print("%d %.3f" % (got, dt))
EOF
)
set -- $fetch
[ "$1" = "$N" ] || fail "imaplib fetched $1 of $N"
fetch_rate=$(echo "$N $2" | awk '{printf "%.0f", $1 / $2}')
echo "bare IMAP fetch (python3 imaplib, no parsing, no store): $N in $2 s = $fetch_rate messages/s"

fbld_config "[log]
level = info
[key:k1]
slot = 1
secret_file = $T/keys/k1.key
use = sign
$(fbl_imap_section bench)"
t0=$(date +%s%N)
start_fbld
while [ "$(sql 'SELECT count(*) FROM reports')" -lt "$N" ] ||
	[ "$(dovecot_count INBOX)" != 0 ]; do
	sleep 0.05
done
t1=$(date +%s%N)
stop_fbld
events=$(sql "SELECT count(*) FROM events WHERE type = 'complaint' AND account_id IS NOT NULL")
[ "$events" = "$N" ] || fail "$events attributed complaints, not $N"
[ "$(dovecot_count Processed)" = "$N" ] || fail "Processed holds $(dovecot_count Processed)"
ms=$(((t1 - t0) / 1000000))
rate=$(echo "$N $ms" | awk '{printf "%.0f", $1 * 1000 / $2}')
# The same from fbld's own log: first login to last batch.
log_s=$(awk '/imap: connected/ && !a {a = $1} /imap: batch/ {b = $1} END {print a, b}' "$T/fbld.log" |
	python3 -c 'import sys, datetime as d
a, b = sys.stdin.read().split()
f = lambda s: d.datetime.fromisoformat(s.rstrip("Z"))
print("%.3f" % (f(b) - f(a)).total_seconds())')
echo "fbld serve: $N reports fetched, parsed, stored ($events complaint events attributed), moved: $ms ms from start = $rate reports/s ($(echo "$N $log_s" | awk '{printf "%.0f", $1 / $2}')/s from login to last commit)"
echo "ratio to the 500/s bar: $(echo "$rate" | awk '{printf "%.1f", $1 / 500}'); to the bare fetch: $(echo "$rate $fetch_rate" | awk '{printf "%.2f", $1 / $2}')"
