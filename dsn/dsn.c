/*
 * dsn/dsn: the bounce classifier; see dsn.h. It reads the view of the
 * message (msg.c), takes the recipients from the delivery-status fields
 * when there are some (rfc3464.c, enriched by the readable part) or else
 * from a recogniser of a plain-text format (lhost*.c), settles each
 * recipient's status, command and reason (reason.c), and fills the report
 * with the places a token may hide.
 */
#include <string.h>

#include "dsn/dsn_int.h"
#include "verp/keys.h"

static void
rcpt_free(gpointer p)
{
	struct dsn_rcpt *rc = p;

	g_free(rc->addr);
	g_free(rc->orig);
	g_free(rc->action);
	g_free(rc->status);
	g_free(rc->diag);
	g_free(rc->spec);
	g_free(rc->rhost);
	g_free(rc->lhost);
	g_free(rc->command);
	g_free(rc->context);
	g_free(rc->bad_action);
	g_free(rc);
}

struct dsn_rcpt *
dsn_result_add(struct dsn_result *res, const char *addr)
{
	struct dsn_rcpt *rc;

	if (res->rcpts->len >= REPORT_RCPT_MAX)
		return NULL;
	rc = g_new0(struct dsn_rcpt, 1);
	rc->addr = g_strdup(addr);
	g_ptr_array_add(res->rcpts, rc);
	return rc;
}

struct dsn_rcpt *
dsn_result_find(struct dsn_result *res, const char *addr)
{
	for (guint i = 0; addr && i < res->rcpts->len; i++) {
		struct dsn_rcpt *rc = res->rcpts->pdata[i];

		if (rc->addr && g_ascii_strcasecmp(rc->addr, addr) == 0)
			return rc;
	}
	return NULL;
}

/* Not ours: complaints (ARF, Microsoft's JMRP) and DMARC aggregate
 * reports belong to fbl/. */
static int
dsn_not_ours(const struct dsn_msg *m)
{
	GMimeObject *body = g_mime_message_get_mime_part(m->msg);
	GMimeContentType *ct =
		body ? g_mime_object_get_content_type(body) : NULL;
	const char *rt =
		ct ? g_mime_content_type_get_parameter(ct, "report-type")
		   : NULL;

	if (m->feedback ||
	    (rt && g_ascii_strcasecmp(rt, "feedback-report") == 0))
		return 1;
	if (dsn_msg_header(m, "X-HmXmrOriginalRecipient"))
		return 1;
	if (ct && g_mime_content_type_is_type(ct, "application", "*") &&
	    !m->status->len)
		return 1;
	return dsn_casefind(m->subject, strlen(m->subject), "report domain:") &&
	       !m->status->len;
}

/*
 * A multi-line reply quoted whole ("550-5.7.1 Our system has detected
 * that\n550-5.7.1 this message is likely ...") reads as one sentence once
 * the repeated "550-5.7.1" are gone, so that phrases spanning lines match.
 */
static void
diag_unfold(char **diag, const char *reply, const char *status)
{
	char cont[20], *s = *diag;
	GString *g;

	if (!s || !reply[0])
		return;
	g_snprintf(cont, sizeof(cont), "%s-", reply);
	if (!strstr(s, cont))
		return;
	g = g_string_new(NULL);
	for (const char *p = s; *p;) {
		if (strncmp(p, reply, 3) == 0 && (p[3] == '-' || p[3] == ' ') &&
		    (p == s || p[-1] == ' ')) {
			p += 4;
			if (status[0] &&
			    strncmp(p, status, strlen(status)) == 0 &&
			    p[strlen(status)] == ' ')
				p += strlen(status) + 1;
			continue;
		}
		g_string_append_c(g, *p++);
	}
	g_free(*diag);
	if (status[0])
		*diag = g_strdup_printf("%s %s %s", reply, status, g->str);
	else
		*diag = g_strdup_printf("%s %s", reply, g->str);
	g_string_free(g, TRUE);
}

/* Status, reply, command: what the diagnostic says beyond the fields. */
static void
rcpt_settle(struct dsn_rcpt *rc)
{
	char found[12] = "", reply[4] = "";
	const char *d = rc->diag ? rc->diag : "";
	size_t len = strlen(d);

	dsn_status_find(d, len, 0, found);
	dsn_reply_find(d, len, reply);
	if (found[0] || rc->status) {
		const char *best = dsn_status_prefer(rc->status, found, reply);

		if (best != rc->status)
			dsn_set(&rc->status, best);
	}
	diag_unfold(&rc->diag, reply, found);
	if (!rc->command && rc->diag)
		rc->command =
			g_strdup(dsn_command_find(rc->diag, strlen(rc->diag)));
	/* The command is named near the top of a long readable part. */
	if (!rc->command && rc->context)
		rc->command = g_strdup(dsn_command_find(
			rc->context, MIN(strlen(rc->context), 2048)));
	if (!rc->status && rc->context &&
	    dsn_status_find(rc->context, strlen(rc->context), 0, found))
		rc->status = g_strdup(found);
}

/* JSON needs UTF-8: anything else is made valid. */
static char *
field_utf8(const char *s)
{
	if (!s)
		return NULL;
	if (g_utf8_validate(s, -1, NULL))
		return report_strdup(s);
	return g_utf8_make_valid(s, MIN(strlen(s), REPORT_FIELD_MAX));
}

static void
rcpt_report(struct dsn_rcpt *rc, struct report *r)
{
	struct report_rcpt *out;
	const char *reason;

	rcpt_settle(rc);
	reason = dsn_reason_decide(rc);
	out = report_add_rcpt(r);
	if (!out)
		return;
	out->recipient = field_utf8(rc->addr);
	if (rc->orig && g_ascii_strcasecmp(rc->orig, rc->addr) != 0)
		out->original_recipient = field_utf8(rc->orig);
	out->action = g_strdup(rc->action ? rc->action : "failed");
	if (strcmp(reason, "delivered") == 0 && !rc->action)
		dsn_set(&out->action, "delivered");
	if (strcmp(reason, "feedback") == 0)
		g_clear_pointer(&out->action, g_free);
	out->status = g_strdup(rc->status);
	out->reason = g_strdup(reason);
	out->klass = g_strdup(dsn_reason_class(reason, rc->status));
	if (rc->diag && rc->spec)
		out->diagnostic = g_strdup_printf("%s; %s", rc->spec, rc->diag);
	else
		out->diagnostic = field_utf8(rc->diag);
	if (out->diagnostic && !g_utf8_validate(out->diagnostic, -1, NULL)) {
		char *v = field_utf8(out->diagnostic);

		g_free(out->diagnostic);
		out->diagnostic = v;
	}
	out->remote_mta = field_utf8(rc->rhost);
	if (rc->bad_action)
		report_set_error(r,
				 "unknown action \"%s\" for %s (truncated "
				 "or malformed report?)",
				 rc->bad_action, rc->addr);
}

/* Token hints from header text ("Return-Path: <...>" lines). */
static void
hints_from_lines(const char *text, size_t len, struct report *r)
{
	static const char *const names[] = { "return-path:", TOKEN_HEADER ":",
					     NULL };

	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		for (const char *const *h = names; *h; h++) {
			size_t hl = strlen(*h);

			if (n > hl && g_ascii_strncasecmp(p, *h, hl) == 0) {
				char *v = dsn_strip(p + hl, n - hl);

				if (v && g_utf8_validate(v, -1, NULL))
					report_add_hint(r, v);
				g_free(v);
			}
		}
		p = nl ? nl + 1 : end;
	}
}

static void
dsn_hints(const struct dsn_msg *m, const struct dsn_result *res,
	  struct report *r)
{
	if (res->envid)
		report_add_hint(r, res->envid);
	if (m->orig) {
		const char *v = g_mime_object_get_header(GMIME_OBJECT(m->orig),
							 TOKEN_HEADER);

		if (v)
			report_add_hint(r, v);
		v = g_mime_object_get_header(GMIME_OBJECT(m->orig),
					     "Return-Path");
		if (v)
			report_add_hint(r, v);
	}
	hints_from_lines(m->orig_headers->str, m->orig_headers->len, r);
	hints_from_lines(m->text, m->text_len, r);
}

/* A Final-Recipient that is no address (Exim writes the file or pipe it
 * delivered to) gives way to X-Failed-Recipients, in order. */
static void
dsn_fix_addresses(const struct dsn_msg *m, struct dsn_result *res)
{
	const char *h = dsn_msg_header(m, "X-Failed-Recipients");
	size_t off = 0, end, hl = h ? strlen(h) : 0;

	for (guint i = 0; h && i < res->rcpts->len; i++) {
		struct dsn_rcpt *rc = res->rcpts->pdata[i];
		char *a;

		if (dsn_addr_valid(rc->addr))
			continue;
		a = off < hl ? dsn_addr_find(h + off, hl - off, &end) : NULL;
		if (!a)
			break;
		off += end;
		g_free(rc->addr);
		rc->addr = a;
	}
}

/*
 * A bounce forwarded as a message/rfc822 attachment (a relay that wraps
 * the DSN it got in its own notice): the attachment is read as a bounce
 * of its own, one level deep.
 */
static int
dsn_nested(const struct dsn_msg *outer, struct dsn_result *res)
{
	struct dsn_msg *m = dsn_msg_new(outer->orig);
	int found = 0;

	if (m->status->len && dsn_rfc3464(m, res)) {
		res->agent = "rfc3464";
		dsn_lhost_enrich(m, res);
		found = 1;
	}
	dsn_msg_free(m);
	return found;
}

int
dsn_classify(void *ud, GMimeMessage *msg, const char *raw, size_t len,
	     struct report *r)
{
	struct dsn_msg *m = dsn_msg_new(msg);
	struct dsn_result res = { 0 };
	int found = 0;

	(void)ud;
	(void)raw;
	(void)len;
	if (dsn_not_ours(m)) {
		dsn_msg_free(m);
		return 0;
	}
	res.rcpts = g_ptr_array_new_with_free_func(rcpt_free);
	if (dsn_ses(m, &res, r)) {
		found = 1;
	} else if (m->status->len && dsn_rfc3464(m, &res)) {
		res.agent = "rfc3464";
		dsn_fix_addresses(m, &res);
		dsn_lhost_enrich(m, &res);
		dsn_lhost_refine(m, &res);
		found = 1;
	} else {
		found = dsn_lhost(m, &res);
	}
	if (!found && m->orig)
		found = dsn_nested(m, &res);
	if (found) {
		if (r->kind == REPORT_NOT_FEEDBACK)
			r->kind = REPORT_DSN;
		for (guint i = 0; i < res.rcpts->len; i++)
			rcpt_report(res.rcpts->pdata[i], r);
		dsn_hints(m, &res, r);
	}
	g_ptr_array_free(res.rcpts, TRUE);
	g_free(res.envid);
	g_free(res.lhost);
	dsn_msg_free(m);
	return found;
}
