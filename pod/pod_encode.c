/* Pod -> json-c tree, in the shape pod_decode accepts (used for the agent
 * POD_SPEC message and the API's responses). */
#include "pod/pod.h"
#include "util/json.h"

#include <json-c/json.h>

#include "pod/pod_priv.h"

bool pod_enc_str(struct json_object *o, const char *key,
			const char *s)
{
	if (!s)
		return true;
	return util_json_add(o, key, json_object_new_string(s));
}

struct json_object *pod_enc_strv(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n);

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_new_string(v[i]);

		if (!s || json_object_array_add(a, s) != 0) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

struct json_object *pod_enc_kv(const struct pod_kv *kv, size_t n)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!pod_enc_str(o, kv[i].key, kv[i].value)) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

static const char *pod_enc_restart(enum pod_restart_policy p)
{
	switch (p) {
	case POD_RESTART_ON_FAILURE: return "OnFailure";
	case POD_RESTART_NEVER: return "Never";
	case POD_RESTART_ALWAYS: break;
	}
	return "Always";
}

static struct json_object *pod_enc_volumes(const struct pod_volume *v,
					  size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n), *o, *ed;
	char q[32];

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		o = json_object_new_object();
		if (!o || json_object_array_add(a, o) != 0) {
			json_object_put(o);
			goto fail;
		}
		ed = json_object_new_object();
		if (!pod_enc_str(o, "name", v[i].name) ||
		    !util_json_add(o, "emptyDir", ed))
			goto fail;
		if (v[i].memory && !pod_enc_str(ed, "medium", "Memory"))
			goto fail;
		pod_format_memory(q, sizeof(q), v[i].size_limit);
		if (v[i].size_limit && !pod_enc_str(ed, "sizeLimit", q))
			goto fail;
	}
	return a;
fail:
	json_object_put(a);
	return NULL;
}

static struct json_object *pod_enc_ctrs(const struct pod_container *c,
					size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n), *o;

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		o = pod_enc_container(&c[i]);
		if (!o || json_object_array_add(a, o) != 0) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}


/* spec.imagePullSecrets: [{name: SECRET}...] */
static bool pod_enc_pull_secrets(struct json_object *spec, const struct pod *pod)
{
	struct json_object *a = json_object_new_array();

	if (!a || !util_json_add(spec, "imagePullSecrets", a))
		return false;
	for (size_t i = 0; i < pod->n_pull_secrets; i++) {
		struct json_object *e = json_object_new_object();

		if (!e || !util_json_push(a, e) || !pod_enc_str(e, "name", pod->pull_secrets[i]))
			return false;
	}
	return true;
}

struct json_object *pod_to_json(const struct pod *pod)
{
	struct json_object *o, *meta, *spec;

	o = json_object_new_object();
	if (!o)
		return NULL;
	if (!pod_enc_str(o, "apiVersion", "v1") ||
	    !pod_enc_str(o, "kind", "Pod"))
		goto fail;
	meta = json_object_new_object();
	if (!util_json_add(o, "metadata", meta))
		goto fail;
	if (!pod_enc_str(meta, "name", pod->name) ||
	    !pod_enc_str(meta, "namespace", pod->namespace) ||
	    !pod_enc_str(meta, "uid", pod->uid))
		goto fail;
	if (pod->n_labels &&
	    !util_json_add(meta, "labels", pod_enc_kv(pod->labels, pod->n_labels)))
		goto fail;
	if (pod->n_annotations &&
	    !util_json_add(meta, "annotations",
			 pod_enc_kv(pod->annotations, pod->n_annotations)))
		goto fail;
	spec = json_object_new_object();
	if (!util_json_add(o, "spec", spec))
		goto fail;
	if (!util_json_add(spec, "containers",
			 pod_enc_ctrs(pod->containers, pod->n_containers)))
		goto fail;
	if (pod->n_init_containers &&
	    !util_json_add(spec, "initContainers",
			 pod_enc_ctrs(pod->init_containers,
				      pod->n_init_containers)))
		goto fail;
	if (pod->n_volumes &&
	    !util_json_add(spec, "volumes",
			 pod_enc_volumes(pod->volumes, pod->n_volumes)))
		goto fail;
	if (pod->has_security &&
	    !util_json_add(spec, "securityContext",
			 pod_enc_security(&pod->security, true)))
		goto fail;
	if (!pod_enc_str(spec, "restartPolicy",
			 pod_enc_restart(pod->restart_policy)) ||
	    !util_json_add(spec, "terminationGracePeriodSeconds",
			 json_object_new_int64(pod->grace_period)) ||
	    !pod_enc_str(spec, "hostname", pod->hostname) ||
	    !pod_enc_str(spec, "nodeName", pod->node_name) ||
	    !pod_enc_str(spec, "serviceAccountName", pod->service_account))
		goto fail;
	if (pod->n_pull_secrets && !pod_enc_pull_secrets(spec, pod))
		goto fail;
	if (pod->active_deadline &&
	    !util_json_add(spec, "activeDeadlineSeconds",
			 json_object_new_int64(pod->active_deadline)))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}
