/*
 * Golden files of the fbl classifiers: every tests/data/fbl/NAME.eml (and
 * NAME.xml) through the ingest router with the fbl classifiers and a token
 * resolver on a fixed key and clock, printed as `fbld parse` prints it and
 * compared with NAME.json. `make golden-fbl` rewrites the .json files
 * (FBLD_GOLDEN_REGEN=1); review the diff before committing it.
 *
 * The fixtures carry tokens minted with GOLDEN_KEY on 2026-01-01 for
 * accounts 42 (serials 1001, 1002), 7 (3003), 9 (4004) and 11 (5005).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/ingest.h"
#include "fbl/fbl.h"
#include "verp/keys.h"

#define DATA "tests/data/fbl"
#define GOLDEN_KEY "golden-key-0123456789abcdef"
/* 2026-01-02T00:00:00Z: the fixtures' tokens are a day old. */
#define NOW INT64_C(1767312000000)

struct golden {
	struct token_config tc;
	struct ingest *in;
};

static int
golden_resolve(void *ud, const char *hint, struct report_token *tok)
{
	return token_resolve(ud, hint, NOW, tok);
}

static int
setup(void **state)
{
	struct golden *g = g_new0(struct golden, 1);

	g->tc.prefix = g_strdup("b");
	g->tc.bounce_domain = g_strdup("bounce.provider.example");
	g->tc.max_age_days = 90;
	g->tc.future_days = 1;
	g->tc.keys = token_keyring_new();
	assert_int_equal(token_keyring_add(g->tc.keys, "g1", 1, TOKEN_KEY_SIGN,
					   GOLDEN_KEY, strlen(GOLDEN_KEY),
					   NULL),
			 0);
	g->in = ingest_new();
	fbl_register(g->in);
	ingest_set_token_resolver(g->in, golden_resolve, &g->tc);
	*state = g;
	return 0;
}

static int
teardown(void **state)
{
	struct golden *g = *state;

	ingest_free(g->in);
	token_config_clear(&g->tc);
	g_free(g);
	return 0;
}

/* The pretty JSON of one input, as `fbld parse` would report it. */
static char *
golden_json(struct golden *g, const char *path)
{
	char *data, *base = g_path_get_basename(path), *s;
	gsize len;
	struct report *r;
	JsonNode *node;

	assert_true(g_file_get_contents(path, &data, &len, NULL));
	r = ingest_classify(g->in, data, len);
	node = report_to_json(r, base);
	s = json_to_string(node, TRUE);
	json_node_unref(node);
	report_free(r);
	g_free(data);
	g_free(base);
	return s;
}

static int
golden_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *
golden_inputs(void)
{
	GDir *d = g_dir_open(DATA, 0, NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	const char *n;

	assert_non_null(d);
	while ((n = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(n, ".eml") || g_str_has_suffix(n, ".xml"))
			g_ptr_array_add(names, g_strdup(n));
	g_dir_close(d);
	g_ptr_array_sort(names, golden_cmp);
	return names;
}

static void
test_golden(void **state)
{
	struct golden *g = *state;
	GPtrArray *names = golden_inputs();
	int regen = g_getenv("FBLD_GOLDEN_REGEN") != NULL, bad = 0;

	assert_true(names->len >= 20);
	for (guint i = 0; i < names->len; i++) {
		const char *n = names->pdata[i];
		char *path = g_build_filename(DATA, n, NULL);
		char *stem = g_strndup(n, strrchr(n, '.') - n);
		char *jpath = g_strdup_printf("%s/%s.json", DATA, stem);
		char *got = golden_json(g, path), *want = NULL, *line;

		line = g_strconcat(got, "\n", NULL);
		if (regen) {
			assert_true(g_file_set_contents(jpath, line, -1, NULL));
			printf("wrote %s\n", jpath);
		} else if (!g_file_get_contents(jpath, &want, NULL, NULL) ||
			   strcmp(want, line) != 0) {
			printf("MISMATCH %s\n--- want (%s)\n%s--- got\n%s", n,
			       jpath, want ? want : "(missing)\n", line);
			bad++;
		} else {
			printf("ok %s\n", n);
		}
		g_free(want);
		g_free(line);
		g_free(got);
		g_free(jpath);
		g_free(stem);
		g_free(path);
	}
	printf("%u golden files, %d mismatches\n", names->len, bad);
	g_ptr_array_free(names, TRUE);
	assert_int_equal(bad, 0);
}

/* CRLF and LF copies of a report say the same. */
static void
test_line_ends(void **state)
{
	struct golden *g = *state;
	char *lf = golden_json(g, DATA "/arf-token-header.eml");
	char *crlf = golden_json(g, DATA "/arf-token-header-crlf.eml");
	char *p = strstr(crlf, "arf-token-header-crlf.eml");

	assert_non_null(p);
	memmove(p + strlen("arf-token-header"),
		p + strlen("arf-token-header-crlf"),
		strlen(p + strlen("arf-token-header-crlf")) + 1);
	assert_string_equal(lf, crlf);
	g_free(lf);
	g_free(crlf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_line_ends),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
