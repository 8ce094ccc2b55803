/* The pod's containers as a set: start them in order, turn exits into
 * events, stop them with a grace period.
 *
 * Restart policy: every container runs once (Never semantics) for now.
 * guest_ctr_finish() is the single place where a container reaches its
 * final state, so Always/OnFailure (and init containers) hook in there. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUEST_DISK_TIMEOUT_MS  10000
#define GUEST_DRAIN_MS         5000     /* after exit, wait this long for EOF */
#define GUEST_PIPE_SIZE        (1024 * 1024)

static int guest_ctr_event(struct guest_outq *q, struct guest_ctr *c)
{
	struct agent_ctr_event ev;
	char *json;
	int rc;

	memset(&ev, 0, sizeof(ev));
	ev.index = (uint16_t)c->index;
	if (c->phase == GUEST_CTR_RUNNING || c->phase == GUEST_CTR_EXITED) {
		/* EXITED still draining: the host sees it running until then */
		if (!c->started_ms)
			c->started_ms = guest_wall_ms();
		ev.time_ms = c->started_ms;
		ev.state = AGENT_CTR_RUNNING;
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

		if (gp->ctrs[i].phase == GUEST_CTR_WAITING)
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

	memset(gp, 0, sizeof(*gp));
	for (i = 0; i < POD_MAX_CONTAINERS; i++) {
		gp->ctrs[i].index = (int)i;
		gp->ctrs[i].pid = -1;
		gp->ctrs[i].out_r = -1;
		gp->ctrs[i].err_r = -1;
	}
}

void guest_pod_free(struct guest_pod *gp)
{
	size_t i;

	for (i = 0; i < POD_MAX_CONTAINERS; i++) {
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

/* The container reached its final state: log pipes are done, tell the host. */
static int guest_ctr_finish(struct guest_pod *gp, struct guest_outq *q,
			    struct guest_ctr *c)
{
	int rc;

	(void)gp;
	c->phase = GUEST_CTR_TERMINATED;
	rc = guest_outq_report_final(q, c->index);
	if (rc < 0)
		return rc;
	return guest_ctr_event(q, c);
}

static void guest_ctr_start_error(struct guest_ctr *c, const struct pv_err *err)
{
	c->exit.exit_code = 128;
	c->exit.signal = 0;
	c->exit.reason = "StartError";
	snprintf(c->reason, sizeof(c->reason), "StartError");
	snprintf(c->message, sizeof(c->message), "%s", err->msg);
	guest_diag("container %d failed to start: %s", c->index, err->msg);
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

static int guest_ctr_start(struct guest_pod *gp, struct guest_ctr *c, int epfd,
			   struct pv_err *err)
{
	const struct runtime_container *rc = &gp->rt.containers[c->index];
	struct guest_ctr_spawn sp = { .rc = rc, .hostname = gp->rt.hostname };
	char lower[256], rootfs[320];
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct epoll_event ev;
	int rc_;

	rc_ = guest_disk_mount(rc->disk_serial, lower, sizeof(lower),
			       GUEST_DISK_TIMEOUT_MS, err);
	if (rc_ < 0)
		goto out;
	rc_ = guest_rootfs_prepare(rc->name, lower, rootfs, sizeof(rootfs), err);
	if (rc_ < 0)
		goto out;
	rc_ = guest_pipe(outp, err);
	if (rc_ < 0)
		goto out;
	rc_ = guest_pipe(errp, err);
	if (rc_ < 0)
		goto out;
	sp.rootfs = rootfs;
	sp.out_w = outp[1];
	sp.err_w = errp[1];
	rc_ = guest_ctr_spawn(&sp, &c->pid, err);
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

int guest_pod_start(struct guest_pod *gp, struct guest_outq *q, int epfd)
{
	size_t i;
	int rc;

	gp->n = gp->rt.n_containers;
	for (i = 0; i < gp->n; i++) {
		struct guest_ctr *c = &gp->ctrs[i];
		struct pv_err err;

		pv_err_clear(&err);
		if (gp->stopping) {
			/* STOP arrived while starting: never start the rest. */
			struct pv_err e2;

			pv_err_set(&e2, ECANCELED, "pod stopped before the container started");
			guest_ctr_start_error(c, &e2);
			snprintf(c->reason, sizeof(c->reason), "ContainerCannotRun");
			rc = guest_ctr_finish(gp, q, c);
		} else if (guest_ctr_start(gp, c, epfd, &err) < 0) {
			guest_ctr_start_error(c, &err);
			rc = guest_ctr_finish(gp, q, c);
		} else {
			c->phase = GUEST_CTR_RUNNING;
			rc = guest_ctr_event(q, c);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct guest_ctr *guest_pod_find_pid(struct guest_pod *gp, pid_t pid)
{
	size_t i;

	for (i = 0; i < gp->n; i++)
		if (gp->ctrs[i].phase == GUEST_CTR_RUNNING && gp->ctrs[i].pid == pid)
			return &gp->ctrs[i];
	return NULL;
}

/* PID 1 inherits every orphan of the VM: reap them all, and note which
 * were containers. */
void guest_pod_reap(struct guest_pod *gp)
{
	for (;;) {
		struct guest_ctr *c;
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
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
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		guest_pipe_close(epfd, fd);  /* EOF (or a broken pipe) */
	}
}

int guest_pod_progress(struct guest_pod *gp, struct guest_outq *q, int epfd,
		       int64_t now)
{
	size_t i;
	int rc;

	if (gp->stopping && gp->kill_deadline && now >= gp->kill_deadline &&
	    !gp->killed) {
		for (i = 0; i < gp->n; i++)
			if (gp->ctrs[i].phase == GUEST_CTR_RUNNING)
				kill(gp->ctrs[i].pid, SIGKILL);
		gp->killed = true;
	}
	for (i = 0; i < gp->n; i++) {
		struct guest_ctr *c = &gp->ctrs[i];

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
	return 0;
}

int64_t guest_pod_next_deadline(const struct guest_pod *gp)
{
	int64_t d = 0;
	size_t i;

	if (gp->stopping && !gp->killed)
		d = gp->kill_deadline;
	for (i = 0; i < gp->n; i++)
		if (gp->ctrs[i].phase == GUEST_CTR_EXITED &&
		    (!d || gp->ctrs[i].drain_deadline < d))
			d = gp->ctrs[i].drain_deadline;
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
	int64_t deadline;
	size_t i;

	if (grace_s < 0)
		grace_s = gp->pod ? gp->pod->grace_period : POD_DEFAULT_GRACE;
	if (grace_s > AGENT_GRACE_MAX)
		grace_s = AGENT_GRACE_MAX;
	deadline = now + grace_s * 1000;
	if (!gp->stopping) {
		gp->stopping = true;
		for (i = 0; i < gp->n; i++)
			if (gp->ctrs[i].phase == GUEST_CTR_RUNNING)
				kill(gp->ctrs[i].pid, SIGTERM);
		gp->kill_deadline = deadline;
	} else if (deadline < gp->kill_deadline) {
		gp->kill_deadline = deadline;  /* a later STOP may shorten it */
	}
	if (gp->kill_deadline == 0)
		gp->kill_deadline = 1;  /* 0 means "none" */
}

void guest_pod_kill_all(struct guest_pod *gp)
{
	size_t i;

	for (i = 0; i < gp->n; i++)
		if (gp->ctrs[i].phase == GUEST_CTR_RUNNING && gp->ctrs[i].pid > 0)
			kill(gp->ctrs[i].pid, SIGKILL);
}

char *guest_pod_done_json(const struct guest_pod *gp)
{
	struct agent_pod_done d;
	size_t i;

	memset(&d, 0, sizeof(d));
	for (i = 0; i < gp->n && i < POD_MAX_CONTAINERS; i++) {
		const struct guest_ctr *c = &gp->ctrs[i];

		d.containers[i].index = (uint16_t)i;
		d.containers[i].exit_code = c->exit.exit_code;
		d.containers[i].signal = c->exit.signal;
		snprintf(d.containers[i].reason, sizeof(d.containers[i].reason), "%s",
			 c->reason);
	}
	d.n = gp->n;
	return agent_msg_pod_done(&d);
}
