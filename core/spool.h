/*
 * spool: the durable hand-over between an MTA pipe and the daemon, a
 * maildir-like directory: SPOOL/tmp for messages being written, SPOOL/new
 * for complete ones. A writer fills tmp/NAME, fsyncs it, renames it into
 * new/ and fsyncs the directory, so a message in new/ survives a crash and
 * a half-written one never appears there. The daemon reads new/, commits
 * each message to the store, and only then removes the file.
 *
 * Names: "<ms>.<pid>_<seq>.<rand>,S=<original size>[,T]": T marks a
 * message cut at the size limit (kept truncated, never refused: a refused
 * bounce turns into a double bounce).
 *
 * Limits: a message is stored up to max_size bytes (the rest is read and
 * counted, not kept); spool_list() returns at most max names per call.
 */
#ifndef FBLD_SPOOL_H
#define FBLD_SPOOL_H

#include <glib.h>
#include <stdint.h>

struct config;

struct spool_config {
	char *dir;		  /* [spool] dir, default STATE_DIR/spool */
	int64_t max_message_size; /* [spool] max_message_size, 10M */
	int64_t poll_interval_ms; /* [spool] poll_interval, 200ms */
	int64_t batch;		  /* [spool] batch: messages per commit */
};

void spool_config_load(struct config *cfg, struct spool_config *out);
void spool_config_clear(struct spool_config *sc);

/* Creates dir, dir/tmp and dir/new when missing. */
int spool_init(const char *dir, GError **error);

struct spool_meta {
	int64_t orig_size; /* bytes as offered */
	int truncated;
};

/* Reads fd to its end and stores the message durably; *name (may be NULL)
 * gets the file name in new/. On any failure nothing is left in new/. */
int spool_write_fd(const char *dir, int fd, int64_t max_size, char **name,
		   struct spool_meta *meta, GError **error);
/* The same from memory. */
int spool_write_mem(const char *dir, const void *data, size_t len,
		    int64_t max_size, char **name, GError **error);

/* Up to max names in new/, oldest first (the name starts with the time).
 * Caller frees with g_strfreev. */
char **spool_list(const char *dir, unsigned max, GError **error);
/* Reads new/NAME; meta is decoded from the name. */
int spool_read(const char *dir, const char *name, char **data, size_t *len,
	       struct spool_meta *meta, GError **error);
int spool_remove(const char *dir, const char *name, GError **error);
/* fsyncs new/ after removals, so they are not replayed after a crash. */
int spool_sync(const char *dir, GError **error);

#endif
