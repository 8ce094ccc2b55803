/* Internal interface between the netns/ files; not for other modules. */
#ifndef PODVM_NETNS_INTERNAL_H
#define PODVM_NETNS_INTERNAL_H

#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "netns/netns.h"
#include "util/err.h"

struct nl_sock;

/* Fault hook: every fallible step calls NETNS_STEP first. */
int netns_fault(const char *what, struct pv_err *err);
#define NETNS_STEP(what, err) \
	(__builtin_expect(netns_fail_at != 0, 0) ? netns_fault((what), (err)) : 0)

/* ---- ns.c: namespaces ---------------------------------------------------- */

/* mkdir dir and make it a shared mount (as `ip netns` does), so that
 * namespace bind mounts propagate to mount namespaces cloned later and
 * never get pinned by them. */
int netns_ns_dir_prepare(const char *dir, struct pv_err *err);
/* New network namespace bind-mounted at path (path must not exist). */
int netns_ns_create(const char *path, struct pv_err *err);
/* Unmount and unlink path; missing is not an error. */
int netns_ns_delete(const char *path, struct pv_err *err);
/* O_RDONLY|O_CLOEXEC fd of the namespace at path. */
int netns_ns_open(const char *path, int *fd, struct pv_err *err);
/* Is path a mounted namespace (1), a stale file (0)? */
int netns_ns_is_mounted(const char *path);
/* Run fn(arg) on a short-lived thread that has joined the namespace nsfd,
 * so the caller's thread never changes namespace. */
int netns_ns_run_in(int nsfd, int (*fn)(void *arg, struct pv_err *err), void *arg,
	      struct pv_err *err);

/* ---- link.c: rtnetlink through libnl-route-3 ----------------------------- */

/* Route socket in the caller's namespace (nsfd < 0) or in nsfd's. */
int netns_link_sock_open(int nsfd, struct nl_sock **out, struct pv_err *err);
void netns_link_sock_close(struct nl_sock *sk);
/* ifindex of name, -ENODEV when absent. */
int netns_link_ifindex(struct nl_sock *sk, const char *name, struct pv_err *err);
/* ifindex and link group of name, -ENODEV when absent. */
int netns_link_group(struct nl_sock *sk, const char *name, uint32_t *group,
		     struct pv_err *err);
int netns_link_bridge_add(struct nl_sock *sk, const char *name, const uint8_t mac[6],
		    struct pv_err *err);
int netns_link_addr_add(struct nl_sock *sk, int ifindex, struct in_addr addr,
		  unsigned prefix, struct in_addr brd, struct pv_err *err);
/* The calls below act on ifindex, or when ifindex is 0 on the link called
 * name (resolved by the kernel, so no lookup round trip). */
int netns_link_set_up(struct nl_sock *sk, int ifindex, const char *name, struct pv_err *err);
/* Move to the namespace nsfd. */
int netns_link_move(struct nl_sock *sk, int ifindex, const char *name, int nsfd,
	      struct pv_err *err);
/* Enslave to master, optionally set the MAC, and bring up: one request. */
int netns_link_attach(struct nl_sock *sk, int ifindex, const char *name, int master,
		const uint8_t *mac, struct pv_err *err);
int netns_link_set_group(struct nl_sock *sk, int ifindex, const char *name, uint32_t group,
		   struct pv_err *err);
int netns_link_delete(struct nl_sock *sk, int ifindex, const char *name, struct pv_err *err);
/* Delete every link of group in one RTM_DELLINK; *deleted set to whether
 * any existed. */
int netns_link_delete_group(struct nl_sock *sk, uint32_t group, int *deleted,
		      struct pv_err *err);
/* Call fn for every link whose name starts with prefix. */
int netns_link_foreach(struct nl_sock *sk, const char *prefix,
		 int (*fn)(void *arg, const char *name, int ifindex, uint32_t group),
		 void *arg, struct pv_err *err);

/* ---- tap.c: /dev/net/tun ------------------------------------------------- */

/* Persistent IFF_TAP|IFF_NO_PI|IFF_VNET_HDR tap owned by root; -EBUSY when
 * the name exists. */
int netns_tap_create_persistent(const char *name, struct pv_err *err);
/* Open an existing tap by name, as QEMU/libvirt do (tests and tools). */
int netns_tap_open(const char *name, int vnet_hdr, int *fd, struct pv_err *err);

/* ---- vpc.c: the context (cleanup.c shares it) -------------------------- */

struct vpc {
	struct netns_ipam *ipam;   /* owns the VPC's description */
	char ns_path[4096];
	int nsfd;
	struct nl_sock *sk;        /* route socket inside the VPC namespace */
	int bridge;                /* bridge ifindex */
	size_t pending;            /* taps tagged for netns_flush() */
	struct vpc *next;
};

struct netns_ctx {
	char netns_dir[2048];
	char state_dir[2048];
	struct nl_sock *host;      /* route socket in the host namespace */
	int host_nsfd;
	size_t host_pending;
	pthread_mutex_t lock;
	struct vpc *vpcs;
};

struct vpc *netns_vpc_find(struct netns_ctx *ctx, const char *name);
void netns_vpc_unlink(struct netns_ctx *ctx, struct vpc *v);
void netns_vpc_free(struct vpc *v);
int netns_vpc_open_locked(struct netns_ctx *ctx, const char *name, struct pv_err *err);
int netns_flush_locked(struct netns_ctx *ctx, struct pv_err *err);

/* ---- cidr.c -------------------------------------------------------------- */

/* A dotted quad only (no octal or short forms). */
int netns_ipv4_parse(const char *s, struct in_addr *out);
/* The address off places into c, and the number of addresses in c. */
struct in_addr netns_cidr_at(const struct netns_cidr *c, uint32_t off);
uint32_t netns_cidr_size(const struct netns_cidr *c);
/* Offset of a inside c, or UINT32_MAX when outside. */
uint32_t netns_cidr_offset(const struct netns_cidr *c, struct in_addr a);

/* ---- common.c ------------------------------------------------------------ */

uint64_t netns_hash(const char *s, uint64_t seed);

#endif
