/* Container env in runtime_build: $(VAR) expansion (host/runtime_expand.c)
 * and valueFrom fieldRef / resourceFieldRef (host/runtime_env.c). */
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
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_table),
		cmocka_unit_test(test_expand_in_build),
		cmocka_unit_test(test_expand_bounds),
		cmocka_unit_test(test_field_refs),
		cmocka_unit_test(test_resource_refs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
