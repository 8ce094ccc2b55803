/* Which containers' images to pull before a pod starts: Kubernetes'
 * imagePullPolicy (podvmd) or "what is missing" (podvm run), shared by
 * both launch paths. */
#ifndef PODVM_HOST_IMGPOLICY_H
#define PODVM_HOST_IMGPOLICY_H

#include <stdbool.h>

#include "images/store.h"
#include "pod/pod.h"
#include "util/err.h"

enum imgpolicy_mode {
	IMGPOLICY_MISSING,    /* podvm run: pull when missing, or when the
	                       * container says Always */
	IMGPOLICY_KUBELET,    /* podvmd: kubelet's defaults (":latest" or no
	                       * tag -> Always, else IfNotPresent) */
};

/* The policy in force for c. */
enum pod_pull_policy imgpolicy_effective(const struct pod_container *c,
					 enum imgpolicy_mode mode);

/* 1: pull c's image now; 0: use the store's copy; -ENOENT with reason
 * "ErrImageNeverPull" when the policy is Never and it is missing.
 * Always with an image that was imported or loaded here (it has no repo
 * digest, so no registry it came from) uses that image: podvm never asks
 * a registry about a local-only name. reason (>= 32 bytes) gets the
 * kubelet reason on errors. */
int imgpolicy_decide(struct image_store *s, const struct pod_container *c,
		     enum imgpolicy_mode mode, char *reason, struct pv_err *err);

#endif
