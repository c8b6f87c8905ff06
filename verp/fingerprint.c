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

/* URLs and addresses say little about the text and vary per recipient. */
static int
fp_is_link(const char *chunk, size_t n)
{
	return g_strstr_len(chunk, (gssize)n, "://") || memchr(chunk, '@', n) ||
	       (n >= 4 && g_ascii_strncasecmp(chunk, "www.", 4) == 0) ||
	       (n >= 7 && g_ascii_strncasecmp(chunk, "mailto:", 7) == 0);
}

/* The character at *p (advanced past it) in lower case, 0 for a
 * separator: anything but a letter or digit, and bytes that are not
 * UTF-8. ASCII, by far the most common, is decided without decoding. */
static gunichar
fp_next(const char **p, const char *end, int *digit)
{
	unsigned char c = (unsigned char)**p;
	gunichar u;

	if (c < 0x80) {
		(*p)++;
		*digit = g_ascii_isdigit(c);
		return g_ascii_isalnum(c) ? (gunichar)g_ascii_tolower(c) : 0;
	}
	u = g_utf8_get_char_validated(*p, end - *p);
	if (u == (gunichar)-1 || u == (gunichar)-2) {
		(*p)++;
		return 0;
	}
	*p = g_utf8_next_char(*p);
	*digit = g_unichar_isdigit(u);
	return g_unichar_isalnum(u) ? g_unichar_tolower(u) : 0;
}

/* Appends the words of one whitespace-free chunk that survive the rules. */
static void
fp_chunk_words(const char *p, const char *end, GString *norm, GArray *starts)
{
	char word[FP_WORD_MAX * 6 + 1];

	while (p < end) {
		size_t wlen = 0;
		glong chars = 0;
		int digits = 0, digit = 0;
		gunichar u;

		while (p < end && (u = fp_next(&p, end, &digit)) != 0) {
			if (++chars <= FP_WORD_MAX)
				wlen += (size_t)g_unichar_to_utf8(u,
								  word + wlen);
			digits |= digit;
		}
		if (chars < 2 || chars > FP_WORD_MAX || digits)
			continue;
		if (norm->len)
			g_string_append_c(norm, ' ');
		g_array_append_vals(starts, &norm->len, 1);
		g_string_append_len(norm, word, (gssize)wlen);
	}
}

/* The normalised text: surviving words separated by single spaces;
 * starts gets the offset of each word. One pass, no copy of the input. */
static GString *
fp_normalise(const char *text, size_t len, GArray *starts)
{
	const char *p = text;
	const char *end = text + MIN(len, (size_t)FINGERPRINT_TEXT_MAX);
	GString *norm = g_string_sized_new(MIN(len, (size_t)8192));

	while (p < end) {
		const char *chunk;

		while (p < end && fp_space((unsigned char)*p))
			p++;
		chunk = p;
		while (p < end && !fp_space((unsigned char)*p))
			p++;
		if (p > chunk && !fp_is_link(chunk, (size_t)(p - chunk)))
			fp_chunk_words(chunk, p, norm, starts);
	}
	return norm;
}

/* The 32 hash functions: a SplitMix64 finaliser over the shingle's hash
 * xored with one key each (keyed hashing, as rspamd's shingles). */
static uint64_t
fp_mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static void
fp_minhash(const GString *norm, const GArray *starts, uint32_t out[])
{
	uint64_t key[FINGERPRINT_HASHES], min[FINGERPRINT_HASHES];
	uint64_t seed = FP_SEED;

	for (int i = 0; i < FINGERPRINT_HASHES; i++) {
		key[i] = fp_splitmix(&seed);
		min[i] = UINT64_MAX;
	}
	for (guint w = 0; w + 2 < starts->len; w++) {
		size_t from = g_array_index(starts, gsize, w);
		size_t to = w + 3 < starts->len
				    ? g_array_index(starts, gsize, w + 3) - 1
				    : norm->len;
		uint64_t x = fp_hash(norm->str + from, to - from);

		for (int i = 0; i < FINGERPRINT_HASHES; i++) {
			uint64_t v = fp_mix(x ^ key[i]);
			if (v < min[i])
				min[i] = v;
		}
	}
	for (int i = 0; i < FINGERPRINT_HASHES; i++)
		out[i] = (uint32_t)min[i];
}

char *
fingerprint_text(const char *text, size_t len)
{
	GArray *starts = g_array_new(FALSE, FALSE, sizeof(gsize));
	GString *norm = fp_normalise(text, len, starts);
	GString *out = NULL;
	char *digest;

	if (starts->len >= FINGERPRINT_MIN_WORDS ||
	    norm->len >= FINGERPRINT_MIN_BYTES) {
		digest = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
						     (const guchar *)norm->str,
						     norm->len);
		out = g_string_new(FP_PREFIX);
		g_string_append_len(out, digest, FP_DIGEST_HEX);
		g_string_append_c(out, ':');
		g_free(digest);
		if (starts->len >= FINGERPRINT_MIN_WORDS) {
			uint32_t mh[FINGERPRINT_HASHES];

			fp_minhash(norm, starts, mh);
			for (int i = 0; i < FINGERPRINT_HASHES; i++)
				g_string_append_printf(out, "%08x", mh[i]);
		}
	}
	g_string_free(norm, TRUE);
	g_array_free(starts, TRUE);
	return out ? g_string_free(out, FALSE) : NULL;
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
