/* actions: see actions.h. */
#include "scoring/actions.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "core/config.h"
#include "core/store.h"
#include "scoring/accounts.h"
#include "scoring/digest.h"
#include "scoring/webhook.h"

static const char *const actions_states[] = { "ok", "watch", "throttle",
					      "block", NULL };

int
actions_state_valid(const char *state)
{
	return state && g_strv_contains(actions_states, state);
}

const char *
actions_state_effect(const char *state)
{
	if (!state)
		return "unknown state";
	if (strcmp(state, "watch") == 0)
		return "watched more closely; mail flows as usual";
	if (strcmp(state, "throttle") == 0)
		return "paced: mail beyond the account's rate cap gets a "
		       "temporary failure (4.7.1) and is retried later";
	if (strcmp(state, "block") == 0)
		return "stopped: new mail is rejected (5.7.1) or held until "
		       "an operator releases the account";
	if (strcmp(state, "ok") == 0)
		return "no restriction";
	return "unknown state";
}

/* ---- configuration ------------------------------------------------------ */

static void
actions_retry_load(struct config *cfg, const char *section,
		   int64_t def_timeout_ms, struct actions_retry *r)
{
	r->timeout_ms = config_duration_ms(cfg, section, "timeout",
					   def_timeout_ms, 100, 600000);
	r->max_attempts =
		(int)config_int(cfg, section, "max_attempts", 16, 1, 1000);
	r->base_ms = config_duration_ms(cfg, section, "retry_base", 30000, 100,
					86400000);
	r->max_ms = config_duration_ms(cfg, section, "retry_max", 7200000, 100,
				       7 * 86400000LL);
	if (r->max_ms < r->base_ms)
		config_error(cfg, section, "retry_max",
			     "shorter than retry_base");
}

/* A list of states; every one must be valid. */
static char **
actions_states_load(struct config *cfg, const char *section, const char *key,
		    const char *def)
{
	char **v = config_list(cfg, section, key, def);

	for (char **s = v; s && *s; s++)
		if (!actions_state_valid(*s))
			config_error(cfg, section, key,
				     "\"%s\" is not ok, watch, throttle or "
				     "block",
				     *s);
	return v;
}

static void
actions_webhook_free(gpointer p)
{
	struct actions_webhook *w = p;

	g_free(w->name);
	g_free(w->url);
	if (w->secret)
		memset(w->secret, 0, strlen(w->secret));
	g_free(w->secret);
	g_strfreev(w->states);
	g_free(w);
}

static void
actions_webhook_load(struct config *cfg, const char *name,
		     struct actions_config *out)
{
	struct actions_webhook *w = g_new0(struct actions_webhook, 1);
	char *section = g_strdup_printf("webhook:%s", name);

	w->name = g_strdup(name);
	if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyz"
				   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
			      strlen(name))
		config_error(cfg, section, NULL,
			     "name: use letters, digits, '.', '_' and '-'");
	w->url = config_str(cfg, section, "url", NULL);
	if (!w->url)
		config_error(cfg, section, "url", "required");
	else if (!g_str_has_prefix(w->url, "http://") &&
		 !g_str_has_prefix(w->url, "https://"))
		config_error(cfg, section, "url",
			     "\"%s\" is not an http(s) URL", w->url);
	w->secret = config_secret(cfg, section, "secret_file", 1);
	w->states = actions_states_load(cfg, section, "states",
					"ok,watch,throttle,block");
	actions_retry_load(cfg, section, 10000, &w->retry);
	g_ptr_array_add(out->webhooks, w);
	g_free(section);
}

static void
actions_digest_load(struct config *cfg, struct actions_digest *d)
{
	static const char *const tls[] = { "no", "try", "required", NULL };
	char *def_from;

	d->smtp_url = config_str(cfg, "digest", "smtp_url", NULL);
	d->enabled = d->smtp_url != NULL;
	if (!d->smtp_url && config_has_section(cfg, "digest"))
		config_error(cfg, "digest", "smtp_url",
			     "required (e.g. smtp://127.0.0.1:25)");
	if (d->smtp_url && !g_str_has_prefix(d->smtp_url, "smtp://") &&
	    !g_str_has_prefix(d->smtp_url, "smtps://"))
		config_error(cfg, "digest", "smtp_url",
			     "\"%s\" is not an smtp:// or smtps:// URL",
			     d->smtp_url);
	d->hostname = config_str(cfg, "digest", "hostname", g_get_host_name());
	def_from = g_strdup_printf("fbld@%s", d->hostname);
	d->from = config_str(cfg, "digest", "from", def_from);
	g_free(def_from);
	d->to = config_list(cfg, "digest", "to", NULL);
	if (d->enabled && (!d->to || !d->to[0]))
		config_error(cfg, "digest", "to",
			     "required: who reads the digest");
	d->username = config_str(cfg, "digest", "username", NULL);
	d->password = config_secret(cfg, "digest", "password_file",
				    d->username != NULL);
	d->starttls = (enum actions_starttls)config_enum(cfg, "digest",
							 "starttls", 1, tls);
	d->tls_verify = config_bool(cfg, "digest", "tls_verify", 1);
	d->interval_ms = config_duration_ms(cfg, "digest", "interval", 86400000,
					    1000, 30 * 86400000LL);
	d->offset_ms = config_duration_ms(cfg, "digest", "offset", 0, 0,
					  30 * 86400000LL);
	d->immediate = actions_states_load(cfg, "digest", "immediate", "block");
	d->max_accounts =
		(int)config_int(cfg, "digest", "max_accounts", 50, 1, 10000);
	actions_retry_load(cfg, "digest", 60000, &d->retry);
}

void
actions_config_load(struct config *cfg, struct actions_config *out)
{
	char **names = config_sections(cfg, "webhook");

	memset(out, 0, sizeof(*out));
	out->webhooks = g_ptr_array_new_with_free_func(actions_webhook_free);
	for (char **n = names; *n; n++)
		actions_webhook_load(cfg, *n, out);
	g_strfreev(names);
	actions_digest_load(cfg, &out->digest);
	out->poll_ms = config_duration_ms(cfg, "outbox", "poll_interval", 1000,
					  50, 60000);
	out->batch = (int)config_int(cfg, "outbox", "batch", 32, 1, 1000);
	out->keep_ms =
		config_duration_ms(cfg, "outbox", "keep", 30 * 86400000LL,
				   3600000, 3650 * 86400000LL);
}

void
actions_config_clear(struct actions_config *ac)
{
	struct actions_digest *d = &ac->digest;

	g_clear_pointer(&ac->webhooks, g_ptr_array_unref);
	g_clear_pointer(&d->smtp_url, g_free);
	g_clear_pointer(&d->from, g_free);
	g_clear_pointer(&d->to, g_strfreev);
	g_clear_pointer(&d->username, g_free);
	if (d->password)
		memset(d->password, 0, strlen(d->password));
	g_clear_pointer(&d->password, g_free);
	g_clear_pointer(&d->hostname, g_free);
	g_clear_pointer(&d->immediate, g_strfreev);
}

const struct actions_webhook *
actions_webhook_find(const struct actions_config *ac, const char *name)
{
	for (guint i = 0; ac->webhooks && i < ac->webhooks->len; i++) {
		const struct actions_webhook *w = ac->webhooks->pdata[i];

		if (strcmp(w->name, name) == 0)
			return w;
	}
	return NULL;
}

const struct actions_retry *
actions_channel_retry(const struct actions_config *ac, const char *channel)
{
	const struct actions_webhook *w;

	if (g_str_has_prefix(channel, "webhook:")) {
		w = actions_webhook_find(ac, channel + strlen("webhook:"));
		return w ? &w->retry : NULL;
	}
	if (g_str_has_prefix(channel, "email:") && ac->digest.enabled)
		return &ac->digest.retry;
	return NULL;
}

/* ---- enqueueing a transition -------------------------------------------- */

static int
actions_wants_alert(const struct actions_config *ac, const char *to)
{
	return ac->digest.enabled && ac->digest.immediate &&
	       g_strv_contains((const char *const *)ac->digest.immediate, to);
}

/* Whether anything at all listens for transitions to `to`. */
static int
actions_wanted(const struct actions_config *ac, const char *to)
{
	if (ac->digest.enabled)
		return 1;
	for (guint i = 0; i < ac->webhooks->len; i++) {
		const struct actions_webhook *w = ac->webhooks->pdata[i];

		if (g_strv_contains((const char *const *)w->states, to))
			return 1;
	}
	return 0;
}

static int
actions_add(struct store *st, const char *channel, const char *event_id,
	    const char *payload, int64_t account, int64_t now_ms, int *dup,
	    GError **error)
{
	char *key = g_strdup_printf("%s/%s", channel, event_id);
	struct store_outbox_item it = {
		.channel = channel,
		.idem_key = key,
		.payload = payload,
		.account = account,
		.created_ms = now_ms,
		.next_ms = now_ms,
	};
	int r = store_outbox_add(st, &it, dup, error);

	g_free(key);
	return r;
}

/* The digest document of one account, for the alert mail. */
static JsonObject *
actions_alert_doc(const struct actions_config *ac, struct store *st,
		  const struct scoring_transition *t, const char *payload,
		  const struct store_counts *traffic, GError **error)
{
	JsonNode *tr = json_from_string(payload, NULL);
	JsonArray *trs = json_array_new();
	JsonObject *acct, *doc = json_object_new();
	JsonArray *accts = json_array_new();

	json_array_add_element(trs, tr);
	acct = accounts_digest_entry(st, t->account_id, t->ts_ms,
				     ACTIONS_TRAFFIC_WINDOW_MS, traffic, trs,
				     error);
	json_array_unref(trs);
	if (!acct) {
		json_array_unref(accts);
		json_object_unref(doc);
		return NULL;
	}
	/* The hook may run before the new state is written: say `to`. */
	json_object_set_string_member(acct, "state", t->to);
	json_object_set_string_member(acct, "action",
				      actions_state_effect(t->to));
	json_array_add_object_element(accts, acct);
	json_object_set_string_member(doc, "kind", "alert");
	json_object_set_string_member(doc, "host", ac->digest.hostname);
	json_object_set_int_member(doc, "start_ms",
				   t->ts_ms - ACTIONS_TRAFFIC_WINDOW_MS);
	json_object_set_int_member(doc, "end_ms", t->ts_ms);
	json_object_set_array_member(doc, "accounts", accts);
	return doc;
}

static char *
actions_message_id(const struct actions_config *ac, const char *what)
{
	char *uuid = g_uuid_string_random();
	char *id = g_strdup_printf("fbld.%s.%s@%s", what, uuid,
				   ac->digest.hostname);

	g_free(uuid);
	return id;
}

static int
actions_add_alert(const struct actions_config *ac, struct store *st,
		  const struct scoring_transition *t, const char *event_id,
		  const char *payload, const struct store_counts *traffic,
		  int64_t now_ms, GError **error)
{
	JsonObject *doc = actions_alert_doc(ac, st, t, payload, traffic, error);
	struct digest_envelope env = {
		.from = ac->digest.from,
		.to = (const char *const *)ac->digest.to,
		.date_ms = now_ms,
	};
	char *msgid, *msg;
	int r;

	if (!doc)
		return -1;
	msgid = actions_message_id(ac, "alert");
	env.message_id = msgid;
	msg = digest_message(doc, &env);
	r = actions_add(st, "email:alert", event_id, msg, t->account_id, now_ms,
			NULL, error);
	g_free(msg);
	g_free(msgid);
	json_object_unref(doc);
	return r;
}

int
actions_enqueue(void *ud, struct store *st, const struct scoring_transition *t,
		GError **error)
{
	const struct actions_config *ac = ud;
	int64_t now_ms = g_get_real_time() / 1000;
	struct store_counts traffic;
	char *id, *payload;
	int r = 0;

	if (!actions_wanted(ac, t->to))
		return 0;
	if (store_counts(st, t->account_id,
			 t->ts_ms - ACTIONS_TRAFFIC_WINDOW_MS, t->ts_ms + 1,
			 &traffic, error) < 0)
		return -1;
	id = g_uuid_string_random();
	payload = webhook_payload(t, id, &traffic, ACTIONS_TRAFFIC_WINDOW_MS);
	for (guint i = 0; r == 0 && i < ac->webhooks->len; i++) {
		const struct actions_webhook *w = ac->webhooks->pdata[i];
		char *channel;

		if (!g_strv_contains((const char *const *)w->states, t->to))
			continue;
		channel = g_strdup_printf("webhook:%s", w->name);
		r = actions_add(st, channel, id, payload, t->account_id, now_ms,
				NULL, error);
		g_free(channel);
	}
	if (r == 0 && ac->digest.enabled)
		r = actions_add(st, "digest", id, payload, t->account_id,
				now_ms, NULL, error);
	if (r == 0 && actions_wants_alert(ac, t->to))
		r = actions_add_alert(ac, st, t, id, payload, &traffic, now_ms,
				      error);
	g_free(payload);
	g_free(id);
	return r;
}

/* ---- operator overrides ------------------------------------------------- */

static int
actions_override_tx(const struct actions_config *ac, struct store *st,
		    uint32_t account, int64_t now_ms, const char *state,
		    const char *reason, int64_t until_ms, GError **error)
{
	struct store_account_state before, after;
	const char *reasons[1];
	int r;

	if (store_account_state_get(st, account, now_ms, &before, error) != 0)
		goto no_account;
	if (store_account_override(st, account, now_ms, state, reason, until_ms,
				   error) < 0 ||
	    store_account_state_get(st, account, now_ms, &after, error) != 0) {
		store_account_state_clear(&before);
		return -1;
	}
	r = strcmp(before.effective, after.effective) != 0;
	if (r) {
		struct scoring_transition t = {
			.account_id = account,
			.account = after.name,
			.ts_ms = now_ms,
			.from = before.effective,
			.to = after.effective,
			.source = "operator",
			.reasons = reasons,
			.n_reasons = 1,
			.sent = -1,
		};

		reasons[0] = reason ? reason : "operator override";
		if (actions_enqueue((void *)ac, st, &t, error) < 0)
			r = -1;
	}
	store_account_state_clear(&before);
	store_account_state_clear(&after);
	return r;
no_account:
	if (error && !*error)
		g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
			    "no account %u", account);
	return -1;
}

int
actions_override(const struct actions_config *ac, struct store *st,
		 uint32_t account, int64_t now_ms, const char *state,
		 const char *reason, int64_t until_ms, GError **error)
{
	int r;

	if (store_begin(st, error) < 0)
		return -1;
	r = actions_override_tx(ac, st, account, now_ms, state, reason,
				until_ms, error);
	if (r < 0 || store_commit(st, error) < 0) {
		store_rollback(st);
		return -1;
	}
	return r;
}

/* ---- the digest --------------------------------------------------------- */

/* Items grouped by account, in order of first appearance. */
struct actions_group {
	uint32_t account;
	JsonArray *transitions;
};

static GPtrArray *
actions_group_items(GPtrArray *items)
{
	GPtrArray *groups = g_ptr_array_new();
	GHashTable *by_id = g_hash_table_new(g_direct_hash, g_direct_equal);

	for (guint i = 0; i < items->len; i++) {
		const struct store_outbox_row *row = items->pdata[i];
		JsonNode *n = json_from_string(row->payload, NULL);
		struct actions_group *g;

		if (!n || !JSON_NODE_HOLDS_OBJECT(n) || row->account < 0) {
			if (n)
				json_node_unref(n);
			continue;
		}
		g = g_hash_table_lookup(by_id, GINT_TO_POINTER(row->account));
		if (!g) {
			g = g_new0(struct actions_group, 1);
			g->account = (uint32_t)row->account;
			g->transitions = json_array_new();
			g_hash_table_insert(by_id,
					    GINT_TO_POINTER(row->account), g);
			g_ptr_array_add(groups, g);
		}
		json_array_add_element(g->transitions, n);
	}
	g_hash_table_destroy(by_id);
	return groups;
}

static void
actions_group_free(gpointer p)
{
	struct actions_group *g = p;

	json_array_unref(g->transitions);
	g_free(g);
}

static JsonObject *
actions_digest_doc(const struct actions_config *ac, struct store *st,
		   GPtrArray *groups, int64_t start_ms, int64_t now_ms,
		   GError **error)
{
	JsonObject *doc = json_object_new();
	JsonArray *accts = json_array_new();
	guint n = MIN(groups->len, (guint)ac->digest.max_accounts);

	json_object_set_string_member(doc, "kind", "digest");
	json_object_set_string_member(doc, "host", ac->digest.hostname);
	json_object_set_int_member(doc, "start_ms", start_ms);
	json_object_set_int_member(doc, "end_ms", now_ms);
	json_object_set_array_member(doc, "accounts", accts);
	json_object_set_int_member(doc, "more_accounts", groups->len - n);
	for (guint i = 0; i < n; i++) {
		struct actions_group *g = groups->pdata[i];
		/* At least a day of traffic, however short the period. */
		JsonObject *o = accounts_digest_entry(
			st, g->account, now_ms,
			MAX(now_ms - start_ms, ACTIONS_TRAFFIC_WINDOW_MS), NULL,
			g->transitions, error);

		if (!o) {
			json_object_unref(doc);
			return NULL;
		}
		json_array_add_object_element(accts, o);
	}
	if (accounts_outbox_stats_add(st, doc, start_ms, error) < 0) {
		json_object_unref(doc);
		return NULL;
	}
	return doc;
}

/* Renders and enqueues the digest mail of the period and marks the items
 * digested: 1, or 0 when that period's digest exists already. */
static int
actions_digest_tx(const struct actions_config *ac, struct store *st,
		  GPtrArray *items, int64_t start_ms, int64_t period_ms,
		  int64_t now_ms, GError **error)
{
	GPtrArray *groups = actions_group_items(items);
	JsonObject *doc =
		actions_digest_doc(ac, st, groups, start_ms, now_ms, error);
	struct digest_envelope env = {
		.from = ac->digest.from,
		.to = (const char *const *)ac->digest.to,
		.date_ms = now_ms,
	};
	char key[64], *msgid, *msg;
	int r = -1, dup = 0;

	g_ptr_array_set_free_func(groups, actions_group_free);
	if (!doc)
		goto out;
	msgid = actions_message_id(ac, "digest");
	env.message_id = msgid;
	msg = digest_message(doc, &env);
	g_snprintf(key, sizeof(key), "%" G_GINT64_FORMAT, period_ms);
	r = actions_add(st, "email:digest", key, msg, -1, now_ms, &dup, error);
	for (guint i = 0; r == 0 && !dup && i < items->len; i++) {
		const struct store_outbox_row *row = items->pdata[i];

		r = store_outbox_done(st, row->id, now_ms, error);
	}
	g_free(msg);
	g_free(msgid);
	json_object_unref(doc);
out:
	g_ptr_array_unref(groups);
	return r < 0 ? -1 : !dup;
}

int
actions_digest_compose(const struct actions_config *ac, struct store *st,
		       int64_t period_ms, int64_t now_ms, GError **error)
{
	GPtrArray *items = store_outbox_digest_items(st, 1, error);
	int64_t start_ms;
	int r;

	/* A plain read first: most calls find nothing, and BEGIN IMMEDIATE
	 * would take the write lock from the milter for nothing. */
	if (!items)
		return -1;
	r = (int)items->len;
	g_ptr_array_unref(items);
	if (r == 0)
		return 0;
	if (store_begin(st, error) < 0)
		return -1;
	items = store_outbox_digest_items(st, ACTIONS_DIGEST_MAX_ITEMS, error);
	if (!items) {
		store_rollback(st);
		return -1;
	}
	if (items->len == 0) {
		g_ptr_array_unref(items);
		store_rollback(st);
		return 0;
	}
	r = store_outbox_last(st, "email:digest", &start_ms, error);
	if (r == 1)
		start_ms = ((struct store_outbox_row *)items->pdata[0])
				   ->created_ms;
	if (r >= 0)
		r = actions_digest_tx(ac, st, items, start_ms, period_ms,
				      now_ms, error);
	g_ptr_array_unref(items);
	if (r <= 0) {
		store_rollback(st);
		return r;
	}
	if (store_commit(st, error) < 0) {
		store_rollback(st);
		return -1;
	}
	return 1;
}
