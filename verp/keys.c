/* keys: see keys.h. */
#include "verp/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"

/* Creates a random key file (0600) if it does not exist yet. */
static int
token_default_key(const char *path, GError **error)
{
	guint8 raw[32];
	char *b64;
	int fd;
	char *dir = g_path_get_dirname(path);

	if (g_mkdir_with_parents(dir, 0700) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    "%s: %s", dir, g_strerror(errno));
		g_free(dir);
		return -1;
	}
	g_free(dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    "%s: %s", path, g_strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(raw); i += 4) {
		guint32 r = g_random_int();
		memcpy(raw + i, &r, 4);
	}
	b64 = g_base64_encode(raw, sizeof(raw));
	if (write(fd, b64, strlen(b64)) < 0 || write(fd, "\n", 1) < 0 ||
	    fsync(fd) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
			    "%s: %s", path, g_strerror(errno));
		close(fd);
		unlink(path);
		g_free(b64);
		return -1;
	}
	close(fd);
	g_free(b64);
	return 0;
}

static void
token_load_key(struct config *cfg, const char *name, struct token_config *tc)
{
	static const char *const uses[] = { "sign", "verify", "retired", NULL };
	char *section = g_strdup_printf("key:%s", name);
	int64_t slot = config_int(cfg, section, "slot", -1, 0, TOKEN_SLOTS - 1);
	int use = config_enum(cfg, section, "use", TOKEN_KEY_VERIFY, uses);
	char *secret = config_secret(cfg, section, "secret_file", 1);
	GError *e = NULL;

	if (slot < 0)
		config_error(cfg, section, "slot", "required (0 to %d)",
			     TOKEN_SLOTS - 1);
	else if (secret && token_keyring_add(tc->keys, name, (unsigned)slot,
					     (enum token_key_use)use, secret,
					     strlen(secret), &e) < 0) {
		config_error(cfg, section, "secret_file", "%s", e->message);
		g_error_free(e);
	}
	if (secret)
		memset(secret, 0, strlen(secret));
	g_free(secret);
	g_free(section);
}

static void
token_load_default_key(struct config *cfg, int create, struct token_config *tc)
{
	char *path =
		g_build_filename(config_state_dir(cfg), "keys", "k1.key", NULL);
	char *data = NULL;
	gsize len = 0;
	GError *e = NULL;

	if (create && token_default_key(path, &e) < 0) {
		config_error(cfg, "token", NULL, "default key: %s", e->message);
		g_clear_error(&e);
	}
	if (g_file_get_contents(path, &data, &len, NULL)) {
		g_strchomp(data);
		if (token_keyring_add(tc->keys, "k1", 1, TOKEN_KEY_SIGN, data,
				      strlen(data), &e) < 0) {
			config_error(cfg, "token", NULL, "%s: %s", path,
				     e->message);
			g_clear_error(&e);
		}
		memset(data, 0, len);
		g_free(data);
	}
	g_free(path);
}

int
token_config_load(struct config *cfg, int create_default,
		  struct token_config *out)
{
	char **names = config_sections(cfg, "key");
	int64_t days;

	memset(out, 0, sizeof(*out));
	out->prefix = config_str(cfg, "token", "prefix", "b");
	if (strlen(out->prefix) > TOKEN_PREFIX_MAX ||
	    strspn(out->prefix, "abcdefghijklmnopqrstuvwxyz0123456789.") !=
		    strlen(out->prefix))
		config_error(cfg, "token", "prefix",
			     "use at most %d of a-z, 0-9 and '.'",
			     TOKEN_PREFIX_MAX);
	out->bounce_domain =
		config_str(cfg, "token", "bounce_domain", "bounce.localhost");
	/* Tokens carry a day, not a time: ages are whole days. */
	days = config_duration_ms(cfg, "token", "max_age", 90LL * 86400000,
				  86400000, 3650LL * 86400000);
	if (days % 86400000)
		config_error(cfg, "token", "max_age", "must be whole days");
	out->max_age_days = (int)(days / 86400000);
	days = config_duration_ms(cfg, "token", "future", 86400000, 0,
				  30LL * 86400000);
	if (days % 86400000)
		config_error(cfg, "token", "future", "must be whole days");
	out->future_days = (int)(days / 86400000);
	out->keys = token_keyring_new();
	for (char **n = names; *n; n++)
		token_load_key(cfg, *n, out);
	if (!names[0])
		token_load_default_key(cfg, create_default, out);
	else if (!token_keyring_signer(out->keys))
		config_error(cfg, "token", NULL,
			     "no [key:*] section has use = sign");
	g_strfreev(names);
	return 0;
}

void
token_config_clear(struct token_config *tc)
{
	g_clear_pointer(&tc->prefix, g_free);
	g_clear_pointer(&tc->bounce_domain, g_free);
	g_clear_pointer(&tc->keys, token_keyring_free);
}

char *
token_address(const struct token_config *tc, const char *token,
	      const char *domain)
{
	return g_strdup_printf("%s%s@%s", tc->prefix, token,
			       domain ? domain : tc->bounce_domain);
}

int
token_resolve(const struct token_config *tc, const char *hint, int64_t now_ms,
	      struct report_token *tok)
{
	struct token_fields f;
	GError *e = NULL;
	char tmp[TOKEN_LEN + 1];
	size_t len = strlen(hint);
	enum token_error err;

	/* Only what has the shape of a token is worth an error message:
	 * ordinary addresses in To: are not tokens at all. */
	err = token_extract(hint, len, tc->prefix, tmp);
	if (err != TOKEN_ERR_NONE)
		return -1;
	err = token_verify(tc->keys, hint, len, tc->prefix, now_ms,
			   tc->max_age_days, tc->future_days, &f, &e);
	if (err != TOKEN_ERR_NONE) {
		tok->valid = 0;
		tok->error = g_strdup(e->message);
		g_error_free(e);
		return 0;
	}
	tok->valid = 1;
	tok->account_id = f.account;
	tok->serial = f.serial;
	tok->account = g_strdup_printf("%" G_GUINT32_FORMAT, f.account);
	tok->message = g_strdup_printf("%" G_GUINT64_FORMAT, f.serial);
	tok->key = g_strdup(token_key_name(tc->keys, f.slot));
	return 1;
}
