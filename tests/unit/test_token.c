/* Unit tests of verp/token: known-answer vectors (computed independently
 * with Python's hmac and base64 modules), case and VERP mangling, and every
 * refusal reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verp/token.h"

#define KEY "kat-secret-0123456789abcdef"
#define OLDKEY "old-secret-0123456789abcdef"
#define OTHERKEY "other-secret-0123456789abcd"
/* 2026-01-01T00:00:00Z: day 731 since 2024-01-01. */
#define NOW INT64_C(1767225600000)
#define DAY_MS INT64_C(86400000)

/* Python: base32(B || HMAC-SHA256(key, "fbtok1" || B)[:9]).lower() */
#define KAT_PLAIN "ceaaaaahaaaaaabkalnqaaaaabpaj6acimmzw5rz"
#define KAT_RCPT "ceaaaaahaaaaaabkalnqpf5pry7sywqh6cmsymhd"
#define KAT_MAX "cp77777777777777alnqaaaaaalnildrjnp66pxi"

static struct token_keyring *
kr_new(void)
{
	struct token_keyring *kr = token_keyring_new();

	assert_int_equal(token_keyring_add(kr, "k1", 1, TOKEN_KEY_SIGN, KEY,
					   strlen(KEY), NULL),
			 0);
	assert_int_equal(token_keyring_add(kr, "k0", 0, TOKEN_KEY_RETIRED,
					   OLDKEY, strlen(OLDKEY), NULL),
			 0);
	return kr;
}

static enum token_error
verify(struct token_keyring *kr, const char *s, int64_t now,
       struct token_fields *f)
{
	return token_verify(kr, s, strlen(s), "b", now, 90, 1, f, NULL);
}

static void
test_known_answers(void **state)
{
	struct token_keyring *kr = kr_new();
	struct token_keyring *k3 = token_keyring_new();
	char tok[TOKEN_LEN + 1];

	assert_int_equal(token_mint(kr, 7, 42, NOW, NULL, tok, NULL), 0);
	assert_string_equal(tok, KAT_PLAIN);
	assert_int_equal(token_mint(kr, 7, 42, NOW + 3600000,
				    "User@Example.ORG", tok, NULL),
			 0);
	assert_string_equal(tok, KAT_RCPT);
	assert_int_equal(token_keyring_add(k3, "k3", 3, TOKEN_KEY_SIGN, KEY,
					   strlen(KEY), NULL),
			 0);
	assert_int_equal(token_mint(k3, UINT32_MAX, TOKEN_SERIAL_MAX, NOW, NULL,
				    tok, NULL),
			 0);
	assert_string_equal(tok, KAT_MAX);
	token_keyring_free(k3);
	token_keyring_free(kr);
}

static void
test_roundtrip_fields(void **state)
{
	struct token_keyring *kr = kr_new();
	struct token_fields f;

	assert_int_equal(verify(kr, "b" KAT_RCPT "@bounce.example", NOW, &f),
			 TOKEN_ERR_NONE);
	assert_int_equal(f.version, 1);
	assert_int_equal(f.slot, 1);
	assert_int_equal(f.account, 7);
	assert_int_equal(f.serial, 42);
	assert_int_equal(f.day, 731);
	assert_int_equal(token_recipient_matches(kr, &f, "user@example.org"),
			 1);
	assert_int_equal(token_recipient_matches(kr, &f, "other@example.org"),
			 0);
	assert_int_equal(verify(kr, KAT_PLAIN, NOW, &f), TOKEN_ERR_NONE);
	assert_int_equal(token_recipient_matches(kr, &f, "x@y"), -1);
	token_keyring_free(kr);
}

static void
test_case_and_verp(void **state)
{
	struct token_keyring *kr = kr_new();
	const char *const good[] = {
		"B"
		"CEAAAAAHAAAAAABKALNQAAAAABPAJ6ACIMMZW5RZ@BOUNCE.EXAMPLE",
		"bCeAaAaAhAaAaAaBkAlNqAaAaAbPaJ6AcImMzW5Rz@bounce.example",
		"<b" KAT_PLAIN "@bounce.example>",
		"b" KAT_PLAIN "+a.user=remote.example@bounce.example",
		"b" KAT_PLAIN "-ext@bounce.example",
		"  " KAT_PLAIN "  ",
		"mailto:b" KAT_PLAIN "@x",
	};
	struct token_fields f;

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		memset(&f, 0, sizeof(f));
		assert_int_equal(verify(kr, good[i], NOW, &f), TOKEN_ERR_NONE);
		assert_int_equal(f.serial, 42);
	}
	token_keyring_free(kr);
}

static void
test_refusals(void **state)
{
	struct token_keyring *kr = kr_new();
	struct token_keyring *other = token_keyring_new();
	char tok[TOKEN_LEN + 1], bad[64];
	struct token_fields f;
	GError *e = NULL;
	char *longer = g_strnfill(TOKEN_INPUT_MAX + 1, 'a');

	assert_int_equal(verify(kr, "", NOW, &f), TOKEN_ERR_EMPTY);
	assert_int_equal(verify(kr, "@x", NOW, &f), TOKEN_ERR_EMPTY);
	assert_int_equal(verify(kr, longer, NOW, &f), TOKEN_ERR_TOO_LONG);
	assert_int_equal(verify(kr, "user@example.org", NOW, &f),
			 TOKEN_ERR_PREFIX);
	/* Truncated and overlong. */
	assert_int_equal(verify(kr, "bceaaaaahaaaaaabkalnq@x", NOW, &f),
			 TOKEN_ERR_LENGTH);
	assert_int_equal(verify(kr, "b" KAT_PLAIN "a@x", NOW, &f),
			 TOKEN_ERR_LENGTH);
	/* 0, 1, 8 and 9 are not base32. */
	g_snprintf(bad, sizeof(bad), "b%s@x", KAT_PLAIN);
	bad[5] = '1';
	assert_int_equal(verify(kr, bad, NOW, &f), TOKEN_ERR_ALPHABET);
	/* One flipped character: the MAC no longer matches. */
	g_snprintf(bad, sizeof(bad), "b%s@x", KAT_PLAIN);
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(
		token_verify(kr, bad, strlen(bad), "b", NOW, 90, 1, &f, &e),
		TOKEN_ERR_MAC);
	assert_non_null(strstr(e->message, "MAC"));
	g_clear_error(&e);
	/* Signed with another key in the same slot. */
	token_keyring_add(other, "k1", 1, TOKEN_KEY_SIGN, OTHERKEY,
			  strlen(OTHERKEY), NULL);
	assert_int_equal(token_mint(other, 7, 42, NOW, NULL, tok, NULL), 0);
	assert_int_equal(verify(kr, tok, NOW, &f), TOKEN_ERR_MAC);
	token_keyring_free(other);
	/* Unknown slot. */
	other = token_keyring_new();
	token_keyring_add(other, "k5", 5, TOKEN_KEY_SIGN, KEY, strlen(KEY),
			  NULL);
	assert_int_equal(token_mint(other, 7, 42, NOW, NULL, tok, NULL), 0);
	assert_int_equal(verify(kr, tok, NOW, &f), TOKEN_ERR_UNKNOWN_KEY);
	token_keyring_free(other);
	/* Retired: genuine, fields filled, but refused. */
	other = token_keyring_new();
	token_keyring_add(other, "k0", 0, TOKEN_KEY_SIGN, OLDKEY,
			  strlen(OLDKEY), NULL);
	assert_int_equal(token_mint(other, 9, 1, NOW, NULL, tok, NULL), 0);
	memset(&f, 0, sizeof(f));
	assert_int_equal(verify(kr, tok, NOW, &f), TOKEN_ERR_RETIRED_KEY);
	assert_int_equal(f.account, 9);
	token_keyring_free(other);
	g_free(longer);
	token_keyring_free(kr);
}

static void
test_age(void **state)
{
	struct token_keyring *kr = kr_new();
	struct token_fields f;
	GError *e = NULL;

	/* 90 days old is still good, 91 is expired. */
	assert_int_equal(verify(kr, KAT_PLAIN, NOW + 90 * DAY_MS, &f),
			 TOKEN_ERR_NONE);
	assert_int_equal(token_verify(kr, KAT_PLAIN, TOKEN_LEN, "b",
				      NOW + 91 * DAY_MS, 90, 1, &f, &e),
			 TOKEN_ERR_EXPIRED);
	assert_non_null(strstr(e->message, "2026-01-01"));
	g_clear_error(&e);
	/* One day of clock skew is tolerated, two are not. */
	assert_int_equal(verify(kr, KAT_PLAIN, NOW - DAY_MS, &f),
			 TOKEN_ERR_NONE);
	assert_int_equal(verify(kr, KAT_PLAIN, NOW - 2 * DAY_MS, &f),
			 TOKEN_ERR_FUTURE);
	token_keyring_free(kr);
}

static void
test_keyring_rules(void **state)
{
	struct token_keyring *kr = token_keyring_new();
	char tok[TOKEN_LEN + 1];
	GError *e = NULL;

	assert_int_equal(token_mint(kr, 1, 1, NOW, NULL, tok, &e), -1);
	g_clear_error(&e);
	assert_int_equal(token_keyring_add(kr, "short", 1, TOKEN_KEY_SIGN,
					   "short", 5, &e),
			 -1);
	g_clear_error(&e);
	assert_int_equal(token_keyring_add(kr, "a", 16, TOKEN_KEY_SIGN, KEY,
					   strlen(KEY), &e),
			 -1);
	g_clear_error(&e);
	assert_int_equal(token_keyring_add(kr, "a", 1, TOKEN_KEY_SIGN, KEY,
					   strlen(KEY), NULL),
			 0);
	assert_int_equal(token_keyring_add(kr, "b", 2, TOKEN_KEY_SIGN, KEY,
					   strlen(KEY), &e),
			 -1);
	g_clear_error(&e);
	assert_int_equal(token_keyring_add(kr, "a", 3, TOKEN_KEY_VERIFY, KEY,
					   strlen(KEY), &e),
			 -1);
	g_clear_error(&e);
	assert_int_equal(
		token_mint(kr, 1, TOKEN_SERIAL_MAX + 1, NOW, NULL, tok, &e),
		-1);
	g_clear_error(&e);
	token_keyring_free(kr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_roundtrip_fields),
		cmocka_unit_test(test_case_and_verp),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_keyring_rules),
	};

	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
