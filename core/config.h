/*
 * config: the one configuration file (GKeyFile syntax: [section], key = value)
 * and the typed getters every module uses to read its own sections into its
 * own struct, once, at start-up.
 *
 * Each getter takes a default, validates the value and, when it is wrong,
 * records an error "file: [section] key: reason" and returns the default,
 * so one pass reports every mistake. config_finish() then reports keys and
 * sections that no module read (typos) and fails if anything was recorded;
 * config_check() fails on the recorded value errors only.
 * Without a file everything has its default: the daemon runs on loopback
 * with its state under ./var.
 *
 * Secrets are never written in the file itself: a key such as secret_file
 * names a file whose content (trailing newline removed) is the secret.
 * Limits: a config file of at most 1 MiB, a secret file of at most 4 KiB.
 * Returned strings belong to the caller (g_free / g_strfreev).
 */
#ifndef FBLD_CONFIG_H
#define FBLD_CONFIG_H

#include <glib.h>
#include <stdint.h>

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_SECRET_MAX 4096

struct config;

/* file may be NULL (defaults only). Fails when the file cannot be read or
 * is not valid key-file syntax. state_dir, when not NULL, overrides
 * [fbld] state_dir. */
struct config *config_load(const char *file, const char *state_dir,
			   GError **error);
/* The same from memory; name is what errors call the file. */
struct config *config_load_data(const char *name, const char *data, size_t len,
				const char *state_dir, GError **error);
void config_free(struct config *cfg);

const char *config_file_name(const struct config *cfg);
/* The state directory: [fbld] state_dir, default "var". */
const char *config_state_dir(const struct config *cfg);

char *config_str(struct config *cfg, const char *section, const char *key,
		 const char *def);
/* A list separated by commas or spaces; NULL when absent and def is NULL. */
char **config_list(struct config *cfg, const char *section, const char *key,
		   const char *def);
int64_t config_int(struct config *cfg, const char *section, const char *key,
		   int64_t def, int64_t min, int64_t max);
int config_bool(struct config *cfg, const char *section, const char *key,
		int def);
/* A size such as 10485760, 512k, 10M, 1G. */
int64_t config_size(struct config *cfg, const char *section, const char *key,
		    int64_t def, int64_t min, int64_t max);
/* A duration such as 250ms, 30s, 5m, 2h, 90d (plain number: seconds),
 * returned in milliseconds. */
int64_t config_duration_ms(struct config *cfg, const char *section,
			   const char *key, int64_t def_ms, int64_t min_ms,
			   int64_t max_ms);
/* One of choices (NULL-terminated); returns its index, or def_index. */
int config_enum(struct config *cfg, const char *section, const char *key,
		int def_index, const char *const *choices);
/* A path; when absent, def_in_state_dir is joined to the state directory. */
char *config_path(struct config *cfg, const char *section, const char *key,
		  const char *def_in_state_dir);
/* Reads the secret from the file named by key; NULL (and an error recorded
 * when required) if absent or unreadable. */
char *config_secret(struct config *cfg, const char *section, const char *key,
		    int required);

int config_has_section(const struct config *cfg, const char *section);
/* Names after "prefix:" of sections such as [imap:yahoo], in file order. */
char **config_sections(const struct config *cfg, const char *prefix);

/* Every "section key" a module asked for so far, sorted; the name of a
 * named section is replaced by '*' ("imap:* host"). Caller frees. */
char **config_keys_read(const struct config *cfg);

/* Records an error against [section] key. */
void config_error(struct config *cfg, const char *section, const char *key,
		  const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* After every module has read its sections: unknown keys and sections
 * become errors; returns -1 with all errors (one per line) in *error. */
int config_finish(struct config *cfg, GError **error);
/* For a program that reads only some sections (fbld-ingest): returns -1
 * with the value errors recorded so far (one per line) in *error, and
 * does not look for unknown keys or sections, which belong to sections it
 * never reads (config_finish() in `fbld check-config` and `fbld serve`
 * reports those). May be called more than once. */
int config_check(struct config *cfg, GError **error);

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);

#endif
