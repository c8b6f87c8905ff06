/* mark: see mark.h. */
#include "verp/mark.h"

#include <gmime/gmime.h>
#include <stdarg.h>
#include <string.h>

#include "core/config.h"
#include "core/store.h"
#include "verp/fingerprint.h"
#include "verp/recorder.h"
#include "verp/rewrite.h"

#define MARK_MSGID_MAX 998
#define MARK_FEEDBACK_NAME_MAX 64

/* What mark_process learns on the way. */
struct mark_work {
	GMimeMessage *msg; /* parsed lazily */
	int broken;
	const char *why;
	char *fingerprint;
	char *from_addr;
	struct identity ident;
	struct policy_options opts;
	char *bounce_domain;
	GPtrArray *kept; /* const char *: recipients not suppressed */
};

/* ---- configuration --------------------------------------------------------- */

static char *
mark_config_opt(struct config *cfg, const char *key)
{
	char *v = config_str(cfg, "milter", key, NULL);

	if (v && !*v)
		g_clear_pointer(&v, g_free);
	return v;
}

static void
mark_config_domains(struct config *cfg, struct mark_config *mc)
{
	char **names = config_sections(cfg, "sender-domain");

	mc->identity.domains =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	mc->domain_bounce =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (char **n = names; *n; n++) {
		char *section = g_strdup_printf("sender-domain:%s", *n);
		char *account = config_str(cfg, section, "account", NULL);
		char *bounce = config_str(cfg, section, "bounce_domain", NULL);
		char *domain = g_ascii_strdown(*n, -1);

		if (!account || !*account) {
			config_error(cfg, section, "account",
				     "required: the account that owns the "
				     "domain");
			g_free(account);
		} else {
			g_hash_table_replace(mc->identity.domains,
					     g_strdup(domain), account);
		}
		if (bounce && *bounce)
			g_hash_table_replace(mc->domain_bounce,
					     g_strdup(domain), bounce);
		else
			g_free(bounce);
		g_free(domain);
		g_free(section);
	}
	g_strfreev(names);
}

static void
mark_config_urls(struct config *cfg, struct mark_config *mc)
{
	mc->unsubscribe_url = mark_config_opt(cfg, "unsubscribe_url");
	mc->click_url = mark_config_opt(cfg, "click_url");
	mc->open_url = mark_config_opt(cfg, "open_url");
	if (mc->unsubscribe_url && !strstr(mc->unsubscribe_url, "{token}"))
		config_error(cfg, "milter", "unsubscribe_url",
			     "must contain {token}");
	if (mc->click_url && (!strstr(mc->click_url, "{token}") ||
			      !strstr(mc->click_url, "{url}")))
		config_error(cfg, "milter", "click_url",
			     "must contain {token} and {url}");
	if (mc->open_url && !strstr(mc->open_url, "{token}"))
		config_error(cfg, "milter", "open_url", "must contain {token}");
}

static void
mark_config_policy(struct config *cfg, struct mark_config *mc)
{
	static const char *const throttle[] = { "defer", "hold", "accept",
						NULL };
	static const char *const block[] = { "hold", "reject", NULL };
	static const enum policy_verdict tv[] = { POLICY_DEFER, POLICY_HOLD,
						  POLICY_PASS };
	static const enum policy_verdict bv[] = { POLICY_HOLD, POLICY_REJECT };

	mc->policy.rate_limit =
		config_int(cfg, "policy", "rate_limit", 0, 0, 1000000000);
	mc->policy.rate_window_ms = config_duration_ms(
		cfg, "policy", "rate_window", 3600000, 60000, 7LL * 86400000);
	mc->policy.local_throttle =
		tv[config_enum(cfg, "milter", "local_throttle", 0, throttle)];
	mc->policy.local_block =
		bv[config_enum(cfg, "milter", "local_block", 0, block)];
}

void
mark_config_load(struct config *cfg, struct mark_config *mc)
{
	static const char *const unknown[] = { "accept", "tempfail", "reject",
					       NULL };
	static const char *const sasl[] = { "login", "domain", NULL };
	static const char *const supp[] = { "drop", "refuse", NULL };

	memset(mc, 0, sizeof(*mc));
	mc->identity.sasl_domain =
		config_enum(cfg, "milter", "sasl_account", 0, sasl);
	mc->identity.local_header = mark_config_opt(cfg, "local_header");
	mc->identity.local_sender =
		config_bool(cfg, "milter", "local_sender", 0);
	mc->identity.headers =
		config_list(cfg, "milter", "identity_headers", NULL);
	mc->fail_open = config_bool(cfg, "milter", "fail_open", 1);
	mc->unknown = (enum mark_unknown)config_enum(cfg, "milter", "unknown",
						     0, unknown);
	mc->suppressed_refuse =
		config_enum(cfg, "milter", "suppressed", 0, supp);
	mc->check_at_mail = config_bool(cfg, "milter", "check_at_mail", 0);
	mc->strip_identity_headers =
		config_bool(cfg, "milter", "strip_identity_headers", 1);
	mc->set_envid = config_bool(cfg, "milter", "envid", 1);
	mc->fingerprint = config_bool(cfg, "milter", "fingerprint", 1);
	mc->feedback_id_sender =
		config_str(cfg, "milter", "feedback_id_sender", "fbldmta");
	if (strlen(mc->feedback_id_sender) > 32 ||
	    strspn(mc->feedback_id_sender,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789._-") != strlen(mc->feedback_id_sender))
		config_error(cfg, "milter", "feedback_id_sender",
			     "use at most 32 of A-Z, a-z, 0-9, '.', '_', '-'");
	mc->track_opens = config_bool(cfg, "milter", "track_opens", 0);
	mc->track_clicks = config_bool(cfg, "milter", "track_clicks", 0);
	mc->list_unsubscribe =
		config_bool(cfg, "milter", "list_unsubscribe", 1);
	mark_config_urls(cfg, mc);
	mc->max_headers = (unsigned)config_int(cfg, "milter", "max_headers",
					       1000, 10, 100000);
	mc->max_body = config_size(cfg, "milter", "max_body", 10 << 20,
				   64 << 10, 1LL << 30);
	mark_config_policy(cfg, mc);
	mark_config_domains(cfg, mc);
}

void
mark_config_clear(struct mark_config *mc)
{
	identity_config_clear(&mc->identity);
	g_clear_pointer(&mc->feedback_id_sender, g_free);
	g_clear_pointer(&mc->unsubscribe_url, g_free);
	g_clear_pointer(&mc->click_url, g_free);
	g_clear_pointer(&mc->open_url, g_free);
	g_clear_pointer(&mc->domain_bounce, g_hash_table_unref);
}

/* ---- template URLs ---------------------------------------------------- */

static char *
mark_fill(const char *tmpl, const char *token, const char *url)
{
	GString *out = g_string_new(NULL);
	const char *p = tmpl;

	while (*p) {
		if (g_str_has_prefix(p, "{token}")) {
			g_string_append(out, token);
			p += 7;
		} else if (url && g_str_has_prefix(p, "{url}")) {
			char *esc = g_uri_escape_string(url, NULL, FALSE);

			g_string_append(out, esc);
			g_free(esc);
			p += 5;
		} else {
			g_string_append_c(out, *p++);
		}
	}
	return g_string_free(out, FALSE);
}

static char *
mark_tmpl_click(void *ud, const char *token, const char *href)
{
	const struct mark_config *mc = ud;

	return mc->click_url ? mark_fill(mc->click_url, token, href) : NULL;
}

static char *
mark_tmpl_open(void *ud, const char *token)
{
	const struct mark_config *mc = ud;

	return mc->open_url ? mark_fill(mc->open_url, token, NULL) : NULL;
}

static char *
mark_tmpl_unsub(void *ud, const char *token)
{
	const struct mark_config *mc = ud;

	return mc->unsubscribe_url ? mark_fill(mc->unsubscribe_url, token, NULL)
				   : NULL;
}

void
mark_template_urls(const struct mark_config *mc, struct mark_urls *out)
{
	out->click = mark_tmpl_click;
	out->open_pixel = mark_tmpl_open;
	out->unsubscribe = mark_tmpl_unsub;
	out->ud = (void *)mc;
}

/* ---- collecting a message ------------------------------------------- */

static void
mark_header_free(gpointer p)
{
	struct mark_header *h = p;

	g_free(h->name);
	g_free(h->value);
	g_free(h);
}

struct mark_msg *
mark_msg_new(void)
{
	struct mark_msg *m = g_new0(struct mark_msg, 1);

	m->rcpts = g_ptr_array_new_with_free_func(g_free);
	m->rcpts_as_given = g_ptr_array_new_with_free_func(g_free);
	m->headers = g_ptr_array_new_with_free_func(mark_header_free);
	m->counts =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	m->body = g_byte_array_new();
	return m;
}

void
mark_msg_reset(struct mark_msg *m)
{
	g_clear_pointer(&m->env_from, g_free);
	g_clear_pointer(&m->queue_id, g_free);
	m->client_envid = 0;
	g_ptr_array_set_size(m->rcpts, 0);
	g_ptr_array_set_size(m->rcpts_as_given, 0);
	g_ptr_array_set_size(m->headers, 0);
	g_hash_table_remove_all(m->counts);
	g_byte_array_set_size(m->body, 0);
	m->headers_seen = 0;
	m->body_truncated = 0;
	m->size = 0;
}

void
mark_msg_free(struct mark_msg *m)
{
	if (!m)
		return;
	mark_msg_reset(m);
	g_free(m->sasl_login);
	g_ptr_array_free(m->rcpts, TRUE);
	g_ptr_array_free(m->rcpts_as_given, TRUE);
	g_ptr_array_free(m->headers, TRUE);
	g_hash_table_unref(m->counts);
	g_byte_array_unref(m->body);
	g_free(m);
}

/* "<a@b>" -> "a@b"; the MTA gives addresses with their brackets. */
static char *
mark_unbracket(const char *addr)
{
	size_t n;

	while (*addr == ' ')
		addr++;
	if (*addr == '<')
		addr++;
	n = strcspn(addr, ">");
	return g_strndup(addr, MIN(n, (size_t)1024));
}

void
mark_msg_set_from(struct mark_msg *m, const char *addr,
		  const char *const *esmtp)
{
	g_free(m->env_from);
	m->env_from = mark_unbracket(addr ? addr : "");
	m->client_envid = 0;
	for (; esmtp && *esmtp; esmtp++)
		if (g_ascii_strncasecmp(*esmtp, "ENVID=", 6) == 0)
			m->client_envid = 1;
}

void
mark_msg_add_rcpt(struct mark_msg *m, const char *addr)
{
	char *a;

	if (m->rcpts->len >= MARK_RCPTS_MAX)
		return;
	a = mark_unbracket(addr);
	g_ptr_array_add(m->rcpts, g_ascii_strdown(a, -1));
	g_ptr_array_add(m->rcpts_as_given, a);
}

/* Header names whose occurrences are counted: the ones mark edits. */
static int
mark_watched(const struct mark_ctx *ctx, const char *name)
{
	static const char *const names[] = {
		TOKEN_HEADER,
		"Feedback-ID",
		"List-Unsubscribe",
		"List-Unsubscribe-Post",
		"Content-Transfer-Encoding",
	};
	const struct identity_config *ic = &ctx->mc->identity;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(name, names[i]) == 0)
			return 1;
	if (ic->local_header && g_ascii_strcasecmp(name, ic->local_header) == 0)
		return 1;
	for (char **h = ic->headers; h && *h; h++)
		if (g_ascii_strcasecmp(name, *h) == 0)
			return 1;
	return 0;
}

void
mark_msg_add_header(struct mark_msg *m, const struct mark_ctx *ctx,
		    const char *name, const char *value)
{
	size_t vlen = value ? strlen(value) : 0;

	m->headers_seen++;
	m->size += (int64_t)(strlen(name) + vlen + 4);
	if (mark_watched(ctx, name)) {
		char *key = g_ascii_strdown(name, -1);
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(m->counts, key));

		g_hash_table_replace(m->counts, key, GUINT_TO_POINTER(n + 1));
	}
	if (m->headers->len < ctx->mc->max_headers) {
		struct mark_header *h = g_new0(struct mark_header, 1);

		h->name = g_strndup(name, 256);
		h->value = g_strndup(value ? value : "",
				     MIN(vlen, (size_t)MARK_HEADER_VALUE_MAX));
		g_ptr_array_add(m->headers, h);
	}
}

void
mark_msg_add_body(struct mark_msg *m, const struct mark_ctx *ctx,
		  const void *data, size_t len)
{
	size_t room = (size_t)ctx->mc->max_body > m->body->len
			      ? (size_t)ctx->mc->max_body - m->body->len
			      : 0;

	m->size += (int64_t)len;
	if (len > room)
		m->body_truncated = 1;
	g_byte_array_append(m->body, data, (guint)MIN(len, room));
}

static unsigned
mark_count(const struct mark_msg *m, const char *name)
{
	char *key = g_ascii_strdown(name, -1);
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(m->counts, key));

	g_free(key);
	return n;
}

static const char *
mark_header(const struct mark_msg *m, const char *name)
{
	for (guint i = 0; i < m->headers->len; i++) {
		const struct mark_header *h = m->headers->pdata[i];

		if (g_ascii_strcasecmp(h->name, name) == 0)
			return h->value;
	}
	return NULL;
}

/* ---- results ------------------------------------------------------------ */

static void
mark_edit_free(gpointer p)
{
	struct mark_hdr_edit *e = p;

	g_free(e->name);
	g_free(e->value);
	g_free(e);
}

void
mark_result_init(struct mark_result *r)
{
	memset(r, 0, sizeof(*r));
	r->reply = MARK_CONTINUE;
	r->headers = g_ptr_array_new_with_free_func(mark_edit_free);
	r->del_rcpts = g_ptr_array_new_with_free_func(g_free);
	r->account_id = -1;
	r->serial = -1;
	r->source = "none";
	r->state = "ok";
}

void
mark_result_clear(struct mark_result *r)
{
	g_free(r->chgfrom);
	g_free(r->chgfrom_args);
	if (r->headers)
		g_ptr_array_free(r->headers, TRUE);
	if (r->del_rcpts)
		g_ptr_array_free(r->del_rcpts, TRUE);
	g_free(r->quarantine);
	g_free(r->body);
	g_free(r->account);
	g_free(r->note);
	memset(r, 0, sizeof(*r));
}

static void mark_note(struct mark_result *r, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static void
mark_note(struct mark_result *r, const char *fmt, ...)
{
	va_list ap;

	if (r->note)
		return;
	va_start(ap, fmt);
	r->note = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

static void
mark_reply(struct mark_result *r, enum mark_reply reply, const char *code,
	   const char *xcode, const char *text)
{
	r->reply = reply;
	g_strlcpy(r->code, code, sizeof(r->code));
	g_strlcpy(r->xcode, xcode, sizeof(r->xcode));
	g_strlcpy(r->text, text, sizeof(r->text));
}

/* The store failed: pass unchanged (fail-open) or defer. */
static void
mark_store_failed(const struct mark_ctx *ctx, struct mark_result *r,
		  const char *why)
{
	r->store_failed = 1;
	g_clear_pointer(&r->note, g_free);
	mark_note(r, "store unavailable: %s", why);
	if (ctx->mc->fail_open)
		r->reply = MARK_ACCEPT;
	else
		mark_reply(r, MARK_TEMPFAIL, "451", "4.3.0",
			   "Temporary failure, please try again later");
}

static void
mark_edit(struct mark_result *r, const char *name, int index, const char *value)
{
	struct mark_hdr_edit *e = g_new0(struct mark_hdr_edit, 1);

	e->name = g_strdup(name);
	e->index = index;
	e->value = g_strdup(value);
	g_ptr_array_add(r->headers, e);
}

/* Deletes every occurrence, last first, so indices do not shift. */
static void
mark_strip(struct mark_result *r, const struct mark_msg *m, const char *name)
{
	for (unsigned i = mark_count(m, name); i > 0; i--)
		mark_edit(r, name, (int)i, NULL);
}

/* ---- parsing and identity ------------------------------------------------ */

static void
mark_parse(const struct mark_ctx *ctx, const struct mark_msg *m,
	   struct mark_work *w)
{
	GString *raw = g_string_sized_new(m->body->len + 4096);

	for (guint i = 0; i < m->headers->len; i++) {
		const struct mark_header *h = m->headers->pdata[i];

		g_string_append_printf(raw, "%s: %s\n", h->name, h->value);
	}
	g_string_append_c(raw, '\n');
	g_string_append_len(raw, (const char *)m->body->data, m->body->len);
	w->msg = rewrite_parse(raw->str, raw->len, &w->broken, &w->why);
	if (m->headers_seen > m->headers->len) {
		w->broken = 1;
		w->why = "more headers than max_headers";
	} else if (m->body_truncated) {
		w->broken = 1;
		w->why = "body larger than max_body";
	}
	g_string_free(raw, TRUE);
}

/* A body that is its own text: no MIME structure, no transfer encoding,
 * a charset the fingerprint reads as it is. Most mail from scripts. */
static int
mark_plain_text(const struct mark_msg *m)
{
	const char *ct = mark_header(m, "Content-Type");
	const char *cte = mark_header(m, "Content-Transfer-Encoding");
	GMimeContentType *t;
	const char *cs;
	int plain;

	if (m->headers_seen > m->headers->len)
		return 0;
	while (cte && (*cte == ' ' || *cte == '\t'))
		cte++;
	if (cte && g_ascii_strncasecmp(cte, "7bit", 4) != 0 &&
	    g_ascii_strncasecmp(cte, "8bit", 4) != 0)
		return 0;
	if (!ct)
		return 1;
	t = g_mime_content_type_parse(NULL, ct);
	cs = g_mime_content_type_get_parameter(t, "charset");
	plain = g_mime_content_type_is_type(t, "text", "plain") &&
		(!cs || g_ascii_strcasecmp(cs, "us-ascii") == 0 ||
		 g_ascii_strcasecmp(cs, "utf-8") == 0);
	g_object_unref(t);
	return plain;
}

static void
mark_fingerprint(const struct mark_ctx *ctx, const struct mark_msg *m,
		 struct mark_work *w)
{
	if (!ctx->mc->fingerprint)
		return;
	if (mark_plain_text(m)) {
		w->fingerprint = fingerprint_text((const char *)m->body->data,
						  m->body->len);
		return;
	}
	if (!w->msg)
		mark_parse(ctx, m, w);
	w->fingerprint = fingerprint_message(w->msg);
}

static char *
mark_from_addr(const struct mark_msg *m)
{
	const char *v = mark_header(m, "From");
	InternetAddressList *l;
	char *out = NULL;

	if (!v || !(l = internet_address_list_parse(NULL, v)))
		return NULL;
	for (int i = 0; i < internet_address_list_length(l) && !out; i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			out = g_strdup(internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(a)));
	}
	g_object_unref(l);
	return out;
}

struct mark_lookup {
	const struct mark_msg *m;
	struct store *st;
};

static const char *
mark_lookup_header(void *ud, const char *name)
{
	struct mark_lookup *l = ud;

	return mark_header(l->m, name);
}

static int
mark_lookup_domain(void *ud, const char *domain, int64_t *id, GError **error)
{
	struct mark_lookup *l = ud;
	uint32_t acct;
	int r = store_domain_lookup(l->st, domain, &acct, NULL, error);

	if (r == 0)
		*id = acct;
	return r;
}

/* 0 when an account was found; -1 when the reply is decided already. */
static int
mark_identify(const struct mark_ctx *ctx, struct store *st,
	      const struct mark_msg *m, struct mark_work *w,
	      struct mark_result *r)
{
	struct mark_lookup l = { m, st };
	struct identity_input in = {
		.sasl_login = m->sasl_login,
		.local = m->local,
		.env_from = m->env_from,
		.from_addr = w->from_addr,
		.header = mark_lookup_header,
		.domain = mark_lookup_domain,
		.ud = &l,
	};
	GError *e = NULL;

	if (identity_resolve(&ctx->mc->identity, &in, &w->ident, &e) < 0) {
		mark_store_failed(ctx, r, e->message);
		g_error_free(e);
		return -1;
	}
	r->source = identity_source_name(w->ident.source);
	if (w->ident.source != IDENTITY_NONE)
		return 0;
	mark_note(r, "no account for this message");
	switch (ctx->mc->unknown) {
	case MARK_UNKNOWN_TEMPFAIL:
		mark_reply(r, MARK_TEMPFAIL, "451", "4.7.1",
			   "Cannot tell which account sends this message");
		break;
	case MARK_UNKNOWN_REJECT:
		mark_reply(r, MARK_REJECT, "550", "5.7.1",
			   "Cannot tell which account sends this message");
		break;
	case MARK_UNKNOWN_ACCEPT:
		r->reply = MARK_ACCEPT;
		break;
	}
	return -1;
}

/* ---- the store transaction ------------------------------------------------ */

static const char *
mark_state_name(const char *s)
{
	static const char *const states[] = { "ok", "watch", "throttle",
					      "block" };

	for (size_t i = 0; i < G_N_ELEMENTS(states); i++)
		if (s && strcmp(s, states[i]) == 0)
			return states[i];
	return "ok";
}

/* The domain's own bounce domain when the domain belongs to the account. */
static int
mark_domain_bounce(const struct mark_ctx *ctx, struct store *st,
		   const char *addr, uint32_t id, const char *name, char **out,
		   GError **error)
{
	char *domain = identity_addr_domain(addr);
	const char *owner, *cfg;
	uint32_t acct;
	char *bounce = NULL;
	int r = 0;

	if (!domain)
		return 0;
	owner = g_hash_table_lookup(ctx->mc->identity.domains, domain);
	cfg = g_hash_table_lookup(ctx->mc->domain_bounce, domain);
	if (owner && cfg && strcmp(owner, name) == 0) {
		*out = g_strdup(cfg);
	} else if (!owner) {
		r = store_domain_lookup(st, domain, &acct, &bounce, error);
		if (r == 0 && acct == id && bounce && *bounce)
			*out = g_steal_pointer(&bounce);
		r = r < 0 ? -1 : 0;
	}
	g_free(bounce);
	g_free(domain);
	return r;
}

static int
mark_settings(const struct mark_ctx *ctx, struct store *st,
	      const struct mark_msg *m, uint32_t id, struct mark_work *w,
	      struct mark_result *r, GError **error)
{
	char *bounce = NULL, *options = NULL;
	GError *oe = NULL;

	if (store_account_settings(st, id, &bounce, &options, error) < 0)
		return -1;
	if (policy_options_parse(options, &w->opts, &oe) < 0) {
		mark_note(r, "%s", oe->message);
		g_error_free(oe);
	}
	g_free(options);
	if (mark_domain_bounce(ctx, st, w->from_addr, id, r->account,
			       &w->bounce_domain, error) < 0 ||
	    (!w->bounce_domain &&
	     mark_domain_bounce(ctx, st, m->env_from, id, r->account,
				&w->bounce_domain, error) < 0)) {
		g_free(bounce);
		return -1;
	}
	if (!w->bounce_domain && bounce && *bounce)
		w->bounce_domain = g_steal_pointer(&bounce);
	g_free(bounce);
	return 0;
}

/* The account's id, inside the read transaction mark_process() began: an
 * account named for the first time is created between two read
 * transactions, as a write cannot join a snapshot another connection may
 * have moved past. */
static int
mark_account_id(struct store *st, const struct mark_work *w, uint32_t *id,
		GError **error)
{
	int r;

	*id = (uint32_t)w->ident.id;
	if (!w->ident.name ||
	    (r = store_account_find(st, w->ident.name, id, error)) == 0)
		return 0;
	if (r < 0 || store_commit(st, error) < 0 ||
	    store_account_ensure(st, w->ident.name, id, error) < 0)
		return -1;
	return store_read_begin(st, error);
}

/* The account's state and name into r; 1 when it vanished. */
static int
mark_account(struct store *st, uint32_t id, int64_t now_ms,
	     struct mark_result *r, GError **error)
{
	struct store_account_state s;
	int found = store_account_state_get(st, id, now_ms, &s, error);

	if (found != 0)
		return found;
	r->account_id = id;
	r->account = g_strdup(s.name);
	r->state = mark_state_name(s.effective);
	store_account_state_clear(&s);
	return 0;
}

static int
mark_suppress(struct store *st, const struct mark_msg *m, struct mark_work *w,
	      struct mark_result *r, GError **error)
{
	w->kept = g_ptr_array_new();
	for (guint i = 0; i < m->rcpts->len; i++) {
		const char *rcpt = m->rcpts->pdata[i];
		int s = store_suppression_contains(st, (uint32_t)r->account_id,
						   rcpt, error);

		if (s < 0)
			return -1;
		if (s) {
			/* Postfix matches the address as it was given. */
			g_ptr_array_add(
				r->del_rcpts,
				g_strdup_printf("<%s>",
						(const char *)m->rcpts_as_given
							->pdata[i]));
			r->suppressed++;
		} else {
			g_ptr_array_add(w->kept, (gpointer)rcpt);
		}
	}
	r->rcpts = w->kept->len;
	return 0;
}

/* Applies the account's policy; 1 when the message stops here. */
static int
mark_enforce(const struct mark_ctx *ctx, struct store *st,
	     const struct mark_msg *m, struct mark_work *w, int64_t now_ms,
	     struct mark_result *r, GError **error)
{
	const struct policy_config *pc = &ctx->mc->policy;
	int64_t limit =
		w->opts.rate_limit >= 0 ? w->opts.rate_limit : pc->rate_limit;
	int64_t used = 0;
	struct policy_decision d;

	if (limit > 0 && store_send_rcpts_since(st, (uint32_t)r->account_id,
						now_ms - pc->rate_window_ms,
						&used, error) < 0)
		return -1;
	policy_decide(pc, m->local ? POLICY_PATH_LOCAL : POLICY_PATH_SMTP,
		      r->state, used + w->kept->len, limit, &d);
	switch (d.verdict) {
	case POLICY_DEFER:
		mark_reply(r, MARK_TEMPFAIL, d.code, d.xcode, d.text);
		return 1;
	case POLICY_REJECT:
		mark_reply(r, MARK_REJECT, d.code, d.xcode, d.text);
		return 1;
	case POLICY_HOLD:
		r->quarantine = g_strdup_printf("fbld: account %s: %s",
						r->account, d.text);
		break;
	case POLICY_PASS:
		break;
	}
	if (w->kept->len == 0) {
		r->reply = MARK_DISCARD;
		mark_note(r, "every recipient is suppressed");
		return 1;
	}
	return 0;
}

static int
mark_record(const struct mark_ctx *ctx, struct store *st,
	    const struct mark_msg *m, struct mark_work *w, int64_t now_ms,
	    struct mark_result *r, GError **error)
{
	const char *msgid = mark_header(m, "Message-ID");
	char *mid = msgid ? g_strstrip(g_strndup(msgid, MARK_MSGID_MAX)) : NULL;
	const char *bound = w->kept->len == 1 ? w->kept->pdata[0] : NULL;
	struct store_send snd = {
		.account = (uint32_t)r->account_id,
		.created_ms = now_ms,
		.message_id = mid,
		.queue_id = m->queue_id,
		.env_from = m->env_from,
		.identity_source = r->source,
		.rcpts = (const char *const *)w->kept->pdata,
		.n_rcpts = w->kept->len,
		.size = m->size,
		.fingerprint = w->fingerprint,
	};
	int ret = ctx->recorder ? recorder_add(ctx->recorder, &snd, bound,
					       r->token, error)
				: recorder_add_sync(st, ctx->tc->keys, &snd,
						    bound, r->token, error);

	if (ret == 0)
		r->serial = (int64_t)snd.serial;
	g_free(mid);
	return ret;
}

/* The account, its settings and state, the recipients (in the read
 * transaction mark_process() began, ended here), then the record, written
 * by the recorder (group commit). -1 on store trouble (r decided), 1 when
 * the message stops here, 0 when recorded. */
static int
mark_store(const struct mark_ctx *ctx, struct store *st,
	   const struct mark_msg *m, struct mark_work *w, int64_t now_ms,
	   struct mark_result *r)
{
	GError *e = NULL;
	uint32_t id;
	int s = mark_account_id(st, w, &id, &e);

	if (s == 0)
		s = mark_account(st, id, now_ms, r, &e);
	if (s == 0 && (mark_settings(ctx, st, m, id, w, r, &e) < 0 ||
		       mark_suppress(st, m, w, r, &e) < 0))
		s = -1;
	if (s == 0)
		s = mark_enforce(ctx, st, m, w, now_ms, r, &e);
	if (s >= 0 && store_commit(st, &e) < 0)
		s = -1;
	store_rollback(st);
	if (s == 0)
		s = mark_record(ctx, st, m, w, now_ms, r, &e);
	if (s < 0) {
		mark_store_failed(ctx, r, e ? e->message : "failed");
		g_clear_error(&e);
	} else if (s > 0 && r->reply == MARK_CONTINUE) {
		/* The account vanished between lookup and use. */
		mark_store_failed(ctx, r, "account disappeared");
		s = -1;
	}
	return s;
}

/* ---- modifications ----------------------------------------------------- */

static void
mark_feedback_id(const struct mark_ctx *ctx, struct mark_result *r)
{
	char name[MARK_FEEDBACK_NAME_MAX + 1];
	char *v;

	/* Gmail's Feedback-ID: colon-separated fields, SenderId last. */
	g_strlcpy(name, r->account, sizeof(name));
	g_strcanon(name,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789._@+-",
		   '_');
	v = g_strdup_printf("%" G_GINT64_FORMAT ":%s:%s", r->account_id, name,
			    ctx->mc->feedback_id_sender);
	mark_edit(r, "Feedback-ID", 0, v);
	g_free(v);
}

static void
mark_unsubscribe(const struct mark_ctx *ctx, const struct mark_msg *m,
		 const struct mark_work *w, struct mark_result *r)
{
	int want = w->opts.list_unsubscribe >= 0 ? w->opts.list_unsubscribe
						 : ctx->mc->list_unsubscribe;
	char *url, *v;

	if (!want || mark_count(m, "List-Unsubscribe") > 0 ||
	    !ctx->urls->unsubscribe ||
	    !(url = ctx->urls->unsubscribe(ctx->urls->ud, r->token)))
		return;
	v = g_strdup_printf("<%s>", url);
	mark_edit(r, "List-Unsubscribe", 0, v);
	/* RFC 8058: one-click, only beside an HTTPS List-Unsubscribe. */
	if (mark_count(m, "List-Unsubscribe-Post") == 0 &&
	    g_str_has_prefix(url, "https://"))
		mark_edit(r, "List-Unsubscribe-Post", 0,
			  "List-Unsubscribe=One-Click");
	g_free(v);
	g_free(url);
}

static void
mark_headers(const struct mark_ctx *ctx, const struct mark_msg *m,
	     const struct mark_work *w, struct mark_result *r)
{
	const struct identity_config *ic = &ctx->mc->identity;
	char *addr = token_address(ctx->tc, r->token, w->bounce_domain);

	r->chgfrom = g_strdup_printf("<%s>", addr);
	if (ctx->mc->set_envid && !m->client_envid)
		r->chgfrom_args = g_strdup_printf("ENVID=%s", r->token);
	g_free(addr);
	mark_strip(r, m, TOKEN_HEADER);
	mark_edit(r, TOKEN_HEADER, 0, r->token);
	if (*ctx->mc->feedback_id_sender) {
		mark_strip(r, m, "Feedback-ID");
		mark_feedback_id(ctx, r);
	}
	if (ctx->mc->strip_identity_headers) {
		if (ic->local_header)
			mark_strip(r, m, ic->local_header);
		for (char **h = ic->headers; h && *h; h++)
			mark_strip(r, m, *h);
	}
	mark_unsubscribe(ctx, m, w, r);
}

struct mark_track_ud {
	const struct mark_urls *urls;
	const char *token;
};

static char *
mark_track_click(void *ud, const char *href)
{
	struct mark_track_ud *t = ud;

	return t->urls->click(t->urls->ud, t->token, href);
}

static char *
mark_track_open(void *ud)
{
	struct mark_track_ud *t = ud;

	return t->urls->open_pixel(t->urls->ud, t->token);
}

static void
mark_track(const struct mark_ctx *ctx, const struct mark_msg *m,
	   struct mark_work *w, struct mark_result *r)
{
	int opens = w->opts.track_opens >= 0 ? w->opts.track_opens
					     : ctx->mc->track_opens;
	int clicks = w->opts.track_clicks >= 0 ? w->opts.track_clicks
					       : ctx->mc->track_clicks;
	struct mark_track_ud t = { ctx->urls, r->token };
	struct rewrite_links cb = {
		clicks && ctx->urls->click ? mark_track_click : NULL,
		opens && ctx->urls->open_pixel ? mark_track_open : NULL, &t
	};
	struct rewrite_result res;

	if (!cb.click && !cb.open_pixel)
		return;
	if (!w->msg)
		mark_parse(ctx, m, w);
	switch (rewrite_message(w->msg, w->broken, w->why, &cb, &res)) {
	case REWRITE_CHANGED:
		r->body = g_steal_pointer(&res.body);
		r->body_len = res.body_len;
		r->links = res.links;
		if (res.top_cte)
			mark_edit(r, "Content-Transfer-Encoding",
				  mark_count(m, "Content-Transfer-Encoding")
					  ? 1
					  : 0,
				  res.top_cte);
		break;
	case REWRITE_REFUSED:
		mark_note(r, "HTML left as it was: %s", res.reason);
		break;
	case REWRITE_UNCHANGED:
		break;
	}
	rewrite_result_clear(&res);
}

/* ---- the entry points -------------------------------------------------- */

static void
mark_work_clear(struct mark_work *w)
{
	g_clear_object(&w->msg);
	g_free(w->fingerprint);
	g_free(w->from_addr);
	g_free(w->bounce_domain);
	identity_clear(&w->ident);
	if (w->kept)
		g_ptr_array_free(w->kept, TRUE);
}

void
mark_process(const struct mark_ctx *ctx, struct store *st,
	     const struct mark_msg *m, int64_t now_ms, struct mark_result *r)
{
	struct mark_work w = { 0 };
	GError *e = NULL;

	if (m->rcpts->len == 0) {
		r->reply = MARK_ACCEPT;
		mark_note(r, "no recipients");
		return;
	}
	w.from_addr = mark_from_addr(m);
	mark_fingerprint(ctx, m, &w);
	if (!st) {
		mark_store_failed(ctx, r, "cannot open the database");
	} else if (store_read_begin(st, &e) < 0) {
		mark_store_failed(ctx, r, e->message);
		g_error_free(e);
	} else if (mark_identify(ctx, st, m, &w, r) == 0 &&
		   mark_store(ctx, st, m, &w, now_ms, r) == 0) {
		mark_headers(ctx, m, &w, r);
		mark_track(ctx, m, &w, r);
	}
	if (st)
		store_rollback(st); /* the read transaction, when still open */
	mark_work_clear(&w);
}

void
mark_envelope_check(const struct mark_ctx *ctx, struct store *st,
		    const struct mark_msg *m, const char *rcpt, int64_t now_ms,
		    struct mark_result *r)
{
	struct identity_input in = { .sasl_login = m->sasl_login };
	struct identity id;
	struct store_account_state s;
	struct policy_decision d;
	uint32_t acct;

	if (m->local || !st || !m->sasl_login ||
	    (rcpt && !ctx->mc->suppressed_refuse) ||
	    (!rcpt && !ctx->mc->check_at_mail) ||
	    identity_resolve(&ctx->mc->identity, &in, &id, NULL) < 0)
		return;
	if (id.name && store_account_find(st, id.name, &acct, NULL) == 0) {
		if (rcpt) {
			char *a = mark_unbracket(rcpt);
			char *low = g_ascii_strdown(a, -1);

			if (store_suppression_contains(st, acct, low, NULL) ==
			    1)
				mark_reply(r, MARK_REJECT, "550", "5.7.1",
					   "This recipient unsubscribed or "
					   "bounced; not sent");
			g_free(low);
			g_free(a);
		} else if (store_account_state_get(st, acct, now_ms, &s,
						   NULL) == 0) {
			policy_decide(&ctx->mc->policy, POLICY_PATH_SMTP,
				      s.effective, 0, 0, &d);
			if (d.verdict != POLICY_PASS)
				mark_reply(r,
					   d.verdict == POLICY_REJECT
						   ? MARK_REJECT
						   : MARK_TEMPFAIL,
					   d.code, d.xcode, d.text);
			store_account_state_clear(&s);
		}
	}
	identity_clear(&id);
}
