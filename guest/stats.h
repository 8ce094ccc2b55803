/* Guest side of the agent's STATS message: per-container figures from the
 * container cgroups (cgroup v2) and VM-wide memory from /proc/meminfo,
 * encoded as the JSON payload documented in docs/metrics.md (the host
 * decodes it in daemon/metrics_stats.c). Pure: reads files, no protocol
 * I/O -- guest/agent.c answers STATS_REQUEST with it. */
#ifndef PODVM_GUEST_STATS_H
#define PODVM_GUEST_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define GUEST_STATS_CGROUP_ROOT "/sys/fs/cgroup/podvm"
#define GUEST_STATS_MEMINFO     "/proc/meminfo"
#define GUEST_STATS_MAX_CTRS    32      /* init + app containers */

struct guest_stats_ctr {
	bool present;                       /* the cgroup directory exists */
	bool has_cpu, has_mem, has_oom;
	uint64_t cpu_usec;                  /* cpu.stat usage_usec */
	uint64_t mem_current;               /* memory.current */
	uint64_t mem_working_set;           /* current - memory.stat inactive_file */
	uint64_t oom_kills;                 /* memory.events oom_kill */
};

/* Figures of container NAME from ROOT/NAME/. 0, or -EINVAL for a name
 * that is not a DNS-1123 label (it becomes a path). A missing cgroup is
 * not an error: out->present is false. */
int guest_stats_read_ctr(const char *root, const char *name,
			 struct guest_stats_ctr *out);

/* "key value" lines (cpu.stat, memory.stat, memory.events): 0 with *val,
 * or -ENOENT. */
int guest_stats_kv(const char *text, const char *key, uint64_t *val);
/* /proc/meminfo text: MemTotal and MemAvailable in bytes. */
int guest_stats_meminfo(const char *text, uint64_t *total, uint64_t *avail);

/* Build the STATS payload for containers names[0..n) (malloc'd JSON text,
 * NUL-terminated). root / meminfo NULL: the defaults above. Containers
 * whose cgroup does not exist are left out; a figure that cannot be read
 * is left out of its container. */
int guest_stats_collect(const char *root, const char *meminfo,
			const char *const *names, size_t n, char **out,
			size_t *len, struct pv_err *err);

#endif
