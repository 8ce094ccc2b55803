/* The image store: OCI image layout under STATE_DIR/images (see store.h),
 * index.json updates under a lock, resolve with digest checks, import of a
 * directory as a one-layer image, and the erofs cache. */
#include "images/layer.h"
#include "images/store_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <stdbool.h>

static int mkdir_one(const char *path, struct pv_err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return pv_err_sys(err, errno, "create %s", path);
	return 0;
}

static int mkdir_p(const char *path, struct pv_err *err)
{
	char buf[IMAGE_PATH_MAX];
	size_t i, n = strlen(path);
	int ret;

	if (n >= sizeof(buf))
		return pv_err_set(err, ENAMETOOLONG, "path too long: %.64s...", path);
	memcpy(buf, path, n + 1);
	for (i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		ret = mkdir_one(buf, err);
		buf[i] = '/';
		if (ret < 0)
			return ret;
	}
	return mkdir_one(buf, err);
}

static int ensure_file(const char *path, const char *content, struct pv_err *err)
{
	if (access(path, F_OK) == 0)
		return 0;
	return image_write_atomic(path, content, strlen(content), err);
}

int image_store_open(const char *state_dir, struct image_store **out,
		     struct pv_err *err)
{
	static const char *const subdirs[] = { "blobs/sha256", "erofs", "tmp", "locks",
					       "inuse" };
	struct image_store *s;
	char path[IMAGE_PATH_MAX];
	size_t i;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = image_path(s->root, sizeof(s->root), err, "%s/images", state_dir);
	if (ret < 0)
		goto out;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		ret = image_path(path, sizeof(path), err, "%s/%s", s->root, subdirs[i]);
		if (ret == 0)
			ret = mkdir_p(path, err);
		if (ret < 0)
			goto out;
	}
	ret = image_path(path, sizeof(path), err, "%s/oci-layout", s->root);
	if (ret == 0)
		ret = ensure_file(path, "{\"imageLayoutVersion\":\"1.0.0\"}", err);
	if (ret < 0)
		goto out;
	ret = image_path(path, sizeof(path), err, "%s/index.json", s->root);
	if (ret == 0)
		ret = ensure_file(path, "{\"schemaVersion\":2,\"mediaType\":\""
				  IMAGE_MT_INDEX "\",\"manifests\":[]}", err);
	if (ret < 0)
		goto out;
	image_store_sweep(s);
	*out = s;
	s = NULL;
out:
	free(s);
	if (ret < 0)
		pv_err_prefix(err, "image store %s", state_dir);
	return ret;
}

void image_store_close(struct image_store *s)
{
	free(s);
}

void image_free(struct image *img)
{
	if (!img)
		return;
	image_config_free(&img->config);
	free(img);
}

/* index.json as a json-c tree; *manifests borrows its array. */
int image_index_load(struct image_store *s, struct json_object **out,
		      struct json_object **manifests, struct pv_err *err)
{
	char path[IMAGE_PATH_MAX];
	struct json_object *root = NULL;
	char *text = NULL;
	size_t len;
	int ret;

	ret = image_path(path, sizeof(path), err, "%s/index.json", s->root);
	if (ret < 0)
		goto out;
	ret = image_read_file(path, IMAGE_JSON_MAX, &text, &len, err);
	if (ret < 0)
		goto out;
	root = json_tokener_parse(text);
	if (!root || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "manifests", manifests) ||
	    !json_object_is_type(*manifests, json_type_array)) {
		ret = pv_err_set(err, EBADMSG, "%s: not an OCI index (no manifests array)",
				 path);
		goto out;
	}
	*out = root;
	root = NULL;
out:
	json_object_put(root);
	free(text);
	return ret;
}

const char *image_desc_str(struct json_object *desc, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(desc, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

const char *image_desc_ref(struct json_object *desc)
{
	struct json_object *ann;

	if (!json_object_object_get_ex(desc, "annotations", &ann) ||
	    !json_object_is_type(ann, json_type_object))
		return NULL;
	return image_desc_str(ann, IMAGE_ANN_REF);
}

/* The manifest the index entry found names (its size checked), and the
 * config it points to, into img->config. */
static int resolve_config(struct image_store *s, struct json_object *found,
			  const char *digest, struct image *img,
			  struct pv_err *err)
{
	struct image_layer_desc *layers = NULL;
	char cfg_digest[IMAGE_DIGEST_MAX];
	char *manifest = NULL, *config = NULL;
	size_t mlen = 0, clen = 0, n_layers = 0;
	struct json_object *sz;
	int ret;

	ret = image_blob_read(s, digest, IMAGE_JSON_MAX, &manifest, &mlen, err);
	if (ret < 0)
		goto out;
	if (json_object_object_get_ex(found, "size", &sz) &&
	    json_object_get_int64(sz) != (int64_t)mlen) {
		ret = pv_err_set(err, EBADMSG,
				 "manifest %s: size %zu differs from the index's %lld",
				 digest, mlen, (long long)json_object_get_int64(sz));
		goto out;
	}
	ret = image_manifest_parse(manifest, mlen, cfg_digest, &layers, &n_layers,
				   err);
	if (ret < 0)
		goto out;
	ret = image_blob_read(s, cfg_digest, IMAGE_JSON_MAX, &config, &clen, err);
	if (ret < 0)
		goto out;
	ret = image_config_parse(config, clen, &img->config, err);
out:
	free(layers);
	free(manifest);
	free(config);
	return ret;
}

int image_store_resolve(struct image_store *s, const char *ref,
			struct image **out, struct pv_err *err)
{
	struct json_object *index = NULL, *manifests, *found = NULL;
	char norm[IMAGE_REF_MAX];
	const char *digest, *r, *name = ref;
	struct image *img = NULL;
	size_t i, n;
	int by_digest, ret;

	/* A bare "sha256:HEX" names a manifest directly. */
	by_digest = image_digest_valid(ref);
	if (!by_digest) {
		ret = image_ref_normalize(ref, norm, sizeof(norm), err);
		if (ret < 0)
			goto out;
		name = norm;
	}
	ret = image_index_load(s, &index, &manifests, err);
	if (ret < 0)
		goto out;
	n = json_object_array_length(manifests);
	/* Last match wins: an import appends. */
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(manifests, i);

		r = image_desc_ref(d);
		digest = image_desc_str(d, "digest");
		if (by_digest ? (digest && !strcmp(digest, ref)) : (r && !strcmp(r, norm)))
			found = d;
	}
	if (!found) {
		ret = pv_err_set(err, ENOENT,
				 "image %s not found in the store (podvm image pull, load or import)",
				 name);
		goto out;
	}
	digest = image_desc_str(found, "digest");
	r = image_desc_ref(found);
	img = calloc(1, sizeof(*img));
	if (!img) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (!image_digest_valid(digest)) {
		ret = pv_err_set(err, EBADMSG, "index.json: bad digest for %s", name);
		goto out;
	}
	snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", digest);
	{
		struct json_object *ann;
		const char *rd = NULL;

		if (json_object_object_get_ex(found, "annotations", &ann) &&
		    json_object_is_type(ann, json_type_object))
			rd = image_desc_str(ann, IMAGE_ANN_REPO_DIGEST);
		if (rd && strlen(rd) < sizeof(img->repo_digest))
			memcpy(img->repo_digest, rd, strlen(rd) + 1);
	}
	if (snprintf(img->ref, sizeof(img->ref), "%s",
		     by_digest && r ? r : name) >= (int)sizeof(img->ref)) {
		ret = pv_err_set(err, ENAMETOOLONG, "image reference too long");
		goto out;
	}
	ret = resolve_config(s, found, digest, img, err);
	if (ret < 0)
		goto out;
	*out = img;
	img = NULL;
out:
	if (ret < 0 && ret != -ENOENT)
		pv_err_prefix(err, "image %s", name);
	image_free(img);
	json_object_put(index);
	return ret;
}

int image_store_list(struct image_store *s, void *fp, struct pv_err *err)
{
	struct json_object *index = NULL, *manifests;
	size_t i, n;
	int ret;

	ret = image_index_load(s, &index, &manifests, err);
	if (ret < 0)
		return ret;
	n = json_object_array_length(manifests);
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(manifests, i);
		const char *r = image_desc_ref(d), *dg = image_desc_str(d, "digest");

		fprintf(fp, "%s %s\n", r ? r : "<none>", dg ? dg : "<none>");
	}
	if (fflush(fp) != 0)
		ret = pv_err_sys(err, errno, "write image list");
	json_object_put(index);
	return ret;
}

int image_store_erofs(struct image_store *s, const struct image *img,
		      char *path, size_t pathlen, struct pv_err *err)
{
	char lock[IMAGE_PATH_MAX];
	int fd = -1, ret;

	if (!image_digest_valid(img->manifest_digest))
		return pv_err_set(err, EINVAL, "image %s has no valid digest", img->ref);
	ret = image_path(path, pathlen, err, "%s/erofs/%s.erofs", s->root,
			 img->manifest_digest + 7);
	if (ret < 0)
		goto out;
	if (access(path, F_OK) == 0)
		goto out;
	ret = image_path(lock, sizeof(lock), err, "%s/erofs/%s.lock", s->root,
			 img->manifest_digest + 7);
	if (ret < 0)
		goto out;
	ret = image_lock(lock, &fd, err);
	if (ret < 0)
		goto out;
	/* Someone else may have converted it while we waited. */
	if (access(path, F_OK) == 0)
		goto out;
	ret = image_erofs_build(s, img->manifest_digest, path, err);
	if (ret < 0)
		pv_err_prefix(err, "convert %s to erofs", img->ref);
out:
	if (fd >= 0)
		close(fd);   /* releases the flock */
	return ret;
}

/* A descriptor {mediaType, digest, size}; added to parent under key, or
 * appended when parent is an array. */
static int add_desc(struct json_object *parent, const char *key,
		    const char *mt, const char *digest, uint64_t size,
		    struct json_object **desc_out, struct pv_err *err)
{
	struct json_object *d = json_object_new_object();

	if (!d || json_object_object_add(d, "mediaType", json_object_new_string(mt)) ||
	    json_object_object_add(d, "digest", json_object_new_string(digest)) ||
	    json_object_object_add(d, "size", json_object_new_int64((int64_t)size)))
		goto nomem;
	if (key ? json_object_object_add(parent, key, d) :
		  json_object_array_add(parent, d))
		goto nomem;
	if (desc_out)
		*desc_out = d;
	return 0;
nomem:
	json_object_put(d);
	return pv_err_set(err, ENOMEM, "out of memory");
}

/* Rewrite index.json under the index lock: keep(old) decides for every
 * entry; add (may be NULL) is appended. Written atomically and durably. */
static int index_rewrite(struct image_store *s,
			 bool (*keep)(struct json_object *d, const void *arg),
			 const void *arg, struct json_object *add, size_t *dropped,
			 struct pv_err *err)
{
	struct json_object *index = NULL, *manifests, *fresh = NULL;
	char path[IMAGE_PATH_MAX], lock[IMAGE_PATH_MAX];
	const char *text;
	size_t i, n;
	int fd = -1, ret;

	if (dropped)
		*dropped = 0;
	ret = image_path(lock, sizeof(lock), err, "%s/index.lock", s->root);
	if (ret == 0)
		ret = image_path(path, sizeof(path), err, "%s/index.json", s->root);
	if (ret == 0)
		ret = image_lock(lock, &fd, err);
	if (ret == 0)
		ret = image_index_load(s, &index, &manifests, err);
	if (ret < 0)
		goto out;
	fresh = json_object_new_array();
	if (!fresh) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	n = json_object_array_length(manifests);
	for (i = 0; i < n; i++) {
		struct json_object *old = json_object_array_get_idx(manifests, i);

		if (!keep(old, arg)) {
			if (dropped)
				(*dropped)++;
			continue;
		}
		if (json_object_array_add(fresh, json_object_get(old)) < 0) {
			json_object_put(old);
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	if (add && json_object_array_add(fresh, json_object_get(add)) < 0) {
		json_object_put(add);
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (json_object_object_add(index, "manifests", fresh) < 0) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	fresh = NULL;
	text = image_json_str(index);
	ret = image_write_atomic(path, text, strlen(text), err);
out:
	json_object_put(fresh);
	json_object_put(index);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* A one-layer image manifest (*out, the caller's even on error). */
static int import_manifest(const char *cfg_digest, size_t cfg_len,
			   const char *layer_digest, uint64_t layer_size,
			   struct json_object **out, struct pv_err *err)
{
	struct json_object *manifest, *layers;
	int ret;

	manifest = *out = json_object_new_object();
	layers = json_object_new_array();
	if (!manifest || !layers ||
	    json_object_object_add(manifest, "schemaVersion", json_object_new_int(2)) ||
	    json_object_object_add(manifest, "mediaType",
				   json_object_new_string(IMAGE_MT_MANIFEST))) {
		json_object_put(layers);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	ret = add_desc(manifest, "config", IMAGE_MT_CONFIG, cfg_digest, cfg_len,
		       NULL, err);
	if (ret < 0) {
		json_object_put(layers);
		return ret;
	}
	if (json_object_object_add(manifest, "layers", layers) < 0) {
		json_object_put(layers);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	return add_desc(layers, NULL, IMAGE_MT_LAYER, layer_digest, layer_size,
			NULL, err);
}

static bool keep_other_ref(struct json_object *d, const void *arg)
{
	const char *r = image_desc_ref(d);

	return !r || strcmp(r, arg);
}

int image_index_put(struct image_store *s, const char *ref, const char *digest,
		    uint64_t size, const char *media_type, const char *repo_digest,
		    struct pv_err *err)
{
	struct json_object *tmp = json_object_new_array(), *d = NULL, *ann;
	int ret;

	if (!tmp)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = add_desc(tmp, NULL, media_type ? media_type : IMAGE_MT_MANIFEST, digest,
		       size, &d, err);
	if (ret < 0)
		goto out;
	ann = json_object_new_object();
	if (!ann || json_object_object_add(d, "annotations", ann) < 0 ||
	    json_object_object_add(ann, IMAGE_ANN_REF, json_object_new_string(ref)) ||
	    (repo_digest && repo_digest[0] &&
	     json_object_object_add(ann, IMAGE_ANN_REPO_DIGEST,
				    json_object_new_string(repo_digest)))) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* One ref names one image: an older entry with it goes. */
	ret = index_rewrite(s, keep_other_ref, ref, d, NULL, err);
out:
	json_object_put(tmp);
	return ret;
}

struct drop_arg {
	const char *ref;           /* drop this ref, or */
	const char *digest;        /* every ref of this manifest */
};

static bool keep_not_matching(struct json_object *d, const void *arg)
{
	const struct drop_arg *a = arg;
	const char *r = image_desc_ref(d), *dg = image_desc_str(d, "digest");

	if (a->ref)
		return !r || strcmp(r, a->ref);
	return !dg || strcmp(dg, a->digest);
}

int image_index_drop(struct image_store *s, const char *ref, const char *digest,
		     size_t *dropped, struct pv_err *err)
{
	struct drop_arg a = { ref, digest };

	return index_rewrite(s, keep_not_matching, &a, NULL, dropped, err);
}

int image_store_import_dir(struct image_store *s, const char *rootfs_dir,
			   const char *ref, const struct image_config *cfg,
			   struct pv_err *err)
{
	char norm[IMAGE_REF_MAX], tmp[IMAGE_PATH_MAX], blob[IMAGE_PATH_MAX];
	char layer_digest[IMAGE_DIGEST_MAX], diff_id[IMAGE_DIGEST_MAX];
	char cfg_digest[IMAGE_DIGEST_MAX], man_digest[IMAGE_DIGEST_MAX];
	struct json_object *config = NULL, *manifest = NULL;
	const char *text;
	uint64_t layer_size = 0;
	size_t cfg_len;
	int have_tmp = 0, fd, ret;
	struct stat st;

	ret = image_ref_normalize(ref, norm, sizeof(norm), err);
	if (ret < 0)
		goto out;
	if (stat(rootfs_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		ret = pv_err_sys(err, errno ? errno : ENOTDIR, "rootfs %s", rootfs_dir);
		goto out;
	}
	ret = image_path(tmp, sizeof(tmp), err, "%s/tmp/%s-layer.XXXXXX", s->root,
			 image_tmp_owner());
	if (ret < 0)
		goto out;
	fd = mkstemp(tmp);   /* a unique name; layer_write_dir recreates it */
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "create %s", tmp);
		goto out;
	}
	close(fd);
	unlink(tmp);
	have_tmp = 1;
	ret = layer_write_dir(rootfs_dir, tmp, layer_digest, diff_id, &layer_size,
			      err);
	if (ret < 0)
		goto out;
	ret = image_blob_path(s, layer_digest, blob, sizeof(blob), err);
	if (ret < 0)
		goto out;
	if (rename(tmp, blob) < 0) {
		ret = pv_err_sys(err, errno, "rename %s to %s", tmp, blob);
		goto out;
	}
	have_tmp = 0;

	ret = image_config_to_json(cfg, diff_id, &config, err);
	if (ret < 0)
		goto out;
	text = image_json_str(config);
	cfg_len = strlen(text);
	ret = image_blob_write(s, text, cfg_len, cfg_digest, err);
	if (ret < 0)
		goto out;

	ret = import_manifest(cfg_digest, cfg_len, layer_digest, layer_size,
			      &manifest, err);
	if (ret < 0)
		goto out;
	text = image_json_str(manifest);
	ret = image_blob_write(s, text, strlen(text), man_digest, err);
	if (ret < 0)
		goto out;
	ret = image_index_put(s, norm, man_digest, strlen(text), IMAGE_MT_MANIFEST, NULL,
			      err);
out:
	if (have_tmp)
		unlink(tmp);
	json_object_put(config);
	json_object_put(manifest);
	if (ret < 0)
		pv_err_prefix(err, "import %s", ref);
	return ret;
}
