/* dsn/text: small string tools for bounce text; see dsn_int.h. */
#include <string.h>

#include "dsn/dsn_int.h"

const char *
dsn_find(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle));
}

#define LOWER(c) ((c) >= 'A' && (c) <= 'Z' ? (c) + ('a' - 'A') : (c))

/* Eight bytes at a time: the bytes 'A'..'Z' get 0x20 added, every other
 * byte (8-bit ones included) is kept. */
static guint64
lower8(guint64 w)
{
	const guint64 ones = G_GUINT64_CONSTANT(0x0101010101010101);
	guint64 low7 = w & (0x7f * ones);
	guint64 ge_a = low7 + (0x80 - 'A') * ones;
	guint64 gt_z = low7 + (0x80 - 'Z' - 1) * ones;
	guint64 upper = (ge_a ^ gt_z) & ~w & (0x80 * ones);

	return w | (upper >> 2);
}

char *
dsn_lower(const char *s, size_t len)
{
	char *out = g_malloc(len + 1);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		guint64 w;

		memcpy(&w, s + i, 8);
		w = lower8(w);
		memcpy(out + i, &w, 8);
	}
	for (; i < len; i++)
		out[i] = (char)LOWER(s[i]);
	out[len] = '\0';
	return out;
}

/* The first byte of the needle is looked for with memchr in both cases,
 * the rest compared where it is found. */
const char *
dsn_casefind(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	const char *p = hay, *last;
	char lo, up;

	if (n == 0)
		return hay;
	if (n > len)
		return NULL;
	lo = needle[0];
	/* A capital never matches: the text is compared in lower case. */
	if (LOWER(lo) != lo)
		return NULL;
	up = g_ascii_toupper(lo);
	last = hay + len - n;
	while (p <= last) {
		size_t room = (size_t)(last - p) + 1, k = 1;
		const char *a = memchr(p, lo, room);
		const char *b =
			up != lo ? memchr(p, up, a ? (size_t)(a - p) : room)
				 : NULL;

		p = b ? b : a;
		if (!p)
			return NULL;
		while (k < n && LOWER(p[k]) == needle[k])
			k++;
		if (k == n)
			return p;
		p++;
	}
	return NULL;
}

/*
 * A quick "certainly not" before memmem: the set of character trigrams of
 * a text, hashed into a bitmap once; a needle whose first or last trigram
 * is absent cannot occur. Most phrases and markers are ruled out by two
 * bit tests.
 */
static inline unsigned
tri_hash(const unsigned char *s)
{
	return (((unsigned)s[0] << 10) ^ ((unsigned)s[1] << 5) ^ s[2]) &
	       (DSN_TRI_BITS - 1);
}

static inline int
tri_has(const struct dsn_tri *t, const char *s)
{
	unsigned h = tri_hash((const unsigned char *)s);

	return (t->bits[h / 64] >> (h % 64)) & 1;
}

/* tri_hash rolled along the text: shifting out the oldest byte drops
 * exactly its bits, so each step costs a shift and an exclusive or. */
#define TRI_STEP(t, h, c)                                                      \
	do {                                                                   \
		(h) = (((h) << 5) ^ (c)) & (DSN_TRI_BITS - 1);                 \
		(t)->bits[(h) / 64] |= G_GUINT64_CONSTANT(1) << ((h) % 64);    \
	} while (0)

void
dsn_tri_fill(struct dsn_tri *t, const char *lc, size_t len)
{
	const unsigned char *u = (const unsigned char *)lc;
	unsigned h;
	size_t i;

	memset(t, 0, sizeof(*t));
	if (len < 3)
		return;
	h = ((unsigned)u[0] << 5) ^ u[1];
	i = 2;
	/* Four bytes a turn: the loop's own count and test were a quarter
	 * of the instructions. */
	for (; i + 4 <= len; i += 4) {
		TRI_STEP(t, h, u[i]);
		TRI_STEP(t, h, u[i + 1]);
		TRI_STEP(t, h, u[i + 2]);
		TRI_STEP(t, h, u[i + 3]);
	}
	for (; i < len; i++)
		TRI_STEP(t, h, u[i]);
}

/* A byte that may stand in a trigram of a needle: not its end, not the
 * separator of its pieces. */
#define TRI_CH(c) ((c) != '\0' && (c) != '\x1f')

/* Every piece of the needle (split by \x1f) must have its trigrams in the
 * text: those at every third offset and the last one are tested, the first
 * one first, so that a needle sharing a few common words with the text is
 * still ruled out without a search. */
int
dsn_tri_may(const struct dsn_tri *t, const char *needle)
{
	const unsigned char *p = (const unsigned char *)needle;

	if (!t)
		return 1;
	for (;;) {
		size_t n = 0;

		while (TRI_CH(p[n]) && TRI_CH(p[n + 1]) && TRI_CH(p[n + 2])) {
			if (!tri_has(t, (const char *)p + n))
				return 0;
			n += 3;
		}
		while (TRI_CH(p[n]))
			n++;
		if (n >= 3 && !tri_has(t, (const char *)p + n - 3))
			return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}

size_t
dsn_tri_sig(const char *needle, guint16 *h, size_t max)
{
	const unsigned char *p = (const unsigned char *)needle;
	size_t k = 0;

	for (;;) {
		size_t n = 0;

		while (TRI_CH(p[n]) && TRI_CH(p[n + 1]) && TRI_CH(p[n + 2])) {
			if (k < max)
				h[k++] = (guint16)tri_hash(p + n);
			n += 3;
		}
		while (TRI_CH(p[n]))
			n++;
		if (n >= 3 && k < max)
			h[k++] = (guint16)tri_hash(p + n - 3);
		if (!p[n])
			return k;
		p += n + 1;
	}
}

int
dsn_starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && g_ascii_strncasecmp(s, prefix, n) == 0;
}

/* ---- addresses -------------------------------------------------------- */

static int
addr_local_char(unsigned char c)
{
	return g_ascii_isalnum(c) || c >= 0x80 ||
	       strchr("!#$%&'*+-/=?^_`{|}~.", c);
}

static int
addr_domain_char(unsigned char c)
{
	return g_ascii_isalnum(c) || c >= 0x80 || c == '-' || c == '.';
}

/* Checks local@domain in s[0..len); on success returns the canonical copy
 * (domain folded to lower case). */
static char *
addr_check(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t l, d;
	int dots = 0;
	char *out;

	if (!at)
		return NULL;
	l = (size_t)(at - s);
	d = len - l - 1;
	if (l == 0 || l > 128 || d < 3 || d > 255 || s[0] == '.' ||
	    s[l - 1] == '.')
		return NULL;
	for (size_t i = 0; i < l; i++)
		if (!addr_local_char((unsigned char)s[i]))
			return NULL;
	for (size_t i = l + 1; i < len; i++) {
		if (!addr_domain_char((unsigned char)s[i]))
			return NULL;
		if (s[i] == '.') {
			if (s[i - 1] == '.' || s[i - 1] == '@' || i + 1 == len)
				return NULL;
			dots++;
		}
	}
	if (dots == 0)
		return NULL;
	out = g_strndup(s, len);
	for (size_t i = l + 1; i < len; i++)
		out[i] = g_ascii_tolower(out[i]);
	return out;
}

/* An address between angle brackets ("<a@b.c>", "<mailto:a@b.c>"). */
static char *
addr_find_angle(const char *s, size_t len, size_t *end)
{
	for (const char *p = memchr(s, '<', len); p;
	     p = memchr(p + 1, '<', len - (size_t)(p + 1 - s))) {
		size_t rest = len - (size_t)(p + 1 - s);
		const char *q = memchr(p + 1, '>', MIN(rest, 320));
		const char *a = p + 1;
		char *out;

		if (!q)
			continue;
		if (q - a > 7 && g_ascii_strncasecmp(a, "mailto:", 7) == 0)
			a += 7;
		while (a < q && (*a == ' ' || *a == '"' || *a == '\''))
			a++;
		out = addr_check(a, (size_t)(q - a));
		if (out) {
			if (end)
				*end = (size_t)(q + 1 - s);
			return out;
		}
	}
	return NULL;
}

static char *
addr_find_bare(const char *s, size_t len, size_t *end)
{
	for (const char *at = memchr(s, '@', len); at;
	     at = memchr(at + 1, '@', len - (size_t)(at + 1 - s))) {
		const char *a = at, *b = at + 1, *e = s + len;
		char *out;

		while (a > s && addr_local_char((unsigned char)a[-1]))
			a--;
		while (a < at && *a == '.')
			a++;
		while (b < e && addr_domain_char((unsigned char)*b))
			b++;
		while (b > at + 1 && (b[-1] == '.' || b[-1] == '-'))
			b--;
		out = addr_check(a, (size_t)(b - a));
		if (out) {
			if (end)
				*end = (size_t)(b - s);
			return out;
		}
	}
	return NULL;
}

char *
dsn_addr_find(const char *s, size_t len, size_t *end)
{
	char *a;

	if (!s || !memchr(s, '@', len))
		return NULL;
	a = addr_find_angle(s, len, end);
	return a ? a : addr_find_bare(s, len, end);
}

int
dsn_addr_valid(const char *s)
{
	char *a;

	if (!s)
		return 0;
	a = addr_check(s, strlen(s));
	g_free(a);
	return a != NULL;
}

/* ---- RFC 3463 codes and SMTP reply codes ------------------------------ */

static int
code_is_zero(const char *c)
{
	return strcmp(c + 1, ".0.0") == 0 || strcmp(c, "4.4.7") == 0;
}

/* The class digit of a reply or an RFC 3463 code. */
static int
code_class(char c)
{
	return c == '2' || c == '4' || c == '5';
}

/* A code class.subject.detail at s[i] (class 2, 4 or 5, subject one digit,
 * detail one to three): its length, or 0. */
static size_t
code_at(const char *s, size_t len, size_t i)
{
	size_t j = i + 4, k;
	unsigned char prev = i > 0 ? (unsigned char)s[i - 1] : ' ';

	if (i + 5 > len || !code_class(s[i]) || s[i + 1] != '.' ||
	    s[i + 2] < '0' || s[i + 2] > '7' || s[i + 3] != '.')
		return 0;
	if (g_ascii_isalnum(prev) || prev == '.' || prev == '-' ||
	    prev == '/' || prev == '_')
		return 0;
	for (k = 0; j < len && g_ascii_isdigit(s[j]) && k < 4; j++, k++)
		;
	if (k == 0 || k > 3)
		return 0;
	if (j < len &&
	    (g_ascii_isalnum(s[j]) || s[j] == '_' ||
	     (s[j] == '.' && j + 1 < len && g_ascii_isdigit(s[j + 1]))))
		return 0;
	return j - i;
}

int
dsn_status_find(const char *s, size_t len, char class_hint, char *out)
{
	char best[12] = "", zero[12] = "";

	for (size_t i = 0; s && i + 5 <= len; i++) {
		size_t n;
		char c[12];

		/* Most bytes are not a class digit: code_at is not called. */
		if (!code_class(s[i]) || (n = code_at(s, len, i)) == 0)
			continue;
		memcpy(c, s + i, n);
		c[n] = '\0';
		i += n - 1;
		if (class_hint && c[0] != class_hint)
			continue;
		if (code_is_zero(c)) {
			if (!zero[0])
				memcpy(zero, c, sizeof(c));
			continue;
		}
		if (!best[0])
			memcpy(best, c, sizeof(c));
		else
			g_strlcpy(best, dsn_status_prefer(best, c, ""),
				  sizeof(best));
	}
	if (!best[0])
		memcpy(best, zero, sizeof(zero));
	if (!best[0])
		return 0;
	memcpy(out, best, sizeof(best));
	return 1;
}

int
dsn_reply_find(const char *s, size_t len, char *out)
{
	for (size_t i = 0; s && i + 3 <= len; i++) {
		unsigned char prev, next;

		if (!code_class(s[i]) || !g_ascii_isdigit(s[i + 1]) ||
		    !g_ascii_isdigit(s[i + 2]) || s[i + 1] > '5')
			continue;
		prev = i > 0 ? (unsigned char)s[i - 1] : ' ';
		next = i + 3 < len ? (unsigned char)s[i + 3] : ' ';
		if (g_ascii_isalnum(prev) || prev == '.' || prev == ':' ||
		    prev == '-' || prev == '/' || prev == '+' || prev == '=')
			continue;
		if (g_ascii_isalnum(next) || next == '.' || next == ':' ||
		    next == '/' || next == '@' || next == ')')
			continue;
		memcpy(out, s + i, 3);
		out[3] = '\0';
		return 1;
	}
	return 0;
}

/*
 * Status: field against the code in the diagnostic. The text usually says
 * more (a generic X.0.0 or an ambiguous 4.4.7 in Status:, the precise code
 * in the reply); when the classes disagree, the reply code decides.
 */
const char *
dsn_status_prefer(const char *field, const char *found, const char *reply)
{
	if (!field || !*field)
		return found;
	if (!found || !*found || strlen(field) < 5)
		return found && *found ? found : field;
	if (strlen(found) < 5 || strcmp(field, found) == 0)
		return field;
	if (reply && *reply && field[0] != found[0]) {
		if (reply[0] == field[0])
			return field;
		if (reply[0] == found[0])
			return found;
	}
	if (strstr(field, ".0.0"))
		return strstr(found, ".0.0") ? field : found;
	if (strstr(field, ".0") && !strstr(found, ".0"))
		return found;
	if (strstr(found, ".0.0"))
		return field;
	if (strcmp(field, "4.4.7") == 0 || strcmp(field, "4.7.0") == 0 ||
	    g_str_has_prefix(field, "5.3.") ||
	    g_str_has_prefix(field + 1, ".5.1") ||
	    g_str_has_prefix(field + 1, ".5.2") ||
	    g_str_has_prefix(field + 1, ".5.4") ||
	    g_str_has_prefix(field + 1, ".5.5"))
		return found;
	if (strcmp(field, "5.1.1") == 0)
		return strstr(found, ".0") || g_str_has_prefix(found, "5.5.")
			       ? field
			       : found;
	if (strcmp(field, "5.1.3") == 0 && g_str_has_prefix(found, "5.7."))
		return found;
	return field;
}

/* An SMTP command written in capitals as a word of its own ("RCPT" in
 * "after RCPT command", not in "RCPTFOO@EXAMPLE"); its first byte, a
 * capital and so rare in a text, is looked for with memchr. */
static const char *
command_word(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);
	const char *end = s + len;

	if (n > len)
		return NULL;
	for (const char *p = memchr(s, word[0], len - n + 1); p;
	     p = memchr(p + 1, word[0], (size_t)(end - n - p))) {
		unsigned char a = p > s ? (unsigned char)p[-1] : ' ';
		unsigned char b = p + n < end ? (unsigned char)p[n] : ' ';

		if (memcmp(p, word, n) == 0 && !g_ascii_isalnum(a) &&
		    a != '@' && a != '.' && !g_ascii_isalnum(b) && b != '@' &&
		    b != '.')
			return p;
	}
	return NULL;
}

/*
 * The SMTP command a reply answered: first the words MTAs put around it
 * ("in reply to RCPT TO command", "after end of data", "did not like our
 * final DATA"), the one nearest the front winning, when the text names
 * rcpt, mail, data, helo or initial anywhere; else a command named in
 * capitals, the one furthest into the transaction winning (a transcript
 * names several). The phrases are searched by the words they begin with:
 * one search per group, not one per phrase; the commands by memchr for
 * their first capital.
 */
const char *
dsn_command_find(const char *s, size_t len)
{
	static const struct {
		const char *words;
		const char *cmd;
	} tab[] = {
		{ "in reply to rcpt to", "RCPT" },
		{ "in reply to mail from", "MAIL" },
		{ "in reply to end of data", "DATA" },
		{ "in reply to data", "DATA" },
		{ "in reply to ehlo", "EHLO" },
		{ "in reply to helo", "HELO" },
		{ "after rcpt to", "RCPT" },
		{ "after mail from", "MAIL" },
		{ "after end of data", "DATA" },
		{ "after initial connection", "CONN" },
		{ "after ehlo", "EHLO" },
		{ "after helo", "HELO" },
		{ "our rcpt to", "RCPT" },
		{ "our final data", "DATA" },
		{ "our data", "DATA" },
		{ "our mail from", "MAIL" },
		{ "for text command", "DATA" },
		{ "smtp:rcpt", "RCPT" },
		{ "[rcpt_to]", "RCPT" },
		{ "[mail_from]", "MAIL" },
	};
	/* The phrases tab[first..last) all begin with lead; none is the
	 * prefix of another, so at most one matches at one place. */
	static const struct {
		const char *lead;
		size_t first, last;
	} groups[] = {
		{ "in reply to ", 0, 6 },  { "after ", 6, 12 },
		{ "our ", 12, 16 },	   { "for text command", 16, 17 },
		{ "smtp:rcpt", 17, 18 },   { "[rcpt_to]", 18, 19 },
		{ "[mail_from]", 19, 20 },
	};
	static const struct {
		const char *word;
		const char *cmd;
	} words[] = {
		{ "DATA", "DATA" },	    { "RCPT", "RCPT" },
		{ "MAIL FROM", "MAIL" },    { "AUTH", "AUTH" },
		{ "STARTTLS", "STARTTLS" }, { "EHLO", "EHLO" },
		{ "HELO", "HELO" },
	};
	const char *best = NULL, *cmd = NULL;
	char *lc;

	if (!s)
		return NULL;
	lc = dsn_lower(s, len);
	/* A phrase counts only when the text holds one of these too. */
	if (dsn_find(lc, len, "rcpt") || dsn_find(lc, len, "mail") ||
	    dsn_find(lc, len, "data") || dsn_find(lc, len, "helo") ||
	    dsn_find(lc, len, "initial"))
		for (size_t g = 0; g < G_N_ELEMENTS(groups); g++) {
			const char *lead = groups[g].lead, *end = lc + len;
			size_t ln = strlen(lead);

			for (const char *p = memmem(lc, len, lead, ln);
			     p && (!best || p < best);
			     p = memmem(p + 1, (size_t)(end - p - 1), lead, ln))
				for (size_t k = groups[g].first;
				     k < groups[g].last && best != p; k++)
					if (g_str_has_prefix(p, tab[k].words)) {
						best = p;
						cmd = tab[k].cmd;
					}
		}
	g_free(lc);
	for (size_t i = 0; !cmd && i < G_N_ELEMENTS(words); i++)
		if (command_word(s, len, words[i].word))
			cmd = words[i].cmd;
	return cmd;
}

/* ---- building fields ------------------------------------------------- */

char *
dsn_strip(const char *s, size_t len)
{
	while (len > 0 && g_ascii_isspace(*s)) {
		s++;
		len--;
	}
	while (len > 0 && g_ascii_isspace(s[len - 1]))
		len--;
	return len ? g_strndup(s, MIN(len, REPORT_FIELD_MAX)) : NULL;
}

void
dsn_append(char **dst, const char *s, size_t len)
{
	size_t o = *dst ? strlen(*dst) : 0;
	int blank;
	char *p;

	if (o >= REPORT_FIELD_MAX || len == 0)
		return;
	/* Grown in place (no copy of what is there): diagnostics are built
	 * a line at a time. */
	p = g_realloc(*dst, o + MIN(len, REPORT_FIELD_MAX) + 2);
	blank = o == 0 || p[o - 1] == ' ';
	if (o > 0 && !blank) {
		p[o++] = ' ';
		blank = 1;
	}
	/* A run of white space becomes one blank, a run of other bytes is
	 * copied whole. */
	for (size_t i = 0, j; i < len && o < REPORT_FIELD_MAX; i = j) {
		size_t n;

		if (g_ascii_isspace(s[i])) {
			if (!blank)
				p[o++] = ' ';
			blank = 1;
			j = i + 1;
			continue;
		}
		for (j = i + 1; j < len && !g_ascii_isspace(s[j]); j++)
			;
		n = MIN(j - i, REPORT_FIELD_MAX - o);
		memcpy(p + o, s + i, n);
		o += n;
		blank = 0;
	}
	while (o > 0 && p[o - 1] == ' ')
		o--;
	p[o] = '\0';
	if (o == 0) {
		g_free(p);
		p = NULL;
	}
	*dst = p;
}

void
dsn_set(char **dst, const char *s)
{
	g_free(*dst);
	*dst = s ? dsn_strip(s, strlen(s)) : NULL;
}
