/* A stand-in podvmd for metrics benchmarks and format tests: the real API
 * server (api_start, unix socket + loopback TCP) with the real /metrics
 * scrape listener, and N fake pod records put into the real registry
 * (each with one container and every figure set), no VMs.
 *
 *   bench_metrics serve N SOCKET   serve until stdin closes; prints
 *                                  "metrics=PORT" once ready
 *   bench_metrics render N ITERS   time metrics_render and the snapshot
 *                                  (the part under the registry lock)
 *
 * Built by tests/bench/bench_metrics.sh and
 * tests/integration/test_metrics_format.sh. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/metrics.h"
#include "host/log.h"
#include "daemon/metrics.h"
#include "daemon/metrics_priv.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void counts(void *opaque, uint64_t by_phase[4])
{
	size_t n = *(size_t *)opaque;

	by_phase[1] = n;
}

static struct metrics *reg;   /* the registry measured */

static int populate(size_t n)
{
	static size_t total;
	struct metrics_config cfg = {
		.version = "bench", .backend = "tcg", .interval_ms = -1,
		.pod_counts = counts, .pod_counts_opaque = &total,
	};
	struct metrics_pod_sample ps = {
		.have = METRICS_POD_VMM | METRICS_POD_GUEST | METRICS_POD_NET,
		.vmm_rss_bytes = 60 << 20, .guest_mem_used_bytes = 40 << 20,
		.guest_mem_total_bytes = 480 << 20,
		.net = { 1000, 10, 0, 2000, 20, 0 },
	};
	struct metrics_ctr_sample cs = {
		.have = METRICS_CTR_CPU | METRICS_CTR_MEM | METRICS_CTR_OOM |
			METRICS_CTR_RESTARTS,
		.mem_usage_bytes = 8 << 20, .mem_working_set_bytes = 6 << 20,
	};
	struct pv_err err = { 0 };

	total = n;
	if (metrics_new(&reg, &err) < 0 || metrics_start(reg, &cfg, &err) < 0) {
		fprintf(stderr, "metrics_start: %s\n", err.msg);
		return -1;
	}
	for (int round = 0; round < 2; round++) {   /* two samples: rates */
		for (size_t i = 0; i < n; i++) {
			char uid[UUID_STR_LEN], name[64];

			snprintf(uid, sizeof(uid), "%08x-0000-4000-8000-%012x", (unsigned)i, (unsigned)i);
			snprintf(name, sizeof(name), "bench-pod-%zu", i);
			ps.vm_cpu_ns = (uint64_t)(round + 1) * 1000000000ULL + i;
			cs.cpu_usec = (uint64_t)(round + 1) * 500000 + i;
			if (metrics_pod_update(reg, uid, "default", name, &ps) < 0 ||
			    metrics_container_update(reg, uid, "app",
						     "docker.io/library/busybox:1.36",
						     &cs) < 0)
				return -1;
		}
		if (!round)
			usleep(10 * 1000);
	}
	/* one record with hostile label values, for the format test */
	ps.have = METRICS_POD_VMM;
	if (metrics_pod_update(reg, "ffffffff-0000-4000-8000-000000000000", "default",
			       "q\"uote\\back\nnl", &ps) < 0 ||
	    metrics_container_update(reg, "ffffffff-0000-4000-8000-000000000000", "app",
				     "img\"x\\y\nz\xff", &cs) < 0)
		return -1;
	metrics_api_observe(reg, "r\"o\\u\nte", 200, 0.001);
	for (int i = 0; i < 20; i++) {
		metrics_pod_stage(reg, METRICS_STAGE_TOTAL, 2.0 + i * 0.1);
		metrics_vm_boot(reg, true);
	}
	return 0;
}

static int cmd_render(size_t n, int iters)
{
	double t0, snap_total = 0, render_total = 0, snap_max = 0;
	size_t bytes = 0;

	if (populate(n) < 0)
		return 1;
	for (int i = 0; i < iters; i++) {
		struct metrics_buf b = { 0 };
		struct metrics_snap s;
		double d;

		t0 = now_s();
		if (metrics_snapshot(reg, &s) < 0)
			return 1;
		d = now_s() - t0;
		snap_total += d;
		if (d > snap_max)
			snap_max = d;
		metrics_snap_free(&s);
		t0 = now_s();
		if (metrics_render(reg, &b) < 0)
			return 1;
		render_total += now_s() - t0;
		bytes = b.len;
		metrics_buf_free(&b);
	}
	printf("pods=%zu bytes=%zu render_ms=%.3f snapshot_ms=%.3f "
	       "snapshot_max_ms=%.3f\n", n, bytes, render_total * 1e3 / iters,
	       snap_total * 1e3 / iters, snap_max * 1e3);
	metrics_free(reg);
	return 0;
}

static int cmd_serve(size_t n, const char *sock)
{
	struct api_config ac = { .socket_path = sock };
	struct api_server *api = NULL;
	struct api_metrics_listener *ml = NULL;
	struct pv_err err = { 0 };
	char buf[64];
	int rc = 1;

	signal(SIGPIPE, SIG_IGN);
	log_set_level(LOG_WARN);   /* no line per request */
	if (populate(n) < 0)
		goto out;
	/* No pod service: only /healthz and the scrape listener are used. */
	ac.metrics = reg;
	if (api_start(&ac, NULL, &api, &err) < 0 ||
	    api_metrics_listener_start("127.0.0.1:0", reg, &ml, &err) < 0) {
		fprintf(stderr, "bench_metrics: %s\n", err.msg);
		goto out;
	}
	printf("metrics=%d\n", api_metrics_listener_port(ml));
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	rc = 0;
out:
	api_metrics_listener_stop(ml);
	api_stop(api);
	metrics_free(reg);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return cmd_serve(strtoul(argv[2], NULL, 10), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "render"))
		return cmd_render(strtoul(argv[2], NULL, 10), atoi(argv[3]));
	fprintf(stderr, "usage: bench_metrics serve N SOCKET | render N ITERS\n");
	return 2;
}
