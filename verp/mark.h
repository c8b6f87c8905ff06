/*
 * mark: what happens to one outbound message at end of message, apart
 * from the milter protocol itself (verp/milter.c only moves data between
 * libmilter and this module, so all of it is unit-tested without an MTA).
 *
 *   1. the account is resolved (verp/identity.h), and which source said
 *      so is recorded;
 *   2. the account's state and recipient rate limit are applied
 *      (verp/policy.h): throttle 451 4.7.1, block 550 5.7.1, or the hold
 *      queue for local submissions;
 *   3. recipients on the account's suppression list are dropped;
 *   4. a message serial is reserved and the token minted (bound to the
 *      recipient when there is one), and the send is recorded with its
 *      recipients, Message-ID, queue id, size and content fingerprint:
 *      the denominator of every rate;
 *   5. the modifications are listed: envelope sender to the account's
 *      bounce address (ENVID=token unless the client sent one), the
 *      reference header and Feedback-ID (customer-supplied copies of
 *      these and of the identity headers deleted), List-Unsubscribe and
 *      List-Unsubscribe-Post where configured and absent, and the HTML
 *      rewritten for open and click tracking where the account wants it.
 *
 * The bounce domain is, in order: the one of the sending domain (From:,
 * else the envelope sender) when that domain belongs to the same account
 * ([sender-domain:D] bounce_domain, then account_domains.bounce_domain),
 * the account's (accounts.bounce_domain), then [token] bounce_domain.
 *
 * When the store cannot be used (NULL, or an error), the message passes
 * unchanged when fail_open is set (result MARK_ACCEPT with
 * store_failed set), else it is deferred with 451 4.3.0.
 *
 * Limits on what the milter collects (untrusted): at most max_headers
 * headers are kept, each value cut at MARK_HEADER_VALUE_MAX bytes (later
 * headers are still counted by name for the ones this module edits); the
 * body is kept up to max_body bytes (a longer body is fingerprinted on its
 * beginning and never rewritten).
 *
 * Thread safety: a struct mark_msg belongs to one milter connection; the
 * struct mark_ctx is shared read-only (the recorder is thread-safe); the
 * store is the caller's, exclusively for the call.
 */
#ifndef FBLD_MARK_H
#define FBLD_MARK_H

#include <glib.h>
#include <stdint.h>

#include "verp/identity.h"
#include "verp/keys.h"
#include "verp/policy.h"

struct config;
struct store;

#define MARK_HEADER_VALUE_MAX 16384
#define MARK_RCPTS_MAX 10000

enum mark_unknown {
	MARK_UNKNOWN_ACCEPT, /* deliver unmarked (logged and counted) */
	MARK_UNKNOWN_TEMPFAIL,
	MARK_UNKNOWN_REJECT,
};

struct mark_config {
	struct identity_config identity;
	struct policy_config policy;
	int fail_open;
	enum mark_unknown unknown;
	int suppressed_refuse; /* refuse at RCPT (SMTP AUTH) instead of drop */
	int check_at_mail;     /* refuse blocked SASL logins at MAIL */
	int strip_identity_headers; /* delete the identity headers */
	int set_envid;		    /* ENVID=token when the client sent none */
	int fingerprint;
	char *feedback_id_sender; /* Feedback-ID's SenderId; "" disables */
	int track_opens;	  /* defaults, per-account options override */
	int track_clicks;
	int list_unsubscribe;
	char *unsubscribe_url; /* template with {token}; "" none */
	char *click_url;       /* template with {token} and {url} */
	char *open_url;	       /* template with {token} */
	unsigned max_headers;
	int64_t max_body;
	/* [sender-domain:D] bounce_domain: lower-case domain -> domain. */
	GHashTable *domain_bounce;
};

/* Reads [milter], [policy] (rate limit) and [sender-domain:*]. */
void mark_config_load(struct config *cfg, struct mark_config *out);
void mark_config_clear(struct mark_config *mc);

/* Where tracking URLs come from. Each returns a new string or NULL. The
 * default (mark_template_urls) fills the [milter] templates; the
 * composition root may plug the signed URLs of verp/url.h instead. */
struct mark_urls {
	char *(*click)(void *ud, const char *token, const char *href);
	char *(*open_pixel)(void *ud, const char *token);
	char *(*unsubscribe)(void *ud, const char *token);
	void *ud;
};

/* Template URLs from mc (ud = the struct mark_config). */
void mark_template_urls(const struct mark_config *mc, struct mark_urls *out);

struct recorder;

struct mark_ctx {
	const struct mark_config *mc;
	const struct token_config *tc;
	const struct mark_urls *urls;
	/* Writes the send records (group commit); NULL: one transaction on
	 * the caller's store per message. */
	struct recorder *recorder;
};

/* ---- one message ----------------------------------------------------- */

struct mark_header {
	char *name;
	char *value;
};

struct mark_msg {
	int local;		   /* arrived through pickup (sendmail(1)) */
	char *sasl_login;	   /* {auth_authen} */
	char *env_from;		   /* without <> ("" for the null sender) */
	int client_envid;	   /* the client sent ENVID= itself */
	GPtrArray *rcpts;	   /* char *, without <>, lower case */
	GPtrArray *rcpts_as_given; /* the same as the MTA gave them */
	GPtrArray *headers;	   /* struct mark_header *, in order, bounded */
	unsigned headers_seen;
	GHashTable *counts; /* lower-case name -> occurrences (edited names) */
	GByteArray *body;
	int body_truncated;
	int64_t size;	/* header and body bytes seen */
	char *queue_id; /* Postfix's {i} at end of message, or NULL */
};

struct mark_msg *mark_msg_new(void);
void mark_msg_free(struct mark_msg *m);
/* Forgets the message, keeps nothing (next transaction on a connection). */
void mark_msg_reset(struct mark_msg *m);
void mark_msg_set_from(struct mark_msg *m, const char *addr,
		       const char *const *esmtp);
void mark_msg_add_rcpt(struct mark_msg *m, const char *addr);
void mark_msg_add_header(struct mark_msg *m, const struct mark_ctx *ctx,
			 const char *name, const char *value);
void mark_msg_add_body(struct mark_msg *m, const struct mark_ctx *ctx,
		       const void *data, size_t len);

/* ---- the result --------------------------------------------------------- */

enum mark_reply {
	MARK_CONTINUE, /* apply the modifications and let the message go */
	MARK_ACCEPT,   /* let it go unchanged */
	MARK_TEMPFAIL, /* code/xcode/text */
	MARK_REJECT,   /* code/xcode/text */
	MARK_DISCARD,  /* every recipient was suppressed */
};

struct mark_hdr_edit {
	char *name;
	int index;   /* 1-based occurrence of name; 0 for an added header */
	char *value; /* NULL: delete */
};

struct mark_result {
	enum mark_reply reply;
	char code[4];
	char xcode[8];
	char text[POLICY_TEXT_MAX];
	char *chgfrom;	    /* new envelope sender, or NULL */
	char *chgfrom_args; /* "ENVID=..." or NULL */
	GPtrArray *headers; /* struct mark_hdr_edit *, in the order to apply */
	GPtrArray *del_rcpts; /* char *, as the MTA gave them */
	char *quarantine;     /* hold reason, or NULL */
	char *body;	      /* replacement body (CRLF), or NULL */
	size_t body_len;

	/* For the log line and the counters. */
	char *account;
	int64_t account_id;
	const char *source;
	const char *state;
	char token[TOKEN_LEN + 1];
	int64_t serial;
	unsigned rcpts;
	unsigned suppressed;
	unsigned links;
	int store_failed;
	char *note; /* a problem worth logging, or NULL */
};

void mark_result_init(struct mark_result *r);
void mark_result_clear(struct mark_result *r);

/* Processes the message at end of message; st may be NULL (store down).
 * Never fails: the outcome is in *r. */
void mark_process(const struct mark_ctx *ctx, struct store *st,
		  const struct mark_msg *m, int64_t now_ms,
		  struct mark_result *r);

/*
 * The checks that can run before the body arrives, for authenticated SMTP
 * clients only (the account is known from the login): at MAIL (rcpt NULL)
 * the account's state (check_at_mail), at RCPT whether the recipient is
 * suppressed (suppressed_refuse). Each costs the MTA a round trip per
 * message, so both are off by default. Fills
 * r with MARK_TEMPFAIL/MARK_REJECT or leaves MARK_CONTINUE; store trouble
 * is left for end of message to handle.
 */
void mark_envelope_check(const struct mark_ctx *ctx, struct store *st,
			 const struct mark_msg *m, const char *rcpt,
			 int64_t now_ms, struct mark_result *r);

#endif
