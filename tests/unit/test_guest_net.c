/* guest/net.c: the rtnetlink messages byte by byte, the ACK parser, MAC
 * lookup under a fake /sys/class/net, resolv.conf; the runtime's
 * "network" object (pod/runtime_net.c) round trip and strict decoding;
 * and, as root, guest_net_setup() against the real kernel inside a
 * private network + mount namespace (a tap with the pod's MAC stands in
 * for the virtio NIC), read back through /proc/net and ioctls. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "guest/net.h"
#include "pod/runtime.h"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* The attribute of type in the message's attribute area, or NULL. */
static const struct rtattr *find_attr(const uint8_t *msg, size_t hdr, unsigned short type)
{
	struct nlmsghdr h;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(hdr);

	memcpy(&h, msg, sizeof(h));
	while (off + sizeof(struct rtattr) <= h.nlmsg_len) {
		const struct rtattr *a = (const void *)(msg + off);

		assert_true(a->rta_len >= sizeof(*a));
		if (a->rta_type == type)
			return a;
		off += RTA_ALIGN(a->rta_len);
	}
	return NULL;
}

static uint32_t attr_u32(const struct rtattr *a)
{
	uint32_t v;

	assert_non_null(a);
	assert_int_equal(a->rta_len, RTA_LENGTH(4));
	memcpy(&v, RTA_DATA(a), 4);
	return v;
}

static void check_hdr(const uint8_t *msg, int len, uint16_t type, uint16_t flags,
		      uint32_t seq)
{
	struct nlmsghdr h;

	assert_true(len > 0);
	assert_int_equal(len % 4, 0);
	memcpy(&h, msg, sizeof(h));
	assert_int_equal(h.nlmsg_len, (uint32_t)len);
	assert_int_equal(h.nlmsg_type, type);
	assert_int_equal(h.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | flags);
	assert_int_equal(h.nlmsg_seq, seq);
	assert_int_equal(h.nlmsg_pid, 0);
}

static void test_msg_link(void **state)
{
	uint8_t b[GUEST_NET_MSG_MAX] __attribute__((aligned(4)));
	struct ifinfomsg ifi;
	int len;

	(void)state;
	len = guest_net_msg_link(b, sizeof(b), 7, 3, 1500);
	check_hdr(b, len, RTM_NEWLINK, 0, 7);
	memcpy(&ifi, b + NLMSG_HDRLEN, sizeof(ifi));
	assert_int_equal(ifi.ifi_family, AF_UNSPEC);
	assert_int_equal(ifi.ifi_index, 3);
	assert_int_equal(ifi.ifi_flags, IFF_UP);
	assert_int_equal(ifi.ifi_change, IFF_UP);
	assert_int_equal(attr_u32(find_attr(b, sizeof(ifi), IFLA_MTU)), 1500);
	assert_int_equal(len, NLMSG_SPACE(sizeof(ifi)) + RTA_SPACE(4));
	/* mtu 0: no attribute, only "up" */
	len = guest_net_msg_link(b, sizeof(b), 8, 1, 0);
	check_hdr(b, len, RTM_NEWLINK, 0, 8);
	assert_int_equal(len, NLMSG_SPACE(sizeof(ifi)));
	/* too small a buffer */
	assert_int_equal(guest_net_msg_link(b, 20, 1, 1, 1500), -ENOBUFS);
	assert_int_equal(guest_net_msg_link(b, NLMSG_SPACE(sizeof(ifi)), 1, 1, 1500), -ENOBUFS);
}

static void test_msg_addr(void **state)
{
	uint8_t b[GUEST_NET_MSG_MAX] __attribute__((aligned(4)));
	struct ifaddrmsg ifa;
	int len;

	(void)state;
	len = guest_net_msg_addr(b, sizeof(b), 9, 2, ip("10.88.0.5"), 24);
	check_hdr(b, len, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, 9);
	memcpy(&ifa, b + NLMSG_HDRLEN, sizeof(ifa));
	assert_int_equal(ifa.ifa_family, AF_INET);
	assert_int_equal(ifa.ifa_prefixlen, 24);
	assert_int_equal(ifa.ifa_index, 2);
	assert_int_equal(ifa.ifa_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(attr_u32(find_attr(b, sizeof(ifa), IFA_LOCAL)), ip("10.88.0.5").s_addr);
	assert_int_equal(attr_u32(find_attr(b, sizeof(ifa), IFA_ADDRESS)), ip("10.88.0.5").s_addr);
	assert_int_equal(attr_u32(find_attr(b, sizeof(ifa), IFA_BROADCAST)),
			 ip("10.88.0.255").s_addr);
	len = guest_net_msg_addr(b, sizeof(b), 9, 2, ip("10.9.0.2"), 29);
	assert_int_equal(attr_u32(find_attr(b, sizeof(ifa), IFA_BROADCAST)),
			 ip("10.9.0.7").s_addr);
	assert_int_equal(guest_net_msg_addr(b, sizeof(b), 1, 2, ip("10.0.0.1"), 33), -EINVAL);
	assert_int_equal(guest_net_msg_addr(b, 40, 1, 2, ip("10.0.0.1"), 24), -ENOBUFS);
}

static void test_msg_route(void **state)
{
	uint8_t b[GUEST_NET_MSG_MAX] __attribute__((aligned(4)));
	struct rtmsg rtm;
	int len;

	(void)state;
	len = guest_net_msg_route(b, sizeof(b), 11, 4, ip("10.88.0.1"));
	check_hdr(b, len, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, 11);
	memcpy(&rtm, b + NLMSG_HDRLEN, sizeof(rtm));
	assert_int_equal(rtm.rtm_family, AF_INET);
	assert_int_equal(rtm.rtm_dst_len, 0);
	assert_int_equal(rtm.rtm_table, RT_TABLE_MAIN);
	assert_int_equal(rtm.rtm_protocol, RTPROT_BOOT);
	assert_int_equal(rtm.rtm_scope, RT_SCOPE_UNIVERSE);
	assert_int_equal(rtm.rtm_type, RTN_UNICAST);
	assert_int_equal(attr_u32(find_attr(b, sizeof(rtm), RTA_GATEWAY)), ip("10.88.0.1").s_addr);
	assert_int_equal(attr_u32(find_attr(b, sizeof(rtm), RTA_OIF)), 4);
	assert_null(find_attr(b, sizeof(rtm), RTA_DST));
}

/* An NLMSG_ERROR answer for seq with error e into b; its length. */
static size_t make_err(uint8_t *b, uint32_t seq, int e, uint16_t type)
{
	struct nlmsghdr h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct nlmsgerr)),
			      .nlmsg_type = type, .nlmsg_seq = seq };
	struct nlmsgerr ne = { .error = e };

	memset(b, 0, NLMSG_SPACE(sizeof(ne)));
	memcpy(b, &h, sizeof(h));
	memcpy(b + NLMSG_HDRLEN, &ne, sizeof(ne));
	return NLMSG_SPACE(sizeof(ne));
}

static void test_parse_ack(void **state)
{
	uint8_t b[512];
	size_t n, m;

	(void)state;
	n = make_err(b, 5, 0, NLMSG_ERROR);
	assert_int_equal(guest_net_parse_ack(b, n, 5), 0);
	assert_int_equal(guest_net_parse_ack(b, n, 6), -EAGAIN);
	n = make_err(b, 5, -EEXIST, NLMSG_ERROR);
	assert_int_equal(guest_net_parse_ack(b, n, 5), -EEXIST);
	/* the answer after something else */
	n = make_err(b, 4, 0, NLMSG_DONE);
	m = make_err(b + n, 5, -ENODEV, NLMSG_ERROR);
	assert_int_equal(guest_net_parse_ack(b, n + m, 5), -ENODEV);
	/* malformed: truncated, a length past the buffer, a crazy errno */
	n = make_err(b, 5, 0, NLMSG_ERROR);
	assert_int_equal(guest_net_parse_ack(b, n - 1, 5), -EBADMSG);
	assert_int_equal(guest_net_parse_ack(b, 10, 5), -EBADMSG);
	n = make_err(b, 5, 7, NLMSG_ERROR);
	assert_int_equal(guest_net_parse_ack(b, n, 5), -EBADMSG);
	n = make_err(b, 5, -100000, NLMSG_ERROR);
	assert_int_equal(guest_net_parse_ack(b, n, 5), -EBADMSG);
	{
		struct nlmsghdr h = { .nlmsg_len = 8, .nlmsg_type = NLMSG_ERROR,
				      .nlmsg_seq = 5 };

		memcpy(b, &h, sizeof(h));
		assert_int_equal(guest_net_parse_ack(b, sizeof(h), 5), -EBADMSG);
	}
	assert_int_equal(guest_net_parse_ack(b, 0, 5), -EAGAIN);
}

static void test_parse_mac(void **state)
{
	uint8_t mac[6];
	static const uint8_t want[6] = { 0x02, 0xab, 0x00, 0x10, 0xfe, 0x9C };

	(void)state;
	assert_int_equal(guest_net_parse_mac("02:ab:00:10:fe:9c", mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(guest_net_parse_mac("02:AB:00:10:FE:9C", mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(guest_net_parse_mac("02:ab:00:10:fe:9c:", mac), -EINVAL);
	assert_int_equal(guest_net_parse_mac("02:ab:00:10:fe", mac), -EINVAL);
	assert_int_equal(guest_net_parse_mac("02-ab-00-10-fe-9c", mac), -EINVAL);
	assert_int_equal(guest_net_parse_mac("0g:ab:00:10:fe:9c", mac), -EINVAL);
	assert_int_equal(guest_net_parse_mac("", mac), -EINVAL);
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/address", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_find_by_mac(void **state)
{
	char dir[] = "/tmp/test_guest_net.XXXXXX", name[IFNAMSIZ], cmd[128];
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 9 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	put_file(dir, "lo", "00:00:00:00:00:00\n");
	put_file(dir, "eth1", "02:aa:bb:cc:dd:ee\n");
	put_file(dir, "eth0", "02:11:22:33:44:55\n");
	put_file(dir, "junk", "not a mac\n");
	assert_int_equal(guest_net_find_by_mac(dir, mac, name), 0);
	assert_string_equal(name, "eth0");
	assert_int_equal(guest_net_find_by_mac(dir, other, name), -ENODEV);
	assert_int_equal(guest_net_find_by_mac("/nonexistent/x", mac, name), -ENOENT);
	for (size_t i = 0; i < 4; i++) {
		static const char *const names[] = { "lo", "eth1", "eth0", "junk" };

		snprintf(cmd, sizeof(cmd), "%s/%s/address", dir, names[i]);
		assert_int_equal(unlink(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s/%s", dir, names[i]);
		assert_int_equal(rmdir(cmd), 0);
	}
	assert_int_equal(rmdir(dir), 0);
}

static struct runtime_net sample_net(void)
{
	struct runtime_net n = {
		.mac = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 },
		.prefix = 24, .mtu = 1500, .n_dns = 2,
	};

	n.addr = ip("10.88.0.5");
	n.gateway = ip("10.88.0.1");
	n.dns[0] = ip("10.88.0.1");
	n.dns[1] = ip("8.8.8.8");
	snprintf(n.addr_text, sizeof(n.addr_text), "10.88.0.5");
	return n;
}

static void test_resolv_conf(void **state)
{
	struct runtime_net n = sample_net();
	char buf[256];
	int len = guest_net_resolv_conf(&n, buf, sizeof(buf));

	(void)state;
	assert_int_equal(len, (int)strlen(buf));
	assert_string_equal(buf, "nameserver 10.88.0.1\nnameserver 8.8.8.8\n");
	n.n_dns = 0;
	assert_true(guest_net_resolv_conf(&n, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "# no DNS configured\n");
	assert_true(guest_net_resolv_conf(NULL, buf, sizeof(buf)) > 0);
	n.n_dns = 2;
	assert_int_equal(guest_net_resolv_conf(&n, buf, 30), -ENAMETOOLONG);
}

/* ---- the runtime's "network" object ---- */

static int decode_net(const char *json, struct runtime_net **out, struct pv_err *err)
{
	struct json_object *o = json_tokener_parse(json);
	int ret;

	assert_non_null(o);
	ret = runtime_net_from_json(o, out, err);
	json_object_put(o);
	return ret;
}

static void test_runtime_net_json(void **state)
{
	struct runtime_net n = sample_net(), *back = NULL;
	struct json_object *o = runtime_net_to_json(&n);
	struct pv_err err = { 0 };

	(void)state;
	assert_non_null(o);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.88.0.5\","
			    "\"prefixLength\":24,\"gateway\":\"10.88.0.1\",\"mtu\":1500,"
			    "\"dns\":[\"10.88.0.1\",\"8.8.8.8\"]}");
	assert_int_equal(runtime_net_from_json(o, &back, &err), 0);
	json_object_put(o);
	assert_memory_equal(back->mac, n.mac, 6);
	assert_int_equal(back->addr.s_addr, n.addr.s_addr);
	assert_int_equal(back->gateway.s_addr, n.gateway.s_addr);
	assert_int_equal(back->prefix, 24);
	assert_int_equal(back->mtu, 1500);
	assert_int_equal(back->n_dns, 2);
	assert_string_equal(back->addr_text, "10.88.0.5");
	free(back);
	back = NULL;
	/* dns is optional */
	assert_int_equal(decode_net("{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\","
				    "\"prefixLength\":30,\"gateway\":\"10.0.0.1\",\"mtu\":9000}",
				    &back, &err), 0);
	assert_int_equal(back->n_dns, 0);
	free(back);
}

static void test_runtime_net_strict(void **state)
{
	static const struct { const char *json, *msg; } bad[] = {
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.1\"}", "required" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.1\",\"mtu\":1500,\"x\":1}", "unknown field" },
		{ "{\"mac\":\"03:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.1\",\"mtu\":1500}", "unicast" },
		{ "{\"mac\":\"02:11:22:33:44\",\"address\":\"10.0.0.2\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.1\",\"mtu\":1500}", "mac" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.255\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.1\",\"mtu\":1500}", "host address" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.1.1\",\"mtu\":1500}", "gateway" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.2\",\"mtu\":1500}", "gateway" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":31,"
		  "\"gateway\":\"10.0.0.1\",\"mtu\":1500}", "prefixLength" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.1\",\"mtu\":100}", "mtu" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":\"24\","
		  "\"gateway\":\"10.0.0.1\",\"mtu\":1500}", "integer" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2 \",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.1\",\"mtu\":1500}", "IPv4" },
		{ "{\"mac\":\"02:11:22:33:44:55\",\"address\":\"10.0.0.2\",\"prefixLength\":24,"
		  "\"gateway\":\"10.0.0.1\",\"mtu\":1500,\"dns\":[\"1.1.1.1\",\"1.1.1.2\","
		  "\"1.1.1.3\",\"1.1.1.4\"]}", "dns" },
		{ "[]", "expected object" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct runtime_net *n = NULL;
		struct pv_err err = { 0 };

		assert_int_equal(decode_net(bad[i].json, &n, &err), -EINVAL);
		assert_null(n);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, bad[i].msg);
	}
}

/* A whole runtime with a network decodes, and without one has none. */
static void test_runtime_with_net(void **state)
{
	static const char with[] =
		"{\"hostname\":\"p\",\"containers\":[{\"name\":\"c\",\"argv\":[\"sh\"],"
		"\"env\":[],\"cwd\":\"/\"}],\"network\":{\"mac\":\"02:11:22:33:44:55\","
		"\"address\":\"10.0.0.2\",\"prefixLength\":24,\"gateway\":\"10.0.0.1\","
		"\"mtu\":1500,\"dns\":[]}}";
	struct json_object *o = json_tokener_parse(with), *again;
	struct pod_runtime rt;
	struct pv_err err = { 0 };

	(void)state;
	assert_int_equal(runtime_from_json(o, &rt, &err), 0);
	json_object_put(o);
	assert_non_null(rt.net);
	assert_string_equal(rt.net->addr_text, "10.0.0.2");
	again = runtime_to_json(&rt);
	assert_non_null(again);
	assert_non_null(strstr(json_object_to_json_string(again), "\"network\""));
	json_object_put(again);
	runtime_free(&rt);
	o = json_tokener_parse("{\"hostname\":\"p\",\"containers\":[{\"name\":\"c\","
			       "\"argv\":[\"sh\"],\"env\":[],\"cwd\":\"/\"}]}");
	assert_int_equal(runtime_from_json(o, &rt, &err), 0);
	json_object_put(o);
	assert_null(rt.net);
	again = runtime_to_json(&rt);
	assert_null(strstr(json_object_to_json_string(again), "network"));
	json_object_put(again);
	runtime_free(&rt);
}

/* ---- the real kernel (root only) ---- */

/* In the child: a private netns and /sys, a tap "eth0" with the pod's MAC,
 * then guest_net_setup() and a read-back.  Exit code: 0 ok, else the step. */
static int kernel_child(void)
{
	struct runtime_net n = sample_net();
	struct ifreq ifr = { 0 };
	struct pv_err err = { 0 };
	char line[256];
	bool route = false;
	FILE *f;
	int fd, s;

	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
		return 10;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "eth0");
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0)
		return 11;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ifr.ifr_hwaddr.sa_family = 1;   /* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, n.mac, 6);
	if (s < 0 || ioctl(s, SIOCSIFHWADDR, &ifr) < 0)
		return 12;
	if (guest_net_setup(&n, &err) < 0) {
		fprintf(stderr, "guest_net_setup: %s\n", err.msg);
		return 13;
	}
	if (ioctl(s, SIOCGIFADDR, &ifr) < 0 ||
	    ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr != n.addr.s_addr)
		return 14;
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu != 1500)
		return 15;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
		return 16;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
		return 17;
	/* Iface Destination Gateway ...: default via 10.88.0.1 = 0100580A */
	f = fopen("/proc/net/route", "r");
	while (f && fgets(line, sizeof(line), f))
		route |= !strncmp(line, "eth0\t00000000\t0100580A", 22);
	if (f)
		fclose(f);
	if (!route)
		return 18;
	/* again: idempotent (replace) */
	if (guest_net_setup(&n, &err) < 0)
		return 19;
	/* a MAC no interface has */
	n.mac[5] ^= 1;
	if (guest_net_setup(&n, &err) != -ENODEV || !strstr(err.msg, "no network interface"))
		return 20;
	return 0;
}

static void test_setup_kernel(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) < 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(kernel_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) != 0)
		fail_msg("guest_net_setup in a netns failed at step %d", WEXITSTATUS(st));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_link),
		cmocka_unit_test(test_msg_addr),
		cmocka_unit_test(test_msg_route),
		cmocka_unit_test(test_parse_ack),
		cmocka_unit_test(test_parse_mac),
		cmocka_unit_test(test_find_by_mac),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_runtime_net_json),
		cmocka_unit_test(test_runtime_net_strict),
		cmocka_unit_test(test_runtime_with_net),
		cmocka_unit_test(test_setup_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
