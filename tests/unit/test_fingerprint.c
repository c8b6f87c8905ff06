/* Unit tests of verp/fingerprint: the text form, stability, what the
 * normalisation ignores, near-duplicates matching and different texts
 * not matching, too-short texts, and the message text extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verp/fingerprint.h"
#include "verp/rewrite.h"

#define CAMPAIGN                                                               \
	"Dear customer, your account needs to be verified before the end "     \
	"of the week or it will be suspended. Please confirm your details "    \
	"with our secure service so that we can keep your mailbox running "    \
	"without any interruption. Thank you for choosing our company."

static void
test_form_and_stability(void **state)
{
	char *a = fingerprint_text(CAMPAIGN, strlen(CAMPAIGN));
	char *b = fingerprint_text(CAMPAIGN, strlen(CAMPAIGN));

	assert_non_null(a);
	assert_string_equal(a, b);
	assert_true(g_str_has_prefix(a, "f1:"));
	/* "f1:" + 32 hex + ":" + 32 x 8 hex */
	assert_int_equal(strlen(a), 3 + 32 + 1 + 256);
	assert_int_equal(strspn(a + 3, "0123456789abcdef"), 32);
	assert_int_equal(strspn(a + 36, "0123456789abcdef"), 256);
	assert_int_equal(fingerprint_similarity(a, b), FINGERPRINT_HASHES);
	g_free(a);
	g_free(b);
}

/* Case, URLs, addresses, numbers and spacing do not change anything. */
static void
test_normalisation(void **state)
{
	const char *variant =
		"DEAR Customer,\n\n  your account needs to be verified before "
		"the end of the week (88231) or it will be suspended. "
		"Please confirm your details https://evil.example/x?id=1 with "
		"our secure service so that we can keep your mailbox running "
		"without any interruption -- user@victim.example. Thank you "
		"for choosing our company. 2026";
	char *a = fingerprint_text(CAMPAIGN, strlen(CAMPAIGN));
	char *b = fingerprint_text(variant, strlen(variant));

	assert_non_null(b);
	/* Same normalised text: the exact digests agree. */
	assert_memory_equal(a, b, 3 + 32);
	assert_int_equal(fingerprint_similarity(a, b), FINGERPRINT_HASHES);
	g_free(a);
	g_free(b);
}

/* A personalised copy still matches; a different text does not. */
static void
test_near_and_far(void **state)
{
	const char *personal =
		"Dear Robert, your account needs to be verified before the end "
		"of the week or it will be suspended. Please confirm your "
		"details with our secure service so that we can keep your "
		"mailbox running without any interruption. Thank you for "
		"choosing our company, Robert.";
	const char *other =
		"Hi team, the quarterly planning meeting moves to the large "
		"room on the second floor. Bring the budget figures and the "
		"draft roadmap so that we can agree on priorities for the "
		"next release before lunch. Coffee will be served.";
	char *a = fingerprint_text(CAMPAIGN, strlen(CAMPAIGN));
	char *b = fingerprint_text(personal, strlen(personal));
	char *c = fingerprint_text(other, strlen(other));
	int near = fingerprint_similarity(a, b);
	int far = fingerprint_similarity(a, c);

	assert_true(memcmp(a, b, 35) != 0);
	if (near < FINGERPRINT_MATCH)
		fail_msg("personalised copy: %d of 32", near);
	if (far >= 4)
		fail_msg("unrelated text: %d of 32", far);
	g_free(a);
	g_free(b);
	g_free(c);
}

static void
test_short_texts(void **state)
{
	const char *digest_only = "Invoice attached as requested, regards "
				  "from accounting department";
	char *fp;

	assert_null(fingerprint_text("", 0));
	assert_null(fingerprint_text("Thanks!", 7));
	/* Only numbers and links: nothing left. */
	assert_null(fingerprint_text("12345 https://x.example/ 67890", 29));
	fp = fingerprint_text(digest_only, strlen(digest_only));
	/* Fewer than 12 words, 64 bytes or more: the digest alone. */
	assert_non_null(fp);
	assert_int_equal(strlen(fp), 3 + 32 + 1);
	assert_int_equal(fingerprint_similarity(fp, fp), FINGERPRINT_HASHES);
	g_free(fp);
}

static void
test_malformed_input(void **state)
{
	/* Invalid UTF-8 is tolerated. */
	char bad[] = "caf\xe9 \xff\xfe " CAMPAIGN;
	char *fp = fingerprint_text(bad, sizeof(bad) - 1);

	assert_non_null(fp);
	g_free(fp);
	assert_int_equal(fingerprint_similarity("f1:zz", "f1:zz"), -1);
	assert_int_equal(fingerprint_similarity(NULL, "x"), -1);
	assert_int_equal(
		fingerprint_similarity("f1:00000000000000000000000000000000:",
				       "f1:11111111111111111111111111111111:"),
		-1);
}

static char *
message_fp(const char *raw)
{
	int broken;
	const char *why;
	GMimeMessage *m = rewrite_parse(raw, strlen(raw), &broken, &why);
	char *fp = fingerprint_message(m);

	g_object_unref(m);
	return fp;
}

static void
test_message_text(void **state)
{
	char *plain = fingerprint_text(CAMPAIGN, strlen(CAMPAIGN));
	char *html = message_fp(
		"MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n"
		"<html><head><style>p{}</style><script>var x=1;</script>"
		"</head><body><p>Dear customer, your account needs to be "
		"<b>verified</b> before the end of the week or it will be "
		"suspended.</p><p>Please confirm your details with our secure "
		"service so that we can keep your mailbox running without any "
		"interruption.</p>Thank you for choosing our company.</body>"
		"</html>\n");
	char *alt = message_fp(
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/mixed; boundary=\"m\"\n\n"
		"--m\nContent-Type: text/plain; charset=utf-8\n"
		"Content-Transfer-Encoding: quoted-printable\n\n"
		"Dear customer, your account needs to be verified before the "
		"=\n"
		"end of the week or it will be suspended. Please confirm your "
		"details with our secure service so that we can keep your "
		"mailbox running without any interruption. Thank you for "
		"choosing our company.\n"
		"--m\nContent-Type: text/plain\n"
		"Content-Disposition: attachment; filename=x.txt\n\n"
		"something else entirely\n--m--\n");

	assert_non_null(html);
	assert_int_equal(fingerprint_similarity(plain, html),
			 FINGERPRINT_HASHES);
	assert_int_equal(fingerprint_similarity(plain, alt),
			 FINGERPRINT_HASHES);
	assert_null(message_fp("Subject: x\n\nhi\n"));
	g_free(plain);
	g_free(html);
	g_free(alt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_and_stability),
		cmocka_unit_test(test_normalisation),
		cmocka_unit_test(test_near_and_far),
		cmocka_unit_test(test_short_texts),
		cmocka_unit_test(test_malformed_input),
		cmocka_unit_test(test_message_text),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
