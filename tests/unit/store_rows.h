/*
 * Unit-test helpers over core/store: the rows of a read-only query as
 * "a|b\n" lines (a NULL column shown as NULL), and an assertion on them
 * that prints the query, what it gave and what was wanted. Include after
 * <cmocka.h> and "core/store.h".
 */
#ifndef FBLD_TEST_STORE_ROWS_H
#define FBLD_TEST_STORE_ROWS_H

#include <string.h>

static inline void
test_rows_line(void *ud, int ncol, const char *const *cols)
{
	GString *s = ud;

	for (int i = 0; i < ncol; i++)
		g_string_append_printf(s, "%s%s", i ? "|" : "",
				       cols[i] ? cols[i] : "NULL");
	g_string_append_c(s, '\n');
}

/* The rows of a query; the query must succeed. Caller frees. */
static inline char *
test_rows(struct store *st, const char *sql)
{
	GString *s = g_string_new(NULL);

	assert_int_equal(store_query(st, sql, test_rows_line, s, NULL), 0);
	return g_string_free(s, FALSE);
}

static inline void
assert_rows(struct store *st, const char *sql, const char *want)
{
	char *got = test_rows(st, sql);

	if (strcmp(got, want) != 0)
		fail_msg("%s\n--- want\n%s--- got\n%s", sql, want, got);
	g_free(got);
}

#endif
