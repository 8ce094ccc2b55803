/* cli/client.c against a canned HTTP server on a unix socket (and one on
 * loopback TCP for the bearer token): URLs, responses, Status errors,
 * streaming lines, limits, connection failures, deadlines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cli/client.h"
#include "cli/podview.h"
#include "util/util.h"

#define FAKE_MAX_CHUNKS 8

/* One connection: read the request, send the chunks (a pause between). */
struct fake {
	int lfd;
	const char *chunks[FAKE_MAX_CHUNKS];
	size_t chunk_len[FAKE_MAX_CHUNKS];   /* 0: strlen */
	int pause_ms;
	char request[8192];
	pthread_t th;
	char dir[64];
	char path[96];
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	size_t n = 0;
	ssize_t r;
	int fd = accept(f->lfd, NULL, NULL);

	if (fd < 0)
		return NULL;
	while (n + 1 < sizeof(f->request)) {
		r = read(fd, f->request + n, sizeof(f->request) - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		f->request[n] = '\0';
		if (strstr(f->request, "\r\n\r\n"))
			break;
	}
	for (size_t i = 0; i < FAKE_MAX_CHUNKS && f->chunks[i]; i++) {
		size_t len = f->chunk_len[i] ? f->chunk_len[i] : strlen(f->chunks[i]);

		if (util_write_all(fd, f->chunks[i], len) < 0)
			break;
		if (f->pause_ms)
			usleep((useconds_t)f->pause_ms * 1000);
	}
	close(fd);
	return NULL;
}

static void fake_start_unix(struct fake *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(f->dir, sizeof(f->dir), "/tmp/podvm-cli-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static int fake_start_tcp(struct fake *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
	return ntohs(sa.sin_port);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->lfd);
	if (f->path[0]) {
		unlink(f->path);
		rmdir(f->dir);
	}
}

static struct client *open_unix(const char *path)
{
	struct cli_env env = { .socket_path = path };
	struct client *c = NULL;
	struct pv_err err = { 0 };

	if (client_open(&env, &c, &err) < 0)
		fail_msg("client_open: %s", err.msg);
	return c;
}

#define JSON_HDR "HTTP/1.1 %s\r\nContent-Type: application/json\r\n" \
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s"

static char *http_json(const char *status, const char *body)
{
	char *s = NULL;

	assert_true(asprintf(&s, JSON_HDR, status, strlen(body), body) > 0);
	return s;
}

static void test_paths(void **state)
{
	char p[128];

	(void)state;
	assert_int_equal(client_path(p, sizeof(p), "default", NULL, NULL), 0);
	assert_string_equal(p, "/api/v1/namespaces/default/pods");
	assert_int_equal(client_path(p, sizeof(p), NULL, NULL, NULL), 0);
	assert_string_equal(p, "/api/v1/pods");
	assert_int_equal(client_path(p, sizeof(p), "a b", "x/../y", "log"), 0);
	assert_string_equal(p, "/api/v1/namespaces/a%20b/pods/x%2F..%2Fy/log");
	assert_int_equal(client_query(p, sizeof(p), "container", "c&d=e"), 0);
	assert_int_equal(client_query(p, sizeof(p), "follow", "true"), 0);
	assert_string_equal(p, "/api/v1/namespaces/a%20b/pods/x%2F..%2Fy/log"
			    "?container=c%26d%3De&follow=true");
	assert_int_equal(client_path(p, 20, "default", NULL, NULL), -ENAMETOOLONG);
	assert_int_equal(client_path(p, sizeof(p), "default", NULL, NULL), 0);
	assert_int_equal(client_query(p, 40, "labelSelector", "a=b"),
			 -ENAMETOOLONG);
}

static void test_request_ok(void **state)
{
	struct fake f = { 0 };
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct client *c;
	char *r = http_json("201 Created", "{\"metadata\":{\"name\":\"p\"}}");

	(void)state;
	f.chunks[0] = r;
	fake_start_unix(&f);
	c = open_unix(f.path);
	assert_int_equal(client_request(c, "POST", "/api/v1/namespaces/default/pods",
					 "{\"kind\":\"Pod\"}", &resp, &err), 0);
	assert_int_equal(resp.code, 201);
	assert_string_equal(cli_jstr(resp.json, "metadata.name"), "p");
	fake_stop(&f);
	assert_non_null(strstr(f.request, "POST /api/v1/namespaces/default/pods HTTP/1.1"));
	assert_non_null(strstr(f.request, "Content-Type: application/json"));
	assert_null(strstr(f.request, "Authorization"));
	client_resp_free(&resp);
	client_close(c);
	free(r);
}

static void test_request_status(void **state)
{
	struct fake f = { 0 };
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct client *c;
	char *r = http_json("404 Not Found", "{\"kind\":\"Status\",\"reason\":"
			    "\"NotFound\",\"message\":\"pods \\\"x\\\" not found\","
			    "\"code\":404}");

	(void)state;
	f.chunks[0] = r;
	fake_start_unix(&f);
	c = open_unix(f.path);
	assert_int_equal(client_request(c, "GET", "/api/v1/namespaces/default/pods/x",
					 NULL, &resp, &err), 0);
	assert_int_equal(resp.code, 404);
	assert_string_equal(cli_jstr(resp.json, "reason"), "NotFound");
	fake_stop(&f);
	client_resp_free(&resp);
	client_close(c);
	free(r);
}

static void test_request_garbage(void **state)
{
	struct fake f = { 0 };
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct client *c;
	char *r = http_json("200 OK", "[1,2,3]");

	(void)state;
	f.chunks[0] = r;
	fake_start_unix(&f);
	c = open_unix(f.path);
	assert_int_equal(client_request(c, "GET", "/api/v1/pods", NULL, &resp, &err),
			 -EPROTO);
	assert_null(resp.body);
	fake_stop(&f);
	client_close(c);
	free(r);
}

static void test_connect_fail(void **state)
{
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct client *c = open_unix("/nonexistent/podvmd.sock");

	(void)state;
	assert_int_equal(client_request(c, "GET", "/api/v1/pods", NULL, &resp, &err),
			 -ECONNREFUSED);
	assert_string_equal(err.msg, "cannot connect to podvmd at "
			    "/nonexistent/podvmd.sock: No such file or directory "
			    "(is podvmd running?)");
	client_close(c);
}

struct lines {
	char got[16][64];
	size_t n;
	int stop_at;   /* return 7 after this many lines, 0: never */
};

static int on_line(void *opaque, const char *line, size_t len)
{
	struct lines *l = opaque;

	assert_int_equal(strlen(line), len);
	if (l->n < 16)
		snprintf(l->got[l->n++], sizeof(l->got[0]), "%s", line);
	return l->stop_at && (int)l->n == l->stop_at ? 7 : 0;
}

#define STREAM_HDR "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
		   "Connection: close\r\n\r\n"

static void test_stream_lines(void **state)
{
	struct fake f = { .pause_ms = 20 };
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct lines l = { 0 };
	struct client *c;

	(void)state;
	f.chunks[0] = STREAM_HDR "{\"type\":\"ADDED\"}\n{\"ty";
	f.chunks[1] = "pe\":\"MODIFIED\"}\r\n\n";
	f.chunks[2] = "last-without-newline";
	fake_start_unix(&f);
	c = open_unix(f.path);
	assert_int_equal(client_stream(c, "/api/v1/pods?watch=true", 1024,
				       on_line, &l, &resp, &err), 0);
	assert_int_equal(resp.code, 200);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.got[0], "{\"type\":\"ADDED\"}");
	assert_string_equal(l.got[1], "{\"type\":\"MODIFIED\"}");
	assert_string_equal(l.got[2], "");
	assert_string_equal(l.got[3], "last-without-newline");
	fake_stop(&f);
	client_resp_free(&resp);
	client_close(c);
}

static void test_stream_stop_and_limit(void **state)
{
	struct fake f = { 0 };
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct lines l = { .stop_at = 2 };
	struct client *c;
	char big[300];

	(void)state;
	f.chunks[0] = STREAM_HDR "a\nb\nc\n";
	fake_start_unix(&f);
	c = open_unix(f.path);
	assert_int_equal(client_stream(c, "/x", 64, on_line, &l, &resp, &err), 7);
	assert_int_equal(l.n, 2);
	fake_stop(&f);
	client_resp_free(&resp);

	/* A line longer than the bound ends the stream. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memset(&f, 0, sizeof(f));
	memset(&l, 0, sizeof(l));
	f.chunks[0] = STREAM_HDR;
	f.chunks[1] = big;
	fake_start_unix(&f);
	client_close(c);
	c = open_unix(f.path);
	assert_int_equal(client_stream(c, "/x", 64, on_line, &l, &resp, &err),
			 -EMSGSIZE);
	assert_int_equal(l.n, 0);
	fake_stop(&f);
	client_close(c);
}

static void test_stream_error_status(void **state)
{
	struct fake f = { 0 };
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct lines l = { 0 };
	struct client *c;
	char *r = http_json("410 Gone", "{\"kind\":\"Status\",\"reason\":\"Expired\","
			    "\"code\":410,\"message\":\"too old\"}");

	(void)state;
	f.chunks[0] = r;
	fake_start_unix(&f);
	c = open_unix(f.path);
	assert_int_equal(client_stream(c, "/x", 64, on_line, &l, &resp, &err), 0);
	assert_int_equal(resp.code, 410);
	assert_int_equal(l.n, 0);   /* error bodies never reach the callback */
	assert_string_equal(cli_jstr(resp.json, "reason"), "Expired");
	fake_stop(&f);
	client_resp_free(&resp);
	client_close(c);
	free(r);
}

static void test_deadline(void **state)
{
	struct fake f = { .pause_ms = 3000 };
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct lines l = { 0 };
	struct client *c;
	int64_t t0;

	(void)state;
	f.chunks[0] = STREAM_HDR "a\n";
	fake_start_unix(&f);
	c = open_unix(f.path);
	t0 = util_mono_ms();
	client_set_deadline(c, t0 + 300);
	assert_int_equal(client_stream(c, "/x", 64, on_line, &l, &resp, &err),
			 -ETIMEDOUT);
	assert_true(util_mono_ms() - t0 < 2500);
	assert_int_equal(l.n, 1);
	fake_stop(&f);
	client_close(c);
}

static void test_token_tcp(void **state)
{
	struct fake f = { 0 };
	struct client_resp resp = { 0 };
	struct pv_err err = { 0 };
	struct client *c = NULL;
	char url[64], tok[] = "/tmp/podvm-cli-token.XXXXXX";
	char *r = http_json("200 OK", "{}");
	int fd, port;

	(void)state;
	fd = mkstemp(tok);
	assert_true(fd >= 0);
	assert_int_equal(util_write_all(fd, "s3cret\n", 7), 0);
	close(fd);
	f.chunks[0] = r;
	port = fake_start_tcp(&f);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	struct cli_env env = { .server = url, .token_file = tok };
	assert_int_equal(client_open(&env, &c, &err), 0);
	assert_int_equal(client_request(c, "GET", "/api/v1/pods", NULL, &resp, &err), 0);
	fake_stop(&f);
	assert_non_null(strstr(f.request, "GET /api/v1/pods HTTP/1.1"));
	assert_non_null(strstr(f.request, "Authorization: Bearer s3cret\r\n"));
	client_resp_free(&resp);
	client_close(c);

	/* A token that could break the header is refused. */
	fd = open(tok, O_WRONLY | O_TRUNC);
	assert_int_equal(util_write_all(fd, "a\r\nX-Evil: 1", 12), 0);
	close(fd);
	c = NULL;
	assert_int_equal(client_open(&env, &c, &err), -EINVAL);
	assert_null(c);
	env.server = "ftp://x";
	assert_int_equal(client_open(&env, &c, &err), -EINVAL);
	unlink(tok);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_request_ok),
		cmocka_unit_test(test_request_status),
		cmocka_unit_test(test_request_garbage),
		cmocka_unit_test(test_connect_fail),
		cmocka_unit_test(test_stream_lines),
		cmocka_unit_test(test_stream_stop_and_limit),
		cmocka_unit_test(test_stream_error_status),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_token_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
