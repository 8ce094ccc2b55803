/* Pod and PodStatus JSON in Kubernetes core/v1 shapes.
 *
 * The status is rebuilt from the runner's struct podsvc_status_update on
 * every report; what Kubernetes keeps across reports (condition
 * lastTransitionTime, startTime, a restarted container's lastState) is
 * taken from the previous status, so equal reports give equal JSON and
 * podsvc_update_status can detect "nothing changed" by comparing text. */
#include "daemon/podsvc_priv.h"
#include "util/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

static bool pj_str(struct json_object *o, const char *key, const char *s)
{
	return util_json_add(o, key, json_object_new_string(s));
}

void podsvc_json_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (len)
			buf[0] = '\0';
	}
}

static bool pj_time(struct json_object *o, const char *key, int64_t ms)
{
	char ts[40];

	podsvc_json_time(ms, ts, sizeof(ts));
	return pj_str(o, key, ts);
}

const char *podsvc_json_phase_name(enum podsvc_phase p)
{
	switch (p) {
	case PODSVC_RUNNING_PHASE: return "Running";
	case PODSVC_SUCCEEDED: return "Succeeded";
	case PODSVC_FAILED: return "Failed";
	case PODSVC_PENDING: break;
	}
	return "Pending";
}

const char *podsvc_json_str(struct json_object *obj, const char *a,
			    const char *b)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(obj, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : NULL;
}

enum podsvc_phase podsvc_json_phase(struct json_object *pod)
{
	const char *p = podsvc_json_str(pod, "status", "phase");

	if (!p)
		return PODSVC_PENDING;
	if (!strcmp(p, "Running"))
		return PODSVC_RUNNING_PHASE;
	if (!strcmp(p, "Succeeded"))
		return PODSVC_SUCCEEDED;
	if (!strcmp(p, "Failed"))
		return PODSVC_FAILED;
	return PODSVC_PENDING;
}

static struct json_object *pj_condition(const char *type, bool status,
					const char *reason, const char *msg,
					const char *since)
{
	struct json_object *c = json_object_new_object();

	if (!c)
		return NULL;
	if (!pj_str(c, "type", type) ||
	    !pj_str(c, "status", status ? "True" : "False") ||
	    json_object_object_add(c, "lastProbeTime", NULL) != 0 ||
	    !pj_str(c, "lastTransitionTime", since) ||
	    (reason && !pj_str(c, "reason", reason)) ||
	    (msg && !pj_str(c, "message", msg))) {
		json_object_put(c);
		return NULL;
	}
	return c;
}

/* lastTransitionTime of prev's condition `type` when its status was the
 * same, else now: the time only moves when the status flips. */
static void pj_since(struct json_object *prev_status, const char *type,
		     bool status, const char *now, char *out, size_t len)
{
	struct json_object *conds, *c;
	const char *t, *st, *since;

	snprintf(out, len, "%s", now);
	if (!json_object_object_get_ex(prev_status, "conditions", &conds) ||
	    !json_object_is_type(conds, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(conds); i++) {
		c = json_object_array_get_idx(conds, i);
		t = podsvc_json_str(c, "type", NULL);
		st = podsvc_json_str(c, "status", NULL);
		since = podsvc_json_str(c, "lastTransitionTime", NULL);
		if (t && st && since && !strcmp(t, type)) {
			if (!strcmp(st, status ? "True" : "False"))
				snprintf(out, len, "%s", since);
			return;
		}
	}
}

struct json_object *podsvc_json_new_pod(const struct pod *pod,
					struct json_object *orig,
					const char *node_name, int64_t now_ms)
{
	struct json_object *enc = NULL, *o = NULL, *meta, *spec = NULL, *status,
			   *conds, *v, *dns;
	char ts[40];

	enc = pod_to_json(pod);
	if (!enc)
		goto fail;
	o = json_object_new_object();
	meta = json_object_new_object();
	if (!o || !util_json_add(o, "apiVersion", json_object_new_string("v1")) ||
	    !util_json_add(o, "kind", json_object_new_string("Pod")) ||
	    !util_json_add(o, "metadata", meta))
		goto fail;
	/* Kubernetes' metadata order; resourceVersion is filled at commit */
	if (!pj_str(meta, "name", pod->name) ||
	    !pj_str(meta, "namespace", pod->namespace) ||
	    !pj_str(meta, "uid", pod->uid) ||
	    !pj_str(meta, "resourceVersion", "0") ||
	    !pj_time(meta, "creationTimestamp", now_ms))
		goto fail;
	if (json_object_object_get_ex(enc, "metadata", &v)) {
		struct json_object *kv;

		if (json_object_object_get_ex(v, "labels", &kv) &&
		    !util_json_add(meta, "labels", json_object_get(kv)))
			goto fail;
		if (json_object_object_get_ex(v, "annotations", &kv) &&
		    !util_json_add(meta, "annotations", json_object_get(kv)))
			goto fail;
	}
	if (!json_object_object_get_ex(enc, "spec", &spec))
		goto fail;
	/* pod/ validates dnsPolicy but does not keep it: carry it over */
	if (orig && json_object_object_get_ex(orig, "spec", &v) &&
	    json_object_object_get_ex(v, "dnsPolicy", &dns) &&
	    json_object_is_type(dns, json_type_string) &&
	    !util_json_add(spec, "dnsPolicy", json_object_get(dns)))
		goto fail;
	if (node_name && *node_name && !pj_str(spec, "nodeName", node_name))
		goto fail;
	if (!util_json_add(o, "spec", json_object_get(spec)))
		goto fail;
	status = json_object_new_object();
	if (!util_json_add(o, "status", status) || !pj_str(status, "phase", "Pending"))
		goto fail;
	conds = json_object_new_array();
	if (!util_json_add(status, "conditions", conds))
		goto fail;
	podsvc_json_time(now_ms, ts, sizeof(ts));
	if (!util_json_push(conds, pj_condition("PodScheduled", true, NULL, NULL, ts)) ||
	    !pj_str(status, "qosClass", "BestEffort"))
		goto fail;
	json_object_put(enc);
	return o;
fail:
	json_object_put(enc);
	json_object_put(o);
	return NULL;
}

static struct json_object *pj_prev_ctr(struct json_object *prev_status,
				       const char *key, const char *name)
{
	struct json_object *a, *c;
	const char *n;

	if (!json_object_object_get_ex(prev_status, key, &a) ||
	    !json_object_is_type(a, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		c = json_object_array_get_idx(a, i);
		n = podsvc_json_str(c, "name", NULL);
		if (n && !strcmp(n, name))
			return c;
	}
	return NULL;
}

static struct json_object *pj_state(const struct podsvc_ctr_status *c)
{
	struct json_object *st = json_object_new_object(), *in;

	if (!st)
		return NULL;
	in = json_object_new_object();
	switch (c->state) {
	case PODSVC_RUNNING:
		if (!util_json_add(st, "running", in) ||
		    !pj_time(in, "startedAt", c->started_ms))
			goto fail;
		break;
	case PODSVC_TERMINATED:
		if (!util_json_add(st, "terminated", in) ||
		    !util_json_add(in, "exitCode", json_object_new_int(c->exit_code)) ||
		    (c->signal && !util_json_add(in, "signal",
					  json_object_new_int(c->signal))) ||
		    !pj_str(in, "reason", c->reason[0] ? c->reason :
			    (c->exit_code ? "Error" : "Completed")) ||
		    (c->message[0] && !pj_str(in, "message", c->message)) ||
		    !pj_time(in, "startedAt", c->started_ms) ||
		    !pj_time(in, "finishedAt", c->finished_ms))
			goto fail;
		break;
	case PODSVC_WAITING:
		if (!util_json_add(st, "waiting", in) ||
		    !pj_str(in, "reason", c->reason[0] ? c->reason :
			    "ContainerCreating") ||
		    (c->message[0] && !pj_str(in, "message", c->message)))
			goto fail;
		break;
	}
	return st;
fail:
	json_object_put(st);
	return NULL;
}

/* lastState: the previous instance's termination once the restart count
 * grew, otherwise whatever it was. */
static struct json_object *pj_last_state(struct json_object *prev,
					 const struct podsvc_ctr_status *c)
{
	struct json_object *ps, *t, *ls = NULL, *out = NULL;
	int prev_restarts = 0;

	if (prev && json_object_object_get_ex(prev, "restartCount", &t))
		prev_restarts = json_object_get_int(t);
	if (prev && c->restart_count > prev_restarts &&
	    json_object_object_get_ex(prev, "state", &ps) &&
	    json_object_object_get_ex(ps, "terminated", &t)) {
		ls = ps;
	} else if (prev && json_object_object_get_ex(prev, "lastState", &t)) {
		ls = t;
	}
	if (!ls)
		return json_object_new_object();
	if (json_object_deep_copy(ls, &out, NULL) != 0)
		return NULL;
	return out;
}

static struct json_object *pj_ctr_status(const struct pod_container *pc,
					 const struct podsvc_ctr_status *c,
					 struct json_object *prev)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (!pj_str(o, "name", pc->name) ||
	    !util_json_add(o, "state", pj_state(c)) ||
	    !util_json_add(o, "lastState", pj_last_state(prev, c)) ||
	    !util_json_add(o, "ready", json_object_new_boolean(c->ready)) ||
	    !util_json_add(o, "restartCount", json_object_new_int(c->restart_count)) ||
	    !pj_str(o, "image", pc->image) ||
	    !pj_str(o, "imageID", c->image_id) ||
	    !util_json_add(o, "started", json_object_new_boolean(
			    c->state == PODSVC_RUNNING))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* "containers with unready status: [a b]" as the kubelet writes it. */
static void pj_unready(const struct pod *pod,
		       const struct podsvc_status_update *up, char *buf,
		       size_t len)
{
	size_t off;

	snprintf(buf, len, "containers with unready status: [");
	off = strlen(buf);
	for (size_t i = 0; i < pod->n_containers && off + 1 < len; i++) {
		size_t k = up->n_init + i;
		bool ready = k < up->n_containers && up->ctr[k].ready;
		int n;

		if (ready)
			continue;
		n = snprintf(buf + off, len - off, "%s%s",
			     buf[off - 1] == '[' ? "" : " ",
			     pod->containers[i].name);
		if (n < 0 || (size_t)n >= len - off)
			break;   /* cut: the message is informational */
		off += (size_t)n;
	}
	if (off + 2 <= len) {
		buf[off] = ']';
		buf[off + 1] = '\0';
	}
}

/* The four conditions, each with its lastTransitionTime kept from
 * prev_status while its value stays. */
static bool pj_conditions(struct json_object *st, const struct pod *pod,
			  struct json_object *prev_status,
			  const struct podsvc_status_update *up, const char *now)
{
	struct json_object *conds = json_object_new_array();
	char since[40], unready[512];
	bool all_ready = pod->n_containers > 0, done, initialized;
	const char *rs = NULL, *msg = NULL;

	if (!util_json_add(st, "conditions", conds))
		return false;
	for (size_t i = 0; i < pod->n_containers; i++)
		if (up->n_init + i >= up->n_containers || !up->ctr[up->n_init + i].ready)
			all_ready = false;
	/* Initialized: the VM is up and every init container completed */
	initialized = up->vm_started;
	for (size_t i = 0; i < pod->n_init_containers; i++)
		if (i >= up->n_init || up->ctr[i].state != PODSVC_TERMINATED ||
		    up->ctr[i].exit_code != 0)
			initialized = false;
	done = up->phase == PODSVC_SUCCEEDED || up->phase == PODSVC_FAILED;
	if (!all_ready) {
		rs = done ? "PodCompleted" : "ContainersNotReady";
		if (!done) {
			pj_unready(pod, up, unready, sizeof(unready));
			msg = unready;
		}
	}
	pj_since(prev_status, "Initialized", initialized, now, since,
		 sizeof(since));
	if (!util_json_push(conds, pj_condition("Initialized", initialized, NULL,
					 NULL, since)))
		return false;
	pj_since(prev_status, "Ready", all_ready, now, since, sizeof(since));
	if (!util_json_push(conds, pj_condition("Ready", all_ready, rs, msg, since)))
		return false;
	pj_since(prev_status, "ContainersReady", all_ready, now, since,
		 sizeof(since));
	if (!util_json_push(conds, pj_condition("ContainersReady", all_ready, rs, msg,
					 since)))
		return false;
	pj_since(prev_status, "PodScheduled", true, now, since, sizeof(since));
	return util_json_push(conds, pj_condition("PodScheduled", true, NULL, NULL,
					   since));
}

/* key: ip and keys: [{"ip": ip}] (hostIP/hostIPs, podIP/podIPs). */
static bool pj_ip(struct json_object *st, const char *key, const char *keys,
		  const char *ip)
{
	struct json_object *a, *o;

	if (!pj_str(st, key, ip))
		return false;
	a = json_object_new_array();
	if (!util_json_add(st, keys, a))
		return false;
	o = json_object_new_object();
	return util_json_push(a, o) && pj_str(o, "ip", ip);
}

/* initContainerStatuses (first) or containerStatuses: one per container
 * of the spec, "creating" for those the runner has not reported. */
static bool pj_ctr_statuses(struct json_object *st, const struct pod *pod,
			    struct json_object *prev_status,
			    const struct podsvc_status_update *up, bool init)
{
	static const struct podsvc_ctr_status creating = { 0 };
	const char *key = init ? "initContainerStatuses" : "containerStatuses";
	const struct pod_container *ctrs = init ? pod->init_containers
						: pod->containers;
	size_t n = init ? pod->n_init_containers : pod->n_containers;
	size_t first = init ? 0 : up->n_init;
	size_t have = init ? up->n_init : up->n_containers;
	struct json_object *a = json_object_new_array();

	if (!util_json_add(st, key, a))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct podsvc_ctr_status *c =
			first + i < have ? &up->ctr[first + i] : &creating;

		if (!util_json_push(a, pj_ctr_status(&ctrs[i], c, pj_prev_ctr(prev_status,
				key, ctrs[i].name))))
			return false;
	}
	return true;
}

struct json_object *podsvc_json_status(const struct pod *pod,
				       struct json_object *prev_status,
				       const struct podsvc_status_update *up,
				       const char *host_ip, int64_t now_ms)
{
	struct json_object *st = json_object_new_object(), *v;
	char now[40];

	if (!st)
		return NULL;
	podsvc_json_time(now_ms, now, sizeof(now));
	if (!pj_str(st, "phase", podsvc_json_phase_name(up->phase)) ||
	    !pj_conditions(st, pod, prev_status, up, now))
		goto fail;
	if ((up->message[0] && !pj_str(st, "message", up->message)) ||
	    (up->reason[0] && !pj_str(st, "reason", up->reason)))
		goto fail;
	if ((host_ip && *host_ip && !pj_ip(st, "hostIP", "hostIPs", host_ip)) ||
	    (up->pod_ip[0] && !pj_ip(st, "podIP", "podIPs", up->pod_ip)))
		goto fail;
	/* startTime: when the runner first reported (kubelet: first sync) */
	if (json_object_object_get_ex(prev_status, "startTime", &v) &&
	    json_object_is_type(v, json_type_string)) {
		if (!pj_str(st, "startTime", json_object_get_string(v)))
			goto fail;
	} else if (!pj_str(st, "startTime", now)) {
		goto fail;
	}
	if ((pod->n_init_containers &&
	     !pj_ctr_statuses(st, pod, prev_status, up, true)) ||
	    !pj_ctr_statuses(st, pod, prev_status, up, false) ||
	    !pj_str(st, "qosClass", "BestEffort"))
		goto fail;
	return st;
fail:
	json_object_put(st);
	return NULL;
}

struct json_object *podsvc_json_with_rv(struct json_object *obj, uint64_t rv)
{
	struct json_object *copy = NULL, *meta;
	char buf[24];

	if (json_object_deep_copy(obj, &copy, NULL) != 0)
		return NULL;
	snprintf(buf, sizeof(buf), "%" PRIu64, rv);
	if (!json_object_object_get_ex(copy, "metadata", &meta) ||
	    !pj_str(meta, "resourceVersion", buf)) {
		json_object_put(copy);
		return NULL;
	}
	return copy;
}

char *podsvc_json_text(struct json_object *obj)
{
	const char *t = json_object_to_json_string_ext(obj,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return t ? strdup(t) : NULL;
}
