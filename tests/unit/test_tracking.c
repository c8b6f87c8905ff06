/* Unit tests of tracking/: the classifier's rules, link bursts, the
 * one-click form, and the writer against a real SQLite file (read back
 * through a second connection, as the daemon's other readers would). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "core/metrics.h"
#include "core/store.h"
#include "tests/unit/store_rows.h"
#include "tracking/classify.h"
#include "tracking/form.h"
#include "tracking/tracking.h"
#include "tracking/writer.h"
#include "verp/keys.h"

#define NOW INT64_C(1767225600000)
#define KEY "kat-secret-0123456789abcdef"

/* ---- classifier -------------------------------------------------------- */

static struct tracking_rules *
rules_new(void)
{
	char **scan_agents = g_strsplit("AcmeGuard", ",", -1);
	char **scan_nets = g_strsplit("192.0.2.0/24", ",", -1);
	char **proxy_nets = g_strsplit("2001:db8::/32,17.58.0.0/16", ",", -1);
	struct tracking_rules *r = tracking_rules_new(
		scan_agents, NULL, scan_nets, proxy_nets, 5000, NULL);

	assert_non_null(r);
	g_strfreev(scan_agents);
	g_strfreev(scan_nets);
	g_strfreev(proxy_nets);
	return r;
}

static const char *
classify(struct tracking_rules *r, enum url_kind kind, int head, const char *ua,
	 const char *ip, int64_t since, enum tracking_verdict *v)
{
	struct tracking_facts f = {
		.kind = kind,
		.head = head,
		.user_agent = ua,
		.addr = ip ? g_inet_address_new_from_string(ip) : NULL,
		.since_send_ms = since,
	};
	struct tracking_result res;

	tracking_classify(r, &f, &res);
	if (f.addr)
		g_object_unref(f.addr);
	*v = res.verdict;
	assert_true(res.why[0] != '\0');
	return res.reason;
}

static void
test_rules(void **state)
{
	static const struct {
		enum url_kind kind;
		int head;
		const char *ua, *ip;
		int64_t since;
		enum tracking_verdict verdict;
		const char *reason;
	} cases[] = {
#define U TRACKING_UNKNOWN_TIME
#define FF "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Firefox/120.0"
		{ URL_OPEN, 0, FF, "198.51.100.7", U, TRACKING_HUMAN,
		  "no-machine-signal" },
		{ URL_OPEN, 0, FF, "198.51.100.7", 60000, TRACKING_HUMAN,
		  "no-machine-signal" },
		{ URL_OPEN, 1, FF, "198.51.100.7", U, TRACKING_SCANNER,
		  "head-request" },
		{ URL_CLICK, 0, "curl/8.0", NULL, U, TRACKING_SCANNER,
		  "scanner-agent" },
		{ URL_CLICK, 0, "Mozilla/5.0 acmeguard/2", NULL, U,
		  TRACKING_SCANNER, "scanner-agent" },
		{ URL_CLICK, 0, FF, "192.0.2.55", U, TRACKING_SCANNER,
		  "scanner-network" },
		{ URL_OPEN, 0,
		  "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 "
		  "(via ggpht.com GoogleImageProxy)",
		  "66.249.84.1", 800, TRACKING_HUMAN, "gmail-image-proxy" },
		{ URL_OPEN, 0, "YahooMailProxy; https://help.yahoo.com/kb/",
		  NULL, U, TRACKING_PROXY, "proxy-agent" },
		{ URL_OPEN, 0, FF, "17.58.1.2", U, TRACKING_PROXY,
		  "proxy-network" },
		{ URL_OPEN, 0, FF, "2001:db8::9", U, TRACKING_PROXY,
		  "proxy-network" },
		{ URL_OPEN, 0, "Mozilla/5.0", "198.51.100.7", U, TRACKING_PROXY,
		  "bare-mozilla" },
		/* A bare agent on a click is not Apple's prefetch. */
		{ URL_CLICK, 0, "Mozilla/5.0", "198.51.100.7", U,
		  TRACKING_HUMAN, "no-machine-signal" },
		{ URL_CLICK, 0, FF, "198.51.100.7", 1200, TRACKING_SCANNER,
		  "early-hit" },
		{ URL_OPEN, 0, FF, "198.51.100.7", 4999, TRACKING_SCANNER,
		  "early-hit" },
		{ URL_OPEN, 0, FF, "198.51.100.7", 5000, TRACKING_HUMAN,
		  "no-machine-signal" },
		{ URL_OPEN, 0, NULL, "198.51.100.7", U, TRACKING_UNKNOWN,
		  "no-user-agent" },
		{ URL_OPEN, 0, "", NULL, U, TRACKING_UNKNOWN, "no-user-agent" },
#undef U
#undef FF
	};
	struct tracking_rules *r = rules_new();

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		enum tracking_verdict v;
		const char *reason =
			classify(r, cases[i].kind, cases[i].head, cases[i].ua,
				 cases[i].ip, cases[i].since, &v);

		if (v != cases[i].verdict || strcmp(reason, cases[i].reason))
			fail_msg("case %zu: %s/%s, expected %s/%s", i,
				 tracking_verdict_name(v), reason,
				 tracking_verdict_name(cases[i].verdict),
				 cases[i].reason);
	}
	tracking_rules_free(r);
}

/* The built-in agents, whatever their case or place in the string. */
static void
test_rules_agents(void **state)
{
	static const char *const scanners[] = {
		"Mozilla/5.0 (compatible; BingPreview/1.0b)",
		"python-requests/2.31.0",
		"Go-http-client/1.1",
		"Mimecast Link Scanner",
		"Microsoft Office Existence Discovery",
		"Wget/1.21.3",
		"okhttp/4.9.3",
		"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
		"undici",
		"Mozilla/5.0 HeadlessChrome/120.0",
		"Barracuda Sentinel (EE)",
		"Mozilla/5.0 (compatible; Googlebot/2.1)",
		"x-PROOFPOINT-y",
		"Java/17.0.2",
		"libwww-perl/6.67",
	};
	static const char *const people[] = {
		"Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 "
		"Thunderbird/115.5.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) "
		"AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
		"Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook "
		"16.0.17029; Pro)",
		"CUBOT X30 Build/QP1A", /* "bot" but not "bot/" */
	};
	struct tracking_rules *r = rules_new();
	enum tracking_verdict v;

	for (size_t i = 0; i < G_N_ELEMENTS(scanners); i++) {
		const char *reason = classify(r, URL_CLICK, 0, scanners[i],
					      NULL, TRACKING_UNKNOWN_TIME, &v);
		if (strcmp(reason, "scanner-agent") != 0)
			fail_msg("%s: %s", scanners[i], reason);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(people); i++) {
		const char *reason = classify(r, URL_CLICK, 0, people[i], NULL,
					      TRACKING_UNKNOWN_TIME, &v);
		if (strcmp(reason, "no-machine-signal") != 0)
			fail_msg("%s: %s", people[i], reason);
	}
	tracking_rules_free(r);
}

static void
test_rules_config(void **state)
{
	char **bad = g_strsplit("10.0.0.0/99", ",", -1);
	GError *e = NULL;

	assert_null(tracking_rules_new(NULL, NULL, bad, NULL, 0, &e));
	g_strfreev(bad);
	assert_non_null(e);
	assert_non_null(strstr(e->message, "10.0.0.0/99"));
	g_clear_error(&e);
	assert_true(tracking_is_machine(TRACKING_PROXY));
	assert_true(tracking_is_machine(TRACKING_SCANNER));
	assert_false(tracking_is_machine(TRACKING_HUMAN));
	assert_false(tracking_is_machine(TRACKING_UNKNOWN));
}

static void
test_bursts(void **state)
{
	struct tracking_bursts *b = tracking_bursts_new(1000);
	int64_t from;

	assert_int_equal(tracking_bursts_add(b, 1, "https://a/", NOW, &from),
			 1);
	/* The same link again (a double click) is one link. */
	assert_int_equal(
		tracking_bursts_add(b, 1, "https://a/", NOW + 100, &from), 1);
	assert_int_equal(
		tracking_bursts_add(b, 1, "https://b/", NOW + 400, &from), 2);
	assert_int_equal(from, NOW);
	/* Another send is apart. */
	assert_int_equal(
		tracking_bursts_add(b, 2, "https://c/", NOW + 450, &from), 1);
	/* Out of the window of the first clicks. */
	assert_int_equal(
		tracking_bursts_add(b, 1, "https://c/", NOW + 1350, &from), 2);
	assert_int_equal(from, NOW + 400);
	assert_int_equal(tracking_bursts_size(b), 2);
	tracking_bursts_expire(b, NOW + 1460);
	assert_int_equal(tracking_bursts_size(b), 1);
	tracking_bursts_expire(b, NOW + 5000);
	assert_int_equal(tracking_bursts_size(b), 0);
	/* More clicks than are kept: the oldest go, nothing overflows. */
	for (int i = 0; i < 3 * TRACKING_BURST_KEEP; i++) {
		char link[32];

		g_snprintf(link, sizeof(link), "https://l/%d", i);
		tracking_bursts_add(b, 3, link, NOW + i, &from);
	}
	assert_int_equal(tracking_bursts_add(b, 3, "https://z/", NOW, &from),
			 TRACKING_BURST_KEEP);
	tracking_bursts_free(b);
}

/* ---- the one-click form ------------------------------------------------- */

static int
one_click(const char *ct, const char *body)
{
	return tracking_form_one_click(ct, body, body ? strlen(body) : 0);
}

static void
test_form(void **state)
{
	const char *ue = "application/x-www-form-urlencoded";
	const char *mp = "multipart/form-data; boundary=XyZ";

	assert_true(one_click(ue, "List-Unsubscribe=One-Click"));
	assert_true(one_click(NULL, "List-Unsubscribe=One-Click\r\n"));
	assert_true(one_click(ue, "a=1&List-Unsubscribe=One-Click&b"));
	assert_true(one_click(ue, "List%2DUnsubscribe=One%2dClick"));
	assert_false(one_click(ue, "List-Unsubscribe=One-Clic"));
	assert_false(one_click(ue, "list-unsubscribe=one-click"));
	assert_false(one_click(ue, "List-Unsubscribe"));
	assert_false(one_click(ue, ""));
	assert_false(one_click(ue, NULL));
	assert_false(one_click(ue, "List-Unsubscribe=%zz"));
	assert_true(one_click(mp, "--XyZ\r\n"
				  "Content-Disposition: form-data; "
				  "name=\"List-Unsubscribe\"\r\n\r\n"
				  "One-Click\r\n--XyZ--\r\n"));
	assert_false(one_click(mp, "--XyZ\r\n"
				   "Content-Disposition: form-data; "
				   "name=\"Other\"\r\n\r\n"
				   "One-Click\r\n--XyZ--\r\n"));
	assert_false(one_click(mp, "not a multipart body"));
	assert_false(one_click("multipart/form-data; boundary=a\r\nX: y",
			       "--a\r\n\r\n--a--\r\n"));
}

static void
test_form_limits(void **state)
{
	GString *s = g_string_new(NULL);

	/* The pair after FORM_FIELDS_MAX others is not looked at. */
	for (int i = 0; i < FORM_FIELDS_MAX; i++)
		g_string_append(s, "x=1&");
	g_string_append(s, "List-Unsubscribe=One-Click");
	assert_false(one_click(NULL, s->str));
	g_string_assign(s, "List-Unsubscribe=One-Click&");
	while (s->len <= FORM_BODY_MAX)
		g_string_append_c(s, 'x');
	assert_false(one_click(NULL, s->str));
	g_string_free(s, TRUE);
}

/* ---- the writer --------------------------------------------------------- */

struct fixture {
	char *dir, *path;
	struct tracking_config tc;
	struct token_config tok;
	struct tracking_rules *rules;
	struct metrics *m;
	struct store *st;     /* the writer's */
	struct store *reader; /* the test's */
	struct store *ckpt;   /* the checkpointer's */
	struct tracking_writer *w;
};

static void
fixture_open(struct fixture *fx, int start)
{
	GError *e = NULL;

	fx->st = store_open(fx->path, 5000, &e);
	assert_non_null(fx->st);
	fx->reader = store_open(fx->path, 5000, &e);
	assert_non_null(fx->reader);
	fx->ckpt = store_open(fx->path, 5000, &e);
	assert_non_null(fx->ckpt);
	fx->w = tracking_writer_new(&fx->tc, &fx->tok, fx->rules, fx->m);
	if (start)
		assert_int_equal(
			tracking_writer_start(fx->w, fx->st, fx->ckpt, &e), 0);
}

static int
setup(void **state)
{
	struct fixture *fx = g_new0(struct fixture, 1);

	fx->dir = g_dir_make_tmp("fbld-tracking-XXXXXX", NULL);
	fx->path = g_build_filename(fx->dir, "fbld.db", NULL);
	fx->tc.store_ip = TRACKING_IP_TRUNCATED;
	fx->tc.store_user_agent = 1;
	fx->tc.early_window_ms = 5000;
	fx->tc.burst_window_ms = 1000;
	fx->tc.burst_links = 2;
	fx->tc.queue_max = 1000;
	fx->tc.send_cache = 4;
	fx->tc.unsubscribe_wait_ms = 10000;
	fx->rules = tracking_rules_new(NULL, NULL, NULL, NULL, 5000, NULL);
	fx->tok.keys = token_keyring_new();
	assert_int_equal(token_keyring_add(fx->tok.keys, "k1", 1,
					   TOKEN_KEY_SIGN, KEY, strlen(KEY),
					   NULL),
			 0);
	fx->tok.max_age_days = 90;
	fx->tok.future_days = 1;
	fx->m = metrics_new();
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	tracking_writer_free(fx->w);
	store_close(fx->st);
	store_close(fx->reader);
	store_close(fx->ckpt);
	tracking_rules_free(fx->rules);
	token_keyring_free(fx->tok.keys);
	metrics_free(fx->m);
	g_unlink(fx->path);
	{
		char *wal = g_strconcat(fx->path, "-wal", NULL);
		char *shm = g_strconcat(fx->path, "-shm", NULL);
		g_unlink(wal);
		g_unlink(shm);
		g_free(wal);
		g_free(shm);
	}
	g_rmdir(fx->dir);
	g_free(fx->path);
	g_free(fx->dir);
	g_free(fx);
	return 0;
}

/* A hit as the handler queues it: the request rules applied, the address
 * cut for storage. */
static struct tracking_hit *
hit(struct fixture *fx, enum url_kind kind, int64_t ts, uint64_t send,
    const char *ua, const char *target, const char *rcpt)
{
	struct tracking_hit *h =
		tracking_hit_new(kind, 0, ts, "203.0.113.77", ua, target, rcpt);
	struct tracking_facts f = { .kind = kind, .user_agent = ua };

	h->account = 7;
	h->send = send;
	h->token_day = (uint16_t)(ts / 86400000 - TOKEN_DAY_EPOCH);
	if (kind != URL_UNSUBSCRIBE)
		tracking_classify_request(fx->rules, &f, &h->verdict);
	tracking_ip_reduce(fx->tc.store_ip, h->ip, sizeof(h->ip));
	return h;
}

static void
detail_row(void *ud, int64_t id, const struct store_event *ev)
{
	g_string_append_printf(ud, "%s %s\n", ev->type,
			       ev->detail ? ev->detail : "NULL");
}

/* The events of account 7 as the API lists them (newest first): "type
 * detail" lines. */
static void
assert_details(struct fixture *fx, const char *want)
{
	GString *got = g_string_new(NULL);
	int same;

	assert_int_equal(
		store_event_list(fx->reader, 7, 0, 100, detail_row, got, NULL),
		0);
	same = strcmp(got->str, want) == 0;
	if (!same)
		print_error("details:\ngot:\n%swant:\n%s", got->str, want);
	g_string_free(got, TRUE);
	assert_true(same);
}

static void
test_writer_events(void **state)
{
	struct fixture *fx = *state;
	uint64_t serial;
	uint32_t acct;

	fixture_open(fx, 0);
	/* A send recorded now: hits right after it are early. */
	assert_int_equal(store_account_ensure(fx->reader, "acme", &acct, NULL),
			 0);
	assert_int_equal(
		store_send_reserve(fx->reader, acct, NOW, &serial, NULL), 0);
	assert_int_equal(tracking_writer_start(fx->w, fx->st, fx->ckpt, NULL),
			 0);
	tracking_writer_push(fx->w,
			     hit(fx, URL_OPEN, NOW + 60000, 9001,
				 "Mozilla/5.0 (X11) Thunderbird/115", NULL,
				 NULL),
			     0);
	tracking_writer_push(
		fx->w,
		hit(fx, URL_OPEN, NOW + 61000, 9001, "Mozilla/5.0", NULL, NULL),
		0);
	tracking_writer_push(fx->w,
			     hit(fx, URL_CLICK, NOW + 2000, serial,
				 "Mozilla/5.0 (X11) Firefox/120",
				 "https://shop.example/a", NULL),
			     0);
	tracking_writer_push(
		fx->w, hit(fx, URL_OPEN, NOW + 90000, serial, NULL, NULL, NULL),
		0);
	tracking_writer_stop(fx->w);
	assert_rows(fx->reader,
		    "SELECT type, account_id, send_id = 9001, machine, verdict,"
		    " reason, ip, since_send_ms, url, why IS NOT NULL, detail"
		    " FROM events ORDER BY ts_ms",
		    "click|7|0|1|scanner|early-hit|203.0.113.0/24|2000|"
		    "https://shop.example/a|1|NULL\n"
		    "open|7|1|0|human|no-machine-signal|203.0.113.0/24|NULL|"
		    "NULL|0|NULL\n"
		    "open|7|1|1|proxy|bare-mozilla|203.0.113.0/24|NULL|NULL|1|"
		    "NULL\n"
		    "open|7|0|0|unknown|no-user-agent|203.0.113.0/24|90000|"
		    "NULL|0|NULL\n");
	/* As the API shows them: every detail has the same members, null
	 * when not applicable, and "token-day" without a send record. */
	assert_details(
		fx,
		"open {\"why\":null,\"ip\":\"203.0.113.0/24\","
		"\"user_agent\":null,\"url\":null,\"since_send_ms\":90000,"
		"\"send_time\":null}\n"
		"open {\"why\":\"User-Agent is a bare \\\"Mozilla/5.0\\\", as "
		"sent by Apple Mail Privacy Protection's prefetch\","
		"\"ip\":\"203.0.113.0/24\",\"user_agent\":\"Mozilla/5.0\","
		"\"url\":null,\"since_send_ms\":null,"
		"\"send_time\":\"token-day\"}\n"
		"open {\"why\":null,\"ip\":\"203.0.113.0/24\","
		"\"user_agent\":\"Mozilla/5.0 (X11) Thunderbird/115\","
		"\"url\":null,\"since_send_ms\":null,"
		"\"send_time\":\"token-day\"}\n"
		"click {\"why\":\"2000 ms after the send, within the early "
		"window of 5000 ms\",\"ip\":\"203.0.113.0/24\","
		"\"user_agent\":\"Mozilla/5.0 (X11) Firefox/120\","
		"\"url\":\"https://shop.example/a\",\"since_send_ms\":2000,"
		"\"send_time\":null}\n");
}

static void
test_writer_unsubscribe(void **state)
{
	struct fixture *fx = *state;
	uint64_t seq;

	fixture_open(fx, 1);
	seq = tracking_writer_push(fx->w,
				   hit(fx, URL_UNSUBSCRIBE, NOW, 42, "curl/8",
				       NULL, "User@Example.ORG"),
				   1);
	assert_true(seq > 0);
	/* Waited for: visible to another connection at once. */
	assert_int_equal(tracking_writer_wait(fx->w, seq, 10000), 1);
	assert_rows(fx->reader,
		    "SELECT account_id, recipient, reason FROM "
		    "suppressions",
		    "7|user@example.org|unsubscribe\n");
	assert_int_equal(store_suppression_contains(fx->reader, 7,
						    "USER@example.org", NULL),
			 1);
	assert_int_equal(store_suppression_contains(fx->reader, 8,
						    "user@example.org", NULL),
			 0);
	/* The account, known only by its id, got a placeholder. */
	assert_rows(fx->reader, "SELECT id, name FROM accounts", "7|#7\n");
	/* Twice: one event, one entry. Without a recipient (and no single
	 * one recorded for the send): an event, no suppression. */
	seq = tracking_writer_push(fx->w,
				   hit(fx, URL_UNSUBSCRIBE, NOW + 5, 42, NULL,
				       NULL, "user@example.org"),
				   1);
	assert_int_equal(tracking_writer_wait(fx->w, seq, 10000), 1);
	seq = tracking_writer_push(
		fx->w, hit(fx, URL_UNSUBSCRIBE, NOW + 9, 43, NULL, NULL, NULL),
		1);
	assert_int_equal(tracking_writer_wait(fx->w, seq, 10000), 1);
	assert_rows(
		fx->reader,
		"SELECT send_id, recipient, verdict, dedup FROM events "
		"ORDER BY id",
		"42|user@example.org|human|unsubscribe:42:user@example.org\n"
		"43|NULL|human|unsubscribe:43:*\n");
	assert_rows(fx->reader, "SELECT count(*) FROM suppressions", "1\n");
}

static void
test_writer_burst(void **state)
{
	struct fixture *fx = *state;
	const char *ff = "Mozilla/5.0 (X11) Firefox/120";

	fixture_open(fx, 1);
	tracking_writer_push(
		fx->w,
		hit(fx, URL_CLICK, NOW, 5, ff, "https://a.example/", NULL), 0);
	/* Committed on its own first: the burst must re-label it. */
	assert_int_equal(tracking_writer_wait(fx->w, 1, 10000), 1);
	tracking_writer_push(fx->w,
			     hit(fx, URL_CLICK, NOW + 300, 5, ff,
				 "https://b.example/", NULL),
			     0);
	/* Another message, and the same one much later: people. */
	tracking_writer_push(fx->w,
			     hit(fx, URL_CLICK, NOW + 310, 6, ff,
				 "https://b.example/", NULL),
			     0);
	tracking_writer_push(fx->w,
			     hit(fx, URL_CLICK, NOW + 60000, 5, ff,
				 "https://c.example/", NULL),
			     0);
	tracking_writer_stop(fx->w);
	assert_rows(fx->reader,
		    "SELECT send_id, machine, verdict, reason, why FROM events "
		    "ORDER BY ts_ms",
		    "5|1|scanner|link-burst|one of several links of this "
		    "message clicked within 1000 ms\n"
		    "5|1|scanner|link-burst|2 different links of this message "
		    "clicked within 1000 ms\n"
		    "6|0|human|no-machine-signal|NULL\n"
		    "5|0|human|no-machine-signal|NULL\n");
}

static void
test_writer_queue_full(void **state)
{
	struct fixture *fx = *state;

	fx->tc.queue_max = 3;
	fixture_open(fx, 0);
	for (int i = 0; i < 5; i++) {
		uint64_t seq = tracking_writer_push(
			fx->w, hit(fx, URL_OPEN, NOW + i, 1, "x", NULL, NULL),
			0);
		assert_int_equal(seq, i < 3 ? (uint64_t)i + 1 : 0);
	}
	/* An unsubscribe is never dropped. */
	assert_int_equal(tracking_writer_push(fx->w,
					      hit(fx, URL_UNSUBSCRIBE, NOW, 1,
						  NULL, NULL, "a@example.org"),
					      1),
			 4);
	/* Stopping drains everything that was queued. */
	assert_int_equal(tracking_writer_start(fx->w, fx->st, fx->ckpt, NULL),
			 0);
	tracking_writer_stop(fx->w);
	assert_rows(fx->reader,
		    "SELECT type, count(*) FROM events GROUP BY type",
		    "open|3\nunsubscribe|1\n");
}

/* Opens are queued with their token unverified: the writer keeps the
 * genuine and current ones, with the account and send the token names. */
static void
test_writer_verifies_opens(void **state)
{
	struct fixture *fx = *state;
	char good[TOKEN_LEN + 1], old[TOKEN_LEN + 1], forged[TOKEN_LEN + 1];
	const char *toks[] = { good, old, forged };
	char *v;

	assert_int_equal(
		token_mint(fx->tok.keys, 42, 4242, NOW, NULL, good, NULL), 0);
	assert_int_equal(token_mint(fx->tok.keys, 42, 4243,
				    NOW - INT64_C(200) * 86400000, NULL, old,
				    NULL),
			 0);
	memcpy(forged, good, sizeof(forged));
	forged[TOKEN_LEN - 1] = forged[TOKEN_LEN - 1] == 'a' ? 'b' : 'a';
	fixture_open(fx, 1);
	for (size_t i = 0; i < G_N_ELEMENTS(toks); i++) {
		struct tracking_hit *h = tracking_hit_new(
			URL_OPEN, 0, NOW + 60000, "203.0.113.0/24",
			"Thunderbird", NULL, NULL);

		memcpy(h->token, toks[i], sizeof(h->token));
		tracking_writer_push(fx->w, h, 0);
	}
	tracking_writer_stop(fx->w);
	assert_rows(fx->reader, "SELECT account_id, send_id, type FROM events",
		    "42|4242|open\n");
	v = metrics_render(fx->m);
	assert_non_null(
		strstr(v, "fbld_tracking_hits_total{type=\"open\"} 1\n"));
	assert_non_null(strstr(v, "fbld_tracking_bad_requests_total{type="
				  "\"open\",reason=\"forged\"} 1\n"));
	assert_non_null(strstr(v, "fbld_tracking_bad_requests_total{type="
				  "\"open\",reason=\"expired\"} 1\n"));
	assert_non_null(strstr(v, "fbld_tracking_committed_total 1\n"));
	g_free(v);
}

/* The prior feedback of a send before event `before`, as scoring sees it. */
static unsigned
prior(struct fixture *fx, uint64_t send, int64_t before)
{
	unsigned mask = 99;

	assert_int_equal(store_scoring_prior(fx->reader, (int64_t)send, NULL,
					     before, &mask, NULL),
			 0);
	return mask;
}

/* The id of the nth (from 0) event of a send. */
static int64_t
event_id(struct fixture *fx, uint64_t send, int nth)
{
	char sql[128];
	char *v;
	int64_t id;

	g_snprintf(sql, sizeof(sql),
		   "SELECT id FROM events WHERE send_id = %" G_GUINT64_FORMAT
		   " ORDER BY id LIMIT 1 OFFSET %d",
		   send, nth);
	v = test_rows(fx->reader, sql);
	id = g_ascii_strtoll(v, NULL, 10);
	g_free(v);
	assert_true(id > 0);
	return id;
}

/*
 * Opens are not in the index of events by send: each send's first open by
 * a person and by a machine is in send_opens, which scoring reads for
 * them, across commits and when the writer's cache of sends (4 here)
 * forgets; opens added otherwise (store_event_add()) are there too.
 */
static void
test_writer_first_opens(void **state)
{
	struct fixture *fx = *state;
	const char *tb = "Mozilla/5.0 (X11) Thunderbird/115";
	struct store_event ev = { .ts_ms = NOW + 90000,
				  .type = "open",
				  .account = 7,
				  .send = 9,
				  .report = -1 };
	uint64_t seq = 0;

	fixture_open(fx, 1);
	for (int round = 0; round < 2; round++) {
		for (uint64_t send = 1; send <= 6; send++) {
			int64_t ts = NOW + 60000 + round * 1000 + (int64_t)send;

			tracking_writer_push(
				fx->w,
				hit(fx, URL_OPEN, ts, send, tb, NULL, NULL), 0);
			/* Apple's prefetch: a machine. */
			seq = tracking_writer_push(fx->w,
						   hit(fx, URL_OPEN, ts, send,
						       "Mozilla/5.0", NULL,
						       NULL),
						   0);
		}
		/* Committed before the next round. */
		assert_int_equal(tracking_writer_wait(fx->w, seq, 10000), 1);
	}
	tracking_writer_push(fx->w,
			     hit(fx, URL_CLICK, NOW + 80000, 3, tb,
				 "https://a.example/", NULL),
			     0);
	tracking_writer_stop(fx->w);
	assert_int_equal(store_event_add(fx->reader, &ev, NULL, NULL), 0);
	assert_rows(fx->reader,
		    "SELECT count(*), sum(event_id = (SELECT min(id) FROM "
		    "events e WHERE e.type = 'open' AND e.send_id = o.send_id "
		    "AND e.machine = o.machine)) FROM send_opens o",
		    "13|13\n");
	assert_int_equal(prior(fx, 3, event_id(fx, 3, 0)), 0);
	assert_int_equal(prior(fx, 3, event_id(fx, 3, 1)),
			 STORE_PRIOR_OPEN_HUMAN);
	assert_int_equal(prior(fx, 3, event_id(fx, 3, 2)),
			 STORE_PRIOR_OPEN_HUMAN | STORE_PRIOR_OPEN_MACHINE);
	/* The click is still found by send. */
	assert_int_equal(prior(fx, 3, INT64_MAX),
			 STORE_PRIOR_OPEN_HUMAN | STORE_PRIOR_OPEN_MACHINE |
				 STORE_PRIOR_CLICK_HUMAN);
	assert_int_equal(prior(fx, 9, INT64_MAX), STORE_PRIOR_OPEN_HUMAN);
	assert_int_equal(prior(fx, 9, event_id(fx, 9, 0)), 0);
}

/* What the handler keeps of the client's address: only plain dotted
 * quads are cut as text, the rest is not IPv4. */
static const struct {
	enum tracking_store_ip mode;
	const char *in;
	const char *want;
} reduce[] = {
	{ TRACKING_IP_TRUNCATED, "203.0.113.77", "203.0.113.0/24" },
	{ TRACKING_IP_TRUNCATED, "2001:db8:1:2::5", "2001:db8:1::/48" },
	{ TRACKING_IP_FULL, "2001:db8:1:2::5", "2001:db8:1:2::5" },
	{ TRACKING_IP_NONE, "2001:db8:1:2::5", "" },
	{ TRACKING_IP_TRUNCATED, "?", "" },
	{ TRACKING_IP_TRUNCATED, "0.0.0.255", "0.0.0.0/24" },
	{ TRACKING_IP_TRUNCATED, "10.1.2.03", "" },
	{ TRACKING_IP_TRUNCATED, "10.258", "" },
	{ TRACKING_IP_TRUNCATED, "::ffff:192.0.2.9", "::/48" },
};

static void
test_client_address(void **state)
{
	GPtrArray *trusted = g_ptr_array_new_with_free_func(g_object_unref);
	GInetAddress *a;
	char ip[48];

	g_ptr_array_add(trusted, tracking_net_parse("127.0.0.0/8", NULL));
	/* Through a trusted proxy: the last hop it added is the client. */
	a = tracking_client(trusted, "127.0.0.1", "10.9.9.9, 2001:db8:1:2::5",
			    ip, sizeof(ip));
	assert_string_equal(ip, "2001:db8:1:2::5");
	assert_int_equal(g_inet_address_get_family(a), G_SOCKET_FAMILY_IPV6);
	g_object_unref(a);
	/* Not from a trusted proxy, or a last hop that is no address: the
	 * peer. */
	a = tracking_client(trusted, "198.51.100.20", "10.9.9.9", ip,
			    sizeof(ip));
	assert_string_equal(ip, "198.51.100.20");
	g_object_unref(a);
	a = tracking_client(trusted, "127.0.0.1", "10.9.9.9, junk", ip,
			    sizeof(ip));
	assert_string_equal(ip, "127.0.0.1");
	g_object_unref(a);
	assert_null(tracking_client(trusted, "?", NULL, ip, sizeof(ip)));
	g_ptr_array_free(trusted, TRUE);

	for (size_t i = 0; i < G_N_ELEMENTS(reduce); i++) {
		g_strlcpy(ip, reduce[i].in, sizeof(ip));
		tracking_ip_reduce(reduce[i].mode, ip, sizeof(ip));
		assert_string_equal(ip, reduce[i].want);
	}
}

static void
test_writer_no_agent_store(void **state)
{
	struct fixture *fx = *state;

	fx->tc.store_user_agent = 0;
	fixture_open(fx, 1);
	tracking_writer_push(
		fx->w, hit(fx, URL_OPEN, NOW, 1, "Thunderbird", NULL, NULL), 0);
	tracking_writer_stop(fx->w);
	assert_rows(fx->reader, "SELECT user_agent, reason FROM events",
		    "NULL|no-machine-signal\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_rules_agents),
		cmocka_unit_test(test_rules_config),
		cmocka_unit_test(test_bursts),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_form_limits),
		cmocka_unit_test_setup_teardown(test_writer_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_unsubscribe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_burst, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_queue_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_verifies_opens,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_first_opens, setup,
						teardown),
		cmocka_unit_test(test_client_address),
		cmocka_unit_test_setup_teardown(test_writer_no_agent_store,
						setup, teardown),
	};
	int rc;

	g_mime_init();
	rc = cmocka_run_group_tests_name("tracking", tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
