/*
 * null_milter: a libmilter filter that negotiates what fbld milter
 * negotiates (no replies to connect, MAIL, RCPT, headers and body; no
 * HELO, DATA, end of headers or unknown commands; the same macros) and
 * does nothing else, for bench/milter_postfix.sh: the cost of libmilter
 * and of Postfix's side of the milter protocol, without fbld's own work.
 *
 *   null_milter [--modify] SOCKET
 *
 * SOCKET is libmilter's form (unix:PATH, inet:PORT@HOST). With --modify
 * it asks at end of message for the modifications fbld milter makes to
 * a plain message: a new envelope sender with ENVID and two added
 * headers (fixed values). Prints "milter: listening" once it listens.
 * Stops on SIGTERM (libmilter's handler).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#define NULL_STEPS                                                             \
	(SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOEOH | SMFIP_NOUNKNOWN |         \
	 SMFIP_NR_CONN | SMFIP_NR_HDR | SMFIP_NR_BODY | SMFIP_NR_MAIL |        \
	 SMFIP_NR_RCPT)
#define NULL_TOKEN "ceaaaaaabaaaaaagbaqs73mmjcaaaaaaaaaaaaaaaaa"

/* Set once before smfi_main(), read-only afterwards. */
static int null_modify;

static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	       unsigned long f2, unsigned long f3, unsigned long *pf0,
	       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	char mail[] = "{auth_authen}", eom[] = "i";

	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGFROM | SMFIF_SETSYMLIST);
	*pf1 = f1 & NULL_STEPS;
	*pf2 = *pf3 = 0;
	if (f0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_ENVFROM, mail);
		smfi_setsymlist(ctx, SMFIM_EOM, eom);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	return SMFIS_NOREPLY;
}

static sfsistat
null_envelope(SMFICTX *ctx, char **argv)
{
	return SMFIS_NOREPLY;
}

static sfsistat
null_header(SMFICTX *ctx, char *name, char *value)
{
	return SMFIS_NOREPLY;
}

static sfsistat
null_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	return SMFIS_NOREPLY;
}

static sfsistat
null_eom(SMFICTX *ctx)
{
	char from[] = "<b" NULL_TOKEN "@bounce.bench.invalid>";
	char envid[] = "ENVID=" NULL_TOKEN;
	char ref[] = "X-Fbld-Ref", token[] = NULL_TOKEN;
	char fid[] = "Feedback-ID", fid_value[] = "1:newsletter:fbldmta";

	if (null_modify) {
		smfi_chgfrom(ctx, from, envid);
		smfi_addheader(ctx, ref, token);
		smfi_addheader(ctx, fid, fid_value);
	}
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	char name[] = "null";
	struct smfiDesc desc = {
		.xxfi_name = name,
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGFROM,
		.xxfi_connect = null_connect,
		.xxfi_envfrom = null_envelope,
		.xxfi_envrcpt = null_envelope,
		.xxfi_header = null_header,
		.xxfi_body = null_body,
		.xxfi_eom = null_eom,
		.xxfi_negotiate = null_negotiate,
	};
	char *spec;

	if (argc == 3 && strcmp(argv[1], "--modify") == 0)
		null_modify = 1;
	else if (argc != 2) {
		fprintf(stderr, "usage: null_milter [--modify] SOCKET\n");
		return 2;
	}
	spec = argv[argc - 1];
	if (g_str_has_prefix(spec, "unix:"))
		unlink(spec + 5);
	if (smfi_setconn(spec) != MI_SUCCESS ||
	    smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "null_milter: cannot listen on %s\n", spec);
		return 1;
	}
	fprintf(stderr, "milter: listening socket=%s\n", spec);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
