/* fbl: see fbl.h. */
#include "fbl/fbl.h"

#include <string.h>

#include "core/ingest.h"
#include "core/report.h"
#include "fbl/arf.h"
#include "fbl/dmarc.h"
#include "fbl/dmarc_libs.h"

void
fbl_init(void)
{
	/* A failure shows again at the first report, where it is reported. */
	(void)dmarc_libs(NULL);
}

void
fbl_register(struct ingest *in)
{
	ingest_add_classifier(in, "dmarc", dmarc_classify, NULL);
	ingest_add_classifier(in, "arf", arf_classify, NULL);
}

/* The bytes of a content stream that lives in memory (what ingest's parse
 * gives: substreams of one GMimeStreamMem), or NULL. */
static const guint8 *
fbl_stream_bytes(GMimeStream *src, size_t *len)
{
	GByteArray *a;
	gint64 start = src->bound_start, end = src->bound_end;

	if (!GMIME_IS_STREAM_MEM(src) ||
	    !(a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(src))))
		return NULL;
	if (end < 0 || end > (gint64)a->len)
		end = a->len;
	if (start < 0 || start > end)
		return NULL;
	*len = (size_t)(end - start);
	return a->data + start;
}

/* Decodes in[0..len) into out until it holds more than max bytes (the
 * input fed in pieces, so that no more than that is decoded): what GMime's
 * basic filter would give, without a filter stream and a filter per part.
 * Not for uuencode, whose filter also looks for the begin line. */
static void
fbl_decode(GMimeContentEncoding enc, const guint8 *in, size_t len,
	   GByteArray *out, size_t max)
{
	GMimeEncoding st;

	g_mime_encoding_init_decode(&st, enc);
	for (size_t off = 0; off < len && out->len <= max;) {
		size_t n = MIN(len - off, 8192), old = out->len;

		g_byte_array_set_size(
			out, (guint)(old + g_mime_encoding_outlen(&st, n)));
		g_byte_array_set_size(
			out,
			(guint)(old + g_mime_encoding_step(
					      &st, (const char *)in + off, n,
					      (char *)out->data + old)));
		off += n;
	}
}

/* The same through GMime's streams, for content not in memory. */
static void
fbl_stream_decode(GMimeStream *raw, GMimeContentEncoding enc, GByteArray *out,
		  size_t max)
{
	GMimeStream *filtered;
	GMimeFilter *dec;
	char buf[8192];
	ssize_t n;

	g_mime_stream_reset(raw);
	filtered = g_mime_stream_filter_new(raw);
	dec = g_mime_filter_basic_new(enc, FALSE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), dec);
	g_object_unref(dec);
	while (out->len <= max &&
	       (n = g_mime_stream_read(filtered, buf, sizeof(buf))) > 0)
		g_byte_array_append(out, (guint8 *)buf, (guint)n);
	g_object_unref(filtered);
	g_mime_stream_reset(raw);
}

GByteArray *
fbl_part_content(GMimeObject *part, size_t max, int *truncated)
{
	/* Never a NULL data pointer, even when empty. */
	GByteArray *out = g_byte_array_sized_new(64);
	GMimeDataWrapper *w;
	GMimeContentEncoding enc;
	GMimeStream *raw;
	const guint8 *bytes;
	size_t len = 0;

	if (truncated)
		*truncated = 0;
	if (!GMIME_IS_PART(part))
		return out;
	w = g_mime_part_get_content(GMIME_PART(part));
	if (!w || !(raw = g_mime_data_wrapper_get_stream(w)))
		return out;
	enc = g_mime_data_wrapper_get_encoding(w);
	if (enc != GMIME_CONTENT_ENCODING_UUENCODE &&
	    (bytes = fbl_stream_bytes(raw, &len)) != NULL)
		fbl_decode(enc, bytes, len, out, max);
	else
		fbl_stream_decode(raw, enc, out, max);
	if (out->len > max) {
		g_byte_array_set_size(out, (guint)max);
		if (truncated)
			*truncated = 1;
	}
	return out;
}

GMimeObject *
fbl_parse_headers(const char *data, size_t len)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;
	GByteArray *buf;

	/* Some reporters start the block with blank lines. */
	while (len > 0 && (*data == '\n' || *data == '\r' || *data == ' ' ||
			   *data == '\t')) {
		data++;
		len--;
	}
	if (len == 0)
		return NULL;
	buf = g_byte_array_sized_new((guint)len + 2);
	g_byte_array_append(buf, (const guint8 *)data, (guint)len);
	g_byte_array_append(buf, (const guint8 *)"\n\n", 2);
	stream = g_mime_stream_mem_new_with_byte_array(buf);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	if (msg && g_mime_header_list_get_count(g_mime_object_get_header_list(
			   GMIME_OBJECT(msg))) == 0)
		g_clear_object(&msg);
	return msg ? GMIME_OBJECT(msg) : NULL;
}

const char *
fbl_header(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *hl;
	GMimeHeader *h;

	if (!obj)
		return NULL;
	hl = g_mime_object_get_header_list(obj);
	h = g_mime_header_list_get_header(hl, name);
	return h ? g_mime_header_get_value(h) : NULL;
}

/* Lower-cases the domain of a well-formed address; NULL if malformed. */
static char *
fbl_address_check(const char *addr)
{
	const char *at = strrchr(addr, '@');
	char *out, *dom;

	if (!at || at == addr || !at[1] || strlen(addr) > 512)
		return NULL;
	for (const char *p = addr; *p; p++)
		if (g_ascii_isspace(*p) || *p == '<' || *p == '>' ||
		    *p == ',' || (unsigned char)*p < 0x20)
			return NULL;
	out = g_strdup(addr);
	dom = g_ascii_strdown(at + 1, -1);
	strcpy(out + (at - addr) + 1, dom);
	g_free(dom);
	return out;
}

char *
fbl_address(const char *value)
{
	InternetAddressList *list;
	char *v, *out = NULL;
	const char *s;

	if (!value)
		return NULL;
	v = g_strstrip(g_strndup(value, REPORT_FIELD_MAX));
	s = v;
	if (g_ascii_strncasecmp(s, "rfc822;", 7) == 0)
		s += 7;
	while (g_ascii_isspace(*s))
		s++;
	/* The plain form first: most fields hold a bare address. */
	if ((out = fbl_address_check(s)) != NULL)
		goto done;
	list = internet_address_list_parse(NULL, s);
	for (int i = 0; list && i < internet_address_list_length(list); i++) {
		InternetAddress *ia =
			internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			out = fbl_address_check(
				internet_address_mailbox_get_addr(
					INTERNET_ADDRESS_MAILBOX(ia)));
			if (out)
				break;
		}
	}
	if (list)
		g_object_unref(list);
done:
	g_free(v);
	return out;
}

char *
fbl_message_id(const char *value)
{
	char *id, *out;

	if (!value)
		return NULL;
	id = g_mime_utils_decode_message_id(value);
	if (!id || !*id) {
		g_free(id);
		return NULL;
	}
	out = report_strdup(g_strstrip(id));
	g_free(id);
	return out;
}

static int
fbl_walk(GMimeObject *obj, int depth, unsigned *seen,
	 int (*fn)(GMimeObject *part, void *ud), void *ud)
{
	int r = 0;

	if (!obj || ++*seen > FBL_PARTS_MAX)
		return 0;
	if (!GMIME_IS_MULTIPART(obj))
		return fn(obj, ud);
	if (depth >= FBL_DEPTH_MAX)
		return 0;
	for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(obj));
	     i++) {
		r = fbl_walk(g_mime_multipart_get_part(GMIME_MULTIPART(obj), i),
			     depth + 1, seen, fn, ud);
		if (r)
			break;
	}
	return r;
}

int
fbl_foreach_leaf(GMimeObject *obj, int (*fn)(GMimeObject *part, void *ud),
		 void *ud)
{
	unsigned seen = 0;

	return fbl_walk(obj, 0, &seen, fn, ud);
}
