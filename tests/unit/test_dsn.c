/* Unit tests of dsn/: the string tools (codes, addresses), the reason
 * taxonomy, and whole messages through the ingest router with the DSN and
 * auto-reply classifiers registered (real GMime, no token resolver). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/ingest.h"
#include "dsn/dsn.h"
#include "dsn/dsn_int.h"

/* One router for the whole run: GMime is set up once per process. */
static struct ingest *router;

static int
setup(void **state)
{
	router = ingest_new();
	ingest_add_classifier(router, "dsn", dsn_classify, NULL);
	ingest_add_classifier(router, "autoreply", dsn_autoreply_classify,
			      NULL);
	return 0;
}

static int
teardown(void **state)
{
	ingest_free(router);
	return 0;
}

static struct report *
classify(const char *raw)
{
	return ingest_classify(router, raw, strlen(raw));
}

static const struct report_rcpt *
rcpt(const struct report *r, guint i)
{
	assert_true(i < r->rcpts->len);
	return r->rcpts->pdata[i];
}

/* A minimal RFC 3464 report around per-recipient blocks. */
static char *
dsn_message(const char *text, const char *blocks)
{
	return g_strdup_printf(
		"From: MAILER-DAEMON@relay.example.com\r\n"
		"To: sender@example.com\r\n"
		"Subject: Delivery Status Notification\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/report; "
		"report-type=delivery-status; boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\n%s\r\n"
		"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
		"Reporting-MTA: dns; relay.example.com\r\n\r\n%s\r\n"
		"--b--\r\n",
		text, blocks);
}

static void
test_status_find(void **state)
{
	char c[12];

	assert_true(dsn_status_find("550 5.1.1 user unknown", 22, 0, c));
	assert_string_equal(c, "5.1.1");
	assert_true(dsn_status_find("no mailbox (#5.7.1)", 19, 0, c));
	assert_string_equal(c, "5.7.1");
	/* The specific code wins over a generic one, in any order. */
	assert_true(dsn_status_find("554 5.0.0 ... 550 5.2.2 full", 28, 0, c));
	assert_string_equal(c, "5.2.2");
	assert_true(dsn_status_find("550 5.7.606 Access denied", 25, 0, c));
	assert_string_equal(c, "5.7.606");
	/* Addresses, versions and IP addresses are no codes. */
	assert_false(dsn_status_find("host 192.0.2.5 said", 19, 0, c));
	assert_false(dsn_status_find("Exim v4.2.1 here", 16, 0, c));
	assert_false(dsn_status_find("10.4.4.2", 8, 0, c));
	assert_false(dsn_status_find("", 0, 0, c));
	assert_true(dsn_reply_find("host said: 552 too big", 22, c));
	assert_string_equal(c, "552");
	assert_false(dsn_reply_find("port 25000 at 12:550", 20, c));
}

static void
test_status_prefer(void **state)
{
	assert_string_equal(dsn_status_prefer("5.0.0", "5.1.1", "550"),
			    "5.1.1");
	assert_string_equal(dsn_status_prefer("5.1.1", "5.1.1", ""), "5.1.1");
	assert_string_equal(dsn_status_prefer("4.4.7", "5.1.1", "550"),
			    "5.1.1");
	assert_string_equal(dsn_status_prefer("5.2.2", "5.0.0", ""), "5.2.2");
	assert_string_equal(dsn_status_prefer(NULL, "5.1.1", ""), "5.1.1");
	assert_string_equal(dsn_status_prefer("5.1.1", "", ""), "5.1.1");
}

static void
test_addr_find(void **state)
{
	const char *s = "to <mailto:Kim@Example.ORG> now";
	size_t end = 0;
	char *a = dsn_addr_find(s, strlen(s), &end);

	assert_string_equal(a, "Kim@example.org");
	assert_int_equal(end, strlen("to <mailto:Kim@Example.ORG>"));
	g_free(a);
	a = dsn_addr_find("  lee@example.net.", 18, NULL);
	assert_string_equal(a, "lee@example.net");
	g_free(a);
	assert_null(dsn_addr_find("root@localhost said", 19, NULL));
	assert_null(dsn_addr_find("@@ @x.y a@", 10, NULL));
	assert_true(dsn_addr_valid("a.b+c@d-e.example"));
	assert_false(dsn_addr_valid("a..b@example.com@"));
}

static void
test_reason_class(void **state)
{
	assert_string_equal(dsn_reason_class("userunknown", "5.1.1"), "hard");
	assert_string_equal(dsn_reason_class("hostunknown", NULL), "hard");
	assert_string_equal(dsn_reason_class("hasmoved", "5.1.6"), "hard");
	assert_string_equal(dsn_reason_class("notaccept", "5.1.10"), "hard");
	assert_string_equal(dsn_reason_class("notaccept", "4.3.2"), "soft");
	assert_string_equal(dsn_reason_class("mailboxfull", "5.2.2"), "soft");
	assert_string_equal(dsn_reason_class("blocked", "5.7.1"), "soft");
	assert_string_equal(dsn_reason_class("vacation", NULL), "none");
	assert_string_equal(dsn_reason_class("feedback", NULL), "none");
	assert_string_equal(dsn_reason_class("delivered", "2.1.5"), "none");
	assert_true(dsn_reason_known("spamdetected"));
	assert_false(dsn_reason_known("no-such-reason"));
}

/* Several recipients, each with its own action; xtext in
 * Original-Recipient; only failures are failures. */
static void
test_rfc3464_multi(void **state)
{
	char *m = dsn_message(
		"Your message could not be delivered.",
		"Original-Recipient: rfc822;ann+2Bshop@example.org\r\n"
		"Final-Recipient: rfc822; ann@EXAMPLE.ORG\r\n"
		"Action: failed\r\nStatus: 5.1.1\r\n"
		"Remote-MTA: dns; mx.example.org\r\n"
		"Diagnostic-Code: smtp; 550 5.1.1 <ann@example.org>: "
		"Recipient address\r\n rejected: User unknown\r\n\r\n"
		"Final-Recipient: rfc822; ben@example.org\r\n"
		"Action: delayed\r\nStatus: 4.4.1\r\n"
		"Diagnostic-Code: smtp; 421 4.4.1 Connection timed out\r\n"
		"\r\n"
		"Final-Recipient: rfc822; cy@example.org\r\n"
		"Action: relayed\r\nStatus: 2.0.0\r\n");
	struct report *r = classify(m);

	assert_int_equal(r->kind, REPORT_DSN);
	assert_int_equal(r->rcpts->len, 3);
	assert_string_equal(rcpt(r, 0)->recipient, "ann@example.org");
	assert_string_equal(rcpt(r, 0)->original_recipient,
			    "ann+shop@example.org");
	assert_string_equal(rcpt(r, 0)->status, "5.1.1");
	assert_string_equal(rcpt(r, 0)->reason, "userunknown");
	assert_string_equal(rcpt(r, 0)->klass, "hard");
	assert_string_equal(rcpt(r, 0)->remote_mta, "mx.example.org");
	assert_non_null(strstr(rcpt(r, 0)->diagnostic, "User unknown"));
	assert_string_equal(rcpt(r, 1)->action, "delayed");
	assert_string_equal(rcpt(r, 1)->klass, "soft");
	assert_string_equal(rcpt(r, 2)->action, "relayed");
	assert_string_equal(rcpt(r, 2)->reason, "delivered");
	assert_string_equal(rcpt(r, 2)->klass, "none");
	report_free(r);
	g_free(m);
}

static const char *
reason_of(const char *status, const char *diag)
{
	static char out[32];
	char *blocks = g_strdup_printf(
		"Final-Recipient: rfc822; x@example.org\r\nAction: failed\r\n"
		"Status: %s\r\nDiagnostic-Code: smtp; %s\r\n",
		status, diag);
	char *m = dsn_message("Delivery failed.", blocks);
	struct report *r = classify(m);

	assert_int_equal(r->rcpts->len, 1);
	g_strlcpy(out, rcpt(r, 0)->reason, sizeof(out));
	report_free(r);
	g_free(m);
	g_free(blocks);
	return out;
}

/* One status code, several reasons: the words tell them apart. */
static void
test_ambiguous_codes(void **state)
{
	assert_string_equal(
		reason_of("5.7.1", "550 5.7.1 Message rejected as spam"),
		"spamdetected");
	assert_string_equal(reason_of("5.7.1",
				      "550 5.7.1 Unauthenticated email is not "
				      "accepted due to domain's DMARC policy"),
			    "authfailure");
	assert_string_equal(reason_of("5.7.1", "550 5.7.1 Relay access denied"),
			    "norelaying");
	assert_string_equal(reason_of("5.7.1",
				      "554 5.7.1 Client host rejected: cannot "
				      "find your hostname"),
			    "requireptr");
	assert_string_equal(reason_of("5.7.1", "550 5.7.1 Denied by policy"),
			    "policyviolation");
	/* A 5.1.1 that is a rate limit, not a missing mailbox. */
	assert_string_equal(
		reason_of("5.1.1", "550 5.1.1 too many recipients, try later"),
		"toomanyconn");
	assert_string_equal(
		reason_of("5.1.1", "550 5.1.1 <x@example.org> User unknown"),
		"userunknown");
	assert_string_equal(reason_of("5.2.2", "552 5.2.2 Mailbox full"),
			    "mailboxfull");
	assert_string_equal(reason_of("4.4.7", "Delivery time expired"),
			    "expired");
}

static void
test_plain_text(void **state)
{
	const char *m =
		"From: Mail Delivery System <Mailer-Daemon@mx.example.org>\n"
		"To: sender@example.com\n"
		"Subject: Mail delivery failed: returning message to sender\n"
		"X-Failed-Recipients: a@example.org, b@example.org\n\n"
		"This message was created automatically by mail delivery "
		"software.\n\n"
		"A message that you sent could not be delivered to one or "
		"more of its\nrecipients. This is a permanent error. The "
		"following address(es) failed:\n\n"
		"  a@example.org\n"
		"    SMTP error from remote mail server after RCPT "
		"TO:<a@example.org>:\n"
		"    host mx.example.org [192.0.2.1]: 550 5.1.1 No such user\n"
		"  b@example.org\n"
		"    mailbox is full: retry timeout exceeded\n\n"
		"------ This is a copy of the message, including all the "
		"headers. ------\n\nFrom: sender@example.com\nTo: "
		"a@example.org\n\nhi\n";
	struct report *r = classify(m);

	assert_int_equal(r->kind, REPORT_DSN);
	assert_int_equal(r->rcpts->len, 2);
	assert_string_equal(rcpt(r, 0)->recipient, "a@example.org");
	assert_string_equal(rcpt(r, 0)->reason, "userunknown");
	assert_string_equal(rcpt(r, 0)->status, "5.1.1");
	assert_string_equal(rcpt(r, 0)->remote_mta, "mx.example.org");
	assert_string_equal(rcpt(r, 1)->recipient, "b@example.org");
	assert_string_equal(rcpt(r, 1)->reason, "mailboxfull");
	report_free(r);
}

static void
test_autoreply(void **state)
{
	struct report *r = classify(
		"From: Hana <Hana@Example.org>\nTo: shop@example.com\n"
		"Subject: Out of Office: your order\n"
		"Auto-Submitted: auto-replied\n\nI am away until Monday.\n");
	char *bounce;

	assert_int_equal(r->kind, REPORT_AUTOREPLY);
	assert_int_equal(r->rcpts->len, 1);
	assert_string_equal(rcpt(r, 0)->recipient, "hana@example.org");
	assert_string_equal(rcpt(r, 0)->reason, "vacation");
	assert_string_equal(rcpt(r, 0)->klass, "none");
	report_free(r);
	/* A bounce that says Auto-Submitted: auto-replied is a bounce. */
	bounce = dsn_message("Delivery failed.",
			     "Final-Recipient: rfc822; x@example.org\r\n"
			     "Action: failed\r\nStatus: 5.1.1\r\n");
	r = classify(bounce);
	assert_int_equal(r->kind, REPORT_DSN);
	report_free(r);
	g_free(bounce);
	/* Ordinary mail is neither. */
	r = classify("From: a@example.org\nTo: b@example.com\nSubject: hi\n\n"
		     "Out of office? I am not.\n");
	assert_int_equal(r->kind, REPORT_NOT_FEEDBACK);
	report_free(r);
}

/* ARF and DMARC reports are fbl/'s: the DSN classifier leaves them. */
static void
test_not_ours(void **state)
{
	struct report *r = classify(
		"From: fbl@isp.example\nTo: fbl@example.com\n"
		"Subject: complaint\nMIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=feedback-report; "
		"boundary=\"f\"\n\n--f\nContent-Type: text/plain\n\nabuse\n"
		"--f\nContent-Type: message/feedback-report\n\n"
		"Feedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\n\n"
		"--f\nContent-Type: message/rfc822\n\nFrom: a@example.com\n\n"
		"x\n--f--\n");

	assert_int_equal(r->kind, REPORT_NOT_FEEDBACK);
	report_free(r);
	r = classify(
		"From: noreply-dmarc@google.com\nTo: d@example.com\n"
		"Subject: Report domain: example.com Submitter: google.com\n"
		"MIME-Version: 1.0\nContent-Type: application/zip\n"
		"Content-Transfer-Encoding: base64\n\nUEsDBA==\n");
	assert_int_equal(r->kind, REPORT_NOT_FEEDBACK);
	report_free(r);
}

/* Hostile sizes: recipients are capped, a big attachment is never
 * decoded, garbage is not-feedback. */
static void
test_limits(void **state)
{
	GString *blocks = g_string_new(NULL);
	GString *big = g_string_new(NULL);
	struct report *r;
	char *m;

	for (int i = 0; i < REPORT_RCPT_MAX + 50; i++)
		g_string_append_printf(
			blocks,
			"Final-Recipient: rfc822; u%d@example.org\r\n"
			"Action: failed\r\nStatus: 5.1.1\r\n\r\n",
			i);
	m = dsn_message("Many.", blocks->str);
	r = classify(m);
	assert_int_equal(r->rcpts->len, REPORT_RCPT_MAX);
	report_free(r);
	g_free(m);
	g_string_append(big,
			"From: MAILER-DAEMON@relay.example.com\n"
			"Subject: Undelivered Mail Returned to Sender\n"
			"MIME-Version: 1.0\nContent-Type: multipart/report; "
			"report-type=delivery-status; boundary=\"z\"\n\n"
			"--z\nContent-Type: message/delivery-status\n\n"
			"Final-Recipient: rfc822; k@example.org\n"
			"Action: failed\nStatus: 5.2.2\n\n--z\n"
			"Content-Type: application/octet-stream\n"
			"Content-Transfer-Encoding: base64\n\n");
	while (big->len < 15 * 1024 * 1024)
		g_string_append(big, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo"
				     "wMTIzNDU2Nzg5YWJjZGVmZ2hpamtsbW5vcHFy\n");
	g_string_append(big, "--z--\n");
	r = classify(big->str);
	assert_int_equal(r->kind, REPORT_DSN);
	assert_string_equal(rcpt(r, 0)->reason, "mailboxfull");
	report_free(r);
	r = classify("\x01\x02\xff\xfe\n\n\x00garbage");
	assert_int_equal(r->kind, REPORT_NOT_FEEDBACK);
	report_free(r);
	g_string_free(blocks, TRUE);
	g_string_free(big, TRUE);
}

/* A message parsed from a stream over raw: memory, or a temporary file
 * (whose parts are then file substreams, not memory). */
static GMimeMessage *
parse_from(const char *raw, int from_file)
{
	GMimeStream *st;
	GMimeParser *p;
	GMimeMessage *msg;

	if (from_file) {
		char *path = NULL;
		int fd = g_file_open_tmp("fbld-test-dsn-XXXXXX", &path, NULL);

		assert_true(fd >= 0);
		assert_true(write(fd, raw, strlen(raw)) ==
			    (ssize_t)strlen(raw));
		assert_true(lseek(fd, 0, SEEK_SET) == 0);
		unlink(path);
		g_free(path);
		st = g_mime_stream_fs_new(fd);
	} else {
		st = g_mime_stream_mem_new_with_buffer(raw, strlen(raw));
	}
	p = g_mime_parser_new_with_stream(st);
	msg = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	assert_non_null(msg);
	return msg;
}

/* Text parts in memory are decoded in place, others through GMime's
 * streams: both give the same text, up to the same bound. */
static void
test_part_paths(void **state)
{
	GString *raw = g_string_new(NULL), *big = g_string_new(NULL);
	struct dsn_msg *m[2];
	GMimeMessage *msg[2];
	char *b64;

	while (big->len < 300 * 1024)
		g_string_append(big, "Mailbox is full. ");
	b64 = g_base64_encode((const guchar *)big->str, big->len);
	g_string_append(raw,
			"From: MAILER-DAEMON@relay.example.com\n"
			"Subject: Undelivered Mail\nMIME-Version: 1.0\n"
			"Content-Type: multipart/report; "
			"report-type=delivery-status; boundary=\"b\"\n\n"
			"--b\nContent-Type: text/plain; charset=iso-8859-1\n"
			"Content-Transfer-Encoding: quoted-printable\n\n"
			"Empf=E4nger unbekannt: <k@example.org> (in reply to=\n"
			" RCPT TO command)\n"
			"--b\nContent-Type: message/delivery-status\n"
			"Content-Transfer-Encoding: base64\n\n"
			"RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IGtAZXhhbXBsZS5vcmcK"
			"QWN0aW9uOiBmYWlsZWQKU3RhdHVzOiA1LjEuMQo=\n"
			"--b\nContent-Type: text/plain\n"
			"Content-Transfer-Encoding: base64\n\n");
	for (size_t i = 0, n = strlen(b64); i < n; i += 76)
		g_string_append_printf(raw, "%.76s\n", b64 + i);
	g_string_append(raw, "--b--\n");
	for (int k = 0; k < 2; k++) {
		msg[k] = parse_from(raw->str, k);
		m[k] = dsn_msg_new(msg[k]);
	}
	assert_non_null(strstr(m[0]->text, "Empf\xc3\xa4nger unbekannt"));
	assert_non_null(strstr(m[0]->status->str, "Status: 5.1.1"));
	assert_non_null(strstr(m[0]->text, "Mailbox is full. Mailbox"));
	/* The bound holds per part, before the line ends between parts. */
	assert_true(m[0]->text_len <= DSN_TEXT_MAX + 16);
	assert_true(m[0]->text_len > DSN_TEXT_MAX - 1024);
	assert_int_equal(m[0]->text_len, m[1]->text_len);
	assert_string_equal(m[0]->text, m[1]->text);
	assert_string_equal(m[0]->status->str, m[1]->status->str);
	for (int k = 0; k < 2; k++) {
		dsn_msg_free(m[k]);
		g_object_unref(msg[k]);
	}
	g_free(b64);
	g_string_free(raw, TRUE);
	g_string_free(big, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_find),
		cmocka_unit_test(test_status_prefer),
		cmocka_unit_test(test_addr_find),
		cmocka_unit_test(test_reason_class),
		cmocka_unit_test(test_rfc3464_multi),
		cmocka_unit_test(test_ambiguous_codes),
		cmocka_unit_test(test_plain_text),
		cmocka_unit_test(test_autoreply),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_part_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
