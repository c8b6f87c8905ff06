/* pickup: see pickup.h. */
#include "core/pickup.h"

#include "core/ingest.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/spool.h"
#include "core/store.h"

struct pickup {
	char *dir;
	unsigned batch;
	struct store *st;
	struct ingest *in;
	struct metrics *m;
	struct metric *stored, *dups, *truncated, *errors;
};

struct pickup *
pickup_new(const struct spool_config *sc, struct store *st, struct ingest *in,
	   struct metrics *m)
{
	struct pickup *p = g_new0(struct pickup, 1);

	p->dir = g_strdup(sc->dir);
	p->batch = (unsigned)sc->batch;
	p->st = st;
	p->in = in;
	p->m = m;
	p->stored = metrics_counter(m, "fbld_spool_messages_total",
				    "result=\"stored\"",
				    "Messages taken from the spool");
	p->dups = metrics_counter(m, "fbld_spool_messages_total",
				  "result=\"duplicate\"", NULL);
	p->truncated = metrics_counter(m, "fbld_spool_messages_total",
				       "result=\"truncated\"", NULL);
	p->errors = metrics_counter(m, "fbld_spool_errors_total", NULL,
				    "Spool runs that failed to commit");
	return p;
}

void
pickup_free(struct pickup *p)
{
	if (!p)
		return;
	g_free(p->dir);
	g_free(p);
}

/* Stores one spool file inside the open transaction; 1 when the file is
 * done (stored, duplicate, or vanished), -1 on a store failure. */
static int
pickup_one(struct pickup *p, const char *name, int64_t now_ms, GError **error)
{
	struct spool_meta meta;
	struct ingest_message m = { .source = "spool", .received_ms = now_ms };
	char *data = NULL;
	size_t len = 0;
	int64_t id;
	int dup;
	const char *kind;
	GError *e = NULL;

	if (spool_read(p->dir, name, &data, &len, &meta, &e) < 0) {
		/* Gone (another pickup took it) or unreadable: leave it and
		 * say so; it is not ours to delete. */
		log_warn("pickup: cannot read spool file=%s: %s", name,
			 e->message);
		g_error_free(e);
		return 0;
	}
	m.raw = data;
	m.len = len;
	m.orig_size = meta.orig_size;
	m.truncated = meta.truncated;
	if (ingest_store(p->in, p->st, &m, &id, &dup, &kind, error) < 0) {
		g_free(data);
		return -1;
	}
	log_debug("pickup: stored file=%s report=%" G_GINT64_FORMAT
		  " size=%zu kind=%s dup=%d",
		  name, id, len, kind, dup);
	metric_inc(dup ? p->dups : p->stored);
	if (meta.truncated)
		metric_inc(p->truncated);
	g_free(data);
	return 1;
}

int
pickup_run(struct pickup *p, int64_t now_ms, GError **error)
{
	char **names = spool_list(p->dir, p->batch, error);
	GPtrArray *done;
	int n = 0;

	if (!names)
		return -1;
	if (!names[0]) {
		g_strfreev(names);
		return 0;
	}
	done = g_ptr_array_new();
	if (store_begin(p->st, error) < 0)
		goto fail;
	for (char **nm = names; *nm; nm++) {
		int r = pickup_one(p, *nm, now_ms, error);
		if (r < 0) {
			store_rollback(p->st);
			goto fail;
		}
		if (r > 0)
			g_ptr_array_add(done, *nm);
	}
	if (store_commit(p->st, error) < 0) {
		store_rollback(p->st);
		goto fail;
	}
	/* Committed: now, and only now, the files may go. */
	for (guint i = 0; i < done->len; i++) {
		GError *e = NULL;
		if (spool_remove(p->dir, done->pdata[i], &e) < 0) {
			log_err("pickup: %s", e->message);
			g_error_free(e);
		}
	}
	spool_sync(p->dir, NULL);
	n = (int)done->len;
	g_ptr_array_free(done, TRUE);
	g_strfreev(names);
	return n;
fail:
	metric_inc(p->errors);
	g_ptr_array_free(done, TRUE);
	g_strfreev(names);
	return -1;
}
