/*
 * dsn/ses: Amazon SES notifications delivered by e-mail (SNS topics):
 * a JSON object, possibly inside an SNS envelope whose "Message" is the
 * notification as a string, with long lines wrapped by "!\n ". Bounce,
 * Complaint and Delivery notifications become recipients; a complaint is
 * reported as kind "arf" with its feedback type (it is one, in JSON).
 *
 * The JSON is read with json-glib; at most DSN_TEXT_MAX bytes are parsed.
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "dsn/dsn_int.h"

static const char *
obj_str(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	return n && JSON_NODE_HOLDS_VALUE(n) &&
			       json_node_get_value_type(n) == G_TYPE_STRING
		       ? json_node_get_string(n)
		       : NULL;
}

static JsonObject *
obj_obj(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static JsonArray *
obj_arr(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* The JSON text of the body, unwrapped. */
static char *
ses_json_text(const struct dsn_msg *m)
{
	const char *b = memchr(m->text, '{', m->text_len), *e;
	GString *g;

	if (!b || (size_t)(b - m->text) > 64)
		return NULL;
	e = m->text + m->text_len;
	while (e > b && e[-1] != '}')
		e--;
	g = g_string_sized_new((size_t)(e - b));
	for (const char *p = b; p < e; p++) {
		if (p[0] == '!' && p + 2 < e && p[1] == '\n' && p[2] == ' ') {
			p += 2;
			continue;
		}
		if (p[0] == '\n')
			continue;
		g_string_append_c(g, *p);
	}
	return g_string_free(g, FALSE);
}

static JsonObject *
arr_obj(JsonArray *a, guint i)
{
	JsonNode *n = json_array_get_element(a, i);

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static const char *
arr_str(JsonArray *a, guint i)
{
	JsonNode *n = json_array_get_element(a, i);

	return n && JSON_NODE_HOLDS_VALUE(n) &&
			       json_node_get_value_type(n) == G_TYPE_STRING
		       ? json_node_get_string(n)
		       : NULL;
}

static void
ses_bounce(JsonObject *b, struct dsn_result *res)
{
	JsonArray *a = obj_arr(b, "bouncedRecipients");
	const char *type = obj_str(b, "bounceType");
	const char *sub = obj_str(b, "bounceSubType");

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *r = arr_obj(a, i);
		const char *addr = obj_str(r, "emailAddress");
		struct dsn_rcpt *rc;

		if (!addr || !(rc = dsn_result_add(res, addr)))
			continue;
		dsn_set(&rc->action, obj_str(r, "action"));
		dsn_set(&rc->status, obj_str(r, "status"));
		dsn_set(&rc->diag, obj_str(r, "diagnosticCode"));
		if (sub && (strcmp(sub, "Suppressed") == 0 ||
			    strcmp(sub, "OnAccountSuppressionList") == 0))
			rc->reason = "suppressed";
		else if (type && strcmp(type, "Transient") == 0 && !rc->action)
			rc->action = g_strdup("delayed");
	}
}

static void
ses_delivery(JsonObject *d, struct dsn_result *res)
{
	JsonArray *a = obj_arr(d, "recipients");
	const char *smtp = obj_str(d, "smtpResponse");
	char code[12];

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		const char *addr = arr_str(a, i);
		struct dsn_rcpt *rc = addr ? dsn_result_add(res, addr) : NULL;

		if (!rc)
			continue;
		rc->action = g_strdup("delivered");
		rc->reason = "delivered";
		dsn_set(&rc->diag, smtp);
		if (smtp && dsn_status_find(smtp, strlen(smtp), '2', code))
			rc->status = g_strdup(code);
	}
}

static void
ses_complaint(JsonObject *c, struct dsn_result *res, struct report *r)
{
	JsonArray *a = obj_arr(c, "complainedRecipients");
	const char *type = obj_str(c, "complaintFeedbackType");

	r->kind = REPORT_ARF;
	r->feedback = report_feedback_new();
	r->feedback->type = g_strdup(type ? type : "abuse");
	r->feedback->user_agent = report_strdup(obj_str(c, "userAgent"));
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *o = arr_obj(a, i);
		const char *addr = obj_str(o, "emailAddress");
		struct dsn_rcpt *rc = addr ? dsn_result_add(res, addr) : NULL;

		if (rc)
			rc->reason = "feedback";
	}
}

int
dsn_ses(const struct dsn_msg *m, struct dsn_result *res, struct report *r)
{
	JsonParser *p;
	JsonObject *o;
	const char *type;
	char *json;
	int ok = 0;

	if (!strstr(m->from, "amazonaws.com") && !strstr(m->from, "amazonses"))
		return 0;
	json = ses_json_text(m);
	if (!json)
		return 0;
	p = json_parser_new_immutable();
	if (!json_parser_load_from_data(p, json, -1, NULL) ||
	    !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p)))
		goto out;
	o = json_node_get_object(json_parser_get_root(p));
	if (obj_str(o, "Message") && !obj_str(o, "notificationType")) {
		/* The SNS envelope: the notification is a string inside it,
		 * copied before the parser's tree is replaced. */
		char *inner = g_strdup(obj_str(o, "Message"));
		int ok2 = json_parser_load_from_data(p, inner, -1, NULL) &&
			  JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p));

		g_free(inner);
		if (!ok2)
			goto out;
		o = json_node_get_object(json_parser_get_root(p));
	}
	type = obj_str(o, "notificationType");
	if (!type)
		type = obj_str(o, "eventType");
	if (type && strcmp(type, "Bounce") == 0)
		ses_bounce(obj_obj(o, "bounce"), res);
	else if (type && strcmp(type, "Delivery") == 0)
		ses_delivery(obj_obj(o, "delivery"), res);
	else if (type && strcmp(type, "Complaint") == 0)
		ses_complaint(obj_obj(o, "complaint"), res, r);
	ok = res->rcpts->len > 0;
	res->agent = "amazonses";
out:
	g_object_unref(p);
	g_free(json);
	return ok;
}
