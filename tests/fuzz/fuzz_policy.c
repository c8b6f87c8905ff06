/* libFuzzer target: the policy delegation protocol (framing and attribute
 * parsing) and the per-account options JSON, over arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "verp/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct policy_options o;
	char *s;

	/* Requests one after another, as they arrive on a connection. */
	while (size > 0) {
		gssize end = policy_request_end(buf, size);
		struct policy_request *r;

		if (end <= 0)
			break;
		r = policy_request_parse(buf, (size_t)end, NULL);
		if (r) {
			policy_request_get(r, "request");
			policy_request_get(r, "sasl_username");
			policy_request_free(r);
		}
		buf += end;
		size -= (size_t)end;
	}
	s = g_strndup((const char *)data, MIN(size, (size_t)8192));
	policy_options_parse(s, &o, NULL);
	g_free(s);
	return 0;
}
