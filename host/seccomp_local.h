/* Localhost seccomp profiles, as kubelet resolves them (host side): the
 * pod names a path relative to the node's profile root (podvm:
 * --seccomp-profile-root, default STATE_DIR/seccomp). */
#ifndef PODVM_HOST_SECCOMP_LOCAL_H
#define PODVM_HOST_SECCOMP_LOCAL_H

#include "pod/seccomp_profile.h"

struct pod;
struct pod_runtime;

/* Read and validate the pod's Localhost profiles, each
 * ROOT/localhostProfile (beneath ROOT, a regular file of at most
 * SCP_FILE_MAX bytes), into the runtime container that uses it (rt NULL:
 * only validate, for admission). Errors name the field, the file and the
 * parse error:
 *   spec.containers[0].securityContext.seccompProfile.localhostProfile:
 *   Invalid value: "p.json": /var/lib/podvm/seccomp/p.json: syscalls[1]...
 */
int seccomp_local_load(const struct pod *pod, const char *root,
		       struct pod_runtime *rt, struct pv_err *err);

#endif
