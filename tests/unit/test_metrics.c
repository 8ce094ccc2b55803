/* The metrics registry and its exposition (daemon/metrics*.c), the STATS
 * codec (daemon/metrics_stats.c) and the collector with a fake source.
 *
 * With METRICS_DUMP=FILE the populated registry's text is written to FILE
 * (tests/integration/test_metrics_format.sh runs promtool on it). */
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

/* cli/top.c (not in cli/cli.h yet) */
int cli_top_format(const char *text, size_t len, const char *ns,
		   const char *name, bool containers, FILE *fp);

#define UID1 "11111111-2222-4333-8444-555555555555"
#define UID2 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static void fake_counts(void *opaque, uint64_t by_phase[4])
{
	(void)opaque;
	by_phase[0] = 1;
	by_phase[1] = 2;
	by_phase[2] = 3;
	by_phase[3] = 4;
}

static char *render(void)
{
	struct metrics_buf b = { 0 };

	assert_int_equal(metrics_render(&b), 0);
	assert_non_null(b.data);
	return b.data;
}

static void contains(const char *text, const char *want)
{
	if (!strstr(text, want)) {
		fprintf(stderr, "missing: %s\n", want);
		fail();
	}
}

static void lacks(const char *text, const char *what)
{
	if (strstr(text, what)) {
		fprintf(stderr, "unexpected: %s\n", what);
		fail();
	}
}

/* A registry with something in every family, hostile strings included. */
static void populate(void)
{
	struct metrics_config cfg = {
		.version = "1.2.3", .commit = "abc\"def", .backend = "tcg",
		.pod_counts = fake_counts, .interval_ms = -1,
	};
	struct metrics_pod_sample ps = {
		.have = METRICS_POD_VMM | METRICS_POD_GUEST | METRICS_POD_NET,
		.vm_cpu_ns = 1500000001ULL, .vmm_rss_bytes = 50 << 20,
		.guest_mem_used_bytes = 30 << 20, .guest_mem_total_bytes = 480 << 20,
		.net = { 1, 2, 3, 4, 5, 6 },
	};
	struct metrics_ctr_sample cs = {
		.have = METRICS_CTR_CPU | METRICS_CTR_MEM | METRICS_CTR_OOM |
			METRICS_CTR_RESTARTS,
		.cpu_usec = 2500000, .mem_usage_bytes = 4096,
		.mem_working_set_bytes = 2048, .oom_kills = 1, .restarts = 3,
	};

	assert_int_equal(metrics_init(&cfg, NULL), 0);
	metrics_pod_stage(METRICS_STAGE_IMAGE_READY, 0.03);
	metrics_pod_stage(METRICS_STAGE_IMAGE_READY, 0.07);
	metrics_pod_stage(METRICS_STAGE_IMAGE_READY, 1.5);
	metrics_pod_stage(METRICS_STAGE_IMAGE_READY, 200);
	metrics_vm_boot(true);
	metrics_vm_boot(true);
	metrics_vm_boot(false);
	metrics_set_vms(2);
	metrics_control_plane(5, 6, 7);
	metrics_api_observe("pods_list", 200, 0.002);
	metrics_api_observe("pods_list", 404, 0.0001);
	metrics_api_observe("we\"ird\\route\nx", 200, 0.5);
	metrics_api_observe(NULL, 404, 0.001);
	assert_int_equal(metrics_pod_update(UID1, "default", "web", &ps), 0);
	assert_int_equal(metrics_container_update(UID1, "app", "docker.io/library/busybox:1.36",
						  &cs), 0);
	assert_int_equal(metrics_pod_update(UID2, "team-a", "ev\"il\\pod\nname", NULL), 0);
	assert_int_equal(metrics_container_update(UID2, "side", "img\"with\\odd\n\xff\xfe",
						  &cs), 0);
}

static void test_exposition_values(void **state)
{
	char *t;

	(void)state;
	populate();
	t = render();
	contains(t, "podvm_build_info{version=\"1.2.3\",commit=\"abc\\\"def\"} 1\n");
	contains(t, "podvm_pods{phase=\"Pending\"} 1\n");
	contains(t, "podvm_pods{phase=\"Running\"} 2\n");
	contains(t, "podvm_pods{phase=\"Succeeded\"} 3\n");
	contains(t, "podvm_pods{phase=\"Failed\"} 4\n");
	contains(t, "podvm_vms{backend=\"kvm\"} 0\n");
	contains(t, "podvm_vms{backend=\"tcg\"} 2\n");
	contains(t, "podvm_vm_boots_total{result=\"success\"} 2\n");
	contains(t, "podvm_vm_boots_total{result=\"failure\"} 1\n");
	contains(t, "podvm_control_plane_events{state=\"pending\"} 5\n");
	contains(t, "podvm_control_plane_events{state=\"delivered\"} 6\n");
	contains(t, "podvm_control_plane_events{state=\"failed\"} 7\n");
	contains(t, "podvm_api_requests_total{route=\"pods_list\",code=\"200\"} 1\n");
	contains(t, "podvm_api_requests_total{route=\"pods_list\",code=\"404\"} 1\n");
	contains(t, "podvm_api_requests_total{route=\"other\",code=\"404\"} 1\n");
	contains(t, "podvm_pod_vm_cpu_seconds_total{namespace=\"default\",pod=\"web\",uid=\""
		 UID1 "\"} 1.500000001\n");
	contains(t, "podvm_pod_vmm_resident_memory_bytes{namespace=\"default\",pod=\"web\","
		 "uid=\"" UID1 "\"} 52428800\n");
	contains(t, "podvm_pod_memory_guest_used_bytes{namespace=\"default\",pod=\"web\","
		 "uid=\"" UID1 "\"} 31457280\n");
	/* pod's view: receive/transmit as given */
	contains(t, "podvm_pod_network_receive_bytes_total{namespace=\"default\",pod=\"web\","
		 "uid=\"" UID1 "\"} 1\n");
	contains(t, "podvm_pod_network_transmit_drops_total{namespace=\"default\",pod=\"web\","
		 "uid=\"" UID1 "\"} 6\n");
	contains(t, "container_cpu_usage_seconds_total{namespace=\"default\",pod=\"web\","
		 "container=\"app\",image=\"docker.io/library/busybox:1.36\"} 2.500000\n");
	contains(t, "container_memory_working_set_bytes{namespace=\"default\",pod=\"web\","
		 "container=\"app\",image=\"docker.io/library/busybox:1.36\"} 2048\n");
	contains(t, "container_memory_usage_bytes{namespace=\"default\",pod=\"web\","
		 "container=\"app\",image=\"docker.io/library/busybox:1.36\"} 4096\n");
	contains(t, "podvm_container_restarts_total{namespace=\"default\",pod=\"web\","
		 "container=\"app\"} 3\n");
	contains(t, "podvm_container_oom_kills_total{namespace=\"default\",pod=\"web\","
		 "container=\"app\"} 1\n");
	contains(t, "container_network_receive_bytes_total{namespace=\"default\",pod=\"web\","
		 "interface=\"eth0\"} 1\n");
	/* a pod without VM figures has no VM samples */
	lacks(t, "podvm_pod_vm_cpu_seconds_total{namespace=\"team-a\"");
	free(t);
	metrics_close();
}

static void test_escaping(void **state)
{
	struct metrics_buf b = { 0 };
	char *t;

	(void)state;
	metrics_escape_label(&b, "a\"b\\c\nd");
	assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
	metrics_buf_free(&b);
	metrics_escape_help(&b, "q\"x\\y\nz");
	assert_string_equal(b.data, "q\"x\\\\y\\nz");
	metrics_buf_free(&b);
	/* invalid UTF-8 becomes U+FFFD; valid multibyte passes */
	metrics_escape_label(&b, "\xff" "caf\xc3\xa9" "\xc3");
	assert_string_equal(b.data, "\xef\xbf\xbd" "caf\xc3\xa9" "\xef\xbf\xbd");
	metrics_buf_free(&b);

	populate();
	t = render();
	contains(t, "pod=\"ev\\\"il\\\\pod\\nname\"");
	contains(t, "route=\"we\\\"ird\\\\route\\nx\"");
	contains(t, "image=\"img\\\"with\\\\odd\\n\xef\xbf\xbd\xef\xbf\xbd\"");
	/* no raw newline inside any sample line: every line is a comment or
	 * NAME[{...}] VALUE */
	for (char *l = t; *l; ) {
		char *nl = strchr(l, '\n');

		assert_non_null(nl);
		if (*l != '#') {
			char *sp = memrchr(l, ' ', (size_t)(nl - l));

			assert_non_null(sp);
			assert_true(sp[1] == '+' || sp[1] == '-' || (sp[1] >= '0' && sp[1] <= '9'));
		}
		l = nl + 1;
	}
	free(t);
	metrics_close();
}

/* Every sample belongs to a family announced with HELP and TYPE before
 * it; every TYPE has a HELP. */
static void test_help_type(void **state)
{
	char *t, *l;
	char fam[128] = "", help[128] = "";
	size_t samples = 0, families = 0;

	(void)state;
	populate();
	t = render();
	for (l = t; *l; ) {
		char *nl = strchr(l, '\n');
		char name[128];
		size_t n;

		*nl = '\0';
		if (!strncmp(l, "# HELP ", 7)) {
			n = strcspn(l + 7, " ");
			snprintf(help, sizeof(help), "%.*s", (int)n, l + 7);
		} else if (!strncmp(l, "# TYPE ", 7)) {
			n = strcspn(l + 7, " ");
			snprintf(fam, sizeof(fam), "%.*s", (int)n, l + 7);
			assert_string_equal(fam, help);
			families++;
		} else {
			n = strcspn(l, "{ ");
			snprintf(name, sizeof(name), "%.*s", (int)n, l);
			if (strcmp(name, fam)) {
				size_t fl = strlen(fam);

				/* histogram series */
				assert_true(!strncmp(name, fam, fl));
				assert_true(!strcmp(name + fl, "_bucket") ||
					    !strcmp(name + fl, "_sum") ||
					    !strcmp(name + fl, "_count"));
			}
			samples++;
		}
		l = nl + 1;
	}
	assert_true(families >= 35);
	assert_true(samples > families);
	free(t);
	metrics_close();
}

static void test_histogram(void **state)
{
	char *t;

	(void)state;
	populate();
	t = render();
	/* 0.03, 0.07, 1.5, 200: cumulative buckets, +Inf, _sum, _count */
	contains(t, "podvm_pod_start_duration_seconds_bucket{stage=\"image_ready\",le=\"0.05\"} 1\n");
	contains(t, "podvm_pod_start_duration_seconds_bucket{stage=\"image_ready\",le=\"0.1\"} 2\n");
	contains(t, "podvm_pod_start_duration_seconds_bucket{stage=\"image_ready\",le=\"1\"} 2\n");
	contains(t, "podvm_pod_start_duration_seconds_bucket{stage=\"image_ready\",le=\"2\"} 3\n");
	contains(t, "podvm_pod_start_duration_seconds_bucket{stage=\"image_ready\",le=\"120\"} 3\n");
	contains(t, "podvm_pod_start_duration_seconds_bucket{stage=\"image_ready\",le=\"+Inf\"} 4\n");
	contains(t, "podvm_pod_start_duration_seconds_sum{stage=\"image_ready\"} 201.");
	contains(t, "podvm_pod_start_duration_seconds_count{stage=\"image_ready\"} 4\n");
	contains(t, "podvm_pod_start_duration_seconds_count{stage=\"total\"} 0\n");
	contains(t, "podvm_api_request_duration_seconds_bucket{route=\"pods_list\",le=\"0.0005\"} 1\n");
	contains(t, "podvm_api_request_duration_seconds_bucket{route=\"pods_list\",le=\"0.0025\"} 2\n");
	contains(t, "podvm_api_request_duration_seconds_count{route=\"pods_list\"} 2\n");
	free(t);
	metrics_close();

	/* stages from launch timestamps; missing ends are skipped */
	{
		const int64_t ts[5] = { 1000, 1100, 1600, 3600, 0 };

		metrics_pod_stages_ms(ts, 5);
		t = render();
		contains(t, "podvm_pod_start_duration_seconds_sum{stage=\"agent_ready\"} 2\n");
		contains(t, "podvm_pod_start_duration_seconds_count{stage=\"containers_started\"} 0\n");
		contains(t, "podvm_pod_start_duration_seconds_count{stage=\"total\"} 0\n");
		free(t);
		metrics_close();
	}
}

static void test_process(void **state)
{
	char *t;

	(void)state;
	t = render();
	contains(t, "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ");
	contains(t, "\nprocess_resident_memory_bytes ");
	contains(t, "\nprocess_virtual_memory_bytes ");
	contains(t, "\nprocess_start_time_seconds 1");
	contains(t, "\nprocess_open_fds ");
	contains(t, "\nprocess_max_fds ");
	free(t);
}

static void test_api_routes_bounded(void **state)
{
	char name[32], *t;

	(void)state;
	for (int i = 0; i < METRICS_ROUTES_MAX + 10; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		metrics_api_observe(name, 200 + i % 3, 0.01);
	}
	metrics_api_observe("r1", 0, 0.01);   /* no reply: code "other" */
	for (int c = 100; c < 140; c++) {
		metrics_api_observe("r0", c, 0.01);
		metrics_api_observe("r1", c, 0.01);
	}
	t = render();
	contains(t, "route=\"r63\"");
	lacks(t, "route=\"r64\"");
	contains(t, "podvm_api_requests_total{route=\"other\",code=\"200\"}");
	contains(t, "podvm_api_requests_total{route=\"r0\",code=\"other\"}");
	/* one "other" series per route, even when 0 had a slot of its own */
	{
		const char *o = "podvm_api_requests_total{route=\"r1\",code=\"other\"}";
		char *first = strstr(t, o);

		assert_non_null(first);
		assert_null(strstr(first + 1, o));
	}
	free(t);
	metrics_close();
}

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
	assert_true(metrics_guest_stats(UID1, p, strlen(p), &err) < 0);
	assert_int_equal(metrics_pod_update(UID1, "default", "web", NULL), 0);
	assert_int_equal(metrics_container_update(UID1, "app", "busybox", NULL), 0);
	assert_int_equal(metrics_guest_stats(UID1, p, strlen(p), &err), 0);
	usleep(100 * 1000);
	p = "{\"containers\":[{\"name\":\"app\",\"cpuUsageUsec\":1050000}]}";
	assert_int_equal(metrics_guest_stats(UID1, p, strlen(p), &err), 0);
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
	metrics_pod_remove(UID1);
	t = render();
	lacks(t, UID1);
	lacks(t, "pod=\"web\"");
	free(t);
	metrics_close();
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
	assert_int_equal(metrics_init(&cfg, NULL), 0);
	metrics_collect_once();
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
	metrics_collect_once();
	t = render();
	lacks(t, "pod=\"db\"");
	contains(t, "podvm_vms{backend=\"kvm\"} 1\n");
	free(t);
	metrics_close();
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
	assert_int_equal(metrics_pod_update(UID1, "default", "web", NULL), 0);
	assert_int_equal(metrics_container_update(UID1, "app", "busybox", &cs), 0);
	assert_int_equal(metrics_container_update(UID1, "log", "busybox", &cs), 0);
	/* VM-level only (no guest STATS): the pod row uses the VM figures */
	assert_int_equal(metrics_pod_update(UID2, "kube-system", "dns", &ps), 0);
	usleep(200 * 1000);
	cs.cpu_usec += 2400;       /* ~12m over 200 ms */
	assert_int_equal(metrics_container_update(UID1, "app", NULL, &cs), 0);
	assert_int_equal(metrics_container_update(UID1, "log", NULL, &cs), 0);
	ps.vm_cpu_ns = 100000000;  /* 0.1 s over ~200 ms: ~500m */
	assert_int_equal(metrics_pod_update(UID2, "kube-system", "dns", &ps), 0);
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
	metrics_close();
}

/* Not a test: the populated text for promtool, when asked. */
static void test_dump(void **state)
{
	const char *path = getenv("METRICS_DUMP");
	struct metrics_pod_sample ps = { .have = METRICS_POD_VMM };
	FILE *f;
	char *t;

	(void)state;
	if (!path)
		skip();
	populate();
	/* a rate needs two samples */
	assert_int_equal(metrics_pod_update(UID1, "default", "web", &ps), 0);
	usleep(20 * 1000);
	ps.vm_cpu_ns = 10000000;
	assert_int_equal(metrics_pod_update(UID1, "default", "web", &ps), 0);
	t = render();
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(t, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(t);
	metrics_close();
}

/* A failed assertion skips a test's own metrics_close(): reset anyway. */
static int reset(void **state)
{
	(void)state;
	metrics_close();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_exposition_values, reset),
		cmocka_unit_test_teardown(test_escaping, reset),
		cmocka_unit_test_teardown(test_help_type, reset),
		cmocka_unit_test_teardown(test_histogram, reset),
		cmocka_unit_test_teardown(test_process, reset),
		cmocka_unit_test_teardown(test_api_routes_bounded, reset),
		cmocka_unit_test_teardown(test_stats_decode_ok, reset),
		cmocka_unit_test_teardown(test_stats_decode_bad, reset),
		cmocka_unit_test_teardown(test_guest_stats_apply, reset),
		cmocka_unit_test_teardown(test_netdev, reset),
		cmocka_unit_test_teardown(test_collector, reset),
		cmocka_unit_test_teardown(test_top, reset),
		cmocka_unit_test_teardown(test_dump, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
