# Crash safety of the spool: a few thousand messages are spooled by
# fbld-ingest (the pipe transport's binary), `fbld serve` is killed with
# SIGKILL while it is storing them, then restarted; afterwards every
# message is stored exactly once and the spool is empty.
. "$TOP/tests/lib/common.sh"

N=${SPOOL_CRASH_N:-2000}
fbld_config "[spool]
batch = 40
poll_interval = 20ms"

# Distinct messages, spooled in parallel the way an MTA would hand them over.
# (Leak checking at every exit would triple the time; ingest_failures.sh
# runs both hand-over commands with it.)
seq 1 "$N" | ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" xargs -P 8 -I{} sh -c \
	'printf "From: a@example.org\nSubject: m{}\nMessage-ID: <{}@t>\n\nbody {}\n" |
	 "$0" --config "$1" || echo "ingest {} failed" >&2' "$FBLD_INGEST" "$T/fbld.conf" 2>"$T/ingest.err"
[ -s "$T/ingest.err" ] && fail "ingest: $(head -3 "$T/ingest.err")"
spooled=$(ls "$T/var/spool/new" | wc -l)
[ "$spooled" = "$N" ] || fail "spooled $spooled of $N"

start_fbld
# Wait until it is part way through, then kill it without warning.
wait_for '[ "$(sql "SELECT count(*) FROM reports")" -gt $((N / 4)) ]' 300 ||
	fail "pickup made no progress"
kill -KILL "$FBLD_PID"
wait "$FBLD_PID" 2>/dev/null || true
at_kill=$(sql "SELECT count(*) FROM reports")
left=$(ls "$T/var/spool/new" | wc -l)
echo "report: killed with $at_kill stored and $left files left in the spool"
[ "$at_kill" -lt "$N" ] || echo "note: the kill came after the last commit"

start_fbld
wait_for '[ -z "$(ls "$T/var/spool/new")" ]' 600 || fail "spool not drained after restart"
stop_fbld TERM
stored=$(sql "SELECT count(*) FROM reports")
distinct=$(sql "SELECT count(DISTINCT digest) FROM reports")
subjects=$(sql "SELECT count(DISTINCT CAST(raw AS TEXT)) FROM reports")
echo "report: after restart: $stored stored, $distinct distinct, $subjects distinct bodies"
[ "$stored" = "$N" ] || fail "stored $stored of $N"
[ "$distinct" = "$N" ] || fail "duplicates: $distinct distinct of $stored"
[ "$subjects" = "$N" ] || fail "bodies: $subjects"
