/* libFuzzer target: request bodies through the POST path's own code —
 * chunked accumulation under the cap (api_body_append), the body checks
 * (api_body_check: content type, empty, NUL, UTF-8), the Pod decode that
 * podsvc_create runs (pod_decode_json), the Status rendering of its causes
 * (api_status_json: client-controlled field names must stay valid JSON),
 * and the Table printer over the accepted Pod (api_table_from_json).
 * Invariants: no crash or leak; a rejected body yields a 400/422 Status
 * that parses as JSON; the body is never stored beyond the cap.
 *
 * Build and run (from the repo root):
 *   clang -g -O1 -std=gnu11 -D_GNU_SOURCE -I. \
 *     -fsanitize=fuzzer,address,undefined $(pkg-config --cflags json-c) \
 *     tests/fuzz/fuzz_api_body.c api/query.c api/status.c api/table.c \
 *     host/log.c pod/pod.c pod/pod_decode.c pod/pod_dec_util.c \
 *     pod/pod_encode.c util/err.c util/util.c \
 *     $(pkg-config --libs json-c libmicrohttpd) -lpthread -o build/fuzz_api_body
 *   mkdir -p build/fuzz-api-corpus && build/fuzz_api_body \
 *     -max_total_time=20 -max_len=16384 build/fuzz-api-corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api_priv.h"
#include "host/log.h"
#include "pod/pod.h"

#define FUZZ_MAX_BODY 8192   /* small cap so the 413 path is hit too */

static void fuzz_check_status(const struct podsvc_status *st)
{
	struct json_object *o;
	char *text = api_status_json(st);

	if (!text)
		return; /* ENOMEM */
	o = json_tokener_parse(text);
	if (!o) {
		fprintf(stderr, "Status is not JSON: %s\n", text);
		abort();
	}
	json_object_put(o);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct podsvc_status st;
	struct api_query q = { .table = true, .table_version = "v1",
			       .include_object = 1 };
	struct pod *pod = NULL;
	struct pv_err err;
	char *body = NULL, *t;
	size_t len = 0, cap = 0, chunk, off = 1;
	bool over = false;
	int rc;

	if (size < 1)
		return 0;
	log_set_level(LOG_ERROR);
	/* First byte: chunk size, as a chunked upload would split it. */
	chunk = (size_t)data[0] % 64 + 1;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		rc = api_body_append(&body, &len, &cap, FUZZ_MAX_BODY,
				     (const char *)data + off, n);
		if (rc < 0)
			goto out;
		if (rc > 0) {
			over = true;
			break;
		}
		off += n;
	}
	if (over) {
		if (size - 1 <= FUZZ_MAX_BODY)
			abort(); /* refused a body under the cap */
		goto out;
	}
	if (len > FUZZ_MAX_BODY || (len && memcmp(body, data + 1, len) != 0))
		abort();
	memset(&st, 0, sizeof(st));
	if (api_body_check("application/json", body ? body : "", len, &st) < 0) {
		if (st.code != 400)
			abort();
		fuzz_check_status(&st);
		goto out;
	}
	memset(&st, 0, sizeof(st));
	rc = pod_decode_json(body, len, &pod, &st.causes, &err);
	if (rc < 0) {
		/* the shape podsvc_create returns: syntax 400, fields 422 */
		st.code = strncmp(err.msg, "invalid JSON", 12) == 0 ? 400 : 422;
		snprintf(st.reason, sizeof(st.reason), "%s",
			 api_reason_for(st.code));
		snprintf(st.message, sizeof(st.message), "%s", err.msg);
		snprintf(st.kind, sizeof(st.kind), "pods");
		fuzz_check_status(&st);
		goto out;
	}
	{
		struct json_object *j = pod_to_json(pod);
		const char *s = j ? json_object_to_json_string(j) : NULL;

		t = s ? api_table_from_json(s, &q, true) : NULL;
		if (s && !t) {
			fprintf(stderr, "no table for an accepted Pod\n");
			abort();
		}
		free(t);
		json_object_put(j);
	}
out:
	pod_free(pod);
	free(body);
	return 0;
}
