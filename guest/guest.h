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
 *   restart.c    restart policy, back-off, init container sequencing
 *   etc.c        /etc/hosts, /etc/hostname, /etc/resolv.conf for containers
 *   cgroup.c     cgroup v2 group per container, limits, OOM detection
 *   volumes.c    emptyDir volumes, safe mount points in a container root
 *   security.c   securityContext: user, groups, no_new_privs, caps apply
 *   caps.c       capability names and the container's capability set
 *   seccomp.c    seccomp profiles -> BPF (libseccomp), ENOSYS stub, load
 *   seccomp_default.c  the RuntimeDefault profile (containerd's), as data
 *   mask.c       runc's masked and read-only /proc and /sys paths
 *   jobs.c       helper processes: probes, hooks, exec (enter a container)
 *   probe.c      liveness / readiness / startup probes
 *   hooks.c      postStart / preStop, termination messages
 *   exec.c       exec sessions (EXEC_* messages)
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
#define GUEST_ETC_DIR         GUEST_RUN_DIR "/etc"
#define GUEST_VOL_DIR         GUEST_RUN_DIR "/volumes"
#define GUEST_TERM_DIR        GUEST_RUN_DIR "/term"
#define GUEST_CGROUP_ROOT     "/sys/fs/cgroup"
#define GUEST_CGROUP_PODVM    GUEST_CGROUP_ROOT "/podvm"
#define GUEST_MAX_CTRS        AGENT_MAX_CTRS   /* init + regular containers */
#define GUEST_MAX_MOUNTS      64   /* volumeMounts per container (decoder's bound) */
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
	size_t ctr_log[GUEST_MAX_CTRS];           /* per container */
	uint64_t dropped[GUEST_MAX_CTRS];         /* not yet reported */
	size_t raw_bytes;                         /* queued exec output */
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
/* Raw data frame (exec output) on channel chan: never dropped; the
 * producer pauses reading while raw_bytes is over its cap. */
int guest_outq_raw(struct guest_outq *q, uint16_t type, uint16_t chan,
		   const void *data, size_t len);
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

/* ---- security.c / caps.c / seccomp.c ---- */
/* What a container's process (and every process exec'd into it) runs
 * with, merged from the pod's and the container's securityContext. */
struct guest_bpf;
struct guest_sec {
	bool has_uid, has_gid;
	uid_t uid;                   /* runAsUser */
	gid_t gid;                   /* runAsGroup */
	bool run_as_non_root;
	gid_t extra_groups[GUEST_MAX_GROUPS];   /* supplementalGroups + fsGroup */
	size_t n_extra_groups;
	bool read_only_root;
	bool no_new_privs;           /* allowPrivilegeEscalation: false */
	uint64_t caps;               /* bounding/permitted/effective set */
	bool seccomp;                /* a filter: RuntimeDefault or Localhost */
	bool seccomp_localhost;      /* Localhost: the runtime carries it */
	const struct guest_bpf *bpf; /* compiled by guest_seccomp_prepare */
};
/* Merge the pod's and the container's securityContext (container wins). */
int guest_sec_build(const struct pod *pod, const struct pod_container *pc,
		    struct guest_sec *out, struct pv_err *err);
/* Resolve the user in the current root (image /etc/passwd, /etc/group),
 * then apply runAsUser/runAsGroup/groups. runAsNonRoot violations return
 * -EPERM with the Kubernetes message. */
int guest_sec_user(const struct guest_sec *sec, const char *image_user,
		   struct guest_user *out, struct pv_err *err);
/* In the child, right before execve: groups, uid/gid, capabilities,
 * no_new_privs, seccomp. */
int guest_sec_apply(const struct guest_sec *sec, const struct guest_user *u,
		    struct pv_err *err);
/* "NET_ADMIN" / "CAP_NET_ADMIN" -> number, -1 if unknown. */
int guest_cap_from_name(const char *name);
int guest_cap_last(void);    /* highest capability the kernel knows */
uint64_t guest_caps_default(void);
/* Default set, minus drop ("ALL" supported), plus add. */
int guest_caps_compute(char *const *add, size_t n_add, char *const *drop,
		       size_t n_drop, uint64_t *out, struct pv_err *err);
int guest_caps_bound(uint64_t caps, struct pv_err *err);
int guest_caps_apply(uint64_t caps, struct pv_err *err);
/* PID 1, before forking: compile the container's filter once (the
 * default one is shared by containers with the same caps) into sec->bpf;
 * rc carries a Localhost profile. */
int guest_seccomp_prepare(struct guest_sec *sec,
			  const struct runtime_container *rc, struct pv_err *err);
int guest_seccomp_load(const struct guest_sec *sec, struct pv_err *err);
/* The RuntimeDefault verdict on a syscall for caps, ignoring arguments:
 * 0 allowed, -1 depends on the arguments, else the errno (tests, docs). */
int guest_seccomp_default_verdict(const char *name, uint64_t caps);

/* ---- mask.c ---- */
/* In the container child after pivot_root: runc's masked paths (/proc/kcore,
 * /proc/keys, /sys/firmware, ...) and read-only paths (/proc/sys,
 * /proc/sysrq-trigger, ...). */
int guest_mask_paths(struct pv_err *err);

/* ---- volumes.c ---- */
/* Open (creating directories as needed, or a regular file when
 * want_file) path below the directory rootfd without following any
 * symlink; "..", "." and empty components are refused. Returns an O_PATH
 * fd or -errno. */
int guest_path_in_root(int rootfd, const char *path, bool create,
		       bool want_file, mode_t mode, struct pv_err *err);
/* Bind mount the fd src onto the fd dst (both O_PATH). */
int guest_bind_fds(int src, int dst, bool ro, struct pv_err *err);
/* Create the pod's emptyDir volumes under GUEST_VOL_DIR. */
int guest_volumes_setup(const struct pod *pod, struct pv_err *err);
/* In the container child: before pivot_root, a detached copy of each
 * volumeMount's source (fds[i] for pc->mounts[i]); after /dev exists,
 * attach them at their mountPaths (closes the fds). */
int guest_volumes_detach(const struct pod *pod, const struct pod_container *pc,
			 int *fds, struct pv_err *err);
int guest_volumes_attach(const struct pod_container *pc, int *fds,
			 struct pv_err *err);

/* ---- etc.c ---- */
/* Write GUEST_ETC_DIR/{hosts,hostname,resolv.conf}. */
int guest_etc_write(const char *hostname, const char *pod_ip,
		    const char *resolv_conf, struct pv_err *err);
/* Text of the hosts file (exposed for tests). */
int guest_etc_hosts_text(const char *hostname, const char *pod_ip, char *buf,
			 size_t len);
/* In the container child, before pivot_root. */
int guest_etc_mount(const char *rootfs, struct pv_err *err);

/* ---- cgroup.c ---- */
int guest_cgroup_init(struct pv_err *err);
/* Create (or reuse) GUEST_CGROUP_PODVM/NAME with the container's limits;
 * *dirfd is an O_DIRECTORY fd for clone3(CLONE_INTO_CGROUP). */
int guest_cgroup_prepare(const char *name, const struct pod_resources *res,
			 int *dirfd, struct pv_err *err);
/* memory.events oom_kill counter; 0 when unknown. */
uint64_t guest_cgroup_oom_kills(const char *name);
/* "max" or bytes / cpu.max line (exposed for tests). */
void guest_cgroup_cpu_max(int64_t millicores, char *buf, size_t len);
#define GUEST_PIDS_MAX_DEFAULT 4096

/* ---- container.c ---- */
struct guest_ctr_spawn {
	const struct pod *pod;
	const struct pod_container *pc;
	const struct runtime_container *rc;
	const struct guest_sec *sec;
	const char *hostname;
	const char *rootfs;
	const char *term_file;     /* host side of terminationMessagePath */
	int cgroup_fd;             /* -1: stay in our cgroup */
	int out_w, err_w;          /* write ends, become stdout / stderr */
};
/* Start the container; on success *pid is its init. A start failure
 * (before or at exec) returns <0 with err holding a Kubernetes-like
 * message; *config_error tells CreateContainerConfigError (runAsNonRoot)
 * from StartError. */
int guest_ctr_spawn(const struct guest_ctr_spawn *s, pid_t *pid,
		    bool *config_error, struct pv_err *err);
/* PATH lookup the way Go's exec.LookPath reports it (exposed for tests). */
int guest_lookpath(const char *file, const char *path, char *out,
		   size_t outlen, struct pv_err *err);
const char *guest_env_get(char *const *env, size_t n, const char *key);
/* The /dev the container sees (also for tests: the node list). */
int guest_child_mount(const char *src, const char *dst, const char *type,
		      unsigned long flags, const char *data, mode_t mode,
		      struct pv_err *err);

/* ---- rtspec.c ---- */
size_t guest_rt_n_init(const struct pod_runtime *rt);
const struct runtime_container *guest_rt_ctr(const struct pod_runtime *rt,
					     bool init, size_t i);
const char *guest_rt_pod_ip(const struct pod_runtime *rt);
const char *guest_rt_resolv_conf(const struct pod_runtime *rt);

/* ---- ctrs.c / restart.c ---- */
enum guest_ctr_phase {
	GUEST_CTR_WAITING = 0,      /* not started yet, or backing off */
	GUEST_CTR_RUNNING,          /* process alive */
	GUEST_CTR_EXITED,           /* reaped, pipes still draining */
	GUEST_CTR_TERMINATED,       /* final: will not run again */
};

enum guest_probe_kind { GUEST_PROBE_STARTUP = 0, GUEST_PROBE_LIVENESS,
			GUEST_PROBE_READINESS, GUEST_PROBE_N };

struct guest_probe_st {
	const struct pod_probe *p;  /* NULL: none */
	int64_t next_ms;            /* monotonic: next run */
	pid_t pid;                  /* running check, -1 */
	int successes, failures;
	bool ok;                    /* settled result */
};

#define GUEST_TAIL_MAX 2048

struct guest_ctr {
	int index;                  /* agent index: [init..., regular...] */
	bool is_init;
	const struct pod_container *pc;
	const struct runtime_container *rc;
	struct guest_sec sec;
	bool sec_ok;                /* sec built; else sec_err says why */
	char sec_err[AGENT_MESSAGE_MAX];
	enum guest_ctr_phase phase;
	pid_t pid;
	int out_r, err_r;           /* pipe read ends, -1 when at EOF */
	struct guest_exit exit;
	char reason[AGENT_REASON_MAX];
	char message[AGENT_MESSAGE_MAX];
	int64_t drain_deadline;     /* monotonic ms */
	int64_t started_ms;         /* wall clock of the RUNNING event */
	int64_t finished_ms;        /* wall clock of the TERMINATED event */
	/* restarts */
	int restart_count;
	int64_t backoff_ms;         /* delay before the next restart */
	int64_t restart_at;         /* monotonic ms; 0 = none scheduled */
	int64_t run_mono;           /* monotonic start of this run */
	bool has_last;
	struct agent_ctr_last last;
	bool never_started;         /* final, reported as WAITING */
	bool ran;                   /* started at least once */
	char wait_reason[AGENT_REASON_MAX];
	char wait_message[AGENT_MESSAGE_MAX];
	/* resources */
	uint64_t oom_base;
	/* termination */
	bool terminating;
	bool sigterm_sent;
	int64_t kill_at;            /* monotonic: SIGKILL; 0 none */
	bool killed;
	pid_t prestop_pid, poststart_pid;
	char force_reason[AGENT_REASON_MAX];   /* e.g. FailedPostStartHook */
	/* probes */
	struct guest_probe_st probes[GUEST_PROBE_N];
	bool startup_ok;
	bool ready;
	/* logs for FallbackToLogsOnError */
	char tail[GUEST_TAIL_MAX];
	size_t tail_len;
};

#define GUEST_MAX_JOBS 64
enum guest_job_kind { GUEST_JOB_PROBE = 1, GUEST_JOB_POSTSTART,
		      GUEST_JOB_PRESTOP, GUEST_JOB_EXEC };

struct guest_job {
	pid_t pid;                  /* 0: free slot */
	enum guest_job_kind kind;
	int ctr;
	int probe;                  /* enum guest_probe_kind */
	int exec_slot;
	int64_t deadline;           /* monotonic: SIGKILL; 0 none */
	bool timed_out;
};

struct guest_exec;              /* exec.c */

struct guest_pod {
	struct pod *pod;
	struct pod_runtime rt;
	bool have_rt;
	struct guest_ctr ctrs[GUEST_MAX_CTRS];
	size_t n;                   /* all containers */
	size_t n_init;              /* the first n_init are init containers */
	size_t init_next;           /* next init container to run */
	bool init_done;
	bool stopping;
	bool failed;                /* an init container failed for good */
	int64_t deadline_at;        /* activeDeadlineSeconds, monotonic; 0 none */
	char reason[AGENT_REASON_MAX];      /* pod-level, POD_DONE */
	char message[AGENT_MESSAGE_MAX];
	struct guest_job jobs[GUEST_MAX_JOBS];
	struct guest_exec *execs;   /* exec.c */
	int epfd;
	struct guest_outq *q;
};

/* epoll tags */
#define GUEST_TAG_PORT           1u
#define GUEST_TAG_SIG            2u
#define GUEST_TAG_PIPE(i, e)     (0x100u + (uint64_t)(i) * 2u + (uint64_t)(e))
#define GUEST_TAG_EXEC(s, e)     (0x1000u + (uint64_t)(s) * 4u + (uint64_t)(e))

void guest_pod_init(struct guest_pod *gp);
/* Bind containers to the spec (pod + runtime) after POD_SPEC. */
int guest_pod_bind(struct guest_pod *gp, struct pv_err *err);
/* After a host reconnects: queue every started container's current state
 * so the new host rebuilds its view (events carry their original times). */
int guest_pod_snapshot(struct guest_pod *gp, struct guest_outq *q);
void guest_pod_free(struct guest_pod *gp);
/* Prepare the pod (etc files, cgroups, volumes) and start the first
 * containers; a start failure is an event, not an error. <0 only for
 * -ENOMEM. */
int guest_pod_start(struct guest_pod *gp, struct guest_outq *q, int epfd);
void guest_pod_reap(struct guest_pod *gp);
struct guest_ctr *guest_pod_find_pid(struct guest_pod *gp, pid_t pid);
struct guest_ctr *guest_pod_find_name(struct guest_pod *gp, const char *name);
void guest_pipe_read(struct guest_pod *gp, struct guest_outq *q, int epfd,
		     int idx, int is_err);
void guest_pipe_close(int epfd, int *fd);
/* Timers (restarts, probes, SIGKILL after grace, drain limits, deadline)
 * and final events. */
int guest_pod_progress(struct guest_pod *gp, struct guest_outq *q, int epfd,
		       int64_t now);
int64_t guest_pod_next_deadline(const struct guest_pod *gp);  /* 0: none */
bool guest_pod_all_terminated(const struct guest_pod *gp);
/* grace_s < 0: the pod's terminationGracePeriodSeconds. */
void guest_pod_stop(struct guest_pod *gp, int64_t grace_s, int64_t now);
void guest_pod_kill_all(struct guest_pod *gp);
char *guest_pod_done_json(const struct guest_pod *gp);
/* Queue the container's current state as a CONTAINER event. */
int guest_ctr_event(struct guest_outq *q, struct guest_ctr *c);
int guest_ctr_start(struct guest_pod *gp, struct guest_ctr *c, int epfd,
		    bool *config_error, struct pv_err *err);
/* The image's StopSignal, else SIGTERM. */
int guest_ctr_stop_signal(const struct guest_ctr *c);
/* Begin terminating one container: preStop, stop signal, SIGKILL at grace. */
void guest_ctr_kill(struct guest_pod *gp, struct guest_ctr *c, int64_t grace_ms,
		    int64_t now);

/* restart.c */
/* The container's run ended (exit, start failure): events, then restart
 * with back-off, next init container, or final state. */
int guest_ctr_finish(struct guest_pod *gp, struct guest_outq *q,
		     struct guest_ctr *c);
/* Start whatever is due (init sequencing, restarts after back-off). */
int guest_restart_progress(struct guest_pod *gp, struct guest_outq *q,
			   int epfd, int64_t now);
/* Kubernetes back-off: 10 s doubling to 5 min; reset after 10 min of run. */
int64_t guest_backoff_next(int64_t cur_ms, int64_t ran_ms);
#define GUEST_BACKOFF_INITIAL_MS 10000
#define GUEST_BACKOFF_MAX_MS     300000
#define GUEST_BACKOFF_RESET_MS   600000
/* Whether a container that exited with exit_code runs again. */
bool guest_restart_wanted(enum pod_restart_policy pol, bool is_init,
			  int exit_code);

/* ---- jobs.c ---- */
struct guest_job *guest_job_alloc(struct guest_pod *gp);
struct guest_job *guest_job_find(struct guest_pod *gp, pid_t pid);
/* Fork a process that enters container c (namespaces, cgroup, user,
 * caps, no_new_privs, seccomp, env, cwd) and execs argv. fds[0..2]
 * become its stdin/stdout/stderr (-1: /dev/null). tty_slave_name: when
 * not NULL, a pty is allocated in the container's devpts: *ptm_out gets
 * the master. */
int guest_enter_spawn(struct guest_pod *gp, struct guest_ctr *c,
		      char *const *argv, const int fds[3], bool tty,
		      int *ptm_out, pid_t *pid, struct pv_err *err);
/* Fork a plain helper (http/tcp probe) in the VM; returns its pid. */
pid_t guest_job_fork_fn(int (*fn)(void *), void *arg);
void guest_job_done(struct guest_pod *gp, struct guest_outq *q,
		    struct guest_job *j, int wstatus);
void guest_jobs_timeouts(struct guest_pod *gp, int64_t now);
int64_t guest_jobs_next_deadline(const struct guest_pod *gp);

/* ---- probe.c ---- */
void guest_probes_reset(struct guest_ctr *c, int64_t now);
int guest_probes_progress(struct guest_pod *gp, struct guest_outq *q,
			  struct guest_ctr *c, int64_t now);
int64_t guest_probes_next(const struct guest_ctr *c);
void guest_probe_result(struct guest_pod *gp, struct guest_outq *q,
			struct guest_ctr *c, int kind, bool ok);
/* The HTTP check, exposed for tests: status line -> code or -1. */
int guest_http_status(const char *resp, size_t len);

/* ---- hooks.c ---- */
int guest_hook_run(struct guest_pod *gp, struct guest_ctr *c,
		   const struct pod_probe *h, enum guest_job_kind kind,
		   int64_t timeout_ms, pid_t *pid);
/* After exit: terminated message from terminationMessagePath / logs. */
void guest_term_message(struct guest_ctr *c);
void guest_tail_add(struct guest_ctr *c, const void *data, size_t len);
/* Last lines of buf (<= max_lines, <= max_bytes): exposed for tests. */
size_t guest_tail_lines(const char *buf, size_t len, size_t max_lines,
			size_t max_bytes, const char **start);
int guest_term_path(const char *name, char *buf, size_t len);

/* ---- exec.c ---- */
#define GUEST_MAX_EXECS 16
int guest_exec_start(struct guest_pod *gp, struct guest_outq *q,
		     const uint8_t *p, size_t n, struct pv_err *err);
int guest_exec_stdin(struct guest_pod *gp, uint16_t id, const uint8_t *p,
		     size_t n);
int guest_exec_resize(struct guest_pod *gp, const uint8_t *p, size_t n,
		      struct pv_err *err);
void guest_exec_io(struct guest_pod *gp, struct guest_outq *q, uint64_t tag);
void guest_exec_exited(struct guest_pod *gp, struct guest_outq *q, int slot,
		       int wstatus);
int guest_exec_progress(struct guest_pod *gp, struct guest_outq *q);
void guest_exec_free(struct guest_pod *gp);

/* ---- agent.c ---- */
struct guest_agent;
/* The whole life of the pod after boot; returns when it is time to power
 * off (0) or on a fatal error (<0, err set). */
int guest_agent_run(struct pv_err *err);

#endif
