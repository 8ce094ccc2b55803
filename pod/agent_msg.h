/* JSON payloads of the agent protocol's control messages, shared by both
 * ends so they cannot drift apart. Decoders are strict and bounded: the host
 * treats everything the guest sends as hostile. */
#ifndef PODVM_POD_AGENT_MSG_H
#define PODVM_POD_AGENT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/pod.h"
#include "pod/runtime.h"
#include "util/err.h"

#define AGENT_REASON_MAX   64
#define AGENT_MESSAGE_MAX  1024
/* Container index = position in [initContainers..., containers...]. */
#define AGENT_MAX_CTRS     (2 * POD_MAX_CONTAINERS)

/* AGENT_HELLO, guest -> host */
struct agent_hello {
	int proto_min, proto_max;
	char agent[64];           /* "podvm-init/VERSION" */
	bool has_spec;            /* reconnect: the guest already runs a pod */
};

enum agent_ctr_state {
	AGENT_CTR_RUNNING = 1,    /* process started (exec succeeded) */
	AGENT_CTR_TERMINATED,     /* exited, killed, or failed to start */
	AGENT_CTR_WAITING,        /* not running now (back-off, PodInitializing) */
};

/* The previous termination of a restarted container (lastState). */
struct agent_ctr_last {
	int exit_code;
	int signal;
	char reason[AGENT_REASON_MAX];
	char message[AGENT_MESSAGE_MAX];
	int64_t started_ms, finished_ms;
};

/* AGENT_CONTAINER, guest -> host */
struct agent_ctr_event {
	uint16_t index;           /* position in [initContainers, containers] */
	enum agent_ctr_state state;
	int exit_code;            /* TERMINATED: 0-255; 128+N for signal N */
	int signal;               /* TERMINATED by a signal: N, else 0 */
	char reason[AGENT_REASON_MAX];   /* Completed, Error, StartError, ... */
	char message[AGENT_MESSAGE_MAX]; /* e.g. exec error text */
	int64_t time_ms;          /* guest wall clock, ms since the epoch */
	/* additive (still v1): */
	int restart_count;        /* "restartCount", omitted when 0 */
	bool ready;               /* "ready": RUNNING only, readiness */
	bool has_ready;
	bool has_last;            /* "lastState" present */
	struct agent_ctr_last last;
};

/* AGENT_POD_DONE, guest -> host: the final state of every container. */
struct agent_pod_done_ctr {
	uint16_t index;
	int exit_code;            /* 0-255 */
	int signal;               /* 0 unless killed by a signal */
	char reason[AGENT_REASON_MAX];
	bool waiting;             /* "state":"WAITING": never started */
	int restart_count;        /* "restartCount", omitted when 0 */
};

struct agent_pod_done {
	size_t n;
	struct agent_pod_done_ctr containers[AGENT_MAX_CTRS];
	/* pod-level outcome, e.g. "DeadlineExceeded"; "" when none */
	char reason[AGENT_REASON_MAX];
	char message[AGENT_MESSAGE_MAX];
};

/* AGENT_EXEC_START, host -> guest */
#define AGENT_EXEC_MAX_ARGS  256
#define AGENT_EXEC_ARG_MAX   4096
struct agent_exec_start {
	uint16_t id;              /* 1..65535; the channel of its frames */
	char container[POD_LABEL_NAME_MAX + 1];
	char **command;           /* NULL-terminated, malloc'd */
	size_t n_command;
	bool tty, stdin_open;
	uint16_t rows, cols;      /* initial tty size, 0 = unknown */
};
void agent_exec_start_free(struct agent_exec_start *x);

/* AGENT_EXEC_EXIT, guest -> host */
struct agent_exec_exit {
	uint16_t id;
	int exit_code;            /* 0-255; 128+N when killed by signal N */
	int signal;
	char error[AGENT_MESSAGE_MAX];   /* could not start: why; exitCode 126/127 */
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

char *agent_msg_exec_start(const struct agent_exec_start *x);
int agent_parse_exec_start(const uint8_t *p, size_t n,
			   struct agent_exec_start *x, struct pv_err *err);
char *agent_msg_exec_exit(const struct agent_exec_exit *x);
int agent_parse_exec_exit(const uint8_t *p, size_t n,
			  struct agent_exec_exit *x, struct pv_err *err);
char *agent_msg_exec_resize(uint16_t id, uint16_t rows, uint16_t cols);
int agent_parse_exec_resize(const uint8_t *p, size_t n, uint16_t *id,
			    uint16_t *rows, uint16_t *cols, struct pv_err *err);

/* AGENT_POD_SPEC, host -> guest: the Pod and its resolved runtime
 * (pod/agent_spec.c). The encoder fails with EMSGSIZE past
 * AGENT_MAX_PAYLOAD; the decoder checks that both describe the same
 * containers. On error *pod is NULL and rt empty. */
#define AGENT_SPEC_DEPTH 64   /* a Pod nests ~6 levels; bounded all the same */
int agent_msg_pod_spec(const struct pod *pod, const struct pod_runtime *rt,
		       char **out, size_t *len, struct pv_err *err);
int agent_parse_pod_spec(const uint8_t *p, size_t n, struct pod **pod,
			 struct pod_runtime *rt, struct pv_err *err);

/* Pick the protocol version both ends speak, or -1. */
int agent_proto_negotiate(int peer_min, int peer_max);

#endif
