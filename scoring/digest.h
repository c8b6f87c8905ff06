/*
 * digest: the mails a person at the provider reads: the periodic digest
 * of the accounts whose state changed, and the immediate alert for one
 * change. Pure: a JSON document in, an RFC 5322 message out (built with
 * GMime: UTF-8 text/plain, quoted-printable where needed, CRLF line ends,
 * ready for SMTP).
 *
 * The document (built by actions.c from the outbox's digest items and
 * the store):
 *   {"kind": "digest" | "alert", "host": "mx1", "start_ms": 0, "end_ms": 0,
 *    "accounts": [{"id": 7, "name": "acme", "state": "throttle",
 *                  "since_ms": 0, "override": null | {"state", "reason",
 *                  "until_ms"}, "traffic": {store counts, "window_ms"},
 *                  "transitions": [webhook payload objects, oldest first],
 *                  "deliveries": [{"channel", "status"}]}],
 *    "more_accounts": 0,
 *    "outbox": [{"channel", "pending", "done", "dead"}]}
 * Missing members read as empty; the renderer never fails. GMime must be
 * initialised (g_mime_init(), not thread-safe) before the first call.
 */
#ifndef FBLD_DIGEST_H
#define FBLD_DIGEST_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

struct digest_envelope {
	const char *from;
	const char *const *to;
	const char *message_id; /* without angle brackets */
	int64_t date_ms;
};

/* The plain-text body alone (for tests and previews); caller frees. */
char *digest_body(JsonObject *doc);
/* The subject line, UTF-8; caller frees. */
char *digest_subject(JsonObject *doc);
/* The whole message with headers, CRLF line ends; caller frees. */
char *digest_message(JsonObject *doc, const struct digest_envelope *env);

/* The start of the digest period that holds now_ms: periods begin at
 * offset_ms + k * interval_ms (Unix time, UTC). */
int64_t digest_period_start(int64_t now_ms, int64_t interval_ms,
			    int64_t offset_ms);

#endif
