/*
 * A driver that feeds files to a libFuzzer target without libFuzzer: `make
 * check` builds every target with it (gcc, ASan, UBSan) and replays the
 * saved corpus and past crashers in tests/fuzz/corpus/TARGET/.
 */
#include <dirent.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	char *data;
	gsize len;

	if (!g_file_get_contents(path, &data, &len, NULL)) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	g_free(data);
	return 0;
}

int
main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		GDir *d = g_dir_open(argv[i], 0, NULL);
		const char *name;

		if (!d) {
			if (replay_file(argv[i]) < 0)
				return 1;
			n++;
			continue;
		}
		while ((name = g_dir_read_name(d)) != NULL) {
			char *p = g_build_filename(argv[i], name, NULL);
			if (!g_file_test(p, G_FILE_TEST_IS_DIR)) {
				if (replay_file(p) < 0)
					return 1;
				n++;
			}
			g_free(p);
		}
		g_dir_close(d);
	}
	printf("replay: %d inputs, no crash\n", n);
	return 0;
}
