/*
 * http: the HTTP server wrapper on libmicrohttpd: threads on epoll,
 * connection and size limits, timeouts, and a route table. Handlers see a
 * parsed request and fill a response; they never see libmicrohttpd.
 *
 * Handlers run on the pool's threads, several at once: they must be
 * thread-safe and must not block on the disk (queue writes instead).
 * Request data is borrowed for the call only. Response bodies are copied
 * unless marked static (then they must outlive the server). A response
 * sent again and again (a pixel, a fixed page) is built once with
 * http_fixed_new() and queued without a copy or an allocation.
 *
 * Limits on untrusted input: the request line and headers must fit in
 * max_header bytes (libmicrohttpd answers 414/431 otherwise), bodies over
 * max_body get 413 without the handler being called, a connection idle for
 * timeout is closed, at most max_connections at once (per_ip_limit per
 * client address and thread, 0 for none).
 *
 * Each of the threads listens on its own socket on the same address
 * (SO_REUSEPORT), so the kernel spreads connections evenly over them; a
 * port some other socket listens on is refused first, so a second daemon
 * started by mistake fails instead of sharing the port.
 */
#ifndef FBLD_HTTP_H
#define FBLD_HTTP_H

#include <glib.h>
#include <stdint.h>

struct config;
struct http_fixed;
struct http_server;

struct http_config {
	char *address; /* [SECTION] listen = ADDRESS:PORT */
	int port;
	int threads;
	int max_connections;
	int per_ip_limit;
	int64_t timeout_ms;
	int64_t max_body;
	int64_t max_header;
};

/* Reads [section]; default_listen such as "127.0.0.1:8025". */
void http_config_load(struct config *cfg, const char *section,
		      const char *default_listen, struct http_config *out);
void http_config_clear(struct http_config *hc);

struct http_request {
	const char *method; /* GET, HEAD, POST, ... */
	const char *path;   /* decoded, without the query */
	const char *target; /* the request-target as received: not decoded,
			       with the query */
	const char *body;   /* NUL-terminated; NULL when empty */
	size_t body_len;
	const char *client_ip;
	int64_t now_ms; /* when the request was complete */
	void *conn;	/* opaque, for http_query()/http_header() */
};

struct http_response {
	int status;
	const char *content_type;
	const void *body;
	size_t body_len;
	int body_static;	  /* body outlives the server: not copied */
	GDestroyNotify body_free; /* called on body once it is copied */
	GPtrArray *headers;	  /* "Name", "value" pairs (char *), owned */
	const struct http_fixed *fixed; /* when set, sent instead of all
					   the above */
};

typedef void (*http_handler_fn)(void *ud, const struct http_request *req,
				struct http_response *resp);

struct http_server *http_server_new(const struct http_config *hc);
/* Adds a route: method NULL matches GET and HEAD; prefix 1 matches
 * any path starting with path. Routes are tried in order. */
void http_route(struct http_server *srv, const char *method, const char *path,
		int prefix, http_handler_fn fn, void *ud);
/* Binds and starts the pool; fails when the address cannot be bound. */
int http_server_start(struct http_server *srv, GError **error);
/* The port actually bound (useful when configured as 0). */
int http_server_port(const struct http_server *srv);
/* Stops accepting, waits for handlers to return, frees. */
void http_server_free(struct http_server *srv);

/* A response built once (status, type, body, and NULL-terminated name,
 * value pairs of headers), for handlers to set as resp->fixed. body must
 * outlive the server; the response is freed with it. */
const struct http_fixed *http_fixed_new(struct http_server *srv, int status,
					const char *content_type,
					const void *body, size_t len,
					const char *const *headers);

/* A decoded query argument, or NULL. */
const char *http_query(const struct http_request *req, const char *key);
/* A request header (case-insensitive name), or NULL. */
const char *http_header(const struct http_request *req, const char *name);

/* Response helpers. */
void http_respond(struct http_response *resp, int status,
		  const char *content_type, const char *body);
void http_response_header(struct http_response *resp, const char *name,
			  const char *value);

#endif
