/* Unit tests of verp/policy: what each state does on each path, the rate
 * limit, account options, and the policy delegation protocol (framing,
 * limits, replies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verp/policy.h"

static const struct policy_config pc = {
	.rate_limit = 100,
	.rate_window_ms = 3600000,
	.local_throttle = POLICY_DEFER,
	.local_block = POLICY_HOLD,
};

static enum policy_verdict
decide(const struct policy_config *c, enum policy_path path, const char *state,
       int64_t used, int64_t limit, struct policy_decision *d)
{
	policy_decide(c, path, state, used, limit, d);
	return d->verdict;
}

static void
test_states(void **state)
{
	struct policy_decision d;
	struct policy_config reject_local = pc;

	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "ok", 1, 0, &d),
			 POLICY_PASS);
	assert_null(d.why);
	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "watch", 1, 0, &d),
			 POLICY_PASS);
	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "throttle", 1, 0, &d),
			 POLICY_DEFER);
	assert_string_equal(d.code, "451");
	assert_string_equal(d.xcode, "4.7.1");
	assert_string_equal(d.why, "state");
	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "block", 1, 0, &d),
			 POLICY_REJECT);
	assert_string_equal(d.code, "550");
	assert_string_equal(d.xcode, "5.7.1");
	/* Local submissions: a block is held, never bounced by default. */
	assert_int_equal(decide(&pc, POLICY_PATH_LOCAL, "block", 1, 0, &d),
			 POLICY_HOLD);
	assert_int_equal(decide(&pc, POLICY_PATH_LOCAL, "throttle", 1, 0, &d),
			 POLICY_DEFER);
	reject_local.local_block = POLICY_REJECT;
	reject_local.local_throttle = POLICY_PASS;
	assert_int_equal(
		decide(&reject_local, POLICY_PATH_LOCAL, "block", 1, 0, &d),
		POLICY_REJECT);
	assert_int_equal(
		decide(&reject_local, POLICY_PATH_LOCAL, "throttle", 1, 0, &d),
		POLICY_PASS);
	/* Unknown states are not enforced. */
	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "weird", 1, 0, &d),
			 POLICY_PASS);
	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, NULL, 1, 0, &d),
			 POLICY_PASS);
}

static void
test_rate(void **state)
{
	struct policy_decision d;

	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "ok", 100, 100, &d),
			 POLICY_PASS);
	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "ok", 101, 100, &d),
			 POLICY_DEFER);
	assert_string_equal(d.why, "rate");
	assert_non_null(strstr(d.text, "100 per 60 min"));
	/* 0: no limit. */
	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "ok", 1000000, 0, &d),
			 POLICY_PASS);
	/* The state wins over the rate. */
	assert_int_equal(decide(&pc, POLICY_PATH_SMTP, "block", 101, 100, &d),
			 POLICY_REJECT);
	assert_int_equal(decide(&pc, POLICY_PATH_LOCAL, "ok", 101, 100, &d),
			 POLICY_DEFER);
}

static void
test_options(void **state)
{
	struct policy_options o;
	GError *e = NULL;

	assert_int_equal(policy_options_parse(NULL, &o, NULL), 0);
	assert_int_equal(o.track_opens, -1);
	assert_int_equal(o.rate_limit, -1);
	assert_int_equal(policy_options_parse("{\"track_opens\": true, "
					      "\"track_clicks\": false, "
					      "\"list_unsubscribe\": false, "
					      "\"rate_limit\": 250, "
					      "\"other\": \"ignored\"}",
					      &o, NULL),
			 0);
	assert_int_equal(o.track_opens, 1);
	assert_int_equal(o.track_clicks, 0);
	assert_int_equal(o.list_unsubscribe, 0);
	assert_int_equal(o.rate_limit, 250);
	/* Wrong shapes: an error, and every option back to its default. */
	assert_int_equal(policy_options_parse("[1]", &o, &e), -1);
	assert_non_null(e);
	g_clear_error(&e);
	assert_int_equal(policy_options_parse("{\"track_opens\": 1}", &o, &e),
			 -1);
	assert_int_equal(o.track_opens, -1);
	g_clear_error(&e);
	assert_int_equal(policy_options_parse("{\"rate_limit\": -5}", &o, &e),
			 -1);
	g_clear_error(&e);
	assert_int_equal(policy_options_parse("{not json", &o, &e), -1);
	g_clear_error(&e);
}

#define REQ                                                                    \
	"request=smtpd_access_policy\n"                                        \
	"protocol_state=RCPT\n"                                                \
	"protocol_name=ESMTP\n"                                                \
	"sasl_username=alice\n"                                                \
	"recipient=a@remote.example\n"                                         \
	"instance=1a2b.3c4d.0\n"                                               \
	"ccert_subject=\n"                                                     \
	"\n"

static void
test_request(void **state)
{
	const char two[] = REQ REQ;
	gssize end = policy_request_end(two, strlen(two));
	struct policy_request *r;

	assert_int_equal(end, (gssize)strlen(REQ));
	assert_int_equal(policy_request_end(REQ, strlen(REQ) - 1), 0);
	assert_int_equal(policy_request_end("", 0), 0);
	r = policy_request_parse(two, (size_t)end, NULL);
	assert_non_null(r);
	assert_string_equal(policy_request_get(r, "sasl_username"), "alice");
	assert_string_equal(policy_request_get(r, "protocol_state"), "RCPT");
	assert_string_equal(policy_request_get(r, "ccert_subject"), "");
	assert_null(policy_request_get(r, "size"));
	policy_request_free(r);
	/* A value may hold '=' (the first one separates). */
	r = policy_request_parse("sasl_username=a=b\n\n", 19, NULL);
	assert_string_equal(policy_request_get(r, "sasl_username"), "a=b");
	policy_request_free(r);
}

static void
test_request_limits(void **state)
{
	GString *big = g_string_new(NULL);
	GError *e = NULL;

	assert_null(policy_request_parse("no equals sign\n\n", 16, &e));
	g_clear_error(&e);
	assert_null(policy_request_parse("Bad=upper\n\n", 11, &e));
	g_clear_error(&e);
	assert_null(policy_request_parse("=x\n\n", 4, &e));
	g_clear_error(&e);
	for (int i = 0; i <= POLICY_ATTRS_MAX; i++)
		g_string_append_printf(big, "a%d=x\n", i);
	g_string_append_c(big, '\n');
	assert_null(policy_request_parse(big->str, big->len, &e));
	assert_non_null(strstr(e->message, "attributes"));
	g_clear_error(&e);
	/* A request that never ends within the limit. */
	g_string_truncate(big, 0);
	while (big->len < POLICY_REQUEST_MAX)
		g_string_append(big, "name=xxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
	assert_int_equal(policy_request_end(big->str, big->len), -1);
	g_string_free(big, TRUE);
}

static void
test_reply(void **state)
{
	struct policy_decision d;
	char *s;

	policy_decide(&pc, POLICY_PATH_SMTP, "ok", 1, 0, &d);
	s = policy_reply(&d);
	assert_string_equal(s, "action=DUNNO\n\n");
	g_free(s);
	policy_decide(&pc, POLICY_PATH_SMTP, "throttle", 1, 0, &d);
	s = policy_reply(&d);
	assert_true(g_str_has_prefix(s, "action=DEFER_IF_PERMIT 4.7.1 "));
	assert_true(g_str_has_suffix(s, "later\n\n"));
	g_free(s);
	policy_decide(&pc, POLICY_PATH_SMTP, "block", 1, 0, &d);
	s = policy_reply(&d);
	assert_true(g_str_has_prefix(s, "action=REJECT 5.7.1 "));
	g_free(s);
	/* The reply stays one line whatever the text holds. */
	d.verdict = POLICY_HOLD;
	g_strlcpy(d.text, "evil\ntext\r\n\nx", sizeof(d.text));
	s = policy_reply(&d);
	assert_string_equal(s, "action=HOLD evil text   x\n\n");
	g_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_limits),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
