/*
 * store: the SQLite database behind one interface (WAL mode, busy timeout,
 * schema migrations keyed by PRAGMA user_version). Only store.c includes
 * <sqlite3.h>; prepared statements live inside it, cached per connection.
 *
 * One struct store is one connection and belongs to one thread; each
 * thread or process (daemon workers, milter, CLI) opens its own. WAL lets
 * readers run beside the one writer; writers wait up to the busy timeout.
 * Hot paths group their writes with store_begin()/store_commit().
 *
 * Ownership: strings passed in are copied by SQLite; rows returned in
 * structs are owned by the caller and released with the matching _free or
 * _clear function. Errors come back as -1 with a GError (domain
 * STORE_ERROR; code STORE_ERR_BUSY when the database stayed locked, so the
 * caller may retry later instead of failing).
 *
 * Tables: accounts, account_domains, sends, send_rcpts, reports (raw
 * messages, kept for audit even when they cannot be parsed), events,
 * dmarc_records, state_history, outbox, suppressions, mailbox_state.
 * docs/architecture.md describes each.
 */
#ifndef FBLD_STORE_H
#define FBLD_STORE_H

#include <glib.h>
#include <stdint.h>

struct config;
struct store;

enum store_err {
	STORE_ERR_FAILED = 1,
	STORE_ERR_BUSY,
	STORE_ERR_SCHEMA,
};

#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);

struct store_config {
	char *path;		 /* [store] path, default STATE_DIR/fbld.db */
	int64_t busy_timeout_ms; /* [store] busy_timeout */
	int synchronous_full;	 /* [store] synchronous = full|normal */
};

void store_config_load(struct config *cfg, struct store_config *out);
void store_config_clear(struct store_config *sc);

/* Opens (creating the file and parent directory) and migrates the schema.
 * path ":memory:" gives a private in-memory database (tests, replay). */
struct store *store_open(const char *path, int64_t busy_timeout_ms,
			 GError **error);
struct store *store_open_config(const struct store_config *sc, GError **error);
void store_close(struct store *st);
/* The schema version this build writes. */
int store_schema_version(void);

int store_begin(struct store *st, GError **error);
int store_commit(struct store *st, GError **error);
void store_rollback(struct store *st);

/* ---- accounts ---------------------------------------------------------- */

/* The id of the account with this name, created when missing. */
int store_account_ensure(struct store *st, const char *name, uint32_t *id,
			 GError **error);
/* The name of account id into *name (caller frees); 0 when found, 1 when
 * there is no such account, -1 on error. */
int store_account_name(struct store *st, uint32_t id, char **name,
		       GError **error);
/* Looks an account up by name: 0 found, 1 none, -1 error. */
int store_account_find(struct store *st, const char *name, uint32_t *id,
		       GError **error);

/*
 * Account states: ok, watch, throttle, block. The scored state (written by
 * scoring) and an operator override (pinned with a reason, until an
 * expiry or forever when until_ms is 0) are kept apart; the effective
 * state is the override while it lasts, else the scored state. Every
 * change of either is a state_history row (source scoring, operator,
 * expiry) with its reasons as a JSON array of sentences.
 */
struct store_account_state {
	char *name;
	char *state; /* scored */
	int64_t since_ms;
	char *override_state; /* NULL: none */
	char *override_reason;
	int64_t override_until_ms; /* 0: no expiry */
	const char *effective;	   /* points at state or override_state */
};

void store_account_state_clear(struct store_account_state *s);
/* 0 found, 1 no such account (s untouched), -1 error. An override past
 * its expiry at now_ms is not effective. */
int store_account_state_get(struct store *st, uint32_t id, int64_t now_ms,
			    struct store_account_state *s, GError **error);
/* Sets the scored state and records the transition (from the previous
 * scored state); a no-op when unchanged. */
int store_account_set_state(struct store *st, uint32_t id, int64_t ts_ms,
			    const char *to, const char *source,
			    const char *reasons_json, int64_t sent,
			    GError **error);
/* Pins (state not NULL) or clears (state NULL) the operator override and
 * records it in the history with the reason. */
int store_account_override(struct store *st, uint32_t id, int64_t ts_ms,
			   const char *state, const char *reason,
			   int64_t until_ms, GError **error);

/* ---- sends ------------------------------------------------------------- */

/* A new message serial: the send's row id, reserved with its account. */
int store_send_reserve(struct store *st, uint32_t account, int64_t now_ms,
		       uint64_t *serial, GError **error);

/* ---- reports ------------------------------------------------------------ */

struct store_report {
	int64_t received_ms;
	const char *source; /* "spool", "imap:NAME", "test" */
	const void *raw;
	size_t size;	   /* bytes in raw (after truncation) */
	int64_t orig_size; /* size as it arrived */
	int truncated;
};

/* Stores a raw message. Identical bytes are stored once: *id gets the
 * existing row and *dup is set to 1. */
int store_report_add(struct store *st, const struct store_report *r,
		     int64_t *id, int *dup, GError **error);

struct store_report_result {
	const char *kind;	 /* "dsn", "arf", ..., "not-feedback" */
	const char *error;	 /* why it was not fully understood, or NULL */
	int64_t account;	 /* -1 when unattributed */
	int64_t send;		 /* -1 when unknown */
	const char *token_error; /* why no valid token, or NULL */
};

/* Records the classification of a stored report. */
int store_report_classify(struct store *st, int64_t id,
			  const struct store_report_result *res,
			  GError **error);

struct store_report_row {
	int64_t id;
	int64_t received_ms;
	const char *source;
	int64_t size;
	int64_t orig_size;
	int truncated;
	const char *kind;
	const char *error;
	int64_t account; /* -1: none */
	int64_t send;	 /* -1: none */
	const char *token_error;
	const void *raw; /* only when asked for */
	size_t raw_len;
};

/* Calls fn for the newest `limit` reports (kind NULL: any), newest first,
 * or for the one report `id` when id > 0. Row strings live for the call. */
int store_report_list(struct store *st, int64_t id, const char *kind, int limit,
		      int with_raw,
		      void (*fn)(void *ud, const struct store_report_row *row),
		      void *ud, GError **error);

/* Reports per kind, for metrics and tests: kind -> count (GHashTable of
 * char* -> GINT_TO_POINTER), caller unrefs. */
GHashTable *store_report_counts(struct store *st, GError **error);

/* ---- events ------------------------------------------------------------- */

struct store_event {
	int64_t ts_ms;
	const char *type; /* bounce, complaint, open, click, unsubscribe, ... */
	int64_t account;  /* -1: unattributed */
	int64_t send;	  /* -1: unknown send */
	int64_t report;	  /* -1: none */
	const char *recipient;
	const char *reason;
	const char *klass; /* hard, soft, none */
	const char *status;
	const char *diagnostic;
	int machine;	     /* 1 when a proxy or scanner made it */
	const char *verdict; /* human, proxy, scanner, unknown, or NULL */
	const char *detail;  /* JSON object text, or NULL */
	const char *dedup;   /* unique key; a second event with it is ignored */
};

/* Adds an event; *dup (may be NULL) is 1 when its dedup key existed. */
int store_event_add(struct store *st, const struct store_event *ev, int *dup,
		    GError **error);

/* Runs a read-only SQL query and calls row() with the columns as text
 * (NULL for SQL NULL). For the CLI's listings and for tests. */
int store_query(struct store *st, const char *sql,
		void (*row)(void *ud, int ncol, const char *const *cols),
		void *ud, GError **error);

/* ---- milter ---------------------------------------------------------------- */

/* One recorded send, as the milter saw it. Recipients are stored as given
 * (the milter lowercases them); duplicates are stored once. */
struct store_send {
	uint32_t account;
	uint64_t serial;
	int64_t created_ms;
	const char *token;
	const char *message_id;
	const char *queue_id;
	const char *env_from;
	const char *identity_source; /* sasl, local, header, domain */
	const char *const *rcpts;
	unsigned n_rcpts;
	int64_t size;
	const char *fingerprint; /* verp/fingerprint.h text form, or NULL */
};

/* The serial the next send will get. Inside a transaction (store_begin)
 * only: the write lock keeps it free until store_send_insert(). One
 * statement per send instead of reserve-then-update: the indexes change
 * once. */
int store_send_next_serial(struct store *st, uint64_t *serial, GError **error);
/* Records a send under the serial from store_send_next_serial(). */
int store_send_insert(struct store *st, const struct store_send *s,
		      GError **error);
/* An account's bounce domain and options JSON (either may come back NULL;
 * caller frees): 0 found, 1 no such account, -1 error. */
int store_account_settings(struct store *st, uint32_t id, char **bounce_domain,
			   char **options, GError **error);
/* The sending-domain map (account_domains): 0 found (*account set,
 * *bounce_domain the domain's own bounce domain or NULL; bounce_domain
 * may be NULL), 1 none, -1 error. domain is matched as given (lower
 * case). */
int store_domain_lookup(struct store *st, const char *domain, uint32_t *account,
			char **bounce_domain, GError **error);
/* Is the recipient on the account's suppression list (as given or in lower
 * case)? 1 yes, 0 no, -1 error. */
int store_suppression_contains(struct store *st, uint32_t account,
			       const char *recipient, GError **error);
/* Recipients of the account's sends created at or after since_ms. */
int store_send_rcpts_since(struct store *st, uint32_t account, int64_t since_ms,
			   int64_t *count, GError **error);

#endif
