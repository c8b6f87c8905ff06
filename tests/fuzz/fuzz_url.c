/* libFuzzer target: the tracking-URL parser (path and query, escapes,
 * targets, recipients) and the signature check over arbitrary bytes, as
 * the endpoint receives them in the request-target. */
#include <stdint.h>
#include <string.h>

#include "verp/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct token_keyring *kr;
	struct url_request r;
	char *s;

	if (!kr) {
		kr = token_keyring_new();
		token_keyring_add(kr, "k1", 1, TOKEN_KEY_SIGN,
				  "fuzz-key-0123456789abcdef", 25, NULL);
	}
	if (url_parse((const char *)data, size, &r) == URL_ERR_NONE) {
		url_verify(kr, &r);
		url_request_clear(&r);
	}
	/* Callers pass C strings too (libmicrohttpd's copy of the URI). */
	s = g_strndup((const char *)data, size);
	if (url_parse(s, strlen(s), &r) == URL_ERR_NONE) {
		if (r.kind == URL_CLICK)
			url_target_ok(r.target, strlen(r.target));
		url_request_clear(&r);
	}
	g_free(s);
	return 0;
}
