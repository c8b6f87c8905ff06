/* policy: see policy.h. */
#include "verp/policy.h"

#include <json-glib/json-glib.h>
#include <string.h>

G_DEFINE_QUARK(fbld - policy - error - quark, policy_error)

struct policy_attr {
	const char *name;
	const char *value;
};

struct policy_request {
	char *buf; /* the request, NUL-separated in place */
	struct policy_attr attrs[POLICY_ATTRS_MAX];
	unsigned n;
};

const char *
policy_verdict_name(enum policy_verdict v)
{
	switch (v) {
	case POLICY_DEFER:
		return "defer";
	case POLICY_REJECT:
		return "reject";
	case POLICY_HOLD:
		return "hold";
	case POLICY_PASS:
		break;
	}
	return "pass";
}

static void
policy_set(struct policy_decision *d, enum policy_verdict v, const char *why,
	   const char *text)
{
	d->verdict = v;
	d->why = why;
	g_strlcpy(d->code, v == POLICY_REJECT ? "550" : "451", sizeof(d->code));
	g_strlcpy(d->xcode, v == POLICY_REJECT ? "5.7.1" : "4.7.1",
		  sizeof(d->xcode));
	g_strlcpy(d->text, text, sizeof(d->text));
}

void
policy_decide(const struct policy_config *pc, enum policy_path path,
	      const char *state, int64_t rcpts_used, int64_t limit,
	      struct policy_decision *d)
{
	int local = path == POLICY_PATH_LOCAL;

	memset(d, 0, sizeof(*d));
	d->verdict = POLICY_PASS;
	if (state && strcmp(state, "block") == 0) {
		policy_set(d, local ? pc->local_block : POLICY_REJECT, "state",
			   "Sending from this account is blocked; "
			   "contact your provider");
		return;
	}
	if (state && strcmp(state, "throttle") == 0) {
		if (local && pc->local_throttle == POLICY_PASS)
			return;
		policy_set(d, local ? pc->local_throttle : POLICY_DEFER,
			   "state",
			   "Sending from this account is temporarily "
			   "limited; try again later");
		return;
	}
	if (limit > 0 && rcpts_used > limit) {
		char text[POLICY_TEXT_MAX];

		if (local && pc->local_throttle == POLICY_PASS)
			return;
		g_snprintf(text, sizeof(text),
			   "Recipient rate limit of this account reached "
			   "(%" G_GINT64_FORMAT " per %" G_GINT64_FORMAT
			   " min); try again later",
			   limit, pc->rate_window_ms / 60000);
		policy_set(d, local ? pc->local_throttle : POLICY_DEFER, "rate",
			   text);
	}
}

/* ---- account options ----------------------------------------------------- */

static int
policy_opt_bool(JsonObject *obj, const char *key, int *out, GError **error)
{
	JsonNode *n = json_object_get_member(obj, key);

	if (!n)
		return 0;
	if (json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
		g_set_error(error, POLICY_ERROR, 1,
			    "account options: %s must be true or false", key);
		return -1;
	}
	*out = json_node_get_boolean(n);
	return 0;
}

int
policy_options_parse(const char *json, struct policy_options *o, GError **error)
{
	JsonParser *p;
	JsonNode *root;
	JsonObject *obj;
	JsonNode *n;
	int r = -1;

	o->track_opens = o->track_clicks = o->list_unsubscribe = -1;
	o->rate_limit = -1;
	if (!json || !*json)
		return 0;
	if (strlen(json) > POLICY_OPTIONS_MAX) {
		g_set_error(error, POLICY_ERROR, 1,
			    "account options: longer than %d bytes",
			    POLICY_OPTIONS_MAX);
		return -1;
	}
	p = json_parser_new_immutable();
	if (!json_parser_load_from_data(p, json, -1, error))
		goto out;
	root = json_parser_get_root(p);
	if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, POLICY_ERROR, 1,
			    "account options: not a JSON object");
		goto out;
	}
	obj = json_node_get_object(root);
	if (policy_opt_bool(obj, "track_opens", &o->track_opens, error) < 0 ||
	    policy_opt_bool(obj, "track_clicks", &o->track_clicks, error) < 0 ||
	    policy_opt_bool(obj, "list_unsubscribe", &o->list_unsubscribe,
			    error) < 0)
		goto out;
	n = json_object_get_member(obj, "rate_limit");
	if (n) {
		if (json_node_get_value_type(n) != G_TYPE_INT64 ||
		    json_node_get_int(n) < 0) {
			g_set_error(error, POLICY_ERROR, 1,
				    "account options: rate_limit must be a "
				    "number of recipients (0: none)");
			goto out;
		}
		o->rate_limit = json_node_get_int(n);
	}
	r = 0;
out:
	if (r < 0)
		o->track_opens = o->track_clicks = o->list_unsubscribe =
			o->rate_limit = -1;
	g_object_unref(p);
	return r;
}

/* ---- the policy delegation protocol ----------------------------------- */

gssize
policy_request_end(const char *buf, size_t len)
{
	size_t lim = MIN(len, (size_t)POLICY_REQUEST_MAX);

	/* An empty line: "\n\n" anywhere, or "\n" as the very first byte. */
	if (lim > 0 && buf[0] == '\n')
		return 1;
	for (size_t i = 1; i < lim; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\n')
			return (gssize)i + 1;
	return len >= POLICY_REQUEST_MAX ? -1 : 0;
}

static int
policy_name_ok(const char *s, size_t n)
{
	return n > 0 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") >= n;
}

struct policy_request *
policy_request_parse(const char *buf, size_t len, GError **error)
{
	struct policy_request *r = g_new0(struct policy_request, 1);
	char *line, *next;

	if (len > POLICY_REQUEST_MAX) {
		g_set_error(error, POLICY_ERROR, 1, "request over %d bytes",
			    POLICY_REQUEST_MAX);
		g_free(r);
		return NULL;
	}
	r->buf = g_strndup(buf, len);
	for (line = r->buf; *line && *line != '\n'; line = next) {
		char *nl = strchr(line, '\n');
		char *eq;

		next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		eq = strchr(line, '=');
		if (r->n == POLICY_ATTRS_MAX) {
			g_set_error(error, POLICY_ERROR, 1,
				    "more than %d attributes",
				    POLICY_ATTRS_MAX);
			policy_request_free(r);
			return NULL;
		}
		if (!eq || !policy_name_ok(line, (size_t)(eq - line))) {
			g_set_error(error, POLICY_ERROR, 1,
				    "malformed attribute line");
			policy_request_free(r);
			return NULL;
		}
		*eq = '\0';
		r->attrs[r->n].name = line;
		r->attrs[r->n].value = eq + 1;
		r->n++;
	}
	return r;
}

void
policy_request_free(struct policy_request *r)
{
	if (!r)
		return;
	g_free(r->buf);
	g_free(r);
}

const char *
policy_request_get(const struct policy_request *r, const char *name)
{
	/* The last occurrence wins, as in Postfix's own attribute reader. */
	for (unsigned i = r->n; i-- > 0;)
		if (strcmp(r->attrs[i].name, name) == 0)
			return r->attrs[i].value;
	return NULL;
}

char *
policy_reply(const struct policy_decision *d)
{
	char text[POLICY_TEXT_MAX];

	/* The reply is one line: nothing that could end it early. */
	g_strlcpy(text, d->text, sizeof(text));
	g_strcanon(text,
		   " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXY"
		   "Z[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
		   ' ');
	switch (d->verdict) {
	case POLICY_DEFER:
		return g_strdup_printf("action=DEFER_IF_PERMIT %s %s\n\n",
				       d->xcode, text);
	case POLICY_REJECT:
		return g_strdup_printf("action=REJECT %s %s\n\n", d->xcode,
				       text);
	case POLICY_HOLD:
		return g_strdup_printf("action=HOLD %s\n\n", text);
	case POLICY_PASS:
		break;
	}
	return g_strdup("action=DUNNO\n\n");
}
