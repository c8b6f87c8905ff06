/*
 * replay: `fbld replay`, the scoring engine driven by a JSON-lines stream
 * of timestamped events with a simulated clock (docs formats.md). The same
 * engine as the daemon's job; the glue here keeps, in memory, what the
 * daemon finds in the store: which account and fingerprint each message
 * belongs to, and which of its feedback was already counted.
 *
 * Input lines are parsed by a strict scanner for the common shape (one
 * flat object, ASCII strings without escapes, integers, booleans, null)
 * and by json-glib for anything else, so every valid JSON object is
 * accepted and anything else is refused with its line number. Fields are
 * those of formats.md plus two extensions: "tracked" (sent: the message
 * carries the open pixel) and the event type "override" ("state": a state
 * or null to clear, "until": ms or absent, "reason": the operator's text).
 * Unknown fields are ignored.
 *
 * Output: one JSON line per change of an account's effective state,
 * {"ts", "account", "from", "to", "reasons", "sent"} plus "source"
 * (scoring, operator, expiry).
 *
 * Limits: a line of at most SCORING_REPLAY_LINE_MAX bytes; timestamps must
 * not go backwards; about 24 bytes of memory per message sent (the table
 * that ties feedback to its send).
 */
#ifndef FBLD_SCORING_REPLAY_H
#define FBLD_SCORING_REPLAY_H

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

#include "scoring/params.h"

#define SCORING_REPLAY_LINE_MAX (64 * 1024)

#define SCORING_REPLAY_ERROR (scoring_replay_error_quark())
GQuark scoring_replay_error_quark(void);

/* One input line's fields; strings are borrowed (from the line or from
 * the parser) until the next parse, NULL when absent or null. */
struct scoring_replay_rec {
	int64_t ts_ms;
	const char *type;
	const char *account;
	const char *message;
	const char *recipient;
	const char *reason;
	const char *klass;
	const char *fingerprint;
	const char *state; /* override */
	int machine;	   /* -1 absent */
	int tracked;	   /* -1 absent */
	int64_t until_ms;  /* override; 0 absent */
	int has_state;	   /* override: "state" present (null clears) */
};

struct scoring_replay_parser;

struct scoring_replay_parser *scoring_replay_parser_new(void);
void scoring_replay_parser_free(struct scoring_replay_parser *p);
/*
 * Parses one line (len bytes, no newline; the buffer is modified in place
 * and must stay valid while rec is used). Checks the presence and types
 * of the fields, not their values. fast, when not NULL, tells whether the
 * strict scanner took the line (json-glib did otherwise); with
 * SCORING_REPLAY_JSON_ONLY json-glib always does (tests compare both).
 */
#define SCORING_REPLAY_JSON_ONLY 1
int scoring_replay_parse(struct scoring_replay_parser *p, char *line,
			 size_t len, int flags, struct scoring_replay_rec *rec,
			 int *fast, GError **error);

struct scoring_replay_stats {
	int64_t lines;
	int64_t events;
	int64_t changes;
};

/* Reads every line of in, writes the changes to out. name is the input's
 * name for error messages. Stops at the first malformed line (-1, error
 * "NAME:LINE: why"). */
int scoring_replay_run(const struct scoring_params *params, FILE *in,
		       const char *name, FILE *out,
		       struct scoring_replay_stats *stats, GError **error);

#endif
