/* Layer tarballs, the building side: a gzip tar layer from a directory,
 * with its digest and diff_id. Unpacking is in images/layer.c. */
#include "images/layer.h"
#include "images/store_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

static void hex_digest(EVP_MD_CTX *ctx, char out[IMAGE_DIGEST_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_DigestFinal_ex(ctx, md, &n);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < n && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* Sink for the compressed stream: hash it and write it to fd. */
struct layer_sink {
	int fd;
	EVP_MD_CTX *md;
	uint64_t size;
};

static la_ssize_t sink_write(struct archive *a, void *data, const void *buf,
			     size_t len)
{
	struct layer_sink *s = data;
	const char *p = buf;
	size_t left = len;
	ssize_t n;

	while (left > 0) {
		n = write(s->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "write layer");
			return -1;
		}
		p += n;
		left -= (size_t)n;
	}
	if (EVP_DigestUpdate(s->md, buf, len) != 1) {
		archive_set_error(a, EIO, "sha256 update failed");
		return -1;
	}
	s->size += len;
	return (la_ssize_t)len;
}

/* Copy one regular file's data from disk into the tar. */
static int copy_file_data(struct archive *out, struct archive_entry *e,
			  char *buf, struct pv_err *err)
{
	const char *src = archive_entry_sourcepath(e);
	int64_t left = archive_entry_size(e);
	ssize_t n;
	int fd = -1, ret = 0;

	fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "open %s", src);
		goto out;
	}
	/* Exactly the size in the header; a file that changed meanwhile is
	 * cut or zero-padded by libarchive rather than corrupting the tar. */
	while (left > 0) {
		n = read(fd, buf, left < LAYER_BUF ? (size_t)left : LAYER_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = pv_err_sys(err, errno, "read %s", src);
			goto out;
		}
		if (n == 0)
			break;
		if (archive_write_data(out, buf, (size_t)n) < 0) {
			ret = pv_err_set(err, EIO, "write layer: %s",
					 archive_error_string(out));
			goto out;
		}
		left -= n;
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* sha256 of the decompressed stream of a layer file (its diff_id). */
static int layer_diff_id(const char *path, char out[IMAGE_DIGEST_MAX],
			 char *buf, struct pv_err *err)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	EVP_MD_CTX *md = NULL;
	la_ssize_t n;
	int ret;

	a = archive_read_new();
	md = EVP_MD_CTX_new();
	if (!a || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	ret = layer_support_filters(a, err);
	if (ret < 0)
		goto out;
	archive_read_support_format_raw(a);
	if (archive_read_open_filename(a, path, LAYER_BUF) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		ret = pv_err_set(err, EIO, "read %s: %s", path, archive_error_string(a));
		goto out;
	}
	while ((n = archive_read_data(a, buf, LAYER_BUF)) > 0)
		EVP_DigestUpdate(md, buf, (size_t)n);
	if (n < 0) {
		ret = pv_err_set(err, EIO, "read %s: %s", path, archive_error_string(a));
		goto out;
	}
	hex_digest(md, out);
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	if (a)
		archive_read_free(a);
	return ret;
}

/* Every entry below root (relative, numeric owners, hard links resolved)
 * into the layer. */
static int write_entries(struct archive *out, struct archive *disk,
			 struct archive_entry_linkresolver *links,
			 const char *root, char *buf, struct pv_err *err)
{
	struct archive_entry *e = NULL, *sparse = NULL;
	size_t rootlen = strlen(root);
	int ret = 0, r;

	for (;;) {
		const char *p;

		e = archive_entry_new();
		if (!e)
			return pv_err_set(err, ENOMEM, "out of memory");
		r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = pv_err_set(err, EIO, "read %s: %s", root,
					 archive_error_string(disk));
			break;
		}
		archive_read_disk_descend(disk);
		p = archive_entry_pathname(e);
		/* Entries are relative to the rootfs; the root itself is
		 * not an entry (as in Docker's layers); sockets can't be
		 * archived. */
		if (!p || strncmp(p, root, rootlen) != 0 || p[rootlen] != '/' ||
		    archive_entry_filetype(e) == AE_IFSOCK) {
			archive_entry_free(e);
			continue;
		}
		archive_entry_copy_pathname(e, p + rootlen + 1);
		/* Numeric owners only: host user names mean nothing in the
		 * image. */
		archive_entry_copy_uname(e, NULL);
		archive_entry_copy_gname(e, NULL);
		archive_entry_linkify(links, &e, &sparse);
		if (!e)
			continue;
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			ret = pv_err_set(err, EIO, "write layer entry %s: %s",
					 archive_entry_pathname(e),
					 archive_error_string(out));
			break;
		}
		if (archive_entry_filetype(e) == AE_IFREG &&
		    archive_entry_size(e) > 0) {
			ret = copy_file_data(out, e, buf, err);
			if (ret < 0)
				break;
		}
		archive_entry_free(e);
	}
	archive_entry_free(e);
	return ret;
}

int layer_write_dir(const char *dir, const char *out_path,
		    char digest[IMAGE_DIGEST_MAX], char diff_id[IMAGE_DIGEST_MAX],
		    uint64_t *size, struct pv_err *err)
{
	struct layer_sink sink = { .fd = -1 };
	struct archive *out = NULL, *disk = NULL;
	struct archive_entry_linkresolver *links = NULL;
	char root[PATH_MAX];
	char *buf = NULL;
	int ret;

	if (!realpath(dir, root))
		return pv_err_sys(err, errno, "rootfs %s", dir);
	buf = malloc(LAYER_BUF);
	sink.md = EVP_MD_CTX_new();
	out = archive_write_new();
	disk = archive_read_disk_new();
	links = archive_entry_linkresolver_new();
	if (!buf || !sink.md || !out || !disk || !links ||
	    EVP_DigestInit_ex(sink.md, EVP_sha256(), NULL) != 1) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	sink.fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (sink.fd < 0) {
		ret = pv_err_sys(err, errno, "create %s", out_path);
		goto out;
	}
	if (archive_write_add_filter_gzip(out) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(out) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(out, 1) != ARCHIVE_OK ||
	    archive_write_open2(out, &sink, NULL, sink_write, NULL, NULL) != ARCHIVE_OK) {
		ret = pv_err_set(err, EIO, "start layer: %s", archive_error_string(out));
		goto out;
	}
	archive_entry_linkresolver_set_strategy(links, archive_format(out));
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_ACL |
				       ARCHIVE_READDISK_NO_FFLAGS |
				       ARCHIVE_READDISK_NO_SPARSE);
	if (archive_read_disk_open(disk, root) != ARCHIVE_OK) {
		ret = pv_err_set(err, EIO, "read %s: %s", root,
				 archive_error_string(disk));
		goto out;
	}
	ret = write_entries(out, disk, links, root, buf, err);
	if (ret < 0)
		goto out;
	if (archive_write_close(out) != ARCHIVE_OK) {
		ret = pv_err_set(err, EIO, "finish layer: %s", archive_error_string(out));
		goto out;
	}
	if (fsync(sink.fd) < 0) {
		ret = pv_err_sys(err, errno, "fsync %s", out_path);
		goto out;
	}
	hex_digest(sink.md, digest);
	*size = sink.size;
	ret = layer_diff_id(out_path, diff_id, buf, err);
out:
	if (links)
		archive_entry_linkresolver_free(links);
	if (disk)
		archive_read_free(disk);
	if (out)
		archive_write_free(out);
	EVP_MD_CTX_free(sink.md);
	if (sink.fd >= 0)
		close(sink.fd);
	free(buf);
	return ret;
}
