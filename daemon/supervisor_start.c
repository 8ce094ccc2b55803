/* The supervisor's life cycle (daemon/supervisor.h): open the VM backend,
 * start (reattach to the stored pods' VMs, set up their VPCs after
 * removing network orphans, remove orphan VMs and run dirs), close. */
#include "daemon/supervisor_priv.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/log.h"

/* Start-up: reattach, then remove orphans ------------------------------------- */

struct known {
	char (*uids)[UUID_STR_LEN];
	char (*vpcs)[NETNS_VPC_NAME_MAX + 1];   /* "": no network */
	size_t n, cap;
	bool oom;
	struct supervisor *sv;
};

/* Pass 1: who is there, and in which VPC (for the network cleanup, which
 * must run before any pod thread touches the network). */
static void on_stored(void *opaque, const char *uid, const struct pod *pod,
		      bool deleting)
{
	struct known *k = opaque;

	(void)deleting;
	if (k->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 64;
		void *nu = realloc(k->uids, ncap * sizeof(*k->uids));
		void *nv = nu ? realloc(k->vpcs, ncap * sizeof(*k->vpcs)) : NULL;

		if (nu)
			k->uids = nu;
		if (nv)
			k->vpcs = nv;
		if (!nu || !nv) {
			k->oom = true;
			return;
		}
		k->cap = ncap;
	}
	snprintf(k->uids[k->n], UUID_STR_LEN, "%s", uid);
	k->vpcs[k->n][0] = '\0';
	if (k->sv->cfg.vpcs && vpcsvc_pod_vpc(k->sv->cfg.vpcs, pod, k->vpcs[k->n], NULL) < 0)
		k->vpcs[k->n][0] = '\0';
	k->n++;
}

/* Pass 2: a thread per pod, reattaching to its VM. */
static void on_stored_spawn(void *opaque, const char *uid, const struct pod *pod,
			    bool deleting)
{
	struct known *k = opaque;

	sv_spawn(k->sv, uid, pod, true);
	if (deleting)
		sv_runner_stop(k->sv, uid, 0);
}

/* Remove the network's orphans, then set up every VPC. */
static int start_network(struct supervisor *sv, const struct known *k,
			 struct pv_err *err)
{
	const char **uids = NULL, **vpcs = NULL;
	int ret;

	if (!sv->cfg.vpcs)
		return 0;
	if (k->n && (!(uids = calloc(k->n, sizeof(*uids))) ||
		     !(vpcs = calloc(k->n, sizeof(*vpcs))))) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < k->n; i++) {
		uids[i] = k->uids[i];
		vpcs[i] = k->vpcs[i];
	}
	ret = vpcsvc_start(sv->cfg.vpcs, uids, vpcs, k->n, err);
out:
	free(uids);
	free(vpcs);
	return ret;
}

static bool is_known(const struct known *k, const char *uid, size_t len)
{
	for (size_t i = 0; i < k->n; i++)
		if (!strncmp(k->uids[i], uid, len))
			return true;
	return false;
}

static void remove_orphans(struct supervisor *sv, const struct known *k)
{
	struct pv_err err = { 0 };
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;

	if (sv->vmm->ops->list(sv->vmm, &names, &n, &err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct vmm_vm *vm = NULL;
			const char *uid = names[i] + strlen("podvm-");

			if (strncmp(names[i], "podvm-", 6) || is_known(k, uid, UUID_STR_LEN)) {
				free(names[i]);
				continue;
			}
			if (sv->vmm->ops->attach(sv->vmm, names[i], &vm, &err) == 0) {
				vmm_destroy(vm, &err);
				vmm_release(vm);
				log_info("removed orphan VM", LOG_STR("vm", names[i]), LOG_END);
			}
			free(names[i]);
		}
		free(names);
	}
	/* run dirs named after a uid prefix that no record owns */
	d = opendir(sv->cfg.run_dir);
	while (d && (de = readdir(d))) {
		char path[LAUNCH_PATH_MAX];

		if (strlen(de->d_name) != LAUNCH_SHORT_ID ||
		    strspn(de->d_name, "0123456789abcdef-") != LAUNCH_SHORT_ID ||
		    is_known(k, de->d_name, LAUNCH_SHORT_ID))
			continue;
		if (util_fmt(path, sizeof(path), "%s/%s", sv->cfg.run_dir, de->d_name) == 0 &&
		    util_rm_rf(path, &err) == 0)
			log_info("removed orphan run dir", LOG_STR("path", path), LOG_END);
	}
	if (d)
		closedir(d);
}

int supervisor_open(const struct supervisor_config *cfg,
		    struct supervisor **out, struct pv_err *err)
{
	struct supervisor *sv = calloc(1, sizeof(*sv));
	struct vmm_config vc = { 0 };
	char root[LAUNCH_PATH_MAX], cache[LAUNCH_PATH_MAX];
	int ret;

	*out = NULL;
	if (!sv)
		return pv_err_set(err, ENOMEM, "out of memory");
	sv->cfg = *cfg;
	pthread_mutex_init(&sv->lock, NULL);
	pthread_mutex_init(&sv->gc_lock, NULL);
	ret = util_mkdir_p(cfg->run_dir, 0755, err);
	if (ret < 0)
		goto fail;
	/* One embedded libvirt root per process: every pod's VM lives in it,
	 * and the next podvmd finds them there. */
	if (util_fmt(root, sizeof(root), "%s/libvirt", cfg->run_dir) < 0 ||
	    util_fmt(cache, sizeof(cache), "%s/cache", cfg->state_dir) < 0) {
		ret = pv_err_set(err, ENAMETOOLONG, "run dir path too long");
		goto fail;
	}
	vc.uri = cfg->libvirt_uri;
	vc.state_dir = root;
	vc.cache_dir = cache;
	vc.accel = VMM_ACCEL_AUTO;
	vc.quiet = true;
	ret = vmm_backend(NULL)->open(&vc, &sv->vmm, err);
	if (ret < 0)
		goto fail;
	log_info("VM backend ready", LOG_STR("accel", supervisor_accel(sv)), LOG_END);
	*out = sv;
	return 0;
fail:
	pthread_mutex_destroy(&sv->gc_lock);
	pthread_mutex_destroy(&sv->lock);
	free(sv);
	return ret;
}

int supervisor_start(struct supervisor *sv, struct podsvc *svc,
		     struct pv_err *err)
{
	struct known k = { .sv = sv };
	int ret;

	sv->svc = svc;
	podsvc_foreach(svc, on_stored, &k);
	/* an incomplete list would make the cleanup remove live pods' taps */
	ret = k.oom ? pv_err_set(err, ENOMEM, "out of memory") : start_network(sv, &k, err);
	if (ret == 0) {
		podsvc_foreach(svc, on_stored_spawn, &k);
		remove_orphans(sv, &k);
	}
	free(k.uids);
	free(k.vpcs);
	return ret;
}

void supervisor_close(struct supervisor *sv)
{
	struct sv_pod *p;
	uint64_t one = 1;

	if (!sv)
		return;
	pthread_mutex_lock(&sv->lock);
	sv->closing = true;
	for (p = sv->pods; p; p = p->next)
		if (write(p->wake_fd, &one, sizeof(one)) < 0)
			log_warn("cannot wake pod thread", LOG_STR("uid", p->uid), LOG_END);
	pthread_mutex_unlock(&sv->lock);
	/* Threads in a boot step notice `closing` when the step returns. */
	while ((p = sv->pods)) {
		sv->pods = p->next;
		pthread_join(p->thread, NULL);
		sv_pod_free(p);
	}
	vmm_close(sv->vmm);
	pthread_mutex_destroy(&sv->gc_lock);
	pthread_mutex_destroy(&sv->lock);
	free(sv);
}

const char *supervisor_accel(struct supervisor *sv)
{
	return sv->vmm->ops->accel(sv->vmm) == VMM_ACCEL_KVM ? "kvm" : "tcg";
}
