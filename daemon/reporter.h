/* Control-plane reporter (podvmd --control-plane-url URL).
 *
 * Events: one thread POSTs every watch event of the pod service, in
 * resourceVersion order, at least once, to URL with the body
 *   {"type":"ADDED|MODIFIED|DELETED","object":{Pod},"resourceVersion":"N"}
 * The outbox is the durable event log plus STATE_DIR/daemon/outbox.cursor
 * (the last rv the control plane acknowledged with a 2xx, stored after each
 * success): a restart or an outage loses nothing, and the control plane
 * de-duplicates by resourceVersion. A failed POST (connection error,
 * timeout, non-2xx) is retried with exponential backoff, 0.5 s doubling to
 * 30 s.
 *
 * Heartbeat: a second thread POSTs to the same URL every 5 s
 *   {"kind":"NodeHeartbeat","apiVersion":"podvm.io/v1","nodeName":"...",
 *    "time":"RFC3339","vmBackend":"kvm|tcg",
 *    "capacity":{"cpu":"N","memory":"NKi","pods":"110"},
 *    "allocatable":{"cpu":"N","memory":"NKi","pods":"110"},
 *    "pods":{"total":N,"pending":N,"running":N,"succeeded":N,"failed":N}}
 * capacity.memory is MemTotal, allocatable.memory MemAvailable; the
 * receiver tells the two bodies apart by "kind" (events have "type").
 *
 * HTTP through libcurl: connect timeout 2 s, whole request 10 s. */
#ifndef PODVM_DAEMON_REPORTER_H
#define PODVM_DAEMON_REPORTER_H

#include <stdint.h>

#include "daemon/podsvc.h"
#include "util/err.h"

struct reporter_config {
	const char *url;              /* control-plane endpoint (required) */
	const char *node_name;
	const char *vm_backend;       /* "kvm" or "tcg" */
	unsigned max_pods;            /* capacity.pods; 0 = 110 */
	/* 0 = defaults (5000, 500, 30000); tests shorten them */
	int heartbeat_ms;
	int backoff_min_ms;
	int backoff_max_ms;
};

/* Counters for /metrics. */
struct reporter_stats {
	uint64_t acked_rv;            /* outbox cursor */
	uint64_t pending;             /* events not yet acknowledged */
	uint64_t delivered;           /* events acknowledged (this process) */
	uint64_t failed_attempts;     /* event POSTs that failed */
	uint64_t skipped;             /* events lost to the pending bound */
	uint64_t heartbeats;          /* heartbeats acknowledged */
	uint64_t heartbeat_failures;
};

struct reporter;

/* Starts both threads. The service must outlive the reporter. */
int reporter_start(const struct reporter_config *cfg, struct podsvc *svc,
		   struct reporter **out, struct pv_err *err);
/* Stops the threads (an in-flight POST is aborted) and frees. */
void reporter_stop(struct reporter *r);
void reporter_get_stats(struct reporter *r, struct reporter_stats *st);

#endif
