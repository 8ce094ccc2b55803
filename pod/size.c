/* Fargate's pod sizing (docs.aws.amazon.com/eks/latest/userguide/
 * fargate-pod-configuration.html):
 *
 *  - a container's need is its request, else its limit (Kubernetes
 *    defaults a missing request to the limit; Fargate sizes by requests
 *    and ignores limits otherwise, so we do not take max(request, limit));
 *  - the pod needs the larger of the biggest init container and the sum
 *    of the regular containers, cpu and memory separately;
 *  - plus 256 MiB of memory for the node's own components;
 *  - rounded up to the first configuration of the table below (ordered by
 *    vCPU, then memory) that covers both. GB = 1024 MiB. */
#include "pod/pod.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "pod/pod_priv.h"

#define SIZE_SYSTEM_MIB 256
#define SIZE_MIB        (1024LL * 1024)

struct size_row {
	int64_t cpu_m;
	int64_t mem_min_mib, mem_max_mib, step_mib;
};

static const struct size_row size_table[] = {
	{ 250, 512, 512, 512 },       /* 0.25 vCPU: 0.5, 1, 2 GB */
	{ 250, 1024, 2048, 1024 },
	{ 500, 1024, 4096, 1024 },
	{ 1000, 2048, 8192, 1024 },
	{ 2000, 4096, 16384, 1024 },
	{ 4000, 8192, 30720, 1024 },
	{ 8000, 16384, 61440, 4096 },
	{ 16000, 32768, 122880, 8192 },
};

static int64_t size_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static void size_need(const struct pod_resources *r, int64_t *cpu,
		      int64_t *mem)
{
	*cpu = r->has_req_cpu ? r->req_cpu_m : r->has_lim_cpu ? r->lim_cpu_m : 0;
	*mem = r->has_req_mem ? r->req_mem : r->has_lim_mem ? r->lim_mem : 0;
}

/* "0.25", "0.5" or a whole number of units (1000 millicores / 1024 MiB). */
static void size_units(char *buf, size_t n, int64_t v, int64_t unit)
{
	if (v % unit == 0)
		snprintf(buf, n, "%" PRId64, v / unit);
	else if (v * 4 == unit)
		snprintf(buf, n, "0.25");
	else
		snprintf(buf, n, "0.5");
}

int pod_fargate_size(const struct pod *pod, struct pod_size *out,
		     struct pv_err *err)
{
	int64_t cpu = 0, mem = 0, icpu = 0, imem = 0, c, m, mib;
	char cs[32], ms[32], cpu_s[24], mem_s[24], ann[64];

	for (size_t i = 0; i < pod->n_containers; i++) {
		size_need(&pod->containers[i].resources, &c, &m);
		cpu = size_add(cpu, c);
		mem = size_add(mem, m);
	}
	for (size_t i = 0; i < pod->n_init_containers; i++) {
		size_need(&pod->init_containers[i].resources, &c, &m);
		icpu = c > icpu ? c : icpu;
		imem = m > imem ? m : imem;
	}
	cpu = icpu > cpu ? icpu : cpu;
	mem = imem > mem ? imem : mem;
	mem = size_add(mem, SIZE_SYSTEM_MIB * SIZE_MIB);
	mib = mem / SIZE_MIB + (mem % SIZE_MIB != 0);
	for (size_t i = 0; i < sizeof(size_table) / sizeof(size_table[0]); i++) {
		const struct size_row *r = &size_table[i];
		int64_t pick;

		if (r->cpu_m < cpu || r->mem_max_mib < mib)
			continue;
		pick = r->mem_min_mib;
		while (pick < mib)
			pick += r->step_mib;
		out->cpu_m = r->cpu_m;
		out->mem_mib = pick;
		out->vcpus = (unsigned)((r->cpu_m + 999) / 1000);
		size_units(cpu_s, sizeof(cpu_s), r->cpu_m, 1000);
		size_units(mem_s, sizeof(mem_s), pick, 1024);
		/* table values: at most "16vCPU 120GB" */
		snprintf(ann, sizeof(ann), "%svCPU %sGB", cpu_s, mem_s);
		pod_copy(out->annotation, sizeof(out->annotation), ann);
		return 0;
	}
	pod_format_cpu(cs, sizeof(cs), cpu);
	pod_format_memory(ms, sizeof(ms), mem);
	return pv_err_set(err, EINVAL, "spec.containers: Invalid value: "
			  "\"cpu %s, memory %s\": the pod needs more than the "
			  "largest Fargate configuration, 16vCPU 120GB (requests, "
			  "else limits; the largest init container or the sum of "
			  "the containers; 256 MiB added for the system)", cs, ms);
}
