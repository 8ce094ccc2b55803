/* The JSON form of the per-container start parameters (built on the host
 * by host/runtime_build.c), which the guest decodes as hostile input. */
#include "pod/runtime.h"
#include "util/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_priv.h"
#include "pod/seccomp_profile.h"

#define RT_MAX_ARGV     RUNTIME_MAX_ARGV
#define RT_MAX_ENV      RUNTIME_MAX_ENV
#define RT_MAX_STR      RUNTIME_MAX_STR
#define RT_HOSTNAME_MAX RUNTIME_HOSTNAME_MAX
#define RT_SERIAL_MAX   RUNTIME_SERIAL_MAX

static void rt_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void rt_container_clear(struct runtime_container *c)
{
	free(c->name);
	rt_strv_free(c->argv, c->argc);
	rt_strv_free(c->env, c->n_env);
	free(c->cwd);
	free(c->user);
	free(c->disk_serial);
	seccomp_profile_free(c->seccomp);
}

void runtime_free(struct pod_runtime *rt)
{
	if (!rt)
		return;
	free(rt->hostname);
	if (rt->containers) {
		for (size_t i = 0; i < rt->n_containers; i++)
			rt_container_clear(&rt->containers[i]);
		free(rt->containers);
	}
	if (rt->init_containers) {
		for (size_t i = 0; i < rt->n_init_containers; i++)
			rt_container_clear(&rt->init_containers[i]);
		free(rt->init_containers);
	}
	free(rt->net);
	memset(rt, 0, sizeof(*rt));
}

/* ---- JSON ---- */

static bool rt_add_str(struct json_object *o, const char *key, const char *s)
{
	return !s || util_json_add(o, key, json_object_new_string(s));
}

static struct json_object *rt_strv_json(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n), *s;

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s = json_object_new_string(v[i]);
		if (!s || json_object_array_add(a, s) != 0) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static struct json_object *rt_ctrs_json(const struct runtime_container *cs,
					size_t n)
{
	struct json_object *arr = json_object_new_array_ext((int)n), *c;

	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct runtime_container *rc = &cs[i];

		c = json_object_new_object();
		if (!c || json_object_array_add(arr, c) != 0) {
			json_object_put(c);
			goto fail;
		}
		if (!rt_add_str(c, "name", rc->name) ||
		    !util_json_add(c, "argv", rt_strv_json(rc->argv, rc->argc)) ||
		    !util_json_add(c, "env", rt_strv_json(rc->env, rc->n_env)) ||
		    !rt_add_str(c, "cwd", rc->cwd) ||
		    !rt_add_str(c, "user", rc->user) ||
		    !rt_add_str(c, "diskSerial", rc->disk_serial))
			goto fail;
		if (rc->stop_signal &&
		    !util_json_add(c, "stopSignal", json_object_new_int(rc->stop_signal)))
			goto fail;
		if (rc->seccomp &&
		    !util_json_add(c, "seccompProfile", seccomp_profile_to_json(rc->seccomp)))
			goto fail;
	}
	return arr;
fail:
	json_object_put(arr);
	return NULL;
}

struct json_object *runtime_to_json(const struct pod_runtime *rt)
{
	struct json_object *o;

	o = json_object_new_object();
	if (!o)
		return NULL;
	if (!rt_add_str(o, "hostname", rt->hostname) ||
	    !util_json_add(o, "containers", rt_ctrs_json(rt->containers,
						  rt->n_containers)))
		goto fail;
	if (rt->n_init_containers &&
	    !util_json_add(o, "initContainers", rt_ctrs_json(rt->init_containers,
						      rt->n_init_containers)))
		goto fail;
	if (rt->net && !util_json_add(o, "network", runtime_net_to_json(rt->net)))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* A bounded, NUL-free string copy; NULL with err set otherwise. */
static char *rt_get_str(struct json_object *v, const char *what, size_t max,
			struct pv_err *err, int *ret)
{
	const char *s;
	char *r;

	if (!json_object_is_type(v, json_type_string)) {
		*ret = pv_err_set(err, EINVAL, "runtime: %s: expected string",
				  what);
		return NULL;
	}
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s) ||
	    strlen(s) > max) {
		*ret = pv_err_set(err, EINVAL, "runtime: %s: NUL byte or "
				  "longer than %zu bytes", what, max);
		return NULL;
	}
	r = strdup(s);
	if (!r)
		*ret = pv_err_set(err, ENOMEM, "out of memory");
	return r;
}

static int rt_get_strv(struct json_object *v, const char *what, size_t max_n,
		       bool need_eq, char ***out, size_t *n_out,
		       struct pv_err *err)
{
	size_t n;
	int ret = 0;

	if (!json_object_is_type(v, json_type_array))
		return pv_err_set(err, EINVAL, "runtime: %s: expected array of "
				  "strings", what);
	n = json_object_array_length(v);
	if (n > max_n)
		return pv_err_set(err, E2BIG, "runtime: %s: more than %zu "
				  "entries", what, max_n);
	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return pv_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char *s = rt_get_str(json_object_array_get_idx(v, i), what,
				     RT_MAX_STR, err, &ret);

		if (!s)
			return ret;
		(*out)[(*n_out)++] = s;
		if (need_eq && (s[0] == '=' || !strchr(s, '=')))
			return pv_err_set(err, EINVAL, "runtime: %s: entry "
					  "is not KEY=value", what);
	}
	return 0;
}

static int rt_from_json_one(struct json_object *o, const char *list,
			    size_t idx, struct runtime_container *rc,
			    struct pv_err *err)
{
	char what[80];
	int ret = 0;

	if (!json_object_is_type(o, json_type_object))
		return pv_err_set(err, EINVAL, "runtime: %s[%zu]: "
				  "expected object", list, idx);
	json_object_object_foreach(o, key, v) {
		snprintf(what, sizeof(what), "%s[%zu].%.24s", list, idx, key);
		if (strcmp(key, "name") == 0 && !rc->name) {
			rc->name = rt_get_str(v, what, POD_LABEL_NAME_MAX, err,
					      &ret);
			if (rc->name && !pod_is_dns1123_label(rc->name))
				ret = pv_err_set(err, EINVAL, "runtime: %s: "
						 "invalid name", what);
		} else if (strcmp(key, "argv") == 0 && !rc->argv) {
			ret = rt_get_strv(v, what, RT_MAX_ARGV, false,
					  &rc->argv, &rc->argc, err);
		} else if (strcmp(key, "env") == 0 && !rc->env) {
			ret = rt_get_strv(v, what, RT_MAX_ENV, true, &rc->env,
					  &rc->n_env, err);
		} else if (strcmp(key, "cwd") == 0 && !rc->cwd) {
			rc->cwd = rt_get_str(v, what, RT_MAX_STR, err, &ret);
			if (rc->cwd && rc->cwd[0] != '/')
				ret = pv_err_set(err, EINVAL, "runtime: %s: not "
						 "an absolute path", what);
		} else if (strcmp(key, "user") == 0 && !rc->user) {
			if (!json_object_is_type(v, json_type_null))
				rc->user = rt_get_str(v, what, RT_MAX_STR, err,
						      &ret);
		} else if (strcmp(key, "diskSerial") == 0 && !rc->disk_serial) {
			if (!json_object_is_type(v, json_type_null))
				rc->disk_serial = rt_get_str(v, what, RT_SERIAL_MAX, err,
							     &ret);
		} else if (strcmp(key, "stopSignal") == 0 && !rc->stop_signal) {
			int64_t sig = json_object_get_int64(v);

			if (!json_object_is_type(v, json_type_int) || sig < 1 || sig > 64)
				ret = pv_err_set(err, EINVAL, "runtime: %s: not a "
						 "signal number", what);
			rc->stop_signal = ret < 0 ? 0 : (int)sig;
		} else if (strcmp(key, "seccompProfile") == 0 && !rc->seccomp) {
			ret = seccomp_profile_from_json(v, &rc->seccomp, err);
			if (ret < 0)
				pv_err_prefix(err, "runtime: %s", what);
		} else {
			ret = pv_err_set(err, EINVAL, "runtime: %s: unknown "
					 "field", what);
		}
		if (ret < 0)
			return ret;
	}
	if (!rc->name || !rc->argv || !rc->env || !rc->cwd)
		return pv_err_set(err, EINVAL, "runtime: %s[%zu]: name, "
				  "argv, env and cwd are required", list, idx);
	if (rc->argc == 0 || rc->argv[0][0] == '\0')
		return pv_err_set(err, EINVAL, "runtime: %s[%zu].argv: "
				  "empty", list, idx);
	return 0;
}

/* One array of containers (list names it in messages). */
static int rt_from_json_list(struct json_object *arr, const char *list,
			     struct runtime_container **out, size_t *n_out,
			     struct pv_err *err)
{
	size_t n = json_object_array_length(arr);
	int ret;

	if (n == 0)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return pv_err_set(err, ENOMEM, "out of memory");
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		ret = rt_from_json_one(json_object_array_get_idx(arr, i), list,
				       i, &(*out)[i], err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int runtime_from_json(struct json_object *obj, struct pod_runtime *out,
		      struct pv_err *err)
{
	struct pod_runtime rt = { 0 };
	struct json_object *arr = NULL, *init = NULL;
	size_t n, ni = 0;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(obj, json_type_object)) {
		ret = pv_err_set(err, EINVAL, "runtime: expected object");
		goto out;
	}
	json_object_object_foreach(obj, key, v) {
		if (strcmp(key, "hostname") == 0 && !rt.hostname) {
			rt.hostname = rt_get_str(v, "hostname", RT_HOSTNAME_MAX,
						 err, &ret);
			if (!rt.hostname)
				goto out;
			if (!pod_is_dns1123_subdomain(rt.hostname)) {
				ret = pv_err_set(err, EINVAL, "runtime: hostname:"
						 " invalid");
				goto out;
			}
		} else if (strcmp(key, "containers") == 0) {
			arr = v;
		} else if (strcmp(key, "initContainers") == 0) {
			init = v;
		} else if (strcmp(key, "network") == 0 && !rt.net) {
			ret = runtime_net_from_json(v, &rt.net, err);
			if (ret < 0)
				goto out;
		} else {
			ret = pv_err_set(err, EINVAL, "runtime: %.64s: unknown "
					 "field", key);
			goto out;
		}
	}
	if (!rt.hostname || !json_object_is_type(arr, json_type_array) ||
	    (init && !json_object_is_type(init, json_type_array))) {
		ret = pv_err_set(err, EINVAL, "runtime: hostname and containers "
				 "(array) are required; initContainers is an "
				 "array");
		goto out;
	}
	n = json_object_array_length(arr);
	if (init)
		ni = json_object_array_length(init);
	/* one agent index space: [initContainers..., containers...] */
	if (n == 0 || n + ni > POD_MAX_CONTAINERS) {
		ret = pv_err_set(err, EINVAL, "runtime: containers: need 1 to %d "
				 "with the init containers", POD_MAX_CONTAINERS);
		goto out;
	}
	ret = rt_from_json_list(arr, "containers", &rt.containers,
				&rt.n_containers, err);
	if (ret == 0 && init)
		ret = rt_from_json_list(init, "initContainers",
					&rt.init_containers,
					&rt.n_init_containers, err);
	if (ret < 0)
		goto out;
	*out = rt;
	memset(&rt, 0, sizeof(rt));
	ret = 0;
out:
	runtime_free(&rt);
	return ret;
}
