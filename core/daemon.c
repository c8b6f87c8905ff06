/* daemon: see daemon.h. */
#include "core/daemon.h"

#include <glib-unix.h>
#include <signal.h>

#include "core/log.h"

struct daemon_job {
	char *name;
	int64_t interval_ms;
	daemon_job_fn fn;
	void *ud;
	guint source;
	struct daemon *d;
};

struct daemon_service {
	char *name;
	daemon_start_fn start;
	daemon_stop_fn stop;
	void *ud;
	int started;
};

struct daemon {
	GMainContext *ctx;
	GMainLoop *loop;
	GPtrArray *jobs;     /* struct daemon_job * */
	GPtrArray *services; /* struct daemon_service * */
};

int64_t
daemon_now_ms(void)
{
	return g_get_real_time() / 1000;
}

static void
daemon_job_free(gpointer p)
{
	struct daemon_job *j = p;

	g_free(j->name);
	g_free(j);
}

static void
daemon_service_free(gpointer p)
{
	struct daemon_service *s = p;

	g_free(s->name);
	g_free(s);
}

struct daemon *
daemon_new(void)
{
	struct daemon *d = g_new0(struct daemon, 1);

	d->ctx = g_main_context_new();
	d->loop = g_main_loop_new(d->ctx, FALSE);
	d->jobs = g_ptr_array_new_with_free_func(daemon_job_free);
	d->services = g_ptr_array_new_with_free_func(daemon_service_free);
	return d;
}

void
daemon_free(struct daemon *d)
{
	if (!d)
		return;
	g_ptr_array_free(d->jobs, TRUE);
	g_ptr_array_free(d->services, TRUE);
	g_main_loop_unref(d->loop);
	g_main_context_unref(d->ctx);
	g_free(d);
}

void
daemon_add_job(struct daemon *d, const char *name, int64_t interval_ms,
	       daemon_job_fn fn, void *ud)
{
	struct daemon_job *j = g_new0(struct daemon_job, 1);

	j->name = g_strdup(name);
	j->interval_ms = interval_ms;
	j->fn = fn;
	j->ud = ud;
	j->d = d;
	g_ptr_array_add(d->jobs, j);
}

void
daemon_add_service(struct daemon *d, const char *name, daemon_start_fn start,
		   daemon_stop_fn stop, void *ud)
{
	struct daemon_service *s = g_new0(struct daemon_service, 1);

	s->name = g_strdup(name);
	s->start = start;
	s->stop = stop;
	s->ud = ud;
	g_ptr_array_add(d->services, s);
}

static void daemon_schedule(struct daemon_job *j, int64_t delay_ms);

static gboolean
daemon_job_tick(gpointer p)
{
	struct daemon_job *j = p;
	int64_t next = j->fn(j->ud, daemon_now_ms());

	j->source = 0;
	daemon_schedule(j, next < 0 ? j->interval_ms : next);
	return G_SOURCE_REMOVE;
}

static void
daemon_schedule(struct daemon_job *j, int64_t delay_ms)
{
	GSource *s = delay_ms > 0 ? g_timeout_source_new((guint)delay_ms)
				  : g_idle_source_new();

	g_source_set_callback(s, daemon_job_tick, j, NULL);
	j->source = g_source_attach(s, j->d->ctx);
	g_source_unref(s);
}

static gboolean
daemon_on_signal(gpointer p)
{
	struct daemon *d = p;

	log_notice("daemon: stop signal received, draining");
	g_main_loop_quit(d->loop);
	return G_SOURCE_CONTINUE;
}

void
daemon_stop(struct daemon *d)
{
	g_main_loop_quit(d->loop);
	g_main_context_wakeup(d->ctx);
}

static void
daemon_stop_services(struct daemon *d)
{
	for (guint i = d->services->len; i-- > 0;) {
		struct daemon_service *s = d->services->pdata[i];

		if (!s->started)
			continue;
		log_info("daemon: stopping service=%s", s->name);
		if (s->stop)
			s->stop(s->ud);
		s->started = 0;
	}
}

static void
daemon_add_signal(struct daemon *d, int signum)
{
	GSource *s = g_unix_signal_source_new(signum);

	g_source_set_callback(s, daemon_on_signal, d, NULL);
	g_source_attach(s, d->ctx);
	g_source_unref(s);
}

int
daemon_run(struct daemon *d, GError **error)
{
	signal(SIGPIPE, SIG_IGN);
	daemon_add_signal(d, SIGTERM);
	daemon_add_signal(d, SIGINT);
	for (guint i = 0; i < d->services->len; i++) {
		struct daemon_service *s = d->services->pdata[i];

		if (s->start && s->start(s->ud, error) < 0) {
			g_prefix_error(error, "%s: ", s->name);
			daemon_stop_services(d);
			return -1;
		}
		s->started = 1;
		log_info("daemon: started service=%s", s->name);
	}
	for (guint i = 0; i < d->jobs->len; i++)
		daemon_schedule(d->jobs->pdata[i], 0);
	g_main_context_push_thread_default(d->ctx);
	g_main_loop_run(d->loop);
	g_main_context_pop_thread_default(d->ctx);
	for (guint i = 0; i < d->jobs->len; i++) {
		struct daemon_job *j = d->jobs->pdata[i];
		if (j->source) {
			GSource *s = g_main_context_find_source_by_id(
				d->ctx, j->source);
			if (s)
				g_source_destroy(s);
			j->source = 0;
		}
	}
	daemon_stop_services(d);
	/* Last runs after the services drained into the store. */
	for (guint i = 0; i < d->jobs->len; i++) {
		struct daemon_job *j = d->jobs->pdata[i];
		j->fn(j->ud, daemon_now_ms());
	}
	return 0;
}
