/* The pod service: podvmd's pods as the API sees them (daemon/podsvc*.c).
 *
 * It owns the durable pod records and the event log, assigns
 * resourceVersions, serves watches, and hands pods to a runner (the
 * supervisor that boots VMs) through struct podsvc_runner_ops. The HTTP
 * layer (api/) only parses requests and calls these functions; every
 * function is thread-safe.
 *
 * Objects cross this interface as JSON text (malloc'd, NUL-terminated,
 * Kubernetes core/v1 shapes), so the API never sees internal structs.
 *
 * Durable state under STATE_DIR/daemon/:
 *   pods/UID.json        one Pod object (metadata, spec, status), written
 *                        atomically (temp file, fsync, rename, fsync dir)
 *   events/RV.json       one watch event {"type","object"} per file, same
 *   outbox.cursor        last resourceVersion the control plane acknowledged
 * resourceVersion is one global, strictly increasing integer. */
#ifndef PODVM_DAEMON_PODSVC_H
#define PODVM_DAEMON_PODSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/pod.h"
#include "util/err.h"

/* A failed call's Kubernetes Status (metav1.Status). */
struct podsvc_status {
	int code;                  /* HTTP status: 400, 404, 409, 410, 422, 500, 503 */
	char reason[32];           /* BadRequest, NotFound, AlreadyExists, Gone,
	                            * Invalid, InternalError, ServiceUnavailable */
	char message[512];
	char kind[16];             /* details.kind, e.g. "pods" */
	char name[POD_NAME_MAX + 1];  /* details.name */
	struct pod_causes causes;  /* details.causes, for Invalid */
};

/* List/watch filters. Empty strings mean "no filter". */
struct podsvc_selector {
	const char *namespace;     /* NULL or "" = all namespaces */
	const char *label;         /* labelSelector: "a=b,c!=d,e,!f" (equality-based) */
	const char *field;         /* fieldSelector: metadata.name=X, metadata.namespace=Y,
	                            * status.phase=Z (comma-separated, = or !=) */
};

/* Container status as the supervisor reports it. */
enum podsvc_ctr_state { PODSVC_WAITING = 0, PODSVC_RUNNING, PODSVC_TERMINATED };

struct podsvc_ctr_status {
	enum podsvc_ctr_state state;
	char reason[64];           /* waiting: ContainerCreating, ...;
	                            * terminated: Completed, Error, StartError, ... */
	char message[1024];
	int exit_code;
	int signal;
	int64_t started_ms;        /* wall clock, 0 = unset */
	int64_t finished_ms;
	int restart_count;
	bool ready;
	char image_id[512];        /* REGISTRY/REPO@sha256:... once pulled, "" before */
};

enum podsvc_phase { PODSVC_PENDING = 0, PODSVC_RUNNING_PHASE, PODSVC_SUCCEEDED,
		    PODSVC_FAILED };

/* The part of PodStatus the supervisor owns; podsvc derives conditions
 * (PodScheduled, Initialized, ContainersReady, Ready), hostIP, startTime and
 * the JSON from it. */
struct podsvc_status_update {
	enum podsvc_phase phase;
	char reason[64];           /* pod-level reason, e.g. "VMFailed" */
	char message[512];
	char pod_ip[64];           /* "" until known */
	bool vm_started;           /* the VM and agent are up */
	/* ctr[] follows the agent's order: [initContainers..., containers...];
	 * n_containers counts both, the first n_init are init containers. */
	size_t n_init;
	size_t n_containers;
	struct podsvc_ctr_status ctr[POD_MAX_CONTAINERS];
};

/* What podsvc asks of the supervisor. Called without podsvc locks held. */
struct podsvc_runner_ops {
	/* A new pod was stored: start booting it (must not block on the boot). */
	void (*start)(void *runner, const char *uid, const struct pod *pod);
	/* Stop the pod: grace seconds, then kill; the runner calls
	 * podsvc_finalize_delete() once its VM and resources are gone. */
	void (*stop)(void *runner, const char *uid, int64_t grace_seconds);
	/* Optional: may the runner run this pod (e.g. does the VPC its
	 * annotations name exist)?  0, or -1 with st filled (422). */
	int (*admit)(void *runner, const struct pod *pod,
		     struct podsvc_status *st);
};

struct podsvc_config {
	const char *state_dir;
	const char *host_ip;       /* status.hostIP */
	const char *node_name;     /* spec.nodeName */
	size_t max_events;         /* events kept for resumption (default 10000) */
};

struct podsvc;

int podsvc_open(const struct podsvc_config *cfg,
		const struct podsvc_runner_ops *ops, void *runner,
		struct podsvc **out, struct pv_err *err);
void podsvc_close(struct podsvc *s);

/* Pods loaded from disk at start-up, for the supervisor to reattach:
 * calls fn for every record that is not finished. */
void podsvc_foreach(struct podsvc *s,
		    void (*fn)(void *opaque, const char *uid,
			       const struct pod *pod, bool deleting),
		    void *opaque);

/* The image of every container of every stored pod, whatever its phase
 * (kubelet keeps the images of containers that still exist): malloc'd
 * strings in a malloc'd vector, for image GC. -ENOMEM. */
int podsvc_images(struct podsvc *s, char ***out, size_t *n);

/* --- API calls (return 0, or -1 with st filled) --- */

/* body: a Pod in JSON. ns: the namespace from the URL; a different
 * metadata.namespace is 400. Returns the stored Pod (201). */
int podsvc_create(struct podsvc *s, const char *ns, const char *body,
		  size_t len, char **out, struct podsvc_status *st);
int podsvc_get(struct podsvc *s, const char *ns, const char *name,
	       char **out, struct podsvc_status *st);
/* PodList with metadata.resourceVersion. */
int podsvc_list(struct podsvc *s, const struct podsvc_selector *sel,
		char **out, struct podsvc_status *st);
/* grace < 0: the pod's terminationGracePeriodSeconds. Returns the Pod
 * with deletionTimestamp set (200); DELETED is emitted once it is gone. */
int podsvc_delete(struct podsvc *s, const char *ns, const char *name,
		  int64_t grace, char **out, struct podsvc_status *st);

/* Watches. rv: NULL/"" = start now, sending ADDED for every matching pod
 * first (Kubernetes semantics for rv unset and "0"); otherwise every
 * event after rv, or 410 Gone when rv is older than the kept log. */
struct podsvc_watch;
int podsvc_watch_open(struct podsvc *s, const struct podsvc_selector *sel,
		      const char *rv, struct podsvc_watch **out,
		      struct podsvc_status *st);
/* 1: *event is one {"type":...,"object":...} line; 0: timeout; -1: closed
 * (service shutting down). */
int podsvc_watch_next(struct podsvc_watch *w, int timeout_ms, char **event);
void podsvc_watch_close(struct podsvc_watch *w);

/* Logs: path of a container's log file (CRI format lines:
 * "RFC3339NANO stdout|stderr F|P text"), for the API to read/follow.
 * previous: the log of the previous instance (restarts). */
int podsvc_log_path(struct podsvc *s, const char *ns, const char *name,
		    const char *container, bool previous, char *path,
		    size_t pathlen, bool *finished, struct podsvc_status *st);

/* --- Supervisor calls --- */

/* Replace the runner-owned status; emits MODIFIED when anything changed. */
int podsvc_update_status(struct podsvc *s, const char *uid,
			 const struct podsvc_status_update *up);
/* Append container output to its log file (the supervisor's log sink). */
int podsvc_append_log(struct podsvc *s, const char *uid, size_t ctr,
		      bool is_stderr, const uint8_t *data, size_t len);
/* The pod's VM and resources are released: delete the record, emit DELETED. */
int podsvc_finalize_delete(struct podsvc *s, const char *uid);

/* Counters for /metrics and the heartbeat. */
struct podsvc_counts {
	size_t pods;
	size_t by_phase[4];        /* indexed by enum podsvc_phase */
	uint64_t resource_version;
};
void podsvc_counts(struct podsvc *s, struct podsvc_counts *c);

/* The event log, for the control-plane outbox: copies of every event with
 * rv > after, at most max, oldest first. Returns how many. */
struct podsvc_event {
	uint64_t rv;
	char *json;                /* {"type":...,"object":...} */
};
size_t podsvc_events_after(struct podsvc *s, uint64_t after,
			   struct podsvc_event *out, size_t max);
void podsvc_events_free(struct podsvc_event *ev, size_t n);
/* Block until an event with rv > after exists or timeout; 1/0. */
int podsvc_events_wait(struct podsvc *s, uint64_t after, int timeout_ms);

/* The outbox consumer (daemon/reporter.c). attach: from now on compaction
 * keeps every event after the acknowledged cursor (at most 100000 of
 * them); returns the cursor (0 when none was ever written). ack: the
 * control plane has every event up to rv; stored atomically in
 * outbox.cursor. Returns 0 or a negative errno. */
uint64_t podsvc_outbox_attach(struct podsvc *s);
int podsvc_outbox_ack(struct podsvc *s, uint64_t rv, struct pv_err *err);

#endif
