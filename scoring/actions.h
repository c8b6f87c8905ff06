/*
 * actions: what fbld does about a change of an account's state. Each
 * transition (scoring's, an operator's, an expired override's) becomes,
 * inside the transaction that records it, rows of the alert outbox (see
 * core/store.h): one signed webhook per endpoint whose state filter
 * matches, a digest item when the email digest is on, and an immediate
 * alert mail for the states configured for one. The outbox worker
 * (outbox.h) delivers them; enforcement reads the state from the store.
 *
 *   [webhook:NAME] url, secret_file, states, timeout, max_attempts,
 *                  retry_base, retry_max
 *   [digest]       smtp_url, from, to, interval, offset, immediate,
 *                  username, password_file, starttls, tls_verify,
 *                  hostname, max_accounts, timeout, max_attempts,
 *                  retry_base, retry_max
 *   [outbox]       poll_interval, batch, keep
 *
 * docs/webhooks.md describes the payload and its signature. The
 * configuration is read once and shared read-only by every thread.
 */
#ifndef FBLD_ACTIONS_H
#define FBLD_ACTIONS_H

#include <glib.h>
#include <stdint.h>

#include "scoring/transition.h"

struct config;
struct store;

/* Delivery settings shared by webhooks and mail. */
struct actions_retry {
	int64_t timeout_ms; /* one attempt, connection included */
	int max_attempts;   /* then the entry is a dead letter */
	int64_t base_ms;    /* first retry delay, doubled each time */
	int64_t max_ms;	    /* cap on the delay */
};

struct actions_webhook {
	char *name;
	char *url;
	char *secret;
	char **states; /* target states that are posted */
	struct actions_retry retry;
};

enum actions_starttls {
	ACTIONS_STARTTLS_NO,
	ACTIONS_STARTTLS_TRY,
	ACTIONS_STARTTLS_REQUIRED,
};

struct actions_digest {
	int enabled; /* smtp_url is set */
	char *smtp_url;
	char *from;
	char **to;
	char *username; /* NULL: no SMTP AUTH */
	char *password;
	enum actions_starttls starttls;
	int tls_verify;
	char *hostname; /* names this server in subjects */
	int64_t interval_ms;
	int64_t offset_ms; /* digests go out at offset + k * interval */
	char **immediate;  /* target states mailed at once */
	int max_accounts;  /* accounts detailed in one mail */
	struct actions_retry retry;
};

struct actions_config {
	GPtrArray *webhooks; /* struct actions_webhook * */
	struct actions_digest digest;
	int64_t poll_ms; /* how often the worker looks for due entries */
	int batch;	 /* deliveries at once */
	int64_t keep_ms; /* delivered entries are deleted after this */
};

void actions_config_load(struct config *cfg, struct actions_config *out);
void actions_config_clear(struct actions_config *ac);
const struct actions_webhook *
actions_webhook_find(const struct actions_config *ac, const char *name);
/* The retry settings of an outbox channel, or NULL when the channel is
 * not configured (any more). */
const struct actions_retry *
actions_channel_retry(const struct actions_config *ac, const char *channel);

/* An operator's reason, at most (bytes). */
#define ACTIONS_REASON_MAX 1000

/* 1 for ok, watch, throttle, block. */
int actions_state_valid(const char *state);
/* What enforcement does in a state, one sentence for people. */
const char *actions_state_effect(const char *state);

/* The window of traffic quoted with a transition (24 hours). */
#define ACTIONS_TRAFFIC_WINDOW_MS (24LL * 3600 * 1000)

/*
 * The transition hook (a scoring_transition_fn): ud is the struct
 * actions_config. Writes the outbox rows in st's current transaction; -1
 * with error set when the store fails (the caller rolls back).
 */
int actions_enqueue(void *ud, struct store *st,
		    const struct scoring_transition *t, GError **error);

/*
 * An operator pins (state not NULL) or clears (state NULL) an account's
 * override, in one transaction with the outbox rows of the resulting
 * transition (source "operator"), if the effective state changes.
 * Returns 1 when it changed, 0 when not, -1 on error.
 */
int actions_override(const struct actions_config *ac, struct store *st,
		     uint32_t account, int64_t now_ms, const char *state,
		     const char *reason, int64_t until_ms, GError **error);

/* Digest items gathered into one mail at most. */
#define ACTIONS_DIGEST_MAX_ITEMS 10000

/*
 * Gathers the pending digest items into the digest mail of the period
 * that starts at period_ms and enqueues it (channel email:digest), in one
 * transaction. 1 when a mail was enqueued, 0 when there was nothing to
 * send (or that period's mail exists already), -1 on error.
 */
int actions_digest_compose(const struct actions_config *ac, struct store *st,
			   int64_t period_ms, int64_t now_ms, GError **error);

#endif
