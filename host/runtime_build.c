/* Per-container start parameters resolved on the host: Kubernetes rules
 * for command/args vs. image Entrypoint/Cmd, env override, workingDir
 * (host/runtime_build.h). The JSON form is pod/runtime.c's. */
#include "host/runtime_build.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_MAX_ARGV     RUNTIME_MAX_ARGV
#define RT_MAX_ENV      RUNTIME_MAX_ENV
#define RT_MAX_STR      RUNTIME_MAX_STR
#define RT_HOSTNAME_MAX RUNTIME_HOSTNAME_MAX
#define RT_SERIAL_MAX   RUNTIME_SERIAL_MAX

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

/* The working dir (the container's, the image's, else "/"), the image's
 * User and StopSignal, and the disk serial of the container's image. */
static int rt_build_strs(const struct pod_container *pc,
			 const struct image_config *cfg, const char *path,
			 const char *serial, struct runtime_container *rc,
			 struct pv_err *err)
{
	const char *cwd = pc->working_dir;

	if (!cwd && cfg->working_dir && cfg->working_dir[0] == '/')
		cwd = cfg->working_dir;
	if (!cwd || strlen(cwd) > RT_MAX_STR)
		cwd = "/";
	rc->cwd = strdup(cwd);
	if (!rc->cwd)
		return pv_err_set(err, ENOMEM, "out of memory");
	if (cfg->user && cfg->user[0]) {
		if (strlen(cfg->user) > RT_MAX_STR || pod_has_ctl(cfg->user))
			return pv_err_set(err, EINVAL, "%s: image User is invalid",
					  path);
		rc->user = strdup(cfg->user);
		if (!rc->user)
			return pv_err_set(err, ENOMEM, "out of memory");
	}
	if (cfg->stop_signal) {
		rc->stop_signal = pod_signal_parse(cfg->stop_signal);
		if (rc->stop_signal < 0)
			return pv_err_set(err, EINVAL, "%s: image StopSignal \"%.32s\" "
					  "is not a signal", path, cfg->stop_signal);
	}
	if (serial) {
		if (strlen(serial) > RT_SERIAL_MAX || pod_has_ctl(serial))
			return pv_err_set(err, EINVAL, "%s: disk serial is invalid",
					  path);
		rc->disk_serial = strdup(serial);
		if (!rc->disk_serial)
			return pv_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int rt_build_one(struct rt_ctx *b, const struct pod_container *pc,
			const char *path, const struct image_config *cfg,
			const char *serial, struct runtime_container *rc,
			struct pv_err *err)
{
	static const struct image_config empty;
	struct runtime_vars vars = { .env = pc->env, .n = pc->n_env };
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
	ret = rt_build_strs(pc, cfg, path, serial, rc, err);
	if (ret < 0)
		goto out;
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
