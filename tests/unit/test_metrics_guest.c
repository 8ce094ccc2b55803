/* guest/stats.c (the STATS encoder) against a fake cgroup tree, and its
 * output through the host decoder: both ends of the payload agree.
 * The guest file is compiled into this host test directly: it is pure
 * file reading + json-c, and the host objects do not include guest/. */
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

#include "daemon/metrics_stats.h"
#include "guest/stats.c"

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void mk(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/podvm-stats-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	mk("cg");
	mk("cg/app");
	put("cg/app/cpu.stat", "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n");
	put("cg/app/memory.current", "10485760\n");
	put("cg/app/memory.stat", "anon 4096\nfile 8192\nactive_file 1000\ninactive_file 4194304\n");
	put("cg/app/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\noom_group_kill 0\n");
	mk("cg/side");   /* no files readable: present, figures left out */
	mk("cg/odd");
	put("cg/odd/memory.current", "garbage\n");
	put("cg/odd/cpu.stat", "usage_usec 18446744073709551615999\n");
	put("meminfo", "MemTotal:         500000 kB\nMemFree:          100000 kB\n"
	    "MemAvailable:     300000 kB\nBuffers:            1000 kB\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_kv(void **state)
{
	uint64_t v = 0, t = 0, a = 0;

	(void)state;
	assert_int_equal(guest_stats_kv("a 1\nusage_usec 42\n", "usage_usec", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(guest_stats_kv("usage_usec_x 1\n", "usage_usec", &v), -ENOENT);
	assert_int_equal(guest_stats_kv("usage_usec -1\n", "usage_usec", &v), -EINVAL);
	assert_int_equal(guest_stats_kv("usage_usec 1x\n", "usage_usec", &v), -EINVAL);
	assert_int_equal(guest_stats_meminfo("MemTotal: 10 kB\nMemAvailable: 4 kB\n", &t, &a), 0);
	assert_int_equal(t, 10240);
	assert_int_equal(a, 4096);
	assert_int_equal(guest_stats_meminfo("MemTotal: 10 kB\n", &t, &a), -ENOENT);
}

static void test_read_ctr(void **state)
{
	struct guest_stats_ctr c;
	char cg[128];

	(void)state;
	snprintf(cg, sizeof(cg), "%s/cg", root);
	assert_int_equal(guest_stats_read_ctr(cg, "app", &c), 0);
	assert_true(c.present && c.has_cpu && c.has_mem && c.has_oom);
	assert_int_equal(c.cpu_usec, 1234567);
	assert_int_equal(c.mem_current, 10485760);
	assert_int_equal(c.mem_working_set, 10485760 - 4194304);
	assert_int_equal(c.oom_kills, 2);
	assert_int_equal(guest_stats_read_ctr(cg, "side", &c), 0);
	assert_true(c.present && !c.has_cpu && !c.has_mem && !c.has_oom);
	assert_int_equal(guest_stats_read_ctr(cg, "odd", &c), 0);
	assert_true(c.present && !c.has_cpu && !c.has_mem);
	assert_int_equal(guest_stats_read_ctr(cg, "absent", &c), 0);
	assert_false(c.present);
	/* a name becomes a path: only DNS-1123 labels */
	assert_int_equal(guest_stats_read_ctr(cg, "../cg", &c), -EINVAL);
	assert_int_equal(guest_stats_read_ctr(cg, "", &c), -EINVAL);
}

static void test_roundtrip(void **state)
{
	const char *names[] = { "app", "side", "odd", "absent" };
	struct metrics_stats *st = calloc(1, sizeof(*st));
	struct pv_err err = { 0 };
	char cg[128], mi[128], *out = NULL;
	size_t len = 0;

	(void)state;
	assert_non_null(st);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	snprintf(mi, sizeof(mi), "%s/meminfo", root);
	assert_int_equal(guest_stats_collect(cg, mi, names, 4, &out, &len, &err), 0);
	assert_int_equal(strlen(out), len);
	assert_int_equal(metrics_stats_decode(out, len, st, &err), 0);
	assert_true(st->has_memory);
	assert_int_equal(st->mem_total_bytes, 500000ULL * 1024);
	assert_int_equal(st->mem_available_bytes, 300000ULL * 1024);
	assert_int_equal(st->n_ctrs, 3);   /* "absent" has no cgroup */
	assert_string_equal(st->ctr[0].name, "app");
	assert_int_equal(st->ctr[0].s.cpu_usec, 1234567);
	assert_int_equal(st->ctr[0].s.mem_usage_bytes, 10485760);
	assert_int_equal(st->ctr[0].s.mem_working_set_bytes, 10485760 - 4194304);
	assert_int_equal(st->ctr[0].s.oom_kills, 2);
	assert_string_equal(st->ctr[1].name, "side");
	assert_int_equal(st->ctr[1].s.have, 0);
	free(out);
	out = NULL;

	/* no meminfo, no containers: still a valid payload */
	assert_int_equal(guest_stats_collect(cg, "/nonexistent", NULL, 0, &out, &len,
					     &err), 0);
	assert_string_equal(out, "{\"containers\":[]}");
	assert_int_equal(metrics_stats_decode(out, len, st, &err), 0);
	assert_false(st->has_memory);
	free(out);
	out = NULL;

	/* bad name: error, nothing returned */
	names[0] = "Bad/Name";
	assert_true(guest_stats_collect(cg, mi, names, 1, &out, &len, &err) < 0);
	assert_null(out);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv),
		cmocka_unit_test(test_read_ctr),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
