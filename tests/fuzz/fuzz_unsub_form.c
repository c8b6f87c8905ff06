/* libFuzzer target: the RFC 8058 one-click form, urlencoded and (with the
 * first line as its Content-Type) multipart/form-data through GMime. */
#include <gmime/gmime.h>
#include <stdint.h>
#include <string.h>

#include "tracking/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const char *nl = memchr(data, '\n', size);
	char *ct;

	if (!init) {
		g_mime_init();
		init = 1;
	}
	tracking_form_one_click(NULL, (const char *)data, size);
	if (!nl)
		return 0;
	ct = g_strndup((const char *)data, (size_t)(nl - (const char *)data));
	tracking_form_one_click(ct, nl + 1,
				size - (size_t)(nl + 1 - (const char *)data));
	g_free(ct);
	return 0;
}
