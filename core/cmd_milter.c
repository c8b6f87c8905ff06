/*
 * fbld milter: the MTA side, its own process so that the MTA never waits
 * on the daemon. It opens the SQLite database itself (WAL), marks and
 * records every message and enforces account states (verp/milter.h).
 */
#include <gmime/gmime.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <unistd.h>

#include "core/app.h"
#include "verp/mark.h"
#include "verp/milter.h"
#include "verp/recorder.h"
#include "verp/url.h"

/*
 * Tracking URLs: the [milter] templates where configured, else the signed
 * URLs of fbld's own endpoint ([tracking] base_url, verp/url.h). A link
 * that cannot be signed (not http or https) is left as it is.
 */
struct milter_urls {
	struct mark_urls tmpl;
	const struct app *a;
};

static char *
milter_url(const struct milter_urls *u, enum url_kind kind, const char *token,
	   const char *arg)
{
	char *url = NULL;

	/* Mail leaves the host: links to the loopback default would be dead
	 * ones. Without a public base_url the milter adds none. */
	if (!u->a->tracking.base_url_set)
		return NULL;
	if (url_build(u->a->token.keys, u->a->tracking.base_url, kind, token,
		      arg, &url, NULL) < 0)
		return NULL;
	return url;
}

static char *
milter_url_click(void *ud, const char *token, const char *href)
{
	const struct milter_urls *u = ud;
	char *url = u->tmpl.click(u->tmpl.ud, token, href);

	return url ? url : milter_url(u, URL_CLICK, token, href);
}

static char *
milter_url_open(void *ud, const char *token)
{
	const struct milter_urls *u = ud;
	char *url = u->tmpl.open_pixel(u->tmpl.ud, token);

	return url ? url : milter_url(u, URL_OPEN, token, NULL);
}

/* One header serves every recipient: no r=, the endpoint suppresses the
 * send's recipient when it had only one. */
static char *
milter_url_unsub(void *ud, const char *token)
{
	const struct milter_urls *u = ud;
	char *url = u->tmpl.unsubscribe(u->tmpl.ud, token);

	return url ? url : milter_url(u, URL_UNSUBSCRIBE, token, NULL);
}

int
cmd_milter(int argc, char **argv)
{
	struct app_opts o = { 0 };
	struct app a;
	char *listen = NULL;
	GOptionEntry entries[] = {
		{ "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
		  "Socket (overrides [milter] listen): unix:PATH, "
		  "inet:HOST:PORT or inet:PORT@HOST",
		  "SOCKET" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new("- run the fbld milter");
	struct milter_urls mu;
	struct mark_urls urls = { milter_url_click, milter_url_open,
				  milter_url_unsub, &mu };
	struct mark_ctx mctx;
	struct store_config rsc;
	struct recorder *rec;
	GError *e = NULL;
	int rc = 1;

	g_option_context_set_description(
		ctx, "Runs in the foreground until SIGTERM. List the socket in "
		     "Postfix's\nsmtpd_milters and non_smtpd_milters (before "
		     "any DKIM signer);\nsee docs/postfix.md.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	app_add_options(ctx, &o);
	if (app_parse_options(ctx, &argc, &argv) < 0) {
		g_option_context_free(ctx);
		g_free(listen);
		return 2;
	}
	g_option_context_free(ctx);
	if (app_load(&a, &o, 1, &e) < 0) {
		fprintf(stderr, "fbld milter: %s\n", e->message);
		g_error_free(e);
		app_opts_clear(&o);
		g_free(listen);
		return 1;
	}
	if (listen) {
		char *spec = milter_socket_spec(listen);

		if (!spec) {
			fprintf(stderr,
				"fbld milter: --listen %s: not a "
				"socket (see --help)\n",
				listen);
			goto out;
		}
		g_free(a.milter.listen);
		a.milter.listen = spec;
	}
	g_mime_init();
	xmlInitParser();
	mark_template_urls(&a.mark, &mu.tmpl);
	mu.a = &a;
	/* The recorder's connection waits as long as the milter's. */
	rsc = a.store;
	rsc.busy_timeout_ms = a.milter.store_timeout_ms;
	rec = recorder_new(&rsc, a.token.keys);
	mctx = (struct mark_ctx){ &a.mark, &a.token, &urls, rec };
	log_notice("milter: started version=%s store=%s", FBLD_VERSION,
		   a.store.path);
	if (!a.tracking.base_url_set)
		log_notice("milter: no [tracking] base_url: tracking links and "
			   "List-Unsubscribe only from [milter] templates");
	rc = milter_run(&a.milter, &mctx, &a.store, &e);
	if (rc > 0)
		_exit(0); /* libmilter threads still hold mctx */
	if (rc < 0) {
		log_err("%s", e->message);
		g_error_free(e);
		rc = 1;
	} else {
		log_notice("milter: stopped");
	}
	recorder_free(rec);
	g_mime_shutdown();
out:
	app_clear(&a);
	app_opts_clear(&o);
	g_free(listen);
	return rc;
}
