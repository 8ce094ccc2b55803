/* Control-plane reporter (daemon/reporter.c) against a tiny HTTP server
 * on 127.0.0.1 run by the test: in-order delivery, retries after 500s and
 * refused connections, the cursor across a reporter restart, heartbeat. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/reporter.h"
#include "test_podsvc_util.h"

#define MAX_BODIES 256

struct srv {
	int fd;
	int port;
	pthread_t th;
	pthread_mutex_t mu;
	bool stop;
	int fail_events;              /* answer 500 to this many event POSTs */
	int event_attempts;
	char *events[MAX_BODIES];     /* event bodies answered 200, in order */
	int n_events;
	int heartbeats;
	char *last_heartbeat;
};

/* Read one request (headers + Content-Length body); NULL on error. */
static char *srv_read(int c)
{
	char buf[65536];
	size_t len = 0;
	char *hend, *cl, *body;
	size_t want;

	for (;;) {
		ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			return NULL;
		len += (size_t)n;
		buf[len] = '\0';
		hend = strstr(buf, "\r\n\r\n");
		if (!hend)
			continue;
		cl = strcasestr(buf, "Content-Length:");
		want = cl ? strtoul(cl + 15, NULL, 10) : 0;
		if (len - (size_t)(hend + 4 - buf) >= want)
			break;
		if (len + 1 >= sizeof(buf))
			return NULL;
	}
	body = strndup(hend + 4, want);
	return body;
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;

	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		const char *resp;
		char *body;
		bool is_event, fail = false;
		int c;

		pthread_mutex_lock(&s->mu);
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		body = srv_read(c);
		if (!body) {
			close(c);
			continue;
		}
		is_event = strstr(body, "\"type\":") != NULL;
		pthread_mutex_lock(&s->mu);
		if (is_event) {
			s->event_attempts++;
			if (s->fail_events > 0) {
				s->fail_events--;
				fail = true;
			} else if (s->n_events < MAX_BODIES) {
				s->events[s->n_events++] = body;
				body = NULL;
			}
		} else {
			s->heartbeats++;
			free(s->last_heartbeat);
			s->last_heartbeat = body;
			body = NULL;
		}
		pthread_mutex_unlock(&s->mu);
		resp = fail ? "HTTP/1.1 500 Internal Server Error\r\n"
			      "Content-Length: 0\r\nConnection: close\r\n\r\n" :
			      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			      "Connection: close\r\n\r\n{}";
		if (write(c, resp, strlen(resp)) < 0)
			fprintf(stderr, "srv: write failed\n");
		close(c);
		free(body);
	}
	return NULL;
}

static struct srv *srv_start(void)
{
	struct srv *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	assert_non_null(s);
	pthread_mutex_init(&s->mu, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 16), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
	return s;
}

static void srv_stop(struct srv *s)
{
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	close(s->fd);
	for (int i = 0; i < s->n_events; i++)
		free(s->events[i]);
	free(s->last_heartbeat);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

static int srv_events(struct srv *s)
{
	int n;

	pthread_mutex_lock(&s->mu);
	n = s->n_events;
	pthread_mutex_unlock(&s->mu);
	return n;
}

static bool wait_events(struct srv *s, int n)
{
	for (int i = 0; i < 1000; i++) {
		if (srv_events(s) >= n)
			return true;
		usleep(10000);
	}
	return false;
}

static void start_reporter(struct podsvc *svc, int port, struct reporter **r)
{
	struct reporter_config cfg = {
		.node_name = "node-1", .vm_backend = "tcg",
		.heartbeat_ms = 100, .backoff_min_ms = 20, .backoff_max_ms = 80,
	};
	struct pv_err err = { 0 };
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/events", port);
	cfg.url = url;
	assert_int_equal(reporter_start(&cfg, svc, r, &err), 0);
}

/* Event bodies i..: rv text equals start+i, types as given. */
static void check_rvs(struct srv *s, int from, int n, uint64_t first_rv)
{
	for (int i = 0; i < n; i++) {
		struct json_object *o = json_tokener_parse(s->events[from + i]);
		char want[24];

		assert_non_null(o);
		snprintf(want, sizeof(want), "%" PRIu64, first_rv + (uint64_t)i);
		assert_string_equal(jstr(o, "resourceVersion"), want);
		assert_string_equal(jstr(o, "object.metadata.resourceVersion"), want);
		assert_non_null(jstr(o, "type"));
		json_object_put(o);
	}
}

static void test_delivery_and_heartbeat(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct srv *s = srv_start();
	struct reporter *r;
	struct reporter_stats st;
	struct json_object *hb;
	char path[256], *text = NULL;

	(void)state;
	json_object_put(create_pod(t->s, "default", "a", NULL));
	json_object_put(create_pod(t->s, "default", "b", NULL));
	start_reporter(t->s, s->port, &r);
	json_object_put(create_pod(t->s, "default", "c", NULL));
	assert_true(wait_events(s, 3));
	check_rvs(s, 0, 3, 1);
	assert_non_null(strstr(s->events[0], "\"type\":\"ADDED\""));
	for (int i = 0; i < 200; i++) {
		reporter_get_stats(r, &st);
		if (st.delivered == 3 && st.heartbeats >= 1)
			break;
		usleep(10000);
	}
	assert_int_equal(st.delivered, 3);
	assert_int_equal(st.acked_rv, 3);
	assert_int_equal(st.pending, 0);
	assert_true(st.heartbeats >= 1);
	/* a heartbeat sent after the third pod exists */
	for (int i = 0; i < 200; i++) {
		bool three;

		pthread_mutex_lock(&s->mu);
		three = s->last_heartbeat &&
			strstr(s->last_heartbeat, "\"total\":3");
		pthread_mutex_unlock(&s->mu);
		if (three)
			break;
		usleep(10000);
	}
	pthread_mutex_lock(&s->mu);
	hb = json_tokener_parse(s->last_heartbeat);
	pthread_mutex_unlock(&s->mu);
	assert_non_null(hb);
	assert_string_equal(jstr(hb, "kind"), "NodeHeartbeat");
	assert_string_equal(jstr(hb, "nodeName"), "node-1");
	assert_string_equal(jstr(hb, "vmBackend"), "tcg");
	assert_string_equal(jstr(hb, "capacity.pods"), "110");
	assert_non_null(strstr(jstr(hb, "capacity.memory"), "Ki"));
	assert_non_null(jstr(hb, "allocatable.cpu"));
	assert_string_equal(jstr(hb, "pods.total"), "3");
	json_object_put(hb);
	reporter_stop(r);
	snprintf(path, sizeof(path), "%s/daemon/outbox.cursor", t->dir);
	assert_int_equal(util_read_file(path, 64, &text, NULL, NULL), 0);
	assert_string_equal(text, "3\n");
	free(text);
	srv_stop(s);
	tsvc_free(t);
}

static void test_retry_and_restart(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct srv *s = srv_start();
	struct reporter *r;
	struct reporter_stats st;
	int dead_port;

	(void)state;
	/* outage: nothing listens; attempts fail and are retried */
	{
		struct srv *gone = srv_start();

		dead_port = gone->port;
		srv_stop(gone);
	}
	json_object_put(create_pod(t->s, "default", "a", NULL));
	start_reporter(t->s, dead_port, &r);
	for (int i = 0; i < 300; i++) {
		reporter_get_stats(r, &st);
		if (st.failed_attempts >= 3)
			break;
		usleep(10000);
	}
	assert_true(st.failed_attempts >= 3);
	assert_int_equal(st.delivered, 0);
	assert_int_equal(st.pending, 1);
	reporter_stop(r);

	/* the server answers 500 three times, then accepts */
	pthread_mutex_lock(&s->mu);
	s->fail_events = 3;
	pthread_mutex_unlock(&s->mu);
	json_object_put(create_pod(t->s, "default", "b", NULL));
	start_reporter(t->s, s->port, &r);
	assert_true(wait_events(s, 2));
	reporter_get_stats(r, &st);
	assert_true(st.failed_attempts >= 3);
	pthread_mutex_lock(&s->mu);
	assert_int_equal(s->event_attempts, 5);
	pthread_mutex_unlock(&s->mu);
	check_rvs(s, 0, 2, 1);
	reporter_stop(r);

	/* while stopped: more events, and a daemon restart */
	json_object_put(create_pod(t->s, "default", "c", NULL));
	json_object_put(create_pod(t->s, "default", "d", NULL));
	tsvc_reopen(t);
	start_reporter(t->s, s->port, &r);
	assert_true(wait_events(s, 4));
	usleep(200000);   /* nothing re-sent after that */
	assert_int_equal(srv_events(s), 4);
	check_rvs(s, 2, 2, 3);
	reporter_stop(r);
	srv_stop(s);
	tsvc_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_and_heartbeat),
		cmocka_unit_test(test_retry_and_restart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
