/*
 * fbld token mint|verify|url: the token codec for MTAs without a milter
 * (Exim, OpenSMTPD, scripts) and for people checking an address by hand;
 * url builds the tracking URLs of a send (verp/url.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/app.h"
#include "core/daemon.h"
#include "verp/url.h"

static const char token_help[] =
	"Commands:\n"
	"  mint --account A [--message N] [--recipient R] [--domain D]\n"
	"      Print the bounce address for one send. A is an account name "
	"(created\n      in the store when new) or a numeric id; N the message "
	"serial (a new\n      one is reserved in the store when omitted); R "
	"binds the token to\n      a single recipient.\n"
	"  verify [--recipient R] ADDRESS-OR-TOKEN\n"
	"      Print the decoded fields as JSON, or why the token is refused "
	"(exit 1).\n"
	"  url open|click|unsubscribe (--token T | --account A [--message N]\n"
	"      [--count C]) [--target URL] [--recipient R] [--base URL]\n"
	"      Print the tracking URL of a send: its open pixel, a signed "
	"click\n      redirect to URL, or its one-click unsubscribe (R, "
	"when given, is\n      the address to unsubscribe). T is a token "
	"or bounce address; with\n      A a token is minted as by mint "
	"(C of them for consecutive\n      serials, one URL each). "
	"--base defaults to [tracking] base_url.";

static int
token_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	guint64 v;

	if (!s || !*s || !g_ascii_isdigit(*s))
		return -1;
	errno = 0;
	v = g_ascii_strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The account id: numeric as given, a name through the store. */
static int
token_account(struct app *a, const char *account, uint32_t *id,
	      struct store **st, GError **error)
{
	uint64_t v;

	if (token_parse_u64(account, UINT32_MAX, &v) == 0) {
		*id = (uint32_t)v;
		return 0;
	}
	if (!*st && !(*st = store_open_config(&a->store, error)))
		return -1;
	return store_account_ensure(*st, account, id, error);
}

/* Mints and records the send in one transaction: it is the denominator of
 * the account's rates, as a send the milter marks would be. */
static int
token_mint_record(struct app *a, struct store *st, uint32_t id,
		  uint64_t *serial, const char *rcpt, char tok[TOKEN_LEN + 1],
		  GError **e)
{
	int64_t now = daemon_now_ms();

	if (store_begin(st, e) < 0)
		return -1;
	if (store_send_mint_serial(st, serial, e) < 0 ||
	    token_mint(a->token.keys, id, *serial, now, rcpt, tok, e) < 0 ||
	    store_send_minted(st, id, *serial, now, tok, rcpt, e) < 0 ||
	    store_commit(st, e) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

static int
token_mint_cmd(struct app *a, const char *account, const char *message,
	       const char *rcpt, const char *domain)
{
	struct store *st = NULL;
	uint32_t id;
	uint64_t serial;
	char tok[TOKEN_LEN + 1];
	GError *e = NULL;
	char *addr, *name = NULL;
	int known;

	if (!account) {
		fprintf(stderr, "fbld token mint: --account is required\n");
		return 2;
	}
	if (token_account(a, account, &id, &st, &e) < 0)
		goto fail;
	serial = 0;
	if (message &&
	    token_parse_u64(message, TOKEN_SERIAL_MAX, &serial) < 0) {
		fprintf(stderr,
			"fbld token mint: --message must be a number from 1 "
			"to %" G_GUINT64_FORMAT "\n",
			(guint64)TOKEN_SERIAL_MAX);
		store_close(st);
		return 2;
	}
	if (!st && !(st = store_open_config(&a->store, &e)))
		goto fail;
	known = store_account_name(st, id, &name, &e);
	g_free(name);
	if (known < 0)
		goto fail;
	if (known == 1 && !serial) {
		fprintf(stderr,
			"fbld token mint: no account %" G_GUINT32_FORMAT
			" in the store: name the account (it is created) or "
			"give --message\n",
			id);
		store_close(st);
		return 2;
	}
	if (known == 1) {
		/* A numeric account unknown here, with the caller's own
		 * serial: the codec alone, nothing to record. */
		if (token_mint(a->token.keys, id, serial, daemon_now_ms(), rcpt,
			       tok, &e) < 0)
			goto fail;
	} else if (token_mint_record(a, st, id, &serial, rcpt, tok, &e) < 0) {
		goto fail;
	}
	addr = token_address(&a->token, tok, domain);
	printf("%s\n", addr);
	g_free(addr);
	store_close(st);
	return 0;
fail:
	fprintf(stderr, "fbld token mint: %s\n", e->message);
	g_error_free(e);
	store_close(st);
	return 1;
}

static void
token_json_print(JsonBuilder *b)
{
	JsonNode *root = json_builder_get_root(b);
	char *s = json_to_string(root, FALSE);

	printf("%s\n", s);
	g_free(s);
	json_node_unref(root);
}

static void
token_json_fields(JsonBuilder *b, struct app *a, const struct token_fields *f,
		  const char *rcpt)
{
	GDateTime *dt =
		g_date_time_new_from_unix_utc(token_day_ms(f->day) / 1000);
	char *day = g_date_time_format(dt, "%Y-%m-%d");
	char num[32];

	g_snprintf(num, sizeof(num), "%" G_GUINT32_FORMAT, f->account);
	json_builder_set_member_name(b, "account");
	json_builder_add_string_value(b, num);
	g_snprintf(num, sizeof(num), "%" G_GUINT64_FORMAT, f->serial);
	json_builder_set_member_name(b, "message");
	json_builder_add_string_value(b, num);
	json_builder_set_member_name(b, "key");
	json_builder_add_string_value(b,
				      token_key_name(a->token.keys, f->slot));
	json_builder_set_member_name(b, "slot");
	json_builder_add_int_value(b, f->slot);
	json_builder_set_member_name(b, "version");
	json_builder_add_int_value(b, f->version);
	json_builder_set_member_name(b, "day");
	json_builder_add_string_value(b, day);
	json_builder_set_member_name(b, "recipient_bound");
	json_builder_add_boolean_value(b, f->rcpt_tag != 0);
	if (rcpt) {
		json_builder_set_member_name(b, "recipient_matches");
		json_builder_add_boolean_value(
			b,
			token_recipient_matches(a->token.keys, f, rcpt) == 1);
	}
	g_free(day);
	g_date_time_unref(dt);
}

static int
token_verify_cmd(struct app *a, const char *input, const char *rcpt)
{
	struct token_fields f;
	GError *e = NULL;
	JsonBuilder *b = json_builder_new_immutable();
	enum token_error err;
	int rc;

	err = token_verify(a->token.keys, input, strlen(input), a->token.prefix,
			   daemon_now_ms(), a->token.max_age_days,
			   a->token.future_days, &f, &e);
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "valid");
	json_builder_add_boolean_value(b, err == TOKEN_ERR_NONE);
	if (err != TOKEN_ERR_NONE) {
		json_builder_set_member_name(b, "error");
		json_builder_add_string_value(b, token_error_name(err));
		json_builder_set_member_name(b, "reason");
		json_builder_add_string_value(b, e->message);
	}
	/* A retired, expired or future token is genuine: show its fields. */
	if (err == TOKEN_ERR_NONE || err == TOKEN_ERR_RETIRED_KEY ||
	    err == TOKEN_ERR_EXPIRED || err == TOKEN_ERR_FUTURE)
		token_json_fields(b, a, &f, rcpt);
	if (rcpt && err == TOKEN_ERR_NONE &&
	    token_recipient_matches(a->token.keys, &f, rcpt) == 0) {
		json_builder_set_member_name(b, "warning");
		json_builder_add_string_value(
			b, "the token is bound to another recipient");
	}
	json_builder_end_object(b);
	token_json_print(b);
	g_object_unref(b);
	if (e) {
		fprintf(stderr, "fbld token verify: %s\n", e->message);
		g_error_free(e);
	}
	rc = err == TOKEN_ERR_NONE ? 0 : 1;
	return rc;
}

struct token_url_args {
	const char *kind, *token, *account, *message, *rcpt, *target, *base;
	int count;
};

static int
token_url_one(struct app *a, const struct token_url_args *u, enum url_kind kind,
	      const char *tok, GError **error)
{
	const char *arg = kind == URL_CLICK ? u->target : u->rcpt;
	char *url;

	if (url_build(a->token.keys, u->base ? u->base : a->tracking.base_url,
		      kind, tok, arg, &url, error) < 0)
		return -1;
	printf("%s\n", url);
	g_free(url);
	return 0;
}

/* URLs for count tokens minted for consecutive (or reserved) serials. */
static int
token_url_minted(struct app *a, const struct token_url_args *u,
		 enum url_kind kind, GError **error)
{
	struct store *st = NULL;
	uint64_t serial = 0;
	char tok[TOKEN_LEN + 1];
	uint32_t id;
	int rc = -1;

	if (token_account(a, u->account, &id, &st, error) < 0)
		goto out;
	if (u->message &&
	    (token_parse_u64(u->message, TOKEN_SERIAL_MAX, &serial) < 0 ||
	     serial + (uint64_t)u->count - 1 > TOKEN_SERIAL_MAX)) {
		g_set_error(error, URL_ERROR, 1,
			    "--message must be a number from 0 to "
			    "%" G_GUINT64_FORMAT,
			    (guint64)TOKEN_SERIAL_MAX - (guint64)u->count + 1);
		goto out;
	}
	if (!u->message && !st && !(st = store_open_config(&a->store, error)))
		goto out;
	for (int i = 0; i < u->count; i++) {
		if (!u->message && store_send_reserve(st, id, daemon_now_ms(),
						      &serial, error) < 0)
			goto out;
		if (token_mint(a->token.keys, id, serial, daemon_now_ms(),
			       u->rcpt, tok, error) < 0 ||
		    token_url_one(a, u, kind, tok, error) < 0)
			goto out;
		serial++;
	}
	rc = 0;
out:
	store_close(st);
	return rc;
}

static int
token_url_cmd(struct app *a, const struct token_url_args *u)
{
	static const char *const kinds[] = { "open", "click", "unsubscribe" };
	enum url_kind kind = URL_OPEN;
	char tok[TOKEN_LEN + 1];
	GError *e = NULL;
	int rc;

	while (kind <= URL_UNSUBSCRIBE && strcmp(u->kind, kinds[kind]) != 0)
		kind++;
	if (kind > URL_UNSUBSCRIBE || !!u->token == !!u->account ||
	    (u->token && u->count != 1) || u->count < 1 ||
	    (kind == URL_CLICK && !u->target)) {
		fprintf(stderr, "fbld token url: say open, click or "
				"unsubscribe, and exactly one of --token and "
				"--account (click needs --target; --count "
				"only with --account)\n");
		return 2;
	}
	if (u->account) {
		rc = token_url_minted(a, u, kind, &e);
	} else if (token_extract(u->token, strlen(u->token), a->token.prefix,
				 tok) != TOKEN_ERR_NONE ||
		   token_verify(a->token.keys, tok, TOKEN_LEN, "",
				daemon_now_ms(), a->token.max_age_days,
				a->token.future_days, NULL,
				&e) != TOKEN_ERR_NONE) {
		if (!e)
			g_set_error(&e, URL_ERROR, 1, "not a token: %s",
				    u->token);
		rc = -1;
	} else {
		rc = token_url_one(a, u, kind, tok, &e);
	}
	if (rc < 0) {
		fprintf(stderr, "fbld token url: %s\n", e->message);
		g_error_free(e);
		return 1;
	}
	return 0;
}

/* The words after the options: a command and its argument. */
static int
token_cmd_words(int argc, char **argv)
{
	if (argc < 2 ||
	    (strcmp(argv[1], "mint") != 0 && strcmp(argv[1], "verify") != 0 &&
	     strcmp(argv[1], "url") != 0)) {
		fprintf(stderr,
			"fbld token: say mint, verify or url (see --help)\n");
		return -1;
	}
	if (strcmp(argv[1], "url") == 0 && argc != 3) {
		fprintf(stderr, "fbld token url: say open, click or "
				"unsubscribe\n");
		return -1;
	}
	if (strcmp(argv[1], "verify") == 0 && argc != 3) {
		fprintf(stderr,
			"fbld token verify: give one ADDRESS-OR-TOKEN\n");
		return -1;
	}
	return 0;
}

int
cmd_token(int argc, char **argv)
{
	struct app_opts o = { 0 };
	struct app a;
	char *account = NULL, *message = NULL, *rcpt = NULL, *domain = NULL;
	char *token = NULL, *target = NULL, *base = NULL;
	int count = 1;
	GOptionEntry entries[] = {
		{ "account", 'a', 0, G_OPTION_ARG_STRING, &account,
		  "Account name or numeric id (mint)", "A" },
		{ "message", 'm', 0, G_OPTION_ARG_STRING, &message,
		  "Message serial (mint)", "N" },
		{ "recipient", 'r', 0, G_OPTION_ARG_STRING, &rcpt,
		  "The one recipient the token is bound to / checked against",
		  "R" },
		{ "domain", 'd', 0, G_OPTION_ARG_STRING, &domain,
		  "Bounce domain (mint; default [token] bounce_domain)", "D" },
		{ "token", 't', 0, G_OPTION_ARG_STRING, &token,
		  "An existing token or bounce address (url)", "T" },
		{ "target", 'u', 0, G_OPTION_ARG_STRING, &target,
		  "Where a click URL leads (url click)", "URL" },
		{ "base", 'b', 0, G_OPTION_ARG_STRING, &base,
		  "Base URL of the endpoint (url; default [tracking] base_url)",
		  "URL" },
		{ "count", 'n', 0, G_OPTION_ARG_INT, &count,
		  "Mint this many tokens, one URL each (url with --account)",
		  "C" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new("mint|verify|url ...");
	GError *e = NULL;
	int rc = 2;

	g_option_context_set_summary(
		ctx, "Mint or verify VERP tokens, build tracking URLs.");
	g_option_context_set_description(ctx, token_help);
	g_option_context_add_main_entries(ctx, entries, NULL);
	app_add_options(ctx, &o);
	if (app_parse_options(ctx, &argc, &argv) < 0)
		goto out;
	if (token_cmd_words(argc, argv) < 0)
		goto out;
	if (app_load(&a, &o, strcmp(argv[1], "verify") != 0, &e) < 0) {
		fprintf(stderr, "fbld token: %s\n", e->message);
		g_error_free(e);
		rc = 1;
		goto out;
	}
	if (strcmp(argv[1], "mint") == 0) {
		rc = token_mint_cmd(&a, account, message, rcpt, domain);
	} else if (strcmp(argv[1], "url") == 0) {
		struct token_url_args u = { argv[2], token,  account, message,
					    rcpt,    target, base,    count };
		rc = token_url_cmd(&a, &u);
	} else {
		rc = token_verify_cmd(&a, argv[2], rcpt);
	}
	app_clear(&a);
out:
	g_option_context_free(ctx);
	g_free(account);
	g_free(message);
	g_free(rcpt);
	g_free(domain);
	g_free(token);
	g_free(target);
	g_free(base);
	app_opts_clear(&o);
	return rc;
}
