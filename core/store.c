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
	/* 2 (milter): a bounce domain per sending domain, so the return
	 * path can sit under the customer's own domain (DMARC SPF
	 * alignment). */
	"ALTER TABLE account_domains ADD COLUMN bounce_domain TEXT;",
};

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
	S_REPORT_FIND,
	S_REPORT_INSERT,
	S_REPORT_CLASSIFY,
	S_REPORT_COUNTS,
	S_REPORT_LIST,
	S_EVENT_INSERT,
	S_MILTER_SEND_RECORD,
	S_MILTER_SEND_RCPT,
	S_MILTER_ACCOUNT_SETTINGS,
	S_MILTER_DOMAIN_LOOKUP,
	S_MILTER_SUPPRESSION,
	S_MILTER_RCPTS_SINCE,
	S_MILTER_NEXT_SERIAL,
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
	[S_MILTER_SUPPRESSION] = "SELECT 1 FROM suppressions WHERE "
				 "account_id = ?1 AND recipient IN (?2, "
				 "lower(?2))",
	[S_MILTER_RCPTS_SINCE] = "SELECT coalesce(sum(rcpt_count), 0) FROM "
				 "sends WHERE account_id = ?1 AND "
				 "created_ms >= ?2",
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
	struct store *st = g_new0(struct store, 1);
	int rc;

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

int
store_begin(struct store *st, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_BEGIN, error);

	if (!s || store_exec_stmt(st, s, error) < 0)
		return -1;
	st->in_tx = 1;
	return 0;
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

/* ---- milter --------------------------------------------------------------- */

int
store_send_next_serial(struct store *st, uint64_t *serial, GError **error)
{
	sqlite3_stmt *s = store_stmt(st, S_MILTER_NEXT_SERIAL, error);
	int rc;

	if (!s)
		return -1;
	rc = sqlite3_step(s);
	*serial = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_fail(st, error, rc, "serial");
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
