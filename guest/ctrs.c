/* The pod's containers as a set: bind them to the spec, start one,
 * turn exits into events, terminate them (preStop, SIGTERM, SIGKILL at
 * the grace deadline), timers. Restart policy and init container
 * sequencing live in restart.c (guest_ctr_finish is where every run
 * ends). Index = position in [initContainers..., containers...]. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUEST_DISK_TIMEOUT_MS  10000
#define GUEST_DRAIN_MS         5000     /* after exit, wait this long for EOF */
#define GUEST_PIPE_SIZE        (1024 * 1024)

int guest_ctr_event(struct guest_outq *q, struct guest_ctr *c)
{
	struct agent_ctr_event ev;
	char *json;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.index = (uint16_t)c->index;
	ev.restart_count = c->restart_count;
	ev.has_last = c->has_last;
	ev.last = c->last;
	if (c->phase == GUEST_CTR_RUNNING || c->phase == GUEST_CTR_EXITED) {
		/* EXITED still draining: the host sees it running until then */
		if (!c->started_ms)
			c->started_ms = guest_wall_ms();
		ev.time_ms = c->started_ms;
		ev.state = AGENT_CTR_RUNNING;
		ev.has_ready = true;
		ev.ready = c->ready;
	} else if (c->phase == GUEST_CTR_WAITING || c->never_started) {
		ev.state = AGENT_CTR_WAITING;
		ev.time_ms = guest_wall_ms();
		snprintf(ev.reason, sizeof(ev.reason), "%s", c->wait_reason);
		snprintf(ev.message, sizeof(ev.message), "%s", c->wait_message);
	} else {
		if (!c->finished_ms)
			c->finished_ms = guest_wall_ms();
		ev.time_ms = c->finished_ms;
		ev.state = AGENT_CTR_TERMINATED;
		ev.exit_code = c->exit.exit_code;
		ev.signal = c->exit.signal;
		snprintf(ev.reason, sizeof(ev.reason), "%s", c->reason);
		snprintf(ev.message, sizeof(ev.message), "%s", c->message);
	}
	json = agent_msg_ctr_event(&ev);
	rc = guest_outq_control(q, AGENT_CONTAINER, json);
	free(json);
	return rc;
}

int guest_pod_snapshot(struct guest_pod *gp, struct guest_outq *q)
{
	for (size_t i = 0; i < gp->n; i++) {
		int rc;

		if (gp->ctrs[i].phase == GUEST_CTR_WAITING && !gp->ctrs[i].wait_reason[0])
			continue;
		rc = guest_ctr_event(q, &gp->ctrs[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void guest_pod_init(struct guest_pod *gp)
{
	size_t i;
	int k;

	memset(gp, 0, sizeof(*gp));
	gp->epfd = -1;
	for (i = 0; i < GUEST_MAX_CTRS; i++) {
		gp->ctrs[i].index = (int)i;
		gp->ctrs[i].pid = -1;
		gp->ctrs[i].out_r = -1;
		gp->ctrs[i].err_r = -1;
		gp->ctrs[i].prestop_pid = gp->ctrs[i].poststart_pid = -1;
		for (k = 0; k < GUEST_PROBE_N; k++)
			gp->ctrs[i].probes[k].pid = -1;
	}
}

int guest_pod_bind(struct guest_pod *gp, struct pv_err *err)
{
	const struct pod *pod = gp->pod;
	size_t i;
	int rc;

	gp->n_init = pod->n_init_containers;
	gp->n = pod->n_init_containers + pod->n_containers;
	if (gp->n > GUEST_MAX_CTRS)
		return pv_err_set(err, E2BIG, "too many containers");
	for (i = 0; i < gp->n; i++) {
		struct guest_ctr *c = &gp->ctrs[i];
		struct pv_err e2;

		c->is_init = i < gp->n_init;
		c->pc = c->is_init ? &pod->init_containers[i]
				   : &pod->containers[i - gp->n_init];
		c->rc = guest_rt_ctr(&gp->rt, c->is_init,
				     c->is_init ? i : i - gp->n_init);
		if (!c->rc || !c->rc->name || strcmp(c->rc->name, c->pc->name) != 0)
			return pv_err_set(err, EINVAL, "POD_SPEC: no runtime for %s "
					  "container %zu", c->is_init ? "init" : "",
					  c->is_init ? i : i - gp->n_init);
		c->backoff_ms = GUEST_BACKOFF_INITIAL_MS;
		pv_err_clear(&e2);
		rc = guest_sec_build(pod, c->pc, &c->sec, &e2);
		/* compile its seccomp filter once, here, for all its forks */
		if (rc == 0)
			rc = guest_seccomp_prepare(&c->sec, c->rc, &e2);
		c->sec_ok = rc == 0;
		if (rc < 0)
			snprintf(c->sec_err, sizeof(c->sec_err), "%s", e2.msg);
	}
	return 0;
}

void guest_pod_free(struct guest_pod *gp)
{
	size_t i;

	guest_exec_free(gp);
	for (i = 0; i < GUEST_MAX_CTRS; i++) {
		if (gp->ctrs[i].out_r >= 0)
			close(gp->ctrs[i].out_r);
		if (gp->ctrs[i].err_r >= 0)
			close(gp->ctrs[i].err_r);
		gp->ctrs[i].out_r = gp->ctrs[i].err_r = -1;
	}
	if (gp->have_rt)
		runtime_free(&gp->rt);
	gp->have_rt = false;
	pod_free(gp->pod);
	gp->pod = NULL;
}

static int guest_pipe(int p[2], struct pv_err *err)
{
	/* Only our read end is non-blocking: the container's stdout must
	 * behave like an ordinary blocking pipe. */
	if (pipe2(p, O_CLOEXEC) < 0)
		return pv_err_sys(err, errno, "pipe");
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		p[0] = p[1] = -1;
		return pv_err_sys(err, e, "fcntl O_NONBLOCK");
	}
	fcntl(p[0], F_SETPIPE_SZ, GUEST_PIPE_SIZE);  /* fewer wakeups; optional */
	return 0;
}

/* A fresh writable layer for every run, as a new container would get. */
static void guest_rootfs_release(const char *name)
{
	char base[300];

	snprintf(base, sizeof(base), GUEST_RUN_DIR "/ctr/%s", name);
	umount2(base, MNT_DETACH);
}

static int guest_term_file(const char *name, char *path, size_t len,
			   struct pv_err *err)
{
	int fd, rc;

	rc = guest_mkdir_p(GUEST_TERM_DIR, 0755);
	if (rc < 0)
		return pv_err_sys(err, -rc, "mkdir %s", GUEST_TERM_DIR);
	rc = guest_term_path(name, path, len);
	if (rc < 0)
		return pv_err_set(err, -rc, "path too long");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
	if (fd < 0)
		return pv_err_sys(err, errno, "create %s", path);
	fchmod(fd, 0666);   /* any container user may write its message */
	close(fd);
	return 0;
}

int guest_ctr_start(struct guest_pod *gp, struct guest_ctr *c, int epfd,
		    bool *config_error, struct pv_err *err)
{
	const struct runtime_container *rc = c->rc;
	struct guest_ctr_spawn sp = { .pod = gp->pod, .pc = c->pc, .rc = rc,
				      .sec = &c->sec, .hostname = gp->rt.hostname,
				      .cgroup_fd = -1 };
	char lower[256], rootfs[320], term[320];
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct epoll_event ev;
	int rc_;

	*config_error = false;
	if (!c->sec_ok) {
		*config_error = true;
		rc_ = pv_err_set(err, EINVAL, "%s", c->sec_err);
		goto out;
	}
	rc_ = guest_disk_mount(rc->disk_serial, lower, sizeof(lower),
			       GUEST_DISK_TIMEOUT_MS, err);
	if (rc_ < 0)
		goto out;
	if (c->ran)
		guest_rootfs_release(rc->name);
	rc_ = guest_rootfs_prepare(rc->name, lower, rootfs, sizeof(rootfs), err);
	if (rc_ < 0)
		goto out;
	rc_ = guest_term_file(rc->name, term, sizeof(term), err);
	if (rc_ < 0)
		goto out;
	rc_ = guest_cgroup_prepare(rc->name, &c->pc->resources, &sp.cgroup_fd, err);
	if (rc_ < 0)
		goto out;
	c->oom_base = guest_cgroup_oom_kills(rc->name);
	rc_ = guest_pipe(outp, err);
	if (rc_ < 0)
		goto out;
	rc_ = guest_pipe(errp, err);
	if (rc_ < 0)
		goto out;
	sp.rootfs = rootfs;
	sp.term_file = term;
	sp.out_w = outp[1];
	sp.err_w = errp[1];
	c->ran = true;
	rc_ = guest_ctr_spawn(&sp, &c->pid, config_error, err);
	if (rc_ < 0)
		goto out;
	c->out_r = outp[0];
	c->err_r = errp[0];
	outp[0] = errp[0] = -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = GUEST_TAG_PIPE(c->index, 0);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->out_r, &ev) < 0) {
		rc_ = pv_err_sys(err, errno, "epoll add");
		goto out;
	}
	ev.data.u64 = GUEST_TAG_PIPE(c->index, 1);
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->err_r, &ev) < 0) {
		rc_ = pv_err_sys(err, errno, "epoll add");
		goto out;
	}
	rc_ = 0;
out:
	if (sp.cgroup_fd >= 0)
		close(sp.cgroup_fd);
	if (outp[0] >= 0)
		close(outp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (errp[1] >= 0)
		close(errp[1]);
	return rc_;
}

struct guest_ctr *guest_pod_find_pid(struct guest_pod *gp, pid_t pid)
{
	size_t i;

	for (i = 0; i < gp->n; i++)
		if (gp->ctrs[i].phase == GUEST_CTR_RUNNING && gp->ctrs[i].pid == pid)
			return &gp->ctrs[i];
	return NULL;
}

struct guest_ctr *guest_pod_find_name(struct guest_pod *gp, const char *name)
{
	size_t i;

	for (i = 0; i < gp->n; i++)
		if (strcmp(gp->ctrs[i].pc->name, name) == 0)
			return &gp->ctrs[i];
	return NULL;
}

/* PID 1 inherits every orphan of the VM: reap them all, and note which
 * were containers or our helper processes. */
void guest_pod_reap(struct guest_pod *gp)
{
	for (;;) {
		struct guest_ctr *c;
		struct guest_job *j;
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		j = guest_job_find(gp, pid);
		if (j) {
			guest_job_done(gp, gp->q, j, st);
			continue;
		}
		c = guest_pod_find_pid(gp, pid);
		if (!c)
			continue;
		guest_exit_from_status(st, &c->exit);
		snprintf(c->reason, sizeof(c->reason), "%s", c->exit.reason);
		c->message[0] = '\0';
		c->phase = GUEST_CTR_EXITED;
		c->pid = -1;
		c->drain_deadline = guest_now_ms() + GUEST_DRAIN_MS;
	}
}

void guest_pipe_close(int epfd, int *fd)
{
	if (*fd < 0)
		return;
	epoll_ctl(epfd, EPOLL_CTL_DEL, *fd, NULL);
	close(*fd);
	*fd = -1;
}

/* Read what a pipe has now (bounded per call for fairness). */
void guest_pipe_read(struct guest_pod *gp, struct guest_outq *q, int epfd,
		     int idx, int is_err)
{
	static uint8_t buf[AGENT_MAX_LOG_CHUNK];
	struct guest_ctr *c = &gp->ctrs[idx];
	int *fd = is_err ? &c->err_r : &c->out_r;
	int round;

	for (round = 0; round < 16 && *fd >= 0; round++) {
		ssize_t n = read(*fd, buf, sizeof(buf));

		if (n > 0) {
			guest_outq_log(q, idx, is_err ? AGENT_LOG_STDERR : AGENT_LOG_STDOUT,
				       buf, (size_t)n);
			if (c->pc && c->pc->term_msg_policy == POD_TERM_MSG_FALLBACK_LOGS)
				guest_tail_add(c, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		guest_pipe_close(epfd, fd);  /* EOF (or a broken pipe) */
	}
}

/* What asks a container to stop: its image's StopSignal (as containerd's
 * CRI does), else SIGTERM. */
int guest_ctr_stop_signal(const struct guest_ctr *c)
{
	return c->rc && c->rc->stop_signal > 0 ? c->rc->stop_signal : SIGTERM;
}

void guest_ctr_kill(struct guest_pod *gp, struct guest_ctr *c, int64_t grace_ms,
		    int64_t now)
{
	int64_t at = now + (grace_ms > 0 ? grace_ms : 0);

	if (c->phase != GUEST_CTR_RUNNING)
		return;
	if (c->terminating) {
		if (at < c->kill_at)
			c->kill_at = at;   /* a later request may shorten it */
		return;
	}
	c->terminating = true;
	c->kill_at = at;
	/* preStop first (within the grace period), then the stop signal */
	if (c->pc->pre_stop.kind != POD_PROBE_NONE && grace_ms > 0 &&
	    guest_hook_run(gp, c, &c->pc->pre_stop, GUEST_JOB_PRESTOP, grace_ms,
			   &c->prestop_pid) == 0)
		return;
	kill(c->pid, guest_ctr_stop_signal(c));
	c->sigterm_sent = true;
}

int guest_pod_progress(struct guest_pod *gp, struct guest_outq *q, int epfd,
		       int64_t now)
{
	size_t i;
	int rc;

	if (gp->deadline_at && now >= gp->deadline_at && !gp->stopping) {
		/* activeDeadlineSeconds: the pod fails, containers stop */
		snprintf(gp->reason, sizeof(gp->reason), "DeadlineExceeded");
		snprintf(gp->message, sizeof(gp->message),
			 "Pod was active on the node longer than the specified deadline");
		guest_diag("pod: active deadline exceeded");
		guest_pod_stop(gp, -1, now);
	}
	guest_jobs_timeouts(gp, now);
	for (i = 0; i < gp->n; i++) {
		struct guest_ctr *c = &gp->ctrs[i];

		if (c->phase == GUEST_CTR_RUNNING && c->terminating && !c->killed) {
			if (now >= c->kill_at) {
				kill(c->pid, SIGKILL);
				c->killed = true;
			} else if (!c->sigterm_sent && c->prestop_pid < 0) {
				kill(c->pid, guest_ctr_stop_signal(c));
				c->sigterm_sent = true;
			}
		}
		if (c->phase == GUEST_CTR_RUNNING && !c->terminating) {
			rc = guest_probes_progress(gp, q, c, now);
			if (rc < 0)
				return rc;
		}
		if (c->phase != GUEST_CTR_EXITED)
			continue;
		if (now >= c->drain_deadline) {
			/* Something in the container's namespace kept its pipe
			 * open; take what is there and stop waiting. */
			guest_pipe_read(gp, q, epfd, (int)i, 0);
			guest_pipe_read(gp, q, epfd, (int)i, 1);
			guest_pipe_close(epfd, &c->out_r);
			guest_pipe_close(epfd, &c->err_r);
		}
		if (c->out_r < 0 && c->err_r < 0) {
			rc = guest_ctr_finish(gp, q, c);
			if (rc < 0)
				return rc;
		}
	}
	rc = guest_restart_progress(gp, q, epfd, now);
	if (rc < 0)
		return rc;
	return guest_exec_progress(gp, q);
}

static int64_t guest_min_deadline(int64_t d, int64_t x)
{
	return x && (!d || x < d) ? x : d;
}

int64_t guest_pod_next_deadline(const struct guest_pod *gp)
{
	int64_t d = 0;
	size_t i;

	d = guest_min_deadline(d, gp->stopping ? 0 : gp->deadline_at);
	d = guest_min_deadline(d, guest_jobs_next_deadline(gp));
	for (i = 0; i < gp->n; i++) {
		const struct guest_ctr *c = &gp->ctrs[i];

		if (c->phase == GUEST_CTR_EXITED)
			d = guest_min_deadline(d, c->drain_deadline);
		if (c->phase == GUEST_CTR_RUNNING && c->terminating && !c->killed)
			d = guest_min_deadline(d, c->kill_at);
		if (c->phase == GUEST_CTR_RUNNING && !c->terminating)
			d = guest_min_deadline(d, guest_probes_next(c));
		if (c->phase == GUEST_CTR_WAITING && !gp->stopping)
			d = guest_min_deadline(d, c->restart_at);
	}
	return d;
}

bool guest_pod_all_terminated(const struct guest_pod *gp)
{
	size_t i;

	for (i = 0; i < gp->n; i++)
		if (gp->ctrs[i].phase != GUEST_CTR_TERMINATED)
			return false;
	return true;
}

void guest_pod_stop(struct guest_pod *gp, int64_t grace_s, int64_t now)
{
	size_t i;

	if (grace_s < 0)
		grace_s = gp->pod ? gp->pod->grace_period : POD_DEFAULT_GRACE;
	if (grace_s > AGENT_GRACE_MAX)
		grace_s = AGENT_GRACE_MAX;
	gp->stopping = true;
	for (i = 0; i < gp->n; i++)
		guest_ctr_kill(gp, &gp->ctrs[i], grace_s * 1000, now);
	/* waiting ones are settled by guest_restart_progress */
}

void guest_pod_kill_all(struct guest_pod *gp)
{
	size_t i;

	for (i = 0; i < gp->n; i++)
		if (gp->ctrs[i].phase == GUEST_CTR_RUNNING && gp->ctrs[i].pid > 0)
			kill(gp->ctrs[i].pid, SIGKILL);
	for (i = 0; i < GUEST_MAX_JOBS; i++)
		if (gp->jobs[i].pid > 0)
			kill(gp->jobs[i].pid, SIGKILL);
}

char *guest_pod_done_json(const struct guest_pod *gp)
{
	struct agent_pod_done *d = calloc(1, sizeof(*d));
	char *json;
	size_t i;

	if (!d)
		return NULL;
	for (i = 0; i < gp->n && i < AGENT_MAX_CTRS; i++) {
		const struct guest_ctr *c = &gp->ctrs[i];

		d->containers[i].index = (uint16_t)i;
		d->containers[i].restart_count = c->restart_count;
		if (c->never_started) {
			d->containers[i].waiting = true;
			snprintf(d->containers[i].reason, sizeof(d->containers[i].reason),
				 "%s", c->wait_reason);
			continue;
		}
		d->containers[i].exit_code = c->exit.exit_code;
		d->containers[i].signal = c->exit.signal;
		snprintf(d->containers[i].reason, sizeof(d->containers[i].reason), "%s",
			 c->reason);
	}
	d->n = gp->n;
	snprintf(d->reason, sizeof(d->reason), "%s", gp->reason);
	snprintf(d->message, sizeof(d->message), "%s", gp->message);
	json = agent_msg_pod_done(d);
	free(d);
	return json;
}
