/* Manifest and index decoding (images/manifest.h). Everything here comes
 * from a registry or an archive: sizes, counts and string lengths are
 * bounded, and each error names the field it is about. */
#include "images/manifest.h"
#include "images/store_priv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* Layer media types podvm unpacks, and their compression. Foreign and
 * non-distributable layers point outside the registry: refused. */
static const struct {
	const char *mt;
	enum image_comp comp;
} layer_types[] = {
	{ "application/vnd.oci.image.layer.v1.tar", IMAGE_COMP_NONE },
	{ "application/vnd.oci.image.layer.v1.tar+gzip", IMAGE_COMP_GZIP },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", IMAGE_COMP_ZSTD },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip", IMAGE_COMP_GZIP },
	{ "application/vnd.docker.image.rootfs.diff.tar", IMAGE_COMP_NONE },
	{ "application/vnd.docker.image.rootfs.diff.tar.zstd", IMAGE_COMP_ZSTD },
};

static struct json_object *mf_parse(const char *text, size_t len, const char *what,
				    struct pv_err *err)
{
	struct json_tokener *tok;
	struct json_object *obj;

	if (len > IMAGE_MANIFEST_MAX) {
		pv_err_set(err, EFBIG, "%s is larger than %u bytes", what,
			   IMAGE_MANIFEST_MAX);
		return NULL;
	}
	tok = json_tokener_new_ex(64);   /* nesting depth: hostile input */
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

/* Optional string field copied into buf (bounded); absent: "". */
static int mf_str(struct json_object *o, const char *key, const char *path,
		  char *buf, size_t len, struct pv_err *err)
{
	struct json_object *v;
	const char *s;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return pv_err_set(err, EBADMSG, "%s.%s: not a string", path, key);
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= len)
		return pv_err_set(err, EBADMSG, "%s.%s: longer than %zu bytes", path,
				  key, len - 1);
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

static int mf_desc(struct json_object *d, const char *path, struct image_desc *out,
		   struct pv_err *err)
{
	struct json_object *v, *plat;
	int64_t size;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!json_object_is_type(d, json_type_object))
		return pv_err_set(err, EBADMSG, "%s: not an object", path);
	ret = mf_str(d, "mediaType", path, out->media_type, sizeof(out->media_type), err);
	if (ret < 0)
		return ret;
	ret = mf_str(d, "digest", path, out->digest, sizeof(out->digest), err);
	if (ret < 0)
		return pv_err_set(err, EBADMSG, "%s.digest: not sha256:<64 hex>", path);
	if (!out->digest[0])
		return pv_err_set(err, EBADMSG, "%s.digest: missing", path);
	if (!image_digest_valid(out->digest))
		return pv_err_set(err, EBADMSG, "%s.digest: '%.80s' is not sha256:<64 hex>",
				  path, out->digest);
	if (!json_object_object_get_ex(d, "size", &v) ||
	    !json_object_is_type(v, json_type_int))
		return pv_err_set(err, EBADMSG, "%s.size: missing or not an integer", path);
	size = json_object_get_int64(v);
	if (size < 0)
		return pv_err_set(err, EBADMSG, "%s.size: negative", path);
	out->size = (uint64_t)size;
	if (json_object_object_get_ex(d, "platform", &plat) && plat) {
		char ppath[128];

		snprintf(ppath, sizeof(ppath), "%s.platform", path);
		if (!json_object_is_type(plat, json_type_object))
			return pv_err_set(err, EBADMSG, "%s: not an object", ppath);
		if ((ret = mf_str(plat, "os", ppath, out->os, sizeof(out->os), err)) < 0 ||
		    (ret = mf_str(plat, "architecture", ppath, out->arch,
				  sizeof(out->arch), err)) < 0 ||
		    (ret = mf_str(plat, "variant", ppath, out->variant,
				  sizeof(out->variant), err)) < 0)
			return ret;
	}
	return 0;
}

static int mf_layer(struct json_object *d, size_t i, struct image_desc *out,
		    struct pv_err *err)
{
	char path[64];
	size_t k;
	int ret;

	snprintf(path, sizeof(path), "manifest: layers[%zu]", i);
	ret = mf_desc(d, path, out, err);
	if (ret < 0)
		return ret;
	for (k = 0; k < sizeof(layer_types) / sizeof(layer_types[0]); k++) {
		if (!strcmp(out->media_type, layer_types[k].mt)) {
			out->comp = layer_types[k].comp;
			return 0;
		}
	}
	if (strstr(out->media_type, "foreign") || strstr(out->media_type, "nondistributable"))
		return pv_err_set(err, ENOTSUP,
				  "%s.mediaType: foreign layer %s (fetched from outside the registry) is not supported",
				  path, out->media_type);
	return pv_err_set(err, ENOTSUP, "%s.mediaType: unsupported layer type '%s'",
			  path, out->media_type[0] ? out->media_type : "(none)");
}

static int mf_array(struct json_object *root, const char *key, size_t max,
		    struct json_object **arr, size_t *n, struct pv_err *err)
{
	if (!json_object_object_get_ex(root, key, arr) ||
	    !json_object_is_type(*arr, json_type_array))
		return pv_err_set(err, EBADMSG, "manifest: %s: missing or not an array", key);
	*n = json_object_array_length(*arr);
	if (*n > max)
		return pv_err_set(err, E2BIG, "manifest: %s: more than %zu entries", key, max);
	return 0;
}

static int mf_decode_manifest(struct json_object *root, struct image_manifest *m,
			      struct pv_err *err)
{
	struct json_object *v, *arr;
	size_t n, i;
	int ret;

	if (!json_object_object_get_ex(root, "config", &v))
		return pv_err_set(err, EBADMSG, "manifest: config: missing");
	ret = mf_desc(v, "manifest: config", &m->config, err);
	if (ret < 0)
		return ret;
	ret = mf_array(root, "layers", IMAGE_MAX_LAYERS, &arr, &n, err);
	if (ret < 0)
		return ret;
	m->layers = calloc(n ? n : 1, sizeof(*m->layers));
	if (!m->layers)
		return pv_err_set(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		ret = mf_layer(json_object_array_get_idx(arr, i), i, &m->layers[i], err);
		if (ret < 0)
			return ret;
		m->n_layers++;
	}
	return 0;
}

static int mf_decode_index(struct json_object *root, struct image_manifest *m,
			   struct pv_err *err)
{
	struct json_object *arr;
	char path[64];
	size_t n, i;
	int ret;

	ret = mf_array(root, "manifests", IMAGE_MAX_MANIFESTS, &arr, &n, err);
	if (ret < 0)
		return ret;
	m->manifests = calloc(n ? n : 1, sizeof(*m->manifests));
	if (!m->manifests)
		return pv_err_set(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "manifest: manifests[%zu]", i);
		ret = mf_desc(json_object_array_get_idx(arr, i), path, &m->manifests[i], err);
		if (ret < 0)
			return ret;
		m->n_manifests++;
	}
	return 0;
}

static bool mt_is(const char *mt, const char *a, const char *b)
{
	return !strcmp(mt, a) || (b && !strcmp(mt, b));
}

/* The kind from the media type (body's, else the registry's), else from
 * the shape (OCI allows an index or manifest without mediaType). */
static int mf_kind(struct json_object *root, const char *mt, enum image_mkind *kind,
		   struct pv_err *err)
{
	struct json_object *v;

	if (mt_is(mt, MT_DOCKER_V1, MT_DOCKER_V1_JWS))
		goto schema1;
	if (!json_object_object_get_ex(root, "schemaVersion", &v) ||
	    !json_object_is_type(v, json_type_int))
		return pv_err_set(err, EBADMSG, "manifest: schemaVersion: missing");
	if (json_object_get_int64(v) == 1)
		goto schema1;
	if (json_object_get_int64(v) != 2)
		return pv_err_set(err, EBADMSG, "manifest: schemaVersion: %lld is not 2",
				  (long long)json_object_get_int64(v));
	if (mt_is(mt, MT_OCI_INDEX, MT_DOCKER_LIST)) {
		*kind = IMAGE_MK_INDEX;
	} else if (mt_is(mt, MT_OCI_MANIFEST, MT_DOCKER_V2)) {
		*kind = IMAGE_MK_MANIFEST;
	} else if (!mt[0]) {
		if (json_object_object_get_ex(root, "manifests", &v))
			*kind = IMAGE_MK_INDEX;
		else if (json_object_object_get_ex(root, "layers", &v))
			*kind = IMAGE_MK_MANIFEST;
		else
			return pv_err_set(err, EBADMSG,
					  "manifest: neither an index (manifests) nor a manifest (layers)");
	} else {
		return pv_err_set(err, ENOTSUP, "manifest: mediaType: unsupported '%.100s'", mt);
	}
	return 0;
schema1:
	return pv_err_set(err, ENOTSUP,
			  "manifest: Docker schema 1 is not supported (deprecated; push the image again with a current client)");
}

int image_manifest_decode(const char *text, size_t len, const char *content_type,
			  struct image_manifest *out, struct pv_err *err)
{
	struct image_manifest m;
	struct json_object *root;
	char ct[IMAGE_MT_MAX] = "";
	int ret;

	memset(&m, 0, sizeof(m));
	memset(out, 0, sizeof(*out));
	/* "type/subtype; charset=..." -> "type/subtype" */
	if (content_type) {
		size_t n = strcspn(content_type, "; \t");

		if (n < sizeof(ct)) {
			memcpy(ct, content_type, n);
			ct[n] = '\0';
		}
	}
	if (mt_is(ct, MT_DOCKER_V1, MT_DOCKER_V1_JWS))
		return pv_err_set(err, ENOTSUP,
				  "manifest: Docker schema 1 is not supported (deprecated; push the image again with a current client)");
	root = mf_parse(text, len, "manifest", err);
	if (!root)
		return err ? -err->errnum : -EBADMSG;
	ret = mf_str(root, "mediaType", "manifest", m.media_type, sizeof(m.media_type), err);
	if (ret < 0)
		goto out;
	/* Generic types ("application/json", "text/plain") say nothing. */
	if (!m.media_type[0] && strstr(ct, "vnd."))
		memcpy(m.media_type, ct, strlen(ct) + 1);
	else if (m.media_type[0] && strstr(ct, "vnd.") && strcmp(ct, m.media_type) &&
		 strcmp(ct, MT_DOCKER_V1_JWS)) {
		ret = pv_err_set(err, EBADMSG,
				 "manifest: mediaType: '%.100s' differs from the served Content-Type '%s'",
				 m.media_type, ct);
		goto out;
	}
	ret = mf_kind(root, m.media_type, &m.kind, err);
	if (ret < 0)
		goto out;
	ret = m.kind == IMAGE_MK_INDEX ? mf_decode_index(root, &m, err)
				       : mf_decode_manifest(root, &m, err);
	if (ret < 0)
		goto out;
	*out = m;
	memset(&m, 0, sizeof(m));
out:
	image_manifest_free(&m);
	json_object_put(root);
	return ret;
}

void image_manifest_free(struct image_manifest *m)
{
	if (!m)
		return;
	free(m->layers);
	free(m->manifests);
	m->layers = NULL;
	m->manifests = NULL;
	m->n_layers = m->n_manifests = 0;
}

int image_index_select(const struct image_manifest *idx, const char *os,
		       const char *arch, const struct image_desc **out,
		       struct pv_err *err)
{
	char have[256] = "";
	size_t i, n = 0;

	for (i = 0; i < idx->n_manifests; i++) {
		const struct image_desc *d = &idx->manifests[i];

		/* Nested indexes and attestations ("unknown/unknown") are
		 * not images podvm can run. */
		if (!strcmp(d->os, os) && !strcmp(d->arch, arch) &&
		    !mt_is(d->media_type, MT_OCI_INDEX, MT_DOCKER_LIST)) {
			*out = d;
			return 0;
		}
		if (d->os[0] && strcmp(d->os, "unknown") && n < sizeof(have) - 1) {
			int k = snprintf(have + n, sizeof(have) - n, "%s%s/%s%s%s",
					 n ? ", " : "", d->os, d->arch,
					 d->variant[0] ? "/" : "", d->variant);

			if (k > 0)
				n += (size_t)k < sizeof(have) - n ? (size_t)k : sizeof(have) - n - 1;
		}
	}
	return pv_err_set(err, ENOENT, "no %s/%s image in the index (it has: %s)",
			  os, arch, have[0] ? have : "nothing");
}

void image_config_meta_free(struct image_config_meta *m)
{
	if (!m)
		return;
	free(m->diff_ids);
	m->diff_ids = NULL;
	m->n_diff_ids = 0;
}

int image_config_meta_parse(const char *text, size_t len,
			    struct image_config_meta *out, struct pv_err *err)
{
	struct json_object *root, *rootfs, *ids;
	struct image_config_meta m;
	size_t n, i;
	int ret;

	memset(&m, 0, sizeof(m));
	memset(out, 0, sizeof(*out));
	root = mf_parse(text, len, "image config", err);
	if (!root)
		return err ? -err->errnum : -EBADMSG;
	if ((ret = mf_str(root, "os", "config", m.os, sizeof(m.os), err)) < 0 ||
	    (ret = mf_str(root, "architecture", "config", m.arch, sizeof(m.arch), err)) < 0)
		goto out;
	if (!json_object_object_get_ex(root, "rootfs", &rootfs) ||
	    !json_object_is_type(rootfs, json_type_object) ||
	    !json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
	    !json_object_is_type(ids, json_type_array)) {
		ret = pv_err_set(err, EBADMSG, "config: rootfs.diff_ids: missing or not an array");
		goto out;
	}
	n = json_object_array_length(ids);
	if (n > IMAGE_MAX_LAYERS) {
		ret = pv_err_set(err, E2BIG, "config: rootfs.diff_ids: more than %d entries",
				 IMAGE_MAX_LAYERS);
		goto out;
	}
	m.diff_ids = calloc(n ? n : 1, sizeof(*m.diff_ids));
	if (!m.diff_ids) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(ids, i);
		const char *s = json_object_get_string(e);

		if (!json_object_is_type(e, json_type_string) || !image_digest_valid(s)) {
			ret = pv_err_set(err, EBADMSG,
					 "config: rootfs.diff_ids[%zu]: not sha256:<64 hex>", i);
			goto out;
		}
		memcpy(m.diff_ids[i], s, strlen(s) + 1);
	}
	m.n_diff_ids = n;
	*out = m;
	memset(&m, 0, sizeof(m));
	ret = 0;
out:
	image_config_meta_free(&m);
	json_object_put(root);
	return ret;
}
