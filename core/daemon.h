/*
 * daemon: the serve loop. A GLib main loop runs periodic jobs (spool
 * pickup, scoring, ...) on the main thread; services
 * (HTTP listeners, IMAP pollers, the policy server) run their own threads
 * and are started and stopped through it. SIGTERM and SIGINT stop the
 * loop: services are stopped in reverse order (each drains what it holds),
 * then the jobs' final runs happen, then daemon_run() returns.
 *
 * Jobs run on the main thread one at a time and may share its store
 * connection; services open their own.
 */
#ifndef FBLD_DAEMON_H
#define FBLD_DAEMON_H

#include <glib.h>
#include <stdint.h>

struct daemon;

/* Returns the delay in ms until the job should run again (0: as soon as
 * possible, e.g. more work is waiting), or -1 for its default interval. */
typedef int64_t (*daemon_job_fn)(void *ud, int64_t now_ms);
typedef int (*daemon_start_fn)(void *ud, GError **error);
typedef void (*daemon_stop_fn)(void *ud);

struct daemon *daemon_new(void);
void daemon_free(struct daemon *d);

/* A job run every interval_ms, and once more when the daemon stops. */
void daemon_add_job(struct daemon *d, const char *name, int64_t interval_ms,
		    daemon_job_fn fn, void *ud);
/* A service started by daemon_run() in order, stopped in reverse. */
void daemon_add_service(struct daemon *d, const char *name,
			daemon_start_fn start, daemon_stop_fn stop, void *ud);

/* Starts the services and loops until a stop signal; -1 when a service
 * failed to start (those started are stopped again). */
int daemon_run(struct daemon *d, GError **error);
/* Asks the loop to stop (thread-safe). */
void daemon_stop(struct daemon *d);

int64_t daemon_now_ms(void);

#endif
