/*
 * metrics: counters and gauges, rendered in the Prometheus text format
 * (version 0.0.4) for GET /metrics.
 *
 * A struct metrics is created by main and passed to whoever counts; a
 * struct metric handle stays valid until metrics_free(). Updates are
 * lock-free atomics, safe from any thread; registration takes a lock and
 * is meant for start-up. A name with labels is one series: register
 * ("fbld_reports_total", "kind=\"dsn\"") and ("fbld_reports_total",
 * "kind=\"arf\"") separately.
 */
#ifndef FBLD_METRICS_H
#define FBLD_METRICS_H

#include <glib.h>
#include <stdint.h>

struct metrics;
struct metric;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Returns the series, creating it on first use (same name and labels give
 * the same handle). labels may be NULL. */
struct metric *metrics_counter(struct metrics *m, const char *name,
			       const char *labels, const char *help);
struct metric *metrics_gauge(struct metrics *m, const char *name,
			     const char *labels, const char *help);

void metric_add(struct metric *c, int64_t n);
#define metric_inc(c) metric_add((c), 1)
void metric_set(struct metric *g, int64_t v);
int64_t metric_get(const struct metric *c);

/* The whole exposition text; caller frees. */
char *metrics_render(struct metrics *m);

#endif
