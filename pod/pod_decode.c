/* Strict decoding of a Kubernetes core/v1 Pod from a json-c tree.
 *
 * Every problem becomes a Kubernetes-style StatusCause (field path, reason,
 * message); decoding goes on after an error so that one request reports
 * all of them, up to POD_MAX_CAUSES. JSON null counts as "not given", as
 * in Kubernetes' own decoder. */
#include "pod/pod.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_dec.h"
#include "pod/pod_priv.h"
#include "util/json.h"

/* A DNS-1123 label into *out; "" is "not given". */
static void pod_dec_label_str(struct pod_dec *d, const char *path,
			      struct json_object *v, char **out)
{
	const char *s = pod_dec_str(d, path, v, POD_MAX_STR);

	if (!s || !*s)
		return;
	if (!pod_is_dns1123_label(s))
		pod_dec_invalid(d, path, s, strlen(s) > 63 ?
				"must be no more than 63 characters" :
				POD_MSG_LABEL);
	else
		*out = pod_dec_strdup(d, s);
}

static void pod_dec_metadata(struct pod_dec *d, struct json_object *m,
			     struct pod *pod)
{
	enum { F_NAME, F_NS, F_UID, F_LABELS, F_ANN, F_CREATED };
	static const struct pod_dec_field fields[] = {
		{ "name", F_NAME, 0 }, { "namespace", F_NS, 0 }, { "uid", F_UID, 0 },
		{ "labels", F_LABELS, POD_DEC_NULL },
		{ "annotations", F_ANN, POD_DEC_NULL },
		{ "creationTimestamp", F_CREATED, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;
	const char *s;
	bool has_name = false;

	if (!pod_dec_it_init(&it, d, "metadata", m, fields))
		return;
	while (pod_dec_it_next(&it)) {
		const char *path = it.path;

		switch (it.id) {
		case F_NAME:
			has_name = true;
			s = pod_dec_str(d, path, it.v, POD_MAX_STR);
			if (s && !*s)
				pod_dec_fail(d, path, R_REQUIRED,
					     "Required value: name is required");
			else if (s && !pod_is_dns1123_subdomain(s))
				pod_dec_invalid(d, path, s, strlen(s) > POD_NAME_MAX ?
						"must be no more than 253 characters" :
						POD_MSG_SUBDOMAIN);
			else if (s)
				pod->name = pod_dec_strdup(d, s);
			break;
		case F_NS:
			/* "" means the default, as in k8s */
			pod_dec_label_str(d, path, it.v, &pod->namespace);
			break;
		case F_UID:
			s = pod_dec_str(d, path, it.v, POD_NAME_MAX);
			if (s && *s && (pod_has_ctl(s) || strpbrk(s, " /")))
				pod_dec_invalid(d, path, s, "must not contain "
						"spaces, '/' or control characters");
			else if (s && *s)
				pod->uid = pod_dec_strdup(d, s);
			break;
		case F_LABELS:
			pod_dec_kv(d, path, it.v, true, &pod->labels,
				   &pod->n_labels);
			break;
		case F_ANN:
			pod_dec_kv(d, path, it.v, false, &pod->annotations,
				   &pod->n_annotations);
			break;
		case F_CREATED:
			/* kubectl sends null; a real value is the server's */
			pod_dec_fail(d, path, R_FORBIDDEN, "Forbidden: "
				     "set by the server; must be null");
			break;
		}
	}
	if (!has_name)
		pod_dec_fail(d, "metadata.name", R_REQUIRED,
			     "Required value: name is required");
}

/* spec.containers (required, 1 or more) or spec.initContainers. */
static void pod_dec_ctr_list(struct pod_dec *d, const char *path,
			     struct json_object *v, bool is_init,
			     struct pod_container **out, size_t *n_out)
{
	size_t n;

	if (pod_dec_is_null(v)) {
		if (!is_init)
			pod_dec_fail(d, path, R_REQUIRED, "Required value");
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		pod_dec_fail(d, path, R_INVALID, "expected array of objects");
		return;
	}
	n = json_object_array_length(v);
	if (n == 0) {
		if (!is_init)
			pod_dec_fail(d, path, R_REQUIRED, "Required value");
		return;
	}
	if (n > POD_MAX_CONTAINERS) {
		pod_dec_too_many(d, path, n, POD_MAX_CONTAINERS);
		return;
	}
	*out = calloc(n, sizeof(**out));
	if (!*out) {
		d->oom = true;
		return;
	}
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		char ipath[POD_PATH_MAX];

		pod_dec_path_idx(ipath, path, i);
		pod_dec_container(d, ipath, json_object_array_get_idx(v, i),
				  &(*out)[i], is_init);
	}
}

static void pod_dec_host_ns(struct pod_dec *d, const char *path,
			    struct json_object *v)
{
	bool b = false;

	if (pod_dec_is_null(v) || !pod_dec_bool(d, path, v, &b) || !b)
		return;
	pod_dec_fail(d, path, R_FORBIDDEN, "Forbidden: not supported: pods "
		     "run in their own microVM");
}

/* nodeName / serviceAccountName: DNS-1123 subdomains. */
static void pod_dec_subdomain(struct pod_dec *d, const char *path,
			      struct json_object *v, char **out)
{
	const char *s;

	if (pod_dec_is_null(v))
		return;
	s = pod_dec_str(d, path, v, POD_MAX_STR);
	if (!s || !*s)
		return;
	if (!pod_is_dns1123_subdomain(s))
		pod_dec_invalid(d, path, s, strlen(s) > POD_NAME_MAX ?
				"must be no more than 253 characters" :
				POD_MSG_SUBDOMAIN);
	else
		*out = pod_dec_strdup(d, s);
}

/* spec.imagePullSecrets[i]: {name: SECRET}, a Secret of the pod's
 * namespace (a DNS-1123 subdomain); the element is its char *. */
static void pod_dec_pull_secret(struct pod_dec *d, const char *path,
				struct json_object *v, void *elem)
{
	static const struct pod_dec_field fields[] = { { "name", 0, POD_DEC_NULL }, POD_DEC_END };
	char **name = elem;
	char npath[POD_PATH_MAX];
	struct pod_dec_it it;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	while (pod_dec_it_next(&it))
		pod_dec_subdomain(d, it.path, it.v, name);
	if (!*name) {
		pod_dec_path(npath, path, "name");
		pod_dec_fail(d, npath, R_REQUIRED, "Required value");
	}
}

static void pod_dec_pull_secrets(struct pod_dec *d, const char *path,
				 struct json_object *v, struct pod *pod)
{
	static const struct pod_dec_list list = {
		POD_MAX_PULL_SECRETS, sizeof(char *), pod_dec_pull_secret, NULL, 0, false,
	};

	pod->pull_secrets = pod_dec_list(d, path, v, &list, &pod->n_pull_secrets);
}

enum {
	S_CONTAINERS, S_INIT, S_VOLUMES, S_SECURITY, S_RESTART, S_GRACE, S_PULL_SECRETS,
	S_DEADLINE, S_HOSTNAME, S_NODE_NAME, S_SA, S_DNS, S_HOST_NS, S_SHARE_PID,
	S_NODE_SELECTOR, S_TOLERATIONS, S_AFFINITY, S_SCHED_NAME, S_PRIORITY,
};

static const struct pod_dec_field spec_fields[] = {
	{ "containers", S_CONTAINERS, POD_DEC_NULL },
	{ "initContainers", S_INIT, POD_DEC_NULL },
	{ "volumes", S_VOLUMES, POD_DEC_NULL },
	{ "securityContext", S_SECURITY, 0 }, { "restartPolicy", S_RESTART, 0 },
	{ "terminationGracePeriodSeconds", S_GRACE, 0 },
	{ "activeDeadlineSeconds", S_DEADLINE, 0 }, { "hostname", S_HOSTNAME, 0 },
	{ "nodeName", S_NODE_NAME, 0 }, { "serviceAccountName", S_SA, 0 },
	{ "imagePullSecrets", S_PULL_SECRETS, 0 },
	{ "dnsPolicy", S_DNS, 0 }, { "hostNetwork", S_HOST_NS, 0 },
	{ "hostPID", S_HOST_NS, 0 }, { "hostIPC", S_HOST_NS, 0 },
	{ "shareProcessNamespace", S_SHARE_PID, 0 },
	/* Scheduling fields: a microVM pod has no node to choose, so they
	 * are checked for shape and dropped, as Fargate ignores them. */
	{ "nodeSelector", S_NODE_SELECTOR, POD_DEC_NULL },
	{ "tolerations", S_TOLERATIONS, 0 }, { "affinity", S_AFFINITY, 0 },
	{ "schedulerName", S_SCHED_NAME, 0 },
	{ "priorityClassName", S_SCHED_NAME, 0 }, { "priority", S_PRIORITY, 0 },
	POD_DEC_END
};

/* The scheduling fields: checked, dropped. */
static void pod_dec_sched(struct pod_dec *d, const struct pod_dec_it *it)
{
	struct pod_kv *kv = NULL;
	size_t n = 0;
	int64_t i64;

	switch (it->id) {
	case S_NODE_SELECTOR:
		pod_dec_kv(d, it->path, it->v, true, &kv, &n);
		for (size_t i = 0; i < n; i++) {
			free(kv[i].key);
			free(kv[i].value);
		}
		free(kv);
		break;
	case S_TOLERATIONS:
		if (!json_object_is_type(it->v, json_type_array))
			pod_dec_fail(d, it->path, R_INVALID, "expected array of objects");
		break;
	case S_AFFINITY:
		pod_dec_obj(d, it->path, it->v);
		break;
	case S_SCHED_NAME:
		pod_dec_str(d, it->path, it->v, POD_NAME_MAX);
		break;
	case S_PRIORITY:
		pod_dec_int(d, it->path, it->v, INT32_MIN, INT32_MAX, &i64);
		break;
	}
}

static void pod_dec_spec_field(struct pod_dec *d, const struct pod_dec_it *it,
			       struct pod *pod)
{
	static const char *const restarts[] = { "Always", "OnFailure", "Never",
						NULL };
	static const char *const dns[] = { "ClusterFirst", "Default", NULL };
	const char *path = it->path;
	struct json_object *v = it->v;
	int64_t n;
	bool b;
	int k;

	switch (it->id) {
	case S_CONTAINERS:
		pod_dec_ctr_list(d, path, v, false, &pod->containers,
				 &pod->n_containers);
		break;
	case S_INIT:
		pod_dec_ctr_list(d, path, v, true, &pod->init_containers,
				 &pod->n_init_containers);
		break;
	case S_VOLUMES: pod_dec_volumes(d, path, v, pod); break;
	case S_SECURITY:
		pod->has_security = true;
		pod_dec_security(d, path, v, &pod->security, true);
		break;
	case S_RESTART:
		k = pod_dec_enum(d, path, v, restarts);
		if (k == 1)
			pod->restart_policy = POD_RESTART_ON_FAILURE;
		else if (k == 2)
			pod->restart_policy = POD_RESTART_NEVER;
		break;
	case S_GRACE:
		if (pod_dec_int(d, path, v, 0, INT64_MAX, &n))
			pod->grace_period = n;
		break;
	case S_DEADLINE:
		if (pod_dec_int(d, path, v, 1, INT32_MAX, &n))
			pod->active_deadline = n;
		break;
	case S_HOSTNAME: pod_dec_label_str(d, path, v, &pod->hostname); break;
	case S_NODE_NAME: pod_dec_subdomain(d, path, v, &pod->node_name); break;
	case S_SA: pod_dec_subdomain(d, path, v, &pod->service_account); break;
	case S_PULL_SECRETS: pod_dec_pull_secrets(d, path, v, pod); break;
	case S_DNS: pod_dec_enum(d, path, v, dns); break;
	case S_HOST_NS: pod_dec_host_ns(d, path, v); break;
	case S_SHARE_PID:
		if (pod_dec_bool(d, path, v, &b) && b)
			pod_dec_unsupp(d, path, "each container has its "
				       "own PID namespace");
		break;
	default:
		pod_dec_sched(d, it);
	}
}

static void pod_dec_spec(struct pod_dec *d, struct json_object *sp,
			 struct pod *pod)
{
	struct pod_dec_it it;
	bool has_containers = false;

	if (!pod_dec_it_init(&it, d, "spec", sp, spec_fields))
		return;
	while (pod_dec_it_next(&it)) {
		has_containers |= it.id == S_CONTAINERS;
		pod_dec_spec_field(d, &it, pod);
	}
	if (!has_containers)
		pod_dec_fail(d, "spec.containers", R_REQUIRED, "Required value");
	/* The agent protocol numbers [initContainers..., containers...]
	 * with one index space of POD_MAX_CONTAINERS. */
	if (pod->n_init_containers + pod->n_containers > POD_MAX_CONTAINERS)
		pod_dec_fail(d, "spec.initContainers", R_TOOLONG, "Too many: "
			     "%zu: initContainers and containers together must "
			     "have at most %d items", pod->n_init_containers +
			     pod->n_containers, POD_MAX_CONTAINERS);
}

static void pod_dec_const(struct pod_dec *d, const char *path,
			  struct json_object *v, const char *want)
{
	const char *const vals[] = { want, NULL };

	if (pod_dec_is_null(v))
		pod_dec_fail(d, path, R_REQUIRED, "Required value");
	else
		pod_dec_enum(d, path, v, vals);
}

/* The Pod object: apiVersion, kind, metadata, spec (status is ours). */
static void pod_dec_top(struct pod_dec *d, struct json_object *obj,
			struct pod *pod)
{
	enum { P_API, P_KIND, P_META, P_SPEC, P_STATUS };
	static const struct pod_dec_field pod_fields[] = {
		{ "apiVersion", P_API, POD_DEC_NULL },
		{ "kind", P_KIND, POD_DEC_NULL },
		{ "metadata", P_META, 0 }, { "spec", P_SPEC, 0 },
		/* kubectl sends status: {}; status is ours */
		{ "status", P_STATUS, POD_DEC_NULL },
		POD_DEC_END
	};
	bool has[4] = { false, false, false, false };
	struct pod_dec_it it;

	if (!json_object_is_type(obj, json_type_object)) {
		pod_dec_fail(d, "", R_INVALID, "expected a JSON object (Pod)");
		return;
	}
	pod_dec_it_init(&it, d, "", obj, pod_fields);
	while (pod_dec_it_next(&it)) {
		if (it.id == P_API)
			pod_dec_const(d, it.path, it.v, "v1");
		else if (it.id == P_KIND)
			pod_dec_const(d, it.path, it.v, "Pod");
		else if (it.id == P_META)
			pod_dec_metadata(d, it.v, pod);
		else if (it.id == P_SPEC)
			pod_dec_spec(d, it.v, pod);
		if (it.id != P_STATUS)
			has[it.id] = true;
	}
	if (!has[P_API])
		pod_dec_fail(d, "apiVersion", R_REQUIRED, "Required value");
	if (!has[P_KIND])
		pod_dec_fail(d, "kind", R_REQUIRED, "Required value");
	if (!has[P_META])
		pod_dec_fail(d, "metadata.name", R_REQUIRED,
			     "Required value: name is required");
	if (!has[P_SPEC])
		pod_dec_fail(d, "spec.containers", R_REQUIRED, "Required value");
}

int pod_decode(struct json_object *obj, struct pod **out,
	       struct pod_causes *causes, struct pv_err *err)
{
	struct pod_causes local;
	struct pod_dec d = { .causes = causes ? causes : &local, .err = err };
	struct pod *pod;
	int ret;

	*out = NULL;
	d.causes->n = 0;
	pv_err_clear(err);
	pod = calloc(1, sizeof(*pod));
	if (!pod)
		return pv_err_set(err, ENOMEM, "out of memory");
	pod->grace_period = POD_DEFAULT_GRACE;
	pod_dec_top(&d, obj, pod);
	if (!d.oom)
		pod_dec_cross_check(&d, pod);
	if (!d.oom && !d.n_errors && !pod->namespace)
		pod->namespace = pod_dec_strdup(&d, "default");
	if (d.oom) {
		ret = pv_err_set(err, ENOMEM, "out of memory decoding the Pod");
		goto out;
	}
	if (d.n_errors) {
		ret = -EINVAL;
		goto out;
	}
	*out = pod;
	pod = NULL;
	ret = 0;
out:
	pod_free(pod);
	return ret;
}

int pod_decode_json(const char *text, size_t len, struct pod **out,
		    struct pod_causes *causes, struct pv_err *err)
{
	/* Strict JSON; trailing data is checked by util_json_parse. */
	struct util_json_parse jp = {
		.depth = POD_JSON_MAX_DEPTH,
		.tok_flags = JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS,
	};
	struct json_object *obj = NULL;
	int ret;

	*out = NULL;
	if (causes)
		causes->n = 0;
	if (len > POD_JSON_MAX_LEN) {
		ret = pv_err_set(err, EINVAL, "invalid JSON: larger than %u bytes",
				 POD_JSON_MAX_LEN);
		goto fail_cause;
	}
	switch (util_json_parse(&jp, text, len, &obj)) {
	case UTIL_JSON_OK:
		ret = pod_decode(obj, out, causes, err);
		json_object_put(obj);
		return ret;
	case UTIL_JSON_NOMEM:
		return pv_err_set(err, ENOMEM, "out of memory");
	case UTIL_JSON_TRUNCATED:
		ret = pv_err_set(err, EINVAL, "invalid JSON: unexpected end of "
				 "input at offset %zu", len);
		break;
	case UTIL_JSON_TRAILING:
		ret = pv_err_set(err, EINVAL, "invalid JSON: trailing data at "
				 "offset %zu", jp.end);
		break;
	default:
		ret = pv_err_set(err, EINVAL, "invalid JSON: %s at offset %zu",
				 jp.detail, jp.end);
	}
fail_cause:
	if (causes && err) {
		causes->n = 1;
		causes->items[0].field[0] = '\0';
		pod_copy(causes->items[0].reason,
			 sizeof(causes->items[0].reason), R_INVALID);
		pod_copy(causes->items[0].message,
			 sizeof(causes->items[0].message), err->msg);
	}
	return ret;
}
