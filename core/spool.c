/* spool: see spool.h. */
#include "core/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/fdio.h"

#define SPOOL_READ_CHUNK 65536

void
spool_config_load(struct config *cfg, struct spool_config *out)
{
	out->dir = config_path(cfg, "spool", "dir", "spool");
	out->max_message_size = config_size(cfg, "spool", "max_message_size",
					    10 << 20, 4096, (int64_t)1 << 30);
	out->poll_interval_ms = config_duration_ms(
		cfg, "spool", "poll_interval", 200, 10, 60000);
	out->batch = config_int(cfg, "spool", "batch", 256, 1, 100000);
}

void
spool_config_clear(struct spool_config *sc)
{
	g_clear_pointer(&sc->dir, g_free);
}

static int
spool_errno(GError **error, const char *what, const char *path)
{
	int e = errno;

	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
		    "spool: %s %s: %s", what, path, g_strerror(e));
	return -1;
}

int
spool_init(const char *dir, GError **error)
{
	const char *const subs[] = { "tmp", "new" };

	for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
		char *p = g_build_filename(dir, subs[i], NULL);
		int r = g_mkdir_with_parents(p, 0750);

		if (r < 0)
			spool_errno(error, "cannot create", p);
		g_free(p);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int
spool_fsync_dir(const char *path, GError **error)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return spool_errno(error, "cannot open", path);
	if (fsync(fd) < 0) {
		spool_errno(error, "cannot fsync", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static char *
spool_new_name(void)
{
	static gint seq;
	char host[64] = "localhost";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (char *p = host; *p; p++)
		if (*p == '/' || *p == ',' || *p == ':')
			*p = '_';
	/* Zero-padded so that names sort in arrival order. */
	return g_strdup_printf("%013" G_GINT64_FORMAT ".%d_%010u.%08x.%s",
			       g_get_real_time() / 1000, (int)getpid(),
			       (unsigned)g_atomic_int_add(&seq, 1),
			       g_random_int(), host);
}

/* Copies from fd (or mem when fd < 0) into out, keeping max_size bytes. */
static int
spool_copy(int fd, const void *mem, size_t memlen, int out, int64_t max_size,
	   struct spool_meta *meta, const char *tmp, GError **error)
{
	char *buf = NULL;
	int64_t total = 0, kept = 0;

	if (fd < 0) {
		size_t keep =
			memlen > (size_t)max_size ? (size_t)max_size : memlen;
		if (fd_write_all(out, mem, keep) < 0)
			return spool_errno(error, "cannot write", tmp);
		meta->orig_size = (int64_t)memlen;
		meta->truncated = keep < memlen;
		return 0;
	}
	buf = g_malloc(SPOOL_READ_CHUNK);
	for (;;) {
		ssize_t n = read(fd, buf, SPOOL_READ_CHUNK);
		int64_t room = max_size - kept;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_free(buf);
			return spool_errno(error, "cannot read", "input");
		}
		if (n == 0)
			break;
		total += n;
		if (room > 0) {
			size_t w = (size_t)(n < room ? n : room);
			if (fd_write_all(out, buf, w) < 0) {
				g_free(buf);
				return spool_errno(error, "cannot write", tmp);
			}
			kept += (int64_t)w;
		}
	}
	g_free(buf);
	meta->orig_size = total;
	meta->truncated = total > kept;
	return 0;
}

static int
spool_store(const char *dir, int fd, const void *mem, size_t memlen,
	    int64_t max_size, char **name_out, struct spool_meta *meta_out,
	    GError **error)
{
	char *base = spool_new_name(), *name = NULL;
	char *tmp = g_strdup_printf("%s/tmp/%s", dir, base);
	char *newdir = g_build_filename(dir, "new", NULL);
	char *dst = NULL;
	struct spool_meta meta = { 0, 0 };
	int out, r = -1;

	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (out < 0) {
		spool_errno(error, "cannot create", tmp);
		goto done;
	}
	if (spool_copy(fd, mem, memlen, out, max_size, &meta, tmp, error) < 0)
		goto unlink;
	if (fsync(out) < 0) {
		spool_errno(error, "cannot fsync", tmp);
		goto unlink;
	}
	if (close(out) < 0) {
		out = -1;
		spool_errno(error, "cannot close", tmp);
		goto unlink;
	}
	out = -1;
	name = g_strdup_printf("%s,S=%" G_GINT64_FORMAT "%s", base,
			       meta.orig_size, meta.truncated ? ",T" : "");
	dst = g_build_filename(newdir, name, NULL);
	if (rename(tmp, dst) < 0) {
		spool_errno(error, "cannot rename into", newdir);
		goto unlink;
	}
	if (spool_fsync_dir(newdir, error) < 0) {
		/* Not durable: take it back so the MTA retries. */
		unlink(dst);
		goto done;
	}
	r = 0;
	if (name_out) {
		*name_out = name;
		name = NULL;
	}
	if (meta_out)
		*meta_out = meta;
	goto done;
unlink:
	if (out >= 0)
		close(out);
	unlink(tmp);
done:
	g_free(base);
	g_free(name);
	g_free(tmp);
	g_free(newdir);
	g_free(dst);
	return r;
}

int
spool_write_fd(const char *dir, int fd, int64_t max_size, char **name,
	       struct spool_meta *meta, GError **error)
{
	return spool_store(dir, fd, NULL, 0, max_size, name, meta, error);
}

int
spool_write_mem(const char *dir, const void *data, size_t len, int64_t max_size,
		char **name, GError **error)
{
	return spool_store(dir, -1, data, len, max_size, name, NULL, error);
}

static gint
spool_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
spool_list(const char *dir, unsigned max, GError **error)
{
	char *newdir = g_build_filename(dir, "new", NULL);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	DIR *d = opendir(newdir);
	struct dirent *de;

	if (!d) {
		spool_errno(error, "cannot open", newdir);
		g_free(newdir);
		g_ptr_array_free(names, TRUE);
		return NULL;
	}
	/* Read all names, sort, keep the oldest max: the directory order is
	 * arbitrary and oldest-first keeps latency bounded. */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		g_ptr_array_add(names, g_strdup(de->d_name));
	}
	closedir(d);
	g_free(newdir);
	g_ptr_array_sort(names, spool_cmp);
	if (names->len > max)
		g_ptr_array_remove_range(names, max, names->len - max);
	g_ptr_array_add(names, NULL);
	g_ptr_array_set_free_func(names, NULL);
	return (char **)g_ptr_array_free(names, FALSE);
}

int
spool_read(const char *dir, const char *name, char **data, size_t *len,
	   struct spool_meta *meta, GError **error)
{
	char *path = g_build_filename(dir, "new", name, NULL);
	const char *s = strstr(name, ",S=");
	gsize n = 0;
	int r = g_file_get_contents(path, data, &n, error) ? 0 : -1;

	g_free(path);
	if (r < 0)
		return -1;
	*len = n;
	meta->orig_size = s ? g_ascii_strtoll(s + 3, NULL, 10) : (int64_t)n;
	meta->truncated = strstr(name, ",T") != NULL;
	return 0;
}

int
spool_remove(const char *dir, const char *name, GError **error)
{
	char *path = g_build_filename(dir, "new", name, NULL);
	int r = 0;

	if (unlink(path) < 0 && errno != ENOENT)
		r = spool_errno(error, "cannot remove", path);
	g_free(path);
	return r;
}

int
spool_sync(const char *dir, GError **error)
{
	char *newdir = g_build_filename(dir, "new", NULL);
	int r = spool_fsync_dir(newdir, error);

	g_free(newdir);
	return r;
}
