/* Unit tests of fbl/arf and the shared helpers: field rules of RFC 5965,
 * what is and is not a complaint, hostile JSON. The full reports are in
 * the golden files (test_fbl_golden). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ingest.h"
#include "fbl/arf.h"
#include "fbl/fbl.h"

static struct report *
classify(const char *raw)
{
	struct ingest *in = ingest_new();
	struct report *r;

	fbl_register(in);
	r = ingest_classify(in, raw, strlen(raw));
	ingest_free(in);
	return r;
}

static void
test_address(void **state)
{
	static const char *const cases[][2] = {
		{ "user@Example.ORG", "user@example.org" },
		{ "<User@Example.ORG>", "User@example.org" },
		{ "rfc822; a@B.example", "a@b.example" },
		{ "RFC822;<a@b.example>", "a@b.example" },
		{ "\"Kijitora\" <kiji@Example.JP>", "kiji@example.jp" },
		{ "  a@b.c  ", "a@b.c" },
		{ "redacted", NULL },
		{ "redacted@", NULL },
		{ "@example.org", NULL },
		{ "<Undisclosed Recipients>", NULL },
		{ "", NULL },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *got = fbl_address(cases[i][0]);

		if (g_strcmp0(got, cases[i][1]) != 0)
			fail_msg("fbl_address(\"%s\") = \"%s\", not \"%s\"",
				 cases[i][0], got ? got : "(null)",
				 cases[i][1] ? cases[i][1] : "(null)");
		g_free(got);
	}
	assert_null(fbl_address(NULL));
}

static void
test_message_id(void **state)
{
	char *id = fbl_message_id(" <abc.1@example.com> ");

	assert_string_equal(id, "abc.1@example.com");
	g_free(id);
	id = fbl_message_id("abc.2@example.com");
	assert_string_equal(id, "abc.2@example.com");
	g_free(id);
	assert_null(fbl_message_id(NULL));
	assert_null(fbl_message_id("   "));
}

static void
test_type_names(void **state)
{
	static const char *const cases[][2] = {
		{ "abuse", "abuse" },
		{ " Abuse ", "abuse" },
		{ "NOT-SPAM", "not-spam" },
		{ "auth-failure", "auth-failure" },
		{ "Spam Complaint", "other" },
		{ "", "other" },
		{ "x-vendor_type", "x-vendor_type" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *got = arf_type_name(cases[i][0]);

		assert_string_equal(got, cases[i][1]);
		g_free(got);
	}
}

#define ARF_HEAD                                                               \
	"From: fbl@isp.example\nTo: fbl@provider.example\nSubject: r\n"        \
	"MIME-Version: 1.0\nContent-Type: multipart/report; "                  \
	"report-type=feedback-report; boundary=\"B\"\n\n--B\n"                 \
	"Content-Type: message/feedback-report\n\n"

/* Arrival-Date wins over the older Received-Date, whatever the order;
 * folded fields are unfolded; the first Feedback-Type counts. */
static void
test_fields(void **state)
{
	struct report *r = classify(
		ARF_HEAD "Received-Date: old\nFeedback-Type: fraud\n"
			 "Feedback-Type: abuse\nArrival-Date: Thu, 01 Jan\n"
			 " 2026 10:00:00 +0000\nIncidents: 12\n"
			 "Source-IP: 192.0.2.1\nReported-Domain: a.example\n"
			 "Reported-Domain: b.example\n\n--B--\n");

	assert_int_equal(r->kind, REPORT_ARF);
	assert_string_equal(r->feedback->type, "fraud");
	assert_string_equal(r->feedback->arrival_date,
			    "Thu, 01 Jan 2026 10:00:00 +0000");
	assert_int_equal(r->feedback->incidents, 12);
	assert_string_equal(r->feedback->reported_domain, "a.example");
	/* No recipient given anywhere: one row, recipient unknown. */
	assert_int_equal(r->rcpts->len, 1);
	assert_null(((struct report_rcpt *)r->rcpts->pdata[0])->recipient);
	report_free(r);
}

/* The recipient is never a token hint: reporters redact and hash it,
 * and a complainer could name any address. */
static void
test_hints(void **state)
{
	struct report *r = classify(
		ARF_HEAD "Feedback-Type: abuse\nOriginal-Mail-From: <env@x>\n"
			 "Original-Rcpt-To: rcpt@y\nOriginal-Envelope-Id: "
			 "ENV1\n\n--B\nContent-Type: text/rfc822-headers\n\n"
			 "Return-Path: <rp@x>\nX-Fbld-Ref: REF1\nTo: to@z\n"
			 "Message-ID: <m1@x>\n\n--B--\n");

	assert_true(r->token_hints->len >= 4);
	assert_string_equal(r->token_hints->pdata[0], "REF1");
	assert_string_equal(r->token_hints->pdata[1], "<rp@x>");
	assert_string_equal(r->token_hints->pdata[2], "env@x");
	assert_string_equal(r->token_hints->pdata[3], "ENV1");
	for (guint i = 0; i < r->token_hints->len; i++) {
		assert_null(strstr(r->token_hints->pdata[i], "rcpt@y"));
		assert_null(strstr(r->token_hints->pdata[i], "to@z"));
	}
	assert_string_equal(r->feedback->original_message_id, "m1@x");
	report_free(r);
}

static void
test_not_complaints(void **state)
{
	static const char *const msgs[] = {
		/* A DSN. */
		"From: MAILER-DAEMON@x\nTo: b@y\nMIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=delivery-status;"
		" boundary=\"D\"\n\n--D\nContent-Type: message/delivery-status"
		"\n\nReporting-MTA: dns; x\n\nFinal-Recipient: rfc822; a@b\n"
		"Action: failed\nStatus: 5.1.1\n\n--D\nContent-Type: "
		"message/rfc822\n\nFrom: a@b\nSubject: s\n\nbody\n--D--\n",
		/* A forwarded message without JMRP's header. */
		"From: someone@hotmail.com\nTo: abuse@provider.example\n"
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; "
		"boundary=\"J\"\n\n--J\nContent-Type: message/rfc822\n\n"
		"From: a@b\nSubject: fwd\n\nhello\n--J--\n",
		/* X-Apple-Unsubscribe: false. */
		"From: a@icloud.example\nTo: b@c\nX-Apple-Unsubscribe: false\n"
		"\nunsubscribe\n",
		/* An SES bounce: the DSN classifier's business. */
		"From: no-reply@sns.amazonaws.com\nTo: a@b\n\n"
		"{\"notificationType\":\"Bounce\",\"bounce\":{}}\n",
		"From: a@b\nTo: c@d\nSubject: plain\n\nHello.\n",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(msgs); i++) {
		struct report *r = classify(msgs[i]);

		if (r->kind != REPORT_NOT_FEEDBACK)
			fail_msg("message %zu classified as %s", i,
				 report_kind_name(r->kind));
		report_free(r);
	}
}

/* JSON nested deeper than ARF_JSON_DEPTH_MAX is not parsed (json-glib
 * recurses per level), and is not a complaint. */
static void
test_ses_deep_json(void **state)
{
	GString *s = g_string_new("From: a@b\nTo: c@d\n\n{\"notificationType\""
				  ":\"Complaint\",\"x\":");
	struct report *r;

	for (int i = 0; i < 200000; i++)
		g_string_append_c(s, '[');
	r = classify(s->str);
	assert_int_equal(r->kind, REPORT_NOT_FEEDBACK);
	report_free(r);
	g_string_free(s, TRUE);
}

static void
test_rcpt_cap(void **state)
{
	GString *s = g_string_new(ARF_HEAD "Feedback-Type: abuse\n");
	struct report *r;

	for (int i = 0; i < REPORT_RCPT_MAX + 50; i++)
		g_string_append_printf(s, "Original-Rcpt-To: u%d@x.example\n",
				       i);
	g_string_append(s, "\n--B--\n");
	r = classify(s->str);
	assert_int_equal(r->kind, REPORT_ARF);
	assert_true(r->rcpts->len <= REPORT_RCPT_MAX);
	assert_true(r->feedback->original_rcpt_to->len <= REPORT_RCPT_MAX);
	report_free(r);
	g_string_free(s, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_hints),
		cmocka_unit_test(test_not_complaints),
		cmocka_unit_test(test_ses_deep_json),
		cmocka_unit_test(test_rcpt_cap),
	};

	/* Held for the whole run: GMime cannot be set up again once
	 * ingest_free() has shut it down. */
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
