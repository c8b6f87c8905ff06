/* policyd: see policyd.h. */
#include "verp/policyd.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/fdio.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "verp/identity.h"
#include "verp/policy.h"

#define POLICYD_POLL_MS 1000
#define POLICYD_FAILED_REPLY                                                   \
	"action=DEFER_IF_PERMIT 4.3.0 Temporary failure, try again later\n\n"

struct policyd_conn {
	struct policyd *pd;
	int fd;
	GThread *thread;
	int done; /* set by the thread when it is about to return */
	struct store *st;
	char *instance;	  /* Postfix's message instance */
	int64_t inflight; /* recipients passed for that instance */
};

struct policyd {
	const struct policyd_config *pc;
	const struct identity_config *ic;
	const struct policy_config *pol;
	const struct store_config *sc;
	int fd;
	int wake[2];
	int port;
	GThread *listener;
	GMutex lock;
	GPtrArray *conns; /* struct policyd_conn * */
	int stopping;
	struct metric *dunno, *defer, *reject, *store_failures, *refused;
};

void
policyd_config_load(struct config *cfg, struct policyd_config *out)
{
	char *listen = config_str(cfg, "policy", "listen", NULL);
	char *colon;

	memset(out, 0, sizeof(*out));
	out->fail_open = config_bool(cfg, "policy", "fail_open", 1);
	out->max_connections = (int)config_int(cfg, "policy", "max_connections",
					       100, 1, 10000);
	out->idle_timeout_ms = config_duration_ms(cfg, "policy", "idle_timeout",
						  600000, 1000, 86400000);
	if (!listen || !*listen) {
		g_free(listen);
		return;
	}
	colon = strrchr(listen, ':');
	if (!colon || colon == listen || !colon[1] ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strlen(colon + 1) > 5 || atoi(colon + 1) > 65535) {
		config_error(cfg, "policy", "listen",
			     "\"%s\" is not ADDRESS:PORT", listen);
		g_free(listen);
		return;
	}
	*colon = '\0';
	out->port = atoi(colon + 1);
	out->address = g_strdup(listen[0] == '[' ? listen + 1 : listen);
	if (out->address[strlen(out->address) - 1] == ']')
		out->address[strlen(out->address) - 1] = '\0';
	g_free(listen);
}

void
policyd_config_clear(struct policyd_config *pc)
{
	g_clear_pointer(&pc->address, g_free);
}

struct policyd *
policyd_new(const struct policyd_config *pc, const struct identity_config *ic,
	    const struct policy_config *pol, const struct store_config *sc,
	    struct metrics *m)
{
	struct policyd *pd = g_new0(struct policyd, 1);
	const char *n = "fbld_policy_requests_total";
	const char *h = "Policy delegation requests by answer";

	pd->pc = pc;
	pd->ic = ic;
	pd->pol = pol;
	pd->sc = sc;
	pd->fd = pd->wake[0] = pd->wake[1] = -1;
	g_mutex_init(&pd->lock);
	pd->conns = g_ptr_array_new();
	pd->dunno = metrics_counter(m, n, "action=\"dunno\"", h);
	pd->defer = metrics_counter(m, n, "action=\"defer_if_permit\"", h);
	pd->reject = metrics_counter(m, n, "action=\"reject\"", h);
	pd->store_failures =
		metrics_counter(m, "fbld_policy_store_failures_total", NULL,
				"Policy requests answered without the store");
	pd->refused = metrics_counter(
		m, "fbld_policy_protocol_errors_total", NULL,
		"Policy connections closed for breaking the protocol");
	return pd;
}

/* ---- one request -------------------------------------------------------- */

static void
policyd_count(struct policyd *pd, const struct policy_decision *d)
{
	metric_inc(d->verdict == POLICY_REJECT ? pd->reject
		   : d->verdict == POLICY_PASS ? pd->dunno
					       : pd->defer);
}

/* The decision for an authenticated RCPT; -1 when the store failed. */
static int
policyd_decide(struct policyd_conn *c, const char *login, int64_t now_ms,
	       struct policy_decision *d, GError **error)
{
	struct policyd *pd = c->pd;
	struct identity_input in = { .sasl_login = login };
	struct identity id;
	struct store_account_state s;
	struct policy_options o;
	char *bounce = NULL, *options = NULL;
	int64_t used = 0, limit;
	uint32_t acct;
	int r = -1;

	memset(d, 0, sizeof(*d));
	identity_resolve(pd->ic, &in, &id, NULL);
	if (!id.name)
		return 0;
	if (!c->st && !(c->st = store_open_config(pd->sc, error)))
		goto out;
	r = store_account_find(c->st, id.name, &acct, error);
	if (r != 0)
		goto out;
	if ((r = store_account_state_get(c->st, acct, now_ms, &s, error)) != 0)
		goto out;
	r = store_account_settings(c->st, acct, &bounce, &options, error);
	if (r == 0) {
		policy_options_parse(options, &o, NULL);
		limit = o.rate_limit >= 0 ? o.rate_limit : pd->pol->rate_limit;
		if (limit > 0)
			r = store_send_rcpts_since(
				c->st, acct, now_ms - pd->pol->rate_window_ms,
				&used, error);
		if (r == 0)
			policy_decide(pd->pol, POLICY_PATH_SMTP, s.effective,
				      used + c->inflight + 1, limit, d);
	}
	store_account_state_clear(&s);
out:
	g_free(bounce);
	g_free(options);
	identity_clear(&id);
	return r < 0 ? -1 : 0;
}

/* The reply, or NULL to close the connection (protocol error). */
static char *
policyd_answer(struct policyd_conn *c, const struct policy_request *req)
{
	const char *kind = policy_request_get(req, "request");
	const char *state = policy_request_get(req, "protocol_state");
	const char *login = policy_request_get(req, "sasl_username");
	const char *inst = policy_request_get(req, "instance");
	struct policy_decision d = { .verdict = POLICY_PASS };
	GError *e = NULL;

	if (!kind || strcmp(kind, "smtpd_access_policy") != 0)
		return NULL;
	if (g_strcmp0(inst, c->instance) != 0) {
		g_free(c->instance);
		c->instance = g_strdup(inst);
		c->inflight = 0;
	}
	if (login && *login && state && strcmp(state, "RCPT") == 0 &&
	    policyd_decide(c, login, g_get_real_time() / 1000, &d, &e) < 0) {
		log_err("policy: %s", e->message);
		g_error_free(e);
		metric_inc(c->pd->store_failures);
		store_close(c->st);
		c->st = NULL;
		if (!c->pd->pc->fail_open)
			return g_strdup(POLICYD_FAILED_REPLY);
		d.verdict = POLICY_PASS;
	}
	if (d.verdict == POLICY_PASS && state && strcmp(state, "RCPT") == 0)
		c->inflight++;
	else if (d.verdict != POLICY_PASS)
		log_info("policy: %s login=%s why=%s reply=\"%s\"",
			 policy_verdict_name(d.verdict), login, d.why, d.xcode);
	policyd_count(c->pd, &d);
	return policy_reply(&d);
}

/* ---- connections -------------------------------------------------------- */

/* Answers every complete request in buf; -1 to close the connection. */
static int
policyd_serve_buffer(struct policyd_conn *c, GByteArray *buf)
{
	gssize end;

	while ((end = policy_request_end((const char *)buf->data, buf->len)) !=
	       0) {
		struct policy_request *req;
		char *reply = NULL;
		GError *e = NULL;

		if (end < 0 ||
		    !(req = policy_request_parse((const char *)buf->data,
						 (size_t)end, &e))) {
			log_warn("policy: closing connection: %s",
				 e ? e->message : "request too long");
			g_clear_error(&e);
			metric_inc(c->pd->refused);
			return -1;
		}
		reply = policyd_answer(c, req);
		policy_request_free(req);
		if (!reply) {
			log_warn("policy: closing connection: not an "
				 "smtpd_access_policy request");
			metric_inc(c->pd->refused);
			return -1;
		}
		g_byte_array_remove_range(buf, 0, (guint)end);
		if (fd_write_all(c->fd, reply, strlen(reply)) < 0) {
			g_free(reply);
			return -1;
		}
		g_free(reply);
	}
	return 0;
}

static gpointer
policyd_conn_thread(gpointer p)
{
	struct policyd_conn *c = p;
	GByteArray *buf = g_byte_array_new();
	char chunk[4096];

	for (;;) {
		struct pollfd pfd = { c->fd, POLLIN, 0 };
		int r = poll(&pfd, 1, (int)c->pd->pc->idle_timeout_ms);
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = read(c->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_byte_array_append(buf, (const guint8 *)chunk, (guint)n);
		if (policyd_serve_buffer(c, buf) < 0)
			break;
	}
	g_byte_array_unref(buf);
	store_close(c->st);
	c->st = NULL;
	g_mutex_lock(&c->pd->lock);
	c->done = 1;
	g_mutex_unlock(&c->pd->lock);
	return NULL;
}

static void
policyd_conn_free(struct policyd_conn *c)
{
	g_thread_join(c->thread);
	close(c->fd);
	g_free(c->instance);
	g_free(c);
}

/* Joins the connections that ended (all of them when stopping). */
static void
policyd_reap(struct policyd *pd, int all)
{
	GPtrArray *gone = g_ptr_array_new();

	g_mutex_lock(&pd->lock);
	for (guint i = pd->conns->len; i-- > 0;) {
		struct policyd_conn *c = pd->conns->pdata[i];

		if (all)
			shutdown(c->fd, SHUT_RDWR);
		if (all || c->done)
			g_ptr_array_add(gone,
					g_ptr_array_steal_index(pd->conns, i));
	}
	g_mutex_unlock(&pd->lock);
	for (guint i = 0; i < gone->len; i++)
		policyd_conn_free(gone->pdata[i]);
	g_ptr_array_free(gone, TRUE);
}

static void
policyd_accept(struct policyd *pd)
{
	int fd = accept(pd->fd, NULL, NULL);
	struct policyd_conn *c;

	if (fd < 0)
		return;
	g_mutex_lock(&pd->lock);
	if ((int)pd->conns->len >= pd->pc->max_connections) {
		g_mutex_unlock(&pd->lock);
		log_warn("policy: refusing a connection: max_connections=%d "
			 "reached",
			 pd->pc->max_connections);
		close(fd);
		return;
	}
	c = g_new0(struct policyd_conn, 1);
	c->pd = pd;
	c->fd = fd;
	g_ptr_array_add(pd->conns, c);
	c->thread = g_thread_new("policy-conn", policyd_conn_thread, c);
	g_mutex_unlock(&pd->lock);
}

static gpointer
policyd_listen_thread(gpointer p)
{
	struct policyd *pd = p;

	for (;;) {
		struct pollfd pfd[2] = { { pd->fd, POLLIN, 0 },
					 { pd->wake[0], POLLIN, 0 } };
		int r = poll(pfd, 2, POLICYD_POLL_MS);

		if (pfd[1].revents)
			break;
		if (r > 0 && pfd[0].revents & POLLIN)
			policyd_accept(pd);
		policyd_reap(pd, 0);
	}
	return NULL;
}

static int
policyd_bind(struct policyd *pd, GError **error)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST |
					      AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char port[16];
	int one = 1, rc;

	g_snprintf(port, sizeof(port), "%d", pd->pc->port);
	rc = getaddrinfo(pd->pc->address, port, &hints, &ai);
	if (rc != 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "policy: %s: %s", pd->pc->address,
			    gai_strerror(rc));
		return -1;
	}
	pd->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (pd->fd < 0 ||
	    setsockopt(pd->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) <
		    0 ||
	    bind(pd->fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(pd->fd, 64) < 0 ||
	    getsockname(pd->fd, (struct sockaddr *)&ss, &len) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    "policy: listen on %s:%d: %s", pd->pc->address,
			    pd->pc->port, g_strerror(errno));
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	pd->port = ntohs(ss.ss_family == AF_INET6
				 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				 : ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

int
policyd_start(struct policyd *pd, GError **error)
{
	if (policyd_bind(pd, error) < 0)
		return -1;
	if (pipe2(pd->wake, O_CLOEXEC) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    "policy: pipe: %s", g_strerror(errno));
		return -1;
	}
	pd->listener = g_thread_new("policy", policyd_listen_thread, pd);
	log_info("policy: listening address=%s port=%d", pd->pc->address,
		 pd->port);
	return 0;
}

int
policyd_port(const struct policyd *pd)
{
	return pd->port;
}

void
policyd_free(struct policyd *pd)
{
	if (!pd)
		return;
	if (pd->listener) {
		if (write(pd->wake[1], "x", 1) < 0)
			log_warn("policy: wake: %s", g_strerror(errno));
		g_thread_join(pd->listener);
	}
	policyd_reap(pd, 1);
	for (int i = 0; i < 2; i++)
		if (pd->wake[i] >= 0)
			close(pd->wake[i]);
	if (pd->fd >= 0)
		close(pd->fd);
	g_ptr_array_free(pd->conns, TRUE);
	g_mutex_clear(&pd->lock);
	g_free(pd);
}
