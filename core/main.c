/*
 * fbld: feedback-loop and engagement daemon for shared mail servers.
 * main: dispatches the subcommand; each lives in core/cmd_*.c.
 *
 * This file is built twice. As `fbld-daemon` (FBLD_FRONT_END undefined) it
 * runs every subcommand. As `fbld`, the front end, it runs parse, token,
 * ingest and check-config itself, linked against GMime, json-glib and
 * SQLite only (libxml2 and libarchive are opened at the first DMARC
 * report, fbl/dmarc_libs.h), and hands every other subcommand to the
 * fbld-daemon in its own directory with execv(), argv unchanged: the
 * process id stays, and ps and the logs still say fbld. Loading and
 * relocating the sixty shared objects that libcurl, libetpan,
 * libmicrohttpd and libmilter bring cost every `fbld parse` or
 * `fbld token mint` about 20 ms of CPU (docs/bounces.md, Speed).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/app.h"

#ifdef FBLD_FRONT_END
#define FBLD_IN_DAEMON(fn) NULL
#else
#define FBLD_IN_DAEMON(fn) fn
#endif

struct fbld_cmd {
	const char *name;
	int (*fn)(int argc, char **argv); /* NULL: run by fbld-daemon */
	const char *summary;
};

static const struct fbld_cmd fbld_cmds[] = {
	{ "serve", FBLD_IN_DAEMON(cmd_serve),
	  "run the daemon: spool pickup, HTTP endpoint, pollers, scoring" },
	{ "ingest", cmd_ingest,
	  "store one message from stdin in the spool (MTA pipe transport)" },
	{ "parse", cmd_parse,
	  "classify messages offline and print one JSON line each" },
	{ "token", cmd_token,
	  "mint/verify VERP tokens, tracking URLs (MTAs without a milter)" },
	{ "reports", FBLD_IN_DAEMON(cmd_reports),
	  "list the raw reports kept in the store" },
	{ "accounts", FBLD_IN_DAEMON(cmd_accounts),
	  "list accounts, show one, or pin an account's state" },
	{ "report", FBLD_IN_DAEMON(cmd_report),
	  "a summary of the last day for people (or --json)" },
	{ "milter", FBLD_IN_DAEMON(cmd_milter),
	  "mark, record and police outbound mail (Postfix/Sendmail milter)" },
	{ "replay", FBLD_IN_DAEMON(cmd_replay),
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

/* Runs argv in fbld-daemon, the binary in the directory of this one;
 * returns only when it cannot. */
static int
fbld_exec_daemon(char **argv)
{
	char *self = g_file_read_link("/proc/self/exe", NULL);
	char *dir = self ? g_path_get_dirname(self) : g_strdup(".");
	char *path = g_build_filename(dir, "fbld-daemon", NULL);

	execv(path, argv);
	fprintf(stderr, "fbld: cannot run %s for \"%s\": %s\n", path, argv[1],
		g_strerror(errno));
	g_free(path);
	g_free(dir);
	g_free(self);
	return 127;
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
	for (size_t i = 0; i < G_N_ELEMENTS(fbld_cmds); i++) {
		if (strcmp(argv[1], fbld_cmds[i].name) != 0)
			continue;
		if (!fbld_cmds[i].fn)
			return fbld_exec_daemon(argv);
		return fbld_cmds[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "fbld: unknown command \"%s\"\n\n", argv[1]);
	fbld_usage(stderr);
	return 2;
}
