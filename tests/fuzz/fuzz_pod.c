/* libFuzzer target: bytes -> pod_decode_json; every accepted Pod must
 * survive pod_to_json -> pod_decode unchanged in shape (re-encoding gives
 * the same text), and runtime_build/to_json/from_json must agree.
 *
 * Build and run (from the repo root):
 *   clang -g -O1 -std=gnu11 -D_GNU_SOURCE -I. \
 *     -fsanitize=fuzzer,address,undefined $(pkg-config --cflags json-c) \
 *     tests/fuzz/fuzz_pod.c $(ls pod/[!a]*.c) host/runtime_*.c util/err.c \
 *     $(pkg-config --libs json-c) -o build/fuzz_pod
 *   mkdir -p build/fuzz-corpus && build/fuzz_pod -max_total_time=20 \
 *     -max_len=8192 build/fuzz-corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod.h"
#include "host/runtime_build.h"

static void fuzz_check_runtime(const struct pod *pod)
{
	static char *cmd[] = { "/bin/sh" };
	static char *env[] = { "PATH=/bin", "HOME=/" };
	const struct image_config cfg = { .cmd = cmd, .n_cmd = 1,
					  .env = env, .n_env = 2 };
	const struct image_config *cfgs[POD_MAX_CONTAINERS];
	struct pod_runtime rt, back;
	struct json_object *j;
	struct pv_err err;

	const struct runtime_env_ctx ctx = { .pod_ip = "10.0.0.2",
					     .host_ip = "10.0.0.1",
					     .node_name = "node-1" };
	struct pod_size size;

	/* the combined list [initContainers..., containers...] */
	for (size_t i = 0; i < POD_MAX_CONTAINERS; i++)
		cfgs[i] = &cfg;
	if (pod_fargate_size(pod, &size, &err) == 0 &&
	    (size.cpu_m < 250 || size.mem_mib < 512 || !size.annotation[0])) {
		fprintf(stderr, "bad size %s\n", size.annotation);
		abort();
	}
	if (runtime_build(pod, cfgs, NULL, &ctx, &rt, &err) < 0)
		return;
	j = runtime_to_json(&rt);
	if (j && runtime_from_json(j, &back, &err) < 0) {
		fprintf(stderr, "runtime round trip: %s\n", err.msg);
		abort();
	}
	if (j)
		runtime_free(&back);
	json_object_put(j);
	runtime_free(&rt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pod *pod = NULL, *again = NULL;
	struct pod_causes causes;
	struct pv_err err;
	struct json_object *j1 = NULL, *j2 = NULL;
	char *t1;

	if (pod_decode_json((const char *)data, size, &pod, &causes, &err) < 0)
		return 0;
	j1 = pod_to_json(pod);
	if (!j1)
		goto out;
	t1 = strdup(json_object_to_json_string_ext(j1, JSON_C_TO_STRING_PLAIN));
	if (!t1)
		goto out;
	if (pod_decode_json(t1, strlen(t1), &again, NULL, &err) < 0) {
		fprintf(stderr, "re-decode failed: %s\n%s\n", err.msg, t1);
		abort();
	}
	j2 = pod_to_json(again);
	if (j2 && strcmp(t1, json_object_to_json_string_ext(
			 j2, JSON_C_TO_STRING_PLAIN)) != 0) {
		fprintf(stderr, "round trip changed the Pod\n");
		abort();
	}
	free(t1);
	fuzz_check_runtime(pod);
out:
	json_object_put(j1);
	json_object_put(j2);
	pod_free(again);
	pod_free(pod);
	return 0;
}
