/* AGENT_POD_SPEC (pod/agent_spec.c): what the host encodes the guest
 * decodes, and the decoder refuses what does not describe one pod. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/runtime_build.h"
#include "pod/agent.h"
#include "pod/agent_msg.h"

#define POD_TEXT "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}," \
	"\"spec\":{\"initContainers\":[{\"name\":\"i\",\"image\":\"busybox\",\"command\":[\"true\"]}]," \
	"\"containers\":[{\"name\":\"a\",\"image\":\"busybox\",\"command\":[\"sh\"]}," \
	"{\"name\":\"b\",\"image\":\"busybox\",\"args\":[\"x\"],\"command\":[\"echo\"]}]}}"
#define S(s) (const uint8_t *)(s), strlen(s)

static void spec_build(struct pod **pod, struct pod_runtime *rt)
{
	const char *serials[] = { "img0", "img0", "img1" };
	struct pv_err err = { 0 };

	if (pod_decode_json(POD_TEXT, strlen(POD_TEXT), pod, NULL, &err) < 0 ||
	    runtime_build(*pod, NULL, serials, NULL, rt, &err) < 0)
		fail_msg("build: %s", err.msg);
}

static void test_round_trip(void **state)
{
	struct pod *pod, *got;
	struct pod_runtime rt, grt;
	struct pv_err err = { 0 };
	char *text;
	size_t len;

	(void)state;
	spec_build(&pod, &rt);
	assert_int_equal(agent_msg_pod_spec(pod, &rt, &text, &len, &err), 0);
	assert_int_equal(len, strlen(text));
	assert_int_equal(agent_parse_pod_spec((const uint8_t *)text, len, &got,
					      &grt, &err), 0);
	assert_string_equal(got->name, "p");
	assert_int_equal(got->n_init_containers, 1);
	assert_int_equal(got->n_containers, 2);
	assert_int_equal(grt.n_init_containers, 1);
	assert_int_equal(grt.n_containers, 2);
	assert_string_equal(grt.containers[1].name, "b");
	assert_string_equal(grt.containers[1].argv[1], "x");
	assert_string_equal(grt.containers[1].disk_serial, "img1");
	pod_free(got);
	runtime_free(&grt);
	free(text);
	pod_free(pod);
	runtime_free(&rt);
}

static void test_refused(void **state)
{
	struct pod *pod, *got = (struct pod *)1;
	struct pod_runtime rt, grt;
	struct pv_err err = { 0 };
	char *text, *bad;
	size_t len;

	(void)state;
	spec_build(&pod, &rt);
	/* a runtime for fewer containers than the pod has */
	rt.n_containers = 1;
	assert_int_equal(agent_msg_pod_spec(pod, &rt, &text, &len, &err), 0);
	rt.n_containers = 2;
	assert_int_equal(agent_parse_pod_spec((const uint8_t *)text, len, &got,
					      &grt, &err), -EINVAL);
	assert_null(got);
	assert_non_null(strstr(err.msg, "runtime containers"));
	/* a third key */
	bad = malloc(len + 16);
	assert_non_null(bad);
	snprintf(bad, len + 16, "%.*s,\"x\":1}", (int)len - 1, text);
	assert_int_equal(agent_parse_pod_spec(S(bad), &got, &grt, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "POD_SPEC"));
	free(bad);
	free(text);
	assert_int_equal(agent_parse_pod_spec(S("{\"pod\":{}}"), &got, &grt, &err),
			 -EBADMSG);
	assert_int_equal(agent_parse_pod_spec(S("[]"), &got, &grt, &err), -EBADMSG);
	assert_int_equal(agent_parse_pod_spec(S("{\"pod\":{},\"runtime\":{}} x"),
					      &got, &grt, &err), -EBADMSG);
	assert_true(agent_parse_pod_spec(S("{\"pod\":{\"kind\":\"Pod\"},\"runtime\":{}}"),
					 &got, &grt, &err) < 0);
	assert_non_null(strstr(err.msg, "POD_SPEC pod"));
	assert_null(got);
	pod_free(pod);
	runtime_free(&rt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
