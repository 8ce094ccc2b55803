/* Layer tarballs (private to images/, exposed for tests): building a gzip
 * tar layer from a directory, and unpacking hostile layers safely. */
#ifndef PODVM_IMAGES_LAYER_H
#define PODVM_IMAGES_LAYER_H

#include <stdint.h>

#include "images/store.h"

/* Bounds for one unpack target (all layers of an image together). */
struct layer_limits {
	uint64_t max_bytes;     /* sum of regular file sizes */
	uint64_t max_entries;   /* archive entries */
};

/* I/O buffer for reading and writing layers. */
#define LAYER_BUF (128 * 1024)

#define LAYER_MAX_BYTES   (4ull << 30)
#define LAYER_MAX_ENTRIES 1000000ull

/* Running totals across layers, checked against the limits. */
struct layer_usage {
	uint64_t bytes;
	uint64_t entries;
	uint64_t skipped_devices;   /* char/block nodes left out */
};

/* Write DIR's tree as a gzip'd tar to out_path (created, mode 0644).
 * digest: sha256 of the compressed file, diff_id: of the uncompressed tar,
 * size: compressed bytes. Owners are kept as numbers, names dropped. */
int layer_write_dir(const char *dir, const char *out_path,
		    char digest[IMAGE_DIGEST_MAX], char diff_id[IMAGE_DIGEST_MAX],
		    uint64_t *size, struct pv_err *err);

/* Apply one layer (any compression libarchive reads) onto dest, which must
 * exist: OCI whiteouts (.wh.NAME, .wh..wh..opq) remove what lower layers
 * put there, then entries are extracted keeping uid/gid/mode/mtime.
 * Refuses absolute paths, ".." and writes through symlinks; skips device
 * nodes. */
int layer_unpack(const char *layer_path, const char *dest,
		 const struct layer_limits *lim, struct layer_usage *usage,
		 struct pv_err *err);

struct archive;
/* Enable gzip, zstd and none only, built-in (no external programs). */
int layer_support_filters(struct archive *a, struct pv_err *err);

/* Remove a tree without following symlinks (rm -rf of dirfd/name). */
int layer_remove_tree(const char *path, struct pv_err *err);

#endif
