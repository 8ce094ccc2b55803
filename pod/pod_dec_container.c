/* Decoding one container (regular or init): its scalar fields, resources,
 * ports and volumeMounts. Env is in pod_dec_env.c; probes, lifecycle
 * hooks and securityContext are in their own files; checks that need the
 * whole pod (names, volumes) are in pod_decode.c. */
#include "pod/pod.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_dec.h"
#include "pod/pod_priv.h"

#define MSG_NO_CM "podvm has no ConfigMaps or Secrets"

/* requests or limits: cpu, memory, ephemeral-storage (checked, not kept:
 * the VM's disk is not sized per pod). */
struct dec_res_list {
	int64_t v[3];
	bool has[3];
};

static const char *const res_names[] = { "cpu", "memory", "ephemeral-storage" };

static void dec_res_list(struct pod_dec *d, const char *path,
			 struct json_object *v, struct dec_res_list *r)
{
	char fpath[POD_PATH_MAX];
	size_t k;

	if (pod_dec_is_null(v) || !pod_dec_obj(d, path, v))
		return;
	json_object_object_foreach(v, key, fv) {
		pod_dec_path_key(fpath, path, key);
		for (k = 0; k < 3; k++)
			if (strcmp(key, res_names[k]) == 0)
				break;
		if (k == 3) {
			pod_dec_unsupp(d, fpath, "podvm provides cpu, memory and "
				       "ephemeral-storage only");
			continue;
		}
		if (!pod_dec_is_null(fv))
			r->has[k] = pod_dec_quantity(d, fpath, fv, k == 0, &r->v[k]);
	}
}

static void dec_resources(struct pod_dec *d, const char *path,
			  struct json_object *v, struct pod_resources *res)
{
	char fpath[POD_PATH_MAX], rq[32], lq[32];
	struct dec_res_list req = { 0 }, lim = { 0 };

	if (pod_dec_is_null(v) || !pod_dec_obj(d, path, v))
		return;
	json_object_object_foreach(v, key, fv) {
		pod_dec_path(fpath, path, key);
		if (strcmp(key, "requests") == 0)
			dec_res_list(d, fpath, fv, &req);
		else if (strcmp(key, "limits") == 0)
			dec_res_list(d, fpath, fv, &lim);
		else if (strcmp(key, "claims") == 0 && !pod_dec_is_null(fv))
			pod_dec_unsupp(d, fpath, "podvm has no resource claims");
		else if (strcmp(key, "claims") != 0)
			pod_dec_unknown(d, fpath);
	}
	pod_dec_path(fpath, path, "requests");
	for (size_t k = 0; k < 3; k++) {
		if (!req.has[k] || !lim.has[k] || req.v[k] <= lim.v[k])
			continue;
		if (k == 0) {
			pod_format_cpu(rq, sizeof(rq), req.v[k]);
			pod_format_cpu(lq, sizeof(lq), lim.v[k]);
		} else {
			pod_format_memory(rq, sizeof(rq), req.v[k]);
			pod_format_memory(lq, sizeof(lq), lim.v[k]);
		}
		pod_dec_fail(d, fpath, R_INVALID, "Invalid value: \"%s\": must be "
			     "less than or equal to %s limit of %s", rq,
			     res_names[k], lq);
	}
	res->has_req_cpu = req.has[0];
	res->req_cpu_m = req.v[0];
	res->has_req_mem = req.has[1];
	res->req_mem = req.v[1];
	res->has_lim_cpu = lim.has[0];
	res->lim_cpu_m = lim.v[0];
	res->has_lim_mem = lim.has[1];
	res->lim_mem = lim.v[1];
}

static void dec_port(struct pod_dec *d, const char *ipath,
		     struct json_object *o, struct pod_port *p)
{
	static const char *const protos[] = { "SCTP", "TCP", "UDP", NULL };
	char fpath[POD_PATH_MAX];
	const char *s, *why;
	int64_t n;
	int k;
	bool has_port = false;

	if (!pod_dec_obj(d, ipath, o))
		return;
	json_object_object_foreach(o, key, fv) {
		pod_dec_path(fpath, ipath, key);
		if (pod_dec_is_null(fv))
			continue;
		if (strcmp(key, "containerPort") == 0) {
			/* 0 is "not given" for Kubernetes too */
			has_port = !json_object_is_type(fv, json_type_int) ||
				   json_object_get_int64(fv) != 0;
			if (has_port && pod_dec_int(d, fpath, fv, 1, 65535, &n))
				p->container_port = (int32_t)n;
		} else if (strcmp(key, "name") == 0) {
			s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
			if (!s || !*s)
				continue;
			if (!pod_is_port_name(s, &why))
				pod_dec_invalid(d, fpath, s, why);
			else
				p->name = pod_dec_strdup(d, s);
		} else if (strcmp(key, "protocol") == 0) {
			k = pod_dec_enum(d, fpath, fv, protos);
			if (k >= 0)
				p->protocol = pod_dec_strdup(d, protos[k]);
		} else if (strcmp(key, "hostPort") == 0) {
			if (pod_dec_int(d, fpath, fv, INT64_MIN, INT64_MAX, &n) &&
			    n != 0)
				pod_dec_fail(d, fpath, R_FORBIDDEN, "Forbidden: "
					     "hostPort is not supported: "
					     "Fargate-style pods have no host ports");
		} else if (strcmp(key, "hostIP") == 0) {
			s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
			if (s && *s)
				pod_dec_unsupp(d, fpath, "Fargate-style pods "
					       "have no host ports");
		} else {
			pod_dec_unknown(d, fpath);
		}
	}
	if (!has_port) {
		pod_dec_path(fpath, ipath, "containerPort");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	if (!p->protocol)
		p->protocol = pod_dec_strdup(d, "TCP");
}

static void dec_ports(struct pod_dec *d, const char *path,
		      struct json_object *v, struct pod_container *c)
{
	char ipath[POD_PATH_MAX], npath[POD_PATH_MAX], q[128];
	size_t n;

	c->ports = pod_dec_array(d, path, v, "expected array of objects", POD_MAX_PORTS,
			   sizeof(*c->ports), 0, &n);
	if (!c->ports)
		return;
	c->n_ports = n;
	for (size_t i = 0; i < n; i++) {
		pod_dec_path_idx(ipath, path, i);
		dec_port(d, ipath, json_object_array_get_idx(v, i), &c->ports[i]);
		for (size_t j = 0; c->ports[i].name && j < i; j++) {
			if (!c->ports[j].name ||
			    strcmp(c->ports[j].name, c->ports[i].name) != 0)
				continue;
			pod_dec_path(npath, ipath, "name");
			pod_quote(q, sizeof(q), c->ports[i].name);
			pod_dec_fail(d, npath, R_DUP, "Duplicate value: %s", q);
			break;
		}
	}
}

static void dec_mount(struct pod_dec *d, const char *ipath,
		      struct json_object *o, struct pod_volume_mount *m)
{
	char fpath[POD_PATH_MAX];
	const char *s;
	bool name_bad = false, path_bad = false;

	if (!pod_dec_obj(d, ipath, o))
		return;
	json_object_object_foreach(o, key, fv) {
		pod_dec_path(fpath, ipath, key);
		if (pod_dec_is_null(fv))
			continue;
		if (strcmp(key, "name") == 0) {
			s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
			name_bad = !s;
			if (s && *s)
				m->name = pod_dec_strdup(d, s);
		} else if (strcmp(key, "mountPath") == 0) {
			s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
			path_bad = !s || (*s && (!pod_is_abs_path(s) ||
						 pod_has_dotdot(s)));
			if (s && *s && path_bad)
				pod_dec_invalid(d, fpath, s, "must be an absolute "
						"path without '..'");
			else if (s && *s)
				m->mount_path = pod_dec_strdup(d, s);
		} else if (strcmp(key, "subPath") == 0) {
			s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
			if (!s || !*s)
				continue;
			if (s[0] == '/' || pod_has_ctl(s))
				pod_dec_invalid(d, fpath, s, "must be a relative path");
			else if (pod_has_dotdot(s))
				pod_dec_invalid(d, fpath, s, "must not contain '..'");
			else
				m->sub_path = pod_dec_strdup(d, s);
		} else if (strcmp(key, "readOnly") == 0) {
			pod_dec_bool(d, fpath, fv, &m->read_only);
		} else if (strcmp(key, "mountPropagation") == 0 ||
			   strcmp(key, "subPathExpr") == 0 ||
			   strcmp(key, "recursiveReadOnly") == 0) {
			pod_dec_unsupp(d, fpath, "podvm supports name, mountPath, "
				       "subPath and readOnly");
		} else {
			pod_dec_unknown(d, fpath);
		}
	}
	if (!m->name && !name_bad) {
		pod_dec_path(fpath, ipath, "name");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	if (!m->mount_path && !path_bad) {
		pod_dec_path(fpath, ipath, "mountPath");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
}

static void dec_mounts(struct pod_dec *d, const char *path,
		       struct json_object *v, struct pod_container *c)
{
	char ipath[POD_PATH_MAX], npath[POD_PATH_MAX];
	size_t n;

	c->mounts = pod_dec_array(d, path, v, "expected array of objects", POD_MAX_MOUNTS,
			   sizeof(*c->mounts), 0, &n);
	if (!c->mounts)
		return;
	c->n_mounts = n;
	for (size_t i = 0; i < n; i++) {
		const char *mp;

		pod_dec_path_idx(ipath, path, i);
		dec_mount(d, ipath, json_object_array_get_idx(v, i), &c->mounts[i]);
		mp = c->mounts[i].mount_path;
		for (size_t j = 0; mp && j < i; j++) {
			if (!c->mounts[j].mount_path ||
			    strcmp(c->mounts[j].mount_path, mp) != 0)
				continue;
			pod_dec_path(npath, ipath, "mountPath");
			pod_dec_invalid(d, npath, mp, "must be unique");
			break;
		}
	}
}

static void dec_ctr_str(struct pod_dec *d, const char *path,
			struct json_object *v, size_t max, bool *has,
			char **out, const char *label_why)
{
	const char *s = pod_dec_str(d, path, v, max);

	*has = s != NULL && *s;
	if (!s || !*s)
		return;
	if (label_why && !pod_is_dns1123_label(s))
		pod_dec_invalid(d, path, s, strlen(s) > 63 ?
				"must be no more than 63 characters" : label_why);
	else if (!label_why && (pod_has_ctl(s) || strpbrk(s, " \t")))
		pod_dec_invalid(d, path, s, "must not contain whitespace or "
				"control characters");
	else
		*out = pod_dec_strdup(d, s);
}

/* A named probe / hook port must be one of the container's ports. */
static void dec_check_port(struct pod_dec *d, const char *cpath,
			   const char *field, const struct pod_probe *p,
			   const struct pod_container *c)
{
	char path[POD_PATH_MAX], sub[96];

	if (!p->port_name)
		return;
	for (size_t i = 0; i < c->n_ports; i++)
		if (c->ports[i].name && strcmp(c->ports[i].name, p->port_name) == 0)
			return;
	snprintf(sub, sizeof(sub), "%s.%s.port", field,
		 p->kind == POD_PROBE_HTTP ? "httpGet" : "tcpSocket");
	pod_dec_path(path, cpath, sub);
	pod_dec_invalid(d, path, p->port_name, "must be the name of a port in "
			"this container's ports");
}

static bool dec_ctr_known(const char *key)
{
	static const char *const keys[] = {
		"name", "image", "command", "args", "env", "envFrom",
		"workingDir", "imagePullPolicy", "tty", "stdin", "stdinOnce",
		"resources", "ports", "volumeMounts", "securityContext",
		"lifecycle", "terminationMessagePath",
		"terminationMessagePolicy", NULL
	};

	for (size_t i = 0; keys[i]; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static void dec_forbid_init(struct pod_dec *d, const char *path,
			    struct json_object *v)
{
	if (!pod_dec_is_null(v))
		pod_dec_fail(d, path, R_FORBIDDEN, "Forbidden: may not be set "
			     "for init containers");
}

void pod_dec_container(struct pod_dec *d, const char *cpath,
		       struct json_object *o, struct pod_container *c,
		       bool is_init)
{
	static const char *const pulls[] = { "IfNotPresent", "Never",
					     "Always", NULL };
	static const char *const msg_policy[] = { "File",
						  "FallbackToLogsOnError", NULL };
	static const struct { const char *key; size_t off;
			      enum pod_dec_probe_use use; } probes[] = {
		{ "livenessProbe", offsetof(struct pod_container, liveness),
		  POD_DEC_LIVENESS },
		{ "readinessProbe", offsetof(struct pod_container, readiness),
		  POD_DEC_READINESS },
		{ "startupProbe", offsetof(struct pod_container, startup),
		  POD_DEC_STARTUP },
	};
	char path[POD_PATH_MAX];
	size_t budget = POD_MAX_ARGS, pi;
	const char *s;
	bool has_name = false, has_image = false, b;
	int k;

	if (!pod_dec_obj(d, cpath, o))
		return;
	json_object_object_foreach(o, key, v) {
		pod_dec_path(path, cpath, key);
		for (pi = 0; pi < 3; pi++)
			if (strcmp(key, probes[pi].key) == 0)
				break;
		if (pi < 3) {
			if (is_init)
				dec_forbid_init(d, path, v);
			else if (!pod_dec_is_null(v))
				pod_dec_probe(d, path, v, (struct pod_probe *)
					      ((char *)c + probes[pi].off),
					      probes[pi].use);
			continue;
		}
		if (pod_dec_is_null(v) && dec_ctr_known(key))
			continue;   /* null: not given */
		if (strcmp(key, "name") == 0) {
			dec_ctr_str(d, path, v, POD_MAX_STR, &has_name, &c->name,
				    POD_MSG_LABEL);
		} else if (strcmp(key, "image") == 0) {
			dec_ctr_str(d, path, v, POD_IMAGE_REF_MAX, &has_image,
				    &c->image, NULL);
		} else if (strcmp(key, "command") == 0) {
			pod_dec_strv(d, path, v, &budget, &c->command,
				     &c->n_command, &c->has_command);
		} else if (strcmp(key, "args") == 0) {
			pod_dec_strv(d, path, v, &budget, &c->args,
				     &c->n_args, &c->has_args);
		} else if (strcmp(key, "env") == 0) {
			pod_dec_env(d, path, v, c);
		} else if (strcmp(key, "envFrom") == 0) {
			pod_dec_unsupp(d, path, MSG_NO_CM);
		} else if (strcmp(key, "workingDir") == 0) {
			s = pod_dec_str(d, path, v, POD_MAX_STR);
			if (!s || !*s)
				continue;
			if (!pod_is_abs_path(s))
				pod_dec_invalid(d, path, s, "must be an "
						"absolute path");
			else
				c->working_dir = pod_dec_strdup(d, s);
		} else if (strcmp(key, "imagePullPolicy") == 0) {
			k = pod_dec_enum(d, path, v, pulls);
			if (k >= 0)
				c->pull_policy = (enum pod_pull_policy)(k + 1);
		} else if (strcmp(key, "tty") == 0) {
			pod_dec_bool(d, path, v, &c->tty);
		} else if (strcmp(key, "stdin") == 0) {
			pod_dec_bool(d, path, v, &c->stdin_open);
		} else if (strcmp(key, "resources") == 0) {
			dec_resources(d, path, v, &c->resources);
		} else if (strcmp(key, "ports") == 0) {
			dec_ports(d, path, v, c);
		} else if (strcmp(key, "volumeMounts") == 0) {
			dec_mounts(d, path, v, c);
		} else if (strcmp(key, "securityContext") == 0) {
			c->has_security = true;
			pod_dec_security(d, path, v, &c->security, false);
		} else if (strcmp(key, "lifecycle") == 0) {
			if (is_init)
				dec_forbid_init(d, path, v);
			else
				pod_dec_lifecycle(d, path, v, c);
		} else if (strcmp(key, "terminationMessagePath") == 0) {
			s = pod_dec_str(d, path, v, POD_MAX_STR);
			if (!s || !*s)
				continue;
			if (!pod_is_abs_path(s) || pod_has_dotdot(s))
				pod_dec_invalid(d, path, s, "must be an absolute "
						"path without '..'");
			else
				c->term_msg_path = pod_dec_strdup(d, s);
		} else if (strcmp(key, "terminationMessagePolicy") == 0) {
			k = pod_dec_enum(d, path, v, msg_policy);
			if (k == 1)
				c->term_msg_policy = POD_TERM_MSG_FALLBACK_LOGS;
		} else if (strcmp(key, "stdinOnce") == 0 && pod_dec_bool(d, path, v, &b)) {
			if (b)
				pod_dec_unsupp(d, path, "podvm does not attach stdin");
		} else {
			pod_dec_unknown(d, path);
		}
	}
	/* As before: missing, null, "" or a non-string is Required. */
	if (!has_name) {
		pod_dec_path(path, cpath, "name");
		pod_dec_fail(d, path, R_REQUIRED, "Required value");
	}
	if (!has_image) {
		pod_dec_path(path, cpath, "image");
		pod_dec_fail(d, path, R_REQUIRED, "Required value");
	}
	if (!c->term_msg_path)
		c->term_msg_path = pod_dec_strdup(d, "/dev/termination-log");
	dec_check_port(d, cpath, "livenessProbe", &c->liveness, c);
	dec_check_port(d, cpath, "readinessProbe", &c->readiness, c);
	dec_check_port(d, cpath, "startupProbe", &c->startup, c);
	dec_check_port(d, cpath, "lifecycle.postStart", &c->post_start, c);
	dec_check_port(d, cpath, "lifecycle.preStop", &c->pre_stop, c);
}
