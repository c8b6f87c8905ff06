/* ingest: see ingest.h. */
#include "core/ingest.h"

#include <string.h>

#include "core/jsonval.h"
#include "core/store.h"

struct ingest_classifier {
	char *name;
	ingest_classify_fn fn;
	void *ud;
};

struct ingest {
	GArray *classifiers; /* struct ingest_classifier */
	ingest_token_fn token_fn;
	void *token_ud;
};

struct ingest *
ingest_new(void)
{
	struct ingest *in = g_new0(struct ingest, 1);

	g_mime_init();
	in->classifiers =
		g_array_new(FALSE, TRUE, sizeof(struct ingest_classifier));
	return in;
}

void
ingest_free(struct ingest *in)
{
	if (!in)
		return;
	for (guint i = 0; i < in->classifiers->len; i++)
		g_free(g_array_index(in->classifiers, struct ingest_classifier,
				     i)
			       .name);
	g_array_free(in->classifiers, TRUE);
	g_free(in);
	g_mime_shutdown();
}

void
ingest_add_classifier(struct ingest *in, const char *name,
		      ingest_classify_fn fn, void *ud)
{
	struct ingest_classifier c = { g_strdup(name), fn, ud };

	g_array_append_val(in->classifiers, c);
}

unsigned
ingest_classifier_count(const struct ingest *in)
{
	return in->classifiers->len;
}

void
ingest_set_token_resolver(struct ingest *in, ingest_token_fn fn, void *ud)
{
	in->token_fn = fn;
	in->token_ud = ud;
}

char *
ingest_normalise(const char *raw, size_t len, size_t *outlen)
{
	const char *p = raw, *end = raw + len, *cr = memchr(raw, '\r', len);
	char *out, *o;

	if (!cr)
		return NULL;
	out = o = g_malloc(len + 1);
	/* A run up to each CR is copied whole. */
	while (cr) {
		memcpy(o, p, (size_t)(cr - p));
		o += cr - p;
		*o++ = '\n';
		p = cr + 1;
		if (p < end && *p == '\n')
			p++;
		cr = memchr(p, '\r', (size_t)(end - p));
	}
	memcpy(o, p, (size_t)(end - p));
	o += end - p;
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

/* Parses raw in place: the stream reads a byte array over raw's bytes
 * (*view, which the caller frees with g_byte_array_free(*view, FALSE)
 * after the message, raw living longer), not a copy of them. */
static GMimeMessage *
ingest_parse(const char *raw, size_t len, GByteArray **view)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	*view = NULL;
	if (len <= G_MAXUINT) {
		*view = g_byte_array_new_take((guint8 *)raw, len);
		stream = g_mime_stream_mem_new_with_byte_array(*view);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	} else {
		stream = g_mime_stream_mem_new_with_buffer(raw, len);
	}
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

/* White space as GMime's unfolding trims it. */
static int
ingest_lwsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ingest.h */
char *
ingest_header_plain(const char *raw)
{
	const char *s = raw, *e;
	char *out, *o;

	for (const char *p = raw; *p; p++)
		if ((unsigned char)*p >= 0x7f ||
		    ((unsigned char)*p < 0x20 && !ingest_lwsp(*p)) ||
		    (p[0] == '=' && p[1] == '?'))
			return NULL;
	while (ingest_lwsp(*s))
		s++;
	e = s + strlen(s);
	while (e > s && ingest_lwsp(e[-1]))
		e--;
	out = o = g_malloc((size_t)(e - s) + 1);
	for (; s < e; s++)
		if (*s != '\r' && *s != '\n')
			*o++ = *s;
	*o = '\0';
	return out;
}

/* The delivery headers of the message itself: where a bounce sent to the
 * token address says which address it was delivered to. Hints go in the
 * order of names[]; the header list is walked once. */
static void
ingest_envelope_hints(GMimeMessage *msg, struct report *r)
{
	static const char *const names[] = { "X-Original-To", "Delivered-To",
					     "Envelope-To", "X-Envelope-To",
					     "To" };
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int n = MIN(g_mime_header_list_get_count(hl), 64);
	GMimeHeader *found[G_N_ELEMENTS(names)][64];
	int nfound[G_N_ELEMENTS(names)] = { 0 };

	for (int i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);

		for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
			/* The first letters, case folded, rule most out. */
			if ((name[0] | 0x20) != (names[k][0] | 0x20) ||
			    g_ascii_strcasecmp(name, names[k]) != 0)
				continue;
			found[k][nfound[k]++] = h;
			break;
		}
	}
	for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
		for (int i = 0; i < nfound[k]; i++) {
			const char *raw =
				g_mime_header_get_raw_value(found[k][i]);
			char *plain = raw ? ingest_header_plain(raw) : NULL;

			if (plain)
				report_add_hint(r, plain);
			else
				report_add_hint(r, g_mime_header_get_value(
							   found[k][i]));
			g_free(plain);
		}
	}
}

static void
ingest_resolve_token(struct ingest *in, struct report *r)
{
	struct report_token best = { .valid = -1 };

	for (guint i = 0; i < r->token_hints->len; i++) {
		struct report_token t = { .valid = -1 };
		const char *hint = r->token_hints->pdata[i];
		/* A header may hold a list ("a@x, b@y"): try each part. */
		char **parts = g_strsplit_set(hint, ",", 16);
		int res = -1;

		for (char **p = parts; *p && res != 1; p++) {
			memset(&t, 0, sizeof(t));
			res = in->token_fn(in->token_ud, g_strstrip(*p), &t);
			if (res == 0 && best.valid < 0) {
				best = t;
				best.valid = 0;
				memset(&t, 0, sizeof(t));
			}
			if (res != 1) {
				g_free(t.account);
				g_free(t.message);
				g_free(t.key);
				g_free(t.error);
			}
		}
		g_strfreev(parts);
		if (res == 1) {
			g_free(best.error);
			r->token = t;
			r->token.valid = 1;
			return;
		}
	}
	if (best.valid == 0) {
		r->token = best;
	} else if (r->kind != REPORT_NOT_FEEDBACK &&
		   r->kind != REPORT_DMARC_AGGREGATE) {
		/* Aggregate reports are about domains, not one send. */
		r->token.valid = 0;
		r->token.error =
			g_strdup_printf("no token found (%u places looked at)",
					r->token_hints->len);
	}
}

struct report *
ingest_classify(struct ingest *in, const char *raw, size_t len)
{
	struct report *r = report_new();
	size_t nlen = len;
	char *norm = ingest_normalise(raw, len, &nlen);
	const char *data = norm ? norm : raw;
	GByteArray *view;
	GMimeMessage *msg = ingest_parse(data, nlen, &view);

	if (!msg) {
		report_set_error(r, "not a MIME message");
		if (view)
			g_byte_array_free(view, FALSE);
		g_free(norm);
		return r;
	}
	for (guint i = 0; i < in->classifiers->len; i++) {
		struct ingest_classifier *c = &g_array_index(
			in->classifiers, struct ingest_classifier, i);

		if (c->fn(c->ud, msg, data, nlen, r))
			break;
	}
	if (in->token_fn) {
		/* The address the message was delivered to comes first: for a
		 * bounce sent to the token address it is the primary key; what
		 * the classifier found in the returned message is the
		 * fallback. */
		GPtrArray *found = r->token_hints;

		r->token_hints = g_ptr_array_new_with_free_func(g_free);
		ingest_envelope_hints(msg, r);
		for (guint i = 0; i < found->len; i++)
			report_add_hint(r, found->pdata[i]);
		g_ptr_array_free(found, TRUE);
		ingest_resolve_token(in, r);
	}
	g_object_unref(msg);
	if (view)
		g_byte_array_free(view, FALSE);
	g_free(norm);
	return r;
}

/* The event type of one recipient of a report. */
static const char *
ingest_event_type(const struct report *r, const struct report_rcpt *rc)
{
	const char *ft;

	switch (r->kind) {
	case REPORT_DSN:
		if (!rc->action || strcmp(rc->action, "failed") == 0)
			return "bounce";
		if (strcmp(rc->action, "delayed") == 0)
			return "delay";
		return "delivery";
	case REPORT_ARF:
		ft = r->feedback ? r->feedback->type : NULL;
		if (ft && strcmp(ft, "not-spam") == 0)
			return "not-spam";
		if (ft && strcmp(ft, "opt-out") == 0)
			return "unsubscribe";
		if (ft && strcmp(ft, "auth-failure") == 0)
			return "auth-failure";
		return "complaint";
	case REPORT_AUTOREPLY:
		return "autoreply";
	case REPORT_DMARC_AGGREGATE:
	case REPORT_NOT_FEEDBACK:
		break;
	}
	return NULL;
}

/*
 * ARF: when no valid token was found, the original's Message-ID may still
 * name a send recorded at send time (reporters that strip Return-Path and
 * our header but quote the Message-ID). Never the recipient alone.
 */
static int
ingest_arf_attribute(struct store *st, const struct report *r, int64_t *account,
		     int64_t *send, const char **how, GError **error)
{
	int rc;

	*how = r->token.valid == 1 ? "token" : NULL;
	if (r->token.valid == 1 || !r->feedback ||
	    !r->feedback->original_message_id)
		return 0;
	rc = store_send_by_message_id(st, r->feedback->original_message_id,
				      account, send, error);
	if (rc < 0)
		return -1;
	if (rc == 0)
		*how = "message-id";
	return 0;
}

/* The event detail of a complaint: what scoring and people may want. */
static char *
ingest_arf_detail(const struct report *r, const char *how)
{
	const struct report_feedback *f = r->feedback;
	JsonBuilder *b;

	if (!f)
		return NULL;
	b = json_builder_new_immutable();
	json_builder_begin_object(b);
	jsonval_add_str(b, "feedback_type", f->type);
	json_builder_set_member_name(b, "incidents");
	json_builder_add_int_value(b, f->incidents);
	jsonval_add_str(b, "user_agent", f->user_agent);
	jsonval_add_str(b, "source_ip", f->source_ip);
	jsonval_add_str(b, "attributed_by", how);
	json_builder_end_object(b);
	return jsonval_builder_finish(b);
}

/* DMARC aggregate records, unless the same report came in before. */
static int
ingest_dmarc_records(struct store *st, int64_t report_id,
		     const struct report_dmarc *d, GError **error)
{
	int seen = store_dmarc_seen(st, d->org, d->report_id, d->domain,
				    report_id, error);

	if (seen != 0)
		return seen < 0 ? -1 : 0;
	for (guint i = 0; i < d->records->len; i++) {
		const struct report_dmarc_record *rec = d->records->pdata[i];
		struct store_dmarc_record sr = {
			.report_id = report_id,
			.org = d->org,
			.report_ref = d->report_id,
			.begin_s = d->begin,
			.end_s = d->end,
			.policy_domain = d->domain,
			.source_ip = rec->source_ip,
			.header_from = rec->header_from,
			.count = rec->count,
			.disposition = rec->disposition,
			.dkim = rec->dkim,
			.spf = rec->spf,
		};

		if (store_dmarc_add(st, &sr, error) < 0)
			return -1;
	}
	return 0;
}

static int
ingest_events(struct store *st, int64_t report_id, const struct report *r,
	      const struct store_report_result *res, const char *detail,
	      int64_t now_ms, GError **error)
{
	int attributed = res->send >= 0;

	for (guint i = 0; i < r->rcpts->len; i++) {
		const struct report_rcpt *rc = r->rcpts->pdata[i];
		const char *type = ingest_event_type(r, rc);
		struct store_event ev = {
			.ts_ms = now_ms,
			.type = type,
			.account = res->account,
			.send = res->send,
			.report = report_id,
			.recipient = rc->recipient,
			.reason = rc->reason,
			.klass = rc->klass,
			.status = rc->status,
			.diagnostic = rc->diagnostic,
			.verdict = NULL,
			.detail = detail,
		};
		char *dedup;
		int r2;

		if (!type)
			continue;
		/* Without a recipient (redacted by the reporter) two reports
		 * on one send are two complainers, not one said twice. */
		if (attributed && rc->recipient)
			dedup = g_strdup_printf("%s:%" G_GINT64_FORMAT ":%s",
						type, res->send, rc->recipient);
		else
			dedup = g_strdup_printf("%s:r%" G_GINT64_FORMAT ":%u",
						type, report_id, i);
		ev.dedup = dedup;
		r2 = store_event_add(st, &ev, NULL, error);
		g_free(dedup);
		if (r2 < 0)
			return -1;
	}
	return 0;
}

int
ingest_commit(struct store *st, int64_t report_id, const struct report *r,
	      int64_t now_ms, GError **error)
{
	int attributed = r->token.valid == 1;
	struct store_report_result res = {
		.kind = report_kind_name(r->kind),
		.error = r->error,
		.account = attributed ? (int64_t)r->token.account_id : -1,
		.send = attributed ? (int64_t)r->token.serial : -1,
		.token_error = r->token.valid == 0 ? r->token.error : NULL,
	};
	const char *how = NULL;
	char *detail = NULL;
	int rc;

	if (r->kind == REPORT_ARF) {
		if (ingest_arf_attribute(st, r, &res.account, &res.send, &how,
					 error) < 0)
			return -1;
		detail = ingest_arf_detail(r, how);
	}
	if (store_report_classify(st, report_id, &res, error) < 0) {
		g_free(detail);
		return -1;
	}
	if (r->kind == REPORT_DMARC_AGGREGATE && r->dmarc &&
	    ingest_dmarc_records(st, report_id, r->dmarc, error) < 0)
		return -1;
	rc = ingest_events(st, report_id, r, &res, detail, now_ms, error);
	g_free(detail);
	return rc;
}

int
ingest_store(struct ingest *in, struct store *st,
	     const struct ingest_message *m, int64_t *report_id, int *dup,
	     const char **kind, GError **error)
{
	struct store_report sr = {
		.received_ms = m->received_ms,
		.source = m->source,
		.raw = m->raw,
		.size = m->len,
		.orig_size = m->orig_size,
		.truncated = m->truncated,
	};
	struct report *r;
	int ret;

	if (kind)
		*kind = "unclassified";
	if (store_report_add(st, &sr, report_id, dup, error) < 0)
		return -1;
	/* Without classifiers the token is still worth resolving: a bounce
	 * sent to a token address is then at least attributed. */
	if (*dup || (ingest_classifier_count(in) == 0 && !in->token_fn))
		return 0;
	r = ingest_classify(in, m->raw, m->len);
	if (m->truncated && r->kind == REPORT_NOT_FEEDBACK)
		report_set_error(
			r, "truncated at %zu of %" G_GINT64_FORMAT " bytes",
			m->len, m->orig_size);
	ret = ingest_commit(st, *report_id, r, m->received_ms, error);
	if (kind)
		*kind = report_kind_name(r->kind);
	report_free(r);
	return ret;
}
