/*
 * dsn/rfc3464: the fields of a delivery status notification (RFC 3464
 * section 2): one block of per-message fields, then one block per
 * recipient, blocks separated by blank lines, long fields folded. Real
 * DSNs bend this (fields out of order, blocks not separated, the fields
 * pasted into the readable text), so a block with several Final-Recipient
 * fields is split at each of them.
 *
 * Addresses: "rfc822; a@b" (RFC 3464), "utf-8; ..." with \x{HEX} escapes
 * (RFC 6533 section 3), xtext "+HH" in Original-Recipient (RFC 3461).
 */
#include <string.h>

#include "dsn/dsn_int.h"

#define FIELDS_MAX 4096

struct field {
	char *name; /* lower case */
	char *value;
	int block;
};

static void
field_free(gpointer p)
{
	struct field *f = p;

	g_free(f->name);
	g_free(f->value);
	g_free(f);
}

/* A field name: printable ASCII but no blanks, then ':'. */
static size_t
field_name_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && i < 64 && s[i] > ' ' && s[i] < 127 && s[i] != ':')
		i++;
	return i > 0 && i < len && s[i] == ':' ? i : 0;
}

/* Splits lines into fields, unfolding continuation lines; a blank line or a
 * line that is not a field ends the block. */
static void
fields_read(const struct dsn_line *lines, size_t n, GPtrArray *out)
{
	struct field *cur = NULL;
	int block = 0;

	for (size_t i = 0; i < n && out->len < FIELDS_MAX; i++) {
		const char *s = lines[i].s;
		size_t len = lines[i].len, nl;
		struct field *f;

		if (len > 0 && (s[0] == ' ' || s[0] == '\t') && cur) {
			char *v = dsn_strip(s, len);

			if (v)
				dsn_append(&cur->value, v, strlen(v));
			g_free(v);
			continue;
		}
		nl = field_name_len(s, len);
		if (nl == 0) {
			cur = NULL;
			block++;
			continue;
		}
		f = g_new0(struct field, 1);
		f->name = g_ascii_strdown(s, (gssize)nl);
		f->value = dsn_strip(s + nl + 1, len - nl - 1);
		f->block = block;
		g_ptr_array_add(out, f);
		cur = f;
	}
}

/* RFC 6533: "\x{HEX}" in utf-8 addresses; RFC 3461 xtext "+HH". */
static char *
addr_unescape(const char *s, int xtext)
{
	GString *g = g_string_new(NULL);

	for (const char *p = s; *p; p++) {
		char *end;
		unsigned long cp;

		if (p[0] == '\\' && p[1] == 'x' && p[2] == '{') {
			cp = strtoul(p + 3, &end, 16);
			if (*end == '}' && cp > 0 && cp <= 0x10FFFF &&
			    g_unichar_validate((gunichar)cp)) {
				g_string_append_unichar(g, (gunichar)cp);
				p = end;
				continue;
			}
		}
		if (xtext && p[0] == '+' && g_ascii_isxdigit(p[1]) &&
		    g_ascii_isxdigit(p[2])) {
			g_string_append_c(
				g, (char)(g_ascii_xdigit_value(p[1]) * 16 +
					  g_ascii_xdigit_value(p[2])));
			p += 2;
			continue;
		}
		g_string_append_c(g, *p);
	}
	return g_string_free(g, FALSE);
}

/* "rfc822; a@b" -> a@b (domain lower case); the raw value when it holds
 * no address at all. */
static char *
field_addr(const char *value, int original)
{
	const char *semi = strchr(value, ';');
	const char *v = semi ? semi + 1 : value;
	int utf8 = semi && g_ascii_strncasecmp(value, "utf-8", 5) == 0;
	char *raw = addr_unescape(v, utf8 || original), *a;

	a = dsn_addr_find(raw, strlen(raw), NULL);
	if (!a) {
		a = dsn_strip(raw, strlen(raw));
		if (a && (a[0] == '<' || strchr(a, ' '))) {
			g_free(a);
			a = NULL;
		}
	}
	g_free(raw);
	return a;
}

/* "type; text" -> text, and the type into *type when asked. */
static const char *
field_typed(const char *value, char **type)
{
	const char *semi = strchr(value, ';');

	if (!semi || semi - value > 16) {
		if (type)
			*type = NULL;
		return value;
	}
	if (type)
		*type = g_ascii_strdown(value, semi - value);
	semi++;
	while (*semi == ' ' || *semi == '\t')
		semi++;
	return semi;
}

static void
rcpt_field(struct dsn_rcpt *rc, const struct field *f)
{
	char code[12];

	if (!f->value)
		return;
	if (strcmp(f->name, "final-recipient") == 0) {
		g_free(rc->addr);
		rc->addr = field_addr(f->value, 0);
	} else if (strcmp(f->name, "original-recipient") == 0) {
		g_free(rc->orig);
		rc->orig = field_addr(f->value, 1);
	} else if (strcmp(f->name, "action") == 0) {
		static const char *const actions[] = { "failed",    "delayed",
						       "delivered", "relayed",
						       "expanded",  NULL };
		size_t n = strcspn(f->value, " \t(;");
		char *a = g_ascii_strdown(f->value, (gssize)n);

		/* RFC 3464 section 2.3.3 names five; anything else (a
		 * truncated report, "deliverable") is kept aside. */
		g_free(rc->action);
		rc->action = NULL;
		for (const char *const *p = actions; *p; p++)
			if (strcmp(a, *p) == 0)
				rc->action = g_strdup(*p);
		if (!rc->action && strcmp(a, "deliverable") == 0)
			rc->action = g_strdup("delivered");
		if (!rc->action && strcmp(a, "expired") == 0)
			rc->action = g_strdup("failed");
		if (!rc->action)
			dsn_set(&rc->bad_action, f->value);
		g_free(a);
	} else if (strcmp(f->name, "status") == 0) {
		const char *paren = strchr(f->value, '(');

		if (dsn_status_find(f->value, strlen(f->value), 0, code))
			dsn_set(&rc->status, code);
		/* "Status: 4.0.0 (cat.example.net: host name lookup
		 * failure)": the comment is an error message too. */
		if (paren)
			dsn_append(&rc->context, paren, strlen(paren));
	} else if (strcmp(f->name, "remote-mta") == 0) {
		dsn_set(&rc->rhost, field_typed(f->value, NULL));
	} else if (strcmp(f->name, "diagnostic-code") == 0) {
		char *type = NULL;
		const char *d = field_typed(f->value, &type);

		g_free(rc->spec);
		rc->spec = type;
		dsn_set(&rc->diag, d);
	}
}

static int
field_is(const struct field *f, const char *name)
{
	return strcmp(f->name, name) == 0;
}

/* Does an Original-Recipient at i open a new recipient? In RFC 3464's
 * order it comes first and its Final-Recipient right after it; some MTAs
 * write it after the Final-Recipient, before Action. */
static int
block_org_opens(GPtrArray *fields, guint i, guint last)
{
	return i + 1 < last &&
	       field_is(fields->pdata[i + 1], "final-recipient");
}

/* One block: the recipients it names and their fields. */
static void
block_apply(GPtrArray *fields, guint first, guint last, struct dsn_result *res)
{
	struct dsn_rcpt *rc = NULL;
	int final_seen = 0;
	guint pending = first; /* fields before the first recipient */

	for (guint i = first; i < last; i++) {
		struct field *f = fields->pdata[i];
		int fin = field_is(f, "final-recipient");
		int org = field_is(f, "original-recipient");

		if ((fin && (!rc || final_seen)) ||
		    (org &&
		     (!rc || rc->orig ||
		      (final_seen && block_org_opens(fields, i, last))))) {
			rc = dsn_result_add(res, NULL);
			if (!rc)
				return;
			final_seen = 0;
			for (; pending < i; pending++)
				rcpt_field(rc, fields->pdata[pending]);
		}
		if (fin)
			final_seen = 1;
		if (rc) {
			rcpt_field(rc, f);
			pending = i + 1;
		}
	}
}

/* PowerMTA's X-PowerMTA-BounceCategory, read as a reason. */
static const char *
powermta_reason(const char *v)
{
	static const char *const tab[][2] = {
		{ "bad-domain", "hostunknown" },
		{ "bad-mailbox", "userunknown" },
		{ "inactive-mailbox", "suspend" },
		{ "message-expired", "expired" },
		{ "no-answer-from-host", "networkerror" },
		{ "policy-related", "policyviolation" },
		{ "quota-issues", "mailboxfull" },
		{ "routing-errors", "systemerror" },
		{ "spam-related", "spamdetected" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(tab); i++)
		if (g_ascii_strcasecmp(v, tab[i][0]) == 0)
			return tab[i][1];
	return NULL;
}

static void
fields_apply(GPtrArray *fields, struct dsn_result *res)
{
	guint i = 0;

	while (i < fields->len) {
		struct field *f = fields->pdata[i];
		guint j = i;
		int rcpts = 0;

		while (j < fields->len &&
		       ((struct field *)fields->pdata[j])->block == f->block) {
			struct field *g = fields->pdata[j];

			if (field_is(g, "final-recipient") ||
			    field_is(g, "original-recipient"))
				rcpts++;
			else if (field_is(g, "original-envelope-id") &&
				 !res->envid && g->value)
				res->envid = g_strdup(g->value);
			else if (field_is(g, "x-powermta-bouncecategory") &&
				 g->value)
				res->category = powermta_reason(g->value);
			else if (field_is(g, "reporting-mta") && !res->lhost &&
				 g->value)
				res->lhost =
					g_strdup(field_typed(g->value, NULL));
			j++;
		}
		if (rcpts)
			block_apply(fields, i, j, res);
		i = j;
	}
}

/* Drops recipients without an address: an Original-Recipient block whose
 * Final-Recipient never came keeps the original. */
static void
rcpts_settle(struct dsn_result *res)
{
	for (guint i = 0; i < res->rcpts->len;) {
		struct dsn_rcpt *rc = res->rcpts->pdata[i];

		if (!rc->lhost && res->lhost)
			rc->lhost = g_strdup(res->lhost);
		if (!rc->reason && res->category)
			rc->reason = res->category;
		if (!rc->addr && rc->orig)
			rc->addr = g_strdup(rc->orig);
		if (!rc->addr)
			g_ptr_array_remove_index(res->rcpts, i);
		else
			i++;
	}
}

int
dsn_rfc3464_lines(const struct dsn_msg *m, size_t first, size_t last,
		  struct dsn_result *res)
{
	GPtrArray *fields = g_ptr_array_new_with_free_func(field_free);
	guint before = res->rcpts->len;

	if (last > m->nlines)
		last = m->nlines;
	if (first < last)
		fields_read(m->lines + first, last - first, fields);
	fields_apply(fields, res);
	g_ptr_array_free(fields, TRUE);
	rcpts_settle(res);
	return res->rcpts->len > before;
}

int
dsn_rfc3464(const struct dsn_msg *m, struct dsn_result *res)
{
	GPtrArray *fields = g_ptr_array_new_with_free_func(field_free);
	GArray *lines = g_array_new(FALSE, FALSE, sizeof(struct dsn_line));
	const char *p = m->status->str, *end = p + m->status->len;

	while (p < end && lines->len < DSN_LINES_MAX) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct dsn_line l = { p, p,
				      nl ? (size_t)(nl - p)
					 : (size_t)(end - p) };

		if (l.len > 0 && p[l.len - 1] == '\r')
			l.len--;
		g_array_append_val(lines, l);
		p = nl ? nl + 1 : end;
	}
	fields_read((struct dsn_line *)lines->data, lines->len, fields);
	fields_apply(fields, res);
	g_ptr_array_free(fields, TRUE);
	g_array_free(lines, TRUE);
	rcpts_settle(res);
	return res->rcpts->len > 0;
}
