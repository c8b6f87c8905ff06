#!/bin/sh
# dsn_golden: the golden samples of tests/data/*/ (tests/golden.sh check):
# multi-recipient reports, VERP'd bounce addresses with valid and forged
# tokens, a token found only in the returned message, truncated and
# malformed input, auto-replies, UTF-8 recipients.
. "$TOP/tests/lib/common.sh"
command -v python3 >/dev/null || skip "python3 missing"
sh "$TOP/tests/golden.sh" check "$FBLD" || fail "golden outputs differ"
