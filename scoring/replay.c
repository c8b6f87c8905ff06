/* replay: see replay.h. */
#include "scoring/replay.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "core/jsonval.h"
#include "scoring/engine.h"
#include "scoring/rcptset.h"

G_DEFINE_QUARK(fbld - scoring - replay - error - quark, scoring_replay_error)

/* ---- the line parser --------------------------------------------------- */

struct scoring_replay_parser {
	JsonParser *json; /* the fallback; its tree backs rec's strings */
};

struct scoring_replay_parser *
scoring_replay_parser_new(void)
{
	struct scoring_replay_parser *p =
		g_new0(struct scoring_replay_parser, 1);

	p->json = json_parser_new_immutable();
	return p;
}

void
scoring_replay_parser_free(struct scoring_replay_parser *p)
{
	if (!p)
		return;
	g_object_unref(p->json);
	g_free(p);
}

#define REPLAY_TS_MAX INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

enum fval {
	V_STRING,
	V_INT,
	V_TRUE,
	V_FALSE,
	V_NULL,
	V_OTHER, /* arrays, objects, fractions: never a known field's type */
};

enum rec_field {
	R_NONE,
	R_TS,
	R_UNTIL,
	R_MACHINE,
	R_TRACKED,
	R_STRING, /* the rest are strings */
};

/* A member's field and, for strings, where it goes (by length first: no
 * two known names of one length share their first byte). */
static enum rec_field
rec_field(struct scoring_replay_rec *rec, const char *key, size_t len,
	  const char ***str)
{
	static const struct {
		const char *name;
		enum rec_field f;
		size_t off;
	} fields[] = {
#define S(n, m) { n, R_STRING, G_STRUCT_OFFSET(struct scoring_replay_rec, m) }
		{ "ts", R_TS, 0 },
		{ "until", R_UNTIL, 0 },
		{ "machine", R_MACHINE, 0 },
		{ "tracked", R_TRACKED, 0 },
		S("type", type),
		S("account", account),
		S("message", message),
		S("recipient", recipient),
		S("reason", reason),
		S("class", klass),
		S("fingerprint", fingerprint),
		S("state", state),
#undef S
	};

	for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
		if (fields[i].name[0] == key[0] &&
		    strlen(fields[i].name) == len &&
		    memcmp(fields[i].name, key, len) == 0) {
			*str = &G_STRUCT_MEMBER(const char *, rec,
						fields[i].off);
			return fields[i].f;
		}
	return R_NONE;
}

/* Stores one member's value in rec, checking its type. */
static int
rec_set(struct scoring_replay_rec *rec, const char *key, size_t len,
	enum fval t, const char *s, int64_t i, GError **error)
{
	const char **str = NULL;
	const char *want;

	switch (rec_field(rec, key, len, &str)) {
	case R_STRING:
		if (t != V_STRING && t != V_NULL) {
			want = "a string";
			goto bad;
		}
		*str = t == V_STRING ? s : NULL;
		if (str == &rec->state)
			rec->has_state = 1;
		return 0;
	case R_TS:
	case R_UNTIL:
		/* Times from 1970 to the year 9999: arithmetic on them (the
		 * engine's windows and ticks) can never overflow. */
		if (t != V_INT || i < 0 || i > REPLAY_TS_MAX) {
			want = "an integer (Unix milliseconds, 0 to "
			       "253402300799999)";
			goto bad;
		}
		*(key[0] == 't' ? &rec->ts_ms : &rec->until_ms) = i;
		return 0;
	case R_MACHINE:
	case R_TRACKED:
		if (t != V_TRUE && t != V_FALSE && t != V_NULL) {
			want = "true or false";
			goto bad;
		}
		*(key[0] == 'm' ? &rec->machine : &rec->tracked) =
			t == V_NULL ? -1 : t == V_TRUE;
		return 0;
	default:
		return 0; /* unknown members are ignored */
	}
bad:
	g_set_error(error, SCORING_REPLAY_ERROR, 1, "\"%s\" must be %s", key,
		    want);
	return -1;
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* A string without escapes, control characters or non-ASCII bytes; its
 * span goes to *s and *n. */
static char *
scan_string(char *p, char *end, char **s, size_t *n)
{
	if (p >= end || *p != '"')
		return NULL;
	*s = ++p;
	while (p < end && *p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c >= 0x80 || c == '\\')
			return NULL;
		p++;
	}
	if (p >= end)
		return NULL;
	*n = (size_t)(p - *s);
	return p + 1;
}

/* An integer in JSON syntax that fits in int64 (no fraction, exponent or
 * leading zero). */
static char *
scan_int(char *p, char *end, int64_t *out)
{
	int neg = 0;
	uint64_t v = 0;
	char *start;

	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	start = p;
	while (p < end && *p >= '0' && *p <= '9') {
		if (v > (UINT64_C(1) << 59))
			return NULL;
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == start || (*start == '0' && p - start > 1))
		return NULL;
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return NULL;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return p;
}

struct scan_member {
	char *key, *s;
	size_t key_len, s_len;
	enum fval t;
	int64_t i;
};

#define SCAN_MAX_MEMBERS 32

static char *
scan_value(char *p, char *end, struct scan_member *m)
{
	static const struct {
		const char *word;
		enum fval t;
	} words[] = { { "true", V_TRUE },
		      { "false", V_FALSE },
		      { "null", V_NULL } };

	if (p >= end)
		return NULL;
	if (*p == '"') {
		m->t = V_STRING;
		return scan_string(p, end, &m->s, &m->s_len);
	}
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		m->t = V_INT;
		return scan_int(p, end, &m->i);
	}
	for (size_t k = 0; k < G_N_ELEMENTS(words); k++) {
		size_t n = strlen(words[k].word);
		if ((size_t)(end - p) >= n &&
		    memcmp(p, words[k].word, n) == 0) {
			m->t = words[k].t;
			return p + n;
		}
	}
	return NULL;
}

/* Members into m[]; the number of members, or -1 when the line is outside
 * the scanner's subset. The line is not modified. */
static int
scan_members(char *p, char *end, struct scan_member *m)
{
	int n = 0;

	p = (char *)skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return -1;
	p = (char *)skip_ws(p, end);
	if (p < end && *p == '}')
		return skip_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		if (n == SCAN_MAX_MEMBERS)
			return -1;
		if (!(p = scan_string(p, end, &m[n].key, &m[n].key_len)))
			return -1;
		p = (char *)skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return -1;
		p = (char *)skip_ws(p, end);
		if (!(p = scan_value(p, end, &m[n])))
			return -1;
		n++;
		p = (char *)skip_ws(p, end);
		if (p < end && *p == ',') {
			p = (char *)skip_ws(p + 1, end);
			continue;
		}
		if (p < end && *p == '}')
			break;
		return -1;
	}
	return skip_ws(p + 1, end) == end ? n : -1;
}

/*
 * The strict scanner: 1 when it parsed the line (its strings are then
 * NUL-terminated in place), 0 when the line is outside its subset (the
 * caller asks json-glib, which accepts or refuses it with the reason), -1
 * on a type error in a known field.
 */
static int
scan_line(char *line, size_t len, struct scoring_replay_rec *rec,
	  GError **error)
{
	struct scan_member m[SCAN_MAX_MEMBERS];
	int n = scan_members(line, line + len, m);

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++) {
		m[i].key[m[i].key_len] = '\0';
		if (m[i].t == V_STRING)
			m[i].s[m[i].s_len] = '\0';
		if (rec_set(rec, m[i].key, m[i].key_len, m[i].t, m[i].s, m[i].i,
			    error) < 0)
			return -1;
	}
	return 1;
}

static int
json_member(struct scoring_replay_rec *rec, const char *key, JsonNode *n,
	    GError **error)
{
	GType vt;

	size_t len = strlen(key);

	if (JSON_NODE_HOLDS_NULL(n))
		return rec_set(rec, key, len, V_NULL, NULL, 0, error);
	if (!JSON_NODE_HOLDS_VALUE(n))
		return rec_set(rec, key, len, V_OTHER, NULL, 0, error);
	vt = json_node_get_value_type(n);
	if (vt == G_TYPE_STRING)
		return rec_set(rec, key, len, V_STRING, json_node_get_string(n),
			       0, error);
	if (vt == G_TYPE_INT64)
		return rec_set(rec, key, len, V_INT, NULL, json_node_get_int(n),
			       error);
	if (vt == G_TYPE_BOOLEAN)
		return rec_set(rec, key, len,
			       json_node_get_boolean(n) ? V_TRUE : V_FALSE,
			       NULL, 0, error);
	return rec_set(rec, key, len, V_OTHER, NULL, 0, error);
}

static int
parse_json(struct scoring_replay_parser *ps, const char *line, size_t len,
	   struct scoring_replay_rec *rec, GError **error)
{
	JsonObject *o;
	JsonObjectIter it;
	const char *key;
	JsonNode *n;
	GError *e = NULL;

	if (!json_parser_load_from_data(ps->json, line, (gssize)len, &e)) {
		g_set_error(error, SCORING_REPLAY_ERROR, 1, "not JSON: %s",
			    e->message);
		g_error_free(e);
		return -1;
	}
	n = json_parser_get_root(ps->json);
	if (!n || !JSON_NODE_HOLDS_OBJECT(n)) {
		g_set_error(error, SCORING_REPLAY_ERROR, 1,
			    "not a JSON object");
		return -1;
	}
	o = json_node_get_object(n);
	json_object_iter_init(&it, o);
	while (json_object_iter_next(&it, &key, &n))
		if (json_member(rec, key, n, error) < 0)
			return -1;
	return 0;
}

static void
rec_init(struct scoring_replay_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->ts_ms = INT64_MIN;
	rec->machine = rec->tracked = -1;
}

int
scoring_replay_parse(struct scoring_replay_parser *ps, char *line, size_t len,
		     int flags, struct scoring_replay_rec *rec, int *fast,
		     GError **error)
{
	int r = 0;

	rec_init(rec);
	if (!(flags & SCORING_REPLAY_JSON_ONLY))
		r = scan_line(line, len, rec, error);
	if (fast)
		*fast = r == 1;
	if (r < 0)
		return -1;
	if (r == 0) {
		rec_init(rec);
		if (parse_json(ps, line, len, rec, error) < 0)
			return -1;
	}
	if (rec->ts_ms == INT64_MIN || !rec->type || !rec->account ||
	    !*rec->account) {
		g_set_error(error, SCORING_REPLAY_ERROR, 1,
			    "\"ts\", \"type\" and \"account\" are required");
		return -1;
	}
	return 0;
}

/* ---- the message table ---------------------------------------------------- */

/* What the replay remembers of each message: its account, its content
 * fingerprint and the feedback it had (SCORING_PRIOR_* bits). Keyed by a
 * 64-bit hash of the message id (open addressing, linear probing). */
struct replay_msg {
	uint64_t key; /* 0: empty */
	uint32_t account;
	uint32_t fp;
	uint8_t flags;
};

struct replay_msgs {
	struct replay_msg *v;
	size_t cap, n; /* cap: a power of two */
};

static uint64_t
msg_key(const char *id)
{
	uint64_t k = scoring_hash64(id, strlen(id), 0x5eed);

	return k ? k : 1;
}

static struct replay_msg *
msgs_slot(struct replay_msg *v, size_t cap, uint64_t key)
{
	size_t i = (size_t)key & (cap - 1);

	while (v[i].key && v[i].key != key)
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static void
msgs_grow(struct replay_msgs *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1 << 16;
	struct replay_msg *v = g_new0(struct replay_msg, cap);

	for (size_t i = 0; i < t->cap; i++)
		if (t->v[i].key)
			*msgs_slot(v, cap, t->v[i].key) = t->v[i];
	g_free(t->v);
	t->v = v;
	t->cap = cap;
}

static struct replay_msg *
msgs_find(struct replay_msgs *t, uint64_t key)
{
	struct replay_msg *m;

	if (!t->cap)
		return NULL;
	m = msgs_slot(t->v, t->cap, key);
	return m->key ? m : NULL;
}

static struct replay_msg *
msgs_insert(struct replay_msgs *t, uint64_t key)
{
	struct replay_msg *m;

	if ((t->n + 1) * 10 >= t->cap * 7)
		msgs_grow(t);
	m = msgs_slot(t->v, t->cap, key);
	if (!m->key)
		t->n++;
	memset(m, 0, sizeof(*m));
	m->key = key;
	return m;
}

/* ---- the driver ---------------------------------------------------------- */

struct replay {
	const struct scoring_params *p;
	struct scoring_engine *e;
	GHashTable *ids;  /* account name -> id */
	GPtrArray *names; /* by id; [0] unused */
	uint32_t last_id;
	struct replay_msgs msgs;
	FILE *out;
	int64_t last_ts, next_tick;
	struct scoring_replay_stats *stats;
};

static void
replay_emit(void *ud, const struct scoring_change *c)
{
	struct replay *r = ud;
	JsonBuilder *b;
	char *s;

	if (c->from == c->to)
		return; /* the scored state moved under an override */
	b = json_builder_new_immutable();
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "ts");
	json_builder_add_int_value(b, c->ts_ms);
	json_builder_set_member_name(b, "account");
	json_builder_add_string_value(b, r->names->pdata[c->account]);
	json_builder_set_member_name(b, "from");
	json_builder_add_string_value(b, scoring_state_name(c->from));
	json_builder_set_member_name(b, "to");
	json_builder_add_string_value(b, scoring_state_name(c->to));
	json_builder_set_member_name(b, "reasons");
	json_builder_begin_array(b);
	for (size_t i = 0; i < c->n_reasons; i++)
		json_builder_add_string_value(b, c->reasons[i]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "sent");
	json_builder_add_int_value(b, c->sent);
	json_builder_set_member_name(b, "source");
	json_builder_add_string_value(b, scoring_source_name(c->source));
	json_builder_end_object(b);
	s = jsonval_builder_finish(b);
	fputs(s, r->out);
	fputc('\n', r->out);
	g_free(s);
	r->stats->changes++;
}

static uint32_t
replay_account(struct replay *r, const char *name)
{
	gpointer v;
	char *key;

	/* Bursts come from one account: try the last one first. */
	if (r->last_id && strcmp(name, r->names->pdata[r->last_id]) == 0)
		return r->last_id;
	if (g_hash_table_lookup_extended(r->ids, name, NULL, &v))
		return r->last_id = GPOINTER_TO_UINT(v);
	key = g_strdup(name);
	g_ptr_array_add(r->names, key);
	g_hash_table_insert(r->ids, key, GUINT_TO_POINTER(r->names->len - 1));
	return r->last_id = r->names->len - 1;
}

/* Periodic evaluation at each interval of simulated time up to ts (after
 * a long gap, only the last 30 days of it). */
static void
replay_ticks(struct replay *r, int64_t ts)
{
	int64_t step = r->p->eval_interval_ms;

	if (!r->next_tick)
		r->next_tick = ts - ts % step + step;
	if (ts - r->next_tick > 30 * INT64_C(86400000))
		r->next_tick = ts - 30 * INT64_C(86400000);
	while (r->next_tick <= ts) {
		scoring_engine_tick(r->e, r->next_tick);
		r->next_tick += step;
	}
}

static int
replay_override(struct replay *r, const struct scoring_replay_rec *rec,
		uint32_t account, GError **error)
{
	enum scoring_state s;

	if (!rec->has_state) {
		g_set_error(error, SCORING_REPLAY_ERROR, 1,
			    "an override needs \"state\" (a state, or null to "
			    "clear it)");
		return -1;
	}
	if (rec->state && scoring_state_parse(rec->state, &s) < 0) {
		g_set_error(error, SCORING_REPLAY_ERROR, 1,
			    "unknown state \"%s\"", rec->state);
		return -1;
	}
	scoring_engine_override(r->e, account, rec->ts_ms,
				rec->state ? (int)s : -1, rec->until_ms,
				rec->reason, 0);
	return 0;
}

static int
replay_type(const char *name, enum scoring_ev *t)
{
	static const struct {
		const char *name;
		enum scoring_ev t;
	} types[] = {
		{ "sent", SCORING_EV_SENT },
		{ "bounce", SCORING_EV_BOUNCE },
		{ "complaint", SCORING_EV_COMPLAINT },
		{ "open", SCORING_EV_OPEN },
		{ "click", SCORING_EV_CLICK },
		{ "unsubscribe", SCORING_EV_UNSUBSCRIBE },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(types); i++)
		if (name[0] == types[i].name[0] &&
		    strcmp(name, types[i].name) == 0) {
			*t = types[i].t;
			return 0;
		}
	return -1;
}

/* Feedback: attribution to its send and the per-message dedup flags. */
static void
replay_feedback(struct replay *r, const struct scoring_replay_rec *rec,
		struct scoring_event *ev)
{
	struct replay_msg *m =
		rec->message ? msgs_find(&r->msgs, msg_key(rec->message))
			     : NULL;

	if (m) {
		ev->account = m->account;
		ev->fp = m->fp;
	} else if (rec->fingerprint) {
		ev->fp = scoring_engine_fp(r->e, rec->fingerprint);
	}
	if (ev->type == SCORING_EV_BOUNCE)
		ev->bounce = scoring_bounce_classify(rec->reason, rec->klass);
	if (m)
		m->flags |= (uint8_t)scoring_event_prior(ev, m->flags);
}

static int
replay_record(struct replay *r, const struct scoring_replay_rec *rec,
	      GError **error)
{
	struct scoring_event ev = { 0 };
	uint32_t account;

	if (r->stats->events > 0 && rec->ts_ms < r->last_ts) {
		g_set_error(error, SCORING_REPLAY_ERROR, 1,
			    "\"ts\" %" G_GINT64_FORMAT " goes back in time "
			    "(previous %" G_GINT64_FORMAT ")",
			    rec->ts_ms, r->last_ts);
		return -1;
	}
	r->last_ts = rec->ts_ms;
	replay_ticks(r, rec->ts_ms);
	account = replay_account(r, rec->account);
	r->stats->events++;
	if (replay_type(rec->type, &ev.type) < 0) {
		if (strcmp(rec->type, "override") == 0)
			return replay_override(r, rec, account, error);
		g_set_error(error, SCORING_REPLAY_ERROR, 1,
			    "unknown event type \"%s\"", rec->type);
		return -1;
	}
	ev.ts_ms = rec->ts_ms;
	ev.account = account;
	ev.machine = rec->machine == 1;
	if (ev.type == SCORING_EV_SENT) {
		ev.recipient = rec->recipient;
		ev.tracked = rec->tracked;
		ev.fp = scoring_engine_fp(r->e, rec->fingerprint);
		scoring_engine_feed(r->e, &ev);
		if (rec->message) {
			struct replay_msg *m =
				msgs_insert(&r->msgs, msg_key(rec->message));
			m->account = account;
			m->fp = ev.fp;
		}
		return 0;
	}
	replay_feedback(r, rec, &ev);
	scoring_engine_feed(r->e, &ev);
	return 0;
}

static int
replay_lines(struct replay *r, FILE *in, const char *name, GError **error)
{
	struct scoring_replay_parser *ps = scoring_replay_parser_new();
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while ((n = getline(&line, &cap, in)) >= 0) {
		struct scoring_replay_rec rec;
		size_t len = (size_t)n;

		r->stats->lines++;
		while (len > 0 &&
		       (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		if (len > SCORING_REPLAY_LINE_MAX) {
			g_set_error(error, SCORING_REPLAY_ERROR, 1,
				    "longer than %d bytes",
				    SCORING_REPLAY_LINE_MAX);
			rc = -1;
		} else if (scoring_replay_parse(ps, line, len, 0, &rec, NULL,
						error) < 0 ||
			   replay_record(r, &rec, error) < 0) {
			rc = -1;
		}
		if (rc < 0) {
			g_prefix_error(error, "%s:%" G_GINT64_FORMAT ": ", name,
				       r->stats->lines);
			break;
		}
	}
	if (rc == 0 && ferror(in)) {
		g_set_error(error, SCORING_REPLAY_ERROR, 1, "%s: read error",
			    name);
		rc = -1;
	}
	free(line);
	scoring_replay_parser_free(ps);
	return rc;
}

int
scoring_replay_run(const struct scoring_params *params, FILE *in,
		   const char *name, FILE *out,
		   struct scoring_replay_stats *stats, GError **error)
{
	struct replay r = { 0 };
	int rc;

	memset(stats, 0, sizeof(*stats));
	r.p = params;
	r.out = out;
	r.stats = stats;
	r.ids = g_hash_table_new(g_str_hash, g_str_equal);
	r.names = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(r.names, NULL);
	r.e = scoring_engine_new(params, replay_emit, &r);
	rc = replay_lines(&r, in, name, error);
	scoring_engine_free(r.e);
	g_free(r.msgs.v);
	g_hash_table_destroy(r.ids);
	g_ptr_array_free(r.names, TRUE);
	return rc;
}
