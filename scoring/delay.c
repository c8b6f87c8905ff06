/* delay: see delay.h. */
#include "scoring/delay.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#define SEC 1000.0
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

const double scoring_tau_ms[SCORING_NTAU] = {
	2 * SEC,     6 * SEC,  15 * SEC, 40 * SEC,  2 * MINUTE, 6 * MINUTE,
	20 * MINUTE, 1 * HOUR, 3 * HOUR, 10 * HOUR, 36 * HOUR,	6 * DAY,
};

/* Sample points of the fit: 1 s to 90 days, evenly spaced in log time. */
#define FIT_POINTS 240
#define FIT_ITER 4000

double
scoring_delay_model_cdf(const struct scoring_delay *d, double u_ms)
{
	double g = 0;

	if (u_ms <= 0)
		return 0;
	for (int i = 0; i < d->n; i++)
		g += d->share[i] * 0.5 *
		     erfc(-(log(u_ms) - log(d->median_ms[i])) /
			  (d->sigma[i] * M_SQRT2));
	return g;
}

/* A duration with a unit (ms, s, m, h, d) in ms; -1 when malformed. */
static double
delay_duration(const char *s, const char **end)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = { { "ms", 1 },
		      { "s", SEC },
		      { "m", MINUTE },
		      { "h", HOUR },
		      { "d", DAY } };
	char *e;
	double v = g_ascii_strtod(s, &e);

	if (e == s || !(v > 0))
		return -1;
	for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
		size_t n = strlen(units[i].unit);
		if (strncmp(e, units[i].unit, n) == 0) {
			*end = e + n;
			return v * units[i].ms;
		}
	}
	return -1;
}

static const char *
delay_part(struct scoring_delay *d, const char *s, const char **end)
{
	char *e;
	double share = 1, median, sigma;

	while (*s == ' ')
		s++;
	if (strchr(s, '%') &&
	    (!strchr(s, ',') || strchr(s, '%') < strchr(s, ','))) {
		share = g_ascii_strtod(s, &e) / 100;
		if (e == s || *e != '%' || !(share > 0 && share <= 1))
			return "a share must be a percentage above 0";
		s = e + 1;
		while (*s == ' ')
			s++;
	}
	median = delay_duration(s, end);
	if (median <= 0 || **end != '/')
		return "expected MEDIAN/SIGMA with a unit, e.g. 4h/1.3";
	sigma = g_ascii_strtod(*end + 1, &e);
	if (e == *end + 1 || !(sigma >= 0.1 && sigma <= 5))
		return "sigma must be from 0.1 to 5";
	if (d->n == SCORING_DELAY_PARTS)
		return "at most three parts";
	d->share[d->n] = share;
	d->median_ms[d->n] = median;
	d->sigma[d->n] = sigma;
	d->n++;
	*end = e;
	return NULL;
}

int
scoring_delay_parse(struct scoring_delay *d, const char *spec, const char **why)
{
	struct scoring_delay t = { 0 };
	const char *s = spec, *end;
	double sum = 0;

	for (;;) {
		if ((*why = delay_part(&t, s, &end)))
			return -1;
		while (*end == ' ')
			end++;
		if (*end == '\0')
			break;
		if (*end != ',') {
			*why = "parts are separated by commas";
			return -1;
		}
		s = end + 1;
	}
	for (int i = 0; i < t.n; i++)
		sum += t.share[i];
	for (int i = 0; i < t.n; i++)
		t.share[i] /= sum;
	*d = t;
	return 0;
}

double
scoring_delay_cdf(const struct scoring_delay *d, double u_ms)
{
	double g = 1;

	if (u_ms <= 0)
		return 0;
	for (int k = 0; k < SCORING_NTAU; k++)
		g -= d->w[k] * exp(-u_ms / scoring_tau_ms[k]);
	return g;
}

/* Euclidean projection onto the probability simplex (Duchi et al. 2008). */
static void
delay_project(double *v)
{
	double u[SCORING_NTAU], css = 0, theta = 0;

	memcpy(u, v, sizeof(u));
	/* Insertion sort, descending: a handful of values. */
	for (int i = 1; i < SCORING_NTAU; i++)
		for (int j = i; j > 0 && u[j] > u[j - 1]; j--) {
			double t = u[j];
			u[j] = u[j - 1];
			u[j - 1] = t;
		}
	for (int i = 0; i < SCORING_NTAU; i++) {
		css += u[i];
		if (u[i] - (css - 1) / (i + 1) > 0)
			theta = (css - 1) / (i + 1);
	}
	for (int i = 0; i < SCORING_NTAU; i++)
		v[i] = fmax(v[i] - theta, 0);
}

/*
 * Accelerated projected gradient (FISTA) on ||A w - g||^2 with
 * A[j][k] = 1 - exp(-u_j / tau_k). Twelve unknowns: a few thousand
 * iterations take a few milliseconds.
 */
void
scoring_delay_fit(struct scoring_delay *d)
{
	static const double lo = 1 * SEC, hi = 90 * DAY;
	double a[FIT_POINTS][SCORING_NTAU], g[FIT_POINTS];
	double w[SCORING_NTAU], y[SCORING_NTAU], lip = 0, t = 1;

	for (int j = 0; j < FIT_POINTS; j++) {
		double u = lo * pow(hi / lo, (double)j / (FIT_POINTS - 1));

		g[j] = scoring_delay_model_cdf(d, u);
		for (int k = 0; k < SCORING_NTAU; k++) {
			a[j][k] = 1 - exp(-u / scoring_tau_ms[k]);
			lip += a[j][k] * a[j][k];
		}
	}
	for (int k = 0; k < SCORING_NTAU; k++)
		w[k] = y[k] = 1.0 / SCORING_NTAU;
	for (int it = 0; it < FIT_ITER; it++) {
		double grad[SCORING_NTAU] = { 0 }, prev[SCORING_NTAU];
		double tn;

		for (int j = 0; j < FIT_POINTS; j++) {
			double r = -g[j];
			for (int k = 0; k < SCORING_NTAU; k++)
				r += a[j][k] * y[k];
			for (int k = 0; k < SCORING_NTAU; k++)
				grad[k] += r * a[j][k];
		}
		memcpy(prev, w, sizeof(w));
		for (int k = 0; k < SCORING_NTAU; k++)
			w[k] = y[k] - grad[k] / lip;
		delay_project(w);
		tn = (1 + sqrt(1 + 4 * t * t)) / 2;
		for (int k = 0; k < SCORING_NTAU; k++)
			y[k] = w[k] + (t - 1) / tn * (w[k] - prev[k]);
		t = tn;
	}
	memcpy(d->w, w, sizeof(w));
}

void
scoring_wilson(double k, double n, double z, double *lo, double *hi)
{
	double p, z2, den, mid, half;

	if (n <= 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	p = k / n;
	z2 = z * z;
	den = 1 + z2 / n;
	mid = (p + z2 / (2 * n)) / den;
	half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / den;
	*lo = fmax(0, mid - half);
	*hi = fmin(1, mid + half);
}
