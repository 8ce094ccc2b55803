/* image_store_load (images/store.h): docker-save and OCI archives. Each
 * image is verified whole (config, every layer's tar and diff_id) before
 * its blobs move into the store and its names into index.json. */
#include "images/archive_priv.h"
#include "images/layer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

int ar_commit_image(struct ar *a, const struct loaded *l, FILE *fp, struct pv_err *err)
{
	char cfg_dg[IMAGE_DIGEST_MAX], man_dg[IMAGE_DIGEST_MAX], norm[IMAGE_REF_MAX];
	int ret = 0;

	for (size_t i = 0; i < l->n_layers && ret == 0; i++)
		ret = ar_commit(a, l->layers[i], err);
	if (ret == 0)
		ret = image_blob_write(a->s, l->cfg, l->cfg_len, cfg_dg, err);
	if (ret == 0)
		ret = image_blob_write(a->s, l->man, l->man_len, man_dg, err);
	for (size_t i = 0; i < l->n_names && ret == 0; i++) {
		ret = image_ref_normalize(l->names[i], norm, sizeof(norm), err);
		if (ret == 0)
			ret = image_index_put(a->s, norm, man_dg, l->man_len, MT_OCI_MANIFEST,
					      NULL, err);
		if (ret == 0 && fp)
			fprintf(fp, "Loaded image: %s\n", norm);
	}
	return ret;
}

int ar_check_config(const char *cfg, size_t len, size_t n_layers,
			struct image_config_meta *meta, struct pv_err *err)
{
	int ret = image_config_meta_parse(cfg, len, meta, err);

	if (ret < 0)
		return ret;
	if ((meta->os[0] && strcmp(meta->os, "linux")) ||
	    (meta->arch[0] && strcmp(meta->arch, "amd64")))
		return pv_err_set(err, ENOEXEC, "image is %s/%s, not linux/amd64", meta->os,
				  meta->arch);
	if (meta->n_diff_ids != n_layers)
		return pv_err_set(err, EBADMSG, "config: rootfs.diff_ids has %zu entries for %zu layers",
				  meta->n_diff_ids, n_layers);
	return 0;
}

/* An OCI manifest for a docker-save image (its layers as they are). */
static char *docker_manifest(const char *cfg_digest, size_t cfg_len,
			     const struct image_desc *d, size_t n)
{
	struct json_object *m = json_object_new_object(), *c = json_object_new_object();
	struct json_object *ls = json_object_new_array();
	char *out = NULL;

	if (!m || !c || !ls)
		goto out;
	json_object_object_add(m, "schemaVersion", json_object_new_int(2));
	json_object_object_add(m, "mediaType", json_object_new_string(MT_OCI_MANIFEST));
	json_object_object_add(c, "mediaType", json_object_new_string(MT_OCI_CONFIG));
	json_object_object_add(c, "digest", json_object_new_string(cfg_digest));
	json_object_object_add(c, "size", json_object_new_int64((int64_t)cfg_len));
	json_object_object_add(m, "config", c);
	c = NULL;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		if (!e)
			goto out;
		json_object_object_add(e, "mediaType", json_object_new_string(d[i].media_type));
		json_object_object_add(e, "digest", json_object_new_string(d[i].digest));
		json_object_object_add(e, "size", json_object_new_int64((int64_t)d[i].size));
		json_object_array_add(ls, e);
	}
	json_object_object_add(m, "layers", ls);
	ls = NULL;
	out = strdup(image_json_str(m));
out:
	json_object_put(m);
	json_object_put(c);
	json_object_put(ls);
	return out;
}

/* --ref, else the entry's RepoTags. */
static void docker_names(struct json_object *e, const char *ref, struct loaded *l)
{
	struct json_object *tags;

	if (ref) {
		l->names[l->n_names++] = ref;
		return;
	}
	if (!json_object_object_get_ex(e, "RepoTags", &tags) ||
	    !json_object_is_type(tags, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(tags) && l->n_names < AR_MAX_NAMES; i++) {
		struct json_object *t = json_object_array_get_idx(tags, i);

		if (json_object_is_type(t, json_type_string))
			l->names[l->n_names++] = json_object_get_string(t);
	}
}

/* One manifest.json entry: {"Config": PATH, "RepoTags": [...], "Layers": [PATH...]} */
static int load_docker_one(struct ar *a, struct json_object *e, size_t idx, const char *ref,
			   FILE *fp, struct pv_err *err)
{
	struct json_object *v, *layers;
	struct image_config_meta meta = { 0 };
	struct image_desc *descs = NULL;
	struct ar_file *cf, **lf = NULL;
	struct loaded l = { 0 };
	char *cfg = NULL, *man = NULL, cfg_dg[IMAGE_DIGEST_MAX];
	size_t cfg_len = 0, n;
	int ret;

	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "Config", &v) || !json_object_is_type(v, json_type_string) ||
	    !json_object_object_get_ex(e, "Layers", &layers) ||
	    !json_object_is_type(layers, json_type_array))
		return pv_err_set(err, EBADMSG, "manifest.json[%zu]: needs Config and Layers", idx);
	cf = ar_find(a, json_object_get_string(v));
	if (!cf)
		return pv_err_set(err, EBADMSG, "manifest.json[%zu].Config: %.100s is not in the archive",
				  idx, json_object_get_string(v));
	n = json_object_array_length(layers);
	if (n > IMAGE_MAX_LAYERS)
		return pv_err_set(err, E2BIG, "manifest.json[%zu].Layers: too many", idx);
	ret = ar_read_json(a, cf, &cfg, &cfg_len, err);
	if (ret == 0)
		ret = ar_check_config(cfg, cfg_len, n, &meta, err);
	if (ret < 0)
		goto out;
	descs = calloc(n ? n : 1, sizeof(*descs));
	lf = calloc(n ? n : 1, sizeof(*lf));
	if (!descs || !lf) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(layers, i);

		lf[i] = json_object_is_type(p, json_type_string) ? ar_find(a, json_object_get_string(p))
								 : NULL;
		if (!lf[i]) {
			ret = pv_err_set(err, EBADMSG, "manifest.json[%zu].Layers[%zu]: not in the archive",
					 idx, i);
			goto out;
		}
		ret = ar_layer(a, lf[i], NULL, IMAGE_COMP_NONE, true, meta.diff_ids[i], i, &descs[i],
			       err);
		if (ret < 0)
			goto out;
	}
	ret = image_sha256_digest(cfg, cfg_len, cfg_dg, err);
	if (ret < 0)
		goto out;
	man = docker_manifest(cfg_dg, cfg_len, descs, n);
	if (!man) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	l = (struct loaded){ man, strlen(man), cfg, cfg_len, lf, n, { 0 }, 0 };
	docker_names(e, ref, &l);
	if (!l.n_names) {
		ret = pv_err_set(err, EINVAL, "manifest.json[%zu]: the archive names no image; give --ref REF",
				 idx);
		goto out;
	}
	ret = ar_commit_image(a, &l, fp, err);
out:
	image_config_meta_free(&meta);
	free(descs);
	free(lf);
	free(cfg);
	free(man);
	return ret;
}

static int load_docker(struct ar *a, struct ar_file *mf, const char *ref, FILE *fp,
		       struct pv_err *err)
{
	struct json_object *root = NULL;
	char *text = NULL;
	size_t len = 0, n;
	int ret;

	ret = ar_read_json(a, mf, &text, &len, err);
	if (ret < 0)
		return ret;
	root = json_tokener_parse(text);
	if (!root || !json_object_is_type(root, json_type_array) ||
	    (n = json_object_array_length(root)) == 0) {
		ret = pv_err_set(err, EBADMSG, "manifest.json: not a non-empty JSON array");
		goto out;
	}
	if (ref && n != 1) {
		ret = pv_err_set(err, EINVAL, "--ref names one image, the archive has %zu", n);
		goto out;
	}
	for (size_t i = 0; i < n && ret == 0; i++)
		ret = load_docker_one(a, json_object_array_get_idx(root, i), i, ref, fp, err);
out:
	json_object_put(root);
	free(text);
	return ret;
}

int image_store_load(struct image_store *s, const char *path, const char *ref, void *fp,
		     struct pv_err *err)
{
	struct ar a = { .s = s };
	struct ar_file *mf, *idx;
	int gc = -1, ret;

	a.buf = malloc(AR_BUF);
	if (!a.buf)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = image_gc_lock(s, true, &gc, err);
	if (ret < 0)
		goto out;
	ret = image_path(a.staging, sizeof(a.staging), err, "%s/tmp/%s-load.XXXXXX", s->root,
			 image_tmp_owner());
	if (ret == 0 && !mkdtemp(a.staging))
		ret = pv_err_sys(err, errno, "create %s", a.staging);
	if (ret < 0) {
		a.staging[0] = '\0';
		goto out;
	}
	ret = ar_read(&a, path, err);
	if (ret < 0)
		goto out;
	/* docker save (also docker 25's OCI-shaped one) names images with
	 * full references in manifest.json: prefer it. */
	mf = ar_find(&a, "manifest.json");
	idx = ar_find(&a, "index.json");
	if (mf)
		ret = load_docker(&a, mf, ref, fp, err);
	else if (idx && ar_find(&a, "oci-layout"))
		ret = archive_load_oci(&a, idx, ref, fp, err);
	else
		ret = pv_err_set(err, EBADMSG,
				 "not an image archive (no manifest.json, no oci-layout + index.json)");
out:
	if (a.staging[0])
		layer_remove_tree(a.staging, NULL);
	for (size_t i = 0; i < a.n; i++) {
		free(a.f[i].path);
		free(a.f[i].link);
	}
	free(a.f);
	free(a.buf);
	if (gc >= 0)
		close(gc);
	if (ret < 0)
		pv_err_prefix(err, "load %s", path);
	return ret;
}
