# The hand-over, as `fbld ingest` and as the lean `fbld-ingest` (one code
# path, core/handover.c; both are checked here): an unreadable, broken or
# wrong configuration, a full disk and a read-only spool all give exit 75
# (EX_TEMPFAIL, the MTA keeps the message and retries) and a clear message
# on stderr, and leave nothing half-written in the spool; a message over
# [spool] max_message_size is kept truncated and flagged. fbld-ingest must
# stay lean: no GMime, SQLite, curl... in its ldd list.
. "$TOP/tests/lib/common.sh"

[ -x "$FBLD_INGEST" ] || fail "no $FBLD_INGEST: make test-bins builds it"

ldd "$FBLD_INGEST" >"$T/ldd.txt" || fail "ldd $FBLD_INGEST"
grep -q 'libglib-2.0' "$T/ldd.txt" || fail "not linked with GLib? $(cat "$T/ldd.txt")"
for lib in libgmime libsqlite3 libcurl libxml2 libmicrohttpd libmilter \
	libetpan libjson-glib libgpgme libarchive libgio libgobject; do
	grep -q "$lib" "$T/ldd.txt" && fail "fbld-ingest is linked with $lib"
done
echo "report: fbld-ingest links $(grep -c '=>' "$T/ldd.txt") libraries:" \
	"$(sed -n 's/^[[:space:]]*\(lib[^ ]*\) =>.*/\1/p' "$T/ldd.txt" | tr '\n' ' ')"

msg='From: a@example.org

hello
'
printf '%s' "$msg" >"$T/m"
python3 -c 'print("Subject: big\n"); print("x" * 9999)' >"$T/big"

# ingest N ARGS...: hand-over number N: 1 is `fbld ingest`, 2 fbld-ingest.
ingest() {
	_n=$1
	shift
	if [ "$_n" = 1 ]; then "$FBLD" ingest "$@"; else "$FBLD_INGEST" "$@"; fi
}
# tempfail N WHAT PATTERN ARGS... < MESSAGE: exit 75 and PATTERN on stderr.
tempfail() {
	_n=$1 _what=$2 _pat=$3
	shift 3
	set +e
	ingest "$_n" "$@" 2>"$T/err"
	_rc=$?
	set -e
	[ $_rc = 75 ] || fail "$_what ($_n): exit $_rc: $(cat "$T/err")"
	grep -q -- "$_pat" "$T/err" || fail "$_what ($_n): $(cat "$T/err")"
}

printf '[spool]\nmax_message_size = lots\n' >"$T/bad.conf"
printf '[spool\nmax_message_size = 4k\n' >"$T/syntax.conf"
printf '[log]\nlevel = loud\n[spool]\nbatch = 0\n' >"$T/bad2.conf"
# Mistakes outside the hand-over's sections are check-config's business.
printf '[fbld]\nstate_dir = %s\n[spool]\nmax_message_size = 4096\n[log]\nlevel = warn\n[nosuch]\nx = 1\n[http]\nlisten = nowhere\ntypo = 1\n' \
	"$T/vt" >"$T/trunc.conf"

for n in 1 2; do
	tempfail $n "unreadable config" "/nonexistent/fbld.conf" \
		--config /nonexistent/fbld.conf <"$T/m"
	tempfail $n "invalid config" "$T/bad.conf: \[spool\] max_message_size: \"lots\" is not a size" \
		--config "$T/bad.conf" --state-dir "$T/v0" <"$T/m"
	tempfail $n "syntax error" "$T/syntax.conf: .*\[spool" \
		--config "$T/syntax.conf" --state-dir "$T/v0" <"$T/m"
	export FBLD_CONFIG="$T/bad2.conf"
	tempfail $n "FBLD_CONFIG" \
		"$T/bad2.conf: \[log\] level: \"loud\" is not one of" \
		--state-dir "$T/v0" <"$T/m"
	unset FBLD_CONFIG
	grep -q "\[spool\] batch: 0 is out of range" "$T/err" ||
		fail "every mistake ($n): $(cat "$T/err")"
	[ ! -d "$T/v0/spool/new" ] || [ -z "$(ls "$T/v0/spool/new")" ] ||
		fail "a bad configuration left a message ($n)"

	# Truncation: kept, cut at the limit, flagged in the name, logged.
	ingest $n --config "$T/trunc.conf" <"$T/big" 2>"$T/err" ||
		fail "big message refused ($n): $(cat "$T/err")"
	f=$(ls "$T/vt/spool/new")
	case $f in *",S=10014,T") ;; *) fail "truncated name ($n): $f" ;; esac
	[ "$(wc -c <"$T/vt/spool/new/$f")" = 4096 ] || fail "truncated size ($n)"
	head -c 4096 "$T/big" | cmp -s - "$T/vt/spool/new/$f" || fail "truncated bytes ($n)"
	grep -q "ingest: message truncated file=$f size=10014 limit=4096" "$T/err" ||
		fail "truncation log line ($n): $(cat "$T/err")"
	rm -f "$T/vt/spool/new/$f"
	# A message under the limit: stored whole, no flag, nothing logged at warn.
	ingest $n --config "$T/trunc.conf" <"$T/m" 2>"$T/err" || fail "small ($n)"
	f=$(ls "$T/vt/spool/new")
	cmp -s "$T/m" "$T/vt/spool/new/$f" || fail "small message bytes ($n)"
	case $f in *",S=$(wc -c <"$T/m")") ;; *) fail "small name ($n): $f" ;; esac
	[ ! -s "$T/err" ] || fail "small message stderr ($n): $(cat "$T/err")"
	rm -f "$T/vt/spool/new/$f"
done

[ "$(id -u)" = 0 ] || skip "full disk and read-only spool need root (tmpfs mounts)"

for n in 1 2; do
	# A full disk: a 64 KiB tmpfs and a 200 KiB message.
	mkdir -p "$T/full$n"
	mount -t tmpfs -o size=64k tmpfs "$T/full$n" || skip "cannot mount tmpfs here"
	at_exit "umount '$T/full$n'"
	python3 -c 'print("Subject: big\n"); print("y" * 200000)' >"$T/huge"
	tempfail $n "full disk" "[Nn]o space left" --state-dir "$T/full$n" <"$T/huge"
	[ -z "$(ls "$T/full$n/spool/new")" ] || fail "full disk left a file in new/ ($n)"
	[ -z "$(ls "$T/full$n/spool/tmp")" ] || fail "full disk left a file in tmp/ ($n)"
	# A small message still fits afterwards: nothing leaked.
	ingest $n --state-dir "$T/full$n" <"$T/m" || fail "small message after full ($n)"

	# A read-only spool.
	mkdir -p "$T/ro$n"
	ingest $n --state-dir "$T/ro$n" <"$T/m" || fail "prepare ro ($n)"
	mount -t tmpfs -o ro,size=64k tmpfs "$T/ro$n/spool" || skip "cannot mount ro tmpfs"
	at_exit "umount '$T/ro$n/spool'"
	tempfail $n "read-only spool" "[Rr]ead-only" --state-dir "$T/ro$n" <"$T/m"
done
