/*
 * accounts: the operator's views of accounts, as JSON documents built from
 * the store. They are the admin API's bodies and the `--json` output of
 * `fbld accounts` and `fbld report`; render.h turns the same documents
 * into text for people, so both always say the same thing. docs/api.md
 * describes every member. Times are Unix milliseconds (*_ms), counts are
 * integers, absent values are null.
 *
 * Functions return a new JsonNode (caller unrefs) or NULL with error set
 * when the store fails; the store connection is the caller's.
 */
#ifndef FBLD_ACCOUNTS_H
#define FBLD_ACCOUNTS_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

#include "core/store.h"

/* Limits on what one view returns. */
#define ACCOUNTS_LIST_MAX 10000
#define ACCOUNTS_ROWS_MAX 1000

/* {"window_ms", "sent", "recipients", "bounces_hard", ...}. */
JsonNode *accounts_counts_node(const struct store_counts *c, int64_t window_ms);
/* The same object added to a builder at its current position. */
void accounts_counts_json(JsonBuilder *b, const struct store_counts *c,
			  int64_t window_ms);

/* {"accounts": [account, ...], "count": N}; state NULL, a state or
 * "not-ok"; each account with its "traffic_24h". */
JsonNode *accounts_list(struct store *st, int64_t now_ms, const char *state,
			int limit, int offset, GError **error);

/* One account: its state, override, what enforcement does, traffic over
 * 1 h, 24 h, 7 d and 30 d, and the newest n_rows history entries, events
 * and alert deliveries. 0 (*out set), 1 when there is no such account,
 * -1 on error. */
int accounts_show(struct store *st, const char *name, int64_t now_ms,
		  int n_rows, JsonNode **out, GError **error);
/* {"1h": counts, "24h": ..., "7d": ..., "30d": ...} */
JsonNode *accounts_windows(struct store *st, uint32_t account, int64_t now_ms,
			   GError **error);
/* State changes, newest first: [{"id", "account": {"id", "name"},
 * "ts_ms", "from", "to", "source", "reasons", "sent"}]. account -1: all. */
JsonNode *accounts_history(struct store *st, int64_t account, int64_t since_ms,
			   int64_t until_ms, int limit, GError **error);
/* An account's events, newest first. */
JsonNode *accounts_events(struct store *st, uint32_t account, int64_t before_id,
			  int limit, GError **error);
/* Alert outbox entries, newest first (see store_outbox_list). */
JsonNode *accounts_outbox(struct store *st, const char *status, int64_t account,
			  int64_t before_id, int limit, GError **error);

/* `fbld report`: traffic of every account in [since, until), the state
 * changes, the accounts not ok now, the accounts with the most complaints
 * and hard bounces, and the alert outbox (dead letters listed). */
JsonNode *accounts_report(struct store *st, int64_t since_ms, int64_t until_ms,
			  GError **error);

/* A digest entry (see digest.h) for one account: its state now, traffic
 * over window_ms before now (traffic NULL: read from the store), the
 * given transitions (a reference is taken) and their webhook deliveries. */
JsonObject *accounts_digest_entry(struct store *st, uint32_t account,
				  int64_t now_ms, int64_t window_ms,
				  const struct store_counts *traffic,
				  JsonArray *transitions, GError **error);
/* Sets doc's "outbox" member: per channel pending, delivered since
 * since_ms, dead. */
int accounts_outbox_stats_add(struct store *st, JsonObject *doc,
			      int64_t since_ms, GError **error);

/*
 * An override's expiry from the command line or the API: "never" (0), a
 * duration from now ("90m", "24h", "7d", "2w"; plain number: seconds), or
 * an ISO 8601 time with a zone ("2026-02-01T00:00:00Z") or a date (its
 * midnight UTC). Must be in the future.
 */
int accounts_parse_until(const char *s, int64_t now_ms, int64_t *until_ms,
			 GError **error);
/* The start of a report: a duration back from now or a past time. */
int accounts_parse_since(const char *s, int64_t now_ms, int64_t *since_ms,
			 GError **error);

#endif
