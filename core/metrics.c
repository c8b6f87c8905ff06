/* metrics: see metrics.h. */
#include "core/metrics.h"

#include <stdatomic.h>
#include <string.h>

struct metric {
	char *name;
	char *labels;
	char *help;
	int gauge;
	_Atomic int64_t value;
};

struct metrics {
	GMutex lock;
	GPtrArray *series; /* struct metric *, in registration order */
};

static void
metric_free(gpointer p)
{
	struct metric *c = p;

	g_free(c->name);
	g_free(c->labels);
	g_free(c->help);
	g_free(c);
}

struct metrics *
metrics_new(void)
{
	struct metrics *m = g_new0(struct metrics, 1);

	g_mutex_init(&m->lock);
	m->series = g_ptr_array_new_with_free_func(metric_free);
	return m;
}

void
metrics_free(struct metrics *m)
{
	if (!m)
		return;
	g_ptr_array_free(m->series, TRUE);
	g_mutex_clear(&m->lock);
	g_free(m);
}

static struct metric *
metrics_get(struct metrics *m, const char *name, const char *labels,
	    const char *help, int gauge)
{
	struct metric *c = NULL;

	g_mutex_lock(&m->lock);
	for (guint i = 0; i < m->series->len; i++) {
		struct metric *x = m->series->pdata[i];
		if (strcmp(x->name, name) == 0 &&
		    g_strcmp0(x->labels, labels) == 0) {
			c = x;
			break;
		}
	}
	if (!c) {
		c = g_new0(struct metric, 1);
		c->name = g_strdup(name);
		c->labels = g_strdup(labels);
		c->help = g_strdup(help);
		c->gauge = gauge;
		g_ptr_array_add(m->series, c);
	}
	g_mutex_unlock(&m->lock);
	return c;
}

struct metric *
metrics_counter(struct metrics *m, const char *name, const char *labels,
		const char *help)
{
	return metrics_get(m, name, labels, help, 0);
}

struct metric *
metrics_gauge(struct metrics *m, const char *name, const char *labels,
	      const char *help)
{
	return metrics_get(m, name, labels, help, 1);
}

void
metric_add(struct metric *c, int64_t n)
{
	atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void
metric_set(struct metric *g, int64_t v)
{
	atomic_store_explicit(&g->value, v, memory_order_relaxed);
}

int64_t
metric_get(const struct metric *c)
{
	return atomic_load_explicit(&((struct metric *)c)->value,
				    memory_order_relaxed);
}

char *
metrics_render(struct metrics *m)
{
	GString *out = g_string_sized_new(4096);
	GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);

	g_mutex_lock(&m->lock);
	for (guint i = 0; i < m->series->len; i++) {
		struct metric *c = m->series->pdata[i];

		/* HELP and TYPE once per name, then every series of it. */
		if (g_hash_table_contains(done, c->name))
			continue;
		g_hash_table_add(done, c->name);
		g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n",
				       c->name, c->help ? c->help : c->name,
				       c->name, c->gauge ? "gauge" : "counter");
		for (guint j = i; j < m->series->len; j++) {
			struct metric *s = m->series->pdata[j];
			if (strcmp(s->name, c->name) != 0)
				continue;
			if (s->labels)
				g_string_append_printf(out, "%s{%s} ", s->name,
						       s->labels);
			else
				g_string_append_printf(out, "%s ", s->name);
			g_string_append_printf(out, "%" G_GINT64_FORMAT "\n",
					       metric_get(s));
		}
	}
	g_mutex_unlock(&m->lock);
	g_hash_table_destroy(done);
	return g_string_free(out, FALSE);
}
