/* libFuzzer target: the configuration loader and every typed getter over
 * arbitrary key-file text. */
#include <stdint.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const choices[] = { "a", "b", NULL };
	struct config *cfg = config_load_data("fuzz.conf", (const char *)data,
					      size, NULL, NULL);
	char **names, **list;

	if (!cfg)
		return 0;
	g_free(config_str(cfg, "s", "str", "d"));
	list = config_list(cfg, "s", "list", "x y");
	g_strfreev(list);
	config_int(cfg, "s", "int", 1, 0, 100);
	config_int(cfg, "s", "neg", 1, -100, 100);
	config_size(cfg, "s", "size", 1, 0, INT64_MAX);
	config_duration_ms(cfg, "s", "dur", 1, 0, INT64_MAX);
	config_bool(cfg, "s", "bool", 0);
	config_enum(cfg, "s", "enum", 0, choices);
	g_free(config_path(cfg, "s", "path", "p"));
	names = config_sections(cfg, "imap");
	for (char **n = names; *n; n++) {
		char *sec = g_strdup_printf("imap:%s", *n);
		config_int(cfg, sec, "port", 143, 1, 65535);
		g_free(sec);
	}
	g_strfreev(names);
	config_finish(cfg, NULL);
	config_free(cfg);
	return 0;
}
