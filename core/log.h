/*
 * log: one line per event, "module: what key=value ...", to stderr (for
 * systemd/journald, which adds the time) or syslog.
 *
 * The only mutable global besides signal flags: the destination and the
 * level, set once by log_init() before threads start. Every function is
 * thread-safe (one write(2) or syslog(3) per line). Lines longer than
 * LOG_LINE_MAX are cut. Messages must not contain recipient addresses in
 * full at info level: use log_addr() to reduce them to their domain.
 */
#ifndef FBLD_LOG_H
#define FBLD_LOG_H

#include <glib.h>

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

#define LOG_LINE_MAX 2048

struct config;

/* Reads [log] dest ("stderr", "syslog") and level ("err" ... "debug", default
 * info); *dest belongs to the caller. A bad value is recorded in cfg. */
void log_config_load(struct config *cfg, char **dest, enum log_level *level);

/* dest: "stderr" or "syslog"; returns -1 on an unknown name. */
int log_init(const char *dest, enum log_level level, const char *ident);
/* Parses "err", "warn", "notice", "info", "debug"; -1 when unknown. */
int log_level_parse(const char *name, enum log_level *out);
enum log_level log_get_level(void);

void log_msg(enum log_level level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_get_level() >= LOG_LEVEL_DEBUG)                        \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                 \
	} while (0)

/*
 * The part of an address that may be logged at info level: "*@domain".
 * Writes into buf (size len) and returns it.
 */
const char *log_addr(const char *addr, char *buf, size_t len);

/* Routes GLib's own g_warning()/g_critical() (and GMime's) through log. */
void log_capture_glib(void);

#endif
