/* What the guest needs beyond the Pod itself to start its containers: the
 * host resolves each container against its image config (Kubernetes rules:
 * `command` replaces Entrypoint, `args` replaces Cmd; container env
 * overrides image Env; workingDir falls back to the image's) and names the
 * disk that holds its image. Sent inside AGENT_POD_SPEC as "runtime". */
#ifndef PODVM_POD_RUNTIME_H
#define PODVM_POD_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "images/store.h"
#include "pod/pod.h"
#include "util/err.h"

struct json_object;

struct runtime_container {
	char *name;
	char **argv;   size_t argc;     /* argv[0] is looked up in PATH */
	char **env;    size_t n_env;    /* "KEY=value", final */
	char *cwd;                      /* absolute; "/" by default */
	char *user;                     /* "uid[:gid]" or a name from the image,
	                                 * NULL for root */
	char *disk_serial;              /* virtio-blk serial of its image */
};

struct pod_runtime {
	char *hostname;                 /* pod name (or spec.hostname) */
	struct runtime_container *containers;   /* same order as pod->containers */
	size_t n_containers;
};

/* Resolve every container of pod. cfgs[i] and serials[i] belong to
 * pod->containers[i]. An empty argv (no command, no Entrypoint, no Cmd) is
 * an error naming the container. */
int runtime_build(const struct pod *pod,
		  const struct image_config *const *cfgs,
		  const char *const *serials,
		  struct pod_runtime *out, struct pv_err *err);

/* Encode / decode (strict, bounded: the guest treats it as hostile too). */
struct json_object *runtime_to_json(const struct pod_runtime *rt);
int runtime_from_json(struct json_object *obj, struct pod_runtime *out,
		      struct pv_err *err);

void runtime_free(struct pod_runtime *rt);

#endif
