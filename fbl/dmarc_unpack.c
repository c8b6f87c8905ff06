/* dmarc_unpack: gzip and zip attachments to XML, within DMARC_XML_MAX. */
#include <string.h>
#include <zlib.h>

#include "fbl/dmarc.h"
#include "fbl/dmarc_libs.h"

G_DEFINE_QUARK(fbld - dmarc - error - quark, dmarc_error)

/* Appends n bytes unless that would pass the limit. */
static int
dmarc_append(GByteArray *out, const void *p, size_t n, GError **error)
{
	if (n > DMARC_XML_MAX - out->len) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_TOO_BIG,
			    "unpacks to more than %d bytes", DMARC_XML_MAX);
		return -1;
	}
	g_byte_array_append(out, p, (guint)n);
	return 0;
}

/* RFC 1952; a file may hold several members, one after the other. */
static int
dmarc_gunzip(const guint8 *data, size_t len, GByteArray *out, GError **error)
{
	z_stream z;
	guint8 buf[65536];
	int rc = Z_OK;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_UNPACK,
			    "gzip: cannot initialise");
		return -1;
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	while (rc != Z_STREAM_END || z.avail_in > 0) {
		if (rc == Z_STREAM_END) {
			if (z.avail_in < 2 || z.next_in[0] != 0x1f ||
			    z.next_in[1] != 0x8b)
				break; /* trailing garbage: ignored */
			inflateReset(&z);
		}
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END) {
			g_set_error(error, DMARC_ERROR, DMARC_ERR_UNPACK,
				    "gzip: %s",
				    z.msg ? z.msg : "truncated or damaged");
			inflateEnd(&z);
			return -1;
		}
		if (dmarc_append(out, buf, sizeof(buf) - z.avail_out, error) <
		    0) {
			inflateEnd(&z);
			return -1;
		}
		if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			g_set_error(error, DMARC_ERROR, DMARC_ERR_UNPACK,
				    "gzip: truncated");
			inflateEnd(&z);
			return -1;
		}
	}
	inflateEnd(&z);
	return 0;
}

static int
dmarc_zip_is_xml(const struct dmarc_libs *l, struct archive_entry *e)
{
	const char *name = l->archive_entry_pathname(e);
	size_t n = name ? strlen(name) : 0;

	return l->archive_entry_filetype(e) == AE_IFREG && n > 4 &&
	       g_ascii_strcasecmp(name + n - 4, ".xml") == 0;
}

static int
dmarc_zip_read(const struct dmarc_libs *l, struct archive *a, GByteArray *out,
	       GError **error)
{
	guint8 buf[65536];
	la_ssize_t n;

	while ((n = l->archive_read_data(a, buf, sizeof(buf))) > 0)
		if (dmarc_append(out, buf, (size_t)n, error) < 0)
			return -1;
	if (n < 0) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_UNPACK, "zip: %s",
			    l->archive_error_string(a));
		return -1;
	}
	return 0;
}

/* The first .xml file of the archive. */
static int
dmarc_unzip(const guint8 *data, size_t len, GByteArray *out, GError **error)
{
	const struct dmarc_libs *l = dmarc_libs(error);
	struct archive *a;
	struct archive_entry *e;
	int rc = -1, r;

	if (!l)
		return -1;
	a = l->archive_read_new();
	l->archive_read_support_format_zip(a);
	if (l->archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_UNPACK, "zip: %s",
			    l->archive_error_string(a));
		goto out;
	}
	for (int i = 0; i < DMARC_ZIP_ENTRIES_MAX; i++) {
		r = l->archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			g_set_error(error, DMARC_ERROR, DMARC_ERR_UNPACK,
				    "zip: %s", l->archive_error_string(a));
			goto out;
		}
		if (dmarc_zip_is_xml(l, e)) {
			rc = dmarc_zip_read(l, a, out, error);
			goto out;
		}
	}
	g_set_error(error, DMARC_ERROR, DMARC_ERR_UNPACK,
		    "zip: no .xml file among the first %d entries",
		    DMARC_ZIP_ENTRIES_MAX);
out:
	l->archive_read_free(a);
	return rc;
}

int
dmarc_unpack(const void *data, size_t len, GByteArray **xml, GError **error)
{
	const guint8 *d = data;
	GByteArray *out;
	int rc;

	if (len > DMARC_PACKED_MAX) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_TOO_BIG,
			    "attachment larger than %d bytes",
			    DMARC_PACKED_MAX);
		return -1;
	}
	out = g_byte_array_new();
	if (len >= 2 && d[0] == 0x1f && d[1] == 0x8b)
		rc = dmarc_gunzip(d, len, out, error);
	else if (len >= 4 && memcmp(d, "PK\x03\x04", 4) == 0)
		rc = dmarc_unzip(d, len, out, error);
	else
		rc = dmarc_append(out, d, len, error);
	if (rc < 0) {
		g_byte_array_free(out, TRUE);
		return -1;
	}
	*xml = out;
	return 0;
}
