/* OCI image config and manifest codecs (the parts podvm uses). */
#include "images/manifest.h"
#include "images/store_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#define CONFIG_ARRAY_MAX 65536   /* entries in Env/Cmd/Entrypoint */

static int add_str_array(struct json_object *obj, const char *key,
			 char *const *v, size_t n, struct pv_err *err)
{
	struct json_object *arr;
	size_t i;

	arr = json_object_new_array();
	if (!arr)
		return pv_err_set(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_new_string(v[i]);

		if (!s || json_object_array_add(arr, s) < 0) {
			json_object_put(s);
			json_object_put(arr);
			return pv_err_set(err, ENOMEM, "out of memory");
		}
	}
	if (json_object_object_add(obj, key, arr) < 0) {
		json_object_put(arr);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int add_str(struct json_object *obj, const char *key, const char *v,
		   struct pv_err *err)
{
	struct json_object *s = json_object_new_string(v);

	if (!s || json_object_object_add(obj, key, s) < 0) {
		json_object_put(s);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int add_obj(struct json_object *obj, const char *key,
		   struct json_object **child, struct pv_err *err)
{
	*child = json_object_new_object();
	if (!*child || json_object_object_add(obj, key, *child) < 0) {
		json_object_put(*child);
		*child = NULL;
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int image_config_to_json(const struct image_config *cfg, const char *diff_id,
			 struct json_object **out, struct pv_err *err)
{
	struct json_object *root, *c, *rootfs;
	char created[32];
	time_t now = time(NULL);
	struct tm tm;
	int ret;

	root = json_object_new_object();
	if (!root)
		return pv_err_set(err, ENOMEM, "out of memory");
	if (!gmtime_r(&now, &tm) ||
	    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		created[0] = '\0';
	if (created[0] && (ret = add_str(root, "created", created, err)) < 0)
		goto out;
	if ((ret = add_str(root, "architecture", "amd64", err)) < 0 ||
	    (ret = add_str(root, "os", "linux", err)) < 0 ||
	    (ret = add_obj(root, "config", &c, err)) < 0)
		goto out;
	if (cfg->user && (ret = add_str(c, "User", cfg->user, err)) < 0)
		goto out;
	if ((ret = add_str_array(c, "Env", cfg->env, cfg->n_env, err)) < 0)
		goto out;
	if (cfg->entrypoint &&
	    (ret = add_str_array(c, "Entrypoint", cfg->entrypoint,
				 cfg->n_entrypoint, err)) < 0)
		goto out;
	if (cfg->cmd &&
	    (ret = add_str_array(c, "Cmd", cfg->cmd, cfg->n_cmd, err)) < 0)
		goto out;
	if (cfg->working_dir &&
	    (ret = add_str(c, "WorkingDir", cfg->working_dir, err)) < 0)
		goto out;
	if (cfg->stop_signal &&
	    (ret = add_str(c, "StopSignal", cfg->stop_signal, err)) < 0)
		goto out;
	if ((ret = add_obj(root, "rootfs", &rootfs, err)) < 0 ||
	    (ret = add_str(rootfs, "type", "layers", err)) < 0 ||
	    (ret = add_str_array(rootfs, "diff_ids", (char *const *)&diff_id, 1,
				 err)) < 0)
		goto out;
	*out = root;
	root = NULL;
	ret = 0;
out:
	json_object_put(root);
	return ret;
}

static void free_strv(char **v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void image_config_free(struct image_config *cfg)
{
	if (!cfg)
		return;
	free_strv(cfg->entrypoint, cfg->n_entrypoint);
	free_strv(cfg->cmd, cfg->n_cmd);
	free_strv(cfg->env, cfg->n_env);
	free(cfg->working_dir);
	free(cfg->user);
	free(cfg->stop_signal);
	memset(cfg, 0, sizeof(*cfg));
}

/* A JSON array of strings (or null / absent: *out stays NULL). */
static int get_strv(struct json_object *obj, const char *key, char ***out,
		    size_t *n_out, struct pv_err *err)
{
	struct json_object *arr;
	char **v = NULL;
	size_t n, i;
	int ret;

	if (!json_object_object_get_ex(obj, key, &arr) || !arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array))
		return pv_err_set(err, EBADMSG, "image config: %s is not an array",
				  key);
	n = json_object_array_length(arr);
	if (n > CONFIG_ARRAY_MAX)
		return pv_err_set(err, EBADMSG, "image config: %s has too many entries",
				  key);
	/* One extra slot so an empty array still yields a non-NULL vector
	 * ("Cmd": [] differs from no Cmd). */
	v = calloc(n + 1, sizeof(*v));
	if (!v)
		return pv_err_set(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(e, json_type_string)) {
			ret = pv_err_set(err, EBADMSG,
					 "image config: %s[%zu] is not a string",
					 key, i);
			goto out;
		}
		v[i] = strdup(json_object_get_string(e));
		if (!v[i]) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	*out = v;
	*n_out = n;
	v = NULL;
	ret = 0;
out:
	free_strv(v, n);
	return ret;
}

static int get_str(struct json_object *obj, const char *key, char **out,
		   struct pv_err *err)
{
	struct json_object *s;

	if (!json_object_object_get_ex(obj, key, &s) || !s)
		return 0;
	if (!json_object_is_type(s, json_type_string))
		return pv_err_set(err, EBADMSG, "image config: %s is not a string",
				  key);
	/* "" means unset, as in Docker. */
	if (json_object_get_string_len(s) == 0)
		return 0;
	*out = strdup(json_object_get_string(s));
	return *out ? 0 : pv_err_set(err, ENOMEM, "out of memory");
}

static struct json_object *parse_json(const char *text, size_t len,
				      const char *what, struct pv_err *err)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (len > IMAGE_JSON_MAX) {
		pv_err_set(err, EFBIG, "%s is too large", what);
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		pv_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	obj = json_tokener_parse_ex(tok, text, (int)len);
	if (!obj || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(obj, json_type_object)) {
		pv_err_set(err, EBADMSG, "%s is not a JSON object%s%s", what,
			   obj ? "" : ": ",
			   obj ? "" : json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

int image_config_parse(const char *text, size_t len,
		       struct image_config *cfg, struct pv_err *err)
{
	struct json_object *root, *c;
	struct image_config tmp;
	int ret = 0;

	memset(&tmp, 0, sizeof(tmp));
	root = parse_json(text, len, "image config", err);
	if (!root)
		return err ? -err->errnum : -EBADMSG;
	/* "config" is optional in the spec: no defaults then. */
	if (json_object_object_get_ex(root, "config", &c) && c) {
		if (!json_object_is_type(c, json_type_object)) {
			ret = pv_err_set(err, EBADMSG,
					 "image config: config is not an object");
			goto out;
		}
		if ((ret = get_strv(c, "Entrypoint", &tmp.entrypoint,
				    &tmp.n_entrypoint, err)) < 0 ||
		    (ret = get_strv(c, "Cmd", &tmp.cmd, &tmp.n_cmd, err)) < 0 ||
		    (ret = get_strv(c, "Env", &tmp.env, &tmp.n_env, err)) < 0 ||
		    (ret = get_str(c, "WorkingDir", &tmp.working_dir, err)) < 0 ||
		    (ret = get_str(c, "User", &tmp.user, err)) < 0 ||
		    (ret = get_str(c, "StopSignal", &tmp.stop_signal, err)) < 0)
			goto out;
	}
	*cfg = tmp;
	memset(&tmp, 0, sizeof(tmp));
out:
	image_config_free(&tmp);
	json_object_put(root);
	return ret;
}

int image_manifest_parse(const char *text, size_t len,
			 char config_digest[IMAGE_DIGEST_MAX],
			 struct image_layer_desc **layers, size_t *n_layers,
			 struct pv_err *err)
{
	struct image_manifest m;
	struct image_layer_desc *l;
	int ret;

	ret = image_manifest_decode(text, len, NULL, &m, err);
	if (ret < 0)
		return ret;
	if (m.kind != IMAGE_MK_MANIFEST) {
		image_manifest_free(&m);
		return pv_err_set(err, EBADMSG, "manifest: an index where an image manifest belongs");
	}
	l = calloc(m.n_layers ? m.n_layers : 1, sizeof(*l));
	if (!l) {
		image_manifest_free(&m);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < m.n_layers; i++) {
		memcpy(l[i].digest, m.layers[i].digest, sizeof(l[i].digest));
		l[i].size = m.layers[i].size;
	}
	memcpy(config_digest, m.config.digest, IMAGE_DIGEST_MAX);
	*layers = l;
	*n_layers = m.n_layers;
	image_manifest_free(&m);
	return 0;
}
