/*
 * tracking: the engagement endpoint. On the public HTTP listener it serves
 * the open pixel, the signed click redirect and the RFC 8058 one-click
 * unsubscribe for the URLs verp/url.h builds, tells people from machines
 * (privacy proxies, security scanners), and records every hit as an event
 * of its send and account.
 *
 *   GET|HEAD /o/TOKEN.gif         43-byte GIF, always (nothing revealed)
 *   GET|HEAD /c/TOKEN/SIG?u=URL   302 to URL when signed, else 400
 *   GET|HEAD /u/TOKEN/SIG[?r=R]   a confirmation page; never unsubscribes
 *   POST     /u/TOKEN/SIG[?r=R]   List-Unsubscribe=One-Click: unsubscribes,
 *                                 answered once committed
 *
 * Handlers do no I/O: they verify the token (and signature; the writer
 * does it for the pixel, whose answer does not depend on it), apply the
 * rules that need only the request (tracking/classify.h), queue the hit
 * and answer; an unsubscribe POST waits for its commit first. One writer
 * thread with its own store connection finishes the verdicts and commits
 * everything queued in one transaction (tracking/writer.h); the queue is
 * bounded (queue_max: opens and clicks beyond it are dropped and counted,
 * unsubscribes never are). Stopping drains the queue completely; the
 * HTTP server must be stopped first (register this service before it).
 *
 * docs/tracking.md describes the URLs, the verdicts and what is stored.
 */
#ifndef FBLD_TRACKING_H
#define FBLD_TRACKING_H

#include <glib.h>
#include <stdint.h>

struct config;
struct http_config;
struct http_server;
struct metrics;
struct store_config;
struct token_config;
struct tracking;

enum tracking_store_ip {
	TRACKING_IP_TRUNCATED, /* IPv4 /24, IPv6 /48 */
	TRACKING_IP_FULL,
	TRACKING_IP_NONE,
};

struct tracking_config {
	char *base_url;		 /* [tracking] base_url */
	int base_url_set;	 /* configured, not the loopback default */
	int store_ip;		 /* enum tracking_store_ip */
	int store_user_agent;	 /* [tracking] store_user_agent */
	int64_t early_window_ms; /* a hit this soon after the send: scanner */
	int64_t burst_window_ms; /* burst_links different links of one */
	int burst_links;	 /* message in this window: scanner */
	char **scanner_agents;	 /* user-agent substrings, added to the */
	char **proxy_agents;	 /* built-in lists */
	char **scanner_networks; /* CIDR prefixes */
	char **proxy_networks;
	char **forwarded_from; /* proxies whose X-Forwarded-For is trusted */
	int queue_max;
	int64_t unsubscribe_wait_ms;
	int send_cache; /* send times kept in memory by the writer */
};

/* Reads [tracking]; the default base URL is the [http] listener's. */
void tracking_config_load(struct config *cfg, const struct http_config *http,
			  struct tracking_config *out);
void tracking_config_clear(struct tracking_config *tc);

/* The endpoint; the configurations are borrowed and must outlive it.
 * Fails on a network that does not parse (tracking_config_load() has
 * reported it already). */
struct tracking *tracking_new(const struct tracking_config *tc,
			      const struct token_config *tok,
			      const struct store_config *sc, struct metrics *m,
			      GError **error);
void tracking_free(struct tracking *t);

/* Adds the routes to srv (before it starts). */
void tracking_routes(struct tracking *t, struct http_server *srv);

/* A daemon service (void * is the struct tracking): start opens the
 * writer's store connection and starts it; stop drains and joins it. */
int tracking_start(void *t, GError **error);
void tracking_stop(void *t);

#endif
