/* Unit tests of verp/identity: the order of the sources, the local path,
 * header values from customers, and the domain map (configured, then the
 * store through the callback). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "verp/identity.h"

struct fake {
	const char *const *headers; /* name, value, ... NULL */
	int store_calls;
	int store_fails;
};

static const char *
fake_header(void *ud, const char *name)
{
	struct fake *f = ud;

	for (const char *const *h = f->headers; h && *h; h += 2)
		if (g_ascii_strcasecmp(*h, name) == 0)
			return h[1];
	return NULL;
}

/* The store knows store.example as account 42. */
static int
fake_domain(void *ud, const char *domain, int64_t *id, GError **error)
{
	struct fake *f = ud;

	f->store_calls++;
	if (f->store_fails) {
		g_set_error(error, G_FILE_ERROR, 1, "database is locked");
		return -1;
	}
	if (strcmp(domain, "store.example") == 0) {
		*id = 42;
		return 0;
	}
	return 1;
}

static struct identity_config *
config(void)
{
	static struct identity_config ic;

	identity_config_clear(&ic);
	memset(&ic, 0, sizeof(ic));
	ic.local_header = g_strdup("X-Fbld-Account");
	ic.local_sender = 1;
	ic.headers = g_strsplit("X-Account X-PHP-Originating-Script", " ", -1);
	ic.domains =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(ic.domains, g_strdup("cust.example"),
			    g_strdup("customer1"));
	return &ic;
}

static void
resolve(struct identity_config *ic, struct identity_input *in,
	struct identity *out, enum identity_source want, const char *name,
	int64_t id)
{
	assert_int_equal(identity_resolve(ic, in, out, NULL), 0);
	assert_int_equal(out->source, want);
	if (name)
		assert_string_equal(out->name, name);
	else
		assert_null(out->name);
	assert_int_equal(out->id, id);
}

static void
test_order(void **state)
{
	struct identity_config *ic = config();
	const char *const hdrs[] = { "X-Account", "fromheader",
				     "X-Fbld-Account", "wrapper", NULL };
	struct fake f = { hdrs, 0, 0 };
	struct identity_input in = { .sasl_login = "alice@cust.example",
				     .env_from = "x@cust.example",
				     .header = fake_header,
				     .domain = fake_domain,
				     .ud = &f };
	struct identity id;

	resolve(ic, &in, &id, IDENTITY_SASL, "alice@cust.example", -1);
	identity_clear(&id);
	ic->sasl_domain = 1;
	resolve(ic, &in, &id, IDENTITY_SASL, "cust.example", -1);
	identity_clear(&id);
	/* No login: an SMTP client is not local, the wrapper header is not
	 * trusted there, the identity header is. */
	in.sasl_login = "";
	resolve(ic, &in, &id, IDENTITY_HEADER, "fromheader", -1);
	assert_string_equal(id.via, "X-Account");
	identity_clear(&id);
	/* Local: the wrapper's header first. */
	in.local = 1;
	resolve(ic, &in, &id, IDENTITY_LOCAL, "wrapper", -1);
	identity_clear(&id);
	/* Local without it: the (constrained) sender's domain. */
	f.headers = NULL;
	resolve(ic, &in, &id, IDENTITY_LOCAL, "customer1", -1);
	assert_string_equal(id.via, "cust.example");
	identity_clear(&id);
	/* Not trusted: the sender's domain is only advisory. */
	ic->local_sender = 0;
	resolve(ic, &in, &id, IDENTITY_DOMAIN, "customer1", -1);
	identity_clear(&id);
	identity_config_clear(ic);
}

static void
test_domain_map(void **state)
{
	struct identity_config *ic = config();
	struct fake f = { NULL, 0, 0 };
	struct identity_input in = { .env_from = "x@Store.Example",
				     .header = fake_header,
				     .domain = fake_domain,
				     .ud = &f };
	struct identity id;
	GError *e = NULL;

	resolve(ic, &in, &id, IDENTITY_DOMAIN, NULL, 42);
	assert_string_equal(id.via, "store.example");
	identity_clear(&id);
	/* Envelope sender unknown: the From: address. */
	in.env_from = "bounces@elsewhere.example";
	in.from_addr = "news@cust.example";
	resolve(ic, &in, &id, IDENTITY_DOMAIN, "customer1", -1);
	identity_clear(&id);
	/* Nothing known. */
	in.from_addr = NULL;
	in.env_from = "";
	resolve(ic, &in, &id, IDENTITY_NONE, NULL, -1);
	identity_clear(&id);
	/* The store failing is an error, not "unknown". */
	in.env_from = "x@somewhere.example";
	f.store_fails = 1;
	assert_int_equal(identity_resolve(ic, &in, &id, &e), -1);
	assert_non_null(e);
	g_clear_error(&e);
	identity_clear(&id);
	identity_config_clear(ic);
}

static void
test_header_values(void **state)
{
	char *s;
	char *big = g_strnfill(IDENTITY_NAME_MAX + 1, 'a');

	s = identity_name_from_value("  65534:contact.php");
	assert_string_equal(s, "65534");
	g_free(s);
	s = identity_name_from_value("alice@cust.example (web)");
	assert_string_equal(s, "alice@cust.example");
	g_free(s);
	assert_null(identity_name_from_value(""));
	assert_null(identity_name_from_value("   "));
	assert_null(identity_name_from_value("bad/name"));
	assert_null(identity_name_from_value("caf\xc3\xa9"));
	assert_null(identity_name_from_value(big));
	assert_null(identity_name_from_value(NULL));
	g_free(big);
	s = identity_addr_domain("<User@Example.ORG>");
	assert_string_equal(s, "example.org");
	g_free(s);
	assert_null(identity_addr_domain("nodomain"));
	assert_null(identity_addr_domain("a@"));
	assert_null(identity_addr_domain(""));
}

static void
test_sasl_names(void **state)
{
	struct identity_config *ic = config();
	struct identity_input in = { .sasl_login = "bad\nlogin" };
	struct identity id;

	/* A control character: not a usable name, nothing else known. */
	resolve(ic, &in, &id, IDENTITY_NONE, NULL, -1);
	identity_clear(&id);
	assert_string_equal(identity_source_name(IDENTITY_LOCAL), "local");
	assert_string_equal(identity_source_name(IDENTITY_NONE), "none");
	identity_config_clear(ic);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_domain_map),
		cmocka_unit_test(test_header_values),
		cmocka_unit_test(test_sasl_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
