/* fbld check-config [FILE]: read a configuration and report every mistake
 * as "file: [section] key: reason", one per line. */
#include <stdio.h>

#include "core/app.h"

int
cmd_check_config(int argc, char **argv)
{
	struct app_opts o = { 0 };
	struct app a;
	GOptionContext *ctx = g_option_context_new("[FILE]");
	GError *e = NULL;
	GOptionEntry entries[] = {
		{ "keys", 0, 0, G_OPTION_ARG_NONE, &o.keys,
		  "Also print every key the modules read (\"section key\", "
		  "named sections as [name:*])",
		  NULL },
		G_OPTION_ENTRY_NULL
	};
	int rc = 0;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_summary(
		ctx, "Read a configuration file (FILE, --config, or "
		     "$FBLD_CONFIG) with every\nmodule's rules and report each "
		     "mistake as \"file: [section] key: reason\".");
	app_add_options(ctx, &o);
	if (app_parse_options(ctx, &argc, &argv) < 0) {
		g_option_context_free(ctx);
		return 2;
	}
	g_option_context_free(ctx);
	if (argc > 1) {
		g_free(o.config_file);
		o.config_file = g_strdup(argv[1]);
	}
	if (app_load(&a, &o, 0, &e) < 0) {
		fprintf(stderr, "%s\n", e->message);
		g_error_free(e);
		rc = 1;
	} else {
		printf("%s: ok\n", config_file_name(a.cfg));
	}
	for (char **k = o.keys_read; k && *k; k++)
		printf("%s\n", *k);
	app_clear(&a);
	app_opts_clear(&o);
	return rc;
}
