/* What the guest needs beyond the Pod itself to start its containers: the
 * host resolves each container against its image config (runtime_build in
 * host/runtime_build.h) (Kubernetes rules:
 * `command` replaces Entrypoint, `args` replaces Cmd; container env
 * overrides image Env; workingDir falls back to the image's) and names the
 * disk that holds its image. Sent inside AGENT_POD_SPEC as "runtime".
 *
 * Agent protocol: a container index in agent messages (CONTAINER events,
 * LOG channels, exec, stats) is the position in the combined list
 * [initContainers..., containers...], i.e. init container i is index i
 * and regular container j is index n_init_containers + j. The decoder
 * keeps the combined list within POD_MAX_CONTAINERS. */
#ifndef PODVM_POD_RUNTIME_H
#define PODVM_POD_RUNTIME_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/pod.h"
#include "util/err.h"

struct json_object;
struct seccomp_profile;

struct runtime_container {
	char *name;
	char **argv;   size_t argc;     /* argv[0] is looked up in PATH */
	char **env;    size_t n_env;    /* "KEY=value", final */
	char *cwd;                      /* absolute; "/" by default */
	char *user;                     /* "uid[:gid]" or a name from the image,
	                                 * NULL for root */
	char *disk_serial;              /* virtio-blk serial of its image */
	int stop_signal;                /* image StopSignal; 0: SIGTERM */
	struct seccomp_profile *seccomp;   /* its Localhost profile, else NULL
	                                    * (pod/seccomp_profile.h) */
};

/* The pod's network (VPC), when it has one: the guest finds its NIC by
 * MAC, gives it address/prefix and MTU, routes by default via gateway, and
 * writes resolv.conf from dns.  JSON (all required but dns):
 *   "network": {"mac":"02:..","address":"10.88.0.2","prefixLength":24,
 *               "gateway":"10.88.0.1","mtu":1500,"dns":["10.88.0.1"]} */
#define RUNTIME_NET_DNS_MAX 3          /* resolv.conf's own limit */
#define RUNTIME_NET_MTU_MIN 576
#define RUNTIME_NET_MTU_MAX 65535
struct runtime_net {
	uint8_t mac[6];                 /* unicast */
	struct in_addr addr;
	unsigned prefix;                /* 1..30 */
	struct in_addr gateway;         /* inside addr/prefix, not addr */
	unsigned mtu;
	struct in_addr dns[RUNTIME_NET_DNS_MAX];
	size_t n_dns;
	/* dotted-quad text of addr, for /etc/hosts and status.podIP */
	char addr_text[INET_ADDRSTRLEN];
};

/* 0 when net is consistent (the rules above), else -EINVAL with err. */
int runtime_net_check(const struct runtime_net *net, struct pv_err *err);
/* The "network" object (NULL on ENOMEM) and its strict decoder (*out
 * malloc'd, addr_text filled). */
struct json_object *runtime_net_to_json(const struct runtime_net *net);
int runtime_net_from_json(struct json_object *obj, struct runtime_net **out,
			  struct pv_err *err);

/* Bounds of the encoded form. Entrypoint, Cmd and Env come from the image
 * and can exceed the Pod's own limits, so these are wider; runtime_build
 * enforces them too so that whatever it builds also decodes. A resolved
 * string is at most RUNTIME_MAX_STR bytes; all of a pod's resolved env
 * values and arguments together at most RUNTIME_MAX_TOTAL (they travel in
 * one agent message). */
#define RUNTIME_MAX_ARGV     1024
#define RUNTIME_MAX_ENV      1024
#define RUNTIME_MAX_STR      (64 * 1024)
#define RUNTIME_MAX_TOTAL    (1024 * 1024)
#define RUNTIME_HOSTNAME_MAX 63
#define RUNTIME_SERIAL_MAX   64   /* virtio-blk uses 20; leave room */

struct pod_runtime {
	char *hostname;                 /* pod name (or spec.hostname) */
	struct runtime_container *containers;   /* same order as pod->containers */
	size_t n_containers;
	struct runtime_container *init_containers;  /* as pod->init_containers */
	size_t n_init_containers;
	struct runtime_net *net;        /* NULL: the pod has only lo */
};

/* Encode / decode (strict, bounded: the guest treats it as hostile too). */
struct json_object *runtime_to_json(const struct pod_runtime *rt);
int runtime_from_json(struct json_object *obj, struct pod_runtime *out,
		      struct pv_err *err);

void runtime_free(struct pod_runtime *rt);

#endif
