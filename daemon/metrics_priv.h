/* Internals shared by daemon/metrics*.c: the registry's storage. */
#ifndef PODVM_DAEMON_METRICS_PRIV_H
#define PODVM_DAEMON_METRICS_PRIV_H

#include <pthread.h>

#include "daemon/metrics.h"

#define METRICS_HASH_BUCKETS 1024
#define METRICS_HIST_MAX     16
#define METRICS_VERSION_MAX  63

struct metrics_hist {
	uint64_t bucket[METRICS_HIST_MAX];   /* per bound, not cumulative */
	uint64_t count;                      /* includes +Inf */
	double sum;
};

struct metrics_ctr {
	char name[METRICS_CTR_MAX + 1];
	char image[METRICS_IMAGE_MAX + 1];
	unsigned have;                       /* METRICS_CTR_* ever stored */
	struct metrics_ctr_sample s;
	/* CPU rate from successive samples */
	int64_t prev_ms;
	uint64_t prev_cpu_usec;
	bool has_rate;
	double cores;
};

struct metrics_pod {
	struct metrics_pod *hnext;           /* hash chain */
	struct metrics_pod *next, *prev;     /* insertion order, for output */
	char uid[UUID_STR_LEN];
	char ns[METRICS_NS_MAX + 1];
	char name[METRICS_POD_MAX + 1];
	unsigned have;                       /* METRICS_POD_* ever stored */
	struct metrics_pod_sample s;
	int64_t prev_ms;
	uint64_t prev_cpu_ns;
	bool has_rate;
	double cores;
	bool seen;                           /* collector: listed this cycle */
	struct metrics_ctr *ctr;
	size_t n_ctr;
};

struct metrics_route {
	char name[METRICS_ROUTE_MAX + 1];
	int code[METRICS_CODES_MAX];         /* 0: "other" */
	uint64_t by_code[METRICS_CODES_MAX];
	size_t n_codes;
	struct metrics_hist dur;
};

/* A copy of the pod table taken under the lock, formatted outside it. */
struct metrics_snap {
	struct metrics_pod *pods;            /* ctr points into ctrs */
	size_t n_pods;
	struct metrics_ctr *ctrs;
	size_t n_ctrs;
};

/* Scalar figures, copied the same way. */
struct metrics_scalars {
	struct metrics_hist stage[METRICS_STAGE_COUNT];
	uint64_t boots_ok, boots_failed;
	uint64_t vms;
	uint64_t cp_pending, cp_delivered, cp_failed;
	struct metrics_route routes[METRICS_ROUTES_MAX + 1];   /* + "other" */
	size_t n_routes;
	char version[METRICS_VERSION_MAX + 1];
	char commit[METRICS_VERSION_MAX + 1];
	char backend[8];
	void (*pod_counts)(void *opaque, uint64_t by_phase[4]);
	void *pod_counts_opaque;
};

struct metrics_collector;

/* The registry. Scalars live in one struct; its routes are under
 * api_lock, the rest under misc_lock. */
struct metrics {
	pthread_mutex_t pods_lock;           /* the pod table */
	struct metrics_pod *pods_hash[METRICS_HASH_BUCKETS];
	struct metrics_pod *pods_head, *pods_tail;
	size_t pods_n, ctrs_n;
	pthread_mutex_t misc_lock;
	pthread_mutex_t api_lock;
	struct metrics_scalars sc;
	/* metrics_start .. metrics_stop, from the owner's thread only */
	struct metrics_collector *coll;
};

extern const double metrics_stage_bounds[];
extern const size_t metrics_stage_nbounds;
extern const double metrics_api_bounds[];
extern const size_t metrics_api_nbounds;
extern const char *const metrics_stage_names[METRICS_STAGE_COUNT];

/* metrics.c */
int metrics_snapshot(struct metrics *m, struct metrics_snap *snap);
void metrics_snap_free(struct metrics_snap *snap);
void metrics_scalars_get(struct metrics *m, struct metrics_scalars *sc);
/* Collector bookkeeping: clear `seen`, then drop pods not seen. */
void metrics_mark_unseen(struct metrics *m);
void metrics_mark_seen(struct metrics *m, const char *uid);
void metrics_drop_unseen(struct metrics *m);
/* Build info, backend and the pod-count callback (NULL: defaults). */
void metrics_registry_config(struct metrics *m,
			     const struct metrics_config *cfg);
/* Forget every figure (metrics_free). */
void metrics_registry_clear(struct metrics *m);

#endif
