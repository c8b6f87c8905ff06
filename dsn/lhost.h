/*
 * lhost: what the recognisers of plain-text bounce formats share (dsn/
 * only). A recogniser is a function that looks at the bounce cheaply
 * (From:, Subject:, a marker line) and, when the format is its own, fills
 * the result; most are a profile read by lh_run_profile().
 */
#ifndef FBLD_DSN_LHOST_H
#define FBLD_DSN_LHOST_H

#include "dsn/dsn_int.h"

enum lh_shape {
	LH_ALONE,    /* recipient alone on a line, error lines below */
	LH_INDENTED, /* the same, the recipient line indented */
	LH_LEADING,  /* "rcpt: error" on one line */
	LH_ANYWHERE, /* every address mentioned, the whole text as error */
};

/* A phrase of the diagnostic (lower case) that tells the reason and/or
 * the SMTP command, in an MTA's own words. */
struct lh_says {
	const char *phrase;
	const char *reason;
	const char *command;
};

struct lh_profile {
	const char *const *start; /* the report begins after such a line */
	const char *const *stop;  /* and ends before such a line */
	enum lh_shape shape;
	const struct lh_says *says; /* NULL-terminated */
};

struct lhost_def {
	const char *name;
	int (*fn)(const struct dsn_msg *m, struct dsn_result *res);
};

/* lhost_mta.c: the recognisers in the order they are tried. */
extern const struct lhost_def lhost_table[];
/* The last resort for a bounce no recogniser knows. */
int lhost_fallback(const struct dsn_msg *m, struct dsn_result *res);

extern const char *const lh_stop_generic[];

int lh_contains(const char *s, const char *lower_needle);
int lh_contains_any(const char *s, const char *const *needles);
const char *lh_header(const struct dsn_msg *m, const char *name);
size_t lh_stop(const struct dsn_msg *m, size_t from);
int lh_is_party(const struct dsn_msg *m, const char *addr);
char *lh_line_addr_only(const struct dsn_line *l);
void lh_diag_lines(const struct dsn_msg *m, struct dsn_rcpt *rc, size_t first,
		   size_t last);
struct dsn_rcpt *lh_rcpt(struct dsn_result *res, const char *addr);
void lh_apply_says(struct dsn_result *res, const struct lh_says *says);
int lh_run_shape(const struct dsn_msg *m, enum lh_shape shape, size_t first,
		 size_t last, struct dsn_result *res);
int lh_run_profile(const struct dsn_msg *m, const struct lh_profile *p,
		   struct dsn_result *res);
int lh_failed_header(const struct dsn_msg *m, struct dsn_result *res);

#endif
