/* The supervisor: one state machine per pod, on the launch path that
 * `podvm run` uses (daemon/launch.c). It implements podsvc's runner: boots
 * pods without blocking the API, follows each VM's agent, reports status and
 * logs into podsvc, stops pods on delete (at any stage, during boot too),
 * reattaches to running VMs after a daemon restart, and removes orphans. */
#ifndef PODVM_DAEMON_SUPERVISOR_H
#define PODVM_DAEMON_SUPERVISOR_H

#include "daemon/metrics.h"
#include "daemon/podsvc.h"
#include "util/err.h"

struct exec_table;
struct vpcsvc;
struct registry;
struct secret_source;

struct supervisor_config {
	const char *state_dir;
	const char *run_dir;
	const char *guest_dir;
	const char *libvirt_uri;
	const char *host_ip;       /* for env fieldRefs: status.hostIP */
	const char *node_name;     /* spec.nodeName */
	struct vpcsvc *vpcs;       /* pods' networks; NULL: none (only lo) */
	const char *seccomp_root;  /* Localhost seccomp profiles */
	struct exec_table *exec;   /* exec sessions; NULL: no exec */
	struct metrics *metrics;   /* NULL: no figures kept */
	struct registry *registry; /* image pulls; NULL: pulls fail */
	const struct secret_source *secrets;   /* imagePullSecrets; NULL: none */
	int image_gc_high, image_gc_low;       /* percent; 0, 0: 85, 80 */
};

struct supervisor;

int supervisor_open(const struct supervisor_config *cfg,
		    struct supervisor **out, struct pv_err *err);
/* Connect to podsvc, reattach to the VMs of stored pods, fail pods whose VM
 * vanished, remove orphans. */
int supervisor_start(struct supervisor *sv, struct podsvc *svc,
		     struct pv_err *err);
/* Stop following pods; VMs keep running (daemon shutdown). */
void supervisor_close(struct supervisor *sv);

extern const struct podsvc_runner_ops supervisor_runner_ops;
/* The collector's source (daemon/metrics.h); opaque = the supervisor. */
extern const struct metrics_source_ops supervisor_metrics_ops;

/* "kvm" or "tcg", for the heartbeat and metrics. */
const char *supervisor_accel(struct supervisor *sv);

#endif
