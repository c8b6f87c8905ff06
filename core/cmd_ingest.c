/*
 * fbld ingest: one message from stdin into the spool, for an MTA pipe
 * transport. Never parses on the MTA's time. Exit 0 once the message is
 * durable, 75 (EX_TEMPFAIL) on any failure so the MTA retries later.
 */
#include <stdio.h>
#include <unistd.h>

#include "core/app.h"
#include "core/spool.h"

#define EX_TEMPFAIL_ 75

int
cmd_ingest(int argc, char **argv)
{
	struct app_opts o = { 0 };
	struct app a;
	GOptionContext *ctx = g_option_context_new(
		"< MESSAGE - store one message in the spool");
	struct spool_meta meta;
	char *name = NULL;
	GError *e = NULL;

	g_option_context_set_description(
		ctx, "For a pipe transport: reads one message on stdin, writes "
		     "it durably\n(temporary file, fsync, rename) into the "
		     "spool, and exits 0. On any\nfailure it exits 75 "
		     "(EX_TEMPFAIL) so the MTA keeps the message and retries.\n"
		     "A message over [spool] max_message_size is kept "
		     "truncated, never refused.");
	app_add_options(ctx, &o);
	if (app_parse_options(ctx, &argc, &argv) < 0) {
		g_option_context_free(ctx);
		return EX_TEMPFAIL_;
	}
	g_option_context_free(ctx);
	if (app_load(&a, &o, 0, &e) < 0) {
		fprintf(stderr, "fbld ingest: %s\n", e->message);
		g_error_free(e);
		app_opts_clear(&o);
		return EX_TEMPFAIL_;
	}
	if (spool_init(a.spool.dir, &e) < 0 ||
	    spool_write_fd(a.spool.dir, STDIN_FILENO, a.spool.max_message_size,
			   &name, &meta, &e) < 0) {
		fprintf(stderr, "fbld ingest: %s\n", e->message);
		g_error_free(e);
		app_clear(&a);
		app_opts_clear(&o);
		return EX_TEMPFAIL_;
	}
	if (meta.truncated)
		log_warn("ingest: message truncated file=%s "
			 "size=%" G_GINT64_FORMAT " limit=%" G_GINT64_FORMAT,
			 name, meta.orig_size, a.spool.max_message_size);
	g_free(name);
	app_clear(&a);
	app_opts_clear(&o);
	return 0;
}
