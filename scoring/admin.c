/* admin: see admin.h. */
#include "scoring/admin.h"

#include <errno.h>
#include <stdarg.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/store.h"
#include "scoring/accounts.h"

#define ADMIN_PREFIX "/api/v1/"
#define ADMIN_ACCOUNTS ADMIN_PREFIX "accounts"
#define ADMIN_OUTBOX ADMIN_PREFIX "outbox"

struct admin {
	const struct admin_config *cfg;
	const struct store_config *sc;
	const struct actions_config *ac;
	struct http_server *http;
	GAsyncQueue *pool; /* idle struct store * */
	GMutex lock;
	int open; /* connections opened */
};

/* What a handler answers: a JSON body, or an error. */
struct admin_reply {
	int status;
	JsonNode *body;
	char *error;
};

/* A node that takes over the caller's reference to o. */
static JsonNode *
admin_node(JsonObject *o)
{
	JsonNode *n = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(n, o);
	return n;
}

/* ---- configuration ------------------------------------------------------- */

static int
admin_loopback(const char *address)
{
	return g_str_has_prefix(address, "127.") || strcmp(address, "::1") == 0;
}

void
admin_config_load(struct config *cfg, struct admin_config *out)
{
	memset(out, 0, sizeof(*out));
	http_config_load(cfg, "admin", "127.0.0.1:8026", &out->http);
	if (!admin_loopback(out->http.address))
		config_error(cfg, "admin", "listen",
			     "%s is not a loopback address (the admin API "
			     "speaks plain HTTP)",
			     out->http.address);
	out->token = config_secret(cfg, "admin", "token_file", 0);
	if (out->token && strlen(out->token) < ADMIN_TOKEN_MIN)
		config_error(cfg, "admin", "token_file",
			     "the token is shorter than %d characters",
			     ADMIN_TOKEN_MIN);
}

void
admin_config_clear(struct admin_config *ac)
{
	http_config_clear(&ac->http);
	if (ac->token)
		memset(ac->token, 0, strlen(ac->token));
	g_clear_pointer(&ac->token, g_free);
}

/* ---- helpers ---------------------------------------------------------------- */

static void admin_fail(struct admin_reply *r, int status, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void
admin_fail(struct admin_reply *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	r->status = status;
	g_free(r->error);
	r->error = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/* A view's result, or 500 with the store's error. */
static void
admin_view(struct admin_reply *r, JsonNode *view, GError *e)
{
	if (view) {
		r->status = 200;
		r->body = view;
		return;
	}
	admin_fail(r, e && e->code == STORE_ERR_BUSY ? 503 : 500, "%s",
		   e ? e->message : "store error");
}

/* {"NAME": node} */
static JsonNode *
admin_wrap(const char *name, JsonNode *node)
{
	JsonObject *o;

	if (!node)
		return NULL;
	o = json_object_new();
	json_object_set_member(o, name, node);
	return admin_node(o);
}

/* A non-negative integer query argument, def when absent; -1 if bad. */
static int64_t
admin_query_int(const struct http_request *req, const char *key, int64_t def)
{
	const char *v = http_query(req, key);
	char *end;
	int64_t n;

	if (!v || !*v)
		return def;
	errno = 0;
	n = g_ascii_strtoll(v, &end, 10);
	return *end || errno || n < 0 ? -1 : n;
}

/* Constant time in the length of the token. */
static int
admin_token_ok(const char *token, const char *given)
{
	size_t lt = strlen(token), lg = given ? strlen(given) : 0;
	unsigned char d = lt != lg;

	if (!lg)
		return 0;
	for (size_t i = 0; i < lt; i++)
		d |= (unsigned char)(token[i] ^ given[i % lg]);
	return d == 0;
}

static int
admin_authorized(const struct admin *a, const struct http_request *req)
{
	const char *h = http_header(req, "Authorization");

	if (!h || g_ascii_strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	while (*h == ' ')
		h++;
	return admin_token_ok(a->cfg->token, h);
}

static struct store *
admin_store_get(struct admin *a, GError **error)
{
	struct store *st = g_async_queue_try_pop(a->pool);

	if (st)
		return st;
	g_mutex_lock(&a->lock);
	if (a->open < a->cfg->http.threads) {
		a->open++;
		g_mutex_unlock(&a->lock);
		st = store_open_config(a->sc, error);
		if (!st) {
			g_mutex_lock(&a->lock);
			a->open--;
			g_mutex_unlock(&a->lock);
		}
		return st;
	}
	g_mutex_unlock(&a->lock);
	/* One connection per listener thread: one is coming back soon. */
	return g_async_queue_pop(a->pool);
}

/* The account name of /api/v1/accounts/NAME[/SUB] and its SUB ("" when
 * none); NULL when the path names no account. */
static char *
admin_account_path(const char *path, const char **sub)
{
	static const char *const subs[] = { "/stats", "/events", "/history",
					    "/deliveries", "/override" };
	const char *rest = path + strlen(ADMIN_ACCOUNTS "/");
	size_t len = strlen(rest);

	*sub = "";
	for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
		size_t sl = strlen(subs[i]);

		if (len > sl && strcmp(rest + len - sl, subs[i]) == 0) {
			*sub = subs[i] + 1;
			len -= sl;
			break;
		}
	}
	return len ? g_strndup(rest, len) : NULL;
}

/* ---- GET ------------------------------------------------------------------------ */

static void
admin_get_accounts(struct store *st, const struct http_request *req,
		   struct admin_reply *r)
{
	const char *state = http_query(req, "state");
	int64_t limit = admin_query_int(req, "limit", 1000);
	int64_t offset = admin_query_int(req, "offset", 0);
	GError *e = NULL;

	if (state && !actions_state_valid(state) && strcmp(state, "not-ok"))
		return admin_fail(r, 400,
				  "state: \"%s\" is not ok, watch, "
				  "throttle, block or not-ok",
				  state);
	if (limit < 1 || offset < 0)
		return admin_fail(r, 400, "limit and offset: whole numbers");
	admin_view(r,
		   accounts_list(st, req->now_ms, state,
				 (int)MIN(limit, G_MAXINT),
				 (int)MIN(offset, G_MAXINT), &e),
		   e);
	g_clear_error(&e);
}

static void
admin_get_account(struct store *st, const struct http_request *req,
		  const char *name, const char *sub, struct admin_reply *r)
{
	int64_t limit = admin_query_int(req, "limit", 20);
	int64_t before = admin_query_int(req, "before", 0);
	JsonNode *view = NULL;
	GError *e = NULL;
	uint32_t id;
	int found;

	if (limit < 1 || before < 0)
		return admin_fail(r, 400, "limit and before: whole numbers");
	limit = MIN(limit, ACCOUNTS_ROWS_MAX);
	found = store_account_find(st, name, &id, &e);
	if (found == 1)
		return admin_fail(r, 404, "no account \"%s\"", name);
	if (found == 0 && !*sub)
		found = accounts_show(st, name, req->now_ms, (int)limit, &view,
				      &e);
	else if (found == 0 && strcmp(sub, "stats") == 0)
		view = accounts_windows(st, id, req->now_ms, &e);
	else if (found == 0 && strcmp(sub, "events") == 0)
		view = admin_wrap("events", accounts_events(st, id, before,
							    (int)limit, &e));
	else if (found == 0 && strcmp(sub, "history") == 0)
		view = admin_wrap(
			"history",
			accounts_history(st, id, 0, INT64_MAX, (int)limit, &e));
	else if (found == 0 && strcmp(sub, "deliveries") == 0)
		view = admin_wrap(
			"deliveries",
			accounts_outbox(st, NULL, id, before, (int)limit, &e));
	else if (found == 0)
		return admin_fail(r, 405, "use PUT or DELETE on %s", req->path);
	admin_view(r, view, e);
	g_clear_error(&e);
}

static void
admin_get_outbox(struct store *st, const struct http_request *req,
		 struct admin_reply *r)
{
	const char *status = http_query(req, "status");
	const char *name = http_query(req, "account");
	int64_t limit = admin_query_int(req, "limit", 100);
	int64_t before = admin_query_int(req, "before", 0);
	int64_t account = -1;
	GError *e = NULL;
	uint32_t id;

	if (status && strcmp(status, "pending") && strcmp(status, "done") &&
	    strcmp(status, "dead"))
		return admin_fail(r, 400, "status: pending, done or dead");
	if (limit < 1 || before < 0)
		return admin_fail(r, 400, "limit and before: whole numbers");
	if (name) {
		int found = store_account_find(st, name, &id, &e);

		if (found != 0) {
			g_clear_error(&e);
			return admin_fail(r, found > 0 ? 404 : 500,
					  "no account \"%s\"", name);
		}
		account = id;
	}
	admin_view(r,
		   admin_wrap("deliveries",
			      accounts_outbox(st, status, account, before,
					      (int)MIN(limit, G_MAXINT), &e)),
		   e);
	g_clear_error(&e);
}

static void
admin_get_report(struct store *st, const struct http_request *req,
		 struct admin_reply *r)
{
	const char *since = http_query(req, "since");
	int64_t since_ms = req->now_ms - 24 * 3600 * 1000LL;
	GError *e = NULL;

	if (since &&
	    accounts_parse_since(since, req->now_ms, &since_ms, &e) < 0) {
		admin_fail(r, 400, "since: %s", e->message);
		g_error_free(e);
		return;
	}
	admin_view(r, accounts_report(st, since_ms, req->now_ms + 1, &e), e);
	g_clear_error(&e);
}

static void
admin_get(struct admin *a, struct store *st, const struct http_request *req,
	  struct admin_reply *r)
{
	const char *p = req->path;
	const char *sub;
	char *name;

	if (strcmp(p, ADMIN_ACCOUNTS) == 0)
		return admin_get_accounts(st, req, r);
	if (g_str_has_prefix(p, ADMIN_ACCOUNTS "/") &&
	    (name = admin_account_path(p, &sub))) {
		admin_get_account(st, req, name, sub, r);
		g_free(name);
		return;
	}
	if (strcmp(p, ADMIN_OUTBOX) == 0)
		return admin_get_outbox(st, req, r);
	if (strcmp(p, ADMIN_PREFIX "report") == 0)
		return admin_get_report(st, req, r);
	admin_fail(r, 404, "no such resource: %s", p);
}

/* ---- PUT and DELETE of an override ------------------------------------------------ */

/* The request body as an object, or NULL with r failed. An empty body is
 * an empty object. */
static JsonObject *
admin_body(const struct http_request *req, JsonNode **root,
	   struct admin_reply *r)
{
	GError *e = NULL;

	*root = req->body_len ? json_from_string(req->body, &e)
			      : admin_node(json_object_new());
	if (!*root || !JSON_NODE_HOLDS_OBJECT(*root)) {
		admin_fail(r, 400, "the body is not a JSON object%s%s",
			   e ? ": " : "", e ? e->message : "");
		g_clear_error(&e);
		if (*root)
			json_node_unref(*root);
		*root = NULL;
		return NULL;
	}
	return json_node_get_object(*root);
}

/* "until": null, a number of ms, or a string for accounts_parse_until. */
static int
admin_until(JsonObject *o, int64_t now_ms, int64_t *until_ms,
	    struct admin_reply *r)
{
	JsonNode *n = json_object_get_member(o, "until");
	GError *e = NULL;

	*until_ms = 0;
	if (!n || JSON_NODE_HOLDS_NULL(n))
		return 0;
	if (JSON_NODE_HOLDS_VALUE(n) &&
	    json_node_get_value_type(n) == G_TYPE_INT64) {
		*until_ms = json_node_get_int(n);
		if (*until_ms > now_ms || *until_ms == 0)
			return 0;
		admin_fail(r, 400, "until: in the past");
		return -1;
	}
	if (JSON_NODE_HOLDS_VALUE(n) &&
	    json_node_get_value_type(n) == G_TYPE_STRING &&
	    accounts_parse_until(json_node_get_string(n), now_ms, until_ms,
				 &e) == 0)
		return 0;
	admin_fail(r, 400, "until: %s",
		   e ? e->message : "a time, a duration or null");
	g_clear_error(&e);
	return -1;
}

/* The account to override, created on request. */
static int
admin_override_account(struct store *st, const char *name, int create,
		       uint32_t *id, struct admin_reply *r)
{
	GError *e = NULL;
	int found = create ? store_account_ensure(st, name, id, &e)
			   : store_account_find(st, name, id, &e);

	if (found == 0)
		return 0;
	if (found > 0)
		admin_fail(r, 404,
			   "no account \"%s\" (\"create\": true makes it)",
			   name);
	else
		admin_fail(r, 500, "%s", e->message);
	g_clear_error(&e);
	return -1;
}

static void
admin_override(struct admin *a, struct store *st,
	       const struct http_request *req, const char *name, int set,
	       struct admin_reply *r)
{
	JsonNode *root = NULL, *view = NULL;
	JsonObject *o = admin_body(req, &root, r);
	const char *state = NULL, *reason;
	int64_t until_ms = 0;
	GError *e = NULL;
	uint32_t id;
	int changed;

	if (!o)
		return;
	reason = json_object_get_string_member_with_default(o, "reason", NULL);
	if (set)
		state = json_object_get_string_member_with_default(o, "state",
								   NULL);
	if (!reason && !set)
		reason = http_query(req, "reason");
	if (set && !actions_state_valid(state))
		admin_fail(r, 400, "state: ok, watch, throttle or block");
	else if (!reason || !*reason || strlen(reason) > ACTIONS_REASON_MAX)
		admin_fail(r, 400, "reason: required, at most %d bytes",
			   ACTIONS_REASON_MAX);
	else if (admin_until(o, req->now_ms, &until_ms, r) == 0 &&
		 admin_override_account(
			 st, name,
			 set && json_object_get_boolean_member_with_default(
					o, "create", FALSE),
			 &id, r) == 0) {
		changed = actions_override(a->ac, st, id, req->now_ms, state,
					   reason, until_ms, &e);
		if (changed >= 0 &&
		    accounts_show(st, name, req->now_ms, 5, &view, &e) == 0) {
			json_object_set_boolean_member(
				json_node_get_object(view), "changed", changed);
			log_notice("admin: override account=%s state=%s "
				   "client=%s",
				   name, state ? state : "(cleared)",
				   req->client_ip);
		}
		admin_view(r, view, e);
		g_clear_error(&e);
	}
	json_node_unref(root);
}

static void
admin_retry(struct store *st, const struct http_request *req,
	    struct admin_reply *r)
{
	const char *p = req->path + strlen(ADMIN_OUTBOX "/");
	char *end;
	int64_t id = g_ascii_strtoll(p, &end, 10);
	GError *e = NULL;
	int found;

	if (end == p || strcmp(end, "/retry") != 0 || id <= 0)
		return admin_fail(r, 404, "no such resource: %s", req->path);
	found = store_outbox_requeue(st, id, req->now_ms, &e);
	if (found == 1)
		return admin_fail(r, 404,
				  "no given-up delivery %" G_GINT64_FORMAT, id);
	admin_view(r,
		   found < 0 ? NULL
			     : admin_wrap("deliveries",
					  accounts_outbox(st, NULL, -1, id + 1,
							  1, &e)),
		   e);
	g_clear_error(&e);
}

static void
admin_change(struct admin *a, struct store *st, const struct http_request *req,
	     struct admin_reply *r)
{
	const char *sub = "";
	char *name = g_str_has_prefix(req->path, ADMIN_ACCOUNTS "/")
			     ? admin_account_path(req->path, &sub)
			     : NULL;
	int put = strcmp(req->method, "PUT") == 0;
	int del = strcmp(req->method, "DELETE") == 0;

	if (name && strcmp(sub, "override") == 0 && (put || del))
		admin_override(a, st, req, name, put, r);
	else if (!name && strcmp(req->method, "POST") == 0 &&
		 g_str_has_prefix(req->path, ADMIN_OUTBOX "/"))
		admin_retry(st, req, r);
	else
		admin_fail(r, name ? 405 : 404, "%s is not allowed on %s",
			   req->method, req->path);
	g_free(name);
}

/* ---- the handler ----------------------------------------------------------------- */

static void
admin_respond(struct http_response *resp, struct admin_reply *r)
{
	char *text;

	if (r->error) {
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "error", r->error);
		if (r->body)
			json_node_unref(r->body);
		r->body = admin_node(o);
	}
	text = json_to_string(r->body, TRUE);
	http_respond(resp, r->status, "application/json", text);
	resp->body_free = g_free;
	http_response_header(resp, "Cache-Control", "no-store");
	json_node_unref(r->body);
	g_free(r->error);
}

static void
admin_handle(void *ud, const struct http_request *req,
	     struct http_response *resp)
{
	struct admin *a = ud;
	struct admin_reply r = { .status = 500 };
	struct store *st;
	GError *e = NULL;

	if (!admin_authorized(a, req)) {
		log_warn("admin: unauthorized client=%s path=%s",
			 req->client_ip, req->path);
		admin_fail(&r, 401, "a valid bearer token is required");
		admin_respond(resp, &r);
		http_response_header(resp, "WWW-Authenticate",
				     "Bearer realm=\"fbld\"");
		return;
	}
	st = admin_store_get(a, &e);
	if (!st) {
		admin_fail(&r, 503, "%s", e->message);
		g_error_free(e);
	} else {
		if (strcmp(req->method, "GET") == 0 ||
		    strcmp(req->method, "HEAD") == 0)
			admin_get(a, st, req, &r);
		else
			admin_change(a, st, req, &r);
		g_async_queue_push(a->pool, st);
	}
	admin_respond(resp, &r);
}

/* ---- life cycle ------------------------------------------------------------------ */

struct admin *
admin_new(const struct admin_config *cfg, const struct store_config *sc,
	  const struct actions_config *ac)
{
	static const char *const methods[] = { NULL, "PUT", "DELETE", "POST" };
	struct admin *a = g_new0(struct admin, 1);

	a->cfg = cfg;
	a->sc = sc;
	a->ac = ac;
	a->pool = g_async_queue_new_full((GDestroyNotify)store_close);
	g_mutex_init(&a->lock);
	a->http = http_server_new(&cfg->http);
	for (size_t i = 0; i < G_N_ELEMENTS(methods); i++)
		http_route(a->http, methods[i], ADMIN_PREFIX, 1, admin_handle,
			   a);
	return a;
}

int
admin_start(struct admin *a, GError **error)
{
	return http_server_start(a->http, error);
}

int
admin_port(const struct admin *a)
{
	return http_server_port(a->http);
}

void
admin_free(struct admin *a)
{
	if (!a)
		return;
	http_server_free(a->http);
	g_async_queue_unref(a->pool);
	g_mutex_clear(&a->lock);
	g_free(a);
}
