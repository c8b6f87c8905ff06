/*
 * tracking/classify: is a tracking hit a person or a machine? Pure: facts in, a
 * verdict with its rule and a sentence out; no clock, no I/O.
 *
 * Verdicts: human; proxy (a privacy proxy fetching images ahead of the
 * person: Apple Mail Privacy Protection, Yahoo's proxy); scanner (security
 * gateways and link checkers following every link); unknown (nothing to
 * go on, e.g. no User-Agent at all). Rules, first match wins:
 *
 *   head-request       a HEAD request                      scanner
 *   scanner-agent      User-Agent contains a scanner name  scanner
 *   scanner-network    client in a configured network      scanner
 *   gmail-image-proxy  open through GoogleImageProxy       human
 *   proxy-agent        User-Agent contains a proxy name    proxy
 *   proxy-network      client in a configured network      proxy
 *   bare-mozilla       open with User-Agent "Mozilla/5.0"  proxy
 *   early-hit          within early_window of the send     scanner
 *   no-user-agent      no User-Agent header                unknown
 *   no-machine-signal  none of the above                   human
 *
 * and, decided by the writer across hits (tracking_bursts below):
 *   link-burst         burst_links different links of one
 *                      message clicked within burst_window scanner
 *
 * The rules above early-hit need only the request: the HTTP handler runs
 * them (tracking_classify_request()), on the client's full address, which
 * it then reduces for storage (tracking_ip_reduce()). The writer, which
 * knows when the send was recorded, finishes with the timing rules.
 *
 * Limits: agent patterns are matched case-insensitively, in one pass
 * (a compiled alternation), on at most TRACKING_UA_MAX bytes of
 * User-Agent, bytes as they are (no UTF-8 needed).
 */
#ifndef FBLD_TRACKING_CLASSIFY_H
#define FBLD_TRACKING_CLASSIFY_H

#include <gio/gio.h>
#include <stdint.h>

#include "tracking/tracking.h"
#include "verp/url.h"

#define TRACKING_UA_MAX 512
#define TRACKING_UNKNOWN_TIME INT64_MIN

enum tracking_verdict {
	TRACKING_HUMAN,
	TRACKING_PROXY,
	TRACKING_SCANNER,
	TRACKING_UNKNOWN,
};

struct tracking_rules {
	GRegex *scanner_agents;	 /* the substrings, built-in + config, as */
	GRegex *proxy_agents;	 /* one caseless alternation each */
	GPtrArray *scanner_nets; /* GInetAddressMask * */
	GPtrArray *proxy_nets;
	int64_t early_window_ms;
};

struct tracking_facts {
	enum url_kind kind;
	int head;
	const char *user_agent; /* NULL when the header was absent */
	GInetAddress *addr;	/* the client; NULL when unknown */
	int64_t since_send_ms;	/* TRACKING_UNKNOWN_TIME without a send */
};

struct tracking_result {
	enum tracking_verdict verdict;
	const char *reason; /* the rule's name, static */
	int by_request;	    /* a rule above early-hit decided: final */
	char why[256];
};

/* Built-in agent lists plus the configured ones; fails on a network that
 * is not ADDRESS/PREFIX (the message names it). */
struct tracking_rules *
tracking_rules_new(char **scanner_agents, char **proxy_agents,
		   char **scanner_networks, char **proxy_networks,
		   int64_t early_window_ms, GError **error);
void tracking_rules_free(struct tracking_rules *r);
/* Parses "ADDRESS/PREFIX" or a bare address (full length). */
GInetAddressMask *tracking_net_parse(const char *s, GError **error);

/* Every rule but link-burst, in order. */
void tracking_classify(const struct tracking_rules *r,
		       const struct tracking_facts *f,
		       struct tracking_result *out);
/* The rules that need the request only (f->since_send_ms is not read);
 * no-user-agent and no-machine-signal are then provisional. */
void tracking_classify_request(const struct tracking_rules *r,
			       const struct tracking_facts *f,
			       struct tracking_result *out);
/* The timing rule over a result of the request rules: how long after the
 * send the hit came (TRACKING_UNKNOWN_TIME when unknown). */
void tracking_classify_timing(const struct tracking_rules *r,
			      int64_t since_send_ms,
			      struct tracking_result *res);

/* The client of a request: the peer, or when the peer is in trusted (a
 * GInetAddressMask * array, may be empty) the last address of
 * X-Forwarded-For (forwarded, may be NULL). Writes its text to out (size
 * len) and returns it parsed (caller unrefs), or NULL when unparsable. */
GInetAddress *tracking_client(GPtrArray *trusted, const char *peer,
			      const char *forwarded, char *out, size_t len);

/* Reduces the address text in ip (size len) in place to what mode lets
 * us store: "203.0.113.0/24", "2001:db8:1::/48", the whole, or "". */
void tracking_ip_reduce(enum tracking_store_ip mode, char *ip, size_t len);

const char *tracking_verdict_name(enum tracking_verdict v);
/* Whether a verdict is a machine's (proxy or scanner). */
int tracking_is_machine(enum tracking_verdict v);

/*
 * Clicks of each send seen lately, to find the burst of a scanner
 * following every link of a message. tracking_bursts_add() records one
 * click and returns how many different links of that send were clicked
 * within window_ms of it (itself included), with *from_ms the earliest of
 * them. At most TRACKING_BURST_KEEP clicks per send are kept.
 */
#define TRACKING_BURST_KEEP 16

struct tracking_bursts;

struct tracking_bursts *tracking_bursts_new(int64_t window_ms);
void tracking_bursts_free(struct tracking_bursts *b);
int tracking_bursts_add(struct tracking_bursts *b, uint64_t send,
			const char *target, int64_t ts_ms, int64_t *from_ms);
/* Forgets sends not clicked since now_ms - window_ms. */
void tracking_bursts_expire(struct tracking_bursts *b, int64_t now_ms);
unsigned tracking_bursts_size(const struct tracking_bursts *b);

#endif
