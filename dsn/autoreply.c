/*
 * dsn/autoreply: auto-replies (RFC 3834) and vacation messages. Never a
 * bounce: kind autoreply, the replying mailbox as the recipient, reason
 * vacation, class none.
 *
 * Signs, strongest first: Auto-Submitted: auto-replied (RFC 3834 section
 * 5), the headers vacation programs and Exchange add (X-Autoreply,
 * X-Autorespond, X-Auto-Response-Suppress is a request and does not
 * count), a subject that vacation responders use, and the body wording.
 * Mail from a mailer daemon is a bounce, not an auto-reply.
 */
#include <string.h>

#include "dsn/dsn_int.h"

static const char *const subject_prefixes[] = { "auto:",
						"auto reply",
						"auto-reply",
						"autoreply",
						"autorespons",
						"automatic reply",
						"automatische antwort",
						"automatisch antwoord",
						"abwesend",
						"abwesenheitsnotiz",
						"out of office",
						"out of the office",
						"ooo:",
						"away from my mail",
						"on vacation",
						"vacation reply",
						"réponse automatique",
						"respuesta automática",
						"risposta automatica",
						"resposta automática",
						"automaattinen vastaus",
						"自動応答",
						"自動返信",
						"不在",
						NULL };

static const char *const body_phrases[] = { "i am away on vacation",
					    "i am away until",
					    "i am out of the office",
					    "i am currently out of the office",
					    "i'm out of the office",
					    "i will be traveling for work on",
					    "i will be out of the office",
					    "i am on vacation",
					    "i am on leave",
					    "this is an automatic reply",
					    "this is an automated reply",
					    NULL };

/* Leading "Re: " and blanks do not hide a prefix. */
static int
subject_says(const char *subject)
{
	char *lc = g_utf8_strdown(subject, -1);
	const char *s = g_strstrip(lc);
	int hit = 0;

	while (g_ascii_strncasecmp(s, "re:", 3) == 0 ||
	       g_ascii_strncasecmp(s, "aw:", 3) == 0)
		s += 3 + (s[3] == ' ');
	for (const char *const *p = subject_prefixes; *p && !hit; p++)
		hit = g_str_has_prefix(s, *p);
	if (!hit && (strstr(s, "out of office") || strstr(s, "auto reply") ||
		     strstr(s, "automatic reply") || strstr(s, "autoreply")))
		hit = 1;
	g_free(lc);
	return hit;
}

static int
header_says(GMimeMessage *msg)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	const char *v = g_mime_object_get_header(o, "Auto-Submitted");

	if (v && dsn_casefind(v, strlen(v), "auto-replied"))
		return 2;
	if (g_mime_object_get_header(o, "X-Autoreply") ||
	    g_mime_object_get_header(o, "X-Autorespond") ||
	    g_mime_object_get_header(o, "X-Autoresponder"))
		return 2;
	v = g_mime_object_get_header(o, "Precedence");
	if (v && dsn_casefind(v, strlen(v), "auto_reply"))
		return 2;
	v = g_mime_object_get_header(o, "X-Apple-Action");
	if (v && dsn_casefind(v, strlen(v), "vacation"))
		return 2;
	v = g_mime_object_get_header(o, "X-Mailer");
	if (v && dsn_casefind(v, strlen(v), "vacation"))
		return 2;
	return 0;
}

/* The From: address, lower case, or NULL. */
static char *
from_addr(GMimeMessage *msg)
{
	InternetAddressList *list = g_mime_message_get_from(msg);
	InternetAddress *a;

	if (!list || internet_address_list_length(list) < 1)
		return NULL;
	a = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(a))
		return NULL;
	return g_ascii_strdown(
		internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)),
		-1);
}

/* Bounces are not auto-replies, whatever their headers say. */
static int
looks_bounce(GMimeMessage *msg, const char *from)
{
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	GMimeContentType *ct =
		body ? g_mime_object_get_content_type(body) : NULL;

	return g_str_has_prefix(from, "mailer-daemon") ||
	       strstr(from, "mailer-daemon@") ||
	       g_str_has_prefix(from, "postmaster@") ||
	       (ct && g_mime_content_type_is_type(ct, "multipart", "report"));
}

int
dsn_autoreply_classify(void *ud, GMimeMessage *msg, const char *raw, size_t len,
		       struct report *r)
{
	const char *subject = g_mime_message_get_subject(msg);
	char *from = from_addr(msg);
	struct report_rcpt *rc;
	int score;

	(void)ud;
	(void)raw;
	(void)len;
	/* Apple Mail's unsubscribe request is an opt-out, not a reply. */
	if (!from || !dsn_addr_valid(from) || looks_bounce(msg, from) ||
	    g_mime_object_get_header(GMIME_OBJECT(msg),
				     "X-Apple-Unsubscribe")) {
		g_free(from);
		return 0;
	}
	score = header_says(msg) + (subject && subject_says(subject));
	if (score == 1) {
		/* One sign only: let the words decide. */
		struct dsn_msg *m = dsn_msg_new(msg);

		for (const char *const *p = body_phrases; *p && score < 2; p++)
			if (dsn_msg_has(m, *p))
				score++;
		dsn_msg_free(m);
	}
	if (score < 2) {
		g_free(from);
		return 0;
	}
	r->kind = REPORT_AUTOREPLY;
	rc = report_add_rcpt(r);
	rc->recipient = from;
	rc->reason = g_strdup("vacation");
	rc->klass = g_strdup("none");
	return 1;
}
