/* render: see render.h. */
#include "scoring/render.h"

#include <stdarg.h>
#include <string.h>

#include "core/jsonval.h"

/* ---- values --------------------------------------------------------------- */

void
render_time(GString *out, int64_t ms)
{
	GDateTime *dt;
	char *s;

	if (ms <= 0) {
		g_string_append(out, "-");
		return;
	}
	dt = g_date_time_new_from_unix_utc(ms / 1000);
	if (!dt) {
		g_string_append(out, "-");
		return;
	}
	s = g_date_time_format(dt, "%Y-%m-%d %H:%M UTC");
	g_string_append(out, s);
	g_free(s);
	g_date_time_unref(dt);
}

void
render_int(GString *out, int64_t n)
{
	char digits[32];
	size_t len, lead;

	if (n < 0) {
		g_string_append_c(out, '-');
		n = n == INT64_MIN ? INT64_MAX : -n;
	}
	g_snprintf(digits, sizeof(digits), "%" G_GINT64_FORMAT, n);
	len = strlen(digits);
	lead = len % 3 ? len % 3 : 3;
	g_string_append_len(out, digits, (gssize)lead);
	for (size_t i = lead; i < len; i += 3) {
		g_string_append_c(out, ',');
		g_string_append_len(out, digits + i, 3);
	}
}

void
render_rate(GString *out, int64_t part, int64_t whole)
{
	double pct;

	if (whole <= 0) {
		g_string_append(out, "-");
		return;
	}
	pct = 100.0 * (double)part / (double)whole;
	/* Complaint rates live around 0.1 %: keep two decimals there. */
	g_string_append_printf(out, pct > 0 && pct < 1 ? "%.2f %%" : "%.1f %%",
			       pct);
}

static const char *
render_or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* ---- tables ----------------------------------------------------------------- */

struct render_table {
	char *align;
	guint ncol;
	GPtrArray *cells; /* char *, row after row */
};

struct render_table *
render_table_new(const char *align, ...)
{
	struct render_table *t = g_new0(struct render_table, 1);
	va_list ap;
	const char *h;

	t->align = g_strdup(align);
	t->ncol = (guint)strlen(align);
	t->cells = g_ptr_array_new_with_free_func(g_free);
	va_start(ap, align);
	while (t->cells->len < t->ncol && (h = va_arg(ap, const char *)))
		g_ptr_array_add(t->cells, g_strdup(h));
	va_end(ap);
	render_table_row(t);
	return t;
}

void
render_table_row(struct render_table *t)
{
	/* Pads the previous row if it was left short. */
	while (t->cells->len % t->ncol)
		g_ptr_array_add(t->cells, g_strdup(""));
}

void
render_table_cell(struct render_table *t, const char *text)
{
	g_ptr_array_add(t->cells, g_strdup(render_or_dash(text)));
}

void
render_table_cellf(struct render_table *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(t->cells, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

void
render_table_int(struct render_table *t, int64_t n)
{
	GString *s = g_string_new(NULL);

	render_int(s, n);
	g_ptr_array_add(t->cells, g_string_free(s, FALSE));
}

void
render_table_time(struct render_table *t, int64_t ms)
{
	GString *s = g_string_new(NULL);

	render_time(s, ms);
	g_ptr_array_add(t->cells, g_string_free(s, FALSE));
}

void
render_table_finish(struct render_table *t, GString *out, const char *indent)
{
	glong *width = g_new0(glong, t->ncol);

	render_table_row(t);
	for (guint i = 0; i < t->cells->len; i++)
		width[i % t->ncol] = MAX(width[i % t->ncol],
					 g_utf8_strlen(t->cells->pdata[i], -1));
	for (guint i = 0; i < t->cells->len; i++) {
		guint c = i % t->ncol;
		const char *cell = t->cells->pdata[i];
		glong pad = width[c] - g_utf8_strlen(cell, -1);
		int right =
			t->align && c < strlen(t->align) && t->align[c] == 'r';

		if (c == 0)
			g_string_append(out, indent);
		if (right)
			for (glong k = 0; k < pad; k++)
				g_string_append_c(out, ' ');
		g_string_append(out, cell);
		if (c + 1 == t->ncol) {
			/* No trailing blanks. */
			while (out->len && out->str[out->len - 1] == ' ')
				g_string_truncate(out, out->len - 1);
			g_string_append_c(out, '\n');
			continue;
		}
		if (!right)
			for (glong k = 0; k < pad; k++)
				g_string_append_c(out, ' ');
		g_string_append(out, "  ");
	}
	g_free(width);
	g_ptr_array_unref(t->cells);
	g_free(t->align);
	g_free(t);
}

/* ---- blocks ------------------------------------------------------------------ */

/* "412 (22.0 %)"; just the count when it is 0. */
static char *
render_count_rate(int64_t part, int64_t whole)
{
	GString *s = g_string_new(NULL);

	render_int(s, part);
	if (part > 0 && whole > 0) {
		g_string_append(s, " (");
		render_rate(s, part, whole);
		g_string_append(s, ")");
	}
	return g_string_free(s, FALSE);
}

void
render_counts(GString *out, JsonObject *c, const char *indent)
{
	static const struct {
		const char *label, *key;
		int rate; /* of the messages sent */
		const char *note;
	} rows[] = {
		{ "messages sent", "sent", 0, NULL },
		{ "recipients", "recipients", 0, NULL },
		{ "hard bounces", "bounces_hard", 1, NULL },
		{ "soft bounces", "bounces_soft", 1, NULL },
		{ "complaints", "complaints", 1, NULL },
		{ "unsubscribes", "unsubscribes", 1, NULL },
		{ "opens by people", "opens", 0, NULL },
		{ "opens by machines", "opens_machine", 0,
		  "privacy proxies and scanners, not engagement" },
		{ "clicks by people", "clicks", 0, NULL },
		{ "clicks by machines", "clicks_machine", 0,
		  "security scanners, not engagement" },
	};
	struct render_table *t = render_table_new("lrl", NULL);
	int64_t sent = jsonval_int(c, "sent", 0);

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		int64_t v = jsonval_int(c, rows[i].key, 0);
		GString *note = g_string_new(rows[i].note);

		render_table_row(t);
		render_table_cell(t, rows[i].label);
		render_table_int(t, v);
		if (rows[i].rate && v > 0 && sent > 0) {
			render_rate(note, v, sent);
			g_string_append(note, " of the messages sent");
		}
		g_ptr_array_add(t->cells, g_string_free(note, FALSE));
	}
	render_table_finish(t, out, indent);
}

void
render_transition(GString *out, JsonObject *t, int with_account,
		  const char *indent)
{
	JsonArray *reasons = jsonval_arr(t, "reasons");
	JsonObject *acct = jsonval_obj(t, "account");

	g_string_append(out, indent);
	render_time(out, jsonval_int(t, "ts_ms", 0));
	if (with_account && acct)
		g_string_append_printf(
			out, "  %s", render_or_dash(jsonval_str(acct, "name")));
	g_string_append_printf(out, "  %s -> %s  (%s",
			       render_or_dash(jsonval_str(t, "from")),
			       render_or_dash(jsonval_str(t, "to")),
			       render_or_dash(jsonval_str(t, "source")));
	if (!jsonval_null(t, "sent")) {
		g_string_append(out, ", after ");
		render_int(out, jsonval_int(t, "sent", 0));
		g_string_append(out, " messages");
	}
	g_string_append(out, ")\n");
	for (guint i = 0; reasons && i < json_array_get_length(reasons); i++) {
		JsonNode *r = json_array_get_element(reasons, i);

		if (JSON_NODE_HOLDS_VALUE(r) &&
		    json_node_get_value_type(r) == G_TYPE_STRING)
			g_string_append_printf(out, "%s    - %s\n", indent,
					       json_node_get_string(r));
	}
}

/* ---- accounts ------------------------------------------------------------------ */

static void
render_override_cell(struct render_table *t, JsonObject *a)
{
	JsonObject *ov = jsonval_obj(a, "override");
	GString *s;

	if (!ov) {
		render_table_cell(t, NULL);
		return;
	}
	s = g_string_new("pinned");
	if (jsonval_int(ov, "until_ms", 0) > 0) {
		g_string_append(s, " until ");
		render_time(s, jsonval_int(ov, "until_ms", 0));
	}
	if (jsonval_str(ov, "reason"))
		g_string_append_printf(s, ": %s", jsonval_str(ov, "reason"));
	g_ptr_array_add(t->cells, g_string_free(s, FALSE));
}

/* The table of accounts with their last 24 hours. */
static void
render_accounts_table(GString *out, JsonArray *accts, const char *indent)
{
	struct render_table *t = render_table_new(
		"lrllrrrl", "ACCOUNT", "ID", "STATE", "SINCE", "SENT 24H",
		"HARD BOUNCES", "COMPLAINTS", "OVERRIDE", NULL);

	for (guint i = 0; accts && i < json_array_get_length(accts); i++) {
		JsonObject *a = jsonval_arr_obj(accts, i);
		JsonObject *c = jsonval_obj(a, "traffic_24h");
		int64_t sent = jsonval_int(c, "sent", 0);

		render_table_row(t);
		render_table_cell(t, jsonval_str(a, "name"));
		render_table_int(t, jsonval_int(a, "id", 0));
		render_table_cell(t, jsonval_str(a, "state"));
		render_table_time(t, jsonval_int(a, "since_ms", 0));
		render_table_int(t, sent);
		g_ptr_array_add(
			t->cells,
			render_count_rate(jsonval_int(c, "bounces_hard", 0),
					  sent));
		g_ptr_array_add(t->cells,
				render_count_rate(
					jsonval_int(c, "complaints", 0), sent));
		render_override_cell(t, a);
	}
	render_table_finish(t, out, indent);
}

char *
render_accounts_list(JsonObject *list)
{
	GString *out = g_string_new(NULL);
	JsonArray *accts = jsonval_arr(list, "accounts");

	if (!accts || json_array_get_length(accts) == 0) {
		g_string_append(out, "no accounts\n");
		return g_string_free(out, FALSE);
	}
	render_accounts_table(out, accts, "");
	return g_string_free(out, FALSE);
}

static void
render_account_head(GString *out, JsonObject *a)
{
	JsonObject *ov = jsonval_obj(a, "override");

	g_string_append_printf(out, "%s (id %" G_GINT64_FORMAT ")\n",
			       render_or_dash(jsonval_str(a, "name")),
			       jsonval_int(a, "id", 0));
	g_string_append_printf(out, "  state     %s since ",
			       render_or_dash(jsonval_str(a, "state")));
	render_time(out, jsonval_int(a, "since_ms", 0));
	if (ov)
		g_string_append_printf(
			out,
			" (pinned by an operator; scored "
			"state %s)",
			render_or_dash(jsonval_str(a, "scored_state")));
	g_string_append_printf(out, "\n  effect    %s\n",
			       render_or_dash(jsonval_str(a, "action")));
	if (ov) {
		g_string_append(out, "  override  until ");
		if (jsonval_int(ov, "until_ms", 0) > 0)
			render_time(out, jsonval_int(ov, "until_ms", 0));
		else
			g_string_append(out, "released by an operator");
		g_string_append_printf(
			out, ": %s\n",
			render_or_dash(jsonval_str(ov, "reason")));
	}
}

static void
render_windows(GString *out, JsonObject *w)
{
	static const char *const names[] = { "1h", "24h", "7d", "30d" };
	static const struct {
		const char *label, *key;
	} rows[] = {
		{ "messages sent", "sent" },
		{ "recipients", "recipients" },
		{ "hard bounces", "bounces_hard" },
		{ "soft bounces", "bounces_soft" },
		{ "delays", "delays" },
		{ "complaints", "complaints" },
		{ "unsubscribes", "unsubscribes" },
		{ "opens by people", "opens" },
		{ "opens by machines", "opens_machine" },
		{ "clicks by people", "clicks" },
		{ "clicks by machines", "clicks_machine" },
	};
	struct render_table *t = render_table_new(
		"lrrrr", "TRAFFIC", "LAST 1 H", "24 H", "7 D", "30 D", NULL);

	for (size_t r = 0; r < G_N_ELEMENTS(rows); r++) {
		render_table_row(t);
		render_table_cell(t, rows[r].label);
		for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
			render_table_int(t,
					 jsonval_int(jsonval_obj(w, names[i]),
						     rows[r].key, 0));
	}
	render_table_finish(t, out, "  ");
}

static void
render_events(GString *out, JsonArray *evs)
{
	struct render_table *t =
		render_table_new("llllll", "TIME", "TYPE", "CLASS", "REASON",
				 "STATUS", "RECIPIENT", NULL);

	for (guint i = 0; i < json_array_get_length(evs); i++) {
		JsonObject *e = jsonval_arr_obj(evs, i);
		const char *type = jsonval_str(e, "type");

		render_table_row(t);
		render_table_time(t, jsonval_int(e, "ts_ms", 0));
		if (type && json_object_get_boolean_member_with_default(
				    e, "machine", FALSE))
			render_table_cellf(t, "%s (machine)", type);
		else
			render_table_cell(t, type);
		render_table_cell(t, jsonval_str(e, "class"));
		render_table_cell(t, jsonval_str(e, "reason"));
		render_table_cell(t, jsonval_str(e, "status"));
		render_table_cell(t, jsonval_str(e, "recipient"));
	}
	render_table_finish(t, out, "  ");
}

static void
render_deliveries(GString *out, JsonArray *ds)
{
	struct render_table *t = render_table_new(
		"rllrrll", "ID", "CHANNEL", "STATUS", "ATTEMPTS", "ACCOUNT",
		"WHEN", "LAST ERROR", NULL);

	for (guint i = 0; i < json_array_get_length(ds); i++) {
		JsonObject *d = jsonval_arr_obj(ds, i);
		const char *status = jsonval_str(d, "status");
		int64_t when = jsonval_int(d, "next_ms", 0);

		if (status && strcmp(status, "done") == 0)
			when = jsonval_int(d, "done_ms", 0);
		else if (status && strcmp(status, "dead") == 0)
			when = jsonval_int(d, "dead_ms", 0);
		render_table_row(t);
		render_table_int(t, jsonval_int(d, "id", 0));
		render_table_cell(t, jsonval_str(d, "channel"));
		render_table_cell(t, status);
		render_table_int(t, jsonval_int(d, "attempts", 0));
		if (jsonval_null(d, "account"))
			render_table_cell(t, NULL);
		else
			render_table_int(t, jsonval_int(d, "account", 0));
		render_table_time(t, when);
		render_table_cell(t, jsonval_str(d, "last_error"));
	}
	render_table_finish(t, out, "  ");
}

char *
render_account(JsonObject *a)
{
	GString *out = g_string_new(NULL);
	JsonArray *hist = jsonval_arr(a, "history");
	JsonArray *evs = jsonval_arr(a, "events");
	JsonArray *ds = jsonval_arr(a, "deliveries");

	render_account_head(out, a);
	g_string_append_c(out, '\n');
	render_windows(out, jsonval_obj(a, "traffic"));
	g_string_append(out, "\nState changes (newest first)\n");
	if (!hist || json_array_get_length(hist) == 0)
		g_string_append(out, "  none\n");
	for (guint i = 0; hist && i < json_array_get_length(hist); i++)
		render_transition(out, jsonval_arr_obj(hist, i), 0, "  ");
	g_string_append(out, "\nEvents (newest first)\n");
	if (evs && json_array_get_length(evs))
		render_events(out, evs);
	else
		g_string_append(out, "  none\n");
	g_string_append(out, "\nAlert deliveries (newest first)\n");
	if (ds && json_array_get_length(ds))
		render_deliveries(out, ds);
	else
		g_string_append(out, "  none\n");
	return g_string_free(out, FALSE);
}

/* ---- report --------------------------------------------------------------------- */

static void
render_top(GString *out, JsonArray *top)
{
	struct render_table *t = render_table_new(
		"lrrr", "ACCOUNT", "SENT", "COMPLAINTS", "HARD BOUNCES", NULL);

	for (guint i = 0; i < json_array_get_length(top); i++) {
		JsonObject *a = jsonval_arr_obj(top, i);
		int64_t sent = jsonval_int(a, "sent", 0);

		render_table_row(t);
		render_table_cell(t, jsonval_str(a, "name"));
		render_table_int(t, sent);
		g_ptr_array_add(t->cells,
				render_count_rate(
					jsonval_int(a, "complaints", 0), sent));
		g_ptr_array_add(
			t->cells,
			render_count_rate(jsonval_int(a, "bounces_hard", 0),
					  sent));
	}
	render_table_finish(t, out, "  ");
}

static void
render_outbox(GString *out, JsonArray *ob)
{
	struct render_table *t = render_table_new(
		"lrrr", "CHANNEL", "DELIVERED", "PENDING", "GIVEN UP", NULL);

	for (guint i = 0; i < json_array_get_length(ob); i++) {
		JsonObject *o = jsonval_arr_obj(ob, i);

		render_table_row(t);
		render_table_cell(t, jsonval_str(o, "channel"));
		render_table_int(t, jsonval_int(o, "done", 0));
		render_table_int(t, jsonval_int(o, "pending", 0));
		render_table_int(t, jsonval_int(o, "dead", 0));
	}
	render_table_finish(t, out, "  ");
}

static guint
render_len(JsonArray *a)
{
	return a ? json_array_get_length(a) : 0;
}

char *
render_report(JsonObject *r)
{
	GString *out = g_string_new("fbld report: ");
	JsonArray *trs = jsonval_arr(r, "transitions");
	JsonArray *not_ok = jsonval_arr(r, "not_ok");
	JsonArray *top = jsonval_arr(r, "top");
	JsonArray *ob = jsonval_arr(r, "outbox");
	JsonArray *dead = jsonval_arr(r, "dead_letters");

	render_time(out, jsonval_int(r, "since_ms", 0));
	g_string_append(out, " to ");
	render_time(out, jsonval_int(r, "until_ms", 0));
	g_string_append(out, "\n\nTraffic of all accounts\n");
	render_counts(out, jsonval_obj(r, "traffic"), "  ");
	g_string_append_printf(out, "\nState changes (%u)\n", render_len(trs));
	if (!render_len(trs))
		g_string_append(out, "  none\n");
	for (guint i = 0; i < render_len(trs); i++)
		render_transition(out, jsonval_arr_obj(trs, i), 1, "  ");
	g_string_append_printf(out, "\nAccounts not ok now (%u)\n",
			       render_len(not_ok));
	if (render_len(not_ok))
		render_accounts_table(out, not_ok, "  ");
	else
		g_string_append(out, "  none\n");
	g_string_append(out, "\nMost complaints and hard bounces\n");
	if (render_len(top))
		render_top(out, top);
	else
		g_string_append(out, "  none\n");
	g_string_append(out, "\nAlert deliveries (delivered in the period; "
			     "pending and given up now)\n");
	if (render_len(ob))
		render_outbox(out, ob);
	else
		g_string_append(out, "  none\n");
	if (render_len(dead)) {
		g_string_append_printf(out,
				       "\nGiven up (%u; retry with POST "
				       "/api/v1/outbox/ID/retry)\n",
				       render_len(dead));
		render_deliveries(out, dead);
	}
	return g_string_free(out, FALSE);
}
