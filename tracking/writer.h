/*
 * tracking/writer: the queue between the HTTP handlers and the store, and
 * the one thread that drains it (group commit).
 *
 * Handlers push hits (any thread, never blocking on the disk); the writer
 * takes everything queued at once (at most a batch per 50 ms unless many
 * wait), verifies the tokens of opens (the pixel's answer does not depend
 * on them, so the HMAC stays off the request path; a bad one is counted
 * and dropped), finishes each hit's verdict (the timing rules, with the
 * send's time from a bounded in-memory cache in front of the store, and
 * link bursts), and commits the lot in one transaction; while it commits,
 * the next batch gathers. A failed commit is rolled back and retried with
 * a growing pause, the hits kept. An unsubscribe is pushed with force
 * (never dropped) and its handler waits for the commit with
 * tracking_writer_wait(): at most one per HTTP thread at a time.
 *
 * Checkpoints (the WAL copied into the database, and fsync) are a second
 * thread's work, with its own connection, four times a second; the writer
 * does one itself only when the WAL has grown past 64 MB regardless.
 *
 * Ownership: a pushed hit belongs to the writer. The stores given to
 * tracking_writer_start() are borrowed and used by its threads only,
 * until tracking_writer_stop(), which returns once every hit queued
 * before it was committed (or, when the store stays broken while
 * stopping, counted as lost and logged).
 */
#ifndef FBLD_TRACKING_WRITER_H
#define FBLD_TRACKING_WRITER_H

#include <glib.h>
#include <stdint.h>

#include "tracking/classify.h"

struct metrics;
struct store;
struct token_config;
struct tracking_config;
struct tracking_writer;

/* One hit as the handler saw it and classified it as far as the request
 * alone allows; the strings live in the same block. */
struct tracking_hit {
	enum url_kind kind;
	int head;	 /* a HEAD request */
	int token_stale; /* genuine token past its age (unsubscribes) */
	int64_t ts_ms;
	uint32_t account;
	uint64_t send;
	uint16_t token_day;
	uint64_t seq;			/* set by push */
	char ip[48];			/* the client, as it may be stored */
	const char *user_agent;		/* NULL when absent */
	const char *target;		/* click */
	const char *recipient;		/* unsubscribe: from the URL, or NULL */
	struct tracking_result verdict; /* the request rules' (handler) */
	/* An open's token, verified by the writer (the pixel is answered
	 * whatever it is); "" when the handler verified it. */
	char token[TOKEN_LEN + 1];
	int refused; /* the writer found the token bad: not stored */
	/* Filled by the writer. */
	int64_t since_send_ms; /* TRACKING_UNKNOWN_TIME: no send row */
	int64_t burst_from_ms; /* -1, or where the link burst began */
	char *rcpt_final;      /* unsubscribe: the address suppressed */
	char *dedup;
	int suppressed; /* a new suppression entry */
	char tail[];
};

/* Copies the strings; user_agent is cut to TRACKING_UA_MAX bytes. */
struct tracking_hit *tracking_hit_new(enum url_kind kind, int head,
				      int64_t ts_ms, const char *ip,
				      const char *user_agent,
				      const char *target,
				      const char *recipient);
void tracking_hit_free(struct tracking_hit *h);

/* tc, tok and rules are borrowed. */
struct tracking_writer *tracking_writer_new(const struct tracking_config *tc,
					    const struct token_config *tok,
					    const struct tracking_rules *rules,
					    struct metrics *m);
void tracking_writer_free(struct tracking_writer *w);

/* ckpt_st: a second connection for the checkpointer thread, or NULL to
 * let the writer checkpoint at commit as SQLite does by default. */
int tracking_writer_start(struct tracking_writer *w, struct store *st,
			  struct store *ckpt_st, GError **error);
/* Queues a hit; returns its sequence number, or 0 when the queue is full
 * and force is 0 (the hit is dropped, freed and counted). */
uint64_t tracking_writer_push(struct tracking_writer *w, struct tracking_hit *h,
			      int force);
/* Waits until hit seq is committed: 1 done, 0 not within timeout_ms. */
int tracking_writer_wait(struct tracking_writer *w, uint64_t seq,
			 int64_t timeout_ms);
/* Drains the queue into the store and stops the thread. */
void tracking_writer_stop(struct tracking_writer *w);

#endif
