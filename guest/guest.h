/* podvm-init internals: PID 1 inside the pod's microVM.
 *
 *   main.c       order of events, fatal-error policy
 *   console.c    diagnostics on /dev/console, fatal exit
 *   boot.c       early mounts, re-rooting, kernel modules, loopback
 *   port.c       finding and opening the agent port, raw I/O
 *   outq.c       outgoing frame queue with per-container log caps
 *   agent.c      handshake and the event loop (protocol, signals, logs)
 *   ctrs.c       pod-level container bookkeeping: start, exit, stop
 *   disks.c      image disks (erofs) and overlay root filesystems
 *   container.c  the container child: namespaces, mounts, pivot_root, exec
 *   user.c       "uid[:gid]" / passwd / group lookups
 *   status.c     wait status -> Kubernetes exit code / reason
 *   power.c      power off
 */
#ifndef PODVM_GUEST_GUEST_H
#define PODVM_GUEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pod/agent.h"
#include "pod/agent_msg.h"
#include "pod/pod.h"
#include "pod/runtime.h"
#include "util/err.h"

#define GUEST_AGENT_NAME      "podvm-init/0.1"
#define GUEST_MODULE_DIR      "/lib/modules/podvm"
#define GUEST_MODULE_LIST     GUEST_MODULE_DIR "/load.list"
#define GUEST_RUN_DIR         "/run/podvm"
#define GUEST_PATH_DEFAULT    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Log queue caps: output beyond them is dropped (never block a container
 * on a slow or absent host). */
#define GUEST_LOG_CAP_CTR     (8u * 1024 * 1024)
#define GUEST_LOG_CAP_TOTAL   (32u * 1024 * 1024)

/* ---- console.c ---- */
void guest_console_open(void);
void guest_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int64_t guest_now_ms(void);       /* CLOCK_MONOTONIC */
int64_t guest_wall_ms(void);      /* CLOCK_REALTIME */

/* ---- power.c ---- */
__attribute__((noreturn)) void guest_power_off(void);

/* ---- boot.c ---- */
int guest_boot(struct pv_err *err);
/* Parse load.list text: names (relative, no "/" or "..") one per line,
 * '#' comments and blank lines skipped. Calls fn for each; stops on a
 * negative return. Exposed for tests. */
int guest_modlist_parse(const char *text, size_t len,
			int (*fn)(const char *name, void *arg), void *arg,
			struct pv_err *err);

/* ---- port.c ---- */
/* Find /dev/vportNpM for name, waiting up to timeout_ms for it to appear. */
int guest_port_find(const char *name, char *dev, size_t devlen,
		    int timeout_ms, struct pv_err *err);
int guest_port_open(const char *dev, int *fd, struct pv_err *err);
/* Wait until the host side is connected (no POLLHUP). */
int guest_port_wait_host(int fd, int timeout_ms, struct pv_err *err);
bool guest_port_host_connected(int fd);
/* Write all of buf within timeout_ms (non-blocking fd). */
int guest_port_write_all(int fd, const void *buf, size_t len, int timeout_ms);

/* ---- outq.c ---- */
struct guest_outmsg {
	struct guest_outmsg *next;
	int ctr;                 /* container index of a log frame, or -1 */
	size_t len, off;         /* off: bytes already written */
	uint8_t data[];          /* header + payload */
};

struct guest_outq {
	struct guest_outmsg *head, *tail;
	size_t total_log;                         /* queued log bytes */
	size_t ctr_log[POD_MAX_CONTAINERS];       /* per container */
	uint64_t dropped[POD_MAX_CONTAINERS];     /* not yet reported */
	uint64_t dropped_total;
	size_t cap_ctr, cap_total;
};

void guest_outq_init(struct guest_outq *q, size_t cap_ctr, size_t cap_total);
void guest_outq_free(struct guest_outq *q);
/* Control frame: never dropped. */
int guest_outq_control(struct guest_outq *q, uint16_t type, const char *json);
/* Control frame placed before everything not yet started on the wire. */
int guest_outq_control_front(struct guest_outq *q, uint16_t type,
			     const char *json);
/* Log data for container ctr: split into AGENT_MAX_LOG_CHUNK frames;
 * whatever is over the caps is counted as dropped. Returns bytes queued. */
size_t guest_outq_log(struct guest_outq *q, int ctr, uint16_t type,
		      const void *data, size_t len);
/* Queue the "bytes dropped" notices for containers that have room again. */
int guest_outq_report_drops(struct guest_outq *q);
/* The container is done: report its drops now, whatever the queue holds,
 * so the notice precedes its TERMINATED event. */
int guest_outq_report_final(struct guest_outq *q, int ctr);
/* Write as much as the fd takes. 0: all flushed; 1: would block;
 * <0: -errno (EPIPE when the host is gone). */
int guest_outq_flush(struct guest_outq *q, int fd);
bool guest_outq_empty(const struct guest_outq *q);
/* Drop a frame that was partly written to a peer that went away. */
void guest_outq_drop_partial(struct guest_outq *q);

/* ---- status.c ---- */
struct guest_exit {
	int exit_code;
	int signal;
	const char *reason;       /* "Completed" or "Error" */
};
void guest_exit_from_status(int wstatus, struct guest_exit *out);

/* ---- user.c ---- */
#define GUEST_MAX_GROUPS 64
struct guest_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[GUEST_MAX_GROUPS];
	size_t n_groups;
};
/* spec: NULL/"" (root), "uid", "uid:gid", "name", "name:group", "uid:group".
 * Names are resolved in passwd_path / group_path (the container's files). */
int guest_user_resolve(const char *spec, const char *passwd_path,
		       const char *group_path, struct guest_user *out,
		       struct pv_err *err);

/* ---- disks.c ---- */
/* Mount the erofs disk with serial at GUEST_RUN_DIR/images/SERIAL
 * (idempotent), waiting up to timeout_ms for it. */
int guest_disk_mount(const char *serial, char *mnt, size_t mntlen,
		     int timeout_ms, struct pv_err *err);
/* tmpfs + overlay for a container; rootfs path out. */
int guest_rootfs_prepare(const char *name, const char *lower, char *rootfs,
			 size_t rootfslen, struct pv_err *err);
bool guest_serial_valid(const char *s);
int guest_mkdir_p(const char *path, mode_t mode);   /* -errno */

/* ---- container.c ---- */
struct guest_ctr_spawn {
	const struct runtime_container *rc;
	const char *hostname;
	const char *rootfs;
	int out_w, err_w;          /* write ends, become stdout / stderr */
};
/* Start the container; on success *pid is its init. A start failure
 * (before or at exec) returns <0 with err holding a Kubernetes-like
 * message. */
int guest_ctr_spawn(const struct guest_ctr_spawn *s, pid_t *pid,
		    struct pv_err *err);
/* PATH lookup the way Go's exec.LookPath reports it (exposed for tests). */
int guest_lookpath(const char *file, const char *path, char *out,
		   size_t outlen, struct pv_err *err);
const char *guest_env_get(char *const *env, size_t n, const char *key);

/* ---- ctrs.c ---- */
enum guest_ctr_phase {
	GUEST_CTR_WAITING = 0,
	GUEST_CTR_RUNNING,          /* process alive */
	GUEST_CTR_EXITED,           /* reaped, pipes still draining */
	GUEST_CTR_TERMINATED,       /* event sent */
};

struct guest_ctr {
	int index;
	enum guest_ctr_phase phase;
	pid_t pid;
	int out_r, err_r;           /* pipe read ends, -1 when at EOF */
	struct guest_exit exit;
	char reason[AGENT_REASON_MAX];
	char message[AGENT_MESSAGE_MAX];
	int64_t drain_deadline;     /* monotonic ms */
	int64_t started_ms;         /* wall clock of the RUNNING event */
	int64_t finished_ms;        /* wall clock of the TERMINATED event */
};

struct guest_pod {
	struct pod *pod;
	struct pod_runtime rt;
	bool have_rt;
	struct guest_ctr ctrs[POD_MAX_CONTAINERS];
	size_t n;
	bool stopping;
	int64_t kill_deadline;      /* monotonic ms, 0 when none */
	bool killed;
};

/* epoll tags */
#define GUEST_TAG_PORT           1u
#define GUEST_TAG_SIG            2u
#define GUEST_TAG_PIPE(i, e)     (0x100u + (uint64_t)(i) * 2u + (uint64_t)(e))

void guest_pod_init(struct guest_pod *gp);
/* After a host reconnects: queue every started container's current state
 * so the new host rebuilds its view (events carry their original times). */
int guest_pod_snapshot(struct guest_pod *gp, struct guest_outq *q);
void guest_pod_free(struct guest_pod *gp);
/* Start every container in order; a start failure is a TERMINATED event
 * (StartError), not an error. <0 only for -ENOMEM. */
int guest_pod_start(struct guest_pod *gp, struct guest_outq *q, int epfd);
void guest_pod_reap(struct guest_pod *gp);
struct guest_ctr *guest_pod_find_pid(struct guest_pod *gp, pid_t pid);
void guest_pipe_read(struct guest_pod *gp, struct guest_outq *q, int epfd,
		     int idx, int is_err);
void guest_pipe_close(int epfd, int *fd);
/* Timers (SIGKILL after grace, drain limits) and final events. */
int guest_pod_progress(struct guest_pod *gp, struct guest_outq *q, int epfd,
		       int64_t now);
int64_t guest_pod_next_deadline(const struct guest_pod *gp);  /* 0: none */
bool guest_pod_all_terminated(const struct guest_pod *gp);
/* grace_s < 0: the pod's terminationGracePeriodSeconds. */
void guest_pod_stop(struct guest_pod *gp, int64_t grace_s, int64_t now);
void guest_pod_kill_all(struct guest_pod *gp);
char *guest_pod_done_json(const struct guest_pod *gp);

/* ---- agent.c ---- */
struct guest_agent;
/* The whole life of the pod after boot; returns when it is time to power
 * off (0) or on a fatal error (<0, err set). */
int guest_agent_run(struct pv_err *err);

#endif
