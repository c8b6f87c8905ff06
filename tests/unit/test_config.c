/* Unit tests of core/config: typed getters, defaults, every error in one
 * pass as "file: [section] key: reason", unknown keys and sections,
 * secrets from files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"

static struct config *
load(const char *text)
{
	struct config *cfg =
		config_load_data("t.conf", text, strlen(text), NULL, NULL);

	assert_non_null(cfg);
	return cfg;
}

static void
test_defaults_without_file(void **state)
{
	struct config *cfg = config_load(NULL, NULL, NULL);
	char *p;

	assert_string_equal(config_file_name(cfg), "(defaults)");
	assert_string_equal(config_state_dir(cfg), "var");
	p = config_path(cfg, "store", "path", "fbld.db");
	assert_string_equal(p, "var/fbld.db");
	g_free(p);
	assert_int_equal(config_int(cfg, "x", "n", 7, 0, 10), 7);
	assert_int_equal(config_finish(cfg, NULL), 0);
	config_free(cfg);
}

static void
test_typed_values(void **state)
{
	struct config *cfg = load("[fbld]\nstate_dir = /srv/fbld\n"
				  "[a]\nn = 42\nsize = 10M\nt = 250ms\n"
				  "d = 90d\nb = yes\ne = Syslog\n"
				  "l = a, b  c\n");
	static const char *const dests[] = { "stderr", "syslog", NULL };
	char **l;
	char *p;

	assert_string_equal(config_state_dir(cfg), "/srv/fbld");
	assert_int_equal(config_int(cfg, "a", "n", 0, 0, 100), 42);
	assert_int_equal(config_size(cfg, "a", "size", 0, 0, INT64_MAX),
			 10 << 20);
	assert_int_equal(config_duration_ms(cfg, "a", "t", 0, 0, INT64_MAX),
			 250);
	assert_int_equal(config_duration_ms(cfg, "a", "d", 0, 0, INT64_MAX),
			 INT64_C(90) * 86400000);
	assert_int_equal(config_bool(cfg, "a", "b", 0), 1);
	assert_int_equal(config_enum(cfg, "a", "e", 0, dests), 1);
	l = config_list(cfg, "a", "l", NULL);
	assert_int_equal(g_strv_length(l), 3);
	assert_string_equal(l[2], "c");
	g_strfreev(l);
	p = config_path(cfg, "store", "path", "fbld.db");
	assert_string_equal(p, "/srv/fbld/fbld.db");
	g_free(p);
	assert_int_equal(config_finish(cfg, NULL), 0);
	config_free(cfg);
}

static void
test_all_errors_reported(void **state)
{
	struct config *cfg = load("[http]\nthreads = many\nmax = 999\n"
				  "typo = 1\n[nosuch]\nx = 1\n"
				  "[log]\nlevel = loud\n");
	static const char *const levels[] = { "err", "info", NULL };
	GError *e = NULL;

	/* Each bad value gives back its default... */
	assert_int_equal(config_int(cfg, "http", "threads", 2, 1, 64), 2);
	assert_int_equal(config_int(cfg, "http", "max", 5, 1, 100), 5);
	assert_int_equal(config_enum(cfg, "log", "level", 1, levels), 1);
	/* ... and finish reports them all, with the unknown ones. */
	assert_int_equal(config_finish(cfg, &e), -1);
	assert_non_null(strstr(e->message, "t.conf: [http] threads: \"many\" "
					   "is not a whole number"));
	assert_non_null(strstr(e->message, "t.conf: [http] max: 999 is out of "
					   "range (1 to 100)"));
	assert_non_null(strstr(e->message, "t.conf: [http] typo: unknown key"));
	assert_non_null(
		strstr(e->message, "t.conf: [nosuch]: unknown section"));
	assert_non_null(strstr(e->message, "t.conf: [log] level: \"loud\" is "
					   "not one of err, info"));
	g_error_free(e);
	config_free(cfg);
}

/* config_check(): value errors only, for a program that reads only its own
 * sections (fbld-ingest); unknown keys and sections are not its business. */
static void
test_check_value_errors_only(void **state)
{
	struct config *cfg = load("[spool]\nmax_message_size = 1M\n"
				  "[webhook:x]\nurl = y\n[http]\ntypo = 1\n");
	GError *e = NULL;

	assert_int_equal(config_size(cfg, "spool", "max_message_size", 10, 1,
				     (int64_t)1 << 30),
			 1 << 20);
	assert_int_equal(config_check(cfg, &e), 0);
	assert_null(e);
	/* The same file fails the full check... */
	assert_int_equal(config_finish(cfg, &e), -1);
	assert_non_null(strstr(e->message, "t.conf: [http]: unknown section"));
	g_clear_error(&e);
	config_free(cfg);

	/* ... and a bad value in a key that was read fails both. */
	cfg = load("[spool]\nmax_message_size = lots\n[nosuch]\nx = 1\n");
	assert_int_equal(
		config_size(cfg, "spool", "max_message_size", 10, 1, 100), 10);
	assert_int_equal(config_check(cfg, &e), -1);
	assert_non_null(strstr(e->message, "t.conf: [spool] max_message_size: "
					   "\"lots\""));
	assert_null(strstr(e->message, "nosuch"));
	g_clear_error(&e);
	assert_int_equal(config_finish(cfg, &e), -1);
	assert_non_null(strstr(e->message, "[spool] max_message_size: "));
	assert_non_null(
		strstr(e->message, "t.conf: [nosuch]: unknown section"));
	g_error_free(e);
	config_free(cfg);
}

static void
test_sections_and_secrets(void **state)
{
	char path[] = "/tmp/fbld-secret-XXXXXX";
	int fd = mkstemp(path);
	char *text, *secret;
	char **names;
	struct config *cfg;
	GError *e = NULL;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret-value\n", 13), 13);
	close(fd);
	text = g_strdup_printf("[imap:yahoo]\nsecret_file = %s\n"
			       "[imap:aol]\nsecret_file = /nonexistent/x\n"
			       "[imap:none]\n",
			       path);
	cfg = load(text);
	names = config_sections(cfg, "imap");
	assert_int_equal(g_strv_length(names), 3);
	assert_string_equal(names[0], "yahoo");
	secret = config_secret(cfg, "imap:yahoo", "secret_file", 1);
	assert_string_equal(secret, "s3cret-value");
	g_free(secret);
	assert_null(config_secret(cfg, "imap:aol", "secret_file", 1));
	assert_null(config_secret(cfg, "imap:none", "secret_file", 1));
	assert_int_equal(config_finish(cfg, &e), -1);
	assert_non_null(strstr(e->message, "[imap:aol] secret_file: "));
	assert_non_null(
		strstr(e->message, "[imap:none] secret_file: required"));
	assert_null(strstr(e->message, "[imap:yahoo]"));
	g_error_free(e);
	g_strfreev(names);
	config_free(cfg);
	g_free(text);
	unlink(path);
}

static void
test_unreadable_and_invalid(void **state)
{
	GError *e = NULL;

	assert_null(config_load("/nonexistent/fbld.conf", NULL, &e));
	assert_non_null(strstr(e->message, "/nonexistent/fbld.conf"));
	g_clear_error(&e);
	assert_null(config_load_data("bad.conf", "no section here\n", 16, NULL,
				     &e));
	assert_non_null(strstr(e->message, "bad.conf"));
	g_clear_error(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_without_file),
		cmocka_unit_test(test_typed_values),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_check_value_errors_only),
		cmocka_unit_test(test_sections_and_secrets),
		cmocka_unit_test(test_unreadable_and_invalid),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
