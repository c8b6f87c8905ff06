/*
 * tracking/endpoint: the HTTP handlers and the module's life cycle (see
 * tracking.h). Glue only: parse and verify (verp/url, verp/token), queue
 * (tracking/writer), answer.
 */
#include <gmime/gmime.h>
#include <string.h>

#include "core/http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "tracking/classify.h"
#include "tracking/form.h"
#include "tracking/tracking.h"
#include "tracking/writer.h"
#include "verp/keys.h"
#include "verp/url.h"

/* Why a tracking request was not recorded (expired links are still
 * served; an unsubscribe through one is even honoured). */
enum tracking_refusal {
	TRACKING_BAD_MALFORMED,
	TRACKING_BAD_FORGED,
	TRACKING_BAD_EXPIRED,
	TRACKING_BAD_SIGNATURE,
	TRACKING_NREFUSALS
};

struct tracking {
	const struct tracking_config *tc;
	const struct token_config *tok;
	const struct store_config *sc;
	struct tracking_rules *rules;
	GPtrArray *forwarded_nets; /* GInetAddressMask *: trusted proxies */
	int need_addr;		   /* some rule looks at networks */
	struct tracking_writer *writer;
	struct store *st;      /* the writer's connection */
	struct store *ckpt_st; /* the checkpointer's */
	const struct http_fixed *gif, *confirm, *done, *bad_link, *no_form;
	const struct http_fixed *busy;
	struct metric *m_hits[3];
	struct metric *m_bad[3][TRACKING_NREFUSALS];
	struct metric *m_confirm_views, *m_unsub_timeouts;
};

/* The transparent 1x1 GIF89a, 43 bytes. */
static const unsigned char tracking_gif[43] = {
	'G',  'I',  'F',  '8',	'9',  'a',  /* signature, version */
	0x01, 0x00, 0x01, 0x00,		    /* 1 x 1 */
	0x80, 0x01, 0x00,		    /* 2-colour global table */
	0x00, 0x00, 0x00, 0xff, 0xff, 0xff, /* black, white */
	0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x01, 0x00, /* colour 1 clear */
	0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, /* image */
	0x02, 0x02, 0x4c, 0x01, 0x00, /* LZW data */
	0x3b			      /* trailer */
};

static const char tracking_confirm_page[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<meta name=\"viewport\" content=\"width=device-width\">"
	"<meta name=\"robots\" content=\"noindex\"><title>Unsubscribe</title>"
	"</head><body><h1>Unsubscribe</h1>"
	"<p>Stop receiving mail from this sender at your address?</p>"
	"<form method=\"post\"><input type=\"hidden\" "
	"name=\"List-Unsubscribe\" value=\"One-Click\">"
	"<button type=\"submit\">Unsubscribe</button></form></body></html>\n";

static const char tracking_done_page[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<meta name=\"viewport\" content=\"width=device-width\">"
	"<meta name=\"robots\" content=\"noindex\"><title>Unsubscribed</title>"
	"</head><body><h1>Unsubscribed</h1>"
	"<p>You will not receive this sender's mail at this address "
	"again.</p></body></html>\n";

static const char tracking_bad_link_text[] =
	"400 Bad Request: this link is not valid (it may have been cut or "
	"changed on its way).\n";
static const char tracking_no_form_text[] =
	"400 Bad Request: an unsubscribe POST must carry "
	"List-Unsubscribe=One-Click (RFC 8058).\n";
static const char tracking_busy_text[] =
	"503 Service Unavailable: try again in a minute.\n";

/* ---- handlers --------------------------------------------------------- */

static int
tracking_refuse(struct tracking *t, enum url_kind kind,
		enum tracking_refusal why, struct url_request *u)
{
	metric_inc(t->m_bad[kind][why]);
	url_request_clear(u);
	return -1;
}

/*
 * Parses and verifies the request's link: 0 genuine and current, 1
 * genuine but expired or dated ahead (counted), -1 refused (counted; u
 * cleared).
 */
static int
tracking_check(struct tracking *t, const struct http_request *req,
	       enum url_kind kind, struct url_request *u,
	       struct token_fields *f)
{
	enum token_error te;

	memset(u, 0, sizeof(*u));
	if (!req->target ||
	    url_parse(req->target, strlen(req->target), u) != URL_ERR_NONE ||
	    u->kind != kind)
		return tracking_refuse(t, kind, TRACKING_BAD_MALFORMED, u);
	te = token_verify(t->tok->keys, u->token, TOKEN_LEN, "", req->now_ms,
			  t->tok->max_age_days, t->tok->future_days, f, NULL);
	if (te != TOKEN_ERR_NONE && te != TOKEN_ERR_EXPIRED &&
	    te != TOKEN_ERR_FUTURE)
		return tracking_refuse(t, kind, TRACKING_BAD_FORGED, u);
	if (!url_verify(t->tok->keys, u))
		return tracking_refuse(t, kind, TRACKING_BAD_SIGNATURE, u);
	if (te != TOKEN_ERR_NONE) {
		metric_inc(t->m_bad[kind][TRACKING_BAD_EXPIRED]);
		return 1;
	}
	return 0;
}

/* The rules the request alone decides, on the client's full address,
 * which is then cut to what may be stored. */
static void
tracking_judge(struct tracking *t, const struct http_request *req,
	       struct tracking_hit *h)
{
	struct tracking_facts f = {
		.kind = h->kind,
		.head = h->head,
		.user_agent = h->user_agent,
	};
	const char *fwd = t->forwarded_nets->len
				  ? http_header(req, "X-Forwarded-For")
				  : NULL;

	if (t->need_addr || fwd)
		f.addr = tracking_client(t->forwarded_nets, req->client_ip, fwd,
					 h->ip, sizeof(h->ip));
	if (h->kind != URL_UNSUBSCRIBE)
		tracking_classify_request(t->rules, &f, &h->verdict);
	if (f.addr)
		g_object_unref(f.addr);
	tracking_ip_reduce(t->tc->store_ip, h->ip, sizeof(h->ip));
}

/* Queues the hit; returns its sequence number (0: dropped). */
static uint64_t
tracking_record(struct tracking *t, const struct http_request *req,
		const struct url_request *u, const struct token_fields *f,
		int stale)
{
	struct tracking_hit *h = tracking_hit_new(
		u->kind, strcmp(req->method, "HEAD") == 0, req->now_ms,
		req->client_ip, http_header(req, "User-Agent"), u->target,
		u->recipient);

	h->account = f->account;
	h->send = f->serial;
	h->token_day = f->day;
	h->token_stale = stale;
	tracking_judge(t, req, h);
	metric_inc(t->m_hits[u->kind]);
	return tracking_writer_push(t->writer, h, u->kind == URL_UNSUBSCRIBE);
}

/*
 * The pixel, whatever the token: a refusal would tell a forger which
 * tokens are good. The answer does not depend on the token, so the
 * writer verifies it (tracking/writer.h), off the request path.
 */
static void
tracking_open(void *ud, const struct http_request *req,
	      struct http_response *resp)
{
	struct tracking *t = ud;
	struct url_request u;
	struct tracking_hit *h;

	resp->fixed = t->gif;
	memset(&u, 0, sizeof(u));
	if (!req->target ||
	    url_parse(req->target, strlen(req->target), &u) != URL_ERR_NONE ||
	    u.kind != URL_OPEN) {
		tracking_refuse(t, URL_OPEN, TRACKING_BAD_MALFORMED, &u);
		return;
	}
	h = tracking_hit_new(URL_OPEN, strcmp(req->method, "HEAD") == 0,
			     req->now_ms, req->client_ip,
			     http_header(req, "User-Agent"), NULL, NULL);
	memcpy(h->token, u.token, sizeof(h->token));
	tracking_judge(t, req, h);
	tracking_writer_push(t->writer, h, 0);
}

/* Redirects only to a target signed for this token: never an open
 * redirect. An expired link still works, unrecorded. */
static void
tracking_click(void *ud, const struct http_request *req,
	       struct http_response *resp)
{
	struct tracking *t = ud;
	struct url_request u;
	struct token_fields f;
	int rc = tracking_check(t, req, URL_CLICK, &u, &f);

	if (rc < 0) {
		resp->fixed = t->bad_link;
		return;
	}
	if (rc == 0)
		tracking_record(t, req, &u, &f, 0);
	http_respond(resp, 302, "text/plain; charset=utf-8", "");
	http_response_header(resp, "Location", u.target);
	http_response_header(resp, "Cache-Control", "no-store");
	/* The destination must not see the tracking URL. */
	http_response_header(resp, "Referrer-Policy", "no-referrer");
	url_request_clear(&u);
}

/* GET shows a button and never unsubscribes: scanners follow links. */
static void
tracking_unsub_page(void *ud, const struct http_request *req,
		    struct http_response *resp)
{
	struct tracking *t = ud;
	struct url_request u;
	struct token_fields f;

	if (tracking_check(t, req, URL_UNSUBSCRIBE, &u, &f) < 0) {
		resp->fixed = t->bad_link;
		return;
	}
	metric_inc(t->m_confirm_views);
	resp->fixed = t->confirm;
	url_request_clear(&u);
}

/* RFC 8058: answered once the unsubscribe is committed, never with a
 * redirect. A genuine token past its age still unsubscribes. */
static void
tracking_unsub_post(void *ud, const struct http_request *req,
		    struct http_response *resp)
{
	struct tracking *t = ud;
	struct url_request u;
	struct token_fields f;
	int rc = tracking_check(t, req, URL_UNSUBSCRIBE, &u, &f);
	uint64_t seq;

	if (rc < 0) {
		resp->fixed = t->bad_link;
		return;
	}
	if (!tracking_form_one_click(http_header(req, "Content-Type"),
				     req->body, req->body_len)) {
		resp->fixed = t->no_form;
		url_request_clear(&u);
		return;
	}
	seq = tracking_record(t, req, &u, &f, rc);
	if (tracking_writer_wait(t->writer, seq, t->tc->unsubscribe_wait_ms)) {
		resp->fixed = t->done;
	} else {
		metric_inc(t->m_unsub_timeouts);
		log_warn("tracking: unsubscribe not committed within "
			 "%" G_GINT64_FORMAT
			 " ms; answered 503 (it stays queued)",
			 t->tc->unsubscribe_wait_ms);
		resp->fixed = t->busy;
	}
	url_request_clear(&u);
}

/* ---- life cycle --------------------------------------------------------- */

static void
tracking_metrics(struct tracking *t, struct metrics *m)
{
	static const char *const reasons[] = { "malformed", "forged", "expired",
					       "signature" };

	for (int k = 0; k < 3; k++) {
		char *l = g_strdup_printf("type=\"%s\"", url_kind_name(k));

		t->m_hits[k] = metrics_counter(
			m, "fbld_tracking_hits_total", l,
			"Tracking hits with a good token, queued");
		g_free(l);
		for (int r = 0; r < TRACKING_NREFUSALS; r++) {
			l = g_strdup_printf("type=\"%s\",reason=\"%s\"",
					    url_kind_name(k), reasons[r]);
			t->m_bad[k][r] = metrics_counter(
				m, "fbld_tracking_bad_requests_total", l,
				"Tracking requests not recorded: malformed, "
				"forged, expired or badly signed links");
			g_free(l);
		}
	}
	t->m_confirm_views = metrics_counter(
		m, "fbld_tracking_unsubscribe_pages_total", NULL,
		"Unsubscribe confirmation pages shown (GET)");
	t->m_unsub_timeouts = metrics_counter(
		m, "fbld_tracking_unsubscribe_timeouts_total", NULL,
		"Unsubscribes answered 503: not committed in time");
}

struct tracking *
tracking_new(const struct tracking_config *tc, const struct token_config *tok,
	     const struct store_config *sc, struct metrics *m, GError **error)
{
	struct tracking *t = g_new0(struct tracking, 1);

	t->tc = tc;
	t->tok = tok;
	t->sc = sc;
	g_mime_init(); /* multipart unsubscribe forms */
	t->forwarded_nets = g_ptr_array_new_with_free_func(g_object_unref);
	for (char **p = tc->forwarded_from; p && *p; p++) {
		GInetAddressMask *mask = tracking_net_parse(*p, error);

		if (!mask) {
			tracking_free(t);
			return NULL;
		}
		g_ptr_array_add(t->forwarded_nets, mask);
	}
	t->rules = tracking_rules_new(tc->scanner_agents, tc->proxy_agents,
				      tc->scanner_networks, tc->proxy_networks,
				      tc->early_window_ms, error);
	if (!t->rules) {
		tracking_free(t);
		return NULL;
	}
	t->need_addr = t->rules->scanner_nets->len || t->rules->proxy_nets->len;
	t->writer = tracking_writer_new(tc, tok, t->rules, m);
	tracking_metrics(t, m);
	return t;
}

void
tracking_free(struct tracking *t)
{
	if (!t)
		return;
	tracking_writer_free(t->writer);
	store_close(t->st);
	store_close(t->ckpt_st);
	tracking_rules_free(t->rules);
	g_ptr_array_free(t->forwarded_nets, TRUE);
	g_mime_shutdown();
	g_free(t);
}

void
tracking_routes(struct tracking *t, struct http_server *srv)
{
	static const char *const nocache[] = {
		"Cache-Control",
		"no-store, no-cache, must-revalidate, max-age=0",
		"Pragma",
		"no-cache",
		"Expires",
		"Thu, 01 Jan 1970 00:00:00 GMT",
		NULL
	};
	static const char *const page[] = { "Cache-Control",
					    "no-store",
					    "Referrer-Policy",
					    "no-referrer",
					    "X-Robots-Tag",
					    "noindex",
					    "Content-Security-Policy",
					    "default-src 'none'; "
					    "form-action 'self'; "
					    "frame-ancestors 'none'",
					    NULL };
	static const char *const retry[] = { "Retry-After", "60",
					     "Cache-Control", "no-store",
					     NULL };
	const char *html = "text/html; charset=utf-8";
	const char *text = "text/plain; charset=utf-8";

	t->gif = http_fixed_new(srv, 200, "image/gif", tracking_gif,
				sizeof(tracking_gif), nocache);
	t->confirm = http_fixed_new(srv, 200, html, tracking_confirm_page,
				    sizeof(tracking_confirm_page) - 1, page);
	t->done = http_fixed_new(srv, 200, html, tracking_done_page,
				 sizeof(tracking_done_page) - 1, page);
	t->bad_link = http_fixed_new(srv, 400, text, tracking_bad_link_text,
				     sizeof(tracking_bad_link_text) - 1, page);
	t->no_form = http_fixed_new(srv, 400, text, tracking_no_form_text,
				    sizeof(tracking_no_form_text) - 1, page);
	t->busy = http_fixed_new(srv, 503, text, tracking_busy_text,
				 sizeof(tracking_busy_text) - 1, retry);
	http_route(srv, NULL, "/o/", 1, tracking_open, t);
	http_route(srv, NULL, "/c/", 1, tracking_click, t);
	http_route(srv, NULL, "/u/", 1, tracking_unsub_page, t);
	http_route(srv, "POST", "/u/", 1, tracking_unsub_post, t);
}

int
tracking_start(void *ud, GError **error)
{
	struct tracking *t = ud;

	t->st = store_open_config(t->sc, error);
	if (t->st)
		t->ckpt_st = store_open_config(t->sc, error);
	if (!t->ckpt_st ||
	    tracking_writer_start(t->writer, t->st, t->ckpt_st, error) < 0) {
		g_clear_pointer(&t->st, store_close);
		g_clear_pointer(&t->ckpt_st, store_close);
		return -1;
	}
	log_info("tracking: writer started base_url=%s", t->tc->base_url);
	return 0;
}

void
tracking_stop(void *ud)
{
	struct tracking *t = ud;

	tracking_writer_stop(t->writer);
	g_clear_pointer(&t->st, store_close);
	g_clear_pointer(&t->ckpt_st, store_close);
	log_info("tracking: writer drained and stopped");
}
