/* VPC networking for podvm pods (issue 5), through libnl-route-3.
 *
 * A VPC is a network namespace, bind-mounted at NETNS_DIR/podvm-vpc-NAME,
 * holding a Linux bridge (NETNS_BRIDGE) that carries the gateway address
 * (the first address of the CIDR).  Each pod gets a persistent tap device,
 * created in the caller's ("host") namespace so that QEMU/libvirt can open
 * it by name; once the tap is open, netns_pod_attach() moves it into the
 * VPC namespace and enslaves it to the bridge (an open tap fd keeps working
 * after its netdev changes namespace; tests/integration/test_netns.sh
 * proves it).  Pod addresses come from a small persistent IPAM, one state
 * file per VPC.
 *
 * Teardown never deletes a link on the pod's critical path: deleting links
 * one at a time costs an RCU grace period each.  netns_pod_release() frees
 * the address at once and only tags the tap with NETNS_GROUP_DOOMED;
 * netns_flush() later deletes every tagged link of a namespace with one
 * RTM_DELLINK by group (one grace period for all of them).
 *
 * Every function returns 0 or a negative errno and fills *err.  A context
 * is safe to share between threads (one lock serialises its operations).
 * See docs/networking.md. */
#ifndef PODVM_NETNS_NETNS_H
#define PODVM_NETNS_NETNS_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define NETNS_DEFAULT_DIR   "/run/netns"
#define NETNS_VPC_NS_PREFIX "podvm-vpc-"   /* namespace file name prefix */
#define NETNS_TAP_PREFIX    "pvt-"         /* every podvm tap starts so */
#define NETNS_BRIDGE        "pvbr0"        /* bridge inside each VPC netns */
/* VPC names: DNS-1123 label of at most 11 characters, so that names derived
 * from it for links in the host namespace ("pvh-" + NAME, reserved for the
 * egress veth) still fit IFNAMSIZ - 1 = 15. */
#define NETNS_VPC_NAME_MAX  11
#define NETNS_UID_MAX       128            /* pod UID length bound */
#define NETNS_DNS_MAX       3              /* resolv.conf's own limit */
/* Link group that marks a link for batched deletion ("pvmd"). */
#define NETNS_GROUP_DOOMED  0x70766d64u
/* Accepted VPC prefix lengths: /16 (65533 pods) to /30 (1 pod). */
#define NETNS_PREFIX_MIN    16
#define NETNS_PREFIX_MAX    30

/* ---- names, CIDRs ------------------------------------------------------- */

struct netns_cidr {
	struct in_addr net;   /* network address, host bits zero */
	unsigned prefix;      /* NETNS_PREFIX_MIN..NETNS_PREFIX_MAX */
};

/* "10.0.0.0/24" → cidr.  Refuses host bits set, prefixes out of range,
 * anything but dotted-quad IPv4. */
int netns_cidr_parse(const char *text, struct netns_cidr *out, struct pv_err *err);
/* Print "10.0.0.0/24" (buf at least NETNS_CIDR_STRLEN bytes). */
#define NETNS_CIDR_STRLEN 20
void netns_cidr_format(const struct netns_cidr *c, char *buf, size_t len);
/* First (gateway), broadcast, and the pod range [first pod, last pod]. */
struct in_addr netns_cidr_gateway(const struct netns_cidr *c);
struct in_addr netns_cidr_broadcast(const struct netns_cidr *c);
bool netns_cidr_is_pod_addr(const struct netns_cidr *c, struct in_addr a);

int netns_valid_vpc_name(const char *name, struct pv_err *err);
int netns_valid_uid(const char *uid, struct pv_err *err);
int netns_valid_ifname(const char *name, struct pv_err *err);  /* [a-z0-9-]{1,15} */

/* Tap name for a pod: "pvt-" + 11 hex digits of a hash of the UID. */
int netns_tap_name(const char *uid, char out[IFNAMSIZ], struct pv_err *err);
/* Guest MAC for a pod: 02:xx:xx:xx:xx:xx from a hash of the UID
 * (locally administered, unicast). */
int netns_pod_mac(const char *uid, uint8_t mac[6], struct pv_err *err);

/* ---- IPAM (no privileges needed) ----------------------------------------- */

/* What a VPC is; persisted in its state file together with the leases. */
struct netns_vpc_info {
	char name[NETNS_VPC_NAME_MAX + 1];
	struct netns_cidr cidr;
	struct in_addr dns[NETNS_DNS_MAX];
	size_t ndns;
};

struct netns_ipam;

/* Create STATE_DIR/NAME.ipam for a new VPC; -EEXIST when it exists. */
int netns_ipam_create(const char *state_dir, const struct netns_vpc_info *info,
		      struct netns_ipam **out, struct pv_err *err);
/* Load an existing state file (-ENOENT when none, -EBADMSG when corrupt:
 * a corrupt file is never guessed at or overwritten). */
int netns_ipam_open(const char *state_dir, const char *vpc,
		    struct netns_ipam **out, struct pv_err *err);
void netns_ipam_close(struct netns_ipam *ipam);
/* Close and delete the state file. */
int netns_ipam_remove(struct netns_ipam *ipam, struct pv_err *err);
const struct netns_vpc_info *netns_ipam_info(const struct netns_ipam *ipam);

/* Address for uid: the one it has, else a free one (next-fit, so a just
 * released address is reused last).  -ENOSPC when the VPC is full. */
int netns_ipam_alloc(struct netns_ipam *ipam, const char *uid,
		     struct in_addr *out, struct pv_err *err);
/* That exact address for uid: -EADDRINUSE when another uid holds it,
 * -EINVAL when it is not a pod address of the VPC, -EEXIST when uid already
 * holds a different address. */
int netns_ipam_alloc_addr(struct netns_ipam *ipam, const char *uid,
			  struct in_addr want, struct pv_err *err);
/* Free uid's address; 0 when uid held none. */
int netns_ipam_release(struct netns_ipam *ipam, const char *uid, struct pv_err *err);
/* 0 and *out when uid holds an address, -ENOENT otherwise. */
int netns_ipam_lookup(struct netns_ipam *ipam, const char *uid, struct in_addr *out);
size_t netns_ipam_count(const struct netns_ipam *ipam);
/* Lease i (0 <= i < count): its uid and address, NULL past the end.
 * Listing is not locked against concurrent alloc/release. */
const char *netns_ipam_lease(const struct netns_ipam *ipam, size_t i, struct in_addr *addr);

/* ---- VPCs and pods (need CAP_NET_ADMIN and CAP_SYS_ADMIN) ---------------- */

struct netns_config {
	const char *netns_dir;   /* NULL: NETNS_DEFAULT_DIR */
	const char *state_dir;   /* IPAM state files; required */
};

struct netns_ctx;

/* The namespace of the calling thread at this point is the "host"
 * namespace: taps are created there and QEMU opens them there. */
int netns_ctx_new(const struct netns_config *cfg, struct netns_ctx **out,
		  struct pv_err *err);
void netns_ctx_free(struct netns_ctx *ctx);

/* Create the VPC (state file, namespace, lo up, bridge with gateway
 * address, up), or adopt it when its state file already says the same
 * CIDR and DNS servers (daemon restart; a missing namespace is rebuilt).
 * -EEXIST when it exists with a different CIDR or DNS list. */
int netns_vpc_create(struct netns_ctx *ctx, const struct netns_vpc_info *info,
		     struct pv_err *err);
/* Adopt a VPC known only by name, from its state file. */
int netns_vpc_open(struct netns_ctx *ctx, const char *name, struct pv_err *err);
#define NETNS_DESTROY_FORCE 1u   /* destroy even with pods holding leases */
/* Delete the namespace (with every link in it, in one batch) and the state
 * file.  -EBUSY when pods still hold addresses, unless NETNS_DESTROY_FORCE. */
int netns_vpc_destroy(struct netns_ctx *ctx, const char *name, unsigned flags,
		      struct pv_err *err);
/* Copy of a VPC's description; -ENOENT when the context does not know it. */
int netns_vpc_info(struct netns_ctx *ctx, const char *name,
		   struct netns_vpc_info *out, struct pv_err *err);
/* Path of the VPC's namespace file (for setns/nsenter). */
int netns_vpc_ns_path(struct netns_ctx *ctx, const char *name, char *buf,
		      size_t len, struct pv_err *err);

/* What the VM needs to know about its network. */
struct netns_pod_net {
	char tap[IFNAMSIZ];       /* for <target dev='TAP' managed='no'/> */
	uint8_t mac[6];           /* the guest's virtio-net MAC */
	struct in_addr addr;      /* pod address */
	unsigned prefix;
	struct in_addr gateway;
	struct in_addr dns[NETNS_DNS_MAX];
	size_t ndns;
};

/* Before boot: lease an address (want == NULL: any free one; else exactly
 * *want) and create the pod's persistent tap in the host namespace.  On
 * failure nothing is left (a lease the uid already had is kept).  A tap of
 * the uid already in the host namespace (no VM booted with it yet) is
 * reused, and untagged if it was released. */
int netns_pod_prepare(struct netns_ctx *ctx, const char *vpc, const char *uid,
		      const struct in_addr *want, struct netns_pod_net *out,
		      struct pv_err *err);
/* The same description for a pod that holds a lease (after a daemon
 * restart), without touching any link; -ENOENT when it holds none. */
int netns_pod_info(struct netns_ctx *ctx, const char *vpc, const char *uid,
		   struct netns_pod_net *out, struct pv_err *err);
/* After QEMU opened the tap: move it into the VPC namespace, enslave it to
 * the bridge, bring it up.  On failure the tap is back in the host
 * namespace, as after netns_pod_prepare().  Idempotent: a tap already in
 * the VPC (attached before a daemon restart) is only enslaved and up
 * again. */
int netns_pod_attach(struct netns_ctx *ctx, const char *vpc, const char *uid,
		     struct pv_err *err);
/* Pod gone: free its address now and tag its tap for netns_flush()
 * (wherever the tap is).  Idempotent. */
int netns_pod_release(struct netns_ctx *ctx, const char *vpc, const char *uid,
		      struct pv_err *err);
/* Delete every tagged link, one RTM_DELLINK per namespace.  Call it off
 * the pods' critical path (a timer, an idle loop). */
int netns_flush(struct netns_ctx *ctx, struct pv_err *err);
/* Number of links tagged by this context and not flushed yet. */
size_t netns_pending(struct netns_ctx *ctx);

/* Start-up orphan removal.  Everything of podvm's own (VPC namespaces under
 * netns_dir, state files, "pvt-" links in the host namespace and in VPC
 * namespaces, leases) that the lists below do not claim is removed: a VPC
 * not in vpcs loses its namespace and state file; a tap whose name is not
 * netns_tap_name() of a uid in uids is deleted; a lease of such a uid is
 * freed.  Known VPCs are adopted into the context. */
struct netns_known {
	const char *const *vpcs;
	size_t nvpcs;
	const char *const *uids;
	size_t nuids;
};
struct netns_cleanup_report {
	size_t namespaces;   /* VPC namespaces removed */
	size_t states;       /* state files removed */
	size_t links;        /* links deleted */
	size_t leases;       /* leases freed */
};
int netns_cleanup(struct netns_ctx *ctx, const struct netns_known *known,
		  struct netns_cleanup_report *rep, struct pv_err *err);

/* ---- fault injection (tests) --------------------------------------------- */

/* When > 0, the netns_fail_at-th fallible step (netlink request, tap
 * ioctl, namespace mount, state write) counted from the last reset fails
 * with -EIO ("injected fault").  netns_steps counts steps while
 * netns_fail_at != 0.  Costs one compare when off. */
extern int netns_fail_at;
extern int netns_steps;

#endif
