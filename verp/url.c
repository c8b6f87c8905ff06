/* url: see url.h. */
#include "verp/url.h"

#include <stdarg.h>
#include <string.h>

#define URL_SIG_BYTES 10 /* 80 bits: 16 base32 characters */

static const char url_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

G_DEFINE_QUARK(fbld - url - error - quark, url_error)

const char *
url_kind_name(enum url_kind kind)
{
	switch (kind) {
	case URL_OPEN:
		return "open";
	case URL_CLICK:
		return "click";
	case URL_UNSUBSCRIBE:
		return "unsubscribe";
	}
	return "unknown";
}

const char *
url_error_name(enum url_error err)
{
	static const char *const names[] = {
		[URL_ERR_NONE] = "ok",
		[URL_ERR_TOO_LONG] = "too-long",
		[URL_ERR_PATH] = "bad-path",
		[URL_ERR_TOKEN] = "bad-token-shape",
		[URL_ERR_SIG] = "bad-signature-shape",
		[URL_ERR_ESCAPE] = "bad-escape",
		[URL_ERR_QUERY] = "bad-query",
		[URL_ERR_TARGET] = "bad-target",
		[URL_ERR_RECIPIENT] = "bad-recipient",
	};

	return (unsigned)err < G_N_ELEMENTS(names) ? names[err] : "unknown";
}

static const char *
url_label(enum url_kind kind)
{
	return kind == URL_CLICK	 ? "fbclick1"
	       : kind == URL_UNSUBSCRIBE ? "fbunsub1"
					 : NULL;
}

int
url_sign(const struct token_keyring *kr, enum url_kind kind, const char *token,
	 const char *data, char out[URL_SIG_LEN + 1])
{
	size_t dlen = data ? strlen(data) : 0;
	guint8 mac[URL_SIG_BYTES];
	int slot = token_slot_of(token, strlen(token));
	char *buf;
	int rc;

	if (slot < 0 || !url_label(kind))
		return -1;
	buf = g_malloc(TOKEN_LEN + dlen);
	memcpy(buf, token, TOKEN_LEN);
	if (dlen)
		memcpy(buf + TOKEN_LEN, data, dlen);
	rc = token_keyring_mac(kr, (unsigned)slot, url_label(kind), buf,
			       TOKEN_LEN + dlen, mac, sizeof(mac));
	g_free(buf);
	if (rc < 0)
		return -1;
	/* 10 bytes = 80 bits = 16 groups of 5. */
	for (unsigned i = 0; i < URL_SIG_LEN; i++) {
		unsigned bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)mac[byte] << 8;

		if (byte + 1 < URL_SIG_BYTES)
			v |= mac[byte + 1];
		out[i] = url_alphabet[(v >> (11 - shift)) & 31];
	}
	out[URL_SIG_LEN] = '\0';
	return 0;
}

int
url_verify(const struct token_keyring *kr, const struct url_request *r)
{
	char want[URL_SIG_LEN + 1];
	const char *data = r->kind == URL_CLICK ? r->target : r->recipient;
	unsigned char d = 0;

	if (r->kind == URL_OPEN)
		return 1;
	if (url_sign(kr, r->kind, r->token, data, want) < 0)
		return 0;
	for (unsigned i = 0; i < URL_SIG_LEN; i++)
		d |= (unsigned char)(want[i] ^ r->sig[i]);
	return d == 0;
}

int
url_target_ok(const char *s, size_t len)
{
	size_t skip;

	if (len > URL_TARGET_MAX)
		return 0;
	if (len > 7 && g_ascii_strncasecmp(s, "http://", 7) == 0)
		skip = 7;
	else if (len > 8 && g_ascii_strncasecmp(s, "https://", 8) == 0)
		skip = 8;
	else
		return 0;
	/* An authority must follow: "https:///x" has no host. */
	if (s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return 0;
	return 1;
}

static int
url_recipient_ok(const char *s, size_t len)
{
	if (len == 0 || len > URL_RECIPIENT_MAX || !memchr(s, '@', len))
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] == 0x7f)
			return 0;
	return 1;
}

static int url_fail(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static int
url_fail(GError **error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (error)
		*error = g_error_new_valist(URL_ERROR, 1, fmt, ap);
	va_end(ap);
	return -1;
}

static int
url_check_arg(enum url_kind kind, const char *arg, GError **error)
{
	if (kind == URL_CLICK && (!arg || !url_target_ok(arg, strlen(arg))))
		return url_fail(error,
				"the click target must be an absolute http or "
				"https URL of printable ASCII, at most %d "
				"bytes",
				URL_TARGET_MAX);
	if (kind == URL_UNSUBSCRIBE && arg &&
	    !url_recipient_ok(arg, strlen(arg)))
		return url_fail(error,
				"the recipient must be an address of at most "
				"%d bytes without blanks",
				URL_RECIPIENT_MAX);
	return 0;
}

int
url_build(const struct token_keyring *kr, const char *base, enum url_kind kind,
	  const char *token, const char *arg, char **out, GError **error)
{
	size_t blen = strlen(base);
	char sig[URL_SIG_LEN + 1];
	char *esc;
	int slot = token_slot_of(token, strlen(token));

	if (slot < 0)
		return url_fail(error,
				"not a token: %d base32 characters "
				"expected",
				TOKEN_LEN);
	if (!token_key_name(kr, (unsigned)slot))
		return url_fail(error, "no key in slot %d", slot);
	if (url_check_arg(kind, arg, error) < 0)
		return -1;
	while (blen && base[blen - 1] == '/')
		blen--;
	if (kind == URL_OPEN) {
		*out = g_strdup_printf("%.*s/o/%s.gif", (int)blen, base, token);
		return 0;
	}
	url_sign(kr, kind, token, arg, sig);
	if (!arg) {
		*out = g_strdup_printf("%.*s/u/%s/%s", (int)blen, base, token,
				       sig);
		return 0;
	}
	esc = g_uri_escape_string(arg, ":/?@", FALSE);
	*out = g_strdup_printf("%.*s/%c/%s/%s?%c=%s", (int)blen, base,
			       kind == URL_CLICK ? 'c' : 'u', token, sig,
			       kind == URL_CLICK ? 'u' : 'r', esc);
	g_free(esc);
	return 0;
}

void
url_request_clear(struct url_request *r)
{
	g_clear_pointer(&r->target, g_free);
	g_clear_pointer(&r->recipient, g_free);
	memset(r, 0, sizeof(*r));
}

/* Copies n base32 characters, folded to lower case; 0 when not that. */
static int
url_b32(const char *s, size_t len, size_t n, char *out)
{
	if (len != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c =
			s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] | 0x20) : s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return 0;
		out[i] = c;
	}
	out[n] = '\0';
	return 1;
}

/* The path without its leading "/K/": "TOKEN[.gif]" or "TOKEN/SIG". */
static enum url_error
url_parse_path(const char *p, size_t len, struct url_request *r)
{
	const char *slash;

	if (len < 3 || p[0] != '/' || p[2] != '/')
		return URL_ERR_PATH;
	if (p[1] == 'o')
		r->kind = URL_OPEN;
	else if (p[1] == 'c')
		r->kind = URL_CLICK;
	else if (p[1] == 'u')
		r->kind = URL_UNSUBSCRIBE;
	else
		return URL_ERR_PATH;
	p += 3;
	len -= 3;
	if (r->kind == URL_OPEN) {
		if (len >= 4 && memcmp(p + len - 4, ".gif", 4) == 0)
			len -= 4;
		return url_b32(p, len, TOKEN_LEN, r->token) ? URL_ERR_NONE
							    : URL_ERR_TOKEN;
	}
	slash = memchr(p, '/', len);
	if (!slash)
		return URL_ERR_PATH;
	if (!url_b32(p, (size_t)(slash - p), TOKEN_LEN, r->token))
		return URL_ERR_TOKEN;
	len -= (size_t)(slash + 1 - p);
	return url_b32(slash + 1, len, URL_SIG_LEN, r->sig) ? URL_ERR_NONE
							    : URL_ERR_SIG;
}

/* Finds the one parameter named key; 0 absent, 1 found (*value decoded,
 * caller frees), or an error. */
static enum url_error
url_query_get(const char *q, size_t len, char key, char **value, int *found)
{
	const char *end = q + len;

	*found = 0;
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *pe = amp ? amp : end;

		if (pe - q >= 2 && q[0] == key && q[1] == '=') {
			if (*found)
				return URL_ERR_QUERY;
			if (memchr(q, '\0', (size_t)(pe - q)))
				return URL_ERR_ESCAPE;
			*value = g_uri_unescape_segment(q + 2, pe, NULL);
			if (!*value)
				return URL_ERR_ESCAPE;
			*found = 1;
		}
		q = pe + 1;
	}
	return URL_ERR_NONE;
}

static enum url_error
url_parse_query(const char *q, size_t len, struct url_request *r)
{
	char *v = NULL;
	int found;
	enum url_error err;

	if (r->kind == URL_OPEN)
		return URL_ERR_NONE;
	err = url_query_get(q, len, r->kind == URL_CLICK ? 'u' : 'r', &v,
			    &found);
	if (err != URL_ERR_NONE) {
		g_free(v);
		return err;
	}
	if (r->kind == URL_CLICK) {
		r->target = v;
		if (!found)
			return URL_ERR_QUERY;
		return url_target_ok(v, strlen(v)) ? URL_ERR_NONE
						   : URL_ERR_TARGET;
	}
	r->recipient = v;
	if (found && !url_recipient_ok(v, strlen(v)))
		return URL_ERR_RECIPIENT;
	return URL_ERR_NONE;
}

enum url_error
url_parse(const char *input, size_t len, struct url_request *out)
{
	const char *q;
	size_t plen;
	char *decoded = NULL;
	enum url_error err;

	memset(out, 0, sizeof(*out));
	if (len > URL_INPUT_MAX)
		return URL_ERR_TOO_LONG;
	q = memchr(input, '?', len);
	plen = q ? (size_t)(q - input) : len;
	if (memchr(input, '%', plen)) {
		/* Escaped path characters: decode, but never into '/'. */
		if (memchr(input, '\0', plen))
			return URL_ERR_ESCAPE;
		decoded = g_uri_unescape_segment(input, input + plen, "/");
		if (!decoded)
			return URL_ERR_ESCAPE;
		err = url_parse_path(decoded, strlen(decoded), out);
		g_free(decoded);
	} else {
		err = url_parse_path(input, plen, out);
	}
	if (err == URL_ERR_NONE)
		err = url_parse_query(q ? q + 1 : input + len,
				      q ? len - plen - 1 : 0, out);
	if (err != URL_ERR_NONE)
		url_request_clear(out);
	return err;
}
