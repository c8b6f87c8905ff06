/* identity: see identity.h. */
#include "verp/identity.h"

#include <string.h>

#define IDENTITY_CHARS                                                         \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@+-"

const char *
identity_source_name(enum identity_source s)
{
	switch (s) {
	case IDENTITY_SASL:
		return "sasl";
	case IDENTITY_LOCAL:
		return "local";
	case IDENTITY_HEADER:
		return "header";
	case IDENTITY_DOMAIN:
		return "domain";
	case IDENTITY_NONE:
		break;
	}
	return "none";
}

char *
identity_name_from_value(const char *value)
{
	size_t n;

	if (!value)
		return NULL;
	while (*value == ' ' || *value == '\t')
		value++;
	n = strcspn(value, ": \t\r\n");
	if (n == 0 || n > IDENTITY_NAME_MAX ||
	    strspn(value, IDENTITY_CHARS) < n)
		return NULL;
	return g_strndup(value, n);
}

char *
identity_addr_domain(const char *addr)
{
	const char *at, *end;

	if (!addr)
		return NULL;
	at = strrchr(addr, '@');
	if (!at || !at[1])
		return NULL;
	at++;
	end = at + strcspn(at, "> \t\r\n");
	if (end == at || end - at > 255)
		return NULL;
	return g_ascii_strdown(at, end - at);
}

/* The SASL login as an account name: bounded, no control characters. */
static char *
identity_sasl_name(const struct identity_config *ic, const char *login)
{
	const char *name = login;
	size_t n;

	if (ic->sasl_domain && strchr(login, '@'))
		name = strrchr(login, '@') + 1;
	n = strlen(name);
	if (n == 0 || n > 255)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x21 || name[i] == 0x7f)
			return NULL;
	return ic->sasl_domain ? g_ascii_strdown(name, -1) : g_strdup(name);
}

/* Looks a domain up in the configured map, then in the store. 1 found,
 * 0 none, -1 store error. */
static int
identity_domain(const struct identity_config *ic,
		const struct identity_input *in, const char *addr,
		struct identity *out, GError **error)
{
	char *domain = identity_addr_domain(addr);
	const char *name;
	int64_t id;
	int r = 0;

	if (!domain)
		return 0;
	if (ic->domains && (name = g_hash_table_lookup(ic->domains, domain))) {
		out->name = g_strdup(name);
		r = 1;
	} else if (in->domain) {
		int s = in->domain(in->ud, domain, &id, error);

		if (s < 0)
			r = -1;
		else if (s == 0) {
			out->id = id;
			r = 1;
		}
	}
	if (r == 1)
		out->via = domain;
	else
		g_free(domain);
	return r;
}

static int
identity_local(const struct identity_config *ic,
	       const struct identity_input *in, struct identity *out,
	       GError **error)
{
	int r;

	if (ic->local_header && in->header) {
		char *name = identity_name_from_value(
			in->header(in->ud, ic->local_header));
		if (name) {
			out->name = name;
			out->via = g_strdup(ic->local_header);
			return 1;
		}
	}
	if (!ic->local_sender)
		return 0;
	r = identity_domain(ic, in, in->env_from, out, error);
	return r;
}

static int
identity_headers(const struct identity_config *ic,
		 const struct identity_input *in, struct identity *out)
{
	if (!ic->headers || !in->header)
		return 0;
	for (char **h = ic->headers; *h; h++) {
		char *name = identity_name_from_value(in->header(in->ud, *h));

		if (name) {
			out->name = name;
			out->via = g_strdup(*h);
			return 1;
		}
	}
	return 0;
}

int
identity_resolve(const struct identity_config *ic,
		 const struct identity_input *in, struct identity *out,
		 GError **error)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->id = -1;
	if (in->sasl_login && *in->sasl_login &&
	    (out->name = identity_sasl_name(ic, in->sasl_login))) {
		out->source = IDENTITY_SASL;
		return 0;
	}
	if (in->local) {
		r = identity_local(ic, in, out, error);
		if (r != 0) {
			out->source = IDENTITY_LOCAL;
			return r < 0 ? -1 : 0;
		}
	}
	if (identity_headers(ic, in, out)) {
		out->source = IDENTITY_HEADER;
		return 0;
	}
	r = identity_domain(ic, in, in->env_from, out, error);
	if (r == 0)
		r = identity_domain(ic, in, in->from_addr, out, error);
	if (r > 0)
		out->source = IDENTITY_DOMAIN;
	return r < 0 ? -1 : 0;
}

void
identity_clear(struct identity *id)
{
	g_clear_pointer(&id->name, g_free);
	g_clear_pointer(&id->via, g_free);
	id->source = IDENTITY_NONE;
	id->id = -1;
}

void
identity_config_clear(struct identity_config *ic)
{
	g_clear_pointer(&ic->local_header, g_free);
	g_clear_pointer(&ic->headers, g_strfreev);
	g_clear_pointer(&ic->domains, g_hash_table_unref);
}
