/* webhook: see webhook.h. */
#include "scoring/webhook.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "core/jsonval.h"
#include "scoring/accounts.h"
#include "scoring/actions.h"

static void
webhook_member_int(JsonBuilder *b, const char *name, int64_t v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, v);
}

/* Scoring's statistics as an object, or null when absent or not JSON. */
static void
webhook_member_stats(JsonBuilder *b, const char *stats_json)
{
	JsonNode *n = stats_json ? json_from_string(stats_json, NULL) : NULL;

	json_builder_set_member_name(b, "stats");
	if (n && JSON_NODE_HOLDS_OBJECT(n))
		json_builder_add_value(b, n);
	else {
		json_builder_add_null_value(b);
		if (n)
			json_node_unref(n);
	}
}

char *
webhook_payload(const struct scoring_transition *t, const char *event_id,
		const struct store_counts *traffic, int64_t window_ms)
{
	JsonBuilder *b = json_builder_new_immutable();

	json_builder_begin_object(b);
	jsonval_add_str(b, "id", event_id);
	jsonval_add_str(b, "type", WEBHOOK_EVENT_TYPE);
	webhook_member_int(b, "ts_ms", t->ts_ms);
	json_builder_set_member_name(b, "account");
	json_builder_begin_object(b);
	webhook_member_int(b, "id", t->account_id);
	jsonval_add_str(b, "name", t->account);
	json_builder_end_object(b);
	jsonval_add_str(b, "from", t->from);
	jsonval_add_str(b, "to", t->to);
	jsonval_add_str(b, "source", t->source);
	json_builder_set_member_name(b, "reasons");
	json_builder_begin_array(b);
	for (size_t i = 0; i < t->n_reasons; i++)
		if (t->reasons[i])
			json_builder_add_string_value(b, t->reasons[i]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "sent");
	if (t->sent >= 0)
		json_builder_add_int_value(b, t->sent);
	else
		json_builder_add_null_value(b);
	jsonval_add_str(b, "action", actions_state_effect(t->to));
	webhook_member_stats(b, t->stats_json);
	json_builder_set_member_name(b, "traffic");
	accounts_counts_json(b, traffic, window_ms);
	json_builder_end_object(b);
	return jsonval_builder_finish(b);
}

char *
webhook_signature(const char *secret, int64_t ts_s, const char *body,
		  size_t len)
{
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secret,
			      strlen(secret));
	char ts[24];
	char *out;

	g_snprintf(ts, sizeof(ts), "%" G_GINT64_FORMAT ".", ts_s);
	g_hmac_update(h, (const guchar *)ts, (gssize)strlen(ts));
	g_hmac_update(h, (const guchar *)body, (gssize)len);
	out = g_strconcat("v1=", g_hmac_get_string(h), NULL);
	g_hmac_unref(h);
	return out;
}
