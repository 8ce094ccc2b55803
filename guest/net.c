/* The pod's network inside the VM over raw rtnetlink (guest/net.h).
 * Every message is built by hand into a caller's buffer with memcpy (no
 * alignment assumptions), sent with NLM_F_ACK and answered before the next
 * one goes out, so a failure names the step that failed. */
#include "guest/net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define GN_LO_IFINDEX   1        /* loopback is ifindex 1 in every netns */
#define GN_FIND_TRIES   40       /* x 25 ms: the NIC's probe may lag */
#define GN_RECV_MAX     8192

/* A message under construction. */
struct gn_msg {
	uint8_t *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static void gn_put(struct gn_msg *m, const void *data, size_t n, size_t space)
{
	if (m->overflow || space > m->cap - m->len) {
		m->overflow = true;
		return;
	}
	memset(m->buf + m->len, 0, space);
	if (n)
		memcpy(m->buf + m->len, data, n);
	m->len += space;
}

/* nlmsghdr + the family header (hdr, hlen bytes). */
static void gn_begin(struct gn_msg *m, void *buf, size_t cap, uint16_t type,
		     uint16_t flags, uint32_t seq, const void *hdr, size_t hlen)
{
	struct nlmsghdr h = {
		.nlmsg_type = type,
		.nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags),
		.nlmsg_seq = seq,
	};

	m->buf = buf;
	m->cap = cap;
	m->len = 0;
	m->overflow = false;
	gn_put(m, &h, sizeof(h), NLMSG_HDRLEN);
	gn_put(m, hdr, hlen, NLMSG_ALIGN(hlen));
}

static void gn_attr(struct gn_msg *m, unsigned short type, const void *data,
		    size_t n)
{
	struct rtattr rta = { .rta_len = (unsigned short)RTA_LENGTH(n),
			      .rta_type = type };
	size_t at = m->len;

	gn_put(m, &rta, sizeof(rta), RTA_SPACE(n));
	if (!m->overflow && n)
		memcpy(m->buf + at + RTA_LENGTH(0), data, n);
}

/* Patch nlmsg_len; the length or -ENOBUFS. */
static int gn_end(struct gn_msg *m)
{
	uint32_t len = (uint32_t)m->len;

	if (m->overflow)
		return -ENOBUFS;
	memcpy(m->buf + offsetof(struct nlmsghdr, nlmsg_len), &len, sizeof(len));
	return (int)m->len;
}

int guest_net_msg_link(void *buf, size_t cap, uint32_t seq, int ifindex,
		       unsigned mtu)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = IFF_UP,
		.ifi_change = IFF_UP,
	};
	uint32_t m32 = mtu;
	struct gn_msg m;

	gn_begin(&m, buf, cap, RTM_NEWLINK, 0, seq, &ifi, sizeof(ifi));
	if (mtu)
		gn_attr(&m, IFLA_MTU, &m32, sizeof(m32));
	return gn_end(&m);
}

int guest_net_msg_addr(void *buf, size_t cap, uint32_t seq, int ifindex,
		       struct in_addr addr, unsigned prefix)
{
	struct ifaddrmsg ifa = {
		.ifa_family = AF_INET,
		.ifa_prefixlen = (unsigned char)prefix,
		.ifa_scope = RT_SCOPE_UNIVERSE,
		.ifa_index = (unsigned)ifindex,
	};
	struct in_addr brd;
	struct gn_msg m;

	if (prefix > 32)
		return -EINVAL;
	brd.s_addr = addr.s_addr | ~(prefix ? htonl(~0u << (32 - prefix)) : 0);
	gn_begin(&m, buf, cap, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq,
		 &ifa, sizeof(ifa));
	gn_attr(&m, IFA_LOCAL, &addr, sizeof(addr));
	gn_attr(&m, IFA_ADDRESS, &addr, sizeof(addr));
	gn_attr(&m, IFA_BROADCAST, &brd, sizeof(brd));
	return gn_end(&m);
}

int guest_net_msg_route(void *buf, size_t cap, uint32_t seq, int ifindex,
			struct in_addr gw)
{
	struct rtmsg rtm = {
		.rtm_family = AF_INET,
		.rtm_dst_len = 0,                 /* default route */
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = RT_SCOPE_UNIVERSE,
		.rtm_type = RTN_UNICAST,
	};
	uint32_t oif = (uint32_t)ifindex;
	struct gn_msg m;

	gn_begin(&m, buf, cap, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq,
		 &rtm, sizeof(rtm));
	gn_attr(&m, RTA_GATEWAY, &gw, sizeof(gw));
	gn_attr(&m, RTA_OIF, &oif, sizeof(oif));
	return gn_end(&m);
}

int guest_net_parse_ack(const void *buf, size_t len, uint32_t seq)
{
	const uint8_t *p = buf;

	while (len >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		size_t step;
		int e;

		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > len)
			return -EBADMSG;
		if (h.nlmsg_seq == seq && h.nlmsg_type == NLMSG_ERROR) {
			if (h.nlmsg_len < NLMSG_LENGTH(sizeof(int)))
				return -EBADMSG;
			memcpy(&e, p + NLMSG_HDRLEN, sizeof(e));
			if (e > 0 || e < -4095)
				return -EBADMSG;
			return e;   /* 0: the ACK */
		}
		step = NLMSG_ALIGN(h.nlmsg_len);
		if (step >= len)
			return -EAGAIN;
		p += step;
		len -= step;
	}
	return len ? -EBADMSG : -EAGAIN;
}

int guest_net_parse_mac(const char *text, uint8_t mac[6])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		const char *s = text + 3 * i;
		const char *hi, *lo;
		char c0, c1;

		if (!s[0] || !s[1])
			return -EINVAL;
		c0 = (char)(s[0] | 0x20);   /* lower case for hex letters */
		c1 = (char)(s[1] | 0x20);
		hi = memchr(hex, c0, 16);
		lo = memchr(hex, c1, 16);
		if (!hi || !lo || (s[2] != (i < 5 ? ':' : '\0')))
			return -EINVAL;
		mac[i] = (uint8_t)(((hi - hex) << 4) | (lo - hex));
	}
	return 0;
}

int guest_net_find_by_mac(const char *sysdir, const uint8_t mac[6],
			  char name[IFNAMSIZ])
{
	DIR *d = opendir(sysdir);
	struct dirent *de;
	int ret = -ENODEV;

	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char path[sizeof(de->d_name) + 16], text[32];
		uint8_t got[6];
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.' || strlen(de->d_name) >= IFNAMSIZ)
			continue;
		snprintf(path, sizeof(path), "%s/address", de->d_name);
		fd = openat(dirfd(d), path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n <= 0)
			continue;
		text[n] = '\0';
		text[strcspn(text, "\n")] = '\0';
		if (guest_net_parse_mac(text, got) == 0 && !memcmp(got, mac, 6)) {
			memcpy(name, de->d_name, strlen(de->d_name) + 1);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int guest_net_resolv_conf(const struct runtime_net *net, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	if (!net || !net->n_dns) {
		n = snprintf(buf, len, "# no DNS configured\n");
		return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : n;
	}
	for (size_t i = 0; i < net->n_dns && i < RUNTIME_NET_DNS_MAX; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &net->dns[i], a, sizeof(a));
		n = snprintf(buf + off, len - off, "nameserver %s\n", a);
		if (n < 0 || (size_t)n >= len - off)
			return -ENAMETOOLONG;
		off += (size_t)n;
	}
	return (int)off;
}

/* ---- the socket --------------------------------------------------------- */

static int gn_open(struct pv_err *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = GUEST_NET_ACK_MS / 1000,
			      .tv_usec = (GUEST_NET_ACK_MS % 1000) * 1000 };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return pv_err_sys(err, errno, "netlink socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		int e = errno;

		close(fd);
		return pv_err_sys(err, e, "netlink socket setup");
	}
	return fd;
}

/* Send one request (len from a builder, or its -errno) and wait for its
 * answer. */
static int gn_request(int fd, const void *msg, int len, uint32_t seq,
		      const char *what, struct pv_err *err)
{
	uint8_t rx[GN_RECV_MAX];
	ssize_t n;
	int ret;

	if (len < 0)
		return pv_err_set(err, -len, "%s: message does not fit", what);
	if (send(fd, msg, (size_t)len, 0) != len)
		return pv_err_sys(err, errno, "%s: netlink send", what);
	for (;;) {
		n = recv(fd, rx, sizeof(rx), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pv_err_sys(err, errno == EAGAIN ? ETIMEDOUT : errno,
					  "%s: no answer from the kernel", what);
		ret = guest_net_parse_ack(rx, (size_t)n, seq);
		if (ret == -EAGAIN)
			continue;   /* something else (there is nothing else) */
		if (ret == -EBADMSG)
			return pv_err_set(err, EBADMSG, "%s: malformed answer", what);
		if (ret < 0)
			return pv_err_sys(err, -ret, "%s", what);
		return 0;
	}
}

int guest_net_setup(const struct runtime_net *net, struct pv_err *err)
{
	uint8_t msg[GUEST_NET_MSG_MAX];
	char name[IFNAMSIZ], what[64];
	struct timespec nap = { 0, 25 * 1000 * 1000 };
	unsigned ifindex;
	uint32_t seq = 1;
	int fd, ret;

	fd = gn_open(err);
	if (fd < 0)
		return fd;
	ret = gn_request(fd, msg, guest_net_msg_link(msg, sizeof(msg), seq, GN_LO_IFINDEX, 0),
			 seq, "lo up", err);
	seq++;
	if (ret < 0 || !net)
		goto out;
	ret = runtime_net_check(net, err);
	if (ret < 0)
		goto out;
	for (int i = 0; (ret = guest_net_find_by_mac(GUEST_NET_SYS_DIR, net->mac, name)) == -ENODEV &&
			i < GN_FIND_TRIES; i++)
		nanosleep(&nap, NULL);
	if (ret < 0) {
		ret = pv_err_sys(err, -ret, "no network interface with MAC "
				 "%02x:%02x:%02x:%02x:%02x:%02x in " GUEST_NET_SYS_DIR,
				 net->mac[0], net->mac[1], net->mac[2], net->mac[3],
				 net->mac[4], net->mac[5]);
		goto out;
	}
	ifindex = if_nametoindex(name);
	if (!ifindex) {
		ret = pv_err_sys(err, errno, "%s: no ifindex", name);
		goto out;
	}
	snprintf(what, sizeof(what), "%s up (mtu %u)", name, net->mtu);
	ret = gn_request(fd, msg, guest_net_msg_link(msg, sizeof(msg), seq, (int)ifindex,
						     net->mtu), seq, what, err);
	seq++;
	if (ret < 0)
		goto out;
	snprintf(what, sizeof(what), "%s: address %s/%u", name, net->addr_text, net->prefix);
	ret = gn_request(fd, msg, guest_net_msg_addr(msg, sizeof(msg), seq, (int)ifindex,
						     net->addr, net->prefix), seq, what, err);
	seq++;
	if (ret < 0)
		goto out;
	snprintf(what, sizeof(what), "%s: default route", name);
	ret = gn_request(fd, msg, guest_net_msg_route(msg, sizeof(msg), seq, (int)ifindex,
						      net->gateway), seq, what, err);
out:
	close(fd);
	return ret;
}
