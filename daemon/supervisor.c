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
	sv_fail_pod(p, ret == -ENOSPC ? "VPCFull" : ret == -ENOENT ? "VPCNotFound"
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

/* Before anything runs: the pod in the metrics, its containers waiting. */
static void sv_pod_begin(struct sv_pod *p)
{
	struct metrics *m = p->sv->cfg.metrics;

	metrics_pod_update(m, p->uid, p->pod->namespace, p->pod->name, NULL);
	for (size_t i = 0; i < pod_n_all_containers(p->pod); i++) {
		const struct pod_container *c = pod_container_at(p->pod, i);

		metrics_container_update(m, p->uid, c->name, c->image, NULL);
	}
	/* agent order: [initContainers..., containers...] */
	p->st.n_init = p->pod->n_init_containers;
	p->st.n_containers = p->pod->n_init_containers + p->pod->n_containers;
	for (size_t i = 0; i < p->st.n_containers; i++)
		snprintf(p->st.ctr[i].reason, sizeof(p->st.ctr[i].reason),
			 i < p->st.n_init ? "PodInitializing" : "ContainerCreating");
}

/* After a daemon restart: attach to the pod's VM. SV_DONE to follow it,
 * or with p->reattach cleared to boot it anew; SV_FAILED (reported). */
static enum sv_outcome sv_reattach(struct sv_pod *p,
				   const struct launch_opts *opts,
				   struct pv_err *err)
{
	int ret = launch_attach(&p->l, p->uid, err);

	if (ret == -ENOENT && !p->l.dir_created) {
		/* podvmd stopped before this pod's VM was booted */
		p->reattach = false;
		return SV_DONE;
	} else if (ret == -EAGAIN) {
		/* ... or while it was booting: start over */
		log_info("VM was still starting: booting it anew",
			 LOG_STR("uid", p->uid), LOG_STR("pod", p->pod->name), LOG_END);
		launch_teardown(&p->l);
		launch_init(&p->l, opts, p->pod);
		p->reattach = false;
		return SV_DONE;
	} else if (ret == -ENOENT) {
		sv_fail_pod(p, "VMLost", "the pod's VM is gone: it stopped "
			    "while podvmd was not running");
		return SV_FAILED;
	} else if (ret < 0) {
		sv_fail_pod(p, "VMLost", err->msg);
		return SV_FAILED;
	}
	sv_set_vm_up(p, true);
	/* the VM keeps its lease and tap; attach is idempotent (podvmd may
	 * have stopped between boot and attach) */
	if (net_prepare(p, true, err) < 0 || net_attach(p, err) < 0) {
		net_fail(p, 0, err->msg);
		return SV_FAILED;
	}
	/* the spec is sent again if the guest never got it */
	if (launch_prepare(&p->l, err) < 0) {
		sv_fail_pod(p, "CreateContainerError", err->msg);
		return SV_FAILED;
	}
	log_info("reattached to VM", LOG_STR("uid", p->uid), LOG_STR("pod", p->pod->name), LOG_END);
	return SV_DONE;
}

/* Images, network, boot, network attach; a stop or close requested
 * meanwhile ends it early. SV_DONE to follow the VM. */
static enum sv_outcome sv_boot(struct sv_pod *p, struct pv_err *err)
{
	enum sv_outcome o;
	int ret;

	sv_report(p);
	/* Pending with ErrImagePull / ImagePullBackOff until every image
	 * is there (or the pod is deleted); before the network, so a pod in
	 * back-off holds no address or tap of its VPC */
	o = sv_pull_images(p);
	if (o != SV_DONE)
		return o;
	ret = net_prepare(p, false, err);
	if (ret < 0) {
		net_fail(p, ret, err->msg);
		return SV_FAILED;
	}
	if (launch_prepare(&p->l, err) < 0) {
		sv_fail_pod(p, "CreateContainerError", err->msg);
		return SV_FAILED;
	}
	sv_image_gc(p->sv);   /* pulls and conversions take space */
	if (sv_check_requests(p, NULL) != SV_DONE)
		return sv_check_requests(p, NULL);
	ret = launch_boot(&p->l, err);
	metrics_vm_boot(p->sv->cfg.metrics, ret == 0);
	if (ret < 0) {
		sv_fail_pod(p, "VMBootFailed", err->msg);
		return SV_FAILED;
	}
	sv_set_vm_up(p, true);
	ret = net_attach(p, err);
	if (ret < 0) {
		net_fail(p, ret, err->msg);
		return SV_FAILED;
	}
	return sv_check_requests(p, NULL);
}

/* Let go of the VM (daemon closing) or tear everything down. */
static void sv_pod_end(struct sv_pod *p, enum sv_outcome o)
{
	struct supervisor *sv = p->sv;

	sv_set_vm_up(p, false);
	if (o == SV_CLOSING) {
		launch_release(&p->l);
		if (sv->cfg.vpcs)   /* the VM keeps its network */
			vpcsvc_pod_unbind(sv->cfg.vpcs, &p->net);
	} else {
		metrics_pod_remove(sv->cfg.metrics, p->uid);
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
	enum sv_outcome o = SV_DONE;
	int ret;

	launch_init(&p->l, &opts, p->pod);
	sv_pod_begin(p);
	/* counted in its VPC from here on: a VPC with pods is not deleted */
	if (sv->cfg.vpcs) {
		ret = vpcsvc_pod_bind(sv->cfg.vpcs, p->pod, p->uid, &p->net, &err);
		if (ret < 0) {
			net_fail(p, ret, err.msg);
			o = SV_FAILED;
		}
	}
	if (o == SV_DONE && p->reattach)
		o = sv_reattach(p, &opts, &err);
	if (o == SV_DONE && !p->reattach)
		o = sv_boot(p, &err);
	if (o == SV_DONE) {
		o = sv_follow(p);
		if (o == SV_DONE)
			sv_report(p);
	}
	sv_pod_end(p, o);
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
