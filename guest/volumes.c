/* emptyDir volumes and safe mount points.
 *
 * The VM has no scratch disk yet: every emptyDir is a tmpfs under
 * GUEST_VOL_DIR/NAME (medium "" and Memory alike), size=sizeLimit when
 * given; it lives as long as the pod (the VM). fsGroup: the volume is
 * group-owned by it with the setgid bit, mode 2777 like the kubelet's.
 *
 * Mount points inside a container's root are created component by
 * component with O_NOFOLLOW and openat: an image cannot redirect a mount
 * outside of its root with a symlink. Mounts go through /proc/self/fd. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Create comp in the directory cur: a file (file) or a directory. */
static int path_create(int cur, const char *comp, bool file, mode_t mode,
		       const char *path, struct pv_err *err)
{
	if (file) {
		int w = openat(cur, comp, O_WRONLY | O_CREAT | O_EXCL |
			       O_NOFOLLOW | O_CLOEXEC, mode);

		if (w < 0 && errno != EEXIST)
			return pv_err_sys(err, errno, "path %s: create %s", path, comp);
		if (w >= 0)
			close(w);
	} else if (mkdirat(cur, comp, mode) < 0 && errno != EEXIST) {
		return pv_err_sys(err, errno, "path %s: mkdir %s", path, comp);
	}
	return 0;
}

int guest_path_in_root(int rootfd, const char *path, bool create,
		       bool want_file, mode_t mode, struct pv_err *err)
{
	char buf[4096], *comp, *save = NULL, *next;
	int cur = -1, fd = -1;
	struct stat st;

	if (strlen(path) >= sizeof(buf))
		return pv_err_set(err, ENAMETOOLONG, "path too long: %.64s", path);
	snprintf(buf, sizeof(buf), "%s", path);
	cur = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return pv_err_sys(err, errno, "dup");
	for (comp = strtok_r(buf, "/", &save); comp; comp = next) {
		bool last;

		next = strtok_r(NULL, "/", &save);
		last = next == NULL;
		if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
			pv_err_set(err, EINVAL, "path %s: \"%s\" component refused", path, comp);
			goto fail;
		}
		fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && last && want_file && fstat(fd, &st) == 0 &&
		    S_ISLNK(st.st_mode)) {
			/* an image's /etc/hosts -> elsewhere: replace the link
			 * in the container's own writable layer */
			close(fd);
			fd = -1;
			if (unlinkat(cur, comp, 0) < 0) {
				pv_err_sys(err, errno, "path %s: removing symlink %s", path, comp);
				goto fail;
			}
			errno = ENOENT;
		}
		if (fd < 0 && errno == ENOENT && create) {
			if (path_create(cur, comp, last && want_file,
					last ? mode : 0755, path, err) < 0)
				goto fail;
			fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			pv_err_sys(err, errno, "path %s: %s", path, comp);
			goto fail;
		}
		if (fstat(fd, &st) < 0) {
			pv_err_sys(err, errno, "path %s: stat %s", path, comp);
			goto fail;
		}
		if (S_ISLNK(st.st_mode)) {
			pv_err_set(err, ELOOP, "path %s: %s is a symlink (refused)", path, comp);
			goto fail;
		}
		if (!last && !S_ISDIR(st.st_mode)) {
			pv_err_set(err, ENOTDIR, "path %s: %s is not a directory", path, comp);
			goto fail;
		}
		if (last && !want_file && !S_ISDIR(st.st_mode)) {
			pv_err_set(err, ENOTDIR, "path %s is not a directory", path);
			goto fail;
		}
		close(cur);
		cur = fd;
		fd = -1;
	}
	return cur;
fail:
	if (fd >= 0)
		close(fd);
	if (cur >= 0)
		close(cur);
	return -(err->errnum ? err->errnum : EINVAL);
}

int guest_bind_fds(int src, int dst, bool ro, struct pv_err *err)
{
	char s[64], d[64];

	snprintf(s, sizeof(s), "/proc/self/fd/%d", src);
	snprintf(d, sizeof(d), "/proc/self/fd/%d", dst);
	if (mount(s, d, NULL, MS_BIND | MS_REC, NULL) < 0)
		return pv_err_sys(err, errno, "bind mount");
	(void)ro;
	return 0;
}

int guest_volumes_setup(const struct pod *pod, struct pv_err *err)
{
	size_t i;
	int rc;

	rc = guest_mkdir_p(GUEST_VOL_DIR, 0755);
	if (rc < 0)
		return pv_err_sys(err, -rc, "mkdir %s", GUEST_VOL_DIR);
	for (i = 0; i < pod->n_volumes; i++) {
		const struct pod_volume *v = &pod->volumes[i];
		char dir[300], opts[128];
		int n;

		if (!pod_is_dns1123_label(v->name))
			return pv_err_set(err, EINVAL, "invalid volume name");
		n = snprintf(dir, sizeof(dir), GUEST_VOL_DIR "/%s", v->name);
		if (n < 0 || (size_t)n >= sizeof(dir))
			return pv_err_set(err, ENAMETOOLONG, "volume path too long");
		if (mkdir(dir, 0777) < 0 && errno != EEXIST)
			return pv_err_sys(err, errno, "mkdir %s", dir);
		if (v->size_limit > 0)
			snprintf(opts, sizeof(opts), "mode=0777,size=%" PRId64, v->size_limit);
		else
			snprintf(opts, sizeof(opts), "mode=0777");
		if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
			return pv_err_sys(err, errno, "volume %s: mount tmpfs", v->name);
		if (pod->has_security && pod->security.has_fs_group) {
			if (chown(dir, (uid_t)-1, (gid_t)pod->security.fs_group) < 0 ||
			    chmod(dir, 02777) < 0)
				return pv_err_sys(err, errno, "volume %s: fsGroup", v->name);
		}
	}
	return 0;
}

/* Before pivot_root, while the volumes are still reachable: a detached
 * copy (open_tree) of each mount's source, read-only when asked. */
int guest_volumes_detach(const struct pod *pod, const struct pod_container *pc,
			 int *fds, struct pv_err *err)
{
	int vol = -1, src = -1, rc = 0;
	size_t i, j;

	for (i = 0; i < pc->n_mounts; i++)
		fds[i] = -1;
	for (i = 0; i < pc->n_mounts; i++) {
		const struct pod_volume_mount *m = &pc->mounts[i];
		struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
		char vdir[300];

		for (j = 0; j < pod->n_volumes; j++)
			if (strcmp(pod->volumes[j].name, m->name) == 0)
				break;
		if (j == pod->n_volumes || !pod_is_dns1123_label(m->name)) {
			rc = pv_err_set(err, ENOENT, "volumeMount %s: no such volume", m->name);
			goto out;
		}
		snprintf(vdir, sizeof(vdir), GUEST_VOL_DIR "/%s", m->name);
		vol = open(vdir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (vol < 0) {
			rc = pv_err_sys(err, errno, "open %s", vdir);
			goto out;
		}
		/* subPath: created if missing, never through a symlink another
		 * container may have planted in the volume */
		src = guest_path_in_root(vol, m->sub_path && *m->sub_path ? m->sub_path : ".",
					 true, false, 0777, err);
		if (!(m->sub_path && *m->sub_path)) {
			if (src >= 0)
				close(src);
			src = vol;
			vol = -1;
		}
		if (src < 0) {
			rc = src;
			goto out;
		}
		fds[i] = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				   AT_EMPTY_PATH | AT_RECURSIVE);
		if (fds[i] < 0) {
			rc = pv_err_sys(err, errno, "volumeMount %s: open_tree", m->name);
			goto out;
		}
		if (m->read_only &&
		    mount_setattr(fds[i], "", AT_EMPTY_PATH | AT_RECURSIVE, &ro,
				  sizeof(ro)) < 0) {
			rc = pv_err_sys(err, errno, "volumeMount %s: read-only", m->name);
			goto out;
		}
		if (vol >= 0)
			close(vol);
		close(src);
		vol = src = -1;
	}
out:
	if (vol >= 0)
		close(vol);
	if (src >= 0)
		close(src);
	if (rc < 0)
		pv_err_prefix(err, "volumes");
	return rc;
}

static size_t guest_depth(const char *p)
{
	size_t n = 0;

	for (; *p; p++)
		n += *p == '/';
	return n;
}

/* After /proc, /sys and /dev exist (an emptyDir at /dev/shm must cover
 * the default one): attach each copy at its mountPath, shallow paths
 * first so that /a/b lands on top of /a. Closes the fds. */
int guest_volumes_attach(const struct pod_container *pc, int *fds,
			 struct pv_err *err)
{
	int root = -1, dst = -1, rc = 0;
	size_t depth, i, max = 0;

	for (i = 0; i < pc->n_mounts; i++)
		if (guest_depth(pc->mounts[i].mount_path) > max)
			max = guest_depth(pc->mounts[i].mount_path);
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return pv_err_sys(err, errno, "open /");
	for (depth = 0; depth <= max; depth++) {
		for (i = 0; i < pc->n_mounts; i++) {
			const struct pod_volume_mount *m = &pc->mounts[i];

			if (guest_depth(m->mount_path) != depth || fds[i] < 0)
				continue;
			dst = guest_path_in_root(root, m->mount_path, true, false, 0755, err);
			if (dst < 0) {
				rc = dst;
				goto out;
			}
			if (move_mount(fds[i], "", dst, "",
				       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
				rc = pv_err_sys(err, errno, "volumeMount %s at %s", m->name,
						m->mount_path);
				goto out;
			}
			close(dst);
			dst = -1;
			close(fds[i]);
			fds[i] = -1;
		}
	}
out:
	if (dst >= 0)
		close(dst);
	close(root);
	if (rc < 0)
		pv_err_prefix(err, "volumes");
	return rc;
}
