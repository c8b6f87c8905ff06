/*
 * token: the VERP/tracking token codec. One token names one send.
 *
 *   TOKEN = base32(B[0..24]), RFC 4648 alphabet in lower case, no padding:
 *           exactly TOKEN_LEN (40) characters of [a-z2-7].
 *   B[0]      version (4 bits, = 1) << 4 | key slot (4 bits)
 *   B[1..4]   account id, uint32 big-endian
 *   B[5..9]   message serial, 40 bits big-endian (node:8 | counter:32)
 *   B[10..11] day, uint16 days since 2024-01-01 UTC
 *   B[12..15] recipient tag: first 32 bits of HMAC-SHA256(key, "fbrcpt1"
 *             || lower(recipient)), all zero when the send had several
 *   B[16..24] MAC: first 72 bits of HMAC-SHA256(key, "fbtok1" || B[0..15])
 *
 * The MAC does not cover the bounce domain: the same token rides in
 * ENVID, in a header and in tracking URLs, where no domain is at hand.
 * Base32 survives MTAs and mailbox providers that lowercase local parts;
 * no '+', '=', '-' or '.' inside, so VERP and sub-address suffixes are
 * cut off unambiguously. ../shared/notes/mta_integration.md section 1.4.
 *
 * Pure: no clock (now_ms is passed), no I/O, no logging. The keyring owns
 * copies of the secrets. Untrusted input to token_parse() is limited to
 * TOKEN_INPUT_MAX bytes; longer input is refused, never read past.
 */
#ifndef FBLD_TOKEN_H
#define FBLD_TOKEN_H

#include <glib.h>
#include <stdint.h>

#define TOKEN_LEN 40
#define TOKEN_BYTES 25
#define TOKEN_VERSION 1
#define TOKEN_SLOTS 16
#define TOKEN_INPUT_MAX 1024
#define TOKEN_PREFIX_MAX 16
#define TOKEN_SERIAL_MAX ((UINT64_C(1) << 40) - 1)
#define TOKEN_SECRET_MIN 16
/* 2024-01-01T00:00:00Z in days since the Unix epoch. */
#define TOKEN_DAY_EPOCH 19723

enum token_key_use {
	TOKEN_KEY_SIGN,	   /* signs new tokens (exactly one) and verifies */
	TOKEN_KEY_VERIFY,  /* verifies only: a key being rotated out */
	TOKEN_KEY_RETIRED, /* known, but its tokens are refused as retired */
};

/* Why a token was refused; token_error_name() gives a stable name. */
enum token_error {
	TOKEN_ERR_NONE,
	TOKEN_ERR_EMPTY,
	TOKEN_ERR_TOO_LONG,
	TOKEN_ERR_PREFIX,
	TOKEN_ERR_ALPHABET,
	TOKEN_ERR_LENGTH,
	TOKEN_ERR_VERSION,
	TOKEN_ERR_UNKNOWN_KEY,
	TOKEN_ERR_MAC,
	TOKEN_ERR_RETIRED_KEY,
	TOKEN_ERR_EXPIRED,
	TOKEN_ERR_FUTURE,
};

struct token_fields {
	unsigned version;
	unsigned slot;
	uint32_t account;
	uint64_t serial;
	uint16_t day;
	uint32_t rcpt_tag; /* 0: not bound to one recipient */
};

struct token_keyring;

struct token_keyring *token_keyring_new(void);
void token_keyring_free(struct token_keyring *kr);
/* Adds a key; fails on a bad slot, a slot or name used twice, a short
 * secret or a second signing key. */
int token_keyring_add(struct token_keyring *kr, const char *name, unsigned slot,
		      enum token_key_use use, const void *secret,
		      size_t secret_len, GError **error);
/* The signing key's name, or NULL when there is none. */
const char *token_keyring_signer(const struct token_keyring *kr);
const char *token_key_name(const struct token_keyring *kr, unsigned slot);

/* Writes TOKEN_LEN characters and a NUL into out. recipient may be NULL
 * (several recipients). Fails without a signing key or when a field is out
 * of range. */
int token_mint(const struct token_keyring *kr, uint32_t account,
	       uint64_t serial, int64_t now_ms, const char *recipient,
	       char out[TOKEN_LEN + 1], GError **error);

/*
 * Finds the token in an address, a local part or a bare token: angle
 * brackets and surrounding blanks are dropped, the domain cut off, case
 * folded, prefix (may be "") stripped, and a VERP or sub-address suffix
 * ("+rcpt=domain", "=...", "-ext") removed. On success out holds the 40
 * lower-case characters. Returns the error (TOKEN_ERR_NONE on success).
 */
enum token_error token_extract(const char *input, size_t len,
			       const char *prefix, char out[TOKEN_LEN + 1]);

/*
 * Verifies a token: decodes, checks version, slot, MAC (constant time),
 * key state and age (max_age_days old at most, at most future_days ahead).
 * Fills *fields on success, and on TOKEN_ERR_RETIRED_KEY, EXPIRED and
 * FUTURE (the token is genuine then, but refused). error may be NULL; the
 * message is precise ("MAC mismatch", "expired: ...").
 */
enum token_error token_verify(const struct token_keyring *kr, const char *input,
			      size_t len, const char *prefix, int64_t now_ms,
			      int max_age_days, int future_days,
			      struct token_fields *fields, GError **error);

/* Is the token bound to this recipient? 1 yes, 0 no, -1 not bound to one. */
int token_recipient_matches(const struct token_keyring *kr,
			    const struct token_fields *fields,
			    const char *recipient);

/*
 * For the codecs beside this one (tracking URLs): the key slot a token of
 * the right shape names, without verifying it (-1 when input is not 40
 * base32 characters); and HMAC-SHA256(key of slot, label || data)
 * truncated to outlen bytes (at most 32), -1 when the slot is empty. The
 * label keeps each use of a key apart from the others.
 */
int token_slot_of(const char *input, size_t len);
int token_keyring_mac(const struct token_keyring *kr, unsigned slot,
		      const char *label, const void *data, size_t len,
		      guint8 *out, size_t outlen);

const char *token_error_name(enum token_error err);
/* Unix milliseconds of the start of the token's day. */
int64_t token_day_ms(uint16_t day);

#define TOKEN_ERROR (token_error_quark())
GQuark token_error_quark(void);

#endif
