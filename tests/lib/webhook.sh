# tests/lib/webhook.sh: sourced by the webhook tests after common.sh.
# start_receiver [ARGS...]: starts tests/lib/webhook_receiver.py with the
# secret in $T/secret, logging to $T/hooks.jsonl; sets RPORT.
command -v python3 >/dev/null || skip "python3 is missing"

start_receiver() {
	[ -f "$T/secret" ] || printf 'whsec-test-0123456789\n' >"$T/secret"
	rm -f "$T/port"
	python3 "$TOP/tests/lib/webhook_receiver.py" "$T/port" "$T/secret" \
		"$T/hooks.jsonl" "$@" >>"$T/receiver.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for "test -s '$T/port'" || fail "the receiver did not start"
	RPORT=$(cat "$T/port")
}

# hooks PATH STATUS: requests to PATH the receiver answered with STATUS.
hooks() {
	python3 - "$T/hooks.jsonl" "$1" "$2" <<'PY'
import json, sys
n = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        n += r["path"] == sys.argv[2] and r["status"] == int(sys.argv[3])
except FileNotFoundError:
    pass
print(n)
PY
}

# keys STATUS: distinct idempotency keys answered with STATUS.
keys() {
	python3 - "$T/hooks.jsonl" "$1" <<'PY'
import json, sys
k = set()
try:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        if r["status"] == int(sys.argv[2]):
            k.add(r["key"])
except FileNotFoundError:
    pass
print(len(k))
PY
}

# acct ARGS...: fbld accounts with the test's configuration.
acct() {
	"$FBLD" accounts --config "$T/fbld.conf" "$@" >>"$T/cli.log" 2>&1 ||
		fail "fbld accounts $*"
}

# no_sanitizer_errors: the daemon's log holds no ASan/UBSan/LSan report.
no_sanitizer_errors() {
	! grep -q "Sanitizer\|runtime error:" "$T/fbld.log" ||
		fail "sanitizer report in the daemon's log"
}
