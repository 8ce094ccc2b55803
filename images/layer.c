/* Layer tarballs, the unpacking side: (hostile) layers with OCI
 * whiteouts, into a tree that nothing in the layer can leave. Building a
 * layer is in images/layer_write.c. */
#include "images/layer.h"
#include "images/store_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

/* Canonical relative path of an entry: leading "./" and trailing "/"
 * dropped, "//" collapsed. Absolute paths and ".." are refused. An empty
 * result is the root itself. */
static int clean_path(const char *in, char *out, size_t outlen,
		      struct pv_err *err)
{
	const char *p = in;
	size_t n = 0;

	if (!in || in[0] == '/')
		return pv_err_set(err, EPERM, "layer entry '%.200s': absolute path refused",
				  in ? in : "");
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return pv_err_set(err, EPERM,
					  "layer entry '%.200s': '..' refused", in);
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n + (n > 0) + len + 1 > outlen)
				return pv_err_set(err, ENAMETOOLONG,
						  "layer entry '%.200s': path too long", in);
			if (n > 0)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	out[n] = '\0';
	return 0;
}

/* Open the directory holding rel (under rootfd) without following any
 * symlink: a symlinked parent yields -ELOOP/-ENOTDIR. *leaf points into
 * rel at the last component. */
static int open_parent(int rootfd, const char *rel, const char **leaf)
{
	char comp[NAME_MAX + 1];
	const char *p = rel, *slash;
	int fd, next;

	fd = dup(rootfd);
	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/'))) {
		size_t len = (size_t)(slash - p);

		if (len > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -errno;
		fd = next;
		p = slash + 1;
	}
	*leaf = p;
	return fd;
}

static int rm_cb(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

int layer_remove_tree(const char *path, struct pv_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : pv_err_sys(err, errno, "stat %s", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return pv_err_sys(err, errno, "remove %s", path);
		return 0;
	}
	/* FTW_PHYS: symlinks are removed, never followed. */
	if (nftw(path, rm_cb, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return pv_err_sys(err, errno ? errno : EIO, "remove %s", path);
	return 0;
}

/* Remove root/rel unless a parent on the way is a symlink (then nothing
 * of the tree can be there). */
static int remove_beneath(const char *root, int rootfd, const char *rel,
			  struct pv_err *err)
{
	char path[IMAGE_PATH_MAX];
	const char *leaf;
	int fd, ret;

	fd = open_parent(rootfd, rel, &leaf);
	if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
		return 0;
	if (fd < 0)
		return pv_err_sys(err, -fd, "whiteout %s", rel);
	close(fd);
	ret = image_path(path, sizeof(path), err, "%s/%s", root, rel);
	if (ret < 0)
		return ret;
	return layer_remove_tree(path, err);
}

/* Opaque directory: empty dir (what lower layers put there). */
static int make_opaque(const char *root, int rootfd, const char *dir,
		       struct pv_err *err)
{
	char sub[IMAGE_PATH_MAX];
	struct dirent *de;
	DIR *d = NULL;
	int fd = -1, ret = 0;

	if (dir[0]) {
		ret = image_path(sub, sizeof(sub), err, "%s/x", dir);
		if (ret < 0)
			return ret;
		fd = open_parent(rootfd, sub, &(const char *){ NULL });
	} else {
		fd = dup(rootfd);
		if (fd < 0)
			fd = -errno;
	}
	if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
		return 0;
	if (fd < 0)
		return pv_err_sys(err, -fd, "opaque whiteout %s", dir);
	d = fdopendir(fd);
	if (!d) {
		ret = pv_err_sys(err, errno, "opaque whiteout %s", dir);
		close(fd);
		return ret;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = image_path(sub, sizeof(sub), err, "%s/%s%s%s", root, dir,
				 dir[0] ? "/" : "", de->d_name);
		if (ret < 0)
			break;
		ret = layer_remove_tree(sub, err);
		if (ret < 0)
			break;
	}
	closedir(d);
	return ret;
}

/* The compressions OCI layers use, with libarchive's built-in code only:
 * filter_all would also run external programs (lzop, lrzip, grzip...) on
 * a hostile layer's say-so. */
int layer_support_filters(struct archive *a, struct pv_err *err)
{
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
	    archive_read_support_filter_none(a) != ARCHIVE_OK)
		return pv_err_set(err, ENOTSUP,
				  "libarchive lacks built-in gzip or zstd (would need an external program)");
	return 0;
}

static int open_layer(const char *path, struct archive **out, struct pv_err *err)
{
	struct archive *a = archive_read_new();

	if (!a)
		return pv_err_set(err, ENOMEM, "out of memory");
	if (layer_support_filters(a, err) < 0) {
		archive_read_free(a);
		return -ENOTSUP;
	}
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, path, LAYER_BUF) != ARCHIVE_OK) {
		int ret = pv_err_set(err, EIO, "open layer %s: %s", path,
				     archive_error_string(a));

		archive_read_free(a);
		return ret;
	}
	*out = a;
	return 0;
}

/* Pass 1: whiteouts, applied to what lower layers left in root. Doing
 * them before any entry of this layer is written keeps this layer's own
 * files safe whatever their order in the tar. */
static int apply_whiteouts(const char *layer_path, const char *root,
			   int rootfd, struct pv_err *err)
{
	char rel[IMAGE_PATH_MAX], target[IMAGE_PATH_MAX];
	struct archive *a = NULL;
	struct archive_entry *e;
	int r, ret;

	ret = open_layer(layer_path, &a, err);
	if (ret < 0)
		return ret;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		const char *base;
		size_t dirlen;

		ret = clean_path(archive_entry_pathname(e), rel, sizeof(rel), err);
		if (ret < 0)
			goto out;
		base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
			continue;
		dirlen = base > rel ? (size_t)(base - rel - 1) : 0;
		if (strcmp(base, WH_OPAQUE) == 0) {
			rel[dirlen] = '\0';
			ret = make_opaque(root, rootfd, rel, err);
		} else if (strncmp(base, ".wh..wh.", 8) == 0) {
			continue;   /* aufs metadata, not a whiteout */
		} else {
			ret = image_path(target, sizeof(target), err, "%.*s%s%s",
					 (int)dirlen, rel, dirlen ? "/" : "",
					 base + strlen(WH_PREFIX));
			if (ret == 0)
				ret = remove_beneath(root, rootfd, target, err);
		}
		if (ret < 0)
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		ret = pv_err_set(err, EIO, "read layer %s: %s", layer_path,
				 archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	return ret;
}

/* What is at root/rel now must not stop the entry: a directory replaced
 * by a non-directory goes away whole. A symlinked parent is refused. */
static int prepare_target(const char *root, int rootfd, const char *rel,
			  mode_t type, struct pv_err *err)
{
	char path[IMAGE_PATH_MAX];
	const char *leaf;
	struct stat st;
	int fd, ret = 0;

	fd = open_parent(rootfd, rel, &leaf);
	if (fd == -ENOENT)
		return 0;   /* libarchive creates missing parents */
	if (fd == -ELOOP || fd == -ENOTDIR)
		return pv_err_set(err, EPERM,
				  "layer entry '%.200s': refusing to write through a symlink or non-directory",
				  rel);
	if (fd < 0)
		return pv_err_sys(err, -fd, "layer entry '%.200s'", rel);
	if (fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode) && type != AE_IFDIR) {
		ret = image_path(path, sizeof(path), err, "%s/%s", root, rel);
		if (ret == 0)
			ret = layer_remove_tree(path, err);
	}
	close(fd);
	return ret;
}

/* A hard link must point at something already in the tree, reached
 * without symlinks (else it could pull in a host file). */
static int check_hardlink(int rootfd, const char *rel, uint64_t *size, struct pv_err *err)
{
	const char *leaf;
	struct stat st;
	int fd, ret = 0;

	fd = open_parent(rootfd, rel, &leaf);
	if (fd < 0)
		return pv_err_set(err, EPERM,
				  "layer hard link to '%.200s': target not in the image", rel);
	if (fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
		ret = pv_err_set(err, EPERM,
				 "layer hard link to '%.200s': target missing or a directory",
				 rel);
	else
		*size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	close(fd);
	return ret;
}

static int copy_entry_data(struct archive *in, struct archive *out,
			   const char *rel, struct pv_err *err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;

	while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK) {
		if (archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
			return pv_err_set(err, EIO, "write %s: %s", rel,
					  archive_error_string(out));
	}
	if (r != ARCHIVE_EOF)
		return pv_err_set(err, EIO, "read %s: %s", rel, archive_error_string(in));
	return 0;
}

/* One unpack: the archives and the target tree. */
struct unpack {
	struct archive *in, *out;
	char root[PATH_MAX];
	int rootfd;
	const struct layer_limits *lim;
	struct layer_usage *usage;
};

/* Count an entry against the limits; 1: skip it (a device node). */
static int unpack_count(struct unpack *u, struct archive_entry *e,
			const char *link, mode_t type, struct pv_err *err)
{
	if (++u->usage->entries > u->lim->max_entries)
		return pv_err_set(err, EFBIG, "image has more than %llu entries",
				  (unsigned long long)u->lim->max_entries);
	/* Device nodes are the host's business, never an image's. */
	if (!link && (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFSOCK)) {
		u->usage->skipped_devices++;
		return 1;
	}
	if (!link && type == AE_IFREG && archive_entry_size(e) > 0) {
		u->usage->bytes += (uint64_t)archive_entry_size(e);
		if (u->usage->bytes > u->lim->max_bytes)
			return pv_err_set(err, EFBIG,
					  "image is larger than %llu bytes unpacked",
					  (unsigned long long)u->lim->max_bytes);
	}
	return 0;
}

/* One entry (not a whiteout) under the root, its path and hard link
 * target checked and made absolute. */
static int unpack_entry(struct unpack *u, struct archive_entry *e,
			const char *rel, struct pv_err *err)
{
	const char *link = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	char path[IMAGE_PATH_MAX];
	int ret;

	ret = unpack_count(u, e, link, type, err);
	if (ret != 0)
		return ret < 0 ? ret : 0;
	ret = prepare_target(u->root, u->rootfd, rel, link ? AE_IFREG : type, err);
	if (ret == 0)
		ret = image_path(path, sizeof(path), err, "%s/%s", u->root, rel);
	if (ret < 0)
		return ret;
	archive_entry_copy_pathname(e, path);
	if (link) {
		char lrel[IMAGE_PATH_MAX], lpath[IMAGE_PATH_MAX];

		uint64_t lsize = 0;

		ret = clean_path(link, lrel, sizeof(lrel), err);
		if (ret == 0)
			ret = check_hardlink(u->rootfd, lrel, &lsize, err);
		/* A link is another name for the data, and the erofs image
		 * and the guest's view count it again: a million links to one
		 * big file must hit the cap. */
		if (ret == 0 && (u->usage->bytes += lsize) > u->lim->max_bytes)
			ret = pv_err_set(err, EFBIG, "image is larger than %llu bytes unpacked",
					 (unsigned long long)u->lim->max_bytes);
		if (ret == 0)
			ret = image_path(lpath, sizeof(lpath), err, "%s/%s",
					 u->root, lrel);
		if (ret < 0)
			return ret;
		archive_entry_copy_hardlink(e, lpath);
	}
	if (archive_write_header(u->out, e) < ARCHIVE_WARN)
		return pv_err_set(err, EPERM, "layer entry '%.200s': %s", rel,
				  archive_error_string(u->out));
	if (archive_entry_size(e) > 0) {
		ret = copy_entry_data(u->in, u->out, rel, err);
		if (ret < 0)
			return ret;
	}
	if (archive_write_finish_entry(u->out) < ARCHIVE_WARN)
		return pv_err_set(err, EIO, "layer entry '%.200s': %s", rel,
				  archive_error_string(u->out));
	return 0;
}

/* Every entry but whiteouts (pass 1) and the root itself. */
static int unpack_entries(struct unpack *u, const char *layer_path,
			  struct pv_err *err)
{
	char rel[IMAGE_PATH_MAX];
	struct archive_entry *e;
	int ret, r;

	while ((r = archive_read_next_header(u->in, &e)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		const char *base;

		ret = clean_path(archive_entry_pathname(e), rel, sizeof(rel), err);
		if (ret < 0)
			return ret;
		base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		if (!rel[0] || strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0)
			continue;
		ret = unpack_entry(u, e, rel, err);
		if (ret < 0)
			return ret;
	}
	if (r != ARCHIVE_EOF)
		return pv_err_set(err, EIO, "read layer %s: %s", layer_path,
				  archive_error_string(u->in));
	return 0;
}

int layer_unpack(const char *layer_path, const char *dest,
		 const struct layer_limits *lim, struct layer_usage *usage,
		 struct pv_err *err)
{
	struct unpack u = { .rootfd = -1, .lim = lim, .usage = usage };
	int ret;

	/* The canonical root has no symlinks, so SECURE_SYMLINKS checks
	 * only what the layers create. Entry paths are validated here and
	 * then made absolute under root, which is why
	 * SECURE_NOABSOLUTEPATHS cannot be used on them. */
	if (!realpath(dest, u.root))
		return pv_err_sys(err, errno, "unpack target %s", dest);
	u.rootfd = open(u.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u.rootfd < 0) {
		ret = pv_err_sys(err, errno, "open %s", u.root);
		goto out;
	}
	ret = apply_whiteouts(layer_path, u.root, u.rootfd, err);
	if (ret < 0)
		goto out;
	ret = open_layer(layer_path, &u.in, err);
	if (ret < 0)
		goto out;
	u.out = archive_write_disk_new();
	if (!u.out) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* No standard lookup: owners stay numeric, as the image says. */
	archive_write_disk_set_options(u.out, ARCHIVE_EXTRACT_OWNER |
				       ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
				       ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK |
				       ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				       ARCHIVE_EXTRACT_SECURE_SYMLINKS);
	ret = unpack_entries(&u, layer_path, err);
	if (ret < 0)
		goto out;
	/* Directory times and modes are fixed up at close. */
	if (archive_write_close(u.out) != ARCHIVE_OK)
		ret = pv_err_set(err, EIO, "finish layer: %s",
				 archive_error_string(u.out));
out:
	if (u.out)
		archive_write_free(u.out);
	if (u.in)
		archive_read_free(u.in);
	if (u.rootfd >= 0)
		close(u.rootfd);
	return ret;
}
