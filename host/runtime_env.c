/* A container's env as the kubelet computes it (makeEnvironmentVariables):
 * in declaration order, a `value` is $(VAR)-expanded against the
 * variables declared before it; a valueFrom is resolved (fieldRef from the
 * pod and the host's context, resourceFieldRef from resources with the
 * Fargate size as node allocatable) and not expanded. */
#include "host/runtime_build.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


const char *runtime_vars_lookup(void *arg, const char *name, size_t len)
{
	const struct runtime_vars *v = arg;

	/* the last definition wins, as in a Go map filled in order */
	for (size_t i = v->n; i-- > 0;)
		if (v->vals[i] && strlen(v->env[i].name) == len &&
		    memcmp(v->env[i].name, name, len) == 0)
			return v->vals[i];
	return NULL;
}

/* metadata.labels['k'] / metadata.annotations['k'] */
static const char *env_subscript(const char *fp, const char *prefix,
				 const struct pod_kv *kv, size_t n)
{
	size_t plen = strlen(prefix), klen;

	if (strncmp(fp, prefix, plen) != 0)
		return NULL;
	klen = strlen(fp) - plen - 2;    /* the decoder checked "']" */
	for (size_t i = 0; i < n; i++)
		if (strlen(kv[i].key) == klen &&
		    memcmp(kv[i].key, fp + plen, klen) == 0)
			return kv[i].value;
	return "";                       /* a missing key is "" */
}

static const char *env_field(const struct pod *pod,
			     const struct runtime_env_ctx *ctx, const char *fp)
{
	const char *v;

	if ((v = env_subscript(fp, "metadata.labels['", pod->labels,
			       pod->n_labels)) != NULL ||
	    (v = env_subscript(fp, "metadata.annotations['", pod->annotations,
			       pod->n_annotations)) != NULL)
		return v;
	if (strcmp(fp, "metadata.name") == 0)
		return pod->name;
	if (strcmp(fp, "metadata.namespace") == 0)
		return pod->namespace;
	if (strcmp(fp, "metadata.uid") == 0)
		return pod->uid;
	if (strcmp(fp, "spec.nodeName") == 0)
		return pod->node_name ? pod->node_name :
		       ctx ? ctx->node_name : NULL;
	/* the ServiceAccount admission plugin's default */
	if (strcmp(fp, "spec.serviceAccountName") == 0)
		return pod->service_account ? pod->service_account : "default";
	/* one address each: the plural forms list just that one */
	if (strcmp(fp, "status.podIP") == 0 || strcmp(fp, "status.podIPs") == 0)
		return ctx ? ctx->pod_ip : NULL;
	if (strcmp(fp, "status.hostIP") == 0 || strcmp(fp, "status.hostIPs") == 0)
		return ctx ? ctx->host_ip : NULL;
	return NULL;
}

static const struct pod_container *env_find(const struct pod *pod,
					    const char *name)
{
	const struct pod_container *c = pod_find_container(pod, name);

	for (size_t i = 0; !c && i < pod->n_init_containers; i++)
		if (strcmp(pod->init_containers[i].name, name) == 0)
			c = &pod->init_containers[i];
	return c;
}

static int64_t env_ceil_div(int64_t v, int64_t d)
{
	return v / d + (v % d != 0);
}

/* The kubelet's ExtractContainerResourceValue after
 * MergeContainerResourceLimits: a missing limit is the node allocatable
 * (here the provisioned pod), a missing request the limit (API
 * defaulting) else 0; values are rounded up to the divisor. */
static int env_resource(const struct pod *pod, const struct pod_container *pc,
			const struct pod_env *e, const struct pod_size *size,
			char *buf, size_t n)
{
	const struct pod_container *c = pc;
	const struct pod_resources *r;
	bool lim = strncmp(e->resource, "limits.", 7) == 0;
	int64_t v, div;

	if (e->res_container && !(c = env_find(pod, e->res_container)))
		return -ENOENT;
	r = &c->resources;
	if (strstr(e->resource, ".cpu")) {
		int64_t alloc = size->cpu_m;

		v = lim ? (r->has_lim_cpu ? r->lim_cpu_m : alloc) :
		    r->has_req_cpu ? r->req_cpu_m : r->has_lim_cpu ? r->lim_cpu_m : 0;
		div = e->divisor ? e->divisor : 1000;
	} else if (strstr(e->resource, ".memory")) {
		int64_t alloc = size->mem_mib * 1024 * 1024;

		v = lim ? (r->has_lim_mem ? r->lim_mem : alloc) :
		    r->has_req_mem ? r->req_mem : r->has_lim_mem ? r->lim_mem : 0;
		div = e->divisor ? e->divisor : 1;
	} else {
		/* ephemeral-storage is accepted but not sized per pod */
		v = lim ? POD_EPHEMERAL_BYTES : 0;
		div = e->divisor ? e->divisor : 1;
	}
	snprintf(buf, n, "%" PRId64, env_ceil_div(v, div));
	return 0;
}

int runtime_env_values(const struct pod *pod, const struct pod_container *pc,
		       const char *path, const struct runtime_env_ctx *ctx,
		       const struct pod_size *size, size_t *budget,
		       char ***out, struct pv_err *err)
{
	struct runtime_vars vars = { .env = pc->env };
	char num[32];
	const char *v;
	int ret;

	*out = NULL;
	if (pc->n_env == 0)
		return 0;
	vars.vals = calloc(pc->n_env, sizeof(*vars.vals));
	if (!vars.vals)
		return pv_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < pc->n_env; i++) {
		const struct pod_env *e = &pc->env[i];

		vars.n = i;   /* only earlier variables are sources */
		switch (e->source) {
		case POD_ENV_FIELD_REF:
			v = env_field(pod, ctx, e->field_path ? e->field_path : "");
			vars.vals[i] = strdup(v ? v : "");
			break;
		case POD_ENV_RESOURCE_REF:
			if (!e->resource ||
			    env_resource(pod, pc, e, size, num, sizeof(num)) < 0) {
				ret = pv_err_set(err, EINVAL, "%s.env[%zu].valueFrom."
						 "resourceFieldRef: no such "
						 "container", path, i);
				goto out;
			}
			vars.vals[i] = strdup(num);
			break;
		case POD_ENV_VALUE:
		default:
			ret = runtime_expand(e->value ? e->value : "",
					     runtime_vars_lookup, &vars,
					     RUNTIME_MAX_STR, &vars.vals[i]);
			if (ret == -E2BIG) {
				ret = pv_err_set(err, E2BIG, "%s.env[%zu].value: "
						 "longer than %d bytes after "
						 "$(VAR) expansion", path, i,
						 RUNTIME_MAX_STR);
				goto out;
			}
			if (ret < 0)
				vars.vals[i] = NULL;
			break;
		}
		if (!vars.vals[i]) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		if (strlen(vars.vals[i]) > *budget) {
			ret = pv_err_set(err, E2BIG, "%s.env[%zu]: the pod's "
					 "resolved env and arguments exceed %d "
					 "bytes", path, i, RUNTIME_MAX_TOTAL);
			goto out;
		}
		*budget -= strlen(vars.vals[i]);
	}
	*out = vars.vals;
	vars.vals = NULL;
	ret = 0;
out:
	for (size_t i = 0; vars.vals && i < pc->n_env; i++)
		free(vars.vals[i]);
	free(vars.vals);
	return ret;
}
