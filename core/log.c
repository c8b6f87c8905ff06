/* log: see log.h. */
#include "core/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"

static enum log_level log_level = LOG_LEVEL_INFO;
static int log_to_syslog;
static int log_stamp; /* stderr not read by journald: prefix the time */

static const char *const log_names[] = {
	[LOG_LEVEL_ERR] = "err",       [LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

int
log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < G_N_ELEMENTS(log_names); i++) {
		if (g_ascii_strcasecmp(name, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_config_load(struct config *cfg, char **dest, enum log_level *level)
{
	static const char *const dests[] = { "stderr", "syslog", NULL };
	static const char *const levels[] = { "err",  "warn",  "notice",
					      "info", "debug", NULL };
	int d = config_enum(cfg, "log", "dest", 0, dests);

	*dest = g_strdup(dests[d]);
	*level = (enum log_level)config_enum(cfg, "log", "level",
					     LOG_LEVEL_INFO, levels);
}

int
log_init(const char *dest, enum log_level level, const char *ident)
{
	if (strcmp(dest, "stderr") == 0) {
		log_to_syslog = 0;
		log_stamp = g_getenv("JOURNAL_STREAM") == NULL;
	} else if (strcmp(dest, "syslog") == 0) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
		log_to_syslog = 1;
	} else {
		return -1;
	}
	log_level = level;
	return 0;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

/* "2026-11-27T21:58:46.123Z ": UTC, milliseconds. One line per message
 * is logged at info level, so this avoids GDateTime's allocations and
 * its format parser. */
static void
log_format_stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%FT%T", &tm);
	if (n > 0)
		snprintf(buf + n, len - n, ".%03ldZ ", ts.tv_nsec / 1000000);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO,
				    LOG_DEBUG };
	char line[LOG_LINE_MAX];
	va_list ap;
	int n;
	int saved = errno;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (log_to_syslog) {
		syslog(prio[level], "%s", line);
	} else {
		char out[LOG_LINE_MAX + 64], stamp[32] = "";
		int m;

		if (log_stamp)
			log_format_stamp(stamp, sizeof(stamp));
		m = snprintf(out, sizeof(out), "%s%s: %s\n", stamp,
			     log_names[level], line);
		if (m > 0 && write(STDERR_FILENO, out, (size_t)m) < 0) {
			/* Nowhere left to report it. */
		}
	}
	errno = saved;
}

const char *
log_addr(const char *addr, char *buf, size_t len)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	g_snprintf(buf, len, "*@%s", at ? at + 1 : "?");
	return buf;
}

static void
log_glib_handler(const gchar *domain, GLogLevelFlags flags, const gchar *msg,
		 gpointer data)
{
	enum log_level l = LOG_LEVEL_DEBUG;

	if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		l = LOG_LEVEL_ERR;
	else if (flags & G_LOG_LEVEL_WARNING)
		l = LOG_LEVEL_WARN;
	else if (flags & G_LOG_LEVEL_MESSAGE)
		l = LOG_LEVEL_NOTICE;
	else if (flags & G_LOG_LEVEL_INFO)
		l = LOG_LEVEL_INFO;
	log_msg(l, "%s: %s", domain ? domain : "glib", msg);
}

void
log_capture_glib(void)
{
	g_log_set_default_handler(log_glib_handler, NULL);
}
