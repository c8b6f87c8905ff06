/*
 * engine: see engine.h; the methods are those of docs/scoring.md.
 *
 * Every test is a CUSUM over log-likelihood-ratio increments: a bad event
 * (a bounce, a complaint, an unsubscribe; for the lower-tail engagement
 * test, a human open or click) adds a, and exposure adds b per unit. The
 * exposure of a set of deliveries is delay-corrected: a message counts
 * for G(age) of a unit, G being the delay distribution of that kind of
 * report, so a message whose complaint could not have arrived yet is not
 * taken as evidence that none will. With G a mixture of exponentials on a
 * fixed grid (delay.h), the exposure of everything an account ever sent is
 * n - sum_k w_k pend_k, with pend_k decayed by exp(-dt / tau_k): constant
 * time per event.
 */
#include "scoring/engine_int.h"

#include <math.h>
#include <string.h>

static const char *const state_names[] = { "ok", "watch", "throttle", "block" };
static const char *const source_names[] = { "scoring", "operator", "expiry" };

const char *const scoring_counter_names[] = {
	"sent",		 "fbl_sent",	 "tracked",	   "new_recipients",
	"new_domains",	 "unknown_user", "bad_domain",	   "hard_other",
	"policy",	 "soft",	 "complaints",	   "opens_human",
	"opens_machine", "clicks_human", "clicks_machine", "unsubscribes",
	"engaged",	 NULL,
};

G_STATIC_ASSERT(SC_N == SCORING_NCOUNTERS);

/* Which deliveries each test's exposure counts. */
const enum sc_set sc_test_set[T_N] = {
	[T_BOUNCE] = X_ALL,	[T_POLICY] = X_ALL, [T_COMPLAINT] = X_FBL,
	[T_ENGAGE] = X_TRACKED, [T_UNSUB] = X_ALL,
};

const char *
scoring_state_name(enum scoring_state s)
{
	return (unsigned)s < G_N_ELEMENTS(state_names) ? state_names[s]
						       : "unknown";
}

int
scoring_state_parse(const char *name, enum scoring_state *out)
{
	for (size_t i = 0; name && i < G_N_ELEMENTS(state_names); i++)
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum scoring_state)i;
			return 0;
		}
	return -1;
}

const char *
scoring_source_name(enum scoring_source s)
{
	return (unsigned)s < G_N_ELEMENTS(source_names) ? source_names[s]
							: "unknown";
}

unsigned
scoring_event_prior(struct scoring_event *ev, unsigned prior)
{
	unsigned bit = 0;

	switch (ev->type) {
	case SCORING_EV_BOUNCE:
		bit = SCORING_PRIOR_BOUNCE;
		break;
	case SCORING_EV_COMPLAINT:
		bit = SCORING_PRIOR_COMPLAINT;
		break;
	case SCORING_EV_OPEN:
		bit = ev->machine ? SCORING_PRIOR_OPEN_MACHINE
				  : SCORING_PRIOR_OPEN_HUMAN;
		break;
	case SCORING_EV_CLICK:
		bit = ev->machine ? SCORING_PRIOR_CLICK_MACHINE
				  : SCORING_PRIOR_CLICK_HUMAN;
		break;
	case SCORING_EV_UNSUBSCRIBE:
		bit = SCORING_PRIOR_UNSUB;
		break;
	default:
		break;
	}
	ev->repeat = (prior & bit) != 0;
	ev->engaged_before = (prior & (SCORING_PRIOR_OPEN_HUMAN |
				       SCORING_PRIOR_CLICK_HUMAN)) != 0;
	return bit;
}

enum scoring_bounce
scoring_bounce_classify(const char *reason, const char *klass)
{
	static const char *const policy[] = {
		"blocked",	 "spamdetected",  "policyviolation",
		"badreputation", "virusdetected", "contenterror",
		"rejected",	 "filtered",	  NULL,
	};
	static const char *const none[] = { "feedback", "vacation", "delivered",
					    NULL };

	if (!reason)
		reason = "";
	for (int i = 0; none[i]; i++)
		if (strcmp(reason, none[i]) == 0)
			return SCORING_BOUNCE_NONE;
	if (strcmp(reason, "userunknown") == 0)
		return SCORING_BOUNCE_UNKNOWN;
	if (strcmp(reason, "hostunknown") == 0)
		return SCORING_BOUNCE_DOMAIN;
	for (int i = 0; policy[i]; i++)
		if (strcmp(reason, policy[i]) == 0)
			return SCORING_BOUNCE_POLICY;
	if (klass && strcmp(klass, "hard") == 0)
		return SCORING_BOUNCE_HARD;
	if (klass && strcmp(klass, "none") == 0)
		return SCORING_BOUNCE_NONE;
	return SCORING_BOUNCE_SOFT;
}

/* ---- engine ------------------------------------------------------------ */

static void
sc_account_free(gpointer p)
{
	struct sc_account *a = p;

	g_free(a->ov_reason);
	g_free(a);
}

static void
sc_fp_free(struct sc_fp *fp)
{
	if (!fp)
		return;
	g_free(fp->key);
	g_free(fp);
}

struct scoring_engine *
scoring_engine_new(const struct scoring_params *p, scoring_emit_fn emit,
		   void *ud)
{
	struct scoring_engine *e = g_new0(struct scoring_engine, 1);

	e->p = p;
	e->emit = emit;
	e->ud = ud;
	e->accounts = g_hash_table_new(g_direct_hash, g_direct_equal);
	e->list = g_ptr_array_new_with_free_func(sc_account_free);
	e->fp_by_key = g_hash_table_new(g_str_hash, g_str_equal);
	e->fps = g_ptr_array_new();
	g_ptr_array_add(e->fps, NULL); /* id 0: no fingerprint */
	e->seen = scoring_rcptset_new((size_t)p->rcpt_filter_bytes);
	/* Far fewer (account, domain) pairs than recipients. */
	e->seen_dom = scoring_rcptset_new((size_t)p->rcpt_filter_bytes / 16);
	/* Until the population has been measured: typical legitimate
	 * rates (docs/scoring.md, benchmarks). */
	e->pop_rate[T_BOUNCE] = 0.01;
	e->pop_rate[T_POLICY] = 0.002;
	e->pop_rate[T_COMPLAINT] = 0.0002;
	e->pop_rate[T_ENGAGE] = 0.10;
	e->pop_rate[T_UNSUB] = 0.002;
	memcpy(e->pop_median, e->pop_rate, sizeof(e->pop_median));
	e->d_bounce = p->bounce_delay;
	e->d_complaint = p->complaint_delay;
	e->d_engage = p->engage_delay;
	e->d_unsub = p->unsub_delay;
	if (!p->delays_fitted) {
		scoring_delay_fit(&e->d_bounce);
		scoring_delay_fit(&e->d_complaint);
		scoring_delay_fit(&e->d_engage);
		scoring_delay_fit(&e->d_unsub);
	}
	e->delay[T_BOUNCE] = &e->d_bounce;
	e->delay[T_POLICY] = &e->d_bounce;
	e->delay[T_COMPLAINT] = &e->d_complaint;
	e->delay[T_ENGAGE] = &e->d_engage;
	e->delay[T_UNSUB] = &e->d_unsub;
	return e;
}

void
scoring_engine_free(struct scoring_engine *e)
{
	if (!e)
		return;
	for (guint i = 0; i < e->fps->len; i++)
		sc_fp_free(e->fps->pdata[i]);
	g_ptr_array_free(e->fps, TRUE);
	g_hash_table_destroy(e->fp_by_key);
	g_hash_table_destroy(e->accounts);
	g_ptr_array_free(e->list, TRUE);
	scoring_rcptset_free(e->seen);
	scoring_rcptset_free(e->seen_dom);
	g_free(e);
}

struct sc_account *
sc_account_get(struct scoring_engine *e, uint32_t id, int create)
{
	struct sc_account *a =
		g_hash_table_lookup(e->accounts, GUINT_TO_POINTER(id));

	if (a || !create)
		return a;
	a = g_new0(struct sc_account, 1);
	a->id = id;
	a->params_day = -1;
	a->peak_day = -1;
	a->base.day = -1;
	for (int i = 0; i < NHOURS; i++)
		a->hours[i].when = -1;
	for (int i = 0; i < NDAYS; i++)
		a->days[i].when = -1;
	for (int i = 0; i < NMIN5; i++)
		a->min5[i].when = -1;
	for (int i = 0; i < NPEAK; i++)
		a->peak[i].when = -1;
	g_hash_table_insert(e->accounts, GUINT_TO_POINTER(id), a);
	g_ptr_array_add(e->list, a);
	return a;
}

/* ---- exposures and tests ------------------------------------------------ */

double
sc_expo_value(const struct sc_expo *x, const struct scoring_delay *d)
{
	double v = x->n;

	for (int k = 0; k < SCORING_NTAU; k++)
		v -= d->w[k] * x->pend[k];
	return v > 0 ? v : 0;
}

/* exp(-x) for x >= 0: most decays between two events of one account
 * are either tiny (a burst) or complete (hours against seconds), and
 * neither needs libm. */
static inline double
sc_decay_factor(double x)
{
	if (x < 0.05) /* Taylor to x^4: error below 3e-9 */
		return 1 - x * (1 - x / 2 * (1 - x / 3 * (1 - x / 4)));
	if (x > 40)
		return 0;
	return exp(-x);
}

static void
sc_expo_decay(struct sc_expo *x, int nx, int64_t *t_ms, int64_t now_ms)
{
	double f[SCORING_NTAU];
	double dt;

	if (now_ms <= *t_ms)
		return;
	dt = (double)(now_ms - *t_ms);
	*t_ms = now_ms;
	for (int k = 0; k < SCORING_NTAU; k++)
		f[k] = sc_decay_factor(dt / scoring_tau_ms[k]);
	for (int i = 0; i < nx; i++)
		for (int k = 0; k < SCORING_NTAU; k++)
			x[i].pend[k] *= f[k];
}

static void
sc_expo_add(struct sc_expo *x)
{
	x->n += 1;
	for (int k = 0; k < SCORING_NTAU; k++)
		x->pend[k] += 1;
}

/* One CUSUM step: inc nats, k bad events, de exposure. The statistic is
 * capped: evidence beyond certainty buys nothing, and an account that
 * goes back to clean mail must be able to recover in a bounded number of
 * messages. */
static void
sc_cusum_step(struct sc_cusum *c, double inc, double k, double de,
	      int64_t now_ms, double cap)
{
	if (c->s <= 0 && inc > 0) {
		c->run_ms = now_ms;
		c->run_k = 0;
		c->run_e = 0;
	}
	c->s = fmin(c->s + inc, cap);
	c->run_k += k;
	c->run_e += de;
	if (c->s <= 0) {
		c->s = 0;
		c->run_k = 0;
		c->run_e = 0;
	}
}

/* Increments of a Bernoulli test on delay-corrected exposure: a per bad
 * event (it also undoes the "good" share the exposure charged), b per
 * matured delivery. */
static void
sc_bernoulli(double p0, double p1, double *a, double *b)
{
	*b = log((1 - p1) / (1 - p0));
	*a = log(p1 / p0) - *b;
}

/* Poisson form for rare events: a per event, b per unit exposure. */
static void
sc_poisson(double p0, double p1, double *a, double *b)
{
	*a = log(p1 / p0);
	*b = -(p1 - p0);
}

/* The current slot of a ring of 5-minute counters. */
static struct sc_min5 *
sc_min5_slot(struct sc_min5 *ring, int64_t now_ms)
{
	int64_t m5 = now_ms / MIN5_MS;
	struct sc_min5 *m = &ring[m5 % NMIN5];

	if (m->when != m5) {
		m->when = m5;
		m->sent = m->new_rcpt = m->policy = 0;
	}
	return m;
}

/* The policy test's H0 follows the rejections every other account saw
 * over the last hour (a blocklisting of a shared IP hits everyone). */
static double
sc_pool_rate(struct scoring_engine *e, const struct sc_account *a,
	     int64_t now_ms)
{
	int64_t m5 = now_ms / MIN5_MS;
	double sent, pol;

	if (now_ms - e->pool_ms >= 60000 || !e->pool_ms) {
		e->pool_ms = now_ms;
		e->pool_sent = e->pool_policy = 0;
		for (int i = 0; i < NMIN5; i++)
			if (e->pool[i].when > m5 - NMIN5 &&
			    e->pool[i].when <= m5) {
				e->pool_sent += e->pool[i].sent;
				e->pool_policy += e->pool[i].policy;
			}
	}
	sent = e->pool_sent;
	pol = e->pool_policy;
	for (int i = 0; a && i < NMIN5; i++)
		if (a->min5[i].when > m5 - NMIN5 && a->min5[i].when <= m5) {
			sent -= a->min5[i].sent;
			pol -= a->min5[i].policy;
		}
	return sent >= 1000 ? fmax(pol, 0) / sent : 0;
}

static void
sc_test_params(struct scoring_engine *e, struct sc_account *a, int64_t now_ms)
{
	const struct scoring_params *p = e->p;
	int64_t day = now_ms / DAY_MS;
	double own, w = p->prior_weight;

	if (now_ms - a->pool_ms >= 60000 || !a->pool_ms) {
		a->pool_ms = now_ms;
		a->h0[T_POLICY] =
			fmax(p->policy_p0, 2 * sc_pool_rate(e, a, now_ms));
		a->h1[T_POLICY] = fmin(
			a->h0[T_POLICY] + p->policy_p1 - p->policy_p0, 0.9);
		sc_bernoulli(a->h0[T_POLICY], a->h1[T_POLICY], &a->a[T_POLICY],
			     &a->b[T_POLICY]);
	}
	if (a->params_day == day)
		return;
	a->params_day = day;
	/* The account's own long-run rates, shrunk toward the population:
	 * an account with a long, consistent record is judged against it,
	 * a small or new one against everyone's. */
	own = (a->base.hard + e->pop_rate[T_BOUNCE] * w) / (a->base.sent + w);
	a->h0[T_BOUNCE] = fmin(fmax(2 * own, p->bounce_p0), p->bounce_p0_max);
	a->h1[T_BOUNCE] = a->h0[T_BOUNCE] * p->bounce_p1 / p->bounce_p0;
	sc_bernoulli(a->h0[T_BOUNCE], a->h1[T_BOUNCE], &a->a[T_BOUNCE],
		     &a->b[T_BOUNCE]);
	a->h0[T_COMPLAINT] = p->complaint_p0;
	a->h1[T_COMPLAINT] = p->complaint_p1;
	sc_poisson(p->complaint_p0, p->complaint_p1, &a->a[T_COMPLAINT],
		   &a->b[T_COMPLAINT]);
	own = (a->base.engaged + e->pop_rate[T_ENGAGE] * w) /
	      (a->base.tracked + w);
	a->h0[T_ENGAGE] = fmin(fmax(own / 2, p->engage_q0_min), p->engage_q0);
	a->h1[T_ENGAGE] = a->h0[T_ENGAGE] * p->engage_q1 / p->engage_q0;
	sc_poisson(a->h0[T_ENGAGE], a->h1[T_ENGAGE], &a->a[T_ENGAGE],
		   &a->b[T_ENGAGE]);
	a->h0[T_UNSUB] = p->unsub_p0;
	a->h1[T_UNSUB] = p->unsub_p1;
	sc_poisson(p->unsub_p0, p->unsub_p1, &a->a[T_UNSUB], &a->b[T_UNSUB]);
}

/* Brings the account's exposures to now and charges the tests with the
 * exposure that matured since the last call. */
static void
sc_charge(struct scoring_engine *e, struct sc_account *a, int64_t now_ms)
{
	/* Engagement evidence fades with time when no new tracked mail
	 * renews it (the hard tests keep theirs until good mail answers
	 * it). */
	if (now_ms > a->t_ms && a->t_ms) {
		double f = sc_decay_factor(M_LN2 * (double)(now_ms - a->t_ms) /
					   (double)e->p->engage_halflife_ms);
		a->t[T_ENGAGE].s *= f;
		a->t[T_UNSUB].s *= f;
	}
	sc_expo_decay(a->x, X_N, &a->t_ms, now_ms);
	for (int i = 0; i < T_N; i++) {
		double v = sc_expo_value(&a->x[sc_test_set[i]], e->delay[i]);
		double de = v - a->t[i].e_seen;

		if (de <= 0)
			continue;
		a->t[i].e_seen = v;
		sc_cusum_step(&a->t[i], a->b[i] * de, 0, de, now_ms,
			      e->p->stat_cap);
	}
}

/* ---- windows ------------------------------------------------------------ */

/* Folds a day that leaves the ring into the long-run baseline, unless the
 * account was throttled or blocked that day. */
static void
sc_base_fold(const struct scoring_params *p, struct sc_account *a,
	     const struct sc_bucket *d, int flagged)
{
	double f;

	if (d->when < 0)
		return;
	if (a->base.day >= 0 && d->when > a->base.day) {
		f = pow(0.5, (double)(d->when - a->base.day) /
				     p->baseline_halflife_days);
		a->base.sent *= f;
		a->base.hard *= f;
		a->base.fbl *= f;
		a->base.complaints *= f;
		a->base.tracked *= f;
		a->base.engaged *= f;
	}
	if (d->when > a->base.day)
		a->base.day = d->when;
	if (flagged)
		return;
	a->base.sent += d->c[SC_SENT];
	a->base.hard += d->c[SC_UNKNOWN] + d->c[SC_BAD_DOMAIN];
	a->base.fbl += d->c[SC_FBL];
	a->base.complaints += d->c[SC_COMPLAINT];
	a->base.tracked += d->c[SC_TRACKED];
	a->base.engaged += d->c[SC_ENGAGED];
}

/* Today's slot of the day ring; the day it held leaves for the
 * baseline. */
static struct sc_bucket *
sc_day(struct scoring_engine *e, struct sc_account *a, int64_t now_ms)
{
	int64_t day = now_ms / DAY_MS;
	int slot = (int)(day % NDAYS);
	struct sc_bucket *d = &a->days[slot];

	if (d->when != day) {
		sc_base_fold(e->p, a, d, (a->flagged_days >> slot) & 1);
		a->flagged_days &= ~(1u << slot);
		memset(d->c, 0, sizeof(d->c));
		d->when = day;
	}
	return d;
}

static void
sc_count(struct scoring_engine *e, struct sc_account *a, int64_t now_ms,
	 enum sc_counter c)
{
	int64_t hour = now_ms / HOUR_MS;
	struct sc_bucket *h = &a->hours[hour % NHOURS];
	struct sc_bucket *d = sc_day(e, a, now_ms);

	if (h->when != hour) {
		memset(h->c, 0, sizeof(h->c));
		h->when = hour;
	}
	h->c[c]++;
	d->c[c]++;
	a->hour_dirty |= 1u << (hour % NHOURS);
}

/* Sums of the counters over the last `hours` hours (at most 24, from the
 * hour ring) or, for more, over whole days of the day ring. */
void
sc_window(const struct sc_account *a, int64_t now_ms, int hours, uint32_t *out)
{
	memset(out, 0, SC_N * sizeof(*out));
	if (hours <= NHOURS) {
		int64_t hour = now_ms / HOUR_MS;

		for (int i = 0; i < NHOURS; i++) {
			const struct sc_bucket *b = &a->hours[i];
			if (b->when > hour - hours && b->when <= hour)
				for (int c = 0; c < SC_N; c++)
					out[c] += b->c[c];
		}
		return;
	}
	for (int i = 0; i < NDAYS; i++) {
		const struct sc_bucket *b = &a->days[i];
		int64_t day = now_ms / DAY_MS;

		if (b->when > day - hours / 24 && b->when <= day)
			for (int c = 0; c < SC_N; c++)
				out[c] += b->c[c];
	}
}

static void
sc_volume_add(struct scoring_engine *e, struct sc_account *a, int64_t now_ms,
	      int new_rcpt)
{
	int64_t day = now_ms / DAY_MS;
	struct sc_min5 *m;
	struct sc_peak *pk = &a->peak[day % NPEAK];
	const struct sc_bucket *h = &a->hours[(now_ms / HOUR_MS) % NHOURS];

	m = sc_min5_slot(a->min5, now_ms);
	m->sent++;
	m->new_rcpt += new_rcpt;
	if (pk->when != day) {
		pk->when = day;
		pk->max_hour = 0;
	}
	if (h->c[SC_SENT] > pk->max_hour)
		pk->max_hour = h->c[SC_SENT];
	sc_min5_slot(e->pool, now_ms)->sent++;
}

/* Messages and never-mailed recipients in the last hour, and the busiest
 * hour of the 14 days before yesterday. */
void
sc_volume(struct sc_account *a, int64_t now_ms, uint32_t *n60, uint32_t *new60,
	  uint32_t *peak)
{
	int64_t m5 = now_ms / MIN5_MS, day = now_ms / DAY_MS;

	*n60 = *new60 = *peak = 0;
	for (int i = 0; i < NMIN5; i++)
		if (a->min5[i].when > m5 - NMIN5 && a->min5[i].when <= m5) {
			*n60 += a->min5[i].sent;
			*new60 += a->min5[i].new_rcpt;
		}
	if (a->peak_day != day) {
		/* Days before yesterday only: computed once a day. */
		a->peak14 = 0;
		for (int i = 0; i < NPEAK; i++)
			if (a->peak[i].when >= day - 15 &&
			    a->peak[i].when <= day - 2 &&
			    a->peak[i].max_hour > a->peak14)
				a->peak14 = a->peak[i].max_hour;
		a->peak_day = day;
	}
	*peak = a->peak14;
}

static double
sc_volume_term(const struct scoring_params *p, struct sc_account *a,
	       int64_t now_ms)
{
	uint32_t n60, new60, peak;
	double ratio;

	/* Against its own history: an account needs some. On its first
	 * days any list looks new and any volume a jump. */
	if (now_ms - a->first_ms < 3 * DAY_MS)
		return 0;

	sc_volume(a, now_ms, &n60, &new60, &peak);
	if (n60 == 0 || new60 <= p->volume_new_share * n60)
		return 0;
	ratio = n60 / (peak + p->volume_floor);
	if (ratio <= 3)
		return 0;
	return fmin(log(ratio / 3), p->volume_cap);
}

/* ---- fingerprints -------------------------------------------------------- */

uint32_t
scoring_engine_fp(struct scoring_engine *e, const char *key)
{
	struct sc_fp *fp;

	if (!key || !*key)
		return 0;
	fp = g_hash_table_lookup(e->fp_by_key, key);
	if (fp)
		return fp->id;
	fp = g_new0(struct sc_fp, 1);
	fp->id = e->fps->len;
	fp->key = g_strdup(key);
	fp->first_ms = fp->last_ms = fp->t_ms = e->now_ms;
	g_ptr_array_add(e->fps, fp);
	g_hash_table_insert(e->fp_by_key, fp->key, fp);
	return fp->id;
}

static struct sc_fp *
sc_fp_get(struct scoring_engine *e, uint32_t id)
{
	return id && id < e->fps->len ? e->fps->pdata[id] : NULL;
}

/* A test's evidence counts once its excursion holds min_events bad
 * events and min_exposure deliveries whose reports are due: two
 * complaints on a small list, the two policy rejections a large
 * newsletter sees every few thousand messages, or five bounces among the
 * first seven messages of a campaign (when the delay model is least
 * exact) are not a finding whatever the likelihood ratio says. */
static double
sc_stat(const struct scoring_params *p, const struct sc_cusum *c)
{
	return c->run_k >= p->min_events && c->run_e >= p->min_exposure ? c->s
									: 0;
}

struct sc_eval {
	double hard, engage, volume, content, prior, score;
	enum scoring_state target;
};

/* The pooled tests of a fingerprint use the population's hypotheses (the
 * policy test's follows the pool; refreshed once a minute). */
static void
sc_fp_params(struct scoring_engine *e, int64_t now_ms)
{
	const struct scoring_params *p = e->p;
	double pool;

	if (e->fp_params_ms && now_ms - e->fp_params_ms < 60000)
		return;
	e->fp_params_ms = now_ms;
	pool = fmax(p->policy_p0, 2 * sc_pool_rate(e, NULL, now_ms));
	sc_bernoulli(p->bounce_p0, p->bounce_p1, &e->fp_a[T_BOUNCE],
		     &e->fp_b[T_BOUNCE]);
	sc_bernoulli(pool, pool + p->policy_p1 - p->policy_p0,
		     &e->fp_a[T_POLICY], &e->fp_b[T_POLICY]);
	sc_poisson(p->complaint_p0, p->complaint_p1, &e->fp_a[T_COMPLAINT],
		   &e->fp_b[T_COMPLAINT]);
}

static void sc_fp_hard(const struct scoring_params *p, struct sc_fp *fp,
		       int64_t now_ms);

static void
sc_fp_charge(struct scoring_engine *e, struct sc_fp *fp, int64_t now_ms)
{
	const struct scoring_params *p = e->p;

	sc_fp_params(e, now_ms);
	sc_expo_decay(fp->x, X_TRACKED, &fp->t_ms, now_ms);
	for (int i = T_BOUNCE; i <= T_COMPLAINT; i++) {
		double v = sc_expo_value(&fp->x[sc_test_set[i]], e->delay[i]);
		double de = v - fp->t[i].e_seen;

		if (de <= 0)
			continue;
		fp->t[i].e_seen = v;
		sc_cusum_step(&fp->t[i], e->fp_b[i] * de, 0, de, now_ms,
			      p->stat_cap);
	}
	sc_fp_hard(p, fp, now_ms);
}

/* The pooled hard evidence, and its peak over the window. */
static void
sc_fp_hard(const struct scoring_params *p, struct sc_fp *fp, int64_t now_ms)
{
	double sb = sc_stat(p, &fp->t[T_BOUNCE]);
	double sp = sc_stat(p, &fp->t[T_POLICY]);
	double sc = sc_stat(p, &fp->t[T_COMPLAINT]);
	double hard =
		fmax(fmax(fmax(sb, sp), sc), sb + sp + sc - p->multi_penalty);

	fp->s_hard = hard;
	/* The peak of the last window keeps a fingerprint tainted while
	 * its senders are held back and send nothing. */
	if (hard >= fp->peak || now_ms - fp->peak_ms > p->fp_window_ms) {
		fp->peak = hard;
		fp->peak_ms = now_ms;
	}
	fp->dirty = 1;
}

static void
sc_fp_bad(struct scoring_engine *e, uint32_t id, enum sc_test t, int64_t now_ms)
{
	struct sc_fp *fp = sc_fp_get(e, id);

	if (!fp)
		return;
	sc_fp_charge(e, fp, now_ms);
	sc_cusum_step(&fp->t[t], e->fp_a[t], 1, 0, now_ms, e->p->stat_cap);
	if (t == T_BOUNCE)
		fp->hard++;
	else if (t == T_POLICY)
		fp->policy++;
	else
		fp->complaints++;
	sc_fp_hard(e->p, fp, now_ms);
}

static void
sc_fp_sent(struct scoring_engine *e, struct sc_account *a, uint32_t id,
	   int64_t now_ms, int fbl)
{
	struct sc_fp *fp = sc_fp_get(e, id);
	struct sc_fpref *ref = NULL, *old = &a->fps[0];

	if (!fp)
		return;
	for (int i = 0; i < NFPREF; i++) {
		if (a->fps[i].fp == id) {
			ref = &a->fps[i];
			break;
		}
		if (a->fps[i].last_ms < old->last_ms)
			old = &a->fps[i];
	}
	if (!ref) {
		ref = old;
		ref->fp = id;
		ref->n = 0;
		fp->accounts++;
	}
	ref->n++;
	ref->last_ms = now_ms;
	/* A send adds no matured exposure: bringing the accumulators to
	 * now is enough (the tests are charged at the next report). */
	sc_expo_decay(fp->x, X_TRACKED, &fp->t_ms, now_ms);
	fp->dirty = 1;
	fp->last_ms = MAX(fp->last_ms, now_ms);
	fp->last_account = a->id;
	fp->sent++;
	/* The pooled tests use all deliveries and those to reporting
	 * providers (X_ALL, X_FBL: the sets before X_TRACKED). */
	sc_expo_add(&fp->x[X_ALL]);
	if (fbl)
		sc_expo_add(&fp->x[X_FBL]);
}

/* Content evidence for an account: the pooled evidence of the worst
 * tainted fingerprint it sent in the window, without the account's own
 * share (its own tests count that). Below the taint level pooled evidence
 * is left out: the busiest shared templates (shop notifications sent by
 * hundreds of accounts) would otherwise bring every sender the noise of
 * all the others. */
double
sc_fp_term(struct scoring_engine *e, const struct sc_account *a, int64_t now_ms,
	   struct sc_fp **worst)
{
	double best = 0;

	if (worst)
		*worst = NULL;
	for (int i = 0; i < NFPREF; i++) {
		const struct sc_fpref *r = &a->fps[i];
		struct sc_fp *fp;
		double v;

		if (!r->fp || now_ms - r->last_ms > e->p->fp_window_ms)
			continue;
		fp = sc_fp_get(e, r->fp);
		if (!fp || fp->accounts < 2 || fp->sent <= 0 ||
		    fp->peak < e->p->taint)
			continue;
		v = fp->peak * (1 - fmin(1, (double)r->n / (double)fp->sent));
		if (v > best) {
			best = v;
			if (worst)
				*worst = fp;
		}
	}
	return best;
}

static void
sc_fp_tick(struct scoring_engine *e, int64_t now_ms)
{
	const int64_t keep = 30 * DAY_MS, keep_bad = 180 * DAY_MS;

	for (guint i = 1; i < e->fps->len; i++) {
		struct sc_fp *fp = e->fps->pdata[i];

		if (!fp)
			continue;
		if (!fp->last_ms) /* interned before any event */
			fp->last_ms = fp->first_ms = fp->t_ms = now_ms;
		if (now_ms - fp->last_ms >
		    (fp->peak >= e->p->taint ? keep_bad : keep)) {
			g_hash_table_remove(e->fp_by_key, fp->key);
			sc_fp_free(fp);
			e->fps->pdata[i] = NULL;
			continue;
		}
		if (now_ms - fp->last_ms < 10 * DAY_MS)
			sc_fp_charge(e, fp, now_ms);
	}
}

/* ---- states ------------------------------------------------------------- */

static void
sc_components(struct scoring_engine *e, struct sc_account *a, int64_t now_ms,
	      struct sc_eval *ev)
{
	const struct scoring_params *p = e->p;
	double sb = sc_stat(p, &a->t[T_BOUNCE]);
	double sp = sc_stat(p, &a->t[T_POLICY]);
	double sc = sc_stat(p, &a->t[T_COMPLAINT]);
	double su = sc_stat(p, &a->t[T_UNSUB]);
	double se = a->t[T_ENGAGE].s;
	int strong;

	ev->hard =
		fmax(fmax(sb, sp), fmax(sc, sb + sp + sc - p->multi_penalty));
	/* Engagement is capped: transactional mail is rarely opened, and
	 * alone it is no reason to hold mail back. Once hard evidence of
	 * its own confirms that the mail is unwanted, it weighs more. */
	ev->engage = fmin(p->engage_weight * fmax(se, su),
			  ev->hard >= p->hard_gate ? p->engage_cap_confirmed
						   : p->engage_cap);
	ev->volume = sc_volume_term(p, a, now_ms);
	ev->content = sc_fp_term(e, a, now_ms, NULL);
	ev->prior = a->first_ms && now_ms - a->first_ms < p->new_account_ms
			    ? p->new_account_prior
			    : 0;
	ev->score =
		ev->hard + ev->engage + ev->volume + ev->content + ev->prior;
	/* Block wants two independent signals; engagement counts as one
	 * only when it is strong. */
	strong = (sb >= p->second) + (sp >= p->second) + (sc >= p->second) +
		 (ev->content >= p->second) + (se >= 1.5 * p->second);
	if (ev->score >= p->block && ev->hard >= p->block_hard && strong >= 2)
		ev->target = SCORING_BLOCK;
	else if ((ev->score >= p->throttle &&
		  fmax(ev->hard, ev->content) >= p->hard_gate) ||
		 ev->content >= p->taint)
		ev->target = SCORING_THROTTLE;
	else if (ev->score >= p->watch || se >= p->engage_watch ||
		 su >= p->engage_watch)
		ev->target = SCORING_WATCH;
	else
		ev->target = SCORING_OK;
}

/* Whether the evidence still holds the account in state s. */
static int
sc_holds(const struct scoring_params *p, const struct sc_account *a,
	 const struct sc_eval *ev, enum scoring_state s)
{
	switch (s) {
	case SCORING_BLOCK:
		return ev->score >= p->block_exit;
	case SCORING_THROTTLE:
		return ev->score >= p->throttle_exit || ev->content >= p->taint;
	case SCORING_WATCH:
		return ev->score >= p->watch_exit ||
		       a->t[T_ENGAGE].s >= p->engage_watch / 2 ||
		       a->t[T_UNSUB].s >= p->engage_watch / 2;
	default:
		return 1;
	}
}

static int64_t
sc_dwell(const struct scoring_params *p, enum scoring_state s)
{
	return s == SCORING_BLOCK      ? p->block_dwell_ms
	       : s == SCORING_THROTTLE ? p->throttle_dwell_ms
				       : p->watch_dwell_ms;
}

/* Up at once; down one step at a time, after the evidence has stayed
 * below the state's exit level for its dwell time. */
static enum scoring_state
sc_next_state(const struct scoring_params *p, struct sc_account *a,
	      const struct sc_eval *ev, int64_t now_ms)
{
	enum scoring_state s = a->state;
	int64_t dwell;

	if (ev->target > s) {
		a->below_ms = 0;
		return ev->target;
	}
	if (ev->target == s || sc_holds(p, a, ev, s)) {
		a->below_ms = 0;
		return s;
	}
	if (!a->below_ms)
		a->below_ms = now_ms;
	dwell = sc_dwell(p, s);
	if (now_ms - a->below_ms < dwell || now_ms - a->state_ms < dwell)
		return s;
	a->below_ms = 0;
	return (enum scoring_state)MAX((int)ev->target, (int)s - 1);
}

static void
sc_emit(struct scoring_engine *e, struct sc_account *a, int64_t now_ms,
	enum scoring_source src, enum scoring_state scored_from,
	enum scoring_state from)
{
	GPtrArray *reasons = g_ptr_array_new_with_free_func(g_free);
	struct scoring_change c = {
		.account = a->id,
		.ts_ms = now_ms,
		.source = src,
		.scored_from = scored_from,
		.scored_to = a->state,
		.from = from,
		.to = a->eff,
		.sent = a->sent,
	};

	if (src == SCORING_SRC_OPERATOR) {
		g_ptr_array_add(reasons,
				g_strdup(a->ov_reason && *a->ov_reason
						 ? a->ov_reason
						 : "operator override"));
	} else {
		if (src == SCORING_SRC_EXPIRY)
			g_ptr_array_add(
				reasons,
				g_strdup_printf(
					"operator override to %s (%s) expired; "
					"the scored state %s applies",
					scoring_state_name(a->ov_state),
					a->ov_reason && *a->ov_reason
						? a->ov_reason
						: "no reason given",
					scoring_state_name(a->state)));
		sc_reasons(e, a, now_ms,
			   src == SCORING_SRC_EXPIRY ? from : scored_from,
			   src == SCORING_SRC_EXPIRY ? a->eff : a->state,
			   reasons);
	}
	c.reasons = (const char *const *)reasons->pdata;
	c.n_reasons = reasons->len;
	if (e->emit)
		e->emit(e->ud, &c);
	g_ptr_array_free(reasons, TRUE);
}

static void
sc_evaluate(struct scoring_engine *e, struct sc_account *a, int64_t now_ms)
{
	const struct scoring_params *p = e->p;
	enum scoring_state scored_from = a->state, from = a->eff;
	enum scoring_source src = SCORING_SRC_SCORING;
	struct sc_eval ev;
	enum scoring_state next;

	sc_components(e, a, now_ms, &ev);
	a->score = ev.score;
	a->hard = ev.hard;
	a->engage = ev.engage;
	a->volume = ev.volume;
	a->content = ev.content;
	a->prior = ev.prior;
	a->last_eval_ms = now_ms;
	a->dirty = 1;
	next = sc_next_state(p, a, &ev, now_ms);
	if (next != a->state) {
		a->state = next;
		a->state_ms = now_ms;
	}
	if (a->state >= SCORING_THROTTLE) {
		sc_day(e, a, now_ms);
		a->flagged_days |= 1u << ((now_ms / DAY_MS) % NDAYS);
	}
	if (a->ov_set && a->ov_until_ms && now_ms >= a->ov_until_ms) {
		a->ov_set = 0;
		src = SCORING_SRC_EXPIRY;
	}
	a->eff = a->ov_set ? a->ov_state : a->state;
	if (a->eff == from && src == SCORING_SRC_EXPIRY)
		src = SCORING_SRC_SCORING;
	if (a->state != scored_from || a->eff != from)
		sc_emit(e, a, now_ms, src, scored_from, from);
}

/* ---- events ------------------------------------------------------------- */

static inline char
sc_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* The lowercase domain of an address into buf; "" when there is none. */
static const char *
sc_domain(const char *rcpt, char *buf, size_t len)
{
	const char *at = rcpt ? strrchr(rcpt, '@') : NULL;
	size_t i = 0;

	if (at)
		for (at++; *at && i + 1 < len; at++)
			buf[i++] = sc_lower(*at);
	buf[i] = '\0';
	return buf;
}

static uint64_t
sc_pair_key(uint32_t account, const char *s, size_t len)
{
	uint64_t seed = scoring_hash64(&account, sizeof(account), 0);

	return scoring_hash64(s, len, seed);
}

/* Marks a recipient and its domain as mailed by the account: whether
 * each was new, and whether the domain's provider reports complaints.
 * Local parts are compared without case, as providers do. */
static void
sc_mark_rcpt(struct scoring_engine *e, uint32_t account, const char *rcpt,
	     int *new_rcpt, int *new_dom, int *fbl)
{
	char dom[256 + 2], lower[320];
	size_t n = strlen(rcpt);

	dom[0] = '@';
	sc_domain(rcpt, dom + 1, sizeof(dom) - 1);
	*fbl = scoring_params_fbl(e->p, dom + 1);
	if (n < sizeof(lower)) {
		for (size_t i = 0; i < n; i++)
			lower[i] = sc_lower(rcpt[i]);
		rcpt = lower;
	}
	*new_rcpt = n && !scoring_rcptset_add(e->seen,
					      sc_pair_key(account, rcpt, n));
	*new_dom = dom[1] &&
		   !scoring_rcptset_add(e->seen_dom,
					sc_pair_key(account, dom, strlen(dom)));
}

static void
sc_sent(struct scoring_engine *e, struct sc_account *a,
	struct scoring_event *ev, int64_t now_ms)
{
	int tracked = ev->tracked;
	int new_rcpt, new_dom;

	if (tracked < 0)
		tracked = e->p->tracking == SCORING_TRACKING_ALL ||
			  (e->p->tracking == SCORING_TRACKING_AUTO &&
			   a->open_ms && now_ms - a->open_ms < 14 * DAY_MS);
	sc_mark_rcpt(e, a->id, ev->recipient ? ev->recipient : "", &new_rcpt,
		     &new_dom, &ev->fbl);
	a->sent++;
	sc_count(e, a, now_ms, SC_SENT);
	if (ev->fbl)
		sc_count(e, a, now_ms, SC_FBL);
	if (tracked)
		sc_count(e, a, now_ms, SC_TRACKED);
	if (new_rcpt)
		sc_count(e, a, now_ms, SC_NEW_RCPT);
	if (new_dom)
		sc_count(e, a, now_ms, SC_NEW_DOMAIN);
	sc_expo_add(&a->x[X_ALL]);
	if (ev->fbl)
		sc_expo_add(&a->x[X_FBL]);
	if (tracked)
		sc_expo_add(&a->x[X_TRACKED]);
	sc_volume_add(e, a, now_ms, new_rcpt);
	sc_fp_sent(e, a, ev->fp, now_ms, ev->fbl);
}

static void
sc_bad(struct scoring_engine *e, struct sc_account *a, enum sc_test t,
       int64_t now_ms)
{
	sc_cusum_step(&a->t[t], a->a[t], 1, 0, now_ms, e->p->stat_cap);
}

static void
sc_bounce(struct scoring_engine *e, struct sc_account *a,
	  const struct scoring_event *ev, int64_t now_ms)
{
	static const enum sc_counter counter[] = {
		[SCORING_BOUNCE_UNKNOWN] = SC_UNKNOWN,
		[SCORING_BOUNCE_DOMAIN] = SC_BAD_DOMAIN,
		[SCORING_BOUNCE_HARD] = SC_HARD_OTHER,
		[SCORING_BOUNCE_POLICY] = SC_POLICY,
		[SCORING_BOUNCE_SOFT] = SC_SOFT,
	};

	if (ev->bounce == SCORING_BOUNCE_NONE ||
	    (unsigned)ev->bounce >= G_N_ELEMENTS(counter))
		return;
	sc_count(e, a, now_ms, counter[ev->bounce]);
	switch (ev->bounce) {
	case SCORING_BOUNCE_UNKNOWN:
	case SCORING_BOUNCE_DOMAIN:
	case SCORING_BOUNCE_HARD:
		sc_bad(e, a, T_BOUNCE, now_ms);
		sc_fp_bad(e, ev->fp, T_BOUNCE, now_ms);
		break;
	case SCORING_BOUNCE_POLICY:
		sc_min5_slot(e->pool, now_ms)->policy++;
		sc_min5_slot(a->min5, now_ms)->policy++;
		sc_bad(e, a, T_POLICY, now_ms);
		sc_fp_bad(e, ev->fp, T_POLICY, now_ms);
		break;
	default:
		break;
	}
}

static void
sc_engagement(struct scoring_engine *e, struct sc_account *a,
	      const struct scoring_event *ev, int64_t now_ms)
{
	int click = ev->type == SCORING_EV_CLICK;

	a->open_ms = now_ms;
	if (ev->machine) {
		sc_count(e, a, now_ms,
			 click ? SC_CLICK_MACHINE : SC_OPEN_MACHINE);
		return;
	}
	sc_count(e, a, now_ms, click ? SC_CLICK_HUMAN : SC_OPEN_HUMAN);
	if (ev->engaged_before)
		return;
	sc_count(e, a, now_ms, SC_ENGAGED);
	sc_bad(e, a, T_ENGAGE, now_ms);
}

void
scoring_engine_feed(struct scoring_engine *e, struct scoring_event *ev)
{
	struct sc_account *a = sc_account_get(e, ev->account, 1);
	int64_t now_ms = MAX(ev->ts_ms, a->t_ms);

	ev->fbl = 0;
	if (now_ms > e->now_ms)
		e->now_ms = now_ms;
	if (!a->first_ms)
		a->first_ms = now_ms;
	a->last_event_ms = now_ms;
	sc_test_params(e, a, now_ms);
	sc_charge(e, a, now_ms);
	if (ev->repeat && ev->type != SCORING_EV_SENT)
		return;
	switch (ev->type) {
	case SCORING_EV_SENT:
		sc_sent(e, a, ev, now_ms);
		break;
	case SCORING_EV_BOUNCE:
		sc_bounce(e, a, ev, now_ms);
		break;
	case SCORING_EV_COMPLAINT:
		sc_count(e, a, now_ms, SC_COMPLAINT);
		sc_bad(e, a, T_COMPLAINT, now_ms);
		sc_fp_bad(e, ev->fp, T_COMPLAINT, now_ms);
		break;
	case SCORING_EV_OPEN:
	case SCORING_EV_CLICK:
		sc_engagement(e, a, ev, now_ms);
		break;
	case SCORING_EV_UNSUBSCRIBE:
		sc_count(e, a, now_ms, SC_UNSUB);
		sc_bad(e, a, T_UNSUB, now_ms);
		break;
	}
	sc_evaluate(e, a, now_ms);
}

void
scoring_engine_remember(struct scoring_engine *e, uint32_t account,
			const char *recipient)
{
	int new_rcpt, new_dom, fbl;

	sc_mark_rcpt(e, account, recipient, &new_rcpt, &new_dom, &fbl);
}

/* ---- periodic work -------------------------------------------------------- */

static int
sc_cmp_double(gconstpointer x, gconstpointer y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
sc_median(GArray *v)
{
	if (v->len == 0)
		return -1;
	g_array_sort(v, sc_cmp_double);
	return g_array_index(v, double, v->len / 2);
}

/* Pooled rates and medians of the accounts' 7-day rates, per test. */
static void
sc_population(struct scoring_engine *e, int64_t now_ms)
{
	static const enum sc_counter num[T_N] = {
		[T_BOUNCE] = SC_UNKNOWN,      [T_POLICY] = SC_POLICY,
		[T_COMPLAINT] = SC_COMPLAINT, [T_ENGAGE] = SC_ENGAGED,
		[T_UNSUB] = SC_UNSUB,
	};
	static const enum sc_counter den[T_N] = {
		[T_BOUNCE] = SC_SENT,	[T_POLICY] = SC_SENT,
		[T_COMPLAINT] = SC_FBL, [T_ENGAGE] = SC_TRACKED,
		[T_UNSUB] = SC_SENT,
	};
	double sum_n[T_N] = { 0 }, sum_d[T_N] = { 0 };
	GArray *rates[T_N];

	e->pop_ms = now_ms;
	for (int t = 0; t < T_N; t++)
		rates[t] = g_array_new(FALSE, FALSE, sizeof(double));
	for (guint i = 0; i < e->list->len; i++) {
		struct sc_account *a = e->list->pdata[i];
		uint32_t w[SC_N];

		sc_window(a, now_ms, 7 * 24, w);
		for (int t = 0; t < T_N; t++) {
			double k = w[num[t]], n = w[den[t]];

			if (t == T_BOUNCE)
				k += w[SC_BAD_DOMAIN] + w[SC_HARD_OTHER];
			if (a->state >= SCORING_THROTTLE)
				continue;
			sum_n[t] += k;
			sum_d[t] += n;
			if (n >= 200) {
				double r = k / n;
				g_array_append_val(rates[t], r);
			}
		}
	}
	for (int t = 0; t < T_N; t++) {
		if (sum_d[t] >= 10000)
			e->pop_rate[t] = sum_n[t] / sum_d[t];
		if (rates[t]->len >= 20)
			e->pop_median[t] = sc_median(rates[t]);
		g_array_free(rates[t], TRUE);
	}
}

static int
sc_active(const struct sc_account *a, int64_t now_ms)
{
	if (a->state != SCORING_OK || a->eff != SCORING_OK || a->ov_set)
		return 1;
	if (now_ms - a->last_event_ms < 10 * DAY_MS)
		return 1;
	for (int t = 0; t < T_N; t++)
		if (a->t[t].s > 0)
			return 1;
	return 0;
}

void
scoring_engine_tick(struct scoring_engine *e, int64_t now_ms)
{
	const struct scoring_params *p = e->p;

	if (now_ms > e->now_ms)
		e->now_ms = now_ms;
	now_ms = e->now_ms;
	if (!e->seen_rotated_ms)
		e->seen_rotated_ms = now_ms;
	else if (now_ms - e->seen_rotated_ms >= 30 * DAY_MS) {
		scoring_rcptset_rotate(e->seen);
		scoring_rcptset_rotate(e->seen_dom);
		e->seen_rotated_ms = now_ms;
	}
	if (now_ms - e->pop_ms >= HOUR_MS)
		sc_population(e, now_ms);
	if (now_ms - e->fp_tick_ms >= p->eval_interval_ms) {
		e->fp_tick_ms = now_ms;
		sc_fp_tick(e, now_ms);
	}
	for (guint i = 0; i < e->list->len; i++) {
		struct sc_account *a = e->list->pdata[i];
		int64_t t = MAX(now_ms, a->t_ms);

		if (t - a->last_eval_ms < p->eval_interval_ms &&
		    !(a->ov_set && a->ov_until_ms && t >= a->ov_until_ms))
			continue;
		if (!sc_active(a, t))
			continue;
		sc_test_params(e, a, t);
		sc_charge(e, a, t);
		sc_evaluate(e, a, t);
	}
}

/* ---- operators ------------------------------------------------------------ */

void
scoring_engine_override(struct scoring_engine *e, uint32_t account,
			int64_t now_ms, int state, int64_t until_ms,
			const char *reason, int quiet)
{
	struct sc_account *a = sc_account_get(e, account, 1);
	enum scoring_state from = a->eff;

	now_ms = MAX(now_ms, a->t_ms);
	if (!a->first_ms)
		a->first_ms = now_ms;
	g_free(a->ov_reason);
	a->ov_reason = g_strdup(reason);
	/* A quiet pin that already expired (the daemon was down when it
	 * did) is kept for the next evaluation to record its expiry. */
	a->ov_set = state >= SCORING_OK && state <= SCORING_BLOCK &&
		    (until_ms == 0 || until_ms > now_ms || quiet);
	a->ov_state = a->ov_set ? (enum scoring_state)state : SCORING_OK;
	a->ov_until_ms = a->ov_set ? until_ms : 0;
	a->eff = a->ov_set ? a->ov_state : a->state;
	a->dirty = 1;
	if (!quiet && a->eff != from)
		sc_emit(e, a, now_ms, SCORING_SRC_OPERATOR, a->state, from);
}

int
scoring_engine_state(struct scoring_engine *e, uint32_t account,
		     enum scoring_state *scored, enum scoring_state *effective)
{
	struct sc_account *a = sc_account_get(e, account, 0);

	if (!a)
		return -1;
	if (scored)
		*scored = a->state;
	if (effective)
		*effective = a->eff;
	return 0;
}

char *
scoring_engine_stats_json(struct scoring_engine *e, uint32_t account,
			  int64_t now_ms)
{
	struct sc_account *a = sc_account_get(e, account, 0);

	return a ? sc_stats_json(e, a, MAX(now_ms, a->t_ms)) : NULL;
}
