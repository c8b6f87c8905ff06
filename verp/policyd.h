/*
 * policyd: the Postfix policy service inside `fbld serve`
 * (check_policy_service inet:HOST:PORT), for per-login limits at RCPT
 * time. For each request from an authenticated client (sasl_username) at
 * protocol_state RCPT it answers, from the account's effective state and
 * its recipient rate limit (verp/policy.h):
 *
 *   DUNNO                       nothing against it;
 *   DEFER_IF_PERMIT 4.7.1 ...   throttled, or over its rate limit;
 *   REJECT 5.7.1 ...            blocked.
 *
 * Every other request gets DUNNO. Accounts are named as the milter names
 * them ([milter] sasl_account), never created here. The rate counts the
 * recipients of the account's recorded sends in the window, plus the
 * recipients this service let through for the message in progress
 * (Postfix's "instance"), so a message cannot exceed the limit by many
 * recipients at once; parallel connections of one login can overshoot by
 * the messages in flight.
 *
 * When the store cannot be read the answer is DUNNO ([policy] fail_open,
 * the default) or DEFER_IF_PERMIT 4.3.0; it is logged and counted.
 *
 * Threads: one listener thread, one thread per Postfix connection (Postfix
 * keeps them open and reuses them), at most max_connections; each
 * connection opens its own store connection on first use. A connection
 * idle for idle_timeout is closed; a request that breaks the protocol
 * (policy.h limits) closes the connection without a reply, as
 * SMTPD_POLICY_README asks.
 */
#ifndef FBLD_POLICYD_H
#define FBLD_POLICYD_H

#include <glib.h>
#include <stdint.h>

struct config;
struct identity_config;
struct metrics;
struct policy_config;
struct store_config;
struct policyd;

struct policyd_config {
	char *address; /* [policy] listen = ADDRESS:PORT; NULL: disabled */
	int port;
	int fail_open;
	int max_connections;
	int64_t idle_timeout_ms;
};

void policyd_config_load(struct config *cfg, struct policyd_config *out);
void policyd_config_clear(struct policyd_config *pc);

/* The configurations are borrowed and must outlive the service. */
struct policyd *policyd_new(const struct policyd_config *pc,
			    const struct identity_config *ic,
			    const struct policy_config *pol,
			    const struct store_config *sc, struct metrics *m);
/* Binds and starts the listener thread. */
int policyd_start(struct policyd *pd, GError **error);
/* The port actually bound (configured as 0 in tests). */
int policyd_port(const struct policyd *pd);
/* Stops listening, closes every connection, joins every thread, frees. */
void policyd_free(struct policyd *pd);

#endif
