/*
 * report: what one inbound message (a bounce, a complaint, a DMARC report,
 * an auto-reply, or none of these) was found to say. Classifiers fill it;
 * `fbld parse` prints it (report_to_json, the JSON Lines object of
 * ../shared/formats.md); the daemon turns it into events.
 *
 * The shape only: core knows nothing of how DSN, ARF or DMARC are parsed.
 * Every string is owned by the report (g_strdup'd in, freed by
 * report_free). Classifiers cap what they add (REPORT_RCPT_MAX recipients,
 * REPORT_DMARC_MAX records, REPORT_FIELD_MAX bytes per string, longer ones
 * cut) so that hostile input cannot grow a report without bound.
 */
#ifndef FBLD_REPORT_H
#define FBLD_REPORT_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdint.h>

#define REPORT_RCPT_MAX 1000
#define REPORT_DMARC_MAX 100000
#define REPORT_FIELD_MAX 4096
#define REPORT_HINT_MAX 32

enum report_kind {
	REPORT_NOT_FEEDBACK,
	REPORT_DSN,
	REPORT_ARF,
	REPORT_DMARC_AGGREGATE,
	REPORT_AUTOREPLY,
};

/* One recipient of a DSN, the reported recipient of an ARF report, or the
 * sender of an auto-reply. Any field may be NULL. */
struct report_rcpt {
	char *recipient;
	char *original_recipient;
	char *action;	  /* failed, delayed, delivered, relayed, expanded */
	char *status;	  /* RFC 3463 code as found or inferred */
	char *reason;	  /* taxonomy of ../shared/formats.md */
	char *klass;	  /* hard, soft, none */
	char *diagnostic; /* "smtp; 550 5.1.1 ..." */
	char *remote_mta;
};

struct report_feedback {
	char *type; /* abuse, fraud, virus, other, not-spam, opt-out,
		       auth-failure */
	char *user_agent;
	char *version;
	char *original_mail_from;
	GPtrArray *original_rcpt_to; /* char * */
	char *arrival_date;
	char *source_ip;
	char *reported_domain;
	char *original_message_id;
	int64_t incidents; /* 1 when absent */
};

struct report_dmarc_record {
	char *source_ip;
	int64_t count;
	char *disposition;
	char *dkim;
	char *spf;
	char *header_from;
};

struct report_dmarc {
	char *org;
	char *report_id;
	int64_t begin;
	int64_t end;
	char *domain;
	GPtrArray *records; /* struct report_dmarc_record * */
};

/* The token search result; valid = -1 when no token was looked for. */
struct report_token {
	int valid; /* 1 valid, 0 invalid, -1 none found */
	char *account;
	char *message;
	char *key;
	char *error;
	uint32_t account_id;
	uint64_t serial;
};

struct report {
	enum report_kind kind;
	GPtrArray *rcpts; /* struct report_rcpt * */
	struct report_feedback *feedback;
	struct report_dmarc *dmarc;
	/* Strings where the token may be, best first: addresses, ENVID,
	 * header values. Filled by classifiers and the router. */
	GPtrArray *token_hints;
	struct report_token token;
	char *error;
};

struct report *report_new(void);
void report_free(struct report *r);

const char *report_kind_name(enum report_kind kind);

/* Adds a recipient; returns it, or NULL when REPORT_RCPT_MAX is reached. */
struct report_rcpt *report_add_rcpt(struct report *r);
/* Adds a token hint (copied, at most REPORT_HINT_MAX, duplicates skipped). */
void report_add_hint(struct report *r, const char *hint);
/* g_strdup of at most REPORT_FIELD_MAX bytes of s (NULL stays NULL). */
char *report_strdup(const char *s);
/* Sets r->error if not yet set (the first reason is the most telling). */
void report_set_error(struct report *r, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

struct report_feedback *report_feedback_new(void);
struct report_dmarc *report_dmarc_new(void);
void report_dmarc_free(struct report_dmarc *d);
struct report_dmarc_record *report_dmarc_add(struct report_dmarc *d);

/* The JSON object of ../shared/formats.md; file names the input. */
JsonNode *report_to_json(const struct report *r, const char *file);
/* One line of JSON, no trailing newline; caller frees. */
char *report_to_json_line(const struct report *r, const char *file);

/* A printer of report lines for many reports in a row (fbld parse): the
 * same text as report_to_json_line, but the JSON tree of the members every
 * report has (file, kind, token, recipients, error) is kept and its nodes
 * reused, and one generator writes into one buffer. A report with a
 * feedback or a DMARC part is built whole, as report_to_json does. */
struct report_printer;

struct report_printer *report_printer_new(void);
/* The line of r, no trailing newline, *len bytes; owned by p and valid
 * until its next call. */
const char *report_printer_line(struct report_printer *p,
				const struct report *r, const char *file,
				size_t *len);
void report_printer_free(struct report_printer *p);

#endif
