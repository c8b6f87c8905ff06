/* Unit tests of the pure parts of the actions: the webhook payload and its
 * signature (known answers computed independently with Python's hmac and
 * with `openssl dgst -sha256 -hmac`, the same vectors as the worked example
 * of docs/webhooks.md), retry backoff, digest periods, --until parsing,
 * number formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scoring/accounts.h"
#include "scoring/digest.h"
#include "scoring/outbox.h"
#include "scoring/render.h"
#include "scoring/webhook.h"

/* docs/webhooks.md, "A worked example". */
#define DOC_SECRET "whsec-example-6f1d0c"
#define DOC_TS 1767225600
#define DOC_BODY                                                               \
	"{\"id\":\"8a1f6f7e-2c4b-4d7e-9f1a-3b5c7d9e0f12\",\"type\":\"account." \
	"state_changed\",\"ts_ms\":1767225600000,\"account\":{\"id\":42,"      \
	"\"name\":\"shop-example\"},\"from\":\"watch\",\"to\":\"throttle\","   \
	"\"source\":\"scoring\",\"reasons\":[\"bounces: 41 unknown users of "  \
	"200 messages (20.5 %, at least 15.5 % with 95 % confidence)\"],"      \
	"\"sent\":1234,\"action\":\"paced: mail beyond the account's rate "    \
	"cap gets a temporary failure (4.7.1) and is retried later\","         \
	"\"stats\":{\"score\":9.75,\"bounce_cusum\":8.5},\"traffic\":{"        \
	"\"window_ms\":86400000,\"sent\":200,\"recipients\":212,"              \
	"\"bounces_hard\":41,\"bounces_soft\":3,\"delays\":0,\"complaints\":"  \
	"1,\"unsubscribes\":0,\"opens\":12,\"opens_machine\":30,\"clicks\":0," \
	"\"clicks_machine\":0,\"other\":0}}"
/* python3 -c 'import hmac, hashlib; print(hmac.new(SECRET,
 * b"1767225600." + BODY, hashlib.sha256).hexdigest())' */
#define DOC_SIG                                                                \
	"v1=6becc73986fcf76602e821c5ea6e84974a02f8ad8b813446b7adaf22e0175ce0"

static const char *const doc_reasons[] = {
	"bounces: 41 unknown users of 200 messages (20.5 %, at least 15.5 % "
	"with 95 % confidence)",
};

static struct scoring_transition
doc_transition(void)
{
	struct scoring_transition t = {
		.account_id = 42,
		.account = "shop-example",
		.ts_ms = 1767225600000LL,
		.from = "watch",
		.to = "throttle",
		.source = "scoring",
		.reasons = doc_reasons,
		.n_reasons = 1,
		.sent = 1234,
		.stats_json = "{\"score\":9.75,\"bounce_cusum\":8.5}",
	};

	return t;
}

static const struct store_counts doc_traffic = {
	.sent = 200,
	.recipients = 212,
	.bounce_hard = 41,
	.bounce_soft = 3,
	.complaints = 1,
	.opens = 12,
	.opens_machine = 30,
};

static void
test_payload_golden(void **state)
{
	struct scoring_transition t = doc_transition();
	char *p = webhook_payload(&t, "8a1f6f7e-2c4b-4d7e-9f1a-3b5c7d9e0f12",
				  &doc_traffic, 86400000);

	assert_string_equal(p, DOC_BODY);
	g_free(p);
}

static void
test_signature_known_answers(void **state)
{
	char *sig = webhook_signature(DOC_SECRET, DOC_TS, DOC_BODY,
				      strlen(DOC_BODY));

	assert_string_equal(sig, DOC_SIG);
	g_free(sig);
	/* hmac.new(b"k", b"1.{}", hashlib.sha256) */
	sig = webhook_signature("k", 1, "{}", 2);
	assert_string_equal(sig, "v1=3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4"
				 "003fe9b4ba81332029310158");
	g_free(sig);
	/* UTF-8 secret and body: the bytes are signed as they are. */
	sig = webhook_signature("clé-ü", 1767225600, "{\"name\":\"café\"}",
				strlen("{\"name\":\"café\"}"));
	assert_string_equal(sig, "v1=e6d0482bb2f3a0d93f8d0421744e224c39955514"
				 "1a265d32adcb4a6b538c357c");
	g_free(sig);
	/* Any change of timestamp or body changes the signature. */
	sig = webhook_signature(DOC_SECRET, DOC_TS + 1, DOC_BODY,
				strlen(DOC_BODY));
	assert_string_not_equal(sig, DOC_SIG);
	g_free(sig);
}

static void
test_payload_edges(void **state)
{
	struct scoring_transition t = doc_transition();
	struct store_counts zero = { 0 };
	JsonNode *n;
	JsonObject *o;
	char *p;

	/* Operator changes: no sent count, no statistics; statistics that
	 * are not a JSON object are dropped rather than sent broken. */
	t.sent = -1;
	t.stats_json = "not json {";
	t.n_reasons = 0;
	t.source = "operator";
	p = webhook_payload(&t, "id-1", &zero, 3600000);
	n = json_from_string(p, NULL);
	assert_non_null(n);
	o = json_node_get_object(n);
	assert_true(json_node_is_null(json_object_get_member(o, "sent")));
	assert_true(json_node_is_null(json_object_get_member(o, "stats")));
	assert_int_equal(json_array_get_length(
				 json_object_get_array_member(o, "reasons")),
			 0);
	assert_string_equal(json_object_get_string_member(o, "id"), "id-1");
	assert_int_equal(json_object_get_int_member(
				 json_object_get_object_member(o, "traffic"),
				 "window_ms"),
			 3600000);
	json_node_unref(n);
	g_free(p);
	/* Names with quotes and control characters stay valid JSON. */
	t.account = "a\"b\\c\n";
	p = webhook_payload(&t, "id-2", &zero, 1);
	n = json_from_string(p, NULL);
	assert_non_null(n);
	assert_string_equal(json_object_get_string_member(
				    json_object_get_object_member(
					    json_node_get_object(n), "account"),
				    "name"),
			    "a\"b\\c\n");
	json_node_unref(n);
	g_free(p);
}

static void
test_backoff(void **state)
{
	struct actions_retry r = { .base_ms = 1000,
				   .max_ms = 8000,
				   .max_attempts = 10 };
	/* jitter 0: half the delay; close to 1: all of it. */
	static const int64_t low[] = { 500, 1000, 2000, 4000, 4000, 4000 };
	static const int64_t high[] = { 999, 1999, 3999, 7999, 7999, 7999 };

	for (int i = 0; i < 6; i++) {
		assert_int_equal(outbox_backoff_ms(&r, i + 1, 0.0), low[i]);
		assert_int_equal(outbox_backoff_ms(&r, i + 1, 0.99999),
				 high[i]);
	}
	/* No overflow however many attempts. */
	assert_int_equal(outbox_backoff_ms(&r, 1000000, 0.0), 4000);
}

static void
test_digest_period(void **state)
{
	const int64_t day = 86400000;

	assert_int_equal(digest_period_start(day + 5, day, 0), day);
	assert_int_equal(digest_period_start(day, day, 0), day);
	assert_int_equal(digest_period_start(day - 1, day, 0), 0);
	/* Offset 8 h: digests at 08:00 UTC. */
	assert_int_equal(
		digest_period_start(day + 7 * 3600000, day, 8 * 3600000),
		8 * 3600000);
	assert_int_equal(
		digest_period_start(day + 9 * 3600000, day, 8 * 3600000),
		day + 8 * 3600000);
	assert_int_equal(digest_period_start(-1, 1000, 0), -1000);
}

static void
test_parse_until(void **state)
{
	const int64_t now = 1767225600000LL;
	int64_t v = -1;
	GError *e = NULL;

	assert_int_equal(accounts_parse_until(NULL, now, &v, NULL), 0);
	assert_int_equal(v, 0);
	assert_int_equal(accounts_parse_until("never", now, &v, NULL), 0);
	assert_int_equal(v, 0);
	assert_int_equal(accounts_parse_until("24h", now, &v, NULL), 0);
	assert_int_equal(v, now + 86400000);
	assert_int_equal(accounts_parse_until("90", now, &v, NULL), 0);
	assert_int_equal(v, now + 90000);
	assert_int_equal(accounts_parse_until("2w", now, &v, NULL), 0);
	assert_int_equal(v, now + 14 * 86400000LL);
	assert_int_equal(
		accounts_parse_until("2026-01-02T00:00:00Z", now, &v, NULL), 0);
	assert_int_equal(v, now + 86400000);
	assert_int_equal(accounts_parse_until("2026-01-01T02:00:00+01:00", now,
					      &v, NULL),
			 0);
	assert_int_equal(v, now + 3600000);
	assert_int_equal(accounts_parse_until("2026-01-03", now, &v, NULL), 0);
	assert_int_equal(v, now + 2 * 86400000);
	/* In the past, no zone, garbage, negative, overflow. */
	assert_int_equal(accounts_parse_until("2025-12-31", now, &v, &e), -1);
	assert_non_null(strstr(e->message, "in the past"));
	g_clear_error(&e);
	assert_int_equal(
		accounts_parse_until("2026-01-02T00:00:00", now, &v, NULL), -1);
	assert_int_equal(accounts_parse_until("soon", now, &v, NULL), -1);
	assert_int_equal(accounts_parse_until("-5h", now, &v, NULL), -1);
	assert_int_equal(
		accounts_parse_until("99999999999999999d", now, &v, NULL), -1);
	assert_int_equal(accounts_parse_since("24h", now, &v, NULL), 0);
	assert_int_equal(v, now - 86400000);
	assert_int_equal(accounts_parse_since("2025-12-31", now, &v, NULL), 0);
	assert_int_equal(v, now - 86400000);
	assert_int_equal(accounts_parse_since("2026-01-02", now, &v, NULL), -1);
}

static void
test_render_numbers(void **state)
{
	GString *s = g_string_new(NULL);

	render_int(s, 0);
	g_string_append_c(s, ' ');
	render_int(s, 999);
	g_string_append_c(s, ' ');
	render_int(s, 1000);
	g_string_append_c(s, ' ');
	render_int(s, 1234567);
	g_string_append_c(s, ' ');
	render_int(s, -45000);
	g_string_append_c(s, ' ');
	render_rate(s, 41, 200);
	g_string_append_c(s, ' ');
	render_rate(s, 3, 1000);
	g_string_append_c(s, ' ');
	render_rate(s, 1, 0);
	g_string_append_c(s, ' ');
	render_time(s, 1767225600000LL + 9 * 3600000 + 14 * 60000);
	assert_string_equal(s->str, "0 999 1,000 1,234,567 -45,000 20.5 % "
				    "0.30 % - 2026-01-01 09:14 UTC");
	g_string_free(s, TRUE);
}

static void
test_render_table(void **state)
{
	struct render_table *t = render_table_new("lr", "NAME", "SENT", NULL);
	GString *s = g_string_new(NULL);

	render_table_row(t);
	render_table_cell(t, "café");
	render_table_int(t, 1234);
	render_table_row(t);
	render_table_cell(t, "a-much-longer-name");
	render_table_cell(t, NULL);
	render_table_finish(t, s, "  ");
	/* Aligned by characters, not bytes; no trailing blanks. */
	assert_string_equal(s->str, "  NAME                 SENT\n"
				    "  café                1,234\n"
				    "  a-much-longer-name      -\n");
	g_string_free(s, TRUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_golden),
		cmocka_unit_test(test_signature_known_answers),
		cmocka_unit_test(test_payload_edges),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_digest_period),
		cmocka_unit_test(test_parse_until),
		cmocka_unit_test(test_render_numbers),
		cmocka_unit_test(test_render_table),
	};

	return cmocka_run_group_tests_name("webhook", tests, NULL, NULL);
}
