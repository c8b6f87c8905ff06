/* Unit tests of fbl/dmarc: the XML reader, the unpacker and their limits
 * against hostile input (entity expansion, external entities, bombs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "fbl/dmarc.h"
#include "fbl/fbl.h"

#define REC(ip, n, d, s)                                                       \
	"<record><row><source_ip>" ip "</source_ip><count>" n "</count>"       \
	"<policy_evaluated><disposition>none</disposition><dkim>" d            \
	"</dkim><spf>" s "</spf></policy_evaluated></row><identifiers>"        \
	"<header_from>Shop.Example.COM</header_from></identifiers></record>"

static const char xml_ok[] =
	"<?xml version=\"1.0\"?>\n<feedback><report_metadata>"
	"<org_name> google.com </org_name><report_id>42</report_id>"
	"<date_range><begin>1767225600</begin><end>1767311999</end>"
	"</date_range></report_metadata><policy_published><domain>"
	"shop.example.com</domain></policy_published>" REC("192.0.2.1", "10",
							   "pass", "fail")
		REC("192.0.2.2", "3", "FAIL", "Pass") "</feedback>\n";

static struct report_dmarc *
parse(const char *xml, char **problem, GError **e)
{
	return dmarc_parse_xml(xml, strlen(xml), problem, e);
}

static void
test_fields(void **state)
{
	char *problem = NULL;
	struct report_dmarc *d = parse(xml_ok, &problem, NULL);
	struct report_dmarc_record *r;

	assert_non_null(d);
	assert_null(problem);
	assert_string_equal(d->org, "google.com");
	assert_string_equal(d->report_id, "42");
	assert_int_equal(d->begin, 1767225600);
	assert_int_equal(d->end, 1767311999);
	assert_string_equal(d->domain, "shop.example.com");
	assert_int_equal(d->records->len, 2);
	r = d->records->pdata[1];
	assert_string_equal(r->source_ip, "192.0.2.2");
	assert_int_equal(r->count, 3);
	assert_string_equal(r->dkim, "fail"); /* lower-cased */
	assert_string_equal(r->spf, "pass");
	assert_string_equal(r->header_from, "shop.example.com");
	report_dmarc_free(d);
}

static void
expect_refused(const char *xml, int code, const char *words)
{
	GError *e = NULL;
	struct report_dmarc *d = parse(xml, NULL, &e);

	assert_null(d);
	assert_non_null(e);
	assert_int_equal(e->code, code);
	if (!strstr(e->message, words))
		fail_msg("\"%s\" does not say \"%s\"", e->message, words);
	g_error_free(e);
}

static void
test_hostile(void **state)
{
	/* Billion laughs, XXE, an empty DOCTYPE, a DOCTYPE after a comment. */
	expect_refused("<?xml version=\"1.0\"?><!DOCTYPE f [<!ENTITY a "
		       "\"aaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>"
		       "<feedback><report_metadata><org_name>&b;</org_name>"
		       "</report_metadata></feedback>",
		       DMARC_ERR_REFUSED, "DOCTYPE");
	expect_refused("<?xml version=\"1.0\"?><!DOCTYPE f [<!ENTITY x SYSTEM "
		       "\"file:///etc/passwd\">]><feedback>&x;</feedback>",
		       DMARC_ERR_REFUSED, "DOCTYPE");
	expect_refused("<!-- hi --><!DOCTYPE feedback><feedback/>",
		       DMARC_ERR_REFUSED, "DOCTYPE");
	/* Undeclared entities are an XML error, not an expansion. */
	expect_refused("<feedback><report_metadata><org_name>&x;</org_name>"
		       "</report_metadata></feedback>",
		       DMARC_ERR_XML, "XML");
	expect_refused("\xff\xfe<\0f\0", DMARC_ERR_REFUSED, "ASCII");
	expect_refused("PK\x03\x04 not xml", DMARC_ERR_NOT_DMARC, "not XML");
	expect_refused("<html><body/></html>", DMARC_ERR_NOT_DMARC, "<html>");
	expect_refused("<feedback><record>", DMARC_ERR_XML, "XML");
}

static void
test_problems(void **state)
{
	char *problem = NULL;
	struct report_dmarc *d = parse(
		"<feedback>" REC("192.0.2.9", "-4", "pass", "pass")
			REC("192.0.2.9", "x", "pass", "pass") "</feedback>",
		&problem, NULL);

	assert_non_null(d);
	assert_non_null(problem);
	assert_non_null(strstr(problem, "<count> is not a number"));
	assert_int_equal(
		((struct report_dmarc_record *)d->records->pdata[0])->count, 0);
	g_free(problem);
	report_dmarc_free(d);
}

/* More records than REPORT_DMARC_MAX: the rest is counted, not kept. */
static void
test_record_cap(void **state)
{
	GString *s = g_string_new("<feedback>");
	char *problem = NULL;
	struct report_dmarc *d;

	for (int i = 0; i < REPORT_DMARC_MAX + 5; i++)
		g_string_append(s, "<record><row><count>1</count></row>"
				   "</record>");
	g_string_append(s, "</feedback>");
	d = dmarc_parse_xml(s->str, s->len, &problem, NULL);
	assert_non_null(d);
	assert_int_equal(d->records->len, REPORT_DMARC_MAX);
	assert_non_null(strstr(problem, "5 records over the limit"));
	g_free(problem);
	report_dmarc_free(d);
	g_string_free(s, TRUE);
}

static GByteArray *
gz(const void *data, size_t len)
{
	GByteArray *out = g_byte_array_sized_new((guint)len + 64);
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(
		deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
		Z_OK);
	g_byte_array_set_size(out, (guint)deflateBound(&z, len));
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out->data;
	z.avail_out = out->len;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	g_byte_array_set_size(out, (guint)z.total_out);
	deflateEnd(&z);
	return out;
}

static void
test_gzip(void **state)
{
	GByteArray *a = gz(xml_ok, 100),
		   *b = gz(xml_ok + 100, strlen(xml_ok) - 100);
	GByteArray *xml = NULL;
	GError *e = NULL;

	/* Two members, one after the other (RFC 1952 2.2). */
	g_byte_array_append(a, b->data, b->len);
	assert_int_equal(dmarc_unpack(a->data, a->len, &xml, NULL), 0);
	assert_int_equal(xml->len, strlen(xml_ok));
	assert_memory_equal(xml->data, xml_ok, xml->len);
	g_byte_array_free(xml, TRUE);
	/* Truncated. */
	assert_int_equal(dmarc_unpack(b->data, b->len - 10, &xml, &e), -1);
	assert_int_equal(e->code, DMARC_ERR_UNPACK);
	g_clear_error(&e);
	g_byte_array_free(a, TRUE);
	g_byte_array_free(b, TRUE);
}

static void
test_gzip_bomb(void **state)
{
	size_t n = DMARC_XML_MAX + 1;
	char *zeros = g_malloc0(n);
	GByteArray *bomb = gz(zeros, n), *xml = NULL;
	GError *e = NULL;

	g_free(zeros);
	assert_true(bomb->len < 64 * 1024);
	assert_int_equal(dmarc_unpack(bomb->data, bomb->len, &xml, &e), -1);
	assert_null(xml);
	assert_int_equal(e->code, DMARC_ERR_TOO_BIG);
	g_error_free(e);
	g_byte_array_free(bomb, TRUE);
}

static void
test_zip(void **state)
{
	/* A zip holding only a .txt: nothing to read. */
	static const unsigned char txt_zip[] = {
		0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x21, 0x5c, 0xac, 0x2a, 0x93, 0xd8, 0x02, 0x00,
		0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
		0x61, 0x2e, 0x74, 0x78, 0x74, 0x68, 0x69, 0x50, 0x4b, 0x01,
		0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x21, 0x5c, 0xac, 0x2a, 0x93, 0xd8, 0x02, 0x00, 0x00,
		0x00, 0x02, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00,
		0x00, 0x00, 0x00, 0x61, 0x2e, 0x74, 0x78, 0x74, 0x50, 0x4b,
		0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00,
		0x33, 0x00, 0x00, 0x00, 0x25, 0x00, 0x00, 0x00, 0x00, 0x00
	};
	GByteArray *xml = NULL;
	GError *e = NULL;

	assert_int_equal(dmarc_unpack(txt_zip, sizeof(txt_zip), &xml, &e), -1);
	assert_int_equal(e->code, DMARC_ERR_UNPACK);
	assert_non_null(strstr(e->message, "no .xml file"));
	g_clear_error(&e);
	assert_int_equal(dmarc_unpack("PK\x03\x04garbage", 11, &xml, &e), -1);
	assert_int_equal(e->code, DMARC_ERR_UNPACK);
	g_clear_error(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_record_cap),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_gzip_bomb),
		cmocka_unit_test(test_zip),
	};

	fbl_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
