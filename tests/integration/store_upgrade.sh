#!/bin/sh
# A store written by an older fbld is migrated in place when a newer one
# opens it, keeping what it held. Here: a database at schema version 5
# (before migration 6 moved opens out of the index of events by send and
# a hit's detail into columns), with opens and a click in it, opened by
# `fbld accounts show`: afterwards it is at the current version, each
# send's first human and machine open are in send_opens, and the events
# read back with the detail they were written with.
. "$TOP/tests/lib/common.sh"

fbld_config
"$FBLD" accounts --config "$T/fbld.conf" set acme auto --create \
	--reason "test account" >/dev/null || fail "cannot create the account"
NOW=$(($(date +%s) * 1000))

# Back to version 5: migration 6 undone, then the rows an older fbld wrote.
sql "DROP TABLE send_opens;
DROP INDEX events_send;
ALTER TABLE events DROP COLUMN why;
ALTER TABLE events DROP COLUMN ip;
ALTER TABLE events DROP COLUMN user_agent;
ALTER TABLE events DROP COLUMN url;
ALTER TABLE events DROP COLUMN since_send_ms;
CREATE INDEX events_send ON events(send_id);
PRAGMA user_version = 5;
INSERT INTO sends (id, account_id, created_ms) VALUES
	(1, 1, $NOW - 60000), (2, 1, $NOW - 60000);
INSERT INTO events (id, ts_ms, type, account_id, send_id, machine, verdict,
	detail, dedup) VALUES
	(10, $NOW - 50000, 'open', 1, 1, 1, 'proxy', '{\"ip\":\"192.0.2.0/24\"}', 'a'),
	(11, $NOW - 40000, 'open', 1, 1, 0, 'human', '{\"ip\":\"198.51.100.0/24\"}', 'b'),
	(12, $NOW - 30000, 'open', 1, 1, 0, 'human', '{\"ip\":\"203.0.113.0/24\"}', 'c'),
	(13, $NOW - 20000, 'click', 1, 1, 0, 'human', '{\"url\":\"https://shop.test/\"}', 'd'),
	(14, $NOW - 10000, 'open', 1, 2, 0, 'human', NULL, 'e');" ||
	fail "cannot write the version 5 database"
[ "$(sql "PRAGMA user_version")" = 5 ] || fail "not at version 5"

"$FBLD" accounts --config "$T/fbld.conf" show acme --json --rows 10 \
	>"$T/show.json" 2>"$T/show.err" ||
	fail "fbld cannot open the old store: $(cat "$T/show.err")"

[ "$(sql "PRAGMA user_version")" -ge 6 ] ||
	fail "not migrated: version $(sql "PRAGMA user_version")"
[ "$(sql "SELECT group_concat(send_id || ':' || machine || ':' || event_id, ' ')
	FROM (SELECT * FROM send_opens ORDER BY send_id, machine)")" = \
	"1:0:11 1:1:10 2:0:14" ] ||
	fail "send_opens: $(sql "SELECT * FROM send_opens")"
[ "$(sql "SELECT count(*) FROM events")" = 5 ] || fail "events lost"
# Scoring's question, whether a send had an open before an event, reads
# the index of events by send for everything but opens.
sql "EXPLAIN QUERY PLAN SELECT type FROM events WHERE send_id = 1 AND
	type <> 'open'" | grep -q "events_send" ||
	fail "the partial index by send is not used"

python3 - "$T/show.json" <<'PY' || fail "events as read back: $(cat "$T/show.json")"
import json, sys
j = json.load(open(sys.argv[1]))
evs = {e["id"]: e for e in j["events"]}
assert sorted(evs) == [10, 11, 12, 13, 14], sorted(evs)
assert evs[10]["detail"] == {"ip": "192.0.2.0/24"}, evs[10]
assert evs[13]["detail"] == {"url": "https://shop.test/"}, evs[13]
assert evs[11]["verdict"] == "human" and evs[10]["machine"], evs[10]
PY
echo "report: a version 5 store with 4 opens and a click migrated in place; send_opens 1:0:11 1:1:10 2:0:14"
