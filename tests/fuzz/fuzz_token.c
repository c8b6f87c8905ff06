/* libFuzzer target: the token decoder (token_extract and token_verify)
 * over arbitrary bytes, with two keys, one of them retired. */
#include <stdint.h>
#include <string.h>

#include "verp/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct token_keyring *kr;
	struct token_fields f;
	char tok[TOKEN_LEN + 1];
	char *s;

	if (!kr) {
		kr = token_keyring_new();
		token_keyring_add(kr, "k1", 1, TOKEN_KEY_SIGN,
				  "fuzz-key-0123456789abcdef", 25, NULL);
		token_keyring_add(kr, "k0", 0, TOKEN_KEY_RETIRED,
				  "old-key-0123456789abcdef", 24, NULL);
	}
	/* The decoder takes a length, but callers pass C strings too. */
	s = g_strndup((const char *)data, size);
	token_extract(s, strlen(s), "b", tok);
	token_verify(kr, s, strlen(s), "b", INT64_C(1767225600000), 90, 1, &f,
		     NULL);
	token_verify(kr, (const char *)data, size, "", INT64_C(1767225600000),
		     90, 1, &f, NULL);
	g_free(s);
	return 0;
}
