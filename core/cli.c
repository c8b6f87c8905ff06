/* cli: see cli.h. */
#include "core/cli.h"

#include <stdio.h>

void
cli_add_options(GOptionContext *ctx, char **config_file, char **state_dir,
		int *verbose)
{
	GOptionEntry entries[] = {
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, config_file,
		  "Configuration file (default: $FBLD_CONFIG, else built-in "
		  "defaults)",
		  "FILE" },
		{ "state-dir", 0, 0, G_OPTION_ARG_FILENAME, state_dir,
		  "State directory (default: [fbld] state_dir, else ./var)",
		  "DIR" },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, verbose,
		  "Log at debug level", NULL },
		G_OPTION_ENTRY_NULL
	};
	GOptionGroup *g = g_option_group_new(
		"common", "Common options:", "Show common options", NULL, NULL);

	g_option_group_add_entries(g, entries);
	g_option_context_add_group(ctx, g);
}

int
cli_parse(GOptionContext *ctx, int *argc, char ***argv)
{
	GError *e = NULL;

	if (!g_option_context_parse(ctx, argc, argv, &e)) {
		fprintf(stderr, "fbld: %s (see --help)\n", e->message);
		g_error_free(e);
		return -1;
	}
	return 0;
}

const char *
cli_config_file(const char *given)
{
	const char *file = given ? given : g_getenv("FBLD_CONFIG");

	return file && *file ? file : NULL;
}
