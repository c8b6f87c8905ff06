/* libFuzzer target: what the admin API takes from its clients as text
 * (override expiries and report starts: accounts_parse_until/since) and
 * the renderers for people over JSON documents of any shape (digest and
 * alert mails, `fbld accounts show`, `fbld report`): none may crash or
 * read out of bounds, whatever the members hold. */
#include <gmime/gmime.h>
#include <stdint.h>
#include <string.h>

#include "scoring/accounts.h"
#include "scoring/digest.h"
#include "scoring/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_render(JsonObject *o)
{
	const char *to[] = { "a@example.org", NULL };
	struct digest_envelope env = { "f@example.org", to, "m@x", 0 };
	char *s;

	s = digest_message(o, &env);
	g_free(s);
	s = render_account(o);
	g_free(s);
	s = render_report(o);
	g_free(s);
	s = render_accounts_list(o);
	g_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	char *s = g_strndup((const char *)data, size);
	JsonNode *n;
	int64_t v;

	if (!init) {
		g_mime_init();
		init = 1;
	}
	accounts_parse_until(s, INT64_C(1767225600000), &v, NULL);
	accounts_parse_since(s, INT64_C(1767225600000), &v, NULL);
	n = json_from_string(s, NULL);
	if (n && JSON_NODE_HOLDS_OBJECT(n))
		fuzz_render(json_node_get_object(n));
	if (n)
		json_node_unref(n);
	g_free(s);
	return 0;
}
