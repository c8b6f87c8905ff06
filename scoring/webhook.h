/*
 * webhook: the JSON body that announces one transition, and its
 * signature. Pure: no I/O, no clock (times are passed in).
 *
 * The signature is HMAC-SHA256, keyed with the endpoint's secret (the
 * bytes of the secret file, trailing newline removed), over
 * "TIMESTAMP.BODY" where TIMESTAMP is the decimal Unix time in seconds
 * sent in the Fbld-Timestamp header; it travels as "v1=" and 64 lowercase
 * hex digits in Fbld-Signature. Signing the timestamp lets a receiver
 * refuse replays of old requests. docs/webhooks.md has a worked example.
 */
#ifndef FBLD_WEBHOOK_H
#define FBLD_WEBHOOK_H

#include <glib.h>
#include <stdint.h>

#include "core/store.h"
#include "scoring/transition.h"

#define WEBHOOK_HEADER_TIMESTAMP "Fbld-Timestamp"
#define WEBHOOK_HEADER_SIGNATURE "Fbld-Signature"
#define WEBHOOK_HEADER_EVENT "Fbld-Event-Id"
#define WEBHOOK_HEADER_ATTEMPT "Fbld-Attempt"
/* draft-ietf-httpapi-idempotency-key-header */
#define WEBHOOK_HEADER_IDEMPOTENCY "Idempotency-Key"
#define WEBHOOK_EVENT_TYPE "account.state_changed"

/*
 * The body for transition t (compact JSON, caller frees): event_id (also
 * the idempotency key), the transition, the sentence of what enforcement
 * now does, scoring's statistics (t->stats_json parsed, or null) and the
 * account's traffic over window_ms before the change.
 */
char *webhook_payload(const struct scoring_transition *t, const char *event_id,
		      const struct store_counts *traffic, int64_t window_ms);

/* "v1=" and the hex HMAC-SHA256 of "ts_s.body" (caller frees). */
char *webhook_signature(const char *secret, int64_t ts_s, const char *body,
			size_t len);

#endif
