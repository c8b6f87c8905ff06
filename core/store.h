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
 * dmarc_records, state_history, outbox, suppressions, mailbox_state;
 * scoring_accounts, scoring_hours, scoring_fingerprints, scoring_values.
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
/* A read transaction (BEGIN DEFERRED), ended by store_commit() or
 * store_rollback(): the statements in it share one snapshot and take the
 * WAL read lock once, instead of once each. Writes inside it may fail
 * with SQLITE_BUSY when another connection wrote since it began. */
int store_read_begin(struct store *st, GError **error);

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

/*
 * Records a send whose token `fbld token mint` made (an MTA without the
 * milter): one message, with its one recipient when known. *serial 0 takes
 * the next free serial (written back); a given serial is recorded, or its
 * token replaced when the send exists. Call inside a transaction; the
 * token is minted between store_send_mint_serial() and this call.
 */
int store_send_mint_serial(struct store *st, uint64_t *serial, GError **error);
int store_send_minted(struct store *st, uint32_t account, uint64_t serial,
		      int64_t now_ms, const char *token, const char *recipient,
		      GError **error);

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

/* Adds an event; *dup (may be NULL) is 1 when its dedup key existed. An
 * open is also recorded as its send's first open of its kind when it is
 * (see store_hits_add()). */
int store_event_add(struct store *st, const struct store_event *ev, int *dup,
		    GError **error);

/* Runs a read-only SQL query and calls row() with the columns as text
 * (NULL for SQL NULL). For the CLI's listings and for tests. */
int store_query(struct store *st, const char *sql,
		void (*row)(void *ud, int ncol, const char *const *cols),
		void *ud, GError **error);

/* ---- actions: alert outbox, listings and summaries ---------------------- */

/*
 * The alert outbox: one row per thing to deliver (a webhook POST, a mail),
 * written in the transaction of the change it announces, so it is never
 * lost and never sent for a change that rolled back. idem_key is unique:
 * adding a key twice keeps the first row. Channel "digest" rows are not
 * delivered one by one: the digest job gathers them into one mail.
 *
 * A row is pending (done_ms and dead_ms 0), delivered (done_ms set) or dead
 * (dead_ms set: given up after its last attempt, kept for the operator).
 * Claiming a row counts the attempt and leases it (next_ms moves lease_ms
 * ahead), so a delivery cut short by a crash is retried once the lease
 * runs out: at-least-once delivery.
 */
struct store_outbox_row {
	int64_t id;
	int64_t created_ms;
	char *channel; /* webhook:NAME, email:digest, email:alert, digest */
	char *idem_key;
	char *payload;
	int64_t account; /* -1: none */
	int attempts;
	int64_t next_ms;
	int64_t done_ms; /* 0: not delivered */
	int64_t dead_ms; /* 0: not given up */
	char *last_error;
};

void store_outbox_row_free(struct store_outbox_row *r);

struct store_outbox_item {
	const char *channel;
	const char *idem_key;
	const char *payload;
	int64_t account; /* -1: none */
	int64_t created_ms;
	int64_t next_ms; /* first attempt */
};

/* Adds an entry; *dup (may be NULL) is 1 when the key existed. */
int store_outbox_add(struct store *st, const struct store_outbox_item *it,
		     int *dup, GError **error);
/* Claims up to limit due entries (not digest items), oldest due first:
 * their attempts count this one and they are leased until now_ms +
 * lease_ms. Returns struct store_outbox_row * (the array frees them). */
GPtrArray *store_outbox_claim(struct store *st, int64_t now_ms,
			      int64_t lease_ms, int limit, GError **error);
int store_outbox_done(struct store *st, int64_t id, int64_t now_ms,
		      GError **error);
/* A failed attempt: due again at next_ms. */
int store_outbox_retry(struct store *st, int64_t id, int64_t next_ms,
		       const char *why, GError **error);
/* Gives up on an entry (dead letter). */
int store_outbox_dead(struct store *st, int64_t id, int64_t now_ms,
		      const char *why, GError **error);
/* Makes a dead entry pending again with no attempts: 0 done, 1 when id is
 * not a dead entry. */
int store_outbox_requeue(struct store *st, int64_t id, int64_t now_ms,
			 GError **error);
/* When the next pending delivery is due: 0, or 1 when none is pending. */
int store_outbox_next_due(struct store *st, int64_t *next_ms, GError **error);
/* Deletes entries delivered before before_ms; returns how many, or -1. */
int64_t store_outbox_purge(struct store *st, int64_t before_ms, GError **error);
/* Pending digest items, oldest first (struct store_outbox_row *). */
GPtrArray *store_outbox_digest_items(struct store *st, int limit,
				     GError **error);
/* The creation time of the newest entry of channel: 0, or 1 when none. */
int store_outbox_last(struct store *st, const char *channel,
		      int64_t *created_ms, GError **error);
/* Entries newest first: status NULL (all), "pending", "done" or "dead";
 * account -1 for any; before_id > 0 pages on. */
GPtrArray *store_outbox_list(struct store *st, const char *status,
			     int64_t account, int64_t before_id, int limit,
			     GError **error);

struct store_outbox_stat {
	char *channel;
	int64_t pending;
	int64_t done; /* delivered since the time asked for */
	int64_t dead;
};

/* Per channel, in channel order (struct store_outbox_stat *, freed by the
 * array). */
GPtrArray *store_outbox_stats(struct store *st, int64_t since_ms,
			      GError **error);

/* Accounts by effective state at now_ms: state NULL for all, a state name,
 * or "not-ok"; most severe first, then by name. fn's row lives for the
 * call. */
int store_account_list(struct store *st, int64_t now_ms, const char *state,
		       int limit, int offset,
		       void (*fn)(void *ud, uint32_t id,
				  const struct store_account_state *s),
		       void *ud, GError **error);

/* When an operator last changed the account's override: 0, or 1 when
 * never. */
int store_account_override_since(struct store *st, uint32_t id, int64_t *ts_ms,
				 GError **error);

/* What an account (or every account) sent and got back in [since, until):
 * sends from the sends table, everything else from events. */
struct store_counts {
	int64_t sent;	    /* messages */
	int64_t recipients; /* recipients of those messages */
	int64_t bounce_hard;
	int64_t bounce_soft; /* any bounce not classed hard */
	int64_t delays;
	int64_t complaints;
	int64_t unsubscribes;
	int64_t opens; /* human (not machine) opens */
	int64_t opens_machine;
	int64_t clicks;
	int64_t clicks_machine;
	int64_t other;
};

/* account -1: every account. */
int store_counts(struct store *st, int64_t account, int64_t since_ms,
		 int64_t until_ms, struct store_counts *out, GError **error);
/* The same for n windows ending at until_ms in one scan: windows_ms in
 * increasing order, out[i] for windows_ms[i]. */
#define STORE_COUNTS_WINDOWS 4
int store_counts_windows(struct store *st, int64_t account, int64_t until_ms,
			 const int64_t *windows_ms, int n,
			 struct store_counts *out, GError **error);

struct store_history_row {
	int64_t id;
	uint32_t account;
	const char *account_name;
	int64_t ts_ms;
	const char *from;
	const char *to;
	const char *source;
	const char *reasons_json; /* JSON array of sentences */
	int64_t sent;		  /* -1: unknown */
};

/* State changes in [since, until), newest first; account -1 for all. */
int store_history_list(struct store *st, int64_t account, int64_t since_ms,
		       int64_t until_ms, int limit,
		       void (*fn)(void *ud, const struct store_history_row *r),
		       void *ud, GError **error);

/* An account's events, newest first; before_id > 0 continues after that
 * event. ev's strings live for the call. */
int store_event_list(struct store *st, uint32_t account, int64_t before_id,
		     int limit,
		     void (*fn)(void *ud, int64_t id,
				const struct store_event *ev),
		     void *ud, GError **error);

/* The accounts with the most complaints plus hard bounces in [since,
 * until), most first. */
int store_top_accounts(struct store *st, int64_t since_ms, int64_t until_ms,
		       int limit,
		       void (*fn)(void *ud, uint32_t id, const char *name,
				  int64_t complaints, int64_t bounce_hard),
		       void *ud, GError **error);
/* ---- fbl ---------------------------------------------------------------- */

/* The send whose recorded Message-ID is message_id (given without angle
 * brackets; rows stored with or without them match): 0 found (*account,
 * *send filled), 1 none, -1 error. */
int store_send_by_message_id(struct store *st, const char *message_id,
			     int64_t *account, int64_t *send, GError **error);

/* One <record> of a DMARC aggregate report. The account is the owner of
 * header_from (else policy_domain) in account_domains, when known. */
struct store_dmarc_record {
	int64_t report_id; /* the reports row it came in */
	const char *org;
	const char *report_ref; /* the report's own <report_id> */
	int64_t begin_s;
	int64_t end_s;
	const char *policy_domain;
	const char *source_ip;
	const char *header_from;
	int64_t count;
	const char *disposition;
	const char *dkim;
	const char *spf;
};

int store_dmarc_add(struct store *st, const struct store_dmarc_record *rec,
		    GError **error);
/* 1 when records of this (org, report_ref, domain) were already stored
 * from another reports row (reporters resend reports), 0 when not. */
int store_dmarc_seen(struct store *st, const char *org, const char *report_ref,
		     const char *domain, int64_t report_id, GError **error);

/* What an IMAP poller committed: the folder's UIDVALIDITY and the highest
 * UID stored. get: 0 found, 1 none, -1 error. set: last_uid only grows
 * within one UIDVALIDITY; stored adds to a running count. */
int store_mailbox_get(struct store *st, const char *mailbox,
		      uint32_t *uidvalidity, uint32_t *last_uid,
		      GError **error);
int store_mailbox_set(struct store *st, const char *mailbox,
		      uint32_t uidvalidity, uint32_t last_uid, int64_t stored,
		      int64_t now_ms, GError **error);
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
/* ---- scoring ------------------------------------------------------------ */

/*
 * What the scoring job keeps (docs/scoring.md): per account the engine's
 * model (an opaque serialised blob) and its statistics as a JSON object
 * (scoring_accounts); per account and hour the counters below, of which
 * every sliding window is a sum (scoring_hours, kept for the retention
 * period); pooled models of content fingerprints (scoring_fingerprints);
 * cursors over sends and events and the population's model
 * (scoring_values). The job writes them in the transaction that records
 * the state changes they lead to.
 */

/* Counters of a scoring_hours row, in order: sent, fbl_sent, tracked,
 * new_recipients, new_domains, unknown_user, bad_domain, hard_other,
 * policy, soft, complaints, opens_human, opens_machine, clicks_human,
 * clicks_machine, unsubscribes, engaged. */
#define STORE_SCORING_COUNTERS 17

/* 0 found, 1 none, -1 error; *data (may be NULL) is the caller's. */
int store_scoring_value_get(struct store *st, const char *name, int64_t *value,
			    GBytes **data, GError **error);
int store_scoring_value_set(struct store *st, const char *name, int64_t value,
			    const void *data, size_t len, GError **error);
int store_scoring_account_put(struct store *st, uint32_t id, int64_t updated_ms,
			      const void *model, size_t len,
			      const char *stats_json, GError **error);
/* fn gets the account id as a decimal string and its model. */
int store_scoring_account_load(struct store *st,
			       void (*fn)(void *ud, const char *id,
					  const void *model, size_t len),
			       void *ud, GError **error);
/* An account's statistics JSON (caller frees): 0 found, 1 none. */
int store_scoring_stats_get(struct store *st, uint32_t id, char **json,
			    GError **error);
int store_scoring_fp_put(struct store *st, const char *fp, int64_t updated_ms,
			 const void *model, size_t len, GError **error);
int store_scoring_fp_load(struct store *st,
			  void (*fn)(void *ud, const char *fp,
				     const void *model, size_t len),
			  void *ud, GError **error);
int store_scoring_hour_put(struct store *st, uint32_t id, int64_t hour_ms,
			   const uint32_t *counts, GError **error);
/* Drops hourly rows older than hours_before_ms and fingerprints not
 * updated since fps_before_ms. */
int store_scoring_prune(struct store *st, int64_t hours_before_ms,
			int64_t fps_before_ms, GError **error);

/* One recipient of a send (rcpt NULL: the send has none recorded, yet:
 * rcpt_count is 0 until the milter records the message). */
struct store_scoring_send {
	int64_t id;
	uint32_t account;
	int64_t created_ms;
	const char *fingerprint;
	const char *rcpt;
	int64_t rcpt_count;
};

/* Rows of the `limit` sends after id `after`, in id order, one per
 * recipient; fn returns 1 to stop early. Strings live for the call. */
int store_scoring_sends(struct store *st, int64_t after, int limit,
			int (*fn)(void *ud, const struct store_scoring_send *s),
			void *ud, GError **error);

/* An event with what its send says (send_* -1 when unknown). */
struct store_scoring_event {
	int64_t id, ts_ms;
	const char *type;
	int64_t account, send;
	const char *recipient, *reason, *klass;
	int machine;
	int64_t send_account, send_ms;
	const char *fingerprint;
};

int store_scoring_events(struct store *st, int64_t after, int limit,
			 int (*fn)(void *ud,
				   const struct store_scoring_event *e),
			 void *ud, GError **error);

/* Which feedback a send (and recipient, when not NULL) had before event
 * id `before`. */
enum {
	STORE_PRIOR_BOUNCE = 1,
	STORE_PRIOR_COMPLAINT = 2,
	STORE_PRIOR_OPEN_HUMAN = 4,
	STORE_PRIOR_OPEN_MACHINE = 8,
	STORE_PRIOR_CLICK_HUMAN = 16,
	STORE_PRIOR_CLICK_MACHINE = 32,
	STORE_PRIOR_UNSUB = 64,
};
int store_scoring_prior(struct store *st, int64_t send, const char *recipient,
			int64_t before, unsigned *mask, GError **error);

/* Every account with an operator override, expired or not. */
int store_scoring_overrides(struct store *st,
			    void (*fn)(void *ud, uint32_t id, const char *state,
				       const char *reason, int64_t until_ms),
			    void *ud, GError **error);
/* Clears an account's expired override and records the change of its
 * effective state (source "expiry") with the reasons. */
int store_scoring_expire(struct store *st, uint32_t id, int64_t ts_ms,
			 const char *reasons_json, int64_t sent,
			 GError **error);
/* The recipients of every send since since_ms up to send id upto (for
 * the recipient filter the job rebuilds when it starts). */
int store_scoring_rcpts(struct store *st, int64_t since_ms, int64_t upto,
			void (*fn)(void *ud, uint32_t account,
				   const char *rcpt),
			void *ud, GError **error);

/* ---- tracking ---------------------------------------------------------- */

/* WAL checkpoints: pages 0 stops this connection from checkpointing at
 * commit (the fsync then happens where store_checkpoint() is called, off
 * the writer's path); store_checkpoint() copies what it can of the WAL
 * into the database without waiting for readers or writers. */
int store_set_autocheckpoint(struct store *st, int pages, GError **error);
int store_checkpoint(struct store *st, GError **error);
/* The connection's page cache, in bytes (SQLite's default is 2 MB). */
int store_set_cache(struct store *st, int64_t bytes, GError **error);

/* One engagement hit (open, click, unsubscribe) as an event. Strings are
 * bound without a copy: valid until store_hits_add() returns. The fields
 * from "why" on have columns of their own; store_event_list() shows them
 * as the event's detail, a JSON object with a member each (null when not
 * set) and "send_time": "token-day" for an open or click without
 * since_send_ms (the token only dates the send to a day). */
struct store_hit {
	int64_t ts_ms;
	const char *type; /* open, click, unsubscribe */
	uint32_t account;
	uint64_t send;
	const char *recipient; /* unsubscribes only, or NULL */
	const char *reason;    /* the rule that decided, a short name */
	int machine;
	const char *verdict; /* human, proxy, scanner, unknown */
	const char *dedup;   /* or NULL */
	const char *why;     /* the rule as a sentence with its numbers */
	const char *ip;
	const char *user_agent;
	const char *url;       /* click target */
	int64_t since_send_ms; /* -1: unknown */
	/* An open: 1 unless the caller knows that its send already has an
	 * open of the same kind (machine or not) in send_opens. */
	int first_open;
};

/*
 * Adds n hits inside the caller's write transaction, 16 rows per
 * statement (the tracking writer's group commit); a dedup conflict skips
 * the row. Opens are not in the index of events by send (it would take
 * them all over): the first open of a send, by machine and human, goes
 * to send_opens, for the hits marked first_open, which is where scoring
 * looks (store_scoring_prior()); store_event_add() does the same for an
 * open, always. An SQL statement adding opens must too.
 */
int store_hits_add(struct store *st, const struct store_hit *hits, size_t n,
		   GError **error);

/* Re-labels the type events of one send in [from_ms, to_ms] as machine
 * hits with this verdict (hits found to be machine only later, such as
 * every link of a message clicked within a second); *n gets the count.
 * Not for opens (they are not indexed by send, and none is re-labelled). */
int store_hits_reclassify(struct store *st, uint64_t send, const char *type,
			  int64_t from_ms, int64_t to_ms, const char *verdict,
			  const char *reason, const char *why, int *n,
			  GError **error);
/* When the send was recorded: 0 found, 1 no such send, -1 error. */
int store_send_created(struct store *st, uint64_t send, int64_t *created_ms,
		       GError **error);
/* The recipient of a send that had exactly one (caller frees): 0 found,
 * 1 none or several, -1 error. */
int store_send_single_rcpt(struct store *st, uint64_t send, char **rcpt,
			   GError **error);

/* ---- suppressions ------------------------------------------------------- */

/*
 * The recipients an account must not mail again (one-click unsubscribes,
 * and whatever else adds to the list), stored in lower case; the milter
 * reads them with store_suppression_contains(). An account known only by
 * a token's id gets a placeholder row named "#ID" so the entry can
 * reference it. *added (may be NULL) is 0 when the entry was already
 * there (the first reason and time are kept).
 */
int store_suppression_add(struct store *st, uint32_t account,
			  const char *recipient, const char *reason,
			  int64_t now_ms, int *added, GError **error);

#endif
