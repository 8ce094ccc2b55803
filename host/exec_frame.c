/* Exec stream frames: see daemon/exec_frame.h. The JSON payloads are tiny
 * and strict (unknown keys, wrong types and out-of-range numbers are
 * errors), parsed with a depth limit. */
#include "host/exec_frame.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

int exec_frame_header(uint8_t hdr[EXEC_FRAME_HDR], unsigned type, size_t len)
{
	if (type > EXEC_F_TYPE_MAX)
		return -EINVAL;
	if (len > EXEC_FRAME_MAX)
		return -EMSGSIZE;
	hdr[0] = (uint8_t)type;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	return 0;
}

int exec_frame_next(const uint8_t *buf, size_t n, struct exec_frame *f,
		    size_t *used)
{
	uint32_t len;

	if (n < EXEC_FRAME_HDR)
		return 0;
	if (buf[0] > EXEC_F_TYPE_MAX)
		return -EPROTO;
	len = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 |
	      (uint32_t)buf[3] << 8 | buf[4];
	if (len > EXEC_FRAME_MAX)
		return -EMSGSIZE;
	if (n - EXEC_FRAME_HDR < len)
		return 0;
	f->type = buf[0];
	f->payload = buf + EXEC_FRAME_HDR;
	f->len = len;
	*used = EXEC_FRAME_HDR + len;
	return 1;
}

/* A JSON object of at most a few keys; NULL when malformed. */
static struct json_object *exec_frame_obj(const uint8_t *p, size_t n)
{
	struct json_tokener *tok;
	struct json_object *o = NULL;

	if (n == 0 || n > EXEC_ERROR_MAX + 256 || memchr(p, '\0', n))
		return NULL;
	tok = json_tokener_new_ex(4);
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, (const char *)p, (int)n);
	if (o && (json_tokener_get_error(tok) != json_tokener_success ||
		  (size_t)json_tokener_get_parse_end(tok) != n ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static int exec_frame_int(struct json_object *v, int64_t lo, int64_t hi,
			  int64_t *out)
{
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno || *out < lo || *out > hi)
		return -EINVAL;
	return 0;
}

char *exec_frame_resize_json(uint16_t rows, uint16_t cols)
{
	char *s = NULL;

	if (asprintf(&s, "{\"rows\":%u,\"cols\":%u}", rows, cols) < 0)
		return NULL;
	return s;
}

int exec_frame_resize_parse(const uint8_t *p, size_t n, uint16_t *rows,
			    uint16_t *cols)
{
	struct json_object *o = exec_frame_obj(p, n);
	int64_t r = -1, c = -1;
	int ret = -EINVAL;

	if (!o)
		return -EINVAL;
	json_object_object_foreach(o, key, val) {
		if (!strcmp(key, "rows")) {
			if (exec_frame_int(val, 1, 65535, &r) < 0)
				goto out;
		} else if (!strcmp(key, "cols")) {
			if (exec_frame_int(val, 1, 65535, &c) < 0)
				goto out;
		} else {
			goto out;
		}
	}
	if (r < 0 || c < 0)
		goto out;
	*rows = (uint16_t)r;
	*cols = (uint16_t)c;
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

char *exec_frame_exit_json(int exit_code, int signal, const char *error)
{
	struct json_object *o = json_object_new_object();
	char *s = NULL;

	if (!o)
		return NULL;
	if (json_object_object_add(o, "exitCode", json_object_new_int(exit_code)) ||
	    (signal > 0 &&
	     json_object_object_add(o, "signal", json_object_new_int(signal))) ||
	    (error && *error &&
	     json_object_object_add(o, "error", json_object_new_string_len(
		     error, (int)strnlen(error, EXEC_ERROR_MAX - 1)))))
		goto out;
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
out:
	json_object_put(o);
	return s;
}

int exec_frame_exit_parse(const uint8_t *p, size_t n, int *exit_code,
			  int *signal, char *error, size_t errlen)
{
	struct json_object *o = exec_frame_obj(p, n);
	int64_t code = -1, sig = 0;
	const char *e = "";
	int ret = -EINVAL;

	if (!o || errlen == 0)
		goto out;
	json_object_object_foreach(o, key, val) {
		if (!strcmp(key, "exitCode")) {
			if (exec_frame_int(val, 0, 255, &code) < 0)
				goto out;
		} else if (!strcmp(key, "signal")) {
			if (exec_frame_int(val, 0, 64, &sig) < 0)
				goto out;
		} else if (!strcmp(key, "error")) {
			if (!json_object_is_type(val, json_type_string) ||
			    (size_t)json_object_get_string_len(val) >= EXEC_ERROR_MAX)
				goto out;
			e = json_object_get_string(val);
		} else {
			goto out;
		}
	}
	if (code < 0)
		goto out;
	*exit_code = (int)code;
	*signal = (int)sig;
	snprintf(error, errlen, "%s", e);
	ret = 0;
out:
	json_object_put(o);
	return ret;
}
