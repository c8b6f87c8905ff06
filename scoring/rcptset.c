/* rcptset: see rcptset.h. */
#include "scoring/rcptset.h"

#include <glib.h>
#include <string.h>

#define LINE_WORDS 8 /* 512 bits */
#define PROBES 6

struct scoring_rcptset {
	uint64_t *gen[2];
	size_t nlines; /* per generation, a power of two */
	int cur;
};

uint64_t
scoring_hash64(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	/* splitmix64's finaliser: FNV alone mixes the high bits poorly. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

struct scoring_rcptset *
scoring_rcptset_new(size_t bytes)
{
	struct scoring_rcptset *s = g_new0(struct scoring_rcptset, 1);
	size_t lines = 64;

	while (lines * LINE_WORDS * 8 < bytes && lines < ((size_t)1 << 40))
		lines <<= 1;
	s->nlines = lines;
	for (int i = 0; i < 2; i++)
		s->gen[i] = g_new0(uint64_t, lines * LINE_WORDS);
	return s;
}

void
scoring_rcptset_free(struct scoring_rcptset *s)
{
	if (!s)
		return;
	g_free(s->gen[0]);
	g_free(s->gen[1]);
	g_free(s);
}

/* The line of a key and, from the other bits, PROBES bit positions in it
 * (9 bits each, drawn from a second mix of the key). */
static int
rcptset_probe(uint64_t *gen, size_t nlines, uint64_t key, int insert)
{
	uint64_t *line = gen + (key & (nlines - 1)) * LINE_WORDS;
	/* The line takes the low bits; the positions come from the rest. */
	uint64_t bits = ((key >> 24) ^ (key << 40)) * 0x9e3779b97f4a7c15ULL;
	int found = 1;

	bits ^= bits >> 29;
	for (int i = 0; i < PROBES; i++) {
		unsigned b = (unsigned)(bits >> (i * 9)) & 511;
		uint64_t m = (uint64_t)1 << (b & 63);

		if (!(line[b >> 6] & m)) {
			found = 0;
			if (!insert)
				return 0;
			line[b >> 6] |= m;
		}
	}
	return found;
}

int
scoring_rcptset_has(const struct scoring_rcptset *s, uint64_t key)
{
	return rcptset_probe(s->gen[s->cur], s->nlines, key, 0) ||
	       rcptset_probe(s->gen[!s->cur], s->nlines, key, 0);
}

int
scoring_rcptset_add(struct scoring_rcptset *s, uint64_t key)
{
	/* Most keys repeat: the current generation answers alone. */
	if (rcptset_probe(s->gen[s->cur], s->nlines, key, 1))
		return 1;
	return rcptset_probe(s->gen[!s->cur], s->nlines, key, 0);
}

void
scoring_rcptset_rotate(struct scoring_rcptset *s)
{
	s->cur = !s->cur;
	memset(s->gen[s->cur], 0, s->nlines * LINE_WORDS * sizeof(uint64_t));
}
