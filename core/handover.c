/* handover: see handover.h. */
#include "core/handover.h"

#include <stdio.h>
#include <unistd.h>

#include "core/cli.h"
#include "core/config.h"
#include "core/log.h"
#include "core/spool.h"

struct handover_opts {
	char *config_file;
	char *state_dir;
	int verbose;
};

static int
handover_options(struct handover_opts *o, int *argc, char ***argv)
{
	GOptionContext *ctx = g_option_context_new(
		"< MESSAGE - store one message in the spool");
	int rc;

	g_option_context_set_description(
		ctx, "For a pipe transport: reads one message on stdin, writes "
		     "it durably\n(temporary file, fsync, rename) into the "
		     "spool, and exits 0. On any\nfailure it exits 75 "
		     "(EX_TEMPFAIL) so the MTA keeps the message and retries.\n"
		     "A message over [spool] max_message_size is kept "
		     "truncated, never refused.\nReads only [fbld] state_dir, "
		     "[spool] and [log]; `fbld check-config`\nchecks the "
		     "whole file.");
	cli_add_options(ctx, &o->config_file, &o->state_dir, &o->verbose);
	rc = cli_parse(ctx, argc, argv);
	g_option_context_free(ctx);
	return rc;
}

/* The configuration, its [spool] and [log] sections, and logging. */
static struct config *
handover_config(const struct handover_opts *o, struct spool_config *sc,
		GError **error)
{
	struct config *cfg = config_load(cli_config_file(o->config_file),
					 o->state_dir, error);
	char *dest = NULL;
	enum log_level level;

	if (!cfg)
		return NULL;
	log_config_load(cfg, &dest, &level);
	spool_config_load(cfg, sc);
	if (config_check(cfg, error) < 0) {
		spool_config_clear(sc);
		config_free(cfg);
		g_free(dest);
		return NULL;
	}
	log_init(dest, o->verbose ? LOG_LEVEL_DEBUG : level, "fbld");
	log_capture_glib();
	g_free(dest);
	return cfg;
}

int
handover_main(const char *prog, int argc, char **argv)
{
	struct handover_opts o = { 0 };
	struct spool_config sc = { 0 };
	struct spool_meta meta;
	struct config *cfg = NULL;
	char *name = NULL;
	GError *e = NULL;
	int rc = HANDOVER_EX_TEMPFAIL;

	if (handover_options(&o, &argc, &argv) < 0)
		goto out;
	cfg = handover_config(&o, &sc, &e);
	if (!cfg || spool_init(sc.dir, &e) < 0 ||
	    spool_write_fd(sc.dir, STDIN_FILENO, sc.max_message_size, &name,
			   &meta, &e) < 0) {
		fprintf(stderr, "%s: %s\n", prog, e->message);
		g_error_free(e);
		goto out;
	}
	if (meta.truncated)
		log_warn("ingest: message truncated file=%s "
			 "size=%" G_GINT64_FORMAT " limit=%" G_GINT64_FORMAT,
			 name, meta.orig_size, sc.max_message_size);
	rc = 0;
out:
	g_free(name);
	spool_config_clear(&sc);
	config_free(cfg);
	g_free(o.config_file);
	g_free(o.state_dir);
	return rc;
}
