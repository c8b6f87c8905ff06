/* milter: see milter.h. */
#include "verp/milter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "verp/mark.h"

#define MILTER_POOL_MAX 32
#define MILTER_DATA_MAX (1024 * 1024 - 1)

struct milter_stats {
	struct metric *marked, *unchanged, *deferred, *rejected, *held,
		*discarded, *unknown, *store_failures, *suppressed, *links,
		*rewrite_refused;
};

struct milter_server {
	const struct milter_config *mc;
	const struct mark_ctx *ctx;
	struct store_config sc; /* with the milter's busy timeout */
	GMutex pool_lock;
	GPtrArray *pool; /* idle struct store * */
	struct metrics *metrics;
	struct milter_stats stats;
	GMutex stop_lock;
	GCond stop_cond;
	int stopping;
	_Atomic int active; /* connections open */
};

/* One SMTP connection (or one local submission). */
struct milter_conn {
	struct mark_msg *msg;
	unsigned long pflags; /* protocol flags agreed with the MTA */
	int64_t work_us;      /* time spent in our callbacks for this message */
};

/* The actions we use, and the steps we need no reply for: headers, body
 * chunks and the connection need no round trip each (and HELO, DATA, EOH
 * and unknown commands need not be sent at all). */
#define MILTER_ACTIONS                                                         \
	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM | SMFIF_DELRCPT |       \
	 SMFIF_CHGBODY | SMFIF_QUARANTINE)
#define MILTER_STEPS                                                           \
	(SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOEOH | SMFIP_NOUNKNOWN |         \
	 SMFIP_NR_CONN | SMFIP_NR_HDR | SMFIP_NR_BODY)

G_DEFINE_QUARK(fbld - milter - error - quark, milter_error)

/* Set once before smfi_main(), read-only afterwards: libmilter's
 * callbacks carry no pointer of ours until a connection exists. */
static struct milter_server *milter_self;

/* ---- configuration ------------------------------------------------------ */

char *
milter_socket_spec(const char *spec)
{
	const char *rest, *colon;

	if (g_str_has_prefix(spec, "unix:") || g_str_has_prefix(spec, "local:"))
		return strlen(spec) > 6 ? g_strdup(spec) : NULL;
	if (!g_str_has_prefix(spec, "inet:") &&
	    !g_str_has_prefix(spec, "inet6:"))
		return NULL;
	rest = strchr(spec, ':') + 1;
	if (strchr(rest, '@'))
		return g_strdup(spec);
	/* Postfix's form, inet:HOST:PORT, to libmilter's inet:PORT@HOST. */
	colon = strrchr(rest, ':');
	if (!colon || colon == rest || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return NULL;
	return g_strdup_printf("%.*s:%s@%.*s", (int)(rest - spec - 1), spec,
			       colon + 1, (int)(colon - rest), rest);
}

static unsigned
milter_config_mode(struct config *cfg)
{
	char *v = config_str(cfg, "milter", "socket_mode", "0660");
	char *end;
	guint64 mode = g_ascii_strtoull(v, &end, 8);

	if (end == v || *end || mode > 0777) {
		config_error(cfg, "milter", "socket_mode",
			     "\"%s\" is not an octal mode such as 0660", v);
		mode = 0660;
	}
	g_free(v);
	return (unsigned)mode;
}

void
milter_config_load(struct config *cfg, struct milter_config *out)
{
	char *def =
		g_strdup_printf("unix:%s/milter.sock", config_state_dir(cfg));
	char *listen = config_str(cfg, "milter", "listen", def);

	g_free(def);
	memset(out, 0, sizeof(*out));
	out->socket_mode = milter_config_mode(cfg);
	out->socket_group = config_str(cfg, "milter", "socket_group", NULL);
	if (out->socket_group && !*out->socket_group)
		g_clear_pointer(&out->socket_group, g_free);
	else if (out->socket_group && !getgrnam(out->socket_group))
		config_error(cfg, "milter", "socket_group", "no group \"%s\"",
			     out->socket_group);
	out->listen = milter_socket_spec(listen);
	if (!out->listen) {
		config_error(cfg, "milter", "listen",
			     "\"%s\" is not unix:PATH, inet:HOST:PORT or "
			     "inet:PORT@HOST",
			     listen);
		out->listen = g_strdup("inet:8026@127.0.0.1");
	}
	g_free(listen);
	out->timeout_ms = config_duration_ms(cfg, "milter", "timeout", 300000,
					     1000, 7200000);
	out->backlog = (int)config_int(cfg, "milter", "backlog", 128, 1, 65535);
	out->store_timeout_ms = config_duration_ms(
		cfg, "milter", "store_timeout", 2000, 0, 60000);
	out->stats_file = config_str(cfg, "milter", "stats_file", NULL);
	if (out->stats_file && !*out->stats_file)
		g_clear_pointer(&out->stats_file, g_free);
	out->stats_interval_ms = config_duration_ms(
		cfg, "milter", "stats_interval", 10000, 100, 3600000);
}

void
milter_config_clear(struct milter_config *mc)
{
	g_clear_pointer(&mc->listen, g_free);
	g_clear_pointer(&mc->socket_group, g_free);
	g_clear_pointer(&mc->stats_file, g_free);
}

/* ---- the store pool ------------------------------------------------------- */

static struct store *
milter_store_take(struct milter_server *s)
{
	struct store *st = NULL;
	GError *e = NULL;

	g_mutex_lock(&s->pool_lock);
	if (s->pool->len)
		st = g_ptr_array_steal_index_fast(s->pool, s->pool->len - 1);
	g_mutex_unlock(&s->pool_lock);
	if (st)
		return st;
	st = store_open_config(&s->sc, &e);
	if (!st) {
		log_err("milter: store: %s", e->message);
		g_error_free(e);
	}
	return st;
}

/* ok 0: the connection failed; close it rather than reuse it. */
static void
milter_store_give(struct milter_server *s, struct store *st, int ok)
{
	if (!st)
		return;
	g_mutex_lock(&s->pool_lock);
	if (ok && s->pool->len < MILTER_POOL_MAX) {
		g_ptr_array_add(s->pool, st);
		st = NULL;
	}
	g_mutex_unlock(&s->pool_lock);
	store_close(st);
}

/* ---- callbacks -------------------------------------------------------------- */

static struct milter_conn *
milter_conn(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

static struct milter_conn *
milter_conn_new(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn(ctx);

	if (c)
		return c;
	c = g_new0(struct milter_conn, 1);
	c->msg = mark_msg_new();
	smfi_setpriv(ctx, c);
	atomic_fetch_add(&milter_self->active, 1);
	return c;
}

/* The steps we need: MAIL and RCPT only get a reply when they may be
 * refused (check_at_mail, suppressed = refuse). */
static unsigned long
milter_steps(const struct mark_config *mc)
{
	unsigned long steps = MILTER_STEPS;

	if (!mc->check_at_mail)
		steps |= SMFIP_NR_MAIL;
	if (!mc->suppressed_refuse)
		steps |= SMFIP_NR_RCPT;
	return steps;
}

/* The reply to a step the MTA may have agreed to expect none for. */
static sfsistat
milter_noreply(const struct milter_conn *c, unsigned long nr)
{
	return c && (c->pflags & nr) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* Only the macros we read, so that the MTA sends no macro packet at the
 * stages that need none. */
static void
milter_symlist(SMFICTX *ctx)
{
	static const struct {
		int stage;
		const char *list;
	} lists[] = {
		{ SMFIM_CONNECT, "" },
		{ SMFIM_ENVFROM, "{auth_authen}" },
		{ SMFIM_ENVRCPT, "" },
		{ SMFIM_EOM, "i" },
	};
	char buf[64];

	for (size_t i = 0; i < G_N_ELEMENTS(lists); i++) {
		g_strlcpy(buf, lists[i].list, sizeof(buf));
		if (smfi_setsymlist(ctx, lists[i].stage, buf) != MI_SUCCESS)
			log_debug("milter: macro list for stage %d refused",
				  lists[i].stage);
	}
}

static sfsistat
milter_on_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
		    unsigned long f2, unsigned long f3, unsigned long *pf0,
		    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct milter_conn *c = milter_conn_new(ctx);

	if (!(f0 & SMFIF_CHGFROM))
		log_warn("milter: the MTA does not let milters change the "
			 "envelope sender: messages cannot be marked");
	*pf0 = f0 & MILTER_ACTIONS;
	*pf1 = c->pflags = f1 & milter_steps(milter_self->ctx->mc);
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		milter_symlist(ctx);
	}
	*pf2 = *pf3 = 0;
	log_debug("milter: negotiated actions=0x%lx steps=0x%lx (offered "
		  "0x%lx 0x%lx)",
		  *pf0, *pf1, f0, f1);
	return SMFIS_CONTINUE;
}

/* A macro's value, or NULL (libmilter's prototype takes char *). */
static const char *
milter_macro(SMFICTX *ctx, const char *name)
{
	char buf[64];

	g_strlcpy(buf, name, sizeof(buf));
	return smfi_getsymval(ctx, buf);
}

static int
milter_is_local(const char *hostname, const _SOCK_ADDR *hostaddr)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)hostaddr;

	/* What Postfix's cleanup emulates for pickup mail. */
	return hostaddr && hostname && strcmp(hostname, "localhost") == 0 &&
	       sin->sin_family == AF_INET && sin->sin_port == 0 &&
	       sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

static sfsistat
milter_on_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_conn *c = milter_conn_new(ctx);

	c->msg->local = milter_is_local(hostname, hostaddr);
	log_debug("milter: connect host=%s local=%d", hostname ? hostname : "-",
		  c->msg->local);
	return milter_noreply(c, SMFIP_NR_CONN);
}

static sfsistat
milter_reply(SMFICTX *ctx, const struct mark_result *r)
{
	smfi_setreply(ctx, (char *)r->code, (char *)r->xcode, (char *)r->text);
	return r->reply == MARK_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* The early checks of mark_envelope_check(); SMFIS_CONTINUE when none
 * applies. */
static sfsistat
milter_envelope_check(SMFICTX *ctx, struct milter_conn *c, const char *rcpt)
{
	struct milter_server *s = milter_self;
	struct mark_result r;
	struct store *st;
	sfsistat ret = SMFIS_CONTINUE;

	if (!rcpt && !s->ctx->mc->check_at_mail)
		return milter_noreply(c, SMFIP_NR_MAIL);
	if (rcpt && !s->ctx->mc->suppressed_refuse)
		return milter_noreply(c, SMFIP_NR_RCPT);
	if (c->msg->local || !c->msg->sasl_login)
		return SMFIS_CONTINUE;
	st = milter_store_take(s);
	mark_result_init(&r);
	mark_envelope_check(s->ctx, st, c->msg, rcpt, g_get_real_time() / 1000,
			    &r);
	milter_store_give(s, st, 1);
	if (r.reply == MARK_REJECT || r.reply == MARK_TEMPFAIL) {
		ret = milter_reply(ctx, &r);
		log_info("milter: refused at %s login=%s reply=\"%s %s\"",
			 rcpt ? "RCPT" : "MAIL", c->msg->sasl_login, r.code,
			 r.xcode);
		if (rcpt)
			metric_inc(s->stats.suppressed);
	}
	mark_result_clear(&r);
	return ret;
}

static sfsistat
milter_on_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = milter_conn(ctx);
	int64_t t0 = g_get_monotonic_time();
	const char *login = milter_macro(ctx, "{auth_authen}");
	sfsistat ret;

	if (!c)
		return SMFIS_ACCEPT;
	mark_msg_reset(c->msg);
	g_free(c->msg->sasl_login);
	c->msg->sasl_login = login && *login ? g_strdup(login) : NULL;
	mark_msg_set_from(c->msg, argv[0], (const char *const *)argv + 1);
	log_debug("milter: MAIL login=%s local=%d", login ? login : "-",
		  c->msg->local);
	ret = milter_envelope_check(ctx, c, NULL);
	c->work_us = g_get_monotonic_time() - t0;
	return ret;
}

static sfsistat
milter_on_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = milter_conn(ctx);
	int64_t t0 = g_get_monotonic_time();
	sfsistat ret;

	if (!c)
		return SMFIS_ACCEPT;
	ret = milter_envelope_check(ctx, c, argv[0]);
	if (ret != SMFIS_REJECT && ret != SMFIS_TEMPFAIL)
		mark_msg_add_rcpt(c->msg, argv[0]);
	c->work_us += g_get_monotonic_time() - t0;
	return ret;
}

static sfsistat
milter_on_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_conn *c = milter_conn(ctx);
	int64_t t0 = g_get_monotonic_time();

	if (!c)
		return SMFIS_ACCEPT;
	mark_msg_add_header(c->msg, milter_self->ctx, name, value);
	c->work_us += g_get_monotonic_time() - t0;
	return milter_noreply(c, SMFIP_NR_HDR);
}

static sfsistat
milter_on_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct milter_conn *c = milter_conn(ctx);
	int64_t t0 = g_get_monotonic_time();

	if (!c)
		return SMFIS_ACCEPT;
	mark_msg_add_body(c->msg, milter_self->ctx, data, len);
	c->work_us += g_get_monotonic_time() - t0;
	return milter_noreply(c, SMFIP_NR_BODY);
}

static int
milter_edit_headers(SMFICTX *ctx, const struct mark_result *r)
{
	for (guint i = 0; i < r->headers->len; i++) {
		const struct mark_hdr_edit *e = r->headers->pdata[i];
		int ok = e->index == 0 ? smfi_addheader(ctx, e->name, e->value)
				       : smfi_chgheader(ctx, e->name, e->index,
							e->value);

		if (ok != MI_SUCCESS)
			return -1;
	}
	return 0;
}

/* Applies the modifications; -1 when the MTA refused one. */
static int
milter_modify(SMFICTX *ctx, const struct mark_result *r)
{
	if (r->chgfrom &&
	    smfi_chgfrom(ctx, r->chgfrom, r->chgfrom_args) != MI_SUCCESS)
		return -1;
	if (milter_edit_headers(ctx, r) < 0)
		return -1;
	for (guint i = 0; i < r->del_rcpts->len; i++)
		if (smfi_delrcpt(ctx, r->del_rcpts->pdata[i]) != MI_SUCCESS)
			return -1;
	if (r->body && smfi_replacebody(ctx, (unsigned char *)r->body,
					(int)r->body_len) != MI_SUCCESS)
		return -1;
	if (r->quarantine && smfi_quarantine(ctx, r->quarantine) != MI_SUCCESS)
		return -1;
	return 0;
}

static void
milter_count(struct milter_server *s, const struct mark_result *r)
{
	struct milter_stats *st = &s->stats;

	if (r->store_failed)
		metric_inc(st->store_failures);
	if (r->source && strcmp(r->source, "none") == 0 && !r->store_failed)
		metric_inc(st->unknown);
	metric_add(st->suppressed, r->suppressed);
	metric_add(st->links, r->links);
	if (r->note && g_str_has_prefix(r->note, "HTML left"))
		metric_inc(st->rewrite_refused);
	switch (r->reply) {
	case MARK_CONTINUE:
		metric_inc(r->quarantine ? st->held : st->marked);
		break;
	case MARK_ACCEPT:
		metric_inc(st->unchanged);
		break;
	case MARK_TEMPFAIL:
		metric_inc(st->deferred);
		break;
	case MARK_REJECT:
		metric_inc(st->rejected);
		break;
	case MARK_DISCARD:
		metric_inc(st->discarded);
		break;
	}
}

static const char *
milter_result_name(const struct mark_result *r)
{
	switch (r->reply) {
	case MARK_CONTINUE:
		return r->quarantine ? "held" : "marked";
	case MARK_ACCEPT:
		return "unchanged";
	case MARK_TEMPFAIL:
		return "deferred";
	case MARK_REJECT:
		return "rejected";
	case MARK_DISCARD:
		break;
	}
	return "discarded";
}

static void
milter_log(const struct mark_msg *m, const struct mark_result *r,
	   int64_t work_us)
{
	log_info("milter: %s qid=%s account=%s source=%s state=%s "
		 "local=%d rcpts=%u suppressed=%u size=%" G_GINT64_FORMAT
		 " serial=%" G_GINT64_FORMAT " links=%u us=%" G_GINT64_FORMAT
		 "%s%s%s%s%s",
		 milter_result_name(r), m->queue_id ? m->queue_id : "-",
		 r->account ? r->account : "-", r->source, r->state, m->local,
		 r->rcpts, r->suppressed, m->size, r->serial, r->links, work_us,
		 r->reply == MARK_TEMPFAIL || r->reply == MARK_REJECT
			 ? " reply=\""
			 : "",
		 r->reply == MARK_TEMPFAIL || r->reply == MARK_REJECT ? r->xcode
								      : "",
		 r->reply == MARK_TEMPFAIL || r->reply == MARK_REJECT ? "\""
								      : "",
		 r->note ? " note=" : "", r->note ? r->note : "");
}

static sfsistat
milter_on_eom(SMFICTX *ctx)
{
	struct milter_server *s = milter_self;
	struct milter_conn *c = milter_conn(ctx);
	int64_t t0 = g_get_monotonic_time();
	const char *qid = milter_macro(ctx, "i");
	struct mark_result r;
	struct store *st;
	sfsistat ret = SMFIS_CONTINUE;

	if (!c)
		return SMFIS_ACCEPT;
	g_free(c->msg->queue_id);
	c->msg->queue_id = qid && *qid ? g_strndup(qid, 64) : NULL;
	st = milter_store_take(s);
	mark_result_init(&r);
	mark_process(s->ctx, st, c->msg, g_get_real_time() / 1000, &r);
	milter_store_give(s, st, !r.store_failed);
	if (r.reply == MARK_TEMPFAIL || r.reply == MARK_REJECT)
		ret = milter_reply(ctx, &r);
	else if (r.reply == MARK_ACCEPT)
		ret = SMFIS_ACCEPT;
	else if (r.reply == MARK_DISCARD)
		ret = SMFIS_DISCARD;
	else if (milter_modify(ctx, &r) < 0)
		log_warn("milter: the MTA refused a modification qid=%s "
			 "(is the milter allowed to change the sender, "
			 "headers and body?)",
			 c->msg->queue_id ? c->msg->queue_id : "-");
	c->work_us += g_get_monotonic_time() - t0;
	milter_count(s, &r);
	milter_log(c->msg, &r, c->work_us);
	mark_result_clear(&r);
	mark_msg_reset(c->msg);
	return ret;
}

static sfsistat
milter_on_abort(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn(ctx);

	if (c)
		mark_msg_reset(c->msg);
	return SMFIS_CONTINUE;
}

static sfsistat
milter_on_close(SMFICTX *ctx)
{
	struct milter_conn *c = milter_conn(ctx);

	if (c) {
		mark_msg_free(c->msg);
		g_free(c);
		smfi_setpriv(ctx, NULL);
		atomic_fetch_sub(&milter_self->active, 1);
	}
	return SMFIS_CONTINUE;
}

/* ---- statistics file -------------------------------------------------------- */

static void
milter_stats_init(struct milter_server *s)
{
	struct metrics *m = s->metrics;
	struct milter_stats *st = &s->stats;
	const char *n = "fbld_milter_messages_total";
	const char *h = "Messages by what the milter did with them";

	st->marked = metrics_counter(m, n, "result=\"marked\"", h);
	st->unchanged = metrics_counter(m, n, "result=\"unchanged\"", h);
	st->deferred = metrics_counter(m, n, "result=\"deferred\"", h);
	st->rejected = metrics_counter(m, n, "result=\"rejected\"", h);
	st->held = metrics_counter(m, n, "result=\"held\"", h);
	st->discarded = metrics_counter(m, n, "result=\"discarded\"", h);
	st->unknown = metrics_counter(m, "fbld_milter_unknown_total", NULL,
				      "Messages no account could be found "
				      "for");
	st->store_failures = metrics_counter(
		m, "fbld_milter_store_failures_total", NULL,
		"Messages handled without the store (fail-open or deferred)");
	st->suppressed =
		metrics_counter(m, "fbld_milter_suppressed_total", NULL,
				"Recipients dropped or refused as suppressed");
	st->links = metrics_counter(m, "fbld_milter_links_total", NULL,
				    "Links wrapped for click tracking");
	st->rewrite_refused = metrics_counter(
		m, "fbld_milter_rewrite_refused_total", NULL,
		"HTML messages left unchanged because their MIME was broken");
}

static void
milter_stats_write(struct milter_server *s)
{
	char *text;
	GError *e = NULL;

	if (!s->mc->stats_file)
		return;
	text = metrics_render(s->metrics);
	/* g_file_set_contents writes a temporary file and renames it. */
	if (!g_file_set_contents(s->mc->stats_file, text, -1, &e)) {
		log_warn("milter: stats file: %s", e->message);
		g_error_free(e);
	}
	g_free(text);
}

static gpointer
milter_stats_thread(gpointer p)
{
	struct milter_server *s = p;

	g_mutex_lock(&s->stop_lock);
	while (!s->stopping) {
		int64_t until = g_get_monotonic_time() +
				s->mc->stats_interval_ms * 1000;

		g_mutex_unlock(&s->stop_lock);
		milter_stats_write(s);
		g_mutex_lock(&s->stop_lock);
		while (!s->stopping &&
		       g_cond_wait_until(&s->stop_cond, &s->stop_lock, until))
			;
	}
	g_mutex_unlock(&s->stop_lock);
	return NULL;
}

/* ---- running ---------------------------------------------------------------- */

static char milter_name[] = "fbld";

static struct smfiDesc milter_desc = {
	.xxfi_name = milter_name,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = MILTER_ACTIONS,
	.xxfi_connect = milter_on_connect,
	.xxfi_envfrom = milter_on_envfrom,
	.xxfi_envrcpt = milter_on_envrcpt,
	.xxfi_header = milter_on_header,
	.xxfi_body = milter_on_body,
	.xxfi_eom = milter_on_eom,
	.xxfi_abort = milter_on_abort,
	.xxfi_close = milter_on_close,
	.xxfi_negotiate = milter_on_negotiate,
};

/*
 * libmilter answers end of message with one small write per modification;
 * with Nagle's algorithm each waits for the MTA's delayed ACK (40 ms on
 * Linux). libmilter has no option for TCP_NODELAY and no handle on its
 * socket, so find its listening socket among ours and set it there:
 * accepted sockets inherit it. Unix sockets need nothing.
 */
static void
milter_nodelay(const char *listen)
{
	int one = 1;
	int port;

	if (!g_str_has_prefix(listen, "inet"))
		return;
	port = atoi(strchr(listen, ':') + 1);
	for (int fd = 3; fd < 1024; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int acc = 0;
		socklen_t alen = sizeof(acc);
		in_port_t p;

		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen) <
			    0 ||
		    !acc)
			continue;
		p = ss.ss_family == AF_INET
			    ? ((struct sockaddr_in *)&ss)->sin_port
			    : ((struct sockaddr_in6 *)&ss)->sin6_port;
		if (ntohs(p) == port && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
						   &one, sizeof(one)) == 0)
			return;
	}
	log_warn("milter: could not set TCP_NODELAY on %s: replies may wait "
		 "for delayed ACKs",
		 listen);
}

static int
milter_is_unix(const char *listen)
{
	return g_str_has_prefix(listen, "unix:") ||
	       g_str_has_prefix(listen, "local:");
}

/* The unix socket's mode and group: only the MTA may talk to it. */
static int
milter_socket_access(const struct milter_config *mc, GError **error)
{
	const char *path = strchr(mc->listen, ':') + 1;
	struct group *gr;

	if (!milter_is_unix(mc->listen))
		return 0;
	if (mc->socket_group && (!(gr = getgrnam(mc->socket_group)) ||
				 chown(path, (uid_t)-1, gr->gr_gid) < 0)) {
		g_set_error(error, MILTER_ERROR, 1, "milter: %s: group %s: %s",
			    path, mc->socket_group, g_strerror(errno));
		return -1;
	}
	if (chmod(path, mc->socket_mode) < 0) {
		g_set_error(error, MILTER_ERROR, 1, "milter: %s: chmod: %s",
			    path, g_strerror(errno));
		return -1;
	}
	return 0;
}

static int
milter_open(const struct milter_config *mc, GError **error)
{
	char *conn = g_strdup(mc->listen);
	int ok;

	if (milter_is_unix(mc->listen)) {
		char *dir = g_path_get_dirname(strchr(mc->listen, ':') + 1);

		if (g_mkdir_with_parents(dir, 0750) < 0)
			log_warn("milter: %s: %s", dir, g_strerror(errno));
		g_free(dir);
	}
	/* Postfix sends a header in one packet, up to its header_size_limit
	 * (100 kB): libmilter's default of 64 kB would drop the connection. */
	smfi_setmaxdatasize(MILTER_DATA_MAX);
	ok = smfi_setconn(conn) == MI_SUCCESS &&
	     smfi_settimeout((int)(mc->timeout_ms / 1000)) == MI_SUCCESS &&
	     smfi_setbacklog(mc->backlog) == MI_SUCCESS &&
	     smfi_register(milter_desc) == MI_SUCCESS &&
	     smfi_opensocket(true) == MI_SUCCESS;
	if (ok)
		milter_nodelay(mc->listen);
	if (ok && milter_socket_access(mc, error) < 0) {
		g_free(conn);
		return -1;
	}
	/* libmilter keeps its own copy of the connection spec. */
	g_free(conn);
	if (!ok)
		g_set_error(error, MILTER_ERROR, 1,
			    "milter: cannot listen on %s", mc->listen);
	return ok ? 0 : -1;
}

static void
milter_block_signals(void)
{
	sigset_t set;

	/* libmilter waits for these in its own thread (sigwait); no other
	 * thread may take them first. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Connections still open when libmilter stops are left to finish; give
 * them a moment before the server goes away. 1 when all closed. */
static int
milter_drain(struct milter_server *s)
{
	for (int i = 0; i < 50 && atomic_load(&s->active) > 0; i++)
		g_usleep(100000);
	return atomic_load(&s->active) == 0;
}

static void
milter_server_free(struct milter_server *s)
{
	g_ptr_array_free(s->pool, TRUE);
	metrics_free(s->metrics);
	g_cond_clear(&s->stop_cond);
	g_mutex_clear(&s->stop_lock);
	g_mutex_clear(&s->pool_lock);
	g_free(s);
}

static void
milter_serve(struct milter_server *s, GError **error)
{
	GThread *stats = g_thread_new("milter-stats", milter_stats_thread, s);

	log_notice("milter: listening socket=%s", s->mc->listen);
	if (smfi_main() != MI_SUCCESS)
		g_set_error(error, MILTER_ERROR, 1,
			    "milter: libmilter stopped with an error");
	g_mutex_lock(&s->stop_lock);
	s->stopping = 1;
	g_cond_signal(&s->stop_cond);
	g_mutex_unlock(&s->stop_lock);
	g_thread_join(stats);
	milter_stats_write(s);
}

int
milter_run(const struct milter_config *mc, const struct mark_ctx *ctx,
	   const struct store_config *sc, GError **error)
{
	struct milter_server *s = g_new0(struct milter_server, 1);
	GError *e = NULL;

	s->mc = mc;
	s->ctx = ctx;
	s->sc = *sc;
	s->sc.busy_timeout_ms = mc->store_timeout_ms;
	g_mutex_init(&s->pool_lock);
	g_mutex_init(&s->stop_lock);
	g_cond_init(&s->stop_cond);
	s->pool = g_ptr_array_new_with_free_func((GDestroyNotify)store_close);
	s->metrics = metrics_new();
	milter_stats_init(s);
	milter_self = s;
	milter_block_signals();
	if (milter_open(mc, &e) == 0)
		milter_serve(s, &e);
	if (!milter_drain(s)) {
		/* Still in use by libmilter's threads: leave it alone. */
		log_notice("milter: stopped with %d connections still open",
			   atomic_load(&s->active));
		g_clear_error(&e);
		return 1;
	}
	milter_self = NULL;
	milter_server_free(s);
	if (e) {
		g_propagate_error(error, e);
		return -1;
	}
	return 0;
}
