/*
 * admin: the JSON admin API, on a listener of its own ([admin] listen,
 * 127.0.0.1:8026 by default; loopback addresses only, as it speaks plain
 * HTTP): accounts, an account's traffic, events, state history and alert
 * deliveries, operator overrides, the alert outbox and the report.
 * docs/api.md is the reference.
 *
 * Every request needs "Authorization: Bearer TOKEN" with the token read
 * from [admin] token_file (at least 16 characters); without that file the
 * API is off. Handlers run on the listener's threads, each with a store
 * connection from a pool of one per thread, opened on first use.
 *
 * Limits on what a client sends: bodies of at most [admin] max_body
 * (64 KiB by default), a reason of at most ACTIONS_REASON_MAX bytes, list
 * sizes capped by accounts.h.
 */
#ifndef FBLD_ADMIN_H
#define FBLD_ADMIN_H

#include <glib.h>

#include "core/http.h"
#include "scoring/actions.h"

#define ADMIN_TOKEN_MIN 16

struct config;
struct store_config;
struct admin;

struct admin_config {
	struct http_config http;
	char *token; /* NULL: the API is off */
};

void admin_config_load(struct config *cfg, struct admin_config *out);
void admin_config_clear(struct admin_config *ac);

/* Everything is borrowed and must outlive the admin. */
struct admin *admin_new(const struct admin_config *cfg,
			const struct store_config *sc,
			const struct actions_config *ac);
/* Binds the listener; fails when it cannot. */
int admin_start(struct admin *a, GError **error);
int admin_port(const struct admin *a);
/* Stops the listener (waiting for handlers) and closes the pool. */
void admin_free(struct admin *a);

#endif
