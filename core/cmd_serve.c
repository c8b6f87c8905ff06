/* fbld serve: the daemon. */
#include <stdio.h>

#include "core/app.h"
#include "core/daemon.h"
#include "core/ingest.h"
#include "core/metrics.h"

int
cmd_serve(int argc, char **argv)
{
	struct app_opts o = { 0 };
	struct app a;
	GOptionContext *ctx = g_option_context_new("- run the fbld daemon");
	struct store *st = NULL;
	struct ingest *in = NULL;
	struct metrics *m = NULL;
	struct daemon *d = NULL;
	GError *e = NULL;
	int rc = 1;

	g_option_context_set_description(
		ctx,
		"Runs in the foreground (for systemd or `make run`): picks "
		"up spooled\nmessages, serves the tracking endpoint, /healthz "
		"and /metrics on the HTTP\nlistener ([http] listen, "
		"127.0.0.1:8025 by default), polls the [imap:NAME]\n"
		"mailboxes, scores accounts and delivers their alerts "
		"(webhooks, digest),\nruns the policy service and the admin "
		"API when configured ([policy] listen,\n[admin] token_file), "
		"and stops cleanly on SIGTERM.");
	app_add_options(ctx, &o);
	if (app_parse_options(ctx, &argc, &argv) < 0) {
		g_option_context_free(ctx);
		return 2;
	}
	g_option_context_free(ctx);
	if (app_load(&a, &o, 1, &e) < 0) {
		fprintf(stderr, "fbld serve: %s\n", e->message);
		g_error_free(e);
		app_opts_clear(&o);
		return 1;
	}
	st = store_open_config(&a.store, &e);
	if (!st)
		goto out;
	in = app_ingest(&a);
	m = metrics_new();
	d = daemon_new();
	if (app_serve_setup(&a, d, st, in, m, &e) < 0)
		goto out;
	log_notice("serve: started version=%s state_dir=%s store=%s",
		   FBLD_VERSION, config_state_dir(a.cfg), a.store.path);
	if (daemon_run(d, &e) < 0)
		goto out;
	log_notice("serve: stopped");
	rc = 0;
out:
	if (e) {
		log_err("serve: %s", e->message);
		g_error_free(e);
	}
	app_serve_teardown(&a);
	daemon_free(d);
	metrics_free(m);
	ingest_free(in);
	store_close(st);
	app_clear(&a);
	app_opts_clear(&o);
	return rc;
}
