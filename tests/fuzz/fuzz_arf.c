/* libFuzzer target: the ARF classifier (RFC 5965, JMRP, Apple, SES JSON)
 * behind GMime's parser, as the ingest router runs it, and the JSON
 * output of what it found. */
#include <stdint.h>

#include "core/ingest.h"
#include "fbl/arf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ingest *in;
	struct report *r;
	char *json;

	if (!in) {
		in = ingest_new();
		ingest_add_classifier(in, "arf", arf_classify, NULL);
	}
	r = ingest_classify(in, (const char *)data, size);
	json = report_to_json_line(r, "fuzz");
	g_free(json);
	report_free(r);
	return 0;
}
