/*
 * dmarc_libs: libxml2 and libarchive, opened (dlopen) when the first
 * DMARC report is read rather than when fbld starts.
 *
 * Only DMARC aggregate reports need them, and linking them costs every
 * start of `fbld parse` about 6 ms of CPU and 320 page faults (libxml2
 * brings ICU and libstdc++, libarchive half a dozen compressors): as much
 * as classifying 40 bounces (docs/bounces.md, Speed). The same is done for
 * the same reason by systemd with its optional libraries.
 *
 * dmarc_libs() opens both libraries once per process, initialises libxml2
 * (xmlInitParser) and returns their functions; thread-safe (the first
 * caller loads, the others wait), and the table is never freed or changed
 * afterwards. NULL with error (DMARC_ERROR, DMARC_ERR_LIBRARY) when a
 * library or one of its functions is missing: every later call fails the
 * same way. In fbld-daemon, which links libxml2 for the milter, this finds
 * the copy already loaded.
 */
#ifndef FBLD_DMARC_LIBS_H
#define FBLD_DMARC_LIBS_H

#include <archive.h>
#include <archive_entry.h>
#include <glib.h>
#include <libxml/xmlreader.h>

/* The functions used, named and typed as the libraries declare them. */
struct dmarc_libs {
	__typeof__(xmlReaderForMemory) *xmlReaderForMemory;
	__typeof__(xmlTextReaderSetStructuredErrorHandler)
		*xmlTextReaderSetStructuredErrorHandler;
	__typeof__(xmlTextReaderRead) *xmlTextReaderRead;
	__typeof__(xmlTextReaderNext) *xmlTextReaderNext;
	__typeof__(xmlTextReaderNodeType) *xmlTextReaderNodeType;
	__typeof__(xmlTextReaderDepth) *xmlTextReaderDepth;
	__typeof__(xmlTextReaderConstLocalName) *xmlTextReaderConstLocalName;
	__typeof__(xmlTextReaderExpand) *xmlTextReaderExpand;
	__typeof__(xmlFreeTextReader) *xmlFreeTextReader;
	__typeof__(archive_read_new) *archive_read_new;
	__typeof__(archive_read_support_format_zip)
		*archive_read_support_format_zip;
	__typeof__(archive_read_open_memory) *archive_read_open_memory;
	__typeof__(archive_read_next_header) *archive_read_next_header;
	__typeof__(archive_read_data) *archive_read_data;
	__typeof__(archive_read_free) *archive_read_free;
	__typeof__(archive_error_string) *archive_error_string;
	__typeof__(archive_entry_pathname) *archive_entry_pathname;
	__typeof__(archive_entry_filetype) *archive_entry_filetype;
};

const struct dmarc_libs *dmarc_libs(GError **error);

#endif
