/* libFuzzer target: the whole bounce classifier. Arbitrary bytes go
 * through the ingest router (line-end normalisation, one GMime parse)
 * into the DSN and auto-reply classifiers, and the report is printed as
 * JSON, as `fbld parse` would. */
#include <stdint.h>
#include <string.h>

#include "core/ingest.h"
#include "dsn/dsn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ingest *in;
	struct report *r;
	char *line;

	if (!in) {
		in = ingest_new();
		ingest_add_classifier(in, "dsn", dsn_classify, NULL);
		ingest_add_classifier(in, "autoreply", dsn_autoreply_classify,
				      NULL);
	}
	r = ingest_classify(in, (const char *)data, size);
	line = report_to_json_line(r, "fuzz");
	g_free(line);
	report_free(r);
	return 0;
}
