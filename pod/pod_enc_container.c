/* Container -> json-c, in the shape pod_decode accepts: what the decoder
 * defaulted (probe timings, terminationMessagePath, port protocol) is
 * written out, so a second round trip gives the same text. */
#include "pod/pod.h"
#include "util/json.h"

#include <string.h>

#include <json-c/json.h>

#include "pod/pod_priv.h"

/* false on ENOMEM */
static bool enc_int(struct json_object *o, const char *key, int64_t v)
{
	return util_json_add(o, key, json_object_new_int64(v));
}

static bool enc_bool(struct json_object *o, const char *key, bool v)
{
	return util_json_add(o, key, json_object_new_boolean(v));
}

static const char *enc_pull(enum pod_pull_policy p)
{
	switch (p) {
	case POD_PULL_IF_NOT_PRESENT: return "IfNotPresent";
	case POD_PULL_NEVER: return "Never";
	case POD_PULL_ALWAYS: return "Always";
	case POD_PULL_DEFAULT: break;
	}
	return NULL;
}

static struct json_object *enc_divisor(const struct pod_env *e)
{
	char q[32];

	if (e->resource && strstr(e->resource, ".cpu"))
		return json_object_new_string(e->divisor == 1 ? "1m" : "1");
	pod_format_memory(q, sizeof(q), e->divisor);
	return json_object_new_string(q);
}

static struct json_object *enc_env_one(const struct pod_env *e)
{
	struct json_object *o = json_object_new_object(), *from, *ref;

	if (!o || !pod_enc_str(o, "name", e->name))
		goto fail;
	if (e->source == POD_ENV_VALUE) {
		if (!pod_enc_str(o, "value", e->value ? e->value : ""))
			goto fail;
		return o;
	}
	from = json_object_new_object();
	ref = json_object_new_object();
	if (!util_json_add(o, "valueFrom", from)) {
		json_object_put(ref);
		goto fail;
	}
	if (e->source == POD_ENV_FIELD_REF) {
		if (!util_json_add(from, "fieldRef", ref) ||
		    !pod_enc_str(ref, "fieldPath", e->field_path))
			goto fail;
		return o;
	}
	if (!util_json_add(from, "resourceFieldRef", ref) ||
	    !pod_enc_str(ref, "containerName", e->res_container) ||
	    !pod_enc_str(ref, "resource", e->resource))
		goto fail;
	if (e->divisor && !util_json_add(ref, "divisor", enc_divisor(e)))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

static struct json_object *enc_env(const struct pod_env *env, size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n), *e;

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		e = enc_env_one(&env[i]);
		if (!e || json_object_array_add(a, e) != 0) {
			json_object_put(e);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static bool enc_res_list(struct json_object *r, const char *key,
			 bool has_cpu, int64_t cpu, bool has_mem, int64_t mem)
{
	struct json_object *o;
	char q[32];

	if (!has_cpu && !has_mem)
		return true;
	o = json_object_new_object();
	if (!util_json_add(r, key, o))
		return false;
	pod_format_cpu(q, sizeof(q), cpu);
	if (has_cpu && !pod_enc_str(o, "cpu", q))
		return false;
	pod_format_memory(q, sizeof(q), mem);
	return !has_mem || pod_enc_str(o, "memory", q);
}

static bool enc_resources(struct json_object *c, const struct pod_resources *r)
{
	struct json_object *o;

	if (!r->has_req_cpu && !r->has_req_mem && !r->has_lim_cpu &&
	    !r->has_lim_mem)
		return true;
	o = json_object_new_object();
	return util_json_add(c, "resources", o) &&
	       enc_res_list(o, "requests", r->has_req_cpu, r->req_cpu_m,
			    r->has_req_mem, r->req_mem) &&
	       enc_res_list(o, "limits", r->has_lim_cpu, r->lim_cpu_m,
			    r->has_lim_mem, r->lim_mem);
}

/* An array of n objects, each filled by fill(o, i). */
static struct json_object *enc_objs(size_t n, const void *arg,
				    bool (*fill)(struct json_object *,
						 const void *, size_t))
{
	struct json_object *a = json_object_new_array_ext((int)n), *o;

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		o = json_object_new_object();
		if (!o || json_object_array_add(a, o) != 0) {
			json_object_put(o);
			goto fail;
		}
		if (!fill(o, arg, i))
			goto fail;
	}
	return a;
fail:
	json_object_put(a);
	return NULL;
}

static bool enc_port(struct json_object *o, const void *arg, size_t i)
{
	const struct pod_port *p = &((const struct pod_port *)arg)[i];

	return pod_enc_str(o, "name", p->name) &&
	       enc_int(o, "containerPort", p->container_port) &&
	       pod_enc_str(o, "protocol", p->protocol ? p->protocol : "TCP");
}

static bool enc_mount(struct json_object *o, const void *arg, size_t i)
{
	const struct pod_volume_mount *m =
		&((const struct pod_volume_mount *)arg)[i];

	return pod_enc_str(o, "name", m->name) &&
	       pod_enc_str(o, "mountPath", m->mount_path) &&
	       pod_enc_str(o, "subPath", m->sub_path) &&
	       (!m->read_only || enc_bool(o, "readOnly", true));
}

static bool enc_header(struct json_object *o, const void *arg, size_t i)
{
	const struct pod_kv *kv = &((const struct pod_kv *)arg)[i];

	return pod_enc_str(o, "name", kv->key) &&
	       pod_enc_str(o, "value", kv->value);
}

struct json_object *pod_enc_security(const struct pod_security *s,
				     bool pod_level)
{
	struct json_object *o = json_object_new_object(), *caps, *g, *sc;

	if (!o)
		return NULL;
	if ((s->has_run_as_user && !enc_int(o, "runAsUser", s->run_as_user)) ||
	    (s->has_run_as_group && !enc_int(o, "runAsGroup", s->run_as_group)) ||
	    (s->has_run_as_non_root &&
	     !enc_bool(o, "runAsNonRoot", s->run_as_non_root)))
		goto fail;
	if (!pod_level && s->read_only_root_fs &&
	    !enc_bool(o, "readOnlyRootFilesystem", true))
		goto fail;
	if (!pod_level && s->has_allow_priv_escalation &&
	    !enc_bool(o, "allowPrivilegeEscalation", s->allow_priv_escalation))
		goto fail;
	if (!pod_level && (s->n_cap_add || s->n_cap_drop)) {
		caps = json_object_new_object();
		if (!util_json_add(o, "capabilities", caps) ||
		    (s->n_cap_add && !util_json_add(caps, "add",
				pod_enc_strv(s->cap_add, s->n_cap_add))) ||
		    (s->n_cap_drop && !util_json_add(caps, "drop",
				pod_enc_strv(s->cap_drop, s->n_cap_drop))))
			goto fail;
	}
	if (pod_level && s->n_supplemental_groups) {
		g = json_object_new_array_ext((int)s->n_supplemental_groups);
		if (!util_json_add(o, "supplementalGroups", g))
			goto fail;
		for (size_t i = 0; i < s->n_supplemental_groups; i++) {
			struct json_object *n =
				json_object_new_int64(s->supplemental_groups[i]);

			if (!n || json_object_array_add(g, n) != 0) {
				json_object_put(n);
				goto fail;
			}
		}
	}
	if (pod_level && s->has_fs_group && !enc_int(o, "fsGroup", s->fs_group))
		goto fail;
	if (s->seccomp != POD_SECCOMP_DEFAULT) {
		sc = json_object_new_object();
		if (!util_json_add(o, "seccompProfile", sc) ||
		    !pod_enc_str(sc, "type", s->seccomp == POD_SECCOMP_UNCONFINED ?
				 "Unconfined" : s->seccomp == POD_SECCOMP_LOCALHOST ?
				 "Localhost" : "RuntimeDefault"))
			goto fail;
		if (s->localhost_profile &&
		    !pod_enc_str(sc, "localhostProfile", s->localhost_profile))
			goto fail;
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* A probe (timings too) or a lifecycle handler (hook). */
static struct json_object *enc_probe(const struct pod_probe *p, bool hook)
{
	struct json_object *o = json_object_new_object(), *h;
	const char *kind = p->kind == POD_PROBE_EXEC ? "exec" :
			   p->kind == POD_PROBE_HTTP ? "httpGet" : "tcpSocket";

	if (!o)
		return NULL;
	h = json_object_new_object();
	if (!util_json_add(o, kind, h))
		goto fail;
	if (p->kind == POD_PROBE_EXEC) {
		if (!util_json_add(h, "command",
				 pod_enc_strv(p->exec_command, p->n_exec_command)))
			goto fail;
	} else {
		if (p->kind == POD_PROBE_HTTP && !pod_enc_str(h, "path", p->http_path))
			goto fail;
		if (p->port_name ? !pod_enc_str(h, "port", p->port_name) :
		    !enc_int(h, "port", p->port))
			goto fail;
		if (!pod_enc_str(h, "host", p->http_host))
			goto fail;
		if (p->kind == POD_PROBE_HTTP &&
		    !pod_enc_str(h, "scheme", p->http_https ? "HTTPS" : "HTTP"))
			goto fail;
		if (p->kind == POD_PROBE_HTTP && p->n_http_headers &&
		    !util_json_add(h, "httpHeaders", enc_objs(p->n_http_headers,
							    p->http_headers,
							    enc_header)))
			goto fail;
	}
	if (!hook &&
	    (!enc_int(o, "initialDelaySeconds", p->initial_delay_s) ||
	     !enc_int(o, "periodSeconds", p->period_s) ||
	     !enc_int(o, "timeoutSeconds", p->timeout_s) ||
	     !enc_int(o, "successThreshold", p->success_threshold) ||
	     !enc_int(o, "failureThreshold", p->failure_threshold)))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

static bool enc_probes(struct json_object *o, const struct pod_container *c)
{
	struct json_object *lc;

	if ((c->liveness.kind && !util_json_add(o, "livenessProbe",
					      enc_probe(&c->liveness, false))) ||
	    (c->readiness.kind && !util_json_add(o, "readinessProbe",
					       enc_probe(&c->readiness, false))) ||
	    (c->startup.kind && !util_json_add(o, "startupProbe",
					     enc_probe(&c->startup, false))))
		return false;
	if (!c->post_start.kind && !c->pre_stop.kind)
		return true;
	lc = json_object_new_object();
	return util_json_add(o, "lifecycle", lc) &&
	       (!c->post_start.kind ||
		util_json_add(lc, "postStart", enc_probe(&c->post_start, true))) &&
	       (!c->pre_stop.kind ||
		util_json_add(lc, "preStop", enc_probe(&c->pre_stop, true)));
}

struct json_object *pod_enc_container(const struct pod_container *c)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (!pod_enc_str(o, "name", c->name) ||
	    !pod_enc_str(o, "image", c->image))
		goto fail;
	if (c->has_command &&
	    !util_json_add(o, "command", pod_enc_strv(c->command, c->n_command)))
		goto fail;
	if (c->has_args &&
	    !util_json_add(o, "args", pod_enc_strv(c->args, c->n_args)))
		goto fail;
	if (c->n_env && !util_json_add(o, "env", enc_env(c->env, c->n_env)))
		goto fail;
	if (!pod_enc_str(o, "workingDir", c->working_dir) ||
	    !pod_enc_str(o, "imagePullPolicy", enc_pull(c->pull_policy)))
		goto fail;
	if ((c->tty && !enc_bool(o, "tty", true)) ||
	    (c->stdin_open && !enc_bool(o, "stdin", true)))
		goto fail;
	if (!enc_resources(o, &c->resources))
		goto fail;
	if (c->n_ports &&
	    !util_json_add(o, "ports", enc_objs(c->n_ports, c->ports, enc_port)))
		goto fail;
	if (c->n_mounts &&
	    !util_json_add(o, "volumeMounts", enc_objs(c->n_mounts, c->mounts,
						     enc_mount)))
		goto fail;
	if (c->has_security &&
	    !util_json_add(o, "securityContext",
			 pod_enc_security(&c->security, false)))
		goto fail;
	if (!enc_probes(o, c))
		goto fail;
	if (!pod_enc_str(o, "terminationMessagePath", c->term_msg_path) ||
	    !pod_enc_str(o, "terminationMessagePolicy",
			 c->term_msg_policy == POD_TERM_MSG_FALLBACK_LOGS ?
			 "FallbackToLogsOnError" : "File"))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}
