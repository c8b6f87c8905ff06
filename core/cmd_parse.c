/*
 * fbld parse: classify messages offline (no daemon, no database) and print
 * one JSON object per input on one line, in input order
 * (../shared/formats.md). Exit 0 when every input was read.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/app.h"
#include "core/ingest.h"

static int
parse_read_stdin(char **data, size_t *len)
{
	GString *buf = g_string_sized_new(65536);
	char chunk[65536];
	ssize_t n;

	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0)
		g_string_append_len(buf, chunk, n);
	if (n < 0) {
		g_string_free(buf, TRUE);
		return -1;
	}
	*len = buf->len;
	*data = g_string_free(buf, FALSE);
	return 0;
}

static int
parse_one(struct ingest *in, struct report_printer *pr, const char *file)
{
	char *data = NULL;
	const char *line;
	size_t len = 0, line_len;
	GError *e = NULL;
	struct report *r;

	if (strcmp(file, "-") == 0) {
		if (parse_read_stdin(&data, &len) < 0) {
			fprintf(stderr, "fbld parse: -: cannot read stdin\n");
			return -1;
		}
	} else if (!g_file_get_contents(file, &data, &len, &e)) {
		fprintf(stderr, "fbld parse: %s\n", e->message);
		g_error_free(e);
		return -1;
	}
	r = ingest_classify(in, data, len);
	line = report_printer_line(pr, r, file, &line_len);
	fwrite(line, 1, line_len, stdout);
	fputc('\n', stdout);
	report_free(r);
	g_free(data);
	return 0;
}

int
cmd_parse(int argc, char **argv)
{
	struct app_opts o = { 0 };
	struct app a;
	GOptionContext *ctx = g_option_context_new("FILE... | -");
	struct ingest *in;
	struct report_printer *pr;
	GError *e = NULL;
	int rc = 0;

	g_option_context_set_summary(
		ctx, "Classify bounces, complaints, DMARC reports and "
		     "auto-replies offline and\nprint one JSON object per "
		     "message (JSON Lines), in input order.");
	g_option_context_set_description(
		ctx,
		"Tokens are verified with the configured keys. Exit 0 when "
		"every input was\nread, even if some are not feedback; 1 "
		"when an input could not be read.");
	app_add_options(ctx, &o);
	if (app_parse_options(ctx, &argc, &argv) < 0) {
		g_option_context_free(ctx);
		return 2;
	}
	g_option_context_free(ctx);
	if (argc < 2) {
		fprintf(stderr, "fbld parse: name at least one FILE, or - for "
				"stdin\n");
		app_opts_clear(&o);
		return 2;
	}
	if (app_load(&a, &o, 0, &e) < 0) {
		fprintf(stderr, "fbld parse: %s\n", e->message);
		g_error_free(e);
		app_opts_clear(&o);
		return 1;
	}
	in = app_ingest(&a);
	pr = report_printer_new();
	for (int i = 1; i < argc; i++)
		if (parse_one(in, pr, argv[i]) < 0)
			rc = 1;
	fflush(stdout);
	report_printer_free(pr);
	ingest_free(in);
	app_clear(&a);
	app_opts_clear(&o);
	return rc;
}
