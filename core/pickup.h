/*
 * pickup: moves spooled messages into the store (the daemon's half of the
 * spool; Postfix's pickup plays the same part for its maildrop).
 *
 * Each run reads up to `batch` files from SPOOL/new, classifies each with
 * the ingest router, and writes the raw message, its classification and
 * its events in one transaction. Only after the commit are the files
 * removed, so a crash at any point loses nothing; a message processed
 * again after a crash is recognised by its digest and stored once.
 *
 * Not thread-safe: one pickup per daemon, run from the main loop.
 */
#ifndef FBLD_PICKUP_H
#define FBLD_PICKUP_H

#include <glib.h>
#include <stdint.h>

struct ingest;
struct metrics;
struct spool_config;
struct store;
struct pickup;

struct pickup *pickup_new(const struct spool_config *sc, struct store *st,
			  struct ingest *in, struct metrics *m);
void pickup_free(struct pickup *p);

/* Processes one batch; returns the number of files taken from the spool
 * (stored or recognised as duplicates), or -1 when the store failed (the
 * files stay for the next run). */
int pickup_run(struct pickup *p, int64_t now_ms, GError **error);

#endif
