/* Restart policy, Kubernetes style.
 *
 *   - Init containers run one at a time, in order, each to completion;
 *     a failed one is retried (Always and OnFailure both mean OnFailure
 *     for init containers) or, with Never, fails the pod: the containers
 *     behind it are never started (reported WAITING, PodInitializing).
 *   - Regular containers start together once every init container
 *     succeeded. Always: restart after any exit; OnFailure: after a
 *     non-zero exit; Never: not at all.
 *   - Back-off before a restart: 10 s, doubling up to 5 min; back to 10 s
 *     when the run that just ended lasted 10 min or more. While backing
 *     off the container is WAITING with reason CrashLoopBackOff and the
 *     run that ended as lastState. restartCount counts restarts.
 *   - The pod is done when no container will run again. */
#include "guest/guest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool guest_restart_wanted(enum pod_restart_policy pol, bool is_init,
			  int exit_code)
{
	if (is_init)
		return pol != POD_RESTART_NEVER && exit_code != 0;
	switch (pol) {
	case POD_RESTART_ALWAYS:
		return true;
	case POD_RESTART_ON_FAILURE:
		return exit_code != 0;
	default:
		return false;
	}
}

int64_t guest_backoff_next(int64_t cur_ms, int64_t ran_ms)
{
	if (ran_ms >= GUEST_BACKOFF_RESET_MS || cur_ms < GUEST_BACKOFF_INITIAL_MS)
		return GUEST_BACKOFF_INITIAL_MS;
	return cur_ms > GUEST_BACKOFF_MAX_MS ? GUEST_BACKOFF_MAX_MS : cur_ms;
}

static void guest_schedule(struct guest_pod *gp, struct guest_ctr *c,
			   int64_t now, const char *reason, const char *what)
{
	int64_t ran = c->run_mono ? now - c->run_mono : 0;
	int64_t delay = guest_backoff_next(c->backoff_ms, ran);

	c->backoff_ms = delay * 2 > GUEST_BACKOFF_MAX_MS ? GUEST_BACKOFF_MAX_MS
							  : delay * 2;
	c->restart_at = now + delay;
	c->phase = GUEST_CTR_WAITING;
	snprintf(c->wait_reason, sizeof(c->wait_reason), "%s", reason);
	if (what)
		snprintf(c->wait_message, sizeof(c->wait_message),
			 "back-off %llds restarting %s container=%s pod=%s_%s(%s)",
			 (long long)(delay / 1000), what, c->pc->name, gp->pod->name,
			 gp->pod->namespace ? gp->pod->namespace : "default",
			 gp->pod->uid ? gp->pod->uid : "");
}

/* The rest of the pod will never start: an init container failed. */
static void guest_pod_init_failed(struct guest_pod *gp, struct guest_outq *q,
				  size_t from)
{
	size_t i;

	gp->failed = true;
	for (i = from; i < gp->n; i++) {
		struct guest_ctr *c = &gp->ctrs[i];

		if (c->phase != GUEST_CTR_WAITING)
			continue;
		c->phase = GUEST_CTR_TERMINATED;
		c->never_started = true;
		snprintf(c->wait_reason, sizeof(c->wait_reason), "PodInitializing");
		guest_ctr_event(q, c);
	}
}

int guest_ctr_finish(struct guest_pod *gp, struct guest_outq *q,
		     struct guest_ctr *c)
{
	int64_t now = guest_now_ms();
	bool again;
	int rc;

	guest_probes_reset(c, now);   /* stops its probes */
	if (c->ran && strcmp(c->reason, "StartError") != 0) {
		/* A memory cgroup OOM kill ends the container (oom.group). */
		if (guest_cgroup_oom_kills(c->rc->name) > c->oom_base) {
			snprintf(c->reason, sizeof(c->reason), "OOMKilled");
			if (c->exit.exit_code == 0)
				c->exit.exit_code = 137;
		}
		if (c->force_reason[0])
			snprintf(c->reason, sizeof(c->reason), "%s", c->force_reason);
		guest_term_message(c);
	}
	c->phase = GUEST_CTR_TERMINATED;
	c->terminating = false;
	c->finished_ms = 0;
	rc = guest_outq_report_final(q, c->index);
	if (rc < 0)
		return rc;
	rc = guest_ctr_event(q, c);
	if (rc < 0)
		return rc;
	guest_diag("container %s: %s, exit code %d (restarts %d)", c->pc->name,
		   c->reason, c->exit.exit_code, c->restart_count);
	again = !gp->stopping && !gp->failed &&
		guest_restart_wanted(gp->pod->restart_policy, c->is_init,
				     c->exit.exit_code);
	if (again) {
		c->has_last = true;
		memset(&c->last, 0, sizeof(c->last));
		c->last.exit_code = c->exit.exit_code;
		c->last.signal = c->exit.signal;
		snprintf(c->last.reason, sizeof(c->last.reason), "%s", c->reason);
		snprintf(c->last.message, sizeof(c->last.message), "%s", c->message);
		c->last.started_ms = c->started_ms;
		c->last.finished_ms = c->finished_ms;
		guest_schedule(gp, c, now, "CrashLoopBackOff", "failed");
		return guest_ctr_event(q, c);
	}
	if (c->is_init && c->exit.exit_code != 0)
		guest_pod_init_failed(gp, q, (size_t)c->index + 1);
	return 0;
}

static void guest_ctr_fresh(struct guest_ctr *c, int64_t now)
{
	c->run_mono = now;
	c->started_ms = c->finished_ms = 0;
	c->terminating = c->killed = c->sigterm_sent = false;
	c->kill_at = 0;
	c->ready = false;
	c->startup_ok = false;
	c->tail_len = 0;
	c->force_reason[0] = '\0';
	c->message[0] = '\0';
	c->wait_reason[0] = c->wait_message[0] = '\0';
	guest_probes_reset(c, now);
}

/* Start (or restart) one container now. */
static int guest_ctr_run(struct guest_pod *gp, struct guest_outq *q, int epfd,
			 struct guest_ctr *c, int64_t now)
{
	struct pv_err err;
	bool config_error = false;
	int rc;

	if (c->has_last && c->restart_at)
		c->restart_count++;
	c->restart_at = 0;
	guest_ctr_fresh(c, now);
	pv_err_clear(&err);
	if (guest_ctr_start(gp, c, epfd, &config_error, &err) == 0) {
		c->phase = GUEST_CTR_RUNNING;
		/* no readiness probe: ready as soon as it runs (and started) */
		c->ready = !c->is_init && !c->probes[GUEST_PROBE_READINESS].p &&
			   !c->probes[GUEST_PROBE_STARTUP].p;
		rc = guest_ctr_event(q, c);
		if (rc < 0)
			return rc;
		if (c->pc->post_start.kind != POD_PROBE_NONE &&
		    guest_hook_run(gp, c, &c->pc->post_start, GUEST_JOB_POSTSTART, 0,
				   &c->poststart_pid) < 0) {
			snprintf(c->force_reason, sizeof(c->force_reason), "FailedPostStartHook");
			guest_ctr_kill(gp, c, gp->pod->grace_period * 1000, now);
		}
		return 0;
	}
	guest_diag("container %s failed to start: %s", c->pc->name, err.msg);
	if (config_error) {
		/* Kubernetes keeps it waiting and retries the creation. */
		if (gp->pod->restart_policy != POD_RESTART_NEVER) {
			guest_schedule(gp, c, now, "CreateContainerConfigError", NULL);
		} else {
			c->phase = GUEST_CTR_TERMINATED;
			c->never_started = true;
		}
		snprintf(c->wait_reason, sizeof(c->wait_reason), "CreateContainerConfigError");
		snprintf(c->wait_message, sizeof(c->wait_message), "%s", err.msg);
		rc = guest_ctr_event(q, c);
		if (rc < 0)
			return rc;
		if (c->phase == GUEST_CTR_TERMINATED && c->is_init)
			guest_pod_init_failed(gp, q, (size_t)c->index + 1);
		return 0;
	}
	c->exit.exit_code = 128;
	c->exit.signal = 0;
	c->exit.reason = "StartError";
	snprintf(c->reason, sizeof(c->reason), "StartError");
	snprintf(c->message, sizeof(c->message), "%s", err.msg);
	return guest_ctr_finish(gp, q, c);
}

/* STOP while some containers wait: they will not run again. */
static int guest_settle_waiting(struct guest_pod *gp, struct guest_outq *q)
{
	size_t i;
	int rc;

	for (i = 0; i < gp->n; i++) {
		struct guest_ctr *c = &gp->ctrs[i];

		if (c->phase != GUEST_CTR_WAITING)
			continue;
		c->phase = GUEST_CTR_TERMINATED;
		c->restart_at = 0;
		if (c->has_last) {
			c->wait_reason[0] = '\0';   /* final = its last run */
			c->finished_ms = c->last.finished_ms;
		} else if (c->is_init || gp->n_init || c->wait_reason[0]) {
			c->never_started = true;
			if (!c->wait_reason[0])
				snprintf(c->wait_reason, sizeof(c->wait_reason),
					 "PodInitializing");
		} else {
			/* pod stopped before the container started */
			c->exit.exit_code = 128;
			c->exit.signal = 0;
			snprintf(c->reason, sizeof(c->reason), "ContainerCannotRun");
			snprintf(c->message, sizeof(c->message),
				 "pod stopped before the container started");
		}
		rc = guest_ctr_event(q, c);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int guest_restart_progress(struct guest_pod *gp, struct guest_outq *q,
			   int epfd, int64_t now)
{
	size_t i;
	int rc;

	if (gp->stopping || gp->failed)
		return gp->stopping ? guest_settle_waiting(gp, q) : 0;
	while (!gp->init_done) {
		struct guest_ctr *c;

		if (gp->init_next >= gp->n_init) {
			gp->init_done = true;
			break;
		}
		c = &gp->ctrs[gp->init_next];
		if (c->phase == GUEST_CTR_TERMINATED) {
			if (c->exit.exit_code != 0 || c->never_started)
				return 0;   /* failed for good: pod is done */
			gp->init_next++;
			continue;
		}
		if (c->phase == GUEST_CTR_WAITING &&
		    (!c->restart_at || now >= c->restart_at))
			return guest_ctr_run(gp, q, epfd, c, now);
		return 0;
	}
	for (i = gp->n_init; i < gp->n; i++) {
		struct guest_ctr *c = &gp->ctrs[i];

		if (c->phase != GUEST_CTR_WAITING || (c->restart_at && now < c->restart_at))
			continue;
		rc = guest_ctr_run(gp, q, epfd, c, now);
		if (rc < 0)
			return rc;
		if (gp->stopping)
			break;
	}
	return 0;
}

int guest_pod_start(struct guest_pod *gp, struct guest_outq *q, int epfd)
{
	struct pv_err err;
	int64_t now = guest_now_ms();
	size_t i;
	int rc;

	gp->q = q;
	gp->epfd = epfd;
	pv_err_clear(&err);
	if (guest_etc_write(gp->rt.hostname, guest_rt_pod_ip(&gp->rt),
			    guest_rt_resolv_conf(&gp->rt),
			    &err) < 0)
		guest_diag("pod: /etc files: %s", err.msg);
	if (guest_cgroup_init(&err) < 0)
		guest_diag("pod: cgroups: %s", err.msg);
	if (guest_volumes_setup(gp->pod, &err) < 0)
		guest_diag("pod: volumes: %s", err.msg);
	if (gp->pod->active_deadline > 0)
		gp->deadline_at = now + gp->pod->active_deadline * 1000;
	for (i = gp->n_init; gp->n_init && i < gp->n; i++) {
		snprintf(gp->ctrs[i].wait_reason, sizeof(gp->ctrs[i].wait_reason),
			 "PodInitializing");
		rc = guest_ctr_event(q, &gp->ctrs[i]);
		if (rc < 0)
			return rc;
	}
	return guest_restart_progress(gp, q, epfd, now);
}
