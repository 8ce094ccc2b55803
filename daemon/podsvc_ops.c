/* Pod service calls after create: get, list, delete, the supervisor's
 * status updates and finalize, counters. */
#include "daemon/podsvc_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "host/log.h"

static void ops_not_found(struct podsvc_status *st, const char *name)
{
	podsvc_st_set(st, 404, "NotFound", name, "pods \"%.253s\" not found",
		      name);
}

int podsvc_get(struct podsvc *s, const char *ns, const char *name,
	       char **out, struct podsvc_status *st)
{
	struct podsvc_rec *r;
	int ret = -1;

	*out = NULL;
	pthread_mutex_lock(&s->lock);
	r = ns && name ? podsvc_find_name(s, ns, name) : NULL;
	if (!r) {
		ops_not_found(st, name ? name : "");
	} else if (!(*out = podsvc_json_text(r->obj))) {
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
	} else {
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Growable text buffer for the PodList. */
struct ops_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void ops_put(struct ops_buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		char *np;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* etcd key order, as Kubernetes lists: namespace, then name */
static int ops_cmp(const void *a, const void *b)
{
	const struct podsvc_rec *x = *(struct podsvc_rec *const *)a;
	const struct podsvc_rec *y = *(struct podsvc_rec *const *)b;
	int c = strcmp(x->pod->namespace, y->pod->namespace);

	return c ? c : strcmp(x->pod->name, y->pod->name);
}

int podsvc_list(struct podsvc *s, const struct podsvc_selector *sel,
		char **out, struct podsvc_status *st)
{
	struct podsvc_sel ps;
	struct podsvc_rec **v = NULL;
	struct ops_buf b = { 0 };
	size_t n = 0;
	char head[128];
	int ret = -1;

	*out = NULL;
	if (podsvc_sel_parse(sel, &ps, st) < 0)
		return -1;
	pthread_mutex_lock(&s->lock);
	v = calloc(s->n_recs ? s->n_recs : 1, sizeof(*v));
	if (!v) {
		b.oom = true;
		goto unlock;
	}
	for (size_t i = 0; i < s->n_recs; i++)
		if (podsvc_sel_match(&ps, s->recs[i]->obj))
			v[n++] = s->recs[i];
	qsort(v, n, sizeof(*v), ops_cmp);
	snprintf(head, sizeof(head), "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
		 "\"metadata\":{\"resourceVersion\":\"%" PRIu64 "\"},\"items\":[",
		 s->rv);
	ops_put(&b, head);
	for (size_t i = 0; i < n; i++) {
		const char *t = json_object_to_json_string_ext(v[i]->obj,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		if (!t) {
			b.oom = true;
			break;
		}
		if (i)
			ops_put(&b, ",");
		ops_put(&b, t);
	}
	ops_put(&b, "]}");
unlock:
	pthread_mutex_unlock(&s->lock);
	if (b.oom) {
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
		free(b.p);
	} else {
		*out = b.p;
		ret = 0;
	}
	free(v);
	podsvc_sel_free(&ps);
	return ret;
}

int podsvc_delete(struct podsvc *s, const char *ns, const char *name,
		  int64_t grace, char **out, struct podsvc_status *st)
{
	struct pv_err err = { 0 };
	struct json_object *draft = NULL, *meta;
	struct podsvc_rec *r;
	char uid[UUID_STR_LEN], ts[40];
	bool call_stop = false;
	int ret = -1;

	*out = NULL;
	pthread_mutex_lock(&s->lock);
	r = ns && name ? podsvc_find_name(s, ns, name) : NULL;
	if (!r) {
		ops_not_found(st, name ? name : "");
		goto unlock;
	}
	if (r->deleting)
		goto reply;   /* already going: the same object, no 2nd stop */
	if (grace < 0)
		grace = r->pod->grace_period;
	/* deletionTimestamp: when the pod will be killed (now + grace) */
	podsvc_json_time(util_wall_ms() + grace * 1000, ts, sizeof(ts));
	if (json_object_deep_copy(r->obj, &draft, NULL) != 0 ||
	    !json_object_object_get_ex(draft, "metadata", &meta) ||
	    json_object_object_add(meta, "deletionTimestamp",
				   json_object_new_string(ts)) ||
	    json_object_object_add(meta, "deletionGracePeriodSeconds",
				   json_object_new_int64(grace))) {
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
		goto unlock;
	}
	if (podsvc_commit(s, r, PODSVC_MODIFIED, draft, r->uid, &err) < 0) {
		podsvc_st_set(st, 500, "InternalError", NULL,
			      "storing the pod: %s", err.msg);
		goto unlock;
	}
	r->deleting = true;
	if (r->runner_busy) {
		r->stop_pending = true;   /* create() stops it after start() */
		r->stop_grace = grace;
	} else {
		call_stop = true;
		memcpy(uid, r->uid, sizeof(uid));
	}
reply:
	*out = podsvc_json_text(r->obj);
	if (*out)
		ret = 0;
	else
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
unlock:
	pthread_mutex_unlock(&s->lock);
	json_object_put(draft);
	if (call_stop)
		podsvc_do_stop(s, uid, grace);
	return ret;
}

int podsvc_finalize_delete(struct podsvc *s, const char *uid)
{
	struct pv_err err = { 0 };
	struct podsvc_rec *r;
	int ret;

	pthread_mutex_lock(&s->lock);
	r = podsvc_find_uid(s, uid);
	if (!r) {
		ret = -ENOENT;
		goto unlock;
	}
	ret = podsvc_commit(s, r, PODSVC_DELETED, r->obj, uid, &err);
	if (ret < 0) {
		log_error("cannot finalize pod deletion", LOG_STR("uid", uid),
			  LOG_STR("error", err.msg), LOG_END);
		goto unlock;
	}
	podsvc_rec_remove(s, r);
unlock:
	pthread_mutex_unlock(&s->lock);
	if (ret == 0) {
		podsvc_rec_free(r);
		podsvc_log_remove(s, uid);
	}
	return ret;
}

static bool ops_same(struct json_object *a, struct json_object *b)
{
	char *ta = a ? podsvc_json_text(a) : NULL;
	char *tb = b ? podsvc_json_text(b) : NULL;
	bool same = ta && tb && !strcmp(ta, tb);

	free(ta);
	free(tb);
	return same;
}

int podsvc_update_status(struct podsvc *s, const char *uid,
			 const struct podsvc_status_update *up)
{
	struct pv_err err = { 0 };
	struct podsvc_status_update u = *up;
	struct json_object *status = NULL, *prev = NULL, *draft = NULL;
	struct podsvc_rec *r;
	char restarted[POD_MAX_CONTAINERS][POD_LABEL_NAME_MAX + 1];
	size_t n_restarted = 0;
	int ret = 0;

	if (u.n_containers > POD_MAX_CONTAINERS)
		u.n_containers = POD_MAX_CONTAINERS;
	pthread_mutex_lock(&s->lock);
	r = podsvc_find_uid(s, uid);
	if (!r) {
		ret = -ENOENT;
		goto unlock;
	}
	json_object_object_get_ex(r->obj, "status", &prev);
	status = podsvc_json_status(r->pod, prev, &u, s->host_ip,
				    util_wall_ms());
	if (!status) {
		ret = -ENOMEM;
		goto unlock;
	}
	if (ops_same(status, prev))
		goto unlock;   /* nothing changed: no event */
	if (json_object_deep_copy(r->obj, &draft, NULL) != 0 ||
	    json_object_object_add(draft, "status", status)) {
		ret = -ENOMEM;
		goto unlock;
	}
	status = NULL;   /* owned by draft */
	ret = podsvc_commit(s, r, PODSVC_MODIFIED, draft, uid, &err);
	if (ret < 0) {
		log_error("cannot store pod status", LOG_STR("uid", uid),
			  LOG_STR("error", err.msg), LOG_END);
		goto unlock;
	}
	for (size_t i = 0; i < pod_n_all_containers(r->pod) && i < u.n_containers; i++) {
		if (u.ctr[i].restart_count > r->ctr_restarts[i])
			snprintf(restarted[n_restarted++], sizeof(restarted[0]),
				 "%s", pod_container_at(r->pod, i)->name);
		r->ctr_state[i] = u.ctr[i].state;
		r->ctr_restarts[i] = u.ctr[i].restart_count;
	}
unlock:
	pthread_mutex_unlock(&s->lock);
	json_object_put(status);
	json_object_put(draft);
	for (size_t i = 0; i < n_restarted; i++)
		podsvc_log_restarted(s, uid, restarted[i]);
	return ret;
}

void podsvc_counts(struct podsvc *s, struct podsvc_counts *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&s->lock);
	c->pods = s->n_recs;
	for (size_t i = 0; i < s->n_recs; i++)
		if ((unsigned)s->recs[i]->phase < 4)
			c->by_phase[s->recs[i]->phase]++;
	c->resource_version = s->rv;
	pthread_mutex_unlock(&s->lock);
}
