/* Agent protocol JSON payloads (pod/agent_msg.c): HELLO, HELLO_ACK,
 * container events, STOP, ERROR, POD_DONE. Framing is in test_agent.c. */
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
		cmocka_unit_test(test_msg_hello),
		cmocka_unit_test(test_msg_hello_ack_negotiate),
		cmocka_unit_test(test_msg_ctr_event),
		cmocka_unit_test(test_msg_stop_error),
		cmocka_unit_test(test_msg_pod_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
