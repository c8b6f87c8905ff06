/* recorder: see recorder.h. */
#include "verp/recorder.h"

#include "core/store.h"

struct recorder_req {
	struct store_send *snd;
	const char *rcpt_bound;
	char *token;
	int done;
	GError *error;
};

struct recorder {
	const struct store_config *sc;
	const struct token_keyring *keys;
	GMutex lock;
	GCond done;   /* a batch finished */
	GQueue queue; /* struct recorder_req *, not yet taken by a writer */
	int writing;  /* a caller is writing a batch */
	int stopping;
	struct store *st; /* the writer's, whichever caller that is */
	uint64_t batches, sends;
};

static int
recorder_one(struct store *st, const struct token_keyring *keys,
	     struct recorder_req *q, GError **error)
{
	uint64_t serial;

	if (store_send_next_serial(st, &serial, error) < 0 ||
	    token_mint(keys, q->snd->account, serial, q->snd->created_ms,
		       q->rcpt_bound, q->token, error) < 0)
		return -1;
	q->snd->serial = serial;
	q->snd->token = q->token;
	return store_send_insert(st, q->snd, error);
}

/* One transaction for the requests from..to-1. */
static int
recorder_txn(struct recorder *rc, GPtrArray *batch, guint from, guint to,
	     GError **error)
{
	if (!rc->st && !(rc->st = store_open_config(rc->sc, error)))
		return -1;
	if (store_begin(rc->st, error) < 0)
		goto fail;
	for (guint i = from; i < to; i++)
		if (recorder_one(rc->st, rc->keys, batch->pdata[i], error) < 0)
			goto fail;
	if (store_commit(rc->st, error) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(rc->st);
	/* A fresh connection for the next try. */
	g_clear_pointer(&rc->st, store_close);
	return -1;
}

/* Writes a batch; when it fails as a whole, each request on its own, so
 * that one bad record does not take the others down. */
static void
recorder_write(struct recorder *rc, GPtrArray *batch)
{
	GError *e = NULL;

	if (recorder_txn(rc, batch, 0, batch->len, &e) == 0) {
		rc->batches++;
		return;
	}
	if (batch->len == 1) {
		((struct recorder_req *)batch->pdata[0])->error = e;
		return;
	}
	g_clear_error(&e);
	for (guint i = 0; i < batch->len; i++) {
		struct recorder_req *q = batch->pdata[i];

		if (recorder_txn(rc, batch, i, i + 1, &q->error) == 0)
			rc->batches++;
	}
}

/* The caller is the writer: takes what is queued (its own request first
 * in line or among it), writes it in one transaction and wakes the callers
 * it wrote for. Called and returns with rc->lock held. */
static void
recorder_lead(struct recorder *rc)
{
	GPtrArray *batch = g_ptr_array_sized_new(8);

	rc->writing = 1;
	while (batch->len < RECORDER_BATCH_MAX && !g_queue_is_empty(&rc->queue))
		g_ptr_array_add(batch, g_queue_pop_head(&rc->queue));
	g_mutex_unlock(&rc->lock);
	recorder_write(rc, batch);
	g_mutex_lock(&rc->lock);
	for (guint i = 0; i < batch->len; i++) {
		struct recorder_req *q = batch->pdata[i];

		q->done = 1;
		rc->sends += !q->error;
	}
	rc->writing = 0;
	/* The followers written for, and one that waits to lead the next. */
	g_cond_broadcast(&rc->done);
	g_ptr_array_free(batch, TRUE);
}

struct recorder *
recorder_new(const struct store_config *sc, const struct token_keyring *keys)
{
	struct recorder *rc = g_new0(struct recorder, 1);

	rc->sc = sc;
	rc->keys = keys;
	g_mutex_init(&rc->lock);
	g_cond_init(&rc->done);
	g_queue_init(&rc->queue);
	return rc;
}

void
recorder_free(struct recorder *rc)
{
	if (!rc)
		return;
	g_mutex_lock(&rc->lock);
	rc->stopping = 1;
	while (rc->writing || !g_queue_is_empty(&rc->queue))
		g_cond_wait(&rc->done, &rc->lock);
	g_mutex_unlock(&rc->lock);
	store_close(rc->st);
	g_cond_clear(&rc->done);
	g_mutex_clear(&rc->lock);
	g_free(rc);
}

int
recorder_add(struct recorder *rc, struct store_send *snd,
	     const char *rcpt_bound, char token[TOKEN_LEN + 1], GError **error)
{
	struct recorder_req q = { snd, rcpt_bound, token, 0, NULL };

	g_mutex_lock(&rc->lock);
	if (rc->stopping) {
		g_mutex_unlock(&rc->lock);
		g_set_error(error, STORE_ERROR, STORE_ERR_FAILED,
			    "recorder: stopping");
		return -1;
	}
	g_queue_push_tail(&rc->queue, &q);
	while (!q.done) {
		if (!rc->writing)
			recorder_lead(rc);
		else
			g_cond_wait(&rc->done, &rc->lock);
	}
	g_mutex_unlock(&rc->lock);
	if (q.error) {
		g_propagate_error(error, q.error);
		return -1;
	}
	return 0;
}

int
recorder_add_sync(struct store *st, const struct token_keyring *keys,
		  struct store_send *snd, const char *rcpt_bound,
		  char token[TOKEN_LEN + 1], GError **error)
{
	struct recorder_req q = { snd, rcpt_bound, token, 0, NULL };

	if (store_begin(st, error) < 0)
		return -1;
	if (recorder_one(st, keys, &q, error) < 0 ||
	    store_commit(st, error) < 0) {
		store_rollback(st);
		return -1;
	}
	return 0;
}

void
recorder_stats(struct recorder *rc, uint64_t *batches, uint64_t *sends)
{
	g_mutex_lock(&rc->lock);
	*batches = rc->batches;
	*sends = rc->sends;
	g_mutex_unlock(&rc->lock);
}
