/* Internals shared by daemon/supervisor.c (pod threads, runner ops),
 * daemon/supervisor_follow.c (status, agent callbacks, following the VM)
 * and daemon/supervisor_start.c (open, start-up, close). */
#ifndef PODVM_DAEMON_SUPERVISOR_PRIV_H
#define PODVM_DAEMON_SUPERVISOR_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/launch.h"
#include "daemon/supervisor.h"
#include "daemon/vpcsvc.h"
#include "vmm/vmm.h"

struct sv_pod {
	struct supervisor *sv;
	char uid[UUID_STR_LEN];
	struct pod *pod;               /* own copy */
	bool reattach;
	pthread_t thread;
	int wake_fd;                   /* eventfd: stop or close requested */
	/* under sv->lock */
	bool stop_requested;
	int64_t grace;
	bool finished;                 /* thread done with the VM */
	bool vm_up;                    /* VM booted or attached, not torn down */
	bool stats_requested;          /* metrics: sample at the next wake-up */
	uint64_t oom_kills[POD_MAX_CONTAINERS];   /* per container, agent order */
	char tap[IFNAMSIZ];            /* metrics: the pod's tap, "" if none */
	bool tap_in_vpc;               /* metrics: it is in the VPC netns */
	struct sv_pod *next;

	/* thread-private */
	struct launch l;
	struct vpcsvc_pod net;         /* its VPC, lease and tap */
	struct runtime_net rtnet;      /* what the guest gets */
	struct podsvc_status_update st;   /* its status, reported to podsvc */
};

enum sv_outcome { SV_DONE, SV_STOPPED, SV_CLOSING, SV_FAILED };

struct supervisor {
	struct supervisor_config cfg;
	pthread_mutex_t gc_lock;       /* one image GC at a time */
	struct podsvc *svc;
	struct vmm *vmm;
	pthread_mutex_t lock;
	struct sv_pod *pods;
	bool closing;
};

void sv_pod_free(struct sv_pod *p);
/* Pull the pod's images per imagePullPolicy, retrying with kubelet's
 * back-off while the pod stays Pending: SV_DONE when all are there
 * (daemon/supervisor_pull.c). */
enum sv_outcome sv_pull_images(struct sv_pod *p);
/* Image GC at the configured thresholds, keeping every image a known pod
 * names. */
void sv_image_gc(struct supervisor *sv);
struct sv_pod *sv_find_locked(struct supervisor *sv, const char *uid);
/* Start following a pod on its own thread (reattach: its VM may run). */
void sv_spawn(struct supervisor *sv, const char *uid, const struct pod *pod,
	      bool reattach);
/* The runner's stop op. */
void sv_runner_stop(void *runner, const char *uid, int64_t grace);

/* supervisor_follow.c */

/* Recompute the phase and report the status to podsvc. */
void sv_report(struct sv_pod *p);
/* The pod failed (reason, message); containers not yet ended end too. */
void sv_fail_pod(struct sv_pod *p, const char *reason, const char *msg);
void sv_set_vm_up(struct sv_pod *p, bool up);
/* Stop or close requested? Reads the eventfd's state under the lock. */
enum sv_outcome sv_check_requests(struct sv_pod *p, int64_t *grace);
/* Follow the pod's VM to its end (host/follow.c); fail the pod when it
 * ended badly. */
enum sv_outcome sv_follow(struct sv_pod *p);

#endif
