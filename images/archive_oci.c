/* OCI archives (oci-archive): loading an image layout's images, and
 * export of one image as an OCI archive. */
#include "images/archive_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>

#include "util/util.h"

#define ANN_CONTAINERD_NAME "io.containerd.image.name"

/* A blob of the layout, checked against its descriptor. */
static struct ar_file *oci_blob(struct ar *a, const struct image_desc *d, const char *what,
				struct pv_err *err)
{
	char path[96];
	struct ar_file *f;

	snprintf(path, sizeof(path), "blobs/sha256/%s", d->digest + 7);
	f = ar_find(a, path);
	if (!f)
		pv_err_set(err, EBADMSG, "%s %.19s: not in the archive", what, d->digest);
	else if (strcmp(f->digest, d->digest))
		pv_err_set(err, EBADMSG, "%s %.19s: digest mismatch: content hashes to %s", what,
			   d->digest, f->digest);
	else if (f->size != d->size)
		pv_err_set(err, EBADMSG, "%s %.19s: %llu bytes, its descriptor says %llu", what,
			   d->digest, (unsigned long long)f->size, (unsigned long long)d->size);
	else
		return f;
	return NULL;
}

static int oci_read(struct ar *a, const struct image_desc *d, const char *what,
		    struct image_manifest *m, char **text, size_t *len, struct pv_err *err)
{
	struct ar_file *f = oci_blob(a, d, what, err);
	int ret;

	if (!f)
		return -EBADMSG;
	ret = ar_read_json(a, f, text, len, err);
	if (ret == 0 && m)
		ret = image_manifest_decode(*text, *len, d->media_type, m, err);
	return ret;
}

/* Names of index.json's entry i: containerd's full name, else the OCI
 * ref.name when it is a full reference (not just a tag). */
static void oci_names(struct json_object *index, size_t i, const char *ref, struct loaded *l)
{
	struct json_object *ms, *d, *ann, *v;
	const char *n;

	if (ref) {
		l->names[l->n_names++] = ref;
		return;
	}
	if (!json_object_object_get_ex(index, "manifests", &ms) ||
	    !(d = json_object_array_get_idx(ms, i)) ||
	    !json_object_object_get_ex(d, "annotations", &ann) ||
	    !json_object_is_type(ann, json_type_object))
		return;
	if (json_object_object_get_ex(ann, ANN_CONTAINERD_NAME, &v) &&
	    json_object_is_type(v, json_type_string)) {
		l->names[l->n_names++] = json_object_get_string(v);
		return;
	}
	if (json_object_object_get_ex(ann, IMAGE_ANN_REF, &v) &&
	    json_object_is_type(v, json_type_string) &&
	    strpbrk((n = json_object_get_string(v)), ":/@"))
		l->names[l->n_names++] = n;
}

static int oci_load_one(struct ar *a, const struct image_desc *top, struct json_object *index,
			size_t i, const char *ref, FILE *fp, struct pv_err *err)
{
	struct image_manifest idx = { 0 }, m = { 0 };
	struct image_config_meta meta = { 0 };
	const struct image_desc *md = top;
	struct ar_file **lf = NULL, *cf;
	struct image_desc ld;
	struct loaded l = { 0 };
	char *text = NULL, *man = NULL, *cfg = NULL;
	size_t len = 0, man_len = 0, cfg_len = 0;
	int ret;

	if (top->media_type[0] && (!strcmp(top->media_type, MT_OCI_INDEX) ||
				   !strcmp(top->media_type, MT_DOCKER_LIST))) {
		ret = oci_read(a, top, "index", &idx, &text, &len, err);
		if (ret == 0)
			ret = image_index_select(&idx, "linux", "amd64", &md, err);
		if (ret < 0)
			goto out;
	}
	ret = oci_read(a, md, "manifest", &m, &man, &man_len, err);
	if (ret == 0 && m.kind != IMAGE_MK_MANIFEST)
		ret = pv_err_set(err, EBADMSG, "manifest %.19s: not an image manifest", md->digest);
	if (ret < 0)
		goto out;
	cf = oci_blob(a, &m.config, "config", err);
	ret = cf ? ar_read_json(a, cf, &cfg, &cfg_len, err) : -EBADMSG;
	if (ret == 0)
		ret = ar_check_config(cfg, cfg_len, m.n_layers, &meta, err);
	if (ret < 0)
		goto out;
	lf = calloc(m.n_layers ? m.n_layers : 1, sizeof(*lf));
	if (!lf) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < m.n_layers; k++) {
		lf[k] = oci_blob(a, &m.layers[k], "layer", err);
		if (!lf[k]) {
			ret = -EBADMSG;
			goto out;
		}
		ret = ar_layer(a, lf[k], m.layers[k].digest, m.layers[k].comp, false,
			       meta.diff_ids[k], k, &ld, err);
		if (ret < 0)
			goto out;
	}
	l = (struct loaded){ man, man_len, cfg, cfg_len, lf, m.n_layers, { 0 }, 0 };
	oci_names(index, i, ref, &l);
	if (!l.n_names) {
		ret = pv_err_set(err, EINVAL, "index.json: manifests[%zu] has no image name; give --ref REF",
				 i);
		goto out;
	}
	ret = ar_commit_image(a, &l, fp, err);
out:
	image_manifest_free(&idx);
	image_manifest_free(&m);
	image_config_meta_free(&meta);
	free(lf);
	free(text);
	free(man);
	free(cfg);
	return ret;
}

int archive_load_oci(struct ar *a, struct ar_file *index, const char *ref, FILE *fp,
		     struct pv_err *err)
{
	struct image_manifest idx = { 0 };
	struct json_object *raw = NULL;
	char *text = NULL;
	size_t len = 0, loaded = 0;
	int ret;

	ret = ar_read_json(a, index, &text, &len, err);
	if (ret == 0)
		ret = image_manifest_decode(text, len, MT_OCI_INDEX, &idx, err);
	if (ret < 0) {
		pv_err_prefix(err, "index.json");
		goto out;
	}
	raw = json_tokener_parse(text);
	if (ref && idx.n_manifests != 1) {
		ret = pv_err_set(err, EINVAL, "--ref names one image, the archive has %zu",
				 idx.n_manifests);
		goto out;
	}
	for (size_t i = 0; i < idx.n_manifests && ret == 0; i++) {
		const struct image_desc *d = &idx.manifests[i];

		/* A layout may hold other platforms' manifests: skip them. */
		if (d->arch[0] && (strcmp(d->os, "linux") || strcmp(d->arch, "amd64")))
			continue;
		ret = oci_load_one(a, d, raw, i, ref, fp, err);
		loaded += ret == 0;
	}
	if (ret == 0 && loaded == 0)
		ret = pv_err_set(err, ENOENT, "the archive has no linux/amd64 image");
out:
	json_object_put(raw);
	image_manifest_free(&idx);
	free(text);
	return ret;
}

/* --- export ------------------------------------------------------------------- */

static int ex_entry(struct archive *out, const char *name, mode_t type, int64_t size,
		    struct pv_err *err)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (!e)
		return pv_err_set(err, ENOMEM, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
	archive_entry_set_mtime(e, 0, 0);   /* reproducible */
	r = archive_write_header(out, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return pv_err_set(err, EIO, "write %s: %s", name, archive_error_string(out));
	return 0;
}

static int ex_data(struct archive *out, const char *name, const void *data, size_t len,
		   struct pv_err *err)
{
	int ret = ex_entry(out, name, AE_IFREG, (int64_t)len, err);

	if (ret == 0 && len && archive_write_data(out, data, len) != (la_ssize_t)len)
		ret = pv_err_set(err, EIO, "write %s: %s", name, archive_error_string(out));
	return ret;
}

static int ex_blob(struct archive *out, struct image_store *s, const char *digest, char *buf,
		   struct pv_err *err)
{
	char path[IMAGE_PATH_MAX], name[96];
	struct stat st;
	ssize_t n;
	int fd, ret;

	ret = image_blob_path(s, digest, path, sizeof(path), err);
	if (ret < 0)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = pv_err_sys(err, errno, "blob %s", digest);
		goto out;
	}
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	ret = ex_entry(out, name, AE_IFREG, st.st_size, err);
	while (ret == 0 && (n = read(fd, buf, AR_BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ret = pv_err_sys(err, errno, "read %s", path);
		else if (archive_write_data(out, buf, (size_t)n) != n)
			ret = pv_err_set(err, EIO, "write %s: %s", name, archive_error_string(out));
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static char *ex_index(const struct image *img, const char *mt, size_t man_len)
{
	char *out = NULL, *text;

	if (asprintf(&text, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{"
		     "\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu,\"annotations\":{"
		     "\"" ANN_CONTAINERD_NAME "\":\"%s\",\"" IMAGE_ANN_REF "\":\"%s\"}}]}",
		     MT_OCI_INDEX, mt, img->manifest_digest, man_len, img->ref, img->ref) < 0)
		return NULL;
	out = text;   /* refs are validated names: nothing to escape */
	return out;
}

int image_store_export(struct image_store *s, const char *ref, const char *path,
		       struct pv_err *err)
{
	struct image *img = NULL;
	struct image_manifest m = { 0 };
	struct archive *out = NULL;
	char tmp[IMAGE_PATH_MAX], *man = NULL, *index = NULL, *buf = NULL;
	size_t man_len = 0;
	int ret, have_tmp = 0;

	ret = image_store_resolve(s, ref, &img, err);
	if (ret == 0)
		ret = image_blob_read(s, img->manifest_digest, IMAGE_MANIFEST_MAX, &man, &man_len, err);
	if (ret == 0)
		ret = image_manifest_decode(man, man_len, NULL, &m, err);
	if (ret < 0)
		goto out;
	index = ex_index(img, m.media_type[0] ? m.media_type : MT_OCI_MANIFEST, man_len);
	buf = malloc(AR_BUF);
	out = archive_write_new();
	if (!index || !buf || !out ||
	    util_fmt(tmp, sizeof(tmp), "%s.tmp.%s", path, image_tmp_owner()) < 0) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	archive_write_set_format_pax_restricted(out);
	if (archive_write_open_filename(out, tmp) != ARCHIVE_OK) {
		ret = pv_err_set(err, EIO, "create %s: %s", tmp, archive_error_string(out));
		goto out;
	}
	have_tmp = 1;
	if ((ret = ex_data(out, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, err)) < 0 ||
	    (ret = ex_data(out, "index.json", index, strlen(index), err)) < 0 ||
	    (ret = ex_entry(out, "blobs", AE_IFDIR, 0, err)) < 0 ||
	    (ret = ex_entry(out, "blobs/sha256", AE_IFDIR, 0, err)) < 0 ||
	    (ret = ex_blob(out, s, img->manifest_digest, buf, err)) < 0 ||
	    (ret = ex_blob(out, s, m.config.digest, buf, err)) < 0)
		goto out;
	for (size_t i = 0; i < m.n_layers && ret == 0; i++) {
		bool dup = false;

		for (size_t k = 0; k < i; k++)
			dup = dup || !strcmp(m.layers[k].digest, m.layers[i].digest);
		if (!dup)
			ret = ex_blob(out, s, m.layers[i].digest, buf, err);
	}
	if (ret < 0)
		goto out;
	if (archive_write_close(out) != ARCHIVE_OK) {
		ret = pv_err_set(err, EIO, "finish %s: %s", tmp, archive_error_string(out));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		ret = pv_err_sys(err, errno, "rename to %s", path);
		goto out;
	}
	have_tmp = 0;
out:
	if (out)
		archive_write_free(out);
	if (have_tmp)
		unlink(tmp);
	image_manifest_free(&m);
	image_free(img);
	free(man);
	free(index);
	free(buf);
	if (ret < 0)
		pv_err_prefix(err, "export %s", ref);
	return ret;
}
