/*
 * transition: one change of an account's effective state, as scoring (or
 * an operator, or an expiring override) makes it. It is the contract
 * between the part that decides (scoring) and the parts that act on a
 * decision (the alert outbox: webhooks and email digests); enforcement
 * reads the state itself from the store.
 *
 * Hooks receive a transition inside the transaction that records it, with
 * that transaction's store connection, so whatever they enqueue commits
 * or rolls back with the state change (nothing is lost across restarts).
 * Every pointer is borrowed for the duration of the call.
 */
#ifndef FBLD_TRANSITION_H
#define FBLD_TRANSITION_H

#include <glib.h>
#include <stdint.h>

struct store;

struct scoring_transition {
	uint32_t account_id;
	const char *account; /* name */
	int64_t ts_ms;
	const char *from; /* ok, watch, throttle, block */
	const char *to;
	const char *source; /* scoring, operator, expiry */
	/* Human-readable sentences with the numbers behind them. */
	const char *const *reasons;
	size_t n_reasons;
	int64_t sent; /* messages the account had sent at the change */
	/* The account's statistics at the change, a JSON object's text (for
	 * webhook payloads and digests), or NULL. */
	const char *stats_json;
};

/* Called for each transition; -1 with error set rolls the change back. */
typedef int (*scoring_transition_fn)(void *ud, struct store *st,
				     const struct scoring_transition *t,
				     GError **error);

#endif
