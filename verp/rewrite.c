/* rewrite: see rewrite.h. */
#include "verp/rewrite.h"

#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <string.h>

#include "core/ingest.h"

#define RW_HTML_OPTS                                                           \
	(HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |      \
	 HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED | HTML_PARSE_NODEFDTD)
#define RW_LINE_MAX 998
#define RW_TREE_DEPTH_MAX 256

/* One HTML part to replace once every part is known to be fine. */
struct rw_job {
	GMimePart *part;
	GByteArray *content; /* decoded, in the part's charset */
};

struct rw_ctx {
	const struct rewrite_links *cb;
	struct rewrite_result *res;
	GPtrArray *jobs;
	char *refused; /* the first reason to leave everything alone */
};

/* ---- parsing ------------------------------------------------------------ */

struct rw_warn {
	int broken;
	const char *why;
};

static void
rw_on_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
	      gpointer ud)
{
	struct rw_warn *w = ud;
	const char *why = NULL;

	switch (code) {
	case GMIME_WARN_MALFORMED_MULTIPART:
		why = "malformed multipart";
		break;
	case GMIME_WARN_TRUNCATED_MESSAGE:
		why = "truncated message";
		break;
	case GMIME_WARN_MALFORMED_MESSAGE:
		why = "malformed message";
		break;
	case GMIME_WARN_INVALID_CONTENT_TYPE:
		why = "invalid content type";
		break;
	case GMIME_WARN_PART_WITHOUT_CONTENT:
		why = "part without content";
		break;
	case GMIME_CRIT_INVALID_HEADER_NAME:
	case GMIME_CRIT_CONFLICTING_HEADER:
	case GMIME_CRIT_CONFLICTING_PARAMETER:
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
	case GMIME_CRIT_NESTING_OVERFLOW:
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		why = "MIME structure the parser had to guess";
		break;
	default:
		/* Duplicated headers, 8-bit or bad RFC 2047 headers and the
		 * like do not change what the body is. */
		break;
	}
	if (why && !w->broken) {
		w->broken = 1;
		w->why = why;
	}
}

GMimeMessage *
rewrite_parse(const char *raw, size_t len, int *broken, const char **why)
{
	size_t n = len;
	char *lf = ingest_normalise(raw, len, &n);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(lf ? lf : raw, n);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeParserOptions *po = g_mime_parser_options_new();
	struct rw_warn w = { 0, NULL };
	GMimeMessage *msg;

	g_mime_parser_options_set_warning_callback(po, rw_on_warning, &w);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(p, po);
	if (!msg) {
		w.broken = 1;
		w.why = "not a MIME message";
		msg = g_mime_message_new(TRUE);
	}
	g_mime_parser_options_free(po);
	g_object_unref(p);
	g_object_unref(s);
	g_free(lf);
	*broken = w.broken;
	*why = w.why;
	return msg;
}

/* ---- one HTML part ------------------------------------------------------- */

static int
rw_is_web(const char *href)
{
	while (*href == ' ' || *href == '\t' || *href == '\n')
		href++;
	return g_ascii_strncasecmp(href, "http://", 7) == 0 ||
	       g_ascii_strncasecmp(href, "https://", 8) == 0;
}

static void
rw_links(xmlNode *n, struct rw_ctx *c, int depth, int *changed)
{
	for (; n; n = n->next) {
		xmlChar *href;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if ((xmlStrcasecmp(n->name, BAD_CAST "a") == 0 ||
		     xmlStrcasecmp(n->name, BAD_CAST "area") == 0) &&
		    c->cb->click && c->res->links < REWRITE_LINKS_MAX &&
		    (href = xmlGetProp(n, BAD_CAST "href"))) {
			char *url = NULL;

			if (xmlStrlen(href) <= REWRITE_HREF_MAX &&
			    rw_is_web((const char *)href))
				url = c->cb->click(c->cb->ud,
						   g_strstrip((char *)href));
			if (url) {
				xmlSetProp(n, BAD_CAST "href", BAD_CAST url);
				c->res->links++;
				*changed = 1;
				g_free(url);
			}
			xmlFree(href);
		}
		if (depth < RW_TREE_DEPTH_MAX)
			rw_links(n->children, c, depth + 1, changed);
	}
}

static xmlNode *
rw_find_body(xmlNode *n, int depth)
{
	for (; n; n = n->next) {
		xmlNode *b;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcasecmp(n->name, BAD_CAST "body") == 0)
			return n;
		if (depth < 4 && (b = rw_find_body(n->children, depth + 1)))
			return b;
	}
	return NULL;
}

static int
rw_pixel(htmlDocPtr doc, struct rw_ctx *c)
{
	char *url;
	xmlNode *img, *body;

	if (!c->cb->open_pixel || c->res->pixels ||
	    !(url = c->cb->open_pixel(c->cb->ud)))
		return 0;
	img = xmlNewDocNode(doc, NULL, BAD_CAST "img", NULL);
	xmlNewProp(img, BAD_CAST "src", BAD_CAST url);
	xmlNewProp(img, BAD_CAST "width", BAD_CAST "1");
	xmlNewProp(img, BAD_CAST "height", BAD_CAST "1");
	xmlNewProp(img, BAD_CAST "alt", BAD_CAST "");
	xmlNewProp(img, BAD_CAST "style", BAD_CAST "border:0;display:block");
	body = rw_find_body(doc->children, 0);
	xmlAddChild(body ? body : (xmlNode *)doc, img);
	c->res->pixels = 1;
	g_free(url);
	return 1;
}

static int
rw_out_write(void *ctx, const char *buf, int len)
{
	g_byte_array_append(ctx, (const guint8 *)buf, (guint)len);
	return len;
}

static GByteArray *
rw_serialise(htmlDocPtr doc, const char *charset)
{
	xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset);
	GByteArray *out;
	xmlOutputBufferPtr ob;

	if (!h)
		return NULL;
	out = g_byte_array_new();
	/* libxml2 converts from UTF-8 to the charset before writing. */
	ob = xmlOutputBufferCreateIO(rw_out_write, NULL, out, h);
	if (!ob) {
		xmlCharEncCloseFunc(h);
		g_byte_array_unref(out);
		return NULL;
	}
	htmlDocContentDumpFormatOutput(ob, doc, charset, 0);
	if (xmlOutputBufferClose(ob) < 0) {
		g_byte_array_unref(out);
		return NULL;
	}
	return out;
}

/* The part's decoded bytes, NULL when over REWRITE_PART_MAX. */
static GByteArray *
rw_decoded(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GByteArray *ba;
	GMimeStream *mem;

	if (!w)
		return NULL;
	ba = g_byte_array_new();
	mem = g_mime_stream_mem_new_with_byte_array(ba);
	/* The array is ours, not the stream's. */
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(mem), FALSE);
	g_mime_data_wrapper_write_to_stream(w, mem);
	g_object_unref(mem);
	if (ba->len > REWRITE_PART_MAX) {
		g_byte_array_unref(ba);
		return NULL;
	}
	return ba;
}

/* 1 when the encoded base64 content holds only its alphabet. */
static int
rw_base64_clean(GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);
	GMimeStream *s = w ? g_mime_data_wrapper_get_stream(w) : NULL;
	char buf[4096];
	gssize n;

	if (!s || g_mime_data_wrapper_get_encoding(w) !=
			  GMIME_CONTENT_ENCODING_BASE64)
		return 1;
	g_mime_stream_reset(s);
	while ((n = g_mime_stream_read(s, buf, sizeof(buf))) > 0)
		for (gssize i = 0; i < n; i++)
			if (!g_ascii_isalnum(buf[i]) &&
			    !strchr("+/= \t\r\n", buf[i])) {
				g_mime_stream_reset(s);
				return 0;
			}
	g_mime_stream_reset(s);
	return 1;
}

static int
rw_charset_known(const char *charset)
{
	xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(charset);

	if (!h)
		return 0;
	xmlCharEncCloseFunc(h);
	return 1;
}

static void
rw_refuse(struct rw_ctx *c, const char *why, const char *arg)
{
	if (!c->refused)
		c->refused = arg ? g_strdup_printf("%s %s", why, arg)
				 : g_strdup(why);
}

static void
rw_html_part(GMimePart *part, struct rw_ctx *c)
{
	const char *charset = g_mime_object_get_content_type_parameter(
		GMIME_OBJECT(part), "charset");
	GByteArray *raw;
	htmlDocPtr doc;
	int changed = 0;

	if (!rw_base64_clean(part)) {
		rw_refuse(c, "invalid base64 in an HTML part", NULL);
		return;
	}
	if (charset && !rw_charset_known(charset)) {
		rw_refuse(c, "unknown charset", charset);
		return;
	}
	if (!(raw = rw_decoded(part)))
		return;
	doc = htmlReadMemory((const char *)raw->data, (int)raw->len, NULL,
			     charset, RW_HTML_OPTS);
	g_byte_array_unref(raw);
	if (!doc || !doc->children) {
		rw_refuse(c, "HTML that cannot be parsed", NULL);
		if (doc)
			xmlFreeDoc(doc);
		return;
	}
	rw_links(doc->children, c, 0, &changed);
	changed |= rw_pixel(doc, c);
	if (changed) {
		const char *out_cs = charset ? charset
				     : doc->encoding
					     ? (const char *)doc->encoding
					     : "US-ASCII";
		struct rw_job *j = g_new0(struct rw_job, 1);

		j->part = part;
		j->content = rw_serialise(doc, out_cs);
		if (!j->content)
			rw_refuse(c, "cannot write charset", out_cs);
		g_ptr_array_add(c->jobs, j);
	}
	xmlFreeDoc(doc);
}

static void
rw_walk(GMimeObject *obj, struct rw_ctx *c, int depth)
{
	GMimeContentDisposition *cd;

	if (c->refused)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(obj));

		if (depth >= REWRITE_DEPTH_MAX)
			return;
		for (int i = 0; i < n; i++)
			rw_walk(g_mime_multipart_get_part(GMIME_MULTIPART(obj),
							  i),
				c, depth + 1);
		return;
	}
	cd = g_mime_object_get_content_disposition(obj);
	if (!GMIME_IS_TEXT_PART(obj) ||
	    (cd && g_mime_content_disposition_is_attachment(cd)) ||
	    !g_mime_content_type_is_type(g_mime_object_get_content_type(obj),
					 "text", "html"))
		return;
	rw_html_part(GMIME_PART(obj), c);
}

/* ---- writing the result -------------------------------------------------- */

/* The encoding a rewritten part needs: its own, unless 7bit/8bit content
 * no longer fits (long lines, or 8-bit bytes declared 7bit). */
static GMimeContentEncoding
rw_encoding(GMimeContentEncoding orig, const GByteArray *data)
{
	size_t line = 0, longest = 0;
	int eight = 0;

	if (orig == GMIME_CONTENT_ENCODING_BASE64 ||
	    orig == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    orig == GMIME_CONTENT_ENCODING_UUENCODE)
		return orig;
	for (guint i = 0; i < data->len; i++) {
		eight |= data->data[i] >= 0x80;
		line = data->data[i] == '\n' ? 0 : line + 1;
		longest = MAX(longest, line);
	}
	if (longest > RW_LINE_MAX ||
	    (eight && orig != GMIME_CONTENT_ENCODING_8BIT &&
	     orig != GMIME_CONTENT_ENCODING_BINARY))
		return GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	return orig;
}

static void
rw_apply(struct rw_job *j, GMimeObject *top, struct rewrite_result *res)
{
	GMimeContentEncoding orig = g_mime_part_get_content_encoding(j->part);
	GMimeContentEncoding enc = rw_encoding(orig, j->content);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(
		(const char *)j->content->data, j->content->len);
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(
		s, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(j->part, w);
	g_object_unref(w);
	g_object_unref(s);
	if (enc != orig) {
		g_mime_part_set_content_encoding(j->part, enc);
		if (GMIME_OBJECT(j->part) == top)
			res->top_cte = g_mime_content_encoding_to_string(enc);
	}
	res->parts++;
}

static void
rw_write_body(GMimeObject *top, struct rewrite_result *res)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GMimeStream *out = g_mime_stream_mem_new();
	GByteArray *ba;

	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	g_mime_object_write_content_to_stream(top, fo, out);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	res->body = g_malloc(ba->len + 1);
	memcpy(res->body, ba->data, ba->len);
	res->body[ba->len] = '\0';
	res->body_len = ba->len;
	g_object_unref(out);
	g_mime_format_options_free(fo);
}

static void
rw_job_free(gpointer p)
{
	struct rw_job *j = p;

	if (j->content)
		g_byte_array_unref(j->content);
	g_free(j);
}

enum rewrite_status
rewrite_message(GMimeMessage *msg, int broken, const char *broken_why,
		const struct rewrite_links *cb, struct rewrite_result *res)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	struct rw_ctx c = { cb, res, NULL, NULL };
	enum rewrite_status st = REWRITE_UNCHANGED;

	memset(res, 0, sizeof(*res));
	if (broken) {
		res->reason = g_strdup_printf("broken MIME: %s",
					      broken_why ? broken_why : "?");
		return REWRITE_REFUSED;
	}
	if (!top)
		return REWRITE_UNCHANGED;
	c.jobs = g_ptr_array_new_with_free_func(rw_job_free);
	rw_walk(top, &c, 0);
	if (c.refused) {
		res->reason = c.refused;
		res->links = res->pixels = 0;
		st = REWRITE_REFUSED;
	} else if (c.jobs->len) {
		for (guint i = 0; i < c.jobs->len; i++)
			rw_apply(c.jobs->pdata[i], top, res);
		rw_write_body(top, res);
		st = REWRITE_CHANGED;
	}
	g_ptr_array_free(c.jobs, TRUE);
	return st;
}

void
rewrite_result_clear(struct rewrite_result *res)
{
	g_clear_pointer(&res->body, g_free);
	g_clear_pointer(&res->reason, g_free);
	res->body_len = 0;
}
