/*
 * fbld: feedback-loop and engagement daemon for shared mail servers.
 * main: dispatches the subcommand; each lives in core/cmd_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "core/app.h"

struct fbld_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct fbld_cmd fbld_cmds[] = {
	{ "serve", cmd_serve,
	  "run the daemon: spool pickup, HTTP endpoint, pollers, scoring" },
	{ "ingest", cmd_ingest,
	  "store one message from stdin in the spool (MTA pipe transport)" },
	{ "parse", cmd_parse,
	  "classify messages offline and print one JSON line each" },
	{ "token", cmd_token,
	  "mint/verify VERP tokens, tracking URLs (MTAs without a milter)" },
	{ "reports", cmd_reports, "list the raw reports kept in the store" },
	{ "accounts", cmd_accounts,
	  "list accounts, show one, or pin an account's state" },
	{ "report", cmd_report,
	  "a summary of the last day for people (or --json)" },
	{ "milter", cmd_milter,
	  "mark, record and police outbound mail (Postfix/Sendmail milter)" },
	{ "replay", cmd_replay,
	  "replay a JSON-lines stream of events through scoring" },
	{ "check-config", cmd_check_config,
	  "read a configuration file and report every mistake" },
};

static void
fbld_usage(FILE *out)
{
	fprintf(out,
		"Usage: fbld COMMAND [OPTIONS...]\n\n"
		"fbld ties bounces, complaints, opens and clicks back to the "
		"account that\nsent the mail, scores every account and acts "
		"on the bad ones.\n\nCommands:\n");
	for (size_t i = 0; i < G_N_ELEMENTS(fbld_cmds); i++)
		fprintf(out, "  %-14s %s\n", fbld_cmds[i].name,
			fbld_cmds[i].summary);
	fprintf(out, "\n`fbld COMMAND --help` shows the options of one "
		     "command. Documentation: docs/.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fbld_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fbld_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 ||
	    strcmp(argv[1], "version") == 0) {
		printf("fbld %s\n", FBLD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(fbld_cmds); i++)
		if (strcmp(argv[1], fbld_cmds[i].name) == 0)
			return fbld_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "fbld: unknown command \"%s\"\n\n", argv[1]);
	fbld_usage(stderr);
	return 2;
}
