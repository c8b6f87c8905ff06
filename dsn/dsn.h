/*
 * dsn: bounces and auto-replies. Two classifiers for core/ingest:
 *
 *   dsn_classify        RFC 3464 delivery status notifications (RFC 3463
 *                       codes, RFC 6533 UTF-8 addresses) and the plain-text
 *                       bounces real MTAs still send (qmail, Exim, Exchange,
 *                       Notes, Yahoo, GMX, ...): per recipient the final and
 *                       original recipient, action, status, remote MTA,
 *                       diagnostic, and a reason from the taxonomy of
 *                       ../shared/formats.md with its hard/soft class.
 *   dsn_autoreply_classify
 *                       RFC 3834 auto-replies and vacation messages: kind
 *                       autoreply, reason vacation, class none.
 *
 * Both are pure: they read the GMimeMessage the router parsed once and fill
 * the report; no I/O, no clock, no logging, no mutable state (the tables
 * are const). ARF reports (multipart/report; report-type=feedback-report)
 * and DMARC aggregate reports are left to fbl/: both return 0 for them.
 *
 * Token hints (Original-Envelope-Id, Return-Path and the reference header
 * of the returned message or headers) are added to the report; the router
 * adds the delivery headers and resolves them.
 *
 * Limits on untrusted input: at most DSN_TEXT_MAX bytes of decoded text per
 * message are read (text parts are decoded only up to that bound, attachments
 * that are not text are never decoded), DSN_LINES_MAX lines are scanned,
 * MIME nesting is followed DSN_DEPTH_MAX levels deep, and recipients are
 * capped by REPORT_RCPT_MAX. Work is linear in the text read.
 */
#ifndef FBLD_DSN_H
#define FBLD_DSN_H

#include <gmime/gmime.h>

#include "core/report.h"

#define DSN_TEXT_MAX (256 * 1024)
#define DSN_LINES_MAX 20000
#define DSN_DEPTH_MAX 12

/* ingest_classify_fn: bounces (ud unused). */
int dsn_classify(void *ud, GMimeMessage *msg, const char *raw, size_t len,
		 struct report *r);

/* ingest_classify_fn: auto-replies (ud unused). Register it after
 * dsn_classify: a bounce may carry Auto-Submitted too. */
int dsn_autoreply_classify(void *ud, GMimeMessage *msg, const char *raw,
			   size_t len, struct report *r);

/* The class of a reason (formats.md): "hard" for userunknown, hostunknown,
 * hasmoved, and notaccept with a 5xx status (status may be NULL: then
 * notaccept is hard); "none" for feedback, vacation and delivered; "soft"
 * for every other reason. */
const char *dsn_reason_class(const char *reason, const char *status);

/* 1 when name is one of the taxonomy's reasons. */
int dsn_reason_known(const char *name);

#endif
