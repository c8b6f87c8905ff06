/* Unit tests of core/report (the JSON shape of ../shared/formats.md),
 * core/metrics (Prometheus text) and the ingest router's line-end
 * normalisation and token search, with a real GMime parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ingest.h"
#include "core/metrics.h"
#include "core/report.h"

static void
test_json_shape(void **state)
{
	struct report *r = report_new();
	struct report_rcpt *rc = report_add_rcpt(r);
	char *line;

	r->kind = REPORT_DSN;
	rc->recipient = g_strdup("user@example.org");
	rc->action = g_strdup("failed");
	rc->status = g_strdup("5.1.1");
	rc->reason = g_strdup("userunknown");
	rc->klass = g_strdup("hard");
	r->token.valid = 0;
	r->token.error = g_strdup("mac-mismatch: x");
	line = report_to_json_line(r, "f.eml");
	assert_string_equal(
		line,
		"{\"file\":\"f.eml\",\"kind\":\"dsn\",\"token\":{\"valid\":"
		"false,\"error\":\"mac-mismatch: x\"},\"recipients\":[{"
		"\"recipient\":\"user@example.org\",\"original_recipient\":"
		"null,\"action\":\"failed\",\"status\":\"5.1.1\",\"reason\":"
		"\"userunknown\",\"class\":\"hard\",\"diagnostic\":null,"
		"\"remote_mta\":null}],\"feedback\":null,\"dmarc\":null,"
		"\"error\":null}");
	g_free(line);
	report_free(r);
}

/* Report i of a sequence whose shapes change from one to the next: the
 * token (none, invalid, valid), 0 to 3 recipients with fields set and
 * unset, a feedback part now and then. */
static struct report *
printer_case(int i)
{
	struct report *r = report_new();
	static const char *const v[] = { NULL, "a", "b\"\\\n\x01 é" };

	r->kind = (enum report_kind)(i % 5);
	r->token.valid = i % 3 - 1;
	if (r->token.valid == 1) {
		r->token.account = g_strdup(v[(i + 1) % 3]);
		r->token.message = g_strdup("42");
		r->token.key = g_strdup(v[i % 3]);
	} else if (r->token.valid == 0) {
		r->token.error = g_strdup(v[i % 3]);
	}
	for (int k = 0; k < (i * 7) % 4; k++) {
		struct report_rcpt *rc = report_add_rcpt(r);

		rc->recipient = g_strdup(v[(i + k) % 3]);
		rc->status = g_strdup(v[(i + 2 * k) % 3]);
		rc->diagnostic = g_strdup(v[(i * k) % 3]);
		rc->remote_mta = g_strdup(v[(i + k + 1) % 3]);
	}
	if (i % 7 == 3) {
		r->feedback = report_feedback_new();
		r->feedback->type = g_strdup("abuse");
	}
	if (i % 4 == 1)
		r->error = g_strdup(v[i % 3]);
	return r;
}

/* The printer keeps its tree between reports: every line must still be
 * the line report_to_json_line writes for that report alone. */
static void
test_printer_same_text(void **state)
{
	struct report_printer *p = report_printer_new();

	for (int i = 0; i < 60; i++) {
		struct report *r = printer_case(i);
		char *want =
			report_to_json_line(r, i % 2 ? "x.eml" : "y/z.eml");
		size_t len;
		const char *got = report_printer_line(
			p, r, i % 2 ? "x.eml" : "y/z.eml", &len);

		assert_string_equal(got, want);
		assert_int_equal(len, strlen(want));
		g_free(want);
		report_free(r);
	}
	report_printer_free(p);
}

static void
test_caps(void **state)
{
	struct report *r = report_new();
	char *longs = g_strnfill(REPORT_FIELD_MAX * 2, 'x');
	char *cut = report_strdup(longs);

	for (int i = 0; i < REPORT_RCPT_MAX; i++)
		assert_non_null(report_add_rcpt(r));
	assert_null(report_add_rcpt(r));
	for (int i = 0; i < REPORT_HINT_MAX + 10; i++) {
		char h[32];
		g_snprintf(h, sizeof(h), "h%d", i);
		report_add_hint(r, h);
	}
	report_add_hint(r, "h0");
	assert_int_equal(r->token_hints->len, REPORT_HINT_MAX);
	assert_int_equal(strlen(cut), REPORT_FIELD_MAX);
	report_set_error(r, "first %d", 1);
	report_set_error(r, "second");
	assert_string_equal(r->error, "first 1");
	g_free(cut);
	g_free(longs);
	report_free(r);
}

static void
test_metrics_text(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *a = metrics_counter(m, "x_total", "k=\"a\"", "Things");
	struct metric *b = metrics_counter(m, "x_total", "k=\"b\"", NULL);
	struct metric *g = metrics_gauge(m, "depth", NULL, "Queue depth");
	char *text;

	metric_inc(a);
	metric_add(b, 5);
	metric_set(g, 3);
	assert_ptr_equal(a, metrics_counter(m, "x_total", "k=\"a\"", NULL));
	text = metrics_render(m);
	assert_string_equal(text,
			    "# HELP x_total Things\n# TYPE x_total "
			    "counter\nx_total{k=\"a\"} 1\nx_total{k=\"b\"} "
			    "5\n# HELP depth Queue depth\n# TYPE depth "
			    "gauge\ndepth 3\n");
	g_free(text);
	metrics_free(m);
}

/* A classifier that claims everything and records what it saw. */
static int
seen_classifier(void *ud, GMimeMessage *msg, const char *raw, size_t len,
		struct report *r)
{
	GString *seen = ud;
	const char *subj = g_mime_message_get_subject(msg);

	g_string_assign(seen, subj ? subj : "");
	g_string_append_printf(seen, "|%zu|%d", len,
			       memchr(raw, '\r', len) != NULL);
	r->kind = REPORT_DSN;
	report_add_hint(r, "hint-one");
	return 1;
}

static int
hint_resolver(void *ud, const char *hint, struct report_token *tok)
{
	if (strcmp(hint, "good@bounce") == 0) {
		tok->account = g_strdup("7");
		tok->message = g_strdup("42");
		tok->key = g_strdup("k1");
		tok->account_id = 7;
		tok->serial = 42;
		return 1;
	}
	if (strcmp(hint, "hint-one") == 0) {
		tok->error = g_strdup("mac-mismatch");
		return 0;
	}
	return -1;
}

static void
test_router_line_ends_and_token(void **state)
{
	struct ingest *in = ingest_new();
	GString *seen = g_string_new(NULL), *lf = g_string_new(NULL);
	const char *const forms[] = {
		"Subject: hi\nTo: x@y, good@bounce\n\nbody\n",
		"Subject: hi\r\nTo: x@y, good@bounce\r\n\r\nbody\r\n",
		"Subject: hi\rTo: x@y, good@bounce\r\rbody\r",
	};

	ingest_add_classifier(in, "seen", seen_classifier, seen);
	ingest_set_token_resolver(in, hint_resolver, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(forms); i++) {
		struct report *r =
			ingest_classify(in, forms[i], strlen(forms[i]));
		/* Every form reaches the classifier as the same LF text. */
		if (i == 0)
			g_string_assign(lf, seen->str);
		assert_string_equal(seen->str, lf->str);
		assert_string_equal(seen->str, "hi|39|0");
		/* The invalid hint came first, the valid To: address wins. */
		assert_int_equal(r->token.valid, 1);
		assert_string_equal(r->token.message, "42");
		report_free(r);
	}
	g_string_free(seen, TRUE);
	g_string_free(lf, TRUE);
	ingest_free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_printer_same_text),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_metrics_text),
		cmocka_unit_test(test_router_line_ends_and_token),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
