/*
 * keys: the token settings and keyring from the configuration, and the
 * resolver that turns a string found in a report into a verified token.
 *
 *   [token] prefix, bounce_domain, max_age, future, header
 *   [key:NAME] slot, secret_file, use = sign | verify | retired
 *
 * With no [key:*] section at all, one key "k1" in slot 1 is used from
 * STATE_DIR/keys/k1.key, created (32 random bytes, mode 0600) on first use
 * when create_default is set: the embedded default needs no setup.
 */
#ifndef FBLD_KEYS_H
#define FBLD_KEYS_H

#include <glib.h>
#include <stdint.h>

#include "core/report.h"
#include "verp/token.h"

struct config;

/* The header that carries the token in every message we mark. */
#define TOKEN_HEADER "X-Fbld-Ref"

struct token_config {
	char *prefix;	     /* local-part prefix, default "b" */
	char *bounce_domain; /* default bounce domain */
	int max_age_days;    /* tokens older than this are expired */
	int future_days;     /* clock skew allowed ahead */
	struct token_keyring *keys;
};

int token_config_load(struct config *cfg, int create_default,
		      struct token_config *out);
void token_config_clear(struct token_config *tc);

/* The bounce address for a token: PREFIX TOKEN "@" domain (caller frees);
 * domain NULL uses the configured default. */
char *token_address(const struct token_config *tc, const char *token,
		    const char *domain);

/*
 * ingest's token resolver over one hint: 1 valid (tok filled: account as
 * the decimal id, message as the decimal serial, key name), 0 a token that
 * was refused (tok->error), -1 nothing like a token.
 */
int token_resolve(const struct token_config *tc, const char *hint,
		  int64_t now_ms, struct report_token *tok);

#endif
