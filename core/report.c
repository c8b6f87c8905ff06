/* report: see report.h. */
#include "core/report.h"

#include <stdarg.h>
#include <string.h>

#include "core/jsonval.h"

static void
report_rcpt_free(gpointer p)
{
	struct report_rcpt *rc = p;

	g_free(rc->recipient);
	g_free(rc->original_recipient);
	g_free(rc->action);
	g_free(rc->status);
	g_free(rc->reason);
	g_free(rc->klass);
	g_free(rc->diagnostic);
	g_free(rc->remote_mta);
	g_free(rc);
}

static void
report_dmarc_record_free(gpointer p)
{
	struct report_dmarc_record *d = p;

	g_free(d->source_ip);
	g_free(d->disposition);
	g_free(d->dkim);
	g_free(d->spf);
	g_free(d->header_from);
	g_free(d);
}

struct report *
report_new(void)
{
	struct report *r = g_new0(struct report, 1);

	r->rcpts = g_ptr_array_new_with_free_func(report_rcpt_free);
	r->token_hints = g_ptr_array_new_with_free_func(g_free);
	r->token.valid = -1;
	return r;
}

static void
report_feedback_free(struct report_feedback *f)
{
	if (!f)
		return;
	g_free(f->type);
	g_free(f->user_agent);
	g_free(f->version);
	g_free(f->original_mail_from);
	g_ptr_array_free(f->original_rcpt_to, TRUE);
	g_free(f->arrival_date);
	g_free(f->source_ip);
	g_free(f->reported_domain);
	g_free(f->original_message_id);
	g_free(f);
}

void
report_dmarc_free(struct report_dmarc *d)
{
	if (!d)
		return;
	g_free(d->org);
	g_free(d->report_id);
	g_free(d->domain);
	g_ptr_array_free(d->records, TRUE);
	g_free(d);
}

void
report_free(struct report *r)
{
	if (!r)
		return;
	g_ptr_array_free(r->rcpts, TRUE);
	g_ptr_array_free(r->token_hints, TRUE);
	report_feedback_free(r->feedback);
	report_dmarc_free(r->dmarc);
	g_free(r->token.account);
	g_free(r->token.message);
	g_free(r->token.key);
	g_free(r->token.error);
	g_free(r->error);
	g_free(r);
}

const char *
report_kind_name(enum report_kind kind)
{
	switch (kind) {
	case REPORT_DSN:
		return "dsn";
	case REPORT_ARF:
		return "arf";
	case REPORT_DMARC_AGGREGATE:
		return "dmarc-aggregate";
	case REPORT_AUTOREPLY:
		return "autoreply";
	case REPORT_NOT_FEEDBACK:
		break;
	}
	return "not-feedback";
}

struct report_rcpt *
report_add_rcpt(struct report *r)
{
	struct report_rcpt *rc;

	if (r->rcpts->len >= REPORT_RCPT_MAX)
		return NULL;
	rc = g_new0(struct report_rcpt, 1);
	g_ptr_array_add(r->rcpts, rc);
	return rc;
}

char *
report_strdup(const char *s)
{
	if (!s)
		return NULL;
	/* g_strndup pads to n with zeros: give it the length. */
	return g_strndup(s, strnlen(s, REPORT_FIELD_MAX));
}

void
report_add_hint(struct report *r, const char *hint)
{
	if (!hint || !*hint || r->token_hints->len >= REPORT_HINT_MAX)
		return;
	for (guint i = 0; i < r->token_hints->len; i++)
		if (strcmp(r->token_hints->pdata[i], hint) == 0)
			return;
	g_ptr_array_add(r->token_hints, report_strdup(hint));
}

void
report_set_error(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->error)
		return;
	va_start(ap, fmt);
	r->error = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

struct report_feedback *
report_feedback_new(void)
{
	struct report_feedback *f = g_new0(struct report_feedback, 1);

	f->original_rcpt_to = g_ptr_array_new_with_free_func(g_free);
	f->incidents = 1;
	return f;
}

struct report_dmarc *
report_dmarc_new(void)
{
	struct report_dmarc *d = g_new0(struct report_dmarc, 1);

	d->records = g_ptr_array_new_with_free_func(report_dmarc_record_free);
	return d;
}

struct report_dmarc_record *
report_dmarc_add(struct report_dmarc *d)
{
	struct report_dmarc_record *rec;

	if (d->records->len >= REPORT_DMARC_MAX)
		return NULL;
	rec = g_new0(struct report_dmarc_record, 1);
	g_ptr_array_add(d->records, rec);
	return rec;
}

static void
report_json_token(JsonBuilder *b, const struct report_token *t)
{
	json_builder_set_member_name(b, "token");
	if (t->valid < 0) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "valid");
	json_builder_add_boolean_value(b, t->valid == 1);
	if (t->valid == 1) {
		jsonval_add_str(b, "account", t->account);
		jsonval_add_str(b, "message", t->message);
		jsonval_add_str(b, "key", t->key);
	} else {
		jsonval_add_str(b, "error", t->error);
	}
	json_builder_end_object(b);
}

static void
report_json_rcpts(JsonBuilder *b, const struct report *r)
{
	json_builder_set_member_name(b, "recipients");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->rcpts->len; i++) {
		const struct report_rcpt *rc = r->rcpts->pdata[i];

		json_builder_begin_object(b);
		jsonval_add_str(b, "recipient", rc->recipient);
		jsonval_add_str(b, "original_recipient",
				rc->original_recipient);
		jsonval_add_str(b, "action", rc->action);
		jsonval_add_str(b, "status", rc->status);
		jsonval_add_str(b, "reason", rc->reason);
		jsonval_add_str(b, "class", rc->klass);
		jsonval_add_str(b, "diagnostic", rc->diagnostic);
		jsonval_add_str(b, "remote_mta", rc->remote_mta);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

static void
report_json_feedback(JsonBuilder *b, const struct report_feedback *f)
{
	json_builder_set_member_name(b, "feedback");
	if (!f) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_begin_object(b);
	jsonval_add_str(b, "type", f->type);
	jsonval_add_str(b, "user_agent", f->user_agent);
	jsonval_add_str(b, "version", f->version);
	jsonval_add_str(b, "original_mail_from", f->original_mail_from);
	json_builder_set_member_name(b, "original_rcpt_to");
	json_builder_begin_array(b);
	for (guint i = 0; i < f->original_rcpt_to->len; i++)
		json_builder_add_string_value(b, f->original_rcpt_to->pdata[i]);
	json_builder_end_array(b);
	jsonval_add_str(b, "arrival_date", f->arrival_date);
	jsonval_add_str(b, "source_ip", f->source_ip);
	jsonval_add_str(b, "reported_domain", f->reported_domain);
	jsonval_add_str(b, "original_message_id", f->original_message_id);
	json_builder_set_member_name(b, "incidents");
	json_builder_add_int_value(b, f->incidents);
	json_builder_end_object(b);
}

static void
report_json_dmarc(JsonBuilder *b, const struct report_dmarc *d)
{
	json_builder_set_member_name(b, "dmarc");
	if (!d) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_begin_object(b);
	jsonval_add_str(b, "org", d->org);
	jsonval_add_str(b, "report_id", d->report_id);
	json_builder_set_member_name(b, "begin");
	json_builder_add_int_value(b, d->begin);
	json_builder_set_member_name(b, "end");
	json_builder_add_int_value(b, d->end);
	jsonval_add_str(b, "domain", d->domain);
	json_builder_set_member_name(b, "records");
	json_builder_begin_array(b);
	for (guint i = 0; i < d->records->len; i++) {
		const struct report_dmarc_record *rec = d->records->pdata[i];

		json_builder_begin_object(b);
		jsonval_add_str(b, "source_ip", rec->source_ip);
		json_builder_set_member_name(b, "count");
		json_builder_add_int_value(b, rec->count);
		jsonval_add_str(b, "disposition", rec->disposition);
		jsonval_add_str(b, "dkim", rec->dkim);
		jsonval_add_str(b, "spf", rec->spf);
		jsonval_add_str(b, "header_from", rec->header_from);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
	json_builder_end_object(b);
}

JsonNode *
report_to_json(const struct report *r, const char *file)
{
	/* Mutable: sealing every node costs a fifth of the build, and the
	 * tree is printed once and freed (fbld parse prints one per
	 * message). */
	JsonBuilder *b = json_builder_new();
	JsonNode *root;

	json_builder_begin_object(b);
	jsonval_add_str(b, "file", file);
	jsonval_add_str(b, "kind", report_kind_name(r->kind));
	report_json_token(b, &r->token);
	report_json_rcpts(b, r);
	report_json_feedback(b, r->feedback);
	report_json_dmarc(b, r->dmarc);
	jsonval_add_str(b, "error", r->error);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	g_object_unref(b);
	return root;
}

char *
report_to_json_line(const struct report *r, const char *file)
{
	JsonNode *root = report_to_json(r, file);
	char *s = json_to_string(root, FALSE);

	json_node_unref(root);
	return s;
}
