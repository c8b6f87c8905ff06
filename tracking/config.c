/* tracking/config: the [tracking] section (see tracking.h). */
#include <string.h>

#include "core/config.h"
#include "core/http.h"
#include "tracking/classify.h"
#include "tracking/tracking.h"

static void
tracking_check_nets(struct config *cfg, const char *key, char **nets)
{
	for (char **p = nets; p && *p; p++) {
		GError *e = NULL;
		GInetAddressMask *m = tracking_net_parse(*p, &e);

		if (!m) {
			config_error(cfg, "tracking", key,
				     "\"%s\" is not ADDRESS/PREFIX: %s", *p,
				     e->message);
			g_error_free(e);
			continue;
		}
		g_object_unref(m);
	}
}

/* Agent substrings: printable ASCII, as User-Agent headers are. */
static void
tracking_check_agents(struct config *cfg, const char *key, char **agents)
{
	for (char **p = agents; p && *p; p++)
		for (const char *c = *p; *c; c++)
			if (*c < 0x21 || *c > 0x7e) {
				config_error(cfg, "tracking", key,
					     "\"%s\": printable ASCII only",
					     *p);
				break;
			}
}

static char *
tracking_default_base(const struct http_config *http)
{
	int v6 = strchr(http->address, ':') != NULL;

	return g_strdup_printf("http://%s%s%s:%d", v6 ? "[" : "", http->address,
			       v6 ? "]" : "", http->port);
}

static void
tracking_check_base(struct config *cfg, const char *base)
{
	if ((g_ascii_strncasecmp(base, "http://", 7) != 0 &&
	     g_ascii_strncasecmp(base, "https://", 8) != 0) ||
	    strpbrk(base, "?# \t"))
		config_error(cfg, "tracking", "base_url",
			     "\"%s\" is not an http or https URL without a "
			     "query",
			     base);
}

void
tracking_config_load(struct config *cfg, const struct http_config *http,
		     struct tracking_config *out)
{
	static const char *const ips[] = { "truncated", "full", "none", NULL };
	const char *s = "tracking";
	char *def = tracking_default_base(http);

	memset(out, 0, sizeof(*out));
	out->base_url = config_str(cfg, s, "base_url", NULL);
	out->base_url_set = out->base_url != NULL;
	if (!out->base_url)
		out->base_url = g_strdup(def);
	g_free(def);
	tracking_check_base(cfg, out->base_url);
	out->store_ip =
		config_enum(cfg, s, "store_ip", TRACKING_IP_TRUNCATED, ips);
	out->store_user_agent = config_bool(cfg, s, "store_user_agent", 1);
	out->early_window_ms =
		config_duration_ms(cfg, s, "early_window", 5000, 0, 3600000);
	out->burst_window_ms =
		config_duration_ms(cfg, s, "burst_window", 1000, 0, 60000);
	out->burst_links = (int)config_int(cfg, s, "burst_links", 2, 0, 100);
	out->scanner_agents = config_list(cfg, s, "scanner_agents", NULL);
	out->proxy_agents = config_list(cfg, s, "proxy_agents", NULL);
	out->scanner_networks = config_list(cfg, s, "scanner_networks", NULL);
	out->proxy_networks = config_list(cfg, s, "proxy_networks", NULL);
	out->forwarded_from = config_list(cfg, s, "forwarded_from", NULL);
	tracking_check_agents(cfg, "scanner_agents", out->scanner_agents);
	tracking_check_agents(cfg, "proxy_agents", out->proxy_agents);
	tracking_check_nets(cfg, "scanner_networks", out->scanner_networks);
	tracking_check_nets(cfg, "proxy_networks", out->proxy_networks);
	tracking_check_nets(cfg, "forwarded_from", out->forwarded_from);
	out->queue_max =
		(int)config_int(cfg, s, "queue_max", 100000, 100, 10000000);
	out->unsubscribe_wait_ms = config_duration_ms(
		cfg, s, "unsubscribe_wait", 5000, 100, 60000);
	out->send_cache =
		(int)config_int(cfg, s, "send_cache", 100000, 1, 10000000);
}

void
tracking_config_clear(struct tracking_config *tc)
{
	g_clear_pointer(&tc->base_url, g_free);
	g_clear_pointer(&tc->scanner_agents, g_strfreev);
	g_clear_pointer(&tc->proxy_agents, g_strfreev);
	g_clear_pointer(&tc->scanner_networks, g_strfreev);
	g_clear_pointer(&tc->proxy_networks, g_strfreev);
	g_clear_pointer(&tc->forwarded_from, g_strfreev);
}
