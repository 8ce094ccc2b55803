/* Exec sessions (`podvm exec`, POST .../pods/NAME/exec): route between the
 * API's upgraded client sockets and the pod threads, which alone write to
 * a pod's agent connection (docs/agent-protocol.md, EXEC_*).
 *
 *   API thread   exec_session_start(): register, queue EXEC_START, wake
 *                the pod thread (its wake eventfd)
 *   session thd  one per session: reads client frames (stdin, resize,
 *                EOF) into the pod's queue; writes buffered output frames
 *   pod thread   exec_pod_pump() drains the queue into the agent;
 *                exec_on_output/exec_on_exit buffer frames for the client
 *                (never blocking: a client more than EXEC_OUT_MAX behind
 *                is dropped)
 *
 * A client that goes away gets its process's stdin closed (EXEC_STDIN EOF);
 * the process itself runs on until it exits (the protocol has no kill),
 * and its id stays reserved until EXEC_EXIT. */
#ifndef PODVM_DAEMON_EXEC_H
#define PODVM_DAEMON_EXEC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/agent_host.h"
#include "util/err.h"

#define EXEC_MAX_PER_POD  16            /* the guest's GUEST_MAX_EXECS */
#define EXEC_OUT_MAX      (2u << 20)    /* output buffered per client */
#define EXEC_IN_MAX       (256u << 10)  /* stdin queued per session */

/* The session table: every pod with an agent connection and its
 * sessions. podvmd makes one and hands it to the supervisor and the API;
 * every function below takes it (NULL: no exec, pods are "not running"). */
struct exec_table;

int exec_table_new(struct exec_table **out, struct pv_err *err);
/* After the supervisor's pod threads and the API are gone. */
void exec_table_free(struct exec_table *x);

/* Pod thread hooks (daemon/supervisor.c). */
void exec_pod_attach(struct exec_table *x, const char *uid, int wake_fd);
/* The agent connection is gone: every session ends with an error. */
void exec_pod_detach(struct exec_table *x, const char *uid);
/* Send what sessions queued (after a wake-up); needs the handshake done. */
void exec_pod_pump(struct exec_table *x, const char *uid,
		   struct agent_host *ah);
/* What the pod's agent said about session id (agent_host callbacks). */
void exec_on_output(struct exec_table *x, const char *uid, uint16_t id,
		    enum agent_stream s, const uint8_t *data, size_t len);
void exec_on_exit(struct exec_table *x, const char *uid,
		  const struct agent_exec_exit *e);

/* API side. */
struct exec_request {
	const char *uid;
	const char *container;
	char *const *argv;             /* n_argv strings, copied */
	size_t n_argv;
	bool tty, stdin_open;
};

/* Can a session start now? 0, -ENOENT (the pod has no agent connection:
 * not running), -EBUSY (EXEC_MAX_PER_POD sessions). */
int exec_pod_check(struct exec_table *x, const char *uid);

/* Start a session on an upgraded socket (borrowed; done(done_arg) is
 * called once, from the session thread, when the socket may be closed).
 * extra: bytes the client sent past the request. stopping: the API's
 * shutdown flag (sessions end when set). On error the caller still owns
 * the socket (and should report err to the client). */
int exec_session_start(struct exec_table *x, const struct exec_request *rq,
		       int fd, const char *extra, size_t extra_len,
		       const atomic_bool *stopping,
		       void (*done)(void *arg), void *done_arg,
		       struct pv_err *err);

#endif
