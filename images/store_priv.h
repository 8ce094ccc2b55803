/* Private to images/: the store's layout, blob I/O and config codecs. */
#ifndef PODVM_IMAGES_STORE_PRIV_H
#define PODVM_IMAGES_STORE_PRIV_H

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

/* Write data to path atomically: path.tmp.XXXXXX, fsync, rename. */
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

/* Convert img's layers into an erofs file (images/erofs.c). */
int image_erofs_build(struct image_store *s, const char *manifest_digest,
		      const char *out_path, struct pv_err *err);

#endif
