/*
 * imap_session: one IMAP connection (libetpan), reduced to what the poller
 * needs: connect with TLS (imaps, STARTTLS, or none) and verify the
 * server's certificate with GnuTLS before any credential is sent, log in,
 * select a folder, list UIDs with sizes, fetch messages by UID (up to a
 * size cap each), move them (MOVE, or COPY + \Deleted + UID EXPUNGE), and
 * wait in IDLE.
 *
 * A session belongs to one thread; imap_session_cancel() is the one call
 * another thread may make (it makes the blocked operation fail at once).
 * Every network operation is bounded by the configured timeout. Errors
 * come back as -1 with a GError in IMAP_ERROR; after any error the session
 * is only good for imap_session_close().
 */
#ifndef FBLD_IMAP_SESSION_H
#define FBLD_IMAP_SESSION_H

#include <glib.h>
#include <stdint.h>

struct imap_mailbox;
struct imap_session;

enum imap_err {
	IMAP_ERR_NETWORK = 1, /* connect, read, write, timeout */
	IMAP_ERR_TLS,	      /* handshake or certificate verification */
	IMAP_ERR_AUTH,	      /* login refused */
	IMAP_ERR_SERVER,      /* a command answered NO or BAD */
};

#define IMAP_ERROR (imap_error_quark())
GQuark imap_error_quark(void);

/* One message in the selected folder. */
struct imap_msg_info {
	uint32_t uid;
	uint32_t size; /* RFC822.SIZE */
};

/* One fetched message; data holds at most the cap given to fetch. */
struct imap_msg {
	uint32_t uid;
	uint32_t size; /* RFC822.SIZE, as the server counts it */
	char *data;
	size_t len;
};

/* Connects, secures and logs in. */
struct imap_session *imap_session_open(const struct imap_mailbox *mb,
				       GError **error);
/* Logs out (best effort) and frees; NULL is a no-op. */
void imap_session_close(struct imap_session *s);
/* Thread-safe: fails the operation the owner is blocked in. */
void imap_session_cancel(struct imap_session *s);

int imap_session_has_idle(const struct imap_session *s);
/* A short description of the connection for logs ("imaps, MOVE, IDLE"). */
const char *imap_session_describe(const struct imap_session *s);

/* CREATE, ignoring "already exists" and any other refusal (the MOVE will
 * fail later with a clear error if the folder really is missing). */
void imap_session_create(struct imap_session *s, const char *folder);
int imap_session_select(struct imap_session *s, const char *folder,
			uint32_t *uidvalidity, GError **error);
int imap_session_noop(struct imap_session *s, GError **error);

/* The messages of the selected folder, sorted by UID, at most max. */
GArray *imap_session_list(struct imap_session *s, unsigned max, GError **error);
/* Fetches the given UIDs (BODY.PEEK: flags are not changed), each cut at
 * max_size bytes; a UID that vanished meanwhile is simply missing from
 * the result. Returns struct imap_msg *, freed by the array. */
GPtrArray *imap_session_fetch(struct imap_session *s, const uint32_t *uids,
			      unsigned n, uint32_t max_size, GError **error);
int imap_session_move(struct imap_session *s, const uint32_t *uids, unsigned n,
		      const char *folder, GError **error);

/* IDLE until the server says something (1), timeout_ms passes (0) or
 * wake_fd becomes readable (2); -1 on error. */
int imap_session_idle(struct imap_session *s, int wake_fd, int64_t timeout_ms,
		      GError **error);

#endif
