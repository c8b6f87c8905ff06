/* token: see token.h. */
#include "verp/token.h"

#include <stdarg.h>
#include <string.h>

struct token_key {
	char *name;
	enum token_key_use use;
	guint8 *secret;
	size_t secret_len;
	GHmac *hmac; /* keyed, nothing absorbed: copied for each MAC */
};

struct token_keyring {
	struct token_key *slots[TOKEN_SLOTS];
	int signer; /* slot, or -1 */
};

static const char token_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

G_DEFINE_QUARK(fbld - token - error - quark, token_error)

const char *
token_error_name(enum token_error err)
{
	static const char *const names[] = {
		[TOKEN_ERR_NONE] = "ok",
		[TOKEN_ERR_EMPTY] = "empty",
		[TOKEN_ERR_TOO_LONG] = "too-long",
		[TOKEN_ERR_PREFIX] = "prefix",
		[TOKEN_ERR_ALPHABET] = "alphabet",
		[TOKEN_ERR_LENGTH] = "length",
		[TOKEN_ERR_VERSION] = "version",
		[TOKEN_ERR_UNKNOWN_KEY] = "unknown-key",
		[TOKEN_ERR_MAC] = "mac-mismatch",
		[TOKEN_ERR_RETIRED_KEY] = "retired-key",
		[TOKEN_ERR_EXPIRED] = "expired",
		[TOKEN_ERR_FUTURE] = "future",
	};

	return (unsigned)err < G_N_ELEMENTS(names) ? names[err] : "unknown";
}

struct token_keyring *
token_keyring_new(void)
{
	struct token_keyring *kr = g_new0(struct token_keyring, 1);

	kr->signer = -1;
	return kr;
}

void
token_keyring_free(struct token_keyring *kr)
{
	if (!kr)
		return;
	for (unsigned i = 0; i < TOKEN_SLOTS; i++) {
		struct token_key *k = kr->slots[i];
		if (!k)
			continue;
		memset(k->secret, 0, k->secret_len);
		g_free(k->secret);
		g_hmac_unref(k->hmac);
		g_free(k->name);
		g_free(k);
	}
	g_free(kr);
}

int
token_keyring_add(struct token_keyring *kr, const char *name, unsigned slot,
		  enum token_key_use use, const void *secret, size_t secret_len,
		  GError **error)
{
	struct token_key *k;

	if (slot >= TOKEN_SLOTS) {
		g_set_error(error, TOKEN_ERROR, 1, "slot %u: must be 0 to %d",
			    slot, TOKEN_SLOTS - 1);
		return -1;
	}
	if (kr->slots[slot]) {
		g_set_error(error, TOKEN_ERROR, 1,
			    "slot %u is already used by key %s", slot,
			    kr->slots[slot]->name);
		return -1;
	}
	for (unsigned i = 0; i < TOKEN_SLOTS; i++) {
		if (kr->slots[i] && strcmp(kr->slots[i]->name, name) == 0) {
			g_set_error(error, TOKEN_ERROR, 1,
				    "key name %s is used twice", name);
			return -1;
		}
	}
	if (secret_len < TOKEN_SECRET_MIN) {
		g_set_error(error, TOKEN_ERROR, 1,
			    "secret of key %s is %zu bytes, at least %d needed",
			    name, secret_len, TOKEN_SECRET_MIN);
		return -1;
	}
	if (use == TOKEN_KEY_SIGN && kr->signer >= 0) {
		g_set_error(error, TOKEN_ERROR, 1,
			    "keys %s and %s both sign; exactly one may",
			    kr->slots[kr->signer]->name, name);
		return -1;
	}
	k = g_new0(struct token_key, 1);
	k->name = g_strdup(name);
	k->use = use;
	k->secret = g_memdup2(secret, secret_len);
	k->secret_len = secret_len;
	k->hmac = g_hmac_new(G_CHECKSUM_SHA256, k->secret, k->secret_len);
	kr->slots[slot] = k;
	if (use == TOKEN_KEY_SIGN)
		kr->signer = (int)slot;
	return 0;
}

const char *
token_keyring_signer(const struct token_keyring *kr)
{
	return kr->signer >= 0 ? kr->slots[kr->signer]->name : NULL;
}

const char *
token_key_name(const struct token_keyring *kr, unsigned slot)
{
	return slot < TOKEN_SLOTS && kr->slots[slot] ? kr->slots[slot]->name
						     : NULL;
}

int64_t
token_day_ms(uint16_t day)
{
	return ((int64_t)TOKEN_DAY_EPOCH + day) * 86400000;
}

/* HMAC-SHA256(key, label || data) truncated to outlen bytes. */
static void
token_hmac(const struct token_key *k, const char *label, const void *data,
	   size_t len, guint8 *out, size_t outlen)
{
	guint8 digest[32];
	gsize dlen = sizeof(digest);
	/* A copy of the keyed state: the key's padding is hashed once. */
	GHmac *h = g_hmac_copy(k->hmac);

	g_hmac_update(h, (const guchar *)label, (gssize)strlen(label));
	g_hmac_update(h, data, (gssize)len);
	g_hmac_get_digest(h, digest, &dlen);
	g_hmac_unref(h);
	memcpy(out, digest, outlen);
}

static uint32_t
token_rcpt_tag(const struct token_key *k, const char *recipient)
{
	char *lower = g_ascii_strdown(recipient, -1);
	guint8 tag[4];
	uint32_t v;

	g_strstrip(lower);
	token_hmac(k, "fbrcpt1", lower, strlen(lower), tag, sizeof(tag));
	g_free(lower);
	v = (uint32_t)tag[0] << 24 | (uint32_t)tag[1] << 16 |
	    (uint32_t)tag[2] << 8 | tag[3];
	/* 0 means "not bound"; a real tag of 0 is bumped to stay bound. */
	return v ? v : 1;
}

static void
token_base32_encode(const guint8 in[TOKEN_BYTES], char out[TOKEN_LEN + 1])
{
	/* 25 bytes = 200 bits = 40 groups of 5, no padding needed. */
	for (unsigned i = 0; i < TOKEN_LEN; i++) {
		unsigned bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)in[byte] << 8;

		if (byte + 1 < TOKEN_BYTES)
			v |= in[byte + 1];
		out[i] = token_alphabet[(v >> (11 - shift)) & 31];
	}
	out[TOKEN_LEN] = '\0';
}

/* in: 40 characters already checked to be in the alphabet. */
static void
token_base32_decode(const char in[TOKEN_LEN], guint8 out[TOKEN_BYTES])
{
	uint64_t acc = 0;
	unsigned bits = 0, o = 0;

	for (unsigned i = 0; i < TOKEN_LEN; i++) {
		char c = in[i];
		unsigned v = c >= 'a' ? (unsigned)(c - 'a')
				      : (unsigned)(c - '2') + 26;

		acc = acc << 5 | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (guint8)(acc >> bits);
		}
	}
}

int
token_mint(const struct token_keyring *kr, uint32_t account, uint64_t serial,
	   int64_t now_ms, const char *recipient, char out[TOKEN_LEN + 1],
	   GError **error)
{
	const struct token_key *k;
	guint8 b[TOKEN_BYTES];
	int64_t day = now_ms / 86400000 - TOKEN_DAY_EPOCH;
	uint32_t tag = 0;

	if (kr->signer < 0) {
		g_set_error(error, TOKEN_ERROR, 1, "no signing key configured");
		return -1;
	}
	if (serial > TOKEN_SERIAL_MAX) {
		g_set_error(error, TOKEN_ERROR, 1,
			    "message serial %" G_GUINT64_FORMAT
			    " does not fit in 40 bits",
			    serial);
		return -1;
	}
	if (day < 0 || day > UINT16_MAX) {
		g_set_error(error, TOKEN_ERROR, 1,
			    "clock outside 2024-01-01 plus 179 years");
		return -1;
	}
	k = kr->slots[kr->signer];
	if (recipient && *recipient)
		tag = token_rcpt_tag(k, recipient);
	b[0] = (guint8)(TOKEN_VERSION << 4 | (unsigned)kr->signer);
	for (int i = 0; i < 4; i++)
		b[1 + i] = (guint8)(account >> (24 - 8 * i));
	for (int i = 0; i < 5; i++)
		b[5 + i] = (guint8)(serial >> (32 - 8 * i));
	b[10] = (guint8)(day >> 8);
	b[11] = (guint8)day;
	for (int i = 0; i < 4; i++)
		b[12 + i] = (guint8)(tag >> (24 - 8 * i));
	token_hmac(k, "fbtok1", b, 16, b + 16, TOKEN_BYTES - 16);
	token_base32_encode(b, out);
	return 0;
}

/* Where a VERP or sub-address extension starts: none of these characters
 * can be part of a token. */
static const char *
token_cut(const char *s, const char *e)
{
	for (const char *p = s; p < e; p++)
		if (*p == '+' || *p == '=' || *p == '-')
			return p;
	return e;
}

enum token_error
token_extract(const char *input, size_t len, const char *prefix,
	      char out[TOKEN_LEN + 1])
{
	const char *s = input, *e = input + len, *at;
	size_t plen = prefix ? strlen(prefix) : 0, n;

	if (len > TOKEN_INPUT_MAX)
		return TOKEN_ERR_TOO_LONG;
	while (s < e && (g_ascii_isspace(*s) || *s == '<' || *s == '"'))
		s++;
	while (e > s &&
	       (g_ascii_isspace(e[-1]) || e[-1] == '>' || e[-1] == '"'))
		e--;
	if (e - s >= 7 && g_ascii_strncasecmp(s, "mailto:", 7) == 0)
		s += 7;
	at = memchr(s, '@', (size_t)(e - s));
	if (at)
		e = at;
	if (s == e)
		return TOKEN_ERR_EMPTY;
	if (plen) {
		int has = (size_t)(e - s) >= plen &&
			  g_ascii_strncasecmp(s, prefix, plen) == 0;

		/* A bare token (from ENVID, a header or a URL) has no prefix,
		 * and a token may itself start with the prefix's letters:
		 * the length after the cut decides. */
		if (has && token_cut(s + plen, e) - (s + plen) == TOKEN_LEN)
			s += plen;
		else if (token_cut(s, e) - s != TOKEN_LEN && has)
			s += plen;
		else if (token_cut(s, e) - s != TOKEN_LEN)
			return TOKEN_ERR_PREFIX;
	}
	e = token_cut(s, e);
	n = (size_t)(e - s);
	for (size_t i = 0; i < n && i <= TOKEN_LEN; i++) {
		char c = g_ascii_tolower(s[i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return TOKEN_ERR_ALPHABET;
		if (i < TOKEN_LEN)
			out[i] = c;
	}
	if (n != TOKEN_LEN)
		return TOKEN_ERR_LENGTH;
	out[TOKEN_LEN] = '\0';
	return TOKEN_ERR_NONE;
}

static int
token_ct_equal(const guint8 *a, const guint8 *b, size_t n)
{
	guint8 d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

static enum token_error token_fail(GError **error, enum token_error err,
				   const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static enum token_error
token_fail(GError **error, enum token_error err, const char *fmt, ...)
{
	if (error) {
		va_list ap;
		char *msg;

		va_start(ap, fmt);
		msg = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		g_set_error(error, TOKEN_ERROR, (gint)err, "%s: %s",
			    token_error_name(err), msg);
		g_free(msg);
	}
	return err;
}

static void
token_day_str(uint16_t day, char *buf, size_t len)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(token_day_ms(day) / 1000);

	if (dt) {
		char *s = g_date_time_format(dt, "%Y-%m-%d");
		g_strlcpy(buf, s, len);
		g_free(s);
		g_date_time_unref(dt);
	} else {
		g_strlcpy(buf, "?", len);
	}
}

static enum token_error
token_check_age(const struct token_fields *f, int64_t now_ms, int max_age_days,
		int future_days, GError **error)
{
	int64_t today = now_ms / 86400000 - TOKEN_DAY_EPOCH;
	char day[16];

	/* The date is only for the message: not formatted on the hot path
	 * of a good token (the tracking endpoint verifies one per hit). */
	if ((int64_t)f->day <= today + future_days &&
	    today - (int64_t)f->day <= max_age_days)
		return TOKEN_ERR_NONE;
	token_day_str(f->day, day, sizeof(day));
	if ((int64_t)f->day > today + future_days)
		return token_fail(error, TOKEN_ERR_FUTURE,
				  "dated %s, %" G_GINT64_FORMAT
				  " days in the future",
				  day, (int64_t)f->day - today);
	if (today - (int64_t)f->day > max_age_days)
		return token_fail(error, TOKEN_ERR_EXPIRED,
				  "dated %s, %" G_GINT64_FORMAT
				  " days ago; tokens live %d days",
				  day, today - (int64_t)f->day, max_age_days);
	return TOKEN_ERR_NONE;
}

static enum token_error
token_explain_extract(enum token_error err, const char *input, size_t len,
		      const char *prefix, GError **error)
{
	switch (err) {
	case TOKEN_ERR_TOO_LONG:
		return token_fail(error, err, "input of %zu bytes, at most %d",
				  len, TOKEN_INPUT_MAX);
	case TOKEN_ERR_EMPTY:
		return token_fail(error, err, "no local part");
	case TOKEN_ERR_PREFIX:
		return token_fail(error, err,
				  "local part does not start with "
				  "the prefix \"%s\"",
				  prefix);
	case TOKEN_ERR_ALPHABET:
		return token_fail(error, err,
				  "characters outside the base32 "
				  "alphabet a-z, 2-7");
	case TOKEN_ERR_LENGTH:
		return token_fail(error, err,
				  "a token has exactly %d "
				  "characters",
				  TOKEN_LEN);
	default:
		return token_fail(error, err, "bad token");
	}
}

enum token_error
token_verify(const struct token_keyring *kr, const char *input, size_t len,
	     const char *prefix, int64_t now_ms, int max_age_days,
	     int future_days, struct token_fields *fields, GError **error)
{
	char tok[TOKEN_LEN + 1];
	guint8 b[TOKEN_BYTES], mac[TOKEN_BYTES - 16];
	const struct token_key *k;
	struct token_fields f;
	enum token_error err;

	err = token_extract(input, len, prefix, tok);
	if (err != TOKEN_ERR_NONE)
		return token_explain_extract(err, input, len, prefix, error);
	token_base32_decode(tok, b);
	f.version = b[0] >> 4;
	f.slot = b[0] & 15;
	if (f.version != TOKEN_VERSION)
		return token_fail(error, TOKEN_ERR_VERSION,
				  "version %u, only %d is known", f.version,
				  TOKEN_VERSION);
	k = kr->slots[f.slot];
	if (!k)
		return token_fail(error, TOKEN_ERR_UNKNOWN_KEY,
				  "no key in slot %u", f.slot);
	token_hmac(k, "fbtok1", b, 16, mac, sizeof(mac));
	if (!token_ct_equal(mac, b + 16, sizeof(mac)))
		return token_fail(error, TOKEN_ERR_MAC,
				  "MAC does not match key %s (slot %u)",
				  k->name, f.slot);
	f.account = (uint32_t)b[1] << 24 | (uint32_t)b[2] << 16 |
		    (uint32_t)b[3] << 8 | b[4];
	f.serial = 0;
	for (int i = 0; i < 5; i++)
		f.serial = f.serial << 8 | b[5 + i];
	f.day = (uint16_t)(b[10] << 8 | b[11]);
	f.rcpt_tag = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		     (uint32_t)b[14] << 8 | b[15];
	if (fields)
		*fields = f;
	if (k->use == TOKEN_KEY_RETIRED)
		return token_fail(error, TOKEN_ERR_RETIRED_KEY,
				  "key %s (slot %u) is retired", k->name,
				  f.slot);
	return token_check_age(&f, now_ms, max_age_days, future_days, error);
}

int
token_recipient_matches(const struct token_keyring *kr,
			const struct token_fields *fields,
			const char *recipient)
{
	const struct token_key *k;

	if (fields->rcpt_tag == 0)
		return -1;
	k = fields->slot < TOKEN_SLOTS ? kr->slots[fields->slot] : NULL;
	if (!k || !recipient)
		return 0;
	return token_rcpt_tag(k, recipient) == fields->rcpt_tag;
}

int
token_slot_of(const char *input, size_t len)
{
	guint8 b[TOKEN_BYTES];
	char tok[TOKEN_LEN];

	if (len != TOKEN_LEN)
		return -1;
	for (size_t i = 0; i < TOKEN_LEN; i++) {
		char c = g_ascii_tolower(input[i]);
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return -1;
		tok[i] = c;
	}
	token_base32_decode(tok, b);
	return b[0] & 15;
}

int
token_keyring_mac(const struct token_keyring *kr, unsigned slot,
		  const char *label, const void *data, size_t len, guint8 *out,
		  size_t outlen)
{
	if (slot >= TOKEN_SLOTS || !kr->slots[slot] || outlen > 32)
		return -1;
	token_hmac(kr->slots[slot], label, data, len, out, outlen);
	return 0;
}
