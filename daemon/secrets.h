/* Where podvmd reads a pod's imagePullSecrets from: one small interface,
 * so that the Secret API (the workloads issue) can fill it in later.
 *
 *   lookup(ns, name)  the Secret's type and, for type
 *                     kubernetes.io/dockerconfigjson, the decoded value of
 *                     data[".dockerconfigjson"] (a Docker config.json)
 *
 * Today's implementation (daemon/secrets_dir.c) reads Secret objects from
 * files, DIR/NAMESPACE/NAME.json (podvmd --secrets-dir DIR), and is what
 * the tests use. The Secret API's store will provide its own ops; nothing
 * else changes. A Secret that is missing or of another type is skipped
 * with a warning, as kubelet does, and the pull goes on without it. */
#ifndef PODVM_DAEMON_SECRETS_H
#define PODVM_DAEMON_SECRETS_H

#include <stddef.h>

#include "images/registry.h"
#include "pod/pod.h"
#include "util/err.h"

#define SECRET_TYPE_DOCKERCONFIGJSON "kubernetes.io/dockerconfigjson"
#define SECRET_VALUE_MAX (1u << 20)

struct secret_source_ops {
	/* 0 with *type and *value malloc'd (value NUL-terminated, *len its
	 * length; NULL when the Secret has no .dockerconfigjson), -ENOENT when
	 * there is no such Secret, other negative errno with err filled. */
	int (*lookup)(void *impl, const char *ns, const char *name, char **type,
		      char **value, size_t *len, struct pv_err *err);
	void (*close)(void *impl);
};

struct secret_source {
	const struct secret_source_ops *ops;
	void *impl;
};

/* The credentials of every usable Secret that pod names in
 * spec.imagePullSecrets, in order (the first match wins when pulling).
 * warn (may be NULL) gets one line per Secret skipped. */
int secrets_pull_creds(const struct secret_source *src, const struct pod *pod,
		       struct registry_creds *out,
		       void (*warn)(void *opaque, const char *msg), void *opaque);

/* The file-backed source: DIR/NAMESPACE/NAME.json. */
int secrets_dir_open(const char *dir, struct secret_source *out, struct pv_err *err);
void secrets_close(struct secret_source *src);

#endif
