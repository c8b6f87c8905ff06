/*
 * engine_int: the engine's internal structures, shared by engine.c (the
 * tests and states), reasons.c (sentences and statistics JSON) and
 * persist.c (serialisation). Nothing outside scoring/engine*.c,
 * reasons.c and persist.c includes it.
 */
#ifndef FBLD_SCORING_ENGINE_INT_H
#define FBLD_SCORING_ENGINE_INT_H

#include "scoring/engine.h"
#include "scoring/rcptset.h"

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
#define MIN5_MS INT64_C(300000)

/* Counters kept per hour and per day (names in scoring_counter_names). */
enum sc_counter {
	SC_SENT,
	SC_FBL,
	SC_TRACKED,
	SC_NEW_RCPT,
	SC_NEW_DOMAIN,
	SC_UNKNOWN,
	SC_BAD_DOMAIN,
	SC_HARD_OTHER,
	SC_POLICY,
	SC_SOFT,
	SC_COMPLAINT,
	SC_OPEN_HUMAN,
	SC_OPEN_MACHINE,
	SC_CLICK_HUMAN,
	SC_CLICK_MACHINE,
	SC_UNSUB,
	SC_ENGAGED, /* messages with a first human open or click */
	SC_N
};

/* Delay-corrected exposure of one set of deliveries: n deliveries, and
 * pend[k] = sum over them of exp(-age / tau_k); the exposure under a
 * delay model w is n - sum_k w_k pend[k]. */
struct sc_expo {
	double n;
	double pend[SCORING_NTAU];
};

enum sc_set { X_ALL, X_FBL, X_TRACKED, X_N };

/* The sequential tests. */
enum sc_test { T_BOUNCE, T_POLICY, T_COMPLAINT, T_ENGAGE, T_UNSUB, T_N };

/* One CUSUM: s >= 0 in nats. e_seen is the exposure already charged;
 * run_* describe the current excursion (since s last left 0), which is
 * what the reasons quote. */
struct sc_cusum {
	double s;
	double e_seen;
	double run_k, run_e;
	int64_t run_ms;
};

/* A slot of a ring of buckets: valid while when == the slot's period. */
struct sc_bucket {
	int64_t when; /* hour or day number */
	uint32_t c[SC_N];
};

struct sc_min5 {
	int64_t when; /* 5-minute period number */
	uint32_t sent, new_rcpt, policy;
};

struct sc_peak {
	int64_t when; /* day number */
	uint32_t max_hour;
};

#define NHOURS 24
#define NDAYS 8
#define NMIN5 12
#define NPEAK 16
#define NFPREF 8

struct sc_fpref {
	uint32_t fp;
	uint32_t n; /* messages of this account with it */
	int64_t last_ms;
};

/* Long-run decayed counts for an account's own rates (days older than
 * the day ring, while the account was not throttled or blocked). */
struct sc_base {
	double sent, hard, fbl, complaints, tracked, engaged;
	int64_t day; /* last day folded in */
};

struct sc_account {
	uint32_t id;
	int64_t first_ms; /* first event seen */
	int64_t t_ms;	  /* clock of the exposure accumulators */
	int64_t last_event_ms, last_eval_ms;
	int64_t open_ms; /* the last open or click of its mail */
	int64_t sent;
	struct sc_expo x[X_N];
	struct sc_cusum t[T_N];
	/* Current test parameters (H0, H1, and the increments per bad
	 * event a and per unit of exposure b), refreshed daily. */
	double h0[T_N], h1[T_N], a[T_N], b[T_N];
	int64_t params_day, pool_ms;
	struct sc_bucket hours[NHOURS];
	struct sc_bucket days[NDAYS];
	struct sc_min5 min5[NMIN5];
	struct sc_peak peak[NPEAK];
	uint32_t peak14; /* cache of sc_volume: the peak for peak_day */
	int64_t peak_day;
	struct sc_base base;
	struct sc_fpref fps[NFPREF];
	uint32_t flagged_days; /* bit i: day ring slot i saw throttle/block */
	/* States. */
	enum scoring_state state, eff;
	int64_t state_ms, below_ms;
	int ov_set;
	enum scoring_state ov_state;
	int64_t ov_until_ms;
	char *ov_reason;
	/* The last evaluation's components. */
	double score, hard, engage, volume, content, prior;
	/* Bookkeeping. */
	uint32_t hour_dirty; /* bit per hour slot */
	int dirty;
};

struct sc_fp {
	uint32_t id;
	char *key;
	int64_t first_ms, last_ms, t_ms;
	uint32_t accounts; /* distinct senders (approximate) */
	uint32_t last_account;
	int64_t sent, hard, complaints, policy;
	struct sc_expo x[X_N];
	struct sc_cusum t[T_N]; /* bounce, policy and complaint are used */
	double s_hard, peak;
	int64_t peak_ms;
	int dirty;
};

struct scoring_engine {
	const struct scoring_params *p;
	scoring_emit_fn emit;
	void *ud;
	GHashTable *accounts; /* id -> struct sc_account * */
	GPtrArray *list;      /* struct sc_account *, for ticks */
	GHashTable *fp_by_key;
	GPtrArray *fps; /* by id; NULL when expired; [0] unused */
	struct scoring_rcptset *seen, *seen_dom;
	int64_t seen_rotated_ms;
	/* Population: pooled rates and medians of 7-day rates per test,
	 * refreshed hourly; policy rejections over the last hour. */
	double pop_rate[T_N], pop_median[T_N];
	int64_t pop_ms;
	struct sc_min5 pool[NMIN5]; /* every account's sent and policy */
	double pool_sent, pool_policy;
	int64_t pool_ms;
	double fp_a[T_N], fp_b[T_N]; /* the pooled tests' increments */
	int64_t fp_params_ms;
	int64_t now_ms; /* latest time seen */
	int64_t fp_tick_ms;
	/* The delay models fitted to params, and each test's. */
	struct scoring_delay d_bounce, d_complaint, d_engage, d_unsub;
	const struct scoring_delay *delay[T_N];
};

/* engine.c */
struct sc_account *sc_account_get(struct scoring_engine *e, uint32_t id,
				  int create);
void sc_window(const struct sc_account *a, int64_t now_ms, int hours,
	       uint32_t *out);
double sc_expo_value(const struct sc_expo *x, const struct scoring_delay *d);
void sc_volume(struct sc_account *a, int64_t now_ms, uint32_t *n60,
	       uint32_t *new60, uint32_t *peak);
double sc_fp_term(struct scoring_engine *e, const struct sc_account *a,
		  int64_t now_ms, struct sc_fp **worst);
extern const enum sc_set sc_test_set[T_N];

/* reasons.c */
void sc_reasons(struct scoring_engine *e, struct sc_account *a, int64_t now_ms,
		enum scoring_state from, enum scoring_state to, GPtrArray *out);
char *sc_stats_json(struct scoring_engine *e, struct sc_account *a,
		    int64_t now_ms);

#endif
