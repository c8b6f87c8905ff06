/* Unit tests of core/jsonval: bounded parsing of untrusted JSON and the
 * typed accessors' answers for missing, mistyped and NULL members. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/jsonval.h"

static void
test_parse_limits(void **state)
{
	GError *e = NULL;
	GString *deep = g_string_new(NULL);
	JsonNode *n;

	for (int i = 0; i < 100000; i++)
		g_string_append_c(deep, '[');
	for (int i = 0; i < 100000; i++)
		g_string_append_c(deep, ']');
	assert_null(jsonval_parse(deep->str, -1, 1 << 20, 64, &e));
	assert_non_null(strstr(e->message, "nested deeper than 64"));
	g_clear_error(&e);
	assert_null(jsonval_parse(deep->str, -1, 100, 64, &e));
	assert_non_null(strstr(e->message, "at most 100"));
	g_clear_error(&e);
	/* Brackets inside strings do not count as nesting. */
	n = jsonval_parse("{\"a\": \"[[[[[[[[[[\"}", -1, 100, 2, &e);
	assert_non_null(n);
	assert_string_equal(jsonval_str(jsonval_root_object(n), "a"),
			    "[[[[[[[[[[");
	json_node_unref(n);
	assert_null(jsonval_parse("{\"a\": ", -1, 100, 8, &e));
	assert_non_null(e);
	g_clear_error(&e);
	g_string_free(deep, TRUE);
}

static void
test_accessors(void **state)
{
	JsonNode *n =
		jsonval_parse("{\"s\": \"x\", \"i\": 42, \"d\": 2.5, "
			      "\"o\": {\"k\": \"v\"}, \"a\": [\"p\", {}], "
			      "\"z\": null, \"big\": 1e300, \"neg\": -9.3e18}",
			      -1, 1000, 8, NULL);
	JsonObject *o = jsonval_root_object(n);

	assert_non_null(o);
	assert_string_equal(jsonval_str(o, "s"), "x");
	assert_null(jsonval_str(o, "i"));
	assert_null(jsonval_str(o, "missing"));
	assert_null(jsonval_str(NULL, "s"));
	assert_int_equal(jsonval_int(o, "i", -1), 42);
	assert_int_equal(jsonval_int(o, "d", -1), 2);
	assert_int_equal(jsonval_int(o, "s", -1), -1);
	/* Out of the range of int64_t (json-glib reads 1e999 as inf). */
	assert_int_equal(jsonval_int(o, "big", -1), -1);
	assert_int_equal(jsonval_int(o, "neg", -1), -1);
	assert_null(jsonval_arr_obj(jsonval_arr(o, "a"), 0));
	assert_string_equal(jsonval_str(jsonval_obj(o, "o"), "k"), "v");
	assert_null(jsonval_obj(o, "a"));
	assert_string_equal(jsonval_arr_str(jsonval_arr(o, "a"), 0), "p");
	assert_null(jsonval_arr_str(jsonval_arr(o, "a"), 1));
	assert_non_null(jsonval_arr_obj(jsonval_arr(o, "a"), 1));
	assert_null(jsonval_arr_obj(jsonval_arr(o, "a"), 9));
	assert_null(jsonval_arr_str(NULL, 0));
	assert_true(jsonval_null(o, "z"));
	assert_true(jsonval_null(o, "missing"));
	assert_false(jsonval_null(o, "s"));
	json_node_unref(n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_accessors),
	};

	return cmocka_run_group_tests_name("jsonval", tests, NULL, NULL);
}
