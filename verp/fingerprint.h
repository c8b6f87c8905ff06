/*
 * fingerprint: the content fingerprint of an outbound message, so that the
 * messages of one campaign can be matched across accounts and against mail
 * that drew complaints: MinHash over word 3-shingles with 32 hash
 * functions, the parameters of rspamd's fuzzy storage
 * (../shared/notes/scoring.md section 3).
 *
 * Text form, stored in sends.fingerprint and carried by `fbld replay`:
 *
 *   "f1:" DIGEST ":" MINHASH
 *
 * DIGEST is 32 hex digits, the first 128 bits of SHA-256 of the normalised
 * text (exact matches); MINHASH is 32 values of 8 hex digits (the low 32
 * bits of each minimum), or empty when the text has fewer than
 * FINGERPRINT_MIN_WORDS words. A text that normalises to less than
 * FINGERPRINT_MIN_BYTES and has too few words gets no fingerprint at all:
 * near-empty texts all look alike (Pyzor's SHA-1("") lesson).
 *
 * Normalisation: case folded; URLs, e-mail addresses, tokens with digits,
 * one-character tokens and tokens over 30 characters (hash busters)
 * dropped; words split on anything that is not a letter or digit.
 *
 * Pure: no I/O, no clock, no logging. Input is bounded: at most
 * FINGERPRINT_TEXT_MAX bytes of text are read; the rest is ignored.
 * Returned strings belong to the caller (g_free).
 */
#ifndef FBLD_FINGERPRINT_H
#define FBLD_FINGERPRINT_H

#include <gmime/gmime.h>
#include <stddef.h>

#define FINGERPRINT_HASHES 32
#define FINGERPRINT_MIN_WORDS 12
#define FINGERPRINT_MIN_BYTES 64
#define FINGERPRINT_TEXT_MAX (256 * 1024)
/* Votes out of 32 for two fingerprints to be one campaign (Jaccard of
 * about 0.5 and up). */
#define FINGERPRINT_MATCH 17

/* The fingerprint of UTF-8 text (invalid sequences are tolerated), or NULL
 * when the text is too short to say anything. */
char *fingerprint_text(const char *text, size_t len);

/* The fingerprint of a message's own text: its first text/plain part that
 * is not an attachment, else its first text/html part with the markup
 * stripped. Embedded messages (message/rfc822) are not looked into. NULL
 * when there is no such text or it is too short. */
char *fingerprint_message(GMimeMessage *msg);

/* How many of the 32 MinHash values two fingerprints share (0 to 32), 32
 * when their digests are equal, -1 when either is malformed or has no
 * MinHash part. */
int fingerprint_similarity(const char *a, const char *b);

#endif
