/* runtime_build (Kubernetes command/args/env/workingDir rules) and the
 * runtime JSON codec. */
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

static struct pod *decode_pod(const char *json)
{
	struct pod *pod = NULL;
	struct pv_err err = { 0 };

	if (pod_decode_json(json, strlen(json), &pod, NULL, &err) < 0)
		fail_msg("decode: %s", err.msg);
	return pod;
}

static struct pod *decode(const char *ctr_fields)
{
	char json[8192];
	struct pod *pod = NULL;
	struct pv_err err = { 0 };

	snprintf(json, sizeof(json), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
		 "\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
		 "[{\"name\":\"c\",\"image\":\"x\"%s}]}}", ctr_fields);
	if (pod_decode_json(json, strlen(json), &pod, NULL, &err) < 0)
		fail_msg("decode: %s", err.msg);
	return pod;
}

static char *ep[] = { "/entry", "--flag" };
static char *cmd[] = { "serve" };
static char *ienv[] = { "PATH=/usr/bin:/bin", "HOME=/root", "A=image" };

static const struct image_config img = {
	.entrypoint = ep, .n_entrypoint = 2,
	.cmd = cmd, .n_cmd = 1,
	.env = ienv, .n_env = 3,
	.working_dir = "/app",
	.user = "1000:1000",
};

static void expect_argv(const struct runtime_container *rc, size_t n, ...)
{
	va_list ap;

	assert_int_equal(rc->argc, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(rc->argv[i], va_arg(ap, const char *));
	va_end(ap);
	assert_null(rc->argv[n]);
}

static void build(const char *fields, const struct image_config *cfg,
		  struct pod_runtime *rt)
{
	struct pod *pod = decode(fields);
	const struct image_config *cfgs[] = { cfg };
	const char *serials[] = { "img0" };
	struct pv_err err = { 0 };

	if (runtime_build(pod, cfgs, serials, NULL, rt, &err) < 0)
		fail_msg("build: %s", err.msg);
	pod_free(pod);
}

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

/* ---- $(VAR) expansion ---- */

static const char *lookup_tab(void *arg, const char *name, size_t len)
{
	static const char *const vars[][2] = {
		{ "A", "alpha" }, { "B", "$(A)" }, { "EMPTY", "" },
		{ "X.Y-z", "dots" },
	};

	(void)arg;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strlen(vars[i][0]) == len && memcmp(vars[i][0], name, len) == 0)
			return vars[i][1];
	return NULL;
}

static void test_expand_table(void **state)
{
	/* the cases of Kubernetes' expansion_test.go that apply */
	static const char *const t[][2] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "$(A)", "alpha" },
		{ "x$(A)y", "xalphay" },
		{ "$(A)$(A)", "alphaalpha" },
		{ "$(B)", "$(A)" },                 /* values are not re-expanded */
		{ "$(EMPTY)", "" },
		{ "$(X.Y-z)", "dots" },
		{ "$(UNDEF)", "$(UNDEF)" },         /* undefined stays */
		{ "a $(UNDEF) b $(A)", "a $(UNDEF) b alpha" },
		{ "$$(A)", "$(A)" },                /* escaped */
		{ "$$$(A)", "$alpha" },
		{ "$$$$(A)", "$$(A)" },
		{ "$$", "$" },
		{ "$$$", "$$" },
		{ "$", "$" },                       /* trailing operator */
		{ "a$", "a$" },
		{ "$A", "$A" },                     /* no expression */
		{ "$(A", "$(A" },                   /* unclosed */
		{ "$(A$(A)", "$(A$(A)" },           /* name is "A$(A" */
		{ "$()", "$()" },
		{ "$((A))", "$((A))" },
		{ "($(A))", "(alpha)" },
		{ "$(A)$", "alpha$" },
		{ "$(A)$$", "alpha$" },
		{ "${A}", "${A}" },
	};
	char *out;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(runtime_expand(t[i][0], lookup_tab, NULL, 100,
						&out), 0);
		if (strcmp(out, t[i][1]) != 0)
			fail_msg("\"%s\": want \"%s\", got \"%s\"", t[i][0],
				 t[i][1], out);
		free(out);
	}
	/* bounded */
	assert_int_equal(runtime_expand("$(A)$(A)", lookup_tab, NULL, 9, &out),
			 -E2BIG);
	assert_null(out);
	assert_int_equal(runtime_expand("$(A)$(A)", lookup_tab, NULL, 10, &out), 0);
	free(out);
}

static const char *env_of(const struct runtime_container *rc, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < rc->n_env; i++)
		if (strncmp(rc->env[i], name, len) == 0 && rc->env[i][len] == '=')
			return rc->env[i] + len + 1;
	return NULL;
}

static void test_expand_in_build(void **state)
{
	struct pod_runtime rt;
	const struct runtime_container *rc;

	/* env: only earlier variables; image vars are no source; command and
	 * args see all of the container's vars; the image's Entrypoint is
	 * not expanded */
	static char *xep[] = { "/bin/$(A)" };
	static char *xenv[] = { "IMG=image", "PATH=/bin" };
	const struct image_config xi = { .entrypoint = xep, .n_entrypoint = 1,
					 .env = xenv, .n_env = 2 };

	build(",\"env\":[{\"name\":\"B\",\"value\":\"$(A)-b\"},"
	      "{\"name\":\"A\",\"value\":\"a\"},"
	      "{\"name\":\"C\",\"value\":\"$(A)$(B)$(IMG)$$(A)\"},"
	      "{\"name\":\"P\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
	      "\"metadata.name\"}}},"
	      "{\"name\":\"Q\",\"value\":\"$(P)/$(Q)\"}],"
	      "\"args\":[\"$(A)\",\"$(C)\",\"$(IMG)\",\"$$(A)\",\"$(Q)\"]", &xi, &rt);
	rc = &rt.containers[0];
	assert_string_equal(env_of(rc, "B"), "$(A)-b");
	assert_string_equal(env_of(rc, "A"), "a");
	assert_string_equal(env_of(rc, "C"), "a$(A)-b$(IMG)$(A)");
	assert_string_equal(env_of(rc, "P"), "p");
	assert_string_equal(env_of(rc, "Q"), "p/$(Q)");
	assert_string_equal(env_of(rc, "IMG"), "image");
	expect_argv(rc, 6, "/bin/$(A)", "a", "a$(A)-b$(IMG)$(A)", "$(IMG)",
		    "$(A)", "p/$(Q)");
	runtime_free(&rt);

	/* command given: expanded too */
	build(",\"env\":[{\"name\":\"D\",\"value\":\"/srv\"}],"
	      "\"command\":[\"ls\",\"$(D)\"]", &xi, &rt);
	expect_argv(&rt.containers[0], 2, "ls", "/srv");
	runtime_free(&rt);
}

static void test_expand_bounds(void **state)
{
	/* each doubling of 4096 bytes: the 5th value passes 64 KiB */
	char *json = malloc(16384), *p;
	struct pod *pod;
	struct pod_runtime rt;
	struct pv_err err = { 0 };

	assert_non_null(json);
	p = json + sprintf(json, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
			   "\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":"
			   "[{\"name\":\"c\",\"image\":\"x\",\"command\":[\"x\"],"
			   "\"env\":[{\"name\":\"V0\",\"value\":\"");
	memset(p, 'v', 4096);
	p += 4096;
	p += sprintf(p, "\"}");
	for (int i = 1; i <= 5; i++)
		p += sprintf(p, ",{\"name\":\"V%d\",\"value\":\"$(V%d)$(V%d)\"}",
			     i, i - 1, i - 1);
	strcpy(p, "]}]}}");
	pod = decode_pod(json);
	assert_int_equal(runtime_build(pod, NULL, NULL, NULL, &rt, &err), -E2BIG);
	assert_string_equal(err.msg, "spec.containers[0].env[5].value: longer "
			    "than 65536 bytes after $(VAR) expansion");
	assert_null(rt.containers);
	pod_free(pod);
	free(json);
}

/* ---- valueFrom ---- */

static void test_field_refs(void **state)
{
	static const char *const t[][2] = {
		{ "metadata.name", "web" },
		{ "metadata.namespace", "team" },
		{ "metadata.uid", "u-1" },
		{ "metadata.labels['app']", "shop" },
		{ "metadata.labels['example.com/tier']", "front" },
		{ "metadata.labels['missing']", "" },
		{ "metadata.annotations['note']", "hello world" },
		{ "spec.nodeName", "node-a" },
		{ "spec.serviceAccountName", "default" },
		{ "status.podIP", "10.1.0.5" },
		{ "status.podIPs", "10.1.0.5" },
		{ "status.hostIP", "192.168.1.2" },
		{ "status.hostIPs", "192.168.1.2" },
	};
	const struct runtime_env_ctx ctx = { .pod_ip = "10.1.0.5",
					     .host_ip = "192.168.1.2",
					     .node_name = "node-a" };
	char json[8192];
	size_t o;
	struct pod *pod;
	struct pod_runtime rt;
	struct pv_err err = { 0 };
	const size_t n = sizeof(t) / sizeof(t[0]);

	o = (size_t)snprintf(json, sizeof(json), "{\"apiVersion\":\"v1\","
			     "\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\","
			     "\"namespace\":\"team\",\"uid\":\"u-1\",\"labels\":"
			     "{\"app\":\"shop\",\"example.com/tier\":\"front\"},"
			     "\"annotations\":{\"note\":\"hello world\"}},"
			     "\"spec\":{\"containers\":[{\"name\":\"c\","
			     "\"image\":\"x\",\"command\":[\"x\"],\"env\":[");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o,
				      "%s{\"name\":\"E%zu\",\"valueFrom\":{\"fieldRef\":"
				      "{\"fieldPath\":\"%s\"}}}", i ? "," : "", i,
				      t[i][0]);
	snprintf(json + o, sizeof(json) - o, "]}]}}");
	pod = decode_pod(json);
	assert_int_equal(runtime_build(pod, NULL, NULL, &ctx, &rt, &err), 0);
	for (size_t i = 0; i < n; i++) {
		char name[16];

		snprintf(name, sizeof(name), "E%zu", i);
		if (strcmp(env_of(&rt.containers[0], name), t[i][1]) != 0)
			fail_msg("%s: want \"%s\", got \"%s\"", t[i][0], t[i][1],
				 env_of(&rt.containers[0], name));
	}
	runtime_free(&rt);

	/* no context: host facts are empty */
	assert_int_equal(runtime_build(pod, NULL, NULL, NULL, &rt, &err), 0);
	assert_string_equal(env_of(&rt.containers[0], "E7"), "");
	assert_string_equal(env_of(&rt.containers[0], "E9"), "");
	assert_string_equal(env_of(&rt.containers[0], "E11"), "");
	assert_string_equal(env_of(&rt.containers[0], "E0"), "web");
	runtime_free(&rt);
	pod_free(pod);

	/* the pod's own nodeName and serviceAccountName win */
	pod = decode_pod("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
			 "{\"name\":\"p\"},\"spec\":{\"nodeName\":\"mine\","
			 "\"serviceAccountName\":\"sa\",\"containers\":[{\"name\":"
			 "\"c\",\"image\":\"x\",\"command\":[\"x\"],\"env\":["
			 "{\"name\":\"N\",\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
			 "\"spec.nodeName\"}}},{\"name\":\"S\",\"valueFrom\":"
			 "{\"fieldRef\":{\"fieldPath\":\"spec.serviceAccountName\"}}}]}]}}");
	assert_int_equal(runtime_build(pod, NULL, NULL, &ctx, &rt, &err), 0);
	assert_string_equal(env_of(&rt.containers[0], "N"), "mine");
	assert_string_equal(env_of(&rt.containers[0], "S"), "sa");
	runtime_free(&rt);
	pod_free(pod);
}

#define RREF(NAME, RES, DIV) "{\"name\":\"" NAME "\",\"valueFrom\":" \
	"{\"resourceFieldRef\":{\"resource\":\"" RES "\"" DIV "}}}"

static void test_resource_refs(void **state)
{
	/* c: requests 250m/100Mi, memory limit 300Mi, no cpu limit (so
	 * limits.cpu is the provisioned pod's); side: limits only */
	struct pod *pod;
	struct pod_runtime rt;
	struct pv_err err = { 0 };
	const struct runtime_container *rc;

	pod = decode_pod("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"p\"},\"spec\":{\"containers\":[{\"name\":\"c\","
		"\"image\":\"x\",\"command\":[\"x\"],\"resources\":{\"requests\":"
		"{\"cpu\":\"250m\",\"memory\":\"100Mi\"},\"limits\":{\"memory\":"
		"\"300Mi\"}},\"env\":["
		RREF("LC", "limits.cpu", "") ","
		RREF("LCM", "limits.cpu", ",\"divisor\":\"1m\"") ","
		RREF("RC", "requests.cpu", "") ","
		RREF("RCM", "requests.cpu", ",\"divisor\":\"1m\"") ","
		RREF("LM", "limits.memory", "") ","
		RREF("LMM", "limits.memory", ",\"divisor\":\"1Mi\"") ","
		RREF("RMK", "requests.memory", ",\"divisor\":\"1k\"") ","
		RREF("RMG", "requests.memory", ",\"divisor\":\"1Gi\"") ","
		RREF("LE", "limits.ephemeral-storage", ",\"divisor\":\"1Gi\"") ","
		RREF("RE", "requests.ephemeral-storage", "") ","
		"{\"name\":\"SC\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
		"\"limits.cpu\",\"containerName\":\"side\",\"divisor\":\"1m\"}}},"
		"{\"name\":\"SR\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
		"\"requests.memory\",\"containerName\":\"side\",\"divisor\":\"1Mi\"}}},"
		"{\"name\":\"IR\",\"valueFrom\":{\"resourceFieldRef\":{\"resource\":"
		"\"requests.cpu\",\"containerName\":\"init\",\"divisor\":\"1m\"}}},"
		"{\"name\":\"X\",\"value\":\"$(LMM)Mi\"}]},"
		"{\"name\":\"side\",\"image\":\"x\",\"command\":[\"x\"],\"resources\":"
		"{\"limits\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}}],"
		"\"initContainers\":[{\"name\":\"init\",\"image\":\"x\",\"command\":"
		"[\"x\"],\"resources\":{\"requests\":{\"cpu\":\"100m\"}}}]}}");
	/* need: cpu 250m+500m = 750m, memory 100Mi+1Gi+256Mi = 1380Mi:
	 * 1 vCPU, 2 GB */
	assert_int_equal(runtime_build(pod, NULL, NULL, NULL, &rt, &err), 0);
	rc = &rt.containers[0];
	assert_string_equal(env_of(rc, "LC"), "1");        /* 1000m allocatable */
	assert_string_equal(env_of(rc, "LCM"), "1000");
	assert_string_equal(env_of(rc, "RC"), "1");        /* 250m rounds up */
	assert_string_equal(env_of(rc, "RCM"), "250");
	assert_string_equal(env_of(rc, "LM"), "314572800");
	assert_string_equal(env_of(rc, "LMM"), "300");
	assert_string_equal(env_of(rc, "RMK"), "104858"); /* 104857.6 up */
	assert_string_equal(env_of(rc, "RMG"), "1");
	assert_string_equal(env_of(rc, "LE"), "20");
	assert_string_equal(env_of(rc, "RE"), "0");
	assert_string_equal(env_of(rc, "SC"), "500");
	assert_string_equal(env_of(rc, "SR"), "1024");    /* request = limit */
	assert_string_equal(env_of(rc, "IR"), "100");
	assert_string_equal(env_of(rc, "X"), "300Mi");
	runtime_free(&rt);
	pod_free(pod);

	/* no limits at all: limits are the provisioned pod, requests 0 */
	pod = decode(",\"command\":[\"x\"],\"env\":["
		     RREF("LM", "limits.memory", ",\"divisor\":\"1Mi\"") ","
		     RREF("LC", "limits.cpu", ",\"divisor\":\"1m\"") ","
		     RREF("RM", "requests.memory", "") ","
		     RREF("RC", "requests.cpu", "") "]");
	assert_int_equal(runtime_build(pod, NULL, NULL, NULL, &rt, &err), 0);
	assert_string_equal(env_of(&rt.containers[0], "LM"), "512");
	assert_string_equal(env_of(&rt.containers[0], "LC"), "250");
	assert_string_equal(env_of(&rt.containers[0], "RM"), "0");
	assert_string_equal(env_of(&rt.containers[0], "RC"), "0");
	runtime_free(&rt);
	pod_free(pod);
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
		cmocka_unit_test(test_expand_table),
		cmocka_unit_test(test_expand_in_build),
		cmocka_unit_test(test_expand_bounds),
		cmocka_unit_test(test_field_refs),
		cmocka_unit_test(test_resource_refs),
		cmocka_unit_test(test_init_containers),
		cmocka_unit_test(test_init_json_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
