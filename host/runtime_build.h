/* Resolving a pod's containers against their images on the host: what
 * launch does between the image store and the POD_SPEC message. The result
 * (struct pod_runtime) and its wire form are pod/runtime.h's; this part
 * needs the image store, so it lives beside launch and never in the guest. */
#ifndef PODVM_HOST_RUNTIME_BUILD_H
#define PODVM_HOST_RUNTIME_BUILD_H

#include <stddef.h>

#include "images/store.h"
#include "pod/pod.h"
#include "pod/runtime.h"
#include "util/err.h"

/* What only the host knows, for env[].valueFrom.fieldRef. NULL fields (or
 * a NULL ctx) give "". */
struct runtime_env_ctx {
	const char *pod_ip;     /* status.podIP, status.podIPs */
	const char *host_ip;    /* status.hostIP, status.hostIPs */
	const char *node_name;  /* spec.nodeName when the pod sets none */
	const struct runtime_net *net;  /* copied into the runtime; NULL: none */
};

/* Resolve every container of pod, init containers included. cfgs[i] and
 * serials[i] (either array may be NULL) belong to the container at index i
 * of the combined list [initContainers..., containers...].
 *
 * env: valueFrom is resolved here (fieldRef from the pod and ctx;
 * resourceFieldRef from the container's resources, limits defaulting to
 * the provisioned Fargate size as node allocatable), then Kubernetes'
 * $(VAR) expansion applies to env values (earlier variables of the same
 * container) and to the pod's command and args (all of the container's
 * variables); image variables are not expansion sources, as in the
 * kubelet. An empty argv (no command, no Entrypoint, no Cmd) is an error
 * naming the container. */
int runtime_build(const struct pod *pod,
		  const struct image_config *const *cfgs,
		  const char *const *serials,
		  const struct runtime_env_ctx *ctx,
		  struct pod_runtime *out, struct pv_err *err);

/* Kubernetes $(VAR) expansion of in into *out (malloc'd): lookup returns
 * the value of the name (name_len bytes, not NUL-terminated) or NULL when
 * undefined; "$$" gives "$", an undefined $(X) stays. -E2BIG when the
 * result would exceed max bytes, -ENOMEM. */
typedef const char *(*runtime_lookup_fn)(void *arg, const char *name,
					 size_t name_len);
int runtime_expand(const char *in, runtime_lookup_fn lookup, void *arg,
		   size_t max, char **out);

/* Shared by runtime_build.c and runtime_env.c. */
/* Expansion sources: env[0..n) with their resolved vals. */
struct runtime_vars {
	const struct pod_env *env;
	char **vals;
	size_t n;
};
const char *runtime_vars_lookup(void *arg, const char *name, size_t len);
/* The resolved value of each of pc->env (n_env strings, malloc'd) into
 * *out; path is "spec.containers[i]" for messages; *budget is what is left
 * of RUNTIME_MAX_TOTAL. */
int runtime_env_values(const struct pod *pod, const struct pod_container *pc,
		       const char *path, const struct runtime_env_ctx *ctx,
		       const struct pod_size *size, size_t *budget,
		       char ***out, struct pv_err *err);

#endif
