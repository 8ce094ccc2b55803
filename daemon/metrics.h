/* podvmd's metrics registry (daemon/metrics*.c), rendered as Prometheus
 * text exposition 0.0.4 by metrics_render() for GET /metrics
 * (api/metrics.c). Families and labels: docs/metrics.md.
 *
 * The registry is a handle (struct metrics): podvmd makes one and passes
 * it to the supervisor and the API. Every function is thread-safe and
 * takes a NULL registry too (figures are then dropped), so hooks in the
 * supervisor and the API need no "is metrics on" checks.
 *
 * Cost: nothing here waits on a guest or a VM. Per-pod figures come from
 * the background collector (every METRICS_DEFAULT_INTERVAL_MS) and from
 * hooks; a scrape copies the pod table under a short lock and formats
 * outside it, O(pods). */
#ifndef PODVM_DAEMON_METRICS_H
#define PODVM_DAEMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/pod.h"
#include "util/err.h"
#include "util/util.h"

#define METRICS_NS_MAX      POD_LABEL_NAME_MAX   /* namespace */
#define METRICS_POD_MAX     POD_NAME_MAX         /* pod name */
#define METRICS_CTR_MAX     POD_LABEL_NAME_MAX   /* container name */
#define METRICS_IMAGE_MAX   POD_IMAGE_REF_MAX
#define METRICS_CTRS_MAX    (2 * POD_MAX_CONTAINERS)  /* init + app */
#define METRICS_IFNAME_MAX  16                   /* IFNAMSIZ */
#define METRICS_PATH_MAX    256
#define METRICS_ROUTES_MAX  64     /* API routes kept; more fold into "other" */
#define METRICS_CODES_MAX   16     /* HTTP codes per route; more -> code "other" */
#define METRICS_ROUTE_MAX   63     /* route name bytes */
#define METRICS_DEFAULT_INTERVAL_MS 5000

struct metrics;   /* the registry */

/* A growable text buffer; appends after a failed allocation are no-ops
 * and leave oom set, so callers check once at the end. */
struct metrics_buf {
	char *data;      /* NUL-terminated when len > 0 */
	size_t len, cap;
	bool oom;
};
void metrics_buf_append(struct metrics_buf *b, const char *s, size_t n);
void metrics_buf_puts(struct metrics_buf *b, const char *s);
void metrics_buf_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void metrics_buf_u64(struct metrics_buf *b, uint64_t v);
void metrics_buf_free(struct metrics_buf *b);

/* Pod start stages: each is the duration of that step alone (total: from
 * the pod's start to its containers started). */
enum metrics_stage {
	METRICS_STAGE_IMAGE_READY = 0,   /* start -> images ready */
	METRICS_STAGE_VM_STARTED,        /* images ready -> VM process runs */
	METRICS_STAGE_AGENT_READY,       /* VM runs -> agent handshake done */
	METRICS_STAGE_CONTAINERS,        /* agent ready -> containers started */
	METRICS_STAGE_TOTAL,             /* start -> containers started */
	METRICS_STAGE_COUNT,
};

struct metrics_net {
	/* the pod's view (eth0 in the guest): receive = the tap's transmit */
	uint64_t rx_bytes, rx_packets, rx_drops;
	uint64_t tx_bytes, tx_packets, tx_drops;
};

#define METRICS_POD_VMM   0x1u   /* vm_cpu_ns, vmm_rss_bytes */
#define METRICS_POD_GUEST 0x2u   /* guest_mem_used_bytes, guest_mem_total_bytes */
#define METRICS_POD_NET   0x4u   /* net */

struct metrics_pod_sample {
	unsigned have;                   /* METRICS_POD_* : fields to store */
	uint64_t vm_cpu_ns;              /* vCPU time (vmm stats cpu_ns) */
	uint64_t vmm_rss_bytes;          /* host RSS of the VMM process */
	uint64_t guest_mem_used_bytes;   /* MemTotal - MemAvailable */
	uint64_t guest_mem_total_bytes;
	struct metrics_net net;
};

#define METRICS_CTR_CPU      0x1u   /* cpu_usec */
#define METRICS_CTR_MEM      0x2u   /* mem_usage_bytes, mem_working_set_bytes */
#define METRICS_CTR_OOM      0x4u   /* oom_kills */
#define METRICS_CTR_RESTARTS 0x8u   /* restarts */

struct metrics_ctr_sample {
	unsigned have;                   /* METRICS_CTR_* : fields to store */
	uint64_t cpu_usec;               /* cgroup cpu.stat usage_usec */
	uint64_t mem_usage_bytes;        /* memory.current */
	uint64_t mem_working_set_bytes;  /* current - inactive_file */
	uint64_t oom_kills;              /* memory.events oom_kill */
	uint64_t restarts;               /* restartCount */
};

/* One pod the collector samples, listed by the supervisor. */
struct metrics_target {
	char uid[UUID_STR_LEN];
	char ns[METRICS_NS_MAX + 1];
	char name[METRICS_POD_MAX + 1];
	bool has_vm;                          /* a VM process runs */
	char tap[METRICS_IFNAME_MAX];         /* "" : no network (yet) */
	char netns[METRICS_PATH_MAX];         /* netns file of the tap; "" : ours */
};

/* What the collector asks of the supervisor. Called from the collector
 * thread without registry locks held; every op may be NULL. */
struct metrics_source_ops {
	/* The pods to sample now: a malloc'd array (the collector frees it).
	 * Registry pods absent from a successful list are removed. */
	int (*list)(void *opaque, struct metrics_target **out, size_t *n);
	/* VMM figures of one pod's VM (vmm_ops.stats), when the source can
	 * reach the VM handle safely from another thread; 0 or -errno. NULL:
	 * request_guest samples the VMM too (the supervisor's way). */
	int (*vmm_stats)(void *opaque, const char *uid, uint64_t *cpu_ns,
			 uint64_t *rss_bytes);
	/* Ask the pod's own thread to sample, asynchronously: it sends
	 * STATS_REQUEST to the guest (the reply goes to metrics_guest_stats())
	 * and, without vmm_stats, reads vmm_ops.stats of its VM into
	 * metrics_pod_update(METRICS_POD_VMM). Must not block. */
	void (*request_guest)(void *opaque, const char *uid);
};

struct metrics_config {
	const char *version;          /* podvm_build_info; NULL: built-in */
	const char *commit;           /* NULL or "": label omitted */
	const char *backend;          /* "kvm" or "tcg": podvm_vms */
	/* podvm_pods{phase}: called at each scrape (podsvc_counts is cheap);
	 * by_phase indexed like enum podsvc_phase. */
	void (*pod_counts)(void *opaque, uint64_t by_phase[4]);
	void *pod_counts_opaque;
	/* Collector: interval_ms 0 = default, < 0 = no collector thread. */
	int interval_ms;
	const struct metrics_source_ops *source;
	void *source_opaque;
	/* Called once per collector cycle, e.g. metrics_reporter_refresh. */
	void (*refresh)(void *opaque, struct metrics *m);
	void *refresh_opaque;
};

/* An empty registry with the built-in build info and backend "tcg". */
int metrics_new(struct metrics **out, struct pv_err *err);
/* Configure the registry and start its collector thread (at most one
 * metrics_start .. metrics_stop at a time). */
int metrics_start(struct metrics *m, const struct metrics_config *cfg,
		  struct pv_err *err);
/* Stop the collector (it calls into the source: stop it first). */
void metrics_stop(struct metrics *m);
/* Stop the collector and forget every figure. */
void metrics_free(struct metrics *m);

/* ---- hooks ---- */
void metrics_pod_stage(struct metrics *m, enum metrics_stage stage,
		       double seconds);
/* Every stage from launch timestamps (monotonic ms, 0 = not reached), as
 * struct launch's t[LAUNCH_T_BEGIN..LAUNCH_T_CONTAINERS]; stages whose
 * ends are missing are skipped. */
void metrics_pod_stages_ms(struct metrics *m, const int64_t *t, size_t n);
void metrics_vm_boot(struct metrics *m, bool success);
/* Create or update the pod; fields named in sample->have are stored
 * (sample NULL: none). ns and name NULL: update an existing pod only
 * (-ENOENT when unknown). */
int metrics_pod_update(struct metrics *m, const char *uid, const char *ns,
		       const char *name, const struct metrics_pod_sample *sample);
void metrics_pod_remove(struct metrics *m, const char *uid);
/* Create or update one container of a known pod (-ENOENT when the pod is
 * unknown). image NULL keeps the stored one. */
int metrics_container_update(struct metrics *m, const char *uid,
			     const char *ctr, const char *image,
			     const struct metrics_ctr_sample *sample);
/* route NULL or unknown beyond METRICS_ROUTES_MAX: "other". */
void metrics_api_observe(struct metrics *m, const char *route, int code,
			 double seconds);
void metrics_control_plane(struct metrics *m, uint64_t pending,
			   uint64_t delivered, uint64_t failed);
/* Running VMs (the collector sets it). */
void metrics_set_vms(struct metrics *m, uint64_t n);

/* A STATS payload from the guest of pod uid: decoded strictly
 * (daemon/metrics_stats.h) and stored. 0 or -errno with err filled. */
int metrics_guest_stats(struct metrics *m, const char *uid,
			const char *payload, size_t len, struct pv_err *err);

/* ---- adapters for podvmd/main.c ---- */
/* pod_counts for a struct podsvc *. */
void metrics_podsvc_counts(void *svc, uint64_t by_phase[4]);
/* refresh for a struct reporter * (NULL: nothing). */
void metrics_reporter_refresh(void *reporter, struct metrics *m);

/* ---- scrape ---- */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Append the whole exposition of m (not NULL) to b; 0 or -ENOMEM. */
int metrics_render(struct metrics *m, struct metrics_buf *b);

/* ---- exposed for tests and the collector ---- */
/* Append v as a label value, escaped (\\ \" \n; invalid UTF-8 -> U+FFFD). */
void metrics_escape_label(struct metrics_buf *b, const char *v);
/* HELP text escaping (\\ \n). */
void metrics_escape_help(struct metrics_buf *b, const char *v);
/* Parse /proc/net/dev text for ifname into the pod's view (rx/tx swapped:
 * the tap's transmit is what the pod receives). 0 or -ENOENT. */
int metrics_netdev_parse(const char *text, const char *ifname,
			 struct metrics_net *out);
/* Append the process_* families for this process. */
void metrics_render_process(struct metrics_buf *b);
/* One collector cycle in the calling thread; only when metrics_start ran
 * with interval_ms < 0 (no collector thread), for tests. */
void metrics_collect_once(struct metrics *m);

#endif
