/* dmarc_libs: see dmarc_libs.h. */
#include "fbl/dmarc_libs.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "fbl/dmarc.h"

/* The sonames of the versions built against (Debian 12: libxml2 2.9,
 * libarchive 3.6); a new soname is a new ABI and wants a look here. */
#if LIBXML_VERSION < 20900 || LIBXML_VERSION >= 30000
#error "libxml2 2.x expected (soname libxml2.so.2)"
#endif
#if ARCHIVE_VERSION_NUMBER < 3000000 || ARCHIVE_VERSION_NUMBER >= 4000000
#error "libarchive 3.x expected (soname libarchive.so.13)"
#endif
static const char *const dmarc_libs_sonames[] = { "libxml2.so.2",
						  "libarchive.so.13" };

#define DMARC_SYM(lib, name)                                                   \
	{                                                                      \
		lib, #name, offsetof(struct dmarc_libs, name)                  \
	}
static const struct {
	int lib; /* index into dmarc_libs_sonames */
	const char *name;
	size_t offset;
} dmarc_libs_syms[] = {
	DMARC_SYM(0, xmlReaderForMemory),
	DMARC_SYM(0, xmlTextReaderSetStructuredErrorHandler),
	DMARC_SYM(0, xmlTextReaderRead),
	DMARC_SYM(0, xmlTextReaderNext),
	DMARC_SYM(0, xmlTextReaderNodeType),
	DMARC_SYM(0, xmlTextReaderDepth),
	DMARC_SYM(0, xmlTextReaderConstLocalName),
	DMARC_SYM(0, xmlTextReaderExpand),
	DMARC_SYM(0, xmlFreeTextReader),
	DMARC_SYM(1, archive_read_new),
	DMARC_SYM(1, archive_read_support_format_zip),
	DMARC_SYM(1, archive_read_open_memory),
	DMARC_SYM(1, archive_read_next_header),
	DMARC_SYM(1, archive_read_data),
	DMARC_SYM(1, archive_read_free),
	DMARC_SYM(1, archive_error_string),
	DMARC_SYM(1, archive_entry_pathname),
	DMARC_SYM(1, archive_entry_filetype),
};

/* What the one load left: the table, or why there is none. */
struct dmarc_libs_loaded {
	struct dmarc_libs libs;
	char *error;
};

/* dlopen() rather than GModule: g_module_open() tries a bare name in the
 * current directory first, and fbld parse runs wherever it is started.
 * A soname is looked up in the system's library paths only. The handles
 * are kept for the life of the process. */
static char *
dmarc_libs_open(struct dmarc_libs *libs)
{
	void *lib[G_N_ELEMENTS(dmarc_libs_sonames)];
	void (*init)(void);

	for (size_t i = 0; i < G_N_ELEMENTS(dmarc_libs_sonames); i++)
		if (!(lib[i] = dlopen(dmarc_libs_sonames[i],
				      RTLD_LAZY | RTLD_LOCAL)))
			return g_strdup(dlerror());
	for (size_t i = 0; i < G_N_ELEMENTS(dmarc_libs_syms); i++) {
		void *f = dlsym(lib[dmarc_libs_syms[i].lib],
				dmarc_libs_syms[i].name);

		if (!f)
			return g_strdup(dlerror());
		memcpy((char *)libs + dmarc_libs_syms[i].offset, &f, sizeof(f));
	}
	/* libxml2 wants its globals set up once, before it parses. */
	if (!(init = (void (*)(void))dlsym(lib[0], "xmlInitParser")))
		return g_strdup(dlerror());
	init();
	return NULL;
}

static gpointer
dmarc_libs_load(gpointer unused)
{
	struct dmarc_libs_loaded *l = g_new0(struct dmarc_libs_loaded, 1);

	l->error = dmarc_libs_open(&l->libs);
	return l;
}

const struct dmarc_libs *
dmarc_libs(GError **error)
{
	/* The one process-wide state of the module: written once, under
	 * the GOnce, and only read afterwards, like the libraries' own. */
	static GOnce once = G_ONCE_INIT;
	const struct dmarc_libs_loaded *l =
		g_once(&once, dmarc_libs_load, NULL);

	if (l->error) {
		g_set_error(error, DMARC_ERROR, DMARC_ERR_LIBRARY,
			    "cannot load the XML and zip libraries: %s",
			    l->error);
		return NULL;
	}
	return &l->libs;
}
