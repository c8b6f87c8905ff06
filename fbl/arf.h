/*
 * arf: complaint reports. Recognises and reads
 *
 *  - ARF (RFC 5965, RFC 6650): multipart/report with a
 *    message/feedback-report part (Yahoo CFL, AOL-style, ReturnPath and
 *    Abusix relays, DMARC failure reports in ARF form, RFC 6591), the
 *    original as message/rfc822 or text/rfc822-headers, or missing;
 *  - Microsoft JMRP: not multipart/report, the complained-about message
 *    attached with X-HmXmrOriginalRecipient;
 *  - Apple iCloud's mailto unsubscribe (X-Apple-Unsubscribe: true);
 *  - Amazon SES complaint notifications (JSON, possibly SNS-wrapped).
 *
 * The result goes into struct report: kind REPORT_ARF, a feedback block
 * (type, user agent, version, original envelope, arrival date, source IP,
 * reported domain, incidents, the original Message-ID), one recipient per
 * reported recipient (reason "feedback", class "none"; the recipient is
 * NULL when the reporter redacted it beyond recognition), and token hints
 * taken from the original message: TOKEN_HEADER, Return-Path, then the
 * reported envelope sender and envelope id. The recipient is never a
 * hint: reporters redact and hash it.
 *
 * Pure (no I/O, clock or logging). Limits: the feedback part is read up to
 * ARF_FIELDS_MAX bytes and ARF_FIELD_COUNT_MAX fields, a JSON body up to
 * ARF_JSON_MAX bytes; recipients and strings are capped by report.h.
 */
#ifndef FBLD_ARF_H
#define FBLD_ARF_H

#include <gmime/gmime.h>

#include "core/report.h"

#define ARF_FIELDS_MAX (64 * 1024)
#define ARF_FIELD_COUNT_MAX 512
#define ARF_JSON_MAX (1024 * 1024)
#define ARF_JSON_DEPTH_MAX 64

/* An ingest classifier (ingest_classify_fn): 1 when msg is a complaint
 * report of one of the forms above and r was filled, 0 otherwise. */
int arf_classify(void *ud, GMimeMessage *msg, const char *raw, size_t len,
		 struct report *r);

/* The variants that are not RFC 5965 (arf_other.c); same contract. */
int arf_jmrp(GMimeMessage *msg, struct report *r);
int arf_apple_unsubscribe(GMimeMessage *msg, struct report *r);
int arf_ses(GMimeMessage *msg, struct report *r);

/* Shared by both files: starts r as a complaint report and returns its
 * feedback block; adds one "feedback" recipient (address may be NULL). */
struct report_feedback *arf_begin(struct report *r);
void arf_add_rcpt(struct report *r, const char *address);
/* A Feedback-Type value as a lower-case token, "other" when it is not
 * one (RFC 5965 section 7.3 lets new types appear). */
char *arf_type_name(const char *v);
/* Token hints and the Message-ID from the original message's headers. */
void arf_original_hints(GMimeObject *orig, struct report *r);

#endif
