/* Tests of core/http: a real libmicrohttpd server on 127.0.0.1 (port 0)
 * and a real client (libcurl, raw sockets): routing, methods, query and
 * header access, body limit (413), header limit, idle timeout. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/http.h"

static void
echo_handler(void *ud, const struct http_request *req,
	     struct http_response *resp)
{
	const char *q = http_query(req, "q");
	const char *h = http_header(req, "X-Test");
	char *body = g_strdup_printf(
		"%s %s q=%s h=%s body=%zu ip=%s", req->method, req->path,
		q ? q : "-", h ? h : "-", req->body_len, req->client_ip);

	http_respond(resp, 200, "text/plain", body);
	resp->body_free = g_free;
	http_response_header(resp, "X-Echo", "1");
}

static size_t
collect(char *p, size_t size, size_t n, void *ud)
{
	g_string_append_len(ud, p, (gssize)(size * n));
	return size * n;
}

/* Performs one request; returns the status and fills *out. */
static long
request(int port, const char *method, const char *path, const char *body,
	size_t body_len, GString *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = curl_slist_append(NULL, "X-Test: yes");
	char *url = g_strdup_printf("http://127.0.0.1:%d%s", port, path);
	long status = 0;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	g_free(url);
	return status;
}

static struct http_server *
start(int64_t timeout_ms)
{
	struct http_config hc = {
		.address = (char *)"127.0.0.1",
		.port = 0,
		.threads = 2,
		.max_connections = 64,
		.timeout_ms = timeout_ms,
		.max_body = 1024,
		.max_header = 4096,
	};
	struct http_server *srv = http_server_new(&hc);

	http_route(srv, NULL, "/echo", 0, echo_handler, NULL);
	http_route(srv, "POST", "/echo", 0, echo_handler, NULL);
	http_route(srv, NULL, "/p/", 1, echo_handler, NULL);
	assert_int_equal(http_server_start(srv, NULL), 0);
	assert_true(http_server_port(srv) > 0);
	return srv;
}

static void
test_routes(void **state)
{
	struct http_server *srv = start(5000);
	int port = http_server_port(srv);
	GString *out = g_string_new(NULL);

	assert_int_equal(request(port, "GET", "/echo?q=a%20b", NULL, 0, out),
			 200);
	assert_string_equal(out->str,
			    "GET /echo q=a b h=yes body=0 ip=127.0.0.1");
	g_string_truncate(out, 0);
	assert_int_equal(request(port, "GET", "/p/x/y", NULL, 0, out), 200);
	assert_non_null(strstr(out->str, "/p/x/y"));
	g_string_truncate(out, 0);
	assert_int_equal(request(port, "POST", "/echo", "abc", 3, out), 200);
	assert_non_null(strstr(out->str, "POST /echo q=- h=yes body=3"));
	assert_int_equal(request(port, "GET", "/nope", NULL, 0, out), 404);
	assert_int_equal(request(port, "DELETE", "/echo", NULL, 0, out), 405);
	assert_int_equal(request(port, "POST", "/p/x", "a", 1, out), 405);
	g_string_free(out, TRUE);
	http_server_free(srv);
}

static void
test_body_limit(void **state)
{
	struct http_server *srv = start(5000);
	char *big = g_strnfill(4000, 'b');
	GString *out = g_string_new(NULL);

	assert_int_equal(
		request(http_server_port(srv), "POST", "/echo", big, 4000, out),
		413);
	/* Just under the limit is fine. */
	assert_int_equal(
		request(http_server_port(srv), "POST", "/echo", big, 1024, out),
		200);
	g_string_free(out, TRUE);
	g_free(big);
	http_server_free(srv);
}

static int
connect_to(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
test_header_limit(void **state)
{
	struct http_server *srv = start(5000);
	int fd = connect_to(http_server_port(srv));
	char *hdr = g_strnfill(8000, 'h');
	char *req = g_strdup_printf("GET /echo HTTP/1.1\r\nHost: x\r\n"
				    "X-Big: %s\r\n\r\n",
				    hdr);
	char buf[256] = "";
	ssize_t n;

	assert_true(write(fd, req, strlen(req)) > 0);
	n = read(fd, buf, sizeof(buf) - 1);
	/* Refused with 431 (or closed): never answered as a success. */
	assert_true(n <= 0 || strstr(buf, " 431 ") || strstr(buf, " 414 ") ||
		    strstr(buf, " 413 "));
	assert_null(strstr(buf, " 200 "));
	close(fd);
	g_free(req);
	g_free(hdr);
	http_server_free(srv);
}

static void
test_idle_timeout(void **state)
{
	struct http_server *srv = start(1000);
	int fd = connect_to(http_server_port(srv));
	char buf[16];
	int64_t t0 = g_get_monotonic_time();
	ssize_t n;

	/* A slow client that never finishes its request is dropped. */
	assert_true(write(fd, "GET /echo HTTP/1.1\r\n", 20) == 20);
	n = read(fd, buf, sizeof(buf));
	assert_true(n <= 0);
	/* Not before the timeout (no upper bound: machines are noisy). */
	assert_true(g_get_monotonic_time() - t0 >= 900000);
	close(fd);
	http_server_free(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_idle_timeout),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests_name("http", tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
