/* The metrics registry and its exposition (daemon/metrics*.c). The STATS
 * codec and the collector are in test_metrics_collect.c.
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
#include "tests/unit/test_metrics_util.h"

static void fake_counts(void *opaque, uint64_t by_phase[4])
{
	(void)opaque;
	by_phase[0] = 1;
	by_phase[1] = 2;
	by_phase[2] = 3;
	by_phase[3] = 4;
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

	assert_int_equal(metrics_start(tm(), &cfg, NULL), 0);
	metrics_pod_stage(tm(), METRICS_STAGE_IMAGE_READY, 0.03);
	metrics_pod_stage(tm(), METRICS_STAGE_IMAGE_READY, 0.07);
	metrics_pod_stage(tm(), METRICS_STAGE_IMAGE_READY, 1.5);
	metrics_pod_stage(tm(), METRICS_STAGE_IMAGE_READY, 200);
	metrics_vm_boot(tm(), true);
	metrics_vm_boot(tm(), true);
	metrics_vm_boot(tm(), false);
	metrics_set_vms(tm(), 2);
	metrics_control_plane(tm(), 5, 6, 7);
	metrics_api_observe(tm(), "pods_list", 200, 0.002);
	metrics_api_observe(tm(), "pods_list", 404, 0.0001);
	metrics_api_observe(tm(), "we\"ird\\route\nx", 200, 0.5);
	metrics_api_observe(tm(), NULL, 404, 0.001);
	assert_int_equal(metrics_pod_update(tm(), UID1, "default", "web", &ps), 0);
	assert_int_equal(metrics_container_update(tm(), UID1, "app", "docker.io/library/busybox:1.36",
						  &cs), 0);
	assert_int_equal(metrics_pod_update(tm(), UID2, "team-a", "ev\"il\\pod\nname", NULL), 0);
	assert_int_equal(metrics_container_update(tm(), UID2, "side", "img\"with\\odd\n\xff\xfe",
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
	tm_close();
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
	tm_close();
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
	tm_close();
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
	tm_close();

	/* stages from launch timestamps; missing ends are skipped */
	{
		const int64_t ts[5] = { 1000, 1100, 1600, 3600, 0 };

		metrics_pod_stages_ms(tm(), ts, 5);
		t = render();
		contains(t, "podvm_pod_start_duration_seconds_sum{stage=\"agent_ready\"} 2\n");
		contains(t, "podvm_pod_start_duration_seconds_count{stage=\"containers_started\"} 0\n");
		contains(t, "podvm_pod_start_duration_seconds_count{stage=\"total\"} 0\n");
		free(t);
		tm_close();
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
		metrics_api_observe(tm(), name, 200 + i % 3, 0.01);
	}
	metrics_api_observe(tm(), "r1", 0, 0.01);   /* no reply: code "other" */
	for (int c = 100; c < 140; c++) {
		metrics_api_observe(tm(), "r0", c, 0.01);
		metrics_api_observe(tm(), "r1", c, 0.01);
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
	tm_close();
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
	assert_int_equal(metrics_pod_update(tm(), UID1, "default", "web", &ps), 0);
	usleep(20 * 1000);
	ps.vm_cpu_ns = 10000000;
	assert_int_equal(metrics_pod_update(tm(), UID1, "default", "web", &ps), 0);
	t = render();
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(t, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(t);
	tm_close();
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
		cmocka_unit_test_teardown(test_dump, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
