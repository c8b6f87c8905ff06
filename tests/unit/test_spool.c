/* Unit tests of core/spool: durable writes, truncation flag, listing order,
 * read-back of the metadata, removal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/spool.h"

static int
setup(void **state)
{
	char *dir = g_dir_make_tmp("fbld-spool-XXXXXX", NULL);

	assert_non_null(dir);
	assert_int_equal(spool_init(dir, NULL), 0);
	*state = dir;
	return 0;
}

static int
teardown(void **state)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", (char *)*state);

	assert_int_equal(system(cmd), 0);
	g_free(cmd);
	g_free(*state);
	return 0;
}

static int
count_dir(const char *dir, const char *sub)
{
	char *p = g_build_filename(dir, sub, NULL);
	GDir *d = g_dir_open(p, 0, NULL);
	int n = 0;

	assert_non_null(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	g_free(p);
	return n;
}

static void
test_write_read_remove(void **state)
{
	const char *dir = *state;
	const char msg[] = "From: a@b\n\nhello\n";
	char *name = NULL, *data = NULL;
	char **names;
	size_t len;
	struct spool_meta meta;

	assert_int_equal(
		spool_write_mem(dir, msg, sizeof(msg) - 1, 1024, &name, NULL),
		0);
	assert_non_null(strstr(name, ",S=17"));
	assert_null(strstr(name, ",T"));
	assert_int_equal(count_dir(dir, "tmp"), 0);
	names = spool_list(dir, 10, NULL);
	assert_non_null(names[0]);
	assert_string_equal(names[0], name);
	assert_null(names[1]);
	assert_int_equal(spool_read(dir, name, &data, &len, &meta, NULL), 0);
	assert_int_equal(len, sizeof(msg) - 1);
	assert_memory_equal(data, msg, len);
	assert_int_equal(meta.truncated, 0);
	assert_int_equal(meta.orig_size, 17);
	assert_int_equal(spool_remove(dir, name, NULL), 0);
	assert_int_equal(count_dir(dir, "new"), 0);
	/* Removing twice is not an error: another run may have done it. */
	assert_int_equal(spool_remove(dir, name, NULL), 0);
	g_strfreev(names);
	g_free(data);
	g_free(name);
}

static void
test_truncation_kept_and_flagged(void **state)
{
	const char *dir = *state;
	char *big = g_strnfill(10000, 'x'), *name = NULL, *data = NULL;
	size_t len;
	struct spool_meta meta;

	assert_int_equal(spool_write_mem(dir, big, 10000, 4096, &name, NULL),
			 0);
	assert_non_null(strstr(name, ",S=10000,T"));
	assert_int_equal(spool_read(dir, name, &data, &len, &meta, NULL), 0);
	assert_int_equal(len, 4096);
	assert_int_equal(meta.truncated, 1);
	assert_int_equal(meta.orig_size, 10000);
	g_free(big);
	g_free(data);
	g_free(name);
}

static void
test_fd_and_order(void **state)
{
	const char *dir = *state;
	int fds[2];
	char *name = NULL;
	char **names;
	struct spool_meta meta;

	for (int i = 0; i < 5; i++)
		assert_int_equal(spool_write_mem(dir, "m", 1, 1024, NULL, NULL),
				 0);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "From: x\n\nbody\n", 14), 14);
	close(fds[1]);
	assert_int_equal(spool_write_fd(dir, fds[0], 8, &name, &meta, NULL), 0);
	close(fds[0]);
	assert_int_equal(meta.orig_size, 14);
	assert_int_equal(meta.truncated, 1);
	/* Oldest first, and at most max names. */
	names = spool_list(dir, 3, NULL);
	assert_int_equal(g_strv_length(names), 3);
	assert_true(strcmp(names[0], names[1]) < 0);
	assert_true(strcmp(names[1], names[2]) < 0);
	g_strfreev(names);
	names = spool_list(dir, 100, NULL);
	assert_int_equal(g_strv_length(names), 6);
	assert_string_equal(names[5], name);
	g_strfreev(names);
	g_free(name);
}

static void
test_unwritable_spool_fails_clean(void **state)
{
	const char *dir = *state;
	char *newdir = g_build_filename(dir, "new", NULL);
	GError *e = NULL;

	if (geteuid() == 0) {
		/* root ignores modes: make "new" a file instead. */
		assert_int_equal(rmdir(newdir), 0);
		assert_true(g_file_set_contents(newdir, "", 0, NULL));
	} else {
		assert_int_equal(chmod(newdir, 0500), 0);
	}
	assert_int_equal(spool_write_mem(dir, "m", 1, 1024, NULL, &e), -1);
	assert_non_null(e);
	g_error_free(e);
	/* Nothing half-written is left behind. */
	assert_int_equal(count_dir(dir, "tmp"), 0);
	if (geteuid() != 0)
		chmod(newdir, 0750);
	g_free(newdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_read_remove, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_truncation_kept_and_flagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_and_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_unwritable_spool_fails_clean, setup, teardown),
	};

	return cmocka_run_group_tests_name("spool", tests, NULL, NULL);
}
