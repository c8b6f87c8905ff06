/* fingerprint: see fingerprint.h. */
#include "verp/fingerprint.h"

#include <libxml/HTMLparser.h>
#include <stdint.h>
#include <string.h>

#define FP_PREFIX "f1:"
#define FP_DIGEST_HEX 32
#define FP_WORD_MAX 30
#define FP_DEPTH_MAX 16
/* The seed of the 32 hash keys. Changing it (or anything in the
 * normalisation) makes a new version: bump the "f1" prefix. */
#define FP_SEED UINT64_C(0x66626c6466703031)

static uint64_t
fp_splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* FNV-1a over the bytes, then a SplitMix64 finaliser for the low bits. */
static uint64_t
fp_hash(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= UINT64_C(0x100000001b3);
	}
	return fp_splitmix(&h);
}

static int
fp_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

/* Whether the chunk starts with prefix (lower case), in any case. */
static int
fp_has_prefix(const char *chunk, size_t n, const char *prefix, size_t len)
{
	if (n < len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (g_ascii_tolower(chunk[i]) != prefix[i])
			return 0;
	return 1;
}

/* URLs and addresses say little about the text and vary per recipient.
 * One look at each byte: '@' and ':' are rare in words. */
static int
fp_is_link(const char *chunk, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (chunk[i] == '@')
			return 1;
		if (chunk[i] == ':' && i + 2 < n && chunk[i + 1] == '/' &&
		    chunk[i + 2] == '/')
			return 1;
	}
	return fp_has_prefix(chunk, n, "www.", 4) ||
	       fp_has_prefix(chunk, n, "mailto:", 7);
}

/* The character at *p (advanced past it) in lower case, 0 for a
 * separator: anything but a letter or digit, and bytes that are not
 * UTF-8. Only for bytes from 0x80 on: the caller decides ASCII inline. */
static gunichar
fp_next(const char **p, const char *end, int *digit)
{
	gunichar u = g_utf8_get_char_validated(*p, end - *p);

	if (u == (gunichar)-1 || u == (gunichar)-2) {
		(*p)++;
		return 0;
	}
	*p = g_utf8_next_char(*p);
	*digit = g_unichar_isdigit(u);
	return g_unichar_isalnum(u) ? g_unichar_tolower(u) : 0;
}

/* The normalised text being built: surviving words separated by single
 * spaces, and the offset of each word. */
struct fp_norm {
	GString *text;
	size_t *starts;
	size_t nwords;
	size_t cap;
};

static void
fp_add_word(struct fp_norm *n, const char *word, size_t wlen)
{
	if (n->nwords == n->cap) {
		n->cap = n->cap ? n->cap * 2 : 256;
		n->starts = g_renew(size_t, n->starts, n->cap);
	}
	if (n->text->len)
		g_string_append_c(n->text, ' ');
	n->starts[n->nwords++] = n->text->len;
	g_string_append_len(n->text, word, (gssize)wlen);
}

/* Appends the words of one whitespace-free chunk that survive the rules:
 * two to FP_WORD_MAX letters, no digit. */
static void
fp_chunk_words(const char *p, const char *end, struct fp_norm *n)
{
	char word[FP_WORD_MAX * 6 + 1];

	while (p < end) {
		size_t wlen = 0;
		glong chars = 0;
		int digits = 0;

		for (;;) {
			unsigned char c;
			gunichar u;
			int digit = 0;

			if (p == end)
				break;
			c = (unsigned char)*p;
			if (c < 0x80) {
				p++;
				if (!g_ascii_isalnum(c))
					break;
				digits |= g_ascii_isdigit(c);
				if (++chars <= FP_WORD_MAX)
					word[wlen++] = g_ascii_isupper(c)
							       ? (char)(c + 32)
							       : (char)c;
				continue;
			}
			if ((u = fp_next(&p, end, &digit)) == 0)
				break;
			digits |= digit;
			if (++chars <= FP_WORD_MAX)
				wlen += (size_t)g_unichar_to_utf8(u,
								  word + wlen);
		}
		if (chars >= 2 && chars <= FP_WORD_MAX && !digits)
			fp_add_word(n, word, wlen);
	}
}

/* The normalised text: one pass, no copy of the input. */
static void
fp_normalise(const char *text, size_t len, struct fp_norm *n)
{
	const char *p = text;
	const char *end = text + MIN(len, (size_t)FINGERPRINT_TEXT_MAX);

	n->text = g_string_sized_new(MIN(len, (size_t)8192) + 1);
	while (p < end) {
		const char *chunk;

		while (p < end && fp_space((unsigned char)*p))
			p++;
		chunk = p;
		while (p < end && !fp_space((unsigned char)*p))
			p++;
		if (p > chunk && !fp_is_link(chunk, (size_t)(p - chunk)))
			fp_chunk_words(chunk, p, n);
	}
}

/* The 32 hash functions: a SplitMix64 finaliser over the shingle's hash
 * xored with one key each (keyed hashing, as rspamd's shingles), computed
 * four at a time (GCC and Clang vector extensions); the x86-64 build also
 * gets an AVX2 clone, chosen at load time, which holds the four in one
 * register. */
typedef uint64_t fp_v4 __attribute__((vector_size(32)));
#define FP_LANES 4

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define FP_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef FP_CLONES
#define FP_CLONES
#endif

FP_CLONES static void
fp_minhash(const struct fp_norm *n, uint32_t out[])
{
	fp_v4 key[FINGERPRINT_HASHES / FP_LANES],
		min[FINGERPRINT_HASHES / FP_LANES];
	uint64_t seed = FP_SEED;

	for (int i = 0; i < FINGERPRINT_HASHES; i++) {
		key[i / FP_LANES][i % FP_LANES] = fp_splitmix(&seed);
		min[i / FP_LANES][i % FP_LANES] = UINT64_MAX;
	}
	for (size_t w = 0; w + 2 < n->nwords; w++) {
		size_t from = n->starts[w];
		size_t to =
			w + 3 < n->nwords ? n->starts[w + 3] - 1 : n->text->len;
		uint64_t x = fp_hash(n->text->str + from, to - from);
		fp_v4 xv = { x, x, x, x };

		/* fp_mix(x ^ key) in each lane, then the lane-wise minimum. */
		for (int j = 0; j < FINGERPRINT_HASHES / FP_LANES; j++) {
			fp_v4 v = xv ^ key[j], less;

			v = (v ^ (v >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
			v = (v ^ (v >> 27)) * UINT64_C(0x94d049bb133111eb);
			v ^= v >> 31;
			less = (fp_v4)(v < min[j]);
			min[j] = (v & less) | (min[j] & ~less);
		}
	}
	for (int i = 0; i < FINGERPRINT_HASHES; i++)
		out[i] = (uint32_t)min[i / FP_LANES][i % FP_LANES];
}

/* Lower-case hex of v, 8 digits, no terminator. */
static void
fp_hex32(char *out, uint32_t v)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 7; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 0xf];
}

char *
fingerprint_text(const char *text, size_t len)
{
	struct fp_norm n = { 0 };
	char *out = NULL;

	fp_normalise(text, len, &n);
	if (n.nwords >= FINGERPRINT_MIN_WORDS ||
	    n.text->len >= FINGERPRINT_MIN_BYTES) {
		size_t plen = strlen(FP_PREFIX);
		size_t olen = plen + FP_DIGEST_HEX + 1;
		char *digest = g_compute_checksum_for_data(
			G_CHECKSUM_SHA256, (const guchar *)n.text->str,
			n.text->len);

		out = g_malloc(olen + FINGERPRINT_HASHES * 8 + 1);
		memcpy(out, FP_PREFIX, plen);
		memcpy(out + plen, digest, FP_DIGEST_HEX);
		out[olen - 1] = ':';
		g_free(digest);
		if (n.nwords >= FINGERPRINT_MIN_WORDS) {
			uint32_t mh[FINGERPRINT_HASHES];

			fp_minhash(&n, mh);
			for (int i = 0; i < FINGERPRINT_HASHES; i++)
				fp_hex32(out + olen + i * 8, mh[i]);
			olen += FINGERPRINT_HASHES * 8;
		}
		out[olen] = '\0';
	}
	g_string_free(n.text, TRUE);
	g_free(n.starts);
	return out;
}

/* ---- the text of a message ---------------------------------------------- */

static void
fp_html_text(xmlNode *n, GString *out, int depth)
{
	for (; n && out->len < FINGERPRINT_TEXT_MAX; n = n->next) {
		if (n->type == XML_TEXT_NODE && n->content) {
			g_string_append(out, (const char *)n->content);
		} else if (n->type == XML_ELEMENT_NODE && depth < 256) {
			const char *name = (const char *)n->name;

			if (g_ascii_strcasecmp(name, "script") == 0 ||
			    g_ascii_strcasecmp(name, "style") == 0)
				continue;
			fp_html_text(n->children, out, depth + 1);
			/* Block ends separate words. */
			g_string_append_c(out, ' ');
		}
	}
}

static char *
fp_html_to_text(const char *html, size_t len)
{
	htmlDocPtr doc = htmlReadMemory(
		html, (int)MIN(len, (size_t)INT32_MAX), NULL, "UTF-8",
		HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
			HTML_PARSE_NONET);
	GString *out;

	if (!doc)
		return NULL;
	out = g_string_new(NULL);
	fp_html_text(doc->children, out, 0);
	xmlFreeDoc(doc);
	return g_string_free(out, FALSE);
}

static int
fp_is_text(GMimeObject *part, const char *subtype)
{
	GMimeContentDisposition *cd =
		g_mime_object_get_content_disposition(part);

	if (!GMIME_IS_TEXT_PART(part) ||
	    (cd && g_mime_content_disposition_is_attachment(cd)))
		return 0;
	return g_mime_content_type_is_type(g_mime_object_get_content_type(part),
					   "text", subtype);
}

/* The first leaf of the wanted kind, depth first, not inside embedded
 * messages. */
static GMimeObject *
fp_find(GMimeObject *obj, const char *subtype, int depth)
{
	if (GMIME_IS_MULTIPART(obj) && depth < FP_DEPTH_MAX) {
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));

		for (int i = 0; i < n; i++) {
			GMimeObject *f =
				fp_find(g_mime_multipart_get_part(
						GMIME_MULTIPART(obj), i),
					subtype, depth + 1);
			if (f)
				return f;
		}
		return NULL;
	}
	return fp_is_text(obj, subtype) ? obj : NULL;
}

char *
fingerprint_message(GMimeMessage *msg)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeObject *part;
	char *text, *fp;

	if (!top)
		return NULL;
	if ((part = fp_find(top, "plain", 0))) {
		text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	} else if ((part = fp_find(top, "html", 0))) {
		char *html = g_mime_text_part_get_text(GMIME_TEXT_PART(part));

		text = html ? fp_html_to_text(html, strlen(html)) : NULL;
		g_free(html);
	} else {
		return NULL;
	}
	if (!text)
		return NULL;
	fp = fingerprint_text(text, strlen(text));
	g_free(text);
	return fp;
}

/* ---- comparing ------------------------------------------------------- */

static int
fp_parse(const char *s, const char **digest, const char **mh)
{
	size_t n;

	if (!s || !g_str_has_prefix(s, FP_PREFIX))
		return -1;
	s += strlen(FP_PREFIX);
	if (strspn(s, "0123456789abcdef") != FP_DIGEST_HEX ||
	    s[FP_DIGEST_HEX] != ':')
		return -1;
	*digest = s;
	*mh = s + FP_DIGEST_HEX + 1;
	n = strlen(*mh);
	if (n != 0 && (n != FINGERPRINT_HASHES * 8 ||
		       strspn(*mh, "0123456789abcdef") != n))
		return -1;
	return 0;
}

int
fingerprint_similarity(const char *a, const char *b)
{
	const char *da, *db, *ma, *mb;
	int votes = 0;

	if (fp_parse(a, &da, &ma) < 0 || fp_parse(b, &db, &mb) < 0)
		return -1;
	if (memcmp(da, db, FP_DIGEST_HEX) == 0)
		return FINGERPRINT_HASHES;
	if (!*ma || !*mb)
		return -1;
	for (int i = 0; i < FINGERPRINT_HASHES; i++)
		votes += memcmp(ma + i * 8, mb + i * 8, 8) == 0;
	return votes;
}
