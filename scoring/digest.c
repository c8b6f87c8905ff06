/* digest: see digest.h. */
#include "scoring/digest.h"

#include <gmime/gmime.h>
#include <string.h>

#include "core/jsonval.h"
#include "scoring/render.h"

int64_t
digest_period_start(int64_t now_ms, int64_t interval_ms, int64_t offset_ms)
{
	int64_t t = now_ms - offset_ms;
	int64_t k = t / interval_ms;

	if (t < 0 && t % interval_ms)
		k--;
	return k * interval_ms + offset_ms;
}

static JsonArray *
digest_arr(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

static JsonObject *
digest_obj(JsonObject *o, const char *name)
{
	JsonNode *n = o ? json_object_get_member(o, name) : NULL;

	return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static guint
digest_len(JsonArray *a)
{
	return a ? json_array_get_length(a) : 0;
}

static const char *
digest_str(JsonObject *o, const char *name, const char *def)
{
	const char *s = jsonval_str(o, name);

	return s ? s : def;
}

static int
digest_is_alert(JsonObject *doc)
{
	return g_strcmp0(jsonval_str(doc, "kind"), "alert") == 0;
}

/* "block 1, throttle 2": accounts by their state now, most severe first. */
static void
digest_state_counts(GString *out, JsonArray *accts)
{
	static const char *const states[] = { "block", "throttle", "watch",
					      "ok" };
	const char *sep = "";

	for (size_t s = 0; s < G_N_ELEMENTS(states); s++) {
		guint n = 0;

		for (guint i = 0; i < digest_len(accts); i++)
			n += g_strcmp0(jsonval_str(jsonval_arr_obj(accts, i),
						   "state"),
				       states[s]) == 0;
		if (n) {
			g_string_append_printf(out, "%s%u now %s", sep, n,
					       states[s]);
			sep = ", ";
		}
	}
}

char *
digest_subject(JsonObject *doc)
{
	JsonArray *accts = digest_arr(doc, "accounts");
	guint n =
		digest_len(accts) + (guint)jsonval_int(doc, "more_accounts", 0);
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "[fbld %s] ", digest_str(doc, "host", "?"));
	if (digest_is_alert(doc) && digest_len(accts) == 1) {
		JsonObject *a = jsonval_arr_obj(accts, 0);

		g_string_append_printf(s, "%s is now %s",
				       digest_str(a, "name", "?"),
				       digest_str(a, "state", "?"));
		return g_string_free(s, FALSE);
	}
	g_string_append_printf(s, "digest: %u account%s changed state", n,
			       n == 1 ? "" : "s");
	if (digest_len(accts)) {
		g_string_append(s, " (");
		digest_state_counts(s, accts);
		g_string_append(s, ")");
	}
	return g_string_free(s, FALSE);
}

/* Webhook deliveries of the account's transitions, one line. */
static void
digest_deliveries(GString *out, JsonArray *ds)
{
	g_string_append(out, "  Webhooks:    ");
	if (!digest_len(ds)) {
		g_string_append(out, "none configured for this change\n");
		return;
	}
	for (guint i = 0; i < digest_len(ds); i++) {
		JsonObject *d = jsonval_arr_obj(ds, i);
		const char *ch = digest_str(d, "channel", "?");
		const char *st = digest_str(d, "status", "?");

		if (g_str_has_prefix(ch, "webhook:"))
			ch += strlen("webhook:");
		g_string_append_printf(out, "%s%s %s", i ? "; " : "", ch,
				       strcmp(st, "done") ? strcmp(st, "dead")
								    ? "pending"
								    : "given up"
							  : "delivered");
		if (strcmp(st, "done") != 0 && jsonval_str(d, "last_error"))
			g_string_append_printf(out, " (%s)",
					       jsonval_str(d, "last_error"));
	}
	g_string_append_c(out, '\n');
}

static void
digest_account(GString *out, JsonObject *a, int alert)
{
	JsonArray *trs = digest_arr(a, "transitions");
	JsonObject *ov = digest_obj(a, "override");
	JsonObject *traffic = digest_obj(a, "traffic");
	char *state = g_ascii_strup(digest_str(a, "state", "?"), -1);
	int64_t hours = jsonval_int(traffic, "window_ms", 0) / 3600000;

	g_string_append_printf(
		out, "== %s (id %" G_GINT64_FORMAT "): now %s ==\n\n",
		digest_str(a, "name", "?"), jsonval_int(a, "id", 0), state);
	g_free(state);
	g_string_append(out, "What changed and why fbld thinks so\n");
	for (guint i = 0; i < digest_len(trs); i++)
		render_transition(out, jsonval_arr_obj(trs, i), 0, "  ");
	g_string_append_printf(out,
			       alert ? "\nTraffic in the %" G_GINT64_FORMAT
				       " hours before the change\n"
				     : "\nTraffic in the last %" G_GINT64_FORMAT
				       " hours\n",
			       hours);
	render_counts(out, traffic, "  ");
	g_string_append(out, "\nWhat fbld did\n");
	g_string_append_printf(out, "  Enforcement: %s\n",
			       digest_str(a, "action", "-"));
	if (ov) {
		g_string_append(out, "  Override:    pinned by an operator");
		if (jsonval_int(ov, "until_ms", 0) > 0) {
			g_string_append(out, " until ");
			render_time(out, jsonval_int(ov, "until_ms", 0));
		}
		g_string_append_printf(out, ": %s\n",
				       digest_str(ov, "reason", "-"));
	}
	digest_deliveries(out, digest_arr(a, "deliveries"));
	g_string_append_c(out, '\n');
}

static void
digest_outbox(GString *out, JsonArray *ob)
{
	struct render_table *t = render_table_new(
		"lrrr", "CHANNEL", "DELIVERED", "PENDING", "GIVEN UP", NULL);

	for (guint i = 0; i < digest_len(ob); i++) {
		JsonObject *o = jsonval_arr_obj(ob, i);

		if (g_strcmp0(jsonval_str(o, "channel"), "digest") == 0)
			continue;
		render_table_row(t);
		render_table_cell(t, jsonval_str(o, "channel"));
		render_table_int(t, jsonval_int(o, "done", 0));
		render_table_int(t, jsonval_int(o, "pending", 0));
		render_table_int(t, jsonval_int(o, "dead", 0));
	}
	g_string_append(out, "Alert deliveries (delivered in this period; "
			     "pending and given up now)\n");
	render_table_finish(t, out, "  ");
	g_string_append_c(out, '\n');
}

char *
digest_body(JsonObject *doc)
{
	GString *out = g_string_new(NULL);
	JsonArray *accts = digest_arr(doc, "accounts");
	int alert = digest_is_alert(doc);
	int64_t more = jsonval_int(doc, "more_accounts", 0);

	g_string_append_printf(out, "fbld on %s: %s\n",
			       digest_str(doc, "host", "?"),
			       alert ? "an account changed state"
				     : "digest of account state changes");
	g_string_append(out, "Period: ");
	render_time(out, jsonval_int(doc, "start_ms", 0));
	g_string_append(out, " to ");
	render_time(out, jsonval_int(doc, "end_ms", 0));
	g_string_append(out, "\n\n");
	if (!alert) {
		g_string_append_printf(out, "%u account%s changed state",
				       digest_len(accts) + (guint)more,
				       digest_len(accts) + more == 1 ? ""
								     : "s");
		if (digest_len(accts)) {
			g_string_append(out, ": ");
			digest_state_counts(out, accts);
		}
		g_string_append(out, ".\n\n");
	}
	for (guint i = 0; i < digest_len(accts); i++)
		digest_account(out, jsonval_arr_obj(accts, i), alert);
	if (more > 0)
		g_string_append_printf(out,
				       "... and %" G_GINT64_FORMAT
				       " more accounts: fbld accounts list "
				       "--state not-ok\n\n",
				       more);
	if (digest_arr(doc, "outbox"))
		digest_outbox(out, digest_arr(doc, "outbox"));
	g_string_append(
		out, "-- \n"
		     "Details:  fbld accounts show NAME\n"
		     "Override: fbld accounts set NAME STATE --reason TEXT "
		     "[--until 24h]\n"
		     "Release:  fbld accounts set NAME auto --reason TEXT\n");
	return g_string_free(out, FALSE);
}

static void
digest_addresses(GMimeMessage *m, GMimeAddressType type, const char *name,
		 const char *const *addrs)
{
	for (size_t i = 0; addrs && addrs[i]; i++)
		g_mime_message_add_mailbox(m, type, name, addrs[i]);
}

/* The body as UTF-8 whatever it holds (g_mime_text_part_set_text would
 * pick the smallest charset that fits, a different one per mail). */
static void
digest_set_text(GMimeTextPart *p, const char *body)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(body, strlen(body));
	GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(
		s, GMIME_CONTENT_ENCODING_DEFAULT);

	g_mime_part_set_content(GMIME_PART(p), w);
	g_mime_text_part_set_charset(p, "utf-8");
	g_object_unref(w);
	g_object_unref(s);
}

char *
digest_message(JsonObject *doc, const struct digest_envelope *env)
{
	GMimeMessage *m = g_mime_message_new(TRUE);
	GMimeTextPart *p = g_mime_text_part_new_with_subtype("plain");
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GDateTime *date = g_date_time_new_from_unix_utc(env->date_ms / 1000);
	const char *from[] = { env->from, NULL };
	char *subject = digest_subject(doc);
	char *body = digest_body(doc);
	char *out;

	digest_addresses(m, GMIME_ADDRESS_TYPE_FROM, "fbld", from);
	digest_addresses(m, GMIME_ADDRESS_TYPE_TO, NULL, env->to);
	g_mime_message_set_subject(m, subject, "utf-8");
	g_mime_message_set_date(m, date);
	g_mime_message_set_message_id(m, env->message_id);
	/* RFC 3834: no vacation replies to a machine's mail. */
	g_mime_object_set_header(GMIME_OBJECT(m), "Auto-Submitted",
				 "auto-generated", NULL);
	digest_set_text(p, body);
	g_mime_part_set_content_encoding(
		GMIME_PART(p),
		g_mime_part_get_best_content_encoding(
			GMIME_PART(p), GMIME_ENCODING_CONSTRAINT_7BIT));
	g_mime_message_set_mime_part(m, GMIME_OBJECT(p));
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	out = g_mime_object_to_string(GMIME_OBJECT(m), fo);
	g_mime_format_options_free(fo);
	g_object_unref(p);
	g_object_unref(m);
	g_date_time_unref(date);
	g_free(subject);
	g_free(body);
	return out;
}
