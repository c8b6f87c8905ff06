/* fbld report: what happened over the last day (or --since), for people,
 * or --json (the admin API's GET /api/v1/report). */
#include <stdio.h>

#include "core/app.h"
#include "scoring/accounts.h"
#include "scoring/render.h"

int
cmd_report(int argc, char **argv)
{
	struct app_opts ao = { 0 };
	gboolean json = FALSE;
	char *since = NULL;
	GOptionEntry entries[] = {
		{ "since", 0, 0, G_OPTION_ARG_STRING, &since,
		  "Start: a duration back from now (default 24h) or a time "
		  "(2026-02-01T00:00:00Z)",
		  "T" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new("- summary of a day");
	int64_t now_ms = g_get_real_time() / 1000, since_ms;
	struct store *st = NULL;
	JsonNode *v = NULL;
	struct app a;
	GError *e = NULL;
	int rc = 1;

	g_option_context_set_summary(
		ctx, "Traffic of all accounts, the state changes with their "
		     "reasons, the accounts\nnot ok now, those with the most "
		     "complaints and hard bounces, and the\nalert deliveries "
		     "(with those given up).");
	g_option_context_add_main_entries(ctx, entries, NULL);
	app_add_options(ctx, &ao);
	if (app_parse_options(ctx, &argc, &argv) < 0 || argc != 1) {
		if (argc != 1)
			fprintf(stderr, "fbld report: no arguments expected\n");
		rc = 2;
		goto out;
	}
	if (accounts_parse_since(since ? since : "24h", now_ms, &since_ms, &e) <
	    0) {
		rc = 2;
		goto out;
	}
	if (app_load(&a, &ao, 0, &e) < 0)
		goto out;
	st = store_open_config(&a.store, &e);
	if (st)
		v = accounts_report(st, since_ms, now_ms + 1, &e);
	if (v) {
		char *s = json ? json_to_string(v, TRUE)
			       : render_report(json_node_get_object(v));

		printf("%s%s", s, json ? "\n" : "");
		g_free(s);
		json_node_unref(v);
		rc = 0;
	}
	store_close(st);
	app_clear(&a);
out:
	if (e) {
		fprintf(stderr, "fbld report: %s\n", e->message);
		g_error_free(e);
	}
	g_option_context_free(ctx);
	g_free(since);
	app_opts_clear(&ao);
	return rc;
}
