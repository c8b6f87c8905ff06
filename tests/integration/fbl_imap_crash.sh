#!/bin/sh
# fbl_imap_crash: 1,000 reports in a Dovecot INBOX; while fbld works through
# them, Dovecot is killed (SIGKILL, master and children) and started again.
# Afterwards every report is stored exactly once, every complaint belongs
# to its account and send, and INBOX is empty.
#
# To kill Dovecot while fbld is certainly in the middle of the batch (and
# not merely before or after it), fbld is frozen with SIGSTOP as soon as
# the first reports are stored, Dovecot is killed, and fbld thaws to find
# its connection gone; Dovecot comes back a moment later.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/fbl_dovecot.sh"

dovecot_usable || skip "dovecot-imapd not installed (or its users missing)"
MK=$BUILD/tests/fbl_mkreports
[ -x "$MK" ] || fail "$MK not built"
N=1000

dovecot_setup
mkdir -p "$T/keys" "$T/gen"
head -c 32 /dev/urandom | base64 >"$T/keys/k1.key"
fbld_config "[key:k1]
slot = 1
secret_file = $T/keys/k1.key
use = sign
$(fbl_imap_section fbl 'batch = 20
idle_refresh = 1m')"
# Into the maildir directly: 1,000 doveadm runs would take a while.
"$MK" --key-file "$T/keys/k1.key" --out "$T/gen" --count $N --accounts 7 \
	>"$T/manifest" || fail "fbl_mkreports failed"
dovecot_drop "$T/gen"
dovecot_start
[ "$(dovecot_count INBOX)" = $N ] || fail "INBOX holds $(dovecot_count INBOX), not $N"

count() { sql "SELECT count(*) FROM reports"; }
start_fbld
i=0
while [ "$(count)" -lt 40 ] && [ $i -lt 6000 ]; do
	sleep 0.01
	i=$((i + 1))
done
kill -STOP "$FBLD_PID"
at_kill=$(count)
dovecot_kill
kill -CONT "$FBLD_PID"
echo "Dovecot killed with $at_kill of $N reports stored"
[ "$at_kill" -gt 0 ] && [ "$at_kill" -lt $N ] ||
	fail "the kill did not fall inside the batch ($at_kill stored)"
# fbld meets a dead server and backs off; then Dovecot is back.
wait_for "grep -q 'imap: mailbox=fbl: .*retry in' '$T/fbld.log'" 100 ||
	fail "fbld did not notice the lost connection"
dovecot_start
wait_for "[ \"\$(count)\" -ge $N ] && [ \"\$(dovecot_count INBOX)\" = 0 ]" 1800 ||
	fail "after the restart: $(count) stored, INBOX $(dovecot_count INBOX)"
stop_fbld

stored=$(count)
events=$(sql "SELECT count(*) FROM events WHERE type = 'complaint'")
distinct=$(sql "SELECT count(DISTINCT recipient) FROM events")
processed=$(dovecot_count Processed)
echo "after the restart: $stored reports stored, $events complaint events" \
	"($distinct recipients), INBOX $(dovecot_count INBOX), Processed $processed"
grep -E 'imap: (mailbox=fbl: |connected)' "$T/fbld.log" | sed 's/^/  log: /' | head -n 8
[ "$stored" = $N ] || fail "$stored reports stored, not $N"
[ "$events" = $N ] && [ "$distinct" = $N ] || fail "$events events for $distinct recipients"
[ "$processed" -ge $N ] || fail "only $processed messages in Processed"

# Each one on the right account and send.
python3 - "$T/manifest" "$T/var/fbld.db" <<'EOF' || fail "attribution"
import sqlite3, sys
db = sqlite3.connect(sys.argv[2])
got = {r: (a, s) for r, a, s in db.execute(
    "SELECT recipient, account_id, send_id FROM events")}
bad = 0
for line in open(sys.argv[1]):
    name, kind, account, serial, rcpt, msgid = line.rstrip("\n").split("\t")
    if got.get(rcpt) != (int(account), int(serial)):
        bad += 1
print("attribution: %d of %d complaints on the wrong send" % (bad, len(got)))
sys.exit(bad != 0)
EOF
