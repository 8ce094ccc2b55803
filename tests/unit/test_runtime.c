/* runtime_build (Kubernetes command/args/env/workingDir rules, init
 * containers) and the runtime JSON codec. $(VAR) expansion and valueFrom
 * are in test_runtime_env.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "host/runtime_build.h"
#include "tests/unit/test_runtime_util.h"

static void test_argv_rules(void **state)
{
	struct pod_runtime rt;

	build("", &img, &rt);
	expect_argv(&rt.containers[0], 3, "/entry", "--flag", "serve");
	runtime_free(&rt);

	/* command given, args not: image Cmd is dropped */
	build(",\"command\":[\"/bin/sh\"]", &img, &rt);
	expect_argv(&rt.containers[0], 1, "/bin/sh");
	runtime_free(&rt);

	build(",\"command\":[\"/bin/sh\"],\"args\":[\"-c\",\"x\"]", &img, &rt);
	expect_argv(&rt.containers[0], 3, "/bin/sh", "-c", "x");
	runtime_free(&rt);

	/* args alone replace Cmd */
	build(",\"args\":[\"a\",\"b\"]", &img, &rt);
	expect_argv(&rt.containers[0], 4, "/entry", "--flag", "a", "b");
	runtime_free(&rt);

	/* empty command array counts as not given (kubelet) */
	build(",\"command\":[]", &img, &rt);
	expect_argv(&rt.containers[0], 3, "/entry", "--flag", "serve");
	runtime_free(&rt);
}

static void test_env_cwd_user(void **state)
{
	struct pod_runtime rt;
	const struct runtime_container *rc;

	build(",\"env\":[{\"name\":\"A\",\"value\":\"pod\"},{\"name\":\"Z\"}],"
	      "\"workingDir\":\"/w\"", &img, &rt);
	rc = &rt.containers[0];
	assert_int_equal(rc->n_env, 4);
	assert_string_equal(rc->env[0], "PATH=/usr/bin:/bin");
	assert_string_equal(rc->env[1], "HOME=/root");
	assert_string_equal(rc->env[2], "A=pod");
	assert_string_equal(rc->env[3], "Z=");
	assert_null(rc->env[4]);
	assert_string_equal(rc->cwd, "/w");
	assert_string_equal(rc->user, "1000:1000");
	assert_string_equal(rc->disk_serial, "img0");
	assert_string_equal(rc->name, "c");
	assert_string_equal(rt.hostname, "p");
	runtime_free(&rt);

	build("", &img, &rt);
	assert_string_equal(rt.containers[0].cwd, "/app");
	runtime_free(&rt);
}

static void test_no_command(void **state)
{
	struct pod *pod = decode("");
	const struct image_config empty = { 0 };
	const struct image_config *cfgs[] = { &empty };
	struct pod_runtime rt;
	struct pv_err err = { 0 };

	assert_int_equal(runtime_build(pod, cfgs, NULL, NULL, &rt, &err), -EINVAL);
	assert_string_equal(err.msg, "spec.containers[0].command: no command: "
			    "the image has no Entrypoint or Cmd and the "
			    "container gives none");
	assert_null(rt.containers);
	/* a NULL config is an empty one */
	assert_int_equal(runtime_build(pod, NULL, NULL, NULL, &rt, &err), -EINVAL);
	pod_free(pod);

	/* an image without anything still runs a given command, as root, in / */
	pod = decode(",\"command\":[\"true\"]");
	assert_int_equal(runtime_build(pod, cfgs, NULL, NULL, &rt, &err), 0);
	assert_string_equal(rt.containers[0].cwd, "/");
	assert_null(rt.containers[0].user);
	assert_null(rt.containers[0].disk_serial);
	assert_int_equal(rt.containers[0].n_env, 0);
	runtime_free(&rt);
	pod_free(pod);
}

static void test_hostname(void **state)
{
	char json[1024], name[128];
	struct pod *pod = NULL;
	struct pod_runtime rt;
	struct pv_err err = { 0 };

	/* 62 chars, '-', more: cut to 63 then the trailing '-' goes */
	memset(name, 'a', 62);
	strcpy(name + 62, "-bcd");
	snprintf(json, sizeof(json), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
		 "\"metadata\":{\"name\":\"%s\"},\"spec\":{\"containers\":"
		 "[{\"name\":\"c\",\"image\":\"x\",\"command\":[\"x\"]}]}}", name);
	assert_int_equal(pod_decode_json(json, strlen(json), &pod, NULL, &err), 0);
	assert_int_equal(runtime_build(pod, NULL, NULL, NULL, &rt, &err), 0);
	assert_int_equal(strlen(rt.hostname), 62);
	runtime_free(&rt);
	pod_free(pod);

	snprintf(json, sizeof(json), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
		 "\"metadata\":{\"name\":\"p\"},\"spec\":{\"hostname\":\"h\","
		 "\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"command\":[\"x\"]}]}}");
	assert_int_equal(pod_decode_json(json, strlen(json), &pod, NULL, &err), 0);
	assert_int_equal(runtime_build(pod, NULL, NULL, NULL, &rt, &err), 0);
	assert_string_equal(rt.hostname, "h");
	runtime_free(&rt);
	pod_free(pod);
}

static void test_json_round_trip(void **state)
{
	struct pod_runtime rt, back;
	struct json_object *j, *parsed;
	struct pv_err err = { 0 };

	build(",\"env\":[{\"name\":\"A\",\"value\":\"pod\"}]", &img, &rt);
	j = runtime_to_json(&rt);
	assert_non_null(j);
	parsed = json_tokener_parse(json_object_to_json_string(j));
	assert_non_null(parsed);
	assert_int_equal(runtime_from_json(parsed, &back, &err), 0);
	assert_string_equal(back.hostname, rt.hostname);
	assert_int_equal(back.n_containers, 1);
	assert_int_equal(back.containers[0].argc, rt.containers[0].argc);
	for (size_t i = 0; i < rt.containers[0].argc; i++)
		assert_string_equal(back.containers[0].argv[i],
				    rt.containers[0].argv[i]);
	assert_int_equal(back.containers[0].n_env, rt.containers[0].n_env);
	assert_string_equal(back.containers[0].env[2], "A=pod");
	assert_string_equal(back.containers[0].cwd, "/app");
	assert_string_equal(back.containers[0].user, "1000:1000");
	assert_string_equal(back.containers[0].disk_serial, "img0");
	json_object_put(parsed);
	json_object_put(j);
	runtime_free(&back);
	runtime_free(&rt);
}

static void expect_bad(const char *json, const char *msg_part)
{
	struct json_object *o = json_tokener_parse(json);
	struct pod_runtime rt;
	struct pv_err err = { 0 };

	assert_non_null(o);
	assert_true(runtime_from_json(o, &rt, &err) < 0);
	if (!strstr(err.msg, msg_part))
		fail_msg("%s: got %s", json, err.msg);
	assert_null(rt.containers);
	json_object_put(o);
}

#define C0 "{\"name\":\"c\",\"argv\":[\"x\"],\"env\":[],\"cwd\":\"/\""

static void test_json_strict(void **state)
{
	expect_bad("{\"hostname\":\"h\",\"containers\":[" C0 ",\"x\":1}]}",
		   "containers[0].x: unknown field");
	expect_bad("{\"hostname\":\"h\",\"containers\":[" C0 "}],\"y\":1}",
		   "y: unknown field");
	expect_bad("{\"hostname\":\"h\",\"containers\":[]}", "need 1 to 16");
	expect_bad("{\"containers\":[" C0 "}]}", "required");
	expect_bad("{\"hostname\":\"H_\",\"containers\":[" C0 "}]}", "hostname");
	expect_bad("{\"hostname\":\"h\",\"containers\":[{\"name\":\"c\","
		   "\"argv\":[],\"env\":[],\"cwd\":\"/\"}]}", "argv: empty");
	expect_bad("{\"hostname\":\"h\",\"containers\":[{\"name\":\"c\","
		   "\"argv\":[\"x\"],\"env\":[\"NOEQ\"],\"cwd\":\"/\"}]}",
		   "KEY=value");
	expect_bad("{\"hostname\":\"h\",\"containers\":[{\"name\":\"c\","
		   "\"argv\":[\"x\"],\"env\":[],\"cwd\":\"rel\"}]}",
		   "absolute");
	expect_bad("{\"hostname\":\"h\",\"containers\":[{\"name\":\"c\","
		   "\"argv\":[\"x\\u0000y\"],\"env\":[],\"cwd\":\"/\"}]}",
		   "NUL");
	expect_bad("{\"hostname\":\"h\",\"containers\":[{\"name\":\"c\","
		   "\"argv\":[1],\"env\":[],\"cwd\":\"/\"}]}", "expected string");
	expect_bad("[]", "expected object");
}

/* ---- init containers ---- */

static void test_init_containers(void **state)
{
	static char *iep[] = { "/init" };
	const struct image_config icfg = { .entrypoint = iep, .n_entrypoint = 1 };
	const struct image_config *cfgs[] = { &icfg, &img, &img };
	const char *serials[] = { "disk-i", "disk-0", "disk-1" };
	struct pod *pod;
	struct pod_runtime rt, back;
	struct pv_err err = { 0 };
	struct json_object *j, *parsed;

	pod = decode_pod("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
			 "{\"name\":\"p\"},\"spec\":{\"initContainers\":[{\"name\":"
			 "\"setup\",\"image\":\"i\",\"env\":[{\"name\":\"A\","
			 "\"value\":\"1\"}],\"args\":[\"$(A)\"]}],\"containers\":"
			 "[{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\","
			 "\"image\":\"x\",\"args\":[\"b\"]}]}}");
	assert_int_equal(runtime_build(pod, cfgs, serials, NULL, &rt, &err), 0);
	assert_int_equal(rt.n_init_containers, 1);
	assert_int_equal(rt.n_containers, 2);
	assert_string_equal(rt.init_containers[0].name, "setup");
	expect_argv(&rt.init_containers[0], 2, "/init", "1");
	assert_string_equal(rt.init_containers[0].disk_serial, "disk-i");
	assert_string_equal(rt.init_containers[0].cwd, "/");
	expect_argv(&rt.containers[0], 3, "/entry", "--flag", "serve");
	assert_string_equal(rt.containers[0].disk_serial, "disk-0");
	expect_argv(&rt.containers[1], 3, "/entry", "--flag", "b");
	assert_string_equal(rt.containers[1].disk_serial, "disk-1");

	j = runtime_to_json(&rt);
	assert_non_null(j);
	parsed = json_tokener_parse(json_object_to_json_string(j));
	assert_int_equal(runtime_from_json(parsed, &back, &err), 0);
	assert_int_equal(back.n_init_containers, 1);
	assert_string_equal(back.init_containers[0].argv[1], "1");
	assert_string_equal(back.init_containers[0].disk_serial, "disk-i");
	assert_int_equal(back.n_containers, 2);
	json_object_put(parsed);
	json_object_put(j);
	runtime_free(&back);
	runtime_free(&rt);

	/* no image config for the init container: its args alone run */
	cfgs[0] = NULL;
	assert_int_equal(runtime_build(pod, cfgs, serials, NULL, &rt, &err), 0);
	expect_argv(&rt.init_containers[0], 1, "1");
	runtime_free(&rt);
	pod_free(pod);
	/* no command at all: the error names the init container */
	pod = decode_pod("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
			 "{\"name\":\"p\"},\"spec\":{\"initContainers\":[{\"name\":"
			 "\"setup\",\"image\":\"i\"}],\"containers\":[{\"name\":"
			 "\"a\",\"image\":\"x\",\"command\":[\"x\"]}]}}");
	assert_int_equal(runtime_build(pod, NULL, NULL, NULL, &rt, &err), -EINVAL);
	assert_string_equal(err.msg, "spec.initContainers[0].command: no "
			    "command: the image has no Entrypoint or Cmd and "
			    "the container gives none");
	pod_free(pod);

	/* strict decoding of the init list */
	expect_bad("{\"hostname\":\"h\",\"containers\":[" C0 "}],"
		   "\"initContainers\":{}}", "initContainers is an array");
	expect_bad("{\"hostname\":\"h\",\"containers\":[" C0 "}],"
		   "\"initContainers\":[{\"name\":\"i\"}]}",
		   "initContainers[0]: name, argv, env and cwd are required");
}

static void test_init_json_limit(void **state)
{
	char json[8192];
	size_t o;

	/* 16 containers + 1 init container: one index space of 16 */
	o = (size_t)snprintf(json, sizeof(json), "{\"hostname\":\"h\","
			     "\"containers\":[");
	for (int i = 0; i < 16; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o, "%s" C0 "}",
				      i ? "," : "");
	snprintf(json + o, sizeof(json) - o, "],\"initContainers\":[" C0 "}]}");
	expect_bad(json, "need 1 to 16");
}
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_rules),
		cmocka_unit_test(test_env_cwd_user),
		cmocka_unit_test(test_no_command),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_strict),
		cmocka_unit_test(test_init_containers),
		cmocka_unit_test(test_init_json_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
