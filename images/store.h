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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	char repo_digest[IMAGE_REF_MAX];          /* REGISTRY/REPO@sha256:..., "" if not pulled */
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

/* --- cache management (images/gc.c) --- */

struct image_info {
	char ref[IMAGE_REF_MAX];            /* "" when the entry has no name */
	char digest[IMAGE_DIGEST_MAX];      /* manifest */
	char repo_digest[IMAGE_REF_MAX];    /* "" unless pulled */
	uint64_t size;                      /* its blobs and erofs file */
	int64_t last_used_ms;               /* wall clock: last pod start, else pull */
	bool in_use;                        /* a running pod holds it */
};

int image_store_ls(struct image_store *s, struct image_info **out, size_t *n,
		   struct pv_err *err);

/* A running pod's hold on image digest (shared lock, fd kept until the pod
 * ends; close it to release). Marks the image used now. */
int image_store_hold(struct image_store *s, const char *digest, int *fd_out,
		     struct pv_err *err);

/* Remove ref (a name: only that name; a digest: the image under every
 * name), then every blob nothing else needs. -EBUSY when a pod uses it
 * (unless force). freed (may be NULL) += bytes. */
int image_store_rm(struct image_store *s, const char *ref, bool force,
		   uint64_t *freed, struct pv_err *err);

/* Remove every image no pod holds and keep does not list (manifest
 * digests). */
int image_store_prune(struct image_store *s, const char *const *keep, size_t n_keep,
		      size_t *removed, uint64_t *freed, struct pv_err *err);

/* Kubelet's image GC: when the image filesystem is at least high_pct
 * used, remove unused images, least recently used first, until it is at
 * most low_pct used (kubelet: 85 and 80). */
struct image_gc_policy {
	int high_pct, low_pct;
	const char *const *keep;            /* manifest digests pods need */
	size_t n_keep;
	/* Images imported or loaded here (no repo digest) cannot be pulled
	 * again: pinned, as containerd pins the sandbox image. */
	bool keep_local;
	/* NULL: statvfs of the store; tests pass their own. */
	int (*usage)(void *opaque, uint64_t *capacity, uint64_t *available);
	void *opaque;
};

struct image_gc_result {
	int used_pct_before, used_pct_after;
	size_t removed;
	uint64_t freed;
};

int image_store_gc(struct image_store *s, const struct image_gc_policy *p,
		   struct image_gc_result *res, struct pv_err *err);

/* --- archives (images/archive.c) --- */

/* Load a docker-save / podman-save archive or an OCI archive; every image
 * in it is registered under its names. ref (may be NULL) names an image
 * the archive does not name. Prints "Loaded image: REF" lines to fp. */
int image_store_load(struct image_store *s, const char *path, const char *ref,
		     void *fp, struct pv_err *err);

/* Write ref as an OCI archive (oci-archive) to path. */
int image_store_export(struct image_store *s, const char *ref, const char *path,
		       struct pv_err *err);

void image_free(struct image *img);
void image_config_free(struct image_config *cfg);

#endif
