/* podvm-init's outgoing queue: chunking, ordering, caps and drop notices. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/guest.h"

/* Drain everything written to a pipe and decode it as frames. */
struct got {
	int n;
	uint16_t type[64], chan[64];
	size_t len[64];
	char text[64][128];
	size_t bytes[POD_MAX_CONTAINERS];
};

static void flush_all(struct guest_outq *q, struct got *g)
{
	struct agent_reader r;
	struct agent_frame f;
	struct pv_err err;
	int p[2], rc;
	uint8_t buf[65536];

	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	agent_reader_init(&r, 0);
	do {
		ssize_t n;

		rc = guest_outq_flush(q, p[1]);
		assert_true(rc >= 0);
		while ((n = read(p[0], buf, sizeof(buf))) > 0)
			assert_int_equal(agent_reader_feed(&r, buf, (size_t)n), 0);
		while (agent_reader_next(&r, &f, &err) == 1) {
			if (g->n < 64) {
				g->type[g->n] = f.type;
				g->chan[g->n] = f.chan;
				g->len[g->n] = f.len;
				memcpy(g->text[g->n], f.payload, f.len < 127 ? f.len : 127);
				g->text[g->n][f.len < 127 ? f.len : 127] = '\0';
			}
			g->n++;
			if (f.type == AGENT_LOG_STDOUT && f.chan < POD_MAX_CONTAINERS)
				g->bytes[f.chan] += f.len;
		}
	} while (rc == 1);
	agent_reader_free(&r);
	close(p[0]);
	close(p[1]);
}

static void test_chunking_and_order(void **state)
{
	struct guest_outq q;
	struct got g = { 0 };
	size_t big = AGENT_MAX_LOG_CHUNK * 2 + 5;
	char *data = malloc(big);

	(void)state;
	assert_non_null(data);
	memset(data, 'x', big);
	guest_outq_init(&q, GUEST_LOG_CAP_CTR, GUEST_LOG_CAP_TOTAL);
	assert_int_equal(guest_outq_control(&q, AGENT_HELLO, "{}"), 0);
	assert_int_equal(guest_outq_log(&q, 3, AGENT_LOG_STDOUT, data, big), big);
	assert_int_equal(guest_outq_control(&q, AGENT_CONTAINER, "{\"x\":1}"), 0);
	flush_all(&q, &g);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.type[0], AGENT_HELLO);
	assert_int_equal(g.len[1], AGENT_MAX_LOG_CHUNK);
	assert_int_equal(g.chan[1], 3);
	assert_int_equal(g.len[3], 5);
	assert_int_equal(g.type[4], AGENT_CONTAINER);
	assert_true(guest_outq_empty(&q));
	assert_int_equal(q.total_log, 0);
	guest_outq_free(&q);
	free(data);
}

static void test_cap_drop_and_notice(void **state)
{
	struct guest_outq q;
	struct got g = { 0 };
	char data[1000];

	(void)state;
	memset(data, 'y', sizeof(data));
	/* Tiny caps: 3 frames of 1000 fit per container. */
	guest_outq_init(&q, 3 * (1000 + AGENT_HDR_LEN), 100000);
	assert_int_equal(guest_outq_log(&q, 0, AGENT_LOG_STDOUT, data, 1000), 1000);
	assert_int_equal(guest_outq_log(&q, 0, AGENT_LOG_STDOUT, data, 1000), 1000);
	assert_int_equal(guest_outq_log(&q, 0, AGENT_LOG_STDOUT, data, 1000), 1000);
	assert_int_equal(guest_outq_log(&q, 0, AGENT_LOG_STDOUT, data, 1000), 0);
	assert_int_equal(guest_outq_log(&q, 0, AGENT_LOG_STDOUT, data, 500), 0);
	assert_int_equal(q.dropped[0], 1500);
	/* Another container is not affected. */
	assert_int_equal(guest_outq_log(&q, 1, AGENT_LOG_STDOUT, data, 1000), 1000);
	flush_all(&q, &g);
	/* 3 + 1 frames, then the notice once the queue drained. */
	assert_int_equal(g.n, 5);
	assert_int_equal(g.type[4], AGENT_LOG_STDERR);
	assert_int_equal(g.chan[4], 0);
	assert_string_equal(g.text[4],
			    "podvm: 1500 bytes of output dropped (host too slow)\n");
	assert_int_equal(q.dropped[0], 0);
	assert_int_equal(q.dropped_total, 1500);
	guest_outq_free(&q);
}

static void test_final_notice_and_front(void **state)
{
	struct guest_outq q;
	struct got g = { 0 };
	char data[1000];

	(void)state;
	memset(data, 'z', sizeof(data));
	guest_outq_init(&q, 1000 + AGENT_HDR_LEN, 100000);
	guest_outq_log(&q, 2, AGENT_LOG_STDOUT, data, 1000);
	guest_outq_log(&q, 2, AGENT_LOG_STDOUT, data, 10);
	/* Queue still full, but the container is done: notice goes now,
	 * ahead of the event that follows. */
	assert_int_equal(guest_outq_report_final(&q, 2), 0);
	assert_int_equal(guest_outq_control(&q, AGENT_CONTAINER, "{}"), 0);
	assert_int_equal(guest_outq_control_front(&q, AGENT_HELLO, "{}"), 0);
	flush_all(&q, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.type[0], AGENT_HELLO);
	assert_int_equal(g.type[1], AGENT_LOG_STDOUT);
	assert_int_equal(g.type[2], AGENT_LOG_STDERR);
	assert_non_null(strstr(g.text[2], "10 bytes of output dropped"));
	assert_int_equal(g.type[3], AGENT_CONTAINER);
	guest_outq_free(&q);
}

static void test_partial_write(void **state)
{
	struct guest_outq q;
	int p[2];
	char data[200000];
	uint8_t buf[70000];
	ssize_t n;

	(void)state;
	memset(data, 'w', sizeof(data));
	guest_outq_init(&q, GUEST_LOG_CAP_CTR, GUEST_LOG_CAP_TOTAL);
	guest_outq_log(&q, 0, AGENT_LOG_STDOUT, data, sizeof(data));
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	/* A 64 KiB pipe takes part of it: the head frame is half written. */
	assert_int_equal(guest_outq_flush(&q, p[1]), 1);
	assert_false(guest_outq_empty(&q));
	/* HELLO "in front" must not split the half-written frame. */
	assert_int_equal(guest_outq_control_front(&q, AGENT_HELLO, "{}"), 0);
	if (q.head->off > 0)
		assert_int_equal(q.head->next->data[5], AGENT_HELLO);
	guest_outq_drop_partial(&q);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		;
	close(p[0]);
	assert_int_equal(guest_outq_flush(&q, p[1]), -EPIPE);
	close(p[1]);
	guest_outq_free(&q);
	assert_int_equal(q.total_log, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunking_and_order),
		cmocka_unit_test(test_cap_drop_and_notice),
		cmocka_unit_test(test_final_notice_and_front),
		cmocka_unit_test(test_partial_write),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
