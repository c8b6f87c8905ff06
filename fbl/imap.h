/*
 * imap: the pollers that read feedback-loop mailboxes. One [imap:NAME]
 * section per mailbox; each runs in its own thread with its own store
 * connection and hands every message to the ingest router through
 * ingest_store(), exactly as the spool pickup does.
 *
 * Crash safety: a batch of messages is fetched (BODY.PEEK), stored and
 * classified in one transaction, and only after the commit are the
 * messages moved: to the processed folder when understood, to the failed
 * folder when not (kind not-feedback, or an error recorded). Nothing is
 * deleted: a server without MOVE gets COPY, \Deleted and UID EXPUNGE of
 * exactly those UIDs. A crash or a lost connection between commit and
 * move leaves the messages in the folder; the next pass stores nothing
 * new (the raw message is recognised by its digest) and moves them.
 *
 * Waiting: IDLE when the server offers it (re-issued every idle_refresh),
 * else a NOOP and a listing every poll_interval. After any network or
 * server error the poller reconnects with exponential backoff (1 s
 * doubling up to retry_max); stop() interrupts waits at once and a
 * blocked network call after a grace period.
 *
 * Keys of [imap:NAME]: host (required), port, tls = imaps | starttls |
 * none, tls_verify, ca_file, user (required), password_file (required),
 * folder, processed_folder, failed_folder, idle, idle_refresh,
 * poll_interval, timeout, batch, max_message_size, retry_max.
 * docs/feedback-loops.md describes them.
 */
#ifndef FBLD_IMAP_H
#define FBLD_IMAP_H

#include <glib.h>
#include <stdint.h>

struct config;
struct ingest;
struct metrics;
struct store_config;

enum imap_tls {
	IMAP_TLS_IMAPS,
	IMAP_TLS_STARTTLS,
	IMAP_TLS_NONE,
};

struct imap_mailbox {
	char *name; /* NAME of [imap:NAME] */
	char *host;
	int port;
	enum imap_tls tls;
	int tls_verify; /* verify the certificate and host name */
	char *ca_file;	/* PEM trust anchors; NULL: the system's */
	char *user;
	char *password;
	char *folder;
	char *processed_folder;
	char *failed_folder;
	int idle;		  /* use IDLE when offered */
	int64_t idle_refresh_ms;  /* re-issue IDLE this often */
	int64_t poll_interval_ms; /* without IDLE */
	int64_t timeout_ms;	  /* per network operation */
	int64_t batch;		  /* messages per transaction */
	int64_t max_message_size; /* bytes kept per message */
	int64_t retry_max_ms;	  /* longest reconnect backoff */
};

struct imap_config {
	GPtrArray *mailboxes; /* struct imap_mailbox * */
};

void imap_config_load(struct config *cfg, struct imap_config *out);
void imap_config_clear(struct imap_config *ic);

struct imap_poller;

/* The poller keeps pointers to mb, sc, in and m: they must outlive it. */
struct imap_poller *imap_poller_new(const struct imap_mailbox *mb,
				    const struct store_config *sc,
				    struct ingest *in, struct metrics *m);
void imap_poller_free(struct imap_poller *p);
/* daemon service callbacks (daemon_start_fn, daemon_stop_fn). start only
 * starts the thread: an unreachable server is retried, not fatal. */
int imap_poller_start(void *p, GError **error);
void imap_poller_stop(void *p);

#endif
