/* Helpers shared by the runtime_build tests (test_runtime*.c): decoding
 * a pod with one container, building it against a sample image config.
 * Include after <cmocka.h>. */
#ifndef PODVM_TESTS_TEST_RUNTIME_UTIL_H
#define PODVM_TESTS_TEST_RUNTIME_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "host/runtime_build.h"

static inline struct pod *decode_pod(const char *json)
{
	struct pod *pod = NULL;
	struct pv_err err = { 0 };

	if (pod_decode_json(json, strlen(json), &pod, NULL, &err) < 0)
		fail_msg("decode: %s", err.msg);
	return pod;
}

static inline struct pod *decode(const char *ctr_fields)
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

static inline void expect_argv(const struct runtime_container *rc, size_t n, ...)
{
	va_list ap;

	assert_int_equal(rc->argc, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(rc->argv[i], va_arg(ap, const char *));
	va_end(ap);
	assert_null(rc->argv[n]);
}

static inline void build(const char *fields, const struct image_config *cfg,
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

#endif
