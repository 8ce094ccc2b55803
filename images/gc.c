/* Cache management: list with sizes and last use, in-use holds, removal,
 * prune, garbage collection at kubelet's thresholds, and the sweep of
 * temporaries that crashed pulls and conversions leave behind.
 *
 * Locks (all flock, so a crashed holder releases them):
 *   images/gc.lock           pulls and loads hold it shared until their
 *                            index entry is written; removal holds it
 *                            exclusive while it deletes unreferenced blobs
 *   images/inuse/HEX.lock    every pod that runs image HEX holds it shared;
 *                            its mtime is the image's last use */
#include "images/layer.h"
#include "images/manifest.h"
#include "images/store_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

/* Untagged temporaries (an older podvm's) are removed after a day. */
#define SWEEP_UNTAGGED_AGE_S (24 * 3600)

static void sweep_dir(const char *dir, const char *must_contain, bool tree)
{
	struct dirent *de;
	struct stat st;
	char path[IMAGE_PATH_MAX];
	DIR *d = opendir(dir);
	time_t now = time(NULL);

	while (d && (de = readdir(d))) {
		int alive;

		if (de->d_name[0] == '.' || (must_contain && !strstr(de->d_name, must_contain)))
			continue;
		if (image_path(path, sizeof(path), NULL, "%s/%s", dir, de->d_name) < 0)
			continue;
		alive = image_tmp_owner_alive(de->d_name);
		if (alive == 1)
			continue;
		if (alive < 0 && (lstat(path, &st) < 0 || now - st.st_mtime < SWEEP_UNTAGGED_AGE_S))
			continue;
		if (tree)
			layer_remove_tree(path, NULL);
		else
			unlink(path);
	}
	if (d)
		closedir(d);
}

void image_store_sweep(struct image_store *s)
{
	char dir[IMAGE_PATH_MAX];

	if (image_path(dir, sizeof(dir), NULL, "%s/tmp", s->root) == 0)
		sweep_dir(dir, NULL, true);
	if (image_path(dir, sizeof(dir), NULL, "%s/blobs/sha256", s->root) == 0)
		sweep_dir(dir, ".tmp.", false);
	sweep_dir(s->root, ".tmp.", false);   /* index.json.tmp.* */
}

int image_gc_lock(struct image_store *s, bool shared, int *fd_out, struct pv_err *err)
{
	char path[IMAGE_PATH_MAX];
	int fd, ret;

	ret = image_path(path, sizeof(path), err, "%s/gc.lock", s->root);
	if (ret < 0)
		return ret;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return pv_err_sys(err, errno, "open %s", path);
	while (flock(fd, shared ? LOCK_SH : LOCK_EX) < 0) {
		if (errno != EINTR) {
			ret = pv_err_sys(err, errno, "lock %s", path);
			close(fd);
			return ret;
		}
	}
	*fd_out = fd;
	return 0;
}

int image_store_hold(struct image_store *s, const char *digest, int *fd_out,
		     struct pv_err *err)
{
	char path[IMAGE_PATH_MAX];
	int fd;

	if (!image_digest_valid(digest))
		return pv_err_set(err, EINVAL, "invalid digest");
	if (image_path(path, sizeof(path), err, "%s/inuse/%s.lock", s->root, digest + 7) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return pv_err_sys(err, errno, "open %s", path);
	futimens(fd, NULL);   /* last used: now */
	while (flock(fd, LOCK_SH) < 0) {
		if (errno != EINTR) {
			int e = errno;

			close(fd);
			return pv_err_sys(err, e, "lock %s", path);
		}
	}
	*fd_out = fd;
	return 0;
}

/* In use: someone holds inuse/HEX.lock. With keep_fd, an exclusive lock
 * is taken and left for the caller (so no pod starts on it meanwhile). */
static bool in_use(struct image_store *s, const char *digest, int *keep_fd,
		   int64_t *mtime_ms)
{
	char path[IMAGE_PATH_MAX];
	struct stat st;
	bool busy;
	int fd;

	if (keep_fd)
		*keep_fd = -1;
	if (image_path(path, sizeof(path), NULL, "%s/inuse/%s.lock", s->root, digest + 7) < 0)
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (mtime_ms && fstat(fd, &st) == 0)
		*mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
	busy = flock(fd, LOCK_EX | LOCK_NB) < 0;
	if (!busy && keep_fd) {
		*keep_fd = fd;
		return false;
	}
	close(fd);
	return busy;
}

/* --- the set of referenced blobs ------------------------------------------ */

struct refset {
	char (*v)[IMAGE_DIGEST_MAX];
	size_t n, cap;
};

static int refset_add(struct refset *r, const char *digest)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 64;
		void *nv = realloc(r->v, nc * sizeof(*r->v));

		if (!nv)
			return -ENOMEM;
		r->v = nv;
		r->cap = nc;
	}
	snprintf(r->v[r->n++], IMAGE_DIGEST_MAX, "%s", digest);
	return 0;
}

static bool refset_has(const struct refset *r, const char *digest)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i], digest))
			return true;
	return false;
}

/* manifest digest -> its config and layers, into r (and their total size). */
static int manifest_blobs(struct image_store *s, const char *digest, struct refset *r,
			  uint64_t *size)
{
	struct image_layer_desc *layers = NULL;
	char cfg[IMAGE_DIGEST_MAX], path[IMAGE_PATH_MAX];
	char *text = NULL;
	size_t len = 0, n = 0;
	struct stat st;
	int ret;

	ret = image_blob_path(s, digest, path, sizeof(path), NULL);
	if (ret == 0)
		ret = image_read_file(path, IMAGE_JSON_MAX, &text, &len, NULL);
	if (ret == 0)
		ret = image_manifest_parse(text, len, cfg, &layers, &n, NULL);
	if (ret < 0)
		goto out;
	if (size)
		*size += len;
	if (r && (refset_add(r, cfg) < 0))
		ret = -ENOMEM;
	if (size && image_blob_path(s, cfg, path, sizeof(path), NULL) == 0 &&
	    stat(path, &st) == 0)
		*size += (uint64_t)st.st_size;
	for (size_t i = 0; ret == 0 && i < n; i++) {
		if (r && refset_add(r, layers[i].digest) < 0)
			ret = -ENOMEM;
		if (size)
			*size += layers[i].size;
	}
out:
	free(layers);
	free(text);
	return ret;
}

/* Delete every blob, erofs file and in-use lock that no index entry
 * needs. Caller holds gc.lock exclusive. */
static int sweep_unreferenced(struct image_store *s, uint64_t *freed, struct pv_err *err)
{
	struct json_object *index = NULL, *manifests;
	struct refset mans = { 0 }, blobs = { 0 };
	static const char *const dirs[] = { "blobs/sha256", "erofs", "inuse" };
	char dir[IMAGE_PATH_MAX], path[IMAGE_PATH_MAX], dg[IMAGE_DIGEST_MAX];
	int ret;

	ret = image_index_load(s, &index, &manifests, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < json_object_array_length(manifests); i++) {
		const char *d = image_desc_str(json_object_array_get_idx(manifests, i), "digest");

		if (!image_digest_valid(d))
			continue;
		if (refset_add(&mans, d) < 0 || refset_add(&blobs, d) < 0) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		/* An unreadable manifest keeps what it names? It cannot name
		 * anything then: its blobs go. */
		if (manifest_blobs(s, d, &blobs, NULL) == -ENOMEM) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		struct dirent *de;
		DIR *d;

		if (image_path(dir, sizeof(dir), err, "%s/%s", s->root, dirs[k]) < 0)
			continue;
		d = opendir(dir);
		while (d && (de = readdir(d))) {
			struct stat st;
			size_t hl = strspn(de->d_name, "0123456789abcdef");
			bool is_blob = k == 0;
			int lfd;

			if (hl != 64 || (is_blob && de->d_name[64]))
				continue;   /* temporaries and foreign files stay */
			snprintf(dg, sizeof(dg), "sha256:%.64s", de->d_name);
			if (refset_has(is_blob ? &blobs : &mans, dg))
				continue;
			if (image_path(path, sizeof(path), NULL, "%s/%s", dir, de->d_name) < 0)
				continue;
			if (k == 2) {   /* an in-use lock: only when nobody holds it */
				lfd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
				if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0) {
					if (lfd >= 0)
						close(lfd);
					continue;
				}
				unlink(path);
				close(lfd);
				continue;
			}
			if (lstat(path, &st) == 0 && unlink(path) == 0 && freed && S_ISREG(st.st_mode))
				*freed += (uint64_t)st.st_blocks * 512;
		}
		if (d)
			closedir(d);
	}
	ret = 0;
out:
	free(mans.v);
	free(blobs.v);
	json_object_put(index);
	return ret;
}

/* --- listing --------------------------------------------------------------- */

int image_store_ls(struct image_store *s, struct image_info **out, size_t *n_out,
		   struct pv_err *err)
{
	struct json_object *index = NULL, *manifests, *ann;
	struct image_info *v = NULL;
	size_t n, i;
	int ret;

	*out = NULL;
	*n_out = 0;
	ret = image_index_load(s, &index, &manifests, err);
	if (ret < 0)
		return ret;
	n = json_object_array_length(manifests);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		json_object_put(index);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(manifests, i);
		const char *r = image_desc_ref(d), *dg = image_desc_str(d, "digest"), *rd = NULL;
		char path[IMAGE_PATH_MAX];
		struct stat st;

		snprintf(v[i].ref, sizeof(v[i].ref), "%s", r ? r : "");
		snprintf(v[i].digest, sizeof(v[i].digest), "%s", image_digest_valid(dg) ? dg : "");
		if (json_object_object_get_ex(d, "annotations", &ann) &&
		    json_object_is_type(ann, json_type_object))
			rd = image_desc_str(ann, IMAGE_ANN_REPO_DIGEST);
		snprintf(v[i].repo_digest, sizeof(v[i].repo_digest), "%s", rd ? rd : "");
		if (!v[i].digest[0])
			continue;
		manifest_blobs(s, v[i].digest, NULL, &v[i].size);
		if (image_path(path, sizeof(path), NULL, "%s/erofs/%s.erofs", s->root,
			       v[i].digest + 7) == 0 && stat(path, &st) == 0)
			v[i].size += (uint64_t)st.st_size;
		if (image_blob_path(s, v[i].digest, path, sizeof(path), NULL) == 0 &&
		    stat(path, &st) == 0)
			v[i].last_used_ms = (int64_t)st.st_mtim.tv_sec * 1000;
		v[i].in_use = in_use(s, v[i].digest, NULL, &v[i].last_used_ms);
	}
	json_object_put(index);
	*out = v;
	*n_out = n;
	return 0;
}

/* --- removal ---------------------------------------------------------------- */

static int remove_locked(struct image_store *s, const char *ref, const char *digest,
			 bool force, uint64_t *freed, struct pv_err *err)
{
	size_t dropped = 0;
	int hold = -1, ret;

	if (in_use(s, digest, &hold, NULL) && !force)
		return pv_err_set(err, EBUSY, "image %s is in use by a running pod",
				  ref ? ref : digest);
	ret = image_index_drop(s, ref, ref ? NULL : digest, &dropped, err);
	if (ret == 0)
		ret = sweep_unreferenced(s, freed, err);
	if (hold >= 0)
		close(hold);
	return ret;
}

int image_store_rm(struct image_store *s, const char *ref, bool force, uint64_t *freed,
		   struct pv_err *err)
{
	struct image *img = NULL;
	int gc = -1, ret;

	ret = image_gc_lock(s, false, &gc, err);
	if (ret < 0)
		return ret;
	ret = image_store_resolve(s, ref, &img, err);
	if (ret < 0)
		goto out;
	/* A digest removes the image under every name; a name only itself. */
	ret = remove_locked(s, image_digest_valid(ref) ? NULL : img->ref, img->manifest_digest,
			    force, freed, err);
out:
	image_free(img);
	close(gc);
	return ret;
}

static bool kept(const char *digest, const char *const *keep, size_t n_keep)
{
	for (size_t i = 0; i < n_keep; i++)
		if (keep[i] && !strcmp(keep[i], digest))
			return true;
	return false;
}

/* The least recently used image that may go, or -ENOENT. */
static int pick_lru(struct image_store *s, const char *const *keep, size_t n_keep,
		    bool keep_local, char digest[IMAGE_DIGEST_MAX], struct pv_err *err)
{
	struct image_info *v = NULL;
	size_t n = 0, best = (size_t)-1;
	int ret;

	ret = image_store_ls(s, &v, &n, err);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].digest[0] || v[i].in_use || kept(v[i].digest, keep, n_keep) ||
		    (keep_local && !v[i].repo_digest[0]))
			continue;
		if (best == (size_t)-1 || v[i].last_used_ms < v[best].last_used_ms)
			best = i;
	}
	ret = best == (size_t)-1 ? -ENOENT : 0;
	if (ret == 0)
		memcpy(digest, v[best].digest, IMAGE_DIGEST_MAX);
	free(v);
	return ret;
}

int image_store_prune(struct image_store *s, const char *const *keep, size_t n_keep,
		      size_t *removed, uint64_t *freed, struct pv_err *err)
{
	char digest[IMAGE_DIGEST_MAX];
	int gc = -1, ret;

	*removed = 0;
	ret = image_gc_lock(s, false, &gc, err);
	if (ret < 0)
		return ret;
	while ((ret = pick_lru(s, keep, n_keep, false, digest, err)) == 0) {
		ret = remove_locked(s, NULL, digest, false, freed, err);
		if (ret == -EBUSY)
			ret = -ENOENT;   /* a pod took it meanwhile: stop this round */
		if (ret < 0)
			break;
		(*removed)++;
	}
	if (ret == -ENOENT)
		ret = sweep_unreferenced(s, freed, err);
	close(gc);
	return ret;
}

static int statvfs_usage(void *opaque, uint64_t *cap, uint64_t *avail)
{
	struct statvfs st;

	if (statvfs(opaque, &st) < 0)
		return -errno;
	*cap = (uint64_t)st.f_blocks * st.f_frsize;
	*avail = (uint64_t)st.f_bavail * st.f_frsize;
	return 0;
}

int image_store_gc(struct image_store *s, const struct image_gc_policy *p,
		   struct image_gc_result *res, struct pv_err *err)
{
	int (*usage)(void *, uint64_t *, uint64_t *) = p->usage ? p->usage : statvfs_usage;
	void *opaque = p->usage ? p->opaque : s->root;
	char digest[IMAGE_DIGEST_MAX];
	uint64_t cap, avail;
	int gc = -1, ret;

	memset(res, 0, sizeof(*res));
	if (p->high_pct <= 0 || p->high_pct > 100 || p->low_pct < 0 || p->low_pct > p->high_pct)
		return pv_err_set(err, EINVAL, "image GC thresholds: want 0 <= low <= high <= 100");
	ret = usage(opaque, &cap, &avail);
	if (ret < 0)
		return pv_err_sys(err, -ret, "image filesystem usage");
	if (cap == 0)
		return 0;
	res->used_pct_before = (int)((cap - avail) * 100 / cap);
	res->used_pct_after = res->used_pct_before;
	if (res->used_pct_before < p->high_pct)
		return 0;
	ret = image_gc_lock(s, false, &gc, err);
	if (ret < 0)
		return ret;
	for (;;) {
		ret = usage(opaque, &cap, &avail);
		if (ret < 0) {
			ret = pv_err_sys(err, -ret, "image filesystem usage");
			break;
		}
		res->used_pct_after = (int)((cap - avail) * 100 / cap);
		if (res->used_pct_after <= p->low_pct)
			break;
		ret = pick_lru(s, p->keep, p->n_keep, p->keep_local, digest, err);
		if (ret == -ENOENT) {   /* everything left is in use */
			ret = 0;
			break;
		}
		if (ret == 0)
			ret = remove_locked(s, NULL, digest, false, &res->freed, err);
		if (ret == -EBUSY) {   /* a pod took it meanwhile: next round */
			ret = 0;
			break;
		}
		if (ret < 0)
			break;
		res->removed++;
	}
	close(gc);
	return ret;
}
