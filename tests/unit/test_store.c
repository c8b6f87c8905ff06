/* Unit tests of core/store on a real SQLite database (in memory and in a
 * temporary file): migrations, accounts, report dedup, event dedup, account
 * states and overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/store.h"

static int
setup(void **state)
{
	struct store *st = store_open(":memory:", 1000, NULL);

	assert_non_null(st);
	*state = st;
	return 0;
}

static int
teardown(void **state)
{
	store_close(*state);
	return 0;
}

static void
count_row(void *ud, int ncol, const char *const *cols)
{
	*(long *)ud = cols[0] ? strtol(cols[0], NULL, 10) : -1;
}

static void
text_row(void *ud, int ncol, const char *const *cols)
{
	g_strlcpy(ud, cols[0] ? cols[0] : "", 16);
}

static long
count(struct store *st, const char *sql)
{
	long n = -2;

	assert_int_equal(store_query(st, sql, count_row, &n, NULL), 0);
	return n;
}

static void
test_migrations_reopen(void **state)
{
	char path[] = "/tmp/fbld-test-store-XXXXXX";
	int fd = mkstemp(path);
	struct store *st;
	uint32_t id, again;

	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	st = store_open(path, 1000, NULL);
	assert_non_null(st);
	assert_int_equal(store_account_ensure(st, "acme", &id, NULL), 0);
	assert_int_equal(count(st, "PRAGMA user_version"),
			 store_schema_version());
	store_close(st);
	/* Reopening migrates nothing and keeps the data. */
	st = store_open(path, 1000, NULL);
	assert_non_null(st);
	assert_int_equal(store_account_find(st, "acme", &again, NULL), 0);
	assert_int_equal(id, again);
	{
		char mode[16] = "";
		assert_int_equal(
			store_query(
				st,
				"SELECT journal_mode FROM pragma_journal_mode",
				text_row, mode, NULL),
			0);
		assert_string_equal(mode, "wal");
	}
	store_close(st);
	unlink(path);
	g_autofree char *wal = g_strdup_printf("%s-wal", path);
	g_autofree char *shm = g_strdup_printf("%s-shm", path);
	unlink(wal);
	unlink(shm);
}

static void
test_accounts(void **state)
{
	struct store *st = *state;
	uint32_t a, b, c;
	char *name = NULL;

	assert_int_equal(store_account_find(st, "nobody", &a, NULL), 1);
	assert_int_equal(store_account_ensure(st, "acme", &a, NULL), 0);
	assert_int_equal(store_account_ensure(st, "globex", &b, NULL), 0);
	assert_int_equal(store_account_ensure(st, "acme", &c, NULL), 0);
	assert_int_equal(a, c);
	assert_int_not_equal(a, b);
	assert_int_equal(store_account_name(st, b, &name, NULL), 0);
	assert_string_equal(name, "globex");
	g_free(name);
	assert_int_equal(store_account_name(st, 999, &name, NULL), 1);
}

static void
test_report_dedup(void **state)
{
	struct store *st = *state;
	const char raw[] = "From: a@b\n\nbody\n";
	struct store_report r = { .received_ms = 1,
				  .source = "test",
				  .raw = raw,
				  .size = sizeof(raw) - 1,
				  .orig_size = sizeof(raw) - 1 };
	int64_t id1, id2, id3;
	int dup;

	assert_int_equal(store_report_add(st, &r, &id1, &dup, NULL), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(store_report_add(st, &r, &id2, &dup, NULL), 0);
	assert_int_equal(dup, 1);
	assert_int_equal(id1, id2);
	r.size--;
	assert_int_equal(store_report_add(st, &r, &id3, &dup, NULL), 0);
	assert_int_equal(dup, 0);
	assert_int_not_equal(id1, id3);
	assert_int_equal(count(st, "SELECT count(*) FROM reports"), 2);
	assert_int_equal(count(st, "SELECT count(*) FROM reports WHERE kind = "
				   "'unclassified'"),
			 2);
}

static void
test_event_dedup(void **state)
{
	struct store *st = *state;
	struct store_event ev = { .ts_ms = 5,
				  .type = "bounce",
				  .account = -1,
				  .send = -1,
				  .report = -1,
				  .recipient = "x@example.org",
				  .dedup = "bounce:1:x@example.org" };
	int dup;

	assert_int_equal(store_event_add(st, &ev, &dup, NULL), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(store_event_add(st, &ev, &dup, NULL), 0);
	assert_int_equal(dup, 1);
	ev.dedup = NULL; /* no key: never deduplicated */
	assert_int_equal(store_event_add(st, &ev, &dup, NULL), 0);
	assert_int_equal(store_event_add(st, &ev, &dup, NULL), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(count(st, "SELECT count(*) FROM events"), 3);
}

static void
test_states_and_overrides(void **state)
{
	struct store *st = *state;
	struct store_account_state s;
	uint32_t id;

	assert_int_equal(store_account_ensure(st, "acme", &id, NULL), 0);
	assert_int_equal(store_account_state_get(st, id, 0, &s, NULL), 0);
	assert_string_equal(s.effective, "ok");
	store_account_state_clear(&s);
	assert_int_equal(store_account_set_state(st, id, 100, "throttle",
						 "scoring", "[\"why\"]", 50,
						 NULL),
			 0);
	/* Unchanged: no second history row. */
	assert_int_equal(store_account_set_state(st, id, 200, "throttle",
						 "scoring", "[]", 60, NULL),
			 0);
	assert_int_equal(count(st, "SELECT count(*) FROM state_history"), 1);
	assert_int_equal(store_account_override(st, id, 300, "ok",
						"customer verified", 1000,
						NULL),
			 0);
	/* The same pin again (a new expiry) adds no history row. */
	assert_int_equal(store_account_override(st, id, 310, "ok",
						"customer verified", 1000,
						NULL),
			 0);
	assert_int_equal(count(st, "SELECT count(*) FROM state_history WHERE "
				   "source = 'operator'"),
			 1);
	assert_int_equal(store_account_state_get(st, id, 500, &s, NULL), 0);
	assert_string_equal(s.state, "throttle");
	assert_string_equal(s.effective, "ok");
	assert_string_equal(s.override_reason, "customer verified");
	store_account_state_clear(&s);
	/* Past its expiry the override no longer applies. */
	assert_int_equal(store_account_state_get(st, id, 1000, &s, NULL), 0);
	assert_string_equal(s.effective, "throttle");
	store_account_state_clear(&s);
	assert_int_equal(
		store_account_override(st, id, 1100, NULL, "cleared", 0, NULL),
		0);
	assert_int_equal(count(st, "SELECT count(*) FROM state_history WHERE "
				   "source = 'operator'"),
			 2);
	assert_int_equal(store_account_set_state(st, 12345, 1, "block",
						 "scoring", "[]", 0, NULL),
			 -1);
}

static void
test_query_is_read_only(void **state)
{
	GError *e = NULL;

	assert_int_equal(
		store_query(*state, "DELETE FROM events", count_row, NULL, &e),
		-1);
	assert_non_null(e);
	g_error_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations_reopen),
		cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_dedup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_event_dedup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_states_and_overrides,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_is_read_only, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
