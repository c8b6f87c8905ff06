/* fbld accounts: list accounts, show one, pin or release an account's
 * state. Text for people, or --json (the admin API's documents). */
#include <gmime/gmime.h>
#include <stdio.h>
#include <string.h>

#include "core/app.h"
#include "scoring/accounts.h"
#include "scoring/actions.h"
#include "scoring/render.h"

struct accounts_opts {
	gboolean json;
	char *state;
	gint limit;
	gint rows;
	char *reason;
	char *until;
	gboolean create;
};

/* Prints a view as JSON or as text; consumes it. */
static void
accounts_print(JsonNode *view, int json, char *(*text)(JsonObject *))
{
	char *s = json ? json_to_string(view, TRUE)
		       : text(json_node_get_object(view));

	fputs(s, stdout);
	if (json)
		fputc('\n', stdout);
	g_free(s);
	json_node_unref(view);
}

static int
accounts_list_cmd(struct store *st, const struct accounts_opts *o,
		  GError **error)
{
	JsonNode *v;

	if (o->state && !actions_state_valid(o->state) &&
	    strcmp(o->state, "not-ok") != 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--state: ok, watch, throttle, block or not-ok");
		return -1;
	}
	v = accounts_list(st, g_get_real_time() / 1000, o->state, o->limit, 0,
			  error);
	if (!v)
		return -1;
	accounts_print(v, o->json, render_accounts_list);
	return 0;
}

static int
accounts_show_cmd(struct store *st, const char *name,
		  const struct accounts_opts *o, GError **error)
{
	JsonNode *v = NULL;
	int r = accounts_show(st, name, g_get_real_time() / 1000, o->rows, &v,
			      error);

	if (r > 0)
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "no account \"%s\"", name);
	if (r != 0)
		return -1;
	accounts_print(v, o->json, render_account);
	return 0;
}

static int
accounts_set_cmd(struct app *a, struct store *st, const char *name,
		 const char *state, const struct accounts_opts *o,
		 GError **error)
{
	int64_t now_ms = g_get_real_time() / 1000, until_ms = 0;
	int clear = strcmp(state, "auto") == 0;
	JsonNode *v = NULL;
	uint32_t id;
	int r, changed;

	if (!clear && !actions_state_valid(state)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "STATE: ok, watch, throttle, block, or auto (back "
			    "to the scored state)");
		return -1;
	}
	if (!o->reason || !*o->reason ||
	    strlen(o->reason) > ACTIONS_REASON_MAX) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--reason is required (at most %d bytes): it goes "
			    "into the history and the alerts",
			    ACTIONS_REASON_MAX);
		return -1;
	}
	if (accounts_parse_until(o->until, now_ms, &until_ms, error) < 0)
		return -1;
	r = o->create ? store_account_ensure(st, name, &id, error)
		      : store_account_find(st, name, &id, error);
	if (r > 0)
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "no account \"%s\" (--create makes it)", name);
	if (r != 0)
		return -1;
	changed = actions_override(&a->actions, st, id, now_ms,
				   clear ? NULL : state, o->reason, until_ms,
				   error);
	if (changed < 0 || accounts_show(st, name, now_ms, 5, &v, error) != 0)
		return -1;
	json_object_set_boolean_member(json_node_get_object(v), "changed",
				       changed);
	if (!o->json)
		printf("%s: %s\n", name,
		       changed ? "state changed, alerts queued"
			       : "override recorded, state unchanged");
	accounts_print(v, o->json, render_account);
	return 0;
}

static int
accounts_run(struct app *a, int argc, char **argv,
	     const struct accounts_opts *o, GError **error)
{
	struct store *st = store_open_config(&a->store, error);
	int r = -1;

	if (!st)
		return -1;
	if (argc == 2 && strcmp(argv[1], "list") == 0)
		r = accounts_list_cmd(st, o, error);
	else if (argc == 3 && strcmp(argv[1], "show") == 0)
		r = accounts_show_cmd(st, argv[2], o, error);
	else if (argc == 4 && strcmp(argv[1], "set") == 0)
		r = accounts_set_cmd(a, st, argv[2], argv[3], o, error);
	else
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "usage: fbld accounts list | show NAME | set NAME "
			    "STATE --reason TEXT [--until T] (see --help)");
	store_close(st);
	return r;
}

int
cmd_accounts(int argc, char **argv)
{
	struct app_opts ao = { 0 };
	struct accounts_opts o = { .limit = 1000, .rows = 20 };
	GOptionEntry entries[] = {
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o.json,
		  "Print JSON (the admin API's documents)", NULL },
		{ "state", 's', 0, G_OPTION_ARG_STRING, &o.state,
		  "list: only accounts in STATE (ok, watch, throttle, block, "
		  "not-ok)",
		  "STATE" },
		{ "limit", 'n', 0, G_OPTION_ARG_INT, &o.limit,
		  "list: at most N accounts (default 1000)", "N" },
		{ "rows", 0, 0, G_OPTION_ARG_INT, &o.rows,
		  "show: N history entries, events and deliveries (default 20)",
		  "N" },
		{ "reason", 'r', 0, G_OPTION_ARG_STRING, &o.reason,
		  "set: why (required; recorded and sent with the alerts)",
		  "TEXT" },
		{ "until", 'u', 0, G_OPTION_ARG_STRING, &o.until,
		  "set: expiry: a duration (24h, 7d), a time "
		  "(2026-02-01T00:00:00Z) or never (default)",
		  "T" },
		{ "create", 0, 0, G_OPTION_ARG_NONE, &o.create,
		  "set: create the account when it does not exist yet", NULL },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx =
		g_option_context_new("list | show NAME | set NAME STATE");
	struct app a;
	GError *e = NULL;
	int rc = 1;

	g_option_context_set_summary(
		ctx,
		"Lists accounts with their states and last 24 hours, shows "
		"one account in\ndetail, or pins an account's state (an "
		"operator override). STATE is ok,\nwatch, throttle or "
		"block; \"auto\" removes the override. A change of state\n"
		"is announced like scoring's: webhooks and the digest.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	app_add_options(ctx, &ao);
	if (app_parse_options(ctx, &argc, &argv) < 0) {
		rc = 2;
		goto out;
	}
	if (app_load(&a, &ao, 0, &e) < 0)
		goto out;
	g_mime_init(); /* alert mails are built with GMime */
	if (accounts_run(&a, argc, argv, &o, &e) == 0)
		rc = 0;
	else if (e && e->domain == G_OPTION_ERROR)
		rc = 2;
	app_clear(&a);
out:
	if (e) {
		fprintf(stderr, "fbld accounts: %s\n", e->message);
		g_error_free(e);
	}
	g_option_context_free(ctx);
	g_free(o.state);
	g_free(o.reason);
	g_free(o.until);
	app_opts_clear(&ao);
	return rc;
}
