/* Unit tests of verp/mark, the per-message pipeline behind the milter, on
 * a real SQLite store: what is recorded, which modifications come out,
 * bounce domains, enforcement on both paths, suppression, unknown
 * senders, fail-open, tracking and the limits on collected input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <gmime/gmime.h>
#include <libxml/parser.h>

#include "core/config.h"
#include "core/store.h"
#include "tests/unit/store_rows.h"
#include "verp/mark.h"

#define NOW INT64_C(1767225600000)

struct env {
	char dir[64];
	struct config *cfg;
	struct mark_config mc;
	struct token_config tc;
	struct mark_urls urls;
	struct mark_ctx ctx;
	struct store *st;
	char *db;
};

static void
env_load(struct env *e, const char *extra)
{
	char *secret = g_build_filename(e->dir, "k1.key", NULL);
	char *conf = g_build_filename(e->dir, "fbld.conf", NULL);
	char *text = g_strdup_printf(
		"[token]\nbounce_domain = bounce.test\n"
		"[key:k1]\nslot = 1\nuse = sign\nsecret_file = %s\n"
		"[milter]\nunsubscribe_url = https://t.test/u/{token}\n"
		"click_url = https://t.test/c/{token}?u={url}\n"
		"open_url = https://t.test/o/{token}.gif\n%s",
		secret, extra);
	GError *err = NULL;

	assert_true(g_file_set_contents(secret, "unit-test-secret-0123456789",
					-1, NULL));
	assert_true(g_file_set_contents(conf, text, -1, NULL));
	e->cfg = config_load(conf, e->dir, NULL);
	assert_non_null(e->cfg);
	token_config_load(e->cfg, 0, &e->tc);
	mark_config_load(e->cfg, &e->mc);
	if (config_finish(e->cfg, &err) < 0)
		fail_msg("config: %s", err->message);
	mark_template_urls(&e->mc, &e->urls);
	e->ctx = (struct mark_ctx){ &e->mc, &e->tc, &e->urls, NULL };
	g_free(text);
	g_free(conf);
	g_free(secret);
}

static struct env *
env_new(const char *extra)
{
	struct env *e = g_new0(struct env, 1);

	g_strlcpy(e->dir, "/tmp/fbld-test-mark-XXXXXX", sizeof(e->dir));
	assert_non_null(g_mkdtemp(e->dir));
	env_load(e, extra);
	e->db = g_build_filename(e->dir, "fbld.db", NULL);
	e->st = store_open(e->db, 1000, NULL);
	assert_non_null(e->st);
	return e;
}

static void
env_free(struct env *e)
{
	char *p;

	store_close(e->st);
	for (size_t i = 0; i < 3; i++) {
		p = g_strconcat(
			e->db, (const char *[]){ "", "-wal", "-shm" }[i], NULL);
		unlink(p);
		g_free(p);
	}
	g_free(e->db);
	mark_config_clear(&e->mc);
	token_config_clear(&e->tc);
	config_free(e->cfg);
	p = g_build_filename(e->dir, "k1.key", NULL);
	unlink(p);
	g_free(p);
	p = g_build_filename(e->dir, "fbld.conf", NULL);
	unlink(p);
	g_free(p);
	rmdir(e->dir);
	g_free(e);
}

/* Test set-up writes go through the sqlite3 command-line tool: the store
 * API only writes what fbld itself writes. */
static void
sqlx(struct env *e, const char *sql)
{
	char *db = g_build_filename(e->dir, "fbld.db", NULL);
	const char *argv[] = {
		"sqlite3", "-cmd", ".timeout 5000", db, sql, NULL
	};
	int status = -1;
	char *err = NULL;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
			  NULL, NULL, &err, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL))
		fail_msg("sqlite3 %s: %s", sql, err ? err : "failed");
	g_free(err);
	g_free(db);
}

#define BODY                                                                   \
	"Dear customer, your account needs to be verified before the end "     \
	"of the week or it will be suspended. Please confirm your details "    \
	"with our secure service today.\r\n"

static struct mark_msg *
msg_new(struct env *e, const char *login, const char *from,
	const char *const *rcpts, const char *const *headers)
{
	struct mark_msg *m = mark_msg_new();

	m->sasl_login = login ? g_strdup(login) : NULL;
	mark_msg_set_from(m, from, NULL);
	for (; rcpts && *rcpts; rcpts++)
		mark_msg_add_rcpt(m, *rcpts);
	for (; headers && *headers; headers += 2)
		mark_msg_add_header(m, &e->ctx, headers[0], headers[1]);
	mark_msg_add_body(m, &e->ctx, BODY, strlen(BODY));
	m->queue_id = g_strdup("4AB12C");
	return m;
}

static const char *const hdrs_plain[] = {
	"From",	       "Alice <alice@cust.test>",
	"Subject",     "news",
	"Message-ID",  " <m1@cust.test> ",
	"X-Fbld-Ref",  "forged-1",
	"X-Fbld-Ref",  "forged-2",
	"Feedback-ID", "customer:supplied",
	NULL
};
static const char *const two_rcpts[] = { "<A@Remote.test>", "<b@remote.test>",
					 NULL };
static const char *const one_rcpt[] = { "<solo@remote.test>", NULL };

static const struct mark_hdr_edit *
edit(const struct mark_result *r, guint i)
{
	assert_true(i < r->headers->len);
	return r->headers->pdata[i];
}

static void
assert_edit(const struct mark_result *r, guint i, const char *name, int index,
	    const char *value)
{
	const struct mark_hdr_edit *x = edit(r, i);

	assert_string_equal(x->name, name);
	assert_int_equal(x->index, index);
	if (value)
		assert_string_equal(x->value, value);
	else
		assert_null(x->value);
}

static void
test_sasl_marked_and_recorded(void **state)
{
	struct env *e = env_new("");
	struct mark_msg *m =
		msg_new(e, "alice", "<alice@cust.test>", two_rcpts, hdrs_plain);
	struct mark_result r;
	struct token_fields f;
	char *want, *addr;

	mark_result_init(&r);
	mark_process(&e->ctx, e->st, m, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	assert_string_equal(r.source, "sasl");
	assert_string_equal(r.account, "alice");
	assert_string_equal(r.state, "ok");
	assert_int_equal(r.rcpts, 2);
	/* The return path carries a valid token of this account and send. */
	assert_int_equal(token_verify(e->tc.keys, r.chgfrom + 1,
				      strlen(r.chgfrom) - 2, "b", NOW, 90, 1,
				      &f, NULL),
			 TOKEN_ERR_NONE);
	assert_int_equal(f.account, r.account_id);
	assert_int_equal(f.serial, r.serial);
	assert_int_equal(f.rcpt_tag, 0); /* two recipients */
	addr = g_strdup_printf("<b%s@bounce.test>", r.token);
	assert_string_equal(r.chgfrom, addr);
	want = g_strdup_printf("ENVID=%s", r.token);
	assert_string_equal(r.chgfrom_args, want);
	g_free(want);
	/* Forged copies deleted last first, then ours added. */
	assert_edit(&r, 0, "X-Fbld-Ref", 2, NULL);
	assert_edit(&r, 1, "X-Fbld-Ref", 1, NULL);
	assert_edit(&r, 2, "X-Fbld-Ref", 0, r.token);
	assert_edit(&r, 3, "Feedback-ID", 1, NULL);
	assert_edit(&r, 4, "Feedback-ID", 0, "1:alice:fbldmta");
	want = g_strdup_printf("<https://t.test/u/%s>", r.token);
	assert_edit(&r, 5, "List-Unsubscribe", 0, want);
	g_free(want);
	assert_edit(&r, 6, "List-Unsubscribe-Post", 0,
		    "List-Unsubscribe=One-Click");
	assert_int_equal(r.headers->len, 7);
	assert_null(r.body);
	assert_null(r.quarantine);
	/* The send row: the denominator of every rate. */
	want = g_strdup_printf("1|1|%s|<m1@cust.test>|4AB12C|alice@cust.test|"
			       "sasl|2|%" G_GINT64_FORMAT "\n",
			       r.token, m->size);
	assert_rows(e->st,
		    "SELECT id, account_id, token, message_id, queue_id, "
		    "env_from, identity_source, rcpt_count, size FROM sends",
		    want);
	assert_rows(e->st, "SELECT rcpt FROM send_rcpts ORDER BY rcpt",
		    "a@remote.test\nb@remote.test\n");
	assert_rows(e->st,
		    "SELECT length(fingerprint), substr(fingerprint, 1, 3) "
		    "FROM sends",
		    "292|f1:\n");
	g_free(want);
	g_free(addr);
	mark_result_clear(&r);
	mark_msg_free(m);
	env_free(e);
}

static void
test_envid_and_recipient_binding(void **state)
{
	struct env *e = env_new("[milter]\n");
	struct mark_msg *m =
		msg_new(e, "alice", "<alice@cust.test>", one_rcpt, hdrs_plain);
	const char *const args[] = { "ENVID=client-own", NULL };
	struct mark_result r;
	struct token_fields f;

	mark_msg_set_from(m, "<alice@cust.test>", args);
	mark_result_init(&r);
	mark_process(&e->ctx, e->st, m, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	/* The client's own ENVID is left alone. */
	assert_null(r.chgfrom_args);
	assert_int_equal(token_verify(e->tc.keys, r.token, TOKEN_LEN, "", NOW,
				      90, 1, &f, NULL),
			 TOKEN_ERR_NONE);
	assert_int_equal(
		token_recipient_matches(e->tc.keys, &f, "solo@remote.test"), 1);
	mark_result_clear(&r);
	mark_msg_free(m);
	env_free(e);
}

/* Runs one message and returns the bounce domain of its return path. */
static char *
bounce_of(struct env *e, const char *login, const char *from_hdr,
	  const char *env_from)
{
	const char *const hdrs[] = { "From", from_hdr, NULL };
	struct mark_msg *m = msg_new(e, login, env_from, one_rcpt, hdrs);
	struct mark_result r;
	char *d;

	mark_result_init(&r);
	mark_process(&e->ctx, e->st, m, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	d = g_strndup(strchr(r.chgfrom, '@') + 1,
		      strlen(strchr(r.chgfrom, '@') + 1) - 1);
	mark_result_clear(&r);
	mark_msg_free(m);
	return d;
}

static void
test_bounce_domains(void **state)
{
	struct env *e = env_new("[sender-domain:own.test]\naccount = alice\n"
				"bounce_domain = rp.own.test\n"
				"[sender-domain:other.test]\naccount = bob\n"
				"bounce_domain = rp.other.test\n");
	char *d;

	d = bounce_of(e, "alice", "a@plain.test", "<a@plain.test>");
	assert_string_equal(d, "bounce.test");
	g_free(d);
	/* The configured domain of the From: address, when alice owns it. */
	d = bounce_of(e, "alice", "news@own.test", "<a@plain.test>");
	assert_string_equal(d, "rp.own.test");
	g_free(d);
	/* Not when the domain belongs to someone else. */
	d = bounce_of(e, "alice", "news@other.test", "<news@other.test>");
	assert_string_equal(d, "bounce.test");
	g_free(d);
	/* The account's own bounce domain. */
	sqlx(e, "UPDATE accounts SET bounce_domain = 'rp.alice.test' "
		"WHERE name = 'alice'");
	d = bounce_of(e, "alice", "a@plain.test", "<a@plain.test>");
	assert_string_equal(d, "rp.alice.test");
	g_free(d);
	env_free(e);
}

/* Processes a message of login (or of the sender domain when login is
 * NULL) on the given path; the caller clears r. */
static void
run(struct env *e, const char *login, const char *env_from, int local,
    const char *const *rcpts, struct mark_result *r)
{
	struct mark_msg *m = msg_new(e, login, env_from, rcpts, hdrs_plain);

	m->local = local;
	mark_result_init(r);
	mark_process(&e->ctx, e->st, m, NOW, r);
	mark_msg_free(m);
}

static long
sends(struct env *e)
{
	char *n = test_rows(
		e->st, "SELECT count(*) FROM sends WHERE token IS NOT NULL");
	long v = strtol(n, NULL, 10);

	g_free(n);
	return v;
}

static void
test_enforcement(void **state)
{
	struct env *e = env_new("[sender-domain:shop.test]\naccount = shop\n"
				"[milter]\nlocal_sender = yes\n");
	struct mark_result r;

	run(e, "alice", "<a@cust.test>", 0, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	run(e, NULL, "<x@shop.test>", 1, one_rcpt, &r);
	assert_string_equal(r.source, "local");
	mark_result_clear(&r);
	assert_int_equal(sends(e), 2);

	sqlx(e, "UPDATE accounts SET state = 'throttle'");
	run(e, "alice", "<a@cust.test>", 0, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_TEMPFAIL);
	assert_string_equal(r.code, "451");
	assert_string_equal(r.xcode, "4.7.1");
	assert_null(r.chgfrom);
	mark_result_clear(&r);
	/* Local throttle: deferred too (pickup retries). */
	run(e, NULL, "<x@shop.test>", 1, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_TEMPFAIL);
	mark_result_clear(&r);

	/* An operator override wins over the scored state. */
	sqlx(e, "UPDATE accounts SET override_state = 'block', "
		"override_reason = 'abuse', override_until_ms = 0");
	run(e, "alice", "<a@cust.test>", 0, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_REJECT);
	assert_string_equal(r.code, "550");
	assert_string_equal(r.xcode, "5.7.1");
	assert_string_equal(r.state, "block");
	mark_result_clear(&r);
	assert_int_equal(sends(e), 2);
	/* A blocked local submission goes to the hold queue, marked. */
	run(e, NULL, "<x@shop.test>", 1, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	assert_non_null(r.quarantine);
	assert_non_null(strstr(r.quarantine, "account shop"));
	assert_non_null(r.chgfrom);
	mark_result_clear(&r);
	assert_int_equal(sends(e), 3);
	/* An expired override no longer counts. */
	sqlx(e, "UPDATE accounts SET state = 'ok', override_until_ms = 1");
	run(e, "alice", "<a@cust.test>", 0, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	env_free(e);
}

static void
test_rate_limit(void **state)
{
	struct env *e = env_new("[policy]\nrate_limit = 3\n");
	struct mark_result r;

	run(e, "alice", "<a@cust.test>", 0, two_rcpts, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	/* 2 sent + 2 now > 3 */
	run(e, "alice", "<a@cust.test>", 0, two_rcpts, &r);
	assert_int_equal(r.reply, MARK_TEMPFAIL);
	assert_non_null(strstr(r.text, "rate limit"));
	mark_result_clear(&r);
	run(e, "alice", "<a@cust.test>", 0, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	/* The account's own limit overrides the default. */
	sqlx(e, "UPDATE accounts SET options = '{\"rate_limit\": 0}'");
	run(e, "alice", "<a@cust.test>", 0, two_rcpts, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	/* Broken options: noted, defaults apply. */
	sqlx(e, "UPDATE accounts SET options = '{\"rate_limit\": \"x\"}'");
	run(e, "alice", "<a@cust.test>", 0, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_TEMPFAIL);
	assert_non_null(r.note);
	mark_result_clear(&r);
	env_free(e);
}

static void
test_suppression(void **state)
{
	struct env *e = env_new("");
	const char *const three[] = { "<keep@remote.test>",
				      "<Gone@Remote.test>",
				      "<unsub@remote.test>", NULL };
	const char *const gone[] = { "<gone@remote.test>", NULL };
	struct mark_result r;

	run(e, "alice", "<a@cust.test>", 0, one_rcpt, &r);
	mark_result_clear(&r);
	sqlx(e, "INSERT INTO suppressions VALUES (1, 'gone@remote.test', "
		"'hard-bounce', 0), (1, 'unsub@remote.test', 'unsubscribe', "
		"0), (2, 'keep@remote.test', 'unsubscribe', 0)");
	run(e, "alice", "<a@cust.test>", 0, three, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	assert_int_equal(r.rcpts, 1);
	assert_int_equal(r.suppressed, 2);
	assert_int_equal(r.del_rcpts->len, 2);
	/* Deleted as the MTA gave them: Postfix matches them exactly. */
	assert_string_equal(r.del_rcpts->pdata[0], "<Gone@Remote.test>");
	assert_string_equal(r.del_rcpts->pdata[1], "<unsub@remote.test>");
	mark_result_clear(&r);
	assert_rows(e->st, "SELECT rcpt FROM send_rcpts WHERE send_id = 2",
		    "keep@remote.test\n");
	/* Nobody left: discarded, nothing recorded. */
	run(e, "alice", "<a@cust.test>", 0, gone, &r);
	assert_int_equal(r.reply, MARK_DISCARD);
	mark_result_clear(&r);
	assert_int_equal(sends(e), 2);
	env_free(e);
}

static void
test_unknown_sender(void **state)
{
	struct env *e = env_new("");
	struct mark_result r;

	run(e, NULL, "<x@nowhere.test>", 0, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_ACCEPT);
	assert_string_equal(r.source, "none");
	assert_non_null(r.note);
	assert_null(r.chgfrom);
	mark_result_clear(&r);
	env_free(e);
	e = env_new("[milter]\nunknown = reject\n");
	run(e, NULL, "<x@nowhere.test>", 0, one_rcpt, &r);
	assert_int_equal(r.reply, MARK_REJECT);
	mark_result_clear(&r);
	assert_int_equal(sends(e), 0);
	env_free(e);
}

static void
test_fail_open(void **state)
{
	struct env *e = env_new("");
	struct mark_msg *m =
		msg_new(e, "alice", "<a@cust.test>", one_rcpt, hdrs_plain);
	struct store *locker = store_open(e->db, 1000, NULL);
	struct store *impatient = store_open(e->db, 0, NULL);
	struct mark_result r;

	/* No store at all. */
	mark_result_init(&r);
	mark_process(&e->ctx, NULL, m, NOW, &r);
	assert_int_equal(r.reply, MARK_ACCEPT);
	assert_true(r.store_failed);
	assert_non_null(strstr(r.note, "store unavailable"));
	mark_result_clear(&r);
	/* The database stays locked by another writer. */
	assert_int_equal(store_begin(locker, NULL), 0);
	mark_result_init(&r);
	mark_process(&e->ctx, impatient, m, NOW, &r);
	assert_int_equal(r.reply, MARK_ACCEPT);
	assert_true(r.store_failed);
	mark_result_clear(&r);
	/* Fail closed when configured so. */
	e->mc.fail_open = 0;
	mark_result_init(&r);
	mark_process(&e->ctx, impatient, m, NOW, &r);
	assert_int_equal(r.reply, MARK_TEMPFAIL);
	assert_string_equal(r.xcode, "4.3.0");
	mark_result_clear(&r);
	store_rollback(locker);
	/* And it works again once the lock is gone. */
	mark_result_init(&r);
	mark_process(&e->ctx, impatient, m, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	store_close(locker);
	store_close(impatient);
	mark_msg_free(m);
	env_free(e);
}

#define HTML_BODY                                                              \
	"<html><body><p>Dear customer, your account needs to be verified "     \
	"before the end of the week or it will be suspended.</p>"              \
	"<a href=\"https://shop.test/a\">shop</a></p></body></html>\r\n"

static void
test_tracking(void **state)
{
	struct env *e = env_new("");
	const char *const hdrs[] = {
		"From", "a@cust.test",	"MIME-Version",
		"1.0",	"Content-Type", "text/html; charset=utf-8",
		NULL
	};
	struct mark_msg *m = mark_msg_new();
	struct mark_result r;
	char *want;

	m->sasl_login = g_strdup("alice");
	mark_msg_set_from(m, "<a@cust.test>", NULL);
	mark_msg_add_rcpt(m, "<x@remote.test>");
	for (const char *const *h = hdrs; *h; h += 2)
		mark_msg_add_header(m, &e->ctx, h[0], h[1]);
	mark_msg_add_body(m, &e->ctx, HTML_BODY, strlen(HTML_BODY));
	/* Off by default. */
	mark_result_init(&r);
	mark_process(&e->ctx, e->st, m, NOW, &r);
	assert_null(r.body);
	mark_result_clear(&r);
	sqlx(e, "UPDATE accounts SET options = '{\"track_opens\": true, "
		"\"track_clicks\": true}'");
	mark_result_init(&r);
	mark_process(&e->ctx, e->st, m, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	assert_non_null(r.body);
	assert_int_equal(r.links, 1);
	want = g_strdup_printf("https://t.test/c/%s?u=https%%3A%%2F%%2Fshop."
			       "test%%2Fa",
			       r.token);
	assert_non_null(strstr(r.body, want));
	g_free(want);
	want = g_strdup_printf("https://t.test/o/%s.gif", r.token);
	assert_non_null(strstr(r.body, want));
	g_free(want);
	mark_result_clear(&r);
	/* Broken MIME: marked and delivered, the body left alone. */
	mark_msg_reset(m);
	mark_msg_set_from(m, "<a@cust.test>", NULL);
	mark_msg_add_rcpt(m, "<x@remote.test>");
	mark_msg_add_header(m, &e->ctx, "Content-Type",
			    "multipart/alternative; boundary=\"zz\"");
	mark_msg_add_body(m, &e->ctx, "--zz\r\nContent-Type: text/html\r\n\r\n",
			  33);
	mark_msg_add_body(m, &e->ctx, HTML_BODY, strlen(HTML_BODY));
	mark_result_init(&r);
	mark_process(&e->ctx, e->st, m, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	assert_non_null(r.chgfrom);
	assert_null(r.body);
	assert_non_null(strstr(r.note, "broken MIME"));
	mark_result_clear(&r);
	mark_msg_free(m);
	env_free(e);
}

static void
test_limits(void **state)
{
	struct env *e = env_new("[milter]\nmax_headers = 10\n"
				"max_body = 64k\n");
	struct mark_msg *m = mark_msg_new();
	char *huge = g_strnfill(200000, 'v');
	char *big = g_strnfill(70000, 'x');
	struct mark_result r;
	guint dels = 0;

	m->sasl_login = g_strdup("alice");
	mark_msg_set_from(m, "<a@cust.test>", NULL);
	mark_msg_add_rcpt(m, "<x@remote.test>");
	for (int i = 0; i < 2000; i++)
		mark_msg_add_header(m, &e->ctx, "X-Filler", "f");
	mark_msg_add_header(m, &e->ctx, "Subject", huge);
	/* A forged reference past the kept headers is still counted. */
	mark_msg_add_header(m, &e->ctx, "x-fbld-ref", "forged");
	mark_msg_add_body(m, &e->ctx, big, strlen(big));
	assert_int_equal(m->headers->len, 10);
	assert_int_equal(m->headers_seen, 2002);
	assert_true(m->body_truncated);
	assert_int_equal(m->body->len, 64 * 1024);
	sqlx(e, "INSERT INTO accounts (name, created_ms, options) VALUES "
		"('alice', 0, '{\"track_clicks\": true}')");
	mark_result_init(&r);
	mark_process(&e->ctx, e->st, m, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	for (guint i = 0; i < r.headers->len; i++)
		dels += !edit(&r, i)->value;
	assert_int_equal(dels, 1);
	assert_edit(&r, 0, "X-Fbld-Ref", 1, NULL);
	assert_null(r.body);
	mark_result_clear(&r);
	g_free(huge);
	g_free(big);
	mark_msg_free(m);
	env_free(e);
}

static void
test_envelope_check(void **state)
{
	struct env *e = env_new("[milter]\nsuppressed = refuse\n"
				"check_at_mail = yes\n");
	struct mark_msg *m = msg_new(e, "alice", "<a@cust.test>", NULL, NULL);
	struct mark_result r;

	/* Unknown login: nothing to say yet. */
	mark_result_init(&r);
	mark_envelope_check(&e->ctx, e->st, m, NULL, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	sqlx(e, "INSERT INTO accounts (name, created_ms, state) VALUES "
		"('alice', 0, 'block')");
	sqlx(e, "INSERT INTO suppressions VALUES (1, 'gone@remote.test', "
		"'unsubscribe', 0)");
	mark_result_init(&r);
	mark_envelope_check(&e->ctx, e->st, m, NULL, NOW, &r);
	assert_int_equal(r.reply, MARK_REJECT);
	assert_string_equal(r.xcode, "5.7.1");
	mark_result_clear(&r);
	mark_result_init(&r);
	mark_envelope_check(&e->ctx, e->st, m, "<Gone@remote.test>", NOW, &r);
	assert_int_equal(r.reply, MARK_REJECT);
	mark_result_clear(&r);
	mark_result_init(&r);
	mark_envelope_check(&e->ctx, e->st, m, "<ok@remote.test>", NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	/* Never on the local path: Postfix cannot refuse there. */
	m->local = 1;
	mark_result_init(&r);
	mark_envelope_check(&e->ctx, e->st, m, NULL, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	/* And not at all by default: it costs the MTA a round trip. */
	m->local = 0;
	e->mc.check_at_mail = 0;
	e->mc.suppressed_refuse = 0;
	mark_result_init(&r);
	mark_envelope_check(&e->ctx, e->st, m, NULL, NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_envelope_check(&e->ctx, e->st, m, "<gone@remote.test>", NOW, &r);
	assert_int_equal(r.reply, MARK_CONTINUE);
	mark_result_clear(&r);
	mark_msg_free(m);
	env_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sasl_marked_and_recorded),
		cmocka_unit_test(test_envid_and_recipient_binding),
		cmocka_unit_test(test_bounce_domains),
		cmocka_unit_test(test_enforcement),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_suppression),
		cmocka_unit_test(test_unknown_sender),
		cmocka_unit_test(test_fail_open),
		cmocka_unit_test(test_tracking),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_envelope_check),
	};
	int rc;

	g_mime_init();
	xmlInitParser();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
