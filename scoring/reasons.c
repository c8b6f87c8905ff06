/*
 * reasons: the human-readable sentences of a state change, with the
 * numbers a person can check (counts, rates with Wilson 95 % intervals,
 * the population's median, the tests' values and hypotheses), and the
 * statistics JSON of an account. Part of the engine: pure.
 */
#include "scoring/engine_int.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "core/jsonval.h"

static const char *const test_names[T_N] = {
	[T_BOUNCE] = "bounce",	     [T_POLICY] = "policy",
	[T_COMPLAINT] = "complaint", [T_ENGAGE] = "engagement",
	[T_UNSUB] = "unsubscribe",
};

/* A rate in percent with as many digits as its size needs. */
static void
pct(GString *s, double r)
{
	double v = r * 100;

	if (v >= 10 || v == 0)
		g_string_append_printf(s, "%.0f%%", v);
	else if (v >= 1)
		g_string_append_printf(s, "%.1f%%", v);
	else if (v >= 0.1)
		g_string_append_printf(s, "%.2f%%", v);
	else
		g_string_append_printf(s, "%.3f%%", v);
}

static void
pct_range(GString *s, double lo, double hi)
{
	pct(s, lo);
	g_string_truncate(s, s->len - 1); /* one percent sign */
	g_string_append_c(s, '-');
	pct(s, hi);
}

static void
when(GString *s, int64_t ms)
{
	GDateTime *dt = g_date_time_new_from_unix_utc(ms / 1000);
	char *t;

	if (!dt) {
		g_string_append(s, "(invalid time)");
		return;
	}
	t = g_date_time_format(dt, "%Y-%m-%d %H:%M UTC");
	g_string_append(s, t);
	g_free(t);
	g_date_time_unref(dt);
}

/* "K of N WHAT since T (R%, 95% interval L-H%)" */
static void
count_rate(GString *s, double k, double n, const char *what, int64_t since)
{
	double lo, hi;

	/* n is delay-corrected: reports that came faster than the delay
	 * model expects can outnumber the messages "due". Each report had
	 * its message, so a rate is never read off fewer than k. */
	if (n < k)
		n = k;
	scoring_wilson(k, n, 1.96, &lo, &hi);
	g_string_append_printf(s, " %.0f of %.0f %s", k, n, what);
	if (since > 0) {
		g_string_append(s, " since ");
		when(s, since);
	}
	g_string_append(s, " (");
	pct(s, n > 0 ? k / n : 0);
	g_string_append(s, ", 95% interval ");
	pct_range(s, lo, hi);
	g_string_append(s, ")");
}

static void
test_tail(GString *s, const struct scoring_engine *e,
	  const struct sc_account *a, enum sc_test t)
{
	g_string_append_printf(s, "; sequential test %.1f nats (H0 ",
			       a->t[t].s);
	pct(s, a->h0[t]);
	g_string_append(s, ", H1 ");
	pct(s, a->h1[t]);
	g_string_append(s, ")");
	if (t != T_ENGAGE && (a->t[t].run_k < e->p->min_events ||
			      a->t[t].run_e < e->p->min_exposure))
		g_string_append_printf(s,
				       ", not counted below %.0f events and "
				       "%.0f messages",
				       e->p->min_events, e->p->min_exposure);
}

static void
median(GString *s, const struct scoring_engine *e, enum sc_test t)
{
	if (e->pop_median[t] < 0)
		return;
	g_string_append(s, ", population median ");
	pct(s, e->pop_median[t]);
}

static void
week(GString *s, double k, double n, const char *what)
{
	g_string_append_printf(s, "; last 7 days %.0f of %.0f %s", k, n, what);
}

static char *
test_sentence(const struct scoring_engine *e, const struct sc_account *a,
	      enum sc_test t, const uint32_t *w)
{
	const struct sc_cusum *c = &a->t[t];
	GString *s = g_string_new(NULL);

	switch (t) {
	case T_BOUNCE:
		g_string_append(s, "hard bounces (user unknown, bad domain)");
		count_rate(s, c->run_k, c->run_e,
			   "messages due to have bounced", c->run_ms);
		median(s, e, t);
		test_tail(s, e, a, t);
		week(s, w[SC_UNKNOWN] + w[SC_BAD_DOMAIN] + w[SC_HARD_OTHER],
		     w[SC_SENT], "messages bounced");
		break;
	case T_POLICY:
		g_string_append(s, "policy rejections (blocked as spam or by "
				   "policy)");
		count_rate(s, c->run_k, c->run_e, "messages", c->run_ms);
		g_string_append(s, ", other accounts in the last hour ");
		pct(s, e->pool_sent > 0 ? e->pool_policy / e->pool_sent : 0);
		test_tail(s, e, a, t);
		break;
	case T_COMPLAINT:
		g_string_append(s, "complaints");
		count_rate(s, c->run_k, c->run_e,
			   "messages to providers that report them", c->run_ms);
		median(s, e, t);
		test_tail(s, e, a, t);
		week(s, w[SC_COMPLAINT], w[SC_FBL],
		     "such messages drew complaints");
		break;
	case T_ENGAGE:
		g_string_append(s, "human opens and clicks");
		count_rate(s, c->run_k, c->run_e, "tracked messages",
			   c->run_ms);
		median(s, e, t);
		g_string_append_printf(
			s, "; %u machine opens excluded in the last 7 days",
			w[SC_OPEN_MACHINE]);
		test_tail(s, e, a, t);
		break;
	case T_UNSUB:
		g_string_append(s, "unsubscribes");
		count_rate(s, c->run_k, c->run_e, "messages", c->run_ms);
		median(s, e, t);
		test_tail(s, e, a, t);
		break;
	default:
		break;
	}
	return g_string_free(s, FALSE);
}

static char *
score_sentence(const struct scoring_engine *e, const struct sc_account *a)
{
	const struct scoring_params *p = e->p;

	return g_strdup_printf(
		"score %.1f nats (hard evidence %.1f, engagement %.1f, volume "
		"%.1f, content %.1f, new account %.1f); levels: watch %.1f, "
		"throttle %.1f, block %.1f",
		a->score, a->hard, a->engage, a->volume, a->content, a->prior,
		p->watch, p->throttle, p->block);
}

static char *
volume_sentence(struct sc_account *a, int64_t now_ms)
{
	uint32_t n60, new60, peak;
	GString *s = g_string_new(NULL);

	sc_volume(a, now_ms, &n60, &new60, &peak);
	g_string_append_printf(s,
			       "volume %u messages in the last hour against "
			       "a 14-day peak of %u an hour (x%.0f), ",
			       n60, peak, n60 / fmax(peak, 1));
	pct(s, n60 ? (double)new60 / n60 : 0);
	g_string_append_printf(s, " to never-mailed recipients (+%.1f nats)",
			       a->volume);
	return g_string_free(s, FALSE);
}

static char *
content_sentence(struct scoring_engine *e, const struct sc_account *a,
		 int64_t now_ms)
{
	struct sc_fp *fp;
	GString *s;

	sc_fp_term(e, a, now_ms, &fp);
	if (!fp)
		return NULL;
	s = g_string_new(NULL);
	g_string_append_printf(
		s,
		"content fingerprint %.40s sent by %u accounts: pooled hard "
		"bounces %" G_GINT64_FORMAT " and policy rejections "
		"%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
		" messages, complaints %" G_GINT64_FORMAT " of %.0f to "
		"providers that report them; pooled test %.1f nats (+%.1f "
		"nats without this account's share)",
		fp->key, fp->accounts, fp->hard, fp->policy, fp->sent,
		fp->complaints, fp->x[X_FBL].n, fp->peak, a->content);
	return g_string_free(s, FALSE);
}

static char *
exit_sentence(const struct scoring_engine *e, const struct sc_account *a,
	      enum scoring_state from)
{
	const struct scoring_params *p = e->p;
	double level = from == SCORING_BLOCK	  ? p->block_exit
		       : from == SCORING_THROTTLE ? p->throttle_exit
						  : p->watch_exit;
	int64_t dwell = from == SCORING_BLOCK	   ? p->block_dwell_ms
			: from == SCORING_THROTTLE ? p->throttle_dwell_ms
						   : p->watch_dwell_ms;

	return g_strdup_printf("evidence stayed below the %s exit level "
			       "(%.1f nats) for %.0f h",
			       scoring_state_name(from), level,
			       (double)dwell / HOUR_MS);
}

void
sc_reasons(struct scoring_engine *e, struct sc_account *a, int64_t now_ms,
	   enum scoring_state from, enum scoring_state to, GPtrArray *out)
{
	uint32_t w[SC_N];
	char *s;

	sc_window(a, now_ms, 7 * 24, w);
	if (to < from && a->eff == a->state)
		g_ptr_array_add(out, exit_sentence(e, a, from));
	g_ptr_array_add(out, score_sentence(e, a));
	for (int t = 0; t < T_N; t++)
		if (a->t[t].s >= 1.0)
			g_ptr_array_add(out, test_sentence(e, a, t, w));
	if (a->volume > 0)
		g_ptr_array_add(out, volume_sentence(a, now_ms));
	if (a->content > 0.5 && (s = content_sentence(e, a, now_ms)))
		g_ptr_array_add(out, s);
	if (a->prior > 0) {
		GString *g = g_string_new("new account, first seen ");
		when(g, a->first_ms);
		g_string_append_printf(g, " (+%.1f nats)", a->prior);
		g_ptr_array_add(out, g_string_free(g, FALSE));
	}
}

/* ---- statistics JSON -------------------------------------------------- */

static void
json_counts(JsonBuilder *b, const char *name, const uint32_t *w)
{
	json_builder_set_member_name(b, name);
	json_builder_begin_object(b);
	for (int c = 0; c < SC_N; c++) {
		json_builder_set_member_name(b, scoring_counter_names[c]);
		json_builder_add_int_value(b, w[c]);
	}
	json_builder_end_object(b);
}

static void
json_num(JsonBuilder *b, const char *name, double v)
{
	json_builder_set_member_name(b, name);
	json_builder_add_double_value(b, round(v * 1e6) / 1e6);
}

static void
json_tests(JsonBuilder *b, const struct scoring_engine *e,
	   const struct sc_account *a)
{
	json_builder_set_member_name(b, "tests");
	json_builder_begin_object(b);
	for (int t = 0; t < T_N; t++) {
		const struct sc_cusum *c = &a->t[t];

		json_builder_set_member_name(b, test_names[t]);
		json_builder_begin_object(b);
		json_num(b, "nats", c->s);
		json_num(b, "h0", a->h0[t]);
		json_num(b, "h1", a->h1[t]);
		json_builder_set_member_name(b, "since_ms");
		json_builder_add_int_value(b, c->s > 0 ? c->run_ms : 0);
		json_num(b, "events", c->run_k);
		json_num(b, "exposure", c->run_e);
		json_num(b, "population_median", e->pop_median[t]);
		json_builder_end_object(b);
	}
	json_builder_end_object(b);
}

static void
json_components(JsonBuilder *b, const struct sc_account *a)
{
	json_num(b, "score", a->score);
	json_builder_set_member_name(b, "components");
	json_builder_begin_object(b);
	json_num(b, "hard", a->hard);
	json_num(b, "engagement", a->engage);
	json_num(b, "volume", a->volume);
	json_num(b, "content", a->content);
	json_num(b, "prior", a->prior);
	json_builder_end_object(b);
}

char *
sc_stats_json(struct scoring_engine *e, struct sc_account *a, int64_t now_ms)
{
	JsonBuilder *b = json_builder_new_immutable();
	uint32_t w[SC_N], n60, new60, peak;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "at_ms");
	json_builder_add_int_value(b, now_ms);
	json_builder_set_member_name(b, "state");
	json_builder_add_string_value(b, scoring_state_name(a->state));
	json_builder_set_member_name(b, "effective");
	json_builder_add_string_value(b, scoring_state_name(a->eff));
	json_builder_set_member_name(b, "state_since_ms");
	json_builder_add_int_value(b, a->state_ms);
	json_builder_set_member_name(b, "sent");
	json_builder_add_int_value(b, a->sent);
	json_components(b, a);
	json_tests(b, e, a);
	json_builder_set_member_name(b, "windows");
	json_builder_begin_object(b);
	sc_window(a, now_ms, 1, w);
	json_counts(b, "1h", w);
	sc_window(a, now_ms, 24, w);
	json_counts(b, "24h", w);
	sc_window(a, now_ms, 7 * 24, w);
	json_counts(b, "7d", w);
	json_builder_end_object(b);
	sc_volume(a, now_ms, &n60, &new60, &peak);
	json_builder_set_member_name(b, "volume");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "last_hour");
	json_builder_add_int_value(b, n60);
	json_builder_set_member_name(b, "new_recipients_last_hour");
	json_builder_add_int_value(b, new60);
	json_builder_set_member_name(b, "peak_hour_14d");
	json_builder_add_int_value(b, peak);
	json_builder_end_object(b);
	json_builder_end_object(b);
	return jsonval_builder_finish(b);
}
