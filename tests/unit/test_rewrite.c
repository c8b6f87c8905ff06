/* Unit tests of verp/rewrite: link wrapping and the open pixel in the HTML
 * parts, transfer encodings and charsets kept, untouched parts written
 * back as they came, and broken input left alone. The URLs come from a
 * deterministic test callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verp/rewrite.h"

static char *
click(void *ud, const char *href)
{
	int *calls = ud;
	char *esc = g_uri_escape_string(href, NULL, FALSE);
	char *url = g_strdup_printf("https://t.test.invalid/c/TOKEN?u=%s", esc);

	(*calls)++;
	g_free(esc);
	return url;
}

static char *
pixel(void *ud)
{
	return g_strdup("https://t.test.invalid/o/TOKEN.gif");
}

static int calls;
static const struct rewrite_links links = { click, pixel, &calls };

/* Rewrites raw; returns the status and the new body (or NULL). */
static enum rewrite_status
run(const char *raw, struct rewrite_result *res)
{
	int broken;
	const char *why;
	GMimeMessage *msg = rewrite_parse(raw, strlen(raw), &broken, &why);
	enum rewrite_status st = rewrite_message(msg, broken, why, &links, res);

	g_object_unref(msg);
	return st;
}

/* The decoded content of the first text/html part of headers + body. */
static char *
html_of(const char *headers, const char *body)
{
	char *raw = g_strconcat(headers, "\n", body, NULL);
	int broken;
	const char *why;
	GMimeMessage *msg = rewrite_parse(raw, strlen(raw), &broken, &why);
	GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(msg));
	char *out = NULL;

	assert_false(broken);
	do {
		GMimeObject *p = g_mime_part_iter_get_current(it);

		if (!p)
			p = g_mime_message_get_mime_part(msg);
		if (GMIME_IS_TEXT_PART(p) &&
		    g_mime_content_type_is_type(
			    g_mime_object_get_content_type(p), "text",
			    "html")) {
			out = g_mime_text_part_get_text(GMIME_TEXT_PART(p));
			break;
		}
	} while (g_mime_part_iter_next(it));
	g_mime_part_iter_free(it);
	if (!out) {
		GMimeObject *p = g_mime_message_get_mime_part(msg);

		if (GMIME_IS_TEXT_PART(p))
			out = g_mime_text_part_get_text(GMIME_TEXT_PART(p));
	}
	g_object_unref(msg);
	g_free(raw);
	return out;
}

#define SIMPLE_HDRS                                                            \
	"From: a@cust.test.invalid\n"                                          \
	"To: b@remote.test.invalid\n"                                          \
	"Subject: news\n"                                                      \
	"MIME-Version: 1.0\n"                                                  \
	"Content-Type: text/html; charset=us-ascii\n"                          \
	"Content-Transfer-Encoding: 7bit\n"

static void
test_links_and_pixel(void **state)
{
	const char *raw = SIMPLE_HDRS
		"\n<html><body><p>Hello <a "
		"href=\"https://shop.example/x?a=1&amp;b=2\">"
		"shop</a>, <a href=\"HTTP://Other.example/\">other</a>,\n"
		"<a href=\"mailto:x@y.example\">mail</a> <a "
		"href=\"#top\">top</a>"
		"</p></body></html>\n";
	struct rewrite_result res;
	char *html;

	calls = 0;
	assert_int_equal(run(raw, &res), REWRITE_CHANGED);
	assert_int_equal(res.links, 2);
	assert_int_equal(res.pixels, 1);
	assert_int_equal(res.parts, 1);
	assert_int_equal(calls, 2);
	assert_null(res.top_cte);
	/* The body is CRLF and the HTML in it is the rewritten one. */
	assert_non_null(strstr(res.body, "\r\n"));
	html = html_of(SIMPLE_HDRS, res.body);
	assert_non_null(strstr(
		html,
		"href=\"https://t.test.invalid/c/"
		"TOKEN?u=https%3A%2F%2Fshop.example%2Fx%3Fa%3D1%26b%3D2\""));
	assert_non_null(strstr(html, "u=HTTP%3A%2F%2FOther.example%2F\""));
	assert_non_null(strstr(html, "href=\"mailto:x@y.example\""));
	assert_non_null(strstr(html, "href=\"#top\""));
	/* The pixel is the last thing in the body. */
	assert_non_null(strstr(html, "<img src=\"https://t.test.invalid/o/"
				     "TOKEN.gif\" width=\"1\" height=\"1\""));
	assert_true(strstr(html, "TOKEN.gif") < strstr(html, "</body>"));
	g_free(html);
	rewrite_result_clear(&res);
}

#define ALT_HDRS                                                               \
	"From: a@cust.test.invalid\n"                                          \
	"Subject: alt\n"                                                       \
	"MIME-Version: 1.0\n"                                                  \
	"Content-Type: multipart/alternative; boundary=\"BB\"\n"

static void
test_alternative_qp_charset_kept(void **state)
{
	const char *plain = "--BB\n"
			    "Content-Type: text/plain; charset=iso-8859-1\n"
			    "Content-Transfer-Encoding: quoted-printable\n"
			    "\n"
			    "Caf=E9 https://shop.example/\n";
	char *raw = g_strconcat(
		ALT_HDRS, "\nPreamble kept.\n", plain,
		"--BB\n"
		"Content-Type: text/html; charset=iso-8859-1\n"
		"Content-Transfer-Encoding: quoted-printable\n"
		"\n"
		"<p>Caf=E9 <a href=3D\"https://shop.example/\">go</a></p>\n"
		"--BB--\n",
		NULL);
	struct rewrite_result res;
	char *html, *plain_crlf;
	char **lines;

	assert_int_equal(run(raw, &res), REWRITE_CHANGED);
	assert_int_equal(res.links, 1);
	/* The text/plain part is written back byte for byte (CRLF). */
	lines = g_strsplit(plain, "\n", -1);
	plain_crlf = g_strjoinv("\r\n", lines);
	assert_non_null(strstr(res.body, plain_crlf));
	assert_non_null(strstr(res.body, "Preamble kept."));
	/* The HTML part is still quoted-printable Latin-1. */
	assert_non_null(strstr(res.body, "Content-Transfer-Encoding: "
					 "quoted-printable\r\n\r\n<p>Caf=E9"));
	html = html_of(ALT_HDRS, res.body);
	assert_non_null(strstr(html, "Caf\xc3\xa9"));
	assert_non_null(strstr(html, "https://t.test.invalid/c/TOKEN?u="));
	g_free(html);
	g_strfreev(lines);
	g_free(plain_crlf);
	g_free(raw);
	rewrite_result_clear(&res);
}

static void
test_base64_kept(void **state)
{
	const char *src = "<p>Hi <a href=\"https://b64.example/\">x</a></p>";
	char *b64 = g_base64_encode((const guchar *)src, strlen(src));
	char *hdrs = g_strdup("From: a@cust.test.invalid\n"
			      "MIME-Version: 1.0\n"
			      "Content-Type: text/html; charset=utf-8\n"
			      "Content-Transfer-Encoding: base64\n");
	char *raw = g_strconcat(hdrs, "\n", b64, "\n", NULL);
	struct rewrite_result res;
	char *html;

	assert_int_equal(run(raw, &res), REWRITE_CHANGED);
	assert_null(res.top_cte);
	/* Still base64: no markup in clear in the body. */
	assert_null(strstr(res.body, "href"));
	html = html_of(hdrs, res.body);
	assert_non_null(strstr(html,
			       "https://t.test.invalid/c/TOKEN?u=https%3A%2F%2F"
			       "b64.example%2F"));
	assert_non_null(strstr(html, "TOKEN.gif"));
	g_free(html);
	g_free(raw);
	g_free(hdrs);
	g_free(b64);
	rewrite_result_clear(&res);
}

/* 7bit content whose line grows past 998 octets must change encoding. */
static void
test_long_line_becomes_qp(void **state)
{
	GString *raw = g_string_new(SIMPLE_HDRS "\n<p>");
	struct rewrite_result res;
	char *html;

	for (int i = 0; i < 20; i++)
		g_string_append_printf(
			raw, "<a href=\"https://l.example/%d\">%d</a>", i, i);
	g_string_append(raw, "</p>\n");
	assert_true(raw->len < 998 + strlen(SIMPLE_HDRS));
	assert_int_equal(run(raw->str, &res), REWRITE_CHANGED);
	assert_int_equal(res.links, 20);
	assert_string_equal(res.top_cte, "quoted-printable");
	assert_non_null(strstr(res.body, "=\r\n"));
	html = html_of("From: a@cust.test.invalid\nMIME-Version: 1.0\n"
		       "Content-Type: text/html; charset=us-ascii\n"
		       "Content-Transfer-Encoding: quoted-printable\n",
		       res.body);
	assert_non_null(strstr(html, "u=https%3A%2F%2Fl.example%2F19\""));
	g_free(html);
	g_string_free(raw, TRUE);
	rewrite_result_clear(&res);
}

static void
expect_refused(const char *raw, const char *reason)
{
	struct rewrite_result res;

	calls = 0;
	assert_int_equal(run(raw, &res), REWRITE_REFUSED);
	assert_null(res.body);
	assert_int_equal(res.links, 0);
	assert_non_null(res.reason);
	if (!strstr(res.reason, reason))
		fail_msg("reason \"%s\" lacks \"%s\"", res.reason, reason);
	rewrite_result_clear(&res);
}

static void
test_broken_mime_refused(void **state)
{
	/* Never closed. */
	expect_refused(ALT_HDRS "\n--BB\nContent-Type: text/html\n\n"
				"<a href=\"https://x.example/\">x</a>\n",
		       "broken MIME");
	/* A multipart without its boundary. */
	expect_refused("MIME-Version: 1.0\n"
		       "Content-Type: multipart/mixed\n\n"
		       "--X\nContent-Type: text/html\n\n"
		       "<a href=\"https://x.example/\">x</a>\n--X--\n",
		       "broken MIME");
	/* Base64 with bytes outside the alphabet. */
	expect_refused("MIME-Version: 1.0\n"
		       "Content-Type: text/html\n"
		       "Content-Transfer-Encoding: base64\n\n"
		       "PGEgaHJlZj0iaHR0cHM6Ly94LmV4YW1wbGUvIj54PC9hPg==!!\n",
		       "invalid base64");
	/* A charset nobody knows. */
	expect_refused("MIME-Version: 1.0\n"
		       "Content-Type: text/html; charset=x-no-such-charset\n\n"
		       "<a href=\"https://x.example/\">x</a>\n",
		       "unknown charset");
	assert_int_equal(calls, 0);
}

static void
test_left_alone(void **state)
{
	struct rewrite_result res;

	/* An HTML attachment and an embedded message are not the body. */
	assert_int_equal(
		run("MIME-Version: 1.0\n"
		    "Content-Type: multipart/mixed; boundary=\"M\"\n\n"
		    "--M\nContent-Type: text/plain\n\nSee attached.\n"
		    "--M\nContent-Type: text/html\n"
		    "Content-Disposition: attachment; filename=a.html\n\n"
		    "<a href=\"https://att.example/\">x</a>\n"
		    "--M\nContent-Type: message/rfc822\n\n"
		    "Subject: inner\nContent-Type: text/html\n\n"
		    "<a href=\"https://inner.example/\">y</a>\n"
		    "--M--\n",
		    &res),
		REWRITE_UNCHANGED);
	assert_null(res.body);
	rewrite_result_clear(&res);
	/* Plain text only. */
	assert_int_equal(run("Subject: t\n\nhttps://x.example/\n", &res),
			 REWRITE_UNCHANGED);
	rewrite_result_clear(&res);
}

static void
test_no_callbacks(void **state)
{
	const struct rewrite_links none = { NULL, NULL, NULL };
	const char *raw =
		SIMPLE_HDRS "\n<a href=\"https://x.example/\">x</a>\n";
	int broken;
	const char *why;
	GMimeMessage *msg = rewrite_parse(raw, strlen(raw), &broken, &why);
	struct rewrite_result res;

	assert_int_equal(rewrite_message(msg, broken, why, &none, &res),
			 REWRITE_UNCHANGED);
	g_object_unref(msg);
	rewrite_result_clear(&res);
}

static void
test_link_limit(void **state)
{
	GString *raw = g_string_new(SIMPLE_HDRS "\n");
	struct rewrite_result res;

	for (int i = 0; i < REWRITE_LINKS_MAX + 50; i++)
		g_string_append_printf(raw,
				       "<a href=\"https://n.example/%d\">"
				       "x</a>\n",
				       i);
	calls = 0;
	assert_int_equal(run(raw->str, &res), REWRITE_CHANGED);
	assert_int_equal(res.links, REWRITE_LINKS_MAX);
	assert_int_equal(calls, REWRITE_LINKS_MAX);
	g_string_free(raw, TRUE);
	rewrite_result_clear(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_and_pixel),
		cmocka_unit_test(test_alternative_qp_charset_kept),
		cmocka_unit_test(test_base64_kept),
		cmocka_unit_test(test_long_line_becomes_qp),
		cmocka_unit_test(test_broken_mime_refused),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_no_callbacks),
		cmocka_unit_test(test_link_limit),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
