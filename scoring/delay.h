/*
 * delay: how long feedback takes to arrive after a send, and the small
 * statistics the reasons quote.
 *
 * A report delay distribution G (the fraction of a message's eventual
 * bounces, complaints or opens that have arrived u ms after it was sent)
 * is kept as a mixture of exponentials over a fixed grid of time
 * constants: G(u) = 1 - sum_k w_k exp(-u / tau_k), weights >= 0 summing
 * to 1. With a fixed grid the delay-corrected exposure of every message an
 * account ever sent, sum_i G(t - t_i), is a count minus a few decaying
 * accumulators: O(1) memory and time per account however much it sends
 * (see engine.c). The weights are fitted once to the configured model: a
 * lognormal, or a mixture of up to three (bounces are bimodal: rejections
 * at RCPT time within seconds, DSNs minutes to hours later).
 *
 * Pure functions; no allocation.
 */
#ifndef FBLD_SCORING_DELAY_H
#define FBLD_SCORING_DELAY_H

#include <stdint.h>

#define SCORING_NTAU 12

/* The grid of time constants, in ms, from 2 s to 6 days. */
extern const double scoring_tau_ms[SCORING_NTAU];

#define SCORING_DELAY_PARTS 3

struct scoring_delay {
	/* The model: lognormal parts with shares summing to 1. */
	int n;
	double share[SCORING_DELAY_PARTS];
	double median_ms[SCORING_DELAY_PARTS];
	double sigma[SCORING_DELAY_PARTS];
	/* Fitted by scoring_delay_fit(). */
	double w[SCORING_NTAU];
};

/*
 * Parses "MEDIAN/SIGMA" (a lognormal: "4h/1.3") or up to three parts
 * "SHARE% MEDIAN/SIGMA, ..." ("75% 8s/0.8, 25% 10m/1.5"); durations take
 * ms, s, m, h or d. Shares are normalised. 0, or -1 with *why set to a
 * static explanation.
 */
int scoring_delay_parse(struct scoring_delay *d, const char *spec,
			const char **why);
/* Fits d->w to the model (least squares on a logarithmic time axis,
 * weights on the simplex). */
void scoring_delay_fit(struct scoring_delay *d);
/* G(u) of the fitted mixture of exponentials; 0 for u <= 0. */
double scoring_delay_cdf(const struct scoring_delay *d, double u_ms);
/* The model's CDF that the mixture approximates. */
double scoring_delay_model_cdf(const struct scoring_delay *d, double u_ms);

/* Wilson score interval for k successes in n trials at normal quantile z
 * (1.96 for 95 %); [0, 1] when n <= 0. */
void scoring_wilson(double k, double n, double z, double *lo, double *hi);

#endif
