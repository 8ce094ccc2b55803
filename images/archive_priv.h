/* Private to images/archive*.c: an archive's files staged under
 * images/tmp with their digests. */
#ifndef PODVM_IMAGES_ARCHIVE_PRIV_H
#define PODVM_IMAGES_ARCHIVE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "images/manifest.h"
#include "images/store_priv.h"

#define AR_MAX_ENTRIES 100000
#define AR_MAX_LINKS   8
#define AR_BUF         (128 * 1024)

struct ar_file {
	char *path;                 /* cleaned path inside the archive */
	char *link;                 /* symlink target (resolved later), or NULL */
	char digest[IMAGE_DIGEST_MAX];
	uint64_t size;
	size_t id;                  /* staged as STAGING/fID */
};

struct ar {
	struct image_store *s;
	char staging[IMAGE_PATH_MAX];
	struct ar_file *f;
	size_t n, cap;
	char *buf;
};

/* Stage every regular file and link of the tar (gzip/zstd/plain) file. */
int ar_read(struct ar *a, const char *file, struct pv_err *err);
/* A staged file by path (links followed), or NULL. */
struct ar_file *ar_find(struct ar *a, const char *path);
/* A staged JSON file (at most 4 MiB) into memory. */
int ar_read_json(struct ar *a, struct ar_file *f, char **text, size_t *len,
		 struct pv_err *err);
/* Verify a layer file (want_digest if not NULL; tar; diff_id); detect:
 * sniff the compression from the content. out gets its descriptor. */
int ar_layer(struct ar *a, struct ar_file *f, const char *want_digest,
	     enum image_comp comp, bool detect, const char *diff_id, size_t i,
	     struct image_desc *out, struct pv_err *err);

/* Move a verified staged file into blobs/ (durably). */
int ar_commit(struct ar *a, struct ar_file *f, struct pv_err *err);

#define AR_MAX_NAMES 64

/* One verified image, ready to commit. */
struct loaded {
	const char *man;  size_t man_len;     /* manifest bytes to store */
	const char *cfg;  size_t cfg_len;
	struct ar_file **layers;
	size_t n_layers;
	const char *names[AR_MAX_NAMES];
	size_t n_names;
};

/* Layers, config, manifest into blobs/, then each name into index.json;
 * "Loaded image: NAME" lines to fp. */
int ar_commit_image(struct ar *a, const struct loaded *l, FILE *fp, struct pv_err *err);
/* os/arch linux/amd64 and one diff_id per layer. */
int ar_check_config(const char *cfg, size_t len, size_t n_layers,
		    struct image_config_meta *meta, struct pv_err *err);
/* An OCI archive's images (images/archive_oci.c). */
int archive_load_oci(struct ar *a, struct ar_file *index, const char *ref, FILE *fp,
		     struct pv_err *err);

#endif
