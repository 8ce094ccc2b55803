/* Field readers and error causes for the Pod decoder (see pod_dec.h). */
#include "pod/pod_dec.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_priv.h"

void pod_dec_fail(struct pod_dec *d, const char *path,
		  const char *reason, const char *fmt, ...)
{
	struct pod_cause *c;
	char msg[PV_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->n_errors++ == 0) {
		if (*path)
			pv_err_set(d->err, EINVAL, "%s: %s", path, msg);
		else
			pv_err_set(d->err, EINVAL, "%s", msg);
	}
	if (d->causes->n >= POD_MAX_CAUSES)
		return;
	c = &d->causes->items[d->causes->n++];
	/* Truncation is fine here: err above holds the full first message. */
	pod_copy(c->field, sizeof(c->field), path);
	pod_copy(c->reason, sizeof(c->reason), reason);
	pod_copy(c->message, sizeof(c->message), msg);
}

void pod_dec_unknown(struct pod_dec *d, const char *path)
{
	pod_dec_fail(d, path, R_UNSUPP, "unknown field");
}

/* Paths longer than a cause's field (hostile keys) end in "...". */
static void pod_dec_path_mark(char *buf, int n)
{
	if (n < 0 || n >= POD_PATH_MAX)
		memcpy(buf + POD_PATH_MAX - 4, "...", 4);
}

void pod_dec_path(char *buf, const char *parent, const char *key)
{
	if (*parent)
		pod_dec_path_mark(buf, snprintf(buf, POD_PATH_MAX, "%s.%s", parent,
					    key));
	else
		pod_dec_path_mark(buf, snprintf(buf, POD_PATH_MAX, "%s", key));
}

void pod_dec_path_key(char *buf, const char *parent, const char *key)
{
	pod_dec_path_mark(buf, snprintf(buf, POD_PATH_MAX, "%s[%s]", parent, key));
}

void pod_dec_path_idx(char *buf, const char *parent, size_t i)
{
	pod_dec_path_mark(buf, snprintf(buf, POD_PATH_MAX, "%s[%zu]", parent, i));
}

bool pod_dec_is_null(struct json_object *v)
{
	return json_object_get_type(v) == json_type_null;
}

char *pod_dec_strdup(struct pod_dec *d, const char *s)
{
	char *r = strdup(s);

	if (!r)
		d->oom = true;
	return r;
}

/* Type, NUL and length checks shared by every string field. Returns the
 * string (owned by v) or NULL after recording the problem. */
const char *pod_dec_str_check(struct pod_dec *d, const char *path,
			      struct json_object *v, size_t max,
			      const char *type_msg)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string)) {
		pod_dec_fail(d, path, R_INVALID, "%s", type_msg);
		return NULL;
	}
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (strlen(s) != len) {
		pod_dec_fail(d, path, R_INVALID,
			     "Invalid value: must not contain NUL bytes");
		return NULL;
	}
	if (len > max) {
		pod_dec_fail(d, path, R_TOOLONG,
			     "Too long: may not be more than %zu bytes", max);
		return NULL;
	}
	return s;
}

const char *pod_dec_str(struct pod_dec *d, const char *path,
			struct json_object *v, size_t max)
{
	return pod_dec_str_check(d, path, v, max, "expected string");
}

void pod_dec_invalid(struct pod_dec *d, const char *path,
		     const char *val, const char *why)
{
	char q[128];

	pod_quote(q, sizeof(q), val);
	pod_dec_fail(d, path, R_INVALID, "Invalid value: %s: %s", q, why);
}

/* Enum-like string: one of the NULL-terminated vals, else NotSupported.
 * Returns the index or -1. */
int pod_dec_enum(struct pod_dec *d, const char *path,
		 struct json_object *v, const char *const *vals)
{
	char q[128], list[256];
	const char *s;
	size_t o = 0;

	s = pod_dec_str(d, path, v, POD_MAX_STR);
	if (!s)
		return -1;
	for (int i = 0; vals[i]; i++)
		if (strcmp(s, vals[i]) == 0)
			return i;
	list[0] = '\0';
	for (int i = 0; vals[i] && o < sizeof(list); i++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s\"%s\"",
				      i ? ", " : "", vals[i]);
	pod_quote(q, sizeof(q), s);
	pod_dec_fail(d, path, R_UNSUPP,
		     "Unsupported value: %s: supported values: %s", q, list);
	return -1;
}

bool pod_dec_bool(struct pod_dec *d, const char *path,
		  struct json_object *v, bool *out)
{
	if (!json_object_is_type(v, json_type_boolean)) {
		pod_dec_fail(d, path, R_INVALID, "expected boolean");
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

void pod_dec_too_many(struct pod_dec *d, const char *path, size_t n,
		      size_t max)
{
	pod_dec_fail(d, path, R_TOOLONG,
		     "Too many: %zu: must have at most %zu items", n, max);
}

void *pod_dec_array(struct pod_dec *d, const char *path, struct json_object *v,
		    const char *type_msg, size_t max, size_t size, size_t extra,
		    size_t *n)
{
	void *p;

	*n = 0;
	if (pod_dec_is_null(v))
		return NULL;
	if (!json_object_is_type(v, json_type_array)) {
		pod_dec_fail(d, path, R_INVALID, "%s", type_msg);
		return NULL;
	}
	*n = json_object_array_length(v);
	if (*n > max) {
		pod_dec_too_many(d, path, *n, max);
		*n = 0;
		return NULL;
	}
	if (*n == 0)
		return NULL;
	p = calloc(*n + extra, size);
	if (!p) {
		d->oom = true;
		*n = 0;
	}
	return p;
}

/* Array of strings (command, args). *budget is what is left of
 * POD_MAX_ARGS for command + args together. Empty means "not given", as
 * in the kubelet (len(command) == 0). */
void pod_dec_strv(struct pod_dec *d, const char *path,
		  struct json_object *v, size_t *budget,
		  char ***out, size_t *n_out, bool *has)
{
	static const char type_msg[] = "expected array of strings";
	struct json_object *e;
	char **vec;
	size_t n;
	const char *s;

	if (pod_dec_is_null(v))
		return;
	if (!json_object_is_type(v, json_type_array)) {
		pod_dec_fail(d, path, R_INVALID, type_msg);
		return;
	}
	n = json_object_array_length(v);
	if (n > *budget) {
		pod_dec_too_many(d, path, n, *budget);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string)) {
			pod_dec_fail(d, path, R_INVALID, type_msg);
			return;
		}
	}
	if (n == 0)
		return;
	*budget -= n;
	/* NULL-terminated as a convenience for execv-style consumers. */
	vec = calloc(n + 1, sizeof(*vec));
	if (!vec) {
		d->oom = true;
		return;
	}
	*out = vec;
	*n_out = n;
	*has = true;
	for (size_t i = 0; i < n; i++) {
		char ipath[POD_PATH_MAX];

		pod_dec_path_idx(ipath, path, i);
		s = pod_dec_str(d, ipath, json_object_array_get_idx(v, i),
				POD_MAX_STR);
		if (s)
			vec[i] = pod_dec_strdup(d, s);
	}
}

/* labels / annotations */
void pod_dec_kv(struct pod_dec *d, const char *path,
		struct json_object *v, bool is_labels,
		struct pod_kv **out, size_t *n_out)
{
	static const char type_msg[] = "expected map of string to string";
	struct pod_kv *kv;
	const char *why, *s;
	size_t n, i = 0;

	if (pod_dec_is_null(v))
		return;
	if (!json_object_is_type(v, json_type_object)) {
		pod_dec_fail(d, path, R_INVALID, type_msg);
		return;
	}
	n = (size_t)json_object_object_length(v);
	if (n > POD_MAX_KV) {
		pod_dec_too_many(d, path, n, POD_MAX_KV);
		return;
	}
	if (n == 0)
		return;
	kv = calloc(n, sizeof(*kv));
	if (!kv) {
		d->oom = true;
		return;
	}
	*out = kv;
	*n_out = n;
	json_object_object_foreach(v, key, val) {
		if (strlen(key) > POD_NAME_MAX + 1 + POD_LABEL_NAME_MAX) {
			pod_dec_fail(d, path, R_TOOLONG, "Too long: key may "
				     "not be more than %d bytes",
				     POD_NAME_MAX + 1 + POD_LABEL_NAME_MAX);
		} else if (!pod_is_label_key(key, &why)) {
			pod_dec_invalid(d, path, key, why);
		}
		s = pod_dec_str_check(d, path, val, POD_MAX_STR, type_msg);
		if (s && is_labels && !pod_is_label_value(s)) {
			pod_dec_invalid(d, path, s, strlen(s) > 63 ?
					"must be no more than 63 characters" :
					POD_MSG_LABEL_VALUE);
			s = NULL;
		}
		if (i < n) {
			kv[i].key = pod_dec_strdup(d, key);
			kv[i].value = pod_dec_strdup(d, s ? s : "");
			i++;
		}
	}
}

void pod_dec_unsupp(struct pod_dec *d, const char *path, const char *why)
{
	pod_dec_fail(d, path, R_UNSUPP, "not supported: %s", why);
}

bool pod_dec_obj(struct pod_dec *d, const char *path, struct json_object *v)
{
	if (json_object_is_type(v, json_type_object))
		return true;
	pod_dec_fail(d, path, R_INVALID, "expected object");
	return false;
}

bool pod_dec_repeats(const void *arr, size_t size, size_t off, size_t i)
{
	const char *base = arr;
	const char *s = *(char *const *)(base + i * size + off);

	for (size_t j = 0; s && j < i; j++) {
		const char *t = *(char *const *)(base + j * size + off);

		if (t && strcmp(t, s) == 0)
			return true;
	}
	return false;
}

void *pod_dec_list(struct pod_dec *d, const char *path, struct json_object *v,
		   const struct pod_dec_list *l, size_t *n)
{
	char ipath[POD_PATH_MAX], upath[POD_PATH_MAX], q[128];
	char *arr = pod_dec_array(d, path, v, "expected array of objects",
				  l->max, l->size, 0, n);

	for (size_t i = 0; arr && i < *n; i++) {
		const char *u;

		pod_dec_path_idx(ipath, path, i);
		l->elem(d, ipath, json_object_array_get_idx(v, i), arr + i * l->size);
		if (!l->unique || !pod_dec_repeats(arr, l->size, l->unique_off, i))
			continue;
		u = *(char **)(arr + i * l->size + l->unique_off);
		pod_dec_path(upath, ipath, l->unique);
		if (l->unique_invalid) {
			pod_dec_invalid(d, upath, u, "must be unique");
		} else {
			pod_quote(q, sizeof(q), u);
			pod_dec_fail(d, upath, R_DUP, "Duplicate value: %s", q);
		}
	}
	return arr;
}

bool pod_dec_it_init(struct pod_dec_it *it, struct pod_dec *d,
		     const char *path, struct json_object *v,
		     const struct pod_dec_field *fields)
{
	memset(it, 0, sizeof(*it));
	it->d = d;
	it->parent = path;
	it->fields = fields;
	if (!pod_dec_obj(d, path, v)) {
		it->cur = it->end = json_object_iter_init_default();
		return false;
	}
	it->cur = json_object_iter_begin(v);
	it->end = json_object_iter_end(v);
	return true;
}

bool pod_dec_it_next(struct pod_dec_it *it)
{
	while (!json_object_iter_equal(&it->cur, &it->end)) {
		const struct pod_dec_field *f = it->fields;

		it->key = json_object_iter_peek_name(&it->cur);
		it->v = json_object_iter_peek_value(&it->cur);
		json_object_iter_next(&it->cur);
		pod_dec_path(it->path, it->parent, it->key);
		while (f->key && strcmp(f->key, it->key) != 0)
			f++;
		it->id = f->id;
		if (!f->key && f->id < 0)
			pod_dec_unknown(it->d, it->path);
		else if (f->key && pod_dec_is_null(it->v) &&
			 !(f->flags & POD_DEC_NULL))
			continue;   /* null: not given */
		else
			return true;
	}
	return false;
}

bool pod_dec_int(struct pod_dec *d, const char *path, struct json_object *v,
		 int64_t min, int64_t max, int64_t *out)
{
	int64_t n;

	if (!json_object_is_type(v, json_type_int)) {
		pod_dec_fail(d, path, R_INVALID, "expected integer");
		return false;
	}
	n = json_object_get_int64(v);
	/* json-c keeps values above INT64_MAX as uint64 and clamps. */
	if (n == INT64_MAX && json_object_get_uint64(v) > (uint64_t)INT64_MAX) {
		pod_dec_fail(d, path, R_INVALID, "Invalid value: out of range "
			     "for int64");
		return false;
	}
	if (n < min || n > max) {
		if (max == INT64_MAX)
			pod_dec_fail(d, path, R_INVALID, "Invalid value: %" PRId64
				     ": must be greater than or equal to %" PRId64,
				     n, min);
		else
			pod_dec_fail(d, path, R_INVALID, "Invalid value: %" PRId64
				     ": must be between %" PRId64 " and %" PRId64
				     ", inclusive", n, min, max);
		return false;
	}
	*out = n;
	return true;
}

const char *pod_dec_qty_text(struct pod_dec *d, const char *path,
			     struct json_object *v, char *num, size_t n)
{
	/* YAML `cpu: 1` or `cpu: 0.5` arrive as numbers, as in kubectl. */
	if (json_object_is_type(v, json_type_int)) {
		if (json_object_get_int64(v) == INT64_MAX)
			snprintf(num, n, "%" PRIu64, json_object_get_uint64(v));
		else
			snprintf(num, n, "%" PRId64, json_object_get_int64(v));
		return num;
	}
	if (json_object_is_type(v, json_type_double)) {
		/* %.15g: 0.1 stays "0.1", not 0.1000000000000000055 */
		snprintf(num, n, "%.15g", json_object_get_double(v));
		return num;
	}
	return pod_dec_str_check(d, path, v, POD_MAX_STR,
				 "expected quantity (string or number)");
}

bool pod_dec_quantity(struct pod_dec *d, const char *path,
		      struct json_object *v, bool cpu, int64_t *out)
{
	char num[64];
	const char *s;
	int ret;

	s = pod_dec_qty_text(d, path, v, num, sizeof(num));
	if (!s)
		return false;
	ret = pod_quantity_parse(s, cpu ? 3 : 0, out, NULL);
	if (ret == -ERANGE && s[0] == '-') {
		pod_dec_invalid(d, path, s, "must be greater than or equal to 0");
		return false;
	}
	if (ret == -ERANGE) {
		pod_dec_invalid(d, path, s, "quantity too large");
		return false;
	}
	if (ret < 0) {
		pod_dec_invalid(d, path, s, "quantities must match the regular "
				"expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
		return false;
	}
	return true;
}

bool pod_is_port_name(const char *s, const char **why)
{
	size_t len = strlen(s);
	bool letter = false;

	*why = NULL;
	if (len > 15) {
		*why = "must be no more than 15 characters";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			*why = "must contain only alpha-numeric characters "
				"(a-z, 0-9), and hyphens (-)";
	}
	if (!*why && len == 0)
		*why = "must contain only alpha-numeric characters (a-z, 0-9), "
			"and hyphens (-)";
	else if (!*why && !letter)
		*why = "must contain at least one letter (a-z)";
	else if (!*why && strstr(s, "--"))
		*why = "must not contain consecutive hyphens";
	else if (!*why && (s[0] == '-' || s[len - 1] == '-'))
		*why = "must not begin or end with a hyphen";
	return *why == NULL;
}

bool pod_is_abs_path(const char *s)
{
	return s[0] == '/' && !pod_has_ctl(s);
}

bool pod_has_dotdot(const char *s)
{
	const char *p = s;

	while ((p = strstr(p, "..")) != NULL) {
		if ((p == s || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
		p += 2;
	}
	return false;
}
