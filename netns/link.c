/* Links, addresses and batched deletion through libnl-route-3.
 *
 * Each fallible request is one NETNS_STEP, so the fault tests can fail
 * every one of them in turn.  libnl reports its own NLE_* codes; link_err
 * maps them back to errno for the pv_err convention. */
#include "netns/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/socket.h>

static int nle_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_EXIST:        return EEXIST;
	case NLE_NOMEM:        return ENOMEM;
	case NLE_INVAL:        return EINVAL;
	case NLE_RANGE:        return ERANGE;
	case NLE_OPNOTSUPP:    return EOPNOTSUPP;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:        return ENODEV;
	case NLE_NOADDR:       return EADDRNOTAVAIL;
	case NLE_BUSY:         return EBUSY;
	case NLE_PERM:
	case NLE_NOACCESS:     return EPERM;
	case NLE_AGAIN:        return EAGAIN;
	case NLE_INTR:         return EINTR;
	default:               return EIO;
	}
}

static int link_err(struct pv_err *err, int nle, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int link_err(struct pv_err *err, int nle, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return pv_err_set(err, nle_errno(nle), "%s: %s", msg, nl_geterror(nle));
}

struct sock_open {
	struct nl_sock *sk;
};

static int sock_connect_fn(void *arg, struct pv_err *err)
{
	struct sock_open *s = arg;
	int ret = nl_connect(s->sk, NETLINK_ROUTE);

	if (ret < 0)
		return pv_err_set(err, nle_errno(ret), "netlink connect: %s", nl_geterror(ret));
	return 0;
}

int netns_link_sock_open(int nsfd, struct nl_sock **out, struct pv_err *err)
{
	struct sock_open s = { .sk = NULL };
	int ret;

	*out = NULL;
	s.sk = nl_socket_alloc();
	if (!s.sk)
		return pv_err_set(err, ENOMEM, "netlink socket: out of memory");
	/* A netlink socket stays in the namespace it was created in: connect
	 * it from a thread inside the VPC namespace, use it from anywhere. */
	ret = nsfd < 0 ? sock_connect_fn(&s, err) : netns_ns_run_in(nsfd, sock_connect_fn, &s, err);
	if (ret < 0) {
		nl_socket_free(s.sk);
		return ret;
	}
	*out = s.sk;
	return 0;
}

void netns_link_sock_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);   /* closes too */
}

int netns_link_ifindex(struct nl_sock *sk, const char *name, struct pv_err *err)
{
	struct rtnl_link *l = NULL;
	int ret = NETNS_STEP("get link", err);

	if (ret < 0)
		return ret;
	ret = rtnl_link_get_kernel(sk, 0, name, &l);
	if (ret < 0) {
		if (nle_errno(ret) == ENODEV)
			return pv_err_set(err, ENODEV, "link %s: not found", name);
		return link_err(err, ret, "get link %s", name);
	}
	ret = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return ret;
}

int netns_link_group(struct nl_sock *sk, const char *name, uint32_t *group,
		     struct pv_err *err)
{
	struct rtnl_link *l = NULL;
	int ret = NETNS_STEP("get link", err);

	if (ret < 0)
		return ret;
	ret = rtnl_link_get_kernel(sk, 0, name, &l);
	if (ret < 0) {
		if (nle_errno(ret) == ENODEV)
			return pv_err_set(err, ENODEV, "link %s: not found", name);
		return link_err(err, ret, "get link %s", name);
	}
	*group = rtnl_link_get_group(l);
	ret = rtnl_link_get_ifindex(l);
	rtnl_link_put(l);
	return ret;
}

static struct nl_addr *mac_addr(const uint8_t mac[6])
{
	return nl_addr_build(AF_LLC, mac, 6);
}

int netns_link_bridge_add(struct nl_sock *sk, const char *name, const uint8_t mac[6],
		    struct pv_err *err)
{
	struct rtnl_link *l = NULL;
	struct nl_addr *a = NULL;
	int ret = NETNS_STEP("add bridge", err);

	if (ret < 0)
		return ret;
	l = rtnl_link_bridge_alloc();
	a = mac_addr(mac);
	if (!l || !a) {
		ret = pv_err_set(err, ENOMEM, "bridge %s: out of memory", name);
		goto out;
	}
	rtnl_link_set_name(l, name);
	/* A fixed MAC: else the bridge takes its lowest port's MAC and the
	 * gateway's MAC changes under the pods as taps come and go. */
	rtnl_link_set_addr(l, a);
	ret = rtnl_link_add(sk, l, NLM_F_CREATE | NLM_F_EXCL);
	if (ret < 0)
		ret = link_err(err, ret, "add bridge %s", name);
out:
	if (a)
		nl_addr_put(a);
	if (l)
		rtnl_link_put(l);
	return ret;
}

int netns_link_addr_add(struct nl_sock *sk, int ifindex, struct in_addr addr, unsigned prefix,
		  struct in_addr brd, struct pv_err *err)
{
	struct rtnl_addr *ra = NULL;
	struct nl_addr *local = NULL, *bcast = NULL;
	int ret = NETNS_STEP("add address", err);

	if (ret < 0)
		return ret;
	ra = rtnl_addr_alloc();
	local = nl_addr_build(AF_INET, &addr, sizeof(addr));
	bcast = nl_addr_build(AF_INET, &brd, sizeof(brd));
	if (!ra || !local || !bcast) {
		ret = pv_err_set(err, ENOMEM, "add address: out of memory");
		goto out;
	}
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(ra, ifindex);
	ret = rtnl_addr_set_local(ra, local);
	if (ret == 0)
		ret = rtnl_addr_set_broadcast(ra, bcast);
	if (ret == 0)
		ret = rtnl_addr_add(sk, ra, NLM_F_EXCL);
	if (ret < 0)
		ret = link_err(err, ret, "add address to link %d", ifindex);
out:
	if (bcast)
		nl_addr_put(bcast);
	if (local)
		nl_addr_put(local);
	if (ra)
		rtnl_addr_put(ra);
	return ret;
}

/* One RTM_NEWLINK carrying what ch says, on ifindex, or when ifindex is 0
 * on the link called name (the kernel looks it up: no extra round trip). */
static int link_change(struct nl_sock *sk, int ifindex, const char *name,
		       struct rtnl_link *ch, const char *what, struct pv_err *err)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	int ret = NETNS_STEP(what, err);

	if (ret < 0)
		goto out;
	if (!orig) {
		ret = pv_err_set(err, ENOMEM, "%s: out of memory", what);
		goto out;
	}
	if (ifindex > 0)
		rtnl_link_set_ifindex(orig, ifindex);
	else
		rtnl_link_set_name(ch, name);
	ret = rtnl_link_change(sk, orig, ch, 0);
	if (ret < 0)
		ret = link_err(err, ret, "%s: %s", name ? name : "link", what);
out:
	if (orig)
		rtnl_link_put(orig);
	return ret;
}

int netns_link_set_up(struct nl_sock *sk, int ifindex, const char *name, struct pv_err *err)
{
	struct rtnl_link *ch = rtnl_link_alloc();
	int ret;

	if (!ch)
		return pv_err_set(err, ENOMEM, "link up: out of memory");
	rtnl_link_set_flags(ch, IFF_UP);
	ret = link_change(sk, ifindex, name, ch, "set up", err);
	rtnl_link_put(ch);
	return ret;
}

int netns_link_move(struct nl_sock *sk, int ifindex, const char *name, int nsfd,
	      struct pv_err *err)
{
	struct rtnl_link *ch = rtnl_link_alloc();
	int ret;

	if (!ch)
		return pv_err_set(err, ENOMEM, "move link: out of memory");
	rtnl_link_set_ns_fd(ch, nsfd);
	ret = link_change(sk, ifindex, name, ch, "move to namespace", err);
	rtnl_link_put(ch);
	return ret;
}

int netns_link_attach(struct nl_sock *sk, int ifindex, const char *name, int master,
		const uint8_t *mac, struct pv_err *err)
{
	struct rtnl_link *ch = rtnl_link_alloc();
	struct nl_addr *a = NULL;
	int ret = 0;

	if (!ch)
		return pv_err_set(err, ENOMEM, "attach link: out of memory");
	if (mac) {
		a = mac_addr(mac);
		if (!a) {
			ret = pv_err_set(err, ENOMEM, "attach link: out of memory");
			goto out;
		}
		rtnl_link_set_addr(ch, a);
	}
	/* The kernel handles IFLA_MASTER before the flags, so the port comes
	 * up already enslaved: one request instead of two. */
	rtnl_link_set_master(ch, master);
	rtnl_link_set_flags(ch, IFF_UP);
	ret = link_change(sk, ifindex, name, ch, "enslave and set up", err);
out:
	if (a)
		nl_addr_put(a);
	rtnl_link_put(ch);
	return ret;
}

int netns_link_set_group(struct nl_sock *sk, int ifindex, const char *name, uint32_t group,
		   struct pv_err *err)
{
	struct rtnl_link *ch = rtnl_link_alloc();
	int ret;

	if (!ch)
		return pv_err_set(err, ENOMEM, "set link group: out of memory");
	rtnl_link_set_group(ch, group);
	ret = link_change(sk, ifindex, name, ch, "set group", err);
	rtnl_link_put(ch);
	return ret;
}

int netns_link_delete(struct nl_sock *sk, int ifindex, const char *name, struct pv_err *err)
{
	struct rtnl_link *l = rtnl_link_alloc();
	int ret = NETNS_STEP("delete link", err);

	if (ret < 0)
		goto out;
	if (!l) {
		ret = pv_err_set(err, ENOMEM, "delete link: out of memory");
		goto out;
	}
	if (ifindex > 0)
		rtnl_link_set_ifindex(l, ifindex);
	else
		rtnl_link_set_name(l, name);
	ret = rtnl_link_delete(sk, l);
	if (ret < 0)
		ret = link_err(err, ret, "delete link %s", name ? name : "");
out:
	if (l)
		rtnl_link_put(l);
	return ret;
}

int netns_link_delete_group(struct nl_sock *sk, uint32_t group, int *deleted, struct pv_err *err)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = NULL;
	int ret = NETNS_STEP("delete link group", err);

	*deleted = 0;
	if (ret < 0)
		return ret;
	/* RTM_DELLINK with ifindex 0 and IFLA_GROUP: the kernel unregisters
	 * every link of the group in one unregister_netdevice_many(), i.e.
	 * one RCU grace period for all of them.  libnl's delete builder wants
	 * an ifindex or a name, so the message is built by hand. */
	msg = nlmsg_alloc_simple(RTM_DELLINK, 0);
	if (!msg)
		return pv_err_set(err, ENOMEM, "delete link group: out of memory");
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_GROUP, group) < 0) {
		nlmsg_free(msg);
		return pv_err_set(err, ENOMEM, "delete link group: message too large");
	}
	ret = nl_send_sync(sk, msg);   /* frees msg */
	if (ret < 0) {
		if (nle_errno(ret) == ENODEV)
			return 0;     /* no link in the group */
		return link_err(err, ret, "delete link group %u", group);
	}
	*deleted = 1;
	return 0;
}

int netns_link_foreach(struct nl_sock *sk, const char *prefix,
		 int (*fn)(void *arg, const char *name, int ifindex, uint32_t group),
		 void *arg, struct pv_err *err)
{
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	size_t plen = strlen(prefix);
	int ret = NETNS_STEP("list links", err);

	if (ret < 0)
		return ret;
	ret = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (ret < 0)
		return link_err(err, ret, "list links");
	/* the cache is a private copy: fn may delete links */
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		const char *name = rtnl_link_get_name(l);

		if (!name || strncmp(name, prefix, plen))
			continue;
		ret = fn(arg, name, rtnl_link_get_ifindex(l), rtnl_link_get_group(l));
		if (ret < 0)
			break;
	}
	nl_cache_free(cache);
	return ret;
}
