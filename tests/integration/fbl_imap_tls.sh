#!/bin/sh
# fbl_imap_tls: fbld against a Dovecot with a self-signed certificate for
# 127.0.0.1: imaps and STARTTLS work when that certificate is the
# configured trust anchor (ca_file); without it (the system's trust store)
# the connection is refused before any password is sent and the mail
# stays where it is; tls_verify = no is the explicit way around.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/fbl_dovecot.sh"

dovecot_usable || skip "dovecot-imapd not installed (or its users missing)"
command -v openssl >/dev/null || skip "openssl not installed"
MK=$BUILD/tests/fbl_mkreports
[ -x "$MK" ] || fail "$MK not built"

dovecot_setup tls
dovecot_start
mkdir -p "$T/keys" "$T/gen"
head -c 32 /dev/urandom | base64 >"$T/keys/k1.key"
KEYS="[key:k1]
slot = 1
secret_file = $T/keys/k1.key
use = sign"
"$MK" --key-file "$T/keys/k1.key" --out "$T/gen" --count 4 >/dev/null ||
	fail "fbl_mkreports failed"
count() { sql "SELECT count(*) FROM reports"; }

# run_phase NAME TLS PORT EXTRA: one mailbox section, one message appended.
run_phase() {
	fbld_config "$KEYS
[imap:$1]
host = 127.0.0.1
port = $3
tls = $2
user = fbl
password_file = $IMAP_PASSWORD_FILE
retry_max = 2s
timeout = 10s
$4"
	start_fbld
}

run_phase imaps imaps "$IMAPS_PORT" "ca_file = $DOVECOT_DIR/cert.pem"
dovecot_save INBOX <"$T/gen/000000-arf.eml"
wait_for "[ \"\$(count)\" = 1 ]" 300 || fail "imaps: nothing stored"
grep -q 'connected mailbox=imaps .*session="imaps' "$T/fbld.log" || fail "imaps: not logged"
stop_fbld
echo "imaps with ca_file: stored"

run_phase starttls starttls "$IMAP_PORT" "ca_file = $DOVECOT_DIR/cert.pem"
dovecot_save INBOX <"$T/gen/000001-arf.eml"
wait_for "[ \"\$(count)\" = 2 ]" 300 || fail "starttls: nothing stored"
grep -q 'connected mailbox=starttls .*session="starttls' "$T/fbld.log" ||
	fail "starttls: not logged"
stop_fbld
echo "STARTTLS with ca_file: stored"

: >"$T/fbld.log"
run_phase untrusted imaps "$IMAPS_PORT" ""
dovecot_save INBOX <"$T/gen/000002-arf.eml"
wait_for "grep -q 'mailbox=untrusted: TLS: certificate of 127.0.0.1 not trusted' '$T/fbld.log'" 300 ||
	fail "an untrusted certificate was not refused"
stop_fbld
[ "$(count)" = 2 ] && [ "$(dovecot_count INBOX)" = 1 ] ||
	fail "untrusted: $(count) stored, INBOX $(dovecot_count INBOX)"
grep -q 'Login: user=<fbl>' "$DOVECOT_DIR/dovecot.log" || fail "no logins at all?"
[ "$(grep -c 'Login: user=<fbl>' "$DOVECOT_DIR/dovecot.log")" = 2 ] ||
	fail "fbld logged in over an untrusted connection"
echo "system trust store: refused ($(grep -o 'TLS: certificate.*' "$T/fbld.log" | head -n 1))"

run_phase noverify imaps "$IMAPS_PORT" "tls_verify = no"
wait_for "[ \"\$(count)\" = 3 ] && [ \"\$(dovecot_count INBOX)\" = 0 ]" 300 ||
	fail "tls_verify = no: not stored"
stop_fbld
echo "tls_verify = no: stored"

# A certificate that is trusted but names another host.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	-keyout "$DOVECOT_DIR/key.pem" -out "$DOVECOT_DIR/cert.pem" \
	-subj "/CN=other.example" -addext "subjectAltName=DNS:other.example" \
	>/dev/null 2>&1 || fail "openssl could not make a certificate"
dovecot_kill
dovecot_start
dovecot_save INBOX <"$T/gen/000003-arf.eml"
: >"$T/fbld.log"
run_phase othername imaps "$IMAPS_PORT" "ca_file = $DOVECOT_DIR/cert.pem"
wait_for "grep -q 'mailbox=othername: TLS: certificate of 127.0.0.1 not trusted' '$T/fbld.log'" 300 ||
	fail "a certificate for another host name was not refused"
stop_fbld
[ "$(count)" = 3 ] || fail "othername: $(count) stored"
echo "trusted certificate for another name: refused ($(grep -o 'TLS: certificate.*' "$T/fbld.log" | head -n 1))"
