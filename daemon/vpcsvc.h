/* podvmd's VPCs (issue 5) over the netns/ library.
 *
 * The VPC service knows which VPCs exist — those configured with --vpc and
 * those created through the API (definitions persisted as
 * STATE_DIR/vpcs/NAME.json; the library keeps each VPC's IPAM in
 * STATE_DIR/net/NAME.ipam) — admits pods (annotations podvm.io/vpc and
 * podvm.io/ip), sets up and tears down each pod's network for the
 * supervisor, and runs the flusher thread that deletes released taps in
 * one batch per namespace, off the pods' critical path.
 *
 * Networking is opt-in: until a VPC exists (a --vpc flag, an API create,
 * or one persisted by an earlier run) podvmd touches no namespace, mount or
 * link, and pods have only lo, as with `podvm run`.  A pod without the
 * podvm.io/vpc annotation joins the VPC named "default" when there is one.
 *
 * Every function is thread-safe. */
#ifndef PODVM_DAEMON_VPCSVC_H
#define PODVM_DAEMON_VPCSVC_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/podsvc.h"
#include "netns/netns.h"
#include "pod/pod.h"
#include "pod/runtime.h"
#include "util/err.h"

#define VPCSVC_ANN_VPC       "podvm.io/vpc"
#define VPCSVC_ANN_IP        "podvm.io/ip"
#define VPCSVC_DEFAULT       "default"
#define VPCSVC_DEFAULT_CIDR  "10.88.0.0/24"
#define VPCSVC_MTU           1500
#define VPCSVC_API_VERSION   "podvm.io/v1"

/* --vpc NAME=CIDR[,dns=IP]...[,egress=none|nat], or "default" alone for
 * default=10.88.0.0/24.  egress=nat is refused (not supported yet). */
int vpcsvc_parse_flag(const char *arg, struct netns_vpc_info *out,
		      struct pv_err *err);

struct vpcsvc_config {
	const char *state_dir;     /* STATE_DIR (absolute) */
	const char *netns_dir;     /* namespace files (absolute) */
	const struct netns_vpc_info *vpcs;   /* --vpc, in order */
	size_t n_vpcs;
};

struct vpcsvc;

/* Reads the API-created definitions; needs no privileges. */
int vpcsvc_open(const struct vpcsvc_config *cfg, struct vpcsvc **out,
		struct pv_err *err);
/* Start-up: when there is any VPC (or network state from an earlier run),
 * open the network context, remove orphans (netns_cleanup with the stored
 * pods' uids and VPCs; logged), create or adopt every VPC, start the
 * flusher.  uids[i] runs in vpcs[i] ("" or NULL: no network). */
int vpcsvc_start(struct vpcsvc *vs, const char *const *uids,
		 const char *const *vpcs, size_t n, struct pv_err *err);
/* Stop the flusher after a last flush; VPCs and pods' links stay. */
void vpcsvc_close(struct vpcsvc *vs);

/* The VPC a pod asks for: its annotation, else "default" when that
 * exists; 0 with *vpc = "" when the pod has no network. */
int vpcsvc_pod_vpc(struct vpcsvc *vs, const struct pod *pod,
		   char vpc[NETNS_VPC_NAME_MAX + 1], struct pv_err *err);

/* Pod admission at create time: 0, or -1 with st = 422 naming
 * metadata.annotations[podvm.io/vpc] or [podvm.io/ip]. */
int vpcsvc_admit(struct vpcsvc *vs, const struct pod *pod,
		 struct podsvc_status *st);

/* One pod's network, owned by its supervisor thread. */
struct vpcsvc_pod {
	char uid[NETNS_UID_MAX + 1];
	char vpc[NETNS_VPC_NAME_MAX + 1];   /* "" when the pod has none */
	bool want_set;                      /* podvm.io/ip */
	struct in_addr want;
	bool bound;                         /* counted in its VPC */
	bool leased;                        /* net below is valid */
	bool attached;
	struct netns_pod_net net;
	char ip[INET_ADDRSTRLEN];           /* "" until leased */
};

/* Bind the pod to its VPC (counted: a VPC with pods cannot be deleted).
 * 0 with pp->vpc = "" when the pod has no network; -ENOENT when its VPC
 * is gone. */
int vpcsvc_pod_bind(struct vpcsvc *vs, const struct pod *pod, const char *uid,
		    struct vpcsvc_pod *pp, struct pv_err *err);
/* Before boot: lease + persistent tap (netns_pod_prepare). */
int vpcsvc_pod_prepare(struct vpcsvc *vs, struct vpcsvc_pod *pp,
		       struct pv_err *err);
/* After a daemon restart: the lease the pod holds (-ENOENT: none). */
int vpcsvc_pod_lookup(struct vpcsvc *vs, struct vpcsvc_pod *pp,
		      struct pv_err *err);
/* After QEMU opened the tap: into the VPC (netns_pod_attach). */
int vpcsvc_pod_attach(struct vpcsvc *vs, struct vpcsvc_pod *pp,
		      struct pv_err *err);
/* The VM is gone: free the address and tag the tap now; the flusher
 * deletes the tap later.  Failures are logged (start-up cleanup catches
 * what is left).  Then unbind. */
void vpcsvc_pod_release(struct vpcsvc *vs, struct vpcsvc_pod *pp);
/* Unbind without releasing (daemon shutdown: the VM keeps its network). */
void vpcsvc_pod_unbind(struct vpcsvc *vs, struct vpcsvc_pod *pp);
/* Namespace file of a VPC (for the metrics collector); -ENOENT when
 * networking is not on. */
int vpcsvc_ns_path(struct vpcsvc *vs, const char *vpc, char *buf, size_t len);
/* What the guest gets (pp leased). */
void vpcsvc_pod_runtime_net(const struct vpcsvc_pod *pp, struct runtime_net *out);

/* API (/apis/podvm.io/v1/vpcs): JSON text out (malloc'd); 0, or -1 with
 * st filled (400, 404, 409, 422, 500). */
int vpcsvc_create(struct vpcsvc *vs, const char *body, size_t len, char **out,
		  struct podsvc_status *st);
int vpcsvc_get(struct vpcsvc *vs, const char *name, char **out,
	       struct podsvc_status *st);
int vpcsvc_list(struct vpcsvc *vs, char **out, struct podsvc_status *st);
int vpcsvc_delete(struct vpcsvc *vs, const char *name, char **out,
		  struct podsvc_status *st);

#endif
