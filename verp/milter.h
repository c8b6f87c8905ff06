/*
 * milter: `fbld milter`, the MTA side of fbld on libmilter (Postfix's
 * smtpd_milters and non_smtpd_milters, Sendmail's INPUT_MAIL_FILTER).
 * libmilter runs one thread per MTA connection; the callbacks here only
 * collect the envelope, headers and body into a struct mark_msg and hand
 * the message to verp/mark.h at end of message, then apply what it
 * decided (smfi_chgfrom, smfi_addheader/chgheader, smfi_delrcpt,
 * smfi_replacebody, smfi_quarantine, smfi_setreply).
 *
 * Store connections: a small pool for the reads; each callback that needs
 * the database takes a connection for itself and gives it back, so no
 * connection is ever used by two threads at once and none is opened per
 * SMTP session. A connection that failed is closed, and a new one is
 * opened next time. The send records are written by the recorder
 * (verp/recorder.h, group commit) that the caller puts in the mark_ctx.
 *
 * Whoever can connect to the socket can claim any SASL login and get
 * valid tokens for any account: on a shared host, use a unix socket only
 * the MTA can open (socket_mode, socket_group), never a TCP port local
 * users can reach.
 *
 * A local submission (Postfix pickup: sendmail(1), PHP mail()) is told
 * apart from SMTP by what Postfix's cleanup emulates for it: a connection
 * from "localhost" at 127.0.0.1 with client port 0 (SMTP clients always
 * have a port).
 *
 * Counters (fbld_milter_*) are written in the Prometheus text format to
 * [milter] stats_file every stats_interval (node_exporter's textfile
 * collector reads it), and once more at exit.
 *
 * libmilter keeps its own global state (one milter per process), so the
 * callbacks reach the server through one pointer set before smfi_main()
 * and never changed afterwards.
 */
#ifndef FBLD_MILTER_H
#define FBLD_MILTER_H

#include <glib.h>
#include <stdint.h>

struct config;
struct mark_ctx;
struct store_config;

struct milter_config {
	char *listen;	      /* libmilter form: inet:PORT@HOST or unix:PATH */
	unsigned socket_mode; /* unix socket permissions */
	char *socket_group;   /* unix socket group, or NULL */
	int64_t timeout_ms;
	int backlog;
	int64_t store_timeout_ms; /* SQLite busy timeout for the milter */
	char *stats_file;	  /* NULL: none */
	int64_t stats_interval_ms;
};

/* [milter] listen (also in Postfix's "inet:HOST:PORT" form; default a
 * unix socket in the state directory), socket_mode, socket_group,
 * timeout, backlog, store_timeout, stats_file, stats_interval. */
void milter_config_load(struct config *cfg, struct milter_config *out);
void milter_config_clear(struct milter_config *mc);

/* "inet:127.0.0.1:8026" -> "inet:8026@127.0.0.1"; other forms as they
 * are. NULL when spec is not a socket libmilter knows. Caller frees. */
char *milter_socket_spec(const char *spec);

#define MILTER_ERROR (milter_error_quark())
GQuark milter_error_quark(void);

/* Serves until SIGTERM or SIGINT, then waits up to 5 s for the MTA to
 * close its connections. 0 when all closed; 1 when some are still open
 * (their threads may still use ctx: the caller must exit at once, without
 * releasing anything); -1 when the socket cannot be opened. */
int milter_run(const struct milter_config *mc, const struct mark_ctx *ctx,
	       const struct store_config *sc, GError **error);

#endif
