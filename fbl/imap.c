/* imap: see imap.h. The glue between an IMAP folder and the store. */
#include "fbl/imap.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/ingest.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "fbl/imap_session.h"

/* At most this many messages are listed, and fetched bytes per batch. */
#define IMAP_LIST_MAX 10000
#define IMAP_FETCH_BYTES_MAX (32 * 1024 * 1024)
#define IMAP_RETRY_MIN_MS 1000
/* How long stop() lets a network call finish before cancelling it. */
#define IMAP_STOP_GRACE_MS 2000

/* ---- configuration ------------------------------------------------------ */

static void
imap_mailbox_free(gpointer p)
{
	struct imap_mailbox *mb = p;

	g_free(mb->name);
	g_free(mb->host);
	g_free(mb->ca_file);
	g_free(mb->user);
	if (mb->password)
		memset(mb->password, 0, strlen(mb->password));
	g_free(mb->password);
	g_free(mb->folder);
	g_free(mb->processed_folder);
	g_free(mb->failed_folder);
	g_free(mb);
}

static void
imap_mailbox_check(struct config *cfg, const char *sec, struct imap_mailbox *mb)
{
	if (strspn(mb->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"
			     "VWXYZ0123456789._-") != strlen(mb->name))
		config_error(cfg, sec, NULL,
			     "a mailbox name uses only letters, digits, '.', "
			     "'_' and '-'");
	if (!mb->host)
		config_error(cfg, sec, "host", "required");
	if (!mb->user)
		config_error(cfg, sec, "user", "required");
	if (strcmp(mb->folder, mb->processed_folder) == 0 ||
	    strcmp(mb->folder, mb->failed_folder) == 0)
		config_error(cfg, sec, "folder",
			     "must differ from processed_folder and "
			     "failed_folder");
}

static struct imap_mailbox *
imap_mailbox_load(struct config *cfg, const char *name)
{
	static const char *const modes[] = { "imaps", "starttls", "none",
					     NULL };
	struct imap_mailbox *mb = g_new0(struct imap_mailbox, 1);
	char *sec = g_strdup_printf("imap:%s", name);

	mb->name = g_strdup(name);
	mb->host = config_str(cfg, sec, "host", NULL);
	mb->tls = (enum imap_tls)config_enum(cfg, sec, "tls", 0, modes);
	mb->port = (int)config_int(cfg, sec, "port",
				   mb->tls == IMAP_TLS_IMAPS ? 993 : 143, 1,
				   65535);
	mb->tls_verify = config_bool(cfg, sec, "tls_verify", 1);
	mb->ca_file = config_path(cfg, sec, "ca_file", NULL);
	mb->user = config_str(cfg, sec, "user", NULL);
	mb->password = config_secret(cfg, sec, "password_file", 1);
	mb->folder = config_str(cfg, sec, "folder", "INBOX");
	mb->processed_folder =
		config_str(cfg, sec, "processed_folder", "Processed");
	mb->failed_folder = config_str(cfg, sec, "failed_folder", "Failed");
	mb->idle = config_bool(cfg, sec, "idle", 1);
	/* RFC 2177: servers may drop an IDLE after 30 minutes. */
	mb->idle_refresh_ms = config_duration_ms(cfg, sec, "idle_refresh",
						 5 * 60000, 1000, 29 * 60000);
	mb->poll_interval_ms = config_duration_ms(cfg, sec, "poll_interval",
						  60000, 100, 86400000);
	mb->timeout_ms =
		config_duration_ms(cfg, sec, "timeout", 60000, 1000, 600000);
	mb->batch = config_int(cfg, sec, "batch", 200, 1, 10000);
	mb->max_message_size = config_size(cfg, sec, "max_message_size",
					   10 << 20, 4096, (int64_t)1 << 30);
	mb->retry_max_ms = config_duration_ms(cfg, sec, "retry_max", 300000,
					      IMAP_RETRY_MIN_MS, 86400000);
	imap_mailbox_check(cfg, sec, mb);
	g_free(sec);
	return mb;
}

void
imap_config_load(struct config *cfg, struct imap_config *out)
{
	char **names = config_sections(cfg, "imap");

	out->mailboxes = g_ptr_array_new_with_free_func(imap_mailbox_free);
	for (char **n = names; *n; n++)
		g_ptr_array_add(out->mailboxes, imap_mailbox_load(cfg, *n));
	g_strfreev(names);
}

void
imap_config_clear(struct imap_config *ic)
{
	if (ic->mailboxes)
		g_ptr_array_free(ic->mailboxes, TRUE);
	ic->mailboxes = NULL;
}

/* ---- the poller --------------------------------------------------------- */

struct imap_poller {
	const struct imap_mailbox *mb;
	const struct store_config *sc;
	struct ingest *in;
	char *source; /* "imap:NAME", the reports' source */
	GThread *thread;
	int wake[2];
	atomic_int stopping;
	GMutex lock; /* guards session (for cancel) and exited */
	GCond exited_cond;
	int exited;
	struct imap_session *session;
	struct store *st;
	uint32_t uidvalidity;
	int64_t backoff_ms;
	struct metric *processed, *failed, *dups, *errors, *connected;
};

/* What became of one message of a batch. */
struct imap_outcome {
	GArray *done;	/* uint32_t UIDs understood */
	GArray *failed; /* uint32_t UIDs not understood */
	unsigned stored, dups;
};

static struct metric *
imap_counter(struct metrics *m, const char *name, const char *mb,
	     const char *result, const char *help)
{
	char *labels = result ? g_strdup_printf("mailbox=\"%s\",result=\"%s\"",
						mb, result)
			      : g_strdup_printf("mailbox=\"%s\"", mb);
	struct metric *c = metrics_counter(m, name, labels, help);

	g_free(labels);
	return c;
}

struct imap_poller *
imap_poller_new(const struct imap_mailbox *mb, const struct store_config *sc,
		struct ingest *in, struct metrics *m)
{
	struct imap_poller *p = g_new0(struct imap_poller, 1);
	char *labels = g_strdup_printf("mailbox=\"%s\"", mb->name);

	p->mb = mb;
	p->sc = sc;
	p->in = in;
	p->source = g_strdup_printf("imap:%s", mb->name);
	p->wake[0] = p->wake[1] = -1;
	g_mutex_init(&p->lock);
	g_cond_init(&p->exited_cond);
	p->processed =
		imap_counter(m, "fbld_imap_messages_total", mb->name,
			     "processed", "Messages taken from IMAP mailboxes");
	p->failed = imap_counter(m, "fbld_imap_messages_total", mb->name,
				 "failed", NULL);
	p->dups = imap_counter(m, "fbld_imap_messages_total", mb->name,
			       "duplicate", NULL);
	p->errors = imap_counter(m, "fbld_imap_errors_total", mb->name, NULL,
				 "IMAP connection, server or store errors");
	p->connected = metrics_gauge(m, "fbld_imap_connected", labels,
				     "1 while logged in to the mailbox");
	g_free(labels);
	return p;
}

void
imap_poller_free(struct imap_poller *p)
{
	if (!p)
		return;
	if (p->wake[0] >= 0) {
		close(p->wake[0]);
		close(p->wake[1]);
	}
	g_mutex_clear(&p->lock);
	g_cond_clear(&p->exited_cond);
	g_free(p->source);
	g_free(p);
}

static int
imap_stopping(struct imap_poller *p)
{
	return atomic_load(&p->stopping);
}

/* Sleeps up to ms, or until stop(); 1 when stopping. */
static int
imap_sleep(struct imap_poller *p, int64_t ms)
{
	struct pollfd pfd = { .fd = p->wake[0], .events = POLLIN };

	if (!imap_stopping(p))
		poll(&pfd, 1, (int)MIN(ms, G_MAXINT));
	return imap_stopping(p);
}

/* The stored verdict on a report: understood or not. */
struct imap_verdict {
	int failed;
	char kind[32];
};

static void
imap_row_verdict(void *ud, const struct store_report_row *row)
{
	struct imap_verdict *v = ud;

	g_strlcpy(v->kind, row->kind ? row->kind : "?", sizeof(v->kind));
	v->failed = !row->kind || strcmp(row->kind, "not-feedback") == 0 ||
		    strcmp(row->kind, "unclassified") == 0 || row->error;
}

/* Stores one fetched message inside the open transaction. */
static int
imap_store_one(struct imap_poller *p, const struct imap_msg *msg,
	       int64_t now_ms, struct imap_outcome *o, GError **error)
{
	struct ingest_message m = {
		.source = p->source,
		.raw = msg->data,
		.len = msg->len,
		.orig_size = MAX((int64_t)msg->size, (int64_t)msg->len),
		.truncated = msg->size > msg->len &&
			     msg->len >= (size_t)p->mb->max_message_size,
		.received_ms = now_ms,
	};
	struct imap_verdict v = { .failed = 1 };
	int64_t id;
	int dup;

	if (ingest_store(p->in, p->st, &m, &id, &dup, NULL, error) < 0)
		return -1;
	/* For a duplicate too: the first time decided where it belongs. */
	if (store_report_list(p->st, id, NULL, 1, 0, imap_row_verdict, &v,
			      error) < 0)
		return -1;
	log_debug("imap: stored mailbox=%s uid=%u report=%" G_GINT64_FORMAT
		  " kind=%s dup=%d failed=%d",
		  p->mb->name, msg->uid, id, v.kind, dup, v.failed);
	g_array_append_val(v.failed ? o->failed : o->done, msg->uid);
	if (dup)
		o->dups++;
	else
		o->stored++;
	return 0;
}

/* Stores a batch in one transaction; nothing is moved before the commit. */
static int
imap_store_batch(struct imap_poller *p, GPtrArray *msgs, struct imap_outcome *o,
		 GError **error)
{
	int64_t now_ms = g_get_real_time() / 1000;
	uint32_t top = 0;

	if (store_begin(p->st, error) < 0)
		return -1;
	for (guint i = 0; i < msgs->len; i++) {
		const struct imap_msg *msg = msgs->pdata[i];

		if (imap_store_one(p, msg, now_ms, o, error) < 0)
			goto fail;
		top = MAX(top, msg->uid);
	}
	if (store_mailbox_set(p->st, p->source, p->uidvalidity, top, o->stored,
			      now_ms, error) < 0 ||
	    store_commit(p->st, error) < 0)
		goto fail;
	return 0;
fail:
	store_rollback(p->st);
	return -1;
}

/* Fetches, stores and moves one batch of UIDs. */
static int
imap_batch(struct imap_poller *p, const uint32_t *uids, unsigned n,
	   GError **error)
{
	struct imap_outcome o = {
		.done = g_array_new(FALSE, FALSE, sizeof(uint32_t)),
		.failed = g_array_new(FALSE, FALSE, sizeof(uint32_t)),
	};
	int64_t t0 = g_get_monotonic_time(), t1, t2;
	GPtrArray *msgs = imap_session_fetch(
		p->session, uids, n, (uint32_t)p->mb->max_message_size, error);
	int rc = -1;

	if (!msgs)
		goto out;
	t1 = g_get_monotonic_time();
	if (imap_store_batch(p, msgs, &o, error) < 0)
		goto out;
	t2 = g_get_monotonic_time();
	metric_add(p->processed, o.done->len);
	metric_add(p->failed, o.failed->len);
	metric_add(p->dups, o.dups);
	/* Committed: now, and only now, the messages may leave the folder. */
	if (imap_session_move(p->session, (uint32_t *)o.done->data, o.done->len,
			      p->mb->processed_folder, error) < 0 ||
	    imap_session_move(p->session, (uint32_t *)o.failed->data,
			      o.failed->len, p->mb->failed_folder, error) < 0)
		goto out;
	log_info("imap: batch mailbox=%s stored=%u duplicates=%u "
		 "processed=%u failed=%u fetch_ms=%" G_GINT64_FORMAT
		 " store_ms=%" G_GINT64_FORMAT " move_ms=%" G_GINT64_FORMAT,
		 p->mb->name, o.stored, o.dups, o.done->len, o.failed->len,
		 (t1 - t0) / 1000, (t2 - t1) / 1000,
		 (g_get_monotonic_time() - t2) / 1000);
	if (o.failed->len)
		log_notice("imap: not understood mailbox=%s messages=%u "
			   "moved_to=%s",
			   p->mb->name, o.failed->len, p->mb->failed_folder);
	rc = 0;
out:
	if (msgs)
		g_ptr_array_free(msgs, TRUE);
	g_array_free(o.done, TRUE);
	g_array_free(o.failed, TRUE);
	return rc;
}

/* The next batch from list[*at]: up to batch messages and
 * IMAP_FETCH_BYTES_MAX bytes (at least one message). */
static unsigned
imap_next_batch(struct imap_poller *p, GArray *list, guint *at, uint32_t *uids)
{
	unsigned n = 0;
	int64_t bytes = 0;

	while (*at < list->len && n < (unsigned)p->mb->batch) {
		const struct imap_msg_info *mi =
			&g_array_index(list, struct imap_msg_info, *at);
		int64_t sz = MIN((int64_t)mi->size, p->mb->max_message_size);

		if (n > 0 && bytes + sz > IMAP_FETCH_BYTES_MAX)
			break;
		bytes += sz;
		uids[n++] = mi->uid;
		(*at)++;
	}
	return n;
}

/*
 * Empties the folder: lists it, handles it in batches, and lists again
 * (mail that arrived meanwhile was announced during our own commands, so
 * IDLE would not announce it again). Stops when a listing shows only
 * UIDs already handled in this call: they could not be moved, and will be
 * retried after the next wait.
 */
static int
imap_drain(struct imap_poller *p, GError **error)
{
	GHashTable *seen = g_hash_table_new(NULL, NULL);
	uint32_t *uids = g_new(uint32_t, p->mb->batch);
	int rc = 0, fresh = 1;

	while (fresh && rc == 0 && !imap_stopping(p)) {
		GArray *list =
			imap_session_list(p->session, IMAP_LIST_MAX, error);
		guint at = 0;
		unsigned n;

		if (!list) {
			rc = -1;
			break;
		}
		fresh = 0;
		for (guint i = 0; i < list->len; i++) {
			uint32_t uid =
				g_array_index(list, struct imap_msg_info, i)
					.uid;
			if (g_hash_table_add(seen, GUINT_TO_POINTER(uid)))
				fresh = 1;
		}
		while (fresh && rc == 0 && !imap_stopping(p) &&
		       (n = imap_next_batch(p, list, &at, uids)) > 0)
			rc = imap_batch(p, uids, n, error);
		g_array_free(list, TRUE);
	}
	g_free(uids);
	g_hash_table_destroy(seen);
	return rc;
}

/* Logs in, selects the folder and notes a UIDVALIDITY change. */
static int
imap_begin(struct imap_poller *p, GError **error)
{
	struct imap_session *s = imap_session_open(p->mb, error);
	uint32_t old_validity = 0, old_uid = 0;

	if (!s)
		return -1;
	g_mutex_lock(&p->lock);
	p->session = s;
	g_mutex_unlock(&p->lock);
	imap_session_create(s, p->mb->processed_folder);
	imap_session_create(s, p->mb->failed_folder);
	if (imap_session_select(s, p->mb->folder, &p->uidvalidity, error) < 0)
		return -1;
	if (store_mailbox_get(p->st, p->source, &old_validity, &old_uid,
			      NULL) == 0 &&
	    old_validity != p->uidvalidity)
		log_notice("imap: uidvalidity changed mailbox=%s old=%u new=%u "
			   "(messages still there are recognised by content)",
			   p->mb->name, old_validity, p->uidvalidity);
	log_info("imap: connected mailbox=%s host=%s port=%d folder=%s "
		 "session=\"%s\"",
		 p->mb->name, p->mb->host, p->mb->port, p->mb->folder,
		 imap_session_describe(s));
	return 0;
}

static void
imap_end(struct imap_poller *p)
{
	struct imap_session *s;

	g_mutex_lock(&p->lock);
	s = p->session;
	p->session = NULL;
	g_mutex_unlock(&p->lock);
	imap_session_close(s);
	metric_set(p->connected, 0);
}

/* One connection: drain, wait, drain... until an error or stop. */
static int
imap_connection(struct imap_poller *p, GError **error)
{
	int rc = imap_begin(p, error);

	if (rc == 0) {
		metric_set(p->connected, 1);
		p->backoff_ms = IMAP_RETRY_MIN_MS;
	}
	while (rc == 0 && !imap_stopping(p)) {
		rc = imap_drain(p, error);
		if (rc < 0 || imap_stopping(p))
			break;
		if (p->mb->idle && imap_session_has_idle(p->session)) {
			rc = imap_session_idle(p->session, p->wake[0],
					       p->mb->idle_refresh_ms, error);
		} else if (!imap_sleep(p, p->mb->poll_interval_ms)) {
			/* Lets the server tell us about new mail. */
			rc = imap_session_noop(p->session, error);
		}
		rc = rc < 0 ? -1 : 0;
	}
	imap_end(p);
	return rc;
}

static void
imap_exit(struct imap_poller *p)
{
	g_mutex_lock(&p->lock);
	p->exited = 1;
	g_cond_signal(&p->exited_cond);
	g_mutex_unlock(&p->lock);
}

static gpointer
imap_thread(gpointer ud)
{
	struct imap_poller *p = ud;
	GError *e = NULL;

	p->backoff_ms = IMAP_RETRY_MIN_MS;
	while (!imap_stopping(p)) {
		if (!p->st && !(p->st = store_open_config(p->sc, &e))) {
			log_err("imap: mailbox=%s: %s", p->mb->name,
				e->message);
		} else if (imap_connection(p, &e) == 0) {
			continue;
		} else if (!imap_stopping(p)) {
			log_warn("imap: mailbox=%s: %s (retry in "
				 "%" G_GINT64_FORMAT " ms)",
				 p->mb->name, e ? e->message : "failed",
				 p->backoff_ms);
		}
		g_clear_error(&e);
		if (imap_stopping(p))
			break;
		metric_inc(p->errors);
		imap_sleep(p, p->backoff_ms);
		p->backoff_ms = MIN(p->backoff_ms * 2, p->mb->retry_max_ms);
	}
	g_clear_error(&e);
	store_close(p->st);
	p->st = NULL;
	imap_exit(p);
	return NULL;
}

int
imap_poller_start(void *ud, GError **error)
{
	struct imap_poller *p = ud;
	char *name;

	if (!g_unix_open_pipe(p->wake, FD_CLOEXEC, error))
		return -1;
	g_unix_set_fd_nonblocking(p->wake[0], TRUE, NULL);
	g_unix_set_fd_nonblocking(p->wake[1], TRUE, NULL);
	atomic_store(&p->stopping, 0);
	p->exited = 0;
	name = g_strdup_printf("imap:%s", p->mb->name);
	p->thread = g_thread_new(name, imap_thread, p);
	g_free(name);
	return 0;
}

void
imap_poller_stop(void *ud)
{
	struct imap_poller *p = ud;
	int64_t until;

	if (!p->thread)
		return;
	atomic_store(&p->stopping, 1);
	if (write(p->wake[1], "x", 1) < 0) {
		/* A full pipe already wakes the thread. */
	}
	until = g_get_monotonic_time() + IMAP_STOP_GRACE_MS * 1000;
	g_mutex_lock(&p->lock);
	while (!p->exited)
		if (!g_cond_wait_until(&p->exited_cond, &p->lock, until))
			break;
	/* Still in a network call: make it fail now. */
	if (!p->exited && p->session)
		imap_session_cancel(p->session);
	g_mutex_unlock(&p->lock);
	g_thread_join(p->thread);
	p->thread = NULL;
}
