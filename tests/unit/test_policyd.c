/* Unit tests of verp/policyd: the policy service answers without its store
 * ([policy] fail_open), spoken to over a real loopback connection as
 * Postfix does, and counts the failures. The store is made unusable by
 * placing its path under a regular file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "core/metrics.h"
#include "core/store.h"
#include "verp/identity.h"
#include "verp/policy.h"
#include "verp/policyd.h"

#define REQUEST                                                                \
	"request=smtpd_access_policy\nprotocol_state=RCPT\n"                   \
	"protocol_name=ESMTP\nclient_address=127.0.0.1\n"                      \
	"sasl_method=PLAIN\nsasl_username=alice\n"                             \
	"recipient=r@remote.test.invalid\ninstance=i1\n\n"

static const struct policy_config pol = {
	.rate_limit = 100,
	.rate_window_ms = 3600000,
	.local_throttle = POLICY_DEFER,
	.local_block = POLICY_HOLD,
};

/* One request on a fresh connection to a policy service whose store path
 * lies under a regular file; the reply, and the metrics afterwards. */
static char *
ask_without_store(int fail_open, char **metrics_text)
{
	char address[] = "127.0.0.1";
	char *dir = g_dir_make_tmp("fbld-policyd-XXXXXX", NULL);
	char *file = g_build_filename(dir, "not-a-directory", NULL);
	struct store_config sc = {
		.path = g_build_filename(file, "fbld.db", NULL),
		.busy_timeout_ms = 100,
	};
	struct policyd_config pc = {
		.address = address,
		.fail_open = fail_open,
		.max_connections = 4,
		.idle_timeout_ms = 10000,
	};
	struct identity_config ic = { 0 };
	struct metrics *m = metrics_new();
	struct policyd *pd;
	GSocketClient *client = g_socket_client_new();
	GSocketConnection *conn;
	GDataInputStream *in;
	char *line, *empty, *reply;

	assert_true(g_file_set_contents(file, "", 0, NULL));
	pd = policyd_new(&pc, &ic, &pol, &sc, m);
	assert_int_equal(policyd_start(pd, NULL), 0);
	conn = g_socket_client_connect_to_host(
		client, "127.0.0.1", (guint16)policyd_port(pd), NULL, NULL);
	assert_non_null(conn);
	assert_true(g_output_stream_write_all(
		g_io_stream_get_output_stream(G_IO_STREAM(conn)), REQUEST,
		strlen(REQUEST), NULL, NULL, NULL));
	in = g_data_input_stream_new(
		g_io_stream_get_input_stream(G_IO_STREAM(conn)));
	line = g_data_input_stream_read_line(in, NULL, NULL, NULL);
	empty = g_data_input_stream_read_line(in, NULL, NULL, NULL);
	assert_non_null(line);
	assert_string_equal(empty, "");
	reply = g_strdup(line);
	g_object_unref(in);
	g_object_unref(conn);
	g_object_unref(client);
	policyd_free(pd);
	*metrics_text = metrics_render(m);
	metrics_free(m);
	g_free(line);
	g_free(empty);
	g_unlink(file);
	g_rmdir(dir);
	g_free(sc.path);
	g_free(file);
	g_free(dir);
	return reply;
}

static void
test_store_unavailable_fail_open(void **state)
{
	char *metrics;
	char *reply = ask_without_store(1, &metrics);

	assert_string_equal(reply, "action=DUNNO");
	assert_non_null(
		strstr(metrics, "\nfbld_policy_store_failures_total 1\n"));
	assert_non_null(strstr(
		metrics, "fbld_policy_requests_total{action=\"dunno\"} 1"));
	g_free(reply);
	g_free(metrics);
	(void)state;
}

static void
test_store_unavailable_fail_closed(void **state)
{
	char *metrics;
	char *reply = ask_without_store(0, &metrics);

	assert_true(g_str_has_prefix(reply, "action=DEFER_IF_PERMIT 4.3.0 "));
	assert_non_null(
		strstr(metrics, "\nfbld_policy_store_failures_total 1\n"));
	g_free(reply);
	g_free(metrics);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_unavailable_fail_open),
		cmocka_unit_test(test_store_unavailable_fail_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
