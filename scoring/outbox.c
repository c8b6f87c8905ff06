/* outbox: see outbox.h. */
#include "scoring/outbox.h"

#include <curl/curl.h>
#include <gmime/gmime.h>
#include <string.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/store.h"
#include "scoring/digest.h"
#include "scoring/webhook.h"

/* Bytes of a receiver's answer kept for the error message. */
#define OUTBOX_ANSWER_MAX 512
/* Characters of an error kept in the store. */
#define OUTBOX_ERROR_MAX 300
#define OUTBOX_PURGE_EVERY_MS (3600LL * 1000)
/* Wait after a store error before trying again. */
#define OUTBOX_ERROR_PAUSE_MS 5000

enum outbox_kind { OUTBOX_WEBHOOK, OUTBOX_EMAIL, OUTBOX_NKIND };

struct outbox {
	const struct actions_config *ac;
	const struct store_config *sc;
	struct store *st;
	GThread *thread;
	GMutex lock;
	GCond cond;
	int stop;
	int64_t lease_ms;
	int64_t last_digest_ms; /* -1: not read from the store yet */
	int64_t digest_pause_until_ms;
	int64_t last_purge_ms;
	GRand *rand;
	CURLM *multi;		     /* the worker thread's */
	struct metrics *own_metrics; /* when none was given */
	struct metric *delivered[OUTBOX_NKIND];
	struct metric *failed[OUTBOX_NKIND];
	struct metric *dead[OUTBOX_NKIND];
};

/* One delivery attempt of one entry. */
struct outbox_job {
	struct store_outbox_row *row; /* borrowed from the claimed rows */
	const struct actions_retry *retry;
	enum outbox_kind kind;
	CURL *easy;
	struct curl_slist *list; /* headers, or SMTP recipients */
	GString *answer;
	size_t len;  /* of the payload */
	size_t sent; /* SMTP upload position */
	char *error; /* why it failed; NULL on success */
	int64_t retry_after_ms;
	char errbuf[CURL_ERROR_SIZE];
};

int64_t
outbox_backoff_ms(const struct actions_retry *r, int attempts, double jitter)
{
	int64_t d = r->base_ms;

	for (int i = 1; i < attempts && d < r->max_ms; i++)
		d *= 2;
	d = MIN(d, r->max_ms);
	return d - d / 2 + (int64_t)(jitter * (double)(d / 2));
}

/* ---- preparing requests --------------------------------------------------- */

static size_t
outbox_on_answer(char *data, size_t size, size_t n, void *ud)
{
	struct outbox_job *j = ud;
	size_t len = size * n;

	if (j->answer->len < OUTBOX_ANSWER_MAX)
		g_string_append_len(
			j->answer, data,
			(gssize)MIN(len, OUTBOX_ANSWER_MAX - j->answer->len));
	return len;
}

static size_t
outbox_on_read(char *buf, size_t size, size_t n, void *ud)
{
	struct outbox_job *j = ud;
	size_t len = MIN(j->len - j->sent, size * n);

	memcpy(buf, j->row->payload + j->sent, len);
	j->sent += len;
	return len;
}

static void
outbox_header(struct outbox_job *j, const char *name, const char *value)
{
	char *h = g_strdup_printf("%s: %s", name, value);

	j->list = curl_slist_append(j->list, h);
	g_free(h);
}

static void
outbox_common(struct outbox_job *j, const struct actions_retry *r)
{
	j->retry = r;
	curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
	curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)MIN(r->timeout_ms, 10000));
	curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, outbox_on_answer);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
}

static void
outbox_prepare_webhook(struct outbox_job *j, const struct actions_webhook *w,
		       int64_t now_ms)
{
	const char *body = j->row->payload;
	const char *slash = strrchr(j->row->idem_key, '/');
	const char *event_id = slash ? slash + 1 : j->row->idem_key;
	int64_t ts = now_ms / 1000;
	char num[32],
		*sig = webhook_signature(w->secret, ts, body, strlen(body));

	j->kind = OUTBOX_WEBHOOK;
	outbox_common(j, &w->retry);
	outbox_header(j, "Content-Type", "application/json");
	outbox_header(j, "User-Agent", "fbld/" FBLD_VERSION);
	g_snprintf(num, sizeof(num), "%" G_GINT64_FORMAT, ts);
	outbox_header(j, WEBHOOK_HEADER_TIMESTAMP, num);
	outbox_header(j, WEBHOOK_HEADER_SIGNATURE, sig);
	outbox_header(j, WEBHOOK_HEADER_EVENT, event_id);
	outbox_header(j, WEBHOOK_HEADER_IDEMPOTENCY, event_id);
	g_snprintf(num, sizeof(num), "%d", j->row->attempts);
	outbox_header(j, WEBHOOK_HEADER_ATTEMPT, num);
	/* No "Expect: 100-continue" round trip. */
	j->list = curl_slist_append(j->list, "Expect:");
	g_free(sig);
	curl_easy_setopt(j->easy, CURLOPT_URL, w->url);
	curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(j->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->list);
	curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)strlen(body));
}

static void
outbox_prepare_email(struct outbox_job *j, const struct actions_digest *d)
{
	static const long tls[] = { CURLUSESSL_NONE, CURLUSESSL_TRY,
				    CURLUSESSL_ALL };
	char *from = g_strdup_printf("<%s>", d->from);

	j->kind = OUTBOX_EMAIL;
	outbox_common(j, &d->retry);
	for (char **to = d->to; to && *to; to++) {
		char *rcpt = g_strdup_printf("<%s>", *to);

		j->list = curl_slist_append(j->list, rcpt);
		g_free(rcpt);
	}
	curl_easy_setopt(j->easy, CURLOPT_URL, d->smtp_url);
	curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(j->easy, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(j->easy, CURLOPT_MAIL_RCPT, j->list);
	curl_easy_setopt(j->easy, CURLOPT_USE_SSL, tls[d->starttls]);
	curl_easy_setopt(j->easy, CURLOPT_SSL_VERIFYPEER, (long)d->tls_verify);
	curl_easy_setopt(j->easy, CURLOPT_SSL_VERIFYHOST,
			 d->tls_verify ? 2L : 0L);
	if (d->username) {
		curl_easy_setopt(j->easy, CURLOPT_USERNAME, d->username);
		curl_easy_setopt(j->easy, CURLOPT_PASSWORD, d->password);
	}
	curl_easy_setopt(j->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(j->easy, CURLOPT_READFUNCTION, outbox_on_read);
	curl_easy_setopt(j->easy, CURLOPT_READDATA, j);
	curl_easy_setopt(j->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
	g_free(from); /* curl copies string options */
}

/* A job for row, or one already failed (j->error) when its channel is
 * not configured. */
static struct outbox_job *
outbox_job_new(struct outbox *o, struct store_outbox_row *row, int64_t now_ms)
{
	struct outbox_job *j = g_new0(struct outbox_job, 1);
	const char *ch = row->channel;
	const struct actions_webhook *w = NULL;

	j->row = row;
	j->len = strlen(row->payload);
	j->answer = g_string_new(NULL);
	j->kind =
		g_str_has_prefix(ch, "email:") ? OUTBOX_EMAIL : OUTBOX_WEBHOOK;
	if (g_str_has_prefix(ch, "webhook:"))
		w = actions_webhook_find(o->ac, ch + strlen("webhook:"));
	if (w || (j->kind == OUTBOX_EMAIL && o->ac->digest.enabled))
		j->easy = curl_easy_init();
	if (!j->easy) {
		j->error = g_strdup_printf("channel %s is not configured", ch);
		return j;
	}
	if (w)
		outbox_prepare_webhook(j, w, now_ms);
	else
		outbox_prepare_email(j, &o->ac->digest);
	return j;
}

static void
outbox_job_free(gpointer p)
{
	struct outbox_job *j = p;

	if (j->easy)
		curl_easy_cleanup(j->easy);
	curl_slist_free_all(j->list);
	g_string_free(j->answer, TRUE);
	g_free(j->error);
	g_free(j);
}

/* ---- running them ----------------------------------------------------------- */

/* Printable, one line, at most OUTBOX_ERROR_MAX characters: receivers
 * write what they like. */
static char *
outbox_clean(const char *s)
{
	GString *out = g_string_new(NULL);
	char *valid = g_utf8_make_valid(s, -1);

	for (const char *p = valid; *p && out->len < OUTBOX_ERROR_MAX; p++)
		g_string_append_c(
			out, (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p);
	g_free(valid);
	g_strstrip(out->str);
	return g_string_free(out, FALSE);
}

/* Sets j->error (NULL on success) from a finished transfer. */
static void
outbox_job_result(struct outbox_job *j, CURLcode rc)
{
	long code = 0;
	curl_off_t retry_after = 0;
	char *raw;

	curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		raw = g_strdup_printf("%s%s%s", curl_easy_strerror(rc),
				      j->errbuf[0] ? ": " : "", j->errbuf);
	} else if (j->kind == OUTBOX_WEBHOOK && (code < 200 || code > 299)) {
		char *line = g_strndup(j->answer->str,
				       strcspn(j->answer->str, "\r\n"));

		raw = g_strdup_printf("HTTP %ld%s%s", code, *line ? ": " : "",
				      line);
		g_free(line);
		if (curl_easy_getinfo(j->easy, CURLINFO_RETRY_AFTER,
				      &retry_after) == CURLE_OK)
			j->retry_after_ms = (int64_t)retry_after * 1000;
	} else {
		return;
	}
	j->error = outbox_clean(raw);
	g_free(raw);
}

/* Runs the jobs on the worker's multi handle, whose connection cache
 * keeps connections to receivers open from one pass to the next. */
static void
outbox_run(CURLM *multi, GPtrArray *jobs)
{
	CURLMsg *msg;
	int running = 0, left;

	for (guint i = 0; i < jobs->len; i++) {
		struct outbox_job *j = jobs->pdata[i];

		if (j->easy)
			curl_multi_add_handle(multi, j->easy);
	}
	do {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		if (running &&
		    curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	} while (running);
	while ((msg = curl_multi_info_read(multi, &left))) {
		struct outbox_job *j = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				  (char **)&j);
		outbox_job_result(j, msg->data.result);
		curl_multi_remove_handle(multi, j->easy);
		curl_easy_cleanup(j->easy);
		j->easy = NULL;
	}
	for (guint i = 0; i < jobs->len; i++) {
		struct outbox_job *j = jobs->pdata[i];

		if (!j->easy)
			continue;
		/* Never finished: the multi interface itself failed. */
		curl_multi_remove_handle(multi, j->easy);
		if (!j->error)
			j->error = g_strdup("transfer did not complete");
	}
}

/* Writes one job's outcome. */
static int
outbox_record(struct outbox *o, struct outbox_job *j, int64_t now_ms,
	      GError **error)
{
	const struct store_outbox_row *r = j->row;
	int64_t delay;

	if (!j->error) {
		metric_inc(o->delivered[j->kind]);
		log_info("outbox: delivered channel=%s key=%s attempt=%d",
			 r->channel, r->idem_key, r->attempts);
		return store_outbox_done(o->st, r->id, now_ms, error);
	}
	metric_inc(o->failed[j->kind]);
	if (!j->retry || r->attempts >= j->retry->max_attempts) {
		metric_inc(o->dead[j->kind]);
		log_warn("outbox: gave up channel=%s key=%s attempts=%d "
			 "error=\"%s\"",
			 r->channel, r->idem_key, r->attempts, j->error);
		return store_outbox_dead(o->st, r->id, now_ms, j->error, error);
	}
	delay = outbox_backoff_ms(j->retry, r->attempts,
				  g_rand_double(o->rand));
	delay = MAX(delay, MIN(j->retry_after_ms, j->retry->max_ms));
	log_info("outbox: failed channel=%s key=%s attempt=%d "
		 "retry_in_ms=%" G_GINT64_FORMAT " error=\"%s\"",
		 r->channel, r->idem_key, r->attempts, delay, j->error);
	return store_outbox_retry(o->st, r->id, now_ms + delay, j->error,
				  error);
}

/* One pass: claims due entries, delivers, records. Returns how many
 * entries it claimed, or -1 when the store failed. */
static int
outbox_pass(struct outbox *o, int64_t now_ms)
{
	GError *e = NULL;
	GPtrArray *rows = NULL, *jobs;
	int64_t next_ms;
	int n, r = store_outbox_next_due(o->st, &next_ms, &e);

	/* A read first: the claim is an UPDATE, which would take the write
	 * lock even with nothing due. */
	if (r == 0 && next_ms <= now_ms)
		rows = store_outbox_claim(o->st, now_ms, o->lease_ms,
					  o->ac->batch, &e);
	else if (r >= 0)
		return 0;
	r = 0;
	if (!rows) {
		log_err("outbox: %s", e->message);
		g_error_free(e);
		return -1;
	}
	n = (int)rows->len;
	jobs = g_ptr_array_new_with_free_func(outbox_job_free);
	for (guint i = 0; i < rows->len; i++)
		g_ptr_array_add(jobs,
				outbox_job_new(o, rows->pdata[i], now_ms));
	outbox_run(o->multi, jobs);
	now_ms = g_get_real_time() / 1000;
	if (n > 0 && store_begin(o->st, &e) == 0) {
		for (guint i = 0; r == 0 && i < jobs->len; i++)
			r = outbox_record(o, jobs->pdata[i], now_ms, &e);
		if (r == 0)
			r = store_commit(o->st, &e);
		if (r < 0)
			store_rollback(o->st);
	}
	if (e) {
		/* The leases bring the entries back. */
		log_err("outbox: recording results: %s", e->message);
		g_error_free(e);
		n = -1;
	}
	g_ptr_array_unref(jobs);
	g_ptr_array_unref(rows);
	return n;
}

/* ---- the digest and housekeeping ------------------------------------------------ */

static void
outbox_digest_tick(struct outbox *o, int64_t now_ms)
{
	const struct actions_digest *d = &o->ac->digest;
	int64_t period, ms;
	GError *e = NULL;
	int r;

	if (!d->enabled || now_ms < o->digest_pause_until_ms)
		return;
	period = digest_period_start(now_ms, d->interval_ms, d->offset_ms);
	if (o->last_digest_ms < 0) {
		r = store_outbox_last(o->st, "email:digest", &ms, &e);
		if (r < 0)
			goto fail;
		o->last_digest_ms = r == 1 ? 0 : ms;
	}
	if (o->last_digest_ms >= period)
		return;
	r = actions_digest_compose(o->ac, o->st, period, now_ms, &e);
	if (r < 0)
		goto fail;
	if (r > 0) {
		o->last_digest_ms = now_ms;
		log_info("outbox: digest composed period_ms=%" G_GINT64_FORMAT,
			 period);
	}
	return;
fail:
	log_err("outbox: digest: %s", e->message);
	g_error_free(e);
	o->digest_pause_until_ms = now_ms + OUTBOX_ERROR_PAUSE_MS;
}

static void
outbox_purge(struct outbox *o, int64_t now_ms)
{
	GError *e = NULL;
	int64_t n;

	if (now_ms - o->last_purge_ms < OUTBOX_PURGE_EVERY_MS)
		return;
	o->last_purge_ms = now_ms;
	n = store_outbox_purge(o->st, now_ms - o->ac->keep_ms, &e);
	if (n < 0) {
		log_err("outbox: purge: %s", e->message);
		g_error_free(e);
	} else if (n > 0) {
		log_info("outbox: purged delivered=%" G_GINT64_FORMAT, n);
	}
}

/* How long to sleep: until the next entry is due, at most a poll. */
static int64_t
outbox_sleep_ms(struct outbox *o, int64_t now_ms, int failed)
{
	int64_t next, wait = o->ac->poll_ms;

	if (failed)
		return OUTBOX_ERROR_PAUSE_MS;
	if (store_outbox_next_due(o->st, &next, NULL) == 0)
		wait = CLAMP(next - now_ms, 0, wait);
	return wait;
}

static gpointer
outbox_main(gpointer p)
{
	struct outbox *o = p;

	o->multi = curl_multi_init();
	for (;;) {
		int64_t now_ms = g_get_real_time() / 1000, wait;
		int n, stop;

		g_mutex_lock(&o->lock);
		stop = o->stop;
		g_mutex_unlock(&o->lock);
		if (stop)
			break;
		outbox_digest_tick(o, now_ms);
		outbox_purge(o, now_ms);
		n = outbox_pass(o, now_ms);
		if (n >= o->ac->batch)
			continue;
		wait = outbox_sleep_ms(o, g_get_real_time() / 1000, n < 0);
		if (wait <= 0)
			continue;
		g_mutex_lock(&o->lock);
		if (!o->stop)
			g_cond_wait_until(&o->cond, &o->lock,
					  g_get_monotonic_time() + wait * 1000);
		g_mutex_unlock(&o->lock);
	}
	curl_multi_cleanup(o->multi);
	o->multi = NULL;
	return NULL;
}

/* ---- life cycle ----------------------------------------------------------------- */

static void
outbox_metrics(struct outbox *o, struct metrics *m)
{
	static const char *const labels[] = { "kind=\"webhook\"",
					      "kind=\"email\"" };

	for (int k = 0; k < OUTBOX_NKIND; k++) {
		o->delivered[k] = metrics_counter(
			m, "fbld_alerts_delivered_total", labels[k],
			"Alert deliveries the receiver accepted");
		o->failed[k] = metrics_counter(
			m, "fbld_alert_attempts_failed_total", labels[k],
			"Alert delivery attempts that failed");
		o->dead[k] = metrics_counter(
			m, "fbld_alerts_given_up_total", labels[k],
			"Alert deliveries given up after their last attempt");
	}
}

struct outbox *
outbox_new(const struct actions_config *ac, const struct store_config *sc,
	   struct metrics *m)
{
	struct outbox *o = g_new0(struct outbox, 1);
	int64_t longest = ac->digest.enabled ? ac->digest.retry.timeout_ms : 0;

	o->ac = ac;
	o->sc = sc;
	o->last_digest_ms = -1;
	o->rand = g_rand_new();
	g_mutex_init(&o->lock);
	g_cond_init(&o->cond);
	for (guint i = 0; i < ac->webhooks->len; i++)
		longest = MAX(
			longest,
			((const struct actions_webhook *)ac->webhooks->pdata[i])
				->retry.timeout_ms);
	o->lease_ms = longest + 10000;
	if (!m)
		m = o->own_metrics = metrics_new();
	outbox_metrics(o, m);
	return o;
}

int
outbox_start(struct outbox *o, GError **error)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc != CURLE_OK) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "outbox: libcurl: %s", curl_easy_strerror(rc));
		return -1;
	}
	g_mime_init(); /* before the thread: not thread-safe */
	o->st = store_open_config(o->sc, error);
	if (!o->st) {
		curl_global_cleanup();
		return -1;
	}
	o->thread = g_thread_new("outbox", outbox_main, o);
	return 0;
}

void
outbox_stop(struct outbox *o)
{
	if (!o || !o->thread)
		return;
	g_mutex_lock(&o->lock);
	o->stop = 1;
	g_cond_signal(&o->cond);
	g_mutex_unlock(&o->lock);
	g_thread_join(o->thread);
	o->thread = NULL;
	store_close(o->st);
	o->st = NULL;
	curl_global_cleanup();
}

void
outbox_free(struct outbox *o)
{
	if (!o)
		return;
	outbox_stop(o);
	metrics_free(o->own_metrics);
	g_rand_free(o->rand);
	g_mutex_clear(&o->lock);
	g_cond_clear(&o->cond);
	g_free(o);
}
