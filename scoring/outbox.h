/*
 * outbox: the worker that delivers the alert outbox (core/store.h):
 * webhooks (signed HTTP POSTs, webhook.h) and mails (SMTP to the relay of
 * [digest]), and that composes the digest when its period comes. It runs
 * on a thread of its own with its own store connection, so a slow
 * receiver never holds up the daemon's main loop. Each pass claims at
 * most [outbox] batch due entries and runs them at once (libcurl multi),
 * each bounded by its channel's timeout.
 *
 * Success is a 2xx answer (redirects are not followed) or a mail the
 * relay accepted. After a failure the n-th retry waits between half and
 * all of min(retry_max, retry_base * 2^(n-1)) (jitter spreads retries of
 * many entries), or the receiver's Retry-After when longer; after
 * max_attempts the entry is a dead letter, kept for the operator. An
 * attempt cut short by a crash is retried once its lease (the longest
 * timeout plus 10 s) runs out: delivery is at least once, and receivers
 * deduplicate by the Idempotency-Key header.
 *
 * outbox_stop() lets the deliveries in flight finish, then joins.
 */
#ifndef FBLD_OUTBOX_H
#define FBLD_OUTBOX_H

#include <glib.h>
#include <stdint.h>

#include "scoring/actions.h"

struct metrics;
struct store_config;
struct outbox;

/* The configurations are borrowed and must outlive the outbox; m may be
 * NULL. */
struct outbox *outbox_new(const struct actions_config *ac,
			  const struct store_config *sc, struct metrics *m);
/* Opens the worker's store connection and starts its thread. */
int outbox_start(struct outbox *o, GError **error);
/* Finishes the deliveries in flight and joins the thread. */
void outbox_stop(struct outbox *o);
void outbox_free(struct outbox *o);

/* The delay before the next attempt after `attempts` failed ones;
 * jitter in [0, 1). */
int64_t outbox_backoff_ms(const struct actions_retry *r, int attempts,
			  double jitter);

#endif
