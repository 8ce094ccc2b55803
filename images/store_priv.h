/* Private to images/: the store's layout, blob I/O and config codecs. */
#ifndef PODVM_IMAGES_STORE_PRIV_H
#define PODVM_IMAGES_STORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/store.h"

struct json_object;

#define IMAGE_JSON_MAX   (4u << 20)   /* index, manifests, configs */
#define IMAGE_PATH_MAX   4096

#define IMAGE_MT_INDEX    "application/vnd.oci.image.index.v1+json"
#define IMAGE_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define IMAGE_MT_CONFIG   "application/vnd.oci.image.config.v1+json"
#define IMAGE_MT_LAYER    "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMAGE_ANN_REF     "org.opencontainers.image.ref.name"
/* What the reference named at the registry (an index, or the manifest):
 * REGISTRY/REPO@sha256:..., Kubernetes' imageID. */
#define IMAGE_ANN_REPO_DIGEST "io.podvm.image.repo-digest"

struct image_store {
	char root[IMAGE_PATH_MAX];   /* STATE_DIR/images */
};

/* A layer as listed in a manifest. */
struct image_layer_desc {
	char digest[IMAGE_DIGEST_MAX];
	uint64_t size;
};

/* "sha256:<64 lowercase hex>"? */
int image_digest_valid(const char *digest);

/* snprintf into buf; -ENAMETOOLONG with a message on truncation. */
int image_path(char *buf, size_t len, struct pv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* STATE_DIR/images/blobs/sha256/HEX for digest (validated). */
int image_blob_path(const struct image_store *s, const char *digest,
		    char *buf, size_t len, struct pv_err *err);

/* Read a whole file of at most max bytes; NUL-terminated (not counted). */
int image_read_file(const char *path, size_t max, char **out, size_t *outlen,
		    struct pv_err *err);

/* Read a blob and check that its sha256 matches its digest. */
int image_blob_read(const struct image_store *s, const char *digest,
		    size_t max, char **out, size_t *outlen, struct pv_err *err);

/* Write data as a blob (temp file, fsync, rename); digest_out gets its
 * "sha256:..." name. */
int image_blob_write(const struct image_store *s, const void *data,
		     size_t len, char digest_out[IMAGE_DIGEST_MAX],
		     struct pv_err *err);

/* "p<PID>-<START>": names the process that made a temporary, so that a
 * later start can tell a crashed pull's leftovers from a running one's. */
const char *image_tmp_owner(void);
/* 1: the owner named in a temporary's name runs; 0: it is gone; -1: the
 * name has no owner tag. */
int image_tmp_owner_alive(const char *name);
/* fsync the directory holding path (a rename in it must be durable). */
int image_fsync_parent(const char *path, struct pv_err *err);

/* Write data to path atomically: path.tmp.OWNER.XXXXXX, fsync, rename,
 * fsync the directory. */
int image_write_atomic(const char *path, const void *data, size_t len,
		       struct pv_err *err);

/* sha256 of a buffer as "sha256:HEX". */
int image_sha256_digest(const void *data, size_t len,
			char out[IMAGE_DIGEST_MAX], struct pv_err *err);

/* Take an exclusive flock on path (created if missing); *fd_out >= 0. */
int image_lock(const char *path, int *fd_out, struct pv_err *err);

/* Serialise obj without escaping '/', plain. */
const char *image_json_str(struct json_object *obj);

/* OCI config JSON <-> struct image_config. */
int image_config_to_json(const struct image_config *cfg, const char *diff_id,
			 struct json_object **out, struct pv_err *err);
int image_config_parse(const char *text, size_t len,
		       struct image_config *cfg, struct pv_err *err);

/* Parse a manifest: config digest and the layers (caller frees *layers). */
int image_manifest_parse(const char *text, size_t len,
			 char config_digest[IMAGE_DIGEST_MAX],
			 struct image_layer_desc **layers, size_t *n_layers,
			 struct pv_err *err);

/* index.json (images/store.c). */
int image_index_load(struct image_store *s, struct json_object **out,
		     struct json_object **manifests, struct pv_err *err);
const char *image_desc_str(struct json_object *desc, const char *key);
const char *image_desc_ref(struct json_object *desc);
/* ref -> manifest digest (replacing ref's older entry). */
int image_index_put(struct image_store *s, const char *ref, const char *digest,
		    uint64_t size, const char *media_type, const char *repo_digest,
		    struct pv_err *err);
/* Drop ref's entry, or (ref NULL) every entry of manifest digest. */
int image_index_drop(struct image_store *s, const char *ref, const char *digest,
		     size_t *dropped, struct pv_err *err);

/* images/gc.lock: shared while adding, exclusive while deleting. */
int image_gc_lock(struct image_store *s, bool shared, int *fd_out, struct pv_err *err);

/* Remove what crashed pulls and conversions left (images/gc.c). */
void image_store_sweep(struct image_store *s);

/* Convert img's layers into an erofs file (images/erofs.c). */
int image_erofs_build(struct image_store *s, const char *manifest_digest,
		      const char *out_path, struct pv_err *err);

#endif
