/* Decoding a container's env: plain values and valueFrom (fieldRef with
 * the downward API's paths, resourceFieldRef with divisors; ConfigMap and
 * Secret refs are refused). The rest of a container is in
 * pod_dec_container.c. */
#include "pod/pod.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_dec.h"
#include "pod/pod_priv.h"

#define MSG_NO_CM "podvm has no ConfigMaps or Secrets"

/* Kubernetes' validEnvDownwardAPIFieldPathExpressions, sorted as its
 * messages list them. */
static const char *const env_field_paths[] = {
	"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
	"spec.serviceAccountName", "status.hostIP", "status.hostIPs",
	"status.podIP", "status.podIPs", NULL
};
static const char *const env_resources[] = {
	"limits.cpu", "limits.ephemeral-storage", "limits.memory",
	"requests.cpu", "requests.ephemeral-storage", "requests.memory", NULL
};

/* metadata.labels['key'] / metadata.annotations['key'] with a valid key;
 * false (nothing recorded) when s has another shape. */
static bool dec_subscript_ok(struct pod_dec *d, const char *path,
			     const char *s, bool *recorded)
{
	static const char *const pre[] = { "metadata.labels['",
					    "metadata.annotations['" };
	char key[POD_NAME_MAX + POD_LABEL_NAME_MAX + 2];
	const char *why;
	size_t len = strlen(s), plen, klen;

	for (size_t i = 0; i < 2; i++) {
		plen = strlen(pre[i]);
		if (strncmp(s, pre[i], plen) != 0 || len < plen + 2 ||
		    strcmp(s + len - 2, "']") != 0)
			continue;
		klen = len - plen - 2;
		if (klen >= sizeof(key)) {
			pod_dec_invalid(d, path, s, "key is too long");
			*recorded = true;
			return false;
		}
		memcpy(key, s + plen, klen);
		key[klen] = '\0';
		if (!pod_is_label_key(key, &why)) {
			pod_dec_invalid(d, path, s, why);
			*recorded = true;
			return false;
		}
		return true;
	}
	return false;
}

static void dec_field_ref(struct pod_dec *d, const char *path,
			  struct json_object *v, struct pod_env *e)
{
	static const char *const versions[] = { "v1", NULL };
	enum { F_API, F_PATH };
	static const struct pod_dec_field fields[] = {
		{ "apiVersion", F_API, 0 }, { "fieldPath", F_PATH, 0 },
		POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX];
	bool has = false, recorded = false;
	const char *s;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	while (pod_dec_it_next(&it)) {
		if (it.id == F_API) {
			pod_dec_enum(d, it.path, it.v, versions);
			continue;
		}
		s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
		has = s != NULL && *s;
		if (!has)
			continue;
		if (dec_subscript_ok(d, it.path, s, &recorded) ||
		    (!recorded && pod_dec_enum(d, it.path, it.v,
					       env_field_paths) >= 0))
			e->field_path = pod_dec_strdup(d, s);
	}
	if (!has) {
		pod_dec_path(fpath, path, "fieldPath");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
}

/* Kubernetes accepts only these divisors (in millicores / bytes). */
static bool dec_divisor_ok(const char *resource, int64_t v)
{
	int64_t p = 1;

	if (strstr(resource, ".cpu"))
		return v == 1 || v == 1000;
	for (int i = 0; i <= 6; i++) {
		if (v == p)
			return true;
		if (i < 6)
			p *= 1000;
	}
	for (int i = 1; i <= 6; i++)
		if (v == (int64_t)1 << (10 * i))
			return true;
	return false;
}

static void dec_res_divisor(struct pod_dec *d, const char *path,
			    struct json_object *v, struct pod_env *e)
{
	char num[64];
	const char *s, *why;
	bool cpu = strstr(e->resource, ".cpu") != NULL, exact;
	int64_t val;

	s = pod_dec_qty_text(d, path, v, num, sizeof(num));
	if (!s)
		return;
	if (pod_quantity_parse(s, cpu ? 3 : 0, &val, &exact) == 0 && exact &&
	    dec_divisor_ok(e->resource, val)) {
		e->divisor = val;
		return;
	}
	if (cpu)
		why = "only divisor's values 1m and 1 are supported with the "
			"cpu resource";
	else if (strstr(e->resource, ".memory"))
		why = "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, "
			"1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory "
			"resource";
	else
		why = "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, "
			"1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the local "
			"ephemeral storage resource";
	pod_dec_invalid(d, path, s, why);
}

static void dec_res_ref(struct pod_dec *d, const char *path,
			struct json_object *v, struct pod_env *e)
{
	enum { F_CTR, F_RES, F_DIV };
	static const struct pod_dec_field fields[] = {
		{ "containerName", F_CTR, 0 }, { "resource", F_RES, 0 },
		{ "divisor", F_DIV, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX];
	struct json_object *divisor = NULL;
	const char *s;
	bool has = false;
	int k;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	while (pod_dec_it_next(&it)) {
		switch (it.id) {
		case F_CTR:
			s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
			if (!s || !*s)
				break;
			if (!pod_is_dns1123_label(s))
				pod_dec_invalid(d, it.path, s, POD_MSG_LABEL);
			else
				e->res_container = pod_dec_strdup(d, s);
			break;
		case F_RES:
			has = true;
			k = pod_dec_enum(d, it.path, it.v, env_resources);
			if (k >= 0)
				e->resource = pod_dec_strdup(d, env_resources[k]);
			break;
		case F_DIV:
			divisor = it.v;   /* its meaning depends on resource */
			break;
		}
	}
	if (!has) {
		pod_dec_path(fpath, path, "resource");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	if (divisor && e->resource) {
		pod_dec_path(fpath, path, "divisor");
		dec_res_divisor(d, fpath, divisor, e);
	}
}

static void dec_value_from(struct pod_dec *d, const char *path,
			   struct json_object *v, struct pod_env *e)
{
	enum { F_FIELD, F_RES, F_CM };
	static const struct pod_dec_field fields[] = {
		{ "fieldRef", F_FIELD, 0 }, { "resourceFieldRef", F_RES, 0 },
		{ "configMapKeyRef", F_CM, 0 }, { "secretKeyRef", F_CM, 0 },
		POD_DEC_END
	};
	struct pod_dec_it it;
	size_t n = 0;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	while (pod_dec_it_next(&it)) {
		n++;
		if (it.id == F_FIELD) {
			e->source = POD_ENV_FIELD_REF;
			dec_field_ref(d, it.path, it.v, e);
		} else if (it.id == F_RES) {
			e->source = POD_ENV_RESOURCE_REF;
			dec_res_ref(d, it.path, it.v, e);
		} else {
			pod_dec_unsupp(d, it.path, MSG_NO_CM);
		}
	}
	if (n == 0)
		pod_dec_fail(d, path, R_INVALID, "Invalid value: \"\": must "
			     "specify one of: `fieldRef`, `resourceFieldRef`, "
			     "`configMapKeyRef` or `secretKeyRef`");
	else if (n > 1)
		pod_dec_fail(d, path, R_INVALID, "Invalid value: \"\": may not "
			     "have more than one field specified at a time");
}

/* One env entry into e; false when it is invalid (already reported). */
static bool dec_env_one(struct pod_dec *d, const char *ipath,
			struct json_object *o, struct pod_env *e)
{
	enum { F_NAME, F_VALUE, F_FROM };
	static const struct pod_dec_field fields[] = {
		{ "name", F_NAME, 0 }, { "value", F_VALUE, 0 },
		{ "valueFrom", F_FROM, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX];
	struct json_object *from = NULL;
	const char *s;
	bool name_bad = false;
	size_t errs = d->n_errors;

	if (!pod_dec_it_init(&it, d, ipath, o, fields))
		return false;
	while (pod_dec_it_next(&it)) {
		if (it.id == F_FROM) {
			from = it.v;
			continue;
		}
		s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
		if (it.id == F_VALUE) {
			if (s && *s)
				e->value = pod_dec_strdup(d, s);
			continue;
		}
		name_bad = !s || (*s && !pod_is_env_name(s));
		if (s && *s && name_bad)
			pod_dec_invalid(d, it.path, s, POD_MSG_ENV);
		else if (s && *s)
			e->name = pod_dec_strdup(d, s);
	}
	if (from) {
		pod_dec_path(fpath, ipath, "valueFrom");
		if (e->value)
			pod_dec_fail(d, fpath, R_INVALID, "Invalid value: \"\": may "
				     "not be specified when `value` is not empty");
		else
			dec_value_from(d, fpath, from, e);
	}
	if (!e->name && !name_bad) {
		pod_dec_path(fpath, ipath, "name");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	return e->name && d->n_errors == errs;
}

void pod_dec_env(struct pod_dec *d, const char *path, struct json_object *v,
		 struct pod_container *c)
{
	char ipath[POD_PATH_MAX];
	struct pod_env e;
	size_t n, j;

	c->env = pod_dec_array(d, path, v, "expected array of objects", POD_MAX_ENV,
			   sizeof(*c->env), 0, &n);
	if (!c->env)
		return;
	for (size_t i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		pod_dec_path_idx(ipath, path, i);
		if (!dec_env_one(d, ipath, json_object_array_get_idx(v, i), &e)) {
			pod_env_clear(&e);
			continue;
		}
		if (!e.value && e.source == POD_ENV_VALUE) {
			e.value = pod_dec_strdup(d, "");
			if (!e.value) {
				pod_env_clear(&e);
				continue;
			}
		}
		/* Kubernetes allows repeats and the last one wins; keep the
		 * first one's position so the list stays unique. */
		for (j = 0; j < c->n_env; j++)
			if (strcmp(c->env[j].name, e.name) == 0)
				break;
		if (j == c->n_env)
			c->n_env++;
		else
			pod_env_clear(&c->env[j]);
		c->env[j] = e;
	}
}
