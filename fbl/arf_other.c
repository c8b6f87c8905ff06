/*
 * arf_other: complaint reports that are not RFC 5965 (see arf.h): Microsoft
 * JMRP, Apple's mailto unsubscribe, Amazon SES complaint notifications.
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "core/jsonval.h"
#include "fbl/arf.h"
#include "fbl/fbl.h"
#include "verp/keys.h"

static int
arf_first_message(GMimeObject *part, void *ud)
{
	GMimeMessage **out = ud;

	if (!GMIME_IS_MESSAGE_PART(part))
		return 0;
	*out = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
	return *out != NULL;
}

/* "complaint about message from 192.0.2.1": the address at the end. */
static char *
arf_subject_ip(GMimeMessage *msg)
{
	const char *subj = g_mime_message_get_subject(msg);
	const char *sp;

	if (!subj || !(sp = strrchr(subj, ' ')))
		return NULL;
	return g_hostname_is_ip_address(sp + 1) ? g_strdup(sp + 1) : NULL;
}

/*
 * Microsoft JMRP (Outlook.com, Hotmail): a multipart/mixed message whose
 * attached original carries X-HmXmrOriginalRecipient. Every JMRP report is
 * a "junk" vote, i.e. abuse.
 */
int
arf_jmrp(GMimeMessage *msg, struct report *r)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GMimeMessage *orig = NULL;
	struct report_feedback *f;
	const char *v;
	char *a;

	if (!top)
		return 0;
	fbl_foreach_leaf(top, arf_first_message, &orig);
	if (!orig ||
	    !(v = fbl_header(GMIME_OBJECT(orig), "X-HmXmrOriginalRecipient")))
		return 0;
	f = arf_begin(r);
	f->type = g_strdup("abuse");
	f->source_ip = arf_subject_ip(msg);
	f->original_mail_from =
		fbl_address(fbl_header(GMIME_OBJECT(orig), "Return-Path"));
	a = fbl_address(v);
	arf_add_rcpt(r, a ? a : v);
	g_ptr_array_add(f->original_rcpt_to, a ? a : report_strdup(v));
	arf_original_hints(GMIME_OBJECT(orig), r);
	return 1;
}

/*
 * Apple Mail's one-tap unsubscribe: a plain message to the List-Unsubscribe
 * mailto address, marked X-Apple-Unsubscribe: true. The sender is the
 * recipient who opted out; the token, if any, is in the address it was
 * sent to, which the router looks at.
 */
int
arf_apple_unsubscribe(GMimeMessage *msg, struct report *r)
{
	const char *v = fbl_header(GMIME_OBJECT(msg), "X-Apple-Unsubscribe");
	struct report_feedback *f;
	char *a;

	if (!v)
		return 0;
	while (g_ascii_isspace(*v))
		v++;
	if (g_ascii_strncasecmp(v, "true", 4) != 0)
		return 0;
	f = arf_begin(r);
	f->type = g_strdup("opt-out");
	a = fbl_address(fbl_header(GMIME_OBJECT(msg), "From"));
	arf_add_rcpt(r, a);
	g_free(a);
	return 1;
}

/* ---- Amazon SES ---------------------------------------------------------- */

/* Can the body be JSON: is its first byte that is not blank a brace (or
 * are the first 256 bytes all blank)? Every single-part message is asked,
 * and most are not: this reads their first bytes, not the whole body. */
static int
arf_ses_may(GMimeObject *top)
{
	GByteArray *b = fbl_part_content(top, 256, NULL);
	size_t i = 0;
	int may;

	while (i < b->len && g_ascii_isspace(b->data[i]))
		i++;
	may = i == b->len || b->data[i] == '{';
	g_byte_array_free(b, TRUE);
	return may;
}

/* The JSON text of the body: up to the SNS footer ("\n--\n"), with the
 * "!\n " that Sendmail inserts into lines over 990 bytes removed. */
static char *
arf_ses_text(GMimeMessage *msg)
{
	GMimeObject *top = g_mime_message_get_mime_part(msg);
	GByteArray *b;
	char *text, *cut, *out;
	GString *s;

	if (!top || !GMIME_IS_PART(top) || !arf_ses_may(top))
		return NULL;
	b = fbl_part_content(top, ARF_JSON_MAX, NULL);
	text = b->len ? g_strndup((const char *)b->data, b->len) : NULL;
	g_byte_array_free(b, TRUE);
	if (!text)
		return NULL;
	g_strchug(text);
	if (text[0] != '{' || !strstr(text, "notificationType")) {
		g_free(text);
		return NULL;
	}
	if ((cut = strstr(text, "\n--\n")) != NULL)
		*cut = '\0';
	s = g_string_sized_new(strlen(text));
	for (const char *p = text; *p; p++) {
		if (p[0] == '!' && p[1] == '\n' && p[2] == ' ') {
			p += 2;
			continue;
		}
		g_string_append_c(s, *p);
	}
	g_free(text);
	out = g_string_free(s, FALSE);
	return out;
}

static JsonNode *
arf_json_load(const char *text)
{
	JsonNode *root =
		jsonval_parse(text, -1, ARF_JSON_MAX, ARF_JSON_DEPTH_MAX, NULL);

	if (root && !jsonval_root_object(root)) {
		json_node_unref(root);
		root = NULL;
	}
	return root;
}

/* The notification object; an SNS envelope carries it as a string. */
static JsonNode *
arf_ses_parse(const char *text)
{
	JsonNode *root = arf_json_load(text), *inner_root;
	JsonObject *o;
	const char *inner;

	if (!root)
		return NULL;
	o = json_node_get_object(root);
	inner = jsonval_str(o, "Message");
	if (!inner || jsonval_str(o, "notificationType"))
		return root;
	inner_root = arf_json_load(inner);
	json_node_unref(root);
	return inner_root;
}

static void
arf_ses_mail(JsonObject *mail, struct report *r)
{
	struct report_feedback *f = r->feedback;
	JsonArray *hdrs = jsonval_arr(mail, "headers");
	const char *ref = NULL, *rpath = NULL, *msgid = NULL;
	guint n = hdrs ? json_array_get_length(hdrs) : 0;

	for (guint i = 0; i < n && i < ARF_FIELD_COUNT_MAX; i++) {
		JsonNode *e = json_array_get_element(hdrs, i);
		JsonObject *h = JSON_NODE_HOLDS_OBJECT(e)
					? json_node_get_object(e)
					: NULL;
		const char *name = jsonval_str(h, "name");
		const char *value = jsonval_str(h, "value");

		if (!name || !value)
			continue;
		if (!ref && g_ascii_strcasecmp(name, TOKEN_HEADER) == 0)
			ref = value;
		else if (!rpath && g_ascii_strcasecmp(name, "Return-Path") == 0)
			rpath = value;
		else if (!msgid && g_ascii_strcasecmp(name, "Message-ID") == 0)
			msgid = value;
	}
	if (!msgid)
		msgid = jsonval_str(jsonval_obj(mail, "commonHeaders"),
				    "messageId");
	f->original_message_id = fbl_message_id(msgid);
	f->original_mail_from = fbl_address(jsonval_str(mail, "source"));
	f->source_ip = report_strdup(jsonval_str(mail, "sourceIp"));
	report_add_hint(r, ref);
	report_add_hint(r, rpath);
	report_add_hint(r, f->original_mail_from);
}

/*
 * An Amazon SES complaint notification sent by email (SNS subscription or
 * the SES feedback forwarding address), JSON in a text/plain body. Bounce
 * notifications are left to the DSN classifier.
 */
int
arf_ses(GMimeMessage *msg, struct report *r)
{
	char *text = arf_ses_text(msg);
	JsonNode *root = text ? arf_ses_parse(text) : NULL;
	JsonObject *o, *c;
	JsonArray *rcpts;
	struct report_feedback *f;
	const char *type;

	g_free(text);
	if (!root)
		return 0;
	o = json_node_get_object(root);
	type = jsonval_str(o, "notificationType");
	if (!type || strcmp(type, "Complaint") != 0) {
		json_node_unref(root);
		return 0;
	}
	c = jsonval_obj(o, "complaint");
	f = arf_begin(r);
	type = jsonval_str(c, "complaintFeedbackType");
	f->type = arf_type_name(type ? type : "abuse");
	f->user_agent = report_strdup(jsonval_str(c, "userAgent"));
	f->arrival_date = report_strdup(jsonval_str(c, "arrivalDate"));
	arf_ses_mail(jsonval_obj(o, "mail"), r);
	rcpts = jsonval_arr(c, "complainedRecipients");
	for (guint i = 0; rcpts && i < json_array_get_length(rcpts); i++) {
		JsonNode *e = json_array_get_element(rcpts, i);
		char *a = fbl_address(jsonval_str(
			JSON_NODE_HOLDS_OBJECT(e) ? json_node_get_object(e)
						  : NULL,
			"emailAddress"));

		if (!a)
			continue;
		arf_add_rcpt(r, a);
		if (f->original_rcpt_to->len < REPORT_RCPT_MAX)
			g_ptr_array_add(f->original_rcpt_to, a);
		else
			g_free(a);
	}
	if (r->rcpts->len == 0)
		arf_add_rcpt(r, NULL);
	json_node_unref(root);
	return 1;
}
