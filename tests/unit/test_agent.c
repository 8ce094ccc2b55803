/* Agent protocol framing (pod/agent.c). The JSON payloads of the
 * messages are in test_agent_msg.c. */
#include <errno.h>
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

#include "pod/agent.h"
#include "pod/agent_msg.h"

#define S(x) ((const uint8_t *)(x)), strlen(x)

/* ---- framing ------------------------------------------------------------- */

static void build(uint16_t type, uint16_t chan, const char *payload,
		  uint8_t **out, size_t *out_len)
{
	size_t n = payload ? strlen(payload) : 0;

	assert_int_equal(agent_frame_build(type, chan, payload, n, out, out_len), 0);
	assert_int_equal(*out_len, AGENT_HDR_LEN + n);
}

static void test_header_layout(void **state)
{
	uint8_t h[AGENT_HDR_LEN];
	static const uint8_t want[AGENT_HDR_LEN] = { 0x00, 0x01, 0x02, 0x03,
						     0x00, 0x05, 0x01, 0x02 };

	(void)state;
	assert_int_equal(agent_header_encode(h, AGENT_LOG_STDERR, 0x0102, 0x10203), 0);
	assert_memory_equal(h, want, sizeof(want));
	assert_int_equal(agent_header_encode(h, AGENT_HELLO, 0,
					     AGENT_MAX_PAYLOAD + 1), -EMSGSIZE);
	assert_int_equal(agent_header_encode(h, 0, 0, 1), -EINVAL);
}

static void test_round_trip(void **state)
{
	struct agent_reader r;
	struct agent_frame f;
	struct pv_err err;
	uint8_t *buf;
	size_t len;

	(void)state;
	agent_reader_init(&r, 0);
	build(AGENT_HELLO, 0, "{\"a\":1}", &buf, &len);
	assert_int_equal(agent_reader_feed(&r, buf, len), 0);
	free(buf);
	assert_int_equal(agent_reader_next(&r, &f, &err), 1);
	assert_int_equal(f.type, AGENT_HELLO);
	assert_int_equal(f.chan, 0);
	assert_int_equal(f.len, 7);
	assert_memory_equal(f.payload, "{\"a\":1}", 7);
	assert_int_equal(agent_reader_next(&r, &f, &err), 0);

	/* Empty payload and binary log data with a channel. */
	build(AGENT_SHUTDOWN, 0, NULL, &buf, &len);
	assert_int_equal(agent_reader_feed(&r, buf, len), 0);
	free(buf);
	assert_int_equal(agent_frame_build(AGENT_LOG_STDOUT, 15, "\0\xff\n", 3,
					   &buf, &len), 0);
	assert_int_equal(agent_reader_feed(&r, buf, len), 0);
	free(buf);
	assert_int_equal(agent_reader_next(&r, &f, &err), 1);
	assert_int_equal(f.type, AGENT_SHUTDOWN);
	assert_int_equal(f.len, 0);
	assert_int_equal(agent_reader_next(&r, &f, &err), 1);
	assert_int_equal(f.type, AGENT_LOG_STDOUT);
	assert_int_equal(f.chan, 15);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.payload, "\0\xff\n", 3);
	assert_int_equal(agent_reader_next(&r, &f, &err), 0);
	agent_reader_free(&r);
}

/* Feed a stream of several frames split at every possible byte boundary
 * (two pieces), and one byte at a time. */
static void test_split_everywhere(void **state)
{
	uint8_t stream[256];
	size_t slen = 0, cut, i;
	static const char *const payloads[] = { "{}", "hello world", "", "x" };
	static const uint16_t types[] = { AGENT_HELLO_ACK, AGENT_LOG_STDERR,
					  AGENT_SHUTDOWN, AGENT_LOG_STDOUT };

	(void)state;
	for (i = 0; i < 4; i++) {
		uint8_t *b;
		size_t bl;

		build(types[i], (uint16_t)i, payloads[i], &b, &bl);
		memcpy(stream + slen, b, bl);
		slen += bl;
		free(b);
	}
	for (cut = 0; cut <= slen; cut++) {
		struct agent_reader r;
		struct agent_frame f;
		struct pv_err err;
		size_t got = 0;
		int rc;

		agent_reader_init(&r, 0);
		assert_int_equal(agent_reader_feed(&r, stream, cut), 0);
		while ((rc = agent_reader_next(&r, &f, &err)) == 1) {
			assert_int_equal(f.type, types[got]);
			assert_int_equal(f.chan, got);
			assert_int_equal(f.len, strlen(payloads[got]));
			assert_memory_equal(f.payload, payloads[got], f.len);
			got++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(agent_reader_feed(&r, stream + cut, slen - cut), 0);
		while ((rc = agent_reader_next(&r, &f, &err)) == 1) {
			assert_int_equal(f.type, types[got]);
			assert_memory_equal(f.payload, payloads[got], f.len);
			got++;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(got, 4);
		agent_reader_free(&r);
	}

	/* One byte at a time, through the zero-copy interface. */
	{
		struct agent_reader r;
		struct agent_frame f;
		struct pv_err err;
		size_t got = 0;

		agent_reader_init(&r, 0);
		for (i = 0; i < slen; i++) {
			size_t room = 0;
			uint8_t *p = agent_reader_space(&r, &room);

			assert_non_null(p);
			assert_true(room >= 1);
			*p = stream[i];
			agent_reader_commit(&r, 1);
			while (agent_reader_next(&r, &f, &err) == 1) {
				assert_int_equal(f.type, types[got]);
				assert_memory_equal(f.payload, payloads[got], f.len);
				got++;
			}
		}
		assert_int_equal(got, 4);
		agent_reader_free(&r);
	}
}

static void test_truncated(void **state)
{
	struct agent_reader r;
	struct agent_frame f;
	struct pv_err err;
	uint8_t *buf;
	size_t len, n;

	(void)state;
	build(AGENT_POD_SPEC, 0, "{\"pod\":{}}", &buf, &len);
	for (n = 0; n < len; n++) {
		agent_reader_init(&r, 0);
		assert_int_equal(agent_reader_feed(&r, buf, n), 0);
		assert_int_equal(agent_reader_next(&r, &f, &err), 0);
		agent_reader_free(&r);
	}
	free(buf);
}

static void test_oversize(void **state)
{
	struct agent_reader r;
	struct agent_frame f;
	struct pv_err err;
	uint8_t h[AGENT_HDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0, AGENT_POD_SPEC, 0, 0 };

	(void)state;
	agent_reader_init(&r, 0);
	assert_int_equal(agent_reader_feed(&r, h, sizeof(h)), 0);
	/* Rejected on the header alone, without waiting for 4 GiB. */
	assert_int_equal(agent_reader_next(&r, &f, &err), -EMSGSIZE);
	assert_non_null(strstr(err.msg, "POD_SPEC"));
	agent_reader_free(&r);

	/* A reader with a smaller limit (the host reading the guest). */
	agent_reader_init(&r, 100);
	assert_int_equal(agent_header_encode(h, AGENT_ERROR, 0, 101), 0);
	assert_int_equal(agent_reader_feed(&r, h, sizeof(h)), 0);
	assert_int_equal(agent_reader_next(&r, &f, &err), -EMSGSIZE);
	agent_reader_free(&r);

	/* Exactly the limit is fine. */
	agent_reader_init(&r, 100);
	assert_int_equal(agent_header_encode(h, AGENT_ERROR, 0, 100), 0);
	assert_int_equal(agent_reader_feed(&r, h, sizeof(h)), 0);
	assert_int_equal(agent_reader_next(&r, &f, &err), 0);
	agent_reader_free(&r);

	{
		uint8_t *out;
		size_t olen;

		assert_int_equal(agent_frame_build(AGENT_LOG_STDOUT, 0, h,
						   AGENT_MAX_PAYLOAD + 1, &out, &olen),
				 -EMSGSIZE);
		assert_null(out);
	}
}

static void test_bad_type(void **state)
{
	static const uint16_t bad[] = { 0, AGENT_TYPE_MAX + 1, 0xffff };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct agent_reader r;
		struct agent_frame f;
		struct pv_err err;
		uint8_t h[AGENT_HDR_LEN] = { 0, 0, 0, 2,
			(uint8_t)(bad[i] >> 8), (uint8_t)bad[i], 0, 0 };

		agent_reader_init(&r, 0);
		assert_int_equal(agent_reader_feed(&r, h, sizeof(h)), 0);
		assert_int_equal(agent_reader_next(&r, &f, &err), -EPROTO);
		assert_non_null(strstr(err.msg, "unknown message type"));
		agent_reader_free(&r);
	}
	assert_string_equal(agent_type_name(AGENT_POD_DONE), "POD_DONE");
	assert_string_equal(agent_type_name(999), "UNKNOWN");
}

static void test_garbage(void **state)
{
	struct agent_reader r;
	struct agent_frame f;
	struct pv_err err;
	static const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	(void)state;
	agent_reader_init(&r, 0);
	assert_int_equal(agent_reader_feed(&r, text, sizeof(text) - 1), 0);
	assert_true(agent_reader_next(&r, &f, &err) < 0);
	agent_reader_free(&r);

	/* Pseudo-random bytes never crash and never yield a bad frame. */
	{
		unsigned seed = 12345;
		int round;

		for (round = 0; round < 2000; round++) {
			uint8_t junk[64];
			size_t i;
			int rc;

			for (i = 0; i < sizeof(junk); i++) {
				seed = seed * 1103515245u + 12345u;
				junk[i] = (uint8_t)(seed >> 16);
			}
			agent_reader_init(&r, 1024);
			assert_int_equal(agent_reader_feed(&r, junk, sizeof(junk)), 0);
			while ((rc = agent_reader_next(&r, &f, &err)) == 1) {
				assert_true(f.type >= 1 && f.type <= AGENT_TYPE_MAX);
				assert_true(f.len <= 1024);
			}
			agent_reader_free(&r);
		}
	}
}

static void test_many_frames_one_feed(void **state)
{
	enum { N = 5000 };
	struct agent_reader r;
	struct agent_frame f;
	struct pv_err err;
	uint8_t *stream, *p;
	size_t i, got = 0;
	char payload[32];

	(void)state;
	stream = malloc((size_t)N * (AGENT_HDR_LEN + sizeof(payload)));
	assert_non_null(stream);
	p = stream;
	for (i = 0; i < N; i++) {
		int n = snprintf(payload, sizeof(payload), "line %zu\n", i);

		assert_int_equal(agent_header_encode(p, AGENT_LOG_STDOUT,
						     (uint16_t)(i % 7), (size_t)n), 0);
		memcpy(p + AGENT_HDR_LEN, payload, (size_t)n);
		p += AGENT_HDR_LEN + (size_t)n;
	}
	agent_reader_init(&r, 0);
	assert_int_equal(agent_reader_feed(&r, stream, (size_t)(p - stream)), 0);
	while (agent_reader_next(&r, &f, &err) == 1) {
		int n = snprintf(payload, sizeof(payload), "line %zu\n", got);

		assert_int_equal(f.chan, got % 7);
		assert_int_equal(f.len, (size_t)n);
		assert_memory_equal(f.payload, payload, f.len);
		got++;
	}
	assert_int_equal(got, N);
	agent_reader_free(&r);
	free(stream);
}

/* A frame bigger than the reader's initial buffer through space/commit. */
static void test_large_frame(void **state)
{
	size_t plen = 1024 * 1024 + 3, off = 0, total;
	struct agent_reader r;
	struct agent_frame f;
	struct pv_err err;
	uint8_t *buf;
	size_t i;
	int rc = 0;

	(void)state;
	buf = malloc(AGENT_HDR_LEN + plen);
	assert_non_null(buf);
	for (i = 0; i < plen; i++)
		buf[AGENT_HDR_LEN + i] = (uint8_t)(i * 31);
	assert_int_equal(agent_header_encode(buf, AGENT_POD_SPEC, 0, plen), 0);
	total = AGENT_HDR_LEN + plen;
	agent_reader_init(&r, 0);
	while (off < total) {
		size_t room, n;
		uint8_t *p = agent_reader_space(&r, &room);

		assert_non_null(p);
		n = total - off < room ? total - off : room;
		if (n > 50000)
			n = 50000;
		memcpy(p, buf + off, n);
		agent_reader_commit(&r, n);
		off += n;
		rc = agent_reader_next(&r, &f, &err);
		assert_int_equal(rc, off == total ? 1 : 0);
	}
	assert_int_equal(f.len, plen);
	assert_memory_equal(f.payload, buf + AGENT_HDR_LEN, plen);
	agent_reader_free(&r);
	free(buf);
}

static void test_write_frame(void **state)
{
	int sv[2];
	uint8_t buf[64];
	ssize_t n;
	struct agent_reader r;
	struct agent_frame f;
	struct pv_err err;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(agent_write_frame(sv[0], AGENT_STOP, 0, "{}", 2), 0);
	n = read(sv[1], buf, sizeof(buf));
	assert_int_equal(n, AGENT_HDR_LEN + 2);
	agent_reader_init(&r, 0);
	assert_int_equal(agent_reader_feed(&r, buf, (size_t)n), 0);
	assert_int_equal(agent_reader_next(&r, &f, &err), 1);
	assert_int_equal(f.type, AGENT_STOP);
	agent_reader_free(&r);
	/* Peer gone: EPIPE, not SIGPIPE. */
	close(sv[1]);
	assert_int_equal(agent_write_frame(sv[0], AGENT_STOP, 0, "{}", 2), -EPIPE);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_many_frames_one_feed),
		cmocka_unit_test(test_large_frame),
		cmocka_unit_test(test_write_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
