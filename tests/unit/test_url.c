/* Unit tests of verp/url: signatures against known answers computed
 * independently (Python's hmac and base64 modules), build/parse round
 * trips, tampering, and every refusal of url_parse(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verp/url.h"

#define KEY "kat-secret-0123456789abcdef"
#define OTHERKEY "other-secret-0123456789abcd"
#define NOW INT64_C(1767225600000)
/* test_token.c's KAT_PLAIN: account 7, serial 42, key slot 1. */
#define TOK "ceaaaaahaaaaaabkalnqaaaaabpaj6acimmzw5rz"
/* The same with the slot bits set to 2. */
#define TOK2 "ciaaaaahaaaaaabkalnqaaaaabpaj6acimmzw5rz"
#define TARGET "https://shop.example/sale?a=1&b=x+y#top"
/* Python: base32(HMAC-SHA256(KEY, label || TOK || data)[:10]).lower() */
#define SIG_CLICK "4fuxyk3mhyzt23gp"
#define SIG_UNSUB "ugvynnm55ylkxuzg"
#define SIG_UNSUB_NONE "knifu737oedkkzdu"

static struct token_keyring *
kr_new(void)
{
	struct token_keyring *kr = token_keyring_new();

	assert_int_equal(token_keyring_add(kr, "k1", 1, TOKEN_KEY_SIGN, KEY,
					   strlen(KEY), NULL),
			 0);
	return kr;
}

static enum url_error
parse(const char *s, struct url_request *r)
{
	return url_parse(s, strlen(s), r);
}

static void
test_known_answers(void **state)
{
	struct token_keyring *kr = kr_new();
	char sig[URL_SIG_LEN + 1];

	assert_int_equal(url_sign(kr, URL_CLICK, TOK, TARGET, sig), 0);
	assert_string_equal(sig, SIG_CLICK);
	assert_int_equal(
		url_sign(kr, URL_UNSUBSCRIBE, TOK, "user@example.org", sig), 0);
	assert_string_equal(sig, SIG_UNSUB);
	assert_int_equal(url_sign(kr, URL_UNSUBSCRIBE, TOK, NULL, sig), 0);
	assert_string_equal(sig, SIG_UNSUB_NONE);
	/* Opens carry no signature; a token naming an empty slot (2 here)
	 * gets none. */
	assert_int_equal(url_sign(kr, URL_OPEN, TOK, NULL, sig), -1);
	assert_int_equal(token_slot_of(TOK, TOKEN_LEN), 1);
	assert_int_equal(token_slot_of(TOK2, TOKEN_LEN), 2);
	assert_int_equal(url_sign(kr, URL_CLICK, TOK2, TARGET, sig), -1);
	token_keyring_free(kr);
}

static void
test_build(void **state)
{
	struct token_keyring *kr = kr_new();
	char *url = NULL;
	GError *e = NULL;

	assert_int_equal(url_build(kr, "https://t.example/", URL_OPEN, TOK,
				   NULL, &url, NULL),
			 0);
	assert_string_equal(url, "https://t.example/o/" TOK ".gif");
	g_free(url);
	assert_int_equal(url_build(kr, "https://t.example/fb", URL_CLICK, TOK,
				   TARGET, &url, NULL),
			 0);
	assert_string_equal(url, "https://t.example/fb/c/" TOK "/" SIG_CLICK
				 "?u=https://shop.example/sale?a%3D1%26b%3Dx"
				 "%2By%23top");
	g_free(url);
	assert_int_equal(url_build(kr, "http://t", URL_UNSUBSCRIBE, TOK,
				   "user@example.org", &url, NULL),
			 0);
	assert_string_equal(url, "http://t/u/" TOK "/" SIG_UNSUB
				 "?r=user@example.org");
	g_free(url);
	assert_int_equal(url_build(kr, "http://t", URL_UNSUBSCRIBE, TOK, NULL,
				   &url, NULL),
			 0);
	assert_string_equal(url, "http://t/u/" TOK "/" SIG_UNSUB_NONE);
	g_free(url);
	/* Refused: targets that are not http(s), bad tokens, no key. */
	assert_int_equal(url_build(kr, "http://t", URL_CLICK, TOK,
				   "javascript:alert(1)", &url, &e),
			 -1);
	g_clear_error(&e);
	assert_int_equal(url_build(kr, "http://t", URL_CLICK, TOK,
				   "https://a b/", &url, &e),
			 -1);
	g_clear_error(&e);
	assert_int_equal(
		url_build(kr, "http://t", URL_CLICK, TOK, NULL, &url, &e), -1);
	g_clear_error(&e);
	assert_int_equal(
		url_build(kr, "http://t", URL_OPEN, "short", NULL, &url, &e),
		-1);
	g_clear_error(&e);
	assert_int_equal(url_build(kr, "http://t", URL_UNSUBSCRIBE, TOK,
				   "no-at-sign", &url, &e),
			 -1);
	g_clear_error(&e);
	token_keyring_free(kr);
}

/* What url_build() writes, url_parse() reads back and url_verify()
 * accepts, for awkward targets too. */
static void
test_roundtrip(void **state)
{
	static const char *const targets[] = {
		TARGET,
		"http://x.example/%41%42?q=%2B+1&r=a%26b",
		"https://[2001:db8::1]:8443/p;x=1?y=é",
		"HTTPS://UPPER.example/Path",
	};
	struct token_keyring *kr = kr_new();
	struct url_request r;

	for (size_t i = 0; i < G_N_ELEMENTS(targets); i++) {
		char *url = NULL;
		int built = url_build(kr, "http://t", URL_CLICK, TOK,
				      targets[i], &url, NULL);

		if (i == 2) { /* not ASCII: refused */
			assert_int_equal(built, -1);
			continue;
		}
		assert_int_equal(built, 0);
		assert_int_equal(parse(url + strlen("http://t"), &r),
				 URL_ERR_NONE);
		assert_int_equal(r.kind, URL_CLICK);
		assert_string_equal(r.token, TOK);
		assert_string_equal(r.target, targets[i]);
		assert_int_equal(url_verify(kr, &r), 1);
		url_request_clear(&r);
		g_free(url);
	}
	token_keyring_free(kr);
}

static void
test_parse_shapes(void **state)
{
	struct token_keyring *kr = kr_new();
	struct url_request r;

	assert_int_equal(parse("/o/" TOK ".gif", &r), URL_ERR_NONE);
	assert_int_equal(r.kind, URL_OPEN);
	assert_int_equal(url_verify(kr, &r), 1);
	url_request_clear(&r);
	/* No extension, upper case, a query nobody asked for: all fine. */
	assert_int_equal(parse("/o/CEAAAAAHAAAAAABKALNQAAAAABPAJ6ACIMMZW5RZ"
			       "?utm_source=x",
			       &r),
			 URL_ERR_NONE);
	assert_string_equal(r.token, TOK);
	url_request_clear(&r);
	/* Escaped path characters are decoded. */
	assert_int_equal(parse("/o/%63eaaaaahaaaaaabkalnqaaaaabpaj6acimmzw5rz."
			       "gif",
			       &r),
			 URL_ERR_NONE);
	assert_string_equal(r.token, TOK);
	url_request_clear(&r);
	assert_int_equal(
		parse("/u/" TOK "/" SIG_UNSUB "?r=user%40example.org", &r),
		URL_ERR_NONE);
	assert_int_equal(r.kind, URL_UNSUBSCRIBE);
	assert_string_equal(r.recipient, "user@example.org");
	assert_int_equal(url_verify(kr, &r), 1);
	url_request_clear(&r);
	assert_int_equal(parse("/u/" TOK "/" SIG_UNSUB_NONE, &r), URL_ERR_NONE);
	assert_null(r.recipient);
	assert_int_equal(url_verify(kr, &r), 1);
	url_request_clear(&r);
	token_keyring_free(kr);
}

static void
test_tampering(void **state)
{
	struct token_keyring *kr = kr_new();
	struct token_keyring *other = token_keyring_new();
	struct url_request r;

	assert_int_equal(token_keyring_add(other, "k1", 1, TOKEN_KEY_SIGN,
					   OTHERKEY, strlen(OTHERKEY), NULL),
			 0);
	/* Another target under the same signature: the open redirect. */
	assert_int_equal(
		parse("/c/" TOK "/" SIG_CLICK "?u=https://evil.example/", &r),
		URL_ERR_NONE);
	assert_int_equal(url_verify(kr, &r), 0);
	url_request_clear(&r);
	/* One signature character changed. */
	assert_int_equal(parse("/c/" TOK "/4fuxyk3mhyzt23gq?u=" TARGET, &r),
			 URL_ERR_NONE);
	assert_int_equal(url_verify(kr, &r), 0);
	url_request_clear(&r);
	/* The right URL checked with another key. */
	assert_int_equal(parse("/c/" TOK "/" SIG_CLICK "?u=https://shop.example"
			       "/sale?a%3D1%26b%3Dx%2By%23top",
			       &r),
			 URL_ERR_NONE);
	assert_int_equal(url_verify(kr, &r), 1);
	assert_int_equal(url_verify(other, &r), 0);
	url_request_clear(&r);
	/* A click signature does not unsubscribe, nor another recipient. */
	assert_int_equal(parse("/u/" TOK "/" SIG_CLICK, &r), URL_ERR_NONE);
	assert_int_equal(url_verify(kr, &r), 0);
	url_request_clear(&r);
	assert_int_equal(
		parse("/u/" TOK "/" SIG_UNSUB "?r=other@example.org", &r),
		URL_ERR_NONE);
	assert_int_equal(url_verify(kr, &r), 0);
	url_request_clear(&r);
	token_keyring_free(other);
	token_keyring_free(kr);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *in;
		enum url_error err;
	} cases[] = {
		{ "", URL_ERR_PATH },
		{ "/", URL_ERR_PATH },
		{ "/x/" TOK, URL_ERR_PATH },
		{ "o/" TOK, URL_ERR_PATH },
		{ "/o/" TOK "x", URL_ERR_TOKEN },
		{ "/o/" TOK ".png", URL_ERR_TOKEN },
		{ "/o/" TOK "/", URL_ERR_TOKEN },
		{ "/o/ceaaaaahaaaaaabkalnqaaaaabpaj6acimmzw5r1",
		  URL_ERR_TOKEN },
		{ "/c/" TOK, URL_ERR_PATH },
		{ "/c/" TOK "/" SIG_CLICK, URL_ERR_QUERY },
		{ "/c/" TOK "/short?u=" TARGET, URL_ERR_SIG },
		{ "/c/" TOK "/" SIG_CLICK "/?u=" TARGET, URL_ERR_SIG },
		{ "/c/x/" SIG_CLICK "?u=" TARGET, URL_ERR_TOKEN },
		{ "/c/" TOK "/" SIG_CLICK "?u=", URL_ERR_TARGET },
		{ "/c/" TOK "/" SIG_CLICK "?u=javascript:alert(1)",
		  URL_ERR_TARGET },
		{ "/c/" TOK "/" SIG_CLICK "?u=https:///x", URL_ERR_TARGET },
		{ "/c/" TOK "/" SIG_CLICK "?u=https://a%0d%0aSet-Cookie:x",
		  URL_ERR_TARGET },
		{ "/c/" TOK "/" SIG_CLICK "?u=https://a%20b", URL_ERR_TARGET },
		{ "/c/" TOK "/" SIG_CLICK "?u=https://a%00", URL_ERR_ESCAPE },
		{ "/c/" TOK "/" SIG_CLICK "?u=https://a%zz", URL_ERR_ESCAPE },
		{ "/c/" TOK "/" SIG_CLICK "?u=http://a&u=http://b",
		  URL_ERR_QUERY },
		{ "/u/" TOK "/" SIG_UNSUB "?r=nobody", URL_ERR_RECIPIENT },
		{ "/u/" TOK "/" SIG_UNSUB "?r=a%0a@b", URL_ERR_RECIPIENT },
		{ "/o%2f" TOK, URL_ERR_ESCAPE },
		{ "/o/%zz", URL_ERR_ESCAPE },
	};
	struct url_request r;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		enum url_error err = parse(cases[i].in, &r);

		if (err != cases[i].err)
			fail_msg("%s: %s, expected %s", cases[i].in,
				 url_error_name(err),
				 url_error_name(cases[i].err));
		assert_null(r.target);
		assert_null(r.recipient);
	}
}

static void
test_limits(void **state)
{
	struct token_keyring *kr = kr_new();
	GString *s = g_string_new("/c/" TOK "/" SIG_CLICK "?u=https://x/");
	struct url_request r;
	char *url = NULL;
	GError *e = NULL;

	/* Exactly at the input limit, with a target over its own. */
	while (s->len < URL_INPUT_MAX)
		g_string_append_c(s, 'a');
	assert_int_equal(url_parse(s->str, s->len, &r), URL_ERR_TARGET);
	g_string_append_c(s, 'a');
	assert_int_equal(url_parse(s->str, s->len, &r), URL_ERR_TOO_LONG);
	/* The length given is what is read, not up to a NUL. */
	assert_int_equal(url_parse("/o/" TOK "XXXX", 3 + TOKEN_LEN, &r),
			 URL_ERR_NONE);
	url_request_clear(&r);
	g_string_assign(s, "https://x/");
	while (s->len < URL_TARGET_MAX)
		g_string_append_c(s, 'b');
	assert_int_equal(
		url_build(kr, "http://t", URL_CLICK, TOK, s->str, &url, NULL),
		0);
	g_free(url);
	g_string_append_c(s, 'b');
	assert_int_equal(
		url_build(kr, "http://t", URL_CLICK, TOK, s->str, &url, &e),
		-1);
	g_clear_error(&e);
	g_string_free(s, TRUE);
	token_keyring_free(kr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_parse_shapes),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
