/* Local image store: real OCI image layouts under STATE_DIR/images, keyed by
 * digest, and a cache of read-only erofs conversions that VMs attach as
 * virtio-blk disks (one conversion per image, shared by every pod).
 *
 *   STATE_DIR/images/oci-layout
 *   STATE_DIR/images/index.json        manifests, ref in the annotation
 *                                      org.opencontainers.image.ref.name
 *   STATE_DIR/images/blobs/sha256/HEX  manifests, configs, gzip layers
 *   STATE_DIR/images/erofs/HEX.erofs   HEX = manifest digest
 *
 * Layers are hostile input: unpacking refuses absolute paths, "..", and
 * writes through symlinks; whiteouts are applied per the OCI spec. */
#ifndef PODVM_IMAGES_STORE_H
#define PODVM_IMAGES_STORE_H

#include <stddef.h>

#include "util/err.h"

#define IMAGE_REF_MAX     512
#define IMAGE_DIGEST_MAX  72   /* "sha256:" + 64 hex + NUL */

/* The parts of an OCI image config that a container start uses. */
struct image_config {
	char **entrypoint;  size_t n_entrypoint;
	char **cmd;         size_t n_cmd;
	char **env;         size_t n_env;      /* "KEY=value" */
	char *working_dir;  /* NULL when unset */
	char *user;         /* NULL when unset: "uid[:gid]" or a name */
	char *stop_signal;  /* NULL when unset: "SIGUSR1", "USR1" or "10" */
};

struct image {
	char ref[IMAGE_REF_MAX];                  /* normalized reference */
	char manifest_digest[IMAGE_DIGEST_MAX];   /* "sha256:..." */
	struct image_config config;
};

struct image_store;

/* Creates the layout when missing. */
int image_store_open(const char *state_dir, struct image_store **out,
		     struct pv_err *err);
void image_store_close(struct image_store *s);

/* Docker's normalisation: "busybox" -> "docker.io/library/busybox:latest",
 * "foo/bar:1" -> "docker.io/foo/bar:1", "reg:5000/x@sha256:..." kept. */
int image_ref_normalize(const char *ref, char *out, size_t outlen,
			struct pv_err *err);

/* Find an image by reference (normalized first). -ENOENT with a message
 * naming the image when it is not in the store. */
int image_store_resolve(struct image_store *s, const char *ref,
			struct image **out, struct pv_err *err);

/* Path of the erofs file for img, converting it first when not cached
 * (concurrent callers are serialised by a lock; the result is renamed into
 * place atomically). */
int image_store_erofs(struct image_store *s, const struct image *img,
		      char *path, size_t pathlen, struct pv_err *err);

/* Build a one-layer image from a directory tree and register it under ref
 * (replacing an older image with that ref). */
int image_store_import_dir(struct image_store *s, const char *rootfs_dir,
			   const char *ref, const struct image_config *cfg,
			   struct pv_err *err);

/* Print "REF DIGEST" lines for every image, to fp (a FILE *). */
int image_store_list(struct image_store *s, void *fp, struct pv_err *err);

void image_free(struct image *img);
void image_config_free(struct image_config *cfg);

#endif
