/* dsn/msg: the view of one bounce; see dsn_int.h. */
#include <stddef.h>
#include <string.h>

#include "core/ingest.h"
#include "dsn/dsn_int.h"

/* The headers the recognisers ask for, most of them several times. */
static const char *const msg_memo_names[] = {
	"From",
	"To",
	"Received",
	"X-Failed-Recipients",
	"X-Mailer",
	"Message-ID",
	"X-ZohoMail",
	"X-MLServer",
	"X-HmXmrOriginalRecipient",
};

/* What dsn_msg_header found for each of msg_memo_names: a message's
 * headers do not change while it is classified. */
struct dsn_msg_memo {
	const char *value[G_N_ELEMENTS(msg_memo_names)];
	char *own[G_N_ELEMENTS(msg_memo_names)]; /* value when ours */
	unsigned char asked[G_N_ELEMENTS(msg_memo_names)];
};

/* What the walk over the MIME tree collects. */
struct msg_walk {
	struct dsn_msg *m;
	GString *text;
	GString *html;
	int seen_orig; /* text after the returned message is not the report */
};

/* 1 when s[0..len) holds a byte >= 0x80; eight bytes at a time. */
static int
msg_has_high(const char *s, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		guint64 w;

		memcpy(&w, s + i, 8);
		if (w & G_GUINT64_CONSTANT(0x8080808080808080))
			return 1;
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* Converts buf to UTF-8 from its declared charset. Text that is already
 * valid UTF-8 with 8-bit bytes under a 7-bit label (ISO-2022-JP, ASCII)
 * was re-encoded on the way and is kept as it is; what iconv refuses is
 * kept raw (made valid UTF-8 later). */
static void
msg_append_text(GString *out, const char *buf, size_t len, const char *charset)
{
	gsize n = 0;
	char *conv;
	int high = msg_has_high(buf, len);
	int esc = !high && memchr(buf, 0x1b, len) != NULL;

	/* Plain ASCII reads the same in every charset mail uses but the
	 * escape-based and 16-bit ones: no iconv for it. */
	if (!high && !esc && charset && !g_str_has_prefix(charset, "utf-16") &&
	    !g_str_has_prefix(charset, "UTF-16") &&
	    g_ascii_strncasecmp(charset, "utf-7", 5) != 0) {
		g_string_append_len(out, buf, (gssize)len);
		return;
	}
	if (!charset || g_ascii_strcasecmp(charset, "utf-8") == 0 ||
	    g_ascii_strcasecmp(charset, "us-ascii") == 0 ||
	    (high && g_ascii_strncasecmp(charset, "iso-2022", 8) == 0 &&
	     g_utf8_validate(buf, (gssize)len, NULL))) {
		g_string_append_len(out, buf, (gssize)len);
		return;
	}
	conv = g_convert_with_fallback(buf, (gssize)len, "UTF-8", charset, "?",
				       NULL, &n, NULL);
	if (conv)
		g_string_append_len(out, conv, (gssize)n);
	else
		g_string_append_len(out, buf, (gssize)len);
	g_free(conv);
}

/* The bytes of a content stream that lives in memory (what ingest's parse
 * gives: substreams of one GMimeStreamMem), or NULL. */
static const char *
msg_part_bytes(GMimeStream *src, size_t *len)
{
	GByteArray *a;
	gint64 start = src->bound_start, end = src->bound_end;

	if (!GMIME_IS_STREAM_MEM(src))
		return NULL;
	a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(src));
	if (!a)
		return NULL;
	if (end < 0 || end > (gint64)a->len)
		end = a->len;
	if (start < 0 || start > end)
		return NULL;
	*len = (size_t)(end - start);
	return (const char *)a->data + start;
}

/* Decodes in[0..inlen) into raw until it holds want bytes: the input is
 * fed in pieces, so that no more than needed is decoded. */
static void
msg_decode(GMimeContentEncoding enc, const char *in, size_t inlen, GString *raw,
	   size_t want)
{
	GMimeEncoding st;

	g_mime_encoding_init_decode(&st, enc);
	for (size_t off = 0; off < inlen && raw->len < want;) {
		size_t n = MIN(inlen - off, 8192), old = raw->len;

		g_string_set_size(raw, old + g_mime_encoding_outlen(&st, n));
		g_string_set_size(raw,
				  old + g_mime_encoding_step(&st, in + off, n,
							     raw->str + old));
		off += n;
	}
	if (raw->len > want)
		g_string_truncate(raw, want);
}

/* The same through GMime's streams, for content that is not in memory. */
static void
msg_stream_read(GMimeStream *src, GMimeContentEncoding enc, GString *raw,
		size_t want)
{
	GMimeStream *sub, *fs;
	char buf[8192];
	ssize_t n;

	sub = g_mime_stream_substream(src, src->bound_start, src->bound_end);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *f = g_mime_filter_basic_new(enc, FALSE);

		fs = g_mime_stream_filter_new(sub);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	} else {
		/* 7bit, 8bit, binary: read as it is. */
		fs = g_object_ref(sub);
	}
	while (raw->len < want &&
	       (n = g_mime_stream_read(fs, buf,
				       MIN(sizeof(buf), want - raw->len))) > 0)
		g_string_append_len(raw, buf, n);
	g_object_unref(fs);
	g_object_unref(sub);
}

/* Appends up to cap - out->len decoded bytes of a leaf part, converted to
 * UTF-8 from its declared charset. Only this much is ever decoded: a 15 MB
 * attachment costs nothing. Content in memory is read in place. */
static void
msg_part_read(GMimePart *part, GString *out, size_t cap)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	const char *charset = g_mime_object_get_content_type_parameter(
		GMIME_OBJECT(part), "charset");
	GMimeContentEncoding enc;
	GMimeStream *src;
	const char *bytes;
	size_t len = 0, want;
	GString *raw;

	if (!w || out->len >= cap)
		return;
	src = g_mime_data_wrapper_get_stream(w);
	if (!src)
		return;
	want = cap - out->len;
	enc = g_mime_data_wrapper_get_encoding(w);
	bytes = msg_part_bytes(src, &len);
	if (bytes && enc != GMIME_CONTENT_ENCODING_BASE64 &&
	    enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE &&
	    enc != GMIME_CONTENT_ENCODING_UUENCODE) {
		msg_append_text(out, bytes, MIN(len, want), charset);
	} else {
		raw = g_string_new(NULL);
		if (bytes)
			msg_decode(enc, bytes, len, raw, want);
		else
			msg_stream_read(src, enc, raw, want);
		msg_append_text(out, raw->str, raw->len, charset);
		g_string_free(raw, TRUE);
	}
	if (out->len > cap)
		g_string_truncate(out, cap);
}

/* The text of an HTML part: tags dropped (a line break after the block
 * ones), script and style skipped, the common entities decoded. Bounce
 * notices are simple HTML; this is enough to read their words, and costs
 * nothing like a full HTML parser would. */
static const char *
html_entity(const char *p, const char *end, GString *out)
{
	static const struct {
		const char *name;
		char c;
	} ent[] = { { "&amp;", '&' },  { "&lt;", '<' },	  { "&gt;", '>' },
		    { "&quot;", '"' }, { "&nbsp;", ' ' }, { "&#39;", '\'' },
		    { "&apos;", '\'' } };

	for (size_t i = 0; i < G_N_ELEMENTS(ent); i++) {
		size_t n = strlen(ent[i].name);

		if ((size_t)(end - p) >= n &&
		    g_ascii_strncasecmp(p, ent[i].name, n) == 0) {
			g_string_append_c(out, ent[i].c);
			return p + n;
		}
	}
	g_string_append_c(out, '&');
	return p + 1;
}

static void
msg_add_html(GString *text, const GString *html, size_t cap)
{
	const char *p = html->str, *end = p + html->len;

	while (p < end && text->len < cap) {
		if (*p == '<') {
			const char *gt = memchr(p, '>', (size_t)(end - p));
			size_t n = gt ? (size_t)(gt - p) : 0;
			const char *skip = NULL;

			if (!gt)
				break;
			if (n >= 7 && g_ascii_strncasecmp(p, "<script", 7) == 0)
				skip = "</script";
			else if (n >= 6 &&
				 g_ascii_strncasecmp(p, "<style", 6) == 0)
				skip = "</style";
			if (skip) {
				const char *q = dsn_casefind(
					gt, (size_t)(end - gt), skip);

				p = q ? q : end;
				continue;
			}
			if (n >= 2 && strchr("bBpPdDtTlLhH/", p[1]))
				g_string_append_c(text, '\n');
			p = gt + 1;
		} else if (*p == '&') {
			p = html_entity(p, end, text);
		} else {
			g_string_append_c(text, *p++);
		}
	}
}

static void msg_walk_object(struct msg_walk *w, GMimeObject *obj, int depth);

static void
msg_walk_leaf(struct msg_walk *w, GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *type = g_mime_content_type_get_media_type(ct);
	const char *sub = g_mime_content_type_get_media_subtype(ct);
	struct dsn_msg *m = w->m;

	if (!type || !sub || !GMIME_IS_PART(obj))
		return;
	m->parts++;
	if (g_ascii_strcasecmp(sub, "delivery-status") == 0 ||
	    g_ascii_strcasecmp(sub, "global-delivery-status") == 0) {
		msg_part_read(GMIME_PART(obj), m->status, DSN_TEXT_MAX);
		g_string_append_c(m->status, '\n');
	} else if (g_ascii_strcasecmp(sub, "feedback-report") == 0) {
		m->feedback = 1;
	} else if (g_ascii_strcasecmp(sub, "rfc822-headers") == 0 ||
		   g_ascii_strcasecmp(sub, "global-headers") == 0) {
		msg_part_read(GMIME_PART(obj), m->orig_headers, DSN_TEXT_MAX);
		w->seen_orig = 1;
	} else if (g_ascii_strcasecmp(type, "text") == 0 && !w->seen_orig) {
		GString *dst = g_ascii_strcasecmp(sub, "html") == 0 ? w->html
								    : w->text;

		msg_part_read(GMIME_PART(obj), dst, DSN_TEXT_MAX);
		g_string_append_c(dst, '\n');
	}
}

static void
msg_walk_object(struct msg_walk *w, GMimeObject *obj, int depth)
{
	if (!obj || depth > DSN_DEPTH_MAX)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		const char *pro = g_mime_multipart_get_prologue(mp);

		/* A multipart whose boundary never comes: what the MTA wrote
		 * is all in the prologue. */
		if (n == 0 && pro && !w->seen_orig)
			g_string_append_len(
				w->text, pro,
				(gssize)MIN(strlen(pro), DSN_TEXT_MAX));

		for (int i = 0; i < n && i < 256; i++)
			msg_walk_object(w, g_mime_multipart_get_part(mp, i),
					depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(
			GMIME_MESSAGE_PART(obj));

		if (inner && !w->m->orig)
			w->m->orig = inner;
		w->seen_orig = 1;
	} else {
		msg_walk_leaf(w, obj);
	}
}

/* CR to LF, NUL to space, invalid UTF-8 made valid; then the lower-case
 * twin and the lines. */
static void
msg_set_text(struct dsn_msg *m, GString *text)
{
	char *str = text->str, *stop = str + text->len, *q;
	size_t n = 0;

	for (q = str; (q = memchr(q, '\r', (size_t)(stop - q))); q++)
		*q = '\n';
	for (q = str; (q = memchr(q, '\0', (size_t)(stop - q))); q++)
		*q = ' ';
	/* ASCII is valid UTF-8: only text with 8-bit bytes is checked. */
	if (!msg_has_high(str, text->len) ||
	    g_utf8_validate(str, (gssize)text->len, NULL))
		m->text = g_string_free(text, FALSE);
	else {
		m->text = g_utf8_make_valid(str, (gssize)text->len);
		g_string_free(text, TRUE);
	}
	m->text_len = strlen(m->text);
	m->lower = dsn_lower(m->text, m->text_len);
	dsn_tri_fill(&m->tri, m->lower, m->text_len);
	stop = m->text + m->text_len;
	for (q = m->text; (q = memchr(q, '\n', (size_t)(stop - q))); q++)
		n++;
	n = MIN(n + 1, DSN_LINES_MAX);
	m->lines = g_new0(struct dsn_line, n);
	for (const char *p = m->text, *end = m->text + m->text_len;
	     p <= end && m->nlines < n;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct dsn_line *l = &m->lines[m->nlines++];

		l->s = p;
		l->lc = m->lower + (p - m->text);
		l->len = len;
		if (!nl)
			break;
		p = nl + 1;
	}
}

static void
msg_set_from(struct dsn_msg *m)
{
	InternetAddressList *list = g_mime_message_get_from(m->msg);
	const char *s;

	if (list && internet_address_list_length(list) > 0) {
		InternetAddress *a = internet_address_list_get_address(list, 0);

		if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
			s = internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(a));
			if (s) {
				m->from = g_ascii_strdown(s, -1);
				return;
			}
		}
	}
	s = dsn_msg_header(m, "From");
	m->from = s ? g_ascii_strdown(s, -1) : g_strdup("");
}

struct dsn_msg *
dsn_msg_new(GMimeMessage *msg)
{
	/* The trigram bitmap (the last 4 KiB) is cleared by its fill. */
	struct dsn_msg *m = g_new(struct dsn_msg, 1);
	struct msg_walk w = { m, g_string_new(NULL), g_string_new(NULL), 0 };
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	const char *subj = g_mime_message_get_subject(msg);

	memset(m, 0, offsetof(struct dsn_msg, tri));
	m->msg = msg;
	m->memo = g_new0(struct dsn_msg_memo, 1);
	m->subject = g_strdup(subj ? subj : "");
	msg_set_from(m);
	m->status = g_string_new(NULL);
	m->orig_headers = g_string_new(NULL);
	if (body) {
		GMimeContentType *ct = g_mime_object_get_content_type(body);

		m->report = ct && g_mime_content_type_is_type(ct, "multipart",
							      "report");
		msg_walk_object(&w, body, 0);
	}
	if (w.text->len == 0)
		msg_add_html(w.text, w.html, DSN_TEXT_MAX);
	g_string_free(w.html, TRUE);
	msg_set_text(m, w.text);
	return m;
}

void
dsn_msg_free(struct dsn_msg *m)
{
	if (!m)
		return;
	g_free(m->from);
	g_free(m->subject);
	g_free(m->text);
	g_free(m->lower);
	g_free(m->lines);
	g_string_free(m->status, TRUE);
	g_string_free(m->orig_headers, TRUE);
	if (m->memo)
		for (size_t i = 0; i < G_N_ELEMENTS(m->memo->own); i++)
			g_free(m->memo->own[i]);
	g_free(m->memo);
	g_free(m);
}

/* The value of the first header called name: its raw value unfolded by
 * ingest_header_plain where that gives what GMime's decoder would,
 * GMime's decoded value otherwise. */
static const char *
msg_header_value(GMimeMessage *msg, const char *name, char **own)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	GMimeHeader *h = g_mime_header_list_get_header(hl, name);
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;

	*own = raw ? ingest_header_plain(raw) : NULL;
	if (*own)
		return *own;
	return h ? g_mime_header_get_value(h) : NULL;
}

const char *
dsn_msg_header(const struct dsn_msg *m, const char *name)
{
	struct dsn_msg_memo *memo = m->memo;

	for (size_t i = 0; i < G_N_ELEMENTS(msg_memo_names); i++) {
		if (strcmp(name, msg_memo_names[i]) != 0)
			continue;
		if (!memo->asked[i]) {
			memo->value[i] =
				msg_header_value(m->msg, name, &memo->own[i]);
			memo->asked[i] = 1;
		}
		return memo->value[i];
	}
	return g_mime_object_get_header(GMIME_OBJECT(m->msg), name);
}

/* The line holding offset off of the lower-case text. */
static size_t
msg_line_of(const struct dsn_msg *m, size_t off)
{
	size_t lo = 0, hi = m->nlines;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if ((size_t)(m->lines[mid].lc - m->lower) <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* One memmem over the text from line `from` on, not one per line: needles
 * hold no newline, so a hit lies within one line. */
size_t
dsn_msg_find(const struct dsn_msg *m, size_t from, const char *needle)
{
	size_t start, end;
	const char *hit;

	if (from >= m->nlines || !dsn_tri_may(&m->tri, needle))
		return m->nlines;
	start = (size_t)(m->lines[from].lc - m->lower);
	end = (size_t)(m->lines[m->nlines - 1].lc - m->lower) +
	      m->lines[m->nlines - 1].len;
	hit = memmem(m->lower + start, end - start, needle, strlen(needle));
	return hit ? msg_line_of(m, (size_t)(hit - m->lower)) : m->nlines;
}

size_t
dsn_msg_find_any(const struct dsn_msg *m, size_t from,
		 const char *const *needles)
{
	size_t best = m->nlines;

	for (const char *const *n = needles; *n; n++) {
		size_t i = dsn_msg_find(m, from, *n);

		if (i < best)
			best = i;
	}
	return best;
}

int
dsn_msg_has(const struct dsn_msg *m, const char *needle)
{
	return dsn_tri_may(&m->tri, needle) &&
	       dsn_find(m->lower, m->text_len, needle) != NULL;
}
