/* Secrets for imagePullSecrets (daemon/secrets.h): the shared credential
 * gathering, and the file-backed source until the Secret API exists. */
#include "daemon/secrets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "util/util.h"

int secrets_pull_creds(const struct secret_source *src, const struct pod *pod,
		       struct registry_creds *out,
		       void (*warn)(void *opaque, const char *msg), void *opaque)
{
	char msg[PV_ERR_MSG_MAX + 2 * POD_NAME_MAX + 128], what[POD_NAME_MAX * 2 + 16];
	struct pv_err err;

	if (!src || !src->ops)
		return 0;
	for (size_t i = 0; i < pod->n_pull_secrets; i++) {
		const char *name = pod->pull_secrets[i];
		char *type = NULL, *value = NULL;
		size_t len = 0;
		int ret;

		pv_err_clear(&err);
		ret = src->ops->lookup(src->impl, pod->namespace, name, &type, &value, &len, &err);
		snprintf(what, sizeof(what), "secret %s/%s", pod->namespace, name);
		if (ret == -ENOENT)
			snprintf(msg, sizeof(msg), "%s not found: pulling without it", what);
		else if (ret < 0)
			snprintf(msg, sizeof(msg), "%s: %s", what, err.msg);
		else if (!type || strcmp(type, SECRET_TYPE_DOCKERCONFIGJSON) || !value)
			snprintf(msg, sizeof(msg), "%s is not of type " SECRET_TYPE_DOCKERCONFIGJSON
				 " with .dockerconfigjson: ignored", what);
		else if (registry_creds_add_json(out, value, len, what, &err) < 0)
			snprintf(msg, sizeof(msg), "%s", err.msg);
		else
			msg[0] = '\0';
		if (msg[0] && warn)
			warn(opaque, msg);
		if (value)
			explicit_bzero(value, len);
		free(value);
		free(type);
	}
	return 0;
}

struct secrets_dir {
	char *dir;
};

static int dir_lookup(void *impl, const char *ns, const char *name, char **type,
		      char **value, size_t *len, struct pv_err *err)
{
	struct secrets_dir *d = impl;
	struct json_object *root = NULL, *v, *data;
	char path[4096], *text = NULL, *buf = NULL;
	size_t tlen = 0;
	int ret;

	*type = *value = NULL;
	*len = 0;
	/* ns and name are validated DNS-1123 names: no '/' or ".." */
	if (util_fmt(path, sizeof(path), "%s/%s/%s.json", d->dir, ns, name) < 0)
		return pv_err_set(err, ENAMETOOLONG, "secret path too long");
	ret = util_read_file(path, 4 * SECRET_VALUE_MAX, &text, &tlen, err);
	if (ret < 0)
		return ret == -ENOENT ? -ENOENT : ret;
	root = json_tokener_parse(text);
	if (!root || !json_object_is_type(root, json_type_object)) {
		ret = pv_err_set(err, EINVAL, "not a Secret object");
		goto out;
	}
	if (json_object_object_get_ex(root, "type", &v) && json_object_is_type(v, json_type_string))
		*type = strdup(json_object_get_string(v));
	if (json_object_object_get_ex(root, "data", &data) &&
	    json_object_object_get_ex(data, ".dockerconfigjson", &v) &&
	    json_object_is_type(v, json_type_string)) {
		buf = malloc(SECRET_VALUE_MAX + 1);
		if (!buf || util_b64_decode(json_object_get_string(v), buf, SECRET_VALUE_MAX + 1,
					    len) < 0) {
			ret = pv_err_set(err, EINVAL, "data[.dockerconfigjson] is not base64");
			goto out;
		}
		*value = buf;
		buf = NULL;
	} else if (json_object_object_get_ex(root, "stringData", &data) &&
		   json_object_object_get_ex(data, ".dockerconfigjson", &v) &&
		   json_object_is_type(v, json_type_string)) {
		*value = strdup(json_object_get_string(v));
		*len = *value ? strlen(*value) : 0;
	}
	ret = 0;
out:
	if (ret < 0) {
		free(*type);
		*type = NULL;
	}
	free(buf);
	json_object_put(root);
	if (text)
		explicit_bzero(text, tlen);
	free(text);
	return ret;
}

static void dir_close(void *impl)
{
	struct secrets_dir *d = impl;

	if (d)
		free(d->dir);
	free(d);
}

static const struct secret_source_ops dir_ops = { dir_lookup, dir_close };

int secrets_dir_open(const char *dir, struct secret_source *out, struct pv_err *err)
{
	struct secrets_dir *d = calloc(1, sizeof(*d));

	if (!d || !(d->dir = strdup(dir))) {
		free(d);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	out->ops = &dir_ops;
	out->impl = d;
	return 0;
}

void secrets_close(struct secret_source *src)
{
	if (src && src->ops && src->ops->close)
		src->ops->close(src->impl);
	if (src) {
		src->ops = NULL;
		src->impl = NULL;
	}
}
