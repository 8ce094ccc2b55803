/* Per-container start parameters resolved on the host (Kubernetes rules
 * for command/args vs. image Entrypoint/Cmd, env override, workingDir) and
 * their JSON form, which the guest decodes as hostile input. */
#include "pod/runtime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_priv.h"

/* Bounds for the encoded form. Entrypoint, Cmd and Env come from the image
 * and can exceed the Pod's own limits, so these are wider; runtime_build
 * enforces them too so that whatever it builds also decodes. */
#define RT_MAX_ARGV    1024
#define RT_MAX_ENV     1024
#define RT_MAX_STR     RUNTIME_MAX_STR
#define RT_HOSTNAME_MAX 63
#define RT_SERIAL_MAX  64   /* virtio-blk uses 20; leave room */

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

/* Appends copies of src[0..n) to the NULL-terminated vector *v (capacity
 * cap, counted by *len), $(VAR)-expanded against vars when it is given
 * (the pod's own command and args; never the image's). *budget is what is
 * left of RUNTIME_MAX_TOTAL. */
static int rt_strv_append(char **v, size_t *len, size_t cap,
			  char *const *src, size_t n,
			  struct runtime_vars *vars, size_t *budget)
{
	int ret;

	for (size_t i = 0; i < n; i++) {
		if (*len >= cap)
			return -E2BIG;
		if (!src[i] || strlen(src[i]) > RT_MAX_STR)
			return -E2BIG;
		if (vars) {
			ret = runtime_expand(src[i], runtime_vars_lookup, vars,
					     RT_MAX_STR, &v[*len]);
			if (ret < 0)
				return ret;
		} else {
			v[*len] = strdup(src[i]);
			if (!v[*len])
				return -ENOMEM;
		}
		(*len)++;
		if (strlen(v[*len - 1]) > *budget)
			return -E2BIG;
		*budget -= strlen(v[*len - 1]);
	}
	return 0;
}

static size_t rt_env_key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static bool rt_env_overridden(const struct pod_container *pc, const char *kv)
{
	size_t klen = rt_env_key_len(kv);

	for (size_t i = 0; i < pc->n_env; i++)
		if (strlen(pc->env[i].name) == klen &&
		    memcmp(pc->env[i].name, kv, klen) == 0)
			return true;
	return false;
}

/* vals: the container's resolved env values (runtime_env_values). */
static int rt_build_env(const struct pod_container *pc,
			const struct image_config *cfg, char *const *vals,
			struct runtime_container *rc)
{
	size_t cap = cfg->n_env + pc->n_env;
	char *s;

	if (cap > RT_MAX_ENV)
		return -E2BIG;
	rc->env = calloc(cap + 1, sizeof(*rc->env));
	if (!rc->env)
		return -ENOMEM;
	/* Image vars first, minus those the container sets; the container's
	 * own (already unique, last value wins) follow in order. */
	for (size_t i = 0; i < cfg->n_env; i++) {
		const char *kv = cfg->env[i];

		/* "KEY=value" with a non-empty key; anything else is junk in
		 * the image config and is dropped. */
		if (!kv || rt_env_key_len(kv) == 0 || !strchr(kv, '='))
			continue;
		if (rt_env_overridden(pc, kv))
			continue;
		if (strlen(kv) > RT_MAX_STR)
			return -E2BIG;
		s = strdup(kv);
		if (!s)
			return -ENOMEM;
		rc->env[rc->n_env++] = s;
	}
	for (size_t i = 0; i < pc->n_env; i++) {
		if (asprintf(&s, "%s=%s", pc->env[i].name, vals[i]) < 0)
			return -ENOMEM;
		rc->env[rc->n_env++] = s;
	}
	return 0;
}

static int rt_build_argv(const struct pod_container *pc,
			 const struct image_config *cfg,
			 struct runtime_vars *vars, size_t *budget,
			 struct runtime_container *rc)
{
	char *const *head, *const *tail;
	size_t n_head, n_tail;
	bool x_head = false, x_tail = false;
	int ret;

	/* kubelet: command replaces Entrypoint and drops Cmd unless args
	 * are given; args alone replace Cmd. */
	if (pc->has_command && pc->n_command) {
		head = pc->command;
		n_head = pc->n_command;
		tail = pc->has_args ? pc->args : NULL;
		n_tail = pc->has_args ? pc->n_args : 0;
		x_head = x_tail = true;
	} else {
		head = cfg->entrypoint;
		n_head = cfg->n_entrypoint;
		if (pc->has_args && pc->n_args) {
			tail = pc->args;
			n_tail = pc->n_args;
			x_tail = true;
		} else {
			tail = cfg->cmd;
			n_tail = cfg->n_cmd;
		}
	}
	if (n_head + n_tail == 0)
		return -ENOEXEC;
	if (n_head + n_tail > RT_MAX_ARGV)
		return -E2BIG;
	rc->argv = calloc(n_head + n_tail + 1, sizeof(*rc->argv));
	if (!rc->argv)
		return -ENOMEM;
	ret = rt_strv_append(rc->argv, &rc->argc, n_head + n_tail, head, n_head,
			     x_head ? vars : NULL, budget);
	if (ret == 0)
		ret = rt_strv_append(rc->argv, &rc->argc, n_head + n_tail, tail,
				     n_tail, x_tail ? vars : NULL, budget);
	if (ret == 0 && rc->argv[0][0] == '\0')
		return -ENOEXEC;
	return ret;
}

/* What every container of one runtime_build shares. */
struct rt_ctx {
	const struct pod *pod;
	const struct runtime_env_ctx *env;
	struct pod_size size;
	size_t budget;          /* left of RUNTIME_MAX_TOTAL */
};

static int rt_build_one(struct rt_ctx *b, const struct pod_container *pc,
			const char *path, const struct image_config *cfg,
			const char *serial, struct runtime_container *rc,
			struct pv_err *err)
{
	static const struct image_config empty;
	struct runtime_vars vars = { .env = pc->env, .n = pc->n_env };
	const char *cwd;
	int ret;

	if (!cfg)
		cfg = &empty;
	rc->name = strdup(pc->name);
	if (!rc->name) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	ret = runtime_env_values(b->pod, pc, path, b->env, &b->size, &b->budget,
				 &vars.vals, err);
	if (ret < 0)
		goto out;
	ret = rt_build_argv(pc, cfg, &vars, &b->budget, rc);
	if (ret == -ENOEXEC) {
		ret = pv_err_set(err, EINVAL, "%s.command: no command: the "
				 "image has no Entrypoint or Cmd and the "
				 "container gives none", path);
		goto out;
	}
	if (ret == -E2BIG) {
		ret = pv_err_set(err, E2BIG, "%s.command: more than %d "
				 "arguments, an argument longer than %d bytes "
				 "or more than %d bytes of env and arguments in "
				 "the pod", path, RT_MAX_ARGV, RT_MAX_STR,
				 RUNTIME_MAX_TOTAL);
		goto out;
	}
	if (ret < 0) {
		ret = pv_err_set(err, -ret, "out of memory");
		goto out;
	}
	ret = rt_build_env(pc, cfg, vars.vals, rc);
	if (ret == -E2BIG) {
		ret = pv_err_set(err, E2BIG, "%s.env: more than %d variables "
				 "with the image's, or one longer than %d bytes",
				 path, RT_MAX_ENV, RT_MAX_STR);
		goto out;
	}
	if (ret < 0) {
		ret = pv_err_set(err, -ret, "out of memory");
		goto out;
	}
	cwd = pc->working_dir;
	if (!cwd && cfg->working_dir && cfg->working_dir[0] == '/')
		cwd = cfg->working_dir;
	if (!cwd || strlen(cwd) > RT_MAX_STR)
		cwd = "/";
	rc->cwd = strdup(cwd);
	if (!rc->cwd) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (cfg->user && cfg->user[0]) {
		if (strlen(cfg->user) > RT_MAX_STR || pod_has_ctl(cfg->user)) {
			ret = pv_err_set(err, EINVAL, "%s: image User is invalid",
					 path);
			goto out;
		}
		rc->user = strdup(cfg->user);
		if (!rc->user) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	if (serial) {
		if (strlen(serial) > RT_SERIAL_MAX || pod_has_ctl(serial)) {
			ret = pv_err_set(err, EINVAL, "%s: disk serial is invalid",
					 path);
			goto out;
		}
		rc->disk_serial = strdup(serial);
		if (!rc->disk_serial) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	ret = 0;
out:
	for (size_t i = 0; vars.vals && i < pc->n_env; i++)
		free(vars.vals[i]);
	free(vars.vals);
	return ret;
}

/* Builds n containers of the list named list ("spec.containers"); cfgs
 * and serials are already offset to the list's first entry. */
static int rt_build_list(struct rt_ctx *b, const struct pod_container *pcs,
			 size_t n, const char *list,
			 const struct image_config *const *cfgs,
			 const char *const *serials,
			 struct runtime_container **out, size_t *n_out,
			 struct pv_err *err)
{
	char path[64];
	int ret;

	if (n == 0)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return pv_err_set(err, ENOMEM, "out of memory");
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s[%zu]", list, i);
		ret = rt_build_one(b, &pcs[i], path, cfgs ? cfgs[i] : NULL,
				   serials ? serials[i] : NULL, &(*out)[i], err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Kubernetes: the pod name cut to 63 bytes, without a trailing '-' or
 * '.' left by the cut. */
static char *rt_hostname(const struct pod *pod)
{
	size_t len;

	if (pod->hostname)
		return strdup(pod->hostname);
	len = strlen(pod->name);
	if (len > RT_HOSTNAME_MAX)
		len = RT_HOSTNAME_MAX;
	while (len > 1 && (pod->name[len - 1] == '-' ||
			   pod->name[len - 1] == '.'))
		len--;
	return strndup(pod->name, len);
}

int runtime_build(const struct pod *pod,
		  const struct image_config *const *cfgs,
		  const char *const *serials,
		  const struct runtime_env_ctx *ctx,
		  struct pod_runtime *out, struct pv_err *err)
{
	struct pod_runtime rt = { 0 };
	struct rt_ctx b = { .pod = pod, .env = ctx,
			    .budget = RUNTIME_MAX_TOTAL };
	size_t ni;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!pod || !pod->name || pod->n_containers == 0 ||
	    pod->n_init_containers + pod->n_containers > POD_MAX_CONTAINERS) {
		ret = pv_err_set(err, EINVAL, "runtime: pod has no name, no "
				 "containers or more than %d", POD_MAX_CONTAINERS);
		goto out;
	}
	/* resourceFieldRef limits default to the node: the provisioned size */
	ret = pod_fargate_size(pod, &b.size, err);
	if (ret < 0)
		goto out;
	rt.hostname = rt_hostname(pod);
	if (!rt.hostname) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	ni = pod->n_init_containers;
	ret = rt_build_list(&b, pod->init_containers, ni, "spec.initContainers",
			    cfgs, serials, &rt.init_containers,
			    &rt.n_init_containers, err);
	if (ret < 0)
		goto out;
	ret = rt_build_list(&b, pod->containers, pod->n_containers,
			    "spec.containers", cfgs ? cfgs + ni : NULL,
			    serials ? serials + ni : NULL, &rt.containers,
			    &rt.n_containers, err);
	if (ret < 0)
		goto out;
	if (ctx && ctx->net) {
		ret = runtime_net_check(ctx->net, err);
		if (ret < 0)
			goto out;
		rt.net = malloc(sizeof(*rt.net));
		if (!rt.net) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		*rt.net = *ctx->net;
		inet_ntop(AF_INET, &rt.net->addr, rt.net->addr_text,
			  sizeof(rt.net->addr_text));
	}
	*out = rt;
	memset(&rt, 0, sizeof(rt));
	ret = 0;
out:
	runtime_free(&rt);
	return ret;
}

/* ---- JSON ---- */

static bool rt_add(struct json_object *o, const char *key,
		   struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(o, key, val) != 0) {
		json_object_put(val);
		return false;
	}
	return true;
}

static bool rt_add_str(struct json_object *o, const char *key, const char *s)
{
	return !s || rt_add(o, key, json_object_new_string(s));
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
		    !rt_add(c, "argv", rt_strv_json(rc->argv, rc->argc)) ||
		    !rt_add(c, "env", rt_strv_json(rc->env, rc->n_env)) ||
		    !rt_add_str(c, "cwd", rc->cwd) ||
		    !rt_add_str(c, "user", rc->user) ||
		    !rt_add_str(c, "diskSerial", rc->disk_serial))
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
	    !rt_add(o, "containers", rt_ctrs_json(rt->containers,
						  rt->n_containers)))
		goto fail;
	if (rt->n_init_containers &&
	    !rt_add(o, "initContainers", rt_ctrs_json(rt->init_containers,
						      rt->n_init_containers)))
		goto fail;
	if (rt->net && !rt_add(o, "network", runtime_net_to_json(rt->net)))
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
