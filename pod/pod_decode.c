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

static void pod_dec_metadata(struct pod_dec *d, struct json_object *m,
			     struct pod *pod)
{
	char path[POD_PATH_MAX];
	const char *s;
	bool has_name = false;

	if (!json_object_is_type(m, json_type_object)) {
		pod_dec_fail(d, "metadata", R_INVALID, "expected object");
		return;
	}
	json_object_object_foreach(m, key, v) {
		pod_dec_path(path, "metadata", key);
		if (strcmp(key, "name") == 0) {
			if (pod_dec_is_null(v))
				continue;
			has_name = true;
			s = pod_dec_str(d, path, v, POD_MAX_STR);
			if (!s)
				continue;
			if (!*s)
				pod_dec_fail(d, path, R_REQUIRED,
					     "Required value: name is required");
			else if (!pod_is_dns1123_subdomain(s))
				pod_dec_invalid(d, path, s, strlen(s) > POD_NAME_MAX ?
						"must be no more than 253 characters" :
						POD_MSG_SUBDOMAIN);
			else
				pod->name = pod_dec_strdup(d, s);
		} else if (strcmp(key, "namespace") == 0) {
			if (pod_dec_is_null(v))
				continue;
			s = pod_dec_str(d, path, v, POD_MAX_STR);
			if (!s || !*s)
				continue;   /* "" means the default, as in k8s */
			if (!pod_is_dns1123_label(s))
				pod_dec_invalid(d, path, s, strlen(s) > 63 ?
						"must be no more than 63 characters" :
						POD_MSG_LABEL);
			else
				pod->namespace = pod_dec_strdup(d, s);
		} else if (strcmp(key, "uid") == 0) {
			if (pod_dec_is_null(v))
				continue;
			s = pod_dec_str(d, path, v, POD_NAME_MAX);
			if (!s || !*s)
				continue;
			if (pod_has_ctl(s) || strpbrk(s, " /"))
				pod_dec_invalid(d, path, s, "must not contain "
						"spaces, '/' or control characters");
			else
				pod->uid = pod_dec_strdup(d, s);
		} else if (strcmp(key, "labels") == 0) {
			pod_dec_kv(d, path, v, true, &pod->labels,
				   &pod->n_labels);
		} else if (strcmp(key, "annotations") == 0) {
			pod_dec_kv(d, path, v, false, &pod->annotations,
				   &pod->n_annotations);
		} else if (strcmp(key, "creationTimestamp") == 0) {
			/* kubectl sends null; a real value is the server's */
			if (!pod_dec_is_null(v))
				pod_dec_fail(d, path, R_FORBIDDEN, "Forbidden: "
					     "set by the server; must be null");
		} else {
			pod_dec_unknown(d, path);
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

/* Scheduling fields: a microVM pod has no node to choose, so they are
 * checked for shape and dropped, as Fargate ignores them. */
static bool pod_dec_ignored(struct pod_dec *d, const char *path,
			    const char *key, struct json_object *v)
{
	struct pod_kv *kv = NULL;
	size_t n = 0;
	int64_t i64;

	if (strcmp(key, "nodeSelector") == 0) {
		pod_dec_kv(d, path, v, true, &kv, &n);
		for (size_t i = 0; i < n; i++) {
			free(kv[i].key);
			free(kv[i].value);
		}
		free(kv);
	} else if (strcmp(key, "tolerations") == 0) {
		if (!pod_dec_is_null(v) && !json_object_is_type(v, json_type_array))
			pod_dec_fail(d, path, R_INVALID, "expected array of objects");
	} else if (strcmp(key, "affinity") == 0) {
		if (!pod_dec_is_null(v))
			pod_dec_obj(d, path, v);
	} else if (strcmp(key, "schedulerName") == 0 ||
		   strcmp(key, "priorityClassName") == 0) {
		if (!pod_dec_is_null(v))
			pod_dec_str(d, path, v, POD_NAME_MAX);
	} else if (strcmp(key, "priority") == 0) {
		if (!pod_dec_is_null(v))
			pod_dec_int(d, path, v, INT32_MIN, INT32_MAX, &i64);
	} else {
		return false;
	}
	return true;
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

static void pod_dec_spec(struct pod_dec *d, struct json_object *sp,
			 struct pod *pod)
{
	static const char *const restarts[] = { "Always", "OnFailure", "Never",
						NULL };
	static const char *const dns[] = { "ClusterFirst", "Default", NULL };
	char path[POD_PATH_MAX];
	const char *s;
	bool has_containers = false, b;
	int64_t n;
	int k;

	if (!json_object_is_type(sp, json_type_object)) {
		pod_dec_fail(d, "spec", R_INVALID, "expected object");
		return;
	}
	json_object_object_foreach(sp, key, v) {
		pod_dec_path(path, "spec", key);
		if (strcmp(key, "containers") == 0) {
			has_containers = true;
			pod_dec_ctr_list(d, path, v, false, &pod->containers,
					 &pod->n_containers);
		} else if (strcmp(key, "initContainers") == 0) {
			pod_dec_ctr_list(d, path, v, true, &pod->init_containers,
					 &pod->n_init_containers);
		} else if (strcmp(key, "volumes") == 0) {
			pod_dec_volumes(d, path, v, pod);
		} else if (strcmp(key, "securityContext") == 0) {
			if (pod_dec_is_null(v))
				continue;
			pod->has_security = true;
			pod_dec_security(d, path, v, &pod->security, true);
		} else if (strcmp(key, "restartPolicy") == 0) {
			if (pod_dec_is_null(v))
				continue;
			k = pod_dec_enum(d, path, v, restarts);
			if (k == 1)
				pod->restart_policy = POD_RESTART_ON_FAILURE;
			else if (k == 2)
				pod->restart_policy = POD_RESTART_NEVER;
		} else if (strcmp(key, "terminationGracePeriodSeconds") == 0) {
			if (!pod_dec_is_null(v) &&
			    pod_dec_int(d, path, v, 0, INT64_MAX, &n))
				pod->grace_period = n;
		} else if (strcmp(key, "activeDeadlineSeconds") == 0) {
			if (!pod_dec_is_null(v) &&
			    pod_dec_int(d, path, v, 1, INT32_MAX, &n))
				pod->active_deadline = n;
		} else if (strcmp(key, "hostname") == 0) {
			if (pod_dec_is_null(v))
				continue;
			s = pod_dec_str(d, path, v, POD_MAX_STR);
			if (!s || !*s)
				continue;
			if (!pod_is_dns1123_label(s))
				pod_dec_invalid(d, path, s, strlen(s) > 63 ?
						"must be no more than 63 characters" :
						POD_MSG_LABEL);
			else
				pod->hostname = pod_dec_strdup(d, s);
		} else if (strcmp(key, "nodeName") == 0) {
			pod_dec_subdomain(d, path, v, &pod->node_name);
		} else if (strcmp(key, "serviceAccountName") == 0) {
			pod_dec_subdomain(d, path, v, &pod->service_account);
		} else if (strcmp(key, "dnsPolicy") == 0) {
			if (!pod_dec_is_null(v))
				pod_dec_enum(d, path, v, dns);
		} else if (strcmp(key, "hostNetwork") == 0 ||
			   strcmp(key, "hostPID") == 0 ||
			   strcmp(key, "hostIPC") == 0) {
			pod_dec_host_ns(d, path, v);
		} else if (strcmp(key, "shareProcessNamespace") == 0) {
			if (!pod_dec_is_null(v) && pod_dec_bool(d, path, v, &b) && b)
				pod_dec_unsupp(d, path, "each container has its "
					       "own PID namespace");
		} else if (!pod_dec_ignored(d, path, key, v)) {
			pod_dec_unknown(d, path);
		}
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

int pod_decode(struct json_object *obj, struct pod **out,
	       struct pod_causes *causes, struct pv_err *err)
{
	struct pod_causes local;
	struct pod_dec d = { .causes = causes ? causes : &local, .err = err };
	struct pod *pod;
	bool has_api = false, has_kind = false, has_meta = false,
	     has_spec = false;
	int ret;

	*out = NULL;
	d.causes->n = 0;
	pv_err_clear(err);
	pod = calloc(1, sizeof(*pod));
	if (!pod) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	pod->grace_period = POD_DEFAULT_GRACE;
	if (!json_object_is_type(obj, json_type_object)) {
		pod_dec_fail(&d, "", R_INVALID, "expected a JSON object (Pod)");
	} else {
		json_object_object_foreach(obj, key, v) {
			if (strcmp(key, "apiVersion") == 0) {
				has_api = true;
				pod_dec_const(&d, key, v, "v1");
			} else if (strcmp(key, "kind") == 0) {
				has_kind = true;
				pod_dec_const(&d, key, v, "Pod");
			} else if (strcmp(key, "metadata") == 0) {
				has_meta = !pod_dec_is_null(v);
				if (has_meta)
					pod_dec_metadata(&d, v, pod);
			} else if (strcmp(key, "spec") == 0) {
				has_spec = !pod_dec_is_null(v);
				if (has_spec)
					pod_dec_spec(&d, v, pod);
			} else if (strcmp(key, "status") == 0) {
				/* kubectl sends status: {}; status is ours */
			} else {
				char path[POD_PATH_MAX];

				pod_dec_path(path, "", key);
				pod_dec_unknown(&d, path);
			}
		}
		if (!has_api)
			pod_dec_fail(&d, "apiVersion", R_REQUIRED, "Required value");
		if (!has_kind)
			pod_dec_fail(&d, "kind", R_REQUIRED, "Required value");
		if (!has_meta)
			pod_dec_fail(&d, "metadata.name", R_REQUIRED,
				     "Required value: name is required");
		if (!has_spec)
			pod_dec_fail(&d, "spec.containers", R_REQUIRED,
				     "Required value");
	}
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
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end;
	int ret;

	*out = NULL;
	if (causes)
		causes->n = 0;
	if (len > POD_JSON_MAX_LEN) {
		ret = pv_err_set(err, EINVAL, "invalid JSON: larger than %u bytes",
				 POD_JSON_MAX_LEN);
		goto fail_cause;
	}
	tok = json_tokener_new_ex(POD_JSON_MAX_DEPTH);
	if (!tok) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* Strict JSON; trailing data is checked below for a better message. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_ALLOW_TRAILING_CHARS);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		ret = pv_err_set(err, EINVAL, "invalid JSON: unexpected end of "
				 "input at offset %zu", len);
		goto fail_cause;
	}
	if (jerr != json_tokener_success) {
		ret = pv_err_set(err, EINVAL, "invalid JSON: %s at offset %zu",
				 json_tokener_error_desc(jerr), end);
		goto fail_cause;
	}
	while (end < len && (text[end] == ' ' || text[end] == '\t' ||
			     text[end] == '\n' || text[end] == '\r'))
		end++;
	if (end < len) {
		ret = pv_err_set(err, EINVAL, "invalid JSON: trailing data at "
				 "offset %zu", end);
		goto fail_cause;
	}
	ret = pod_decode(obj, out, causes, err);
	goto out;
fail_cause:
	if (causes && err) {
		causes->n = 1;
		causes->items[0].field[0] = '\0';
		pod_copy(causes->items[0].reason,
			 sizeof(causes->items[0].reason), R_INVALID);
		pod_copy(causes->items[0].message,
			 sizeof(causes->items[0].message), err->msg);
	}
out:
	json_object_put(obj);
	if (tok)
		json_tokener_free(tok);
	return ret;
}
