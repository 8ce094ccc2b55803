/* A pod thread's view of its VM: the pod's status from the agent's
 * events, the metrics sample, and following the VM to its end through
 * host/follow.c. The thread itself (boot, reattach, teardown) is in
 * daemon/supervisor.c. */
#include "daemon/supervisor_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon/exec.h"
#include "host/log.h"

/* Status bookkeeping ------------------------------------------------------ */

/* Kubernetes' phase: Pending until the regular containers have started,
 * Running while one runs (or will run again), Succeeded/Failed only once
 * the guest says no container will run again (POD_DONE). */
static void status_recompute(struct sv_pod *p)
{
	size_t ni = p->st.n_init, n = p->st.n_containers;
	size_t term = 0, failed = 0, started = 0;
	bool init_failed = false;

	if (p->st.phase == PODSVC_FAILED && p->st.reason[0])
		return;  /* a pod-level failure is final */
	for (size_t i = 0; i < n; i++) {
		const struct podsvc_ctr_status *c = &p->st.ctr[i];
		bool bad = c->state == PODSVC_TERMINATED && c->exit_code != 0;

		if (i < ni) {
			init_failed |= bad;
			continue;
		}
		term += c->state == PODSVC_TERMINATED;
		failed += bad;
		started += c->state != PODSVC_WAITING || c->restart_count > 0;
	}
	if (p->l.f.ah.done)
		p->st.phase = failed || init_failed || term < n - ni
			? PODSVC_FAILED : PODSVC_SUCCEEDED;
	else if (n > ni && started == n - ni)
		p->st.phase = PODSVC_RUNNING_PHASE;
	else
		p->st.phase = PODSVC_PENDING;
}

void sv_report(struct sv_pod *p)
{
	status_recompute(p);
	podsvc_update_status(p->sv->svc, p->uid, &p->st);
}

void sv_fail_pod(struct sv_pod *p, const char *reason, const char *msg)
{
	p->st.phase = PODSVC_FAILED;
	snprintf(p->st.reason, sizeof(p->st.reason), "%s", reason);
	snprintf(p->st.message, sizeof(p->st.message), "%s", msg);
	for (size_t i = 0; i < p->st.n_containers; i++) {
		struct podsvc_ctr_status *c = &p->st.ctr[i];

		if (c->state == PODSVC_TERMINATED)
			continue;
		if (c->state == PODSVC_RUNNING) {
			c->state = PODSVC_TERMINATED;
			c->exit_code = 137;
			c->finished_ms = util_wall_ms();
			snprintf(c->reason, sizeof(c->reason), "Error");
		} else {
			snprintf(c->reason, sizeof(c->reason), "%s", reason);
		}
		c->ready = false;
	}
	podsvc_update_status(p->sv->svc, p->uid, &p->st);
	log_warn("pod failed", LOG_STR("uid", p->uid), LOG_STR("pod", p->pod->name), LOG_STR("reason", reason), LOG_STR("message", msg), LOG_END);
}

/* Agent callbacks ---------------------------------------------------------- */

static void on_ready(void *opaque, int proto)
{
	struct sv_pod *p = opaque;

	(void)proto;
	launch_mark(&p->l, LAUNCH_T_AGENT);
	p->st.vm_started = true;
	sv_report(p);
}

static void on_log(void *opaque, uint16_t idx, enum agent_stream s,
		   const uint8_t *data, size_t len)
{
	struct sv_pod *p = opaque;

	podsvc_append_log(p->sv->svc, p->uid, idx, s == AGENT_STREAM_STDERR,
			  data, len);
}

static void on_container(void *opaque, const struct agent_ctr_event *ev)
{
	struct sv_pod *p = opaque;
	struct podsvc_ctr_status *c = &p->st.ctr[ev->index];
	struct metrics_ctr_sample ms = { .have = METRICS_CTR_RESTARTS,
					 .restarts = (uint64_t)ev->restart_count };

	c->restart_count = ev->restart_count;
	if (ev->state == AGENT_CTR_RUNNING) {
		c->state = PODSVC_RUNNING;
		c->reason[0] = c->message[0] = '\0';
		c->started_ms = ev->time_ms;
		/* no readiness probe: ready once running */
		c->ready = ev->has_ready ? ev->ready : true;
	} else if (ev->state == AGENT_CTR_WAITING) {
		/* CrashLoopBackOff, PodInitializing, CreateContainerConfigError */
		c->state = PODSVC_WAITING;
		snprintf(c->reason, sizeof(c->reason), "%s", ev->reason);
		snprintf(c->message, sizeof(c->message), "%s", ev->message);
		c->ready = false;
	} else {
		c->state = PODSVC_TERMINATED;
		c->exit_code = ev->exit_code;
		c->signal = ev->signal;
		snprintf(c->reason, sizeof(c->reason), "%s",
			 ev->reason[0] ? ev->reason :
			 ev->exit_code ? "Error" : "Completed");
		snprintf(c->message, sizeof(c->message), "%s", ev->message);
		c->finished_ms = ev->time_ms;
		if (!c->started_ms)
			c->started_ms = ev->time_ms;
		c->ready = false;
		if (!strcmp(c->reason, "OOMKilled")) {
			p->oom_kills[ev->index]++;
			ms.have |= METRICS_CTR_OOM;
		}
	}
	ms.oom_kills = p->oom_kills[ev->index];
	metrics_container_update(p->sv->cfg.metrics, p->uid, pod_container_at(p->pod, ev->index)->name,
				 NULL, &ms);
	if (!p->l.t[LAUNCH_T_CONTAINERS]) {
		size_t settled = 0;

		for (size_t i = p->st.n_init; i < p->st.n_containers; i++)
			settled += p->st.ctr[i].state != PODSVC_WAITING;
		if (settled == p->st.n_containers - p->st.n_init) {
			launch_mark(&p->l, LAUNCH_T_CONTAINERS);
			if (!p->reattach)
				metrics_pod_stages_ms(p->sv->cfg.metrics, p->l.t, LAUNCH_T_COUNT);
		}
	}
	sv_report(p);
}

static void on_done(void *opaque, const struct agent_pod_done *d)
{
	struct sv_pod *p = opaque;

	if (d->reason[0]) {   /* e.g. DeadlineExceeded: a pod-level failure */
		p->st.phase = PODSVC_FAILED;
		snprintf(p->st.reason, sizeof(p->st.reason), "%s", d->reason);
		snprintf(p->st.message, sizeof(p->st.message), "%.*s",
			 (int)sizeof(p->st.message) - 1, d->message);
	}
	launch_mark(&p->l, LAUNCH_T_DONE);
	sv_report(p);   /* the final phase */
}

static void on_guest_error(void *opaque, const char *msg)
{
	struct sv_pod *p = opaque;

	sv_fail_pod(p, "GuestError", msg);
}

/* Per-container figures from the guest's cgroups, for /metrics. */
static void on_stats(void *opaque, const uint8_t *json, size_t len)
{
	struct sv_pod *p = opaque;
	struct pv_err err = { 0 };

	/* bad figures are the guest's problem, not the pod's */
	if (metrics_guest_stats(p->sv->cfg.metrics, p->uid, (const char *)json, len, &err) < 0)
		log_debug("ignored guest STATS", LOG_STR("uid", p->uid),
			  LOG_STR("error", err.msg), LOG_END);
}

/* Metrics ---------------------------------------------------------------- */

void sv_set_vm_up(struct sv_pod *p, bool up)
{
	pthread_mutex_lock(&p->sv->lock);
	p->vm_up = up;
	pthread_mutex_unlock(&p->sv->lock);
}

/* On the pod's own thread (it owns the VM handle and the agent). */
static void sv_metrics_sample(struct sv_pod *p)
{
	struct metrics_pod_sample s = { .have = METRICS_POD_VMM };
	struct vmm_stats vs;
	bool want;

	pthread_mutex_lock(&p->sv->lock);
	want = p->stats_requested;
	p->stats_requested = false;
	pthread_mutex_unlock(&p->sv->lock);
	if (!want || !p->l.vm || p->l.vm->ops->stats(p->l.vm, &vs, NULL) < 0)
		return;
	s.vm_cpu_ns = vs.cpu_ns;
	s.vmm_rss_bytes = vs.rss_bytes;
	metrics_pod_update(p->sv->cfg.metrics, p->uid, p->pod->namespace, p->pod->name, &s);
	/* the guest answers with STATS (on_stats), never blocking us */
	if (p->l.f.ah.proto && !p->l.f.ah.done)
		agent_host_stats_request(&p->l.f.ah, NULL);
}

/* Following the VM ---------------------------------------------------------- */

/* Stop or close requested? Reads the eventfd's state under the lock. */
enum sv_outcome sv_check_requests(struct sv_pod *p, int64_t *grace)
{
	enum sv_outcome o = SV_DONE;

	pthread_mutex_lock(&p->sv->lock);
	if (p->sv->closing)
		o = SV_CLOSING;
	else if (p->stop_requested) {
		o = SV_STOPPED;
		if (grace)
			*grace = p->grace;
	}
	pthread_mutex_unlock(&p->sv->lock);
	return o;
}

static void vm_lost(struct sv_pod *p, const char *what)
{
	char msg[512], *tail = launch_console_tail(&p->l, 3);
	char *nl;

	/* one line: the console's last words help more than a generic text */
	for (nl = tail; nl && (nl = strchr(nl, '\n')); )
		*nl = ' ';
	snprintf(msg, sizeof(msg), "%s%s%s", what, tail && *tail ? "; console: " : "",
		 tail ? tail : "");
	free(tail);
	sv_fail_pod(p, "VMExited", msg);
}

/* The wake fd: a stop, a close or a metrics sample was requested. */
static enum launch_follow_req on_wake(void *opaque, struct launch *l,
				      int64_t *grace)
{
	struct sv_pod *p = opaque;
	uint64_t v;

	if (read(p->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return LAUNCH_REQ_ERROR;
	sv_metrics_sample(p);
	switch (sv_check_requests(p, grace)) {
	case SV_CLOSING:
		return LAUNCH_REQ_DETACH;
	case SV_STOPPED:
		return LAUNCH_REQ_STOP;
	default:
		return LAUNCH_REQ_NONE;
	}
}

static void on_pump(void *opaque, struct launch *l)
{
	struct sv_pod *p = opaque;

	exec_pod_pump(p->sv->cfg.exec, p->uid, &l->f.ah);   /* sessions' input */
}

/* Exec sessions' output and ends go to daemon/exec.c. */
static void on_exec_output(void *opaque, uint16_t id, enum agent_stream s,
			   const uint8_t *data, size_t len)
{
	struct sv_pod *p = opaque;

	exec_on_output(p->sv->cfg.exec, p->uid, id, s, data, len);
}

static void on_exec_exit(void *opaque, const struct agent_exec_exit *x)
{
	struct sv_pod *p = opaque;

	exec_on_exit(p->sv->cfg.exec, p->uid, x);
}

static const struct launch_follow_ops sv_ops = {
	.agent = {
		.ready = on_ready,
		.log = on_log,
		.container = on_container,
		.done = on_done,
		.error = on_guest_error,
		.stats = on_stats,
		.exec_output = on_exec_output,
		.exec_exit = on_exec_exit,
	},
	.wake = on_wake,
	.pump = on_pump,
};

/* Follow the pod's VM to its end (host/follow.c); fail the pod when it
 * ended badly. */
enum sv_outcome sv_follow(struct sv_pod *p)
{
	const struct launch_follow *f = &p->l.f;
	enum launch_follow_end end;

	exec_pod_attach(p->sv->cfg.exec, p->uid, p->wake_fd);   /* until detach */
	end = launch_follow(&p->l, p->wake_fd, &sv_ops, p);
	exec_pod_detach(p->sv->cfg.exec, p->uid);
	switch (end) {
	case LAUNCH_END_DONE:
		return SV_DONE;
	case LAUNCH_END_STOPPED:
		return SV_STOPPED;
	case LAUNCH_END_DETACHED:
		return SV_CLOSING;
	case LAUNCH_END_NO_BOOT:
		vm_lost(p, f->vm_gone ? "the pod's VM stopped unexpectedly"
				      : "the VM did not boot in time");
		return SV_FAILED;
	case LAUNCH_END_LOST:
		vm_lost(p, f->vm_gone ? "the pod's VM stopped unexpectedly"
				      : "the VM stopped answering");
		return SV_FAILED;
	default:
		sv_fail_pod(p, "AgentError", f->err.msg);
		return SV_FAILED;
	}
}
