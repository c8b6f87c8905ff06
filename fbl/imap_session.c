/* imap_session: see imap_session.h. The only file that speaks libetpan. */
#include "fbl/imap_session.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>
#include <poll.h>
#include <string.h>

#include "fbl/imap.h"

G_DEFINE_QUARK(fbld - imap - error - quark, imap_error)

struct imap_session {
	mailimap *imap;
	int has_idle, has_move, has_uidplus;
	int broken; /* the connection failed: no LOGOUT on close */
	char describe[96];
};

static const char *
imap_strerror(int rc)
{
	switch (rc) {
	case MAILIMAP_ERROR_STREAM:
		return "connection lost or timed out";
	case MAILIMAP_ERROR_PARSE:
		return "connection lost or unparsable response";
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return "cannot connect";
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		return "server refused the connection";
	case MAILIMAP_ERROR_LOGIN:
		return "login refused";
	case MAILIMAP_ERROR_SSL:
		return "TLS handshake failed";
	case MAILIMAP_ERROR_STARTTLS:
		return "STARTTLS refused";
	case MAILIMAP_ERROR_MEMORY:
		return "out of memory";
	default:
		return "command refused";
	}
}

/* Sets error from a libetpan return code; the server's own words are
 * added when it answered. */
static int
imap_fail(struct imap_session *s, GError **error, const char *what, int rc)
{
	const char *resp = s && s->imap ? s->imap->imap_response : NULL;
	int code = IMAP_ERR_SERVER;

	if (rc == MAILIMAP_ERROR_STREAM ||
	    rc == MAILIMAP_ERROR_CONNECTION_REFUSED ||
	    rc == MAILIMAP_ERROR_PARSE || rc == MAILIMAP_ERROR_FATAL)
		code = IMAP_ERR_NETWORK;
	else if (rc == MAILIMAP_ERROR_SSL || rc == MAILIMAP_ERROR_STARTTLS)
		code = IMAP_ERR_TLS;
	else if (rc == MAILIMAP_ERROR_LOGIN)
		code = IMAP_ERR_AUTH;
	if (code == IMAP_ERR_NETWORK && s)
		s->broken = 1;
	if (code == IMAP_ERR_NETWORK || !resp || !*resp)
		resp = NULL;
	g_set_error(error, IMAP_ERROR, code, "%s: %s%s%s", what,
		    imap_strerror(rc), resp ? ": " : "", resp ? resp : "");
	return -1;
}

static void
imap_tls_setup(struct mailstream_ssl_context *ctx, void *ud)
{
	/* SNI, so that a server with several names shows the right cert. */
	mailstream_ssl_set_server_name(ctx, ud);
}

/* The peer's chain (leaf first) as GnuTLS certificates. */
static gnutls_x509_crt_t *
imap_peer_chain(struct imap_session *s, unsigned *n)
{
	carray *chain = mailstream_get_certificate_chain(s->imap->imap_stream);
	gnutls_x509_crt_t *crts;

	*n = 0;
	if (!chain)
		return NULL;
	crts = g_new0(gnutls_x509_crt_t, carray_count(chain) + 1);
	for (unsigned i = 0; i < carray_count(chain) && i < 16; i++) {
		MMAPString *der = carray_get(chain, i);
		gnutls_datum_t d = { (unsigned char *)der->str,
				     (unsigned)der->len };

		if (gnutls_x509_crt_init(&crts[*n]) < 0)
			break;
		if (gnutls_x509_crt_import(crts[*n], &d, GNUTLS_X509_FMT_DER) <
		    0) {
			gnutls_x509_crt_deinit(crts[*n]);
			break;
		}
		(*n)++;
	}
	mailstream_certificate_chain_free(chain);
	return crts;
}

/*
 * libetpan's GnuTLS backend does not verify the server: this does, after
 * the handshake and before LOGIN, against ca_file or the system's trust
 * store, with the configured host name (or IP address).
 */
static int
imap_verify(struct imap_session *s, const struct imap_mailbox *mb,
	    GError **error)
{
	gnutls_x509_trust_list_t tl;
	gnutls_typed_vdata_st vd[] = {
		{ GNUTLS_DT_DNS_HOSTNAME, (unsigned char *)mb->host, 0 },
		{ GNUTLS_DT_KEY_PURPOSE_OID,
		  (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, 0 },
	};
	unsigned n, status = 0;
	gnutls_x509_crt_t *crts = imap_peer_chain(s, &n);
	int rc;

	if (n == 0) {
		g_free(crts);
		g_set_error(error, IMAP_ERROR, IMAP_ERR_TLS,
			    "TLS: the server sent no certificate");
		return -1;
	}
	gnutls_x509_trust_list_init(&tl, 0);
	rc = mb->ca_file
		     ? gnutls_x509_trust_list_add_trust_file(
			       tl, mb->ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0)
		     : gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (rc <= 0) {
		g_set_error(error, IMAP_ERROR, IMAP_ERR_TLS,
			    "TLS: no trust anchors loaded from %s%s%s",
			    mb->ca_file ? mb->ca_file : "the system store",
			    rc < 0 ? ": " : "",
			    rc < 0 ? gnutls_strerror(rc) : "");
		status = 1;
	} else {
		rc = gnutls_x509_trust_list_verify_crt2(
			tl, crts, n, vd, G_N_ELEMENTS(vd), 0, &status, NULL);
		if (rc < 0 || status != 0) {
			gnutls_datum_t out = { NULL, 0 };

			gnutls_certificate_verification_status_print(
				status, GNUTLS_CRT_X509, &out, 0);
			g_set_error(error, IMAP_ERROR, IMAP_ERR_TLS,
				    "TLS: certificate of %s not trusted: %s",
				    mb->host,
				    rc < 0 ? gnutls_strerror(rc)
					   : (const char *)out.data);
			gnutls_free(out.data);
			status = 1;
		}
	}
	gnutls_x509_trust_list_deinit(tl, 1);
	for (unsigned i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	g_free(crts);
	return status == 0 ? 0 : -1;
}

/* CAPABILITY, stored by libetpan in the session. */
static int
imap_capabilities(struct imap_session *s)
{
	struct mailimap_capability_data *cap = NULL;
	int rc = mailimap_capability(s->imap, &cap);

	if (cap)
		mailimap_capability_data_free(cap);
	return rc;
}

/* TCP, then TLS as configured. */
static int
imap_connect(struct imap_session *s, const struct imap_mailbox *mb,
	     GError **error)
{
	char *host = g_strdup(mb->host);
	int rc;

	if (mb->tls == IMAP_TLS_IMAPS)
		rc = mailimap_ssl_connect_with_callback(s->imap, host,
							(uint16_t)mb->port,
							imap_tls_setup, host);
	else
		rc = mailimap_socket_connect(s->imap, host, (uint16_t)mb->port);
	if (rc != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    rc != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		g_free(host);
		return imap_fail(s, error, "connect", rc);
	}
	if (mb->tls == IMAP_TLS_STARTTLS) {
		/* Never fall back to plain text. */
		if (!mailimap_has_extension(s->imap, "STARTTLS") &&
		    (imap_capabilities(s) != MAILIMAP_NO_ERROR ||
		     !mailimap_has_extension(s->imap, "STARTTLS"))) {
			g_free(host);
			g_set_error(error, IMAP_ERROR, IMAP_ERR_TLS,
				    "the server does not offer STARTTLS");
			return -1;
		}
		rc = mailimap_socket_starttls_with_callback(
			s->imap, imap_tls_setup, host);
		if (rc != MAILIMAP_NO_ERROR) {
			g_free(host);
			return imap_fail(s, error, "STARTTLS", rc);
		}
	}
	g_free(host);
	if (mb->tls != IMAP_TLS_NONE && mb->tls_verify)
		return imap_verify(s, mb, error);
	return 0;
}

struct imap_session *
imap_session_open(const struct imap_mailbox *mb, GError **error)
{
	struct imap_session *s = g_new0(struct imap_session, 1);
	int rc;

	s->imap = mailimap_new(0, NULL);
	mailimap_set_timeout(s->imap, (time_t)((mb->timeout_ms + 999) / 1000));
	if (imap_connect(s, mb, error) < 0)
		goto fail;
	if (s->imap->imap_state == MAILIMAP_STATE_NON_AUTHENTICATED) {
		rc = mailimap_login(s->imap, mb->user, mb->password);
		if (rc != MAILIMAP_NO_ERROR) {
			imap_fail(s, error, "login", rc);
			goto fail;
		}
	}
	/* What the server offers after login may differ from before. */
	rc = imap_capabilities(s);
	if (rc != MAILIMAP_NO_ERROR) {
		imap_fail(s, error, "CAPABILITY", rc);
		goto fail;
	}
	s->has_idle = mailimap_has_idle(s->imap);
	s->has_move = mailimap_has_extension(s->imap, "MOVE");
	s->has_uidplus = mailimap_has_uidplus(s->imap);
	g_snprintf(s->describe, sizeof(s->describe), "%s%s%s%s",
		   mb->tls == IMAP_TLS_IMAPS	  ? "imaps"
		   : mb->tls == IMAP_TLS_STARTTLS ? "starttls"
						  : "plain",
		   s->has_idle ? " IDLE" : "", s->has_move ? " MOVE" : "",
		   s->has_uidplus ? " UIDPLUS" : "");
	return s;
fail:
	mailimap_free(s->imap);
	g_free(s);
	return NULL;
}

void
imap_session_close(struct imap_session *s)
{
	if (!s)
		return;
	if (s->imap->imap_stream && !s->broken)
		mailimap_logout(s->imap);
	mailimap_free(s->imap);
	g_free(s);
}

void
imap_session_cancel(struct imap_session *s)
{
	if (s && s->imap->imap_stream)
		mailstream_cancel(s->imap->imap_stream);
}

int
imap_session_has_idle(const struct imap_session *s)
{
	return s->has_idle;
}

const char *
imap_session_describe(const struct imap_session *s)
{
	return s->describe;
}

void
imap_session_create(struct imap_session *s, const char *folder)
{
	mailimap_create(s->imap, folder);
}

int
imap_session_select(struct imap_session *s, const char *folder,
		    uint32_t *uidvalidity, GError **error)
{
	int rc = mailimap_select(s->imap, folder);

	if (rc != MAILIMAP_NO_ERROR)
		return imap_fail(s, error, "SELECT", rc);
	*uidvalidity = s->imap->imap_selection_info
			       ? s->imap->imap_selection_info->sel_uidvalidity
			       : 0;
	return 0;
}

int
imap_session_noop(struct imap_session *s, GError **error)
{
	int rc = mailimap_noop(s->imap);

	return rc == MAILIMAP_NO_ERROR ? 0 : imap_fail(s, error, "NOOP", rc);
}

/* The static attributes of one FETCH response. */
static void
imap_msg_atts(struct mailimap_msg_att *att, struct imap_msg *m)
{
	for (clistiter *it = clist_begin(att->att_list); it;
	     it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;

		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC ||
		    !(st = item->att_data.att_static))
			continue;
		if (st->att_type == MAILIMAP_MSG_ATT_UID)
			m->uid = st->att_data.att_uid;
		else if (st->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
			m->size = st->att_data.att_rfc822_size;
		else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
			 st->att_data.att_body_section &&
			 st->att_data.att_body_section->sec_body_part) {
			m->data = st->att_data.att_body_section->sec_body_part;
			m->len = st->att_data.att_body_section->sec_length;
		}
	}
}

static gint
imap_info_cmp(gconstpointer a, gconstpointer b)
{
	const struct imap_msg_info *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

GArray *
imap_session_list(struct imap_session *s, unsigned max, GError **error)
{
	struct mailimap_set *set = mailimap_set_new_interval(1, 0);
	struct mailimap_fetch_type *ft =
		mailimap_fetch_type_new_fetch_att_list_empty();
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct imap_msg_info));
	clist *result = NULL;
	int rc;

	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_rfc822_size());
	rc = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (rc != MAILIMAP_NO_ERROR) {
		g_array_free(out, TRUE);
		imap_fail(s, error, "UID FETCH (list)", rc);
		return NULL;
	}
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct imap_msg m = { 0 };
		struct imap_msg_info info;

		imap_msg_atts(clist_content(it), &m);
		if (m.uid == 0)
			continue;
		info.uid = m.uid;
		info.size = m.size;
		g_array_append_val(out, info);
	}
	mailimap_fetch_list_free(result);
	g_array_sort(out, imap_info_cmp);
	if (out->len > max)
		g_array_set_size(out, max);
	return out;
}

static void
imap_msg_free(gpointer p)
{
	struct imap_msg *m = p;

	g_free(m->data);
	g_free(m);
}

static struct mailimap_set *
imap_uid_set(const uint32_t *uids, unsigned n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (unsigned i = 0; i < n; i++)
		mailimap_set_add_single(set, uids[i]);
	return set;
}

GPtrArray *
imap_session_fetch(struct imap_session *s, const uint32_t *uids, unsigned n,
		   uint32_t max_size, GError **error)
{
	struct mailimap_set *set = imap_uid_set(uids, n);
	struct mailimap_fetch_type *ft =
		mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_section *sec = mailimap_section_new(NULL);
	GPtrArray *out = g_ptr_array_new_with_free_func(imap_msg_free);
	clist *result = NULL;
	int rc;

	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_rfc822_size());
	mailimap_fetch_type_new_fetch_att_list_add(
		ft, mailimap_fetch_att_new_body_peek_section_partial(sec, 0,
								     max_size));
	rc = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (rc != MAILIMAP_NO_ERROR) {
		g_ptr_array_free(out, TRUE);
		imap_fail(s, error, "UID FETCH", rc);
		return NULL;
	}
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct imap_msg m = { 0 }, *copy;

		imap_msg_atts(clist_content(it), &m);
		if (m.uid == 0 || !m.data)
			continue;
		copy = g_new(struct imap_msg, 1);
		*copy = m;
		copy->data = g_memdup2(m.data, m.len);
		g_ptr_array_add(out, copy);
	}
	mailimap_fetch_list_free(result);
	return out;
}

/* COPY, \Deleted and an expunge of exactly these UIDs (RFC 4315), or a
 * plain EXPUNGE on a server without UIDPLUS. */
static int
imap_copy_delete(struct imap_session *s, struct mailimap_set *set,
		 const char *folder, GError **error)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	int rc = mailimap_uid_copy(s->imap, set, folder);

	if (rc != MAILIMAP_NO_ERROR) {
		mailimap_flag_list_free(fl);
		return imap_fail(s, error, "UID COPY", rc);
	}
	mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	rc = mailimap_uid_store(s->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	if (rc != MAILIMAP_NO_ERROR)
		return imap_fail(s, error, "UID STORE", rc);
	rc = s->has_uidplus ? mailimap_uid_expunge(s->imap, set)
			    : mailimap_expunge(s->imap);
	return rc == MAILIMAP_NO_ERROR ? 0 : imap_fail(s, error, "EXPUNGE", rc);
}

int
imap_session_move(struct imap_session *s, const uint32_t *uids, unsigned n,
		  const char *folder, GError **error)
{
	struct mailimap_set *set;
	int rc;

	if (n == 0)
		return 0;
	set = imap_uid_set(uids, n);
	if (s->has_move) {
		rc = mailimap_uid_move(s->imap, set, folder);
		rc = rc == MAILIMAP_NO_ERROR
			     ? 0
			     : imap_fail(s, error, "UID MOVE", rc);
	} else {
		rc = imap_copy_delete(s, set, folder, error);
	}
	mailimap_set_free(set);
	return rc;
}

/* Waits for the server's socket or wake_fd. Data already buffered by
 * libetpan counts as the server having spoken. */
static int
imap_wait(struct imap_session *s, int wake_fd, int64_t timeout_ms)
{
	struct pollfd pfd[2] = {
		{ .fd = mailimap_idle_get_fd(s->imap), .events = POLLIN },
		{ .fd = wake_fd, .events = POLLIN },
	};
	int64_t deadline = g_get_monotonic_time() / 1000 + timeout_ms;

	if (s->imap->imap_stream->read_buffer_len > 0)
		return 1;
	for (;;) {
		int64_t left = deadline - g_get_monotonic_time() / 1000;
		int r;

		if (left <= 0)
			return 0;
		r = poll(pfd, 2, (int)MIN(left, 60000));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (pfd[1].revents)
			return 2;
		if (pfd[0].revents)
			return 1;
	}
}

int
imap_session_idle(struct imap_session *s, int wake_fd, int64_t timeout_ms,
		  GError **error)
{
	int rc = mailimap_idle(s->imap), w;

	if (rc != MAILIMAP_NO_ERROR)
		return imap_fail(s, error, "IDLE", rc);
	w = imap_wait(s, wake_fd, timeout_ms);
	if (w < 0) {
		int err = errno;

		s->broken = 1;
		g_set_error(error, IMAP_ERROR, IMAP_ERR_NETWORK, "poll: %s",
			    g_strerror(err));
		return -1;
	}
	rc = mailimap_idle_done(s->imap);
	if (rc != MAILIMAP_NO_ERROR)
		return imap_fail(s, error, "IDLE DONE", rc);
	return w;
}
