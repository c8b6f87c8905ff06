/*
 * engine: the scoring engine. Pure: events in (each with its own
 * timestamp), state changes out through a callback; no store, no clock,
 * no I/O. The daemon's scoring job (job.c) and `fbld replay` (replay.c)
 * drive this same code, the first from the store, the second from a
 * JSON-lines file with a simulated clock.
 *
 * Per account it keeps delay-corrected exposures and sequential tests
 * (CUSUMs in nats) for unknown-user bounces, policy rejections, complaints
 * (against mail to providers that report them), human engagement (lower
 * tail) and unsubscribes; volume against the account's own history and
 * the share of never-mailed recipients; hourly and daily counters for the
 * windows the reasons quote; its own long-run rates, shrunk toward the
 * population, which set its null hypotheses. Per content fingerprint it
 * pools the same tests over every account sending it. The states ok,
 * watch, throttle, block follow from the combined score with gates,
 * hysteresis and dwell times; an operator override masks the scored state
 * until it expires. docs/scoring.md explains the choices and the numbers.
 *
 * Ownership: the engine borrows params for its lifetime. Strings in
 * events are borrowed for the call. A change passed to the callback, and
 * everything it points to, lives for the call only.
 *
 * Time: events may arrive slightly out of order; each account's clock
 * only moves forward (an older timestamp counts as the account's latest).
 *
 * Limits: accounts are 32-bit ids; memory is about 3 KiB per account plus
 * the recipient filter (2 x params->rcpt_filter_bytes) and about 300 bytes
 * per fingerprint seen in the last 30 days.
 */
#ifndef FBLD_SCORING_ENGINE_H
#define FBLD_SCORING_ENGINE_H

#include <glib.h>
#include <stdint.h>

#include "scoring/params.h"

enum scoring_state {
	SCORING_OK,
	SCORING_WATCH,
	SCORING_THROTTLE,
	SCORING_BLOCK,
};

const char *scoring_state_name(enum scoring_state s);
/* 0 and *out set when name is a state, else -1. */
int scoring_state_parse(const char *name, enum scoring_state *out);

enum scoring_ev {
	SCORING_EV_SENT,
	SCORING_EV_BOUNCE,
	SCORING_EV_COMPLAINT,
	SCORING_EV_OPEN,
	SCORING_EV_CLICK,
	SCORING_EV_UNSUBSCRIBE,
};

/* How a bounce counts. */
enum scoring_bounce {
	SCORING_BOUNCE_UNKNOWN, /* user unknown: the address does not exist */
	SCORING_BOUNCE_DOMAIN,	/* host unknown: the domain does not */
	SCORING_BOUNCE_HARD,	/* other permanent failures */
	SCORING_BOUNCE_POLICY,	/* blocked, spam, policy, reputation */
	SCORING_BOUNCE_SOFT,	/* mailbox full, expired, network, ... */
	SCORING_BOUNCE_NONE,	/* not a failure (vacation, delivered) */
};

/* From the reason taxonomy and class of docs (formats.md). */
enum scoring_bounce scoring_bounce_classify(const char *reason,
					    const char *klass);

/* The feedback a message has had, as bits: what makes a later event of
 * the same kind a repeat, and whether a person engaged with it before.
 * store_scoring_prior() gives the same bits (STORE_PRIOR_*, equal). */
enum {
	SCORING_PRIOR_BOUNCE = 1,
	SCORING_PRIOR_COMPLAINT = 2,
	SCORING_PRIOR_OPEN_HUMAN = 4,
	SCORING_PRIOR_OPEN_MACHINE = 8,
	SCORING_PRIOR_CLICK_HUMAN = 16,
	SCORING_PRIOR_CLICK_MACHINE = 32,
	SCORING_PRIOR_UNSUB = 64,
};

struct scoring_event;

/* Sets ev->repeat and ev->engaged_before from prior, the bits of the
 * feedback its message had before it, and returns ev's own bit (0 for
 * an event that is not feedback), to be added for the next one. */
unsigned scoring_event_prior(struct scoring_event *ev, unsigned prior);

struct scoring_event {
	int64_t ts_ms;
	enum scoring_ev type;
	uint32_t account;
	/* sent: the recipient (for the new-recipient test and its domain's
	 * feedback loop); tracked: 1 pixel, 0 none, -1 params default. */
	const char *recipient;
	int tracked;
	/* sent and complaint: scoring_engine_fp() of the content
	 * fingerprint, 0 when none. For feedback it is the send's. */
	uint32_t fp;
	/* bounce */
	enum scoring_bounce bounce;
	/* open, click: a proxy or scanner made it */
	int machine;
	/* Set by the caller from what it knows of the message: an event of
	 * the same kind (same type and machine flag) already counted for
	 * this message and recipient (ignored then), and for a human open
	 * or click, whether a human already engaged with the message. */
	int repeat;
	int engaged_before;
	/* Out, sent only: the recipient's provider sends complaint
	 * reports. */
	int fbl;
};

enum scoring_source {
	SCORING_SRC_SCORING,
	SCORING_SRC_OPERATOR,
	SCORING_SRC_EXPIRY,
};

const char *scoring_source_name(enum scoring_source s);

struct scoring_change {
	uint32_t account;
	int64_t ts_ms;
	enum scoring_source source;
	/* The scored state (what the evidence says) and the effective one
	 * (an operator override while it lasts); either or both changed. */
	enum scoring_state scored_from, scored_to;
	enum scoring_state from, to;
	const char *const *reasons;
	size_t n_reasons;
	int64_t sent; /* messages the account had sent */
};

typedef void (*scoring_emit_fn)(void *ud, const struct scoring_change *c);

struct scoring_engine;

struct scoring_engine *scoring_engine_new(const struct scoring_params *p,
					  scoring_emit_fn emit, void *ud);
void scoring_engine_free(struct scoring_engine *e);

/* The id of a content fingerprint (interned; 0 for NULL or ""). */
uint32_t scoring_engine_fp(struct scoring_engine *e, const char *fp);

/* Takes one event; may emit changes for its account. */
void scoring_engine_feed(struct scoring_engine *e, struct scoring_event *ev);

/* Periodic work at now_ms: evaluates every active account whose last
 * evaluation is older than params->eval_interval_ms (engagement that
 * fails to arrive, dwell times, override expiry), the pooled fingerprint
 * tests and the population's statistics. Call it at least that often. */
void scoring_engine_tick(struct scoring_engine *e, int64_t now_ms);

/*
 * Pins (state >= 0) or clears (state < 0) an operator override of an
 * account until until_ms (0: no expiry). Emits a change with source
 * "operator" when the effective state changes, unless quiet (the daemon
 * learns of overrides that the CLI already recorded; a quiet pin whose
 * expiry has passed is kept so that the next evaluation records it).
 */
void scoring_engine_override(struct scoring_engine *e, uint32_t account,
			     int64_t now_ms, int state, int64_t until_ms,
			     const char *reason, int quiet);

/* The account's scored and effective states; 0, or -1 when unknown. */
int scoring_engine_state(struct scoring_engine *e, uint32_t account,
			 enum scoring_state *scored,
			 enum scoring_state *effective);

/* Marks a recipient as mailed by the account, without counting a send
 * (the daemon rebuilds its recipient filter at start). */
void scoring_engine_remember(struct scoring_engine *e, uint32_t account,
			     const char *recipient);

/* The account's statistics as a JSON object's text (counts over 1 h,
 * 24 h and 7 d, the tests, the score and its components, the states);
 * NULL for an unknown account. Caller frees. */
char *scoring_engine_stats_json(struct scoring_engine *e, uint32_t account,
				int64_t now_ms);

/*
 * Persistence (the daemon's store). Accounts and fingerprints changed
 * since the last call are passed to fn with their state serialised as a
 * GVariant (floating reference: fn may keep it with g_variant_ref_sink)
 * and marked clean. Loading takes such a variant back; a variant of an
 * unknown shape is refused with -1 (the caller starts that entry afresh).
 */
void scoring_engine_foreach_dirty_account(struct scoring_engine *e,
					  void (*fn)(void *ud, uint32_t account,
						     GVariant *v),
					  void *ud);
void scoring_engine_foreach_dirty_fp(struct scoring_engine *e,
				     void (*fn)(void *ud, const char *fp,
						GVariant *v),
				     void *ud);
int scoring_engine_load_account(struct scoring_engine *e, uint32_t account,
				GVariant *v);
int scoring_engine_load_fp(struct scoring_engine *e, const char *fp,
			   GVariant *v);
/* The engine's population state (medians, pooled rates, clocks). */
GVariant *scoring_engine_save_global(struct scoring_engine *e);
int scoring_engine_load_global(struct scoring_engine *e, GVariant *v);

/* Hourly counters of an account for the store's statistics table: calls
 * fn for each hour changed since the last call (hour start, and the
 * counters named by scoring_counter_names). */
void scoring_engine_foreach_dirty_hour(struct scoring_engine *e,
				       void (*fn)(void *ud, uint32_t account,
						  int64_t hour_ms,
						  const uint32_t *counts),
				       void *ud);

/* Names of the counters, in order, NULL-terminated. */
extern const char *const scoring_counter_names[];
#define SCORING_NCOUNTERS 17

#endif
