/* libFuzzer target: DMARC aggregate reports three ways: the bytes as an
 * attachment (gzip, zip or XML, unpacked within the limits), as XML
 * directly, and as a whole message through the classifier. */
#include <stdint.h>

#include "core/ingest.h"
#include "fbl/dmarc.h"
#include "fbl/fbl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse(const char *xml, size_t len)
{
	char *problem = NULL;
	struct report_dmarc *d = dmarc_parse_xml(xml, len, &problem, NULL);

	report_dmarc_free(d);
	g_free(problem);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ingest *in;
	GByteArray *xml = NULL;
	struct report *r;

	if (!in) {
		in = ingest_new();
		fbl_init();
		ingest_add_classifier(in, "dmarc", dmarc_classify, NULL);
	}
	if (dmarc_unpack(data, size, &xml, NULL) == 0) {
		parse((const char *)xml->data, xml->len);
		g_byte_array_free(xml, TRUE);
	}
	parse((const char *)data, size);
	r = ingest_classify(in, (const char *)data, size);
	report_free(r);
	return 0;
}
