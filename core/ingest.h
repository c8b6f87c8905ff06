/*
 * ingest: the one router every inbound message goes through, whether it
 * came from the spool (MTA pipe) or an IMAP mailbox. It parses the message
 * once with GMime and offers it to the classifiers that main registered
 * (DMARC, ARF, DSN, auto-reply, in that order); the first that claims it
 * fills the report. Then the token is looked for in the places the
 * classifier named and in the message's own delivery headers, through the
 * resolver main registered (the verp/ codec). Core knows nothing of the
 * formats themselves.
 *
 * Line ends are normalised (CRLF and bare CR become LF) before parsing, so
 * the three forms of one message give the same report.
 *
 * Limits: messages are parsed as given (the spool caps their size); a
 * classifier must bound its own work (see report.h for result caps).
 * ingest_classify() never fails: what cannot be understood comes back as
 * kind not-feedback with report->error set.
 */
#ifndef FBLD_INGEST_H
#define FBLD_INGEST_H

#include <gmime/gmime.h>
#include <stdint.h>

#include "core/report.h"

struct store;
struct ingest;

/* Returns 1 when the classifier recognised the message and filled r, 0 to
 * let the next one try. raw/len are the normalised bytes msg was parsed
 * from. Must not keep pointers past the call. */
typedef int (*ingest_classify_fn)(void *ud, GMimeMessage *msg, const char *raw,
				  size_t len, struct report *r);

/* Looks at one hint: 1 valid token (tok filled), 0 a token that was
 * refused (tok->error set), -1 nothing that looks like a token. */
typedef int (*ingest_token_fn)(void *ud, const char *hint,
			       struct report_token *tok);

struct ingest *ingest_new(void);
void ingest_free(struct ingest *in);
void ingest_add_classifier(struct ingest *in, const char *name,
			   ingest_classify_fn fn, void *ud);
unsigned ingest_classifier_count(const struct ingest *in);
void ingest_set_token_resolver(struct ingest *in, ingest_token_fn fn, void *ud);

/* CRLF and bare CR to LF (the form GMime and the classifiers see): a new
 * buffer of *outlen bytes (NUL-terminated, caller frees), or NULL when
 * raw has no CR at all and can be used as it is. */
char *ingest_normalise(const char *raw, size_t len, size_t *outlen);

/*
 * What g_mime_header_get_value gives for a raw value (g_mime_header_get_
 * raw_value) of printable ASCII and white space holding no "=?": GMime
 * unfolds it (blanks trimmed at both ends, CR and LF dropped) and its
 * RFC 2047 decoder copies such text as it is; this does the same without
 * the decoder's tokens and copies (checked against GMime over every
 * header of the test corpora: 18,502 equal, none different). Returns a
 * new string (caller frees), or NULL for any other raw value, which only
 * GMime decodes.
 */
char *ingest_header_plain(const char *raw);

/* Classifies one message; the caller frees the report. */
struct report *ingest_classify(struct ingest *in, const char *raw, size_t len);

/*
 * Writes what a classified report means into the store, inside the
 * caller's transaction: the report row's kind, account and send, and one
 * event per recipient (bounce, delay, delivery, complaint, autoreply...).
 * Events are deduplicated per (send, recipient, type) when attributed,
 * per (report, index) when not.
 */
int ingest_commit(struct store *st, int64_t report_id, const struct report *r,
		  int64_t now_ms, GError **error);

/* One raw message as it arrived. */
struct ingest_message {
	const char *source; /* "spool", "imap:NAME" */
	const char *raw;
	size_t len;
	int64_t orig_size; /* before truncation */
	int truncated;
	int64_t received_ms;
};

/*
 * Stores one message from any source inside the caller's transaction: the
 * raw row (kept even when nothing in it can be understood), and, when
 * classifiers or a token resolver are registered, its classification
 * (at least the account and send of its token) and events. *report_id
 * gets the row; *dup is 1 when the same bytes were stored before (then
 * nothing else is done). *kind (may be NULL) gets the kind's name.
 */
int ingest_store(struct ingest *in, struct store *st,
		 const struct ingest_message *m, int64_t *report_id, int *dup,
		 const char **kind, GError **error);

#endif
