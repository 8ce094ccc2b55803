/* The pod service core: records in memory, the API and supervisor calls,
 * locking. Durability is in podsvc_store.c, events and watches in
 * podsvc_watch.c, JSON in podsvc_json.c.
 *
 * The runner is always called without s->lock (it may call back into us,
 * e.g. stop() finalizing at once). create() calls runner->start() after
 * unlocking; a delete that arrives meanwhile is parked on the record
 * (stop_pending) and create() delivers it after start() returned, so the
 * runner always sees start before stop. */
#include "daemon/podsvc_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host/log.h"

void podsvc_st_set(struct podsvc_status *st, int code, const char *reason,
		   const char *name, const char *fmt, ...)
{
	va_list ap;

	if (!st)
		return;
	memset(st, 0, sizeof(*st));
	st->code = code;
	snprintf(st->reason, sizeof(st->reason), "%s", reason);
	snprintf(st->kind, sizeof(st->kind), "pods");
	if (name)
		snprintf(st->name, sizeof(st->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
}

/* ---- records ----------------------------------------------------------- */

struct podsvc_rec *podsvc_find_uid(struct podsvc *s, const char *uid)
{
	for (size_t i = 0; i < s->n_recs; i++)
		if (!strcmp(s->recs[i]->uid, uid))
			return s->recs[i];
	return NULL;
}

struct podsvc_rec *podsvc_find_name(struct podsvc *s, const char *ns,
				    const char *name)
{
	for (size_t i = 0; i < s->n_recs; i++) {
		struct pod *p = s->recs[i]->pod;

		if (!strcmp(p->name, name) && !strcmp(p->namespace, ns))
			return s->recs[i];
	}
	return NULL;
}

int podsvc_rec_reserve(struct podsvc *s)
{
	if (s->n_recs == s->cap_recs) {
		size_t ncap = s->cap_recs ? s->cap_recs * 2 : 32;
		struct podsvc_rec **n = realloc(s->recs, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		s->recs = n;
		s->cap_recs = ncap;
	}
	return 0;
}

int podsvc_rec_insert(struct podsvc *s, struct podsvc_rec *r)
{
	if (podsvc_rec_reserve(s) < 0)
		return -ENOMEM;
	s->recs[s->n_recs++] = r;
	return 0;
}

void podsvc_do_stop(struct podsvc *s, const char *uid, int64_t grace)
{
	if (s->ops && s->ops->stop)
		s->ops->stop(s->runner, uid, grace);
	else
		podsvc_finalize_delete(s, uid);   /* nothing runs pods */
}

void podsvc_rec_remove(struct podsvc *s, struct podsvc_rec *r)
{
	for (size_t i = 0; i < s->n_recs; i++) {
		if (s->recs[i] != r)
			continue;
		s->recs[i] = s->recs[--s->n_recs];
		return;
	}
}

void podsvc_rec_free(struct podsvc_rec *r)
{
	if (!r)
		return;
	pod_free(r->pod);
	json_object_put(r->obj);
	free(r);
}

/* ---- open / close -------------------------------------------------------- */

int podsvc_open(const struct podsvc_config *cfg,
		const struct podsvc_runner_ops *ops, void *runner,
		struct podsvc **out, struct pv_err *err)
{
	struct podsvc *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int ret;

	*out = NULL;
	if (!s)
		return pv_err_set(err, ENOMEM, "out of memory");
	s->dfd = s->pods_dfd = s->events_dfd = -1;
	s->ops = ops;
	s->runner = runner;
	s->max_events = cfg->max_events ? cfg->max_events : PODSVC_DEFAULT_EVENTS;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->log_mu, NULL);
	/* timed waits use the monotonic clock: wall-clock jumps must not
	 * stretch or cut a watch timeout */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_cond_init(&s->idle, &ca);
	pthread_condattr_destroy(&ca);
	if (!cfg->state_dir ||
	    util_fmt(s->state_dir, sizeof(s->state_dir), "%s", cfg->state_dir) < 0 ||
	    util_fmt(s->dir, sizeof(s->dir), "%s/daemon", cfg->state_dir) < 0 ||
	    util_fmt(s->host_ip, sizeof(s->host_ip), "%s",
		     cfg->host_ip ? cfg->host_ip : "") < 0 ||
	    util_fmt(s->node_name, sizeof(s->node_name), "%s",
		     cfg->node_name ? cfg->node_name : "") < 0) {
		ret = pv_err_set(err, ENAMETOOLONG, "podsvc: state dir, host IP "
				 "or node name missing or too long");
		goto fail;
	}
	s->ev = calloc(s->max_events, sizeof(*s->ev));
	if (!s->ev) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	ret = podsvc_store_open_dirs(s, err);
	if (ret < 0)
		goto fail;
	ret = podsvc_store_load(s, err);
	if (ret < 0)
		goto fail;
	log_info("pod store loaded", LOG_INT("pods", (long long)s->n_recs),
		 LOG_INT("resourceVersion", (long long)s->rv),
		 LOG_INT("events", (long long)s->ev_n), LOG_END);
	*out = s;
	return 0;
fail:
	s->refs = 0;
	podsvc_close(s);
	return ret;
}

void podsvc_close(struct podsvc *s)
{
	struct timespec dl;
	bool idle = true;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->closing = true;
	pthread_cond_broadcast(&s->cond);
	/* watchers get -1 now; wait for them to close their watches. A
	 * watch left open after 10 s: leak the service rather than free
	 * memory someone still points at. */
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 10;
	while (s->refs > 0) {
		if (pthread_cond_timedwait(&s->idle, &s->lock, &dl) == ETIMEDOUT) {
			idle = s->refs == 0;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (!idle) {
		log_error("pod service closed with open watches; leaking it",
			  LOG_INT("watches", (long long)s->refs), LOG_END);
		return;
	}
	for (size_t i = 0; i < s->n_recs; i++)
		podsvc_rec_free(s->recs[i]);
	free(s->recs);
	podsvc_ring_free(s);
	if (s->dfd >= 0)
		close(s->dfd);
	if (s->pods_dfd >= 0)
		close(s->pods_dfd);
	if (s->events_dfd >= 0)
		close(s->events_dfd);
	pthread_cond_destroy(&s->cond);
	pthread_cond_destroy(&s->idle);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->log_mu);
	free(s);
}

int podsvc_images(struct podsvc *s, char ***out, size_t *n_out)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->n_recs; i++)
		cap += pod_n_all_containers(s->recs[i]->pod);
	v = calloc(cap ? cap : 1, sizeof(*v));
	for (size_t i = 0; v && i < s->n_recs; i++) {
		const struct pod *pod = s->recs[i]->pod;

		for (size_t k = 0; k < pod_n_all_containers(pod) && n < cap; k++)
			if (!(v[n++] = strdup(pod_container_at(pod, k)->image)))
				ret = -ENOMEM;
	}
	pthread_mutex_unlock(&s->lock);
	if (!v || ret < 0) {
		for (size_t i = 0; v && i < n; i++)
			free(v[i]);
		free(v);
		return -ENOMEM;
	}
	*out = v;
	*n_out = n;
	return 0;
}

void podsvc_foreach(struct podsvc *s,
		    void (*fn)(void *opaque, const char *uid,
			       const struct pod *pod, bool deleting),
		    void *opaque)
{
	struct item { char uid[UUID_STR_LEN]; struct pod *pod; bool del; } *v;
	size_t n = 0;

	/* snapshot, then call fn unlocked: it may call update_status */
	pthread_mutex_lock(&s->lock);
	v = calloc(s->n_recs ? s->n_recs : 1, sizeof(*v));
	for (size_t i = 0; v && i < s->n_recs; i++) {
		struct podsvc_rec *r = s->recs[i];
		bool finished = r->phase == PODSVC_SUCCEEDED ||
				r->phase == PODSVC_FAILED;

		/* a finished pod still being deleted needs the runner to
		 * release it and call podsvc_finalize_delete */
		if (finished && !r->deleting)
			continue;
		memcpy(v[n].uid, r->uid, sizeof(v[n].uid));
		v[n].pod = r->pod;
		v[n].del = r->deleting;
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	if (!v) {
		log_error("out of memory listing stored pods", LOG_END);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fn(opaque, v[i].uid, v[i].pod, v[i].del);
	free(v);
}

/* ---- create -------------------------------------------------------------- */

/* 422 Invalid with every cause; message in Kubernetes' form. */
static void create_invalid(struct podsvc_status *st, const char *name,
			   const struct pod_causes *c, const char *first)
{
	size_t off;

	podsvc_st_set(st, 422, "Invalid", name, "Pod \"%s\" is invalid: %s",
		      name ? name : "", c->n > 1 ? "[" : "");
	off = strlen(st->message);
	for (size_t i = 0; i < c->n && off < sizeof(st->message); i++) {
		int n = snprintf(st->message + off, sizeof(st->message) - off,
				 "%s%s%s%s", i ? ", " : "", c->items[i].field,
				 c->items[i].field[0] ? ": " : "",
				 c->items[i].message);

		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (!c->n)
		snprintf(st->message + off, sizeof(st->message) - off, "%s",
			 first);
	else if (c->n > 1 && off + 1 < sizeof(st->message))
		snprintf(st->message + off, sizeof(st->message) - off, "]");
	st->causes = *c;
}

/* The body as a json-c tree (it need not be NUL-terminated), or NULL. */
static struct json_object *create_parse(const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o = NULL;

	if (len > INT32_MAX || !(tok = json_tokener_new()))
		return NULL;
	o = json_tokener_parse_ex(tok, body, (int)len);
	json_tokener_free(tok);
	return o;
}

static const char *create_raw_name(struct json_object *raw)
{
	const char *n = podsvc_json_str(raw, "metadata", "name");

	return n && strlen(n) <= POD_NAME_MAX ? n : NULL;
}

/* Decode and check a new pod into r, its namespace and a new uid set;
 * *raw keeps the body's JSON for what podvm does not model. 0, -1 with st
 * set, or -ENOMEM (err may say more). */
static int create_prepare(struct podsvc *s, const char *ns, const char *body,
			  size_t len, struct podsvc_rec *r,
			  struct json_object **raw, struct podsvc_status *st,
			  struct pv_err *err)
{
	struct pod_causes causes = { 0 };
	struct pod_size size;
	const char *given_ns;
	char uid[UUID_STR_LEN];
	int rc;

	rc = pod_decode_json(body, len, &r->pod, &causes, err);
	if (rc == -ENOMEM)
		return -ENOMEM;
	*raw = create_parse(body, len);    /* decoded fine or not: extras */
	if (rc < 0) {
		/* not JSON at all is a bad request, as in Kubernetes */
		if (causes.n == 1 && !causes.items[0].field[0] &&
		    !strncmp(err->msg, "invalid JSON", 12))
			podsvc_st_set(st, 400, "BadRequest", NULL, "%s", err->msg);
		else
			create_invalid(st, create_raw_name(*raw), &causes, err->msg);
		return -1;
	}
	given_ns = podsvc_json_str(*raw, "metadata", "namespace");
	if (given_ns && *given_ns && strcmp(given_ns, ns)) {
		podsvc_st_set(st, 400, "BadRequest", r->pod->name, "the namespace "
			      "of the provided object does not match the "
			      "namespace sent on the request");
		return -1;
	}
	/* Fargate records the VM size it provisioned in this annotation. */
	rc = pod_fargate_size(r->pod, &size, err);
	if (rc < 0) {
		podsvc_st_set(st, 422, "Invalid", r->pod->name, "%s", err->msg);
		return -1;
	}
	/* the runner's own checks (the pod's VPC exists), before storing */
	if (s->ops && s->ops->admit && s->ops->admit(s->runner, r->pod, st) < 0)
		return -1;
	rc = pod_set_annotation(r->pod, "CapacityProvisioned", size.annotation);
	if (rc == -ENOMEM)
		return -ENOMEM;
	if (rc < 0) {
		podsvc_st_set(st, 422, "Invalid", r->pod->name,
			      "metadata.annotations: Too many");
		return -1;
	}
	free(r->pod->namespace);
	r->pod->namespace = strdup(ns);
	free(r->pod->uid);   /* the server assigns the uid, as Kubernetes */
	r->pod->uid = NULL;
	if (!r->pod->namespace || util_uuid4(uid, err) < 0 ||
	    !(r->pod->uid = strdup(uid)))
		return -ENOMEM;
	memcpy(r->uid, uid, sizeof(r->uid));
	return 0;
}

/* Store r (ADDED) unless the name is taken; *out: the stored object. */
static int create_store(struct podsvc *s, const char *ns, struct podsvc_rec *r,
			struct json_object *draft, char **out,
			struct podsvc_status *st)
{
	struct pv_err err = { 0 };
	int ret = -1;

	pthread_mutex_lock(&s->lock);
	if (s->closing) {
		podsvc_st_set(st, 503, "ServiceUnavailable", NULL,
			      "podvmd is shutting down");
	} else if (podsvc_find_name(s, ns, r->pod->name)) {
		podsvc_st_set(st, 409, "AlreadyExists", r->pod->name,
			      "pods \"%s\" already exists", r->pod->name);
	} else if (podsvc_rec_reserve(s) < 0) {
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
	} else if (podsvc_commit(s, r, PODSVC_ADDED, draft, r->uid, &err) < 0) {
		podsvc_st_set(st, 500, "InternalError", NULL,
			      "storing the pod: %s", err.msg);
	} else {
		s->recs[s->n_recs++] = r;   /* reserved: cannot fail */
		r->runner_busy = s->ops && s->ops->start;
		*out = podsvc_json_text(r->obj);
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Hand the stored pod to the runner; a delete that came meanwhile is
 * passed on once start returned. */
static void create_start(struct podsvc *s, struct podsvc_rec *r)
{
	char uid[UUID_STR_LEN];
	int64_t grace;
	bool stop;

	s->ops->start(s->runner, r->uid, r->pod);
	pthread_mutex_lock(&s->lock);
	r->runner_busy = false;
	stop = r->stop_pending;
	grace = r->stop_grace;
	r->stop_pending = false;
	snprintf(uid, sizeof(uid), "%s", r->uid);
	pthread_mutex_unlock(&s->lock);
	if (stop)
		podsvc_do_stop(s, uid, grace);
}

int podsvc_create(struct podsvc *s, const char *ns, const char *body,
		  size_t len, char **out, struct podsvc_status *st)
{
	struct pv_err err = { 0 };
	struct json_object *raw = NULL, *draft = NULL;
	struct podsvc_rec *r = NULL;
	int ret = -1;

	*out = NULL;
	if (!ns || !pod_is_dns1123_label(ns)) {
		podsvc_st_set(st, 400, "BadRequest", NULL,
			      "invalid namespace \"%.64s\"", ns ? ns : "");
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto oom;
	ret = create_prepare(s, ns, body, len, r, &raw, st, &err);
	if (ret == -ENOMEM)
		goto oom;
	if (ret < 0)
		goto out;
	draft = podsvc_json_new_pod(r->pod, raw, s->node_name, util_wall_ms());
	if (!draft)
		goto oom;
	ret = create_store(s, ns, r, draft, out, st);
	if (ret < 0)
		goto out;
	if (r->runner_busy)
		create_start(s, r);
	r = NULL;   /* owned by the service now */
	if (!*out) {
		/* stored and started; only the reply copy failed */
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
		ret = -1;
	}
	goto out;
oom:
	podsvc_st_set(st, 500, "InternalError", NULL, "%s",
		      err.msg[0] ? err.msg : "out of memory");
	ret = -1;
out:
	json_object_put(draft);
	json_object_put(raw);
	podsvc_rec_free(r);
	return ret;
}
