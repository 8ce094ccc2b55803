/* Streaming verification of blobs (images/blobsink.h). */
#include "images/blobsink.h"
#include "images/store_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#define SINK_OUT     (64 * 1024)
#define SINK_WRITEBACK (8u << 20)
#define SINK_UNPACKED_MAX (64ull << 30)   /* bound on a layer's tar stream */
/* zstd frames may ask for a window of up to 2 GiB; 32 MiB covers every
 * encoder default (and --long=25), and bounds memory per download. */
#define SINK_ZSTD_WINDOWLOG 25

struct blobsink {
	int fd;
	char what[128];
	char digest[IMAGE_DIGEST_MAX];
	char diff_want[IMAGE_DIGEST_MAX];
	char diff_got[IMAGE_DIGEST_MAX];
	uint64_t size, got, unpacked;
	uint64_t flushed;          /* bytes handed to writeback so far */
	bool layer;
	enum image_comp comp;
	EVP_MD_CTX *md, *diff;
	z_stream z;
	bool z_init, z_end;
	ZSTD_DStream *zs;
	size_t zs_last;            /* last ZSTD_decompressStream() hint: 0 = frame done */
	unsigned char hdr[512];    /* first tar block */
	size_t hdr_len;
	unsigned char *out;
	const volatile int *cancel;
	/* A decompression or tar error is reported after the digest check,
	 * so a corrupted blob is called what it is: a digest mismatch. */
	int unpack_ret;
	struct pv_err unpack_err;
};

static void hexdigest(EVP_MD_CTX *ctx, char out[IMAGE_DIGEST_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(ctx, md, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

static int sink_start(struct blobsink *b)
{
	b->unpack_ret = 0;
	b->got = b->unpacked = b->flushed = 0;
	b->hdr_len = 0;
	b->z_end = false;
	b->zs_last = 1;
	if (EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1)
		return -EIO;
	if (!b->layer)
		return 0;
	if (EVP_DigestInit_ex(b->diff, EVP_sha256(), NULL) != 1)
		return -EIO;
	if (b->comp == IMAGE_COMP_GZIP) {
		if (b->z_init)
			inflateEnd(&b->z);
		memset(&b->z, 0, sizeof(b->z));
		if (inflateInit2(&b->z, 16 + MAX_WBITS) != Z_OK)
			return -ENOMEM;
		b->z_init = true;
	} else if (b->comp == IMAGE_COMP_ZSTD) {
		if (ZSTD_isError(ZSTD_DCtx_reset(b->zs, ZSTD_reset_session_only)))
			return -EIO;
	}
	return 0;
}

int blobsink_new(int fd, const char *what, const char *digest, uint64_t expected_size,
		 bool layer, enum image_comp comp, const char *diff_id,
		 struct blobsink **out, struct pv_err *err)
{
	struct blobsink *b = calloc(1, sizeof(*b));
	int ret;

	if (!b)
		return pv_err_set(err, ENOMEM, "out of memory");
	b->fd = fd;
	snprintf(b->what, sizeof(b->what), "%s", what);
	snprintf(b->digest, sizeof(b->digest), "%s", digest);
	snprintf(b->diff_want, sizeof(b->diff_want), "%s", diff_id ? diff_id : "");
	b->size = expected_size;
	b->layer = layer;
	b->comp = comp;
	b->md = EVP_MD_CTX_new();
	if (layer) {
		b->diff = EVP_MD_CTX_new();
		b->out = malloc(SINK_OUT);
		if (comp == IMAGE_COMP_ZSTD) {
			b->zs = ZSTD_createDStream();
			if (b->zs)
				ZSTD_DCtx_setParameter(b->zs, ZSTD_d_windowLogMax,
						       SINK_ZSTD_WINDOWLOG);
		}
	}
	if (!b->md || (layer && (!b->diff || !b->out)) ||
	    (comp == IMAGE_COMP_ZSTD && layer && !b->zs)) {
		blobsink_free(b);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	ret = sink_start(b);
	if (ret < 0) {
		blobsink_free(b);
		return pv_err_set(err, -ret, "%s: cannot start verification", what);
	}
	*out = b;
	return 0;
}

void blobsink_free(struct blobsink *b)
{
	if (!b)
		return;
	EVP_MD_CTX_free(b->md);
	EVP_MD_CTX_free(b->diff);
	if (b->z_init)
		inflateEnd(&b->z);
	ZSTD_freeDStream(b->zs);
	free(b->out);
	free(b);
}

void blobsink_set_cancel(struct blobsink *b, const volatile int *flag)
{
	b->cancel = flag;
}

/* Valid ustar/gnu/v7 header block, or an all-zero end block. */
static bool tar_block_ok(const unsigned char *h)
{
	unsigned long sum = 0, want = 0;
	bool zero = true;
	int i;

	for (i = 0; i < 512; i++) {
		if (h[i])
			zero = false;
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	}
	if (zero)
		return true;
	for (i = 148; i < 156 && (h[i] == ' ' || h[i] == '\0'); i++)
		;
	for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(h[i] - '0');
	return want == sum;
}

static int unpacked(struct blobsink *b, const unsigned char *p, size_t n, struct pv_err *err)
{
	if (n == 0)
		return 0;
	b->unpacked += n;
	if (b->unpacked > SINK_UNPACKED_MAX)
		return pv_err_set(err, EFBIG, "%s: unpacks to more than %llu bytes", b->what,
				  (unsigned long long)SINK_UNPACKED_MAX);
	if (b->hdr_len < sizeof(b->hdr)) {
		size_t k = sizeof(b->hdr) - b->hdr_len;

		k = k < n ? k : n;
		memcpy(b->hdr + b->hdr_len, p, k);
		b->hdr_len += k;
		if (b->hdr_len == sizeof(b->hdr) && !tar_block_ok(b->hdr))
			return pv_err_set(err, EBADMSG, "%s: not a tar archive", b->what);
	}
	if (EVP_DigestUpdate(b->diff, p, n) != 1)
		return pv_err_set(err, EIO, "sha256 failed");
	return 0;
}

static int gunzip(struct blobsink *b, const void *buf, size_t len, struct pv_err *err)
{
	int zr, ret;

	b->z.next_in = (Bytef *)buf;
	b->z.avail_in = (uInt)len;
	while (b->z.avail_in > 0) {
		if (b->z_end) {
			/* Another gzip member follows (concatenated gzip is
			 * valid); anything else is corrupt. */
			if (inflateReset(&b->z) != Z_OK)
				return pv_err_set(err, EIO, "%s: gzip reset failed", b->what);
			b->z_end = false;
		}
		b->z.next_out = b->out;
		b->z.avail_out = SINK_OUT;
		zr = inflate(&b->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
			return pv_err_set(err, EBADMSG, "%s: corrupt gzip data (%s)", b->what,
					  b->z.msg ? b->z.msg : "inflate failed");
		ret = unpacked(b, b->out, SINK_OUT - b->z.avail_out, err);
		if (ret < 0)
			return ret;
		if (zr == Z_STREAM_END)
			b->z_end = true;
		else if (zr == Z_BUF_ERROR && b->z.avail_out == SINK_OUT)
			break;
	}
	return 0;
}

static int unzstd(struct blobsink *b, const void *buf, size_t len, struct pv_err *err)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	int ret;

	while (in.pos < in.size) {
		ZSTD_outBuffer o = { b->out, SINK_OUT, 0 };
		size_t r = ZSTD_decompressStream(b->zs, &o, &in);

		if (ZSTD_isError(r))
			return pv_err_set(err, EBADMSG, "%s: corrupt zstd data (%s)", b->what,
					  ZSTD_getErrorName(r));
		b->zs_last = r;
		ret = unpacked(b, b->out, o.pos, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int blobsink_data(struct blobsink *b, const void *buf, size_t len, struct pv_err *err)
{
	const char *p = buf;
	size_t left = len;
	ssize_t n;

	if (b->cancel && *b->cancel)
		return pv_err_set(err, ECANCELED, "%s: cancelled", b->what);
	if (len > b->size - b->got)
		return pv_err_set(err, EBADMSG, "%s: larger than the %llu bytes its descriptor says",
				  b->what, (unsigned long long)b->size);
	b->got += len;
	if (EVP_DigestUpdate(b->md, buf, len) != 1)
		return pv_err_set(err, EIO, "sha256 failed");
	while (b->fd >= 0 && left > 0) {
		n = write(b->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pv_err_sys(err, errno, "%s: write", b->what);
		p += n;
		left -= (size_t)n;
	}
	/* Start writeback as the data arrives, so the final fsync finds
	 * little left to write (and the page cache does not balloon). */
	if (b->fd >= 0 && b->got - b->flushed >= SINK_WRITEBACK) {
		sync_file_range(b->fd, (off64_t)b->flushed, (off64_t)(b->got - b->flushed),
				SYNC_FILE_RANGE_WRITE);
		b->flushed = b->got;
	}
	if (!b->layer || b->unpack_ret < 0)
		return 0;
	switch (b->comp) {
	case IMAGE_COMP_GZIP:
		b->unpack_ret = gunzip(b, buf, len, &b->unpack_err);
		break;
	case IMAGE_COMP_ZSTD:
		b->unpack_ret = unzstd(b, buf, len, &b->unpack_err);
		break;
	default:
		b->unpack_ret = unpacked(b, buf, len, &b->unpack_err);
		break;
	}
	return 0;
}

int blobsink_reset(struct blobsink *b)
{
	if (b->fd >= 0 && (ftruncate(b->fd, 0) < 0 || lseek(b->fd, 0, SEEK_SET) < 0))
		return -errno;
	return sink_start(b);
}

int blobsink_finish(struct blobsink *b, struct pv_err *err)
{
	char got[IMAGE_DIGEST_MAX];

	if (b->got != b->size)
		return pv_err_set(err, EBADMSG, "%s: truncated: got %llu of %llu bytes", b->what,
				  (unsigned long long)b->got, (unsigned long long)b->size);
	hexdigest(b->md, got);
	if (strcmp(got, b->digest))
		return pv_err_set(err, EBADMSG, "%s: digest mismatch: content hashes to %s",
				  b->what, got);
	if (!b->layer)
		return 0;
	if (b->unpack_ret < 0)
		return pv_err_set(err, b->unpack_err.errnum, "%s", b->unpack_err.msg);
	if ((b->comp == IMAGE_COMP_GZIP && !b->z_end) ||
	    (b->comp == IMAGE_COMP_ZSTD && b->zs_last != 0))
		return pv_err_set(err, EBADMSG, "%s: compressed stream is truncated", b->what);
	if (b->hdr_len < sizeof(b->hdr))
		return pv_err_set(err, EBADMSG, "%s: not a tar archive (%llu bytes)", b->what,
				  (unsigned long long)b->unpacked);
	hexdigest(b->diff, b->diff_got);
	if (b->diff_want[0] && strcmp(b->diff_got, b->diff_want))
		return pv_err_set(err, EBADMSG,
				  "%s: uncompressed content hashes to %s, the config's diff_id is %s",
				  b->what, b->diff_got, b->diff_want);
	return 0;
}

uint64_t blobsink_bytes(const struct blobsink *b)
{
	return b->got;
}

const char *blobsink_diff_id(const struct blobsink *b)
{
	return b->diff_got;
}
