/* Strict, bounded JSON helpers shared by the agent message codecs
 * (pod/agent_msg.c, pod/agent_msg_exec.c): see pod/agent_json.h. */
#include "pod/agent_json.h"
#include "util/json.h"
#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/agent.h"

/* ---- decoding helpers ---------------------------------------------------- */

int agent_json_parse(const uint8_t *p, size_t n, const char *what,
		     struct json_object **out, struct pv_err *err)
{
	return agent_json_parse_depth(p, n, what, AGENT_JSON_DEPTH, out, err);
}

int agent_json_parse_depth(const uint8_t *p, size_t n, const char *what,
			   int depth, struct json_object **out,
			   struct pv_err *err)
{
	struct util_json_parse jp = { .depth = depth, .flags = UTIL_JSON_NOT_NULL };

	*out = NULL;
	if (n > AGENT_MAX_PAYLOAD)
		return pv_err_set(err, EMSGSIZE, "%s: payload too large", what);
	if (n == 0 || !p)
		return pv_err_set(err, EBADMSG, "%s: empty payload", what);
	if (memchr(p, '\0', n))
		return pv_err_set(err, EBADMSG, "%s: NUL byte in JSON payload", what);
	switch (util_json_parse(&jp, (const char *)p, n, out)) {
	case UTIL_JSON_OK:
		break;
	case UTIL_JSON_NOMEM:
		return pv_err_set(err, ENOMEM, "%s: out of memory", what);
	case UTIL_JSON_TRUNCATED:
		return pv_err_set(err, EBADMSG, "%s: invalid JSON: truncated", what);
	case UTIL_JSON_TRAILING:
		return pv_err_set(err, EBADMSG, "%s: trailing data after JSON object",
				  what);
	default:
		return pv_err_set(err, EBADMSG, "%s: invalid JSON: %s", what,
				  jp.detail);
	}
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return pv_err_set(err, EBADMSG, "%s: payload is not a JSON object",
				  what);
	}
	return 0;
}

/* Every key of obj must be in the NULL-terminated list. */
int agent_json_keys(struct json_object *obj, const char *what,
			   const char *const *known, struct pv_err *err)
{
	json_object_object_foreach(obj, key, val) {
		size_t i;

		(void)val;
		for (i = 0; known[i]; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (!known[i])
			return pv_err_set(err, EBADMSG, "%s: unknown field \"%.64s\"",
					  what, key);
	}
	return 0;
}

/* Returns 1 if found (value in *out), 0 if absent and optional. */
int agent_json_int(struct json_object *obj, const char *what,
			  const char *key, int64_t min, int64_t max,
			  bool required, int64_t *out, struct pv_err *err)
{
	struct json_object *v;
	int64_t x;

	if (!json_object_object_get_ex(obj, key, &v)) {
		if (required)
			return pv_err_set(err, EBADMSG, "%s: missing \"%s\"", what, key);
		return 0;
	}
	/* json-c parses 1.0 as a double and 1e400 as inf: integers only. */
	if (!json_object_is_type(v, json_type_int))
		return pv_err_set(err, EBADMSG, "%s: \"%s\" must be an integer",
				  what, key);
	errno = 0;
	x = json_object_get_int64(v);
	/* json-c saturates out-of-range literals and sets errno or keeps a
	 * uint64: treat anything outside [min, max] as an error either way. */
	if (json_object_get_uint64(v) > (uint64_t)INT64_MAX && x >= 0)
		return pv_err_set(err, ERANGE, "%s: \"%s\" out of range", what, key);
	if (x < min || x > max)
		return pv_err_set(err, ERANGE,
				  "%s: \"%s\" = %" PRId64 " out of range [%" PRId64
				  ", %" PRId64 "]", what, key, x, min, max);
	*out = x;
	return 1;
}

int agent_json_str(struct json_object *obj, const char *what,
			  const char *key, bool required, bool nonempty,
			  char *buf, size_t cap, struct pv_err *err)
{
	struct json_object *v;
	const char *s;
	int len;

	if (!json_object_object_get_ex(obj, key, &v)) {
		if (required)
			return pv_err_set(err, EBADMSG, "%s: missing \"%s\"", what, key);
		buf[0] = '\0';
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return pv_err_set(err, EBADMSG, "%s: \"%s\" must be a string",
				  what, key);
	s = json_object_get_string(v);
	len = json_object_get_string_len(v);
	if (len < 0 || (size_t)len >= cap)
		return pv_err_set(err, EMSGSIZE,
				  "%s: \"%s\" longer than %zu bytes", what, key,
				  cap - 1);
	if (memchr(s, '\0', (size_t)len))
		return pv_err_set(err, EBADMSG, "%s: \"%s\" contains a NUL", what, key);
	if (nonempty && len == 0)
		return pv_err_set(err, EBADMSG, "%s: \"%s\" is empty", what, key);
	memcpy(buf, s, (size_t)len);
	buf[len] = '\0';
	return 1;
}

static int agent_field_read(struct json_object *obj, const char *what,
			    const struct agent_field *f, uint8_t *dst,
			    struct pv_err *err)
{
	int64_t v = 0;
	int rc;

	switch (f->kind) {
	case AGENT_F_INT:
		rc = agent_json_int(obj, what, f->key, f->min, f->max, f->required,
				    &v, err);
		if (rc <= 0)
			return rc;
		if (f->size == sizeof(uint16_t))
			*(uint16_t *)(dst + f->off) = (uint16_t)v;   /* min >= 0 */
		else if (f->size == sizeof(int))
			*(int *)(dst + f->off) = (int)v;
		else if (f->size == sizeof(int64_t))
			*(int64_t *)(dst + f->off) = v;
		else   /* a table bug, not the peer's */
			return pv_err_set(err, EINVAL, "%s: \"%s\": bad field size",
					  what, f->key);
		return 1;
	case AGENT_F_STR:
		return agent_json_str(obj, what, f->key, f->required, f->nonempty,
				      (char *)dst + f->off, f->size, err);
	case AGENT_F_BOOL:
		return agent_json_bool(obj, what, f->key, (bool *)(dst + f->off), err);
	default:
		return 0;
	}
}

int agent_json_fields(struct json_object *obj, const char *what,
		      const struct agent_field *f, void *dst, struct pv_err *err)
{
	const char *keys[32];
	size_t n = 0;
	int rc;

	if (!json_object_is_type(obj, json_type_object))
		return pv_err_set(err, EBADMSG, "%s: not an object", what);
	for (const struct agent_field *k = f; k->key; k++) {
		if (n + 1 >= sizeof(keys) / sizeof(keys[0]))
			return pv_err_set(err, EINVAL, "%s: field table too long", what);
		keys[n++] = k->key;
	}
	keys[n] = NULL;
	rc = agent_json_keys(obj, what, keys, err);
	for (; rc >= 0 && f->key; f++)
		rc = agent_field_read(obj, what, f, dst, err);
	return rc < 0 ? rc : 0;
}

int agent_json_decode(const uint8_t *p, size_t n, const char *what,
		      const struct agent_field *f, void *dst,
		      struct json_object **out, struct pv_err *err)
{
	cleanup_json struct json_object *o = NULL;
	int rc = agent_json_parse(p, n, what, &o, err);

	if (rc == 0)
		rc = agent_json_fields(o, what, f, dst, err);
	if (rc == 0 && out) {
		*out = o;
		o = NULL;
	}
	return rc;
}

/* ---- encoding helpers ---------------------------------------------------- */

/* Serialise and free obj; NULL on any allocation failure. */
char *agent_json_finish(struct json_object *obj, bool ok)
{
	const char *s;
	char *out = NULL;

	if (obj && ok) {
		s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
		if (s)
			out = strdup(s);
	}
	json_object_put(obj);
	return out;
}

bool agent_json_add_str(struct json_object *obj, const char *key,
			       const char *s)
{
	return util_json_add(obj, key, json_object_new_string(s ? s : ""));
}

bool agent_json_add_int(struct json_object *obj, const char *key,
			       int64_t v)
{
	return util_json_add(obj, key, json_object_new_int64(v));
}

/* ---- messages ------------------------------------------------------------ */

int agent_json_bool(struct json_object *o, const char *what,
			   const char *key, bool *out, struct pv_err *err)
{
	struct json_object *v;

	*out = false;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return pv_err_set(err, EBADMSG, "%s: \"%s\" must be a boolean", what, key);
	*out = json_object_get_boolean(v);
	return 1;
}

