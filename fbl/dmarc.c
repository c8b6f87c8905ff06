/* dmarc: see dmarc.h. */
#include "fbl/dmarc.h"

#include <libxml/xmlreader.h>
#include <string.h>

#include "fbl/dmarc_libs.h"
#include "fbl/fbl.h"

/* No XML_PARSE_NOENT (entity substitution), no XML_PARSE_DTDLOAD, no
 * XML_PARSE_HUGE: libxml2's own limits on text and depth stay in force. */
#define DMARC_XML_OPTIONS                                                      \
	(XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |           \
	 XML_PARSE_NOCDATA)

struct dmarc_xml {
	struct report_dmarc *d;
	char *xml_error;  /* the first error libxml2 reported */
	char *problem;	  /* a value that could not be read */
	unsigned dropped; /* records over REPORT_DMARC_MAX */
};

static void
dmarc_xml_error(void *ud, xmlErrorPtr e)
{
	struct dmarc_xml *x = ud;

	if (x->xml_error || !e || e->level < XML_ERR_ERROR)
		return;
	x->xml_error = g_strdup_printf("line %d: %s", e->line,
				       e->message ? e->message : "error");
	g_strchomp(x->xml_error);
}

static xmlNode *
dmarc_child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The element's own text, trimmed; entity references are never expanded
 * (there can be none: documents with a DOCTYPE are refused). */
static char *
dmarc_text(xmlNode *n)
{
	GString *s;

	if (!n)
		return NULL;
	s = g_string_new(NULL);
	for (xmlNode *c = n->children; c && s->len < REPORT_FIELD_MAX;
	     c = c->next)
		if ((c->type == XML_TEXT_NODE ||
		     c->type == XML_CDATA_SECTION_NODE) &&
		    c->content)
			g_string_append(s, (const char *)c->content);
	g_strstrip(s->str);
	if (!*s->str) {
		g_string_free(s, TRUE);
		return NULL;
	}
	if (strlen(s->str) > REPORT_FIELD_MAX)
		s->str[REPORT_FIELD_MAX] = '\0';
	return g_string_free(s, FALSE);
}

/* dmarc_text() of n/a/b (b may be NULL). */
static char *
dmarc_path(xmlNode *n, const char *a, const char *b)
{
	xmlNode *c = dmarc_child(n, a);

	return dmarc_text(b ? dmarc_child(c, b) : c);
}

static char *
dmarc_lower(char *s)
{
	if (s)
		for (char *p = s; *p; p++)
			*p = g_ascii_tolower(*p);
	return s;
}

/* A non-negative integer; records the first bad value in x->problem. */
static int64_t
dmarc_int(struct dmarc_xml *x, xmlNode *n, const char *a, const char *b)
{
	char *v = dmarc_path(n, a, b), *end;
	gint64 i = 0;

	if (!v)
		return 0;
	i = g_ascii_strtoll(v, &end, 10);
	if (end == v || *end || i < 0) {
		if (!x->problem)
			x->problem =
				g_strdup_printf("<%s%s%s> is not a number", a,
						b ? "/" : "", b ? b : "");
		i = 0;
	}
	g_free(v);
	return i;
}

static void
dmarc_metadata(struct dmarc_xml *x, xmlNode *n)
{
	struct report_dmarc *d = x->d;

	if (!d->org)
		d->org = dmarc_path(n, "org_name", NULL);
	if (!d->report_id)
		d->report_id = dmarc_path(n, "report_id", NULL);
	d->begin = dmarc_int(x, dmarc_child(n, "date_range"), "begin", NULL);
	d->end = dmarc_int(x, dmarc_child(n, "date_range"), "end", NULL);
}

static void
dmarc_record(struct dmarc_xml *x, xmlNode *n)
{
	struct report_dmarc_record *rec = report_dmarc_add(x->d);
	xmlNode *row = dmarc_child(n, "row");
	xmlNode *pe = dmarc_child(row, "policy_evaluated");

	if (!rec) {
		x->dropped++;
		return;
	}
	rec->source_ip = dmarc_path(row, "source_ip", NULL);
	rec->count = dmarc_int(x, row, "count", NULL);
	/* Some reporters write "Pass" or "PASS". */
	rec->disposition = dmarc_lower(dmarc_path(pe, "disposition", NULL));
	rec->dkim = dmarc_lower(dmarc_path(pe, "dkim", NULL));
	rec->spf = dmarc_lower(dmarc_path(pe, "spf", NULL));
	rec->header_from =
		dmarc_lower(dmarc_path(n, "identifiers", "header_from"));
}

static void
dmarc_section(struct dmarc_xml *x, const char *name, xmlNode *n)
{
	if (strcmp(name, "report_metadata") == 0)
		dmarc_metadata(x, n);
	else if (strcmp(name, "policy_published") == 0 && !x->d->domain)
		x->d->domain = dmarc_lower(dmarc_path(n, "domain", NULL));
	else if (strcmp(name, "record") == 0)
		dmarc_record(x, n);
}

static int
dmarc_is_section(const char *name)
{
	return strcmp(name, "report_metadata") == 0 ||
	       strcmp(name, "policy_published") == 0 ||
	       strcmp(name, "record") == 0;
}

/* Walks the document with the streaming reader, one section at a time. */
static int
dmarc_read(const struct dmarc_libs *l, xmlTextReaderPtr rd, struct dmarc_xml *x,
	   GError **error)
{
	int rc = l->xmlTextReaderRead(rd), root = 0;

	while (rc == 1) {
		int type = l->xmlTextReaderNodeType(rd);
		int depth = l->xmlTextReaderDepth(rd);
		const char *name =
			(const char *)l->xmlTextReaderConstLocalName(rd);
		xmlNode *n;

		if (!name)
			name = "";
		if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
			g_set_error(error, DMARC_ERROR, DMARC_ERR_REFUSED,
				    "a DOCTYPE (DTD, entities) in the XML");
			return -1;
		}
		if (type == XML_READER_TYPE_ELEMENT && depth == 0) {
			if (strcmp(name, "feedback") != 0) {
				g_set_error(error, DMARC_ERROR,
					    DMARC_ERR_NOT_DMARC,
					    "root element <%s>, not <feedback>",
					    name);
				return -1;
			}
			root = 1;
		} else if (type == XML_READER_TYPE_ELEMENT && depth == 1 &&
			   dmarc_is_section(name)) {
			if (!(n = l->xmlTextReaderExpand(rd)))
				break;
			dmarc_section(x, name, n);
			rc = l->xmlTextReaderNext(rd);
			continue;
		}
		rc = l->xmlTextReaderRead(rd);
	}
	if (rc != 0 || x->xml_error) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_XML, "XML: %s",
			    x->xml_error ? x->xml_error : "not well-formed");
		return -1;
	}
	if (!root) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_NOT_DMARC,
			    "no <feedback> element");
		return -1;
	}
	return 0;
}

static struct report_dmarc *
dmarc_parse_once(const char *xml, size_t len, char **problem, GError **error)
{
	const struct dmarc_libs *l = dmarc_libs(error);
	struct dmarc_xml x;
	xmlTextReaderPtr rd;
	int rc;

	if (!l)
		return NULL;
	x = (struct dmarc_xml){ .d = report_dmarc_new() };
	rd = l->xmlReaderForMemory(xml, (int)len, "dmarc.xml", NULL,
				   DMARC_XML_OPTIONS);
	if (!rd) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_XML,
			    "XML: cannot start the parser");
		report_dmarc_free(x.d);
		return NULL;
	}
	l->xmlTextReaderSetStructuredErrorHandler(rd, dmarc_xml_error, &x);
	rc = dmarc_read(l, rd, &x, error);
	l->xmlFreeTextReader(rd);
	g_free(x.xml_error);
	if (rc < 0) {
		g_free(x.problem);
		report_dmarc_free(x.d);
		return NULL;
	}
	if (x.dropped && !x.problem)
		x.problem = g_strdup_printf("%u records over the limit of %d "
					    "ignored",
					    x.dropped, REPORT_DMARC_MAX);
	*problem = x.problem;
	return x.d;
}

/* What is refused before the parser sees it. */
static int
dmarc_precheck(const char *xml, size_t len, GError **error)
{
	const char *p = xml, *e;

	if (!xml || len == 0) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_NOT_DMARC, "empty");
		return -1;
	}
	e = xml + len;
	if (len > DMARC_XML_MAX) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_TOO_BIG,
			    "XML larger than %d bytes", DMARC_XML_MAX);
		return -1;
	}
	if (e - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < e && g_ascii_isspace(*p))
		p++;
	/* UTF-16 and other encodings that are not ASCII-compatible would
	 * hide a DOCTYPE from the check below: no reporter uses them. */
	if (e - p >= 2 &&
	    (memcmp(p, "\xff\xfe", 2) == 0 || memcmp(p, "\xfe\xff", 2) == 0 ||
	     (p[0] == '\0' || p[1] == '\0'))) {
		g_set_error(
			error, DMARC_ERROR, DMARC_ERR_REFUSED,
			"XML not in an ASCII-compatible encoding (UTF-16?)");
		return -1;
	}
	if (p == e || *p != '<') {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_NOT_DMARC, "not XML");
		return -1;
	}
	if (memmem(p, (size_t)(e - p), "<!DOCTYPE", 9) ||
	    memmem(p, (size_t)(e - p), "<!ENTITY", 8)) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_REFUSED,
			    "a DOCTYPE (DTD, entities) in the XML");
		return -1;
	}
	return 0;
}

struct report_dmarc *
dmarc_parse_xml(const char *xml, size_t len, char **problem, GError **error)
{
	struct report_dmarc *d;
	GError *e = NULL;
	char *fixed, *ignored = NULL;

	if (!problem)
		problem = &ignored;
	*problem = NULL;
	if (dmarc_precheck(xml, len, error) < 0)
		return NULL;
	d = dmarc_parse_once(xml, len, problem, &e);
	if (d || e->code != DMARC_ERR_XML || g_utf8_validate(xml, len, NULL)) {
		if (e)
			g_propagate_error(error, e);
		g_free(ignored);
		return d;
	}
	/* Reports with stray Latin-1 bytes in an organisation name exist;
	 * mend the encoding and try once more. */
	fixed = g_utf8_make_valid(xml, (gssize)len);
	d = dmarc_parse_once(fixed, strlen(fixed), problem, NULL);
	g_free(fixed);
	if (!d) {
		g_propagate_error(error, e);
		return NULL;
	}
	g_error_free(e);
	if (!*problem)
		*problem = g_strdup("invalid UTF-8 replaced");
	g_free(ignored);
	return d;
}

/* ---- the classifier ----------------------------------------------------- */

struct dmarc_scan {
	GMimeObject *top;
	int looks;		/* the subject or a file name says DMARC */
	struct report_dmarc *d; /* the report found */
	char *problem;		/* what in it could not be read */
	GError *first;		/* why the first candidate failed */
};

static int
dmarc_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && g_ascii_strcasecmp(s + n - m, suffix) == 0;
}

/* An attachment worth opening: by type, by file name, or (for a message
 * that is nothing but a body) by its first bytes. */
static int
dmarc_candidate(struct dmarc_scan *s, GMimeObject *part, const char *fname)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	const char *type = ct ? g_mime_content_type_get_media_type(ct) : "";
	const char *sub = ct ? g_mime_content_type_get_media_subtype(ct) : "";
	GByteArray *head;
	const char *p;
	int yes;

	if (fname &&
	    (dmarc_ends_with(fname, ".xml") || dmarc_ends_with(fname, ".gz") ||
	     dmarc_ends_with(fname, ".zip")))
		return 1;
	if (g_ascii_strcasecmp(type, "application") == 0) {
		static const char *const subs[] = { "gzip",
						    "x-gzip",
						    "zip",
						    "x-zip",
						    "x-zip-compressed",
						    "xml",
						    "octet-stream",
						    "x-xml" };
		for (size_t i = 0; i < G_N_ELEMENTS(subs); i++)
			if (g_ascii_strcasecmp(sub, subs[i]) == 0)
				return 1;
		return 0;
	}
	if (g_ascii_strcasecmp(type, "text") == 0 &&
	    g_ascii_strcasecmp(sub, "xml") == 0)
		return 1;
	if (part != s->top || g_ascii_strcasecmp(type, "text") != 0)
		return 0;
	head = fbl_part_content(part, 64, NULL);
	g_byte_array_append(head, (const guint8 *)"", 1);
	p = (const char *)head->data;
	while (g_ascii_isspace(*p))
		p++;
	yes = g_str_has_prefix(p, "<?xml") || g_str_has_prefix(p, "<feedback");
	g_byte_array_free(head, TRUE);
	return yes;
}

static int
dmarc_try_part(GMimeObject *part, void *ud)
{
	struct dmarc_scan *s = ud;
	const char *fname;
	GByteArray *b, *xml = NULL;
	GError *e = NULL;
	int truncated;

	if (!GMIME_IS_PART(part))
		return 0;
	fname = g_mime_part_get_filename(GMIME_PART(part));
	/* receiver "!" policy domain "!" begin "!" end (RFC 7489 7.2.1.1) */
	if (fname && strchr(fname, '!') &&
	    strchr(fname, '!') != strrchr(fname, '!'))
		s->looks = 1;
	if (!dmarc_candidate(s, part, fname))
		return 0;
	b = fbl_part_content(part, DMARC_PACKED_MAX, &truncated);
	if (truncated)
		g_set_error(&e, DMARC_ERROR, DMARC_ERR_TOO_BIG,
			    "attachment larger than %d bytes",
			    DMARC_PACKED_MAX);
	else if (dmarc_unpack(b->data, b->len, &xml, &e) == 0)
		s->d = dmarc_parse_xml((const char *)xml->data, xml->len,
				       &s->problem, &e);
	g_byte_array_free(b, TRUE);
	if (xml)
		g_byte_array_free(xml, TRUE);
	if (e && !s->first)
		s->first = e;
	else if (e)
		g_error_free(e);
	return s->d != NULL;
}

static int
dmarc_subject_says(GMimeMessage *msg)
{
	const char *subj = g_mime_message_get_subject(msg);
	char *low;
	int yes;

	if (!subj)
		return 0;
	low = g_ascii_strdown(subj, -1);
	yes = strstr(low, "report domain:") != NULL;
	g_free(low);
	return yes;
}

int
dmarc_classify(void *ud, GMimeMessage *msg, const char *raw, size_t len,
	       struct report *r)
{
	struct dmarc_scan s = { .top = g_mime_message_get_mime_part(msg) };
	int code;

	if (!s.top)
		return 0;
	s.looks = dmarc_subject_says(msg);
	fbl_foreach_leaf(s.top, dmarc_try_part, &s);
	if (s.d) {
		r->kind = REPORT_DMARC_AGGREGATE;
		r->dmarc = s.d;
		if (s.problem)
			report_set_error(r, "DMARC report: %s", s.problem);
		g_free(s.problem);
		g_clear_error(&s.first);
		return 1;
	}
	code = s.first ? s.first->code : 0;
	/* Hostile attachments are claimed (and so kept with the reason)
	 * whatever the message says it is. */
	if (s.looks || code == DMARC_ERR_REFUSED || code == DMARC_ERR_TOO_BIG) {
		r->kind = REPORT_DMARC_AGGREGATE;
		report_set_error(r, "DMARC report refused: %s",
				 s.first ? s.first->message
					 : "no report attached");
		g_clear_error(&s.first);
		return 1;
	}
	g_clear_error(&s.first);
	return 0;
}
