/* libFuzzer target: bytes -> seccomp_profile_parse (a Localhost profile
 * file, read by the host and decoded again by the guest). Every accepted
 * profile must encode, decode again and encode to the same JSON.
 *
 * Build and run (from the repo root):
 *   clang -g -O1 -std=gnu11 -D_GNU_SOURCE -I. \
 *     -fsanitize=fuzzer,address,undefined $(pkg-config --cflags json-c) \
 *     tests/fuzz/fuzz_seccomp_profile.c pod/seccomp_profile.c util/err.c \
 *     $(pkg-config --libs json-c) -o build/fuzz_seccomp_profile
 *   mkdir -p build/fuzz-scp && build/fuzz_seccomp_profile \
 *     -max_total_time=20 -max_len=4096 build/fuzz-scp
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/seccomp_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seccomp_profile *p = NULL, *q = NULL;
	struct json_object *j, *j2;
	struct pv_err err;

	if (seccomp_profile_parse((const char *)data, size, &p, &err) < 0) {
		if (p || !err.msg[0])
			abort();   /* an error leaves nothing and says why */
		return 0;
	}
	j = seccomp_profile_to_json(p);
	if (!j)
		abort();
	if (seccomp_profile_from_json(j, &q, &err) < 0) {
		fprintf(stderr, "re-decode: %s\n", err.msg);
		abort();
	}
	j2 = seccomp_profile_to_json(q);
	if (!j2 || strcmp(json_object_to_json_string(j), json_object_to_json_string(j2)))
		abort();
	json_object_put(j);
	json_object_put(j2);
	seccomp_profile_free(p);
	seccomp_profile_free(q);
	return 0;
}
