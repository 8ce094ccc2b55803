/* The pod's network inside the VM (issue 5): lo and the virtio NIC up,
 * the pod's address, MTU and default route, over raw rtnetlink
 * (hand-built NETLINK_ROUTE messages: the static guest needs no libnl).
 *
 * The message builders and the parsers are pure functions so that the
 * unit test (tests/unit/test_guest_net.c) checks them byte by byte. */
#ifndef PODVM_GUEST_NET_H
#define PODVM_GUEST_NET_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/runtime.h"
#include "util/err.h"

#define GUEST_NET_SYS_DIR  "/sys/class/net"
#define GUEST_NET_MSG_MAX  256            /* every request fits */
#define GUEST_NET_ACK_MS   2000           /* per request */

/* Requests (NLM_F_REQUEST|NLM_F_ACK), written into buf (cap bytes,
 * 4-byte aligned); each returns the message length or -ENOBUFS.
 *   link:  RTM_NEWLINK ifindex IFF_UP, and IFLA_MTU when mtu != 0
 *   addr:  RTM_NEWADDR addr/prefix with its broadcast (create|replace)
 *   route: RTM_NEWROUTE 0.0.0.0/0 via gw dev ifindex, main table
 *          (create|replace) */
int guest_net_msg_link(void *buf, size_t cap, uint32_t seq, int ifindex,
		       unsigned mtu);
int guest_net_msg_addr(void *buf, size_t cap, uint32_t seq, int ifindex,
		       struct in_addr addr, unsigned prefix);
int guest_net_msg_route(void *buf, size_t cap, uint32_t seq, int ifindex,
			struct in_addr gw);

/* The kernel's answer in buf (len bytes) to request seq: 0 for its ACK,
 * -errno for its NLMSG_ERROR, -EAGAIN when buf holds nothing about seq,
 * -EBADMSG when buf is malformed. */
int guest_net_parse_ack(const void *buf, size_t len, uint32_t seq);

/* "02:00:0a:58:00:02" (any case) into mac; -EINVAL otherwise. */
int guest_net_parse_mac(const char *text, uint8_t mac[6]);

/* The interface under sysdir (e.g. GUEST_NET_SYS_DIR) whose address file
 * says mac: its name into name.  -ENODEV when none has it. */
int guest_net_find_by_mac(const char *sysdir, const uint8_t mac[6],
			  char name[IFNAMSIZ]);

/* resolv.conf for the containers: one "nameserver" line per DNS server
 * (or a comment when there is none).  Length, or -ENAMETOOLONG. */
int guest_net_resolv_conf(const struct runtime_net *net, char *buf, size_t len);

/* Bring up lo and the NIC with net->mac, give it net's address, MTU and
 * default route.  NULL net: lo only.  Returns 0 or -errno with err. */
int guest_net_setup(const struct runtime_net *net, struct pv_err *err);

#endif
