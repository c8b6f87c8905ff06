/* libFuzzer target: `fbld replay` input. Each input is a stream of lines:
 * every line goes through the strict scanner and, separately, through
 * json-glib alone, and the two must agree whenever the scanner takes a
 * line; then the whole stream is replayed through the engine. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring/params.h"
#include "scoring/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void
compare(const struct scoring_replay_rec *a, const struct scoring_replay_rec *b)
{
	if (a->ts_ms != b->ts_ms || !same(a->type, b->type) ||
	    !same(a->account, b->account) || !same(a->message, b->message) ||
	    !same(a->recipient, b->recipient) || !same(a->reason, b->reason) ||
	    !same(a->klass, b->klass) ||
	    !same(a->fingerprint, b->fingerprint) ||
	    !same(a->state, b->state) || a->machine != b->machine ||
	    a->tracked != b->tracked || a->until_ms != b->until_ms ||
	    a->has_state != b->has_state)
		abort(); /* the scanner read the line differently */
}

static void
check_line(struct scoring_replay_parser *p1, struct scoring_replay_parser *p2,
	   const char *line, size_t len)
{
	char *a = g_strndup(line, len), *b = g_strndup(line, len);
	struct scoring_replay_rec ra, rb;
	int fast = 0, r1, r2;

	r1 = scoring_replay_parse(p1, a, len, 0, &ra, &fast, NULL);
	r2 = scoring_replay_parse(p2, b, len, SCORING_REPLAY_JSON_ONLY, &rb,
				  NULL, NULL);
	/* Lines with NUL bytes are cut differently by the two. */
	if (fast && !memchr(line, '\0', len)) {
		if (r1 != r2)
			abort();
		if (r1 == 0)
			compare(&ra, &rb);
	}
	g_free(a);
	g_free(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scoring_params params;
	static int init;
	struct scoring_replay_parser *p1, *p2;
	struct scoring_replay_stats st;
	const char *s = (const char *)data, *end = s + size;
	FILE *in, *out;

	if (!init) {
		scoring_params_default(&params);
		params.rcpt_filter_bytes = 1 << 16;
		scoring_params_fit(&params);
		init = 1;
	}
	p1 = scoring_replay_parser_new();
	p2 = scoring_replay_parser_new();
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

		check_line(p1, p2, s, len);
		s += len + 1;
	}
	scoring_replay_parser_free(p1);
	scoring_replay_parser_free(p2);
	in = fmemopen((void *)data, size ? size : 1, "r");
	out = fopen("/dev/null", "w");
	if (in && out && size)
		scoring_replay_run(&params, in, "fuzz", out, &st, NULL);
	if (in)
		fclose(in);
	if (out)
		fclose(out);
	return 0;
}
