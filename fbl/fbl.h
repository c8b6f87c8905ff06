/*
 * fbl: complaint and report intake. This header wires the module's
 * classifiers into the ingest router and holds the small MIME helpers the
 * ARF and DMARC parsers share.
 *
 *   fbl/arf    ARF complaints (RFC 5965, RFC 6650) and the variants seen
 *              in practice (JMRP, Apple unsubscribe, SES notifications)
 *   fbl/dmarc  DMARC aggregate reports (RFC 7489 XML, gzip, zip)
 *   fbl/imap   the IMAP poller that feeds feedback-loop mailboxes into the
 *              router
 *
 * Everything here is pure: bytes or GMime objects in, results out; no I/O,
 * clock or logging. Limits: FBL_PARTS_MAX parts and FBL_DEPTH_MAX levels
 * of multipart nesting are looked at; part contents are read up to the
 * caller's cap.
 */
#ifndef FBLD_FBL_H
#define FBLD_FBL_H

#include <gmime/gmime.h>

#define FBL_PARTS_MAX 256
#define FBL_DEPTH_MAX 16

struct ingest;

/* Loads and sets up the libraries the DMARC parser uses (libxml2,
 * libarchive) now rather than at the first report (fbl/dmarc_libs.h). */
void fbl_init(void);
/* Registers the DMARC aggregate classifier and the ARF one; call before
 * any other classifier is registered. */
void fbl_register(struct ingest *in);

/* The decoded content of a leaf part, at most max bytes; *truncated (may
 * be NULL) is set when there was more. Never NULL (empty when the part has
 * no content). */
GByteArray *fbl_part_content(GMimeObject *part, size_t max, int *truncated);

/* Parses a block of header fields ("Name: value" lines, folded or not)
 * such as a message/feedback-report body or text/rfc822-headers. Returns
 * an object whose header list holds them (caller unrefs), or NULL when
 * nothing in it looks like a header field. */
GMimeObject *fbl_parse_headers(const char *data, size_t len);

/* The first value of header name in obj (case-insensitive), or NULL. */
const char *fbl_header(GMimeObject *obj, const char *name);

/*
 * An address as found in a report field ("<a@b>", "rfc822; a@B.ORG",
 * "Name <a@b>"), cleaned: brackets, type prefix and display name dropped,
 * the domain lower-cased. NULL when the value holds no address.
 */
char *fbl_address(const char *value);

/* A Message-ID without its angle brackets and blanks, or NULL. */
char *fbl_message_id(const char *value);

/* Calls fn for each leaf part below obj in document order, without
 * descending into attached messages; stops when fn returns non-zero or
 * after FBL_PARTS_MAX parts. Returns what fn returned last. */
int fbl_foreach_leaf(GMimeObject *obj, int (*fn)(GMimeObject *part, void *ud),
		     void *ud);

#endif
