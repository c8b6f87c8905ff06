/*
 * dsn/lhost: bounces that are not RFC 3464, recognised by structure and
 * wording. Most MTAs write the same shape: some boilerplate, then for
 * each failed recipient its address on a line of its own (bare, indented,
 * between angle brackets, followed by a colon...) and the error below or
 * beside it, then a marker line and the returned message. A profile
 * (lhost_mta.c) names the markers and the shape; the engine here reads
 * it. The few formats that fit no shape have a function of their own.
 *
 * Also here: reading the readable part of RFC 3464 reports, whose
 * transcripts often say more than their Diagnostic-Code (or stand in for
 * a missing one), and DSN fields pasted into the text.
 */
#include <string.h>

#include "dsn/lhost.h"

/* Where returned messages begin, for every format (lower case). */
const char *const lh_stop_generic[] = {
	"------ this is a copy of ",
	"--- below this line is a copy of the message",
	"----- original message -----",
	"----- message header follows -----",
	"----- unsent message follows -----",
	"----- returned message -----",
	"------- returned message --------",
	"--- original message follows",
	"original message follows.",
	"--- the header of the original message is following",
	"message headers follow.",
	"below is a copy of the original message",
	"included is a copy of the message header",
	"-------original message",
	"content-type: message/rfc822",
	"content-type: text/rfc822-headers",
	NULL
};

int
lh_contains(const char *s, const char *lower_needle)
{
	return s && dsn_casefind(s, strlen(s), lower_needle) != NULL;
}

int
lh_contains_any(const char *s, const char *const *needles)
{
	for (const char *const *n = needles; n && *n; n++)
		if (lh_contains(s, *n))
			return 1;
	return 0;
}

const char *
lh_header(const struct dsn_msg *m, const char *name)
{
	return dsn_msg_header(m, name);
}

size_t
lh_stop(const struct dsn_msg *m, size_t from)
{
	return dsn_msg_find_any(m, from, lh_stop_generic);
}

/* Is this address the bounce's own sender or addressee (the original
 * sender)? Those are never failed recipients. */
int
lh_is_party(const struct dsn_msg *m, const char *addr)
{
	const char *to = lh_header(m, "To");

	if (!addr)
		return 1;
	if (m->from[0] && g_ascii_strcasecmp(m->from, addr) == 0)
		return 1;
	if (to && dsn_casefind(to, strlen(to), addr))
		return 1;
	return g_ascii_strncasecmp(addr, "mailer-daemon@", 14) == 0 ||
	       g_ascii_strncasecmp(addr, "postmaster@", 11) == 0;
}

/* The address a line consists of: optional "To:", blanks, quotes, angle
 * brackets, a trailing colon or dot; NULL when the line says more. */
char *
lh_line_addr_only(const struct dsn_line *l)
{
	const char *s = l->s, *e = l->s + l->len;
	char *a;
	size_t end = 0;

	while (s < e && (*s == ' ' || *s == '\t' || *s == '*' || *s == '-'))
		s++;
	if (e - s > 3 && g_ascii_strncasecmp(s, "to:", 3) == 0)
		s += 3;
	while (e > s && strchr(" \t:.", e[-1]))
		e--;
	while (s < e && strchr(" \t\"'<(", *s))
		s++;
	while (e > s && strchr("\"'>)", e[-1]))
		e--;
	if (s >= e || memchr(s, ' ', (size_t)(e - s)))
		return NULL;
	a = dsn_addr_find(s, (size_t)(e - s), &end);
	if (a && end < (size_t)(e - s)) {
		g_free(a);
		return NULL;
	}
	return a;
}

/* Adds the lines [first, last) to rc's diagnostic, blank lines skipped. */
void
lh_diag_lines(const struct dsn_msg *m, struct dsn_rcpt *rc, size_t first,
	      size_t last)
{
	for (size_t i = first; i < last && i < m->nlines; i++)
		if (m->lines[i].len)
			dsn_append(&rc->diag, m->lines[i].s, m->lines[i].len);
}

struct dsn_rcpt *
lh_rcpt(struct dsn_result *res, const char *addr)
{
	struct dsn_rcpt *rc = dsn_result_find(res, addr);

	return rc ? rc : dsn_result_add(res, addr);
}

/* The says table: a phrase of the diagnostic sets reason and command. */
void
lh_apply_says(struct dsn_result *res, const struct lh_says *says)
{
	for (guint i = 0; says && i < res->rcpts->len; i++) {
		struct dsn_rcpt *rc = res->rcpts->pdata[i];

		for (const struct lh_says *s = says; s->phrase; s++) {
			if (!lh_contains(rc->diag, s->phrase))
				continue;
			if (s->reason && !rc->reason)
				rc->reason = s->reason;
			if (s->command && !rc->command)
				rc->command = g_strdup(s->command);
			break;
		}
	}
}

/* ---- the shapes ------------------------------------------------------ */

/* Recipient alone on a line (possibly indented, bracketed, with a colon);
 * the lines below it, until the next recipient, are its error. */
static void
shape_alone(const struct dsn_msg *m, size_t first, size_t last,
	    struct dsn_result *res, int need_indent)
{
	struct dsn_rcpt *rc = NULL;

	for (size_t i = first; i < last; i++) {
		const struct dsn_line *l = &m->lines[i];
		char *a = NULL;

		if (!need_indent ||
		    (l->len > 0 && (l->s[0] == ' ' || l->s[0] == '\t')))
			a = lh_line_addr_only(l);
		if (a && g_ascii_strncasecmp(a, "mailer-daemon@", 14) != 0) {
			rc = lh_rcpt(res, a);
			g_free(a);
			continue;
		}
		g_free(a);
		if (rc && l->len)
			dsn_append(&rc->diag, l->s, l->len);
	}
}

/* "<rcpt>: error" or "rcpt: error" with the address first on the line; an
 * indented continuation belongs to the line above. */
static void
shape_leading(const struct dsn_msg *m, size_t first, size_t last,
	      struct dsn_result *res)
{
	struct dsn_rcpt *rc = NULL;

	for (size_t i = first; i < last; i++) {
		const struct dsn_line *l = &m->lines[i];
		const char *s = l->s;
		size_t len = l->len, end = 0;
		char *a;

		while (len && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		if (rc && l->len && (l->s[0] == ' ' || l->s[0] == '\t') &&
		    !(len && (*s == '<' || memchr(s, '@', MIN(len, 64))))) {
			dsn_append(&rc->diag, s, len);
			continue;
		}
		a = len && (*s == '<' || *s == '"' || g_ascii_isalnum(*s))
			    ? dsn_addr_find(s, MIN(len, 256), &end)
			    : NULL;
		if (a && end < len && strchr(":<>\" ", s[end]) &&
		    !memchr(s, ' ', MIN(end, len)) &&
		    g_ascii_strncasecmp(a, "mailer-daemon@", 14) != 0) {
			rc = lh_rcpt(res, a);
			while (end < len && strchr(":>\" \t", s[end]))
				end++;
			dsn_append(&rc->diag, s + end, len - end);
		} else if (rc && len && rc->diag && l->s[0] == ' ') {
			dsn_append(&rc->diag, s, len);
		}
		g_free(a);
	}
}

/* Every address the region mentions, in order, with the whole region as
 * its error: for formats with one recipient and free text. */
static void
shape_anywhere(const struct dsn_msg *m, size_t first, size_t last,
	       struct dsn_result *res)
{
	for (size_t i = first; i < last; i++) {
		const struct dsn_line *l = &m->lines[i];
		size_t off = 0, end;
		char *a;

		while (off < l->len &&
		       (a = dsn_addr_find(l->s + off, l->len - off, &end))) {
			if (!lh_is_party(m, a) && !dsn_result_find(res, a))
				lh_rcpt(res, a);
			g_free(a);
			off += end;
		}
	}
	for (guint k = 0; k < res->rcpts->len; k++)
		lh_diag_lines(m, res->rcpts->pdata[k], first, last);
}

int
lh_run_shape(const struct dsn_msg *m, enum lh_shape shape, size_t first,
	     size_t last, struct dsn_result *res)
{
	if (last > m->nlines)
		last = m->nlines;
	switch (shape) {
	case LH_ALONE:
		shape_alone(m, first, last, res, 0);
		break;
	case LH_INDENTED:
		shape_alone(m, first, last, res, 1);
		break;
	case LH_LEADING:
		shape_leading(m, first, last, res);
		break;
	case LH_ANYWHERE:
		shape_anywhere(m, first, last, res);
		break;
	}
	return res->rcpts->len > 0;
}

/* A profile: markers, shape, phrases. */
int
lh_run_profile(const struct dsn_msg *m, const struct lh_profile *p,
	       struct dsn_result *res)
{
	size_t first = 0, last;

	if (p->start) {
		first = dsn_msg_find_any(m, 0, p->start);
		if (first >= m->nlines)
			return 0;
		first++;
	}
	last = p->stop ? dsn_msg_find_any(m, first, p->stop) : m->nlines;
	if (last == m->nlines)
		last = lh_stop(m, first);
	if (!lh_run_shape(m, p->shape, first, last, res))
		return 0;
	lh_apply_says(res, p->says);
	return 1;
}

/* X-Failed-Recipients (Exim and others) when the text gave none. */
int
lh_failed_header(const struct dsn_msg *m, struct dsn_result *res)
{
	const char *h = lh_header(m, "X-Failed-Recipients");
	size_t off = 0, end;
	char *a;

	while (h && off < strlen(h) &&
	       (a = dsn_addr_find(h + off, strlen(h) - off, &end))) {
		lh_rcpt(res, a);
		g_free(a);
		off += end;
	}
	return res->rcpts->len > 0;
}

/* ---- the recognisers, in order --------------------------------------- */

static void
result_reset(struct dsn_result *res)
{
	g_ptr_array_set_size(res->rcpts, 0);
}

/* DSN fields pasted into the readable text (no delivery-status part, or
 * a multipart/report that lost its structure). */
static int
lh_fields_in_text(const struct dsn_msg *m, struct dsn_result *res)
{
	size_t i = dsn_msg_find(m, 0, "final-recipient:");
	size_t first;

	if (i >= m->nlines)
		return 0;
	first = i > 40 ? i - 40 : 0;
	if (!dsn_rfc3464_lines(m, first, m->nlines, res))
		return 0;
	dsn_lhost_enrich(m, res);
	return 1;
}

int
dsn_lhost(const struct dsn_msg *m, struct dsn_result *res)
{
	for (size_t i = 0; lhost_table[i].name; i++) {
		if (lhost_table[i].fn(m, res) && res->rcpts->len > 0) {
			res->agent = lhost_table[i].name;
			return 1;
		}
		result_reset(res);
	}
	if (lh_fields_in_text(m, res)) {
		res->agent = "rfc3464";
		return 1;
	}
	result_reset(res);
	if (lhost_fallback(m, res) && res->rcpts->len > 0) {
		res->agent = "generic";
		return 1;
	}
	result_reset(res);
	return 0;
}
