/*
 * rcptset: which (account, recipient) pairs were mailed before, to tell a
 * blast to never-mailed addresses from mail to an account's existing
 * correspondents or list.
 *
 * A blocked Bloom filter (every probe of one key falls in one 64-byte
 * cache line) in two generations: lookups ask both, inserts go to the
 * current one, and rotate() drops the older one (the daemon rotates every
 * 30 days, so a pair is remembered 30 to 60 days). Memory is fixed at
 * twice the configured size whatever the traffic; false "seen" answers
 * grow with the number of pairs (about 1 % at 10 bits per pair), which
 * only makes the volume signal more lenient.
 *
 * Keys are 64-bit hashes (scoring_hash64) of whatever the caller chooses;
 * the engine hashes "account \0 recipient" and "account \0 @domain".
 */
#ifndef FBLD_SCORING_RCPTSET_H
#define FBLD_SCORING_RCPTSET_H

#include <stddef.h>
#include <stdint.h>

struct scoring_rcptset;

/* bytes per generation, rounded to a power of two of at least 4 KiB. */
struct scoring_rcptset *scoring_rcptset_new(size_t bytes);
void scoring_rcptset_free(struct scoring_rcptset *s);

/* Returns 1 when the key was (probably) seen before, 0 when it is new;
 * inserts it in either case. */
int scoring_rcptset_add(struct scoring_rcptset *s, uint64_t key);
/* Looks up without inserting. */
int scoring_rcptset_has(const struct scoring_rcptset *s, uint64_t key);
void scoring_rcptset_rotate(struct scoring_rcptset *s);

/* A 64-bit hash of bytes (FNV-1a with a final avalanche), seeded so that
 * keys can be combined: hash(b, seed = hash(a)). */
uint64_t scoring_hash64(const void *data, size_t len, uint64_t seed);

#endif
