/* arf: see arf.h. This file reads RFC 5965 reports; arf_other.c the rest. */
#include "fbl/arf.h"

#include <string.h>

#include "fbl/fbl.h"
#include "verp/keys.h"

/* The parts of a multipart/report that matter. */
struct arf_parts {
	GMimeObject *feedback;	   /* message/feedback-report */
	GMimeMessagePart *message; /* message/rfc822 original */
	GMimeObject *headers_part; /* text/rfc822-headers original */
};

/* What the feedback fields say besides the report_feedback members. */
struct arf_fields {
	GPtrArray *rcpt_to; /* char *, as given */
	char *envelope_id;
	int auth_failure;
	int have_type;
};

struct report_feedback *
arf_begin(struct report *r)
{
	r->kind = REPORT_ARF;
	if (!r->feedback)
		r->feedback = report_feedback_new();
	return r->feedback;
}

void
arf_add_rcpt(struct report *r, const char *address)
{
	struct report_rcpt *rc = report_add_rcpt(r);

	if (!rc)
		return;
	rc->recipient = report_strdup(address);
	rc->reason = g_strdup("feedback");
	rc->klass = g_strdup("none");
}

void
arf_original_hints(GMimeObject *orig, struct report *r)
{
	const char *v;

	if (!orig)
		return;
	/* Our own header first: it is there to be found, and it survives
	 * reporters that rewrite Return-Path (RFC 5965 section 3.1). */
	report_add_hint(r, fbl_header(orig, TOKEN_HEADER));
	report_add_hint(r, fbl_header(orig, "Return-Path"));
	v = fbl_header(orig, "Message-ID");
	if (v && r->feedback && !r->feedback->original_message_id)
		r->feedback->original_message_id = fbl_message_id(v);
}

static int
arf_is_type(GMimeObject *part, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);

	return ct && g_mime_content_type_is_type(ct, type, subtype);
}

static int
arf_find_part(GMimeObject *part, void *ud)
{
	struct arf_parts *p = ud;

	if (!p->feedback && arf_is_type(part, "message", "feedback-report"))
		p->feedback = part;
	else if (!p->message && !p->headers_part && GMIME_IS_MESSAGE_PART(part))
		p->message = GMIME_MESSAGE_PART(part);
	/* "text/rfc822-header" (sic) is seen in the wild too. */
	else if (!p->message && !p->headers_part &&
		 (arf_is_type(part, "text", "rfc822-headers") ||
		  arf_is_type(part, "text", "rfc822-header") ||
		  arf_is_type(part, "message", "rfc822-headers")))
		p->headers_part = part;
	return 0;
}

/* Feedback-Type as a lower-case token; RFC 5965 section 7.3 lets new types
 * appear, so any sane token is kept, anything else is "other". */
char *
arf_type_name(const char *v)
{
	char *t = g_ascii_strdown(v, -1);
	size_t n;

	g_strstrip(t);
	n = strlen(t);
	if (n == 0 || n > 32 ||
	    strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-_") != n) {
		g_free(t);
		return g_strdup("other");
	}
	return t;
}

static int64_t
arf_incidents(const char *v)
{
	char *end;
	gint64 n = g_ascii_strtoll(v, &end, 10);

	while (g_ascii_isspace(*end))
		end++;
	return (end != v && !*end && n >= 1) ? n : 1;
}

/* Sets *slot from v unless already set (the first occurrence counts). */
static void
arf_set(char **slot, const char *v)
{
	if (!*slot && v && *v)
		*slot = report_strdup(v);
}

/* One feedback field into f / fl. */
static void
arf_field(const char *name, const char *value, struct report_feedback *f,
	  struct arf_fields *fl)
{
	char *v = g_strstrip(g_strndup(value ? value : "", REPORT_FIELD_MAX));

	if (g_ascii_strcasecmp(name, "Feedback-Type") == 0 && !fl->have_type) {
		f->type = arf_type_name(v);
		fl->have_type = 1;
	} else if (g_ascii_strcasecmp(name, "User-Agent") == 0) {
		arf_set(&f->user_agent, v);
	} else if (g_ascii_strcasecmp(name, "Version") == 0) {
		arf_set(&f->version, v);
	} else if (g_ascii_strcasecmp(name, "Original-Mail-From") == 0) {
		char *a = fbl_address(v);
		arf_set(&f->original_mail_from, a ? a : v);
		g_free(a);
	} else if (g_ascii_strcasecmp(name, "Original-Rcpt-To") == 0) {
		if (*v && fl->rcpt_to->len < REPORT_RCPT_MAX)
			g_ptr_array_add(fl->rcpt_to, g_strdup(v));
	} else if (g_ascii_strcasecmp(name, "Arrival-Date") == 0) {
		g_clear_pointer(&f->arrival_date, g_free);
		arf_set(&f->arrival_date, v);
	} else if (g_ascii_strcasecmp(name, "Received-Date") == 0) {
		/* The name used before RFC 5965; Arrival-Date wins. */
		arf_set(&f->arrival_date, v);
	} else if (g_ascii_strcasecmp(name, "Source-IP") == 0) {
		arf_set(&f->source_ip, v);
	} else if (g_ascii_strcasecmp(name, "Reported-Domain") == 0) {
		arf_set(&f->reported_domain, v);
	} else if (g_ascii_strcasecmp(name, "Incidents") == 0) {
		f->incidents = arf_incidents(v);
	} else if (g_ascii_strcasecmp(name, "Original-Envelope-Id") == 0) {
		arf_set(&fl->envelope_id, v);
	} else if (g_ascii_strcasecmp(name, "Auth-Failure") == 0) {
		fl->auth_failure = 1;
	}
	g_free(v);
}

static void
arf_read_fields(GMimeObject *fields, struct report_feedback *f,
		struct arf_fields *fl)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(fields);
	int n = g_mime_header_list_get_count(hl);

	for (int i = 0; i < n && i < ARF_FIELD_COUNT_MAX; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		arf_field(g_mime_header_get_name(h), g_mime_header_get_value(h),
			  f, fl);
	}
	if (!fl->have_type) {
		/* RFC 6591 reports that forgot the type still say why. */
		f->type = g_strdup(fl->auth_failure ? "auth-failure" : "other");
	}
}

/* The reported recipients: Original-Rcpt-To, else what the original
 * message says it was addressed to. */
static void
arf_recipients(struct report *r, const struct arf_fields *fl, GMimeObject *orig)
{
	const char *v;
	char *a;

	for (guint i = 0; i < fl->rcpt_to->len; i++) {
		const char *given = fl->rcpt_to->pdata[i];

		/* A redacted or hashed value is kept as given. */
		a = fbl_address(given);
		arf_add_rcpt(r, a ? a : given);
		g_ptr_array_add(r->feedback->original_rcpt_to,
				a ? a : report_strdup(given));
	}
	if (fl->rcpt_to->len > 0)
		return;
	v = fbl_header(orig, "X-HmXmrOriginalRecipient");
	if (!v)
		v = fbl_header(orig, "To");
	a = fbl_address(v);
	arf_add_rcpt(r, a);
	g_free(a);
}

/* The original message or its headers; *owned is set when the caller must
 * unref the result. */
static GMimeObject *
arf_original(const struct arf_parts *p, int *owned)
{
	GMimeObject *orig = NULL;

	*owned = 0;
	if (p->message) {
		GMimeMessage *m = g_mime_message_part_get_message(p->message);
		orig = m ? GMIME_OBJECT(m) : NULL;
	} else if (p->headers_part) {
		GByteArray *b =
			fbl_part_content(p->headers_part, ARF_FIELDS_MAX, NULL);
		orig = fbl_parse_headers((const char *)b->data, b->len);
		g_byte_array_free(b, TRUE);
		*owned = orig != NULL;
	}
	return orig;
}

static int
arf_standard(const struct arf_parts *p, struct report *r)
{
	struct report_feedback *f = arf_begin(r);
	struct arf_fields fl = { .rcpt_to = g_ptr_array_new_with_free_func(
					 g_free) };
	GByteArray *body;
	GMimeObject *fields, *orig;
	int truncated, owned;

	body = fbl_part_content(p->feedback, ARF_FIELDS_MAX, &truncated);
	fields = fbl_parse_headers((const char *)body->data, body->len);
	g_byte_array_free(body, TRUE);
	if (fields) {
		arf_read_fields(fields, f, &fl);
		g_object_unref(fields);
	} else {
		report_set_error(r, "the message/feedback-report part holds "
				    "no fields");
	}
	if (truncated)
		report_set_error(r, "feedback fields cut at %d bytes",
				 ARF_FIELDS_MAX);
	orig = arf_original(p, &owned);
	arf_original_hints(orig, r);
	report_add_hint(r, f->original_mail_from);
	report_add_hint(r, fl.envelope_id);
	arf_recipients(r, &fl, orig);
	if (owned)
		g_object_unref(orig);
	g_ptr_array_free(fl.rcpt_to, TRUE);
	g_free(fl.envelope_id);
	return 1;
}

int
arf_classify(void *ud, GMimeMessage *msg, const char *raw, size_t len,
	     struct report *r)
{
	struct arf_parts p = { 0 };
	GMimeObject *top = g_mime_message_get_mime_part(msg);

	if (top)
		fbl_foreach_leaf(top, arf_find_part, &p);
	if (p.feedback)
		return arf_standard(&p, r);
	return arf_jmrp(msg, r) || arf_apple_unsubscribe(msg, r) ||
	       arf_ses(msg, r);
}
