/* scoring params: see params.h. */
#include "scoring/params.h"

#include <math.h>
#include <string.h>

#include "core/config.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

/* Providers known to send per-message ARF complaints (Microsoft JMRP,
 * Yahoo/AOL CFL, Comcast, Mail.Ru, La Poste, Fastmail, Zoho, Seznam);
 * Gmail only reports aggregate rates and is not here. */
static const char *const default_fbl =
	"outlook.com hotmail.com live.com msn.com hotmail.co.uk hotmail.fr "
	"hotmail.de hotmail.it hotmail.es live.co.uk live.fr outlook.fr "
	"outlook.de yahoo.com ymail.com rocketmail.com yahoo.co.uk yahoo.fr "
	"yahoo.de yahoo.it yahoo.es yahoo.ca yahoo.com.br yahoo.co.jp aol.com "
	"aim.com verizon.net comcast.net mail.ru bk.ru inbox.ru list.ru "
	"laposte.net fastmail.com zoho.com seznam.cz";

/* The engine fits the weights when it starts (scoring_delay_fit takes a
 * few milliseconds, which commands that do not score should not pay). */
static void
params_set_delay(struct scoring_delay *d, const char *spec)
{
	const char *why;

	if (scoring_delay_parse(d, spec, &why) < 0)
		g_error("scoring: default delay %s: %s", spec, why);
}

void
scoring_params_default(struct scoring_params *p)
{
	char **v;

	memset(p, 0, sizeof(*p));
	p->watch = 4.6;
	p->throttle = 9.2;
	p->block = 13.8;
	p->hard_gate = 4.6;
	p->block_hard = 9.2;
	p->second = 4.6;
	p->watch_exit = 2.3;
	p->throttle_exit = 4.6;
	p->block_exit = 9.2;
	p->watch_dwell_ms = 6 * HOUR_MS;
	p->throttle_dwell_ms = 24 * HOUR_MS;
	p->block_dwell_ms = 72 * HOUR_MS;
	p->bounce_p0 = 0.04;
	p->bounce_p1 = 0.12;
	p->bounce_p0_max = 0.10;
	p->policy_p0 = 0.01;
	p->policy_p1 = 0.10;
	p->complaint_p0 = 0.001;
	p->complaint_p1 = 0.005;
	p->engage_q0 = 0.015;
	p->engage_q1 = 0.003;
	p->engage_q0_min = 0.005;
	p->unsub_p0 = 0.005;
	p->unsub_p1 = 0.03;
	p->min_events = 4;
	p->min_exposure = 20;
	p->stat_cap = 27.6;
	p->multi_penalty = 2.3;
	p->engage_weight = 0.5;
	p->engage_cap = 3;
	p->engage_cap_confirmed = 4.6;
	p->engage_watch = 9.2;
	p->engage_halflife_ms = 3 * DAY_MS;
	p->volume_cap = 3;
	p->volume_new_share = 0.5;
	p->volume_floor = 20;
	p->taint = 9.2;
	p->fp_window_ms = 7 * DAY_MS;
	p->new_account_prior = 1;
	p->new_account_ms = 7 * DAY_MS;
	p->prior_weight = 500;
	p->baseline_halflife_days = 30;
	params_set_delay(&p->bounce_delay, "75% 8s/0.8, 25% 10m/1.5");
	params_set_delay(&p->complaint_delay, "4h/1.3");
	params_set_delay(&p->engage_delay, "2h/1.6");
	params_set_delay(&p->unsub_delay, "2h/1.6");
	p->eval_interval_ms = 15 * MIN_MS;
	p->tracking = SCORING_TRACKING_AUTO;
	p->rcpt_filter_bytes = 8 << 20;
	p->enabled = 1;
	p->interval_ms = 5000;
	p->settle_ms = 10 * MIN_MS;
	p->batch = 20000;
	p->retention_ms = 35 * DAY_MS;
	p->fbl_domains =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	v = g_strsplit(default_fbl, " ", -1);
	for (char **d = v; *d; d++)
		g_hash_table_add(p->fbl_domains, g_strdup(*d));
	g_strfreev(v);
}

void
scoring_params_fit(struct scoring_params *p)
{
	scoring_delay_fit(&p->bounce_delay);
	scoring_delay_fit(&p->complaint_delay);
	scoring_delay_fit(&p->engage_delay);
	scoring_delay_fit(&p->unsub_delay);
	p->delays_fitted = 1;
}

void
scoring_params_clear(struct scoring_params *p)
{
	g_clear_pointer(&p->fbl_domains, g_hash_table_destroy);
}

int
scoring_params_fbl(const struct scoring_params *p, const char *domain)
{
	return domain && *domain &&
	       g_hash_table_contains(p->fbl_domains, domain);
}

/* "4%" or "0.04": a fraction in (0, 1). */
static double
params_rate(struct config *cfg, const char *key, double def)
{
	char *s = config_str(cfg, "scoring", key, NULL), *end;
	double v;

	if (!s)
		return def;
	v = g_ascii_strtod(s, &end);
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (end == s || *end || !(v > 0 && v < 1)) {
		config_error(cfg, "scoring", key,
			     "\"%s\" is not a rate between 0 and 100%%", s);
		v = def;
	}
	g_free(s);
	return v;
}

static double
params_num(struct config *cfg, const char *key, double def, double min,
	   double max)
{
	char *s = config_str(cfg, "scoring", key, NULL), *end;
	double v;

	if (!s)
		return def;
	v = g_ascii_strtod(s, &end);
	if (end == s || *end || !(v >= min && v <= max)) {
		config_error(cfg, "scoring", key,
			     "\"%s\" is not a number from %g to %g", s, min,
			     max);
		v = def;
	}
	g_free(s);
	return v;
}

/* "MEDIAN/SIGMA" or "SHARE% MEDIAN/SIGMA, ..." (see delay.h). */
static void
params_delay(struct config *cfg, const char *key, struct scoring_delay *d)
{
	char *s = config_str(cfg, "scoring", key, NULL);
	const char *why;

	if (s && scoring_delay_parse(d, s, &why) < 0)
		config_error(cfg, "scoring", key, "\"%s\": %s", s, why);
	g_free(s);
}

static void
params_domains(struct config *cfg, struct scoring_params *p)
{
	char **v = config_list(cfg, "scoring", "fbl_domains", NULL);

	if (!v)
		return;
	g_hash_table_remove_all(p->fbl_domains);
	for (char **d = v; *d; d++)
		g_hash_table_add(p->fbl_domains, g_ascii_strdown(*d, -1));
	g_strfreev(v);
}

static void
params_levels(struct config *cfg, struct scoring_params *p)
{
	p->watch = params_num(cfg, "watch", p->watch, 0.1, 100);
	p->throttle = params_num(cfg, "throttle", p->throttle, p->watch, 100);
	p->block = params_num(cfg, "block", p->block, p->throttle, 100);
	p->hard_gate = params_num(cfg, "hard_gate", p->hard_gate, 0, 100);
	p->block_hard = params_num(cfg, "block_hard", p->block_hard, 0, 100);
	p->second = params_num(cfg, "second_signal", p->second, 0, 100);
	p->watch_exit =
		params_num(cfg, "watch_exit", p->watch_exit, 0, p->watch);
	p->throttle_exit = params_num(cfg, "throttle_exit", p->throttle_exit, 0,
				      p->throttle);
	p->block_exit =
		params_num(cfg, "block_exit", p->block_exit, 0, p->block);
	p->watch_dwell_ms =
		config_duration_ms(cfg, "scoring", "watch_dwell",
				   p->watch_dwell_ms, 0, 30 * DAY_MS);
	p->throttle_dwell_ms =
		config_duration_ms(cfg, "scoring", "throttle_dwell",
				   p->throttle_dwell_ms, 0, 30 * DAY_MS);
	p->block_dwell_ms =
		config_duration_ms(cfg, "scoring", "block_dwell",
				   p->block_dwell_ms, 0, 365 * DAY_MS);
	p->min_events = params_num(cfg, "min_events", p->min_events, 1, 100);
	p->min_exposure =
		params_num(cfg, "min_exposure", p->min_exposure, 0, 1e6);
	p->stat_cap = params_num(cfg, "test_cap", p->stat_cap, p->block, 1000);
	p->multi_penalty =
		params_num(cfg, "multi_penalty", p->multi_penalty, 0, 20);
	p->engage_weight =
		params_num(cfg, "engagement_weight", p->engage_weight, 0, 1);
	p->engage_cap = params_num(cfg, "engagement_cap", p->engage_cap, 0, 20);
	p->engage_cap_confirmed =
		params_num(cfg, "engagement_cap_confirmed",
			   p->engage_cap_confirmed, p->engage_cap, 20);
	p->engage_watch =
		params_num(cfg, "engagement_watch", p->engage_watch, 0.1, 100);
	p->engage_halflife_ms = config_duration_ms(
		cfg, "scoring", "engagement_halflife", p->engage_halflife_ms,
		HOUR_MS, 365 * DAY_MS);
	p->volume_cap = params_num(cfg, "volume_cap", p->volume_cap, 0, 20);
	p->taint = params_num(cfg, "taint", p->taint, 0.1, 100);
	p->new_account_prior = params_num(cfg, "new_account_prior",
					  p->new_account_prior, 0, 10);
}

static void
params_tests(struct config *cfg, struct scoring_params *p)
{
	p->bounce_p0 = params_rate(cfg, "bounce_h0", p->bounce_p0);
	p->bounce_p1 = params_rate(cfg, "bounce_h1", p->bounce_p1);
	p->bounce_p0_max = params_rate(cfg, "bounce_h0_max", p->bounce_p0_max);
	p->policy_p0 = params_rate(cfg, "policy_h0", p->policy_p0);
	p->policy_p1 = params_rate(cfg, "policy_h1", p->policy_p1);
	p->complaint_p0 = params_rate(cfg, "complaint_h0", p->complaint_p0);
	p->complaint_p1 = params_rate(cfg, "complaint_h1", p->complaint_p1);
	p->engage_q0 = params_rate(cfg, "engagement_h0", p->engage_q0);
	p->engage_q1 = params_rate(cfg, "engagement_h1", p->engage_q1);
	p->engage_q0_min =
		params_rate(cfg, "engagement_h0_min", p->engage_q0_min);
	p->unsub_p0 = params_rate(cfg, "unsubscribe_h0", p->unsub_p0);
	p->unsub_p1 = params_rate(cfg, "unsubscribe_h1", p->unsub_p1);
	if (p->bounce_p1 <= p->bounce_p0)
		config_error(cfg, "scoring", "bounce_h1",
			     "must exceed bounce_h0");
	if (p->policy_p1 <= p->policy_p0)
		config_error(cfg, "scoring", "policy_h1",
			     "must exceed policy_h0");
	if (p->complaint_p1 <= p->complaint_p0)
		config_error(cfg, "scoring", "complaint_h1",
			     "must exceed complaint_h0");
	if (p->engage_q1 >= p->engage_q0)
		config_error(cfg, "scoring", "engagement_h1",
			     "must be below engagement_h0");
	if (p->unsub_p1 <= p->unsub_p0)
		config_error(cfg, "scoring", "unsubscribe_h1",
			     "must exceed unsubscribe_h0");
	params_delay(cfg, "bounce_delay", &p->bounce_delay);
	params_delay(cfg, "complaint_delay", &p->complaint_delay);
	params_delay(cfg, "engagement_delay", &p->engage_delay);
	params_delay(cfg, "unsubscribe_delay", &p->unsub_delay);
}

void
scoring_params_load(struct config *cfg, struct scoring_params *p)
{
	static const char *const tracking[] = { "none", "all", "auto", NULL };

	scoring_params_default(p);
	params_levels(cfg, p);
	params_tests(cfg, p);
	p->fp_window_ms =
		config_duration_ms(cfg, "scoring", "content_window",
				   p->fp_window_ms, HOUR_MS, 90 * DAY_MS);
	p->prior_weight =
		params_num(cfg, "prior_weight", p->prior_weight, 1, 1e7);
	p->eval_interval_ms =
		config_duration_ms(cfg, "scoring", "eval_interval",
				   p->eval_interval_ms, 1000, DAY_MS);
	p->tracking =
		config_enum(cfg, "scoring", "tracking", p->tracking, tracking);
	p->rcpt_filter_bytes =
		config_size(cfg, "scoring", "recipient_filter_size",
			    p->rcpt_filter_bytes, 4096, INT64_C(1) << 32);
	p->enabled = config_bool(cfg, "scoring", "enabled", p->enabled);
	p->interval_ms = config_duration_ms(cfg, "scoring", "interval",
					    p->interval_ms, 100, HOUR_MS);
	p->settle_ms = config_duration_ms(cfg, "scoring", "settle",
					  p->settle_ms, 0, DAY_MS);
	p->batch = config_int(cfg, "scoring", "batch", p->batch, 100, 1000000);
	p->retention_ms =
		config_duration_ms(cfg, "scoring", "retention", p->retention_ms,
				   8 * DAY_MS, 400 * DAY_MS);
	params_domains(cfg, p);
}
