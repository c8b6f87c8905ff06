/* http: see http.h. The only file that includes <microhttpd.h>. */
#include "core/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"

struct http_route_entry {
	char *method;
	char *path;
	size_t path_len;
	int prefix;
	http_handler_fn fn;
	void *ud;
};

struct http_fixed {
	int status;
	struct MHD_Response *resp;
};

struct http_server {
	struct http_config cfg;
	GArray *routes;	  /* struct http_route_entry */
	GPtrArray *fixed; /* struct http_fixed * */
	GPtrArray *mhd;	  /* struct MHD_Daemon *, one per thread */
	int port;
};

/* Per-request state across libmicrohttpd's calls, set up when the
 * request line has arrived. Short targets (every tracking URL) live in
 * the context itself. */
struct http_ctx {
	const struct http_route_entry *route;
	int routed;
	GString *body;
	int too_large;
	int owned; /* allocated for the request, not the connection's */
	char *target;
	char target_buf[192];
};

/* Per-connection state, from accept to close: the client's address,
 * formatted once, and the context of the request in progress (a
 * connection has one at a time), so a request allocates nothing. */
struct http_conn {
	char ip[INET6_ADDRSTRLEN + 1];
	struct http_ctx ctx;
};

void
http_config_load(struct config *cfg, const char *section,
		 const char *default_listen, struct http_config *out)
{
	char *listen = config_str(cfg, section, "listen", default_listen);
	char *colon = strrchr(listen, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;

	memset(out, 0, sizeof(*out));
	if (!colon || !end || *end || port < 0 || port > 65535) {
		config_error(cfg, section, "listen",
			     "\"%s\" is not ADDRESS:PORT", listen);
		g_free(listen);
		listen = g_strdup(default_listen);
		colon = strrchr(listen, ':');
		port = strtol(colon + 1, NULL, 10);
	}
	*colon = '\0';
	out->address = g_strdup(listen[0] == '[' ? listen + 1 : listen);
	if (out->address[0] && out->address[strlen(out->address) - 1] == ']')
		out->address[strlen(out->address) - 1] = '\0';
	out->port = (int)port;
	g_free(listen);
	out->threads = (int)config_int(cfg, section, "threads", 2, 1, 256);
	out->max_connections = (int)config_int(cfg, section, "max_connections",
					       4096, 1, 1000000);
	out->per_ip_limit =
		(int)config_int(cfg, section, "per_ip_limit", 0, 0, 1000000);
	out->timeout_ms = config_duration_ms(cfg, section, "timeout", 30000,
					     1000, 3600000);
	out->max_body =
		config_size(cfg, section, "max_body", 64 * 1024, 0, 16 << 20);
	out->max_header = config_size(cfg, section, "max_header", 16 * 1024,
				      4096, 1 << 20);
}

void
http_config_clear(struct http_config *hc)
{
	g_clear_pointer(&hc->address, g_free);
}

struct http_server *
http_server_new(const struct http_config *hc)
{
	struct http_server *srv = g_new0(struct http_server, 1);

	srv->cfg = *hc;
	srv->cfg.address = g_strdup(hc->address);
	srv->routes = g_array_new(FALSE, TRUE, sizeof(struct http_route_entry));
	srv->fixed = g_ptr_array_new();
	srv->mhd = g_ptr_array_new();
	return srv;
}

const struct http_fixed *
http_fixed_new(struct http_server *srv, int status, const char *content_type,
	       const void *body, size_t len, const char *const *headers)
{
	struct http_fixed *f = g_new0(struct http_fixed, 1);

	f->status = status;
	f->resp = MHD_create_response_from_buffer(len, (void *)body,
						  MHD_RESPMEM_PERSISTENT);
	if (!f->resp)
		g_error("http: cannot create a response"); /* out of memory */
	if (content_type)
		MHD_add_response_header(f->resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					content_type);
	for (size_t i = 0; headers && headers[i] && headers[i + 1]; i += 2)
		MHD_add_response_header(f->resp, headers[i], headers[i + 1]);
	g_ptr_array_add(srv->fixed, f);
	return f;
}

void
http_route(struct http_server *srv, const char *method, const char *path,
	   int prefix, http_handler_fn fn, void *ud)
{
	struct http_route_entry r = {
		.method = g_strdup(method),
		.path = g_strdup(path),
		.path_len = strlen(path),
		.prefix = prefix,
		.fn = fn,
		.ud = ud,
	};

	g_array_append_val(srv->routes, r);
}

static const struct http_route_entry *
http_find(const struct http_server *srv, const char *method, const char *url,
	  int *method_mismatch)
{
	*method_mismatch = 0;
	for (guint i = 0; i < srv->routes->len; i++) {
		const struct http_route_entry *r =
			&g_array_index(srv->routes, struct http_route_entry, i);
		int path_ok = r->prefix
				      ? strncmp(url, r->path, r->path_len) == 0
				      : strcmp(url, r->path) == 0;

		if (!path_ok)
			continue;
		if (r->method ? strcmp(method, r->method) == 0
			      : (strcmp(method, "GET") == 0 ||
				 strcmp(method, "HEAD") == 0))
			return r;
		*method_mismatch = 1;
	}
	return NULL;
}

void
http_respond(struct http_response *resp, int status, const char *content_type,
	     const char *body)
{
	resp->status = status;
	resp->content_type = content_type;
	resp->body = body;
	resp->body_len = body ? strlen(body) : 0;
	resp->body_static = 0;
	resp->body_free = NULL;
}

void
http_response_header(struct http_response *resp, const char *name,
		     const char *value)
{
	if (!resp->headers)
		resp->headers = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(resp->headers, g_strdup(name));
	g_ptr_array_add(resp->headers, g_strdup(value));
}

const char *
http_query(const struct http_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   key);
}

const char *
http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result
http_send(struct MHD_Connection *conn, struct http_response *out)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (out->fixed)
		return MHD_queue_response(conn, (unsigned)out->fixed->status,
					  out->fixed->resp);
	resp = MHD_create_response_from_buffer(out->body_len, (void *)out->body,
					       out->body_static
						       ? MHD_RESPMEM_PERSISTENT
						       : MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	if (out->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					out->content_type);
	for (guint i = 0; out->headers && i + 1 < out->headers->len; i += 2)
		MHD_add_response_header(resp, out->headers->pdata[i],
					out->headers->pdata[i + 1]);
	ret = MHD_queue_response(conn, (unsigned)out->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
http_simple(struct MHD_Connection *conn, int status, const char *text)
{
	struct http_response out = { 0 };

	http_respond(&out, status, "text/plain; charset=utf-8", text);
	out.body_static = 1;
	return http_send(conn, &out);
}

static void
http_client_ip(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	g_strlcpy(buf, "?", len);
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
			  buf, (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
			  &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)len);
}

static struct http_conn *
http_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result
http_dispatch(struct http_server *srv, struct MHD_Connection *conn,
	      const char *method, const char *url, struct http_ctx *ctx)
{
	char ip[INET6_ADDRSTRLEN + 1];
	struct http_conn *hc = http_conn_of(conn);
	struct http_request req = {
		.method = method,
		.path = url,
		.target = ctx->target,
		.body = ctx->body ? ctx->body->str : NULL,
		.body_len = ctx->body ? ctx->body->len : 0,
		.client_ip = hc ? hc->ip : ip,
		.now_ms = g_get_real_time() / 1000,
		.conn = conn,
	};
	struct http_response out = { .status = 200 };
	enum MHD_Result ret;

	if (!hc)
		http_client_ip(conn, ip, sizeof(ip));
	ctx->route->fn(ctx->route->ud, &req, &out);
	ret = http_send(conn, &out);
	if (out.body_free && out.body)
		out.body_free((void *)out.body);
	if (out.headers)
		g_ptr_array_free(out.headers, TRUE);
	(void)srv;
	return ret;
}

/* Called once per request, with the request-target before
 * libmicrohttpd decodes it; the context it returns comes back as
 * *con_cls. */
static void *
http_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct http_conn *hc = http_conn_of(conn);
	struct http_ctx *ctx = hc ? &hc->ctx : g_new(struct http_ctx, 1);
	size_t len = strlen(uri);

	ctx->route = NULL;
	ctx->routed = 0;
	ctx->body = NULL;
	ctx->too_large = 0;
	ctx->owned = !hc;
	if (len < sizeof(ctx->target_buf)) {
		memcpy(ctx->target_buf, uri, len + 1);
		ctx->target = ctx->target_buf;
	} else {
		ctx->target = g_strndup(uri, len);
	}
	return ctx;
}

static enum MHD_Result
http_access(void *cls, struct MHD_Connection *conn, const char *url,
	    const char *method, const char *version, const char *upload_data,
	    size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_ctx *ctx = *con_cls;

	if (!ctx->routed) {
		int mismatch;
		const struct http_route_entry *r =
			http_find(srv, method, url, &mismatch);
		if (!r)
			return mismatch ? http_simple(conn, 405,
						      "method not allowed\n")
					: http_simple(conn, 404, "not found\n");
		/* The response is queued on the next call, once the request
		 * is read: queued now, libmicrohttpd closes the connection
		 * after it. */
		ctx->route = r;
		ctx->routed = 1;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		if (!ctx->body)
			ctx->body = g_string_new(NULL);
		if (ctx->body->len + *upload_data_size >
		    (size_t)srv->cfg.max_body)
			ctx->too_large = 1;
		else
			g_string_append_len(ctx->body, upload_data,
					    (gssize)*upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (ctx->too_large)
		return http_simple(conn, 413, "request body too large\n");
	return http_dispatch(srv, conn, method, url, ctx);
}

static void
http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	       enum MHD_RequestTerminationCode toe)
{
	struct http_ctx *ctx = *con_cls;

	if (!ctx)
		return;
	if (ctx->body)
		g_string_free(ctx->body, TRUE);
	if (ctx->target != ctx->target_buf)
		g_free(ctx->target);
	if (ctx->owned)
		g_free(ctx);
	*con_cls = NULL;
}

static void
http_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
		enum MHD_ConnectionNotificationCode toe)
{
	struct http_conn *hc;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		hc = g_new(struct http_conn, 1);
		http_client_ip(conn, hc->ip, sizeof(hc->ip));
		*socket_context = hc;
	} else {
		g_clear_pointer(socket_context, g_free);
	}
}

static void
http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	g_vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("http: %s", buf);
}

static int
http_sockaddr(const struct http_config *hc, struct sockaddr_storage *ss,
	      GError **error)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, hc->address, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)hc->port);
		return 0;
	}
	if (inet_pton(AF_INET6, hc->address, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)hc->port);
		return 0;
	}
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
		    "http: listen address \"%s\" is not an IP address",
		    hc->address);
	return -1;
}

/*
 * One listener per thread, each with its own socket on the same address
 * (SO_REUSEPORT): the kernel spreads new connections over them. A thread
 * pool sharing one socket lets whichever thread wakes first accept a
 * whole burst of connections and serve them all alone.
 */
static struct MHD_Daemon *
http_start_one(struct http_server *srv, struct sockaddr_storage *ss)
{
	unsigned flags =
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	unsigned n = (unsigned)srv->cfg.threads;
	unsigned limit = ((unsigned)srv->cfg.max_connections + n - 1) / n;

	if (ss->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	return MHD_start_daemon(
		flags, (uint16_t)srv->cfg.port, NULL, NULL, http_access, srv,
		/* First, so that errors of the options after it go there. */
		MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
		MHD_OPTION_LISTENING_ADDRESS_REUSE, n > 1 ? 1u : 0u,
		MHD_OPTION_CONNECTION_LIMIT, limit,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)srv->cfg.per_ip_limit, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)((srv->cfg.timeout_ms + 999) / 1000),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)srv->cfg.max_header,
		MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
		MHD_OPTION_NOTIFY_CONNECTION, http_connection, srv,
		MHD_OPTION_URI_LOG_CALLBACK, http_uri, srv, MHD_OPTION_END);
}

/*
 * Sockets that share a port through SO_REUSEPORT would also share it with
 * a second fbld started by mistake: first check, with a plain socket, that
 * nobody listens there (0 free, -1 taken, with the error set).
 */
static int
http_port_free(const struct http_config *hc, const struct sockaddr_storage *ss,
	       GError **error)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, rc;
	socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);

	if (fd < 0)
		return 0; /* the listeners will tell */
	/* As the listeners do: a port in TIME_WAIT is free. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, (const struct sockaddr *)ss, len);
	close(fd);
	if (rc == 0 || errno != EADDRINUSE)
		return 0;
	g_set_error(error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
		    "%s:%d is in use (another fbld?)", hc->address, hc->port);
	return -1;
}

int
http_server_start(struct http_server *srv, GError **error)
{
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;

	if (http_sockaddr(&srv->cfg, &ss, error) < 0)
		return -1;
	if (srv->cfg.threads > 1 && srv->cfg.port != 0 &&
	    http_port_free(&srv->cfg, &ss, error) < 0)
		return -1;
	for (int i = 0; i < srv->cfg.threads; i++) {
		struct MHD_Daemon *d = http_start_one(srv, &ss);

		if (!d) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "http: cannot listen on %s:%d (address in "
				    "use or not available)",
				    srv->cfg.address, srv->cfg.port);
			return -1;
		}
		g_ptr_array_add(srv->mhd, d);
		if (i > 0)
			continue;
		/* The port the first one got (when 0 was asked for) is the
		 * one the others share. */
		di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		srv->port = di ? di->port : srv->cfg.port;
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port =
				htons((uint16_t)srv->port);
		else
			((struct sockaddr_in6 *)&ss)->sin6_port =
				htons((uint16_t)srv->port);
	}
	return 0;
}

int
http_server_port(const struct http_server *srv)
{
	return srv->port;
}

/* Stops accepting on every listener first, then finishes what runs. */
static void
http_server_stop(struct http_server *srv)
{
	MHD_socket *socks = g_new(MHD_socket, srv->mhd->len + 1);

	for (guint i = 0; i < srv->mhd->len; i++)
		socks[i] = MHD_quiesce_daemon(srv->mhd->pdata[i]);
	for (guint i = 0; i < srv->mhd->len; i++) {
		MHD_stop_daemon(srv->mhd->pdata[i]);
		/* A quiesced listening socket is ours to close. */
		if (socks[i] != MHD_INVALID_SOCKET)
			close(socks[i]);
	}
	g_ptr_array_set_size(srv->mhd, 0);
	g_free(socks);
}

void
http_server_free(struct http_server *srv)
{
	if (!srv)
		return;
	http_server_stop(srv);
	g_ptr_array_free(srv->mhd, TRUE);
	for (guint i = 0; i < srv->routes->len; i++) {
		struct http_route_entry *r =
			&g_array_index(srv->routes, struct http_route_entry, i);
		g_free(r->method);
		g_free(r->path);
	}
	g_array_free(srv->routes, TRUE);
	for (guint i = 0; i < srv->fixed->len; i++) {
		struct http_fixed *f = srv->fixed->pdata[i];
		MHD_destroy_response(f->resp);
		g_free(f);
	}
	g_ptr_array_free(srv->fixed, TRUE);
	http_config_clear(&srv->cfg);
	g_free(srv);
}
