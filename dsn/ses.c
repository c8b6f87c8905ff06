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

/* An SES notification is a few KiB; anything far larger is not one. */
#define DSN_SES_JSON_MAX (1024 * 1024)

#include "core/jsonval.h"
#include "dsn/dsn_int.h"

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

static void
ses_bounce(JsonObject *b, struct dsn_result *res)
{
	JsonArray *a = jsonval_arr(b, "bouncedRecipients");
	const char *type = jsonval_str(b, "bounceType");
	const char *sub = jsonval_str(b, "bounceSubType");

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *r = jsonval_arr_obj(a, i);
		const char *addr = jsonval_str(r, "emailAddress");
		struct dsn_rcpt *rc;

		if (!addr || !(rc = dsn_result_add(res, addr)))
			continue;
		dsn_set(&rc->action, jsonval_str(r, "action"));
		dsn_set(&rc->status, jsonval_str(r, "status"));
		dsn_set(&rc->diag, jsonval_str(r, "diagnosticCode"));
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
	JsonArray *a = jsonval_arr(d, "recipients");
	const char *smtp = jsonval_str(d, "smtpResponse");
	char code[12];

	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		const char *addr = jsonval_arr_str(a, i);
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
	JsonArray *a = jsonval_arr(c, "complainedRecipients");
	const char *type = jsonval_str(c, "complaintFeedbackType");

	r->kind = REPORT_ARF;
	r->feedback = report_feedback_new();
	r->feedback->type = g_strdup(type ? type : "abuse");
	r->feedback->user_agent = report_strdup(jsonval_str(c, "userAgent"));
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *o = jsonval_arr_obj(a, i);
		const char *addr = jsonval_str(o, "emailAddress");
		struct dsn_rcpt *rc = addr ? dsn_result_add(res, addr) : NULL;

		if (rc)
			rc->reason = "feedback";
	}
}

int
dsn_ses(const struct dsn_msg *m, struct dsn_result *res, struct report *r)
{
	JsonNode *root;
	JsonObject *o;
	const char *type;
	char *json;
	int ok = 0;

	if (!strstr(m->from, "amazonaws.com") && !strstr(m->from, "amazonses"))
		return 0;
	json = ses_json_text(m);
	if (!json)
		return 0;
	root = jsonval_parse(json, -1, DSN_SES_JSON_MAX, JSONVAL_DEPTH_MAX,
			     NULL);
	o = jsonval_root_object(root);
	if (o && jsonval_str(o, "Message") &&
	    !jsonval_str(o, "notificationType")) {
		/* The SNS envelope: the notification is a string inside it. */
		JsonNode *inner = jsonval_parse(jsonval_str(o, "Message"), -1,
						DSN_SES_JSON_MAX,
						JSONVAL_DEPTH_MAX, NULL);

		json_node_unref(root);
		root = inner;
		o = jsonval_root_object(root);
	}
	if (!o)
		goto out;
	type = jsonval_str(o, "notificationType");
	if (!type)
		type = jsonval_str(o, "eventType");
	if (type && strcmp(type, "Bounce") == 0)
		ses_bounce(jsonval_obj(o, "bounce"), res);
	else if (type && strcmp(type, "Delivery") == 0)
		ses_delivery(jsonval_obj(o, "delivery"), res);
	else if (type && strcmp(type, "Complaint") == 0)
		ses_complaint(jsonval_obj(o, "complaint"), res, r);
	ok = res->rcpts->len > 0;
	res->agent = "amazonses";
out:
	if (root)
		json_node_unref(root);
	g_free(json);
	return ok;
}
