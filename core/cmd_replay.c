/* fbld replay: the scoring engine over a JSON-lines stream of events with
 * a simulated clock (scoring/replay.h, formats in docs/scoring.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/app.h"
#include "scoring/replay.h"

static int
replay_file(struct app *a, const char *file, int stats)
{
	struct scoring_replay_stats st;
	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	int64_t t0 = g_get_monotonic_time();
	GError *e = NULL;
	double secs;
	int rc;

	if (!in) {
		fprintf(stderr, "fbld replay: %s: %s\n", file,
			g_strerror(errno));
		return 1;
	}
	rc = scoring_replay_run(&a->scoring, in, file, stdout, &st, &e);
	if (in != stdin)
		fclose(in);
	if (fflush(stdout) != 0 && rc == 0) {
		fprintf(stderr, "fbld replay: writing: %s\n",
			g_strerror(errno));
		return 1;
	}
	if (rc < 0) {
		fprintf(stderr, "fbld replay: %s\n", e->message);
		g_error_free(e);
		return 1;
	}
	secs = (double)(g_get_monotonic_time() - t0) / 1e6;
	if (stats) {
		struct rusage ru;
		double cpu;

		getrusage(RUSAGE_SELF, &ru);
		cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		      (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
		fprintf(stderr,
			"fbld replay: %" G_GINT64_FORMAT " events, "
			"%" G_GINT64_FORMAT " changes in %.2f s "
			"(%.0f events/s), %.2f s of CPU (%.0f events/s)\n",
			st.events, st.changes, secs,
			secs > 0 ? (double)st.events / secs : 0, cpu,
			cpu > 0 ? (double)st.events / cpu : 0);
	}
	return 0;
}

int
cmd_replay(int argc, char **argv)
{
	struct app_opts o = { 0 };
	struct app a;
	gboolean stats = FALSE;
	GOptionEntry entries[] = {
		{ "stats", 0, 0, G_OPTION_ARG_NONE, &stats,
		  "Print the number of events and the rate to stderr", NULL },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new(
		"EVENTS.jsonl|- - replay events through scoring");
	GError *e = NULL;
	int rc = 2;
	static char buf[1 << 16];

	g_option_context_set_description(
		ctx, "Reads one JSON event per line, in time order, drives the "
		     "scoring engine\nwith a simulated clock and prints one "
		     "JSON line per state change.\nSee docs/scoring.md.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	app_add_options(ctx, &o);
	if (app_parse_options(ctx, &argc, &argv) < 0)
		goto out;
	if (argc != 2) {
		fprintf(stderr,
			"fbld replay: one input file (or -) expected\n");
		goto out;
	}
	if (app_load(&a, &o, 0, &e) < 0) {
		fprintf(stderr, "fbld replay: %s\n", e->message);
		g_error_free(e);
		rc = 1;
		goto out;
	}
	setvbuf(stdout, buf, _IOFBF, sizeof(buf));
	rc = replay_file(&a, argv[1], stats);
	app_clear(&a);
out:
	g_option_context_free(ctx);
	app_opts_clear(&o);
	return rc;
}
