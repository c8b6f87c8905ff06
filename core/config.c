/* config: see config.h. */
#include "core/config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

struct config {
	GKeyFile *kf;
	char *file; /* as given, or "(defaults)" */
	char *state_dir;
	GHashTable *read; /* "section\nkey" of every key a module asked for */
	GHashTable *seen_sections;
	GPtrArray *errors;
};

G_DEFINE_QUARK(fbld - config - error - quark, config_error)

static void
config_mark(struct config *cfg, const char *section, const char *key)
{
	g_hash_table_add(cfg->read, g_strdup_printf("%s\n%s", section, key));
	if (!g_hash_table_contains(cfg->seen_sections, section))
		g_hash_table_add(cfg->seen_sections, g_strdup(section));
}

void
config_error(struct config *cfg, const char *section, const char *key,
	     const char *fmt, ...)
{
	va_list ap;
	char *why;

	va_start(ap, fmt);
	why = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (key)
		g_ptr_array_add(cfg->errors,
				g_strdup_printf("%s: [%s] %s: %s", cfg->file,
						section, key, why));
	else
		g_ptr_array_add(cfg->errors,
				g_strdup_printf("%s: [%s]: %s", cfg->file,
						section, why));
	g_free(why);
}

static struct config *
config_new(const char *name)
{
	struct config *cfg = g_new0(struct config, 1);

	cfg->kf = g_key_file_new();
	cfg->read =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cfg->seen_sections =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cfg->errors = g_ptr_array_new_with_free_func(g_free);
	cfg->file = g_strdup(name ? name : "(defaults)");
	return cfg;
}

static void
config_set_state_dir(struct config *cfg, const char *state_dir)
{
	cfg->state_dir = config_str(cfg, "fbld", "state_dir", "var");
	if (state_dir) {
		g_free(cfg->state_dir);
		cfg->state_dir = g_strdup(state_dir);
	}
}

struct config *
config_load_data(const char *name, const char *data, size_t len,
		 const char *state_dir, GError **error)
{
	struct config *cfg = config_new(name);
	GError *e = NULL;

	if (len > CONFIG_FILE_MAX) {
		g_set_error(error, CONFIG_ERROR, 1, "%s: larger than %d bytes",
			    cfg->file, CONFIG_FILE_MAX);
		config_free(cfg);
		return NULL;
	}
	if (!g_key_file_load_from_data(cfg->kf, data, len, G_KEY_FILE_NONE,
				       &e)) {
		g_set_error(error, CONFIG_ERROR, 1, "%s: %s", cfg->file,
			    e->message);
		g_error_free(e);
		config_free(cfg);
		return NULL;
	}
	config_set_state_dir(cfg, state_dir);
	return cfg;
}

struct config *
config_load(const char *file, const char *state_dir, GError **error)
{
	struct config *cfg;
	char *data = NULL;
	gsize len = 0;
	GError *e = NULL;

	if (!file) {
		cfg = config_new(NULL);
		config_set_state_dir(cfg, state_dir);
		return cfg;
	}
	if (!g_file_get_contents(file, &data, &len, &e)) {
		g_set_error(error, CONFIG_ERROR, 1, "%s: %s", file, e->message);
		g_error_free(e);
		return NULL;
	}
	cfg = config_load_data(file, data, len, state_dir, error);
	g_free(data);
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (!cfg)
		return;
	g_key_file_free(cfg->kf);
	g_hash_table_destroy(cfg->read);
	g_hash_table_destroy(cfg->seen_sections);
	g_ptr_array_free(cfg->errors, TRUE);
	g_free(cfg->file);
	g_free(cfg->state_dir);
	g_free(cfg);
}

const char *
config_file_name(const struct config *cfg)
{
	return cfg->file;
}

const char *
config_state_dir(const struct config *cfg)
{
	return cfg->state_dir;
}

/* The raw, trimmed value, or NULL when absent. */
static char *
config_raw(struct config *cfg, const char *section, const char *key)
{
	char *v;

	config_mark(cfg, section, key);
	v = g_key_file_get_value(cfg->kf, section, key, NULL);
	if (v)
		g_strstrip(v);
	return v;
}

char *
config_str(struct config *cfg, const char *section, const char *key,
	   const char *def)
{
	char *v = config_raw(cfg, section, key);

	return v ? v : g_strdup(def);
}

char **
config_list(struct config *cfg, const char *section, const char *key,
	    const char *def)
{
	char *v = config_raw(cfg, section, key);
	const char *src = v ? v : def;
	GPtrArray *out;
	char **parts;

	if (!src)
		return NULL;
	out = g_ptr_array_new();
	parts = g_strsplit_set(src, ", \t", -1);
	for (char **p = parts; *p; p++)
		if (**p)
			g_ptr_array_add(out, g_strdup(*p));
	g_ptr_array_add(out, NULL);
	g_strfreev(parts);
	g_free(v);
	return (char **)g_ptr_array_free(out, FALSE);
}

/* Parses digits followed by a unit from units[]; -1 on error. */
static int
config_scaled(const char *v, const char *const *units, const int64_t *mult,
	      int64_t *out)
{
	char *end;
	int64_t n;

	errno = 0;
	n = g_ascii_strtoll(v, &end, 10);
	if (end == v || errno || n < 0)
		return -1;
	while (*end == ' ')
		end++;
	for (size_t i = 0; units[i]; i++) {
		if (g_ascii_strcasecmp(end, units[i]) == 0) {
			if (mult[i] && n > INT64_MAX / mult[i])
				return -1;
			*out = n * mult[i];
			return 0;
		}
	}
	return -1;
}

static int64_t
config_ranged(struct config *cfg, const char *section, const char *key,
	      int64_t def, int64_t min, int64_t max, const char *const *units,
	      const int64_t *mult, const char *what)
{
	char *v = config_raw(cfg, section, key);
	int64_t n;

	if (!v)
		return def;
	if (config_scaled(v, units, mult, &n) < 0) {
		config_error(cfg, section, key, "\"%s\" is not %s", v, what);
		n = def;
	} else if (n < min || n > max) {
		config_error(cfg, section, key,
			     "%s is out of range (%" G_GINT64_FORMAT
			     " to %" G_GINT64_FORMAT ")",
			     v, min, max);
		n = def;
	}
	g_free(v);
	return n;
}

int64_t
config_int(struct config *cfg, const char *section, const char *key,
	   int64_t def, int64_t min, int64_t max)
{
	static const char *const units[] = { "", NULL };
	static const int64_t mult[] = { 1 };

	if (min < 0) {
		/* Negative values: parse directly. */
		char *v = config_raw(cfg, section, key);
		char *end;
		int64_t n;

		if (!v)
			return def;
		errno = 0;
		n = g_ascii_strtoll(v, &end, 10);
		if (end == v || *end || errno || n < min || n > max) {
			config_error(cfg, section, key,
				     "\"%s\" is not an integer from "
				     "%" G_GINT64_FORMAT
				     " to %" G_GINT64_FORMAT,
				     v, min, max);
			n = def;
		}
		g_free(v);
		return n;
	}
	return config_ranged(cfg, section, key, def, min, max, units, mult,
			     "a whole number");
}

int64_t
config_size(struct config *cfg, const char *section, const char *key,
	    int64_t def, int64_t min, int64_t max)
{
	static const char *const units[] = { "",   "b", "k",  "kb", "m",
					     "mb", "g", "gb", NULL };
	static const int64_t mult[] = { 1,	 1,	  1024,	   1024,
					1 << 20, 1 << 20, 1 << 30, 1 << 30 };

	return config_ranged(cfg, section, key, def, min, max, units, mult,
			     "a size (e.g. 512k, 10M)");
}

int64_t
config_duration_ms(struct config *cfg, const char *section, const char *key,
		   int64_t def_ms, int64_t min_ms, int64_t max_ms)
{
	static const char *const units[] = {
		"", "ms", "s", "m", "h", "d", NULL
	};
	static const int64_t mult[] = {
		1000, 1, 1000, 60000, 3600000, 86400000
	};

	return config_ranged(cfg, section, key, def_ms, min_ms, max_ms, units,
			     mult, "a duration (e.g. 250ms, 30s, 5m, 2h, 90d)");
}

int
config_bool(struct config *cfg, const char *section, const char *key, int def)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	char *v = config_raw(cfg, section, key);
	int r = def;

	if (!v)
		return def;
	r = -1;
	for (size_t i = 0; yes[i]; i++) {
		if (g_ascii_strcasecmp(v, yes[i]) == 0)
			r = 1;
		else if (g_ascii_strcasecmp(v, no[i]) == 0)
			r = 0;
	}
	if (r < 0) {
		config_error(cfg, section, key, "\"%s\" is not yes or no", v);
		r = def;
	}
	g_free(v);
	return r;
}

int
config_enum(struct config *cfg, const char *section, const char *key,
	    int def_index, const char *const *choices)
{
	char *v = config_raw(cfg, section, key);
	int r = def_index;

	if (!v)
		return def_index;
	for (int i = 0; choices[i]; i++) {
		if (g_ascii_strcasecmp(v, choices[i]) == 0) {
			g_free(v);
			return i;
		}
	}
	{
		char *all = g_strjoinv(", ", (char **)choices);
		config_error(cfg, section, key, "\"%s\" is not one of %s", v,
			     all);
		g_free(all);
	}
	g_free(v);
	return r;
}

char *
config_path(struct config *cfg, const char *section, const char *key,
	    const char *def_in_state_dir)
{
	char *v = config_raw(cfg, section, key);

	if (v && !*v) {
		config_error(cfg, section, key, "empty path");
		g_free(v);
		v = NULL;
	}
	if (v)
		return v;
	if (!def_in_state_dir)
		return NULL;
	return g_build_filename(cfg->state_dir, def_in_state_dir, NULL);
}

char *
config_secret(struct config *cfg, const char *section, const char *key,
	      int required)
{
	char *path = config_raw(cfg, section, key);
	char *data = NULL;
	gsize len = 0;
	GError *e = NULL;
	struct stat st;

	if (!path) {
		if (required)
			config_error(cfg, section, key,
				     "required (a file holding the secret)");
		return NULL;
	}
	if (stat(path, &st) == 0 && st.st_size > CONFIG_SECRET_MAX) {
		config_error(cfg, section, key, "%s: larger than %d bytes",
			     path, CONFIG_SECRET_MAX);
	} else if (!g_file_get_contents(path, &data, &len, &e)) {
		config_error(cfg, section, key, "%s", e->message);
		g_error_free(e);
	} else {
		g_strchomp(data);
		if (!*data) {
			config_error(cfg, section, key, "%s: empty secret",
				     path);
			g_clear_pointer(&data, g_free);
		}
	}
	g_free(path);
	return data;
}

int
config_has_section(const struct config *cfg, const char *section)
{
	g_hash_table_add(((struct config *)cfg)->seen_sections,
			 g_strdup(section));
	return g_key_file_has_group(cfg->kf, section);
}

char **
config_sections(const struct config *cfg, const char *prefix)
{
	GPtrArray *out = g_ptr_array_new();
	char **groups = g_key_file_get_groups(cfg->kf, NULL);
	size_t plen = strlen(prefix);

	for (char **g = groups; *g; g++) {
		if (strncmp(*g, prefix, plen) == 0 && (*g)[plen] == ':') {
			g_ptr_array_add(out, g_strdup(*g + plen + 1));
			g_hash_table_add(((struct config *)cfg)->seen_sections,
					 g_strdup(*g));
		}
	}
	g_strfreev(groups);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static gint
config_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
config_keys_read(const struct config *cfg)
{
	GHashTable *seen =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter it;
	gpointer k;

	g_hash_table_iter_init(&it, cfg->read);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		char **sk = g_strsplit(k, "\n", 2);
		char *colon = strchr(sk[0], ':');
		char *line;

		if (colon)
			strcpy(colon + 1, "*");
		line = g_strdup_printf("%s %s", sk[0], sk[1]);
		if (!g_hash_table_contains(seen, line)) {
			g_hash_table_add(seen, line);
			g_ptr_array_add(out, g_strdup(line));
		} else {
			g_free(line);
		}
		g_strfreev(sk);
	}
	g_hash_table_destroy(seen);
	g_ptr_array_sort(out, config_cmp);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

int
config_finish(struct config *cfg, GError **error)
{
	char **groups = g_key_file_get_groups(cfg->kf, NULL);

	for (char **g = groups; *g; g++) {
		char **keys;

		if (!g_hash_table_contains(cfg->seen_sections, *g)) {
			config_error(cfg, *g, NULL, "unknown section");
			continue;
		}
		keys = g_key_file_get_keys(cfg->kf, *g, NULL, NULL);
		for (char **k = keys; k && *k; k++) {
			char *id = g_strdup_printf("%s\n%s", *g, *k);
			if (!g_hash_table_contains(cfg->read, id))
				config_error(cfg, *g, *k, "unknown key");
			g_free(id);
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
	return config_check(cfg, error);
}

int
config_check(struct config *cfg, GError **error)
{
	if (cfg->errors->len == 0)
		return 0;
	g_ptr_array_add(cfg->errors, NULL);
	{
		char *all = g_strjoinv("\n", (char **)cfg->errors->pdata);
		g_set_error_literal(error, CONFIG_ERROR, 2, all);
		g_free(all);
	}
	g_ptr_array_remove_index(cfg->errors, cfg->errors->len - 1);
	return -1;
}
