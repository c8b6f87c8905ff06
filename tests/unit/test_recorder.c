/* Unit tests of verp/recorder: concurrent sends all committed with unique
 * serials and valid tokens, a bad record failing alone, and the
 * synchronous path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/store.h"
#include "verp/recorder.h"

#define THREADS 8
#define PER_THREAD 40
#define NOW INT64_C(1767225600000)

struct fixture {
	char path[64];
	struct store_config sc;
	struct token_keyring *kr;
	struct store *st;
	uint32_t account;
};

static int
setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	int fd;

	g_strlcpy(f->path, "/tmp/fbld-test-recorder-XXXXXX", sizeof(f->path));
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);
	f->sc.path = f->path;
	f->sc.busy_timeout_ms = 5000;
	f->kr = token_keyring_new();
	assert_int_equal(token_keyring_add(f->kr, "k1", 1, TOKEN_KEY_SIGN,
					   "recorder-test-secret-0123", 25,
					   NULL),
			 0);
	f->st = store_open_config(&f->sc, NULL);
	assert_non_null(f->st);
	assert_int_equal(
		store_account_ensure(f->st, "alice", &f->account, NULL), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *p;

	store_close(f->st);
	token_keyring_free(f->kr);
	unlink(f->path);
	p = g_strconcat(f->path, "-wal", NULL);
	unlink(p);
	g_free(p);
	p = g_strconcat(f->path, "-shm", NULL);
	unlink(p);
	g_free(p);
	g_free(f);
	return 0;
}

struct worker {
	struct recorder *rc;
	uint32_t account;
	int failures;
	uint64_t serials[PER_THREAD];
	char tokens[PER_THREAD][TOKEN_LEN + 1];
};

static gpointer
worker_run(gpointer p)
{
	struct worker *w = p;

	for (int i = 0; i < PER_THREAD; i++) {
		const char *rcpts[] = { "a@remote.test", "b@remote.test" };
		struct store_send snd = { .account = w->account,
					  .created_ms = NOW,
					  .identity_source = "sasl",
					  .rcpts = rcpts,
					  .n_rcpts = 2,
					  .size = 100 };

		if (recorder_add(w->rc, &snd, NULL, w->tokens[i], NULL) < 0)
			w->failures++;
		w->serials[i] = snd.serial;
	}
	return NULL;
}

static void
count_row(void *ud, int ncol, const char *const *cols)
{
	*(long *)ud = strtol(cols[0], NULL, 10);
}

static long
count(struct store *st, const char *sql)
{
	long n = -1;

	assert_int_equal(store_query(st, sql, count_row, &n, NULL), 0);
	return n;
}

static void
test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct recorder *rc = recorder_new(&f->sc, f->kr);
	struct worker w[THREADS];
	GThread *t[THREADS];
	GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
	uint64_t batches, sends;

	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].rc = rc;
		w[i].account = f->account;
		t[i] = g_thread_new("w", worker_run, &w[i]);
	}
	for (int i = 0; i < THREADS; i++)
		g_thread_join(t[i]);
	recorder_stats(rc, &batches, &sends);
	recorder_free(rc);
	assert_int_equal(sends, THREADS * PER_THREAD);
	assert_true(batches >= 1 && batches <= sends);
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(w[i].failures, 0);
		for (int j = 0; j < PER_THREAD; j++) {
			struct token_fields tf;

			/* Every serial once, and its token says so. */
			assert_false(
				g_hash_table_contains(seen, &w[i].serials[j]));
			g_hash_table_add(seen, &w[i].serials[j]);
			assert_int_equal(token_verify(f->kr, w[i].tokens[j],
						      TOKEN_LEN, "", NOW, 90, 1,
						      &tf, NULL),
					 TOKEN_ERR_NONE);
			assert_int_equal(tf.serial, w[i].serials[j]);
			assert_int_equal(tf.account, f->account);
		}
	}
	assert_int_equal(count(f->st, "SELECT count(*) FROM sends WHERE "
				      "token IS NOT NULL AND rcpt_count = 2"),
			 THREADS * PER_THREAD);
	assert_int_equal(count(f->st, "SELECT count(*) FROM send_rcpts"),
			 THREADS * PER_THREAD * 2);
	g_hash_table_unref(seen);
}

static gpointer
bad_run(gpointer p)
{
	struct worker *w = p;
	struct store_send snd = { .account = 999999, .created_ms = NOW };

	/* No such account: the foreign key refuses the row. */
	w->failures = recorder_add(w->rc, &snd, NULL, w->tokens[0], NULL) < 0;
	return NULL;
}

static void
test_bad_record_fails_alone(void **state)
{
	struct fixture *f = *state;
	struct recorder *rc = recorder_new(&f->sc, f->kr);
	struct worker good[4], bad = { .rc = rc };
	GThread *t[5];

	for (int i = 0; i < 4; i++) {
		memset(&good[i], 0, sizeof(good[i]));
		good[i].rc = rc;
		good[i].account = f->account;
		t[i] = g_thread_new("good", worker_run, &good[i]);
	}
	t[4] = g_thread_new("bad", bad_run, &bad);
	for (int i = 0; i < 5; i++)
		g_thread_join(t[i]);
	recorder_free(rc);
	assert_int_equal(bad.failures, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(good[i].failures, 0);
	assert_int_equal(count(f->st, "SELECT count(*) FROM sends"),
			 4 * PER_THREAD);
}

static void
test_sync(void **state)
{
	struct fixture *f = *state;
	struct store_send snd = { .account = f->account, .created_ms = NOW };
	char tok[TOKEN_LEN + 1];
	struct token_fields tf;
	uint64_t first;

	assert_int_equal(recorder_add_sync(f->st, f->kr, &snd,
					   "solo@remote.test", tok, NULL),
			 0);
	first = snd.serial;
	assert_string_equal(snd.token, tok);
	assert_int_equal(
		token_verify(f->kr, tok, TOKEN_LEN, "", NOW, 90, 1, &tf, NULL),
		TOKEN_ERR_NONE);
	assert_int_equal(
		token_recipient_matches(f->kr, &tf, "solo@remote.test"), 1);
	/* Serials follow what token mint reserves in the same table. */
	assert_int_equal(
		store_send_reserve(f->st, f->account, NOW, &snd.serial, NULL),
		0);
	assert_int_equal(snd.serial, first + 1);
	assert_int_equal(recorder_add_sync(f->st, f->kr, &snd, NULL, tok, NULL),
			 0);
	assert_int_equal(snd.serial, first + 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_record_fails_alone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
