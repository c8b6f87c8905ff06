/*
 * cli: the options every command takes (--config, --state-dir, --verbose)
 * and the parsing of a command line, shared by `fbld` (core/app.c) and the
 * lean `fbld-ingest` (core/handover.c), which links nothing else of the
 * composition root. GLib only.
 *
 * Strings filled by the options belong to the caller (g_free).
 */
#ifndef FBLD_CLI_H
#define FBLD_CLI_H

#include <glib.h>

/* Adds the "common" group: --config into *config_file, --state-dir into
 * *state_dir, --verbose into *verbose. */
void cli_add_options(GOptionContext *ctx, char **config_file, char **state_dir,
		     int *verbose);

/* Parses options; prints the error and returns -1 on a bad command line. */
int cli_parse(GOptionContext *ctx, int *argc, char ***argv);

/* The configuration file to read: given (--config), else $FBLD_CONFIG,
 * else NULL (built-in defaults); an empty name counts as none. */
const char *cli_config_file(const char *given);

#endif
