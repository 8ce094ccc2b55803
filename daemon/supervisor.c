/* The supervisor: one thread and one state machine per pod.
 *
 *   start  -> prepare images -> boot VM -> agent handshake -> running
 *          -> every container terminated -> pod done -> VM powers off
 *   stop   (DELETE, at any stage): abort the boot or send STOP with the
 *          grace period; destroy the VM after grace + slack; release
 *          everything; podsvc_finalize_delete() emits DELETED
 *   close  (daemon shutdown): threads let go of their VMs, which keep
 *          running; the next podvmd reattaches (supervisor_start).
 *
 * A pod thread never holds the supervisor lock while it blocks; the API
 * never waits on a boot. */
#include "daemon/supervisor_priv.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemon/exec.h"
#include "host/log.h"
#include "host/seccomp_local.h"

void sv_pod_free(struct sv_pod *p)
{
	if (!p)
		return;
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	pod_free(p->pod);
	free(p);
}

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

static void report(struct sv_pod *p)
{
	status_recompute(p);
	podsvc_update_status(p->sv->svc, p->uid, &p->st);
}

static void fail_pod(struct sv_pod *p, const char *reason, const char *msg)
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
	report(p);
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
	metrics_container_update(p->uid, pod_container_at(p->pod, ev->index)->name,
				 NULL, &ms);
	if (!p->l.t[LAUNCH_T_CONTAINERS]) {
		size_t settled = 0;

		for (size_t i = p->st.n_init; i < p->st.n_containers; i++)
			settled += p->st.ctr[i].state != PODSVC_WAITING;
		if (settled == p->st.n_containers - p->st.n_init) {
			launch_mark(&p->l, LAUNCH_T_CONTAINERS);
			if (!p->reattach)
				metrics_pod_stages_ms(p->l.t, LAUNCH_T_COUNT);
		}
	}
	report(p);
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
	report(p);   /* the final phase */
}

static void on_guest_error(void *opaque, const char *msg)
{
	struct sv_pod *p = opaque;

	fail_pod(p, "GuestError", msg);
}

/* Per-container figures from the guest's cgroups, for /metrics. */
static void on_stats(void *opaque, const uint8_t *json, size_t len)
{
	struct sv_pod *p = opaque;
	struct pv_err err = { 0 };

	/* bad figures are the guest's problem, not the pod's */
	if (metrics_guest_stats(p->uid, (const char *)json, len, &err) < 0)
		log_debug("ignored guest STATS", LOG_STR("uid", p->uid),
			  LOG_STR("error", err.msg), LOG_END);
}

/* Metrics ---------------------------------------------------------------- */

static void sv_set_vm_up(struct sv_pod *p, bool up)
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
	metrics_pod_update(p->uid, p->pod->namespace, p->pod->name, &s);
	/* the guest answers with STATS (on_stats), never blocking us */
	if (p->l.f.ah.proto && !p->l.f.ah.done)
		agent_host_stats_request(&p->l.f.ah, NULL);
}

/* Pod thread ---------------------------------------------------------------- */

enum sv_outcome { SV_DONE, SV_STOPPED, SV_CLOSING, SV_FAILED };

/* Stop or close requested? Reads the eventfd's state under the lock. */
static enum sv_outcome check_requests(struct sv_pod *p, int64_t *grace)
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
	fail_pod(p, "VMExited", msg);
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
	switch (check_requests(p, grace)) {
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

	exec_pod_pump(p->uid, &l->f.ah);   /* exec sessions' input */
}

static const struct launch_follow_ops sv_ops = {
	.agent = {
		.ready = on_ready,
		.log = on_log,
		.container = on_container,
		.done = on_done,
		.error = on_guest_error,
		.stats = on_stats,
		.exec_output = exec_on_output,   /* daemon/exec.c */
		.exec_exit = exec_on_exit,
	},
	.wake = on_wake,
	.pump = on_pump,
};

/* Follow the pod's VM to its end (host/follow.c); fail the pod when it
 * ended badly. */
static enum sv_outcome follow(struct sv_pod *p)
{
	const struct launch_follow *f = &p->l.f;
	enum launch_follow_end end;

	exec_pod_attach(p->uid, p->wake_fd);   /* until exec_pod_detach */
	end = launch_follow(&p->l, p->wake_fd, &sv_ops, p);
	exec_pod_detach(p->uid);
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
		fail_pod(p, "AgentError", f->err.msg);
		return SV_FAILED;
	}
}

/* Network steps ------------------------------------------------------------ */

/* For the metrics collector: where the pod's tap is (under the lock). */
static void net_show(struct sv_pod *p)
{
	pthread_mutex_lock(&p->sv->lock);
	snprintf(p->tap, sizeof(p->tap), "%s", p->net.leased ? p->net.net.tap : "");
	p->tap_in_vpc = p->net.attached;
	pthread_mutex_unlock(&p->sv->lock);
}

static void net_fail(struct sv_pod *p, int ret, const char *msg)
{
	fail_pod(p, ret == -ENOSPC ? "VPCFull" : ret == -ENOENT ? "VPCNotFound"
		 : "NetworkSetupFailed", msg);
}

/* Before boot: lease + persistent tap (lookup: after a restart, the lease
 * the pod holds).  Then the guest's NIC and settings, status.podIP. */
static int net_prepare(struct sv_pod *p, bool lookup, struct pv_err *err)
{
	int64_t t0 = util_mono_ms();
	int ret;

	if (!p->net.bound)
		return 0;   /* no network: only lo */
	ret = lookup ? vpcsvc_pod_lookup(p->sv->cfg.vpcs, &p->net, err)
		     : vpcsvc_pod_prepare(p->sv->cfg.vpcs, &p->net, err);
	if (ret < 0)
		return ret;
	vpcsvc_pod_runtime_net(&p->net, &p->rtnet);
	p->l.opts.tap = p->net.net.tap;
	p->l.opts.net = &p->rtnet;
	snprintf(p->st.pod_ip, sizeof(p->st.pod_ip), "%s", p->net.ip);
	net_show(p);
	log_debug("pod network prepared", LOG_STR("uid", p->uid),
		  LOG_STR("vpc", p->net.vpc), LOG_STR("ip", p->net.ip),
		  LOG_INT("ms", util_mono_ms() - t0), LOG_END);
	return 0;
}

/* After QEMU opened the tap: into the VPC.  The move waits for an RCU
 * grace period (~18 ms), paid while the guest kernel boots. */
static int net_attach(struct sv_pod *p, struct pv_err *err)
{
	int64_t t0 = util_mono_ms();
	int ret;

	if (!p->net.bound)
		return 0;
	ret = vpcsvc_pod_attach(p->sv->cfg.vpcs, &p->net, err);
	if (ret < 0)
		return ret;
	net_show(p);
	log_debug("pod network attached", LOG_STR("uid", p->uid),
		  LOG_STR("tap", p->net.net.tap),
		  LOG_INT("ms", util_mono_ms() - t0), LOG_END);
	return 0;
}

static void *pod_thread(void *arg)
{
	struct sv_pod *p = arg;
	struct supervisor *sv = p->sv;
	struct launch_opts opts = {
		.state_dir = sv->cfg.state_dir,
		.run_dir = sv->cfg.run_dir,
		.guest_dir = sv->cfg.guest_dir,
		.libvirt_uri = sv->cfg.libvirt_uri,
		.vmm = sv->vmm,
		.quiet = true,
		.host_ip = sv->cfg.host_ip,
		.node_name = sv->cfg.node_name,
		.seccomp_root = sv->cfg.seccomp_root,
	};
	struct pv_err err = { 0 };
	enum sv_outcome o = SV_FAILED;
	int ret;

	launch_init(&p->l, &opts, p->pod);
	metrics_pod_update(p->uid, p->pod->namespace, p->pod->name, NULL);
	for (size_t i = 0; i < pod_n_all_containers(p->pod); i++) {
		const struct pod_container *c = pod_container_at(p->pod, i);

		metrics_container_update(p->uid, c->name, c->image, NULL);
	}
	/* agent order: [initContainers..., containers...] */
	p->st.n_init = p->pod->n_init_containers;
	p->st.n_containers = p->pod->n_init_containers + p->pod->n_containers;
	for (size_t i = 0; i < p->st.n_containers; i++)
		snprintf(p->st.ctr[i].reason, sizeof(p->st.ctr[i].reason),
			 i < p->st.n_init ? "PodInitializing" : "ContainerCreating");
	/* counted in its VPC from here on: a VPC with pods is not deleted */
	if (sv->cfg.vpcs) {
		ret = vpcsvc_pod_bind(sv->cfg.vpcs, p->pod, p->uid, &p->net, &err);
		if (ret < 0) {
			net_fail(p, ret, err.msg);
			goto out;
		}
	}

	if (p->reattach) {
		ret = launch_attach(&p->l, p->uid, &err);
		if (ret == -ENOENT && !p->l.dir_created) {
			/* podvmd stopped before this pod's VM was booted */
			p->reattach = false;
		} else if (ret == -EAGAIN) {
			/* ... or while it was booting: start over */
			log_info("VM was still starting: booting it anew",
				 LOG_STR("uid", p->uid), LOG_STR("pod", p->pod->name), LOG_END);
			launch_teardown(&p->l);
			launch_init(&p->l, &opts, p->pod);
			p->reattach = false;
		} else if (ret == -ENOENT) {
			fail_pod(p, "VMLost", "the pod's VM is gone: it stopped "
				 "while podvmd was not running");
			goto out;
		} else if (ret < 0) {
			fail_pod(p, "VMLost", err.msg);
			goto out;
		}
	}
	if (p->reattach) {
		sv_set_vm_up(p, true);
		/* the VM keeps its lease and tap; attach is idempotent (podvmd
		 * may have stopped between boot and attach) */
		if (net_prepare(p, true, &err) < 0 || net_attach(p, &err) < 0) {
			net_fail(p, 0, err.msg);
			goto out;
		}
		/* the spec is sent again if the guest never got it */
		ret = launch_prepare(&p->l, &err);
		if (ret < 0) {
			fail_pod(p, "CreateContainerError", err.msg);
			goto out;
		}
		log_info("reattached to VM", LOG_STR("uid", p->uid), LOG_STR("pod", p->pod->name), LOG_END);
	} else {
		report(p);
		ret = net_prepare(p, false, &err);
		if (ret < 0) {
			net_fail(p, ret, err.msg);
			goto out;
		}
		ret = launch_prepare(&p->l, &err);
		if (ret < 0) {
			fail_pod(p, "CreateContainerError", err.msg);
			goto out;
		}
		if (check_requests(p, NULL) != SV_DONE) {
			o = check_requests(p, NULL);
			goto out;
		}
		ret = launch_boot(&p->l, &err);
		metrics_vm_boot(ret == 0);
		if (ret < 0) {
			fail_pod(p, "VMBootFailed", err.msg);
			goto out;
		}
		sv_set_vm_up(p, true);
		ret = net_attach(p, &err);
		if (ret < 0) {
			net_fail(p, ret, err.msg);
			goto out;
		}
		if (check_requests(p, NULL) != SV_DONE) {
			o = check_requests(p, NULL);
			goto out;
		}
	}
	o = follow(p);
	if (o == SV_DONE)
		report(p);
out:
	sv_set_vm_up(p, false);
	if (o != SV_CLOSING)
		metrics_pod_remove(p->uid);
	if (o == SV_CLOSING) {
		launch_release(&p->l);
		if (sv->cfg.vpcs)   /* the VM keeps its network */
			vpcsvc_pod_unbind(sv->cfg.vpcs, &p->net);
	} else {
		/* reverse order: the VM is gone before its tap and address */
		launch_teardown(&p->l);
		if (sv->cfg.vpcs)
			vpcsvc_pod_release(sv->cfg.vpcs, &p->net);
		net_show(p);
	}
	pthread_mutex_lock(&sv->lock);
	p->finished = true;
	if (o != SV_CLOSING && p->stop_requested)
		o = SV_STOPPED;
	pthread_mutex_unlock(&sv->lock);
	if (o == SV_STOPPED)
		podsvc_finalize_delete(sv->svc, p->uid);
	return NULL;
}

/* Runner ops ------------------------------------------------------------------ */

struct sv_pod *sv_find_locked(struct supervisor *sv, const char *uid)
{
	for (struct sv_pod *p = sv->pods; p; p = p->next)
		if (!strcmp(p->uid, uid))
			return p;
	return NULL;
}

/* Reap threads that have finished, so the list stays small. */
static void reap_locked(struct supervisor *sv, struct sv_pod **reaped)
{
	struct sv_pod **pp = &sv->pods;

	while (*pp) {
		struct sv_pod *p = *pp;

		if (p->finished) {
			*pp = p->next;
			p->next = *reaped;
			*reaped = p;
		} else {
			pp = &p->next;
		}
	}
}

void sv_spawn(struct supervisor *sv, const char *uid, const struct pod *pod,
	      bool reattach)
{
	struct sv_pod *p = calloc(1, sizeof(*p)), *reaped = NULL;
	struct json_object *j = NULL;
	struct pv_err err = { 0 };

	if (!p)
		goto oom;
	p->sv = sv;
	p->wake_fd = -1;
	p->reattach = reattach;
	snprintf(p->uid, sizeof(p->uid), "%s", uid);
	/* own copy: the caller's pod is not ours to keep */
	j = pod_to_json(pod);
	if (!j || pod_decode(j, &p->pod, NULL, &err) < 0)
		goto oom;
	json_object_put(j);
	j = NULL;
	free(p->pod->uid);
	p->pod->uid = strdup(uid);
	p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!p->pod->uid || p->wake_fd < 0)
		goto oom;

	pthread_mutex_lock(&sv->lock);
	reap_locked(sv, &reaped);
	p->next = sv->pods;
	sv->pods = p;
	if (pthread_create(&p->thread, NULL, pod_thread, p) != 0) {
		sv->pods = p->next;
		pthread_mutex_unlock(&sv->lock);
		goto oom;
	}
	pthread_mutex_unlock(&sv->lock);
	while (reaped) {
		struct sv_pod *r = reaped;

		reaped = r->next;
		pthread_join(r->thread, NULL);
		sv_pod_free(r);
	}
	return;
oom:
	json_object_put(j);
	log_error("cannot start pod", LOG_STR("uid", uid), LOG_STR("error", err.msg[0] ? err.msg : "out of resources"), LOG_END);
	sv_pod_free(p);
}

static void runner_start(void *runner, const char *uid, const struct pod *pod)
{
	sv_spawn(runner, uid, pod, false);
}

void sv_runner_stop(void *runner, const char *uid, int64_t grace)
{
	struct supervisor *sv = runner;
	struct sv_pod *p;
	bool finalize = false;
	uint64_t one = 1;

	pthread_mutex_lock(&sv->lock);
	p = sv_find_locked(sv, uid);
	if (!p || p->finished) {
		finalize = true;   /* nothing runs: release at once */
		if (p)
			p->stop_requested = false;
	} else if (!p->stop_requested) {
		p->stop_requested = true;
		p->grace = grace < 0 ? p->pod->grace_period : grace;
		if (write(p->wake_fd, &one, sizeof(one)) < 0)
			log_warn("cannot wake pod thread", LOG_STR("uid", uid), LOG_END);
	}
	pthread_mutex_unlock(&sv->lock);
	if (finalize)
		podsvc_finalize_delete(sv->svc, uid);
}

/* A Localhost seccomp profile must exist and parse: kubelet can only
 * fail the container later, podvmd can refuse the pod (422). */
static int sv_admit_seccomp(struct supervisor *sv, const struct pod *pod,
			    struct podsvc_status *st)
{
	struct pod_cause *c = &st->causes.items[0];
	struct pv_err err = { 0 };
	const char *sep;

	if (seccomp_local_load(pod, sv->cfg.seccomp_root, NULL, &err) == 0)
		return 0;
	memset(st, 0, sizeof(*st));
	st->code = 422;
	snprintf(st->reason, sizeof(st->reason), "Invalid");
	snprintf(st->kind, sizeof(st->kind), "pods");
	snprintf(st->name, sizeof(st->name), "%s", pod->name ? pod->name : "");
	/* err.msg is "FIELD: Invalid value: ..." */
	sep = strstr(err.msg, ": ");
	st->causes.n = 1;
	snprintf(c->field, sizeof(c->field), "%.*s", sep ? (int)(sep - err.msg) : 0,
		 err.msg);
	snprintf(c->reason, sizeof(c->reason), "FieldValueInvalid");
	snprintf(c->message, sizeof(c->message), "%.255s", sep ? sep + 2 : err.msg);
	snprintf(st->message, sizeof(st->message), "Pod \"%.63s\" is invalid: %.420s",
		 st->name, err.msg);
	return -1;
}

static int runner_admit(void *runner, const struct pod *pod,
			struct podsvc_status *st)
{
	struct supervisor *sv = runner;

	if (sv_admit_seccomp(sv, pod, st) < 0)
		return -1;
	return sv->cfg.vpcs ? vpcsvc_admit(sv->cfg.vpcs, pod, st) : 0;
}

const struct podsvc_runner_ops supervisor_runner_ops = {
	.start = runner_start,
	.stop = sv_runner_stop,
	.admit = runner_admit,
};

static int sv_metrics_list(void *opaque, struct metrics_target **out, size_t *n)
{
	struct supervisor *sv = opaque;
	struct metrics_target *t = NULL;
	struct sv_pod *p;
	size_t cap = 0, i = 0;

	pthread_mutex_lock(&sv->lock);
	for (p = sv->pods; p; p = p->next)
		cap++;
	if (cap && !(t = calloc(cap, sizeof(*t)))) {
		pthread_mutex_unlock(&sv->lock);
		return -ENOMEM;
	}
	for (p = sv->pods; p; p = p->next) {
		if (p->finished)
			continue;
		snprintf(t[i].uid, sizeof(t[i].uid), "%s", p->uid);
		snprintf(t[i].ns, sizeof(t[i].ns), "%s", p->pod->namespace);
		snprintf(t[i].name, sizeof(t[i].name), "%s", p->pod->name);
		t[i].has_vm = p->vm_up;
		snprintf(t[i].tap, sizeof(t[i].tap), "%s", p->tap);
		if (p->tap_in_vpc && sv->cfg.vpcs &&
		    vpcsvc_ns_path(sv->cfg.vpcs, p->net.vpc, t[i].netns,
				   sizeof(t[i].netns)) < 0)
			t[i].tap[0] = '\0';
		i++;
	}
	pthread_mutex_unlock(&sv->lock);
	*out = t;
	*n = i;
	return 0;
}

static void sv_metrics_request(void *opaque, const char *uid)
{
	struct supervisor *sv = opaque;
	struct sv_pod *p;
	uint64_t one = 1;

	pthread_mutex_lock(&sv->lock);
	p = sv_find_locked(sv, uid);
	if (p && !p->finished && !p->stats_requested) {
		p->stats_requested = true;
		if (write(p->wake_fd, &one, sizeof(one)) < 0)
			p->stats_requested = false;
	}
	pthread_mutex_unlock(&sv->lock);
}

const struct metrics_source_ops supervisor_metrics_ops = {
	.list = sv_metrics_list,
	.request_guest = sv_metrics_request,
};
