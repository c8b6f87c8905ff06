/* accounts: see accounts.h. */
#include "scoring/accounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scoring/actions.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS (24 * HOUR_MS)

/* A node that takes over the caller's reference to o. */
static JsonNode *
accounts_node(JsonObject *o)
{
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(n, o);
	return n;
}

static void
accounts_set_string(JsonObject *o, const char *name, const char *v)
{
	if (v)
		json_object_set_string_member(o, name, v);
	else
		json_object_set_null_member(o, name);
}

static void
accounts_set_ms(JsonObject *o, const char *name, int64_t ms)
{
	if (ms > 0)
		json_object_set_int_member(o, name, ms);
	else
		json_object_set_null_member(o, name);
}

/* Parsed JSON text, or the fallback node when it is not JSON. */
static JsonNode *
accounts_parse(const char *text, JsonNodeType want)
{
	JsonNode *n = text ? json_from_string(text, NULL) : NULL;

	if (n && JSON_NODE_TYPE(n) == want)
		return n;
	if (n)
		json_node_unref(n);
	return NULL;
}

JsonNode *
accounts_counts_node(const struct store_counts *c, int64_t window_ms)
{
	JsonObject *o = json_object_new();
	const struct {
		const char *name;
		int64_t v;
	} f[] = {
		{ "sent", c->sent },
		{ "recipients", c->recipients },
		{ "bounces_hard", c->bounce_hard },
		{ "bounces_soft", c->bounce_soft },
		{ "delays", c->delays },
		{ "complaints", c->complaints },
		{ "unsubscribes", c->unsubscribes },
		{ "opens", c->opens },
		{ "opens_machine", c->opens_machine },
		{ "clicks", c->clicks },
		{ "clicks_machine", c->clicks_machine },
		{ "other", c->other },
	};

	json_object_set_int_member(o, "window_ms", window_ms);
	for (size_t i = 0; i < G_N_ELEMENTS(f); i++)
		json_object_set_int_member(o, f[i].name, f[i].v);
	return accounts_node(o);
}

void
accounts_counts_json(JsonBuilder *b, const struct store_counts *c,
		     int64_t window_ms)
{
	json_builder_add_value(b, accounts_counts_node(c, window_ms));
}

/* The account object every view shares. */
static JsonObject *
accounts_object(uint32_t id, const struct store_account_state *s)
{
	JsonObject *o = json_object_new();

	json_object_set_int_member(o, "id", id);
	json_object_set_string_member(o, "name", s->name);
	json_object_set_string_member(o, "state", s->effective);
	json_object_set_string_member(o, "scored_state", s->state);
	accounts_set_ms(o, "since_ms", s->since_ms);
	if (s->effective == s->override_state) {
		JsonObject *ov = json_object_new();

		json_object_set_string_member(ov, "state", s->override_state);
		accounts_set_string(ov, "reason", s->override_reason);
		accounts_set_ms(ov, "until_ms", s->override_until_ms);
		json_object_set_object_member(o, "override", ov);
	} else {
		json_object_set_null_member(o, "override");
	}
	json_object_set_string_member(o, "action",
				      actions_state_effect(s->effective));
	return o;
}

/* ---- list ---------------------------------------------------------------- */

static void
accounts_list_row(void *ud, uint32_t id, const struct store_account_state *s)
{
	json_array_add_object_element(ud, accounts_object(id, s));
}

/* A pinned state began when the operator pinned it: sets "since_ms" and
 * the override's "since_ms". */
static int
accounts_override_since(struct store *st, JsonObject *o, GError **error)
{
	JsonNode *ov = json_object_get_member(o, "override");
	int64_t ms = 0;
	int r;

	if (!ov || !JSON_NODE_HOLDS_OBJECT(ov))
		return 0;
	r = store_account_override_since(
		st, json_object_get_int_member(o, "id"), &ms, error);
	if (r < 0)
		return -1;
	accounts_set_ms(json_node_get_object(ov), "since_ms", ms);
	accounts_set_ms(o, "since_ms", ms);
	return 0;
}

static int
accounts_add_traffic(struct store *st, JsonArray *arr, int64_t now_ms,
		     GError **error)
{
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonObject *o = json_array_get_object_element(arr, i);
		struct store_counts c;

		if (accounts_override_since(st, o, error) < 0 ||
		    store_counts(st, json_object_get_int_member(o, "id"),
				 now_ms - DAY_MS, now_ms + 1, &c, error) < 0)
			return -1;
		json_object_set_member(o, "traffic_24h",
				       accounts_counts_node(&c, DAY_MS));
	}
	return 0;
}

JsonNode *
accounts_list(struct store *st, int64_t now_ms, const char *state, int limit,
	      int offset, GError **error)
{
	JsonArray *arr = json_array_new();
	JsonObject *o;

	/* Traffic is counted once the listing statement is done. */
	if (store_account_list(
		    st, now_ms, state, CLAMP(limit, 1, ACCOUNTS_LIST_MAX),
		    MAX(offset, 0), accounts_list_row, arr, error) < 0 ||
	    accounts_add_traffic(st, arr, now_ms, error) < 0) {
		json_array_unref(arr);
		return NULL;
	}
	o = json_object_new();
	json_object_set_int_member(o, "count", json_array_get_length(arr));
	json_object_set_array_member(o, "accounts", arr);
	return accounts_node(o);
}

/* ---- one account ---------------------------------------------------------- */

JsonNode *
accounts_windows(struct store *st, uint32_t account, int64_t now_ms,
		 GError **error)
{
	static const char *const names[] = { "1h", "24h", "7d", "30d" };
	static const int64_t ms[] = { HOUR_MS, DAY_MS, 7 * DAY_MS,
				      30 * DAY_MS };
	struct store_counts c[G_N_ELEMENTS(ms)];
	JsonObject *o;

	if (store_counts_windows(st, account, now_ms + 1, ms, G_N_ELEMENTS(ms),
				 c, error) < 0)
		return NULL;
	o = json_object_new();
	for (size_t i = 0; i < G_N_ELEMENTS(ms); i++)
		json_object_set_member(o, names[i],
				       accounts_counts_node(&c[i], ms[i]));
	return accounts_node(o);
}

static void
accounts_history_row(void *ud, const struct store_history_row *r)
{
	JsonObject *o = json_object_new(), *a = json_object_new();
	JsonNode *reasons = accounts_parse(r->reasons_json, JSON_NODE_ARRAY);

	json_object_set_int_member(o, "id", r->id);
	json_object_set_int_member(a, "id", r->account);
	json_object_set_string_member(a, "name", r->account_name);
	json_object_set_object_member(o, "account", a);
	json_object_set_int_member(o, "ts_ms", r->ts_ms);
	json_object_set_string_member(o, "from", r->from);
	json_object_set_string_member(o, "to", r->to);
	json_object_set_string_member(o, "source", r->source);
	if (!reasons) {
		JsonArray *one = json_array_new();

		if (r->reasons_json)
			json_array_add_string_element(one, r->reasons_json);
		reasons = json_node_init_array(json_node_alloc(), one);
		json_array_unref(one);
	}
	json_object_set_member(o, "reasons", reasons);
	if (r->sent >= 0)
		json_object_set_int_member(o, "sent", r->sent);
	else
		json_object_set_null_member(o, "sent");
	json_array_add_object_element(ud, o);
}

JsonNode *
accounts_history(struct store *st, int64_t account, int64_t since_ms,
		 int64_t until_ms, int limit, GError **error)
{
	JsonArray *arr = json_array_new();
	JsonNode *n;

	if (store_history_list(st, account, since_ms, until_ms,
			       CLAMP(limit, 1, ACCOUNTS_ROWS_MAX),
			       accounts_history_row, arr, error) < 0) {
		json_array_unref(arr);
		return NULL;
	}
	n = json_node_init_array(json_node_alloc(), arr);
	json_array_unref(arr);
	return n;
}

static void
accounts_event_row(void *ud, int64_t id, const struct store_event *ev)
{
	JsonObject *o = json_object_new();
	JsonNode *detail = accounts_parse(ev->detail, JSON_NODE_OBJECT);

	json_object_set_int_member(o, "id", id);
	json_object_set_int_member(o, "ts_ms", ev->ts_ms);
	json_object_set_string_member(o, "type", ev->type);
	if (ev->send >= 0)
		json_object_set_int_member(o, "message", ev->send);
	else
		json_object_set_null_member(o, "message");
	if (ev->report >= 0)
		json_object_set_int_member(o, "report", ev->report);
	else
		json_object_set_null_member(o, "report");
	accounts_set_string(o, "recipient", ev->recipient);
	accounts_set_string(o, "reason", ev->reason);
	accounts_set_string(o, "class", ev->klass);
	accounts_set_string(o, "status", ev->status);
	accounts_set_string(o, "diagnostic", ev->diagnostic);
	json_object_set_boolean_member(o, "machine", ev->machine);
	accounts_set_string(o, "verdict", ev->verdict);
	if (detail)
		json_object_set_member(o, "detail", detail);
	else
		json_object_set_null_member(o, "detail");
	json_array_add_object_element(ud, o);
}

JsonNode *
accounts_events(struct store *st, uint32_t account, int64_t before_id,
		int limit, GError **error)
{
	JsonArray *arr = json_array_new();
	JsonNode *n;

	if (store_event_list(st, account, before_id,
			     CLAMP(limit, 1, ACCOUNTS_ROWS_MAX),
			     accounts_event_row, arr, error) < 0) {
		json_array_unref(arr);
		return NULL;
	}
	n = json_node_init_array(json_node_alloc(), arr);
	json_array_unref(arr);
	return n;
}

static const char *
accounts_outbox_status(const struct store_outbox_row *r)
{
	if (r->done_ms)
		return "done";
	return r->dead_ms ? "dead" : "pending";
}

static JsonObject *
accounts_outbox_object(const struct store_outbox_row *r)
{
	JsonObject *o = json_object_new();
	const char *slash = strrchr(r->idem_key, '/');

	json_object_set_int_member(o, "id", r->id);
	json_object_set_int_member(o, "created_ms", r->created_ms);
	json_object_set_string_member(o, "channel", r->channel);
	json_object_set_string_member(o, "event_id",
				      slash ? slash + 1 : r->idem_key);
	if (r->account >= 0)
		json_object_set_int_member(o, "account", r->account);
	else
		json_object_set_null_member(o, "account");
	json_object_set_string_member(o, "status", accounts_outbox_status(r));
	json_object_set_int_member(o, "attempts", r->attempts);
	if (!r->done_ms && !r->dead_ms)
		json_object_set_int_member(o, "next_ms", r->next_ms);
	else
		json_object_set_null_member(o, "next_ms");
	accounts_set_ms(o, "done_ms", r->done_ms);
	accounts_set_ms(o, "dead_ms", r->dead_ms);
	accounts_set_string(o, "last_error", r->last_error);
	return o;
}

JsonNode *
accounts_outbox(struct store *st, const char *status, int64_t account,
		int64_t before_id, int limit, GError **error)
{
	GPtrArray *rows =
		store_outbox_list(st, status, account, before_id,
				  CLAMP(limit, 1, ACCOUNTS_ROWS_MAX), error);
	JsonArray *arr;
	JsonNode *n;

	if (!rows)
		return NULL;
	arr = json_array_new();
	for (guint i = 0; i < rows->len; i++)
		json_array_add_object_element(
			arr, accounts_outbox_object(rows->pdata[i]));
	g_ptr_array_unref(rows);
	n = json_node_init_array(json_node_alloc(), arr);
	json_array_unref(arr);
	return n;
}

/* Adds member `name` from a view; -1 when the view failed. */
static int
accounts_add_view(JsonObject *o, const char *name, JsonNode *view)
{
	if (!view)
		return -1;
	json_object_set_member(o, name, view);
	return 0;
}

int
accounts_show(struct store *st, const char *name, int64_t now_ms, int n_rows,
	      JsonNode **out, GError **error)
{
	struct store_account_state s;
	uint32_t id;
	JsonObject *o;
	int r = store_account_find(st, name, &id, error);

	if (r != 0)
		return r;
	r = store_account_state_get(st, id, now_ms, &s, error);
	if (r != 0)
		return r;
	o = accounts_object(id, &s);
	store_account_state_clear(&s);
	if (accounts_override_since(st, o, error) < 0 ||
	    accounts_add_view(o, "traffic",
			      accounts_windows(st, id, now_ms, error)) < 0 ||
	    accounts_add_view(o, "history",
			      accounts_history(st, id, 0, INT64_MAX, n_rows,
					       error)) < 0 ||
	    accounts_add_view(o, "events",
			      accounts_events(st, id, 0, n_rows, error)) < 0 ||
	    accounts_add_view(o, "deliveries",
			      accounts_outbox(st, NULL, id, 0, n_rows, error)) <
		    0) {
		json_object_unref(o);
		return -1;
	}
	*out = accounts_node(o);
	return 0;
}

/* ---- report --------------------------------------------------------------- */

static void
accounts_top_row(void *ud, uint32_t id, const char *name, int64_t complaints,
		 int64_t bounce_hard)
{
	JsonObject *o = json_object_new();

	json_object_set_int_member(o, "id", id);
	json_object_set_string_member(o, "name", name);
	json_object_set_int_member(o, "complaints", complaints);
	json_object_set_int_member(o, "bounces_hard", bounce_hard);
	json_array_add_object_element(ud, o);
}

/* The top accounts with what they sent in the window. */
static JsonNode *
accounts_top(struct store *st, int64_t since_ms, int64_t until_ms,
	     GError **error)
{
	JsonArray *arr = json_array_new();
	JsonNode *n;

	if (store_top_accounts(st, since_ms, until_ms, 10, accounts_top_row,
			       arr, error) < 0)
		goto fail;
	for (guint i = 0; i < json_array_get_length(arr); i++) {
		JsonObject *o = json_array_get_object_element(arr, i);
		struct store_counts c;

		if (store_counts(st, json_object_get_int_member(o, "id"),
				 since_ms, until_ms, &c, error) < 0)
			goto fail;
		json_object_set_int_member(o, "sent", c.sent);
	}
	n = json_node_init_array(json_node_alloc(), arr);
	json_array_unref(arr);
	return n;
fail:
	json_array_unref(arr);
	return NULL;
}

int
accounts_outbox_stats_add(struct store *st, JsonObject *doc, int64_t since_ms,
			  GError **error)
{
	GPtrArray *stats = store_outbox_stats(st, since_ms, error);
	JsonArray *arr;

	if (!stats)
		return -1;
	arr = json_array_new();
	for (guint i = 0; i < stats->len; i++) {
		const struct store_outbox_stat *s = stats->pdata[i];
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "channel", s->channel);
		json_object_set_int_member(o, "pending", s->pending);
		json_object_set_int_member(o, "done", s->done);
		json_object_set_int_member(o, "dead", s->dead);
		json_array_add_object_element(arr, o);
	}
	g_ptr_array_unref(stats);
	json_object_set_array_member(doc, "outbox", arr);
	return 0;
}

JsonNode *
accounts_report(struct store *st, int64_t since_ms, int64_t until_ms,
		GError **error)
{
	JsonObject *o = json_object_new();
	struct store_counts all;
	JsonNode *not_ok;

	json_object_set_int_member(o, "since_ms", since_ms);
	json_object_set_int_member(o, "until_ms", until_ms);
	if (store_counts(st, -1, since_ms, until_ms, &all, error) < 0)
		goto fail;
	json_object_set_member(o, "traffic",
			       accounts_counts_node(&all, until_ms - since_ms));
	if (accounts_add_view(o, "transitions",
			      accounts_history(st, -1, since_ms, until_ms,
					       ACCOUNTS_ROWS_MAX, error)) < 0)
		goto fail;
	not_ok = accounts_list(st, until_ms, "not-ok", ACCOUNTS_ROWS_MAX, 0,
			       error);
	if (!not_ok)
		goto fail;
	json_object_set_member(
		o, "not_ok",
		json_object_dup_member(json_node_get_object(not_ok),
				       "accounts"));
	json_node_unref(not_ok);
	if (accounts_add_view(o, "top",
			      accounts_top(st, since_ms, until_ms, error)) <
		    0 ||
	    accounts_outbox_stats_add(st, o, since_ms, error) < 0 ||
	    accounts_add_view(o, "dead_letters",
			      accounts_outbox(st, "dead", -1, 0, 20, error)) <
		    0)
		goto fail;
	return accounts_node(o);
fail:
	json_object_unref(o);
	return NULL;
}

/* ---- digest entries -------------------------------------------------------- */

/* Whether outbox entry r announces one of the transitions. */
static int
accounts_delivery_matches(const struct store_outbox_row *r, JsonArray *trs)
{
	const char *slash = strrchr(r->idem_key, '/');

	if (!slash || !g_str_has_prefix(r->channel, "webhook:"))
		return 0;
	for (guint i = 0; i < json_array_get_length(trs); i++) {
		JsonObject *t = json_array_get_object_element(trs, i);
		const char *id = t ? json_object_get_string_member_with_default(
					     t, "id", NULL)
				   : NULL;

		if (id && strcmp(id, slash + 1) == 0)
			return 1;
	}
	return 0;
}

static int
accounts_deliveries_add(struct store *st, JsonObject *o, uint32_t account,
			JsonArray *trs, GError **error)
{
	GPtrArray *rows = store_outbox_list(st, NULL, account, 0,
					    ACCOUNTS_ROWS_MAX, error);
	JsonArray *arr;

	if (!rows)
		return -1;
	arr = json_array_new();
	for (guint i = 0; i < rows->len; i++) {
		const struct store_outbox_row *r = rows->pdata[i];

		if (accounts_delivery_matches(r, trs))
			json_array_add_object_element(
				arr, accounts_outbox_object(r));
	}
	g_ptr_array_unref(rows);
	json_object_set_array_member(o, "deliveries", arr);
	return 0;
}

JsonObject *
accounts_digest_entry(struct store *st, uint32_t account, int64_t now_ms,
		      int64_t window_ms, const struct store_counts *traffic,
		      JsonArray *transitions, GError **error)
{
	struct store_account_state s;
	struct store_counts c;
	JsonObject *o;
	int r = store_account_state_get(st, account, now_ms, &s, error);

	if (r != 0) {
		if (r > 0)
			g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
				    "no account %u", account);
		return NULL;
	}
	o = accounts_object(account, &s);
	store_account_state_clear(&s);
	if (accounts_override_since(st, o, error) < 0) {
		json_object_unref(o);
		return NULL;
	}
	if (!traffic) {
		if (store_counts(st, account, now_ms - window_ms, now_ms + 1,
				 &c, error) < 0) {
			json_object_unref(o);
			return NULL;
		}
		traffic = &c;
	}
	json_object_set_member(o, "traffic",
			       accounts_counts_node(traffic, window_ms));
	json_object_set_array_member(o, "transitions",
				     json_array_ref(transitions));
	if (accounts_deliveries_add(st, o, account, transitions, error) < 0) {
		json_object_unref(o);
		return NULL;
	}
	return o;
}

/* ---- --until ---------------------------------------------------------------- */

static int
accounts_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} u[] = { { "", 1000 },	    { "s", 1000 },   { "m", 60000 },
		  { "h", HOUR_MS }, { "d", DAY_MS }, { "w", 7 * DAY_MS } };
	char *end;
	int64_t n;

	errno = 0;
	n = g_ascii_strtoll(s, &end, 10);
	if (end == s || errno || n <= 0 || !g_ascii_isdigit(*s))
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(u); i++) {
		if (strcmp(end, u[i].unit) == 0) {
			if (n > INT64_MAX / 4 / u[i].ms)
				return -1;
			*ms = n * u[i].ms;
			return 0;
		}
	}
	return -1;
}

static int
accounts_parse_time(const char *s, int64_t *ms)
{
	GTimeZone *utc = g_time_zone_new_utc();
	GDateTime *dt = g_date_time_new_from_iso8601(s, NULL);
	int y, mo, d;
	char tail;

	if (!dt && sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 3)
		dt = g_date_time_new(utc, y, mo, d, 0, 0, 0);
	g_time_zone_unref(utc);
	if (!dt)
		return -1;
	*ms = g_date_time_to_unix(dt) * 1000 +
	      g_date_time_get_microsecond(dt) / 1000;
	g_date_time_unref(dt);
	return 0;
}

int
accounts_parse_until(const char *s, int64_t now_ms, int64_t *until_ms,
		     GError **error)
{
	int64_t v;

	if (!s || !*s || strcmp(s, "never") == 0) {
		*until_ms = 0;
		return 0;
	}
	if (accounts_parse_duration(s, &v) == 0) {
		*until_ms = now_ms + v;
		return 0;
	}
	if (accounts_parse_time(s, &v) < 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "\"%s\" is neither a duration (24h, 7d) nor a "
			    "time (2026-02-01T00:00:00Z)",
			    s);
		return -1;
	}
	if (v <= now_ms) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "\"%s\" is in the past", s);
		return -1;
	}
	*until_ms = v;
	return 0;
}

int
accounts_parse_since(const char *s, int64_t now_ms, int64_t *since_ms,
		     GError **error)
{
	int64_t v;

	if (accounts_parse_duration(s, &v) == 0) {
		*since_ms = now_ms - v;
		return 0;
	}
	if (accounts_parse_time(s, &v) < 0 || v > now_ms) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "\"%s\" is neither a duration (24h, 7d) nor a "
			    "past time (2026-02-01T00:00:00Z)",
			    s);
		return -1;
	}
	*since_ms = v;
	return 0;
}
