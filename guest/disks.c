/* Container images arrive as read-only erofs virtio-blk disks named by
 * their serial (/sys/block/vdX/serial; no udev, so no /dev/disk/by-id).
 * Each container gets an overlay root: lower = its image, upper and work
 * on a per-container tmpfs. */
#include "guest/guest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GUEST_SERIAL_MAX 20   /* virtio-blk serials are at most 20 bytes */

bool guest_serial_valid(const char *s)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];

		if (n >= GUEST_SERIAL_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return false;
	}
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int guest_mkdir_p(const char *path, mode_t mode)
{
	char buf[512];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		buf[i] = i == n ? '\0' : '/';
	}
	return 0;
}

static int guest_disk_find(const char *serial, char *dev, size_t devlen)
{
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	int rc = -ENOENT;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[300], val[64];
		ssize_t n;
		int fd, k;

		if (strncmp(de->d_name, "vd", 2) != 0)
			continue;
		k = snprintf(path, sizeof(path), "/sys/block/%s/serial", de->d_name);
		if (k < 0 || (size_t)k >= sizeof(path))
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, val, sizeof(val) - 1);
		close(fd);
		if (n <= 0)
			continue;
		val[n] = '\0';
		val[strcspn(val, "\n")] = '\0';
		if (strcmp(val, serial) != 0)
			continue;
		k = snprintf(dev, devlen, "/dev/%s", de->d_name);
		rc = k < 0 || (size_t)k >= devlen ? -ENAMETOOLONG : 0;
		break;
	}
	closedir(d);
	return rc;
}

int guest_disk_mount(const char *serial, char *mnt, size_t mntlen,
		     int timeout_ms, struct pv_err *err)
{
	int64_t deadline = guest_now_ms() + timeout_ms;
	char dev[64];
	struct stat st;
	int rc, n;

	if (!guest_serial_valid(serial))
		return pv_err_set(err, EINVAL, "invalid disk serial");
	n = snprintf(mnt, mntlen, GUEST_RUN_DIR "/images/%s", serial);
	if (n < 0 || (size_t)n >= mntlen)
		return pv_err_set(err, ENAMETOOLONG, "image mount path too long");
	rc = guest_mkdir_p(mnt, 0755);
	if (rc < 0)
		return pv_err_sys(err, -rc, "mkdir %s", mnt);
	/* Already mounted for an earlier container with the same image? */
	{
		struct stat parent;
		char up[600];

		n = snprintf(up, sizeof(up), "%s/..", mnt);
		if (n > 0 && (size_t)n < sizeof(up) && stat(mnt, &st) == 0 &&
		    stat(up, &parent) == 0 && st.st_dev != parent.st_dev)
			return 0;
	}
	for (;;) {
		rc = guest_disk_find(serial, dev, sizeof(dev));
		if (rc == 0 && stat(dev, &st) == 0 && S_ISBLK(st.st_mode))
			break;
		if (guest_now_ms() >= deadline)
			return pv_err_set(err, ENODEV, "no disk with serial %s", serial);
		{
			struct timespec ts = { 0, 5 * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	if (mount(dev, mnt, "erofs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0)
		return pv_err_sys(err, errno, "mount %s (serial %s) as erofs", dev, serial);
	return 0;
}

int guest_rootfs_prepare(const char *name, const char *lower, char *rootfs,
			 size_t rootfslen, struct pv_err *err)
{
	char base[300], upper[320], work[320], opts[1200];
	int n, rc;

	if (!pod_is_dns1123_label(name))
		return pv_err_set(err, EINVAL, "invalid container name");
	n = snprintf(base, sizeof(base), GUEST_RUN_DIR "/ctr/%s", name);
	if (n < 0 || (size_t)n >= sizeof(base))
		return pv_err_set(err, ENAMETOOLONG, "container path too long");
	rc = guest_mkdir_p(base, 0700);
	if (rc < 0)
		return pv_err_sys(err, -rc, "mkdir %s", base);
	/* Writable layer in memory: the pod's disk-less scratch space. */
	if (mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return pv_err_sys(err, errno, "mount tmpfs on %s", base);
	n = snprintf(upper, sizeof(upper), "%s/upper", base);
	if (n < 0 || (size_t)n >= sizeof(upper))
		return pv_err_set(err, ENAMETOOLONG, "path too long");
	n = snprintf(work, sizeof(work), "%s/work", base);
	if (n < 0 || (size_t)n >= sizeof(work))
		return pv_err_set(err, ENAMETOOLONG, "path too long");
	n = snprintf(rootfs, rootfslen, "%s/rootfs", base);
	if (n < 0 || (size_t)n >= rootfslen)
		return pv_err_set(err, ENAMETOOLONG, "path too long");
	if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(rootfs, 0755) < 0)
		return pv_err_sys(err, errno, "mkdir in %s", base);
	n = snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s",
		     lower, upper, work);
	if (n < 0 || (size_t)n >= sizeof(opts))
		return pv_err_set(err, ENAMETOOLONG, "overlay options too long");
	if (mount("overlay", rootfs, "overlay", 0, opts) < 0)
		return pv_err_sys(err, errno, "mount overlay for container %s", name);
	return 0;
}
