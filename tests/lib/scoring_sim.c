/*
 * scoring_sim: a population of sending accounts and their feedback, for
 * evaluating the scoring engine against a plain threshold baseline on the
 * same events (bench/scoring_sim.sh runs it; the replay test checks that
 * it is deterministic).
 *
 *   scoring_sim gen [--seed N] [--scale F] [--days D] EVENTS TRUTH
 *	writes the `fbld replay` input (EVENTS, JSON lines in time order)
 *	and one JSON line of ground truth per account (TRUTH), including
 *	what the baseline (Amazon SES style: hard bounces 5 % review, 10 %
 *	pause; complaints 0.1 % / 0.5 %; over 7 days, at least 500 messages)
 *	decided on the same events;
 *   scoring_sim eval TRUTH CHANGES
 *	reads fbld's output and prints recall per bad archetype, false
 *	positives on legitimate accounts, detection delays in messages sent
 *	for both, and PASS/FAIL against the targets of issue 7.
 *
 * The population (docs/scoring.md lists every parameter): legitimate
 * newsletters of many sizes and qualities, transactional senders with low
 * opens, tiny accounts, personal mailboxes, shops with a seasonal spike;
 * compromised accounts (fast and slow), list buyers (burst and drip),
 * snowshoe spammers spread over many new accounts sharing content, and
 * slow-burn low-engagement senders; a grey class of one-off blasts to an
 * old customer list is reported apart. Everyone gets privacy-proxy
 * machine opens and security-scanner clicks (a few of which the tracker
 * fails to recognise), complaints come only from feedback-loop providers
 * and arrive hours to days late (lognormal), unknown-user bounces mostly
 * at once and partly as late DSNs. Deterministic for a seed.
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_SEC INT64_C(1000)
#define MS_MIN (60 * MS_SEC)
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY (24 * MS_HOUR)
#define T0 INT64_C(1767571200000) /* Monday 2026-01-05 00:00 UTC */
#define WARMUP (14 * MS_DAY)
/* Bumped whenever the population or its behaviour changes: the bench
 * regenerates its cached events when it differs. */
#define POPULATION_VERSION 5

/* ---- random numbers: xoshiro256** seeded by splitmix64 ------------------ */

struct rng {
	uint64_t s[4];
};

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static void
rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static double
unif(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double
range(struct rng *r, double a, double b)
{
	return a + (b - a) * unif(r);
}

static double
logu(struct rng *r, double a, double b)
{
	return exp(range(r, log(a), log(b)));
}

static int
bern(struct rng *r, double p)
{
	return unif(r) < p;
}

static double
normal(struct rng *r)
{
	double u = unif(r), v = unif(r);

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

static double
lognormal(struct rng *r, double median, double sigma)
{
	return median * exp(sigma * normal(r));
}

static int64_t
poisson(struct rng *r, double lambda)
{
	if (lambda <= 0)
		return 0;
	if (lambda > 30)
		return MAX(0,
			   (int64_t)llround(lambda + sqrt(lambda) * normal(r)));
	double l = exp(-lambda), p = 1;
	int64_t k = 0;

	do {
		k++;
		p *= unif(r);
	} while (p > l);
	return k - 1;
}

static uint64_t
mix64(uint64_t x)
{
	return splitmix(&x);
}

/* ---- archetypes ------------------------------------------------------------ */

enum kind { LEGIT, GREY, BAD };

enum arch {
	A_TINY,
	A_PERSONAL,
	A_NL_SMALL,
	A_NL_MEDIUM,
	A_NL_LARGE,
	A_NL_LOWQ,
	A_TRANS,
	A_SEASONAL,
	A_GREY,
	A_COMP_FAST,
	A_COMP_SLOW,
	A_LB_BURST,
	A_LB_DRIP,
	A_SNOWSHOE,
	A_SLOWBURN,
	A_N
};

static const struct {
	const char *name;
	enum kind kind;
	int count; /* at scale 1; snowshoe: clusters */
} archs[A_N] = {
	[A_TINY] = { "tiny", LEGIT, 600 },
	[A_PERSONAL] = { "mailbox", LEGIT, 500 },
	[A_NL_SMALL] = { "newsletter-small", LEGIT, 300 },
	[A_NL_MEDIUM] = { "newsletter-medium", LEGIT, 20 },
	[A_NL_LARGE] = { "newsletter-large", LEGIT, 2 },
	[A_NL_LOWQ] = { "newsletter-lowquality", LEGIT, 40 },
	[A_TRANS] = { "transactional", LEGIT, 200 },
	[A_SEASONAL] = { "seasonal-spike", LEGIT, 30 },
	[A_GREY] = { "old-list-blast", GREY, 40 },
	[A_COMP_FAST] = { "compromised-fast", BAD, 60 },
	[A_COMP_SLOW] = { "compromised-slow", BAD, 60 },
	[A_LB_BURST] = { "list-buyer-burst", BAD, 50 },
	[A_LB_DRIP] = { "list-buyer-drip", BAD, 50 },
	[A_SNOWSHOE] = { "snowshoe", BAD, 10 },
	[A_SLOWBURN] = { "slow-burn", BAD, 50 },
};

/* Per-delivery behaviour of a stream of mail. */
struct quality {
	double unknown;	  /* unknown-user or bad-domain bounce */
	double policy;	  /* rejected as spam / by policy */
	double soft;	  /* mailbox full and such */
	double complaint; /* of delivered mail to a reporting provider */
	double engage;	  /* a human opens or clicks */
	double unsub;
	double inbox; /* lands in the inbox (proxies prefetch only there) */
};

enum pattern {
	P_DAILY,    /* daytime trickle */
	P_CAMPAIGN, /* weekly list sends */
	P_BLAST,    /* one burst at a rate */
	P_NONE,
};

/* One stream of an account's mail (its normal traffic, its abuse). */
struct stream {
	enum pattern pat;
	struct quality q;
	int64_t start, end; /* active in [start, end) */
	double daily;	    /* P_DAILY: messages a day */
	double rate;	    /* P_CAMPAIGN, P_BLAST: messages an hour */
	int64_t left;	    /* P_BLAST: messages still to send */
	uint32_t list;	    /* recipients known (list, contacts, customers) */
	double new_share;   /* share of messages to new recipients */
	int dow, hour, per_week; /* P_CAMPAIGN schedule */
	int64_t camp_left;	 /* messages left in the running campaign */
	uint32_t camp_pos;
	int issue;
	uint32_t dormant; /* seasonal: extra old segment during the spike */
	int64_t spike_start, spike_end;
	int fp_kind; /* how its fingerprints are named, see stream_fp */
	int shared;  /* fp: shared template or campaign number, or -1 */
	int bad;
	int consumer; /* recipients mostly at consumer providers */
};

struct base_slot {
	int64_t hour;
	uint32_t sent, hard, complaints;
};

struct acct {
	uint32_t idx;
	char name[16];
	enum arch arch;
	int bad;
	int tracked;
	int64_t onset; /* bad: abuse starts; legit: WARMUP */
	int64_t sent, sent_at_onset;
	int onset_counted;
	uint32_t fresh; /* next never-mailed recipient number */
	struct stream s[2];
	int ns;
	int cluster;
	/* The baseline's 7 days of hourly counts (by send hour). */
	struct base_slot *base;
	int64_t review_ms, pause_ms, review_sent, pause_sent;
	int64_t since_eval;
};

/* Pending feedback, in a binary heap by time. */
enum ftype {
	F_SENT,
	F_UNKNOWN,
	F_BADDOMAIN,
	F_POLICY,
	F_SOFT,
	F_COMPLAINT,
	F_OPEN,
	F_OPEN_MACHINE,
	F_OPEN_LEAK, /* a proxy's open the tracker took for a human */
	F_CLICK,
	F_CLICK_MACHINE,
	F_CLICK_LEAK,
	F_UNSUB,
};

struct pend {
	int64_t ts;
	uint64_t seq;
	int64_t send_ts;
	uint32_t acct;
	uint32_t msg;
	uint32_t rcpt_acct, rcpt; /* the recipient (sent only) */
	uint32_t domain;
	uint32_t fp_num;
	uint8_t fp_kind;
	uint8_t type;
};

struct heap {
	struct pend *v;
	size_t n, cap;
};

static int
pend_less(const struct pend *a, const struct pend *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static void
heap_push(struct heap *h, const struct pend *p)
{
	size_t i;

	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 4096;
		h->v = g_renew(struct pend, h->v, h->cap);
	}
	i = h->n++;
	while (i > 0 && pend_less(p, &h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = *p;
}

static struct pend
heap_pop(struct heap *h)
{
	struct pend top = h->v[0], last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && pend_less(&h->v[c + 1], &h->v[c]))
			c++;
		if (!pend_less(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

/* ---- recipients' domains ------------------------------------------------- */

static const struct {
	const char *name;
	double consumer, business; /* weights in the two mixes */
	int fbl, apple;
} domains[] = {
	{ "gmail.com", 32, 8, 0, 0 },	   { "yahoo.com", 8, 1, 1, 0 },
	{ "outlook.com", 5, 2, 1, 0 },	   { "hotmail.com", 6, 1, 1, 0 },
	{ "live.com", 2, 0.5, 1, 0 },	   { "aol.com", 2, 0.3, 1, 0 },
	{ "icloud.com", 6, 1, 0, 1 },	   { "me.com", 1, 0.2, 0, 1 },
	{ "comcast.net", 2, 0.3, 1, 0 },   { "gmx.de", 2, 0.5, 0, 0 },
	{ "web.de", 2, 0.5, 0, 0 },	   { "orange.fr", 2, 0.5, 0, 0 },
	{ "laposte.net", 0.5, 0.1, 1, 0 }, { "mail.ru", 1, 0.2, 1, 0 },
	{ "yahoo.fr", 0.5, 0.1, 1, 0 },	   { "free.fr", 1, 0.2, 0, 0 },
	{ "t-online.de", 1.5, 0.3, 0, 0 }, { NULL, 25, 83, 0, 0 }, /* corp */
};
#define NDOM (G_N_ELEMENTS(domains))
#define NCORP 4000

/* A recipient's domain index: fixed for the recipient; corporate domains
 * are numbered from NDOM. */
static unsigned
rcpt_domain(uint64_t h, int consumer)
{
	double tot = 0, x;

	for (size_t i = 0; i < NDOM; i++)
		tot += consumer ? domains[i].consumer : domains[i].business;
	x = (double)(h % 1000003) / 1000003.0 * tot;
	for (size_t i = 0; i < NDOM; i++) {
		x -= consumer ? domains[i].consumer : domains[i].business;
		if (x < 0)
			return domains[i].name
				       ? (unsigned)i
				       : (unsigned)(NDOM + (h >> 40) % NCORP);
	}
	return NDOM - 1;
}

static const char *
domain_name(unsigned d, char *buf, size_t len)
{
	if (d < NDOM && domains[d].name)
		return domains[d].name;
	g_snprintf(buf, len, "corp%u.example", d - (unsigned)NDOM);
	return buf;
}

/* ---- the population ----------------------------------------------------- */

struct sim {
	struct rng rng;
	double scale;
	int days;
	int64_t end;
	GPtrArray *accts;
	struct heap heap;
	uint64_t seq;
	uint32_t msg;
	uint32_t harvest; /* spammers' recipients */
	FILE *out;
	JsonGenerator *gen;
	GString *line;
	int64_t events;
};

static struct quality
q_make(struct rng *r, double u0, double u1, double c0, double c1, double e0,
       double e1)
{
	struct quality q = {
		.unknown = range(r, u0, u1),
		.policy = logu(r, 0.0002, 0.003),
		.soft = range(r, 0.003, 0.015),
		.complaint = c1 > 0 ? logu(r, c0, c1) : 0,
		.engage = range(r, e0, e1),
		.unsub = 0,
		.inbox = range(r, 0.85, 0.98),
	};
	return q;
}

static struct acct *
acct_new(struct sim *sim, enum arch arch)
{
	struct acct *a = g_new0(struct acct, 1);

	a->idx = sim->accts->len;
	g_snprintf(a->name, sizeof(a->name), "a%05u", sim->accts->len + 1);
	a->arch = arch;
	a->bad = archs[arch].kind == BAD;
	a->onset = T0 + WARMUP;
	a->fresh = 1000000;
	a->review_ms = a->pause_ms = -1;
	a->base = g_new0(struct base_slot, 7 * 24);
	for (int i = 0; i < 7 * 24; i++)
		a->base[i].hour = -1;
	g_ptr_array_add(sim->accts, a);
	return a;
}

/* The owner's everyday mail: a mailbox (or a tiny account). */
static void
normal_mailbox(struct sim *sim, struct acct *a, struct stream *s, int tiny)
{
	struct rng *r = &sim->rng;

	s->pat = P_DAILY;
	s->daily = tiny ? logu(r, 0.2, 4) : logu(r, 5, 60);
	s->list =
		tiny ? (uint32_t)range(r, 5, 40) : (uint32_t)range(r, 50, 400);
	s->new_share = range(r, 0.05, 0.2);
	s->q = q_make(r, 0.003, 0.02, 0.00002, 0.0002, 0.3, 0.7);
	s->fp_kind = 0;
	s->consumer = bern(r, 0.5);
	s->start = T0;
	s->end = sim->end;
}

static void
normal_newsletter(struct sim *sim, struct stream *s, uint32_t lo, uint32_t hi,
		  int lowq)
{
	struct rng *r = &sim->rng;

	s->pat = P_CAMPAIGN;
	s->list = (uint32_t)logu(r, lo, hi);
	s->rate = logu(r, 1000, 20000);
	s->dow = (int)range(r, 0, 7);
	s->hour = (int)range(r, 6, 18);
	s->per_week = s->list > 30000 && bern(r, 0.5) ? 2 : 1;
	s->new_share = range(r, 0.005, 0.03);
	if (lowq)
		s->q = q_make(r, 0.02, 0.045, 0.0005, 0.0015, 0.03, 0.08);
	else
		s->q = q_make(r, 0.002, 0.02, 0.00005, 0.0008, 0.08, 0.30);
	s->q.unsub = range(r, 0.001, 0.005);
	s->fp_kind = 1;
	s->consumer = bern(r, 0.8);
	s->start = T0;
	s->end = sim->end;
}

static void
normal_transactional(struct sim *sim, struct stream *s)
{
	struct rng *r = &sim->rng;

	s->pat = P_DAILY;
	s->daily = logu(r, 20, 500);
	s->list = (uint32_t)(s->daily * 10);
	s->new_share = 0.5;
	s->q = q_make(r, 0.005, 0.03, 0, 0.0002, 0.01, 0.06);
	if (s->q.complaint < 0.00001)
		s->q.complaint = 0;
	s->q.unsub = range(r, 0.0001, 0.0005);
	s->fp_kind = 2;
	s->shared = bern(r, 0.3) ? (int)range(r, 0, 3) : -1;
	s->consumer = 1;
	s->start = T0;
	s->end = sim->end;
}

/* Abuse streams start at onset. */
static void
bad_stream(struct sim *sim, struct acct *a, struct stream *s)
{
	struct rng *r = &sim->rng;
	int64_t onset = a->onset;

	memset(s, 0, sizeof(*s));
	s->bad = 1;
	s->start = onset;
	s->end = sim->end;
	s->new_share = 1;
	s->consumer = 1;
	s->shared = -1;
	s->q.soft = range(r, 0.005, 0.03);
	switch (a->arch) {
	case A_COMP_FAST:
	case A_COMP_SLOW:
		s->pat = P_BLAST;
		s->rate = a->arch == A_COMP_FAST ? logu(r, 2000, 10000)
						 : logu(r, 50, 200);
		s->left = a->arch == A_COMP_FAST
				  ? MIN(10000, (int64_t)(s->rate * 24))
				  : MIN(10000, (int64_t)(s->rate * 72));
		s->q.unknown = range(r, 0.08, 0.30);
		s->q.policy = range(r, 0.02, 0.10);
		s->q.complaint = logu(r, 0.003, 0.02);
		s->q.engage = logu(r, 0.001, 0.01);
		s->q.inbox = range(r, 0.2, 0.5);
		s->fp_kind = 3;
		s->shared = bern(r, 0.5) ? (int)range(r, 0, 8) : -1;
		break;
	case A_LB_BURST:
		s->pat = P_BLAST;
		s->rate = logu(r, 1000, 5000);
		s->left = (int64_t)logu(r, 3000, 20000);
		s->q.unknown = range(r, 0.10, 0.35);
		s->q.policy = range(r, 0.01, 0.03);
		s->q.complaint = logu(r, 0.002, 0.01);
		s->q.engage = range(r, 0.02, 0.06);
		s->q.unsub = range(r, 0.005, 0.02);
		s->q.inbox = range(r, 0.5, 0.8);
		s->fp_kind = 4;
		break;
	case A_LB_DRIP:
		s->pat = P_DAILY;
		s->daily = range(r, 300, 800);
		s->end = MIN(sim->end, onset + 14 * MS_DAY);
		s->q.unknown = range(r, 0.08, 0.20);
		s->q.policy = range(r, 0.005, 0.02);
		s->q.complaint = logu(r, 0.002, 0.006);
		s->q.engage = range(r, 0.02, 0.06);
		s->q.unsub = range(r, 0.005, 0.02);
		s->q.inbox = range(r, 0.5, 0.8);
		s->fp_kind = 4;
		break;
	case A_SNOWSHOE:
		s->pat = P_DAILY;
		s->daily = range(r, 20, 100);
		s->end = MIN(sim->end, onset + 14 * MS_DAY);
		s->q.unknown = range(r, 0.03, 0.07);
		s->q.policy = range(r, 0.005, 0.02);
		s->q.complaint = logu(r, 0.003, 0.008);
		s->q.engage = range(r, 0.005, 0.02);
		s->q.inbox = range(r, 0.4, 0.7);
		s->fp_kind = 5;
		s->shared = a->cluster;
		break;
	case A_SLOWBURN:
		s->pat = P_DAILY;
		s->daily = range(r, 300, 1000);
		s->list = (uint32_t)(s->daily * range(r, 10, 30));
		s->new_share = 0.05;
		s->q.unknown = range(r, 0.02, 0.05);
		s->q.policy = range(r, 0.003, 0.01);
		s->q.complaint = logu(r, 0.005, 0.02);
		s->q.engage = range(r, 0.002, 0.01);
		s->q.unsub = range(r, 0.005, 0.02);
		s->q.inbox = range(r, 0.3, 0.6);
		s->fp_kind = 6;
		break;
	default:
		break;
	}
}

/* A seasonal spike: daily campaigns for a few days, to the list and to a
 * reactivated older segment. */
static void
seasonal(struct sim *sim, struct stream *s)
{
	struct rng *r = &sim->rng;

	normal_newsletter(sim, s, 500, 8000, 0);
	s->spike_start = T0 + (int64_t)range(r, 16, sim->days - 6) * MS_DAY;
	s->spike_end = s->spike_start + (int64_t)range(r, 3, 6) * MS_DAY;
	s->dormant = (uint32_t)(s->list * range(r, 0, 0.3));
}

static void
grey(struct sim *sim, struct acct *a)
{
	struct rng *r = &sim->rng;
	struct stream *s = &a->s[1];

	normal_mailbox(sim, a, &a->s[0], 0);
	a->onset = T0 + (int64_t)range(r, 14, sim->days - 3) * MS_DAY +
		   (int64_t)range(r, 8, 17) * MS_HOUR;
	s->pat = P_BLAST;
	s->start = a->onset;
	s->end = sim->end;
	s->rate = logu(r, 500, 3000);
	s->left = (int64_t)logu(r, 1000, 5000);
	s->new_share = 1;
	s->q = q_make(r, 0.02, 0.07, 0.0003, 0.0015, 0.08, 0.20);
	s->q.unsub = range(r, 0.003, 0.01);
	s->fp_kind = 4;
	s->shared = -1;
	s->consumer = 1;
	a->ns = 2;
}

static void
populate_bad(struct sim *sim, enum arch arch)
{
	struct rng *r = &sim->rng;
	int n = (int)ceil(archs[arch].count * sim->scale);

	for (int i = 0; i < n; i++) {
		struct acct *a;

		if (arch == A_SNOWSHOE) {
			int64_t start =
				T0 +
				(int64_t)range(r, 14, sim->days - 14) * MS_DAY;
			int m = (int)range(r, 15, 40);

			for (int j = 0; j < m; j++) {
				a = acct_new(sim, arch);
				a->cluster = i;
				a->tracked = 1;
				a->onset = start +
					   (int64_t)range(r, 0, 7 * MS_DAY);
				bad_stream(sim, a, &a->s[0]);
				a->ns = 1;
			}
			continue;
		}
		a = acct_new(sim, arch);
		a->tracked = bern(r, 0.7);
		if (arch == A_SLOWBURN) {
			a->onset = T0;
			bad_stream(sim, a, &a->s[0]);
			a->ns = 1;
			continue;
		}
		a->onset = T0 + (int64_t)(range(r, 14, sim->days - 7) * MS_DAY);
		if (arch == A_LB_BURST || arch == A_LB_DRIP)
			normal_newsletter(sim, &a->s[0], 200, 3000, 0);
		else
			normal_mailbox(sim, a, &a->s[0], 0);
		bad_stream(sim, a, &a->s[1]);
		a->ns = 2;
	}
}

static void
populate(struct sim *sim)
{
	struct rng *r = &sim->rng;

	for (int arch = 0; arch < A_N; arch++) {
		int n = (int)ceil(archs[arch].count * sim->scale);

		if (archs[arch].kind == BAD) {
			populate_bad(sim, arch);
			continue;
		}
		for (int i = 0; i < n; i++) {
			struct acct *a = acct_new(sim, arch);

			a->ns = 1;
			switch (arch) {
			case A_TINY:
			case A_PERSONAL:
				normal_mailbox(sim, a, &a->s[0],
					       arch == A_TINY);
				a->tracked = bern(r, 0.3);
				break;
			case A_NL_SMALL:
				normal_newsletter(sim, &a->s[0], 100, 2000, 0);
				a->tracked = 1;
				break;
			case A_NL_MEDIUM:
				normal_newsletter(sim, &a->s[0], 2000, 20000,
						  0);
				a->tracked = 1;
				break;
			case A_NL_LARGE:
				normal_newsletter(sim, &a->s[0], 20000, 60000,
						  0);
				a->tracked = 1;
				break;
			case A_NL_LOWQ:
				normal_newsletter(sim, &a->s[0], 1000, 10000,
						  1);
				a->tracked = 1;
				break;
			case A_TRANS:
				normal_transactional(sim, &a->s[0]);
				a->tracked = 1;
				break;
			case A_SEASONAL:
				seasonal(sim, &a->s[0]);
				a->tracked = 1;
				break;
			case A_GREY:
				grey(sim, a);
				a->tracked = bern(r, 0.7);
				break;
			}
		}
	}
}

/* ---- sending ---------------------------------------------------------------- */

/* Mail follows office hours and weekdays; the weights average to 1. */
static double
daytime(int64_t ts)
{
	int64_t day = (ts - T0) / MS_DAY;
	int hour = (int)((ts % MS_DAY) / MS_HOUR);
	double w = hour >= 8 && hour < 20 ? 1 : 0.1;

	if (day % 7 >= 5)
		w *= 0.4;
	return w / 0.45571;
}

static void
push(struct sim *sim, struct pend *p, uint8_t type, int64_t ts)
{
	p->type = type;
	p->ts = ts;
	p->seq = sim->seq++;
	heap_push(&sim->heap, p);
}

static int64_t
sync_or_dsn(struct rng *r, double sync_share)
{
	if (bern(r, sync_share))
		return (int64_t)range(r, 1 * MS_SEC, 20 * MS_SEC);
	return (int64_t)lognormal(r, 10 * MS_MIN, 1.5);
}

/* What happens after delivery: proxies, scanners, people. */
static void
engagement(struct sim *sim, struct acct *a, struct pend *p,
	   const struct quality *q, int apple, int corp, int fbl)
{
	struct rng *r = &sim->rng;
	int64_t ts = p->send_ts;
	int inbox = bern(r, q->inbox);

	if (a->tracked && inbox && apple)
		push(sim, p, bern(r, 0.03) ? F_OPEN_LEAK : F_OPEN_MACHINE,
		     ts + (int64_t)range(r, 1 * MS_MIN, 30 * MS_MIN));
	if (a->tracked && corp && mix64(p->rcpt ^ 0x5c) % 10 < 3)
		push(sim, p, bern(r, 0.03) ? F_CLICK_LEAK : F_CLICK_MACHINE,
		     ts + (int64_t)range(r, 1 * MS_SEC, 60 * MS_SEC));
	if (bern(r, q->engage)) {
		int64_t t = ts + 30 * MS_SEC +
			    (int64_t)lognormal(r, 2 * MS_HOUR, 1.6);

		if (a->tracked) {
			push(sim, p, F_OPEN, t);
			if (bern(r, 0.2))
				push(sim, p, F_CLICK,
				     t + (int64_t)lognormal(r, MS_MIN, 1));
		}
	}
	/* People unsubscribe when they read the message. */
	if (bern(r, q->unsub))
		push(sim, p, F_UNSUB,
		     ts + MS_MIN + (int64_t)lognormal(r, 2 * MS_HOUR, 1.6));
	if (fbl && bern(r, q->complaint))
		push(sim, p, F_COMPLAINT,
		     ts + MS_MIN + (int64_t)lognormal(r, 4 * MS_HOUR, 1.3));
}

/* One send: the sent event now, its feedback into the heap. */
static void
deliver(struct sim *sim, struct acct *a, struct stream *s, int64_t ts,
	uint32_t rcpt_acct, uint32_t rcpt, const struct quality *q,
	uint32_t fp_num)
{
	struct rng *r = &sim->rng;
	uint64_t h = mix64(((uint64_t)rcpt_acct << 32) | rcpt);
	unsigned dom = rcpt_domain(h, s->consumer);
	int corp = dom >= NDOM;
	struct pend p = {
		.send_ts = ts,
		.acct = a->idx,
		.msg = ++sim->msg,
		.rcpt_acct = rcpt_acct,
		.rcpt = rcpt,
		.domain = dom,
		.fp_kind = (uint8_t)s->fp_kind,
		.fp_num = fp_num,
	};
	int apple = !corp && (domains[dom].apple || (h >> 20) % 100 < 25);
	int fbl = !corp && domains[dom].fbl;

	push(sim, &p, F_SENT, ts);
	if (bern(r, q->unknown)) {
		push(sim, &p, bern(r, 0.1) ? F_BADDOMAIN : F_UNKNOWN,
		     ts + sync_or_dsn(r, 0.75));
		return;
	}
	if (bern(r, q->policy)) {
		push(sim, &p, F_POLICY, ts + sync_or_dsn(r, 0.8));
		return;
	}
	if (bern(r, q->soft)) {
		push(sim, &p, F_SOFT,
		     ts + (int64_t)lognormal(r, 2 * MS_HOUR, 1));
		return;
	}
	engagement(sim, a, &p, q, apple, corp, fbl);
}

static uint32_t
fp_number(const struct stream *s, const struct acct *a, uint32_t rcpt,
	  int64_t ts)
{
	switch (s->fp_kind) {
	case 1:
		return (uint32_t)s->issue;
	case 2:
		return s->shared >= 0 ? (uint32_t)s->shared : rcpt % 4;
	case 3:
		return s->shared >= 0 ? (uint32_t)s->shared : 0;
	case 5:
		return 0; /* one campaign: near-duplicates cluster as one */
	case 6:
		return (uint32_t)((ts - T0) / (7 * MS_DAY));
	default:
		return 0;
	}
}

/* Recipients of a daily stream: known ones (skewed toward frequent
 * correspondents) or new ones, who then become known. */
static void
send_daily(struct sim *sim, struct acct *a, struct stream *s, int64_t ts)
{
	struct rng *r = &sim->rng;
	uint32_t rcpt, ra = a->idx + 1;

	if (s->bad && s->new_share >= 1) {
		ra = 0; /* harvested addresses, from a pool every spammer
			 * shares */
		rcpt = ++sim->harvest;
	} else if (s->list == 0 || bern(r, s->new_share)) {
		rcpt = s->list++;
	} else {
		double u = unif(r);
		rcpt = (uint32_t)(s->list * (s->fp_kind == 0 ? u * u : u));
	}
	deliver(sim, a, s, ts, ra, rcpt, &s->q, fp_number(s, a, rcpt, ts));
}

static int
campaign_due(const struct stream *s, int64_t ts)
{
	int64_t day = (ts - T0) / MS_DAY;
	int dow = (int)(day % 7), hour = (int)((ts % MS_DAY) / MS_HOUR);

	if (ts % MS_HOUR != 0 || hour != s->hour)
		return 0;
	if (s->spike_end && ts >= s->spike_start && ts < s->spike_end)
		return 1;
	return dow == s->dow || (s->per_week == 2 && dow == (s->dow + 3) % 7);
}

static void
send_campaign(struct sim *sim, struct acct *a, struct stream *s, int64_t m)
{
	struct rng *r = &sim->rng;
	int spike = s->spike_end && m >= s->spike_start && m < s->spike_end;
	int64_t n;

	if (campaign_due(s, m)) {
		s->camp_left = s->list + (spike ? s->dormant : 0);
		s->camp_pos = 0;
		s->issue++;
	}
	/* Sign-ups get a welcome message and join the list. */
	n = poisson(r, s->list * s->new_share / 7 / 1440 * daytime(m));
	for (int64_t i = 0; i < n; i++) {
		uint32_t rcpt = s->list++;
		deliver(sim, a, s, m + (int64_t)range(r, 0, MS_MIN), a->idx + 1,
			rcpt, &s->q, (uint32_t)s->issue);
	}
	n = MIN(s->camp_left, poisson(r, s->rate / 60));
	for (int64_t i = 0; i < n; i++, s->camp_left--) {
		uint32_t pos = s->camp_pos++;
		struct quality q = s->q;

		if (pos >= s->list) {
			/* The reactivated segment: older addresses. */
			q.unknown =
				0.02 + 0.04 * (double)(mix64(pos) % 100) / 100;
			q.complaint *= 2;
			q.engage /= 2;
			pos = 2000000 + (pos - s->list);
		}
		deliver(sim, a, s, m + (int64_t)range(r, 0, MS_MIN), a->idx + 1,
			pos, &q, (uint32_t)s->issue);
	}
}

static void
send_minute(struct sim *sim, struct acct *a, int64_t m)
{
	struct rng *r = &sim->rng;

	for (int i = 0; i < a->ns; i++) {
		struct stream *s = &a->s[i];
		int64_t n;

		if (m < s->start || m >= s->end)
			continue;
		switch (s->pat) {
		case P_DAILY:
			n = poisson(r, s->daily / 1440 * daytime(m));
			for (int64_t k = 0; k < n; k++)
				send_daily(sim, a, s,
					   m + (int64_t)range(r, 0, MS_MIN));
			break;
		case P_CAMPAIGN:
			send_campaign(sim, a, s, m);
			break;
		case P_BLAST:
			n = MIN(s->left, poisson(r, s->rate / 60));
			for (int64_t k = 0; k < n; k++, s->left--) {
				uint32_t ra = s->bad ? 0 : a->idx + 1;
				uint32_t rcpt =
					s->bad ? ++sim->harvest
					       : 3000000 + (uint32_t)s->left;
				deliver(sim, a, s,
					m + (int64_t)range(r, 0, MS_MIN), ra,
					rcpt, &s->q, fp_number(s, a, rcpt, m));
			}
			break;
		default:
			break;
		}
	}
}

/* ---- the baseline: SES-style fixed rates over 7 days ------------------- */

#define BASE_HOURS (7 * 24)
#define BASE_MIN 500

static void
base_add(struct acct *a, int64_t send_ts, int what)
{
	int64_t hour = send_ts / MS_HOUR;
	struct base_slot *s = &a->base[hour % BASE_HOURS];

	if (s->hour != hour) {
		if (what != 0 && s->hour > hour)
			return; /* its hour left the window */
		memset(s, 0, sizeof(*s));
		s->hour = hour;
	}
	if (what == 0)
		s->sent++;
	else if (what == 1)
		s->hard++;
	else
		s->complaints++;
}

/* Hard bounces and complaints, attributed to the hour of the message
 * they concern, against all messages sent in the last 7 days. */
static void
base_eval(struct acct *a, int64_t now)
{
	int64_t hour = now / MS_HOUR, ref = a->bad ? a->onset : T0 + WARMUP;
	double sent = 0, hard = 0, compl = 0;

	if (now < ref)
		return;
	for (int i = 0; i < BASE_HOURS; i++) {
		const struct base_slot *s = &a->base[i];
		if (s->hour > hour - BASE_HOURS && s->hour <= hour) {
			sent += s->sent;
			hard += s->hard;
			compl += s->complaints;
		}
	}
	if (sent < BASE_MIN)
		return;
	if (a->review_ms < 0 &&
	    (hard / sent >= 0.05 || compl / sent >= 0.001)) {
		a->review_ms = now;
		a->review_sent = a->sent;
	}
	if (a->pause_ms < 0 && (hard / sent >= 0.10 || compl / sent >= 0.005)) {
		a->pause_ms = now;
		a->pause_sent = a->sent;
	}
}

static void
base_event(struct acct *a, const struct pend *p)
{
	switch (p->type) {
	case F_SENT:
		base_add(a, p->send_ts, 0);
		if (++a->since_eval >= 50) {
			a->since_eval = 0;
			base_eval(a, p->ts);
		}
		break;
	case F_UNKNOWN:
	case F_BADDOMAIN:
		base_add(a, p->send_ts, 1);
		base_eval(a, p->ts);
		break;
	case F_COMPLAINT:
		base_add(a, p->send_ts, 2);
		base_eval(a, p->ts);
		break;
	default:
		break;
	}
}

/* ---- output -------------------------------------------------------------- */

static void
fp_name(const struct acct *a, const struct pend *p, char *buf, size_t len)
{
	switch (p->fp_kind) {
	case 1:
		g_snprintf(buf, len, "n-%s-%u", a->name, p->fp_num);
		break;
	case 2:
		if (a->s[0].shared >= 0)
			g_snprintf(buf, len, "woo-%u", p->fp_num);
		else
			g_snprintf(buf, len, "t-%s-%u", a->name, p->fp_num);
		break;
	case 3:
		if (a->s[a->ns - 1].shared >= 0)
			g_snprintf(buf, len, "spam-%u", p->fp_num);
		else
			g_snprintf(buf, len, "c-%s", a->name);
		break;
	case 4:
		g_snprintf(buf, len, "l-%s", a->name);
		break;
	case 5:
		g_snprintf(buf, len, "s-%d", a->cluster);
		break;
	case 6:
		g_snprintf(buf, len, "b-%s-%u", a->name, p->fp_num);
		break;
	default:
		buf[0] = '\0';
	}
}

static const struct {
	const char *type, *reason, *klass;
	int machine;
} ftypes[] = {
	[F_SENT] = { "sent", NULL, NULL, -1 },
	[F_UNKNOWN] = { "bounce", "userunknown", "hard", -1 },
	[F_BADDOMAIN] = { "bounce", "hostunknown", "hard", -1 },
	[F_POLICY] = { "bounce", "spamdetected", "soft", -1 },
	[F_SOFT] = { "bounce", "mailboxfull", "soft", -1 },
	[F_COMPLAINT] = { "complaint", NULL, NULL, -1 },
	[F_OPEN] = { "open", NULL, NULL, 0 },
	[F_OPEN_MACHINE] = { "open", NULL, NULL, 1 },
	[F_OPEN_LEAK] = { "open", NULL, NULL, 0 },
	[F_CLICK] = { "click", NULL, NULL, 0 },
	[F_CLICK_MACHINE] = { "click", NULL, NULL, 1 },
	[F_CLICK_LEAK] = { "click", NULL, NULL, 0 },
	[F_UNSUB] = { "unsubscribe", NULL, NULL, -1 },
};

/* One JSON line per event, through json-glib (one object reused). */
static void
emit(struct sim *sim, const struct pend *p)
{
	struct acct *a = sim->accts->pdata[p->acct];
	JsonObject *o = json_object_new();
	JsonNode *n;
	char buf[64], msg[16], rcpt[96], dom[32];

	json_object_set_int_member(o, "ts", p->ts);
	json_object_set_string_member(o, "type", ftypes[p->type].type);
	json_object_set_string_member(o, "account", a->name);
	g_snprintf(msg, sizeof(msg), "m%u", p->msg);
	json_object_set_string_member(o, "message", msg);
	if (p->type == F_SENT) {
		if (p->rcpt_acct)
			g_snprintf(rcpt, sizeof(rcpt), "r%u.%u@%s", p->rcpt,
				   p->rcpt_acct,
				   domain_name(p->domain, dom, sizeof(dom)));
		else
			g_snprintf(rcpt, sizeof(rcpt), "h%u@%s", p->rcpt,
				   domain_name(p->domain, dom, sizeof(dom)));
		json_object_set_string_member(o, "recipient", rcpt);
		json_object_set_boolean_member(o, "tracked", a->tracked);
		fp_name(a, p, buf, sizeof(buf));
		if (buf[0])
			json_object_set_string_member(o, "fingerprint", buf);
		if (p->ts >= a->onset && !a->onset_counted) {
			a->onset_counted = 1;
			a->sent_at_onset = a->sent;
		}
		a->sent++;
	}
	if (ftypes[p->type].reason) {
		json_object_set_string_member(o, "reason",
					      ftypes[p->type].reason);
		json_object_set_string_member(o, "class",
					      ftypes[p->type].klass);
	}
	if (ftypes[p->type].machine >= 0)
		json_object_set_boolean_member(o, "machine",
					       ftypes[p->type].machine);
	n = json_node_init_object(json_node_alloc(), o);
	json_generator_set_root(sim->gen, n);
	json_node_unref(n);
	json_object_unref(o);
	g_string_truncate(sim->line, 0);
	json_generator_to_gstring(sim->gen, sim->line);
	g_string_append_c(sim->line, '\n');
	fwrite(sim->line->str, 1, sim->line->len, sim->out);
	sim->events++;
	base_event(a, p);
}

static void
run(struct sim *sim)
{
	for (int64_t m = T0; m < sim->end; m += MS_MIN) {
		for (guint i = 0; i < sim->accts->len; i++)
			send_minute(sim, sim->accts->pdata[i], m);
		while (sim->heap.n && sim->heap.v[0].ts < m + MS_MIN) {
			struct pend p = heap_pop(&sim->heap);
			if (p.ts < sim->end)
				emit(sim, &p);
		}
	}
}

static void
write_truth(struct sim *sim, FILE *f)
{
	static const char *const kinds[] = { "legit", "grey", "bad" };
	JsonGenerator *g = json_generator_new();

	for (guint i = 0; i < sim->accts->len; i++) {
		struct acct *a = sim->accts->pdata[i];
		JsonObject *o = json_object_new();
		JsonNode *n = json_node_init_object(json_node_alloc(), o);
		char *s;

		json_object_set_string_member(o, "account", a->name);
		json_object_set_string_member(o, "archetype",
					      archs[a->arch].name);
		json_object_set_string_member(o, "kind",
					      kinds[archs[a->arch].kind]);
		json_object_set_int_member(o, "onset_ms", a->onset);
		json_object_set_int_member(o, "sent_at_onset",
					   a->onset_counted ? a->sent_at_onset
							    : a->sent);
		json_object_set_int_member(o, "sent", a->sent);
		json_object_set_int_member(o, "review_ms", a->review_ms);
		json_object_set_int_member(o, "review_sent", a->review_sent);
		json_object_set_int_member(o, "pause_ms", a->pause_ms);
		json_object_set_int_member(o, "pause_sent", a->pause_sent);
		json_generator_set_root(g, n);
		s = json_generator_to_data(g, NULL);
		fprintf(f, "%s\n", s);
		g_free(s);
		json_node_unref(n);
		json_object_unref(o);
	}
	g_object_unref(g);
}

static void
acct_free(gpointer p)
{
	struct acct *a = p;

	g_free(a->base);
	g_free(a);
}

static void
sim_clear(struct sim *sim)
{
	g_free(sim->heap.v);
	g_ptr_array_free(sim->accts, TRUE);
	g_object_unref(sim->gen);
	g_string_free(sim->line, TRUE);
}

static int
cmd_gen(int argc, char **argv)
{
	struct sim sim = { .scale = 1, .days = 42 };
	gint64 seed = 1;
	gdouble scale = 1;
	gint days = 42;
	GOptionEntry entries[] = {
		{ "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed (1)", "N" },
		{ "scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale,
		  "Population size factor (1)", "F" },
		{ "days", 0, 0, G_OPTION_ARG_INT, &days,
		  "Simulated days, 14 of them warm-up (42)", "D" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new("EVENTS TRUTH");
	GError *e = NULL;
	FILE *truth;
	static char buf[1 << 20];

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &e) || argc != 3 ||
	    days < 28 || scale <= 0) {
		fprintf(stderr, "scoring_sim gen: %s\n",
			e ? e->message
			  : "EVENTS TRUTH expected, days >= 28, scale > 0");
		return 2;
	}
	g_option_context_free(ctx);
	rng_seed(&sim.rng, (uint64_t)seed);
	sim.scale = scale;
	sim.days = days;
	sim.end = T0 + days * MS_DAY;
	sim.accts = g_ptr_array_new_with_free_func(acct_free);
	sim.out = fopen(argv[1], "w");
	truth = fopen(argv[2], "w");
	if (!sim.out || !truth) {
		perror("scoring_sim gen");
		return 1;
	}
	setvbuf(sim.out, buf, _IOFBF, sizeof(buf));
	sim.gen = json_generator_new();
	sim.line = g_string_new(NULL);
	populate(&sim);
	run(&sim);
	write_truth(&sim, truth);
	if (fclose(sim.out) != 0 || fclose(truth) != 0) {
		perror("scoring_sim gen");
		return 1;
	}
	fprintf(stderr,
		"scoring_sim: %u accounts, %" G_GINT64_FORMAT
		" events, %u messages\n",
		sim.accts->len, sim.events, sim.msg);
	sim_clear(&sim);
	return 0;
}

/* ---- evaluation ------------------------------------------------------------ */

struct truth {
	char *account, *archetype, *kind;
	int64_t onset, sent_at_onset, sent;
	int64_t review_ms, review_sent, pause_ms, pause_sent;
	GArray *changes; /* struct change, in time order */
};

struct change {
	int64_t ts, sent;
	int to;
};

static int
state_level(const char *s)
{
	static const char *const names[] = { "ok", "watch", "throttle",
					     "block" };

	for (int i = 0; i < 4; i++)
		if (g_strcmp0(s, names[i]) == 0)
			return i;
	return -1;
}

typedef void (*line_fn)(void *ud, JsonObject *o);

static int
read_jsonl(const char *path, line_fn fn, void *ud)
{
	FILE *f = fopen(path, "r");
	JsonParser *ps;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rc = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	ps = json_parser_new_immutable();
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		JsonNode *root;
		lineno++;
		if (!json_parser_load_from_data(ps, line, n, NULL) ||
		    !(root = json_parser_get_root(ps)) ||
		    !JSON_NODE_HOLDS_OBJECT(root)) {
			fprintf(stderr, "%s:%ld: not a JSON object\n", path,
				lineno);
			rc = -1;
		} else {
			fn(ud, json_node_get_object(root));
		}
	}
	free(line);
	fclose(f);
	g_object_unref(ps);
	return rc;
}

static void
truth_line(void *ud, JsonObject *o)
{
	GHashTable *h = ud;
	struct truth *t = g_new0(struct truth, 1);

	t->account = g_strdup(json_object_get_string_member(o, "account"));
	t->archetype = g_strdup(json_object_get_string_member(o, "archetype"));
	t->kind = g_strdup(json_object_get_string_member(o, "kind"));
	t->onset = json_object_get_int_member(o, "onset_ms");
	t->sent_at_onset = json_object_get_int_member(o, "sent_at_onset");
	t->sent = json_object_get_int_member(o, "sent");
	t->review_ms = json_object_get_int_member(o, "review_ms");
	t->review_sent = json_object_get_int_member(o, "review_sent");
	t->pause_ms = json_object_get_int_member(o, "pause_ms");
	t->pause_sent = json_object_get_int_member(o, "pause_sent");
	t->changes = g_array_new(FALSE, FALSE, sizeof(struct change));
	g_hash_table_insert(h, t->account, t);
}

static void
change_line(void *ud, JsonObject *o)
{
	GHashTable *h = ud;
	struct truth *t = g_hash_table_lookup(
		h, json_object_get_string_member(o, "account"));
	struct change c = {
		.ts = json_object_get_int_member(o, "ts"),
		.sent = json_object_get_int_member(o, "sent"),
		.to = state_level(json_object_get_string_member(o, "to")),
	};

	if (t)
		g_array_append_val(t->changes, c);
}

/* Highest state at any time in [from, inf). */
static int
max_state_after(const struct truth *t, int64_t from)
{
	int cur = 0, max;

	for (guint i = 0; i < t->changes->len; i++) {
		const struct change *c =
			&g_array_index(t->changes, struct change, i);
		if (c->ts >= from)
			break;
		cur = c->to;
	}
	max = cur;
	for (guint i = 0; i < t->changes->len; i++) {
		const struct change *c =
			&g_array_index(t->changes, struct change, i);
		if (c->ts >= from && c->to > max)
			max = c->to;
	}
	return max;
}

/* Messages from onset to the first throttle or block; -1: never. */
static int64_t
fbld_delay(const struct truth *t, int64_t *ms)
{
	int cur = 0;

	for (guint i = 0; i < t->changes->len; i++) {
		const struct change *c =
			&g_array_index(t->changes, struct change, i);
		if (c->ts < t->onset) {
			cur = c->to;
			continue;
		}
		if (cur >= 2) {
			*ms = 0;
			return 0;
		}
		if (c->to >= 2) {
			*ms = c->ts - t->onset;
			return MAX(0, c->sent - t->sent_at_onset);
		}
	}
	if (cur >= 2) {
		*ms = 0;
		return 0;
	}
	return -1;
}

static int
cmp_i64(gconstpointer a, gconstpointer b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	/* Misses (-1) sort last: they are later than any detection. */
	if (x < 0)
		x = INT64_MAX;
	if (y < 0)
		y = INT64_MAX;
	return x < y ? -1 : x > y;
}

static int64_t
quantile(GArray *v, double q)
{
	if (!v->len)
		return -1;
	g_array_sort(v, cmp_i64);
	return g_array_index(v, int64_t, (guint)(q * (v->len - 1) + 0.5));
}

static void
fmt_delay(char *buf, size_t len, int64_t v)
{
	if (v < 0)
		g_snprintf(buf, len, "miss");
	else
		g_snprintf(buf, len, "%" G_GINT64_FORMAT, v);
}

struct group {
	int n, watch, throttle, block, review, pause;
	GArray *fd, *bd, *ms; /* delays (fbld, baseline), fbld ms */
};

static void
group_add(struct group *g, const struct truth *t)
{
	int64_t ms = -1, d;

	g->n++;
	if (strcmp(t->kind, "bad") != 0) {
		int m = max_state_after(t, T0 + WARMUP);
		g->watch += m >= 1;
		g->throttle += m >= 2;
		g->block += m >= 3;
		g->review += t->review_ms >= 0;
		g->pause += t->pause_ms >= 0;
		return;
	}
	d = fbld_delay(t, &ms);
	g_array_append_val(g->fd, d);
	g_array_append_val(g->ms, ms);
	d = t->pause_ms >= 0 ? MAX(0, t->pause_sent - t->sent_at_onset) : -1;
	g_array_append_val(g->bd, d);
	g->throttle += ms >= 0;
	g->pause += t->pause_ms >= 0;
	g->review += t->review_ms >= 0;
}

static double
pct(int k, int n)
{
	return n ? 100.0 * k / n : 0;
}

static void
print_bad(const char *name, struct group *g)
{
	char m1[24], m2[24], b1[24], b2[24], t[24];
	int64_t ms;

	fmt_delay(m1, sizeof(m1), quantile(g->fd, 0.5));
	fmt_delay(m2, sizeof(m2), quantile(g->fd, 0.9));
	fmt_delay(b1, sizeof(b1), quantile(g->bd, 0.5));
	fmt_delay(b2, sizeof(b2), quantile(g->bd, 0.9));
	ms = quantile(g->ms, 0.5);
	if (ms < 0)
		g_snprintf(t, sizeof(t), "-");
	else
		g_snprintf(t, sizeof(t), "%.0f min", ms / 60000.0);
	printf("  %-22s %5d  %6.1f%% %7s %7s %9s | %6.1f%% %7s %7s\n", name,
	       g->n, pct(g->throttle, g->n), m1, m2, t, pct(g->pause, g->n), b1,
	       b2);
}

/* Medians over the bad accounts that both detectors flagged. */
static void
paired(const struct group *g, int64_t *fm, int64_t *bm, int *n)
{
	GArray *f = g_array_new(FALSE, FALSE, sizeof(int64_t));
	GArray *b = g_array_new(FALSE, FALSE, sizeof(int64_t));

	for (guint i = 0; i < g->fd->len; i++) {
		int64_t x = g_array_index(g->fd, int64_t, i);
		int64_t y = g_array_index(g->bd, int64_t, i);
		if (x >= 0 && y >= 0) {
			g_array_append_val(f, x);
			g_array_append_val(b, y);
		}
	}
	*n = (int)f->len;
	*fm = quantile(f, 0.5);
	*bm = quantile(b, 0.5);
	g_array_free(f, TRUE);
	g_array_free(b, TRUE);
}

static void
group_init(struct group *g)
{
	memset(g, 0, sizeof(*g));
	g->fd = g_array_new(FALSE, FALSE, sizeof(int64_t));
	g->bd = g_array_new(FALSE, FALSE, sizeof(int64_t));
	g->ms = g_array_new(FALSE, FALSE, sizeof(int64_t));
}

static void
group_clear(struct group *g)
{
	g_array_free(g->fd, TRUE);
	g_array_free(g->bd, TRUE);
	g_array_free(g->ms, TRUE);
}

static void
print_legit(struct group *gs, struct group *legit)
{
	printf("Legitimate accounts (state reached after the %d-day warm-up)\n",
	       (int)(WARMUP / MS_DAY));
	printf("  %-22s %5s  %7s %8s %6s | %8s %7s\n", "archetype", "n",
	       "watch+", "throttle", "block", "review", "pause");
	for (int i = 0; i < A_N; i++) {
		struct group *g = &gs[i];
		if (archs[i].kind == BAD)
			continue;
		if (archs[i].kind == GREY)
			printf("  (grey: a legitimate one-off blast to an old "
			       "list, not counted as legitimate)\n");
		printf("  %-22s %5d  %6.1f%% %7.1f%% %6d | %7.1f%% %6.1f%%\n",
		       archs[i].name, g->n, pct(g->watch, g->n),
		       pct(g->throttle, g->n), g->block, pct(g->review, g->n),
		       pct(g->pause, g->n));
	}
	printf("  %-22s %5d  %6.1f%% %7.2f%% %6d | %7.1f%% %6.1f%%\n",
	       "all legitimate", legit->n, pct(legit->watch, legit->n),
	       pct(legit->throttle, legit->n), legit->block,
	       pct(legit->review, legit->n), pct(legit->pause, legit->n));
}

/* Prints the bad archetypes; returns the lowest recall and its name. */
static double
print_bads(struct group *gs, struct group *bad, const char **worst_name)
{
	double worst = 101;

	printf("\nBad accounts: flagged = throttle or block after onset; delay "
	       "= messages sent\nfrom onset to the flag (median, 90th "
	       "percentile); baseline flag = pause\n");
	printf("  %-22s %5s  %7s %7s %7s %9s | %7s %7s %7s\n", "archetype", "n",
	       "flagged", "median", "p90", "time", "flagged", "median", "p90");
	for (int i = 0; i < A_N; i++) {
		if (archs[i].kind != BAD)
			continue;
		print_bad(archs[i].name, &gs[i]);
		if (pct(gs[i].throttle, gs[i].n) < worst) {
			worst = pct(gs[i].throttle, gs[i].n);
			*worst_name = archs[i].name;
		}
	}
	print_bad("all bad", bad);
	return worst;
}

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		int c_ = (cond);                                               \
		ok &= c_;                                                      \
		printf("  [%s] ", c_ ? "PASS" : "FAIL");                       \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

static int
targets(struct group *legit, struct group *bad, double worst,
	const char *worst_name)
{
	int64_t fm = quantile(bad->fd, 0.5), bm = quantile(bad->bd, 0.5);
	int64_t pf, pb;
	char bms[32];
	int ok = 1, np;

	paired(bad, &pf, &pb, &np);
	printf("  (accounts both flagged: %d, median delay fbld "
	       "%" G_GINT64_FORMAT ", baseline %" G_GINT64_FORMAT ")\n",
	       np, pf, pb);
	printf("\nTargets\n");
	CHECK(worst >= 99,
	      "every bad archetype flagged >= 99%% (lowest: %s "
	      "%.1f%%)",
	      worst_name, worst);
	CHECK(legit->block == 0, "no legitimate account blocked (%d)",
	      legit->block);
	CHECK(pct(legit->throttle, legit->n) <= 0.2,
	      "legitimate accounts throttled <= 0.2%% (%.2f%%, %d of %d)",
	      pct(legit->throttle, legit->n), legit->throttle, legit->n);
	CHECK(pct(legit->watch, legit->n) <= 3,
	      "legitimate accounts on watch <= 3%% (%.2f%%, %d of %d)",
	      pct(legit->watch, legit->n), legit->watch, legit->n);
	g_snprintf(bms, sizeof(bms), "%" G_GINT64_FORMAT, bm);
	CHECK(fm >= 0 && (bm < 0 || 3 * fm <= bm),
	      "median detection delay <= baseline / 3 (fbld %" G_GINT64_FORMAT
	      " vs baseline %s messages, a miss counting as never)",
	      fm, bm < 0 ? "miss" : bms);
	CHECK(np > 0 && 3 * pf <= pb,
	      "... and over the accounts both flagged (fbld %" G_GINT64_FORMAT
	      " vs baseline %" G_GINT64_FORMAT " messages, %.1fx)",
	      pf, pb, pf > 0 ? (double)pb / pf : INFINITY);
	printf("%s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}

static int
report(GHashTable *h)
{
	struct group gs[A_N], legit, bad;
	GHashTableIter it;
	struct truth *t;
	const char *worst_name = "";
	double worst;
	int rc;

	for (int i = 0; i < A_N; i++)
		group_init(&gs[i]);
	group_init(&legit);
	group_init(&bad);
	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&t)) {
		for (int i = 0; i < A_N; i++)
			if (strcmp(archs[i].name, t->archetype) == 0) {
				group_add(&gs[i], t);
				if (archs[i].kind == LEGIT)
					group_add(&legit, t);
				if (archs[i].kind == BAD)
					group_add(&bad, t);
			}
	}
	print_legit(gs, &legit);
	worst = print_bads(gs, &bad, &worst_name);
	rc = targets(&legit, &bad, worst, worst_name);
	for (int i = 0; i < A_N; i++)
		group_clear(&gs[i]);
	group_clear(&legit);
	group_clear(&bad);
	return rc;
}

static void
truth_free(gpointer p)
{
	struct truth *t = p;

	g_free(t->account);
	g_free(t->archetype);
	g_free(t->kind);
	g_array_free(t->changes, TRUE);
	g_free(t);
}

static int
cmd_eval(int argc, char **argv)
{
	GHashTable *h;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: scoring_sim eval TRUTH CHANGES\n");
		return 2;
	}
	h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, truth_free);
	if (read_jsonl(argv[1], truth_line, h) < 0 ||
	    read_jsonl(argv[2], change_line, h) < 0)
		rc = 2;
	else
		rc = report(h);
	g_hash_table_destroy(h);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "gen") == 0)
		return cmd_gen(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "eval") == 0)
		return cmd_eval(argc - 1, argv + 1);
	if (argc == 2 && strcmp(argv[1], "version") == 0) {
		printf("population %d\n", POPULATION_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: scoring_sim gen [--seed N] [--scale F] "
			"[--days D] EVENTS TRUTH\n"
			"       scoring_sim eval TRUTH CHANGES\n"
			"       scoring_sim version\n");
	return 2;
}
