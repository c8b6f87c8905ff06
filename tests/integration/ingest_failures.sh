# `fbld ingest` on a broken machine: an unreadable configuration, a full
# disk and a read-only spool all give exit 75 (EX_TEMPFAIL, the MTA keeps
# the message and retries) and a clear message on stderr, and leave nothing
# half-written in the spool.
. "$TOP/tests/lib/common.sh"

msg='From: a@example.org

hello
'
printf '%s' "$msg" >"$T/m"

set +e
"$FBLD" ingest --config /nonexistent/fbld.conf <"$T/m" 2>"$T/err"
rc=$?
set -e
[ $rc = 75 ] || fail "unreadable config: exit $rc"
grep -q "/nonexistent/fbld.conf" "$T/err" || fail "no file named: $(cat "$T/err")"

printf '[spool]\nmax_message_size = lots\n' >"$T/bad.conf"
set +e
"$FBLD" ingest --config "$T/bad.conf" --state-dir "$T/v0" <"$T/m" 2>"$T/err"
rc=$?
set -e
[ $rc = 75 ] || fail "invalid config: exit $rc"
grep -q "\[spool\] max_message_size" "$T/err" || fail "invalid config: $(cat "$T/err")"

[ "$(id -u)" = 0 ] || skip "full disk and read-only spool need root (tmpfs mounts)"

# A full disk: a 64 KiB tmpfs and a 200 KiB message.
mkdir -p "$T/full"
mount -t tmpfs -o size=64k tmpfs "$T/full" || skip "cannot mount tmpfs here"
at_exit "umount '$T/full'"
python3 -c 'print("Subject: big\n"); print("y" * 200000)' >"$T/big"
set +e
"$FBLD" ingest --state-dir "$T/full" <"$T/big" 2>"$T/err"
rc=$?
set -e
[ $rc = 75 ] || fail "full disk: exit $rc"
grep -qi "no space left" "$T/err" || fail "full disk message: $(cat "$T/err")"
[ -z "$(ls "$T/full/spool/new")" ] || fail "full disk left a file in new/"
[ -z "$(ls "$T/full/spool/tmp")" ] || fail "full disk left a file in tmp/"
# A small message still fits afterwards: nothing leaked.
"$FBLD" ingest --state-dir "$T/full" <"$T/m" || fail "small message after full"

# A read-only spool.
mkdir -p "$T/ro"
"$FBLD" ingest --state-dir "$T/ro" <"$T/m" || fail "prepare ro"
mount -t tmpfs -o ro,size=64k tmpfs "$T/ro/spool" || skip "cannot mount ro tmpfs"
at_exit "umount '$T/ro/spool'"
set +e
"$FBLD" ingest --state-dir "$T/ro" <"$T/m" 2>"$T/err"
rc=$?
set -e
[ $rc = 75 ] || fail "read-only spool: exit $rc"
grep -qi "read-only" "$T/err" || fail "read-only message: $(cat "$T/err")"
