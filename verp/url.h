/*
 * url: the tracking-URL codec. A tracking URL names one send by its token
 * (verp/token.h); a click URL also carries its target and an unsubscribe
 * URL may carry the recipient, each covered by a signature so that fbld
 * never redirects to, or unsubscribes, anything it did not sign.
 *
 *   open         BASE/o/TOKEN.gif
 *   click        BASE/c/TOKEN/SIG?u=TARGET
 *   unsubscribe  BASE/u/TOKEN/SIG[?r=RECIPIENT]
 *
 * SIG = base32 (RFC 4648 alphabet in lower case, like the token) of the
 * first 80 bits of HMAC-SHA256(key, LABEL || TOKEN || DATA), where key is
 * the key of the token's own slot, LABEL "fbclick1" (DATA the target) or
 * "fbunsub1" (DATA the recipient, empty when none), and TOKEN is fixed
 * width so the concatenation is unambiguous. TARGET and RECIPIENT are
 * percent-encoded (RFC 3986); everything but unreserved characters and
 * ":/?@" is escaped, so '+' never appears raw and is read literally.
 *
 * Targets are absolute http or https URLs of printable ASCII (no blanks or
 * controls: IRIs must be percent-encoded first), at most URL_TARGET_MAX
 * bytes. Recipients are at most URL_RECIPIENT_MAX bytes with an '@'.
 *
 * Pure: no clock, no I/O, no logging. url_parse() reads untrusted input of
 * at most URL_INPUT_MAX bytes, never past len; a parsed request owns its
 * strings (url_request_clear()).
 */
#ifndef FBLD_URL_H
#define FBLD_URL_H

#include <glib.h>

#include "verp/token.h"

#define URL_SIG_LEN 16
#define URL_INPUT_MAX 8192
#define URL_TARGET_MAX 4096
#define URL_RECIPIENT_MAX 254

enum url_kind {
	URL_OPEN,
	URL_CLICK,
	URL_UNSUBSCRIBE,
};

/* Why a request target was refused; url_error_name() gives a stable name. */
enum url_error {
	URL_ERR_NONE,
	URL_ERR_TOO_LONG,
	URL_ERR_PATH,	   /* not one of the three shapes */
	URL_ERR_TOKEN,	   /* not 40 base32 characters */
	URL_ERR_SIG,	   /* not 16 base32 characters */
	URL_ERR_ESCAPE,	   /* a bad percent escape */
	URL_ERR_QUERY,	   /* a parameter missing or given twice */
	URL_ERR_TARGET,	   /* not an http(s) URL of printable ASCII */
	URL_ERR_RECIPIENT, /* not an address */
};

struct url_request {
	enum url_kind kind;
	char token[TOKEN_LEN + 1]; /* lower case */
	char sig[URL_SIG_LEN + 1]; /* lower case; "" for opens */
	char *target;		   /* click: the decoded target */
	char *recipient;	   /* unsubscribe: the decoded r, or NULL */
};

const char *url_kind_name(enum url_kind kind);
const char *url_error_name(enum url_error err);

/*
 * Builds the URL of one kind for a token (base: scheme, host and optional
 * path prefix; a trailing '/' is dropped). arg: the target for a click,
 * the recipient (or NULL) for an unsubscribe, ignored for an open. Fails
 * when the token is malformed, its slot holds no key, or arg is refused.
 * The caller frees *out.
 */
int url_build(const struct token_keyring *kr, const char *base,
	      enum url_kind kind, const char *token, const char *arg,
	      char **out, GError **error);

/*
 * Parses a request-target as received ("/c/TOKEN/SIG?u=..."): splits
 * path and query, decodes escapes, checks every part's shape. Unknown
 * query parameters are ignored. Verification is separate. On failure out
 * is left cleared.
 */
enum url_error url_parse(const char *input, size_t len,
			 struct url_request *out);
void url_request_clear(struct url_request *r);

/*
 * Checks the signature of a parsed click or unsubscribe request against
 * the key of the token's slot, in constant time: 1 good, 0 bad (or no key
 * in that slot). Opens carry none: always 1. The token itself is checked
 * by token_verify().
 */
int url_verify(const struct token_keyring *kr, const struct url_request *r);

/* Writes the signature for kind over token and data (NULL as ""). */
int url_sign(const struct token_keyring *kr, enum url_kind kind,
	     const char *token, const char *data, char out[URL_SIG_LEN + 1]);

/* Is s an acceptable click target? (see above) */
int url_target_ok(const char *s, size_t len);

#define URL_ERROR (url_error_quark())
GQuark url_error_quark(void);

#endif
