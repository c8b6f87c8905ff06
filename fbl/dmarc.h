/*
 * dmarc: DMARC aggregate reports (RFC 7489 section 7.2 and appendix C;
 * the DMARCbis namespace is accepted too). A report arrives as an
 * attachment: XML, gzip'd XML, or a zip archive holding the XML.
 *
 * dmarc_classify() claims a message that carries a report (or that says it
 * does, by its RFC 7489 subject or file name, but whose report cannot be
 * read: then kind is REPORT_DMARC_AGGREGATE with report->error set and no
 * records, so the message is kept and counted, never lost).
 *
 * Hostile input is refused, not survived by luck: attachments are read up
 * to DMARC_PACKED_MAX bytes, unpacked up to DMARC_XML_MAX bytes (zip and
 * gzip bombs stop there), a zip is searched through at most
 * DMARC_ZIP_ENTRIES_MAX entries. The XML parser (libxml2's streaming
 * reader) runs without network access, without DTD loading or entity
 * substitution and without XML_PARSE_HUGE; a document with a DOCTYPE
 * (where entity expansion would come from) is refused outright, as no
 * DMARC report has one. Records are capped at REPORT_DMARC_MAX and fields
 * at REPORT_FIELD_MAX (report.h); only one <record> subtree is in memory
 * at a time.
 *
 * Pure (no I/O, clock or logging) and thread-safe. libxml2 and libarchive
 * are loaded and initialised at the first report (fbl/dmarc_libs.h).
 */
#ifndef FBLD_DMARC_H
#define FBLD_DMARC_H

#include <gmime/gmime.h>

#include "core/report.h"

#define DMARC_PACKED_MAX (16 * 1024 * 1024)
#define DMARC_XML_MAX (32 * 1024 * 1024)
#define DMARC_ZIP_ENTRIES_MAX 16

enum dmarc_err {
	DMARC_ERR_TOO_BIG = 1, /* over a size limit */
	DMARC_ERR_UNPACK,      /* damaged gzip or zip, no XML inside */
	DMARC_ERR_XML,	       /* not well-formed */
	DMARC_ERR_REFUSED,     /* DOCTYPE, not UTF-8 compatible */
	DMARC_ERR_NOT_DMARC,   /* XML, but no <feedback> report */
	DMARC_ERR_LIBRARY,     /* libxml2 or libarchive cannot be loaded */
};

#define DMARC_ERROR (dmarc_error_quark())
GQuark dmarc_error_quark(void);

/* An ingest classifier (ingest_classify_fn), see above. */
int dmarc_classify(void *ud, GMimeMessage *msg, const char *raw, size_t len,
		   struct report *r);

/* The XML of an attachment: gzip and zip are unpacked (by their magic
 * numbers, whatever the declared type), anything else is returned as it
 * is. Caller frees *xml. */
int dmarc_unpack(const void *data, size_t len, GByteArray **xml,
		 GError **error);

/* Reads one aggregate report. NULL with error when refused; *problem (may
 * be NULL; caller frees) says what in an accepted report could not be
 * read (a bad number, records over the cap, mended UTF-8). */
struct report_dmarc *dmarc_parse_xml(const char *xml, size_t len,
				     char **problem, GError **error);

#endif
