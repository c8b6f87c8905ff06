/* job: see job.h. */
#include "scoring/job.h"

#include <json-glib/json-glib.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "scoring/engine.h"

#define CURSOR_SENDS "cursor.sends"
#define CURSOR_EVENTS "cursor.events"
#define POPULATION "population"
#define DAY_MS INT64_C(86400000)

G_STATIC_ASSERT(SCORING_NCOUNTERS == STORE_SCORING_COUNTERS);

struct job_hook {
	scoring_transition_fn fn;
	void *ud;
};

/* A change as the engine emitted it, kept until the transaction. */
struct job_change {
	uint32_t account;
	int64_t ts, sent;
	enum scoring_source source;
	enum scoring_state scored_from, scored_to, from, to;
	char **reasons;
	char *stats;
};

/* A send's delivery or a piece of feedback, read from the store and fed
 * to the engine in time order once both streams of the run are read. */
struct job_row {
	int64_t ts_ms;
	int64_t seq; /* sends first at equal times, then store order */
	struct scoring_event ev;
	char *rcpt;
};

static void
job_row_clear(gpointer p)
{
	g_free(((struct job_row *)p)->rcpt);
}

struct job_pin {
	int state;
	int64_t until_ms;
};

struct scoring_job {
	const struct scoring_params *p;
	struct store *st;
	struct scoring_engine *e;
	GArray *hooks;	    /* struct job_hook */
	GPtrArray *changes; /* struct job_change * */
	GHashTable *pins;   /* account -> struct job_pin *: what the engine
			      * was told */
	GArray *batch;	    /* struct job_row: one run's input */
	int64_t cur_sends, cur_events;
	int64_t pruned_ms, now_ms, rows;
	GError *row_error; /* the first error inside a row callback */
	struct metric *m_rows, *m_failed, *m_changes[4];
};

static void
job_change_free(gpointer p)
{
	struct job_change *c = p;

	g_strfreev(c->reasons);
	g_free(c->stats);
	g_free(c);
}

static void
job_emit(void *ud, const struct scoring_change *c)
{
	struct scoring_job *j = ud;
	struct job_change *x = g_new0(struct job_change, 1);

	x->account = c->account;
	x->ts = c->ts_ms;
	x->sent = c->sent;
	x->source = c->source;
	x->scored_from = c->scored_from;
	x->scored_to = c->scored_to;
	x->from = c->from;
	x->to = c->to;
	x->reasons = g_new0(char *, c->n_reasons + 1);
	for (size_t i = 0; i < c->n_reasons; i++)
		x->reasons[i] = g_strdup(c->reasons[i]);
	/* The statistics as they were at the change. */
	x->stats = scoring_engine_stats_json(j->e, c->account, c->ts_ms);
	g_ptr_array_add(j->changes, x);
}

/* ---- loading ------------------------------------------------------------ */

static GVariant *
job_variant(const void *data, size_t len)
{
	GBytes *b = g_bytes_new(data, len);
	GVariant *v =
		g_variant_new_from_bytes(G_VARIANT_TYPE_VARDICT, b, FALSE);

	g_bytes_unref(b);
	return g_variant_ref_sink(v);
}

static void
job_load_fp(void *ud, const char *key, const void *data, size_t len)
{
	struct scoring_job *j = ud;
	GVariant *v = job_variant(data, len);

	if (scoring_engine_load_fp(j->e, key, v) < 0)
		log_warn("scoring: fingerprint model of another version, "
			 "starting it afresh");
	g_variant_unref(v);
}

static void
job_load_account(void *ud, const char *id, const void *data, size_t len)
{
	struct scoring_job *j = ud;
	GVariant *v = job_variant(data, len);
	uint32_t account = (uint32_t)strtoul(id, NULL, 10);

	if (scoring_engine_load_account(j->e, account, v) < 0)
		log_warn("scoring: account=%u model of another version, "
			 "starting it afresh",
			 account);
	g_variant_unref(v);
}

static void
job_remember(void *ud, uint32_t account, const char *rcpt)
{
	struct scoring_job *j = ud;

	scoring_engine_remember(j->e, account, rcpt);
}

static int
job_load(struct scoring_job *j, int64_t now_ms, GError **error)
{
	GBytes *data = NULL;
	int r;

	scoring_engine_free(j->e);
	j->e = scoring_engine_new(j->p, job_emit, j);
	g_hash_table_remove_all(j->pins);
	j->cur_sends = j->cur_events = 0;
	if (store_scoring_value_get(j->st, CURSOR_SENDS, &j->cur_sends, NULL,
				    error) < 0 ||
	    store_scoring_value_get(j->st, CURSOR_EVENTS, &j->cur_events, NULL,
				    error) < 0)
		return -1;
	r = store_scoring_value_get(j->st, POPULATION, NULL, &data, error);
	if (r < 0)
		return -1;
	if (r == 0) {
		GVariant *v = job_variant(g_bytes_get_data(data, NULL),
					  g_bytes_get_size(data));
		if (scoring_engine_load_global(j->e, v) < 0)
			log_warn("scoring: population model of another "
				 "version, starting it afresh");
		g_variant_unref(v);
		g_bytes_unref(data);
	}
	if (store_scoring_fp_load(j->st, job_load_fp, j, error) < 0 ||
	    store_scoring_account_load(j->st, job_load_account, j, error) < 0)
		return -1;
	/* Recipients mailed in the last 30 days: the filter is not kept. */
	return store_scoring_rcpts(j->st, now_ms - 30 * DAY_MS, j->cur_sends,
				   job_remember, j, error);
}

struct scoring_job *
scoring_job_new(const struct scoring_params *p, struct store *st,
		int64_t now_ms, GError **error)
{
	struct scoring_job *j = g_new0(struct scoring_job, 1);

	j->p = p;
	j->st = st;
	j->hooks = g_array_new(FALSE, FALSE, sizeof(struct job_hook));
	j->changes = g_ptr_array_new_with_free_func(job_change_free);
	j->pins = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					g_free);
	j->batch = g_array_new(FALSE, TRUE, sizeof(struct job_row));
	g_array_set_clear_func(j->batch, job_row_clear);
	if (job_load(j, now_ms, error) < 0) {
		scoring_job_free(j);
		return NULL;
	}
	return j;
}

void
scoring_job_free(struct scoring_job *j)
{
	if (!j)
		return;
	scoring_engine_free(j->e);
	g_array_free(j->hooks, TRUE);
	g_ptr_array_free(j->changes, TRUE);
	g_hash_table_destroy(j->pins);
	g_array_free(j->batch, TRUE);
	g_clear_error(&j->row_error);
	g_free(j);
}

void
scoring_job_set_metrics(struct scoring_job *j, struct metrics *m)
{
	static const char *const labels[] = { "to=\"ok\"", "to=\"watch\"",
					      "to=\"throttle\"",
					      "to=\"block\"" };

	j->m_rows = metrics_counter(m, "fbld_scoring_rows_total", NULL,
				    "Sends and events read by scoring");
	j->m_failed = metrics_counter(m, "fbld_scoring_failed_runs_total", NULL,
				      "Scoring runs rolled back");
	for (int i = 0; i < 4; i++)
		j->m_changes[i] = metrics_counter(
			m, "fbld_scoring_changes_total", labels[i],
			"Changes of accounts' effective states");
}

void
scoring_job_add_hook(struct scoring_job *j, scoring_transition_fn fn, void *ud)
{
	struct job_hook h = { fn, ud };

	g_array_append_val(j->hooks, h);
}

/* ---- reading ---------------------------------------------------------- */

struct job_seen {
	struct scoring_job *j;
	GHashTable *now; /* accounts with an override in the store */
};

static void
job_override(void *ud, uint32_t id, const char *state, const char *reason,
	     int64_t until_ms)
{
	struct job_seen *s = ud;
	struct scoring_job *j = s->j;
	struct job_pin *pin =
		g_hash_table_lookup(j->pins, GUINT_TO_POINTER(id));
	enum scoring_state st;

	if (scoring_state_parse(state, &st) < 0) {
		log_warn("scoring: account=%u override to unknown state "
			 "\"%s\" ignored",
			 id, state);
		return;
	}
	g_hash_table_add(s->now, GUINT_TO_POINTER(id));
	if (pin && pin->state == (int)st && pin->until_ms == until_ms)
		return;
	scoring_engine_override(j->e, id, j->now_ms, (int)st, until_ms, reason,
				1);
	pin = g_new(struct job_pin, 1);
	pin->state = (int)st;
	pin->until_ms = until_ms;
	g_hash_table_insert(j->pins, GUINT_TO_POINTER(id), pin);
}

/* The engine learns of the overrides the CLI and the API set or cleared
 * (they recorded those changes themselves). */
static int
job_sync_overrides(struct scoring_job *j, GError **error)
{
	struct job_seen s = { j,
			      g_hash_table_new(g_direct_hash, g_direct_equal) };
	GHashTableIter it;
	gpointer id;

	if (store_scoring_overrides(j->st, job_override, &s, error) < 0) {
		g_hash_table_destroy(s.now);
		return -1;
	}
	g_hash_table_iter_init(&it, j->pins);
	while (g_hash_table_iter_next(&it, &id, NULL))
		if (!g_hash_table_contains(s.now, id)) {
			scoring_engine_override(j->e, GPOINTER_TO_UINT(id),
						j->now_ms, -1, 0, NULL, 1);
			g_hash_table_iter_remove(&it);
		}
	g_hash_table_destroy(s.now);
	return 0;
}

static int
job_send(void *ud, const struct store_scoring_send *s)
{
	struct scoring_job *j = ud;
	struct job_row row = { .ts_ms = s->created_ms };

	/* Reserved but not recorded yet: the milter is still receiving the
	 * message. Wait for it, up to the settle time (then it was
	 * abandoned: rejected or the client went away). */
	if (s->rcpt_count == 0 && s->created_ms > j->now_ms - j->p->settle_ms)
		return 1;
	j->cur_sends = s->id;
	j->rows++;
	if (!s->rcpt)
		return 0;
	row.seq = (int64_t)j->batch->len;
	row.rcpt = g_strdup(s->rcpt);
	row.ev.type = SCORING_EV_SENT;
	row.ev.account = s->account;
	row.ev.tracked = -1;
	row.ev.fp = scoring_engine_fp(j->e, s->fingerprint);
	g_array_append_val(j->batch, row);
	return 0;
}

static int
job_event_type(const char *type, enum scoring_ev *t)
{
	static const struct {
		const char *name;
		enum scoring_ev t;
	} types[] = {
		{ "bounce", SCORING_EV_BOUNCE },
		{ "complaint", SCORING_EV_COMPLAINT },
		{ "open", SCORING_EV_OPEN },
		{ "click", SCORING_EV_CLICK },
		{ "unsubscribe", SCORING_EV_UNSUBSCRIBE },
	};

	for (size_t i = 0; type && i < G_N_ELEMENTS(types); i++)
		if (strcmp(type, types[i].name) == 0) {
			*t = types[i].t;
			return 0;
		}
	return -1;
}

/* The store's bits of prior feedback are the engine's. */
#define JOB_SAME_BIT(x) ((int)STORE_PRIOR_##x == (int)SCORING_PRIOR_##x)
G_STATIC_ASSERT(JOB_SAME_BIT(BOUNCE) && JOB_SAME_BIT(COMPLAINT) &&
		JOB_SAME_BIT(OPEN_HUMAN) && JOB_SAME_BIT(OPEN_MACHINE) &&
		JOB_SAME_BIT(CLICK_HUMAN) && JOB_SAME_BIT(CLICK_MACHINE) &&
		JOB_SAME_BIT(UNSUB));

static int
job_event(void *ud, const struct store_scoring_event *r)
{
	struct scoring_job *j = ud;
	struct job_row row = { .ts_ms = r->ts_ms };
	int64_t account = r->send_account >= 0 ? r->send_account : r->account;
	unsigned mask = 0;

	/* Feedback waits for its send to be counted first. */
	if (r->send >= 0 && r->send > j->cur_sends)
		return 1;
	j->cur_events = r->id;
	j->rows++;
	if (account < 0 || job_event_type(r->type, &row.ev.type) < 0)
		return 0; /* unattributed, or not scored (delays, DMARC) */
	if (r->send >= 0 &&
	    store_scoring_prior(j->st, r->send, r->recipient, r->id, &mask,
				&j->row_error) < 0)
		return 1;
	row.seq = (int64_t)j->batch->len;
	row.ev.account = (uint32_t)account;
	row.ev.fp = scoring_engine_fp(j->e, r->fingerprint);
	row.ev.bounce = scoring_bounce_classify(r->reason, r->klass);
	row.ev.machine = r->machine;
	scoring_event_prior(&row.ev, mask);
	g_array_append_val(j->batch, row);
	return 0;
}

static int
job_row_cmp(gconstpointer x, gconstpointer y)
{
	const struct job_row *a = x, *b = y;

	if (a->ts_ms != b->ts_ms)
		return a->ts_ms < b->ts_ms ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Reads up to a batch of sends and of events and feeds them in time
 * order: a bounce that came back seconds after its message is weighed
 * against the messages sent before it, not after the whole batch. */
static int
job_read(struct scoring_job *j, GError **error)
{
	int limit = (int)j->p->batch;

	g_array_set_size(j->batch, 0);
	if (store_scoring_sends(j->st, j->cur_sends, limit, job_send, j,
				error) < 0 ||
	    store_scoring_events(j->st, j->cur_events, limit, job_event, j,
				 error) < 0)
		return -1;
	if (j->row_error) {
		g_propagate_error(error, j->row_error);
		j->row_error = NULL;
		return -1;
	}
	g_array_sort(j->batch, job_row_cmp);
	for (guint i = 0; i < j->batch->len; i++) {
		struct job_row *r = &g_array_index(j->batch, struct job_row, i);

		r->ev.ts_ms = r->ts_ms;
		r->ev.recipient = r->rcpt;
		scoring_engine_feed(j->e, &r->ev);
	}
	g_array_set_size(j->batch, 0);
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

static char *
job_reasons_json(char **reasons)
{
	JsonArray *arr = json_array_new();
	JsonNode *n;
	char *s;

	for (char **r = reasons; *r; r++)
		json_array_add_string_element(arr, *r);
	n = json_node_init_array(json_node_alloc(), arr);
	s = json_to_string(n, FALSE);
	json_node_unref(n);
	json_array_unref(arr);
	return s;
}

static int
job_hooks(struct scoring_job *j, const struct job_change *c, GError **error)
{
	struct scoring_transition t = {
		.account_id = c->account,
		.ts_ms = c->ts,
		.from = scoring_state_name(c->from),
		.to = scoring_state_name(c->to),
		.source = scoring_source_name(c->source),
		.reasons = (const char *const *)c->reasons,
		.n_reasons = g_strv_length(c->reasons),
		.sent = c->sent,
		.stats_json = c->stats,
	};
	char *name = NULL;
	int r = store_account_name(j->st, c->account, &name, error);

	if (r != 0) {
		if (r > 0)
			g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
				    "scoring: no account %u", c->account);
		return -1;
	}
	t.account = name;
	for (guint i = 0; r == 0 && i < j->hooks->len; i++) {
		struct job_hook *h =
			&g_array_index(j->hooks, struct job_hook, i);
		r = h->fn(h->ud, j->st, &t, error);
	}
	g_free(name);
	return r;
}

static int
job_write_change(struct scoring_job *j, const struct job_change *c,
		 GError **error)
{
	char *reasons = job_reasons_json(c->reasons);
	int r = 0;

	if (c->scored_from != c->scored_to)
		r = store_account_set_state(j->st, c->account, c->ts,
					    scoring_state_name(c->scored_to),
					    "scoring", reasons, c->sent, error);
	if (r == 0 && c->source == SCORING_SRC_EXPIRY) {
		r = store_scoring_expire(j->st, c->account, c->ts, reasons,
					 c->sent, error);
		g_hash_table_remove(j->pins, GUINT_TO_POINTER(c->account));
	}
	if (r == 0 && c->from != c->to && c->source != SCORING_SRC_OPERATOR)
		r = job_hooks(j, c, error);
	g_free(reasons);
	return r;
}

static void
job_put_account(void *ud, uint32_t account, GVariant *v)
{
	struct scoring_job *j = ud;
	char *stats;

	g_variant_ref_sink(v);
	if (!j->row_error) {
		stats = scoring_engine_stats_json(j->e, account, j->now_ms);
		store_scoring_account_put(
			j->st, account, j->now_ms, g_variant_get_data(v),
			g_variant_get_size(v), stats, &j->row_error);
		g_free(stats);
	}
	g_variant_unref(v);
}

static void
job_put_fp(void *ud, const char *fp, GVariant *v)
{
	struct scoring_job *j = ud;

	g_variant_ref_sink(v);
	if (!j->row_error)
		store_scoring_fp_put(j->st, fp, j->now_ms,
				     g_variant_get_data(v),
				     g_variant_get_size(v), &j->row_error);
	g_variant_unref(v);
}

static void
job_put_hour(void *ud, uint32_t account, int64_t hour_ms,
	     const uint32_t *counts)
{
	struct scoring_job *j = ud;

	if (!j->row_error)
		store_scoring_hour_put(j->st, account, hour_ms, counts,
				       &j->row_error);
}

static int
job_write_models(struct scoring_job *j, GError **error)
{
	GVariant *g;
	int r;

	scoring_engine_foreach_dirty_account(j->e, job_put_account, j);
	scoring_engine_foreach_dirty_fp(j->e, job_put_fp, j);
	scoring_engine_foreach_dirty_hour(j->e, job_put_hour, j);
	if (j->row_error) {
		g_propagate_error(error, j->row_error);
		j->row_error = NULL;
		return -1;
	}
	g = g_variant_ref_sink(scoring_engine_save_global(j->e));
	r = store_scoring_value_set(j->st, POPULATION, 0, g_variant_get_data(g),
				    g_variant_get_size(g), error);
	g_variant_unref(g);
	if (r < 0 ||
	    store_scoring_value_set(j->st, CURSOR_SENDS, j->cur_sends, NULL, 0,
				    error) < 0 ||
	    store_scoring_value_set(j->st, CURSOR_EVENTS, j->cur_events, NULL,
				    0, error) < 0)
		return -1;
	if (j->now_ms - j->pruned_ms < 3600000)
		return 0;
	j->pruned_ms = j->now_ms;
	return store_scoring_prune(j->st, j->now_ms - j->p->retention_ms,
				   j->now_ms - 180 * DAY_MS, error);
}

/* ---- a run ---------------------------------------------------------------- */

static int
job_step(struct scoring_job *j, GError **error)
{
	if (job_sync_overrides(j, error) < 0 || job_read(j, error) < 0)
		return -1;
	scoring_engine_tick(j->e, j->now_ms);
	for (guint i = 0; i < j->changes->len; i++)
		if (job_write_change(j, j->changes->pdata[i], error) < 0)
			return -1;
	return job_write_models(j, error);
}

static void
job_log(struct scoring_job *j)
{
	if (j->m_rows)
		metric_add(j->m_rows, j->rows);
	for (guint i = 0; i < j->changes->len; i++) {
		struct job_change *c = j->changes->pdata[i];

		if (c->from == c->to)
			continue;
		if (j->m_changes[c->to])
			metric_inc(j->m_changes[c->to]);
		log_notice("scoring: account=%u %s -> %s source=%s "
			   "sent=%" G_GINT64_FORMAT " reason=\"%s\"",
			   c->account, scoring_state_name(c->from),
			   scoring_state_name(c->to),
			   scoring_source_name(c->source), c->sent,
			   c->reasons[0] ? c->reasons[0] : "");
	}
}

int
scoring_job_run(struct scoring_job *j, int64_t now_ms, GError **error)
{
	GError *e = NULL;

	j->now_ms = now_ms;
	j->rows = 0;
	g_ptr_array_set_size(j->changes, 0);
	if (store_begin(j->st, error) < 0)
		return -1;
	if (job_step(j, &e) < 0 || store_commit(j->st, &e) < 0) {
		store_rollback(j->st);
		g_ptr_array_set_size(j->changes, 0);
		/* Memory must not run ahead of the store. */
		if (job_load(j, now_ms, NULL) < 0)
			log_err("scoring: reloading the engine failed");
		if (j->m_failed)
			metric_inc(j->m_failed);
		g_propagate_error(error, e);
		return -1;
	}
	job_log(j);
	g_ptr_array_set_size(j->changes, 0);
	return (int)MIN(j->rows, INT_MAX);
}
