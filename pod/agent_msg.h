/* JSON payloads of the agent protocol's control messages, shared by both
 * ends so they cannot drift apart. Decoders are strict and bounded: the host
 * treats everything the guest sends as hostile. */
#ifndef PODVM_POD_AGENT_MSG_H
#define PODVM_POD_AGENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/pod.h"
#include "util/err.h"

#define AGENT_REASON_MAX   64
#define AGENT_MESSAGE_MAX  1024

/* AGENT_HELLO, guest -> host */
struct agent_hello {
	int proto_min, proto_max;
	char agent[64];           /* "podvm-init/VERSION" */
	bool has_spec;            /* reconnect: the guest already runs a pod */
};

enum agent_ctr_state {
	AGENT_CTR_RUNNING = 1,    /* process started (exec succeeded) */
	AGENT_CTR_TERMINATED,     /* exited, killed, or failed to start */
};

/* AGENT_CONTAINER, guest -> host */
struct agent_ctr_event {
	uint16_t index;           /* position in pod->containers */
	enum agent_ctr_state state;
	int exit_code;            /* TERMINATED: 0-255; 128+N for signal N */
	int signal;               /* TERMINATED by a signal: N, else 0 */
	char reason[AGENT_REASON_MAX];   /* Completed, Error, StartError, ... */
	char message[AGENT_MESSAGE_MAX]; /* e.g. exec error text */
	int64_t time_ms;          /* guest wall clock, ms since the epoch */
};

/* AGENT_POD_DONE, guest -> host: the final state of every container. */
struct agent_pod_done_ctr {
	uint16_t index;
	int exit_code;            /* 0-255 */
	int signal;               /* 0 unless killed by a signal */
	char reason[AGENT_REASON_MAX];
};

struct agent_pod_done {
	size_t n;
	struct agent_pod_done_ctr containers[POD_MAX_CONTAINERS];
};

/* STOP without "gracePeriodSeconds": use the pod's own grace period. */
#define AGENT_GRACE_DEFAULT  (-1)
#define AGENT_GRACE_MAX      (365LL * 24 * 3600)

/* Each encoder returns a malloc'd NUL-terminated JSON string, or NULL. */
char *agent_msg_hello(const struct agent_hello *h);
char *agent_msg_hello_ack(int proto);
char *agent_msg_ctr_event(const struct agent_ctr_event *ev);
char *agent_msg_stop(int64_t grace_seconds);
char *agent_msg_error(const char *message);
char *agent_msg_pod_done(const struct agent_pod_done *d);

int agent_parse_hello(const uint8_t *p, size_t n, struct agent_hello *h,
		      struct pv_err *err);
int agent_parse_hello_ack(const uint8_t *p, size_t n, int *proto,
			  struct pv_err *err);
int agent_parse_ctr_event(const uint8_t *p, size_t n,
			  struct agent_ctr_event *ev, struct pv_err *err);
int agent_parse_stop(const uint8_t *p, size_t n, int64_t *grace,
		     struct pv_err *err);
int agent_parse_error(const uint8_t *p, size_t n, char *msg, size_t msglen,
		      struct pv_err *err);

int agent_parse_pod_done(const uint8_t *p, size_t n, struct agent_pod_done *d,
			 struct pv_err *err);
/* SHUTDOWN carries "{}"; anything else in it is an error. */
int agent_parse_empty(const uint8_t *p, size_t n, struct pv_err *err);

/* Pick the protocol version both ends speak, or -1. */
int agent_proto_negotiate(int peer_min, int peer_max);

#endif
