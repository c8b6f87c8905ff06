/*
 * persist: the engine's state as GVariant dictionaries (a{sv}), for the
 * daemon's store. A dictionary keeps loading tolerant of versions: a key
 * that is missing takes its default, an array of the wrong length refuses
 * the entry (the caller starts it afresh and logs it). Fingerprints are
 * referred to by their key, never by the process-local id.
 */
#include "scoring/engine_int.h"

#include <string.h>

#define PERSIST_VERSION 1

static void
put_x(GVariantBuilder *b, const char *k, int64_t v)
{
	g_variant_builder_add(b, "{sv}", k, g_variant_new_int64(v));
}

static void
put_d(GVariantBuilder *b, const char *k, double v)
{
	g_variant_builder_add(b, "{sv}", k, g_variant_new_double(v));
}

static void
put_ad(GVariantBuilder *b, const char *k, const double *v, size_t n)
{
	g_variant_builder_add(b, "{sv}", k,
			      g_variant_new_fixed_array(G_VARIANT_TYPE_DOUBLE,
							v, n, sizeof(double)));
}

static int
get_x(GVariantDict *d, const char *k, int64_t *v)
{
	gint64 x;

	if (g_variant_dict_lookup(d, k, "x", &x))
		*v = x;
	return 0;
}

static int
get_d(GVariantDict *d, const char *k, double *v)
{
	gdouble x;

	if (g_variant_dict_lookup(d, k, "d", &x))
		*v = x;
	return 0;
}

/* An array of exactly n doubles, or nothing; -1 on another length. */
static int
get_ad(GVariantDict *d, const char *k, double *v, size_t n)
{
	GVariant *a = g_variant_dict_lookup_value(d, k, G_VARIANT_TYPE("ad"));
	gsize len = 0;
	const double *p;
	int r = 0;

	if (!a)
		return 0;
	p = g_variant_get_fixed_array(a, &len, sizeof(double));
	if (len == n)
		memcpy(v, p, n * sizeof(double));
	else
		r = -1;
	g_variant_unref(a);
	return r;
}

/* Exposures and tests flattened: X_N x (1 + NTAU), T_N x 5. */
static void
put_expo_tests(GVariantBuilder *b, const struct sc_expo *x, int nx,
	       const struct sc_cusum *t, int nt)
{
	double xv[X_N * (1 + SCORING_NTAU)], tv[T_N * 5];

	for (int i = 0; i < nx; i++) {
		xv[i * (1 + SCORING_NTAU)] = x[i].n;
		memcpy(&xv[i * (1 + SCORING_NTAU) + 1], x[i].pend,
		       sizeof(x[i].pend));
	}
	for (int i = 0; i < nt; i++) {
		tv[i * 5] = t[i].s;
		tv[i * 5 + 1] = t[i].e_seen;
		tv[i * 5 + 2] = t[i].run_k;
		tv[i * 5 + 3] = t[i].run_e;
		tv[i * 5 + 4] = (double)t[i].run_ms;
	}
	put_ad(b, "x", xv, (size_t)nx * (1 + SCORING_NTAU));
	put_ad(b, "t", tv, (size_t)nt * 5);
}

static int
get_expo_tests(GVariantDict *d, struct sc_expo *x, int nx, struct sc_cusum *t,
	       int nt)
{
	double xv[X_N * (1 + SCORING_NTAU)] = { 0 }, tv[T_N * 5] = { 0 };

	if (get_ad(d, "x", xv, (size_t)nx * (1 + SCORING_NTAU)) < 0 ||
	    get_ad(d, "t", tv, (size_t)nt * 5) < 0)
		return -1;
	for (int i = 0; i < nx; i++) {
		x[i].n = xv[i * (1 + SCORING_NTAU)];
		memcpy(x[i].pend, &xv[i * (1 + SCORING_NTAU) + 1],
		       sizeof(x[i].pend));
	}
	for (int i = 0; i < nt; i++) {
		t[i].s = tv[i * 5];
		t[i].e_seen = tv[i * 5 + 1];
		t[i].run_k = tv[i * 5 + 2];
		t[i].run_e = tv[i * 5 + 3];
		t[i].run_ms = (int64_t)tv[i * 5 + 4];
	}
	return 0;
}

/* A ring of buckets: a(xau) of (period, counters). */
static GVariant *
ring_new(const struct sc_bucket *v, int n)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a(xau)"));
	for (int i = 0; i < n; i++)
		g_variant_builder_add(
			&b, "(x@au)", v[i].when,
			g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, v[i].c,
						  SC_N, sizeof(uint32_t)));
	return g_variant_builder_end(&b);
}

static int
ring_get(GVariantDict *d, const char *k, struct sc_bucket *v, int n)
{
	GVariant *a =
		g_variant_dict_lookup_value(d, k, G_VARIANT_TYPE("a(xau)"));
	int r = 0;

	if (!a)
		return 0;
	if ((int)g_variant_n_children(a) != n) {
		g_variant_unref(a);
		return -1;
	}
	for (int i = 0; i < n && r == 0; i++) {
		GVariant *c, *e = g_variant_get_child_value(a, (gsize)i);
		const uint32_t *p;
		gsize len;
		gint64 when;

		g_variant_get(e, "(x@au)", &when, &c);
		p = g_variant_get_fixed_array(c, &len, sizeof(uint32_t));
		if (len == SC_N) {
			v[i].when = when;
			memcpy(v[i].c, p, sizeof(v[i].c));
		} else {
			r = -1;
		}
		g_variant_unref(c);
		g_variant_unref(e);
	}
	g_variant_unref(a);
	return r;
}

static void
put_small_rings(GVariantBuilder *b, const struct sc_account *a)
{
	GVariantBuilder m, p;

	g_variant_builder_init(&m, G_VARIANT_TYPE("a(xuuu)"));
	for (int i = 0; i < NMIN5; i++)
		g_variant_builder_add(&m, "(xuuu)", a->min5[i].when,
				      a->min5[i].sent, a->min5[i].new_rcpt,
				      a->min5[i].policy);
	g_variant_builder_add(b, "{sv}", "min5", g_variant_builder_end(&m));
	g_variant_builder_init(&p, G_VARIANT_TYPE("a(xu)"));
	for (int i = 0; i < NPEAK; i++)
		g_variant_builder_add(&p, "(xu)", a->peak[i].when,
				      a->peak[i].max_hour);
	g_variant_builder_add(b, "{sv}", "peak", g_variant_builder_end(&p));
}

static int
get_small_rings(GVariantDict *d, struct sc_account *a)
{
	GVariant *m = g_variant_dict_lookup_value(d, "min5",
						  G_VARIANT_TYPE("a(xuuu)"));
	GVariant *p =
		g_variant_dict_lookup_value(d, "peak", G_VARIANT_TYPE("a(xu)"));
	int r = 0;

	if (m && g_variant_n_children(m) == NMIN5)
		for (int i = 0; i < NMIN5; i++) {
			gint64 w;
			g_variant_get_child(
				m, (gsize)i, "(xuuu)", &w, &a->min5[i].sent,
				&a->min5[i].new_rcpt, &a->min5[i].policy);
			a->min5[i].when = w;
		}
	else if (m)
		r = -1;
	if (p && g_variant_n_children(p) == NPEAK)
		for (int i = 0; i < NPEAK; i++) {
			gint64 w;
			g_variant_get_child(p, (gsize)i, "(xu)", &w,
					    &a->peak[i].max_hour);
			a->peak[i].when = w;
		}
	else if (p)
		r = -1;
	if (m)
		g_variant_unref(m);
	if (p)
		g_variant_unref(p);
	return r;
}

static void
put_fprefs(GVariantBuilder *b, struct scoring_engine *e,
	   const struct sc_account *a)
{
	GVariantBuilder f;

	g_variant_builder_init(&f, G_VARIANT_TYPE("a(sux)"));
	for (int i = 0; i < NFPREF; i++) {
		const struct sc_fpref *r = &a->fps[i];
		struct sc_fp *fp = r->fp && r->fp < e->fps->len
					   ? e->fps->pdata[r->fp]
					   : NULL;
		if (fp)
			g_variant_builder_add(&f, "(sux)", fp->key, r->n,
					      (gint64)r->last_ms);
	}
	g_variant_builder_add(b, "{sv}", "fps", g_variant_builder_end(&f));
}

static void
get_fprefs(GVariantDict *d, struct scoring_engine *e, struct sc_account *a)
{
	GVariant *f =
		g_variant_dict_lookup_value(d, "fps", G_VARIANT_TYPE("a(sux)"));
	GVariantIter it;
	const char *key;
	guint32 n;
	gint64 last;
	int i = 0;

	if (!f)
		return;
	g_variant_iter_init(&it, f);
	while (i < NFPREF &&
	       g_variant_iter_next(&it, "(&sux)", &key, &n, &last)) {
		a->fps[i].fp = scoring_engine_fp(e, key);
		a->fps[i].n = n;
		a->fps[i].last_ms = last;
		i++;
	}
	g_variant_unref(f);
}

static GVariant *
account_save(struct scoring_engine *e, const struct sc_account *a)
{
	GVariantBuilder b;
	double base[6] = {
		a->base.sent,	    a->base.hard,    a->base.fbl,
		a->base.complaints, a->base.tracked, a->base.engaged
	};
	double comp[6] = { a->score,  a->hard,	  a->engage,
			   a->volume, a->content, a->prior };

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	put_x(&b, "version", PERSIST_VERSION);
	put_x(&b, "first_ms", a->first_ms);
	put_x(&b, "t_ms", a->t_ms);
	put_x(&b, "last_event_ms", a->last_event_ms);
	put_x(&b, "last_eval_ms", a->last_eval_ms);
	put_x(&b, "open_ms", a->open_ms);
	put_x(&b, "sent", a->sent);
	put_x(&b, "state", a->state);
	put_x(&b, "eff", a->eff);
	put_x(&b, "state_ms", a->state_ms);
	put_x(&b, "below_ms", a->below_ms);
	put_x(&b, "flagged_days", a->flagged_days);
	put_x(&b, "base_day", a->base.day);
	put_ad(&b, "base", base, 6);
	put_ad(&b, "components", comp, 6);
	put_expo_tests(&b, a->x, X_N, a->t, T_N);
	g_variant_builder_add(&b, "{sv}", "hours", ring_new(a->hours, NHOURS));
	g_variant_builder_add(&b, "{sv}", "days", ring_new(a->days, NDAYS));
	put_small_rings(&b, a);
	put_fprefs(&b, e, a);
	/* Overrides are the store's (accounts table), synced by the job. */
	return g_variant_builder_end(&b);
}

static int
account_load(struct scoring_engine *e, struct sc_account *a, GVariant *v)
{
	GVariantDict d;
	int64_t version = 0, state = 0, eff = 0, flagged = 0;
	double base[6] = { 0 }, comp[6] = { 0 };
	int r = 0;

	g_variant_dict_init(&d, v);
	get_x(&d, "version", &version);
	if (version != PERSIST_VERSION) {
		g_variant_dict_clear(&d);
		return -1;
	}
	get_x(&d, "first_ms", &a->first_ms);
	get_x(&d, "t_ms", &a->t_ms);
	get_x(&d, "last_event_ms", &a->last_event_ms);
	get_x(&d, "last_eval_ms", &a->last_eval_ms);
	get_x(&d, "open_ms", &a->open_ms);
	get_x(&d, "sent", &a->sent);
	get_x(&d, "state", &state);
	get_x(&d, "eff", &eff);
	get_x(&d, "state_ms", &a->state_ms);
	get_x(&d, "below_ms", &a->below_ms);
	get_x(&d, "flagged_days", &flagged);
	get_x(&d, "base_day", &a->base.day);
	a->state = (enum scoring_state)CLAMP(state, 0, SCORING_BLOCK);
	/* Overrides live in the store's accounts table: the job pins them
	 * again after loading, which sets the effective state. */
	a->eff = a->state;
	(void)eff;
	a->flagged_days = (uint32_t)flagged;
	r |= get_ad(&d, "base", base, 6);
	r |= get_ad(&d, "components", comp, 6);
	a->base.sent = base[0];
	a->base.hard = base[1];
	a->base.fbl = base[2];
	a->base.complaints = base[3];
	a->base.tracked = base[4];
	a->base.engaged = base[5];
	a->score = comp[0];
	a->hard = comp[1];
	a->engage = comp[2];
	a->volume = comp[3];
	a->content = comp[4];
	a->prior = comp[5];
	r |= get_expo_tests(&d, a->x, X_N, a->t, T_N);
	r |= ring_get(&d, "hours", a->hours, NHOURS);
	r |= ring_get(&d, "days", a->days, NDAYS);
	r |= get_small_rings(&d, a);
	get_fprefs(&d, e, a);
	g_variant_dict_clear(&d);
	return r < 0 ? -1 : 0;
}

void
scoring_engine_foreach_dirty_account(struct scoring_engine *e,
				     void (*fn)(void *ud, uint32_t account,
						GVariant *v),
				     void *ud)
{
	for (guint i = 0; i < e->list->len; i++) {
		struct sc_account *a = e->list->pdata[i];

		if (!a->dirty)
			continue;
		a->dirty = 0;
		fn(ud, a->id, account_save(e, a));
	}
}

int
scoring_engine_load_account(struct scoring_engine *e, uint32_t account,
			    GVariant *v)
{
	struct sc_account *a = sc_account_get(e, account, 1);
	struct sc_account fresh = *a;

	if (!g_variant_is_of_type(v, G_VARIANT_TYPE_VARDICT) ||
	    account_load(e, a, v) < 0) {
		*a = fresh; /* as created: start afresh */
		return -1;
	}
	a->params_day = -1;
	a->peak_day = -1;
	a->pool_ms = 0;
	return 0;
}

/* ---- fingerprints -------------------------------------------------------- */

static GVariant *
fp_save(const struct sc_fp *fp)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	put_x(&b, "version", PERSIST_VERSION);
	put_x(&b, "first_ms", fp->first_ms);
	put_x(&b, "last_ms", fp->last_ms);
	put_x(&b, "t_ms", fp->t_ms);
	put_x(&b, "accounts", fp->accounts);
	put_x(&b, "last_account", fp->last_account);
	put_x(&b, "sent", fp->sent);
	put_x(&b, "hard", fp->hard);
	put_x(&b, "complaints", fp->complaints);
	put_x(&b, "policy", fp->policy);
	put_d(&b, "s_hard", fp->s_hard);
	put_d(&b, "peak", fp->peak);
	put_x(&b, "peak_ms", fp->peak_ms);
	put_expo_tests(&b, fp->x, X_N, fp->t, T_N);
	return g_variant_builder_end(&b);
}

void
scoring_engine_foreach_dirty_fp(struct scoring_engine *e,
				void (*fn)(void *ud, const char *fp,
					   GVariant *v),
				void *ud)
{
	for (guint i = 1; i < e->fps->len; i++) {
		struct sc_fp *fp = e->fps->pdata[i];

		if (!fp || !fp->dirty)
			continue;
		fp->dirty = 0;
		fn(ud, fp->key, fp_save(fp));
	}
}

int
scoring_engine_load_fp(struct scoring_engine *e, const char *key, GVariant *v)
{
	struct sc_fp *fp;
	GVariantDict d;
	int64_t version = 0, accounts = 0, last = 0;
	int r;

	if (!g_variant_is_of_type(v, G_VARIANT_TYPE_VARDICT))
		return -1;
	fp = e->fps->pdata[scoring_engine_fp(e, key)];
	g_variant_dict_init(&d, v);
	get_x(&d, "version", &version);
	if (version != PERSIST_VERSION) {
		g_variant_dict_clear(&d);
		return -1;
	}
	get_x(&d, "first_ms", &fp->first_ms);
	get_x(&d, "last_ms", &fp->last_ms);
	get_x(&d, "t_ms", &fp->t_ms);
	get_x(&d, "accounts", &accounts);
	get_x(&d, "last_account", &last);
	get_x(&d, "sent", &fp->sent);
	get_x(&d, "hard", &fp->hard);
	get_x(&d, "complaints", &fp->complaints);
	get_x(&d, "policy", &fp->policy);
	get_d(&d, "s_hard", &fp->s_hard);
	get_d(&d, "peak", &fp->peak);
	get_x(&d, "peak_ms", &fp->peak_ms);
	fp->accounts = (uint32_t)accounts;
	fp->last_account = (uint32_t)last;
	r = get_expo_tests(&d, fp->x, X_N, fp->t, T_N);
	g_variant_dict_clear(&d);
	if (r < 0) {
		memset(fp->x, 0, sizeof(fp->x));
		memset(fp->t, 0, sizeof(fp->t));
	}
	return r;
}

/* ---- the population ---------------------------------------------------- */

GVariant *
scoring_engine_save_global(struct scoring_engine *e)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
	put_x(&b, "version", PERSIST_VERSION);
	put_ad(&b, "pop_rate", e->pop_rate, T_N);
	put_ad(&b, "pop_median", e->pop_median, T_N);
	put_x(&b, "pop_ms", e->pop_ms);
	put_x(&b, "seen_rotated_ms", e->seen_rotated_ms);
	put_x(&b, "now_ms", e->now_ms);
	return g_variant_builder_end(&b);
}

int
scoring_engine_load_global(struct scoring_engine *e, GVariant *v)
{
	GVariantDict d;
	int64_t version = 0;
	int r;

	if (!g_variant_is_of_type(v, G_VARIANT_TYPE_VARDICT))
		return -1;
	g_variant_dict_init(&d, v);
	get_x(&d, "version", &version);
	if (version != PERSIST_VERSION) {
		g_variant_dict_clear(&d);
		return -1;
	}
	r = get_ad(&d, "pop_rate", e->pop_rate, T_N) |
	    get_ad(&d, "pop_median", e->pop_median, T_N);
	get_x(&d, "pop_ms", &e->pop_ms);
	get_x(&d, "seen_rotated_ms", &e->seen_rotated_ms);
	get_x(&d, "now_ms", &e->now_ms);
	g_variant_dict_clear(&d);
	return r < 0 ? -1 : 0;
}

void
scoring_engine_foreach_dirty_hour(struct scoring_engine *e,
				  void (*fn)(void *ud, uint32_t account,
					     int64_t hour_ms,
					     const uint32_t *counts),
				  void *ud)
{
	for (guint i = 0; i < e->list->len; i++) {
		struct sc_account *a = e->list->pdata[i];

		for (int h = 0; a->hour_dirty && h < NHOURS; h++)
			if (a->hour_dirty & (1u << h) && a->hours[h].when >= 0)
				fn(ud, a->id, a->hours[h].when * HOUR_MS,
				   a->hours[h].c);
		a->hour_dirty = 0;
	}
}
