/*
 * rewrite: click and open tracking in the HTML of an outbound message.
 * Each text/html part that is the message's own body (not an attachment,
 * not inside an embedded message/rfc822) is parsed with libxml2's HTML
 * parser; http and https links (<a href>, <area href>) are replaced by the
 * URL the click callback returns, and one open pixel is appended to the
 * first such part. The MIME structure is rewritten with GMime: untouched
 * parts are written back as they came, a rewritten part keeps its charset
 * and its Content-Transfer-Encoding (7bit/8bit content whose lines grow
 * past 998 octets becomes quoted-printable, RFC 5322 section 2.1.1).
 *
 * Where URLs come from is not this module's business: the caller passes
 * callbacks (the signed tracking URLs live in verp/url.c).
 *
 * Broken input is never "repaired": a message whose MIME structure the
 * parser had to guess at (see rewrite_parse), a base64 part with bytes
 * outside the alphabet, or HTML in a charset libxml2 cannot convert is
 * left exactly as it was (REWRITE_REFUSED, with the reason).
 *
 * Pure: no I/O, no clock, no logging. Limits: parts of more than
 * REWRITE_PART_MAX decoded bytes are left alone, at most REWRITE_LINKS_MAX
 * links are rewritten per message, hrefs longer than REWRITE_HREF_MAX are
 * left alone, MIME nesting deeper than REWRITE_DEPTH_MAX is not walked.
 */
#ifndef FBLD_REWRITE_H
#define FBLD_REWRITE_H

#include <gmime/gmime.h>
#include <stddef.h>

#define REWRITE_PART_MAX (1024 * 1024)
#define REWRITE_LINKS_MAX 1000
#define REWRITE_HREF_MAX 2048
#define REWRITE_DEPTH_MAX 16

struct rewrite_links {
	/* The tracking URL for a link, or NULL to leave the link as it is.
	 * The result is freed with g_free. NULL callback: no link wrapping. */
	char *(*click)(void *ud, const char *href);
	/* The open pixel's URL, or NULL for none; freed with g_free. NULL
	 * callback: no pixel. */
	char *(*open_pixel)(void *ud);
	void *ud;
};

enum rewrite_status {
	REWRITE_REFUSED = -1, /* broken input: left as it was */
	REWRITE_UNCHANGED = 0,
	REWRITE_CHANGED = 1,
};

struct rewrite_result {
	char *body; /* the new body (after the header), CRLF line ends */
	size_t body_len;
	/* The new Content-Transfer-Encoding of the top-level entity, or NULL
	 * when it did not change. */
	const char *top_cte;
	unsigned links;	 /* links rewritten */
	unsigned pixels; /* 0 or 1 */
	unsigned parts;	 /* HTML parts rewritten */
	char *reason;	 /* why REWRITE_REFUSED */
};

/*
 * Parses a message (LF or CRLF line ends). *broken is set when the parser
 * reported a structural problem (truncated or malformed multipart, missing
 * boundary, invalid header names or content types, excessive nesting),
 * with a short description in *why (static string). Never NULL for input
 * of any shape: GMime recovers what it can.
 */
GMimeMessage *rewrite_parse(const char *raw, size_t len, int *broken,
			    const char **why);

/* Rewrites msg in place and fills *res; REWRITE_REFUSED also when broken
 * is set (the caller's rewrite_parse result). */
enum rewrite_status rewrite_message(GMimeMessage *msg, int broken,
				    const char *broken_why,
				    const struct rewrite_links *cb,
				    struct rewrite_result *res);
void rewrite_result_clear(struct rewrite_result *res);

#endif
