/* Kubernetes quantities (pod_parse_cpu / pod_parse_memory) and Fargate's
 * pod sizing (pod_fargate_size). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pod/pod.h"

#define KI 1024LL
#define MI (1024LL * 1024)
#define GI (1024LL * 1024 * 1024)

struct qcase {
	const char *in;
	int ret;
	int64_t want;
};

static void run_table(const struct qcase *t, size_t n, bool cpu)
{
	for (size_t i = 0; i < n; i++) {
		int64_t v = -42;
		int ret = cpu ? pod_parse_cpu(t[i].in, &v) :
				pod_parse_memory(t[i].in, &v);

		if (ret != t[i].ret || (ret == 0 && v != t[i].want))
			fail_msg("%s \"%s\": want %d/%lld, got %d/%lld",
				 cpu ? "cpu" : "memory", t[i].in, t[i].ret,
				 (long long)t[i].want, ret, (long long)v);
	}
}

static void test_cpu(void **state)
{
	static const struct qcase t[] = {
		{ "1", 0, 1000 }, { "500m", 0, 500 }, { "0.5", 0, 500 },
		{ ".5", 0, 500 }, { "5.", 0, 5000 }, { "+2", 0, 2000 },
		{ "0.1", 0, 100 }, { "100u", 0, 1 },   /* rounds up */
		{ "1n", 0, 1 }, { "0.0001", 0, 1 }, { "1500m", 0, 1500 },
		{ "2.5001", 0, 2501 }, { "1k", 0, 1000000 }, { "1e3", 0, 1000000 },
		{ "1E3", 0, 1000000 }, { "1e-3", 0, 1 }, { "12e-1", 0, 1200 },
		{ "0", 0, 0 }, { "-0", 0, 0 }, { "0m", 0, 0 }, { "000.000", 0, 0 },
		{ "1Ki", 0, 1024000 }, { "0.5Ki", 0, 512000 },
		{ "1e-100000", 0, 1 },
		{ "9223372036854775m", 0, 9223372036854775 },
		{ "9223372036854775807m", 0, INT64_MAX },
		{ "9223372036854775808m", -ERANGE, 0 },
		{ "9223372036854776", -ERANGE, 0 }, { "1E", -ERANGE, 0 },
		{ "1e100", -ERANGE, 0 }, { "1Ei", -ERANGE, 0 },
		{ "-1", -ERANGE, 0 }, { "-0.001", -ERANGE, 0 },
		{ "", -EINVAL, 0 }, { "m", -EINVAL, 0 }, { ".", -EINVAL, 0 },
		{ "1.2.3", -EINVAL, 0 }, { "1 ", -EINVAL, 0 }, { " 1", -EINVAL, 0 },
		{ "1e", -EINVAL, 0 }, { "1e+", -EINVAL, 0 }, { "1ki", -EINVAL, 0 },
		{ "1K", -EINVAL, 0 }, { "1mi", -EINVAL, 0 }, { "0x10", -EINVAL, 0 },
		{ "1m1", -EINVAL, 0 }, { "--1", -EINVAL, 0 }, { "1e1.5", -EINVAL, 0 },
		{ "12345678901234567890123456789012345678901234567890123456789012345",
		  -EINVAL, 0 },   /* longer than 64: refused */
	};

	run_table(t, sizeof(t) / sizeof(t[0]), true);
	assert_int_equal(pod_parse_cpu(NULL, &(int64_t){ 0 }), -EINVAL);
}

static void test_memory(void **state)
{
	static const struct qcase t[] = {
		{ "128Mi", 0, 128 * MI }, { "1Gi", 0, GI }, { "1G", 0, 1000000000 },
		{ "1.5Gi", 0, 3 * GI / 2 }, { "0.5Ki", 0, 512 }, { "1e3", 0, 1000 },
		{ "1k", 0, 1000 }, { "1Ki", 0, KI }, { "1M", 0, 1000000 },
		{ "1T", 0, 1000000000000 }, { "1P", 0, 1000000000000000 },
		{ "1E", 0, 1000000000000000000 }, { "7Ei", 0, 7LL << 60 },
		{ "1m", 0, 1 }, { "1500m", 0, 2 }, { "0.1", 0, 1 },
		{ "123", 0, 123 }, { "1.0000000000000000000001Ki", 0, 1025 },
		{ "0.001Ki", 0, 2 },   /* 1.024 bytes, rounded up */
		{ "8Ei", -ERANGE, 0 }, { "9.3E", -ERANGE, 0 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "9223372036854775808", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "-1Mi", -ERANGE, 0 }, { "1Gb", -EINVAL, 0 }, { "1 Gi", -EINVAL, 0 },
		{ "Gi", -EINVAL, 0 }, { "1e2Gi", -EINVAL, 0 },
	};

	run_table(t, sizeof(t) / sizeof(t[0]), false);
}

/* A pod of containers given as "req_cpu,req_mem,lim_cpu,lim_mem" in
 * millicores and MiB (-1: not set); init containers after a "|". */
struct pod_holder {
	struct pod pod;
	struct pod_container c[8], ic[8];
};

static void set_res(struct pod_resources *r, int64_t rc, int64_t rm,
		    int64_t lc, int64_t lm)
{
	memset(r, 0, sizeof(*r));
	r->has_req_cpu = rc >= 0;
	r->req_cpu_m = rc >= 0 ? rc : 0;
	r->has_req_mem = rm >= 0;
	r->req_mem = rm >= 0 ? rm * MI : 0;
	r->has_lim_cpu = lc >= 0;
	r->lim_cpu_m = lc >= 0 ? lc : 0;
	r->has_lim_mem = lm >= 0;
	r->lim_mem = lm >= 0 ? lm * MI : 0;
}

struct scase {
	int64_t ctr[4][4];   /* regular containers; all -1 row ends */
	size_t n_ctr;
	int64_t init[2][4];
	size_t n_init;
	const char *want;    /* annotation, or NULL: refused */
	int64_t cpu_m, mem_mib;
	unsigned vcpus;
};

/* Requests and limits, and the Fargate size they get. */
static const struct scase fargate_cases[] = {
	/* nothing requested: the smallest configuration */
	{ { { -1, -1, -1, -1 } }, 1, { { 0 } }, 0, "0.25vCPU 0.5GB", 250, 512, 1 },
	/* 256 MiB + 256 MiB fits exactly in 0.5 GB */
	{ { { 100, 256, -1, -1 } }, 1, { { 0 } }, 0, "0.25vCPU 0.5GB", 250, 512, 1 },
	/* one byte more than 0.5 GB: next step is 1 GB */
	{ { { 100, 257, -1, -1 } }, 1, { { 0 } }, 0, "0.25vCPU 1GB", 250, 1024, 1 },
	{ { { 250, 768, -1, -1 } }, 1, { { 0 } }, 0, "0.25vCPU 1GB", 250, 1024, 1 },
	{ { { 250, 769, -1, -1 } }, 1, { { 0 } }, 0, "0.25vCPU 2GB", 250, 2048, 1 },
	{ { { 251, -1, -1, -1 } }, 1, { { 0 } }, 0, "0.5vCPU 1GB", 500, 1024, 1 },
	/* 0.25 vCPU tops out at 2 GB: 3 GB needs 0.5 vCPU */
	{ { { 250, 2048, -1, -1 } }, 1, { { 0 } }, 0, "0.5vCPU 3GB", 500, 3072, 1 },
	{ { { 500, 3840, -1, -1 } }, 1, { { 0 } }, 0, "0.5vCPU 4GB", 500, 4096, 1 },
	{ { { 500, 3841, -1, -1 } }, 1, { { 0 } }, 0, "1vCPU 5GB", 1000, 5120, 1 },
	/* limits only: the limit counts as the request */
	{ { { -1, -1, 1000, 1024 } }, 1, { { 0 } }, 0, "1vCPU 2GB", 1000, 2048, 1 },
	/* request and limit: the request counts (Fargate sizes by requests) */
	{ { { 250, 256, 4000, 8192 } }, 1, { { 0 } }, 0, "0.25vCPU 0.5GB", 250, 512, 1 },
	/* regular containers add up */
	{ { { 500, 512, -1, -1 }, { 500, 512, -1, -1 } }, 2, { { 0 } }, 0,
	  "1vCPU 2GB", 1000, 2048, 1 },
	/* an init container dominates when larger than the sum */
	{ { { 250, 256, -1, -1 }, { 250, 256, -1, -1 } }, 2,
	  { { 2000, 1024, -1, -1 } }, 1, "2vCPU 4GB", 2000, 4096, 2 },
	/* init containers do not add up: the largest counts, per resource */
	{ { { 250, 100, -1, -1 } }, 1,
	  { { 1000, 256, -1, -1 }, { 100, 3000, -1, -1 } }, 2,
	  "1vCPU 4GB", 1000, 4096, 1 },
	{ { { 4000, 30 * 1024 - 256, -1, -1 } }, 1, { { 0 } }, 0,
	  "4vCPU 30GB", 4000, 30720, 4 },
	{ { { 4000, 30 * 1024 - 255, -1, -1 } }, 1, { { 0 } }, 0,
	  "8vCPU 32GB", 8000, 32768, 8 },
	{ { { 8000, 17 * 1024, -1, -1 } }, 1, { { 0 } }, 0,
	  "8vCPU 20GB", 8000, 20480, 8 },
	{ { { 8001, -1, -1, -1 } }, 1, { { 0 } }, 0, "16vCPU 32GB", 16000, 32768, 16 },
	{ { { 16000, 120 * 1024 - 256, -1, -1 } }, 1, { { 0 } }, 0,
	  "16vCPU 120GB", 16000, 122880, 16 },
	{ { { 1000, 60 * 1024, -1, -1 } }, 1, { { 0 } }, 0,
	  "16vCPU 64GB", 16000, 65536, 16 },
	/* beyond the largest configuration */
	{ { { 16001, -1, -1, -1 } }, 1, { { 0 } }, 0, NULL, 0, 0, 0 },
	{ { { 16000, 120 * 1024 - 255, -1, -1 } }, 1, { { 0 } }, 0, NULL, 0, 0, 0 },
	{ { { -1, -1, -1, -1 } }, 1, { { 17000, -1, -1, -1 } }, 1, NULL, 0, 0, 0 },
	/* huge values saturate instead of overflowing */
	{ { { INT64_MAX, -1, -1, -1 }, { INT64_MAX, -1, -1, -1 } }, 2,
	  { { 0 } }, 0, NULL, 0, 0, 0 },
};

static void test_fargate(void **state)
{
	const struct scase *t = fargate_cases;
	struct pod_holder h;
	struct pod_size sz;
	struct pv_err err = { 0 };

	for (size_t i = 0; i < sizeof(fargate_cases) / sizeof(t[0]); i++) {
		int ret;

		memset(&h, 0, sizeof(h));
		h.pod.containers = h.c;
		h.pod.n_containers = t[i].n_ctr;
		h.pod.init_containers = h.ic;
		h.pod.n_init_containers = t[i].n_init;
		for (size_t j = 0; j < t[i].n_ctr; j++)
			set_res(&h.c[j].resources, t[i].ctr[j][0], t[i].ctr[j][1],
				t[i].ctr[j][2], t[i].ctr[j][3]);
		for (size_t j = 0; j < t[i].n_init; j++)
			set_res(&h.ic[j].resources, t[i].init[j][0], t[i].init[j][1],
				t[i].init[j][2], t[i].init[j][3]);
		memset(&sz, 0, sizeof(sz));
		ret = pod_fargate_size(&h.pod, &sz, &err);
		if (!t[i].want) {
			if (ret != -EINVAL)
				fail_msg("case %zu: want refusal, got %s", i,
					 sz.annotation);
			assert_non_null(strstr(err.msg, "largest Fargate "
					       "configuration, 16vCPU 120GB"));
			continue;
		}
		if (ret != 0 || strcmp(sz.annotation, t[i].want) != 0)
			fail_msg("case %zu: want %s, got %d %s (%s)", i, t[i].want,
				 ret, sz.annotation, err.msg);
		assert_int_equal(sz.cpu_m, t[i].cpu_m);
		assert_int_equal(sz.mem_mib, t[i].mem_mib);
		assert_int_equal(sz.vcpus, t[i].vcpus);
	}
}

static void test_refusal_message(void **state)
{
	struct pod_container c = { 0 };
	struct pod pod = { .containers = &c, .n_containers = 1 };
	struct pod_size sz;
	struct pv_err err = { 0 };

	set_res(&c.resources, 17000, 1024, -1, -1);
	assert_int_equal(pod_fargate_size(&pod, &sz, &err), -EINVAL);
	assert_string_equal(err.msg, "spec.containers: Invalid value: \"cpu 17, "
			    "memory 1280Mi\": the pod needs more than the largest "
			    "Fargate configuration, 16vCPU 120GB (requests, else "
			    "limits; the largest init container or the sum of the "
			    "containers; 256 MiB added for the system)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_fargate),
		cmocka_unit_test(test_refusal_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
