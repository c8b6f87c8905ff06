#!/bin/sh
# fbl_imap: fbld reading a real Dovecot mailbox (Debian dovecot-imapd,
# started here on 127.0.0.1). Reports appended to INBOX become events of
# the right accounts (by our header, by Return-Path, by the Message-ID
# recorded at send time, from a JMRP report) and DMARC records; garbage
# goes to the Failed folder and is still stored; IDLE picks up a new
# report (the poll interval is an hour, so nothing else could); a restart
# stores nothing twice; without IDLE, polling does the job.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/fbl_dovecot.sh"

dovecot_usable || skip "dovecot-imapd not installed (or its users missing)"
MK=$BUILD/tests/fbl_mkreports
[ -x "$MK" ] || fail "$MK not built"

dovecot_setup
dovecot_start
mkdir -p "$T/keys" "$T/gen" "$T/msg" "$T/more" "$T/spool"
head -c 32 /dev/urandom | base64 >"$T/keys/k1.key"
KEYS="[key:k1]
slot = 1
secret_file = $T/keys/k1.key
use = sign"
fbld_config "$KEYS
$(fbl_imap_section fbl 'poll_interval = 1h
idle_refresh = 25m')"

count() { sql "SELECT count(*) FROM reports"; }
# wait_reports N: until N reports are stored and INBOX is empty.
wait_reports() {
	wait_for "[ \"\$(count)\" = $1 ] && [ \"\$(dovecot_count INBOX)\" = 0 ]" 600 ||
		fail "expected $1 reports and an empty INBOX, have $(count) and $(dovecot_count INBOX)"
}

start_fbld
wait_for "grep -q 'imap: connected mailbox=fbl' '$T/fbld.log'" ||
	fail "fbld did not log in to Dovecot"

# What the sending side would have recorded: a send known only by its
# Message-ID, and the account owning a domain (for DMARC records).
sql "INSERT INTO accounts (id, name, created_ms) VALUES (77, 'acct-77', 0);
     INSERT INTO sends (id, account_id, created_ms, message_id)
     VALUES (9001, 77, 0, '<only-msgid-1@shop.example.com>');
     INSERT INTO account_domains (domain, account_id)
     VALUES ('shop0.example.com', 77);"

# 30 reports with valid tokens (header, Return-Path, both) and 2 garbage.
"$MK" --key-file "$T/keys/k1.key" --out "$T/gen" --count 30 --garbage 2 \
	>"$T/manifest" || fail "fbl_mkreports failed"

# A report that only quotes the original's Message-ID.
cat >"$T/msg/msgid.eml" <<'EOF'
From: feedback@fbl.example.net
To: fbl@provider.example
Subject: complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="B"

--B
Content-Type: text/plain

An abuse report.
--B
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Test/1.0
Version: 1
Original-Rcpt-To: redacted

--B
Content-Type: text/rfc822-headers

From: shop@shop0.example.com
Subject: hello
Message-ID: <only-msgid-1@shop.example.com>

--B--
EOF

# Microsoft JMRP: not multipart/report at all.
ADDR=$("$FBLD" token --config "$T/fbld.conf" mint --account 3 --message 500) ||
	fail "token mint failed"
TOK=${ADDR%@*}
TOK=${TOK#b}
cat >"$T/msg/jmrp.eml" <<EOF
From: staff@hotmail.com
To: fbl@provider.example
Subject: complaint about message from 192.0.2.55
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="J"

--J
Content-Type: message/rfc822
Content-Disposition: inline

X-HmXmrOriginalRecipient: victim@outlook.example
Return-Path: <$ADDR>
X-Fbld-Ref: $TOK
From: shop@shop3.example.com
To: victim@outlook.example
Subject: hi
Message-ID: <jmrp-1@shop.example.com>

Hello.
--J--
EOF

# A DMARC aggregate report, gzip'd, as Google sends them.
cat >"$T/report.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata><org_name>google.com</org_name>
    <email>noreply-dmarc-support@google.com</email>
    <report_id>1234567890</report_id>
    <date_range><begin>1767225600</begin><end>1767311999</end></date_range>
  </report_metadata>
  <policy_published><domain>shop0.example.com</domain><p>none</p></policy_published>
  <record><row><source_ip>192.0.2.10</source_ip><count>5</count>
    <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>
    <identifiers><header_from>shop0.example.com</header_from></identifiers></record>
  <record><row><source_ip>198.51.100.7</source_ip><count>2</count>
    <policy_evaluated><disposition>reject</disposition><dkim>fail</dkim><spf>fail</spf></policy_evaluated></row>
    <identifiers><header_from>shop0.example.com</header_from></identifiers></record>
</feedback>
EOF
{
	cat <<'EOF'
From: noreply-dmarc-support@google.com
To: dmarc@provider.example
Subject: Report domain: shop0.example.com Submitter: google.com Report-ID: <1234567890>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="D"

--D
Content-Type: text/plain

This is an aggregate report from google.com.
--D
Content-Type: application/gzip; name="google.com!shop0.example.com!1767225600!1767311999.xml.gz"
Content-Disposition: attachment; filename="google.com!shop0.example.com!1767225600!1767311999.xml.gz"
Content-Transfer-Encoding: base64

EOF
	gzip -c "$T/report.xml" | base64
	printf '\n--D--\n'
} >"$T/msg/dmarc.eml"

for f in "$T"/gen/*.eml "$T"/msg/*.eml; do
	dovecot_save INBOX <"$f" || fail "doveadm save $f failed"
done
wait_reports 35
echo "35 messages appended: stored $(count), INBOX $(dovecot_count INBOX)," \
	"Processed $(dovecot_count Processed), Failed $(dovecot_count Failed)"

[ "$(sql "SELECT count(*) FROM reports WHERE kind = 'arf'")" = 32 ] ||
	fail "expected 32 arf reports: $(sql 'SELECT kind, count(*) FROM reports GROUP BY kind')"
[ "$(sql "SELECT count(*) FROM reports WHERE kind = 'dmarc-aggregate'")" = 1 ] ||
	fail "the DMARC report was not recognised"
[ "$(dovecot_count Processed)" = 33 ] || fail "Processed holds $(dovecot_count Processed), not 33"
[ "$(dovecot_count Failed)" = 2 ] || fail "Failed holds $(dovecot_count Failed), not 2"
[ "$(sql "SELECT count(*) FROM reports WHERE kind = 'not-feedback'
	AND source = 'imap:fbl' AND CAST(raw AS TEXT) LIKE 'this is not an email%'")" = 2 ] ||
	fail "the garbage messages were not stored"

# Each complaint of the manifest belongs to the account and send it names.
n=0
while IFS="$(printf '\t')" read -r file kind account serial rcpt msgid; do
	[ "$kind" = arf ] || continue
	got=$(sql "SELECT account_id || ' ' || send_id FROM events
		   WHERE type = 'complaint' AND recipient = '$rcpt'")
	[ "$got" = "$account $serial" ] ||
		fail "$file: complaint of $rcpt attributed to '$got', not '$account $serial'"
	n=$((n + 1))
done <"$T/manifest"
echo "attribution: $n token-marked complaints, each on its account and send"

got=$(sql "SELECT account_id || ' ' || send_id || ' ' || recipient FROM events
	   WHERE detail LIKE '%\"attributed_by\":\"message-id\"%'")
[ "$got" = "77 9001 redacted" ] || fail "Message-ID attribution gave '$got'"
echo "attribution by Message-ID only: $got"
got=$(sql "SELECT account_id || ' ' || send_id || ' ' || recipient FROM events
	   WHERE recipient = 'victim@outlook.example'")
[ "$got" = "3 500 victim@outlook.example" ] || fail "JMRP attribution gave '$got'"
echo "JMRP: $got"
got=$(sql "SELECT group_concat(source_ip || '/' || count || '/' || dkim || '/' ||
	   coalesce(account_id, '-'), ' ') FROM dmarc_records")
[ "$got" = "192.0.2.10/5/pass/77 198.51.100.7/2/fail/77" ] ||
	fail "DMARC records: '$got'"
echo "DMARC records: $got"

# The same classifier behind the MTA pipe: a complaint handed to
# `fbld ingest` (spool) comes out like one read from the mailbox.
"$MK" --key-file "$T/keys/k1.key" --out "$T/spool" --count 1 --first 8000 \
	--accounts 4 >"$T/spool.manifest" || fail "fbl_mkreports failed"
"$FBLD" ingest --config "$T/fbld.conf" <"$T/spool/000000-arf.eml" ||
	fail "fbld ingest failed"
wait_for "[ \"\$(sql \"SELECT count(*) FROM reports WHERE source = 'spool'\")\" = 1 ]" ||
	fail "the spooled complaint was not picked up"
got=$(sql "SELECT r.kind || ' ' || e.type || ' ' || e.account_id || ' ' || e.send_id
	   FROM reports r JOIN events e ON e.report_id = r.id WHERE r.source = 'spool'")
[ "$got" = "arf complaint 1 8000" ] || fail "spooled complaint: '$got'"
echo "spool path: the same classification ($got)"

# IDLE: one more report, with an hour between polls.
"$MK" --key-file "$T/keys/k1.key" --out "$T/more" --count 1 --first 5000 \
	>/dev/null || fail "fbl_mkreports failed"
dovecot_save INBOX <"$T/more/000000-arf.eml"
t0=$(date +%s%N)
i=0
while [ "$(count)" != 37 ] && [ $i -lt 3000 ]; do
	sleep 0.02
	i=$((i + 1))
done
t1=$(date +%s%N)
[ "$(count)" = 37 ] || fail "the report appended during IDLE was not picked up"
echo "IDLE: a report appended to INBOX was stored $(((t1 - t0) / 1000000)) ms after doveadm save returned (poll interval: 1 h)"

# Restart: a message that was stored but (as after a crash between commit
# and move) is still in INBOX is recognised and only moved; new ones are
# stored once.
stop_fbld
dovecot_save INBOX <"$T/gen/000005-arf.eml"
"$MK" --key-file "$T/keys/k1.key" --out "$T/more" --count 3 --first 6000 \
	>/dev/null || fail "fbl_mkreports failed"
for f in "$T"/more/*.eml; do dovecot_save INBOX <"$f"; done
events_before=$(sql "SELECT count(*) FROM events")
start_fbld
wait_reports 40
grep -q 'duplicates=1' "$T/fbld.log" || fail "the re-appended message was not seen as a duplicate"
[ "$(sql "SELECT count(*) FROM events")" = $((events_before + 3)) ] ||
	fail "events: $events_before before, $(sql 'SELECT count(*) FROM events') after"
[ "$(dovecot_count Processed)" = 38 ] || fail "Processed holds $(dovecot_count Processed), not 38"
echo "restart: 1 already-stored message moved without a second copy, 3 new stored"

# Without IDLE: polling.
stop_fbld
fbld_config "$KEYS
$(fbl_imap_section fbl 'idle = no
poll_interval = 300ms
max_message_size = 8k')"
start_fbld
"$MK" --key-file "$T/keys/k1.key" --out "$T/more" --count 1 --first 7000 \
	>/dev/null || fail "fbl_mkreports failed"
# A report with a 40 KB original: kept up to max_message_size, flagged.
{
	sed '$d' "$T/more/000000-arf.eml"
	i=0
	while [ $i -lt 500 ]; do
		echo "Padding line $i of a long original message, to exceed the cap."
		i=$((i + 1))
	done
	tail -n 1 "$T/more/000000-arf.eml"
} >"$T/big.eml"
dovecot_save INBOX <"$T/big.eml"
wait_reports 41
got=$(sql "SELECT kind, truncated, size, orig_size > 30000 FROM reports ORDER BY id DESC LIMIT 1")
[ "$got" = "arf|1|8192|1" ] || fail "the large report: '$got'"
echo "polling (idle = no): picked up; a 40 KB report kept as its first 8 KiB ($got)"
stop_fbld
grep -q 'imap: batch mailbox=fbl' "$T/fbld.log" || fail "no batch logged"
[ "$(sql "SELECT stored FROM mailbox_state WHERE mailbox = 'imap:fbl'")" = 40 ] ||
	fail "mailbox_state: $(sql 'SELECT * FROM mailbox_state')"
echo "ok"
