/* The pod follower: the one event loop that follows a booted (or
 * reattached) pod's VM until it ends, for `podvm run` and podvmd alike.
 *
 *   connect  the agent socket; POD_SPEC built from the launch
 *   boot     no HELLO within LAUNCH_BOOT_TIMEOUT_MS: the VM did not boot
 *   run      no deadline; frames go to the caller's agent callbacks
 *   stop     on request: STOP with the grace period, then destroy after
 *            grace + LAUNCH_STOP_SLACK_MS
 *   done     POD_DONE -> SHUTDOWN -> the VM powers off within
 *            LAUNCH_POWEROFF_MS (agent EOF alone gives it as long)
 *
 * It polls three fds: the agent socket, the caller's wake fd (a signalfd
 * for `podvm run`, an eventfd for the supervisor) and the VM's exit fd.
 * It is the only place that polls the agent and, through host/agent_host.c
 * (agent_host_send), the only path of writes to it: a bounded send queue
 * flushed on POLLOUT and per-wake-up read budgets belong here. */
#ifndef PODVM_HOST_FOLLOW_H
#define PODVM_HOST_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/agent_host.h"
#include "util/err.h"

struct launch;

/* The one set of timeouts. */
#define LAUNCH_BOOT_TIMEOUT_MS    (180 * 1000)  /* TCG on a loaded host */
#define LAUNCH_CONNECT_TIMEOUT_MS (10 * 1000)   /* the VMM's agent socket */
#define LAUNCH_STOP_SLACK_MS      (15 * 1000)   /* beyond the grace period */
#define LAUNCH_POWEROFF_MS        (15 * 1000)   /* POD_DONE -> VM gone */

/* What the caller wants after its wake fd fired. */
enum launch_follow_req {
	LAUNCH_REQ_NONE = 0,
	LAUNCH_REQ_STOP,          /* graceful stop (ignored when stopping) */
	LAUNCH_REQ_STOP_NOW,      /* end now; the caller destroys the VM */
	LAUNCH_REQ_DETACH,        /* let go, the VM keeps running */
	LAUNCH_REQ_ERROR,         /* the wake fd failed */
};

/* How following ended; struct launch_follow says more. */
enum launch_follow_end {
	LAUNCH_END_DONE = 1,      /* POD_DONE; the VM powered off or not in time */
	LAUNCH_END_STOPPED,       /* a stop was requested and has ended */
	LAUNCH_END_DETACHED,      /* LAUNCH_REQ_DETACH */
	LAUNCH_END_NO_BOOT,       /* no handshake: boot timeout or VM exit */
	LAUNCH_END_LOST,          /* the VM exited or went silent before
	                           * POD_DONE */
	LAUNCH_END_AGENT_ERROR,   /* the guest broke the protocol (err) */
	LAUNCH_END_ERROR,         /* a host-side failure (err) */
};

struct launch_follow_ops {
	/* The guest's messages, with the opaque given to launch_follow. */
	struct agent_host_cb agent;
	/* The wake fd is readable: drain it and say what to do; *grace_s is
	 * the grace period for LAUNCH_REQ_STOP. */
	enum launch_follow_req (*wake)(void *opaque, struct launch *l,
				       int64_t *grace_s);
	/* Optional: after every wake-up, once frames were handled (e.g. exec
	 * sessions' input to the guest). */
	void (*pump)(void *opaque, struct launch *l);
	/* Optional: STOP went to the guest with this grace period. */
	void (*stopping)(void *opaque, struct launch *l, int64_t grace_s);
};

/* The follower's state, in struct launch (l->f). Read it on the thread
 * that follows: ah.proto (handshake done), ah.done (POD_DONE seen). */
struct launch_follow {
	struct agent_host ah;
	char *spec;                 /* POD_SPEC payload */
	size_t spec_len;
	int64_t deadline;           /* monotonic ms; 0 = none */
	bool stopping;              /* a stop was requested */
	bool agent_eof;
	bool shutdown_sent;
	bool vm_gone;               /* the VM's exit fd fired */
	struct pv_err err;          /* for LAUNCH_END_*ERROR */
};

/* Connect to the agent, then follow until the pod ends. wake_fd may be
 * -1. The caller keeps l (teardown or release) afterwards. */
enum launch_follow_end launch_follow(struct launch *l, int wake_fd,
				     const struct launch_follow_ops *ops,
				     void *opaque);

/* Free the agent session and spec (launch_teardown/_release call it). */
void launch_follow_free(struct launch_follow *f);

#endif
