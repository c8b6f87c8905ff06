/* Unit tests of the digest renderer: the text a person reads, the
 * message's headers and encoding (read back with GMime's parser), UTF-8
 * names, and documents with members missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <gmime/gmime.h>

#include "scoring/digest.h"

static const char doc_text[] =
	"{\"kind\": \"digest\", \"host\": \"mx1\", \"start_ms\": "
	"1767225600000, \"end_ms\": 1767312000000, \"more_accounts\": 3,"
	" \"accounts\": [{\"id\": 7, \"name\": \"café-shop\", \"state\": "
	"\"block\", \"action\": \"stopped: rejected (5.7.1)\", \"override\": "
	"{\"state\": \"block\", \"reason\": \"phishing kit\", \"until_ms\": "
	"1767398400000}, \"traffic\": {\"window_ms\": 86400000, \"sent\": "
	"1870, \"recipients\": 1902, \"bounces_hard\": 412, \"complaints\": "
	"3, \"opens\": 2, \"opens_machine\": 311}, \"transitions\": "
	"[{\"ts_ms\":"
	" 1767258000000, \"from\": \"ok\", \"to\": \"throttle\", \"source\": "
	"\"scoring\", \"sent\": 1870, \"reasons\": [\"bounces: 412 of 1,870 "
	"(22.0 %)\", \"volume: 1,870 in an hour vs a peak of 12\"]}, "
	"{\"ts_ms\": 1767261600000, \"from\": \"throttle\", \"to\": \"block\","
	" \"source\": \"operator\", \"sent\": null, \"reasons\": [\"phishing "
	"kit\"]}], \"deliveries\": [{\"channel\": \"webhook:desk\", "
	"\"status\": \"done\"}, {\"channel\": \"webhook:noc\", \"status\": "
	"\"dead\", \"last_error\": \"HTTP 500\"}]}],"
	" \"outbox\": [{\"channel\": \"webhook:desk\", \"pending\": 0, "
	"\"done\": 12, \"dead\": 0}, {\"channel\": \"digest\", \"pending\": 9,"
	" \"done\": 0, \"dead\": 0}]}";

static JsonObject *
doc(JsonNode **root, const char *text)
{
	*root = json_from_string(text, NULL);
	assert_non_null(*root);
	return json_node_get_object(*root);
}

static void
test_body(void **state)
{
	JsonNode *root;
	char *body = digest_body(doc(&root, doc_text));

	assert_non_null(strstr(body, "fbld on mx1: digest of account state "
				     "changes\nPeriod: 2026-01-01 00:00 UTC to "
				     "2026-01-02 00:00 UTC\n"));
	assert_non_null(strstr(body, "4 accounts changed state: 1 now block"));
	assert_non_null(strstr(body, "== café-shop (id 7): now BLOCK =="));
	assert_non_null(strstr(body,
			       "  2026-01-01 09:00 UTC  ok -> throttle  "
			       "(scoring, after 1,870 messages)\n"
			       "      - bounces: 412 of 1,870 (22.0 %)\n"
			       "      - volume: 1,870 in an hour vs a peak "
			       "of 12\n"));
	assert_non_null(strstr(body, "throttle -> block  (operator)\n"));
	assert_non_null(strstr(body, "Traffic in the last 24 hours\n"));
	assert_non_null(strstr(body, "  hard bounces          412  22.0 % of "
				     "the messages sent\n"));
	assert_non_null(strstr(body, "  complaints              3  0.16 % of "
				     "the messages sent\n"));
	assert_non_null(strstr(body, "Enforcement: stopped: rejected (5.7.1)"));
	assert_non_null(strstr(body, "Override:    pinned by an operator until "
				     "2026-01-03 00:00 UTC: phishing kit"));
	assert_non_null(strstr(body, "Webhooks:    desk delivered; noc given "
				     "up (HTTP 500)"));
	assert_non_null(strstr(body, "... and 3 more accounts"));
	/* Digest items are not a delivery channel of their own. */
	assert_non_null(strstr(body, "webhook:desk         12"));
	assert_null(strstr(body, "  digest "));
	g_free(body);
	json_node_unref(root);
}

static void
test_message(void **state)
{
	JsonNode *root;
	const char *to[] = { "abuse@example.org", "noc@example.org", NULL };
	struct digest_envelope env = {
		.from = "fbld@mx1.example.org",
		.to = to,
		.message_id = "fbld.digest.1@mx1",
		.date_ms = 1767312000000LL,
	};
	char *msg = digest_message(doc(&root, doc_text), &env);
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	GMimeObject *part;
	char *text;

	/* SMTP wants CRLF everywhere, and no bare LF. */
	for (const char *c = msg; *c; c++)
		if (*c == '\n')
			assert_true(c > msg && c[-1] == '\r');
	assert_non_null(strstr(msg, "Auto-Submitted: auto-generated\r\n"));
	assert_non_null(m);
	assert_string_equal(g_mime_message_get_subject(m),
			    "[fbld mx1] digest: 4 accounts changed state (1 "
			    "now block)");
	assert_string_equal(g_mime_message_get_message_id(m),
			    "fbld.digest.1@mx1");
	assert_int_equal(internet_address_list_length(g_mime_message_get_to(m)),
			 2);
	part = g_mime_message_get_mime_part(m);
	assert_true(GMIME_IS_TEXT_PART(part));
	assert_string_equal(g_mime_text_part_get_charset(GMIME_TEXT_PART(part)),
			    "utf-8");
	assert_int_equal(g_mime_part_get_content_encoding(GMIME_PART(part)),
			 GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	assert_non_null(strstr(text, "== café-shop (id 7): now BLOCK =="));
	g_free(text);
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(s);
	g_free(msg);
	json_node_unref(root);
}

static void
test_alert_and_utf8_subject(void **state)
{
	JsonNode *root;
	JsonObject *o = doc(&root, doc_text);
	char *subject, *body;

	json_object_set_string_member(o, "kind", "alert");
	json_object_remove_member(o, "more_accounts");
	subject = digest_subject(o);
	assert_string_equal(subject, "[fbld mx1] café-shop is now block");
	{
		const char *to[] = { "a@example.org", NULL };
		struct digest_envelope env = { "f@example.org", to, "m@x", 0 };
		char *msg = digest_message(o, &env);
		GMimeStream *s =
			g_mime_stream_mem_new_with_buffer(msg, strlen(msg));
		GMimeParser *p = g_mime_parser_new_with_stream(s);
		GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
		char *raw = g_strndup(msg, strstr(msg, "\r\n\r\n") - msg);

		/* The raw header is ASCII (RFC 2047); it decodes back. */
		for (const char *c = raw; *c; c++)
			assert_true((unsigned char)*c < 0x80);
		assert_non_null(strstr(raw, "Subject: [fbld mx1] =?"));
		assert_string_equal(g_mime_message_get_subject(m), subject);
		g_free(raw);
		g_object_unref(m);
		g_object_unref(p);
		g_object_unref(s);
		g_free(msg);
	}
	body = digest_body(o);
	assert_non_null(strstr(body, "an account changed state"));
	assert_non_null(strstr(body, "Traffic in the 24 hours before the "
				     "change\n"));
	assert_null(strstr(body, "accounts changed state:"));
	g_free(subject);
	g_free(body);
	json_node_unref(root);
}

static void
test_sparse_documents(void **state)
{
	static const char *const texts[] = {
		"{}",
		"{\"accounts\": [{}]}",
		"{\"accounts\": [{\"transitions\": [{\"reasons\": [1, null]}],"
		" \"traffic\": null, \"deliveries\": [{}]}], \"outbox\": [{}]}",
		"{\"kind\": \"alert\", \"accounts\": 5, \"host\": 7}",
	};
	const char *to[] = { NULL };
	struct digest_envelope env = {
		.from = "f@x",
		.to = to,
		.message_id = "m@x",
		.date_ms = 0,
	};

	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		JsonNode *root;
		JsonObject *o = doc(&root, texts[i]);
		char *msg = digest_message(o, &env);

		assert_non_null(strstr(msg, "fbld accounts show NAME"));
		g_free(msg);
		json_node_unref(root);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_alert_and_utf8_subject),
		cmocka_unit_test(test_sparse_documents),
	};

	g_mime_init();
	return cmocka_run_group_tests_name("digest", tests, NULL, NULL);
}
