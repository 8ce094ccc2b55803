/* A blob arriving from a registry or an archive, verified while it
 * streams (private to images/): the bytes go to a file and through sha256;
 * a layer also goes through its decompressor (gzip, zstd or none) into a
 * second sha256 (its diff_id) and a tar header check. Nothing is trusted
 * before blobsink_finish() says so. Memory stays flat whatever the size. */
#ifndef PODVM_IMAGES_BLOBSINK_H
#define PODVM_IMAGES_BLOBSINK_H

#include <stdbool.h>
#include <stdint.h>

#include "images/manifest.h"

struct blobsink;

/* fd: where the bytes go (owned by the caller, may be -1 to only
 * verify); expected_size: from the descriptor; layer: also verify
 * decompression and the tar format, diff_id then must match (or be NULL
 * when unknown). */
int blobsink_new(int fd, const char *what, const char *digest, uint64_t expected_size,
		 bool layer, enum image_comp comp, const char *diff_id,
		 struct blobsink **out, struct pv_err *err);
void blobsink_free(struct blobsink *b);

int blobsink_data(struct blobsink *b, const void *buf, size_t len, struct pv_err *err);
/* Start over (a retried transfer): truncates the file. */
int blobsink_reset(struct blobsink *b);
/* Every check: size, digest, complete compressed stream, diff_id, tar. */
int blobsink_finish(struct blobsink *b, struct pv_err *err);

uint64_t blobsink_bytes(const struct blobsink *b);
/* sha256 of what was decompressed (valid after finish; layers only). */
const char *blobsink_diff_id(const struct blobsink *b);

/* Set from another thread to abort at the next data() (-ECANCELED). */
void blobsink_set_cancel(struct blobsink *b, const volatile int *flag);

#endif
