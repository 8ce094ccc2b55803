/* `podvm apply -f FILE [-n NS]`: create a Pod from a YAML or JSON
 * manifest through podvmd. Kubernetes would patch an existing pod; podvm
 * pods are immutable (a pod is a VM booted from its spec), so an existing
 * pod with the same spec is "unchanged" and a different one is an error
 * that says to delete it first. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/podview.h"
#include "pod/pod.h"

static void apply_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm apply -f FILE [-n NAMESPACE]   (FILE: YAML or "
		"JSON Pod, - for stdin)\n");
}

/* Copy of key from src into dst when present (deep copy). */
static int apply_copy_key(struct json_object *dst, struct json_object *src,
			  const char *key)
{
	struct json_object *v, *copy = NULL;

	if (!json_object_object_get_ex(src, key, &v))
		return 0;
	if (json_object_deep_copy(v, &copy, NULL) != 0)
		return -ENOMEM;
	if (json_object_object_add(dst, key, copy) != 0) {
		json_object_put(copy);
		return -ENOMEM;
	}
	return 0;
}

static int apply_add_str(struct json_object *o, const char *key, const char *s)
{
	struct json_object *v = json_object_new_string(s);

	if (!v || json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* The parts of a Pod a user writes: apiVersion, kind, metadata.{name,
 * labels, annotations}, spec without what the server fills in. */
static int apply_trim(struct json_object *pod, const char *ns,
		      struct json_object **out)
{
	struct json_object *o = json_object_new_object();
	struct json_object *meta = json_object_new_object();
	struct json_object *src_meta = cli_jobj(pod, "metadata");
	struct json_object *spec, *annotations;
	int ret = -ENOMEM;

	*out = NULL;
	if (!o || !meta)
		goto out;
	if (json_object_object_add(o, "metadata", meta) != 0)
		goto out;
	meta = NULL;   /* owned by o */
	if (apply_copy_key(o, pod, "apiVersion") < 0 ||
	    apply_copy_key(o, pod, "kind") < 0 ||
	    apply_copy_key(o, pod, "spec") < 0)
		goto out;
	if (src_meta && (apply_copy_key(cli_jobj(o, "metadata"), src_meta, "name") < 0 ||
			 apply_copy_key(cli_jobj(o, "metadata"), src_meta, "labels") < 0 ||
			 apply_copy_key(cli_jobj(o, "metadata"), src_meta, "annotations") < 0))
		goto out;
	if (apply_add_str(cli_jobj(o, "metadata"), "namespace", ns) < 0)
		goto out;
	spec = cli_jobj(o, "spec");
	if (spec)
		json_object_object_del(spec, "nodeName");
	/* set by the server (the VM size it provisioned, as Fargate does) */
	annotations = cli_jobj(cli_jobj(o, "metadata"), "annotations");
	if (annotations) {
		json_object_object_del(annotations, "CapacityProvisioned");
		if (json_object_object_length(annotations) == 0)
			json_object_object_del(cli_jobj(o, "metadata"), "annotations");
	}
	*out = o;
	o = NULL;
	ret = 0;
out:
	json_object_put(meta);
	json_object_put(o);
	return ret;
}

/* Decode and re-encode: defaults applied, field order and nulls gone. */
static int apply_normalise(struct json_object *pod, const char *ns,
			   struct pod **out, struct pv_err *err)
{
	struct json_object *t = NULL;
	int ret;

	ret = apply_trim(pod, ns, &t);
	if (ret < 0)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = pod_decode(t, out, NULL, err);
	json_object_put(t);
	if (ret == 0) {
		free((*out)->uid);
		(*out)->uid = NULL;
	}
	return ret;
}

int cli_apply_same(struct json_object *stored, struct json_object *manifest,
		   const char *ns, bool *same, struct pv_err *err)
{
	struct pod *a = NULL, *b = NULL;
	struct json_object *ja = NULL, *jb = NULL;
	int ret;

	*same = false;
	ret = apply_normalise(manifest, ns, &b, err);
	if (ret == -ENOMEM)
		goto out;
	if (ret < 0 || apply_normalise(stored, ns, &a, err) < 0) {
		/* Either side not a pod podvm understands: not "unchanged". */
		pv_err_clear(err);
		ret = 0;
		goto out;
	}
	/* The server may have resolved a default pull policy: not a change. */
	for (size_t i = 0; i < a->n_containers && i < b->n_containers; i++)
		if (b->containers[i].pull_policy == POD_PULL_DEFAULT)
			a->containers[i].pull_policy = POD_PULL_DEFAULT;
	ja = pod_to_json(a);
	jb = pod_to_json(b);
	if (!ja || !jb) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	*same = json_object_equal(ja, jb) != 0;   /* key order ignored */
	ret = 0;
out:
	json_object_put(ja);
	json_object_put(jb);
	pod_free(a);
	pod_free(b);
	return ret;
}

/* 409: compare with what is stored. */
static int apply_existing(struct client *c, struct json_object *manifest,
			  const char *ns, const char *name, struct pv_err *err)
{
	struct client_resp resp = { 0 };
	char nm[POD_NAME_MAX + 8];
	bool same = false;
	int ret;

	cli_sanitize(name, nm, sizeof(nm));
	ret = client_get_pod(c, ns, name, &resp, err);
	if (ret < 0)
		goto out;
	if (cli_jstr(resp.json, "metadata.deletionTimestamp")) {
		ret = pv_err_set(err, EEXIST, "pod \"%s\" is being deleted; apply "
				 "again once it is gone", nm);
		goto out;
	}
	ret = cli_apply_same(resp.json, manifest, ns, &same, err);
	if (ret < 0)
		goto out;
	if (!same) {
		ret = pv_err_set(err, EEXIST, "pod \"%s\" already exists with a "
				 "different spec; podvm pods cannot be updated, "
				 "delete it first (podvm delete pod %s -n %s)",
				 nm, nm, ns);
		goto out;
	}
	printf("pod/%s unchanged\n", nm);
	ret = 0;
out:
	client_resp_free(&resp);
	return ret;
}

/* What apply sends: the manifest, its namespace and name. */
struct apply {
	const char *file;
	struct json_object *obj;
	const char *ns, *name;
	const char *body;
	char path[CLIENT_URL_MAX];
};

/* Load and check the manifest: one Pod with a name, in the namespace
 * given (a.ns, NULL: the manifest's or "default"). */
static int apply_load(struct apply *a, struct pv_err *err)
{
	const char *mns, *kind;
	int ret;

	ret = manifest_load(a->file, &a->obj, err);
	if (ret < 0)
		return ret;
	kind = cli_jstr(a->obj, "kind");
	if (!json_object_is_type(a->obj, json_type_object) || !kind ||
	    strcmp(kind, "Pod"))
		return pv_err_set(err, EINVAL, "%s: podvm applies one Pod (kind: "
				  "Pod), not %.60s", a->file, kind ? kind : "this");
	a->name = cli_jstr(a->obj, "metadata.name");
	if (!a->name || !*a->name)
		return pv_err_set(err, EINVAL, "%s: metadata.name is required",
				  a->file);
	mns = cli_jstr(a->obj, "metadata.namespace");
	if (mns && *mns && a->ns && *a->ns && strcmp(mns, a->ns))
		return pv_err_set(err, EINVAL, "the namespace from the provided "
				  "object \"%.63s\" does not match the namespace "
				  "\"%.63s\". You must pass '--namespace=%.63s' to "
				  "perform this operation.", mns, a->ns, mns);
	if (!a->ns || !*a->ns)
		a->ns = mns && *mns ? mns : "default";
	if (client_path(a->path, sizeof(a->path), a->ns, NULL, NULL) < 0)
		return pv_err_set(err, ENAMETOOLONG, "namespace too long");
	a->body = json_object_to_json_string_ext(a->obj, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!a->body)
		return pv_err_set(err, ENOMEM, "out of memory");
	return 0;
}

/* POST it; 409 AlreadyExists: unchanged when the stored spec is the same. */
static int apply_post(struct client *c, void *arg, struct pv_err *err)
{
	struct apply *a = arg;
	struct client_resp resp = { 0 };
	char nm[POD_NAME_MAX + 8];
	const char *reason;
	int ret;

	ret = client_call(c, "POST", a->path, a->body, 409, &resp, err);
	if (ret < 0)
		goto out;
	reason = cli_jstr(resp.json, "reason");
	if (resp.code == 409 && reason && strcmp(reason, "AlreadyExists")) {
		client_print_error(&resp);
		ret = CLIENT_E_SERVER;
	} else if (resp.code == 409) {
		ret = apply_existing(c, a->obj, a->ns, a->name, err);
	} else {
		const char *got = cli_jstr(resp.json, "metadata.name");

		cli_sanitize(got ? got : a->name, nm, sizeof(nm));
		printf("pod/%s created\n", nm);
		ret = 0;
	}
out:
	client_resp_free(&resp);
	if (ret < 0)
		return ret;
	return fflush(stdout) == 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_FAIL;
}

int cli_apply(const struct cli_env *env_in, int argc, char **argv)
{
	struct cli_env env = *env_in;
	struct apply a = { 0 };
	struct pv_err err = { 0 };
	const struct cli_verb verb = { "apply", apply_usage, &env, &a.ns };
	const struct cli_opt opts[] = {
		CLI_OPT_STR('f', "filename", &a.file),
		CLI_OPT_END
	};
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	if (ret < 0)
		return ret == CLI_OPTS_HELP ? CLIENT_EXIT_OK : CLIENT_EXIT_FAIL;
	if (!a.file || optind < argc) {
		fprintf(stderr, "podvm apply: %s\n", a.file ? "unexpected argument" :
			"must specify -f FILE");
		apply_usage(stderr);
		return CLIENT_EXIT_FAIL;
	}
	client_signals();
	ret = apply_load(&a, &err);
	ret = ret < 0 ? client_fail(ret, &err) : client_main(&env, apply_post, &a);
	json_object_put(a.obj);
	return ret;
}
