/* The netns test driver's self-checking scenarios: a fault injected at
 * every step of VPC and pod set-up and teardown, and create/delete
 * cycles, each compared against a snapshot of links, addresses,
 * namespaces and state files. Commands are in netns_helper.c. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/route/addr.h>
#include <netlink/route/link.h>

#include "netns/internal.h"
#include "tests/integration/netns_helper.h"
#include "util/util.h"

/* ---- state snapshot: links, addresses, namespaces, state files ---------- */

struct text {
	char **lines;
	size_t n, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		exit(3);
	va_end(ap);
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->lines = realloc(t->lines, t->cap * sizeof(*t->lines));
		if (!t->lines)
			exit(3);
	}
	t->lines[t->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void text_free(struct text *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->lines[i]);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}

static void snap_ns(struct text *t, const char *label, int nsfd)
{
	struct nl_sock *sk;
	struct nl_cache *links = NULL, *addrs = NULL;
	char buf[64];

	if (netns_link_sock_open(nsfd, &sk, &err) < 0)
		die("snapshot socket", -EIO);
	if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) < 0 ||
	    rtnl_addr_alloc_cache(sk, &addrs) < 0)
		die("snapshot cache", -EIO);
	for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *l = (struct rtnl_link *)o;
		int m = rtnl_link_get_master(l);
		char mname[IFNAMSIZ] = "-";
		struct nl_addr *a = rtnl_link_get_addr(l);

		if (m)
			rtnl_link_i2name(links, m, mname, sizeof(mname));
		text_add(t, "%s link %s up=%d master=%s group=%u mac=%s", label,
			 rtnl_link_get_name(l), !!(rtnl_link_get_flags(l) & IFF_UP), mname,
			 rtnl_link_get_group(l), a ? nl_addr2str(a, buf, sizeof(buf)) : "-");
	}
	for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		char lname[IFNAMSIZ] = "?";

		if (rtnl_addr_get_family(a) != AF_INET)
			continue;
		rtnl_link_i2name(links, rtnl_addr_get_ifindex(a), lname, sizeof(lname));
		text_add(t, "%s addr %s %s", label, lname,
			 nl_addr2str(rtnl_addr_get_local(a), buf, sizeof(buf)));
	}
	nl_cache_free(addrs);
	nl_cache_free(links);
	netns_link_sock_close(sk);
}

static void snapshot(struct text *t)
{
	const char *nsdir = getenv("NETNS_DIR"), *st = getenv("NETNS_STATE");
	int saved = netns_fail_at;
	struct dirent *de;
	DIR *d;

	netns_fail_at = 0;
	snap_ns(t, "host", -1);
	d = opendir(nsdir);
	while (d && (de = readdir(d))) {
		char path[4096];
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", nsdir, de->d_name);
		text_add(t, "nsfile %s mounted=%d", de->d_name, netns_ns_is_mounted(path));
		if (netns_ns_open(path, &fd, NULL) == 0) {
			snap_ns(t, de->d_name, fd);
			close(fd);
		}
	}
	if (d)
		closedir(d);
	d = opendir(st);
	while (d && (de = readdir(d))) {
		char path[4096], *body = NULL;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", st, de->d_name);
		if (util_read_file(path, 1 << 20, &body, &len, NULL) == 0) {
			for (char *p = body; *p; p++)
				if (*p == '\n')
					*p = '|';
		}
		text_add(t, "state %s: %s", de->d_name, body ? body : "?");
		free(body);
	}
	if (d)
		closedir(d);
	qsort(t->lines, t->n, sizeof(*t->lines), cmp_str);
	netns_fail_at = saved;
}

static int text_diff(const struct text *a, const struct text *b, const char *what)
{
	size_t i = 0, j = 0;
	int diff = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->lines[i], b->lines[j]);

		if (c == 0) {
			i++, j++;
			continue;
		}
		if (!diff)
			printf("FAIL: %s: state differs:\n", what);
		diff = 1;
		if (c < 0)
			printf("    - %s\n", a->lines[i++]);
		else
			printf("    + %s\n", b->lines[j++]);
	}
	return diff;
}

/* ---- fault injection at every step --------------------------------------- */

#define UA "fault-pod-a"
#define UB "fault-pod-b"

enum { OP_SETUP, OP_TEARDOWN };

/* Run one library call with the fault armed.  Setup calls must leave the
 * state exactly as before on failure; teardown calls must succeed when
 * retried.  Returns 1 when the call failed (sequence aborted). */
static int fault_op(int kind, const char *name, int (*fn)(void *), void *arg, int *bad)
{
	struct text before = { 0 }, after = { 0 };
	int ret, fired;

	if (kind == OP_SETUP)
		snapshot(&before);
	int steps0 = netns_steps;
	ret = fn(arg);
	fired = netns_steps >= netns_fail_at && steps0 < netns_fail_at;
	if (ret == 0) {
		text_free(&before);
		return 0;
	}
	if (!fired || !strstr(err.msg, "injected")) {
		printf("FAIL: %s failed without the injected fault (step %d): %s\n", name,
		       netns_fail_at, err.msg);
		*bad = 1;
	}
	if (kind == OP_SETUP) {
		snapshot(&after);
		if (text_diff(&before, &after, name))
			*bad = 1;
		text_free(&before);
		text_free(&after);
		return 1;
	}
	/* teardown: a plain retry completes it */
	int saved = netns_fail_at;

	netns_fail_at = 0;
	ret = fn(arg);
	netns_fail_at = saved;
	if (ret < 0) {
		printf("FAIL: %s: retry after the fault failed: %s\n", name, err.msg);
		*bad = 1;
	}
	return 0;
}

static struct netns_pod_net pa, pb;
static int tapfd_a = -1, tapfd_b = -1;

static int op_vpc_blue(void *a) { (void)a; struct netns_vpc_info i; vpc_info_of("fblue", "10.9.0.0/29", "10.9.0.1", &i); return netns_vpc_create(ctx, &i, &err); }
static int op_vpc_green(void *a) { (void)a; struct netns_vpc_info i; vpc_info_of("fgreen", "10.9.0.0/29", "", &i); return netns_vpc_create(ctx, &i, &err); }
static int op_prep_a(void *a) { (void)a; return netns_pod_prepare(ctx, "fblue", UA, NULL, &pa, &err); }
static int op_prep_b(void *a) { (void)a; return netns_pod_prepare(ctx, "fgreen", UB, &pa.addr, &pb, &err); }
static int op_att_a(void *a) { (void)a; return netns_pod_attach(ctx, "fblue", UA, &err); }
static int op_att_b(void *a) { (void)a; return netns_pod_attach(ctx, "fgreen", UB, &err); }
static int op_rel_a(void *a) { (void)a; return netns_pod_release(ctx, "fblue", UA, &err); }
static int op_rel_b(void *a) { (void)a; return netns_pod_release(ctx, "fgreen", UB, &err); }
static int op_flush(void *a) { (void)a; return netns_flush(ctx, &err); }
static int op_del_blue(void *a) { (void)a; return netns_vpc_destroy(ctx, "fblue", 0, &err); }
static int op_del_green(void *a) { (void)a; return netns_vpc_destroy(ctx, "fgreen", 0, &err); }
static int op_cleanup(void *a)
{
	struct netns_known k = { 0 };
	struct netns_cleanup_report r;

	(void)a;
	return netns_cleanup(ctx, &k, &r, &err);
}

int cmd_faults(void)
{
	struct text base = { 0 }, end = { 0 };
	int bad = 0, k, total = 0;

	snapshot(&base);
	for (k = 1; k < 1000; k++) {
		int aborted = 0;

		netns_steps = 0;
		netns_fail_at = k;
		aborted = fault_op(OP_SETUP, "create vpc fblue", op_vpc_blue, NULL, &bad) ||
			  fault_op(OP_SETUP, "create vpc fgreen (same cidr)", op_vpc_green, NULL, &bad) ||
			  fault_op(OP_SETUP, "prepare pod a", op_prep_a, NULL, &bad) ||
			  fault_op(OP_SETUP, "prepare pod b (same address)", op_prep_b, NULL, &bad);
		if (!aborted) {
			/* like QEMU: the taps are open while they move */
			if (netns_tap_open(pa.tap, 1, &tapfd_a, &err) < 0 ||
			    netns_tap_open(pb.tap, 1, &tapfd_b, &err) < 0)
				die("open taps", -EIO);
			aborted = fault_op(OP_SETUP, "attach pod a", op_att_a, NULL, &bad) ||
				  fault_op(OP_SETUP, "attach pod b", op_att_b, NULL, &bad);
			close(tapfd_a);
			close(tapfd_b);
			tapfd_a = tapfd_b = -1;
		}
		if (!aborted) {
			fault_op(OP_TEARDOWN, "release pod a", op_rel_a, NULL, &bad);
			fault_op(OP_TEARDOWN, "release pod b", op_rel_b, NULL, &bad);
			fault_op(OP_TEARDOWN, "flush", op_flush, NULL, &bad);
			fault_op(OP_TEARDOWN, "destroy fblue", op_del_blue, NULL, &bad);
			fault_op(OP_TEARDOWN, "destroy fgreen", op_del_green, NULL, &bad);
		}
		fault_op(OP_TEARDOWN, "cleanup", op_cleanup, NULL, &bad);
		netns_fail_at = 0;
		/* after an aborted setup, cleanup (nothing claimed) removes the
		 * rest; either way the end state is the start state */
		if (aborted && op_cleanup(NULL) < 0) {
			printf("FAIL: cleanup after step %d: %s\n", k, err.msg);
			bad = 1;
		}
		snapshot(&end);
		if (text_diff(&base, &end, "end state after a faulted run"))
			bad = 1;
		text_free(&end);
		if (netns_steps < k) {   /* the fault never fired: all steps done */
			total = netns_steps;
			break;
		}
	}
	text_free(&base);
	printf("%s: fault injected at each of %d steps in turn (%d steps in a full run)\n",
	       bad ? "FAIL" : "ok", k - 1, total);
	return bad;
}

/* ---- create/delete cycles -------------------------------------------------- */

int cmd_cycles(int n)
{
	struct text base = { 0 }, end = { 0 };
	int ret, bad;

	snapshot(&base);
	for (int i = 0; i < n; i++) {
		struct netns_vpc_info info;
		struct netns_pod_net p1, p2;
		int fd1 = -1, fd2 = -1;

		vpc_info_of("cyc", "10.7.0.0/28", "10.7.0.1", &info);
		if ((ret = netns_vpc_create(ctx, &info, &err)) < 0 ||
		    (ret = netns_pod_prepare(ctx, "cyc", "c-pod-1", NULL, &p1, &err)) < 0 ||
		    (ret = netns_pod_prepare(ctx, "cyc", "c-pod-2", NULL, &p2, &err)) < 0 ||
		    (ret = netns_tap_open(p1.tap, 1, &fd1, &err)) < 0 ||
		    (ret = netns_tap_open(p2.tap, 1, &fd2, &err)) < 0 ||
		    (ret = netns_pod_attach(ctx, "cyc", "c-pod-1", &err)) < 0 ||
		    (ret = netns_pod_attach(ctx, "cyc", "c-pod-2", &err)) < 0)
			die("cycle setup", ret);
		close(fd1);
		close(fd2);
		if ((ret = netns_pod_release(ctx, "cyc", "c-pod-1", &err)) < 0 ||
		    (ret = netns_pod_release(ctx, "cyc", "c-pod-2", &err)) < 0 ||
		    (i % 2 == 0 && (ret = netns_flush(ctx, &err)) < 0) ||
		    (ret = netns_vpc_destroy(ctx, "cyc", 0, &err)) < 0)
			die("cycle teardown", ret);
	}
	snapshot(&end);
	bad = text_diff(&base, &end, "after the cycles");
	printf("%s: %d create/delete cycles (vpc + 2 pods) left nothing behind\n",
	       bad ? "FAIL" : "ok", n);
	text_free(&base);
	text_free(&end);
	return bad;
}
