/*
 * app: the composition root's context, shared by core/main.c and the
 * subcommand files beside it (core/cmd_*.c) and by nothing else. It holds
 * every module's configuration, read once, and knows which classifiers,
 * routes, jobs and services each module contributes.
 */
#ifndef FBLD_APP_H
#define FBLD_APP_H

#include <glib.h>

#include "core/config.h"
#include "core/http.h"
#include "core/log.h"
#include "core/spool.h"
#include "core/store.h"
#include "tracking/tracking.h"
#include "scoring/actions.h"
#include "scoring/admin.h"
#include "fbl/imap.h"
#include "scoring/params.h"
#include "verp/keys.h"
#include "verp/mark.h"
#include "verp/milter.h"
#include "verp/policyd.h"

struct ingest;
struct daemon;
struct metrics;

struct app {
	struct config *cfg;
	char *log_dest;
	enum log_level log_level;
	struct store_config store;
	struct spool_config spool;
	struct http_config http;
	struct token_config token;
	struct tracking_config tracking;
	struct imap_config imap;
	struct mark_config mark;     /* [milter], [policy], [sender-domain:*] */
	struct milter_config milter; /* [milter]: the libmilter side */
	struct policyd_config policyd; /* [policy]: the policy service */
	struct scoring_params scoring;
	int64_t health_stale_ms;
	struct actions_config actions; /* webhooks, digest, outbox */
	struct admin_config admin;
	struct app_serve *serve; /* what `fbld serve` runs, see app.c */
};

/* The options every subcommand takes. */
struct app_opts {
	char *config_file;
	char *state_dir;
	int verbose;
	char **keys_read; /* out, when keys is set: every key consulted */
	int keys;
};

/* Adds --config, --state-dir and --verbose to ctx. */
void app_add_options(GOptionContext *ctx, struct app_opts *o);
void app_opts_clear(struct app_opts *o);

/* Reads the configuration (file from --config or $FBLD_CONFIG, else
 * defaults), every module's sections, and starts logging. create: make the
 * default key when missing. Fails with every configuration error. */
int app_load(struct app *a, const struct app_opts *o, int create,
	     GError **error);
void app_clear(struct app *a);

/* A router with every classifier registered and the token resolver.
 * Classification is pure: one router may serve every thread. */
struct ingest *app_ingest(struct app *a);

/* Everything `fbld serve` runs, registered on d. */
int app_serve_setup(struct app *a, struct daemon *d, struct store *st,
		    struct ingest *in, struct metrics *m, GError **error);
void app_serve_teardown(struct app *a);

/* Subcommands: argv[0] is the subcommand's name. */
int cmd_serve(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_parse(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_reports(int argc, char **argv);
int cmd_accounts(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_milter(int argc, char **argv);
int cmd_replay(int argc, char **argv);

/* Parses options; prints the error and returns -1 on a bad command line. */
int app_parse_options(GOptionContext *ctx, int *argc, char ***argv);

#endif
