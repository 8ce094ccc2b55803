/* Agent protocol codec: framing (pod/agent.c) and JSON payloads
 * (pod/agent_msg.c). */
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

/* ---- messages ------------------------------------------------------------ */

static void test_msg_hello(void **state)
{
	struct agent_hello h = { .proto_min = 1, .proto_max = 3 }, d;
	struct pv_err err;
	char *s;
	char big[200];

	(void)state;
	snprintf(h.agent, sizeof(h.agent), "podvm-init/0.1");
	s = agent_msg_hello(&h);
	assert_non_null(s);
	assert_int_equal(agent_parse_hello(S(s), &d, &err), 0);
	assert_int_equal(d.proto_min, 1);
	assert_int_equal(d.proto_max, 3);
	assert_string_equal(d.agent, "podvm-init/0.1");
	free(s);

	assert_int_equal(agent_parse_hello(S("{\"protoMin\":\"1\",\"protoMax\":1,\"agent\":\"a\"}"),
					   &d, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "protoMin"));
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":1.0,\"protoMax\":1,\"agent\":\"a\"}"),
					   &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":2,\"protoMax\":1,\"agent\":\"a\"}"),
					   &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":0,\"protoMax\":1,\"agent\":\"a\"}"),
					   &d, &err), -ERANGE);
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":1,\"protoMax\":99999999999999999999999,\"agent\":\"a\"}"),
					   &d, &err) < 0, 1);
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":1,\"protoMax\":1}"),
					   &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":1,\"protoMax\":1,\"agent\":\"a\",\"x\":1}"),
					   &d, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "unknown field"));
	memset(big, 'a', sizeof(big));
	snprintf(big, sizeof(big), "{\"protoMin\":1,\"protoMax\":1,\"agent\":\"%0100d\"}", 0);
	assert_int_equal(agent_parse_hello(S(big), &d, &err), -EMSGSIZE);
	/* Not an object, trailing data, truncated, NUL, nesting, empty. */
	assert_int_equal(agent_parse_hello(S("[1]"), &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_hello(S("{} {}"), &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":1"), &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_hello((const uint8_t *)"{}\0", 3, &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_hello(S("{\"a\":[[[[[[[[[[[[[[1]]]]]]]]]]]]]]}"), &d, &err),
			 -EBADMSG);
	assert_int_equal(agent_parse_hello((const uint8_t *)"", 0, &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":1,\"protoMax\":1,\"agent\":\"a\\u0000b\"}"),
					   &d, &err), -EBADMSG);
	/* Trailing whitespace is fine. */
	assert_int_equal(agent_parse_hello(S("{\"protoMin\":1,\"protoMax\":1,\"agent\":\"a\"}\n"),
					   &d, &err), 0);
}

static void test_msg_hello_ack_negotiate(void **state)
{
	struct pv_err err;
	int proto;
	char *s;

	(void)state;
	s = agent_msg_hello_ack(1);
	assert_non_null(s);
	assert_int_equal(agent_parse_hello_ack(S(s), &proto, &err), 0);
	assert_int_equal(proto, 1);
	free(s);
	assert_int_equal(agent_parse_hello_ack(S("{\"proto\":true}"), &proto, &err),
			 -EBADMSG);
	assert_int_equal(agent_parse_hello_ack(S("{\"proto\":-1}"), &proto, &err),
			 -ERANGE);
	assert_int_equal(agent_proto_negotiate(1, 1), 1);
	assert_int_equal(agent_proto_negotiate(1, 5), AGENT_PROTO_MAX);
	assert_int_equal(agent_proto_negotiate(AGENT_PROTO_MAX + 1, AGENT_PROTO_MAX + 3), -1);
	assert_int_equal(agent_proto_negotiate(2, 1), -1);
	assert_int_equal(agent_proto_negotiate(0, 0), -1);
}

static void test_msg_ctr_event(void **state)
{
	struct agent_ctr_event ev = { 0 }, d;
	struct pv_err err;
	char *s;
	char *big;

	(void)state;
	ev.index = 3;
	ev.state = AGENT_CTR_TERMINATED;
	ev.exit_code = 137;
	ev.signal = 9;
	snprintf(ev.reason, sizeof(ev.reason), "Error");
	snprintf(ev.message, sizeof(ev.message), "exec: \"x\": not found \"q\"\n");
	ev.time_ms = 1700000000123;
	s = agent_msg_ctr_event(&ev);
	assert_non_null(s);
	assert_int_equal(agent_parse_ctr_event(S(s), &d, &err), 0);
	assert_int_equal(d.index, 3);
	assert_int_equal(d.state, AGENT_CTR_TERMINATED);
	assert_int_equal(d.exit_code, 137);
	assert_int_equal(d.signal, 9);
	assert_string_equal(d.reason, "Error");
	assert_string_equal(d.message, ev.message);
	assert_int_equal(d.time_ms, ev.time_ms);
	free(s);

	memset(&ev, 0, sizeof(ev));
	ev.index = 0;
	ev.state = AGENT_CTR_RUNNING;
	s = agent_msg_ctr_event(&ev);
	assert_non_null(s);
	assert_null(strstr(s, "exitCode"));
	assert_int_equal(agent_parse_ctr_event(S(s), &d, &err), 0);
	assert_int_equal(d.state, AGENT_CTR_RUNNING);
	free(s);

	/* index bound: [initContainers..., containers...] */
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":32,\"state\":\"RUNNING\"}"),
					       &d, &err), -ERANGE);
	/* WAITING (back-off, PodInitializing) needs a reason */
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"WAITING\","
						 "\"reason\":\"CrashLoopBackOff\"}"),
					       &d, &err), 0);
	assert_int_equal(d.state, AGENT_CTR_WAITING);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"TERMINATED\"}"),
					       &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"RUNNING\",\"exitCode\":0}"),
					       &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"TERMINATED\",\"exitCode\":256}"),
					       &d, &err), -ERANGE);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":\"TERMINATED\",\"exitCode\":1,\"reason\":7}"),
					       &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":0,\"state\":1}"),
					       &d, &err), -EBADMSG);
	assert_int_equal(agent_parse_ctr_event(S("{\"index\":null,\"state\":\"RUNNING\"}"),
					       &d, &err), -EBADMSG);
	big = malloc(AGENT_MESSAGE_MAX + 100);
	assert_non_null(big);
	snprintf(big, AGENT_MESSAGE_MAX + 100,
		 "{\"index\":0,\"state\":\"TERMINATED\",\"exitCode\":1,\"message\":\"%0*d\"}",
		 AGENT_MESSAGE_MAX, 0);
	assert_int_equal(agent_parse_ctr_event(S(big), &d, &err), -EMSGSIZE);
	snprintf(big, AGENT_MESSAGE_MAX + 100,
		 "{\"index\":0,\"state\":\"TERMINATED\",\"exitCode\":1,\"message\":\"%0*d\"}",
		 AGENT_MESSAGE_MAX - 1, 0);
	assert_int_equal(agent_parse_ctr_event(S(big), &d, &err), 0);
	assert_int_equal(strlen(d.message), AGENT_MESSAGE_MAX - 1);
	snprintf(big, AGENT_MESSAGE_MAX + 100,
		 "{\"index\":0,\"state\":\"TERMINATED\",\"exitCode\":1,\"reason\":\"%0*d\"}",
		 AGENT_REASON_MAX, 0);
	assert_int_equal(agent_parse_ctr_event(S(big), &d, &err), -EMSGSIZE);
	free(big);
}

static void test_msg_stop_error(void **state)
{
	struct pv_err err;
	int64_t g;
	char msg[8];
	char *s;

	(void)state;
	s = agent_msg_stop(30);
	assert_int_equal(agent_parse_stop(S(s), &g, &err), 0);
	assert_int_equal(g, 30);
	free(s);
	s = agent_msg_stop(AGENT_GRACE_DEFAULT);
	assert_string_equal(s, "{}");
	assert_int_equal(agent_parse_stop(S(s), &g, &err), 0);
	assert_int_equal(g, AGENT_GRACE_DEFAULT);
	free(s);
	assert_int_equal(agent_parse_stop(S("{\"gracePeriodSeconds\":-5}"), &g, &err),
			 -ERANGE);
	assert_int_equal(agent_parse_stop(S("{\"gracePeriodSeconds\":\"5\"}"), &g, &err),
			 -EBADMSG);

	s = agent_msg_error("something \"bad\"");
	assert_non_null(s);
	assert_int_equal(agent_parse_error(S(s), msg, sizeof(msg), &err), 0);
	assert_string_equal(msg, "somethi");  /* caller's buffer bounds it */
	free(s);
	assert_int_equal(agent_parse_error(S("{}"), msg, sizeof(msg), &err), -EBADMSG);
	assert_int_equal(agent_parse_empty(S("{}"), &err), 0);
	assert_int_equal(agent_parse_empty(S("{\"x\":1}"), &err), -EBADMSG);
}

static void test_msg_pod_done(void **state)
{
	struct agent_pod_done d = { 0 }, o;
	struct pv_err err;
	char *s;
	char big[2048];
	size_t i, len;

	(void)state;
	d.n = 2;
	d.containers[0].index = 0;
	d.containers[0].exit_code = 0;
	snprintf(d.containers[0].reason, AGENT_REASON_MAX, "Completed");
	d.containers[1].index = 1;
	d.containers[1].exit_code = 143;
	d.containers[1].signal = 15;
	snprintf(d.containers[1].reason, AGENT_REASON_MAX, "Error");
	s = agent_msg_pod_done(&d);
	assert_non_null(s);
	assert_int_equal(agent_parse_pod_done(S(s), &o, &err), 0);
	assert_int_equal(o.n, 2);
	assert_string_equal(o.containers[0].reason, "Completed");
	assert_int_equal(o.containers[1].exit_code, 143);
	assert_int_equal(o.containers[1].signal, 15);
	free(s);

	assert_int_equal(agent_parse_pod_done(S("{\"containers\":{}}"), &o, &err), -EBADMSG);
	assert_int_equal(agent_parse_pod_done(S("{\"containers\":[1]}"), &o, &err), -EBADMSG);
	assert_int_equal(agent_parse_pod_done(S("{\"containers\":[{\"index\":0}]}"), &o, &err),
			 -EBADMSG);
	len = (size_t)snprintf(big, sizeof(big), "{\"containers\":[");
	for (i = 0; i <= AGENT_MAX_CTRS; i++)
		len += (size_t)snprintf(big + len, sizeof(big) - len,
					"%s{\"index\":0,\"exitCode\":0}", i ? "," : "");
	snprintf(big + len, sizeof(big) - len, "]}");
	assert_int_equal(agent_parse_pod_done(S(big), &o, &err), -E2BIG);
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
		cmocka_unit_test(test_msg_hello),
		cmocka_unit_test(test_msg_hello_ack_negotiate),
		cmocka_unit_test(test_msg_ctr_event),
		cmocka_unit_test(test_msg_stop_error),
		cmocka_unit_test(test_msg_pod_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
