/*
 * dsn_int: what the files of dsn/ share; not for other modules.
 *
 *   msg.c      the view of one bounce: headers, the readable text (decoded,
 *              bounded, split into lines, with a lower-case twin for
 *              matching), the delivery-status fields, the returned message
 *   text.c     small string tools: addresses, RFC 3463 codes, reply codes
 *   rfc3464.c  the delivery-status fields (RFC 3464, RFC 6533)
 *   lhost*.c   recognisers of the plain-text formats of MTAs and providers
 *   reason.c   the taxonomy: phrase tables, status codes, precedence
 *   rhost.c    code tables of receiving providers
 *   dsn.c      the classifier: ties the above together, fills the report
 *
 * Every string in these structs is owned by its struct (g_free).
 */
#ifndef FBLD_DSN_INT_H
#define FBLD_DSN_INT_H

#include <gmime/gmime.h>
#include <stddef.h>

#include "dsn/dsn.h"

/* One line of the readable text; s and lc point at the same offset of the
 * text and of its lower-case twin; neither is NUL-terminated at len. */
struct dsn_line {
	const char *s;
	const char *lc;
	size_t len;
};

/* Trigrams of a lower-case text (text.c): a prefilter for memmem. */
#define DSN_TRI_BITS 32768

struct dsn_tri {
	guint64 bits[DSN_TRI_BITS / 64];
};

void dsn_tri_fill(struct dsn_tri *t, const char *lc, size_t len);
/* 0 when needle (lower case; pieces split by \x1f) cannot occur. */
int dsn_tri_may(const struct dsn_tri *t, const char *needle);
/* The hashes dsn_tri_may tests for needle, in its order, at most max of
 * them into h; returns their count. A needle is ruled out exactly when
 * one of them is not in a table (dsn_tri_has); a list cut short rules
 * out fewer needles, never a wrong one. */
size_t dsn_tri_sig(const char *needle, guint16 *h, size_t max);

/* Whether the trigram hash h (dsn_tri_sig) is in t. */
static inline int
dsn_tri_has(const struct dsn_tri *t, unsigned h)
{
	return (t->bits[h / 64] >> (h % 64)) & 1;
}

struct dsn_msg_memo;

struct dsn_msg {
	GMimeMessage *msg;
	char *from;    /* address of From:, lower case, "" when none */
	char *subject; /* decoded Subject:, "" when none */
	char *text;    /* readable text before the returned message */
	char *lower;   /* the same, ASCII lower case */
	size_t text_len;
	struct dsn_line *lines;
	size_t nlines;
	GString *status;	   /* message/delivery-status content */
	GMimeMessage *orig;	   /* returned message (borrowed from msg) */
	GString *orig_headers;	   /* text/rfc822-headers content */
	int report;		   /* Content-Type multipart/report */
	int feedback;		   /* an ARF report: not ours */
	int parts;		   /* leaf parts seen */
	struct dsn_msg_memo *memo; /* header values asked (msg.c), owned */
	struct dsn_tri tri; /* trigrams of lower; stays last (dsn_msg_new) */
};

/* One recipient while a bounce is read. */
struct dsn_rcpt {
	char *addr;	    /* final recipient */
	char *orig;	    /* original recipient */
	char *action;	    /* failed, delayed, delivered, relayed, expanded */
	char *status;	    /* RFC 3463 code as found */
	char *diag;	    /* diagnostic text */
	char *spec;	    /* diagnostic type: smtp, x-unix, ... */
	char *rhost;	    /* remote MTA */
	char *lhost;	    /* reporting MTA */
	char *command;	    /* SMTP command the reply answered: RCPT, DATA... */
	char *context;	    /* more text weighed for the reason, not shown */
	char *bad_action;   /* an Action: value RFC 3464 does not know */
	const char *reason; /* set by a recogniser that knows better */
};

struct dsn_result {
	GPtrArray *rcpts; /* struct dsn_rcpt * */
	const char *agent;
	char *envid;
	char *lhost;	      /* Reporting-MTA */
	const char *category; /* an MTA's own bounce category, as a reason */
};

/* ---- msg.c --------------------------------------------------------- */

struct dsn_msg *dsn_msg_new(GMimeMessage *msg);
void dsn_msg_free(struct dsn_msg *m);
/* The first header called name of the bounce itself, unfolded and decoded
 * as g_mime_header_get_value gives it (borrowed, lives as long as m), or
 * NULL. The headers the recognisers ask for are looked up once. */
const char *dsn_msg_header(const struct dsn_msg *m, const char *name);
/* Index of the first line at or after from whose lower-case text contains
 * needle (lower case), or m->nlines. */
size_t dsn_msg_find(const struct dsn_msg *m, size_t from, const char *needle);
/* Same, for any of a NULL-terminated list. */
size_t dsn_msg_find_any(const struct dsn_msg *m, size_t from,
			const char *const *needles);
/* 1 when the lower-case text contains needle. */
int dsn_msg_has(const struct dsn_msg *m, const char *needle);

/* ---- text.c -------------------------------------------------------- */

/* memmem over lower-case haystack and needle. */
const char *dsn_find(const char *hay, size_t len, const char *needle);
/* ASCII case-insensitive search of a lower-case needle. */
const char *dsn_casefind(const char *hay, size_t len, const char *needle);
int dsn_starts(const char *s, size_t len, const char *prefix);
/* The first e-mail address in s[0..len): angle-bracketed ones first.
 * Returns a new string with the domain in lower case, or NULL; *end (may
 * be NULL) gets the offset just past it. */
char *dsn_addr_find(const char *s, size_t len, size_t *end);
/* 1 when s looks like local@domain.tld. */
int dsn_addr_valid(const char *s);
/* The best RFC 3463 code in s[0..len) into out (at least 12 bytes):
 * 1 found, 0 none. class_hint '2', '4', '5' or 0. */
int dsn_status_find(const char *s, size_t len, char class_hint, char *out);
/* The SMTP reply code (2xx, 4xx, 5xx) s begins with or contains. */
int dsn_reply_find(const char *s, size_t len, char *out);
/* Which of Status: and the code found in the text to keep (RFC 3463 codes
 * both; reply may be ""): returns one of the two. */
const char *dsn_status_prefer(const char *field, const char *found,
			      const char *reply);
/* The SMTP command a reply answered, named in s ("RCPT", "DATA", ...). */
const char *dsn_command_find(const char *s, size_t len);
/* A copy of s[0..len) in ASCII lower case, NUL-terminated. */
char *dsn_lower(const char *s, size_t len);
/* g_strndup of s[0..len) with blanks around removed; NULL when empty. */
char *dsn_strip(const char *s, size_t len);
/* Appends to *dst (a g_malloc'd string or NULL) with one space between,
 * collapsing runs of blanks; bounded to REPORT_FIELD_MAX. */
void dsn_append(char **dst, const char *s, size_t len);
void dsn_set(char **dst, const char *s);

/* ---- rfc3464.c ----------------------------------------------------- */

/* Reads the delivery-status fields (m->status, or text in the body that
 * has their shape); 1 when there were recipients. */
int dsn_rfc3464(const struct dsn_msg *m, struct dsn_result *res);
/* Reads fields from arbitrary text lines [first, last) of m. */
int dsn_rfc3464_lines(const struct dsn_msg *m, size_t first, size_t last,
		      struct dsn_result *res);

/* ---- lhost*.c ------------------------------------------------------ */

/* Tries the recognisers of non-standard formats; 1 when one matched and
 * found at least one recipient (res->agent names it). */
int dsn_lhost(const struct dsn_msg *m, struct dsn_result *res);
/* Enriches RFC 3464 results with the readable part (transcripts that say
 * more than Diagnostic-Code). */
void dsn_lhost_enrich(const struct dsn_msg *m, struct dsn_result *res);
/* Reasons an MTA states in its own words beside its RFC 3464 fields. */
void dsn_lhost_refine(const struct dsn_msg *m, struct dsn_result *res);

/* ---- reason.c ------------------------------------------------------ */

/* Decides rc's reason (a static string of the taxonomy) from what the
 * recogniser set, the provider, the diagnostic, the status and the
 * command. */
const char *dsn_reason_decide(const struct dsn_rcpt *rc);
/* The reason a status code means by itself, or NULL. */
const char *dsn_reason_of_status(const char *status);
/* The first reason whose phrases occur in lower-case text lc, trying only
 * the reasons named in order (NULL-terminated), or NULL. */
const char *dsn_reason_match(const char *lc, const char *const *order);
/* 1 when lc contains a phrase of reason. */
int dsn_reason_says(const char *lc, const char *reason);

/* ---- ses.c --------------------------------------------------------- */

/* Amazon SES notifications (JSON by e-mail); may set r->kind to ARF for a
 * complaint. 1 when recognised with recipients. */
int dsn_ses(const struct dsn_msg *m, struct dsn_result *res, struct report *r);

/* ---- rhost.c ------------------------------------------------------- */

/* A receiving provider's own reading of its replies, or NULL. */
const char *dsn_rhost_reason(const struct dsn_rcpt *rc, const char *lc);

/* ---- dsn.c --------------------------------------------------------- */

struct dsn_rcpt *dsn_result_add(struct dsn_result *res, const char *addr);
/* The recipient with this address (case-insensitive), or NULL. */
struct dsn_rcpt *dsn_result_find(struct dsn_result *res, const char *addr);

#endif
