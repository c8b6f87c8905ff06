/*
 * fbl_mkreports: writes N complaint reports about mail "sent" with valid
 * tokens, for the IMAP integration tests and bench/imap_ingest.sh.
 *
 *   fbl_mkreports --key-file F [--slot 1] --out DIR --count N
 *                 [--accounts K] [--first S] [--maildir] [--garbage G]
 *
 * Report i (0-based) is about send serial S+i of account 1 + i % K, sent
 * to user-i@example.org. The reports vary the way real ones do: the
 * original attached as message/rfc822 with our header, as
 * text/rfc822-headers with only the Return-Path, or both. --garbage G
 * adds G messages that are nothing at all. With --maildir the files go to
 * DIR/new under maildir names; else DIR/NNNNNN.eml.
 *
 * Prints one line per file: name, kind ("arf" or "garbage"), account,
 * serial, recipient, original Message-ID (tab-separated; "-" when none).
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "verp/token.h"

struct mk {
	char *key_file;
	int slot;
	char *out;
	int count, accounts, first, maildir, garbage;
	struct token_keyring *kr;
};

static char *
mk_report(const struct mk *o, int i, const char *tok, const char *msgid)
{
	char *rcpt = g_strdup_printf("user-%d@example.org", i);
	char *ref = i % 3 == 1 ? g_strdup("")
			       : g_strdup_printf("X-Fbld-Ref: %s\n", tok);
	char *orig, *part3, *out;

	orig = g_strdup_printf("Return-Path: <b%s@bounce.example.net>\n"
			       "%s"
			       "From: Shop %d <news@shop%d.example.com>\n"
			       "To: %s\n"
			       "Subject: Offer number %d\n"
			       "Date: Thu, 01 Jan 2026 10:00:00 +0000\n"
			       "Message-ID: <%s>\n"
			       "Feedback-ID: %d:fbld\n",
			       tok, ref, i, i % 7, rcpt, i, msgid,
			       1 + i % o->accounts);
	g_free(ref);
	part3 = i % 3 == 1
			? g_strdup_printf("Content-Type: text/rfc822-headers\n"
					  "\n%s",
					  orig)
			: g_strdup_printf("Content-Type: message/rfc822\n"
					  "Content-Disposition: inline\n"
					  "\n%s\nSpecial offer %d.\n",
					  orig, i);
	out = g_strdup_printf(
		"Return-Path: <>\n"
		"From: Mail Feedback <feedback@fbl.example.net>\n"
		"To: fbl@provider.example\n"
		"Subject: Complaint %d\n"
		"Date: Fri, 02 Jan 2026 10:00:00 +0000\n"
		"Message-ID: <report-%d-%d@fbl.example.net>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=feedback-report;\n"
		"\tboundary=\"b%d\"\n"
		"\n"
		"--b%d\n"
		"Content-Type: text/plain\n"
		"\n"
		"This is an abuse report for a message from 192.0.2.%d.\n"
		"--b%d\n"
		"Content-Type: message/feedback-report\n"
		"\n"
		"Feedback-Type: abuse\n"
		"User-Agent: fbl-mkreports/1.0\n"
		"Version: 1\n"
		"Original-Mail-From: <b%s@bounce.example.net>\n"
		"Original-Rcpt-To: %s\n"
		"Arrival-Date: Thu, 01 Jan 2026 10:00:05 +0000\n"
		"Source-IP: 192.0.2.%d\n"
		"Reported-Domain: shop%d.example.com\n"
		"\n"
		"--b%d\n"
		"%s"
		"--b%d--\n",
		i, i, o->first, i, i, 1 + i % 250, i, tok, rcpt, 1 + i % 250,
		i % 7, i, part3, i);
	g_free(orig);
	g_free(part3);
	g_free(rcpt);
	return out;
}

static char *
mk_garbage(int i)
{
	return g_strdup_printf("this is not an email at all %d\n\x01\x02 "
			       "<<<>>> random bytes\n",
			       i);
}

static int
mk_write(const struct mk *o, int i, const char *kind, const char *data,
	 char **name)
{
	char *path;
	GError *e = NULL;
	int ok;

	if (o->maildir)
		*name = g_strdup_printf("%ld.M%dP%d.fbltest", (long)time(NULL),
					i, (int)getpid());
	else
		*name = g_strdup_printf("%06d-%s.eml", i, kind);
	path = o->maildir ? g_build_filename(o->out, "new", *name, NULL)
			  : g_build_filename(o->out, *name, NULL);
	ok = g_file_set_contents(path, data, -1, &e);
	if (!ok) {
		fprintf(stderr, "fbl_mkreports: %s\n", e->message);
		g_error_free(e);
	}
	g_free(path);
	return ok ? 0 : -1;
}

static int
mk_load_key(struct mk *o)
{
	char *secret = NULL;
	gsize len;
	GError *e = NULL;

	if (!g_file_get_contents(o->key_file, &secret, &len, &e)) {
		fprintf(stderr, "fbl_mkreports: %s\n", e->message);
		g_error_free(e);
		return -1;
	}
	g_strchomp(secret);
	o->kr = token_keyring_new();
	if (token_keyring_add(o->kr, "k", (unsigned)o->slot, TOKEN_KEY_SIGN,
			      secret, strlen(secret), &e) < 0) {
		fprintf(stderr, "fbl_mkreports: %s\n", e->message);
		g_error_free(e);
		g_free(secret);
		return -1;
	}
	g_free(secret);
	return 0;
}

static int
mk_run(struct mk *o)
{
	int64_t now_ms = g_get_real_time() / 1000;

	for (int i = 0; i < o->count; i++) {
		uint32_t account = 1 + (uint32_t)(i % o->accounts);
		uint64_t serial = (uint64_t)o->first + (uint64_t)i;
		char tok[TOKEN_LEN + 1], *msgid, *data, *name;

		if (token_mint(o->kr, account, serial, now_ms, NULL, tok,
			       NULL) < 0)
			return -1;
		msgid = g_strdup_printf("m%d.%d@shop.example.com", i, o->first);
		data = mk_report(o, i, tok, msgid);
		if (mk_write(o, i, "arf", data, &name) < 0)
			return -1;
		printf("%s\tarf\t%u\t%" G_GUINT64_FORMAT
		       "\tuser-%d@example.org\t%s\n",
		       name, account, serial, i, msgid);
		g_free(name);
		g_free(data);
		g_free(msgid);
	}
	for (int i = 0; i < o->garbage; i++) {
		char *data = mk_garbage(i), *name;

		if (mk_write(o, o->count + i, "garbage", data, &name) < 0)
			return -1;
		printf("%s\tgarbage\t-\t-\t-\t-\n", name);
		g_free(name);
		g_free(data);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct mk o = { .slot = 1, .accounts = 5, .first = 1 };
	GOptionEntry entries[] = {
		{ "key-file", 0, 0, G_OPTION_ARG_FILENAME, &o.key_file,
		  "Token key (as fbld reads it)", "F" },
		{ "slot", 0, 0, G_OPTION_ARG_INT, &o.slot, "Key slot", "N" },
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &o.out, "Directory",
		  "DIR" },
		{ "count", 0, 0, G_OPTION_ARG_INT, &o.count, "Reports", "N" },
		{ "accounts", 0, 0, G_OPTION_ARG_INT, &o.accounts, "Accounts",
		  "K" },
		{ "first", 0, 0, G_OPTION_ARG_INT, &o.first,
		  "First message serial", "S" },
		{ "garbage", 0, 0, G_OPTION_ARG_INT, &o.garbage,
		  "Messages that are not reports", "G" },
		{ "maildir", 0, 0, G_OPTION_ARG_NONE, &o.maildir,
		  "Write into DIR/new", NULL },
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new("- write test reports");
	GError *e = NULL;
	int rc;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &e) || !o.key_file ||
	    !o.out || o.accounts < 1 || o.first < 1) {
		fprintf(stderr, "fbl_mkreports: %s\n",
			e ? e->message : "--key-file and --out are required");
		return 2;
	}
	g_option_context_free(ctx);
	if (mk_load_key(&o) < 0)
		return 1;
	rc = mk_run(&o);
	token_keyring_free(o.kr);
	g_free(o.key_file);
	g_free(o.out);
	return rc < 0 ? 1 : 0;
}
