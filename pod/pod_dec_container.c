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
	enum { F_REQ, F_LIM, F_CLAIMS };
	static const struct pod_dec_field fields[] = {
		{ "requests", F_REQ, 0 }, { "limits", F_LIM, 0 },
		{ "claims", F_CLAIMS, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX], rq[32], lq[32];
	struct dec_res_list req = { 0 }, lim = { 0 };

	if (pod_dec_is_null(v) || !pod_dec_it_init(&it, d, path, v, fields))
		return;
	while (pod_dec_it_next(&it)) {
		if (it.id == F_CLAIMS)
			pod_dec_unsupp(d, it.path, "podvm has no resource claims");
		else
			dec_res_list(d, it.path, it.v, it.id == F_REQ ? &req : &lim);
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
		     struct json_object *o, void *elem)
{
	struct pod_port *p = elem;
	static const char *const protos[] = { "SCTP", "TCP", "UDP", NULL };
	enum { F_PORT, F_NAME, F_PROTO, F_HOST_PORT, F_HOST_IP };
	static const struct pod_dec_field fields[] = {
		{ "containerPort", F_PORT, 0 }, { "name", F_NAME, 0 },
		{ "protocol", F_PROTO, 0 }, { "hostPort", F_HOST_PORT, 0 },
		{ "hostIP", F_HOST_IP, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX];
	const char *s, *why;
	int64_t n;
	int k;
	bool has_port = false;

	if (!pod_dec_it_init(&it, d, ipath, o, fields))
		return;
	while (pod_dec_it_next(&it)) {
		switch (it.id) {
		case F_PORT:
			/* 0 is "not given" for Kubernetes too */
			has_port = !json_object_is_type(it.v, json_type_int) ||
				   json_object_get_int64(it.v) != 0;
			if (has_port && pod_dec_int(d, it.path, it.v, 1, 65535, &n))
				p->container_port = (int32_t)n;
			break;
		case F_NAME:
			s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
			if (s && *s && !pod_is_port_name(s, &why))
				pod_dec_invalid(d, it.path, s, why);
			else if (s && *s)
				p->name = pod_dec_strdup(d, s);
			break;
		case F_PROTO:
			k = pod_dec_enum(d, it.path, it.v, protos);
			if (k >= 0)
				p->protocol = pod_dec_strdup(d, protos[k]);
			break;
		case F_HOST_PORT:
			if (pod_dec_int(d, it.path, it.v, INT64_MIN, INT64_MAX, &n) &&
			    n != 0)
				pod_dec_fail(d, it.path, R_FORBIDDEN, "Forbidden: "
					     "hostPort is not supported: "
					     "Fargate-style pods have no host ports");
			break;
		case F_HOST_IP:
			s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
			if (s && *s)
				pod_dec_unsupp(d, it.path, "Fargate-style pods "
					       "have no host ports");
			break;
		}
	}
	if (!has_port) {
		pod_dec_path(fpath, ipath, "containerPort");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	if (!p->protocol)
		p->protocol = pod_dec_strdup(d, "TCP");
}

static const struct pod_dec_list ports_list = {
	POD_MAX_PORTS, sizeof(struct pod_port), dec_port,
	"name", offsetof(struct pod_port, name), false,
};

static void dec_mount(struct pod_dec *d, const char *ipath,
		      struct json_object *o, void *elem)
{
	struct pod_volume_mount *m = elem;
	enum { F_NAME, F_PATH, F_SUB, F_RO, F_UNSUPP };
	static const struct pod_dec_field fields[] = {
		{ "name", F_NAME, 0 }, { "mountPath", F_PATH, 0 },
		{ "subPath", F_SUB, 0 }, { "readOnly", F_RO, 0 },
		{ "mountPropagation", F_UNSUPP, 0 }, { "subPathExpr", F_UNSUPP, 0 },
		{ "recursiveReadOnly", F_UNSUPP, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX];
	const char *s;
	bool name_bad = false, path_bad = false;

	if (!pod_dec_it_init(&it, d, ipath, o, fields))
		return;
	while (pod_dec_it_next(&it)) {
		if (it.id == F_RO) {
			pod_dec_bool(d, it.path, it.v, &m->read_only);
			continue;
		} else if (it.id == F_UNSUPP) {
			pod_dec_unsupp(d, it.path, "podvm supports name, mountPath, "
				       "subPath and readOnly");
			continue;
		}
		s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
		if (it.id == F_NAME) {
			name_bad = !s;
			if (s && *s)
				m->name = pod_dec_strdup(d, s);
		} else if (it.id == F_PATH) {
			path_bad = !s || (*s && (!pod_is_abs_path(s) ||
						 pod_has_dotdot(s)));
			if (s && *s && path_bad)
				pod_dec_invalid(d, it.path, s, "must be an absolute "
						"path without '..'");
			else if (s && *s)
				m->mount_path = pod_dec_strdup(d, s);
		} else if (s && *s) {
			if (s[0] == '/' || pod_has_ctl(s))
				pod_dec_invalid(d, it.path, s, "must be a relative path");
			else if (pod_has_dotdot(s))
				pod_dec_invalid(d, it.path, s, "must not contain '..'");
			else
				m->sub_path = pod_dec_strdup(d, s);
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

static const struct pod_dec_list mounts_list = {
	POD_MAX_MOUNTS, sizeof(struct pod_volume_mount), dec_mount,
	"mountPath", offsetof(struct pod_volume_mount, mount_path), true,
};

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

static void dec_forbid_init(struct pod_dec *d, const char *path,
			    struct json_object *v)
{
	if (!pod_dec_is_null(v))
		pod_dec_fail(d, path, R_FORBIDDEN, "Forbidden: may not be set "
			     "for init containers");
}

enum {
	C_NAME, C_IMAGE, C_COMMAND, C_ARGS, C_ENV, C_ENV_FROM, C_WORKDIR,
	C_PULL, C_TTY, C_STDIN, C_STDIN_ONCE, C_RESOURCES, C_PORTS, C_MOUNTS,
	C_SECURITY, C_LIFECYCLE, C_TERM_PATH, C_TERM_POLICY,
	C_LIVENESS, C_READINESS, C_STARTUP,
};

static const struct pod_dec_field ctr_fields[] = {
	{ "name", C_NAME, 0 }, { "image", C_IMAGE, 0 },
	{ "command", C_COMMAND, 0 }, { "args", C_ARGS, 0 },
	{ "env", C_ENV, 0 }, { "envFrom", C_ENV_FROM, 0 },
	{ "workingDir", C_WORKDIR, 0 }, { "imagePullPolicy", C_PULL, 0 },
	{ "tty", C_TTY, 0 }, { "stdin", C_STDIN, 0 },
	{ "stdinOnce", C_STDIN_ONCE, 0 }, { "resources", C_RESOURCES, 0 },
	{ "ports", C_PORTS, 0 }, { "volumeMounts", C_MOUNTS, 0 },
	{ "securityContext", C_SECURITY, 0 }, { "lifecycle", C_LIFECYCLE, 0 },
	{ "terminationMessagePath", C_TERM_PATH, 0 },
	{ "terminationMessagePolicy", C_TERM_POLICY, 0 },
	{ "livenessProbe", C_LIVENESS, 0 }, { "readinessProbe", C_READINESS, 0 },
	{ "startupProbe", C_STARTUP, 0 },
	POD_DEC_END
};

/* One container being decoded. */
struct dec_ctr {
	struct pod_container *c;
	bool is_init;
	size_t budget;             /* what command and args may still use */
	bool has_name, has_image;
};

/* A probe (not on init containers), a path or a policy. */
static void dec_ctr_misc(struct pod_dec *d, const struct pod_dec_it *it,
			 struct dec_ctr *x)
{
	static const char *const msg_policy[] = { "File",
						  "FallbackToLogsOnError", NULL };
	struct pod_container *c = x->c;
	const char *s;

	switch (it->id) {
	case C_LIVENESS:
	case C_READINESS:
	case C_STARTUP:
		if (x->is_init)
			dec_forbid_init(d, it->path, it->v);
		else
			pod_dec_probe(d, it->path, it->v,
				      it->id == C_LIVENESS ? &c->liveness :
				      it->id == C_READINESS ? &c->readiness :
				      &c->startup,
				      it->id == C_LIVENESS ? POD_DEC_LIVENESS :
				      it->id == C_READINESS ? POD_DEC_READINESS :
				      POD_DEC_STARTUP);
		break;
	case C_WORKDIR:
		s = pod_dec_str(d, it->path, it->v, POD_MAX_STR);
		if (s && *s && !pod_is_abs_path(s))
			pod_dec_invalid(d, it->path, s, "must be an "
					"absolute path");
		else if (s && *s)
			c->working_dir = pod_dec_strdup(d, s);
		break;
	case C_TERM_PATH:
		s = pod_dec_str(d, it->path, it->v, POD_MAX_STR);
		if (s && *s && (!pod_is_abs_path(s) || pod_has_dotdot(s)))
			pod_dec_invalid(d, it->path, s, "must be an absolute "
					"path without '..'");
		else if (s && *s)
			c->term_msg_path = pod_dec_strdup(d, s);
		break;
	case C_TERM_POLICY:
		if (pod_dec_enum(d, it->path, it->v, msg_policy) == 1)
			c->term_msg_policy = POD_TERM_MSG_FALLBACK_LOGS;
		break;
	}
}

static void dec_ctr_field(struct pod_dec *d, const struct pod_dec_it *it,
			  struct dec_ctr *x)
{
	static const char *const pulls[] = { "IfNotPresent", "Never",
					     "Always", NULL };
	struct pod_container *c = x->c;
	const char *path = it->path;
	struct json_object *v = it->v;
	bool b;
	int k;

	switch (it->id) {
	case C_NAME:
		dec_ctr_str(d, path, v, POD_MAX_STR, &x->has_name, &c->name,
			    POD_MSG_LABEL);
		break;
	case C_IMAGE:
		dec_ctr_str(d, path, v, POD_IMAGE_REF_MAX, &x->has_image,
			    &c->image, NULL);
		break;
	case C_COMMAND:
		pod_dec_strv(d, path, v, &x->budget, &c->command,
			     &c->n_command, &c->has_command);
		break;
	case C_ARGS:
		pod_dec_strv(d, path, v, &x->budget, &c->args, &c->n_args,
			     &c->has_args);
		break;
	case C_ENV: pod_dec_env(d, path, v, c); break;
	case C_ENV_FROM: pod_dec_unsupp(d, path, MSG_NO_CM); break;
	case C_PULL:
		k = pod_dec_enum(d, path, v, pulls);
		if (k >= 0)
			c->pull_policy = (enum pod_pull_policy)(k + 1);
		break;
	case C_TTY: pod_dec_bool(d, path, v, &c->tty); break;
	case C_STDIN: pod_dec_bool(d, path, v, &c->stdin_open); break;
	case C_STDIN_ONCE:
		if (!pod_dec_bool(d, path, v, &b))
			pod_dec_unknown(d, path);   /* as it always was */
		else if (b)
			pod_dec_unsupp(d, path, "podvm does not attach stdin");
		break;
	case C_RESOURCES: dec_resources(d, path, v, &c->resources); break;
	case C_PORTS:
		c->ports = pod_dec_list(d, path, v, &ports_list, &c->n_ports);
		break;
	case C_MOUNTS:
		c->mounts = pod_dec_list(d, path, v, &mounts_list, &c->n_mounts);
		break;
	case C_SECURITY:
		c->has_security = true;
		pod_dec_security(d, path, v, &c->security, false);
		break;
	case C_LIFECYCLE:
		if (x->is_init)
			dec_forbid_init(d, path, v);
		else
			pod_dec_lifecycle(d, path, v, c);
		break;
	default:
		dec_ctr_misc(d, it, x);
	}
}

void pod_dec_container(struct pod_dec *d, const char *cpath,
		       struct json_object *o, struct pod_container *c,
		       bool is_init)
{
	struct dec_ctr x = { .c = c, .is_init = is_init, .budget = POD_MAX_ARGS };
	struct pod_dec_it it;
	char path[POD_PATH_MAX];

	if (!pod_dec_it_init(&it, d, cpath, o, ctr_fields))
		return;
	while (pod_dec_it_next(&it))
		dec_ctr_field(d, &it, &x);
	/* As before: missing, null, "" or a non-string is Required. */
	if (!x.has_name) {
		pod_dec_path(path, cpath, "name");
		pod_dec_fail(d, path, R_REQUIRED, "Required value");
	}
	if (!x.has_image) {
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
