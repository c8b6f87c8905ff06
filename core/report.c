/* report: see report.h. */
#include "core/report.h"

#include <stdarg.h>
#include <stddef.h>
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

/* A recipient's members in the JSON line (../shared/formats.md), in
 * order: one list for report_to_json and the printer. */
static const struct {
	const char *name;
	size_t offset; /* of a char * in struct report_rcpt */
} report_rcpt_members[] = {
	{ "recipient", offsetof(struct report_rcpt, recipient) },
	{ "original_recipient",
	  offsetof(struct report_rcpt, original_recipient) },
	{ "action", offsetof(struct report_rcpt, action) },
	{ "status", offsetof(struct report_rcpt, status) },
	{ "reason", offsetof(struct report_rcpt, reason) },
	{ "class", offsetof(struct report_rcpt, klass) },
	{ "diagnostic", offsetof(struct report_rcpt, diagnostic) },
	{ "remote_mta", offsetof(struct report_rcpt, remote_mta) },
};

/* Member m of rc (may be NULL). */
static const char *
report_rcpt_member(const struct report_rcpt *rc, size_t m)
{
	return *(char *const *)((const char *)rc +
				report_rcpt_members[m].offset);
}

static void
report_json_rcpts(JsonBuilder *b, const struct report *r)
{
	json_builder_set_member_name(b, "recipients");
	json_builder_begin_array(b);
	for (guint i = 0; i < r->rcpts->len; i++) {
		const struct report_rcpt *rc = r->rcpts->pdata[i];

		json_builder_begin_object(b);
		for (size_t m = 0; m < G_N_ELEMENTS(report_rcpt_members); m++)
			jsonval_add_str(b, report_rcpt_members[m].name,
					report_rcpt_member(rc, m));
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

/* ---- printer: a JSON tree kept from one report to the next ---- */

/* A member that is a string or null. Both nodes are kept (references of
 * the slot's own) and the object holds the one in use: json-glib cannot
 * turn a node that was a string into null and back (json_node_init leaves
 * the freed value in the node), so a node never changes its type. */
struct printer_slot {
	JsonObject *o;	  /* borrowed */
	const char *name; /* static */
	JsonNode *str, *null, *cur;
};

/* One recipient's object in the pool. */
struct printer_rcpt {
	JsonNode *node; /* a reference of the pool's own */
	struct printer_slot f[G_N_ELEMENTS(report_rcpt_members)];
};

/* The three shapes of the token member, each a reference of the
 * printer's own, and the members of the two objects. */
struct printer_token {
	JsonNode *none, *valid, *invalid;
	struct printer_slot account, message, key, error;
	JsonNode *cur; /* which of the three top holds */
};

struct report_printer {
	JsonGenerator *gen;
	GString *buf;
	JsonNode *root;
	JsonObject *top; /* root's object */
	struct printer_slot file, kind, error;
	JsonArray *rcpts; /* borrowed from top */
	GPtrArray *pool;  /* struct printer_rcpt * */
	struct printer_token tok;
};

/* Adds the member name to o, null for now. */
static void
slot_init(struct printer_slot *s, JsonObject *o, const char *name)
{
	s->o = o;
	s->name = name;
	s->str = json_node_init_string(json_node_alloc(), "");
	s->null = json_node_new(JSON_NODE_NULL);
	s->cur = s->null;
	json_object_set_member(o, name, json_node_ref(s->null));
}

static void
slot_set(struct printer_slot *s, const char *value)
{
	JsonNode *n = value ? s->str : s->null;

	if (value)
		json_node_set_string(s->str, value);
	if (n != s->cur) {
		json_object_set_member(s->o, s->name, json_node_ref(n));
		s->cur = n;
	}
}

static void
slot_clear(struct printer_slot *s)
{
	json_node_unref(s->str);
	json_node_unref(s->null);
}

/* An object node holding o; o is consumed. */
static JsonNode *
printer_object_node(JsonObject *o)
{
	JsonNode *n = json_node_init_object(json_node_alloc(), o);

	json_object_unref(o);
	return n;
}

static void
printer_rcpt_free(gpointer p)
{
	struct printer_rcpt *pr = p;

	json_node_unref(pr->node);
	for (size_t i = 0; i < G_N_ELEMENTS(pr->f); i++)
		slot_clear(&pr->f[i]);
	g_free(pr);
}

static struct printer_rcpt *
printer_rcpt_new(void)
{
	struct printer_rcpt *pr = g_new(struct printer_rcpt, 1);
	JsonObject *o = json_object_new();

	for (size_t i = 0; i < G_N_ELEMENTS(report_rcpt_members); i++)
		slot_init(&pr->f[i], o, report_rcpt_members[i].name);
	pr->node = printer_object_node(o);
	return pr;
}

static void
printer_token_init(struct printer_token *t)
{
	JsonObject *v = json_object_new(), *inv = json_object_new();

	json_object_set_boolean_member(v, "valid", TRUE);
	slot_init(&t->account, v, "account");
	slot_init(&t->message, v, "message");
	slot_init(&t->key, v, "key");
	t->valid = printer_object_node(v);
	json_object_set_boolean_member(inv, "valid", FALSE);
	slot_init(&t->error, inv, "error");
	t->invalid = printer_object_node(inv);
	t->none = json_node_new(JSON_NODE_NULL);
	t->cur = NULL;
}

static void
printer_token_clear(struct printer_token *t)
{
	json_node_unref(t->none);
	json_node_unref(t->valid);
	json_node_unref(t->invalid);
	slot_clear(&t->account);
	slot_clear(&t->message);
	slot_clear(&t->key);
	slot_clear(&t->error);
}

/* The token member of top as report_json_token writes it. */
static void
printer_token(struct printer_token *t, JsonObject *top,
	      const struct report_token *rt)
{
	JsonNode *n = t->none;

	if (rt->valid == 1) {
		slot_set(&t->account, rt->account);
		slot_set(&t->message, rt->message);
		slot_set(&t->key, rt->key);
		n = t->valid;
	} else if (rt->valid == 0) {
		slot_set(&t->error, rt->error);
		n = t->invalid;
	}
	if (n != t->cur) {
		json_object_set_member(top, "token", json_node_ref(n));
		t->cur = n;
	}
}

struct report_printer *
report_printer_new(void)
{
	struct report_printer *p = g_new0(struct report_printer, 1);
	JsonObject *o = json_object_new();

	p->top = o;
	slot_init(&p->file, o, "file");
	slot_init(&p->kind, o, "kind");
	printer_token_init(&p->tok);
	printer_token(&p->tok, o, &(struct report_token){ .valid = -1 });
	p->rcpts = json_array_new();
	json_object_set_array_member(o, "recipients", p->rcpts);
	json_object_set_null_member(o, "feedback");
	json_object_set_null_member(o, "dmarc");
	slot_init(&p->error, o, "error");
	p->root = printer_object_node(o);
	p->pool = g_ptr_array_new_with_free_func(printer_rcpt_free);
	p->gen = json_generator_new();
	p->buf = g_string_sized_new(4096);
	return p;
}

/* The recipients array holds the first n objects of the pool. */
static void
printer_rcpts(struct report_printer *p, const struct report *r)
{
	guint n = r->rcpts->len;

	while (json_array_get_length(p->rcpts) > n)
		json_array_remove_element(p->rcpts,
					  json_array_get_length(p->rcpts) - 1);
	for (guint i = 0; i < n; i++) {
		const struct report_rcpt *rc = r->rcpts->pdata[i];
		struct printer_rcpt *pr;

		if (i == p->pool->len)
			g_ptr_array_add(p->pool, printer_rcpt_new());
		pr = p->pool->pdata[i];
		for (size_t m = 0; m < G_N_ELEMENTS(pr->f); m++)
			slot_set(&pr->f[m], report_rcpt_member(rc, m));
		if (i == json_array_get_length(p->rcpts))
			json_array_add_element(p->rcpts,
					       json_node_ref(pr->node));
	}
}

const char *
report_printer_line(struct report_printer *p, const struct report *r,
		    const char *file, size_t *len)
{
	JsonNode *whole = NULL;

	if (r->feedback || r->dmarc) {
		whole = report_to_json(r, file);
		json_generator_set_root(p->gen, whole);
	} else {
		slot_set(&p->file, file);
		slot_set(&p->kind, report_kind_name(r->kind));
		printer_token(&p->tok, p->top, &r->token);
		printer_rcpts(p, r);
		slot_set(&p->error, r->error);
		json_generator_set_root(p->gen, p->root);
	}
	g_string_truncate(p->buf, 0);
	json_generator_to_gstring(p->gen, p->buf);
	/* The generator holds a copy of the root (sharing its object): let
	 * go of it, so that nothing else holds the kept tree. */
	json_generator_set_root(p->gen, NULL);
	if (whole)
		json_node_unref(whole);
	*len = p->buf->len;
	return p->buf->str;
}

void
report_printer_free(struct report_printer *p)
{
	if (!p)
		return;
	g_object_unref(p->gen);
	g_string_free(p->buf, TRUE);
	json_node_unref(p->root);
	printer_token_clear(&p->tok);
	g_ptr_array_free(p->pool, TRUE);
	slot_clear(&p->file);
	slot_clear(&p->kind);
	slot_clear(&p->error);
	g_free(p);
}
