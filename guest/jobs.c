/* Helper processes of PID 1: exec probes, lifecycle hooks and exec
 * sessions run inside a container; http/tcp probes run in the VM (the
 * pod's network namespace). Each is a job: a pid, what it is for, an
 * optional deadline (SIGKILL). Reaped in guest_pod_reap.
 *
 * Entering a container: fork A; A joins the container's cgroup (write to
 * cgroup.procs), then its cgroup, ipc, uts, pid and mount namespaces
 * (setns to /proc/PID/ns/...), and forks B, which is inside the PID
 * namespace. B takes the container's user, groups, caps, no_new_privs,
 * seccomp, env and cwd and execs. A waits for B and exits the same way,
 * so PID 1 sees B's status; B dies with A (PR_SET_PDEATHSIG), so a
 * timeout's SIGKILL to A ends both. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

struct guest_job *guest_job_alloc(struct guest_pod *gp)
{
	size_t i;

	for (i = 0; i < GUEST_MAX_JOBS; i++)
		if (gp->jobs[i].pid <= 0) {
			memset(&gp->jobs[i], 0, sizeof(gp->jobs[i]));
			return &gp->jobs[i];
		}
	return NULL;
}

struct guest_job *guest_job_find(struct guest_pod *gp, pid_t pid)
{
	size_t i;

	for (i = 0; i < GUEST_MAX_JOBS; i++)
		if (gp->jobs[i].pid == pid)
			return &gp->jobs[i];
	return NULL;
}

static void guest_child_signals(void)
{
	sigset_t none;
	int sig;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
}

pid_t guest_job_fork_fn(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		guest_child_signals();
		/* hold none of PID 1's pipes (an exec's stdin would never see EOF) */
		syscall(SYS_close_range, 3, ~0U, 0);
		_exit(fn(arg));
	}
	return pid;
}

struct guest_enter {
	struct guest_ctr *c;
	char *const *argv;
	int fds[3];
	int status_w;
	int pts;             /* pty number, -1: none */
	int ns[5];
	char cgprocs[320];
};

__attribute__((noreturn))
static void guest_enter_fail(struct guest_enter *e, const struct pv_err *err)
{
	char buf[AGENT_MESSAGE_MAX];
	size_t n = strnlen(err->msg, sizeof(buf) - 1);
	ssize_t w;

	memcpy(buf, err->msg, n);
	w = write(e->status_w, buf, n ? n : 1);
	(void)w;
	_exit(126);
}

/* B: inside the PID namespace, in the container's root. */
__attribute__((noreturn))
static void guest_enter_exec(struct guest_enter *e)
{
	const struct runtime_container *rc = e->c->rc;
	const char *cwd = rc->cwd && *rc->cwd ? rc->cwd : "/";
	struct guest_user user;
	struct pv_err err;
	char path[4096], **envp;
	int i, devnull;

	pv_err_clear(&err);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (setsid() < 0) {
		pv_err_sys(&err, errno, "setsid");
		guest_enter_fail(e, &err);
	}
	if (e->pts >= 0) {
		char p[64];
		int fd;

		snprintf(p, sizeof(p), "/dev/pts/%d", e->pts);
		fd = open(p, O_RDWR | O_NOCTTY);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0) {
			pv_err_sys(&err, errno, "open %s", p);
			guest_enter_fail(e, &err);
		}
		e->fds[0] = e->fds[1] = e->fds[2] = fd;
	}
	devnull = open("/dev/null", O_RDWR);
	for (i = 0; i < 3; i++)
		if (dup2(e->fds[i] >= 0 ? e->fds[i] : devnull, i) < 0) {
			pv_err_sys(&err, errno, "setting up stdio");
			guest_enter_fail(e, &err);
		}
	if (chdir(cwd) < 0) {
		pv_err_sys(&err, errno, "chdir to %s", cwd);
		guest_enter_fail(e, &err);
	}
	if (guest_sec_user(&e->c->sec, rc->user, &user, &err) < 0)
		guest_enter_fail(e, &err);
	if (guest_lookpath(e->argv[0], guest_env_get(rc->env, rc->n_env, "PATH"),
			   path, sizeof(path), &err) < 0)
		guest_enter_fail(e, &err);
	envp = calloc(rc->n_env + 1, sizeof(*envp));
	if (!envp) {
		pv_err_set(&err, ENOMEM, "out of memory");
		guest_enter_fail(e, &err);
	}
	if (rc->n_env)
		memcpy(envp, rc->env, rc->n_env * sizeof(*envp));
	if (guest_sec_apply(&e->c->sec, &user, &err) < 0)
		guest_enter_fail(e, &err);
	execve(path, e->argv, envp);
	pv_err_sys(&err, errno, "exec: \"%s\"", e->argv[0]);
	guest_enter_fail(e, &err);
}

/* A: join, fork B, wait, mirror its status. */
__attribute__((noreturn))
static void guest_enter_child(struct guest_enter *e)
{
	static const int types[5] = { CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWUTS,
				      CLONE_NEWPID, CLONE_NEWNS };
	struct pv_err err;
	int i, st, fd;
	pid_t b;

	pv_err_clear(&err);
	guest_child_signals();
	fd = open(e->cgprocs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		pv_err_sys(&err, errno, "joining the container's cgroup");
		guest_enter_fail(e, &err);
	}
	close(fd);
	for (i = 0; i < 5; i++)
		if (setns(e->ns[i], types[i]) < 0) {
			pv_err_sys(&err, errno, "setns");
			guest_enter_fail(e, &err);
		}
	b = fork();
	if (b < 0) {
		pv_err_sys(&err, errno, "fork");
		guest_enter_fail(e, &err);
	}
	if (b == 0)
		guest_enter_exec(e);
	/* A only waits now: keep none of PID 1's fds (pipes of other exec
	 * sessions would otherwise never see EOF while this one runs) */
	syscall(SYS_close_range, 3, ~0U, 0);
	while (waitpid(b, &st, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	if (WIFSIGNALED(st)) {
		signal(WTERMSIG(st), SIG_DFL);
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		kill(getpid(), WTERMSIG(st));
	}
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 127);
}

/* A pty of the container's own devpts instance: its ptmx, reached
 * through /proc/PID/root without following anything the container could
 * have planted (a symlink there would resolve in PID 1's root). */
static int guest_enter_ptmx(pid_t pid, int *ptm, int *pts, struct pv_err *err)
{
	struct open_how how = { .flags = O_RDWR | O_NOCTTY | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
					   RESOLVE_NO_MAGICLINKS };
	struct stat st;
	char p[64];
	int root, unlock = 0, rc = 0;

	*ptm = -1;
	snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
	root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return pv_err_sys(err, errno, "open the container's root");
	errno = 0;
	*ptm = (int)syscall(SYS_openat2, root, "dev/pts/ptmx", &how, sizeof(how));
	if (*ptm < 0 || fstat(*ptm, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    ioctl(*ptm, TIOCSPTLCK, &unlock) < 0 || ioctl(*ptm, TIOCGPTN, pts) < 0)
		rc = pv_err_sys(err, errno ? errno : ENOTTY,
				"allocating a pty in the container");
	close(root);
	if (rc < 0 && *ptm >= 0) {
		close(*ptm);
		*ptm = -1;
	}
	return rc;
}

static const char *const guest_ns_names[5] = { "cgroup", "ipc", "uts", "pid", "mnt" };

int guest_enter_spawn(struct guest_pod *gp, struct guest_ctr *c,
		      char *const *argv, const int fds[3], bool tty,
		      int *ptm_out, pid_t *pid, struct pv_err *err)
{
	struct guest_enter e = { .c = c, .argv = argv, .status_w = -1, .pts = -1,
				 .ns = { -1, -1, -1, -1, -1 } };
	int status_p[2] = { -1, -1 }, ptm = -1, i, rc;
	char buf[AGENT_MESSAGE_MAX];
	ssize_t n;

	(void)gp;
	*pid = -1;
	if (c->phase != GUEST_CTR_RUNNING || c->pid <= 0)
		return pv_err_set(err, ESRCH, "container %s is not running", c->pc->name);
	for (i = 0; i < 3; i++)
		e.fds[i] = fds ? fds[i] : -1;
	snprintf(e.cgprocs, sizeof(e.cgprocs), GUEST_CGROUP_PODVM "/%s/cgroup.procs",
		 c->rc->name);
	for (i = 0; i < 5; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)c->pid, guest_ns_names[i]);
		e.ns[i] = open(p, O_RDONLY | O_CLOEXEC);
		if (e.ns[i] < 0) {
			rc = pv_err_sys(err, errno, "open %s", p);
			goto out;
		}
	}
	if (tty) {
		rc = guest_enter_ptmx(c->pid, &ptm, &e.pts, err);
		if (rc < 0)
			goto out;
	}
	if (pipe2(status_p, O_CLOEXEC) < 0) {
		rc = pv_err_sys(err, errno, "pipe");
		goto out;
	}
	e.status_w = status_p[1];
	*pid = fork();
	if (*pid < 0) {
		rc = pv_err_sys(err, errno, "fork");
		goto out;
	}
	if (*pid == 0)
		guest_enter_child(&e);
	close(status_p[1]);
	status_p[1] = -1;
	do {
		n = read(status_p[0], buf, sizeof(buf) - 1);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		buf[n] = '\0';
		rc = pv_err_set(err, ENOEXEC, "%s", buf);
		kill(*pid, SIGKILL);
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		*pid = -1;
		goto out;
	}
	if (ptm_out) {
		*ptm_out = ptm;
		ptm = -1;
	}
	rc = 0;
out:
	for (i = 0; i < 5; i++)
		if (e.ns[i] >= 0)
			close(e.ns[i]);
	if (status_p[0] >= 0)
		close(status_p[0]);
	if (status_p[1] >= 0)
		close(status_p[1]);
	if (ptm >= 0)
		close(ptm);
	return rc;
}

void guest_job_done(struct guest_pod *gp, struct guest_outq *q,
		    struct guest_job *j, int wstatus)
{
	bool ok = !j->timed_out && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
	struct guest_ctr *c = j->ctr >= 0 && (size_t)j->ctr < gp->n ? &gp->ctrs[j->ctr] : NULL;
	pid_t pid = j->pid;

	j->pid = 0;
	switch (j->kind) {
	case GUEST_JOB_PROBE:
		if (c && c->probes[j->probe].pid == pid) {
			c->probes[j->probe].pid = -1;
			guest_probe_result(gp, q, c, j->probe, ok);
		}
		break;
	case GUEST_JOB_POSTSTART:
		if (c && c->poststart_pid == pid) {
			c->poststart_pid = -1;
			if (!ok && c->phase == GUEST_CTR_RUNNING) {
				guest_diag("container %s: postStart hook failed", c->pc->name);
				snprintf(c->force_reason, sizeof(c->force_reason),
					 "FailedPostStartHook");
				guest_ctr_kill(gp, c, gp->pod->grace_period * 1000,
					       guest_now_ms());
			}
		}
		break;
	case GUEST_JOB_PRESTOP:
		if (c && c->prestop_pid == pid) {
			c->prestop_pid = -1;
			if (!ok)
				guest_diag("container %s: preStop hook failed", c->pc->name);
			if (c->phase == GUEST_CTR_RUNNING && !c->sigterm_sent) {
				kill(c->pid, guest_ctr_stop_signal(c));
				c->sigterm_sent = true;
			}
		}
		break;
	case GUEST_JOB_EXEC:
		guest_exec_exited(gp, q, j->exec_slot, wstatus);
		break;
	}
}

void guest_jobs_timeouts(struct guest_pod *gp, int64_t now)
{
	size_t i;

	for (i = 0; i < GUEST_MAX_JOBS; i++) {
		struct guest_job *j = &gp->jobs[i];

		if (j->pid > 0 && j->deadline && now >= j->deadline && !j->timed_out) {
			kill(j->pid, SIGKILL);
			j->timed_out = true;
		}
	}
}

int64_t guest_jobs_next_deadline(const struct guest_pod *gp)
{
	int64_t d = 0;
	size_t i;

	for (i = 0; i < GUEST_MAX_JOBS; i++) {
		const struct guest_job *j = &gp->jobs[i];

		if (j->pid > 0 && j->deadline && !j->timed_out && (!d || j->deadline < d))
			d = j->deadline;
	}
	return d;
}
