/* netns IPAM, CIDR parsing, names (netns/ipam.c, netns/common.c).
 * No privileges: only files in a temp dir. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "netns/netns.h"
#include "util/util.h"

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static const char *ntoa(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	inet_ntop(AF_INET, &a, buf[i], sizeof(buf[i]));
	return buf[i];
}

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test_netns_ipam.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	util_rm_rf(f->dir, NULL);
	free(f);
	return 0;
}

static struct netns_ipam *make(const char *dir, const char *name, const char *cidr)
{
	struct netns_vpc_info info = { .ndns = 1 };
	struct netns_ipam *p = NULL;
	struct pv_err err = { 0 };

	snprintf(info.name, sizeof(info.name), "%s", name);
	assert_int_equal(netns_cidr_parse(cidr, &info.cidr, &err), 0);
	info.dns[0] = ip("10.0.0.1");
	assert_int_equal(netns_ipam_create(dir, &info, &p, &err), 0);
	assert_non_null(p);
	return p;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* ---- CIDR ----------------------------------------------------------------- */

static void test_cidr_parse(void **state)
{
	struct netns_cidr c;
	struct pv_err err = { 0 };
	char buf[NETNS_CIDR_STRLEN];
	static const char *bad[] = {
		"10.0.0.0", "10.0.0.0/", "/24", "10.0.0/24", "10.0.0.0/2x", "10.0.0.0/024",
		"300.0.0.0/24", "10.0.0.0/15", "10.0.0.0/31", "10.0.0.0/32", "10.0.0.0/-1",
		"010.0.0.0/24", " 10.0.0.0/24", "10.0.0.0/24 ", "::1/64", "",
	};

	(void)state;
	assert_int_equal(netns_cidr_parse("10.0.0.0/24", &c, &err), 0);
	assert_int_equal(c.prefix, 24);
	assert_string_equal(ntoa(c.net), "10.0.0.0");
	assert_string_equal(ntoa(netns_cidr_gateway(&c)), "10.0.0.1");
	assert_string_equal(ntoa(netns_cidr_broadcast(&c)), "10.0.0.255");
	netns_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.0/24");
	assert_int_equal(netns_cidr_parse("172.16.0.0/16", &c, &err), 0);
	assert_int_equal(netns_cidr_parse("192.168.7.4/30", &c, &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pv_err_clear(&err);
		if (netns_cidr_parse(bad[i], &c, &err) != -EINVAL)
			fail_msg("accepted bad cidr \"%s\"", bad[i]);
		assert_true(err.msg[0] != '\0');
	}
	/* host bits: the message names the network meant */
	assert_int_equal(netns_cidr_parse("10.0.0.5/24", &c, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "10.0.0.0/24"));
}

static void test_cidr_pod_range(void **state)
{
	struct netns_cidr c;

	(void)state;
	assert_int_equal(netns_cidr_parse("10.0.0.0/29", &c, NULL), 0);
	assert_false(netns_cidr_is_pod_addr(&c, ip("10.0.0.0")));
	assert_false(netns_cidr_is_pod_addr(&c, ip("10.0.0.1")));
	for (unsigned i = 2; i <= 6; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.0.0.%u", i);
		assert_true(netns_cidr_is_pod_addr(&c, ip(a)));
	}
	assert_false(netns_cidr_is_pod_addr(&c, ip("10.0.0.7")));
	assert_false(netns_cidr_is_pod_addr(&c, ip("10.0.0.8")));
	assert_false(netns_cidr_is_pod_addr(&c, ip("9.255.255.255")));
}

/* ---- allocation ----------------------------------------------------------- */

static void test_exhaust_slash29(void **state)
{
	struct fixture *f = *state;
	struct netns_ipam *p = make(f->dir, "small", "10.0.0.0/29");
	struct pv_err err = { 0 };
	struct in_addr a;
	int seen[8] = { 0 };
	char uid[32];

	for (unsigned i = 0; i < 5; i++) {
		snprintf(uid, sizeof(uid), "pod-%u", i);
		assert_int_equal(netns_ipam_alloc(p, uid, &a, &err), 0);
		uint32_t last = ntohl(a.s_addr) & 0xff;
		assert_true(last >= 2 && last <= 6);   /* never .0, .1, .7 */
		assert_int_equal(seen[last]++, 0);     /* never twice */
	}
	assert_int_equal(netns_ipam_count(p), 5);
	assert_int_equal(netns_ipam_alloc(p, "pod-5", &a, &err), -ENOSPC);
	assert_int_equal(err.errnum, ENOSPC);
	assert_string_equal(err.msg, "vpc small: no free address in 10.0.0.0/29");
	/* an existing uid still gets its address when full */
	assert_int_equal(netns_ipam_alloc(p, "pod-3", &a, &err), 0);
	netns_ipam_close(p);
}

static void test_idempotent(void **state)
{
	struct fixture *f = *state;
	struct netns_ipam *p = make(f->dir, "idem", "10.1.0.0/24");
	struct in_addr a, b, c;

	assert_int_equal(netns_ipam_alloc(p, "uid-a", &a, NULL), 0);
	assert_int_equal(netns_ipam_alloc(p, "uid-a", &b, NULL), 0);
	assert_int_equal(a.s_addr, b.s_addr);
	assert_int_equal(netns_ipam_count(p), 1);
	assert_int_equal(netns_ipam_lookup(p, "uid-a", &c), 0);
	assert_int_equal(a.s_addr, c.s_addr);
	assert_int_equal(netns_ipam_lookup(p, "uid-b", &c), -ENOENT);
	netns_ipam_close(p);
}

static void test_release_reuse(void **state)
{
	struct fixture *f = *state;
	struct netns_ipam *p = make(f->dir, "reuse", "10.0.0.0/29");
	struct in_addr a[5], x;
	char uid[16];

	for (int i = 0; i < 5; i++) {
		snprintf(uid, sizeof(uid), "p%d", i);
		assert_int_equal(netns_ipam_alloc(p, uid, &a[i], NULL), 0);
	}
	assert_int_equal(netns_ipam_release(p, "p2", NULL), 0);
	assert_int_equal(netns_ipam_release(p, "p2", NULL), 0);          /* idempotent */
	assert_int_equal(netns_ipam_release(p, "nobody", NULL), 0);
	assert_int_equal(netns_ipam_count(p), 4);
	assert_int_equal(netns_ipam_lookup(p, "p2", &x), -ENOENT);
	assert_int_equal(netns_ipam_alloc(p, "new", &x, NULL), 0);
	assert_int_equal(x.s_addr, a[2].s_addr);                           /* the freed one */
	assert_int_equal(netns_ipam_alloc(p, "more", &x, NULL), -ENOSPC);
	netns_ipam_close(p);
}

static void test_next_fit(void **state)
{
	struct fixture *f = *state;
	struct netns_ipam *p = make(f->dir, "nextfit", "10.0.0.0/24");
	struct in_addr a, b;

	/* a just-released address is not the next one handed out */
	assert_int_equal(netns_ipam_alloc(p, "a", &a, NULL), 0);
	assert_int_equal(netns_ipam_release(p, "a", NULL), 0);
	assert_int_equal(netns_ipam_alloc(p, "b", &b, NULL), 0);
	assert_int_not_equal(a.s_addr, b.s_addr);
	netns_ipam_close(p);
}

static void test_alloc_addr(void **state)
{
	struct fixture *f = *state;
	struct netns_ipam *p = make(f->dir, "blue", "10.0.0.0/24");
	struct netns_ipam *q = make(f->dir, "green", "10.0.0.0/24");
	struct pv_err err = { 0 };
	struct in_addr x;

	assert_int_equal(netns_ipam_alloc_addr(p, "a", ip("10.0.0.9"), &err), 0);
	assert_int_equal(netns_ipam_alloc_addr(p, "a", ip("10.0.0.9"), &err), 0);
	assert_int_equal(netns_ipam_alloc_addr(p, "b", ip("10.0.0.9"), &err), -EADDRINUSE);
	assert_int_equal(netns_ipam_alloc_addr(p, "a", ip("10.0.0.10"), &err), -EEXIST);
	assert_int_equal(netns_ipam_alloc_addr(p, "b", ip("10.0.0.1"), &err), -EINVAL);
	assert_int_equal(netns_ipam_alloc_addr(p, "b", ip("10.0.0.0"), &err), -EINVAL);
	assert_int_equal(netns_ipam_alloc_addr(p, "b", ip("10.0.0.255"), &err), -EINVAL);
	assert_int_equal(netns_ipam_alloc_addr(p, "b", ip("10.0.1.5"), &err), -EINVAL);
	/* the same address in a second VPC with the same CIDR */
	assert_int_equal(netns_ipam_alloc_addr(q, "b", ip("10.0.0.9"), &err), 0);
	/* alloc never hands out a specifically taken address */
	for (int i = 0; i < 252; i++) {
		char uid[16];

		snprintf(uid, sizeof(uid), "n%d", i);
		assert_int_equal(netns_ipam_alloc(p, uid, &x, &err), 0);
		assert_int_not_equal(x.s_addr, ip("10.0.0.9").s_addr);
	}
	assert_int_equal(netns_ipam_alloc(p, "full", &x, &err), -ENOSPC);
	netns_ipam_close(p);
	netns_ipam_close(q);
}

/* ---- persistence ---------------------------------------------------------- */

static void test_persist(void **state)
{
	struct fixture *f = *state;
	struct netns_ipam *p = make(f->dir, "keep", "10.2.0.0/28");
	struct in_addr a[3], x;
	char uid[16], tmp[128];
	struct stat st;

	for (int i = 0; i < 3; i++) {
		snprintf(uid, sizeof(uid), "k%d", i);
		assert_int_equal(netns_ipam_alloc(p, uid, &a[i], NULL), 0);
	}
	assert_int_equal(netns_ipam_release(p, "k1", NULL), 0);
	netns_ipam_close(p);
	/* atomic writes leave no temp file behind */
	snprintf(tmp, sizeof(tmp), "%s/keep.ipam.tmp", f->dir);
	assert_int_equal(stat(tmp, &st), -1);

	assert_int_equal(netns_ipam_open(f->dir, "keep", &p, NULL), 0);
	assert_int_equal(netns_ipam_count(p), 2);
	assert_string_equal(netns_ipam_info(p)->name, "keep");
	assert_int_equal(netns_ipam_info(p)->cidr.prefix, 28);
	assert_int_equal(netns_ipam_info(p)->ndns, 1);
	assert_int_equal(netns_ipam_lookup(p, "k0", &x), 0);
	assert_int_equal(x.s_addr, a[0].s_addr);
	assert_int_equal(netns_ipam_lookup(p, "k2", &x), 0);
	assert_int_equal(x.s_addr, a[2].s_addr);
	assert_int_equal(netns_ipam_lookup(p, "k1", &x), -ENOENT);
	/* same uid, same address after the restart; new ones never collide */
	assert_int_equal(netns_ipam_alloc(p, "k2", &x, NULL), 0);
	assert_int_equal(x.s_addr, a[2].s_addr);
	for (int i = 0; i < 11; i++) {
		snprintf(uid, sizeof(uid), "m%d", i);
		assert_int_equal(netns_ipam_alloc(p, uid, &x, NULL), 0);
		assert_int_not_equal(x.s_addr, a[0].s_addr);
		assert_int_not_equal(x.s_addr, a[2].s_addr);
	}
	assert_int_equal(netns_ipam_alloc(p, "over", &x, NULL), -ENOSPC);
	netns_ipam_close(p);

	/* creating it again is refused; removing deletes the file */
	{
		struct netns_vpc_info info = { .name = "keep" };
		struct netns_ipam *q = NULL;

		assert_int_equal(netns_cidr_parse("10.2.0.0/28", &info.cidr, NULL), 0);
		assert_int_equal(netns_ipam_create(f->dir, &info, &q, NULL), -EEXIST);
		assert_null(q);
	}
	assert_int_equal(netns_ipam_open(f->dir, "keep", &p, NULL), 0);
	assert_int_equal(netns_ipam_remove(p, NULL), 0);
	assert_int_equal(netns_ipam_open(f->dir, "keep", &p, NULL), -ENOENT);
}

static void test_corrupt(void **state)
{
	struct fixture *f = *state;
	static const char *bad[] = {
		"",                                                       /* empty */
		"garbage\n",
		"podvm-vpc 2\nname bad\ncidr 10.0.0.0/24\n",              /* version */
		"podvm-vpc 1\nname bad\n",                                /* no cidr */
		"podvm-vpc 1\nname other\ncidr 10.0.0.0/24\n",            /* wrong name */
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24",                /* truncated */
		"podvm-vpc 1\nname bad\ncidr 10.0.0.5/24\n",              /* host bits */
		"podvm-vpc 1\nname bad\nlease a 10.0.0.2\ncidr 10.0.0.0/24\n",
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nlease a 10.0.0.1\n",   /* gateway */
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nlease a 10.0.0.255\n", /* broadcast */
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nlease a 10.0.1.2\n",   /* outside */
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nlease a 10.0.0.2\nlease b 10.0.0.2\n",
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nlease a 10.0.0.2\nlease a 10.0.0.3\n",
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nlease a b 10.0.0.2\n",
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nlease a\n",
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nfrob 1\n",
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\ndns x\n",
		"podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\ncidr 10.0.0.0/24\n",
	};
	struct netns_ipam *p = NULL;
	struct pv_err err;
	char *back;
	size_t len;
	char path[128];

	snprintf(path, sizeof(path), "%s/bad.ipam", f->dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pv_err_clear(&err);
		write_file(f->dir, "bad.ipam", bad[i]);
		if (netns_ipam_open(f->dir, "bad", &p, &err) != -EBADMSG)
			fail_msg("case %zu accepted: %s", i, err.msg);
		assert_null(p);
		assert_non_null(strstr(err.msg, "bad.ipam"));
		/* never rewritten or deleted */
		assert_int_equal(util_read_file(path, 4096, &back, &len, NULL), 0);
		assert_string_equal(back, bad[i]);
		free(back);
	}
	/* a leftover temp file does not matter */
	write_file(f->dir, "bad.ipam", "podvm-vpc 1\nname bad\ncidr 10.0.0.0/24\nlease a 10.0.0.2\n");
	write_file(f->dir, "bad.ipam.tmp", "half writ");
	assert_int_equal(netns_ipam_open(f->dir, "bad", &p, &err), 0);
	assert_int_equal(netns_ipam_count(p), 1);
	netns_ipam_close(p);
}

static void test_write_failure(void **state)
{
	struct fixture *f = *state;
	struct netns_ipam *p = make(f->dir, "fault", "10.0.0.0/24");
	struct netns_ipam *q = NULL;
	struct pv_err err = { 0 };
	struct in_addr x;

	assert_int_equal(netns_ipam_alloc(p, "kept", &x, NULL), 0);
	/* the state write fails: memory and disk both stay as they were */
	netns_steps = 0;
	netns_fail_at = 1;
	assert_int_equal(netns_ipam_alloc(p, "lost", &x, &err), -EIO);
	assert_non_null(strstr(err.msg, "injected"));
	netns_steps = 0;
	assert_int_equal(netns_ipam_release(p, "kept", &err), -EIO);
	netns_fail_at = 0;
	assert_int_equal(netns_ipam_lookup(p, "lost", &x), -ENOENT);
	assert_int_equal(netns_ipam_lookup(p, "kept", &x), 0);
	assert_int_equal(netns_ipam_open(f->dir, "fault", &q, NULL), 0);
	assert_int_equal(netns_ipam_count(q), 1);
	assert_int_equal(netns_ipam_lookup(q, "kept", &x), 0);
	netns_ipam_close(q);
	netns_ipam_close(p);
}

/* ---- names ---------------------------------------------------------------- */

static void test_names(void **state)
{
	static const char *good_vpc[] = { "a", "blue", "vpc-1", "0", "abcdefghijk" };
	static const char *bad_vpc[] = { "", "-a", "a-", "Blue", "a_b", "a.b", "abcdefghijkl",
					 "a b", "../x", "a/b" };
	static const char *bad_uid[] = { "", "a b", "a/b", "a\nb", "ü" };
	char tap[IFNAMSIZ], tap2[IFNAMSIZ], longuid[NETNS_UID_MAX + 2];
	uint8_t mac[6], mac2[6];

	(void)state;
	for (size_t i = 0; i < sizeof(good_vpc) / sizeof(good_vpc[0]); i++)
		assert_int_equal(netns_valid_vpc_name(good_vpc[i], NULL), 0);
	for (size_t i = 0; i < sizeof(bad_vpc) / sizeof(bad_vpc[0]); i++)
		if (netns_valid_vpc_name(bad_vpc[i], NULL) != -EINVAL)
			fail_msg("accepted vpc name \"%s\"", bad_vpc[i]);
	assert_int_equal(netns_valid_vpc_name(NULL, NULL), -EINVAL);
	/* "podvm-vpc-" + the longest name is a valid file name; "pvh-" + it
	 * fits IFNAMSIZ */
	assert_true(strlen("pvh-") + NETNS_VPC_NAME_MAX < IFNAMSIZ);

	assert_int_equal(netns_valid_uid("6f1c2a4e-1111-2222-3333-444455556666", NULL), 0);
	for (size_t i = 0; i < sizeof(bad_uid) / sizeof(bad_uid[0]); i++)
		assert_int_equal(netns_valid_uid(bad_uid[i], NULL), -EINVAL);
	memset(longuid, 'a', sizeof(longuid) - 1);
	longuid[sizeof(longuid) - 1] = '\0';
	assert_int_equal(netns_valid_uid(longuid, NULL), -EINVAL);
	longuid[NETNS_UID_MAX] = '\0';
	assert_int_equal(netns_valid_uid(longuid, NULL), 0);

	assert_int_equal(netns_valid_ifname("pvt-0123456789a", NULL), 0);
	assert_int_equal(netns_valid_ifname("pvt-0123456789ab", NULL), -EINVAL);
	assert_int_equal(netns_valid_ifname("eth0.1", NULL), -EINVAL);
	assert_int_equal(netns_valid_ifname("Tap0", NULL), -EINVAL);
	assert_int_equal(netns_valid_ifname("", NULL), -EINVAL);

	/* tap names: stable, distinct, 15 chars, valid interface names */
	assert_int_equal(netns_tap_name("uid-1", tap, NULL), 0);
	assert_int_equal(netns_tap_name("uid-1", tap2, NULL), 0);
	assert_string_equal(tap, tap2);
	assert_int_equal(strlen(tap), IFNAMSIZ - 1);
	assert_int_equal(strncmp(tap, NETNS_TAP_PREFIX, strlen(NETNS_TAP_PREFIX)), 0);
	assert_int_equal(netns_valid_ifname(tap, NULL), 0);
	assert_int_equal(netns_tap_name("uid-2", tap2, NULL), 0);
	assert_string_not_equal(tap, tap2);
	assert_int_equal(netns_tap_name("a b", tap, NULL), -EINVAL);

	/* MACs: locally administered, unicast, stable, distinct */
	for (int i = 0; i < 1000; i++) {
		char uid[16];

		snprintf(uid, sizeof(uid), "pod-%d", i);
		assert_int_equal(netns_pod_mac(uid, mac, NULL), 0);
		assert_true(mac[0] & 0x02);
		assert_false(mac[0] & 0x01);
	}
	assert_int_equal(netns_pod_mac("x", mac, NULL), 0);
	assert_int_equal(netns_pod_mac("x", mac2, NULL), 0);
	assert_memory_equal(mac, mac2, 6);
	assert_int_equal(netns_pod_mac("y", mac2, NULL), 0);
	assert_memory_not_equal(mac, mac2, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_pod_range),
		cmocka_unit_test_setup_teardown(test_exhaust_slash29, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_failure, setup, teardown),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
