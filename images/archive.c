/* Image archives: `image load` of docker-save / podman-save archives
 * (manifest.json + config + uncompressed layer tars) and OCI archives
 * (oci-layout, index.json, blobs/sha256/...), and `image export` as an OCI
 * archive. An archive is hostile input like a registry: its files are
 * staged under images/tmp with their sha256 computed on the way in, every
 * layer is verified (tar format, diff_id) before anything is committed,
 * and a corrupt archive leaves nothing behind. */
#include "images/archive_priv.h"
#include "images/blobsink.h"
#include "images/layer.h"
#include "images/manifest.h"
#include "images/store_priv.h"

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
#include <openssl/evp.h>

#include "util/util.h"


/* "./a//b/" -> "a/b"; absolute paths and ".." refused. */
static int ar_clean(const char *in, char *out, size_t len, struct pv_err *err)
{
	size_t n = 0;

	if (!in || in[0] == '/')
		return pv_err_set(err, EPERM, "archive entry '%.200s': absolute path", in ? in : "");
	while (*in) {
		size_t k = strcspn(in, "/");

		if (k == 2 && !strncmp(in, "..", 2))
			return pv_err_set(err, EPERM, "archive entry: '..' refused");
		if (k && !(k == 1 && in[0] == '.')) {
			if (n + k + 2 > len)
				return pv_err_set(err, ENAMETOOLONG, "archive entry: path too long");
			if (n)
				out[n++] = '/';
			memcpy(out + n, in, k);
			n += k;
		}
		in += k;
		if (*in == '/')
			in++;
	}
	out[n] = '\0';
	return 0;
}

struct ar_file *ar_find(struct ar *a, const char *path)
{
	for (int hop = 0; hop < AR_MAX_LINKS; hop++) {
		struct ar_file *f = NULL;

		for (size_t i = 0; i < a->n; i++)
			if (!strcmp(a->f[i].path, path))
				f = &a->f[i];
		if (!f || !f->link)
			return f;
		path = f->link;
	}
	return NULL;
}

static int ar_add(struct ar *a, const char *path, struct ar_file **out, struct pv_err *err)
{
	if (a->n >= AR_MAX_ENTRIES)
		return pv_err_set(err, E2BIG, "archive has more than %d files", AR_MAX_ENTRIES);
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		void *nv = realloc(a->f, nc * sizeof(*a->f));

		if (!nv)
			return pv_err_set(err, ENOMEM, "out of memory");
		a->f = nv;
		a->cap = nc;
	}
	memset(&a->f[a->n], 0, sizeof(a->f[a->n]));
	a->f[a->n].path = strdup(path);
	a->f[a->n].id = a->n;
	if (!a->f[a->n].path)
		return pv_err_set(err, ENOMEM, "out of memory");
	*out = &a->f[a->n++];
	return 0;
}

/* symlink target relative to the link's directory, cleaned */
static int ar_link(struct ar_file *f, const char *target, struct pv_err *err)
{
	char joined[IMAGE_PATH_MAX], clean[IMAGE_PATH_MAX];
	const char *slash = strrchr(f->path, '/');

	if (image_path(joined, sizeof(joined), err, "%.*s%s%s",
		       slash ? (int)(slash - f->path) : 0, f->path, slash ? "/" : "",
		       target) < 0)
		return -ENAMETOOLONG;
	/* "dir/../x" is how docker save links duplicate layers: fold it. */
	{
		char *p;

		while ((p = strstr(joined, "/../"))) {
			char *q = p;

			while (q > joined && q[-1] != '/')
				q--;
			memmove(q, p + 4, strlen(p + 4) + 1);
		}
	}
	if (target[0] == '/' || ar_clean(joined, clean, sizeof(clean), err) < 0)
		return pv_err_set(err, EPERM, "archive entry %s: link leaves the archive", f->path);
	f->link = strdup(clean);
	return f->link ? 0 : pv_err_set(err, ENOMEM, "out of memory");
}

static int ar_stage_file(struct ar *a, struct archive *in, struct ar_file *f,
			 struct pv_err *err)
{
	char path[IMAGE_PATH_MAX];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	la_ssize_t n;
	int fd = -1, ret = 0;

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	ret = image_path(path, sizeof(path), err, "%s/f%zu", a->staging, f->id);
	if (ret < 0)
		goto out;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "create %s", path);
		goto out;
	}
	while ((n = archive_read_data(in, a->buf, AR_BUF)) > 0) {
		if (util_write_all(fd, a->buf, (size_t)n) < 0) {
			ret = pv_err_sys(err, errno, "write %s", path);
			goto out;
		}
		EVP_DigestUpdate(md, a->buf, (size_t)n);
		f->size += (uint64_t)n;
	}
	if (n < 0) {
		ret = pv_err_set(err, EBADMSG, "corrupt archive at %s: %s", f->path,
				 archive_error_string(in));
		goto out;
	}
	EVP_DigestFinal_ex(md, d, &dl);
	memcpy(f->digest, "sha256:", 7);
	for (unsigned int i = 0; i < dl && i < 32; i++)
		snprintf(f->digest + 7 + 2 * i, 3, "%02x", d[i]);
out:
	EVP_MD_CTX_free(md);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Every regular file and symlink of the archive into the staging dir. */
int ar_read(struct ar *a, const char *file, struct pv_err *err)
{
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	char clean[IMAGE_PATH_MAX];
	struct ar_file *f = NULL;
	int r, ret = 0;

	if (!in)
		return pv_err_set(err, ENOMEM, "out of memory");
	/* Built-in decompressors only: never an external filter program. */
	archive_read_support_format_tar(in);
	if (archive_read_support_filter_gzip(in) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(in) != ARCHIVE_OK) {
		ret = pv_err_set(err, ENOTSUP, "libarchive lacks built-in gzip/zstd");
		goto out;
	}
	archive_read_support_filter_none(in);
	if (archive_read_open_filename(in, file, AR_BUF) != ARCHIVE_OK) {
		ret = pv_err_set(err, EBADMSG, "%s: %s", file, archive_error_string(in));
		goto out;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		mode_t t = archive_entry_filetype(e);

		if (t != AE_IFREG && t != AE_IFLNK)
			continue;
		ret = ar_clean(archive_entry_pathname(e), clean, sizeof(clean), err);
		if (ret == 0)
			ret = ar_add(a, clean, &f, err);
		if (ret == 0 && t == AE_IFLNK)
			ret = ar_link(f, archive_entry_symlink(e) ? archive_entry_symlink(e) : "",
				      err);
		else if (ret == 0 && archive_entry_hardlink(e)) {
			ret = ar_clean(archive_entry_hardlink(e), clean, sizeof(clean), err);
			if (ret == 0 && !(f->link = strdup(clean)))
				ret = pv_err_set(err, ENOMEM, "out of memory");
		} else if (ret == 0)
			ret = ar_stage_file(a, in, f, err);
		if (ret < 0)
			goto out;
	}
	if (r != ARCHIVE_EOF)
		ret = pv_err_set(err, EBADMSG, "corrupt archive: %s", archive_error_string(in));
	else if (a->n == 0)
		ret = pv_err_set(err, EBADMSG, "not an image archive: it holds no files");
out:
	archive_read_free(in);
	return ret;
}

int ar_read_json(struct ar *a, struct ar_file *f, char **text, size_t *len,
			struct pv_err *err)
{
	char path[IMAGE_PATH_MAX];

	if (image_path(path, sizeof(path), err, "%s/f%zu", a->staging, f->id) < 0)
		return -ENAMETOOLONG;
	return image_read_file(path, IMAGE_MANIFEST_MAX, text, len, err);
}

/* Verify one layer file (tar, its diff_id); ar_commit moves it later. */
int ar_layer(struct ar *a, struct ar_file *f, const char *want_digest,
		    enum image_comp comp, bool detect, const char *diff_id, size_t i,
		    struct image_desc *out, struct pv_err *err)
{
	char path[IMAGE_PATH_MAX], to[IMAGE_PATH_MAX], what[64];
	unsigned char magic[4] = { 0 };
	struct blobsink *b = NULL;
	ssize_t n;
	int fd = -1, ret;

	snprintf(what, sizeof(what), "layer %zu", i + 1);
	if (want_digest && strcmp(want_digest, f->digest))
		return pv_err_set(err, EBADMSG, "%s: digest mismatch: content hashes to %s", what,
				  f->digest);
	ret = image_path(path, sizeof(path), err, "%s/f%zu", a->staging, f->id);
	if (ret < 0)
		return ret;
	ret = image_blob_path(a->s, f->digest, to, sizeof(to), err);
	if (ret < 0)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)   /* used twice: already moved into blobs/ */
		fd = open(to, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_err_sys(err, errno, "open %s", path);
	if (detect) {   /* docker save: plain tars, but tools may compress */
		if (read(fd, magic, sizeof(magic)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
			ret = pv_err_sys(err, errno, "read %s", path);
			goto out;
		}
		comp = magic[0] == 0x1f && magic[1] == 0x8b ? IMAGE_COMP_GZIP
		       : magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
				 magic[3] == 0xfd ? IMAGE_COMP_ZSTD : IMAGE_COMP_NONE;
	}
	ret = blobsink_new(-1, what, f->digest, f->size, true, comp, diff_id, &b, err);
	while (ret == 0 && (n = read(fd, a->buf, AR_BUF)) != 0) {
		if (n < 0) {
			ret = errno == EINTR ? 0 : pv_err_sys(err, errno, "read %s", path);
			continue;
		}
		ret = blobsink_data(b, a->buf, (size_t)n, err);
	}
	if (ret == 0)
		ret = blobsink_finish(b, err);
	if (ret == 0) {
		memset(out, 0, sizeof(*out));
		snprintf(out->media_type, sizeof(out->media_type), "%s",
			 comp == IMAGE_COMP_GZIP ? "application/vnd.oci.image.layer.v1.tar+gzip"
			 : comp == IMAGE_COMP_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
						   : "application/vnd.oci.image.layer.v1.tar");
		memcpy(out->digest, f->digest, IMAGE_DIGEST_MAX);
		out->size = f->size;
	}
out:
	blobsink_free(b);
	close(fd);
	return ret;
}


int ar_commit(struct ar *a, struct ar_file *f, struct pv_err *err)
{
	char path[IMAGE_PATH_MAX], to[IMAGE_PATH_MAX];
	int ret;

	ret = image_path(path, sizeof(path), err, "%s/f%zu", a->staging, f->id);
	if (ret == 0)
		ret = image_blob_path(a->s, f->digest, to, sizeof(to), err);
	if (ret < 0)
		return ret;
	if (rename(path, to) < 0 && access(to, F_OK) < 0)
		return pv_err_sys(err, errno, "store blob %s", f->digest);
	return image_fsync_parent(to, err);
}
