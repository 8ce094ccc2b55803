/* Test and benchmark driver for netns/ (tests/integration/test_netns.sh,
 * tests/bench/bench_net.sh).  Runs as root inside the test's own network
 * and mount namespaces; every command is one library call or one
 * self-checking scenario.  Environment: NETNS_DIR, NETNS_STATE.
 *
 *   vpc-create NAME CIDR [DNS,...]   vpc-open NAME   vpc-destroy NAME [force]
 *   prepare VPC UID [ADDR]           attach VPC UID  release VPC UID   flush
 *   cleanup [vpc=NAME|uid=UID]...    wire TAP PODNS  arpcheck VPC UID
 *   cycles N                         faults          bench-once VPC UID
 *   bench-del VPC N
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "netns/internal.h"
#include "tests/integration/netns_helper.h"
#include "util/util.h"

struct netns_ctx *ctx;
struct pv_err err;

int die(const char *what, int ret)
{
	fprintf(stderr, "netns_helper: %s: %d (%s): %s\n", what, ret, strerror(-ret), err.msg);
	exit(1);
}

static void open_ctx(void)
{
	struct netns_config cfg = { .netns_dir = getenv("NETNS_DIR"),
				    .state_dir = getenv("NETNS_STATE") };
	int ret;

	if (!cfg.netns_dir || !cfg.state_dir) {
		fprintf(stderr, "netns_helper: set NETNS_DIR and NETNS_STATE\n");
		exit(2);
	}
	ret = netns_ctx_new(&cfg, &ctx, &err);
	if (ret < 0)
		die("ctx", ret);
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "bad address %s\n", s);
		exit(2);
	}
	return a;
}

int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void vpc_info_of(const char *name, const char *cidr, const char *dns,
		 struct netns_vpc_info *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", name);
	if (netns_cidr_parse(cidr, &info->cidr, &err) < 0)
		die("cidr", -EINVAL);
	if (dns && *dns) {
		char buf[256], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", dns);
		for (tok = strtok_r(buf, ",", &save); tok && info->ndns < NETNS_DNS_MAX;
		     tok = strtok_r(NULL, ",", &save))
			info->dns[info->ndns++] = ip(tok);
	}
}

static void print_pod(const struct netns_pod_net *n)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &n->addr, a, sizeof(a));
	inet_ntop(AF_INET, &n->gateway, g, sizeof(g));
	printf("tap=%s mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s prefix=%u gw=%s\n", n->tap,
	       n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], a, n->prefix, g);
}

/* ---- fake VM: relay frames between the pod's tap and a tap in a pod ns --- */

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

/* Finish a checksum the sender left to "hardware" (virtio NEEDS_CSUM). */
static void finish_csum(uint8_t *f, size_t len, const struct virtio_net_hdr *h)
{
	uint32_t sum = 0;
	size_t start = h->csum_start, off = start + h->csum_offset;

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || off + 2 > len)
		return;
	for (size_t i = start; i < len; i += 2)
		sum += (uint32_t)(f[i] << 8) | (i + 1 < len ? f[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	f[off] = (uint8_t)(sum >> 8);
	f[off + 1] = (uint8_t)sum;
}

static int cmd_wire(const char *tap, const char *podns)
{
	uint8_t buf[65536 + sizeof(struct virtio_net_hdr)];
	const size_t hl = sizeof(struct virtio_net_hdr);
	int outer = -1, inner = -1, nsfd, ret;

	/* like QEMU: open the pod's tap by name in the host namespace */
	ret = netns_tap_open(tap, 1, &outer, &err);
	if (ret < 0)
		die("open tap", ret);
	nsfd = open(podns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0)
		die("enter pod ns", -errno);
	close(nsfd);
	/* the "guest NIC": a plain tap in the pod namespace */
	ret = netns_tap_open("eth0", 0, &inner, &err);
	if (ret < 0)
		die("pod eth0", ret);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p[2] = { { outer, POLLIN, 0 }, { inner, POLLIN, 0 } };
		ssize_t n;

		if (poll(p, 2, 200) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			n = read(outer, buf, sizeof(buf));
			if (n > (ssize_t)hl) {
				struct virtio_net_hdr h;

				memcpy(&h, buf, hl);
				finish_csum(buf + hl, (size_t)n - hl, &h);
				if (write(inner, buf + hl, (size_t)n - hl) < 0 && errno != EIO)
					break;
			}
		}
		if (p[1].revents & POLLIN) {
			n = read(inner, buf + hl, sizeof(buf) - hl);
			if (n > 0) {
				memset(buf, 0, hl);   /* no offloads */
				if (write(outer, buf, (size_t)n + hl) < 0 && errno != EIO)
					break;
			}
		}
		if ((p[0].revents | p[1].revents) & (POLLERR | POLLHUP))
			break;
	}
	close(inner);
	close(outer);
	return 0;
}

/* ---- claim: a tap fd opened before the move still works after it -------- */

static int cmd_arpcheck(const char *vpc, const char *uid)
{
	struct netns_pod_net n;
	uint8_t f[10 + 42], r[2048], gwmac[6];
	int fd = -1, ret, got = 0;
	int64_t deadline;

	ret = netns_pod_prepare(ctx, vpc, uid, NULL, &n, &err);
	if (ret < 0)
		die("prepare", ret);
	ret = netns_tap_open(n.tap, 1, &fd, &err);   /* opened in the host ns */
	if (ret < 0)
		die("open tap", ret);
	ret = netns_pod_attach(ctx, vpc, uid, &err);   /* the netdev moves away */
	if (ret < 0)
		die("attach", ret);
	/* ARP "who has the gateway", from the pod, through the moved tap */
	memset(f, 0, sizeof(f));
	uint8_t *e = f + 10;
	memset(e, 0xff, 6);
	memcpy(e + 6, n.mac, 6);
	e[12] = 0x08; e[13] = 0x06;
	uint8_t arp[28] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	memcpy(arp + 8, n.mac, 6);
	memcpy(arp + 14, &n.addr, 4);
	memcpy(arp + 24, &n.gateway, 4);
	memcpy(e + 14, arp, sizeof(arp));
	deadline = now_us() + 3000000;
	for (int tries = 0; !got && now_us() < deadline; tries++) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (tries % 5 == 0 && write(fd, f, sizeof(f)) != (ssize_t)sizeof(f))
			die("write frame", -errno);
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t m = read(fd, r, sizeof(r));
		uint8_t *re = r + 10;

		if (m >= 10 + 42 && re[12] == 0x08 && re[13] == 0x06 && re[21] == 2 &&
		    !memcmp(re + 28, &n.gateway, 4) && !memcmp(re + 32, n.mac, 6)) {
			memcpy(gwmac, re + 22, 6);
			got = 1;
		}
	}
	close(fd);
	if (!got) {
		printf("FAIL: no ARP reply from the gateway through the moved tap\n");
		return 1;
	}
	printf("ok: gateway answered ARP through a tap fd opened before the move "
	       "(gateway mac %02x:%02x:%02x:%02x:%02x:%02x)\n",
	       gwmac[0], gwmac[1], gwmac[2], gwmac[3], gwmac[4], gwmac[5]);
	if ((ret = netns_pod_release(ctx, vpc, uid, &err)) < 0)
		die("release", ret);
	if ((ret = netns_flush(ctx, &err)) < 0)
		die("flush", ret);
	return 0;
}

/* ---- benchmarks ------------------------------------------------------------- */

static int cmd_bench_once(const char *vpc, const char *uid)
{
	struct netns_pod_net n;
	int64_t t0, tp, t1, t2, t3;
	int ret;

	t0 = now_us();
	if ((ret = netns_pod_prepare(ctx, vpc, uid, NULL, &n, &err)) < 0)
		die("bench prepare", ret);
	tp = now_us();
	if ((ret = netns_pod_attach(ctx, vpc, uid, &err)) < 0)
		die("bench attach", ret);
	t1 = now_us();
	if ((ret = netns_pod_release(ctx, vpc, uid, &err)) < 0)
		die("bench release", ret);
	t2 = now_us();
	if ((ret = netns_flush(ctx, &err)) < 0)
		die("bench flush", ret);
	t3 = now_us();
	printf("%lld %lld %lld %lld %lld\n", (long long)(t1 - t0), (long long)(t2 - t1),
	       (long long)(t3 - t2), (long long)(tp - t0), (long long)(t1 - tp));
	return 0;
}

/* Per-link deletion cost: N attached taps deleted one RTM_DELLINK at a
 * time, then N more tagged and deleted with one group RTM_DELLINK. */
static int cmd_bench_del(const char *vpc, int n)
{
	struct vpc *v;
	char uid[32];
	struct netns_pod_net p;
	int64_t t0, t1, t2;
	int ret, deleted;

	v = netns_vpc_find(ctx, vpc);
	if (!v)
		die("no such vpc", -ENOENT);
	for (int round = 0; round < 2; round++) {
		char (*taps)[IFNAMSIZ] = calloc((size_t)n, IFNAMSIZ);

		if (!taps)
			die("oom", -ENOMEM);
		for (int i = 0; i < n; i++) {
			snprintf(uid, sizeof(uid), "bd-%d-%d", round, i);
			if ((ret = netns_pod_prepare(ctx, vpc, uid, NULL, &p, &err)) < 0 ||
			    (ret = netns_pod_attach(ctx, vpc, uid, &err)) < 0)
				die("bench-del setup", ret);
			memcpy(taps[i], p.tap, IFNAMSIZ);
			netns_ipam_release(v->ipam, uid, NULL);
		}
		t0 = now_us();
		if (round == 0) {
			for (int i = 0; i < n; i++)
				if ((ret = netns_link_delete(v->sk, 0, taps[i], &err)) < 0)
					die("delete", ret);
			t1 = t2 = now_us();
			printf("one-by-one: %d links in %.1f ms, %.2f ms per link\n", n,
			       (double)(t1 - t0) / 1000, (double)(t1 - t0) / 1000 / n);
		} else {
			for (int i = 0; i < n; i++)
				if ((ret = netns_link_set_group(v->sk, 0, taps[i], NETNS_GROUP_DOOMED, &err)) < 0)
					die("tag", ret);
			t1 = now_us();
			if ((ret = netns_link_delete_group(v->sk, NETNS_GROUP_DOOMED, &deleted, &err)) < 0)
				die("group delete", ret);
			t2 = now_us();
			printf("batched:    %d links tagged in %.2f ms (%.3f ms per link), "
			       "deleted in one request in %.1f ms (%.3f ms per link)\n", n,
			       (double)(t1 - t0) / 1000, (double)(t1 - t0) / 1000 / n,
			       (double)(t2 - t1) / 1000, (double)(t2 - t1) / 1000 / n);
		}
		free(taps);
	}
	return 0;
}

/* ---- main ----------------------------------------------------------------------- */

/* ---- commands ------------------------------------------------------------------- */

static int c_vpc_create(int argc, char **argv)
{
	struct netns_vpc_info info;

	vpc_info_of(argv[2], argv[3], argc > 4 ? argv[4] : NULL, &info);
	return netns_vpc_create(ctx, &info, &err);
}

static int c_vpc_open(int argc, char **argv)
{
	return netns_vpc_open(ctx, argv[2], &err);
}

static int c_vpc_destroy(int argc, char **argv)
{
	return netns_vpc_destroy(ctx, argv[2], argc > 3 && !strcmp(argv[3], "force")
				 ? NETNS_DESTROY_FORCE : 0, &err);
}

static int c_prepare(int argc, char **argv)
{
	struct netns_pod_net n;
	struct in_addr want;
	int ret;

	if (argc > 4)
		want = ip(argv[4]);
	ret = netns_vpc_open(ctx, argv[2], &err);
	if (ret == 0)
		ret = netns_pod_prepare(ctx, argv[2], argv[3], argc > 4 ? &want : NULL, &n, &err);
	if (ret == 0)
		print_pod(&n);
	return ret;
}

static int c_attach(int argc, char **argv)
{
	int ret = netns_vpc_open(ctx, argv[2], &err);

	return ret ? ret : netns_pod_attach(ctx, argv[2], argv[3], &err);
}

static int c_release(int argc, char **argv)
{
	int ret = netns_vpc_open(ctx, argv[2], &err);

	return ret ? ret : netns_pod_release(ctx, argv[2], argv[3], &err);
}

static int c_flush(int argc, char **argv)
{
	int ret = 0;

	/* a fresh process knows no VPC: open the ones given */
	for (int i = 2; i < argc && ret == 0; i++)
		ret = netns_vpc_open(ctx, argv[i], &err);
	return ret ? ret : netns_flush(ctx, &err);
}

static int c_cleanup(int argc, char **argv)
{
	const char *vpcs[16], *uids[16];
	struct netns_known k = { vpcs, 0, uids, 0 };
	struct netns_cleanup_report r;
	int ret;

	for (int i = 2; i < argc; i++) {
		if (!strncmp(argv[i], "vpc=", 4) && k.nvpcs < 16)
			vpcs[k.nvpcs++] = argv[i] + 4;
		else if (!strncmp(argv[i], "uid=", 4) && k.nuids < 16)
			uids[k.nuids++] = argv[i] + 4;
	}
	ret = netns_cleanup(ctx, &k, &r, &err);
	if (ret == 0)
		printf("namespaces=%zu states=%zu links=%zu leases=%zu\n", r.namespaces,
		       r.states, r.links, r.leases);
	return ret;
}

static int c_arpcheck(int argc, char **argv)
{
	int ret = netns_vpc_open(ctx, argv[2], &err);

	return ret ? ret : cmd_arpcheck(argv[2], argv[3]);
}

static int c_cycles(int argc, char **argv)
{
	return cmd_cycles(atoi(argv[2]));
}

static int c_faults(int argc, char **argv)
{
	return cmd_faults();
}

static int c_bench_once(int argc, char **argv)
{
	int ret = netns_vpc_open(ctx, argv[2], &err);

	return ret ? ret : cmd_bench_once(argv[2], argv[3]);
}

static int c_bench_del(int argc, char **argv)
{
	int ret = netns_vpc_open(ctx, argv[2], &err);

	return ret ? ret : cmd_bench_del(argv[2], atoi(argv[3]));
}

/* name, argc accepted (min, max), and whether the result is an exit code
 * of its own (the scenarios) rather than a library call's -errno. */
static const struct {
	const char *name;
	int min, max;
	bool exit_code;
	int (*fn)(int argc, char **argv);
} cmds[] = {
	{ "vpc-create", 4, 99, false, c_vpc_create },
	{ "vpc-open", 3, 3, false, c_vpc_open },
	{ "vpc-destroy", 3, 99, false, c_vpc_destroy },
	{ "prepare", 4, 99, false, c_prepare },
	{ "attach", 4, 4, false, c_attach },
	{ "release", 4, 4, false, c_release },
	{ "flush", 2, 99, false, c_flush },
	{ "cleanup", 2, 99, false, c_cleanup },
	{ "arpcheck", 4, 4, true, c_arpcheck },
	{ "cycles", 3, 3, true, c_cycles },
	{ "faults", 2, 99, true, c_faults },
	{ "bench-once", 4, 4, false, c_bench_once },
	{ "bench-del", 4, 4, false, c_bench_del },
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	size_t i;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "wire") && argc == 4)
		return cmd_wire(argv[2], argv[3]);
	open_ctx();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name) && argc >= cmds[i].min &&
		    argc <= cmds[i].max)
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		fprintf(stderr, "usage: see tests/integration/netns_helper.c\n");
		netns_ctx_free(ctx);
		return 2;
	}
	ret = cmds[i].fn(argc, argv);
	if (!cmds[i].exit_code && ret < 0) {
		fprintf(stderr, "netns_helper %s: %s (%s)\n", cmd, err.msg, strerror(-ret));
		netns_ctx_free(ctx);
		return 1;
	}
	netns_ctx_free(ctx);
	return cmds[i].exit_code ? ret : 0;
}
