/*
 * dsn/lhost_enrich: the readable part of an RFC 3464 report read beside its
 * fields. Postfix writes "<rcpt>: host said: ... (in reply to RCPT TO
 * command)", Sendmail a session transcript (">>> RCPT To:<...>", "<<< 550
 * ..."), others a line naming the recipient: they give the SMTP command
 * the reply answered, and the reply itself when Diagnostic-Code is
 * missing or says only "smtp; 550".
 */
#include <string.h>

#include "dsn/lhost.h"

/* A diagnostic that says nothing but a code. */
static int
diag_poor(const char *d)
{
	size_t n = d ? strlen(d) : 0;

	if (n == 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isdigit(d[i]) && d[i] != '.' && d[i] != ' ')
			return 0;
	return 1;
}

/* The rcpt a text line is about: the one whose address it names, or the
 * only one there is. */
static struct dsn_rcpt *
rcpt_of_line(struct dsn_result *res, const struct dsn_line *l)
{
	if (res->rcpts->len == 1)
		return res->rcpts->pdata[0];
	for (guint i = 0; i < res->rcpts->len; i++) {
		struct dsn_rcpt *rc = res->rcpts->pdata[i];

		if (rc->addr && dsn_casefind(l->s, l->len, rc->addr))
			return rc;
	}
	return NULL;
}

/* "(in reply to RCPT TO command)", "(in reply to end of DATA command)". */
static const char *
postfix_command(const char *s, size_t len)
{
	const char *p = dsn_casefind(s, len, "(in reply to ");

	if (!p)
		return NULL;
	return dsn_command_find(p, len - (size_t)(p - s));
}

/* "<rcpt>: text" or "<rcpt> (expanded from <alias>): text". */
static int
postfix_rcpt_line(const struct dsn_line *l)
{
	const char *colon = memchr(l->s, ':', l->len);

	return l->len >= 5 && l->s[0] == '<' && colon &&
	       memchr(l->s, '@', (size_t)(colon - l->s)) &&
	       memchr(l->s, '>', (size_t)(colon - l->s));
}

/* Postfix: "<rcpt>: text" with 4-blank continuation lines. */
static void
enrich_postfix(const struct dsn_msg *m, struct dsn_result *res, size_t last)
{
	for (size_t i = 0; i < last; i++) {
		const struct dsn_line *l = &m->lines[i];
		struct dsn_rcpt *rc;
		char *text = NULL;
		const char *colon, *cmd;
		size_t k;

		if (!postfix_rcpt_line(l))
			continue;
		colon = memchr(l->s, ':', l->len);
		rc = rcpt_of_line(res, l);
		if (!rc)
			continue;
		dsn_append(&text, colon + 1,
			   l->len - (size_t)(colon + 1 - l->s));
		/* Continuation lines are indented, or (re-wrapped on the way)
		 * not, until a blank line or the next recipient. */
		for (k = i + 1; k < last && m->lines[k].len > 0 &&
				!postfix_rcpt_line(&m->lines[k]);
		     k++)
			dsn_append(&text, m->lines[k].s, m->lines[k].len);
		cmd = text ? postfix_command(text, strlen(text)) : NULL;
		if (cmd && !rc->command)
			rc->command = g_strdup(cmd);
		if (text && (diag_poor(rc->diag) ||
			     (rc->diag && strlen(text) > strlen(rc->diag) &&
			      dsn_casefind(text, strlen(text), "said:")))) {
			g_free(rc->diag);
			rc->diag = text;
			text = NULL;
		}
		g_free(text);
		i = k - 1;
	}
}

/* One failed exchange of a Sendmail transcript. */
struct exchange {
	char cmd[9];  /* the command the reply answered, "CONN" if none */
	char code[4]; /* the reply code of the reply being read */
	char *rcpt;   /* the address of ">>> RCPT To:<...>", if any */
	char *reply;  /* the "<<< " lines, joined */
};

static void
exchange_apply(struct exchange *x, struct dsn_result *res)
{
	for (guint i = 0; x->reply && i < res->rcpts->len; i++) {
		struct dsn_rcpt *rc = res->rcpts->pdata[i];

		if (res->rcpts->len > 1 &&
		    !(x->rcpt && rc->addr &&
		      g_ascii_strcasecmp(x->rcpt, rc->addr) == 0) &&
		    !(rc->addr && strstr(x->reply, rc->addr)))
			continue;
		if (!rc->command)
			rc->command = g_strdup(x->cmd);
		if (diag_poor(rc->diag) ||
		    (rc->diag && strlen(x->reply) > strlen(rc->diag) &&
		     g_str_has_prefix(x->reply, rc->diag)))
			dsn_set(&rc->diag, x->reply);
	}
	g_clear_pointer(&x->reply, g_free);
}

/*
 * Sendmail's "----- Transcript of session follows -----": ">>> CMD" lines
 * name the command, "<<< " lines are the reply (multi-line replies whole,
 * where Diagnostic-Code keeps only the first line). A refusal before any
 * command is a refusal of the connection.
 */
static void
enrich_transcript(const struct dsn_msg *m, struct dsn_result *res, size_t last)
{
	size_t i = dsn_msg_find(m, 0, "----- transcript of session follows");
	struct exchange x = { "CONN", "", NULL, NULL };

	for (i++; i < last; i++) {
		const struct dsn_line *l = &m->lines[i];

		if (dsn_starts(l->lc, l->len, "   -----"))
			break;
		if (dsn_starts(l->s, l->len, ">>> ") && l->len >= 8) {
			exchange_apply(&x, res);
			g_strlcpy(x.cmd, l->s + 4, 5);
			for (char *c = x.cmd; *c; c++)
				*c = g_ascii_toupper(*c);
			if (strcmp(x.cmd, "RCPT") == 0) {
				g_free(x.rcpt);
				x.rcpt = dsn_addr_find(l->s, l->len, NULL);
			}
		} else if (dsn_starts(l->s, l->len, "<<< ") && l->len > 7 &&
			   (l->s[4] == '4' || l->s[4] == '5')) {
			/* Another reply code: another reply (pipelining). */
			if (x.reply && strncmp(x.code, l->s + 4, 3) != 0)
				exchange_apply(&x, res);
			memcpy(x.code, l->s + 4, 3);
			dsn_append(&x.reply, l->s + 4, l->len - 4);
		} else if (dsn_starts(l->lc, l->len, "... while talking to")) {
			exchange_apply(&x, res);
			g_strlcpy(x.cmd, "CONN", sizeof(x.cmd));
		}
	}
	exchange_apply(&x, res);
	g_free(x.rcpt);
}

/* Any line naming a recipient that still has no diagnostic. */
static void
enrich_mention(const struct dsn_msg *m, struct dsn_result *res, size_t last)
{
	for (guint r = 0; r < res->rcpts->len; r++) {
		struct dsn_rcpt *rc = res->rcpts->pdata[r];

		if (rc->diag || !rc->addr)
			continue;
		for (size_t i = 0; i < last; i++) {
			const struct dsn_line *l = &m->lines[i];
			const char *p = dsn_casefind(l->s, l->len, rc->addr);
			size_t off;

			if (!p)
				continue;
			off = (size_t)(p - l->s) + strlen(rc->addr);
			while (off < l->len && strchr(">:. \t", l->s[off]))
				off++;
			if (l->len - off > 3 && g_ascii_isalnum(l->s[off])) {
				g_free(rc->diag);
				rc->diag = dsn_strip(l->s + off, l->len - off);
				break;
			}
		}
	}
}

/* Lines of the readable part that are boilerplate of MIME, not words of
 * the MTA. */
static int
leadin_skip(const struct dsn_line *l)
{
	static const char *const prefixes[] = { "content-",
						"this is a mime",
						"this is a multi",
						"this is an auto",
						"this multi-part",
						"###",
						"***",
						"--",
						NULL };

	if (l->len == 0)
		return 1;
	if (memchr(l->lc, '-', l->len) &&
	    (dsn_find(l->lc, l->len, "--- the follow") ||
	     dsn_find(l->lc, l->len, "--- transcript")))
		return 1;
	for (const char *const *p = prefixes; *p; p++)
		if (l->lc[0] == (*p)[0] && dsn_starts(l->lc, l->len, *p))
			return 1;
	return 0;
}

/*
 * A report from an MTA with no recogniser of its own and one recipient:
 * what the readable part says is weighed with the diagnostic (Dovecot's
 * "was automatically rejected: Not enough disk space" stands in front of
 * a generic "550 5.1.1").
 */
static void
enrich_leadin(const struct dsn_msg *m, struct dsn_result *res, size_t last)
{
	struct dsn_rcpt *rc = res->rcpts->pdata[0];

	if (res->rcpts->len != 1)
		return;
	/* Straight into the context: appends collapse blanks and stop at
	 * REPORT_FIELD_MAX, so this is what appending their join gave. */
	for (size_t i = 0; i < last; i++)
		if (!leadin_skip(&m->lines[i]))
			dsn_append(&rc->context, m->lines[i].s,
				   m->lines[i].len);
}

/* MTAs whose readable part is read by a recogniser of its own. */
static int
mta_postfix(const struct dsn_msg *m)
{
	return lh_contains(m->subject, "undelivered mail returned to sender") ||
	       dsn_msg_find(m, 0, "this is the mail system at host") <
		       m->nlines ||
	       dsn_msg_find(m, 0, "postfix program") < m->nlines;
}

static int
mta_sendmail(const struct dsn_msg *m)
{
	return dsn_msg_find(m, 0, "----- transcript of session follows") <
		       m->nlines ||
	       dsn_msg_find(m, 0, "the following addresses had permanent") <
		       m->nlines;
}

/* A local delivery agent spoke in the readable part. */
static int
mentions_lda(const struct dsn_msg *m)
{
	static const char *const lda[] = {
		"procmail",   "mail.local: ",
		"maildrop: ", "vdelivermail: ",
		"vdeliver: ", "was automatically rejected:",
		NULL
	};

	for (const char *const *p = lda; *p; p++)
		if (dsn_msg_has(m, *p))
			return 1;
	return 0;
}

void
dsn_lhost_enrich(const struct dsn_msg *m, struct dsn_result *res)
{
	size_t last = lh_stop(m, 0);
	size_t fields = dsn_msg_find(m, 0, "final-recipient:");

	if (fields < last)
		last = fields;
	if (res->rcpts->len == 0)
		return;
	if (mta_postfix(m))
		enrich_postfix(m, res, last);
	else if (mta_sendmail(m))
		enrich_transcript(m, res, last);
	enrich_mention(m, res, last);
	/* What an MTA with no reader of its own, or a transcript that gave
	 * nothing, says in the readable part is weighed too. */
	if ((!mta_postfix(m) && !mta_sendmail(m)) ||
	    (res->rcpts->len == 1 && mentions_lda(m) &&
	     !((struct dsn_rcpt *)res->rcpts->pdata[0])->spec))
		enrich_leadin(m, res, last);
}
