/* store: see store.h. The only file that includes <sqlite3.h>. */
#include "core/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "core/config.h"

G_DEFINE_QUARK(fbld - store - error - quark, store_error)

/*
 * Schema migrations, applied in order inside one transaction each; the
 * database's PRAGMA user_version is the number applied. Never edit a
 * migration that has shipped: add the next one.
 */
static const char *const store_migrations[] = {
	/* 1: the foundation. */
	"CREATE TABLE accounts ("
	" id INTEGER PRIMARY KEY," /* the token's 32-bit account id */
	" name TEXT NOT NULL UNIQUE,"
	" created_ms INTEGER NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'ok',"
	" state_since_ms INTEGER NOT NULL DEFAULT 0,"
	" override_state TEXT, override_reason TEXT, override_until_ms INTEGER,"
	" bounce_domain TEXT,"
	" options TEXT);"
	"CREATE TABLE account_domains ("
	" domain TEXT PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id));"
	"CREATE TABLE sends ("
	" id INTEGER PRIMARY KEY," /* the token's message serial */
	" account_id INTEGER NOT NULL REFERENCES accounts(id),"
	" created_ms INTEGER NOT NULL,"
	" token TEXT UNIQUE,"
	" message_id TEXT, queue_id TEXT, env_from TEXT,"
	" identity_source TEXT,"
	" rcpt_count INTEGER NOT NULL DEFAULT 0,"
	" size INTEGER, fingerprint TEXT);"
	"CREATE INDEX sends_account ON sends(account_id, created_ms);"
	"CREATE INDEX sends_message_id ON sends(message_id);"
	"CREATE TABLE send_rcpts ("
	" send_id INTEGER NOT NULL REFERENCES sends(id),"
	" rcpt TEXT NOT NULL,"
	" PRIMARY KEY (send_id, rcpt)) WITHOUT ROWID;"
	"CREATE TABLE reports ("
	" id INTEGER PRIMARY KEY,"
	" received_ms INTEGER NOT NULL,"
	" source TEXT NOT NULL,"
	" digest TEXT NOT NULL UNIQUE," /* SHA-256 of raw: stored once */
	" size INTEGER NOT NULL,"
	" orig_size INTEGER NOT NULL,"
	" truncated INTEGER NOT NULL DEFAULT 0,"
	" kind TEXT NOT NULL DEFAULT 'unclassified',"
	" error TEXT,"
	" account_id INTEGER, send_id INTEGER, token_error TEXT,"
	" raw BLOB NOT NULL);"
	"CREATE INDEX reports_kind ON reports(kind);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" ts_ms INTEGER NOT NULL,"
	" type TEXT NOT NULL,"
	" account_id INTEGER, send_id INTEGER, report_id INTEGER,"
	" recipient TEXT, reason TEXT, class TEXT, status TEXT,"
	" diagnostic TEXT,"
	" machine INTEGER NOT NULL DEFAULT 0, verdict TEXT,"
	" detail TEXT,"
	" dedup TEXT UNIQUE);"
	"CREATE INDEX events_account ON events(account_id, ts_ms);"
	"CREATE INDEX events_send ON events(send_id);"
	"CREATE TABLE dmarc_records ("
	" id INTEGER PRIMARY KEY,"
	" report_id INTEGER NOT NULL REFERENCES reports(id),"
	" org TEXT, report_ref TEXT, begin_s INTEGER, end_s INTEGER,"
	" policy_domain TEXT, source_ip TEXT, header_from TEXT,"
	" count INTEGER NOT NULL, disposition TEXT, dkim TEXT, spf TEXT,"
	" account_id INTEGER);"
	"CREATE INDEX dmarc_records_domain ON dmarc_records(header_from);"
	"CREATE TABLE state_history ("
	" id INTEGER PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id),"
	" ts_ms INTEGER NOT NULL,"
	" from_state TEXT NOT NULL, to_state TEXT NOT NULL,"
	" source TEXT NOT NULL,"  /* scoring, operator, expiry */
	" reasons TEXT NOT NULL," /* JSON array of sentences */
	" sent INTEGER);"
	"CREATE INDEX state_history_account ON state_history(account_id, "
	"ts_ms);"
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" created_ms INTEGER NOT NULL,"
	" channel TEXT NOT NULL," /* webhook:NAME, email:NAME */
	" idem_key TEXT NOT NULL UNIQUE,"
	" payload TEXT NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_ms INTEGER NOT NULL,"
	" done_ms INTEGER, last_error TEXT);"
	"CREATE INDEX outbox_due ON outbox(done_ms, next_ms);"
	"CREATE TABLE suppressions ("
	" account_id INTEGER NOT NULL REFERENCES accounts(id),"
	" recipient TEXT NOT NULL,"
	" reason TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL,"
	" PRIMARY KEY (account_id, recipient)) WITHOUT ROWID;"
	"CREATE TABLE mailbox_state ("
	" mailbox TEXT PRIMARY KEY,"
	" uidvalidity INTEGER NOT NULL,"
	" last_uid INTEGER NOT NULL);",
	/* 2: actions: dead letters and the account of each outbox entry;
	 * partial indexes so that neither delivered, dead nor digest rows
	 * slow the search for due deliveries. */
	"ALTER TABLE outbox ADD COLUMN dead_ms INTEGER;"
	"ALTER TABLE outbox ADD COLUMN account_id INTEGER;"
	"CREATE INDEX outbox_pending ON outbox(next_ms) WHERE done_ms IS NULL"
	" AND dead_ms IS NULL AND channel <> 'digest';"
	"CREATE INDEX outbox_digest ON outbox(id) WHERE done_ms IS NULL"
	" AND channel = 'digest';"
	"CREATE INDEX outbox_account ON outbox(account_id, id);"
	"CREATE INDEX state_history_ts ON state_history(ts_ms);",
	/* 3: fbl: DMARC report identity (duplicates are sent under new
	 * Message-IDs), per-mailbox counters of what was committed. */
	"CREATE INDEX dmarc_records_ref ON dmarc_records(org, report_ref, "
	"policy_domain);"
	"ALTER TABLE mailbox_state ADD COLUMN updated_ms INTEGER NOT NULL "
	"DEFAULT 0;"
	"ALTER TABLE mailbox_state ADD COLUMN stored INTEGER NOT NULL "
	"DEFAULT 0;",
	/* 4: milter: a bounce domain per sending domain, so the return
	 * path can sit under the customer's own domain (DMARC SPF
	 * alignment). */
	"ALTER TABLE account_domains ADD COLUMN bounce_domain TEXT;",
	/* 5: scoring (see the scoring section at the end). */
	"CREATE TABLE scoring_accounts ("
	" account_id INTEGER PRIMARY KEY REFERENCES accounts(id),"
	" updated_ms INTEGER NOT NULL,"
	" model BLOB NOT NULL," /* the engine's state, serialised */
	" stats TEXT);"		/* JSON: windows, tests, score */
	"CREATE TABLE scoring_hours ("
	" account_id INTEGER NOT NULL,"
	" hour_ms INTEGER NOT NULL,"
	" sent INTEGER NOT NULL, fbl_sent INTEGER NOT NULL,"
	" tracked INTEGER NOT NULL, new_recipients INTEGER NOT NULL,"
	" new_domains INTEGER NOT NULL, unknown_user INTEGER NOT NULL,"
	" bad_domain INTEGER NOT NULL, hard_other INTEGER NOT NULL,"
	" policy INTEGER NOT NULL, soft INTEGER NOT NULL,"
	" complaints INTEGER NOT NULL, opens_human INTEGER NOT NULL,"
	" opens_machine INTEGER NOT NULL, clicks_human INTEGER NOT NULL,"
	" clicks_machine INTEGER NOT NULL, unsubscribes INTEGER NOT NULL,"
	" engaged INTEGER NOT NULL,"
	" PRIMARY KEY (account_id, hour_ms)) WITHOUT ROWID;"
	"CREATE INDEX scoring_hours_time ON scoring_hours(hour_ms);"
	"CREATE TABLE scoring_fingerprints ("
	" fingerprint TEXT PRIMARY KEY,"
	" updated_ms INTEGER NOT NULL,"
	" model BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE scoring_values ("
	" name TEXT PRIMARY KEY," /* cursors, the population's model */
	" value INTEGER, data BLOB) WITHOUT ROWID;",
	/* 6: tracking: opens, most of all hits, leave the index by send,
	 * where they landed all over the index (every commit rewrote most
	 * of its pages); what scoring asks of a send's opens, whether it had
	 * one before an event, comes from the first open of each send by
	 * machine or human instead (see store_hits_add()). A hit's detail
	 * is kept in columns (a JSON object per hit cost the writer more
	 * than the row), and built on reading (STORE_EVENT_DETAIL). */
	"ALTER TABLE events ADD COLUMN why TEXT;"
	"ALTER TABLE events ADD COLUMN ip TEXT;"
	"ALTER TABLE events ADD COLUMN user_agent TEXT;"
	"ALTER TABLE events ADD COLUMN url TEXT;"
	"ALTER TABLE events ADD COLUMN since_send_ms INTEGER;"
	"DROP INDEX events_send;"
	"CREATE INDEX events_send ON events(send_id) WHERE type <> 'open';"
	"CREATE TABLE send_opens ("
	" send_id INTEGER NOT NULL,"
	" machine INTEGER NOT NULL,"
	" event_id INTEGER NOT NULL," /* the first open's */
	" PRIMARY KEY (send_id, machine)) WITHOUT ROWID;"
	"INSERT INTO send_opens (send_id, machine, event_id)"
	" SELECT send_id, machine, min(id) FROM events"
	" WHERE type = 'open' AND send_id IS NOT NULL"
	" GROUP BY send_id, machine;",
};

/* store_hits_add(): rows of 15 parameters, 16 rows per statement. */
#define STORE_HIT_ROWS 16
#define STORE_HIT_PARAMS 15
#define STORE_HIT_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define STORE_HIT_ROW4                                                         \
	STORE_HIT_ROW ", " STORE_HIT_ROW ", " STORE_HIT_ROW ", " STORE_HIT_ROW
#define STORE_HIT_INSERT                                                       \
	"INSERT INTO events (id, ts_ms, type, account_id, send_id, "           \
	"recipient, reason, machine, verdict, why, ip, user_agent, url, "      \
	"since_send_ms, dedup) VALUES "

/* An event's detail as readers see it: a tracking hit's is in columns
 * (migration 6), returned as the JSON object it always was, with its six
 * members; "send_time": "token-day" when the send's time is unknown. */
#define STORE_EVENT_DETAIL                                                     \
	"coalesce(detail, CASE WHEN type IN ('open', 'click', 'unsubscribe') " \
	"THEN json_object('why', why, 'ip', ip, 'user_agent', user_agent, "    \
	"'url', url, 'since_send_ms', since_send_ms, 'send_time', CASE WHEN "  \
	"since_send_ms IS NULL AND type <> 'unsubscribe' THEN 'token-day' "    \
	"END) END)"
#define STORE_HIT_CONFLICT " ON CONFLICT (dedup) DO NOTHING"

enum store_stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_ACCOUNT_FIND,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_NAME,
	S_ACCOUNT_STATE_GET,
	S_ACCOUNT_STATE_SET,
	S_ACCOUNT_OVERRIDE_SET,
	S_HISTORY_INSERT,
	S_SEND_RESERVE,
	S_SEND_MINTED,
	S_REPORT_FIND,
	S_REPORT_INSERT,
	S_REPORT_CLASSIFY,
	S_REPORT_COUNTS,
	S_REPORT_LIST,
	S_EVENT_INSERT,
	S_ACT_OUTBOX_ADD,
	S_ACT_OUTBOX_CLAIM,
	S_ACT_OUTBOX_DONE,
	S_ACT_OUTBOX_RETRY,
	S_ACT_OUTBOX_DEAD,
	S_ACT_OUTBOX_REQUEUE,
	S_ACT_OUTBOX_NEXT,
	S_ACT_OUTBOX_PURGE,
	S_ACT_OUTBOX_DIGEST,
	S_ACT_OUTBOX_LAST,
	S_ACT_OUTBOX_LIST,
	S_ACT_OUTBOX_STATS,
	S_ACT_ACCOUNT_LIST,
	S_ACT_COUNTS_SENDS,
	S_ACT_COUNTS_EVENTS,
	S_ACT_COUNTS_ALL_SENDS,
	S_ACT_COUNTS_ALL_EVENTS,
	S_ACT_HISTORY_LIST,
	S_ACT_EVENT_LIST,
	S_ACT_TOP,
	S_ACT_OVERRIDE_SINCE,
	S_FBL_SEND_BY_MSGID,
	S_FBL_DMARC_SEEN,
	S_FBL_DMARC_INSERT,
	S_FBL_MAILBOX_GET,
	S_FBL_MAILBOX_SET,
	S_MILTER_SEND_RECORD,
	S_MILTER_SEND_RCPT,
	S_MILTER_ACCOUNT_SETTINGS,
	S_MILTER_DOMAIN_LOOKUP,
	S_MILTER_SUPPRESSION,
	S_MILTER_RCPTS_SINCE,
	S_MILTER_NEXT_SERIAL,
	S_SCORING_VALUE_GET,
	S_SCORING_VALUE_SET,
	S_SCORING_ACCOUNT_PUT,
	S_SCORING_ACCOUNT_LOAD,
	S_SCORING_STATS_GET,
	S_SCORING_FP_PUT,
	S_SCORING_FP_LOAD,
	S_SCORING_HOUR_PUT,
	S_SCORING_SENDS,
	S_SCORING_EVENTS,
	S_SCORING_PRIOR,
	S_SCORING_OVERRIDES,
	S_SCORING_EXPIRE,
	S_SCORING_RCPTS,
	S_TRACKING_HIT_INSERT,
	S_TRACKING_HITS_INSERT,
	S_TRACKING_RECLASSIFY,
	S_TRACKING_SEND_CREATED,
	S_TRACKING_SEND_RCPTS,
	S_TRACKING_ACCOUNT_PLACEHOLDER,
	S_TRACKING_SUPPRESSION_INSERT,
	S_TRACKING_LAST_EVENT,
	S_TRACKING_FIRST_OPEN,
	S_MILTER_READ_BEGIN,
	S_NSTMT
};

static const char *const store_sql[S_NSTMT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_ACCOUNT_FIND] = "SELECT id FROM accounts WHERE name = ?1",
	[S_ACCOUNT_INSERT] = "INSERT INTO accounts (name, created_ms) "
			     "VALUES (?1, ?2)",
	[S_ACCOUNT_NAME] = "SELECT name FROM accounts WHERE id = ?1",
	[S_ACCOUNT_STATE_GET] = "SELECT name, state, state_since_ms, "
				"override_state, override_reason, "
				"override_until_ms FROM accounts WHERE id = ?1",
	[S_ACCOUNT_STATE_SET] = "UPDATE accounts SET state = ?2, "
				"state_since_ms = ?3 WHERE id = ?1",
	[S_ACCOUNT_OVERRIDE_SET] = "UPDATE accounts SET override_state = ?2, "
				   "override_reason = ?3, "
				   "override_until_ms = ?4 WHERE id = ?1",
	[S_HISTORY_INSERT] =
		"INSERT INTO state_history (account_id, ts_ms, from_state, "
		"to_state, source, reasons, sent) VALUES (?1, ?2, ?3, ?4, ?5, "
		"?6, ?7)",
	[S_SEND_MINTED] =
		"INSERT INTO sends (id, account_id, created_ms, token, "
		"identity_source, rcpt_count) VALUES (?1, ?2, ?3, ?4, 'mint', "
		"1) "
		"ON CONFLICT (id) DO UPDATE SET token = excluded.token, "
		"rcpt_count = max(rcpt_count, 1)",
	[S_SEND_RESERVE] = "INSERT INTO sends (account_id, created_ms) "
			   "VALUES (?1, ?2)",
	[S_REPORT_FIND] = "SELECT id FROM reports WHERE digest = ?1",
	[S_REPORT_INSERT] =
		"INSERT INTO reports (received_ms, source, digest, size, "
		"orig_size, truncated, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
		"?7)",
	[S_REPORT_CLASSIFY] = "UPDATE reports SET kind = ?2, error = ?3, "
			      "account_id = ?4, send_id = ?5, "
			      "token_error = ?6 WHERE id = ?1",
	[S_REPORT_COUNTS] = "SELECT kind, count(*) FROM reports GROUP BY kind",
	[S_REPORT_LIST] =
		"SELECT id, received_ms, source, size, orig_size, truncated, "
		"kind, error, account_id, send_id, token_error, "
		"CASE WHEN ?4 THEN raw END FROM reports "
		"WHERE (?1 <= 0 OR id = ?1) AND (?2 IS NULL OR kind = ?2) "
		"ORDER BY id DESC LIMIT ?3",
	[S_EVENT_INSERT] =
		"INSERT INTO events (ts_ms, type, account_id, send_id, "
		"report_id, recipient, reason, class, status, diagnostic, "
		"machine, verdict, detail, dedup) VALUES (?1, ?2, ?3, ?4, ?5, "
		"?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
		"ON CONFLICT (dedup) DO NOTHING",
#define STORE_OUTBOX_COLS                                                      \
	"id, created_ms, channel, idem_key, payload, account_id, attempts, "   \
	"next_ms, done_ms, dead_ms, last_error"
	[S_ACT_OUTBOX_ADD] =
		"INSERT INTO outbox (created_ms, channel, idem_key, payload, "
		"next_ms, account_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
		"ON CONFLICT (idem_key) DO NOTHING",
	/* The terms repeat those of the partial indexes word for word: SQLite
	 * can use a partial index only then (and without ANALYZE statistics
	 * it would pick outbox_due, which also holds dead letters). */
	[S_ACT_OUTBOX_CLAIM] =
		"UPDATE outbox SET attempts = attempts + 1, next_ms = ?1 + ?2 "
		"WHERE id IN (SELECT id FROM outbox INDEXED BY outbox_pending "
		"WHERE done_ms IS NULL "
		"AND dead_ms IS NULL AND channel <> 'digest' AND next_ms <= ?1 "
		"ORDER BY next_ms LIMIT ?3) RETURNING " STORE_OUTBOX_COLS,
	[S_ACT_OUTBOX_DONE] = "UPDATE outbox SET done_ms = ?2 WHERE id = ?1",
	[S_ACT_OUTBOX_RETRY] = "UPDATE outbox SET next_ms = ?2, "
			       "last_error = ?3 WHERE id = ?1",
	[S_ACT_OUTBOX_DEAD] = "UPDATE outbox SET dead_ms = ?2, "
			      "last_error = ?3 WHERE id = ?1",
	[S_ACT_OUTBOX_REQUEUE] =
		"UPDATE outbox SET dead_ms = NULL, attempts = 0, next_ms = ?2 "
		"WHERE id = ?1 AND dead_ms IS NOT NULL AND done_ms IS NULL",
	[S_ACT_OUTBOX_NEXT] = "SELECT min(next_ms) FROM outbox INDEXED BY "
			      "outbox_pending WHERE done_ms IS NULL AND "
			      "dead_ms IS NULL AND channel <> 'digest'",
	[S_ACT_OUTBOX_PURGE] = "DELETE FROM outbox WHERE done_ms < ?1",
	[S_ACT_OUTBOX_DIGEST] = "SELECT " STORE_OUTBOX_COLS " FROM outbox "
				"INDEXED BY outbox_digest WHERE done_ms IS "
				"NULL AND channel = 'digest' "
				"ORDER BY id LIMIT ?1",
	[S_ACT_OUTBOX_LAST] = "SELECT max(created_ms) FROM outbox WHERE "
			      "channel = ?1",
	[S_ACT_OUTBOX_LIST] =
		"SELECT " STORE_OUTBOX_COLS " FROM outbox WHERE (?1 IS NULL "
		"OR (?1 = 'pending' AND done_ms IS NULL AND dead_ms IS NULL) "
		"OR (?1 = 'done' AND done_ms IS NOT NULL) "
		"OR (?1 = 'dead' AND dead_ms IS NOT NULL)) "
		"AND (?2 < 0 OR account_id = ?2) AND (?3 <= 0 OR id < ?3) "
		"ORDER BY id DESC LIMIT ?4",
	[S_ACT_OUTBOX_STATS] =
		"SELECT channel, "
		"count(*) FILTER (WHERE done_ms IS NULL AND dead_ms IS NULL), "
		"count(*) FILTER (WHERE done_ms >= ?1), "
		"count(*) FILTER (WHERE dead_ms IS NOT NULL) "
		"FROM outbox GROUP BY channel ORDER BY channel",
	[S_ACT_ACCOUNT_LIST] =
		"SELECT id, name, state, state_since_ms, override_state, "
		"override_reason, override_until_ms FROM (SELECT *, CASE WHEN "
		"override_state IS NOT NULL AND (coalesce(override_until_ms, "
		"0) "
		"= 0 OR override_until_ms > ?1) THEN override_state ELSE state "
		"END AS eff FROM accounts) WHERE ?2 IS NULL OR eff = ?2 OR "
		"(?2 = 'not-ok' AND eff <> 'ok') ORDER BY CASE eff WHEN "
		"'block' "
		"THEN 0 WHEN 'throttle' THEN 1 WHEN 'watch' THEN 2 ELSE 3 END, "
		"name LIMIT ?3 OFFSET ?4",
	/* Rows, not GROUP BY: summing in C spares SQLite a sort. */
	[S_ACT_COUNTS_SENDS] = "SELECT created_ms, rcpt_count, NULL, NULL, -1 "
			       "FROM sends WHERE account_id = ?1 AND "
			       "created_ms >= ?2 AND created_ms < ?3",
	[S_ACT_COUNTS_EVENTS] = "SELECT ts_ms, 0, type, class, machine FROM "
				"events WHERE account_id = ?1 AND ts_ms >= ?2 "
				"AND ts_ms < ?3",
	[S_ACT_COUNTS_ALL_SENDS] = "SELECT created_ms, rcpt_count, NULL, NULL, "
				   "-1 FROM sends WHERE created_ms >= ?2 AND "
				   "created_ms < ?3",
	[S_ACT_COUNTS_ALL_EVENTS] = "SELECT ts_ms, 0, type, class, machine "
				    "FROM events WHERE ts_ms >= ?2 AND ts_ms < "
				    "?3",
	[S_ACT_HISTORY_LIST] =
		"SELECT h.id, h.account_id, a.name, h.ts_ms, h.from_state, "
		"h.to_state, h.source, h.reasons, h.sent FROM state_history h "
		"JOIN accounts a ON a.id = h.account_id WHERE (?1 < 0 OR "
		"h.account_id = ?1) AND h.ts_ms >= ?2 AND h.ts_ms < ?3 "
		"ORDER BY h.ts_ms DESC, h.id DESC LIMIT ?4",
	[S_ACT_EVENT_LIST] =
		"SELECT id, ts_ms, type, account_id, send_id, report_id, "
		"recipient, reason, class, status, diagnostic, machine, "
		"verdict, " STORE_EVENT_DETAIL ", dedup FROM events WHERE "
		"account_id = ?1 AND "
		"(?2 <= 0 OR (ts_ms, id) < (SELECT ts_ms, id FROM events "
		"WHERE id = ?2)) ORDER BY ts_ms DESC, id DESC LIMIT ?3",
	[S_ACT_TOP] =
		"SELECT e.account_id, a.name, "
		"count(*) FILTER (WHERE e.type = 'complaint') AS c, "
		"count(*) FILTER (WHERE e.type = 'bounce' AND e.class = "
		"'hard') "
		"AS h FROM events e JOIN accounts a ON a.id = e.account_id "
		"WHERE e.ts_ms >= ?1 AND e.ts_ms < ?2 AND e.type IN "
		"('complaint', 'bounce') GROUP BY e.account_id HAVING c + h > "
		"0 "
		"ORDER BY c + h DESC, a.name LIMIT ?3",
	[S_ACT_OVERRIDE_SINCE] = "SELECT max(ts_ms) FROM state_history WHERE "
				 "account_id = ?1 AND source = 'operator'",
	[S_FBL_SEND_BY_MSGID] =
		"SELECT id, account_id FROM sends WHERE message_id IN (?1, "
		"'<' || ?1 || '>') ORDER BY id DESC LIMIT 1",
	[S_FBL_DMARC_SEEN] =
		"SELECT 1 FROM dmarc_records WHERE org IS ?1 AND report_ref "
		"IS ?2 AND policy_domain IS ?3 AND report_id <> ?4 LIMIT 1",
	[S_FBL_DMARC_INSERT] =
		"INSERT INTO dmarc_records (report_id, org, report_ref, "
		"begin_s, "
		"end_s, policy_domain, source_ip, header_from, count, "
		"disposition, dkim, spf, account_id) VALUES (?1, ?2, ?3, ?4, "
		"?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, (SELECT account_id FROM "
		"account_domains WHERE domain = lower(coalesce(?8, ?6))))",
	[S_FBL_MAILBOX_GET] =
		"SELECT uidvalidity, last_uid FROM mailbox_state WHERE "
		"mailbox = ?1",
	[S_FBL_MAILBOX_SET] =
		"INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, "
		"updated_ms, stored) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT "
		"(mailbox) DO UPDATE SET last_uid = CASE WHEN uidvalidity = "
		"excluded.uidvalidity THEN max(last_uid, excluded.last_uid) "
		"ELSE excluded.last_uid END, uidvalidity = "
		"excluded.uidvalidity, updated_ms = excluded.updated_ms, "
		"stored = stored + excluded.stored",
	[S_MILTER_SEND_RECORD] =
		"INSERT INTO sends (id, token, message_id, queue_id, env_from, "
		"identity_source, rcpt_count, size, fingerprint, account_id, "
		"created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		"?11)",
	[S_MILTER_NEXT_SERIAL] = "SELECT coalesce(max(id), 0) + 1 FROM sends",
	[S_MILTER_SEND_RCPT] = "INSERT OR IGNORE INTO send_rcpts (send_id, "
			       "rcpt) VALUES (?1, ?2)",
	[S_MILTER_ACCOUNT_SETTINGS] = "SELECT bounce_domain, options FROM "
				      "accounts WHERE id = ?1",
	[S_MILTER_DOMAIN_LOOKUP] = "SELECT account_id, bounce_domain FROM "
				   "account_domains WHERE domain = ?1",
	/* Not "recipient IN (?2, lower(?2))": an IN list of variables is
	 * built into a temporary b-tree on every execution. */
	[S_MILTER_SUPPRESSION] = "SELECT 1 FROM suppressions WHERE "
				 "account_id = ?1 AND recipient = ?2 "
				 "UNION ALL SELECT 1 FROM suppressions WHERE "
				 "account_id = ?1 AND recipient = lower(?2) "
				 "LIMIT 1",
	[S_MILTER_RCPTS_SINCE] = "SELECT coalesce(sum(rcpt_count), 0) FROM "
				 "sends WHERE account_id = ?1 AND "
				 "created_ms >= ?2",
	[S_SCORING_VALUE_GET] =
		"SELECT value, data FROM scoring_values WHERE name = ?1",
	[S_SCORING_VALUE_SET] = "INSERT OR REPLACE INTO scoring_values "
				"(name, value, data) VALUES (?1, ?2, ?3)",
	[S_SCORING_ACCOUNT_PUT] =
		"INSERT OR REPLACE INTO scoring_accounts (account_id, "
		"updated_ms, model, stats) VALUES (?1, ?2, ?3, ?4)",
	[S_SCORING_ACCOUNT_LOAD] =
		"SELECT account_id, model FROM scoring_accounts",
	[S_SCORING_STATS_GET] =
		"SELECT stats FROM scoring_accounts WHERE account_id = ?1",
	[S_SCORING_FP_PUT] = "INSERT OR REPLACE INTO scoring_fingerprints "
			     "(fingerprint, updated_ms, model) VALUES (?1, ?2, "
			     "?3)",
	[S_SCORING_FP_LOAD] =
		"SELECT fingerprint, model FROM scoring_fingerprints",
	[S_SCORING_HOUR_PUT] =
		"INSERT OR REPLACE INTO scoring_hours VALUES (?1, ?2, ?3, ?4, "
		"?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
		"?18, ?19)",
	[S_SCORING_SENDS] =
		"SELECT s.id, s.account_id, s.created_ms, s.fingerprint, "
		"r.rcpt, s.rcpt_count FROM sends s LEFT JOIN send_rcpts r ON "
		"r.send_id = "
		"s.id WHERE s.id IN (SELECT id FROM sends WHERE id > ?1 "
		"ORDER BY id LIMIT ?2) ORDER BY s.id",
	[S_SCORING_EVENTS] =
		"SELECT e.id, e.ts_ms, e.type, e.account_id, e.send_id, "
		"e.recipient, e.reason, e.class, e.machine, s.account_id, "
		"s.created_ms, s.fingerprint FROM events e LEFT JOIN sends s "
		"ON s.id = e.send_id WHERE e.id > ?1 ORDER BY e.id LIMIT ?2",
	/* Opens are not in events_send (migration 6): their first of each
	 * kind per send is in send_opens. */
	[S_SCORING_PRIOR] =
		"SELECT type, machine FROM events WHERE send_id = ?1 AND "
		"type <> 'open' AND id < ?2 AND (?3 IS NULL OR recipient IS "
		"NULL OR recipient = ?3) UNION ALL SELECT 'open', machine "
		"FROM send_opens WHERE send_id = ?1 AND event_id < ?2",
	[S_SCORING_OVERRIDES] =
		"SELECT id, override_state, override_reason, "
		"override_until_ms FROM accounts WHERE override_state IS NOT "
		"NULL",
	[S_SCORING_EXPIRE] =
		"UPDATE accounts SET override_state = NULL, override_reason = "
		"NULL, override_until_ms = NULL WHERE id = ?1",
	[S_SCORING_RCPTS] =
		"SELECT s.account_id, r.rcpt FROM sends s JOIN send_rcpts r "
		"ON r.send_id = s.id WHERE s.created_ms >= ?1 AND s.id <= ?2",
	[S_TRACKING_HIT_INSERT] =
		STORE_HIT_INSERT STORE_HIT_ROW STORE_HIT_CONFLICT,
	[S_TRACKING_HITS_INSERT] = STORE_HIT_INSERT STORE_HIT_ROW4
	", " STORE_HIT_ROW4 ", " STORE_HIT_ROW4
	", " STORE_HIT_ROW4 STORE_HIT_CONFLICT,
	[S_TRACKING_RECLASSIFY] =
		"UPDATE events SET machine = 1, verdict = ?5, reason = ?6, "
		"why = ?7, detail = json_set(detail, '$.why', ?7) "
		"WHERE send_id = ?1 AND type = ?2 AND type <> 'open' AND "
		"ts_ms BETWEEN ?3 AND ?4 AND verdict IS NOT ?5",
	[S_TRACKING_SEND_CREATED] =
		"SELECT created_ms FROM sends WHERE id = ?1",
	[S_TRACKING_SEND_RCPTS] =
		"SELECT rcpt FROM send_rcpts WHERE send_id = ?1 LIMIT 2",
	[S_TRACKING_ACCOUNT_PLACEHOLDER] =
		"INSERT INTO accounts (id, name, created_ms) "
		"VALUES (?1, '#' || ?1, ?2) ON CONFLICT DO NOTHING",
	[S_TRACKING_SUPPRESSION_INSERT] =
		"INSERT INTO suppressions (account_id, recipient, reason, "
		"created_ms) VALUES (?1, lower(?2), ?3, ?4) "
		"ON CONFLICT DO NOTHING",
	[S_TRACKING_LAST_EVENT] = "SELECT coalesce(max(id), 0) FROM events",
	[S_TRACKING_FIRST_OPEN] =
		"INSERT INTO send_opens (send_id, machine, event_id) "
		"VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
	[S_MILTER_READ_BEGIN] = "BEGIN DEFERRED",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_NSTMT];
	int in_tx;
};

static int
store_fail(struct store *st, GError **error, int rc, const char *what)
{
	int code = (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			   ? STORE_ERR_BUSY
			   : STORE_ERR_FAILED;

	g_set_error(error, STORE_ERROR, code, "store: %s: %s", what,
		    st && st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
	return -1;
}

/* The cached statement, reset and with bindings cleared. */
static sqlite3_stmt *
store_stmt(struct store *st, enum store_stmt id, GError **error)
{
	sqlite3_stmt *s = st->stmt[id];
	int rc;

	if (s) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	rc = sqlite3_prepare_v3(st->db, store_sql[id], -1,
				SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (rc != SQLITE_OK) {
		store_fail(st, error, rc, store_sql[id]);
		return NULL;
	}
	st->stmt[id] = s;
	return s;
}

/* Steps a statement that returns no rows. */
static int
store_exec_stmt(struct store *st, sqlite3_stmt *s, GError **error)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(st, error, rc, sqlite3_sql(s));
	return 0;
}

static void
store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static void
store_bind_id(sqlite3_stmt *s, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static int
store_exec(struct store *st, const char *sql, GError **error)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		g_set_error(error, STORE_ERROR,
			    rc == SQLITE_BUSY ? STORE_ERR_BUSY
					      : STORE_ERR_FAILED,
			    "store: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
store_schema_version(void)
{
	return (int)G_N_ELEMENTS(store_migrations);
}

static int
store_user_version(struct store *st, int *version, GError **error)
{
	sqlite3_stmt *s;
	int rc =
		sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_fail(st, error, rc, "PRAGMA user_version");
	rc = sqlite3_step(s);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, error, rc, "user_version");
}

static int
store_migrate(struct store *st, GError **error)
{
	int have;

	if (store_exec(st, "BEGIN IMMEDIATE", error) < 0)
		return -1;
	if (store_user_version(st, &have, error) < 0)
		goto fail;
	if (have > store_schema_version()) {
		g_set_error(error, STORE_ERROR, STORE_ERR_SCHEMA,
			    "store: database schema %d is newer than this "
			    "fbld (%d)",
			    have, store_schema_version());
		goto fail;
	}
	for (int v = have; v < store_schema_version(); v++) {
		char pragma[64];

		if (store_exec(st, store_migrations[v], error) < 0)
			goto fail;
		g_snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
			   v + 1);
		if (store_exec(st, pragma, error) < 0)
			goto fail;
	}
	return store_exec(st, "COMMIT", error);
fail:
	store_exec(st, "ROLLBACK", NULL);
	return -1;
}

struct store *
store_open(const char *path, int64_t busy_timeout_ms, GError **error)
{
	static gsize configured;
	struct store *st = g_new0(struct store, 1);
	int rc;

	/* Memory statistics take a global mutex on every allocation; nothing
	 * reads them. Only possible before SQLite initialises. */
	if (g_once_init_enter(&configured)) {
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
		g_once_init_leave(&configured, 1);
	}

	if (strcmp(path, ":memory:") != 0) {
		char *dir = g_path_get_dirname(path);
		if (g_mkdir_with_parents(dir, 0750) < 0) {
			g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
				    "store: %s: %s", dir, g_strerror(errno));
			g_free(dir);
			g_free(st);
			return NULL;
		}
		g_free(dir);
	}
	rc = sqlite3_open_v2(path, &st->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				     SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
			    "store: %s: %s", path,
			    st->db ? sqlite3_errmsg(st->db)
				   : sqlite3_errstr(rc));
		store_close(st);
		return NULL;
	}
	sqlite3_busy_timeout(st->db, (int)busy_timeout_ms);
	sqlite3_extended_result_codes(st->db, 0);
	if (store_exec(st, "PRAGMA journal_mode = WAL", error) < 0 ||
	    store_exec(st, "PRAGMA synchronous = NORMAL", error) < 0 ||
	    store_exec(st, "PRAGMA foreign_keys = ON", error) < 0 ||
	    store_migrate(st, error) < 0) {
		g_prefix_error(error, "%s: ", path);
		store_close(st);
		return NULL;
	}
	return st;
}

struct store *
store_open_config(const struct store_config *sc, GError **error)
{
	struct store *st = store_open(sc->path, sc->busy_timeout_ms, error);

	if (st && sc->synchronous_full &&
	    store_exec(st, "PRAGMA synchronous = FULL", error) < 0) {
		store_close(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < S_NSTMT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	g_free(st);
}

void
store_config_load(struct config *cfg, struct store_config *out)
{
	static const char *const sync[] = { "normal", "full", NULL };

	out->path = config_path(cfg, "store", "path", "fbld.db");
	out->busy_timeout_ms = config_duration_ms(cfg, "store", "busy_timeout",
						  5000, 0, 600000);
	out->synchronous_full =
		config_enum(cfg, "store", "synchronous", 0, sync);
}

void
store_config_clear(struct store_config *sc)
{
	g_clear_pointer(&sc->path, g_free);
}

/* Opens a transaction with the prepared BEGIN statement which. */
static int
store_begin_with(struct store *st, enum store_stmt which, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, which, error);

	if (!s || store_exec_stmt(st, s, error) < 0)
		return -1;
	st->in_tx = 1;
	return 0;
}

int
store_begin(struct store *st, GError **error)
{
	return store_begin_with(st, S_BEGIN, error);
}

int
store_commit(struct store *st, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_COMMIT, error);

	if (!s || store_exec_stmt(st, s, error) < 0)
		return -1;
	st->in_tx = 0;
	return 0;
}

void
store_rollback(struct store *st)
{
	sqlite3_stmt *s;

	if (!st->in_tx)
		return;
	s = store_stmt(st, S_ROLLBACK, NULL);
	if (s)
		store_exec_stmt(st, s, NULL);
	st->in_tx = 0;
}

/* ---- accounts ---------------------------------------------------------- */

int
store_account_find(struct store *st, const char *name, uint32_t *id,
		   GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACCOUNT_FIND, error);
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = (uint32_t)sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : store_fail(st, error, rc, "account");
}

int
store_account_ensure(struct store *st, const char *name, uint32_t *id,
		     GError **error)
{
	sqlite3_stmt *s;
	int r = store_account_find(st, name, id, error);

	if (r <= 0)
		return r;
	s = store_stmt(st, S_ACCOUNT_INSERT, error);
	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, g_get_real_time() / 1000);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	*id = (uint32_t)sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_account_name(struct store *st, uint32_t id, char **name, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACCOUNT_NAME, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*name = g_strdup((const char *)sqlite3_column_text(s, 0));
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : store_fail(st, error, rc, "account");
}

/* ---- account states --------------------------------------------------- */

void
store_account_state_clear(struct store_account_state *s)
{
	g_clear_pointer(&s->name, g_free);
	g_clear_pointer(&s->state, g_free);
	g_clear_pointer(&s->override_state, g_free);
	g_clear_pointer(&s->override_reason, g_free);
	s->effective = NULL;
}

static char *
store_col_dup(sqlite3_stmt *s, int i)
{
	return g_strdup((const char *)sqlite3_column_text(s, i));
}

int
store_account_state_get(struct store *st, uint32_t id, int64_t now_ms,
			struct store_account_state *out, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACCOUNT_STATE_GET, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? 1
					 : store_fail(st, error, rc, "state");
	}
	memset(out, 0, sizeof(*out));
	out->name = store_col_dup(s, 0);
	out->state = store_col_dup(s, 1);
	out->since_ms = sqlite3_column_int64(s, 2);
	out->override_state = store_col_dup(s, 3);
	out->override_reason = store_col_dup(s, 4);
	out->override_until_ms = sqlite3_column_int64(s, 5);
	sqlite3_reset(s);
	out->effective = out->state;
	if (out->override_state &&
	    (out->override_until_ms == 0 || out->override_until_ms > now_ms))
		out->effective = out->override_state;
	return 0;
}

static int
store_history_add(struct store *st, uint32_t id, int64_t ts_ms,
		  const char *from, const char *to, const char *source,
		  const char *reasons_json, int64_t sent, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_HISTORY_INSERT, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, ts_ms);
	store_bind_text(s, 3, from);
	store_bind_text(s, 4, to);
	store_bind_text(s, 5, source);
	store_bind_text(s, 6, reasons_json ? reasons_json : "[]");
	store_bind_id(s, 7, sent);
	return store_exec_stmt(st, s, error);
}

int
store_account_set_state(struct store *st, uint32_t id, int64_t ts_ms,
			const char *to, const char *source,
			const char *reasons_json, int64_t sent, GError **error)
{
	struct store_account_state cur;
	sqlite3_stmt *s;
	int r = store_account_state_get(st, id, ts_ms, &cur, error);

	if (r != 0) {
		if (r > 0)
			g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
				    "store: no account %u", id);
		return -1;
	}
	if (strcmp(cur.state, to) == 0) {
		store_account_state_clear(&cur);
		return 0;
	}
	s = store_stmt(st, S_ACCOUNT_STATE_SET, error);
	r = -1;
	if (s) {
		sqlite3_bind_int64(s, 1, id);
		store_bind_text(s, 2, to);
		sqlite3_bind_int64(s, 3, ts_ms);
		if (store_exec_stmt(st, s, error) == 0)
			r = store_history_add(st, id, ts_ms, cur.state, to,
					      source, reasons_json, sent,
					      error);
	}
	store_account_state_clear(&cur);
	return r;
}

int
store_account_override(struct store *st, uint32_t id, int64_t ts_ms,
		       const char *state, const char *reason, int64_t until_ms,
		       GError **error)
{
	struct store_account_state cur;
	sqlite3_stmt *s;
	char *reasons;
	JsonArray *arr;
	JsonNode *node;
	int r = store_account_state_get(st, id, ts_ms, &cur, error);

	if (r != 0) {
		if (r > 0)
			g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
				    "store: no account %u", id);
		return -1;
	}
	s = store_stmt(st, S_ACCOUNT_OVERRIDE_SET, error);
	if (!s) {
		store_account_state_clear(&cur);
		return -1;
	}
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, state);
	store_bind_text(s, 3, state ? reason : NULL);
	sqlite3_bind_int64(s, 4, state ? until_ms : 0);
	if (store_exec_stmt(st, s, error) < 0) {
		store_account_state_clear(&cur);
		return -1;
	}
	/* Pinning the same state again with the same words (a new expiry,
	 * say) changes nothing a reader of the history cares about. */
	if (g_strcmp0(state ? state : cur.state, cur.effective) == 0 &&
	    g_strcmp0(state ? reason : NULL, cur.override_reason) == 0) {
		store_account_state_clear(&cur);
		return 0;
	}
	arr = json_array_new();
	json_array_add_string_element(arr,
				      reason ? reason : "operator override");
	node = json_node_init_array(json_node_alloc(), arr);
	reasons = json_to_string(node, FALSE);
	r = store_history_add(st, id, ts_ms, cur.effective,
			      state ? state : cur.state, "operator", reasons,
			      -1, error);
	g_free(reasons);
	json_node_unref(node);
	json_array_unref(arr);
	store_account_state_clear(&cur);
	return r;
}

/* ---- sends ------------------------------------------------------------- */

int
store_send_reserve(struct store *st, uint32_t account, int64_t now_ms,
		   uint64_t *serial, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SEND_RESERVE, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_int64(s, 2, now_ms);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	*serial = (uint64_t)sqlite3_last_insert_rowid(st->db);
	return 0;
}

int
store_send_mint_serial(struct store *st, uint64_t *serial, GError **error)
{
	return *serial ? 0 : store_send_next_serial(st, serial, error);
}

int
store_send_minted(struct store *st, uint32_t account, uint64_t serial,
		  int64_t now_ms, const char *token, const char *recipient,
		  GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SEND_MINTED, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)serial);
	sqlite3_bind_int64(s, 2, account);
	sqlite3_bind_int64(s, 3, now_ms);
	store_bind_text(s, 4, token);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	if (!recipient)
		return 0;
	/* The recipient list the milter keeps, in the same form. */
	s = store_stmt(st, S_MILTER_SEND_RCPT, error);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)serial);
	store_bind_text(s, 2, recipient);
	return store_exec_stmt(st, s, error);
}

/* ---- reports ------------------------------------------------------------ */

int
store_report_add(struct store *st, const struct store_report *r, int64_t *id,
		 int *dup, GError **error)
{
	char *digest =
		g_compute_checksum_for_data(G_CHECKSUM_SHA256, r->raw, r->size);
	sqlite3_stmt *s = store_stmt(st, S_REPORT_FIND, error);
	int rc;

	if (!s)
		goto fail;
	store_bind_text(s, 1, digest);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*dup = 1;
		sqlite3_reset(s);
		g_free(digest);
		return 0;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		store_fail(st, error, rc, "report lookup");
		goto fail;
	}
	s = store_stmt(st, S_REPORT_INSERT, error);
	if (!s)
		goto fail;
	sqlite3_bind_int64(s, 1, r->received_ms);
	store_bind_text(s, 2, r->source);
	store_bind_text(s, 3, digest);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)r->size);
	sqlite3_bind_int64(s, 5, r->orig_size);
	sqlite3_bind_int(s, 6, r->truncated);
	sqlite3_bind_blob64(s, 7, r->raw, r->size, SQLITE_STATIC);
	if (store_exec_stmt(st, s, error) < 0)
		goto fail;
	*id = sqlite3_last_insert_rowid(st->db);
	*dup = 0;
	g_free(digest);
	return 0;
fail:
	g_free(digest);
	return -1;
}

int
store_report_classify(struct store *st, int64_t id,
		      const struct store_report_result *res, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_REPORT_CLASSIFY, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, res->kind);
	store_bind_text(s, 3, res->error);
	store_bind_id(s, 4, res->account);
	store_bind_id(s, 5, res->send);
	store_bind_text(s, 6, res->token_error);
	return store_exec_stmt(st, s, error);
}

static int64_t
store_col_id(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL
		       ? -1
		       : sqlite3_column_int64(s, i);
}

int
store_report_list(struct store *st, int64_t id, const char *kind, int limit,
		  int with_raw,
		  void (*fn)(void *ud, const struct store_report_row *row),
		  void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_REPORT_LIST, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, kind);
	sqlite3_bind_int(s, 3, limit);
	sqlite3_bind_int(s, 4, with_raw);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_report_row row = {
			.id = sqlite3_column_int64(s, 0),
			.received_ms = sqlite3_column_int64(s, 1),
			.source = (const char *)sqlite3_column_text(s, 2),
			.size = sqlite3_column_int64(s, 3),
			.orig_size = sqlite3_column_int64(s, 4),
			.truncated = sqlite3_column_int(s, 5),
			.kind = (const char *)sqlite3_column_text(s, 6),
			.error = (const char *)sqlite3_column_text(s, 7),
			.account = store_col_id(s, 8),
			.send = store_col_id(s, 9),
			.token_error = (const char *)sqlite3_column_text(s, 10),
			.raw = sqlite3_column_blob(s, 11),
			.raw_len = (size_t)sqlite3_column_bytes(s, 11),
		};
		fn(ud, &row);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "reports");
}

GHashTable *
store_report_counts(struct store *st, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_REPORT_COUNTS, error);
	GHashTable *h;
	int rc;

	if (!s)
		return NULL;
	h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		g_hash_table_insert(
			h, g_strdup((const char *)sqlite3_column_text(s, 0)),
			GINT_TO_POINTER(sqlite3_column_int(s, 1)));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		g_hash_table_unref(h);
		store_fail(st, error, rc, "report counts");
		return NULL;
	}
	return h;
}

/* ---- events ------------------------------------------------------------- */

/* Records event id as the send's first open of its kind, unless there is
 * one: the index by send leaves opens out (migration 6). */
static int
store_first_open(struct store *st, uint64_t send, int machine, int64_t id,
		 GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_TRACKING_FIRST_OPEN, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)send);
	sqlite3_bind_int(s, 2, machine != 0);
	sqlite3_bind_int64(s, 3, id);
	return store_exec_stmt(st, s, error);
}

int
store_event_add(struct store *st, const struct store_event *ev, int *dup,
		GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_EVENT_INSERT, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, ev->ts_ms);
	store_bind_text(s, 2, ev->type);
	store_bind_id(s, 3, ev->account);
	store_bind_id(s, 4, ev->send);
	store_bind_id(s, 5, ev->report);
	store_bind_text(s, 6, ev->recipient);
	store_bind_text(s, 7, ev->reason);
	store_bind_text(s, 8, ev->klass);
	store_bind_text(s, 9, ev->status);
	store_bind_text(s, 10, ev->diagnostic);
	sqlite3_bind_int(s, 11, ev->machine);
	store_bind_text(s, 12, ev->verdict);
	store_bind_text(s, 13, ev->detail);
	store_bind_text(s, 14, ev->dedup);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	if (dup)
		*dup = sqlite3_changes(st->db) == 0;
	/* An open is found by send through send_opens (migration 6). */
	if (ev->type && strcmp(ev->type, "open") == 0 && ev->send >= 0 &&
	    sqlite3_changes(st->db) > 0)
		return store_first_open(st, (uint64_t)ev->send, ev->machine,
					sqlite3_last_insert_rowid(st->db),
					error);
	return 0;
}

int
store_query(struct store *st, const char *sql,
	    void (*row)(void *ud, int ncol, const char *const *cols), void *ud,
	    GError **error)
{
	sqlite3_stmt *s;
	const char **cols;
	int n, rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_fail(st, error, rc, sql);
	if (!sqlite3_stmt_readonly(s)) {
		sqlite3_finalize(s);
		g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
			    "store: query is not read-only");
		return -1;
	}
	n = sqlite3_column_count(s);
	cols = g_new0(const char *, (size_t)n + 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			cols[i] = (const char *)sqlite3_column_text(s, i);
		row(ud, n, cols);
	}
	g_free(cols);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, sql);
}

/* ---- actions: alert outbox, listings and summaries ---------------------- */

void
store_outbox_row_free(struct store_outbox_row *r)
{
	if (!r)
		return;
	g_free(r->channel);
	g_free(r->idem_key);
	g_free(r->payload);
	g_free(r->last_error);
	g_free(r);
}

static int64_t
store_col_ms(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL
		       ? 0
		       : sqlite3_column_int64(s, i);
}

/* A row of STORE_OUTBOX_COLS. */
static struct store_outbox_row *
store_outbox_row(sqlite3_stmt *s)
{
	struct store_outbox_row *r = g_new0(struct store_outbox_row, 1);

	r->id = sqlite3_column_int64(s, 0);
	r->created_ms = sqlite3_column_int64(s, 1);
	r->channel = store_col_dup(s, 2);
	r->idem_key = store_col_dup(s, 3);
	r->payload = store_col_dup(s, 4);
	r->account = store_col_id(s, 5);
	r->attempts = sqlite3_column_int(s, 6);
	r->next_ms = sqlite3_column_int64(s, 7);
	r->done_ms = store_col_ms(s, 8);
	r->dead_ms = store_col_ms(s, 9);
	r->last_error = store_col_dup(s, 10);
	return r;
}

/* Steps s to the end, collecting rows of STORE_OUTBOX_COLS. */
static GPtrArray *
store_outbox_rows(struct store *st, sqlite3_stmt *s, GError **error)
{
	GPtrArray *rows = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_outbox_row_free);
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		g_ptr_array_add(rows, store_outbox_row(s));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		g_ptr_array_unref(rows);
		store_fail(st, error, rc, "outbox");
		return NULL;
	}
	return rows;
}

int
store_outbox_add(struct store *st, const struct store_outbox_item *it, int *dup,
		 GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OUTBOX_ADD, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, it->created_ms);
	store_bind_text(s, 2, it->channel);
	store_bind_text(s, 3, it->idem_key);
	store_bind_text(s, 4, it->payload);
	sqlite3_bind_int64(s, 5, it->next_ms);
	store_bind_id(s, 6, it->account);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	if (dup)
		*dup = sqlite3_changes(st->db) == 0;
	return 0;
}

GPtrArray *
store_outbox_claim(struct store *st, int64_t now_ms, int64_t lease_ms,
		   int limit, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OUTBOX_CLAIM, error);

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, lease_ms);
	sqlite3_bind_int(s, 3, limit);
	return store_outbox_rows(st, s, error);
}

/* Runs one of the outbox updates keyed by id. */
static int
store_outbox_update(struct store *st, enum store_stmt id_stmt, int64_t id,
		    int64_t ms, const char *why, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, id_stmt, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, ms);
	if (why)
		store_bind_text(s, 3, why);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	return sqlite3_changes(st->db) > 0 ? 0 : 1;
}

int
store_outbox_done(struct store *st, int64_t id, int64_t now_ms, GError **error)
{
	return store_outbox_update(st, S_ACT_OUTBOX_DONE, id, now_ms, NULL,
				   error) < 0
		       ? -1
		       : 0;
}

int
store_outbox_retry(struct store *st, int64_t id, int64_t next_ms,
		   const char *why, GError **error)
{
	return store_outbox_update(st, S_ACT_OUTBOX_RETRY, id, next_ms,
				   why ? why : "failed", error) < 0
		       ? -1
		       : 0;
}

int
store_outbox_dead(struct store *st, int64_t id, int64_t now_ms, const char *why,
		  GError **error)
{
	return store_outbox_update(st, S_ACT_OUTBOX_DEAD, id, now_ms,
				   why ? why : "failed", error) < 0
		       ? -1
		       : 0;
}

int
store_outbox_requeue(struct store *st, int64_t id, int64_t now_ms,
		     GError **error)
{
	return store_outbox_update(st, S_ACT_OUTBOX_REQUEUE, id, now_ms, NULL,
				   error);
}

/* A single integer that may be NULL: 0 with *out set, 1 for NULL. */
static int
store_one_int(struct store *st, sqlite3_stmt *s, int64_t *out, GError **error)
{
	int rc = sqlite3_step(s);
	int null = rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_NULL;

	if (rc == SQLITE_ROW && !null)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_fail(st, error, rc, sqlite3_sql(s));
	return null ? 1 : 0;
}

int
store_outbox_next_due(struct store *st, int64_t *next_ms, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OUTBOX_NEXT, error);

	return s ? store_one_int(st, s, next_ms, error) : -1;
}

int64_t
store_outbox_purge(struct store *st, int64_t before_ms, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OUTBOX_PURGE, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, before_ms);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	return sqlite3_changes(st->db);
}

GPtrArray *
store_outbox_digest_items(struct store *st, int limit, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OUTBOX_DIGEST, error);

	if (!s)
		return NULL;
	sqlite3_bind_int(s, 1, limit);
	return store_outbox_rows(st, s, error);
}

int
store_outbox_last(struct store *st, const char *channel, int64_t *created_ms,
		  GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OUTBOX_LAST, error);

	if (!s)
		return -1;
	store_bind_text(s, 1, channel);
	return store_one_int(st, s, created_ms, error);
}

GPtrArray *
store_outbox_list(struct store *st, const char *status, int64_t account,
		  int64_t before_id, int limit, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OUTBOX_LIST, error);

	if (!s)
		return NULL;
	store_bind_text(s, 1, status);
	sqlite3_bind_int64(s, 2, account);
	sqlite3_bind_int64(s, 3, before_id);
	sqlite3_bind_int(s, 4, limit);
	return store_outbox_rows(st, s, error);
}

static void
store_outbox_stat_free(gpointer p)
{
	struct store_outbox_stat *o = p;

	g_free(o->channel);
	g_free(o);
}

GPtrArray *
store_outbox_stats(struct store *st, int64_t since_ms, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OUTBOX_STATS, error);
	GPtrArray *out;
	int rc;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, since_ms);
	out = g_ptr_array_new_with_free_func(store_outbox_stat_free);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_outbox_stat *o =
			g_new0(struct store_outbox_stat, 1);

		o->channel = store_col_dup(s, 0);
		o->pending = sqlite3_column_int64(s, 1);
		o->done = sqlite3_column_int64(s, 2);
		o->dead = sqlite3_column_int64(s, 3);
		g_ptr_array_add(out, o);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		g_ptr_array_unref(out);
		store_fail(st, error, rc, "outbox stats");
		return NULL;
	}
	return out;
}

int
store_account_list(struct store *st, int64_t now_ms, const char *state,
		   int limit, int offset,
		   void (*fn)(void *ud, uint32_t id,
			      const struct store_account_state *s),
		   void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_ACCOUNT_LIST, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms);
	store_bind_text(s, 2, state);
	sqlite3_bind_int(s, 3, limit);
	sqlite3_bind_int(s, 4, offset);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_account_state a = {
			.name = (char *)sqlite3_column_text(s, 1),
			.state = (char *)sqlite3_column_text(s, 2),
			.since_ms = sqlite3_column_int64(s, 3),
			.override_state = (char *)sqlite3_column_text(s, 4),
			.override_reason = (char *)sqlite3_column_text(s, 5),
			.override_until_ms = store_col_ms(s, 6),
		};

		a.effective = a.state;
		if (a.override_state &&
		    (a.override_until_ms == 0 || a.override_until_ms > now_ms))
			a.effective = a.override_state;
		fn(ud, (uint32_t)sqlite3_column_int64(s, 0), &a);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "accounts");
}

/* Adds n rows of one kind to c; machine -1 marks the sends. */
static void
store_counts_add(struct store_counts *c, const char *type, const char *klass,
		 int machine, int64_t n, int64_t rcpts)
{
	if (machine < 0) {
		c->sent += n;
		c->recipients += rcpts;
	} else if (!type)
		c->other += n;
	else if (strcmp(type, "bounce") == 0)
		*(klass && strcmp(klass, "hard") == 0 ? &c->bounce_hard
						      : &c->bounce_soft) += n;
	else if (strcmp(type, "delay") == 0)
		c->delays += n;
	else if (strcmp(type, "complaint") == 0)
		c->complaints += n;
	else if (strcmp(type, "unsubscribe") == 0)
		c->unsubscribes += n;
	else if (strcmp(type, "open") == 0)
		*(machine ? &c->opens_machine : &c->opens) += n;
	else if (strcmp(type, "click") == 0)
		*(machine ? &c->clicks_machine : &c->clicks) += n;
	else
		c->other += n;
}

/* Adds the rows of one counting statement to the windows they fall in:
 * columns ts, recipients, type, class, machine (-1 for a send). */
static int
store_counts_scan(struct store *st, enum store_stmt id, int64_t account,
		  int64_t until_ms, const int64_t *windows_ms, int n,
		  struct store_counts *out, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, id, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_int64(s, 2, until_ms - windows_ms[n - 1]);
	sqlite3_bind_int64(s, 3, until_ms);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t age = until_ms - sqlite3_column_int64(s, 0);
		int i = 0;

		while (age > windows_ms[i])
			i++;
		/* A row counts in its window and every longer one. */
		for (; i < n; i++)
			store_counts_add(
				&out[i],
				(const char *)sqlite3_column_text(s, 2),
				(const char *)sqlite3_column_text(s, 3),
				sqlite3_column_int(s, 4), 1,
				sqlite3_column_int64(s, 1));
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "counts");
}

int
store_counts_windows(struct store *st, int64_t account, int64_t until_ms,
		     const int64_t *windows_ms, int n, struct store_counts *out,
		     GError **error)
{
	int one = account >= 0;

	g_return_val_if_fail(n >= 1 && n <= STORE_COUNTS_WINDOWS, -1);
	memset(out, 0, sizeof(*out) * (size_t)n);
	if (store_counts_scan(st,
			      one ? S_ACT_COUNTS_SENDS : S_ACT_COUNTS_ALL_SENDS,
			      account, until_ms, windows_ms, n, out, error) < 0)
		return -1;
	return store_counts_scan(
		st, one ? S_ACT_COUNTS_EVENTS : S_ACT_COUNTS_ALL_EVENTS,
		account, until_ms, windows_ms, n, out, error);
}

int
store_counts(struct store *st, int64_t account, int64_t since_ms,
	     int64_t until_ms, struct store_counts *out, GError **error)
{
	int64_t w = until_ms - since_ms;

	return store_counts_windows(st, account, until_ms, &w, 1, out, error);
}

int
store_history_list(struct store *st, int64_t account, int64_t since_ms,
		   int64_t until_ms, int limit,
		   void (*fn)(void *ud, const struct store_history_row *r),
		   void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_HISTORY_LIST, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_int64(s, 2, since_ms);
	sqlite3_bind_int64(s, 3, until_ms);
	sqlite3_bind_int(s, 4, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_history_row r = {
			.id = sqlite3_column_int64(s, 0),
			.account = (uint32_t)sqlite3_column_int64(s, 1),
			.account_name = (const char *)sqlite3_column_text(s, 2),
			.ts_ms = sqlite3_column_int64(s, 3),
			.from = (const char *)sqlite3_column_text(s, 4),
			.to = (const char *)sqlite3_column_text(s, 5),
			.source = (const char *)sqlite3_column_text(s, 6),
			.reasons_json = (const char *)sqlite3_column_text(s, 7),
			.sent = store_col_id(s, 8),
		};
		fn(ud, &r);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "history");
}

int
store_event_list(struct store *st, uint32_t account, int64_t before_id,
		 int limit,
		 void (*fn)(void *ud, int64_t id, const struct store_event *ev),
		 void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_EVENT_LIST, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_int64(s, 2, before_id);
	sqlite3_bind_int(s, 3, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event ev = {
			.ts_ms = sqlite3_column_int64(s, 1),
			.type = (const char *)sqlite3_column_text(s, 2),
			.account = store_col_id(s, 3),
			.send = store_col_id(s, 4),
			.report = store_col_id(s, 5),
			.recipient = (const char *)sqlite3_column_text(s, 6),
			.reason = (const char *)sqlite3_column_text(s, 7),
			.klass = (const char *)sqlite3_column_text(s, 8),
			.status = (const char *)sqlite3_column_text(s, 9),
			.diagnostic = (const char *)sqlite3_column_text(s, 10),
			.machine = sqlite3_column_int(s, 11),
			.verdict = (const char *)sqlite3_column_text(s, 12),
			.detail = (const char *)sqlite3_column_text(s, 13),
			.dedup = (const char *)sqlite3_column_text(s, 14),
		};
		fn(ud, sqlite3_column_int64(s, 0), &ev);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "events");
}

int
store_top_accounts(struct store *st, int64_t since_ms, int64_t until_ms,
		   int limit,
		   void (*fn)(void *ud, uint32_t id, const char *name,
			      int64_t complaints, int64_t bounce_hard),
		   void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_TOP, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, since_ms);
	sqlite3_bind_int64(s, 2, until_ms);
	sqlite3_bind_int(s, 3, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (uint32_t)sqlite3_column_int64(s, 0),
		   (const char *)sqlite3_column_text(s, 1),
		   sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0
				 : store_fail(st, error, rc, "top accounts");
}

int
store_account_override_since(struct store *st, uint32_t id, int64_t *ts_ms,
			     GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_ACT_OVERRIDE_SINCE, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	return store_one_int(st, s, ts_ms, error);
}

/* ---- fbl ---------------------------------------------------------------- */

int
store_send_by_message_id(struct store *st, const char *message_id,
			 int64_t *account, int64_t *send, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_FBL_SEND_BY_MSGID, error);
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, message_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*send = sqlite3_column_int64(s, 0);
		*account = sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : store_fail(st, error, rc, "send lookup");
}

int
store_dmarc_seen(struct store *st, const char *org, const char *report_ref,
		 const char *domain, int64_t report_id, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_FBL_DMARC_SEEN, error);
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, org);
	store_bind_text(s, 2, report_ref);
	store_bind_text(s, 3, domain);
	sqlite3_bind_int64(s, 4, report_id);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0
				 : store_fail(st, error, rc, "dmarc lookup");
}

int
store_dmarc_add(struct store *st, const struct store_dmarc_record *rec,
		GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_FBL_DMARC_INSERT, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, rec->report_id);
	store_bind_text(s, 2, rec->org);
	store_bind_text(s, 3, rec->report_ref);
	sqlite3_bind_int64(s, 4, rec->begin_s);
	sqlite3_bind_int64(s, 5, rec->end_s);
	store_bind_text(s, 6, rec->policy_domain);
	store_bind_text(s, 7, rec->source_ip);
	store_bind_text(s, 8, rec->header_from);
	sqlite3_bind_int64(s, 9, rec->count);
	store_bind_text(s, 10, rec->disposition);
	store_bind_text(s, 11, rec->dkim);
	store_bind_text(s, 12, rec->spf);
	return store_exec_stmt(st, s, error);
}

int
store_mailbox_get(struct store *st, const char *mailbox, uint32_t *uidvalidity,
		  uint32_t *last_uid, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_FBL_MAILBOX_GET, error);
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, mailbox);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(s, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(s, 1);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : store_fail(st, error, rc, "mailbox");
}

int
store_mailbox_set(struct store *st, const char *mailbox, uint32_t uidvalidity,
		  uint32_t last_uid, int64_t stored, int64_t now_ms,
		  GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_FBL_MAILBOX_SET, error);

	if (!s)
		return -1;
	store_bind_text(s, 1, mailbox);
	sqlite3_bind_int64(s, 2, uidvalidity);
	sqlite3_bind_int64(s, 3, last_uid);
	sqlite3_bind_int64(s, 4, now_ms);
	sqlite3_bind_int64(s, 5, stored);
	return store_exec_stmt(st, s, error);
}

/* ---- milter --------------------------------------------------------------- */

int
store_send_next_serial(struct store *st, uint64_t *serial, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_MILTER_NEXT_SERIAL, error);
	int64_t v = 0;
	int r = s ? store_one_int(st, s, &v, error) : -1;

	*serial = (uint64_t)v;
	return r < 0 ? -1 : 0;
}

int
store_send_insert(struct store *st, const struct store_send *snd,
		  GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_MILTER_SEND_RECORD, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)snd->serial);
	store_bind_text(s, 2, snd->token);
	store_bind_text(s, 3, snd->message_id);
	store_bind_text(s, 4, snd->queue_id);
	store_bind_text(s, 5, snd->env_from);
	store_bind_text(s, 6, snd->identity_source);
	sqlite3_bind_int64(s, 7, snd->n_rcpts);
	sqlite3_bind_int64(s, 8, snd->size);
	store_bind_text(s, 9, snd->fingerprint);
	sqlite3_bind_int64(s, 10, snd->account);
	sqlite3_bind_int64(s, 11, snd->created_ms);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	for (unsigned i = 0; i < snd->n_rcpts; i++) {
		if (!(s = store_stmt(st, S_MILTER_SEND_RCPT, error)))
			return -1;
		sqlite3_bind_int64(s, 1, (sqlite3_int64)snd->serial);
		store_bind_text(s, 2, snd->rcpts[i]);
		if (store_exec_stmt(st, s, error) < 0)
			return -1;
	}
	return 0;
}

int
store_account_settings(struct store *st, uint32_t id, char **bounce_domain,
		       char **options, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_MILTER_ACCOUNT_SETTINGS, error);
	int rc;

	*bounce_domain = *options = NULL;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*bounce_domain = store_col_dup(s, 0);
		*options = store_col_dup(s, 1);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : store_fail(st, error, rc, "account");
}

int
store_domain_lookup(struct store *st, const char *domain, uint32_t *account,
		    char **bounce_domain, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_MILTER_DOMAIN_LOOKUP, error);
	int rc;

	if (bounce_domain)
		*bounce_domain = NULL;
	if (!s)
		return -1;
	store_bind_text(s, 1, domain);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*account = (uint32_t)sqlite3_column_int64(s, 0);
		if (bounce_domain)
			*bounce_domain = store_col_dup(s, 1);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : store_fail(st, error, rc, "domain");
}

int
store_suppression_contains(struct store *st, uint32_t account,
			   const char *recipient, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_MILTER_SUPPRESSION, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account);
	store_bind_text(s, 2, recipient);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "suppression");
}

int
store_send_rcpts_since(struct store *st, uint32_t account, int64_t since_ms,
		       int64_t *count, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_MILTER_RCPTS_SINCE, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_int64(s, 2, since_ms);
	rc = sqlite3_step(s);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, error, rc, "rate");
}

/* ---- scoring ------------------------------------------------------------- */

int
store_scoring_value_get(struct store *st, const char *name, int64_t *value,
			GBytes **data, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_VALUE_GET, error);
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (value)
			*value = sqlite3_column_int64(s, 0);
		if (data)
			*data = g_bytes_new(sqlite3_column_blob(s, 1),
					    (gsize)sqlite3_column_bytes(s, 1));
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 1 : store_fail(st, error, rc, name);
}

int
store_scoring_value_set(struct store *st, const char *name, int64_t value,
			const void *data, size_t len, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_VALUE_SET, error);

	if (!s)
		return -1;
	store_bind_text(s, 1, name);
	sqlite3_bind_int64(s, 2, value);
	if (data)
		sqlite3_bind_blob64(s, 3, data, len, SQLITE_STATIC);
	return store_exec_stmt(st, s, error);
}

int
store_scoring_account_put(struct store *st, uint32_t id, int64_t updated_ms,
			  const void *model, size_t len, const char *stats_json,
			  GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_ACCOUNT_PUT, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, updated_ms);
	sqlite3_bind_blob64(s, 3, model, len, SQLITE_STATIC);
	store_bind_text(s, 4, stats_json);
	return store_exec_stmt(st, s, error);
}

/* Calls fn(ud, key, blob, len) for each row of a (key, blob) statement;
 * key is the text or, as a decimal string, the integer of column 0. */
static int
store_scoring_blobs(struct store *st, enum store_stmt id,
		    void (*fn)(void *ud, const char *key, const void *data,
			       size_t len),
		    void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, id, error);
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (const char *)sqlite3_column_text(s, 0),
		   sqlite3_column_blob(s, 1),
		   (size_t)sqlite3_column_bytes(s, 1));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "scoring");
}

int
store_scoring_account_load(struct store *st,
			   void (*fn)(void *ud, const char *id,
				      const void *model, size_t len),
			   void *ud, GError **error)
{
	return store_scoring_blobs(st, S_SCORING_ACCOUNT_LOAD, fn, ud, error);
}

int
store_scoring_stats_get(struct store *st, uint32_t id, char **json,
			GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_STATS_GET, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*json = store_col_dup(s, 0);
		sqlite3_reset(s);
		return 0;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 1;
	return store_fail(st, error, rc, "scoring stats");
}

int
store_scoring_fp_put(struct store *st, const char *fp, int64_t updated_ms,
		     const void *model, size_t len, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_FP_PUT, error);

	if (!s)
		return -1;
	store_bind_text(s, 1, fp);
	sqlite3_bind_int64(s, 2, updated_ms);
	sqlite3_bind_blob64(s, 3, model, len, SQLITE_STATIC);
	return store_exec_stmt(st, s, error);
}

int
store_scoring_fp_load(struct store *st,
		      void (*fn)(void *ud, const char *fp, const void *model,
				 size_t len),
		      void *ud, GError **error)
{
	return store_scoring_blobs(st, S_SCORING_FP_LOAD, fn, ud, error);
}

int
store_scoring_hour_put(struct store *st, uint32_t id, int64_t hour_ms,
		       const uint32_t *counts, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_HOUR_PUT, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, hour_ms);
	for (int i = 0; i < STORE_SCORING_COUNTERS; i++)
		sqlite3_bind_int64(s, 3 + i, counts[i]);
	return store_exec_stmt(st, s, error);
}

int
store_scoring_prune(struct store *st, int64_t hours_before_ms,
		    int64_t fps_before_ms, GError **error)
{
	char *sql = g_strdup_printf(
		"DELETE FROM scoring_hours WHERE hour_ms < %" G_GINT64_FORMAT
		"; DELETE FROM scoring_fingerprints WHERE updated_ms < "
		"%" G_GINT64_FORMAT,
		hours_before_ms, fps_before_ms);
	int r = store_exec(st, sql, error);

	g_free(sql);
	return r;
}

int
store_scoring_sends(struct store *st, int64_t after, int limit,
		    int (*fn)(void *ud, const struct store_scoring_send *s),
		    void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_SENDS, error);
	int rc, stop = 0;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, limit);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_scoring_send row = {
			.id = sqlite3_column_int64(s, 0),
			.account = (uint32_t)sqlite3_column_int64(s, 1),
			.created_ms = sqlite3_column_int64(s, 2),
			.fingerprint = (const char *)sqlite3_column_text(s, 3),
			.rcpt = (const char *)sqlite3_column_text(s, 4),
			.rcpt_count = sqlite3_column_int64(s, 5),
		};
		stop = fn(ud, &row);
	}
	sqlite3_reset(s);
	if (stop)
		return 0;
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "sends");
}

int
store_scoring_events(struct store *st, int64_t after, int limit,
		     int (*fn)(void *ud, const struct store_scoring_event *e),
		     void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_EVENTS, error);
	int rc, stop = 0;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, limit);
	while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_scoring_event row = {
			.id = sqlite3_column_int64(s, 0),
			.ts_ms = sqlite3_column_int64(s, 1),
			.type = (const char *)sqlite3_column_text(s, 2),
			.account = store_col_id(s, 3),
			.send = store_col_id(s, 4),
			.recipient = (const char *)sqlite3_column_text(s, 5),
			.reason = (const char *)sqlite3_column_text(s, 6),
			.klass = (const char *)sqlite3_column_text(s, 7),
			.machine = sqlite3_column_int(s, 8),
			.send_account = store_col_id(s, 9),
			.send_ms = store_col_id(s, 10),
			.fingerprint = (const char *)sqlite3_column_text(s, 11),
		};
		stop = fn(ud, &row);
	}
	sqlite3_reset(s);
	if (stop)
		return 0;
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "events");
}

int
store_scoring_prior(struct store *st, int64_t send, const char *recipient,
		    int64_t before, unsigned *mask, GError **error)
{
	static const struct {
		const char *type;
		unsigned human, machine;
	} kinds[] = {
		{ "bounce", STORE_PRIOR_BOUNCE, STORE_PRIOR_BOUNCE },
		{ "complaint", STORE_PRIOR_COMPLAINT, STORE_PRIOR_COMPLAINT },
		{ "open", STORE_PRIOR_OPEN_HUMAN, STORE_PRIOR_OPEN_MACHINE },
		{ "click", STORE_PRIOR_CLICK_HUMAN, STORE_PRIOR_CLICK_MACHINE },
		{ "unsubscribe", STORE_PRIOR_UNSUB, STORE_PRIOR_UNSUB },
	};
	sqlite3_stmt *s = store_stmt(st, S_SCORING_PRIOR, error);
	int rc;

	*mask = 0;
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, send);
	sqlite3_bind_int64(s, 2, before);
	store_bind_text(s, 3, recipient);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		int machine = sqlite3_column_int(s, 1);

		for (size_t i = 0; t && i < G_N_ELEMENTS(kinds); i++)
			if (strcmp(t, kinds[i].type) == 0)
				*mask |= machine ? kinds[i].machine
						 : kinds[i].human;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "events");
}

int
store_scoring_overrides(struct store *st,
			void (*fn)(void *ud, uint32_t id, const char *state,
				   const char *reason, int64_t until_ms),
			void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_OVERRIDES, error);
	int rc;

	if (!s)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (uint32_t)sqlite3_column_int64(s, 0),
		   (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2),
		   sqlite3_column_int64(s, 3));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "overrides");
}

int
store_scoring_expire(struct store *st, uint32_t id, int64_t ts_ms,
		     const char *reasons_json, int64_t sent, GError **error)
{
	struct store_account_state cur;
	sqlite3_stmt *s;
	int r = store_account_state_get(st, id, INT64_MIN, &cur, error);

	if (r != 0) {
		if (r > 0)
			g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
				    "store: no account %u", id);
		return -1;
	}
	r = -1;
	s = store_stmt(st, S_SCORING_EXPIRE, error);
	if (s) {
		sqlite3_bind_int64(s, 1, id);
		if (store_exec_stmt(st, s, error) == 0)
			r = store_history_add(
				st, id, ts_ms,
				cur.override_state ? cur.override_state
						   : cur.state,
				cur.state, "expiry", reasons_json, sent, error);
	}
	store_account_state_clear(&cur);
	return r;
}

int
store_scoring_rcpts(struct store *st, int64_t since_ms, int64_t upto,
		    void (*fn)(void *ud, uint32_t account, const char *rcpt),
		    void *ud, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_SCORING_RCPTS, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, since_ms);
	sqlite3_bind_int64(s, 2, upto);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (uint32_t)sqlite3_column_int64(s, 0),
		   (const char *)sqlite3_column_text(s, 1));
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : store_fail(st, error, rc, "recipients");
}

/* ---- tracking ---------------------------------------------------------- */

int
store_set_autocheckpoint(struct store *st, int pages, GError **error)
{
	char sql[64];

	g_snprintf(sql, sizeof(sql), "PRAGMA wal_autocheckpoint = %d", pages);
	return store_exec(st, sql, error);
}

int
store_checkpoint(struct store *st, GError **error)
{
	return store_exec(st, "PRAGMA wal_checkpoint(PASSIVE)", error);
}

int
store_set_cache(struct store *st, int64_t bytes, GError **error)
{
	char sql[64];

	/* A negative cache_size is in KiB. */
	g_snprintf(sql, sizeof(sql), "PRAGMA cache_size = %" G_GINT64_FORMAT,
		   -(bytes / 1024));
	return store_exec(st, sql, error);
}

/* A string the caller keeps valid until the statement has run: bound
 * without a copy. */
static void
store_bind_static(sqlite3_stmt *s, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, i);
}

/* Binds h, as event id, to the 15 parameters from index base + 1 on. */
static void
store_bind_hit(sqlite3_stmt *s, int base, int64_t id, const struct store_hit *h)
{
	sqlite3_bind_int64(s, base + 1, id);
	sqlite3_bind_int64(s, base + 2, h->ts_ms);
	store_bind_static(s, base + 3, h->type);
	sqlite3_bind_int64(s, base + 4, h->account);
	sqlite3_bind_int64(s, base + 5, (sqlite3_int64)h->send);
	store_bind_static(s, base + 6, h->recipient);
	store_bind_static(s, base + 7, h->reason);
	sqlite3_bind_int(s, base + 8, h->machine);
	store_bind_static(s, base + 9, h->verdict);
	store_bind_static(s, base + 10, h->why);
	store_bind_static(s, base + 11, h->ip);
	store_bind_static(s, base + 12, h->user_agent);
	store_bind_static(s, base + 13, h->url);
	store_bind_id(s, base + 14, h->since_send_ms);
	store_bind_static(s, base + 15, h->dedup);
}

/* The largest event id: inside the caller's write transaction, the hits
 * take the ids after it, so each hit's id is known without asking. */
static int
store_last_event(struct store *st, int64_t *id, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_TRACKING_LAST_EVENT, error);

	return s ? store_one_int(st, s, id, error) : -1;
}

int
store_hits_add(struct store *st, const struct store_hit *hits, size_t n,
	       GError **error)
{
	int64_t base = 0;
	size_t i = 0;

	if (store_last_event(st, &base, error) < 0)
		return -1;
	while (i < n) {
		int rows = n - i >= STORE_HIT_ROWS ? STORE_HIT_ROWS : 1;
		sqlite3_stmt *s = store_stmt(st,
					     rows > 1 ? S_TRACKING_HITS_INSERT
						      : S_TRACKING_HIT_INSERT,
					     error);

		if (!s)
			return -1;
		for (int r = 0; r < rows; r++)
			store_bind_hit(s, r * STORE_HIT_PARAMS,
				       base + 1 + (int64_t)(i + (size_t)r),
				       &hits[i + (size_t)r]);
		if (store_exec_stmt(st, s, error) < 0)
			return -1;
		i += (size_t)rows;
	}
	for (i = 0; i < n; i++)
		if (hits[i].first_open &&
		    store_first_open(st, hits[i].send, hits[i].machine,
				     base + 1 + (int64_t)i, error) < 0)
			return -1;
	return 0;
}

int
store_hits_reclassify(struct store *st, uint64_t send, const char *type,
		      int64_t from_ms, int64_t to_ms, const char *verdict,
		      const char *reason, const char *why, int *n,
		      GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_TRACKING_RECLASSIFY, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)send);
	store_bind_text(s, 2, type);
	sqlite3_bind_int64(s, 3, from_ms);
	sqlite3_bind_int64(s, 4, to_ms);
	store_bind_text(s, 5, verdict);
	store_bind_text(s, 6, reason);
	store_bind_text(s, 7, why);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	if (n)
		*n = sqlite3_changes(st->db);
	return 0;
}

int
store_send_created(struct store *st, uint64_t send, int64_t *created_ms,
		   GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_TRACKING_SEND_CREATED, error);
	int rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)send);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*created_ms = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? 1 : store_fail(st, error, rc, "send");
}

int
store_send_single_rcpt(struct store *st, uint64_t send, char **rcpt,
		       GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_TRACKING_SEND_RCPTS, error);
	char *first = NULL;
	int rc, n = 0;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)send);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (n++ == 0)
			first = g_strdup(
				(const char *)sqlite3_column_text(s, 0));
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		g_free(first);
		return store_fail(st, error, rc, "send recipients");
	}
	if (n != 1) {
		g_free(first);
		return 1;
	}
	*rcpt = first;
	return 0;
}

/* ---- suppressions ------------------------------------------------------- */

int
store_suppression_add(struct store *st, uint32_t account, const char *recipient,
		      const char *reason, int64_t now_ms, int *added,
		      GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_TRACKING_ACCOUNT_PLACEHOLDER, error);

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account);
	sqlite3_bind_int64(s, 2, now_ms);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	s = store_stmt(st, S_TRACKING_SUPPRESSION_INSERT, error);
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, account);
	store_bind_text(s, 2, recipient);
	store_bind_text(s, 3, reason);
	sqlite3_bind_int64(s, 4, now_ms);
	if (store_exec_stmt(st, s, error) < 0)
		return -1;
	if (added)
		*added = sqlite3_changes(st->db) > 0;
	return 0;
}

/* ---- milter: read transactions ---- */

int
store_read_begin(struct store *st, GError **error)
{
	return store_begin_with(st, S_MILTER_READ_BEGIN, error);
}
