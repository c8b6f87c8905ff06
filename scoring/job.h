/*
 * job: the daemon's scoring job, the glue between the store and the
 * engine. Each run, inside one transaction: reads the sends (one delivery
 * per recipient, once the milter has recorded them; a reserved send it
 * never recorded counts nothing after params->settle_ms) and the events
 * stored since its cursors, feeds them to the engine with what the store
 * knows of each message (its account, content fingerprint and earlier
 * feedback), runs the periodic evaluation, and writes the state changes
 * (accounts, state_history), whatever the registered hooks enqueue (the
 * alert outbox), the hourly statistics, the engine's models and the
 * cursors. If any of it fails the transaction is rolled back and the
 * engine reloaded from the store, so memory and store never disagree and
 * nothing is lost; the next run tries again.
 *
 * Operator overrides are read from the accounts table every run (the CLI
 * and the admin API write them and their history); the job records their
 * expiry (source "expiry") and calls the hooks for it.
 *
 * The job owns its engine; it borrows params and the store connection
 * (the daemon's main-thread connection) for its lifetime.
 */
#ifndef FBLD_SCORING_JOB_H
#define FBLD_SCORING_JOB_H

#include <glib.h>
#include <stdint.h>

#include "scoring/params.h"
#include "scoring/transition.h"

struct metrics;
struct store;
struct scoring_job;

/* Loads the engine's state from the store. */
struct scoring_job *scoring_job_new(const struct scoring_params *p,
				    struct store *st, int64_t now_ms,
				    GError **error);
void scoring_job_free(struct scoring_job *j);

/* Hooks are called, in registration order, for every change of an
 * account's effective state made by scoring or by an expiry (operator
 * changes are the CLI's and the API's to announce). */
void scoring_job_add_hook(struct scoring_job *j, scoring_transition_fn fn,
			  void *ud);

/* Counts rows read, state changes by target state and failed runs in m
 * (fbld_scoring_*). */
void scoring_job_set_metrics(struct scoring_job *j, struct metrics *m);

/* One run at now_ms: the number of rows it processed (a full batch means
 * more is waiting), or -1 with error set (nothing was written). */
int scoring_job_run(struct scoring_job *j, int64_t now_ms, GError **error);

#endif
