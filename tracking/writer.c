/* tracking/writer: see writer.h. */
#include "tracking/writer.h"

#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "tracking/tracking.h"
#include "verp/keys.h"

/* Sends not found are looked up again after this long: the milter may
 * record a send a moment after its first hit. */
#define WRITER_MISS_TTL_MS 60000
/* Attempts at one batch while stopping before it is given up. */
#define WRITER_STOP_ATTEMPTS 20
#define WRITER_PAUSE_MAX_MS 2000
/* Group commit: at most a commit per WRITER_LINGER_MS, unless that many
 * hits are waiting. Unsubscribes wait for it: keep it short. */
#define WRITER_LINGER_MS 50
#define WRITER_BATCH_ENOUGH 8192
/* How often the checkpointer copies the WAL into the database, and the
 * WAL size (pages, 64 MB) at which the writer does it itself: under a
 * steady stream of commits the WAL can only start over after a checkpoint
 * right after a commit, and that is the writer's; by then the
 * checkpointer has copied (and synced) all but the last moment's. */
#define WRITER_CHECKPOINT_MS 250
#define WRITER_AUTOCHECKPOINT_PAGES 16000
#define WRITER_CACHE_BYTES (32 << 20)

struct writer_send {
	int64_t created_ms; /* -1: no such send */
	int64_t checked_ms;
	unsigned opens; /* WRITER_OPEN_*: known to be in send_opens */
};

/* The kinds of open a send has, as store_hits_add() records them. */
#define WRITER_OPEN_HUMAN 1u
#define WRITER_OPEN_MACHINE 2u

struct tracking_writer {
	const struct tracking_config *tc;
	const struct token_config *tok;
	const struct tracking_rules *rules;
	struct store *st;
	struct store *ckpt_st; /* the checkpointer's, or NULL */
	GThread *thread;
	GThread *checkpointer;

	GMutex lock; /* guards the fields down to commits */
	GCond more;  /* the writer waits for hits */
	GCond done;  /* unsubscribes wait for their commit */
	GCond tick;  /* the checkpointer sleeps on it */
	GPtrArray *pending;
	int stopping;
	uint64_t next_seq;
	uint64_t committed;
	uint64_t commits; /* transactions since the last checkpoint */

	/* The writer thread's own. */
	GHashTable *sends; /* guint64 * -> struct writer_send * */
	struct tracking_bursts *bursts;
	int64_t bursts_expired_ms;

	struct metric *m_depth, *m_commits, *m_committed, *m_dropped;
	struct metric *m_errors, *m_lost, *m_suppressed;
	struct metric *m_events[3][4]; /* [url_kind][tracking_verdict] */
	struct metric *m_opens, *m_forged, *m_expired; /* verified here */
};

/* Copies n bytes of src and a NUL to *p, which moves past them. */
static const char *
hit_copy(char **p, const char *src, size_t n)
{
	char *out = *p;

	if (!src)
		return NULL;
	memcpy(out, src, n);
	out[n] = '\0';
	*p += n + 1;
	return out;
}

struct tracking_hit *
tracking_hit_new(enum url_kind kind, int head, int64_t ts_ms, const char *ip,
		 const char *user_agent, const char *target,
		 const char *recipient)
{
	size_t lu = user_agent ? strnlen(user_agent, TRACKING_UA_MAX) : 0;
	size_t lt = target ? strlen(target) : 0;
	size_t lr = recipient ? strlen(recipient) : 0;
	struct tracking_hit *h = g_malloc0(sizeof(*h) + lu + lt + lr + 3);
	char *p = h->tail;

	h->kind = kind;
	h->head = head;
	h->ts_ms = ts_ms;
	h->since_send_ms = TRACKING_UNKNOWN_TIME;
	h->burst_from_ms = -1;
	g_strlcpy(h->ip, ip ? ip : "", sizeof(h->ip));
	h->user_agent = hit_copy(&p, user_agent, lu);
	h->target = hit_copy(&p, target, lt);
	h->recipient = hit_copy(&p, recipient, lr);
	return h;
}

void
tracking_hit_free(struct tracking_hit *h)
{
	if (!h)
		return;
	g_free(h->rcpt_final);
	g_free(h->dedup);
	g_free(h);
}

static void
writer_metrics(struct tracking_writer *w, struct metrics *m)
{
	w->m_depth = metrics_gauge(m, "fbld_tracking_queue_depth", NULL,
				   "Tracking hits waiting for the writer");
	w->m_commits = metrics_counter(m, "fbld_tracking_commits_total", NULL,
				       "Transactions committed by the "
				       "tracking writer");
	w->m_committed = metrics_counter(m, "fbld_tracking_committed_total",
					 NULL, "Tracking hits committed");
	w->m_dropped = metrics_counter(m, "fbld_tracking_dropped_total", NULL,
				       "Tracking hits dropped: queue full");
	w->m_errors =
		metrics_counter(m, "fbld_tracking_store_errors_total", NULL,
				"Failed tracking commits (retried)");
	w->m_lost = metrics_counter(m, "fbld_tracking_lost_total", NULL,
				    "Tracking hits given up at shutdown");
	w->m_suppressed =
		metrics_counter(m, "fbld_suppressions_added_total", NULL,
				"Recipients added to suppression "
				"lists by unsubscribes");
	/* The same series as the handlers' (tracking/endpoint.c). */
	w->m_opens =
		metrics_counter(m, "fbld_tracking_hits_total", "type=\"open\"",
				"Tracking hits with a good token");
	w->m_forged = metrics_counter(
		m, "fbld_tracking_bad_requests_total",
		"type=\"open\",reason=\"forged\"",
		"Tracking requests not recorded: malformed, forged, expired or "
		"badly signed links");
	w->m_expired =
		metrics_counter(m, "fbld_tracking_bad_requests_total",
				"type=\"open\",reason=\"expired\"", NULL);
	for (int k = 0; k < 3; k++)
		for (int v = 0; v < 4; v++) {
			char *labels = g_strdup_printf(
				"type=\"%s\",verdict=\"%s\"", url_kind_name(k),
				tracking_verdict_name(v));
			w->m_events[k][v] = metrics_counter(
				m, "fbld_tracking_events_total", labels,
				"Engagement events stored, by verdict");
			g_free(labels);
		}
}

struct tracking_writer *
tracking_writer_new(const struct tracking_config *tc,
		    const struct token_config *tok,
		    const struct tracking_rules *rules, struct metrics *m)
{
	struct tracking_writer *w = g_new0(struct tracking_writer, 1);

	w->tc = tc;
	w->tok = tok;
	w->rules = rules;
	g_mutex_init(&w->lock);
	g_cond_init(&w->more);
	g_cond_init(&w->done);
	g_cond_init(&w->tick);
	w->pending = g_ptr_array_new();
	w->sends = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					 g_free);
	w->bursts = tracking_bursts_new(tc->burst_window_ms);
	writer_metrics(w, m);
	return w;
}

void
tracking_writer_free(struct tracking_writer *w)
{
	if (!w)
		return;
	tracking_writer_stop(w);
	/* Pushed after the thread stopped: nothing will store them. */
	if (w->pending->len) {
		log_err("tracking: hits lost=%u pushed after the writer "
			"stopped",
			w->pending->len);
		for (guint i = 0; i < w->pending->len; i++)
			tracking_hit_free(w->pending->pdata[i]);
	}
	g_ptr_array_free(w->pending, TRUE);
	g_hash_table_destroy(w->sends);
	tracking_bursts_free(w->bursts);
	g_mutex_clear(&w->lock);
	g_cond_clear(&w->more);
	g_cond_clear(&w->done);
	g_cond_clear(&w->tick);
	g_free(w);
}

/* ---- classification (writer thread) ----------------------------------- */

/* When the send was recorded, or -1 when there is no such send. */
static int64_t
writer_send_time(struct tracking_writer *w, uint64_t send, int64_t now_ms)
{
	guint64 key = send;
	struct writer_send *s = g_hash_table_lookup(w->sends, &key);
	GError *e = NULL;
	int64_t created = -1;
	int rc;

	if (s &&
	    (s->created_ms >= 0 || now_ms - s->checked_ms < WRITER_MISS_TTL_MS))
		return s->created_ms;
	rc = store_send_created(w->st, send, &created, &e);
	if (rc < 0) {
		log_warn("tracking: send lookup: %s", e->message);
		g_error_free(e);
		return -1; /* not cached: try again next time */
	}
	if (!s) {
		if (g_hash_table_size(w->sends) >= (guint)w->tc->send_cache)
			g_hash_table_remove_all(w->sends);
		s = g_new0(struct writer_send, 1);
		g_hash_table_insert(w->sends, g_memdup2(&key, sizeof(key)), s);
	}
	s->created_ms = rc == 0 ? created : -1;
	s->checked_ms = now_ms;
	return s->created_ms;
}

static void
writer_unsubscribe(struct tracking_writer *w, struct tracking_hit *h)
{
	GError *e = NULL;

	h->verdict.verdict = TRACKING_HUMAN;
	h->verdict.reason = "one-click-post";
	g_snprintf(h->verdict.why, sizeof(h->verdict.why),
		   "an unsubscribe POST (RFC 8058)%s",
		   h->token_stale ? "; the token is past its age but genuine"
				  : "");
	if (h->recipient)
		h->rcpt_final = g_ascii_strdown(h->recipient, -1);
	else if (store_send_single_rcpt(w->st, h->send, &h->rcpt_final, &e) <
		 0) {
		log_warn("tracking: recipient lookup: %s", e->message);
		g_error_free(e);
	}
	h->dedup =
		g_strdup_printf("unsubscribe:%" G_GUINT64_FORMAT ":%s", h->send,
				h->rcpt_final ? h->rcpt_final : "*");
}

static void
writer_burst(struct tracking_writer *w, struct tracking_hit *h)
{
	int64_t from;
	int n = tracking_bursts_add(w->bursts, h->send, h->target, h->ts_ms,
				    &from);

	if (w->tc->burst_links < 2 || n < w->tc->burst_links)
		return;
	h->burst_from_ms = from;
	if (h->verdict.verdict == TRACKING_SCANNER)
		return;
	h->verdict.verdict = TRACKING_SCANNER;
	h->verdict.reason = "link-burst";
	g_snprintf(h->verdict.why, sizeof(h->verdict.why),
		   "%d different links of this message clicked within "
		   "%" G_GINT64_FORMAT " ms",
		   n, w->tc->burst_window_ms);
}

/* An open's token, checked as the handler would have at the time of the
 * request; 0 genuine and current (the hit gets its account and send), -1
 * refused (counted; the hit is not stored). */
static int
writer_verify(struct tracking_writer *w, struct tracking_hit *h)
{
	struct token_fields f;
	enum token_error te = token_verify(w->tok->keys, h->token, TOKEN_LEN,
					   "", h->ts_ms, w->tok->max_age_days,
					   w->tok->future_days, &f, NULL);

	if (te != TOKEN_ERR_NONE) {
		metric_inc(te == TOKEN_ERR_EXPIRED || te == TOKEN_ERR_FUTURE
				   ? w->m_expired
				   : w->m_forged);
		h->refused = 1;
		return -1;
	}
	metric_inc(w->m_opens);
	h->account = f.account;
	h->send = f.serial;
	h->token_day = f.day;
	return 0;
}

/* Finishes what the handler began: an open's token, an unsubscribe's
 * recipient, a hit's timing and link bursts. */
static void
writer_classify(struct tracking_writer *w, struct tracking_hit *h,
		int64_t now_ms)
{
	int64_t created;

	if (h->kind == URL_UNSUBSCRIBE) {
		writer_unsubscribe(w, h);
		return;
	}
	if (h->token[0] && writer_verify(w, h) < 0)
		return;
	created = writer_send_time(w, h->send, now_ms);
	h->since_send_ms =
		created >= 0 ? h->ts_ms - created : TRACKING_UNKNOWN_TIME;
	tracking_classify_timing(w->rules, h->since_send_ms, &h->verdict);
	if (h->kind == URL_CLICK)
		writer_burst(w, h);
}

static unsigned
writer_open_kind(const struct tracking_hit *h)
{
	return tracking_is_machine(h->verdict.verdict) ? WRITER_OPEN_MACHINE
						       : WRITER_OPEN_HUMAN;
}

/* Whether the send's first open of this kind may not be recorded yet:
 * the cache of sends says which are (an entry gone from it only costs a
 * lookup). */
static int
writer_first_open(const struct tracking_writer *w, const struct tracking_hit *h)
{
	guint64 key = h->send;
	const struct writer_send *s;

	if (h->kind != URL_OPEN)
		return 0;
	s = g_hash_table_lookup(w->sends, &key);
	return !s || !(s->opens & writer_open_kind(h));
}

/* After a commit: the opens of the batch are recorded. */
static void
writer_opens_known(struct tracking_writer *w, const struct tracking_hit *h)
{
	guint64 key = h->send;
	struct writer_send *s;

	if (h->kind != URL_OPEN)
		return;
	s = g_hash_table_lookup(w->sends, &key);
	if (s)
		s->opens |= writer_open_kind(h);
}

/* The event of a hit. Its detail: the request's address and agent, the
 * click's target, when it came after the send (unknown without a send
 * record), and for a machine the sentence that says why. */
static void
writer_event(const struct tracking_writer *w, const struct tracking_hit *h,
	     struct store_hit *ev)
{
	int known = h->since_send_ms != TRACKING_UNKNOWN_TIME;
	int machine = tracking_is_machine(h->verdict.verdict);

	*ev = (struct store_hit){
		.ts_ms = h->ts_ms,
		.type = url_kind_name(h->kind),
		.account = h->account,
		.send = h->send,
		.recipient = h->rcpt_final,
		.reason = h->verdict.reason,
		.machine = machine,
		.verdict = tracking_verdict_name(h->verdict.verdict),
		.dedup = h->dedup,
		.why = machine || h->kind == URL_UNSUBSCRIBE ? h->verdict.why
							     : NULL,
		.ip = h->ip[0] ? h->ip : NULL,
		.user_agent = w->tc->store_user_agent ? h->user_agent : NULL,
		.url = h->target,
		.since_send_ms = known ? MAX(h->since_send_ms, 0) : -1,
		.first_open = writer_first_open(w, h),
	};
}

/* What a hit implies beyond its own event: earlier clicks of a link
 * burst become scanner hits, an unsubscribe suppresses its recipient. */
static int
writer_consequences(struct tracking_writer *w, struct tracking_hit *h,
		    GError **error)
{
	char why[160];

	if (h->burst_from_ms >= 0) {
		g_snprintf(why, sizeof(why),
			   "one of several links of this message clicked "
			   "within %" G_GINT64_FORMAT " ms",
			   w->tc->burst_window_ms);
		if (store_hits_reclassify(w->st, h->send, "click",
					  h->burst_from_ms, h->ts_ms, "scanner",
					  "link-burst", why, NULL, error) < 0)
			return -1;
	}
	if (h->kind == URL_UNSUBSCRIBE && h->rcpt_final &&
	    store_suppression_add(w->st, h->account, h->rcpt_final,
				  "unsubscribe", h->ts_ms, &h->suppressed,
				  error) < 0)
		return -1;
	return 0;
}

static int
writer_try(struct tracking_writer *w, GPtrArray *batch, GError **error)
{
	struct store_hit *evs = g_new(struct store_hit, batch->len);
	size_t n = 0;
	int rc = -1;

	for (guint i = 0; i < batch->len; i++)
		if (!((struct tracking_hit *)batch->pdata[i])->refused)
			writer_event(w, batch->pdata[i], &evs[n++]);
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (store_begin(w->st, error) < 0)
		goto out;
	if (store_hits_add(w->st, evs, n, error) < 0)
		goto fail;
	for (guint i = 0; i < batch->len; i++)
		if (!((struct tracking_hit *)batch->pdata[i])->refused &&
		    writer_consequences(w, batch->pdata[i], error) < 0)
			goto fail;
	if (store_commit(w->st, error) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	store_rollback(w->st);
out:
	g_free(evs);
	return rc;
}

static int
writer_stopping(struct tracking_writer *w)
{
	int s;

	g_mutex_lock(&w->lock);
	s = w->stopping;
	g_mutex_unlock(&w->lock);
	return s;
}

/* Commits a batch, retrying while the store fails; 0 stored, -1 lost. */
static int
writer_commit(struct tracking_writer *w, GPtrArray *batch)
{
	int64_t pause_ms = 50;

	for (int attempt = 1;; attempt++) {
		GError *e = NULL;

		if (writer_try(w, batch, &e) == 0) {
			if (attempt > 1)
				log_notice("tracking: store writable again "
					   "hits=%u attempts=%d",
					   batch->len, attempt);
			return 0;
		}
		metric_inc(w->m_errors);
		if (attempt == 1)
			log_err("tracking: commit failed hits=%u: %s "
				"(retrying)",
				batch->len, e->message);
		g_clear_error(&e);
		if (writer_stopping(w) && attempt >= WRITER_STOP_ATTEMPTS) {
			log_err("tracking: store still failing at shutdown, "
				"hits lost=%u",
				batch->len);
			metric_add(w->m_lost, batch->len);
			return -1;
		}
		g_usleep((gulong)pause_ms * 1000);
		pause_ms = MIN(pause_ms * 2, WRITER_PAUSE_MAX_MS);
	}
}

static void
writer_batch(struct tracking_writer *w, GPtrArray *batch)
{
	int64_t now_ms = g_get_real_time() / 1000, newest = 0;

	for (guint i = 0; i < batch->len; i++) {
		struct tracking_hit *h = batch->pdata[i];

		writer_classify(w, h, now_ms);
		newest = MAX(newest, h->ts_ms);
	}
	/* Bursts age by the hits' own clock, once classified. */
	if (newest - w->bursts_expired_ms > w->tc->burst_window_ms) {
		tracking_bursts_expire(w->bursts, newest);
		w->bursts_expired_ms = newest;
	}
	if (writer_commit(w, batch) < 0)
		return;
	metric_inc(w->m_commits);
	for (guint i = 0; i < batch->len; i++) {
		const struct tracking_hit *h = batch->pdata[i];

		if (h->refused)
			continue;
		writer_opens_known(w, h);
		metric_inc(w->m_committed);
		metric_inc(w->m_events[h->kind][h->verdict.verdict]);
		if (h->suppressed)
			metric_inc(w->m_suppressed);
	}
}

/*
 * Lets a batch gather for up to WRITER_LINGER_MS after the last commit
 * (called and returning with the lock held). Each commit rewrites the
 * pages it touched (the table's last page, index leaves) into the WAL:
 * a commit per few hits would write the same pages over and over.
 */
static void
writer_linger(struct tracking_writer *w, gint64 last_us)
{
	gint64 until = last_us + (gint64)WRITER_LINGER_MS * 1000;

	while (!w->stopping && w->pending->len < WRITER_BATCH_ENOUGH &&
	       g_get_monotonic_time() < until)
		g_cond_wait_until(&w->more, &w->lock, until);
}

static gpointer
writer_main(gpointer p)
{
	struct tracking_writer *w = p;
	GPtrArray *batch = g_ptr_array_new(), *t;
	gint64 last_us = 0;

	for (;;) {
		g_mutex_lock(&w->lock);
		while (w->pending->len == 0 && !w->stopping)
			g_cond_wait(&w->more, &w->lock);
		if (w->pending->len == 0) {
			g_mutex_unlock(&w->lock);
			break;
		}
		writer_linger(w, last_us);
		last_us = g_get_monotonic_time();
		t = w->pending;
		w->pending = batch;
		batch = t;
		metric_set(w->m_depth, 0);
		g_mutex_unlock(&w->lock);

		writer_batch(w, batch);

		g_mutex_lock(&w->lock);
		w->committed =
			((struct tracking_hit *)batch->pdata[batch->len - 1])
				->seq;
		w->commits++;
		g_cond_broadcast(&w->done);
		g_mutex_unlock(&w->lock);
		for (guint i = 0; i < batch->len; i++)
			tracking_hit_free(batch->pdata[i]);
		g_ptr_array_set_size(batch, 0);
	}
	g_ptr_array_free(batch, TRUE);
	return NULL;
}

/*
 * A checkpoint copies the WAL into the database and fsyncs it, which on a
 * busy disk takes long: the writer never does it at commit; this thread
 * does, with its own connection, every WRITER_CHECKPOINT_MS while there
 * are commits.
 */
static gpointer
writer_checkpointer(gpointer p)
{
	struct tracking_writer *w = p;

	g_mutex_lock(&w->lock);
	while (!w->stopping) {
		gint64 end = g_get_monotonic_time() +
			     (gint64)WRITER_CHECKPOINT_MS * 1000;
		GError *e = NULL;

		while (!w->stopping &&
		       g_cond_wait_until(&w->tick, &w->lock, end))
			;
		if (w->stopping || w->commits == 0)
			continue;
		w->commits = 0;
		g_mutex_unlock(&w->lock);
		if (store_checkpoint(w->ckpt_st, &e) < 0) {
			log_warn("tracking: checkpoint: %s", e->message);
			g_error_free(e);
		}
		g_mutex_lock(&w->lock);
	}
	g_mutex_unlock(&w->lock);
	return NULL;
}

/* ---- the queue (any thread) ------------------------------------------ */

int
tracking_writer_start(struct tracking_writer *w, struct store *st,
		      struct store *ckpt_st, GError **error)
{
	w->st = st;
	w->ckpt_st = ckpt_st;
	w->stopping = 0;
	if (ckpt_st && store_set_autocheckpoint(st, WRITER_AUTOCHECKPOINT_PAGES,
						error) < 0)
		return -1;
	/* The indexes the hits go into (by send, by account) are read and
	 * rewritten all over: keep them in memory. */
	if (store_set_cache(st, WRITER_CACHE_BYTES, error) < 0)
		return -1;
	w->thread = g_thread_try_new("fbld-tracking", writer_main, w, error);
	if (!w->thread)
		return -1;
	if (ckpt_st) {
		w->checkpointer = g_thread_try_new(
			"fbld-checkpoint", writer_checkpointer, w, error);
		if (!w->checkpointer) {
			tracking_writer_stop(w);
			return -1;
		}
	}
	return 0;
}

uint64_t
tracking_writer_push(struct tracking_writer *w, struct tracking_hit *h,
		     int force)
{
	uint64_t seq;

	g_mutex_lock(&w->lock);
	if (!force && w->pending->len >= (guint)w->tc->queue_max) {
		g_mutex_unlock(&w->lock);
		metric_inc(w->m_dropped);
		tracking_hit_free(h);
		return 0;
	}
	seq = h->seq = ++w->next_seq;
	g_ptr_array_add(w->pending, h);
	/* The writer waits on an empty queue, or lingers on a short one. */
	if (w->pending->len == 1 || w->pending->len == WRITER_BATCH_ENOUGH)
		g_cond_signal(&w->more);
	metric_set(w->m_depth, w->pending->len);
	g_mutex_unlock(&w->lock);
	return seq;
}

int
tracking_writer_wait(struct tracking_writer *w, uint64_t seq,
		     int64_t timeout_ms)
{
	gint64 end = g_get_monotonic_time() + timeout_ms * 1000;
	int ok;

	g_mutex_lock(&w->lock);
	while (w->committed < seq)
		if (!g_cond_wait_until(&w->done, &w->lock, end))
			break;
	ok = w->committed >= seq;
	g_mutex_unlock(&w->lock);
	return ok;
}

void
tracking_writer_stop(struct tracking_writer *w)
{
	if (!w->thread)
		return;
	g_mutex_lock(&w->lock);
	w->stopping = 1;
	g_cond_signal(&w->more);
	g_cond_signal(&w->tick);
	g_mutex_unlock(&w->lock);
	g_thread_join(w->thread);
	w->thread = NULL;
	if (w->checkpointer)
		g_thread_join(w->checkpointer);
	w->checkpointer = NULL;
}
