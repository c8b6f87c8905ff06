/*
 * app: see app.h. This file and core/main.c are the only ones that
 * include every module: they wire the modules together.
 */
#include "core/app.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/cli.h"
#include "core/daemon.h"
#include "core/http.h"
#include "core/ingest.h"
#include "core/metrics.h"
#include "core/pickup.h"
#include "core/spool.h"
#include "dsn/dsn.h"
#include "scoring/admin.h"
#include "scoring/outbox.h"
#include "fbl/fbl.h"
#include "scoring/job.h"

void
app_add_options(GOptionContext *ctx, struct app_opts *o)
{
	cli_add_options(ctx, &o->config_file, &o->state_dir, &o->verbose);
}

void
app_opts_clear(struct app_opts *o)
{
	g_clear_pointer(&o->config_file, g_free);
	g_clear_pointer(&o->state_dir, g_free);
	g_clear_pointer(&o->keys_read, g_strfreev);
}

int
app_parse_options(GOptionContext *ctx, int *argc, char ***argv)
{
	return cli_parse(ctx, argc, argv);
}

int
app_load(struct app *a, const struct app_opts *o, int create, GError **error)
{
	memset(a, 0, sizeof(*a));
	a->cfg = config_load(cli_config_file(o->config_file), o->state_dir,
			     error);
	if (!a->cfg)
		return -1;
	log_config_load(a->cfg, &a->log_dest, &a->log_level);
	store_config_load(a->cfg, &a->store);
	spool_config_load(a->cfg, &a->spool);
	http_config_load(a->cfg, "http", "127.0.0.1:8025", &a->http);
	token_config_load(a->cfg, create, &a->token);
	tracking_config_load(a->cfg, &a->http, &a->tracking);
	imap_config_load(a->cfg, &a->imap);
	mark_config_load(a->cfg, &a->mark);
	milter_config_load(a->cfg, &a->milter);
	policyd_config_load(a->cfg, &a->policyd);
	scoring_params_load(a->cfg, &a->scoring);
	a->health_stale_ms = config_duration_ms(a->cfg, "fbld", "health_stale",
						60000, 1000, 86400000);
	actions_config_load(a->cfg, &a->actions);
	admin_config_load(a->cfg, &a->admin);
	if (o->keys)
		((struct app_opts *)o)->keys_read = config_keys_read(a->cfg);
	if (config_finish(a->cfg, error) < 0) {
		app_clear(a);
		return -1;
	}
	log_init(a->log_dest, o->verbose ? LOG_LEVEL_DEBUG : a->log_level,
		 "fbld");
	log_capture_glib();
	return 0;
}

void
app_clear(struct app *a)
{
	store_config_clear(&a->store);
	spool_config_clear(&a->spool);
	http_config_clear(&a->http);
	token_config_clear(&a->token);
	tracking_config_clear(&a->tracking);
	actions_config_clear(&a->actions);
	admin_config_clear(&a->admin);
	imap_config_clear(&a->imap);
	mark_config_clear(&a->mark);
	milter_config_clear(&a->milter);
	policyd_config_clear(&a->policyd);
	scoring_params_clear(&a->scoring);
	g_clear_pointer(&a->log_dest, g_free);
	g_clear_pointer(&a->cfg, config_free);
}

/* ---- the ingest router ------------------------------------------------ */

static int
app_resolve_token(void *ud, const char *hint, struct report_token *tok)
{
	struct app *a = ud;

	return token_resolve(&a->token, hint, daemon_now_ms(), tok);
}

struct ingest *
app_ingest(struct app *a)
{
	struct ingest *in = ingest_new();

	ingest_set_token_resolver(in, app_resolve_token, a);
	/* Classifiers, in the order they are offered each message. */
	fbl_register(in); /* DMARC aggregate, then ARF */
	ingest_add_classifier(in, "dsn", dsn_classify, NULL);
	ingest_add_classifier(in, "autoreply", dsn_autoreply_classify, NULL);
	return in;
}

/* ---- serve -------------------------------------------------------------- */

struct app_serve {
	struct app *a;
	struct store *st;
	struct metrics *m;
	struct pickup *pickup;
	struct http_server *http;
	struct tracking *tracking;
	struct outbox *outbox;
	struct admin *admin;
	GPtrArray *pollers; /* struct imap_poller *, one per [imap:NAME] */
	struct policyd *policyd;
	struct scoring_job *scoring;
	_Atomic int64_t last_pickup_ms; /* when pickup last succeeded */
};

static int64_t
app_pickup_job(void *ud, int64_t now_ms)
{
	struct app_serve *s = ud;
	GError *e = NULL;
	int n = pickup_run(s->pickup, now_ms, &e);

	if (n < 0) {
		log_err("pickup: %s", e ? e->message : "failed");
		g_clear_error(&e);
		return -1;
	}
	atomic_store(&s->last_pickup_ms, now_ms);
	if (n > 0)
		log_info("pickup: stored messages=%d", n);
	/* A full batch means more is waiting: go on at once. */
	return n >= (int)s->a->spool.batch ? 0 : -1;
}

static int64_t
app_scoring_job(void *ud, int64_t now_ms)
{
	struct app_serve *s = ud;
	GError *e = NULL;
	int n = scoring_job_run(s->scoring, now_ms, &e);

	if (n < 0) {
		log_err("scoring: %s", e ? e->message : "failed");
		g_clear_error(&e);
		return -1;
	}
	/* A full batch means more is waiting: go on at once. */
	return n >= s->a->scoring.batch ? 0 : -1;
}

static void
app_healthz(void *ud, const struct http_request *req,
	    struct http_response *resp)
{
	struct app_serve *s = ud;

	if (req->now_ms - atomic_load(&s->last_pickup_ms) >
	    s->a->health_stale_ms) {
		http_respond(resp, 503, "text/plain; charset=utf-8",
			     "stale: the spool has not been read recently\n");
		return;
	}
	http_respond(resp, 200, "text/plain; charset=utf-8", "ok\n");
	resp->body_static = 1;
}

static void
app_metrics(void *ud, const struct http_request *req,
	    struct http_response *resp)
{
	struct app_serve *s = ud;
	char *text = metrics_render(s->m);

	http_respond(resp, 200, "text/plain; version=0.0.4; charset=utf-8",
		     text);
	resp->body_free = g_free;
	http_response_header(resp, "Cache-Control", "no-store");
}

static int
app_http_start(void *ud, GError **error)
{
	struct app_serve *s = ud;

	if (http_server_start(s->http, error) < 0)
		return -1;
	log_info("http: listening address=%s port=%d threads=%d",
		 s->a->http.address, http_server_port(s->http),
		 s->a->http.threads);
	return 0;
}

static void
app_http_stop(void *ud)
{
	struct app_serve *s = ud;

	g_clear_pointer(&s->http, http_server_free);
}

/* ---- actions: the alert outbox worker and the admin API ----------------- */

static int
app_outbox_start(void *ud, GError **error)
{
	struct app_serve *s = ud;

	if (outbox_start(s->outbox, error) < 0)
		return -1;
	log_info("outbox: started webhooks=%u digest=%s",
		 s->a->actions.webhooks->len,
		 s->a->actions.digest.enabled ? "on" : "off");
	return 0;
}

static void
app_outbox_stop(void *ud)
{
	struct app_serve *s = ud;

	outbox_stop(s->outbox);
}

static int
app_admin_start(void *ud, GError **error)
{
	struct app_serve *s = ud;

	if (admin_start(s->admin, error) < 0)
		return -1;
	log_info("admin: listening address=%s port=%d",
		 s->a->admin.http.address, admin_port(s->admin));
	return 0;
}

static void
app_admin_stop(void *ud)
{
	struct app_serve *s = ud;

	g_clear_pointer(&s->admin, admin_free);
}

static void
app_actions_setup(struct app_serve *s, struct daemon *d)
{
	struct app *a = s->a;

	s->outbox = outbox_new(&a->actions, &a->store, s->m);
	daemon_add_service(d, "outbox", app_outbox_start, app_outbox_stop, s);
	if (!a->admin.token) {
		log_notice("admin: API not started: no [admin] token_file");
		return;
	}
	s->admin = admin_new(&a->admin, &a->store, &a->actions);
	daemon_add_service(d, "admin", app_admin_start, app_admin_stop, s);
}

static int
app_policy_start(void *ud, GError **error)
{
	struct app_serve *s = ud;

	return policyd_start(s->policyd, error);
}

static void
app_policy_stop(void *ud)
{
	struct app_serve *s = ud;

	g_clear_pointer(&s->policyd, policyd_free);
}

int
app_serve_setup(struct app *a, struct daemon *d, struct store *st,
		struct ingest *in, struct metrics *m, GError **error)
{
	struct app_serve *s = g_new0(struct app_serve, 1);

	s->a = a;
	s->st = st;
	s->m = m;
	a->serve = s;
	if (spool_init(a->spool.dir, error) < 0)
		return -1;
	atomic_store(&s->last_pickup_ms, daemon_now_ms());
	s->pickup = pickup_new(&a->spool, st, in, m);
	daemon_add_job(d, "pickup", a->spool.poll_interval_ms, app_pickup_job,
		       s);
	/* The tracking writer is registered before the HTTP server, so it
	 * is stopped (drained) after the server stopped taking hits. */
	s->tracking =
		tracking_new(&a->tracking, &a->token, &a->store, m, error);
	if (!s->tracking)
		return -1;
	daemon_add_service(d, "tracking", tracking_start, tracking_stop,
			   s->tracking);
	if (a->scoring.enabled) {
		s->scoring = scoring_job_new(&a->scoring, st, daemon_now_ms(),
					     error);
		if (!s->scoring)
			return -1;
		scoring_job_set_metrics(s->scoring, m);
		/* Every state change enqueues its alerts (webhooks, digest,
		 * immediate mails) in the transaction that records it. */
		scoring_job_add_hook(s->scoring, actions_enqueue, &a->actions);
		daemon_add_job(d, "scoring", a->scoring.interval_ms,
			       app_scoring_job, s);
	}
	s->http = http_server_new(&a->http);
	http_route(s->http, NULL, "/healthz", 0, app_healthz, s);
	http_route(s->http, NULL, "/metrics", 0, app_metrics, s);
	tracking_routes(s->tracking, s->http);
	daemon_add_service(d, "http", app_http_start, app_http_stop, s);
	app_actions_setup(s, d);
	s->pollers = g_ptr_array_new_with_free_func(
		(GDestroyNotify)imap_poller_free);
	for (guint i = 0; i < a->imap.mailboxes->len; i++) {
		const struct imap_mailbox *mb = a->imap.mailboxes->pdata[i];
		struct imap_poller *p = imap_poller_new(mb, &a->store, in, m);
		char *name = g_strdup_printf("imap:%s", mb->name);

		g_ptr_array_add(s->pollers, p);
		daemon_add_service(d, name, imap_poller_start, imap_poller_stop,
				   p);
		g_free(name);
	}
	if (a->policyd.address) {
		s->policyd = policyd_new(&a->policyd, &a->mark.identity,
					 &a->mark.policy, &a->store, m);
		daemon_add_service(d, "policy", app_policy_start,
				   app_policy_stop, s);
	}
	return 0;
}

void
app_serve_teardown(struct app *a)
{
	struct app_serve *s = a->serve;

	if (!s)
		return;
	http_server_free(s->http);
	tracking_free(s->tracking);
	admin_free(s->admin);
	outbox_free(s->outbox);
	policyd_free(s->policyd);
	scoring_job_free(s->scoring);
	pickup_free(s->pickup);
	if (s->pollers)
		g_ptr_array_free(s->pollers, TRUE);
	g_free(s);
	a->serve = NULL;
}
