/*
 * milter_client: the MTA side of the milter protocol (version 6), written
 * from the protocol description (Sendmail's libmilter/docs, Postfix's
 * milter8.c behaviour, ../shared/notes/mta_integration.md section 2.4),
 * independently of libmilter, so that tests can see what miltertest
 * cannot: the envelope sender change (SMFIR_CHGFROM).
 *
 *   milter_client [OPTIONS] SOCKET < MESSAGE
 *
 * SOCKET is inet:HOST:PORT or unix:PATH. It connects, negotiates, sends
 * connect, HELO, MAIL, RCPT, DATA, the headers, the body (LF line ends
 * become CRLF, as in SMTP) and end of message, and prints every reply
 * and modification request, one per line:
 *
 *   mail continue | rcpt <a@b> reject 550 5.7.1 text | ...
 *   chgfrom <addr> ENVID=...
 *   addheader Name: value            insheader 0 Name: value
 *   chgheader Name 2: value          chgheader Name 1 (delete)
 *   delrcpt <a@b>      addrcpt <a@b>      quarantine reason
 *   replbody 1234      (the body goes to --body-out FILE)
 *   eom continue | eom replycode 451 4.7.1 text | eom accept | ...
 *
 * --repeat N sends the message N times on one connection and prints the
 * round-trip time of each transaction (MAIL to the final EOM reply),
 * median and 99th percentile, for benchmarks.
 *
 * Exit status: 0 when the conversation completed, 1 on a protocol or
 * socket error, 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/fdio.h"

/* Commands (MTA to filter) and replies (filter to MTA). */
#define C_ABORT 'A'
#define C_BODY 'B'
#define C_CONNECT 'C'
#define C_MACRO 'D'
#define C_EOM 'E'
#define C_HELO 'H'
#define C_HEADER 'L'
#define C_MAIL 'M'
#define C_EOH 'N'
#define C_OPTNEG 'O'
#define C_QUIT 'Q'
#define C_RCPT 'R'
#define C_DATA 'T'

/* Protocol flags: steps the filter may ask us to skip. */
#define P_NOCONNECT 0x01
#define P_NOHELO 0x02
#define P_NOMAIL 0x04
#define P_NORCPT 0x08
#define P_NOBODY 0x10
#define P_NOHDRS 0x20
#define P_NOEOH 0x40
#define P_NOUNKNOWN 0x100
#define P_NODATA 0x200
/* ... and steps it may ask us to expect no reply for. */
#define P_NR_HDR 0x80
#define P_NR_CONN 0x1000
#define P_NR_HELO 0x2000
#define P_NR_MAIL 0x4000
#define P_NR_RCPT 0x8000
#define P_NR_DATA 0x10000
#define P_NR_EOH 0x40000
#define P_NR_BODY 0x80000
#define P_OFFER (0x3ff | 0xff000)
#define ACTIONS_ALL 0x1ff
#define BODY_CHUNK 65535

struct client {
	int fd;
	uint32_t pflags;   /* what the filter asked us to skip */
	GPtrArray *macros; /* "S:name=value" */
	const char *body_out;
	int quiet;    /* --repeat: no per-message lines */
	GString *pkt; /* last packet's data */
	char cmd;     /* last packet's command */
};

/* One packet in one write: split writes meet Nagle's algorithm and the
 * peer's delayed ACK, 40 ms each on Linux. */
static int
cl_send(struct client *c, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);
	GString *p = g_string_sized_new(len + 5);
	int r;

	g_string_append_len(p, (const char *)&n, 4);
	g_string_append_c(p, cmd);
	if (len)
		g_string_append_len(p, data, (gssize)len);
	r = fd_write_all(c->fd, p->str, p->len);
	g_string_free(p, TRUE);
	if (r < 0)
		fprintf(stderr, "milter_client: write: %s\n", strerror(errno));
	return r;
}

static int
cl_recv(struct client *c)
{
	uint32_t n;

	if (fd_read_full(c->fd, &n, 4) < 0) {
		fprintf(stderr, "milter_client: connection closed\n");
		return -1;
	}
	n = ntohl(n);
	if (n == 0 || n > 16 * 1024 * 1024) {
		fprintf(stderr, "milter_client: bad packet length %u\n", n);
		return -1;
	}
	g_string_set_size(c->pkt, n - 1);
	if (fd_read_full(c->fd, &c->cmd, 1) < 0 ||
	    fd_read_full(c->fd, c->pkt->str, n - 1) < 0) {
		fprintf(stderr, "milter_client: short packet\n");
		return -1;
	}
	return 0;
}

/* Prints a final reply; returns 1 when the transaction goes on. */
static int
cl_final(struct client *c, const char *stage)
{
	const char *what;

	switch (c->cmd) {
	case 'c':
		what = "continue";
		break;
	case 'a':
		what = "accept";
		break;
	case 'r':
		what = "reject";
		break;
	case 't':
		what = "tempfail";
		break;
	case 'd':
		what = "discard";
		break;
	case 's':
		what = "skip";
		break;
	case 'y':
		if (!c->quiet)
			printf("%s replycode %.*s\n", stage, (int)c->pkt->len,
			       c->pkt->str);
		return 0;
	default:
		fprintf(stderr, "milter_client: %s: unexpected reply '%c'\n",
			stage, c->cmd);
		return -1;
	}
	if (!c->quiet)
		printf("%s %s\n", stage, what);
	return c->cmd == 'c' || c->cmd == 's';
}

/* Sends the macros of one stage. */
static int
cl_macros(struct client *c, char stage)
{
	GString *d = g_string_new(NULL);
	int r = 0;

	g_string_append_c(d, stage);
	for (guint i = 0; i < c->macros->len; i++) {
		const char *m = c->macros->pdata[i];
		const char *eq = strchr(m + 2, '=');

		if (m[0] != stage || !eq)
			continue;
		g_string_append_len(d, m + 2, eq - (m + 2));
		g_string_append_c(d, '\0');
		g_string_append(d, eq + 1);
		g_string_append_c(d, '\0');
	}
	if (d->len > 1)
		r = cl_send(c, C_MACRO, d->str, d->len);
	g_string_free(d, TRUE);
	return r;
}

/* The "no reply" flag of a command. */
static uint32_t
cl_nr(char cmd)
{
	switch (cmd) {
	case C_CONNECT:
		return P_NR_CONN;
	case C_HELO:
		return P_NR_HELO;
	case C_MAIL:
		return P_NR_MAIL;
	case C_RCPT:
		return P_NR_RCPT;
	case C_DATA:
		return P_NR_DATA;
	case C_HEADER:
		return P_NR_HDR;
	case C_EOH:
		return P_NR_EOH;
	case C_BODY:
		return P_NR_BODY;
	}
	return 0;
}

/* A command that gets one reply (unless the filter asked for none);
 * 1 go on, 0 stop, -1 error. */
static int
cl_step(struct client *c, char cmd, const void *data, size_t len,
	const char *stage)
{
	if (cl_send(c, cmd, data, len) < 0)
		return -1;
	if (c->pflags & cl_nr(cmd)) {
		if (!c->quiet)
			printf("%s (no reply)\n", stage);
		return 1;
	}
	do {
		if (cl_recv(c) < 0)
			return -1;
	} while (c->cmd == 'p');
	return cl_final(c, stage);
}

static int
cl_negotiate(struct client *c)
{
	uint32_t v[3] = { htonl(6), htonl(ACTIONS_ALL), htonl(P_OFFER) };

	if (cl_send(c, C_OPTNEG, v, sizeof(v)) < 0 || cl_recv(c) < 0)
		return -1;
	if (c->cmd != C_OPTNEG || c->pkt->len < 12) {
		fprintf(stderr, "milter_client: bad negotiation reply\n");
		return -1;
	}
	memcpy(v, c->pkt->str, 12);
	c->pflags = ntohl(v[2]);
	printf("negotiated version=%u actions=0x%x protocol=0x%x\n",
	       ntohl(v[0]), ntohl(v[1]), c->pflags);
	return 0;
}

static int
cl_connect_info(struct client *c, int local)
{
	/* What Postfix's cleanup says for pickup mail, or a TCP client. */
	const char *host = local ? "localhost" : "client.test.invalid";
	uint16_t port = htons(local ? 0 : 40025);
	GString *d = g_string_new(host);
	int r;

	if (c->pflags & P_NOCONNECT) {
		g_string_free(d, TRUE);
		return 1;
	}
	g_string_append_c(d, '\0');
	g_string_append_c(d, '4');
	g_string_append_len(d, (const char *)&port, 2);
	g_string_append(d, "127.0.0.1");
	g_string_append_c(d, '\0');
	r = cl_macros(c, 'C');
	if (r == 0)
		r = cl_step(c, C_CONNECT, d->str, d->len, "connect");
	g_string_free(d, TRUE);
	if (r == 1 && !(c->pflags & P_NOHELO))
		r = cl_step(c, C_HELO, "client.test.invalid", 20, "helo");
	return r;
}

/* ---- the message ------------------------------------------------------- */

struct message {
	GPtrArray *names, *values;
	GString *body; /* CRLF line ends */
};

static void
msg_parse(const char *raw, size_t len, struct message *m)
{
	const char *p = raw, *end = raw + len;

	m->names = g_ptr_array_new_with_free_func(g_free);
	m->values = g_ptr_array_new_with_free_func(g_free);
	m->body = g_string_new(NULL);
	while (p < end) {
		const char *line = p;
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *colon, *v;

		p = nl ? nl + 1 : end;
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t') {
			/* A continuation line: part of the last value. */
			if (m->values->len) {
				char **last =
					(char **)&m->values
						->pdata[m->values->len - 1];
				char *nv = g_strdup_printf("%s\n%.*s", *last,
							   (int)n, line);
				g_free(*last);
				*last = nv;
			}
			continue;
		}
		colon = memchr(line, ':', n);
		if (!colon)
			continue;
		g_ptr_array_add(m->names, g_strndup(line, colon - line));
		for (v = colon + 1; v < line + n && *v == ' '; v++)
			;
		g_ptr_array_add(m->values, g_strndup(v, line + n - v));
	}
	for (const char *b = p; b < end; b++) {
		if (*b == '\n' && (b == p || b[-1] != '\r'))
			g_string_append_c(m->body, '\r');
		g_string_append_c(m->body, *b);
	}
}

static void
msg_clear(struct message *m)
{
	g_ptr_array_free(m->names, TRUE);
	g_ptr_array_free(m->values, TRUE);
	g_string_free(m->body, TRUE);
}

/* Prints one modification request; 1 when it was one. */
static int
cl_modification(struct client *c)
{
	const char *d = c->pkt->str;
	size_t len = c->pkt->len;
	uint32_t idx;

	switch (c->cmd) {
	case 'e':
		printf("chgfrom %s%s%s\n", d, strlen(d) + 1 < len ? " " : "",
		       strlen(d) + 1 < len ? d + strlen(d) + 1 : "");
		return 1;
	case 'h':
		printf("addheader %s: %s\n", d, d + strlen(d) + 1);
		return 1;
	case 'i':
	case 'm':
		memcpy(&idx, d, 4);
		d += 4;
		if (c->cmd == 'm' && !*(d + strlen(d) + 1))
			printf("chgheader %s %u (delete)\n", d, ntohl(idx));
		else
			printf("%s %s %u: %s\n",
			       c->cmd == 'i' ? "insheader" : "chgheader", d,
			       ntohl(idx), d + strlen(d) + 1);
		return 1;
	case '-':
	case '+':
	case '2':
		printf("%s %s\n", c->cmd == '-' ? "delrcpt" : "addrcpt", d);
		return 1;
	case 'q':
		printf("quarantine %s\n", d);
		return 1;
	case 'b':
		printf("replbody %zu\n", len);
		if (c->body_out) {
			FILE *f = fopen(c->body_out, "ab");

			if (f) {
				fwrite(d, 1, len, f);
				fclose(f);
			}
		}
		return 1;
	case 'p':
		return 1;
	}
	return 0;
}

static int
cl_eom(struct client *c)
{
	if (cl_macros(c, 'E') < 0 || cl_send(c, C_EOM, NULL, 0) < 0)
		return -1;
	for (;;) {
		if (cl_recv(c) < 0)
			return -1;
		if (c->quiet && c->cmd != 'c' && c->cmd != 'a' &&
		    c->cmd != 'r' && c->cmd != 't' && c->cmd != 'd' &&
		    c->cmd != 'y')
			continue;
		if (!c->quiet && cl_modification(c))
			continue;
		return cl_final(c, "eom") < 0 ? -1 : 0;
	}
}

static int
cl_envelope(struct client *c, const char *from, char **from_args, char **rcpts)
{
	GString *d = g_string_new(NULL);
	int r = 1;

	if (!(c->pflags & P_NOMAIL)) {
		g_string_append_printf(d, "<%s>", from);
		g_string_append_c(d, '\0');
		for (char **a = from_args; a && *a; a++) {
			g_string_append(d, *a);
			g_string_append_c(d, '\0');
		}
		r = cl_macros(c, 'M') < 0
			    ? -1
			    : cl_step(c, C_MAIL, d->str, d->len, "mail");
	}
	for (char **rc = rcpts; r == 1 && rc && *rc; rc++) {
		char stage[300];

		if (c->pflags & P_NORCPT)
			break;
		g_string_printf(d, "<%s>", *rc);
		g_string_append_c(d, '\0');
		g_snprintf(stage, sizeof(stage), "rcpt <%s>", *rc);
		r = cl_macros(c, 'R') < 0
			    ? -1
			    : cl_step(c, C_RCPT, d->str, d->len, stage);
		/* A refused recipient does not end the transaction. */
		if (r == 0 && c->cmd != 'a' && c->cmd != 'd')
			r = 1;
	}
	g_string_free(d, TRUE);
	return r;
}

static int
cl_content(struct client *c, const struct message *m)
{
	int r = 1;

	if (!(c->pflags & P_NODATA))
		r = cl_step(c, C_DATA, NULL, 0, "data");
	for (guint i = 0; r == 1 && i < m->names->len; i++) {
		GString *d;

		if (c->pflags & P_NOHDRS)
			break;
		d = g_string_new(m->names->pdata[i]);
		g_string_append_c(d, '\0');
		g_string_append(d, m->values->pdata[i]);
		g_string_append_c(d, '\0');
		r = cl_step(c, C_HEADER, d->str, d->len, "header");
		g_string_free(d, TRUE);
	}
	if (r == 1 && !(c->pflags & P_NOEOH))
		r = cl_step(c, C_EOH, NULL, 0, "eoh");
	for (size_t off = 0;
	     r == 1 && off < m->body->len && !(c->pflags & P_NOBODY);
	     off += BODY_CHUNK)
		r = cl_step(c, C_BODY, m->body->str + off,
			    MIN((size_t)BODY_CHUNK, m->body->len - off),
			    "body");
	return r;
}

static int
cl_transaction(struct client *c, const char *from, char **from_args,
	       char **rcpts, const struct message *m)
{
	int r = cl_envelope(c, from, from_args, rcpts);

	if (r == 1)
		r = cl_content(c, m);
	if (r == 1)
		return cl_eom(c);
	if (r == 0)
		/* Refused before the end: end the transaction as an MTA
		 * does. */
		return cl_send(c, C_ABORT, NULL, 0);
	return -1;
}

static int
cl_open(const char *spec)
{
	int fd = -1;

	if (g_str_has_prefix(spec, "unix:")) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		g_strlcpy(sun.sun_path, spec + 5, sizeof(sun.sun_path));
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(fd);
			fd = -1;
		}
	} else if (g_str_has_prefix(spec, "inet:")) {
		char *host = g_strdup(spec + 5);
		char *colon = strrchr(host, ':');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

		if (colon) {
			*colon = '\0';
			if (getaddrinfo(host, colon + 1, &hints, &ai) == 0) {
				fd = socket(ai->ai_family, SOCK_STREAM, 0);
				if (fd >= 0 && connect(fd, ai->ai_addr,
						       ai->ai_addrlen) < 0) {
					close(fd);
					fd = -1;
				}
				/* As Postfix does on loopback: commands
				 * without replies follow each other. */
				if (fd >= 0)
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
						   &(int){ 1 }, sizeof(int));
				freeaddrinfo(ai);
			}
		}
		g_free(host);
	}
	if (fd < 0)
		fprintf(stderr, "milter_client: cannot connect to %s\n", spec);
	return fd;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cl_run(struct client *c, const char *from, char **from_args, char **rcpts,
       const struct message *m, int local, int repeat)
{
	int64_t *t = g_new0(int64_t, (size_t)repeat);
	int r = cl_negotiate(c);

	if (r == 0)
		r = cl_connect_info(c, local) == 1 ? 0 : -1;
	c->quiet = repeat > 1;
	for (int i = 0; r == 0 && i < repeat; i++) {
		int64_t t0 = g_get_monotonic_time();

		r = cl_transaction(c, from, from_args, rcpts, m);
		t[i] = g_get_monotonic_time() - t0;
	}
	if (r == 0 && repeat > 1) {
		qsort(t, (size_t)repeat, sizeof(*t), cmp_i64);
		printf("transactions=%d median_us=%" G_GINT64_FORMAT
		       " p99_us=%" G_GINT64_FORMAT "\n",
		       repeat, t[repeat / 2], t[(repeat * 99) / 100]);
	}
	g_free(t);
	if (r == 0)
		cl_send(c, C_QUIT, NULL, 0);
	return r;
}

int
main(int argc, char **argv)
{
	char *from = NULL, *body_out = NULL, **from_args = NULL, **rcpts = NULL,
	     **macros = NULL;
	int local = 0, repeat = 1, rc = 1;
	GOptionEntry entries[] = {
		{ "from", 'f', 0, G_OPTION_ARG_STRING, &from, "Envelope sender",
		  "ADDR" },
		{ "from-arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &from_args,
		  "ESMTP argument of MAIL FROM (repeatable)", "ARG" },
		{ "rcpt", 'r', 0, G_OPTION_ARG_STRING_ARRAY, &rcpts,
		  "Envelope recipient (repeatable)", "ADDR" },
		{ "macro", 'm', 0, G_OPTION_ARG_STRING_ARRAY, &macros,
		  "Macro for a stage C, M, R or E (repeatable)",
		  "S:NAME=VALUE" },
		{ "local", 0, 0, G_OPTION_ARG_NONE, &local,
		  "Connect as Postfix does for pickup (sendmail) mail", NULL },
		{ "repeat", 'n', 0, G_OPTION_ARG_INT, &repeat,
		  "Transactions on one connection (timing mode)", "N" },
		{ "body-out", 0, 0, G_OPTION_ARG_FILENAME, &body_out,
		  "Append a replaced body to FILE", "FILE" },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new("SOCKET < MESSAGE");
	GError *e = NULL;
	struct client c = { .fd = -1 };
	struct message m;
	char *raw = NULL;
	gsize len = 0;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &e) || argc != 2 ||
	    !from || !rcpts || repeat < 1) {
		fprintf(stderr, "milter_client: %s\n",
			e ? e->message
			  : "give SOCKET, --from and --rcpt (see --help)");
		g_clear_error(&e);
		g_option_context_free(ctx);
		return 2;
	}
	g_option_context_free(ctx);
	{
		GIOChannel *in = g_io_channel_unix_new(0);

		g_io_channel_set_encoding(in, NULL, NULL);
		g_io_channel_read_to_end(in, &raw, &len, NULL);
		g_io_channel_unref(in);
	}
	msg_parse(raw ? raw : "", len, &m);
	c.macros = g_ptr_array_new();
	for (char **mc = macros; mc && *mc; mc++)
		if (strlen(*mc) > 2 && (*mc)[1] == ':')
			g_ptr_array_add(c.macros, *mc);
	c.body_out = body_out;
	c.pkt = g_string_new(NULL);
	if ((c.fd = cl_open(argv[1])) >= 0)
		rc = cl_run(&c, from, from_args, rcpts, &m, local, repeat) == 0
			     ? 0
			     : 1;
	if (c.fd >= 0)
		close(c.fd);
	g_string_free(c.pkt, TRUE);
	g_ptr_array_free(c.macros, TRUE);
	msg_clear(&m);
	g_free(raw);
	g_free(from);
	g_free(body_out);
	g_strfreev(from_args);
	g_strfreev(rcpts);
	g_strfreev(macros);
	return rc;
}
