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

static void pod_dec_env(struct pod_dec *d, const char *path,
			struct json_object *v, struct pod_container *c)
{
	static const char type_msg[] = "expected array of objects";
	char ipath[POD_PATH_MAX], fpath[POD_PATH_MAX];
	struct json_object *e;
	const char *name, *value, *s;
	size_t n, j;

	if (pod_dec_is_null(v))
		return;
	if (!json_object_is_type(v, json_type_array)) {
		pod_dec_fail(d, path, R_INVALID, type_msg);
		return;
	}
	n = json_object_array_length(v);
	if (n > POD_MAX_ENV) {
		pod_dec_too_many(d, path, n, POD_MAX_ENV);
		return;
	}
	if (n == 0)
		return;
	c->env = calloc(n, sizeof(*c->env));
	if (!c->env) {
		d->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		pod_dec_path_idx(ipath, path, i);
		e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_object)) {
			pod_dec_fail(d, ipath, R_INVALID, "expected object");
			continue;
		}
		name = "";
		value = "";
		json_object_object_foreach(e, key, fv) {
			pod_dec_path(fpath, ipath, key);
			if (strcmp(key, "name") == 0) {
				if (pod_dec_is_null(fv))
					continue;
				s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
				if (s && *s && !pod_is_env_name(s)) {
					pod_dec_invalid(d, fpath, s, POD_MSG_ENV);
					s = NULL;
				}
				name = s;
			} else if (strcmp(key, "value") == 0) {
				if (pod_dec_is_null(fv))
					continue;
				s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
				if (s)
					value = s;
			} else {
				pod_dec_unknown(d, fpath);
			}
		}
		if (!name)
			continue;   /* invalid, already reported */
		if (!*name) {
			pod_dec_path(fpath, ipath, "name");
			pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
			continue;
		}
		/* Kubernetes allows repeats and the last one wins; keep the
		 * first one's position so the list stays unique. */
		for (j = 0; j < c->n_env; j++)
			if (strcmp(c->env[j].name, name) == 0)
				break;
		if (j == c->n_env) {
			c->env[j].name = pod_dec_strdup(d, name);
			if (!c->env[j].name)
				continue;
			c->n_env++;
		}
		free(c->env[j].value);
		c->env[j].value = pod_dec_strdup(d, value);
	}
}

/* resources: only {} for now; every key inside is reported. */
static void pod_dec_resources(struct pod_dec *d, const char *path,
			      struct json_object *v)
{
	char fpath[POD_PATH_MAX];

	if (pod_dec_is_null(v))
		return;
	if (!json_object_is_type(v, json_type_object)) {
		pod_dec_fail(d, path, R_INVALID, "expected object");
		return;
	}
	json_object_object_foreach(v, key, unused) {
		(void)unused;
		pod_dec_path(fpath, path, key);
		pod_dec_unknown(d, fpath);
	}
}

static void pod_dec_container(struct pod_dec *d, const char *cpath,
			      struct json_object *o, struct pod_container *c)
{
	static const char *const pulls[] = { "IfNotPresent", "Never",
					     "Always", NULL };
	static const char *const msg_path[] = { "/dev/termination-log", NULL };
	static const char *const msg_policy[] = { "File", NULL };
	char path[POD_PATH_MAX];
	size_t budget = POD_MAX_ARGS;
	const char *s;
	bool has_name = false, has_image = false;
	int k;

	if (!json_object_is_type(o, json_type_object)) {
		pod_dec_fail(d, cpath, R_INVALID, "expected object");
		return;
	}
	json_object_object_foreach(o, key, v) {
		pod_dec_path(path, cpath, key);
		if (strcmp(key, "name") == 0) {
			if (pod_dec_is_null(v))
				continue;
			s = pod_dec_str(d, path, v, POD_MAX_STR);
			has_name = s != NULL;
			if (!s)
				continue;
			if (!*s)
				has_name = false;
			else if (!pod_is_dns1123_label(s))
				pod_dec_invalid(d, path, s, strlen(s) > 63 ?
						"must be no more than 63 characters" :
						POD_MSG_LABEL);
			else
				c->name = pod_dec_strdup(d, s);
		} else if (strcmp(key, "image") == 0) {
			if (pod_dec_is_null(v))
				continue;
			s = pod_dec_str(d, path, v, POD_IMAGE_REF_MAX);
			has_image = s != NULL;
			if (!s)
				continue;
			if (!*s)
				has_image = false;
			else if (pod_has_ctl(s) || strpbrk(s, " \t"))
				pod_dec_invalid(d, path, s, "must not contain "
						"whitespace or control characters");
			else
				c->image = pod_dec_strdup(d, s);
		} else if (strcmp(key, "command") == 0) {
			pod_dec_strv(d, path, v, &budget, &c->command,
				     &c->n_command, &c->has_command);
		} else if (strcmp(key, "args") == 0) {
			pod_dec_strv(d, path, v, &budget, &c->args,
				     &c->n_args, &c->has_args);
		} else if (strcmp(key, "env") == 0) {
			pod_dec_env(d, path, v, c);
		} else if (strcmp(key, "workingDir") == 0) {
			if (pod_dec_is_null(v))
				continue;
			s = pod_dec_str(d, path, v, POD_MAX_STR);
			if (!s || !*s)
				continue;
			if (s[0] != '/' || pod_has_ctl(s))
				pod_dec_invalid(d, path, s, "must be an "
						"absolute path");
			else
				c->working_dir = pod_dec_strdup(d, s);
		} else if (strcmp(key, "imagePullPolicy") == 0) {
			if (pod_dec_is_null(v))
				continue;
			k = pod_dec_enum(d, path, v, pulls);
			if (k == 0)
				c->pull_policy = POD_PULL_IF_NOT_PRESENT;
			else if (k == 1)
				c->pull_policy = POD_PULL_NEVER;
			else if (k == 2)
				c->pull_policy = POD_PULL_ALWAYS;
		} else if (strcmp(key, "tty") == 0) {
			if (!pod_dec_is_null(v))
				pod_dec_bool(d, path, v, &c->tty);
		} else if (strcmp(key, "stdin") == 0) {
			if (!pod_dec_is_null(v))
				pod_dec_bool(d, path, v, &c->stdin_open);
		} else if (strcmp(key, "resources") == 0) {
			pod_dec_resources(d, path, v);
		} else if (strcmp(key, "terminationMessagePath") == 0) {
			if (!pod_dec_is_null(v))
				pod_dec_enum(d, path, v, msg_path);
		} else if (strcmp(key, "terminationMessagePolicy") == 0) {
			if (!pod_dec_is_null(v))
				pod_dec_enum(d, path, v, msg_policy);
		} else {
			pod_dec_unknown(d, path);
		}
	}
	if (!has_name) {
		pod_dec_path(path, cpath, "name");
		pod_dec_fail(d, path, R_REQUIRED, "Required value");
	}
	if (!has_image) {
		pod_dec_path(path, cpath, "image");
		pod_dec_fail(d, path, R_REQUIRED, "Required value");
	}
}

static void pod_dec_containers(struct pod_dec *d, struct json_object *v,
			       struct pod *pod)
{
	static const char path[] = "spec.containers";
	char ipath[POD_PATH_MAX], npath[POD_PATH_MAX], q[128];
	size_t n;

	if (pod_dec_is_null(v)) {
		pod_dec_fail(d, path, R_REQUIRED, "Required value");
		return;
	}
	if (!json_object_is_type(v, json_type_array)) {
		pod_dec_fail(d, path, R_INVALID, "expected array of objects");
		return;
	}
	n = json_object_array_length(v);
	if (n == 0) {
		pod_dec_fail(d, path, R_REQUIRED, "Required value");
		return;
	}
	if (n > POD_MAX_CONTAINERS) {
		pod_dec_too_many(d, path, n, POD_MAX_CONTAINERS);
		return;
	}
	pod->containers = calloc(n, sizeof(*pod->containers));
	if (!pod->containers) {
		d->oom = true;
		return;
	}
	pod->n_containers = n;
	for (size_t i = 0; i < n; i++) {
		pod_dec_path_idx(ipath, path, i);
		pod_dec_container(d, ipath, json_object_array_get_idx(v, i),
				  &pod->containers[i]);
		if (!pod->containers[i].name)
			continue;
		for (size_t j = 0; j < i; j++) {
			if (!pod->containers[j].name ||
			    strcmp(pod->containers[j].name,
				   pod->containers[i].name) != 0)
				continue;
			pod_dec_path(npath, ipath, "name");
			pod_quote(q, sizeof(q), pod->containers[i].name);
			pod_dec_fail(d, npath, R_DUP, "Duplicate value: %s", q);
			break;
		}
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

static void pod_dec_spec(struct pod_dec *d, struct json_object *sp,
			 struct pod *pod)
{
	static const char *const restarts[] = { "Always", "OnFailure", "Never",
						NULL };
	static const char *const dns[] = { "ClusterFirst", "Default", NULL };
	char path[POD_PATH_MAX];
	const char *s;
	bool has_containers = false;
	int k;

	if (!json_object_is_type(sp, json_type_object)) {
		pod_dec_fail(d, "spec", R_INVALID, "expected object");
		return;
	}
	json_object_object_foreach(sp, key, v) {
		pod_dec_path(path, "spec", key);
		if (strcmp(key, "containers") == 0) {
			has_containers = true;
			pod_dec_containers(d, v, pod);
		} else if (strcmp(key, "restartPolicy") == 0) {
			if (pod_dec_is_null(v))
				continue;
			k = pod_dec_enum(d, path, v, restarts);
			if (k == 1)
				pod->restart_policy = POD_RESTART_ON_FAILURE;
			else if (k == 2)
				pod->restart_policy = POD_RESTART_NEVER;
		} else if (strcmp(key, "terminationGracePeriodSeconds") == 0) {
			if (pod_dec_is_null(v))
				continue;
			if (!json_object_is_type(v, json_type_int)) {
				pod_dec_fail(d, path, R_INVALID,
					     "expected integer");
				continue;
			}
			/* json-c keeps values above INT64_MAX as uint64 and
			 * clamps get_int64; catch them before that. */
			if (json_object_get_int64(v) == INT64_MAX &&
			    json_object_get_uint64(v) > (uint64_t)INT64_MAX) {
				pod_dec_fail(d, path, R_INVALID, "Invalid value:"
					     " out of range for int64");
				continue;
			}
			if (json_object_get_int64(v) < 0) {
				pod_dec_fail(d, path, R_INVALID, "Invalid value: "
					     "%" PRId64 ": must be greater than "
					     "or equal to 0",
					     json_object_get_int64(v));
				continue;
			}
			pod->grace_period = json_object_get_int64(v);
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
		} else if (strcmp(key, "dnsPolicy") == 0) {
			if (!pod_dec_is_null(v))
				pod_dec_enum(d, path, v, dns);
		} else if (strcmp(key, "hostNetwork") == 0 ||
			   strcmp(key, "hostPID") == 0 ||
			   strcmp(key, "hostIPC") == 0) {
			pod_dec_host_ns(d, path, v);
		} else {
			pod_dec_unknown(d, path);
		}
	}
	if (!has_containers)
		pod_dec_fail(d, "spec.containers", R_REQUIRED, "Required value");
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
