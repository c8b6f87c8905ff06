/*
 * scoring params: every tunable of the scoring engine, with the defaults of
 * docs/scoring.md, read once from the [scoring] section of the
 * configuration file.
 *
 * Levels are in nats (natural-log likelihood-ratio units: ln 100 = 4.6,
 * ln 10^4 = 9.2, ln 10^6 = 13.8). Rates are fractions (0.04 = 4 %); in the
 * file they are written with a percent sign ("4%") or as fractions.
 * Delays are lognormal distributions written "MEDIAN/SIGMA" ("4h/1.3"),
 * or mixtures of up to three ("75% 8s/0.8, 25% 10m/1.5"); params keep
 * the model and each engine fits its mixture of exponentials to it when
 * it starts (see delay.h).
 *
 * The struct owns its strings and the domain set; scoring_params_clear()
 * releases them. A params struct is read-only once an engine uses it.
 */
#ifndef FBLD_SCORING_PARAMS_H
#define FBLD_SCORING_PARAMS_H

#include <glib.h>
#include <stdint.h>

#include "scoring/delay.h"

struct config;

enum scoring_tracking {
	SCORING_TRACKING_NONE,
	SCORING_TRACKING_ALL,
	SCORING_TRACKING_AUTO,
};

struct scoring_params {
	/* States: a score at or above the level enters the state. */
	double watch;	 /* 4.6 */
	double throttle; /* 9.2 */
	double block;	 /* 13.8 */
	/* Throttle needs hard evidence (bounces, complaints, policy
	 * rejections or content) of at least this much. */
	double hard_gate; /* 4.6 */
	/* Block needs hard evidence of at least block_hard and a second
	 * independent signal of at least second. */
	double block_hard; /* 9.2 */
	double second;	   /* 4.6 */
	/* Leaving a state: the score stays below exit for the dwell time
	 * and the account has been in the state at least that long. */
	double watch_exit, throttle_exit, block_exit; /* 2.3 4.6 9.2 */
	int64_t watch_dwell_ms, throttle_dwell_ms,
		block_dwell_ms; /* 6h 24h 72h */

	/* Sequential tests: H0 and H1 rates. */
	double bounce_p0, bounce_p1;	   /* 4 % 12 % */
	double bounce_p0_max;		   /* 10 %: adaptive H0 cap */
	double policy_p0, policy_p1;	   /* 1 % 10 % */
	double complaint_p0, complaint_p1; /* 0.1 % 0.5 % */
	double engage_q0, engage_q1;	   /* 1.5 % 0.3 % (lower tail) */
	double engage_q0_min;		   /* 0.5 %: adaptive H0 floor */
	double unsub_p0, unsub_p1;	   /* 0.5 % 3 % */
	/* A test counts once its current excursion holds this many bad
	 * events and this much exposure (deliveries whose reports are
	 * due). */
	double min_events;   /* 4 */
	double min_exposure; /* 20 */
	/* No test statistic grows beyond this. */
	double stat_cap; /* 27.6 */
	/* Several hard tests at once: their sum minus this penalty. */
	double multi_penalty; /* 2.3 */
	/* Engagement joins the score weighted and capped; alone it can
	 * raise an account to watch at engage_watch. */
	double engage_weight, engage_cap, engage_watch; /* 0.5 3 9.2 */
	/* The cap when hard evidence reaches hard_gate. */
	double engage_cap_confirmed; /* 4.6 */
	/* Engagement and unsubscribe evidence fades by half in this time. */
	int64_t engage_halflife_ms; /* 3d */
	/* Volume against the account's own history, capped. */
	double volume_cap;	 /* 3 */
	double volume_new_share; /* 0.5 */
	double volume_floor;	 /* 20 messages an hour */
	/* Content: pooled evidence of a fingerprint sent by several
	 * accounts; at taint it throttles every account sending it. */
	double taint;	      /* 9.2 */
	int64_t fp_window_ms; /* 7d */
	/* New accounts start with a little suspicion. */
	double new_account_prior; /* 1 */
	int64_t new_account_ms;	  /* 7d */
	/* Shrinkage of an account's own long-run rates toward the
	 * population's: the prior weighs as this many messages. */
	double prior_weight;	       /* 500 */
	double baseline_halflife_days; /* 30 */

	struct scoring_delay bounce_delay;    /* 75% 8s/0.8, 25% 10m/1.5 */
	struct scoring_delay complaint_delay; /* 4h/1.3 */
	struct scoring_delay engage_delay;    /* 2h/1.6 */
	struct scoring_delay unsub_delay;     /* 2h/1.6 */
	int delays_fitted;

	/* Periodic evaluation of every active account (engagement that
	 * fails to arrive, dwell times, override expiry). */
	int64_t eval_interval_ms; /* 15m */
	/* Whether a message without an explicit tracked flag carried the
	 * open pixel: SCORING_TRACKING_AUTO takes it that an account's mail
	 * does once any open of its mail (privacy proxies prefetch pixels
	 * within minutes) was seen in the last 14 days. */
	int tracking; /* auto */
	/* Bytes of each of the two generations of the recipient filter. */
	int64_t rcpt_filter_bytes; /* 8M */

	/* Daemon job. */
	int enabled;	      /* true */
	int64_t interval_ms;  /* 5s */
	int64_t settle_ms;    /* 10m: sends younger than this wait */
	int64_t batch;	      /* 20000 rows per run */
	int64_t retention_ms; /* 35d of hourly statistics */

	/* Recipient domains whose providers send per-message complaint
	 * reports (ARF feedback loops); lowercase. */
	GHashTable *fbl_domains; /* char * set */
};

void scoring_params_default(struct scoring_params *p);
/* Fits the delay models now (engines otherwise fit their own copies when
 * they start: a few milliseconds each, which a process creating many
 * engines, such as a fuzz target, does better to pay once). */
void scoring_params_fit(struct scoring_params *p);
/* Reads [scoring]; errors are recorded in cfg (config_finish reports
 * them). Starts from the defaults. */
void scoring_params_load(struct config *cfg, struct scoring_params *p);
void scoring_params_clear(struct scoring_params *p);

/* Whether a lowercase domain belongs to a feedback-loop provider. */
int scoring_params_fbl(const struct scoring_params *p, const char *domain);

#endif
