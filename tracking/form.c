/* tracking/form: see form.h. */
#include "tracking/form.h"

#include <gmime/gmime.h>
#include <string.h>

#define FORM_KEY "List-Unsubscribe"
#define FORM_VALUE "One-Click"

/* Decodes one urlencoded key or value ('+' is a space); NULL when bad. */
static char *
form_decode(const char *s, const char *e)
{
	char *plus = g_strndup(s, (gsize)(e - s));
	char *out;

	for (char *p = plus; *p; p++)
		if (*p == '+')
			*p = ' ';
	out = g_uri_unescape_string(plus, NULL);
	g_free(plus);
	return out;
}

static int
form_urlencoded(const char *body, size_t len)
{
	const char *p = body, *end = body + len;
	int found = 0;

	for (int n = 0; p < end && n < FORM_FIELDS_MAX; n++) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *fe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(fe - p));

		if (eq) {
			char *k = form_decode(p, eq);
			char *v = form_decode(eq + 1, fe);

			/* Trailing blanks: some clients end the body with a
			 * line break. */
			if (k && v && strcmp(k, FORM_KEY) == 0 &&
			    strcmp(g_strchomp(v), FORM_VALUE) == 0)
				found = 1;
			g_free(k);
			g_free(v);
		}
		p = fe + 1;
	}
	return found;
}

/* Is this part the form field List-Unsubscribe with value One-Click? */
static int
form_part_one_click(GMimeObject *part)
{
	const char *name =
		g_mime_object_get_content_disposition_parameter(part, "name");
	GMimeDataWrapper *content;
	GMimeStream *mem;
	GByteArray *bytes;
	int ok;

	if (!GMIME_IS_PART(part) || !name || strcmp(name, FORM_KEY) != 0)
		return 0;
	content = g_mime_part_get_content(GMIME_PART(part));
	if (!content)
		return 0;
	mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	while (bytes->len && g_ascii_isspace(bytes->data[bytes->len - 1]))
		bytes->len--;
	ok = bytes->len == strlen(FORM_VALUE) &&
	     memcmp(bytes->data, FORM_VALUE, bytes->len) == 0;
	g_object_unref(mem);
	return ok;
}

static int
form_multipart(const char *content_type, const char *body, size_t len)
{
	char *head = g_strdup_printf("Content-Type: %s\r\n\r\n", content_type);
	GMimeStream *s = g_mime_stream_mem_new();
	GMimeParser *parser;
	GMimeObject *obj;
	int found = 0;

	g_mime_stream_write_string(s, head);
	g_mime_stream_write(s, body, len);
	g_mime_stream_reset(s);
	parser = g_mime_parser_new_with_stream(s);
	obj = g_mime_parser_construct_part(parser, NULL);
	if (obj && GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);

		for (int i = 0; i < n && i < FORM_FIELDS_MAX && !found; i++)
			found = form_part_one_click(
				g_mime_multipart_get_part(mp, i));
	}
	if (obj)
		g_object_unref(obj);
	g_object_unref(parser);
	g_object_unref(s);
	g_free(head);
	return found;
}

int
tracking_form_one_click(const char *content_type, const char *body, size_t len)
{
	if (!body || len == 0 || len > FORM_BODY_MAX)
		return 0;
	if (content_type &&
	    g_ascii_strncasecmp(content_type, "multipart/form-data", 19) == 0) {
		/* A header line: no line breaks may ride in on it. */
		if (strpbrk(content_type, "\r\n"))
			return 0;
		return form_multipart(content_type, body, len);
	}
	return form_urlencoded(body, len);
}
