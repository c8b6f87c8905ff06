/*
 * recorder: writes the milter's send records with group commit. Every
 * message's record needs its serial (the sends row id) before the token
 * can be minted, so each send is one short write transaction; with many
 * SMTP sessions at once they would queue for SQLite's lock one by one.
 * The recorder writes with group commit, leader and followers: a caller
 * that finds no batch being written writes what is queued (its own send
 * and those that arrived meanwhile) in one transaction (serials taken,
 * tokens minted, rows and recipients inserted, one commit) on the
 * recorder's store connection, then wakes the callers it wrote for; the
 * sends that arrive while it commits wait and are written together by the
 * next of them. A caller returns once its send is committed, so nothing
 * is acknowledged to the MTA before it is in the store; under light load
 * a batch is one send, written by its own caller without a thread switch.
 *
 * recorder_add_sync() does the same in the caller's transaction-free
 * store connection, for one-off callers and tests.
 *
 * Errors: when a batch fails, every send in it fails with the error (the
 * caller falls back on fail-open). The store connection is reopened for
 * the next batch. At most RECORDER_BATCH_MAX sends per transaction.
 */
#ifndef FBLD_RECORDER_H
#define FBLD_RECORDER_H

#include <glib.h>
#include <stdint.h>

#include "verp/token.h"

struct store;
struct store_config;
struct store_send;
struct recorder;

#define RECORDER_BATCH_MAX 256

/* The configuration and keyring are borrowed. */
struct recorder *recorder_new(const struct store_config *sc,
			      const struct token_keyring *keys);
/* Waits for the batch being written, then frees. */
void recorder_free(struct recorder *rc);

/*
 * Records one send: takes the next serial, mints the token (bound to
 * rcpt_bound when not NULL) into token, sets snd->serial and snd->token,
 * inserts the row and its recipients. Returns once committed; -1 with
 * the error when the batch failed.
 */
int recorder_add(struct recorder *rc, struct store_send *snd,
		 const char *rcpt_bound, char token[TOKEN_LEN + 1],
		 GError **error);
int recorder_add_sync(struct store *st, const struct token_keyring *keys,
		      struct store_send *snd, const char *rcpt_bound,
		      char token[TOKEN_LEN + 1], GError **error);

/* Transactions committed and sends written so far (for tests, logs). */
void recorder_stats(struct recorder *rc, uint64_t *batches, uint64_t *sends);

#endif
