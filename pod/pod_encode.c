/* Pod -> json-c tree, in the shape pod_decode accepts (used for the agent
 * POD_SPEC message and the API's responses). */
#include "pod/pod.h"

#include <json-c/json.h>

/* Adds val (consumed either way: json-c keeps it on success, we drop it
 * on failure). A NULL val is a failed allocation upstream. */
static bool pod_enc_add(struct json_object *o, const char *key,
			struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(o, key, val) != 0) {
		json_object_put(val);
		return false;
	}
	return true;
}

static bool pod_enc_str(struct json_object *o, const char *key,
			const char *s)
{
	if (!s)
		return true;
	return pod_enc_add(o, key, json_object_new_string(s));
}

static struct json_object *pod_enc_strv(char *const *v, size_t n)
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

static struct json_object *pod_enc_kv(const struct pod_kv *kv, size_t n)
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

static struct json_object *pod_enc_env(const struct pod_env *env, size_t n)
{
	struct json_object *a = json_object_new_array_ext((int)n), *e;

	if (!a)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		e = json_object_new_object();
		if (!e || json_object_array_add(a, e) != 0) {
			json_object_put(e);
			goto fail;
		}
		if (!pod_enc_str(e, "name", env[i].name) ||
		    !pod_enc_str(e, "value", env[i].value ? env[i].value : ""))
			goto fail;
	}
	return a;
fail:
	json_object_put(a);
	return NULL;
}

static const char *pod_enc_pull(enum pod_pull_policy p)
{
	switch (p) {
	case POD_PULL_IF_NOT_PRESENT: return "IfNotPresent";
	case POD_PULL_NEVER: return "Never";
	case POD_PULL_ALWAYS: return "Always";
	case POD_PULL_DEFAULT: break;
	}
	return NULL;
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

static struct json_object *pod_enc_container(const struct pod_container *c)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (!pod_enc_str(o, "name", c->name) ||
	    !pod_enc_str(o, "image", c->image))
		goto fail;
	if (c->has_command &&
	    !pod_enc_add(o, "command", pod_enc_strv(c->command, c->n_command)))
		goto fail;
	if (c->has_args &&
	    !pod_enc_add(o, "args", pod_enc_strv(c->args, c->n_args)))
		goto fail;
	if (c->n_env && !pod_enc_add(o, "env", pod_enc_env(c->env, c->n_env)))
		goto fail;
	if (!pod_enc_str(o, "workingDir", c->working_dir) ||
	    !pod_enc_str(o, "imagePullPolicy", pod_enc_pull(c->pull_policy)))
		goto fail;
	if (c->tty && !pod_enc_add(o, "tty", json_object_new_boolean(1)))
		goto fail;
	if (c->stdin_open &&
	    !pod_enc_add(o, "stdin", json_object_new_boolean(1)))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

struct json_object *pod_to_json(const struct pod *pod)
{
	struct json_object *o, *meta, *spec, *ctrs, *c;

	o = json_object_new_object();
	if (!o)
		return NULL;
	if (!pod_enc_str(o, "apiVersion", "v1") ||
	    !pod_enc_str(o, "kind", "Pod"))
		goto fail;
	meta = json_object_new_object();
	if (!pod_enc_add(o, "metadata", meta))
		goto fail;
	if (!pod_enc_str(meta, "name", pod->name) ||
	    !pod_enc_str(meta, "namespace", pod->namespace) ||
	    !pod_enc_str(meta, "uid", pod->uid))
		goto fail;
	if (pod->n_labels &&
	    !pod_enc_add(meta, "labels", pod_enc_kv(pod->labels, pod->n_labels)))
		goto fail;
	if (pod->n_annotations &&
	    !pod_enc_add(meta, "annotations",
			 pod_enc_kv(pod->annotations, pod->n_annotations)))
		goto fail;
	spec = json_object_new_object();
	if (!pod_enc_add(o, "spec", spec))
		goto fail;
	ctrs = json_object_new_array_ext((int)pod->n_containers);
	if (!pod_enc_add(spec, "containers", ctrs))
		goto fail;
	for (size_t i = 0; i < pod->n_containers; i++) {
		c = pod_enc_container(&pod->containers[i]);
		if (!c || json_object_array_add(ctrs, c) != 0) {
			json_object_put(c);
			goto fail;
		}
	}
	if (!pod_enc_str(spec, "restartPolicy",
			 pod_enc_restart(pod->restart_policy)) ||
	    !pod_enc_add(spec, "terminationGracePeriodSeconds",
			 json_object_new_int64(pod->grace_period)) ||
	    !pod_enc_str(spec, "hostname", pod->hostname))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}
