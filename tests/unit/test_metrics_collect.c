/* The STATS codec (daemon/metrics_stats.c), guest figures in the
 * registry, /proc/net/dev, the collector with a fake source, and podvm
 * top's formatting of the exposition. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/metrics.h"
#include "daemon/metrics_stats.h"
#include "tests/unit/test_metrics_util.h"

/* cli/top.c (not in cli/cli.h yet) */
int cli_top_format(const char *text, size_t len, const char *ns,
		   const char *name, bool containers, FILE *fp);

/* ---- STATS codec ---- */

static int decode(const char *s, struct metrics_stats *st)
{
	struct pv_err err = { 0 };

	return metrics_stats_decode(s, strlen(s), st, &err);
}

static void test_stats_decode_ok(void **state)
{
	struct metrics_stats *st = calloc(1, sizeof(*st));
	const char *ok =
		"{\"memory\":{\"totalBytes\":1000,\"availableBytes\":400},"
		"\"containers\":[{\"name\":\"app\",\"cpuUsageUsec\":5,"
		"\"memoryUsageBytes\":10,\"memoryWorkingSetBytes\":7,\"oomKills\":0},"
		"{\"name\":\"b\"}]}\n";

	(void)state;
	assert_non_null(st);
	assert_int_equal(decode(ok, st), 0);
	assert_true(st->has_memory);
	assert_int_equal(st->mem_total_bytes, 1000);
	assert_int_equal(st->mem_available_bytes, 400);
	assert_int_equal(st->n_ctrs, 2);
	assert_string_equal(st->ctr[0].name, "app");
	assert_int_equal(st->ctr[0].s.have, METRICS_CTR_CPU | METRICS_CTR_MEM |
			 METRICS_CTR_OOM);
	assert_int_equal(st->ctr[0].s.mem_working_set_bytes, 7);
	assert_int_equal(st->ctr[1].s.have, 0);
	assert_int_equal(decode("{}", st), 0);
	assert_int_equal(decode("{\"containers\":[]}", st), 0);
	free(st);
}

static void test_stats_decode_bad(void **state)
{
	static const char *const bad[] = {
		"", "garbage", "[]", "null", "{", "{}x", "{} {}",
		"{\"memory\":1}",
		"{\"memory\":{\"totalBytes\":1}}",
		"{\"memory\":{\"totalBytes\":\"1\",\"availableBytes\":1}}",
		"{\"memory\":{\"totalBytes\":1.5,\"availableBytes\":1}}",
		"{\"memory\":{\"totalBytes\":-1,\"availableBytes\":1}}",
		"{\"memory\":{\"totalBytes\":null,\"availableBytes\":1}}",
		"{\"memory\":{\"totalBytes\":99999999999999999999,\"availableBytes\":1}}",
		"{\"memory\":{\"totalBytes\":1,\"availableBytes\":1,\"x\":1}}",
		"{\"unknown\":1}",
		"{\"containers\":{}}",
		"{\"containers\":[1]}",
		"{\"containers\":[{}]}",
		"{\"containers\":[{\"name\":1}]}",
		"{\"containers\":[{\"name\":\"Bad_Name\"}]}",
		"{\"containers\":[{\"name\":\"../etc\"}]}",
		"{\"containers\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
		"{\"containers\":[{\"name\":\"a\",\"cpuUsageUsec\":true}]}",
		"{\"containers\":[{\"name\":\"a\",\"memoryUsageBytes\":1}]}",
		"{\"containers\":[{\"name\":\"a\",\"extra\":1}]}",
		"{\"containers\":[[[[[[[[[]]]]]]]]]}",
		"{'memory':1}",
	};
	struct metrics_stats *st = calloc(1, sizeof(*st));
	struct pv_err err = { 0 };
	char *big;
	size_t n;

	(void)state;
	assert_non_null(st);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = decode(bad[i], st);

		if (ret >= 0)
			fprintf(stderr, "accepted: %s\n", bad[i]);
		assert_true(ret < 0);
		assert_int_equal(st->n_ctrs, 0);
	}
	/* NUL inside the payload */
	assert_true(metrics_stats_decode("{}\0{}", 5, st, &err) < 0);
	/* overlong */
	n = METRICS_STATS_MAX + 10;
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	assert_int_equal(metrics_stats_decode(big, n, st, &err), -EMSGSIZE);
	/* too many containers */
	{
		struct metrics_buf b = { 0 };

		metrics_buf_puts(&b, "{\"containers\":[");
		for (int i = 0; i <= METRICS_CTRS_MAX; i++)
			metrics_buf_printf(&b, "%s{\"name\":\"c%d\"}", i ? "," : "", i);
		metrics_buf_puts(&b, "]}");
		assert_true(metrics_stats_decode(b.data, b.len, st, &err) < 0);
		metrics_buf_free(&b);
	}
	free(big);
	free(st);
}

static void test_guest_stats_apply(void **state)
{
	struct pv_err err = { 0 };
	const char *p = "{\"memory\":{\"totalBytes\":1000,\"availableBytes\":400},"
			"\"containers\":[{\"name\":\"app\",\"cpuUsageUsec\":1000000,"
			"\"memoryUsageBytes\":10,\"memoryWorkingSetBytes\":7,"
			"\"oomKills\":2}]}";
	char *t;

	(void)state;
	/* unknown pod: refused, nothing created */
	assert_true(metrics_guest_stats(tm(), UID1, p, strlen(p), &err) < 0);
	assert_int_equal(metrics_pod_update(tm(), UID1, "default", "web", NULL), 0);
	assert_int_equal(metrics_container_update(tm(), UID1, "app", "busybox", NULL), 0);
	assert_int_equal(metrics_guest_stats(tm(), UID1, p, strlen(p), &err), 0);
	usleep(100 * 1000);
	p = "{\"containers\":[{\"name\":\"app\",\"cpuUsageUsec\":1050000}]}";
	assert_int_equal(metrics_guest_stats(tm(), UID1, p, strlen(p), &err), 0);
	t = render();
	contains(t, "podvm_pod_memory_guest_used_bytes{namespace=\"default\",pod=\"web\",uid=\""
		 UID1 "\"} 600\n");
	contains(t, "container_cpu_usage_seconds_total{namespace=\"default\",pod=\"web\","
		 "container=\"app\",image=\"busybox\"} 1.050000\n");
	contains(t, "podvm_container_oom_kills_total{namespace=\"default\",pod=\"web\","
		 "container=\"app\"} 2\n");
	/* 50 ms of CPU in ~100 ms: about half a core */
	contains(t, "podvm_container_cpu_usage_cores{namespace=\"default\",pod=\"web\","
		 "container=\"app\"} 0.");
	free(t);
	metrics_pod_remove(tm(), UID1);
	t = render();
	lacks(t, UID1);
	lacks(t, "pod=\"web\"");
	free(t);
	tm_close();
}

static void test_netdev(void **state)
{
	const char *text =
		"Inter-|   Receive                                                |  Transmit\n"
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
		"    lo:  100  2    0    0    0     0          0         0      100  2    0    0    0     0       0          0\n"
		"tap-abc:1000 10 0 1 0 0 0 0 2000 20 0 2 0 0 0 0\n"
		"  tap-abcd: 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n";
	struct metrics_net n = { 0 };

	(void)state;
	assert_int_equal(metrics_netdev_parse(text, "tap-abc", &n), 0);
	/* the tap's transmit is what the pod received */
	assert_int_equal(n.rx_bytes, 2000);
	assert_int_equal(n.rx_packets, 20);
	assert_int_equal(n.rx_drops, 2);
	assert_int_equal(n.tx_bytes, 1000);
	assert_int_equal(n.tx_packets, 10);
	assert_int_equal(n.tx_drops, 1);
	assert_int_equal(metrics_netdev_parse(text, "tap-abcd", &n), 0);
	assert_int_equal(n.rx_bytes, 13);
	assert_int_equal(metrics_netdev_parse(text, "tap-x", &n), -ENOENT);
	assert_int_equal(metrics_netdev_parse("tap-x: 1 2\n", "tap-x", &n), -EPROTO);
}

/* ---- collector with a fake supervisor ---- */

static size_t fake_n = 2, fake_requests;

static int fake_list(void *opaque, struct metrics_target **out, size_t *n)
{
	struct metrics_target *t = calloc(2, sizeof(*t));

	(void)opaque;
	if (!t)
		return -ENOMEM;
	snprintf(t[0].uid, sizeof(t[0].uid), UID1);
	snprintf(t[0].ns, sizeof(t[0].ns), "default");
	snprintf(t[0].name, sizeof(t[0].name), "web");
	t[0].has_vm = true;
	snprintf(t[0].tap, sizeof(t[0].tap), "lo");   /* our netns */
	snprintf(t[1].uid, sizeof(t[1].uid), UID2);
	snprintf(t[1].ns, sizeof(t[1].ns), "default");
	snprintf(t[1].name, sizeof(t[1].name), "db");
	t[1].has_vm = true;
	snprintf(t[1].tap, sizeof(t[1].tap), "nosuchtap0");
	*out = t;
	*n = fake_n;
	return 0;
}

static int fake_vmm(void *opaque, const char *uid, uint64_t *cpu, uint64_t *rss)
{
	(void)opaque;
	*cpu = !strcmp(uid, UID1) ? 3000000000ULL : 1;
	*rss = 77;
	return 0;
}

static void fake_request(void *opaque, const char *uid)
{
	(void)opaque;
	(void)uid;
	fake_requests++;
}

static const struct metrics_source_ops fake_ops = {
	.list = fake_list, .vmm_stats = fake_vmm, .request_guest = fake_request,
};

static void test_collector(void **state)
{
	struct metrics_config cfg = {
		.backend = "kvm", .interval_ms = -1, .source = &fake_ops,
	};
	char *t;

	(void)state;
	assert_int_equal(metrics_start(tm(), &cfg, NULL), 0);
	metrics_collect_once(tm());
	assert_int_equal(fake_requests, 2);
	t = render();
	contains(t, "podvm_vms{backend=\"kvm\"} 2\n");
	contains(t, "podvm_pod_vm_cpu_seconds_total{namespace=\"default\",pod=\"web\",uid=\""
		 UID1 "\"} 3.000000000\n");
	contains(t, "podvm_pod_vmm_resident_memory_bytes{namespace=\"default\",pod=\"db\"");
	/* lo exists in our netns; the other tap does not: skipped */
	contains(t, "podvm_pod_network_receive_bytes_total{namespace=\"default\",pod=\"web\"");
	lacks(t, "podvm_pod_network_receive_bytes_total{namespace=\"default\",pod=\"db\"");
	free(t);
	/* db is gone from the supervisor's list: dropped */
	fake_n = 1;
	metrics_collect_once(tm());
	t = render();
	lacks(t, "pod=\"db\"");
	contains(t, "podvm_vms{backend=\"kvm\"} 1\n");
	free(t);
	tm_close();
}

/* podvm top: the exposition parsed back into kubectl's table. */
static void test_top(void **state)
{
	struct metrics_ctr_sample cs = {
		.have = METRICS_CTR_CPU | METRICS_CTR_MEM,
		.cpu_usec = 1000000, .mem_usage_bytes = 64 << 20,
		.mem_working_set_bytes = 34 << 20,
	};
	struct metrics_pod_sample ps = { .have = METRICS_POD_VMM | METRICS_POD_GUEST,
					 .guest_mem_used_bytes = 100 << 20 };
	char *t, *out = NULL;
	size_t len = 0;
	FILE *fp;

	(void)state;
	assert_int_equal(metrics_pod_update(tm(), UID1, "default", "web", NULL), 0);
	assert_int_equal(metrics_container_update(tm(), UID1, "app", "busybox", &cs), 0);
	assert_int_equal(metrics_container_update(tm(), UID1, "log", "busybox", &cs), 0);
	/* VM-level only (no guest STATS): the pod row uses the VM figures */
	assert_int_equal(metrics_pod_update(tm(), UID2, "kube-system", "dns", &ps), 0);
	usleep(200 * 1000);
	cs.cpu_usec += 2400;       /* ~12m over 200 ms */
	assert_int_equal(metrics_container_update(tm(), UID1, "app", NULL, &cs), 0);
	assert_int_equal(metrics_container_update(tm(), UID1, "log", NULL, &cs), 0);
	ps.vm_cpu_ns = 100000000;  /* 0.1 s over ~200 ms: ~500m */
	assert_int_equal(metrics_pod_update(tm(), UID2, "kube-system", "dns", &ps), 0);
	t = render();

	fp = open_memstream(&out, &len);
	assert_non_null(fp);
	assert_int_equal(cli_top_format(t, strlen(t), "default", NULL, false, fp), 1);
	fclose(fp);
	assert_true(!strncmp(out, "NAME   CPU(cores)   MEMORY(bytes)\nweb    ", 40));
	assert_non_null(strstr(out, "68Mi\n"));
	free(out);

	fp = open_memstream(&out, &len);
	assert_int_equal(cli_top_format(t, strlen(t), NULL, NULL, false, fp), 2);
	fclose(fp);
	assert_true(!strncmp(out, "NAMESPACE     NAME   CPU(cores)   MEMORY(bytes)\n"
			     "default       web", 63));
	assert_non_null(strstr(out, "kube-system   dns"));
	assert_non_null(strstr(out, "100Mi\n"));
	free(out);

	fp = open_memstream(&out, &len);
	assert_int_equal(cli_top_format(t, strlen(t), "default", "web", true, fp), 2);
	fclose(fp);
	assert_true(!strncmp(out, "POD   NAME   CPU(cores)   MEMORY(bytes)\nweb   app    ", 51));
	assert_non_null(strstr(out, "web   log    "));
	assert_non_null(strstr(out, "34Mi\n"));
	free(out);

	fp = open_memstream(&out, &len);
	assert_int_equal(cli_top_format(t, strlen(t), "nope", NULL, false, fp), 0);
	fclose(fp);
	free(out);
	/* malformed */
	fp = open_memstream(&out, &len);
	assert_int_equal(cli_top_format("podvm_pod_cpu_usage_cores{pod=\"x 1\n", 36,
					NULL, NULL, false, fp), -EPROTO);
	fclose(fp);
	free(out);
	free(t);
	tm_close();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_stats_decode_ok, reset),
		cmocka_unit_test_teardown(test_stats_decode_bad, reset),
		cmocka_unit_test_teardown(test_guest_stats_apply, reset),
		cmocka_unit_test_teardown(test_netdev, reset),
		cmocka_unit_test_teardown(test_collector, reset),
		cmocka_unit_test_teardown(test_top, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
