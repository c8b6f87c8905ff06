/*
 * policy: an account's sending policy at the MTA. What each account state
 * means on each submission path (docs/enforcement.md), the per-account
 * recipient rate limit, the per-account options kept as JSON in the
 * store (accounts.options), and Postfix's policy delegation protocol
 * (SMTPD_POLICY_README: "name=value" lines ending with an empty line, one
 * "action=..." line and an empty line in reply).
 *
 * Shared by the milter (every message, both paths) and the policy service
 * in `fbld serve` (per login, at RCPT). Pure: no I/O, no clock.
 *
 * Limits on untrusted input: a policy request is at most
 * POLICY_REQUEST_MAX bytes and POLICY_ATTRS_MAX attributes; names are
 * [a-z0-9_]; anything else is a protocol error (the server then closes
 * the connection without answering, as the protocol asks). Account
 * options over POLICY_OPTIONS_MAX bytes or not a JSON object are ignored
 * (defaults apply) and reported.
 */
#ifndef FBLD_POLICY_H
#define FBLD_POLICY_H

#include <glib.h>
#include <stdint.h>

#define POLICY_REQUEST_MAX 16384
#define POLICY_ATTRS_MAX 100
#define POLICY_OPTIONS_MAX 4096
#define POLICY_TEXT_MAX 200

enum policy_path {
	POLICY_PATH_SMTP,  /* smtpd: the client gets our reply */
	POLICY_PATH_LOCAL, /* sendmail(1)/pickup: nobody reads a reply */
};

enum policy_verdict {
	POLICY_PASS,
	POLICY_DEFER,  /* 4xx: the client (or pickup) retries later */
	POLICY_REJECT, /* 5xx */
	POLICY_HOLD,   /* Postfix's hold queue, for an operator */
};

struct policy_config {
	int64_t rate_limit;	/* recipients per window; 0: no limit */
	int64_t rate_window_ms; /* the window of the limit */
	enum policy_verdict local_throttle; /* PASS, DEFER or HOLD */
	enum policy_verdict local_block;    /* HOLD or REJECT */
};

struct policy_decision {
	enum policy_verdict verdict;
	const char *why;	    /* "state", "rate" or NULL when passed */
	char code[4];		    /* "451", "550" */
	char xcode[8];		    /* "4.7.1", "5.7.1" */
	char text[POLICY_TEXT_MAX]; /* reply text without the codes */
};

/* Per-account options from accounts.options; -1 means "not set, use the
 * configured default". */
struct policy_options {
	int track_opens;
	int track_clicks;
	int list_unsubscribe;
	int64_t rate_limit;
};

/*
 * The decision for one message (or one recipient at RCPT) of an account
 * in the given effective state ("ok", "watch", "throttle", "block"; an
 * unknown state counts as ok). rcpts_used is what the account sent in the
 * window including this message; limit is the account's limit (0 none).
 */
void policy_decide(const struct policy_config *pc, enum policy_path path,
		   const char *state, int64_t rcpts_used, int64_t limit,
		   struct policy_decision *d);

const char *policy_verdict_name(enum policy_verdict v);

/* Parses options JSON (NULL or "" gives all -1); -1 with an error when it
 * is not an object of the known keys with the right types. */
int policy_options_parse(const char *json, struct policy_options *o,
			 GError **error);

/* ---- the policy delegation protocol ----------------------------------- */

struct policy_request;

/* Where the first complete request ends in buf (the offset after its
 * empty line), 0 when more bytes are needed, -1 when the request exceeds
 * POLICY_REQUEST_MAX without ending. */
gssize policy_request_end(const char *buf, size_t len);
/* Parses one complete request (as delimited by policy_request_end). */
struct policy_request *policy_request_parse(const char *buf, size_t len,
					    GError **error);
void policy_request_free(struct policy_request *r);
/* An attribute's value, or NULL when absent. */
const char *policy_request_get(const struct policy_request *r,
			       const char *name);

/* The reply for Postfix: "action=DUNNO\n\n", "action=DEFER_IF_PERMIT
 * 4.7.1 text\n\n", "action=REJECT 5.7.1 text\n\n" or "action=HOLD
 * text\n\n" (caller frees). */
char *policy_reply(const struct policy_decision *d);

#define POLICY_ERROR (policy_error_quark())
GQuark policy_error_quark(void);

#endif
