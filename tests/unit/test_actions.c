/* Unit tests of the actions on a real SQLite store (in memory): which
 * outbox rows a transition writes and that they live and die with its
 * transaction, operator overrides, the outbox's leases, retries, dead
 * letters and purge, the digest's composition, and the configuration's
 * checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gmime/gmime.h>

#include "core/config.h"
#include "core/store.h"
#include "tests/unit/store_rows.h"
#include "scoring/actions.h"
#include "scoring/admin.h"

struct fixture {
	struct store *st;
	struct config *cfg;
	struct actions_config ac;
	char dir[64];
};

/* A configuration file in dir with the given text; secrets beside it. */
static struct config *
load_config(char *dir, const char *text, GError **error)
{
	char *secret = g_build_filename(dir, "secret", NULL);
	char *conf = g_build_filename(dir, "fbld.conf", NULL);
	char *full = g_strdup_printf("[fbld]\nstate_dir = %s\n%s", dir, text);
	struct config *cfg;

	assert_true(g_file_set_contents(secret, "s3cret\n", -1, NULL));
	assert_true(g_file_set_contents(conf, full, -1, NULL));
	cfg = config_load(conf, NULL, error);
	g_free(secret);
	g_free(conf);
	g_free(full);
	return cfg;
}

#define WEBHOOKS                                                               \
	"[webhook:all]\nurl = http://127.0.0.1:9/a\nsecret_file = %s/secret\n" \
	"[webhook:blocks]\nurl = https://hooks.example/b\nsecret_file = "      \
	"%s/secret\nstates = block\n"                                          \
	"[digest]\nsmtp_url = smtp://127.0.0.1:25\nto = abuse@example.org\n"   \
	"hostname = mx-test\ninterval = 1d\n"

static int
setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	char *text;
	GError *e = NULL;

	g_strlcpy(f->dir, "/tmp/fbld-test-actions-XXXXXX", sizeof(f->dir));
	assert_non_null(g_mkdtemp(f->dir));
	text = g_strdup_printf(WEBHOOKS, f->dir, f->dir);
	f->cfg = load_config(f->dir, text, &e);
	g_free(text);
	assert_non_null(f->cfg);
	actions_config_load(f->cfg, &f->ac);
	if (config_finish(f->cfg, &e) < 0)
		fail_msg("%s", e->message);
	f->st = store_open(":memory:", 1000, NULL);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *p;

	store_close(f->st);
	actions_config_clear(&f->ac);
	config_free(f->cfg);
	p = g_build_filename(f->dir, "secret", NULL);
	unlink(p);
	g_free(p);
	p = g_build_filename(f->dir, "fbld.conf", NULL);
	unlink(p);
	g_free(p);
	rmdir(f->dir);
	g_free(f);
	return 0;
}

static struct scoring_transition
transition(uint32_t id, const char *to)
{
	static const char *const reasons[] = { "bounces: 9 of 20" };
	struct scoring_transition t = {
		.account_id = id,
		.account = "acme",
		.ts_ms = 1000000,
		.from = "ok",
		.to = to,
		.source = "scoring",
		.reasons = reasons,
		.n_reasons = 1,
		.sent = 20,
	};

	return t;
}

static void
test_enqueue_filters(void **state)
{
	struct fixture *f = *state;
	struct scoring_transition t;
	uint32_t id;

	assert_int_equal(store_account_ensure(f->st, "acme", &id, NULL), 0);
	t = transition(id, "throttle");
	assert_int_equal(store_begin(f->st, NULL), 0);
	assert_int_equal(actions_enqueue(&f->ac, f->st, &t, NULL), 0);
	assert_int_equal(store_commit(f->st, NULL), 0);
	/* [webhook:blocks] wants block only; no alert mail for throttle. */
	assert_rows(f->st, "SELECT channel, account_id FROM outbox ORDER BY id",
		    "webhook:all|1\ndigest|1\n");
	t = transition(id, "block");
	assert_int_equal(store_begin(f->st, NULL), 0);
	assert_int_equal(actions_enqueue(&f->ac, f->st, &t, NULL), 0);
	assert_int_equal(store_commit(f->st, NULL), 0);
	assert_rows(f->st,
		    "SELECT channel FROM outbox WHERE id > 2 ORDER BY id",
		    "webhook:all\nwebhook:blocks\ndigest\nemail:alert\n");
	/* One event id per transition, shared by its rows. */
	assert_rows(f->st,
		    "SELECT count(DISTINCT substr(idem_key, instr(idem_key, "
		    "'/') + 1)) FROM outbox GROUP BY id > 2",
		    "1\n1\n");
	assert_rows(f->st,
		    "SELECT json_extract(payload, '$.to'), "
		    "json_extract(payload, '$.account.name') FROM outbox WHERE "
		    "channel = 'webhook:blocks'",
		    "block|acme\n");
	/* The alert mail names the account and the reason. */
	{
		char *mail =
			test_rows(f->st, "SELECT payload FROM outbox WHERE "
					 "channel = 'email:alert'");

		assert_non_null(strstr(mail, "Subject: [fbld mx-test] acme is "
					     "now block"));
		assert_non_null(strstr(mail, "- bounces: 9 of 20"));
		assert_non_null(strstr(mail, "\r\n"));
		g_free(mail);
	}
}

static void
test_enqueue_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct scoring_transition t;
	uint32_t id;

	assert_int_equal(store_account_ensure(f->st, "acme", &id, NULL), 0);
	t = transition(id, "watch");
	assert_int_equal(store_begin(f->st, NULL), 0);
	assert_int_equal(store_account_set_state(f->st, id, 5, "watch",
						 "scoring", "[]", 3, NULL),
			 0);
	assert_int_equal(actions_enqueue(&f->ac, f->st, &t, NULL), 0);
	store_rollback(f->st);
	/* Neither the change nor its alerts happened. */
	assert_rows(f->st, "SELECT count(*) FROM outbox", "0\n");
	assert_rows(f->st, "SELECT state FROM accounts", "ok\n");
}

static void
test_override(void **state)
{
	struct fixture *f = *state;
	struct store_account_state s;
	uint32_t id;

	assert_int_equal(store_account_ensure(f->st, "acme", &id, NULL), 0);
	assert_int_equal(actions_override(&f->ac, f->st, id, 100, "block",
					  "phishing", 0, NULL),
			 1);
	assert_int_equal(store_account_state_get(f->st, id, 200, &s, NULL), 0);
	assert_string_equal(s.effective, "block");
	store_account_state_clear(&s);
	assert_rows(f->st,
		    "SELECT json_extract(payload, '$.from'), "
		    "json_extract(payload, '$.to'), json_extract(payload, "
		    "'$.source'), json_extract(payload, '$.reasons[0]'), "
		    "json_type(payload, '$.sent') FROM outbox WHERE channel = "
		    "'webhook:all'",
		    "ok|block|operator|phishing|null\n");
	/* Pinning the state it already has: recorded, nothing announced. */
	assert_int_equal(actions_override(&f->ac, f->st, id, 300, "block",
					  "still", 0, NULL),
			 0);
	assert_rows(f->st, "SELECT count(*) FROM outbox", "4\n");
	assert_rows(f->st, "SELECT count(*) FROM state_history", "2\n");
	/* Clearing goes back to the scored state. */
	assert_int_equal(actions_override(&f->ac, f->st, id, 400, NULL,
					  "verified", 0, NULL),
			 1);
	assert_rows(f->st,
		    "SELECT json_extract(payload, '$.from') || '>' || "
		    "json_extract(payload, '$.to') FROM outbox WHERE channel = "
		    "'webhook:all' ORDER BY id",
		    "ok>block\nblock>ok\n");
	assert_int_equal(
		actions_override(&f->ac, f->st, 999, 1, "ok", "x", 0, NULL),
		-1);
}

static void
add_item(struct store *st, const char *channel, const char *key, int64_t now)
{
	struct store_outbox_item it = {
		.channel = channel,
		.idem_key = key,
		.payload = "{}",
		.account = -1,
		.created_ms = now,
		.next_ms = now,
	};
	int dup = -1;

	assert_int_equal(store_outbox_add(st, &it, &dup, NULL), 0);
	assert_int_equal(dup, 0);
	assert_int_equal(store_outbox_add(st, &it, &dup, NULL), 0);
	assert_int_equal(dup, 1);
}

static void
test_outbox_leases(void **state)
{
	struct fixture *f = *state;
	GPtrArray *rows;
	int64_t next;

	add_item(f->st, "webhook:all", "a", 1000);
	add_item(f->st, "webhook:all", "b", 2000);
	add_item(f->st, "digest", "c", 1000);
	assert_int_equal(store_outbox_next_due(f->st, &next, NULL), 0);
	assert_int_equal(next, 1000);
	/* Only what is due, never digest items; the claim counts and leases. */
	rows = store_outbox_claim(f->st, 1500, 10000, 10, NULL);
	assert_int_equal(rows->len, 1);
	assert_string_equal(
		((struct store_outbox_row *)rows->pdata[0])->idem_key, "a");
	assert_int_equal(((struct store_outbox_row *)rows->pdata[0])->attempts,
			 1);
	g_ptr_array_unref(rows);
	rows = store_outbox_claim(f->st, 2500, 10000, 10, NULL);
	assert_int_equal(rows->len, 1); /* b; a is leased */
	g_ptr_array_unref(rows);
	/* A crash leaves a leased; the lease runs out and it comes back. */
	rows = store_outbox_claim(f->st, 11500, 10000, 10, NULL);
	assert_int_equal(rows->len, 1);
	assert_int_equal(((struct store_outbox_row *)rows->pdata[0])->attempts,
			 2);
	g_ptr_array_unref(rows);
	assert_rows(f->st, "SELECT idem_key, attempts, next_ms FROM outbox",
		    "a|2|21500\nb|1|12500\nc|0|1000\n");
	assert_int_equal(store_outbox_retry(f->st, 1, 30000, "HTTP 500", NULL),
			 0);
	assert_int_equal(store_outbox_dead(f->st, 2, 13000, "HTTP 410", NULL),
			 0);
	assert_int_equal(store_outbox_next_due(f->st, &next, NULL), 0);
	assert_int_equal(next, 30000); /* b is dead, c is a digest item */
	rows = store_outbox_claim(f->st, 1000000, 10000, 10, NULL);
	assert_int_equal(rows->len, 1); /* a again, never b */
	g_ptr_array_unref(rows);
	assert_int_equal(store_outbox_done(f->st, 1, 1000001, NULL), 0);
	assert_int_equal(store_outbox_next_due(f->st, &next, NULL), 1);
	/* Dead letters come back only on request. */
	assert_int_equal(store_outbox_requeue(f->st, 1, 5, NULL), 1);
	assert_int_equal(store_outbox_requeue(f->st, 2, 2000000, NULL), 0);
	assert_rows(
		f->st,
		"SELECT attempts, next_ms, dead_ms IS NULL, last_error FROM "
		"outbox WHERE id = 2",
		"0|2000000|1|HTTP 410\n");
	/* Purge deletes delivered entries only. */
	assert_int_equal(store_outbox_purge(f->st, 1000002, NULL), 1);
	assert_rows(f->st, "SELECT idem_key FROM outbox ORDER BY id", "b\nc\n");
}

static void
test_outbox_listing(void **state)
{
	struct fixture *f = *state;
	GPtrArray *rows, *stats;

	add_item(f->st, "webhook:all", "a", 1000);
	add_item(f->st, "webhook:all", "b", 1000);
	add_item(f->st, "email:digest", "c", 1000);
	assert_int_equal(store_outbox_done(f->st, 1, 5000, NULL), 0);
	assert_int_equal(store_outbox_dead(f->st, 2, 6000, "x", NULL), 0);
	rows = store_outbox_list(f->st, "dead", -1, 0, 10, NULL);
	assert_int_equal(rows->len, 1);
	assert_int_equal(((struct store_outbox_row *)rows->pdata[0])->dead_ms,
			 6000);
	g_ptr_array_unref(rows);
	rows = store_outbox_list(f->st, NULL, -1, 3, 10, NULL);
	assert_int_equal(rows->len, 2); /* ids below 3, newest first */
	assert_int_equal(((struct store_outbox_row *)rows->pdata[0])->id, 2);
	g_ptr_array_unref(rows);
	stats = store_outbox_stats(f->st, 5000, NULL);
	assert_int_equal(stats->len, 2);
	{
		struct store_outbox_stat *d = stats->pdata[0];
		struct store_outbox_stat *w = stats->pdata[1];

		assert_string_equal(d->channel, "email:digest");
		assert_int_equal(d->pending, 1);
		assert_string_equal(w->channel, "webhook:all");
		assert_true(w->pending == 0 && w->done == 1 && w->dead == 1);
	}
	g_ptr_array_unref(stats);
	stats = store_outbox_stats(f->st, 5001, NULL);
	assert_int_equal(((struct store_outbox_stat *)stats->pdata[1])->done,
			 0);
	g_ptr_array_unref(stats);
}

static void
test_digest_compose(void **state)
{
	struct fixture *f = *state;
	struct scoring_transition t;
	uint32_t a, b;
	char *mail;

	assert_int_equal(actions_digest_compose(&f->ac, f->st, 0, 10, NULL), 0);
	assert_int_equal(store_account_ensure(f->st, "acme", &a, NULL), 0);
	assert_int_equal(store_account_ensure(f->st, "globex", &b, NULL), 0);
	assert_int_equal(store_begin(f->st, NULL), 0);
	t = transition(a, "watch");
	assert_int_equal(actions_enqueue(&f->ac, f->st, &t, NULL), 0);
	t = transition(b, "throttle");
	t.account = "globex";
	assert_int_equal(actions_enqueue(&f->ac, f->st, &t, NULL), 0);
	t = transition(a, "throttle");
	t.from = "watch";
	assert_int_equal(actions_enqueue(&f->ac, f->st, &t, NULL), 0);
	assert_int_equal(store_commit(f->st, NULL), 0);
	assert_int_equal(
		actions_digest_compose(&f->ac, f->st, 86400000, 86400500, NULL),
		1);
	assert_rows(f->st,
		    "SELECT count(*) FROM outbox WHERE channel = 'digest' AND "
		    "done_ms IS NULL",
		    "0\n");
	mail = test_rows(f->st, "SELECT payload FROM outbox WHERE channel = "
				"'email:digest'");
	/* Two accounts, acme's two changes in order, in one mail. */
	assert_non_null(strstr(mail, "digest: 2 accounts changed state"));
	assert_non_null(strstr(mail, "== acme (id 1): now OK =="));
	assert_non_null(strstr(mail, "== globex (id 2): now OK =="));
	assert_true(strstr(mail, "ok -> watch") <
		    strstr(mail, "watch -> throttle"));
	assert_non_null(strstr(mail, "Webhooks:    all pending"));
	g_free(mail);
	/* The same period again: no second mail, the new item waits. */
	t = transition(a, "block");
	assert_int_equal(store_begin(f->st, NULL), 0);
	assert_int_equal(actions_enqueue(&f->ac, f->st, &t, NULL), 0);
	assert_int_equal(store_commit(f->st, NULL), 0);
	assert_int_equal(
		actions_digest_compose(&f->ac, f->st, 86400000, 86400900, NULL),
		0);
	assert_rows(f->st,
		    "SELECT count(*) FROM outbox WHERE channel = 'digest' AND "
		    "done_ms IS NULL",
		    "1\n");
	assert_int_equal(actions_digest_compose(&f->ac, f->st, 2 * 86400000,
						2 * 86400000 + 1, NULL),
			 1);
	assert_rows(f->st,
		    "SELECT count(*) FROM outbox WHERE channel = "
		    "'email:digest'",
		    "2\n");
}

static void
add_event(struct store *st, int64_t ts, const char *type, int64_t account,
	  const char *klass, int machine)
{
	struct store_event ev = {
		.ts_ms = ts,
		.type = type,
		.account = account,
		.send = -1,
		.report = -1,
		.klass = klass,
		.machine = machine,
	};

	assert_int_equal(store_event_add(st, &ev, NULL, NULL), 0);
}

static void
test_counts_windows(void **state)
{
	struct fixture *f = *state;
	const int64_t h = 3600000, d = 24 * h, now = 100 * d;
	const int64_t w[] = { h, d, 7 * d };
	const int64_t sends[] = { now - 60000, now - 2 * h, now - 2 * d,
				  now - 8 * d, now };
	struct store_counts c[3], all;
	uint32_t a, b;
	uint64_t serial;

	assert_int_equal(store_account_ensure(f->st, "a", &a, NULL), 0);
	assert_int_equal(store_account_ensure(f->st, "b", &b, NULL), 0);
	for (size_t i = 0; i < G_N_ELEMENTS(sends); i++)
		assert_int_equal(
			store_send_reserve(f->st, a, sends[i], &serial, NULL),
			0);
	assert_int_equal(store_send_reserve(f->st, b, now - 1, &serial, NULL),
			 0);
	add_event(f->st, now - 1000, "bounce", a, "hard", 0);
	add_event(f->st, now - 1000, "bounce", a, "soft", 0);
	add_event(f->st, now - 1000, "bounce", a, NULL, 0);
	add_event(f->st, now - 5000000, "open", a, NULL, 1);
	add_event(f->st, now - 5000000, "open", a, NULL, 0);
	add_event(f->st, now - 3 * d, "complaint", a, NULL, 0);
	add_event(f->st, now - 1000, "sent", a, NULL, 0); /* not a send */
	add_event(f->st, now - 1000, "click", a, NULL, 1);
	add_event(f->st, now - 1000, "complaint", b, NULL, 0);
	add_event(f->st, now, "complaint", a, NULL, 0); /* not before now */
	assert_int_equal(store_counts_windows(f->st, a, now, w, 3, c, NULL), 0);
	/* 1 h */
	assert_int_equal(c[0].sent, 1);
	assert_int_equal(c[0].bounce_hard, 1);
	assert_int_equal(c[0].bounce_soft, 2);
	assert_int_equal(c[0].clicks_machine, 1);
	assert_int_equal(c[0].other, 1);
	assert_int_equal(c[0].opens + c[0].opens_machine + c[0].complaints, 0);
	/* 24 h: the opens of 83 minutes ago join. */
	assert_int_equal(c[1].sent, 2);
	assert_int_equal(c[1].opens, 1);
	assert_int_equal(c[1].opens_machine, 1);
	assert_int_equal(c[1].complaints, 0);
	/* 7 d */
	assert_int_equal(c[2].sent, 3);
	assert_int_equal(c[2].complaints, 1);
	assert_int_equal(c[2].bounce_hard, 1);
	/* One window, and every account. */
	assert_int_equal(store_counts(f->st, a, now - 7 * d, now, &all, NULL),
			 0);
	assert_memory_equal(&all, &c[2], sizeof(all));
	assert_int_equal(store_counts(f->st, -1, now - h, now, &all, NULL), 0);
	assert_int_equal(all.sent, 2);
	assert_int_equal(all.complaints, 1);
}

/* Loads text and returns the errors config_finish reports (or ""). */
static char *
config_errors(const char *text)
{
	char dir[] = "/tmp/fbld-test-actions-cfg-XXXXXX";
	struct actions_config ac;
	struct admin_config adm;
	struct config *cfg;
	GError *e = NULL;
	char *out, *p;

	assert_non_null(g_mkdtemp(dir));
	cfg = load_config(dir, text, NULL);
	assert_non_null(cfg);
	actions_config_load(cfg, &ac);
	admin_config_load(cfg, &adm);
	out = g_strdup(config_finish(cfg, &e) < 0 ? e->message : "");
	g_clear_error(&e);
	actions_config_clear(&ac);
	admin_config_clear(&adm);
	config_free(cfg);
	p = g_build_filename(dir, "secret", NULL);
	unlink(p);
	g_free(p);
	p = g_build_filename(dir, "fbld.conf", NULL);
	unlink(p);
	g_free(p);
	rmdir(dir);
	return out;
}

static void
expect_error(const char *text, const char *want)
{
	char *got = config_errors(text);

	if (!strstr(got, want))
		fail_msg("expected \"%s\" in \"%s\"", want, got);
	g_free(got);
}

static void
test_config_errors(void **state)
{
	char *none = config_errors("");

	assert_string_equal(none, ""); /* no section at all: all off */
	g_free(none);
	expect_error(
		"[webhook:x]\nurl = ftp://h/\nsecret_file = /nonexistent\n",
		"[webhook:x] url: \"ftp://h/\" is not an http(s) URL");
	expect_error("[webhook:x]\nurl = http://h/\n",
		     "[webhook:x] secret_file: required");
	expect_error(
		"[webhook:x y]\nurl = http://h/\nsecret_file = /dev/null\n",
		"name: use letters, digits");
	expect_error("[webhook:x]\nurl = http://h/\nstates = block, banned\n",
		     "\"banned\" is not ok, watch, throttle or block");
	expect_error("[webhook:x]\nurl = http://h/\nretry_base = 1h\n"
		     "retry_max = 1m\n",
		     "retry_max: shorter than retry_base");
	expect_error("[digest]\nto = a@b\n", "[digest] smtp_url: required");
	expect_error("[digest]\nsmtp_url = smtp://h\n",
		     "[digest] to: required");
	expect_error("[digest]\nsmtp_url = http://h\nto = a@b\n",
		     "not an smtp:// or smtps:// URL");
	expect_error("[digest]\nsmtp_url = smtp://h\nto = a@b\nusername = u\n",
		     "[digest] password_file: required");
	expect_error("[admin]\nlisten = 0.0.0.0:8026\n",
		     "0.0.0.0 is not a loopback address");
	expect_error("[outbox]\nbatch = 0\n", "[outbox] batch");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_enqueue_filters, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_enqueue_rolls_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_leases, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_outbox_listing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_digest_compose, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_counts_windows, setup,
						teardown),
		cmocka_unit_test(test_config_errors),
	};

	g_mime_init();
	return cmocka_run_group_tests_name("actions", tests, NULL, NULL);
}
