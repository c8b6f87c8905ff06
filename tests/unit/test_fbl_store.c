/*
 * What fbl's reports become in a real SQLite store (in memory): events of
 * complaints with their type, account, send and detail; DMARC records,
 * stored once per report even when the reporter sends it again; the
 * mailbox state the IMAP poller keeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/ingest.h"
#include "core/store.h"
#include "tests/unit/store_rows.h"
#include "fbl/fbl.h"
#include "verp/keys.h"

#define DATA "tests/data/fbl/"
#define GOLDEN_KEY "golden-key-0123456789abcdef"
#define NOW INT64_C(1767312000000)

struct fx {
	struct token_config tc;
	struct ingest *in;
	struct store *st;
};

static int
fx_resolve(void *ud, const char *hint, struct report_token *tok)
{
	return token_resolve(ud, hint, NOW, tok);
}

static int
setup(void **state)
{
	struct fx *f = g_new0(struct fx, 1);

	f->tc.prefix = g_strdup("b");
	f->tc.max_age_days = 90;
	f->tc.future_days = 1;
	f->tc.keys = token_keyring_new();
	token_keyring_add(f->tc.keys, "g1", 1, TOKEN_KEY_SIGN, GOLDEN_KEY,
			  strlen(GOLDEN_KEY), NULL);
	f->in = ingest_new();
	fbl_register(f->in);
	ingest_set_token_resolver(f->in, fx_resolve, &f->tc);
	f->st = store_open(":memory:", 1000, NULL);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->st);
	ingest_free(f->in);
	token_config_clear(&f->tc);
	g_free(f);
	return 0;
}

/* Stores one fixture (plus suffix, to make other bytes of the same
 * report) in its own transaction; returns dup. */
static int
put_as(struct fx *f, const char *name, const char *suffix)
{
	char *path = g_strconcat(DATA, name, NULL), *data, *all;
	gsize len;
	struct ingest_message m = { .source = "test", .received_ms = NOW };
	int64_t id;
	int dup;
	GError *e = NULL;

	assert_true(g_file_get_contents(path, &all, &len, NULL));
	data = g_strconcat(all, suffix, NULL);
	g_free(all);
	len = strlen(data);
	m.raw = data;
	m.len = len;
	m.orig_size = (int64_t)len;
	assert_int_equal(store_begin(f->st, NULL), 0);
	if (ingest_store(f->in, f->st, &m, &id, &dup, NULL, &e) < 0)
		fail_msg("%s: %s", name, e->message);
	assert_int_equal(store_commit(f->st, NULL), 0);
	g_free(data);
	g_free(path);
	return dup;
}

static int
put(struct fx *f, const char *name)
{
	return put_as(f, name, "");
}

static void
test_complaints(void **state)
{
	struct fx *f = *state;

	assert_int_equal(put(f, "arf-multi-rcpt.eml"), 0);
	assert_int_equal(put(f, "arf-not-spam.eml"), 0);
	assert_int_equal(put(f, "apple-unsubscribe.eml"), 0);
	assert_int_equal(put(f, "arf-auth-failure.eml"), 0);
	assert_int_equal(put(f, "jmrp.eml"), 0);
	assert_rows(f->st,
		    "SELECT type, account_id, send_id, recipient FROM events "
		    "ORDER BY id",
		    "complaint|42|1001|trap1@example.com\n"
		    "complaint|42|1001|Trap2@example.net\n"
		    "complaint|42|1001|trap3@example.org\n"
		    "not-spam|42|1002|happy@isp.example\n"
		    "unsubscribe|9|4004|reader@icloud.example\n"
		    "auth-failure|NULL|NULL|victim@receiver.example\n"
		    "complaint|7|3003|Complainer@outlook.example\n");
	assert_rows(f->st,
		    "SELECT json_extract(detail, '$.incidents'), "
		    "json_extract(detail, '$.attributed_by'), "
		    "json_extract(detail, '$.source_ip') FROM events "
		    "WHERE recipient = 'trap2@example.net' COLLATE NOCASE",
		    "4|token|192.0.2.3\n");
	assert_rows(
		f->st,
		"SELECT kind, account_id, send_id, token_error IS NULL FROM "
		"reports ORDER BY id",
		"arf|42|1001|1\narf|42|1002|1\narf|9|4004|1\n"
		"arf|NULL|NULL|0\narf|7|3003|1\n");
	/* The same bytes again: nothing new. */
	assert_int_equal(put(f, "arf-multi-rcpt.eml"), 1);
	assert_rows(f->st, "SELECT count(*) FROM events", "7\n");
}

/* One complainer reported twice (another copy of the report) is one
 * complaint; two reports on one send with the recipient redacted are two
 * complainers. */
static void
test_dedup(void **state)
{
	struct fx *f = *state;

	assert_int_equal(put(f, "arf-token-header.eml"), 0);
	assert_int_equal(put(f, "arf-token-header-crlf.eml"), 0);
	assert_int_equal(put(f, "arf-truncated.eml"), 0);
	assert_int_equal(put_as(f, "arf-truncated.eml", "\n"), 0);
	assert_rows(f->st,
		    "SELECT send_id, coalesce(recipient, '-'), count(*) FROM "
		    "events "
		    "GROUP BY 1, 2 ORDER BY 2",
		    "1001|-|2\n1001|Someone@yahoo.com|1\n");
}

static void
test_dmarc(void **state)
{
	struct fx *f = *state;

	assert_int_equal(put(f, "dmarc-gzip.eml"), 0);
	assert_rows(
		f->st,
		"SELECT org, report_ref, begin_s, end_s, policy_domain, "
		"source_ip, header_from, count, disposition, dkim, spf FROM "
		"dmarc_records ORDER BY id",
		"Example Receiver|r-2026-01-01|1767225600|1767311999|"
		"shop.example.com|192.0.2.25|shop.example.com|120|none|pass|"
		"pass\n"
		"Example Receiver|r-2026-01-01|1767225600|1767311999|"
		"shop.example.com|203.0.113.66|shop.example.com|3|quarantine|"
		"fail|fail\n"
		"Example Receiver|r-2026-01-01|1767225600|1767311999|"
		"shop.example.com|2001:db8::25|news.shop.example.com|7|none|"
		"pass|fail\n");
	/* The same report in another message (zipped, resent): kept as a
	 * raw report, its records not counted twice. */
	assert_int_equal(put(f, "dmarc-zip.eml"), 0);
	assert_rows(f->st, "SELECT count(*), sum(count) FROM dmarc_records",
		    "3|130\n");
	assert_rows(f->st,
		    "SELECT kind, count(*) FROM reports GROUP BY kind ORDER BY "
		    "kind",
		    "dmarc-aggregate|2\n");
	/* Refused reports are kept too, with the reason. */
	assert_int_equal(put(f, "dmarc-entity-bomb.eml"), 0);
	assert_rows(f->st,
		    "SELECT kind, error FROM reports WHERE error IS NOT NULL",
		    "dmarc-aggregate|DMARC report refused: a DOCTYPE (DTD, "
		    "entities) in the XML\n");
	assert_rows(f->st, "SELECT count(*) FROM events", "0\n");
}

static void
test_mailbox_state(void **state)
{
	struct fx *f = *state;
	uint32_t v = 0, uid = 0;

	assert_int_equal(store_mailbox_get(f->st, "imap:x", &v, &uid, NULL), 1);
	assert_int_equal(
		store_mailbox_set(f->st, "imap:x", 5, 10, 3, NOW, NULL), 0);
	/* A lower UID (a retried batch) does not move it back. */
	assert_int_equal(store_mailbox_set(f->st, "imap:x", 5, 7, 2, NOW, NULL),
			 0);
	assert_int_equal(store_mailbox_get(f->st, "imap:x", &v, &uid, NULL), 0);
	assert_int_equal(v, 5);
	assert_int_equal(uid, 10);
	/* A new UIDVALIDITY starts over. */
	assert_int_equal(store_mailbox_set(f->st, "imap:x", 6, 2, 1, NOW, NULL),
			 0);
	assert_int_equal(store_mailbox_get(f->st, "imap:x", &v, &uid, NULL), 0);
	assert_int_equal(v, 6);
	assert_int_equal(uid, 2);
	assert_rows(f->st, "SELECT stored FROM mailbox_state", "6\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_complaints, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dmarc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailbox_state, setup,
						teardown),
	};

	/* Held for the whole run: GMime cannot be set up again once
	 * ingest_free() has shut it down. */
	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
