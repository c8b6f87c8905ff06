/* libFuzzer target: a message as the milter reassembles it, through the
 * MIME parse, the content fingerprint and the HTML rewriting (with links
 * and pixel on), over arbitrary bytes. */
#include <libxml/parser.h>
#include <stdint.h>
#include <string.h>

#include "verp/fingerprint.h"
#include "verp/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
fuzz_click(void *ud, const char *href)
{
	return strlen(href) % 3 ? g_strdup("https://t.test/c?u=x") : NULL;
}

static char *
fuzz_pixel(void *ud)
{
	return g_strdup("https://t.test/o.gif");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const struct rewrite_links cb = { fuzz_click, fuzz_pixel, NULL };
	struct rewrite_result res;
	GMimeMessage *msg;
	const char *why;
	int broken;
	char *fp;

	if (!init) {
		g_mime_init();
		xmlInitParser();
		init = 1;
	}
	msg = rewrite_parse((const char *)data, size, &broken, &why);
	fp = fingerprint_message(msg);
	g_free(fp);
	rewrite_message(msg, broken, why, &cb, &res);
	if (res.body) {
		/* What comes out must parse again. */
		GMimeMessage *again =
			rewrite_parse(res.body, res.body_len, &broken, &why);
		g_object_unref(again);
	}
	rewrite_result_clear(&res);
	g_object_unref(msg);
	fp = fingerprint_text((const char *)data, size);
	g_free(fp);
	return 0;
}
