/* The supervisor's image manager, after kubelet's: before a pod's VM boots,
 * each distinct image is pulled per imagePullPolicy (with the pod's
 * imagePullSecrets). A failed pull leaves the pod Pending, its containers
 * waiting with ErrImagePull and then ImagePullBackOff, and is retried after
 * 10 s, doubling to 5 min; a pull error never fails the pod, and a delete
 * ends the wait at once. Pull events (Pulling, Pulled, Failed, BackOff) go
 * to podvmd's log with the pod's other lifecycle events. Image GC runs at
 * kubelet's thresholds and keeps every image a stored pod names. */
#include "daemon/supervisor_priv.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/secrets.h"
#include "host/imgpolicy.h"
#include "host/log.h"
#include "images/registry.h"

#define SV_PULL_BACKOFF_MS     10000    /* kubelet: 10 s ... */
#define SV_PULL_BACKOFF_MAX_MS 300000   /* ... doubling to 5 min */
#define SV_PULL_ERR_SHOW_MS    1000     /* ErrImagePull, then ImagePullBackOff */
#define SV_GC_HIGH 85                   /* kubelet's imageGCHighThresholdPercent */
#define SV_GC_LOW  80                   /* kubelet's imageGCLowThresholdPercent */

static void pod_event(struct sv_pod *p, enum log_level lvl, const char *reason,
		      const char *image, const char *msg)
{
	log_write(lvl, "pod event", LOG_STR("event", reason), LOG_STR("uid", p->uid),
		  LOG_STR("namespace", p->pod->namespace), LOG_STR("pod", p->pod->name),
		  LOG_STR("image", image), LOG_STR("message", msg), LOG_END);
}

/* Wait ms, or less when the pod is deleted or podvmd stops. */
static enum sv_outcome pull_sleep(struct sv_pod *p, int64_t ms)
{
	int64_t end = util_mono_ms() + ms, left;
	enum sv_outcome o;
	uint64_t v;

	while ((o = sv_check_requests(p, NULL)) == SV_DONE &&
	       (left = end - util_mono_ms()) > 0) {
		struct pollfd pfd = { p->wake_fd, POLLIN, 0 };

		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) > 0 &&
		    read(p->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			break;
	}
	return o;
}

/* Every container of image: waiting reason/message, and its imageID. */
static void set_ctrs(struct sv_pod *p, const char *image, const char *reason,
		     const char *msg, const char *image_id)
{
	for (size_t i = 0; i < p->st.n_containers; i++) {
		struct podsvc_ctr_status *c = &p->st.ctr[i];

		if (strcmp(pod_container_at(p->pod, i)->image, image))
			continue;
		if (reason)
			snprintf(c->reason, sizeof(c->reason), "%s", reason);
		if (msg)
			snprintf(c->message, sizeof(c->message), "%s", msg);
		if (image_id)
			snprintf(c->image_id, sizeof(c->image_id), "%s", image_id);
	}
}

/* imageID of a stored image: its repo digest; an imported one has none,
 * so its name with the manifest digest. */
static void image_id_of(struct image_store *s, const char *ref, char *out, size_t len)
{
	struct image *img = NULL;
	struct image_ref r;

	out[0] = '\0';
	if (image_store_resolve(s, ref, &img, NULL) < 0)
		return;
	if (img->repo_digest[0])
		snprintf(out, len, "%s", img->repo_digest);
	else if (image_ref_parse(img->ref, &r, NULL) == 0)
		if (util_fmt(out, len, "%s/%s@%s", r.registry, r.repo, img->manifest_digest) < 0)
			out[0] = '\0';
	image_free(img);
}

static void warn_secret(void *opaque, const char *msg)
{
	struct sv_pod *p = opaque;

	pod_event(p, LOG_WARN, "FailedToRetrieveImagePullSecret", "", msg);
}

/* One round over the pod's distinct images: 0 when all are there, else
 * the number that failed (their containers marked ErrImagePull). */
static int pull_round(struct sv_pod *p, struct image_store *s, const struct registry_creds *creds,
		      bool *pulled)
{
	size_t n = pod_n_all_containers(p->pod);
	char reason[32], id[512], msg[PV_ERR_MSG_MAX + 64];
	struct image_pull_result res;
	struct pv_err err;
	int failed = 0, ret;

	for (size_t i = 0; i < n; i++) {
		const struct pod_container *c = pod_container_at(p->pod, i);
		bool seen = false;

		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(pod_container_at(p->pod, k)->image, c->image);
		if (seen)
			continue;
		pv_err_clear(&err);
		ret = imgpolicy_decide(s, c, IMGPOLICY_KUBELET, reason, &err);
		if (ret == 1 && !p->sv->cfg.registry)
			ret = pv_err_set(&err, ENOTSUP, "podvmd has no registry client");
		if (ret == 1) {
			snprintf(msg, sizeof(msg), "Pulling image \"%s\"", c->image);
			pod_event(p, LOG_INFO, "Pulling", c->image, msg);
			ret = image_pull(s, p->sv->cfg.registry, c->image, creds, NULL, &res, &err);
			if (ret == 0) {
				snprintf(msg, sizeof(msg),
					 "Successfully pulled image \"%s\" in %.3fs. Image size: %llu bytes.",
					 c->image, (double)res.ms / 1000.0, (unsigned long long)res.size);
				pod_event(p, LOG_INFO, "Pulled", c->image, msg);
				*pulled = true;
			}
		} else if (ret == 0) {
			snprintf(msg, sizeof(msg),
				 "Container image \"%s\" already present on machine", c->image);
			pod_event(p, LOG_DEBUG, "Pulled", c->image, msg);
		}
		if (ret < 0) {
			/* the message names the image and the cause */
			pod_event(p, LOG_WARN, "Failed", c->image, err.msg);
			set_ctrs(p, c->image, reason[0] ? reason : "ErrImagePull", err.msg, NULL);
			failed++;
			continue;
		}
		image_id_of(s, c->image, id, sizeof(id));
		set_ctrs(p, c->image, i < p->st.n_init ? "PodInitializing" : "ContainerCreating",
			 "", id);
	}
	return failed;
}

enum sv_outcome sv_pull_images(struct sv_pod *p)
{
	struct image_store *s = NULL;
	struct pv_err err = { 0 };
	int64_t backoff = SV_PULL_BACKOFF_MS;
	enum sv_outcome o = SV_DONE;
	char msg[PV_ERR_MSG_MAX];
	bool pulled = false;

	if (image_store_open(p->sv->cfg.state_dir, &s, &err) < 0) {
		pod_event(p, LOG_ERROR, "Failed", "", err.msg);
		return SV_FAILED;
	}
	for (;;) {
		struct registry_creds creds = { 0 };
		int failed;

		/* Secrets are read each round: one created meanwhile counts. */
		secrets_pull_creds(p->sv->cfg.secrets, p->pod, &creds, warn_secret, p);
		failed = pull_round(p, s, &creds, &pulled);
		registry_creds_free(&creds);
		if (failed == 0)
			break;
		sv_report(p);   /* Pending, waiting: ErrImagePull */
		o = pull_sleep(p, SV_PULL_ERR_SHOW_MS);
		if (o != SV_DONE)
			break;
		for (size_t i = 0; i < p->st.n_containers; i++) {
			struct podsvc_ctr_status *c = &p->st.ctr[i];
			const char *image = pod_container_at(p->pod, i)->image;

			if (strcmp(c->reason, "ErrImagePull"))
				continue;
			snprintf(msg, sizeof(msg), "Back-off pulling image \"%s\"", image);
			pod_event(p, LOG_INFO, "BackOff", image, msg);
			set_ctrs(p, image, "ImagePullBackOff", msg, NULL);
		}
		sv_report(p);
		o = pull_sleep(p, backoff - SV_PULL_ERR_SHOW_MS);
		if (o != SV_DONE)
			break;
		backoff = backoff * 2 > SV_PULL_BACKOFF_MAX_MS ? SV_PULL_BACKOFF_MAX_MS : backoff * 2;
	}
	image_store_close(s);
	if (o == SV_DONE)
		sv_report(p);   /* imageIDs, ContainerCreating again */
	return o;
}

void sv_image_gc(struct supervisor *sv)
{
	struct image_gc_policy pol = { 0 };
	struct image_gc_result res;
	struct image_store *s = NULL;
	struct pv_err err = { 0 };
	char (*keep)[IMAGE_DIGEST_MAX] = NULL;
	const char **keepv = NULL;
	char **refs = NULL;
	size_t n = 0, cap = 0, n_refs = 0;

	if (pthread_mutex_trylock(&sv->gc_lock) != 0)
		return;   /* one is running: it covers this */
	if (image_store_open(sv->cfg.state_dir, &s, &err) < 0)
		goto out;
	/* Every image a stored pod names is kept, whatever its phase (as
	 * kubelet keeps those of containers that still exist). */
	if (!sv->svc || podsvc_images(sv->svc, &refs, &n_refs) < 0) {
		log_warn("image GC skipped: cannot list the pods' images", LOG_END);
		goto out;
	}
	cap = n_refs;
	keep = calloc(cap ? cap : 1, sizeof(*keep));
	keepv = calloc(cap ? cap : 1, sizeof(*keepv));
	for (size_t i = 0; refs && keep && keepv && i < n_refs; i++) {
		struct image *img = NULL;

		if (refs[i] && image_store_resolve(s, refs[i], &img, NULL) == 0) {
			memcpy(keep[n], img->manifest_digest, IMAGE_DIGEST_MAX);
			keepv[n] = keep[n];
			n++;
		}
		image_free(img);
	}
	if (!keep || !keepv) {   /* an incomplete keep list could remove a needed image */
		log_warn("image GC skipped: out of memory", LOG_END);
		goto out;
	}
	pol.high_pct = sv->cfg.image_gc_high ? sv->cfg.image_gc_high : SV_GC_HIGH;
	pol.low_pct = sv->cfg.image_gc_high ? sv->cfg.image_gc_low : SV_GC_LOW;
	pol.keep = keepv;
	pol.n_keep = n;
	pol.keep_local = true;
	if (image_store_gc(s, &pol, &res, &err) < 0)
		log_warn("image GC failed", LOG_STR("error", err.msg), LOG_END);
	else if (res.removed)
		log_info("image GC", LOG_INT("removed", res.removed), LOG_INT("freed", res.freed),
			 LOG_INT("used_pct_before", res.used_pct_before),
			 LOG_INT("used_pct_after", res.used_pct_after), LOG_END);
out:
	image_store_close(s);
	for (size_t i = 0; refs && i < n_refs; i++)
		free(refs[i]);
	free(refs);
	free(keep);
	free(keepv);
	pthread_mutex_unlock(&sv->gc_lock);
}
