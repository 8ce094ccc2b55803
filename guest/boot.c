/* Early boot: re-root off the initramfs, mount the API filesystems, load
 * the kernel modules named in load.list, bring up loopback. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GUEST_MODLIST_MAX (64 * 1024)
#define GUEST_MOD_NAME_MAX 128

/* pivot_root(2) refuses to move the initramfs' rootfs, which has no parent
 * mount. Putting a bind mount of it on top of "/" (what switch_root does
 * with a real root) gives every later mount namespace a root that
 * containers can pivot away from. */
static int guest_boot_reroot(struct pv_err *err)
{
	if (mkdir("/.podvm-root", 0700) < 0 && errno != EEXIST)
		return pv_err_sys(err, errno, "mkdir /.podvm-root");
	if (mount("/", "/.podvm-root", NULL, MS_BIND, NULL) < 0)
		return pv_err_sys(err, errno, "bind mount / on /.podvm-root");
	if (chdir("/.podvm-root") < 0)
		return pv_err_sys(err, errno, "chdir /.podvm-root");
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		return pv_err_sys(err, errno, "move the root bind mount onto /");
	if (chroot(".") < 0)
		return pv_err_sys(err, errno, "chroot");
	if (chdir("/") < 0)
		return pv_err_sys(err, errno, "chdir /");
	return 0;
}

struct guest_mnt {
	const char *src, *dst, *type;
	unsigned long flags;
	const char *data;
	mode_t mode;
};

static const struct guest_mnt guest_boot_mounts[] = {
	{ "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555 },
	{ "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555 },
	{ "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755", 0755 },
	{ "devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	  "gid=5,mode=0620,ptmxmode=0666", 0755 },
	{ "tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777", 01777 },
	{ "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755", 0755 },
};

static int guest_boot_mount_api(struct pv_err *err)
{
	size_t i;

	for (i = 0; i < sizeof(guest_boot_mounts) / sizeof(guest_boot_mounts[0]); i++) {
		const struct guest_mnt *m = &guest_boot_mounts[i];

		if (mkdir(m->dst, m->mode) < 0 && errno != EEXIST)
			return pv_err_sys(err, errno, "mkdir %s", m->dst);
		if (mount(m->src, m->dst, m->type, m->flags, m->data) < 0 &&
		    errno != EBUSY)
			return pv_err_sys(err, errno, "mount %s on %s", m->type, m->dst);
	}
	if (mkdir(GUEST_RUN_DIR, 0700) < 0 && errno != EEXIST)
		return pv_err_sys(err, errno, "mkdir %s", GUEST_RUN_DIR);
	return 0;
}

int guest_modlist_parse(const char *text, size_t len,
			int (*fn)(const char *name, void *arg), void *arg,
			struct pv_err *err)
{
	size_t pos = 0, lineno = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		char name[GUEST_MOD_NAME_MAX];
		size_t a = 0, b = ll;
		int rc;

		pos += ll + (nl ? 1 : 0);
		lineno++;
		while (a < b && (line[a] == ' ' || line[a] == '\t'))
			a++;
		while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t' ||
				 line[b - 1] == '\r'))
			b--;
		if (a == b || line[a] == '#')
			continue;
		if (b - a >= sizeof(name))
			return pv_err_set(err, ENAMETOOLONG, "load.list:%zu: name too long",
					  lineno);
		memcpy(name, line + a, b - a);
		name[b - a] = '\0';
		if (memchr(name, '\0', b - a) || strchr(name, '/') ||
		    strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			return pv_err_set(err, EINVAL, "load.list:%zu: bad module file name",
					  lineno);
		rc = fn(name, arg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

struct guest_modload {
	struct pv_err *err;
	unsigned loaded;
};

static int guest_boot_load_one(const char *name, void *arg)
{
	struct guest_modload *ml = arg;
	char path[256];
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", GUEST_MODULE_DIR, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return pv_err_set(ml->err, ENAMETOOLONG, "module path too long: %s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_err_sys(ml->err, errno, "open %s", path);
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST) {
		int e = errno;

		close(fd);
		return pv_err_sys(ml->err, e, "load module %s", name);
	}
	close(fd);
	ml->loaded++;
	return 0;
}

static int guest_boot_modules(struct pv_err *err)
{
	struct guest_modload ml = { .err = err };
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc;

	fd = open(GUEST_MODULE_LIST, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)  /* a kernel with everything built in */
			return 0;
		return pv_err_sys(err, errno, "open %s", GUEST_MODULE_LIST);
	}
	text = malloc(GUEST_MODLIST_MAX);
	if (!text) {
		rc = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	while (len < GUEST_MODLIST_MAX) {
		n = read(fd, text + len, GUEST_MODLIST_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = pv_err_sys(err, errno, "read %s", GUEST_MODULE_LIST);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == GUEST_MODLIST_MAX) {
		rc = pv_err_set(err, EFBIG, "%s is too large", GUEST_MODULE_LIST);
		goto out;
	}
	rc = guest_modlist_parse(text, len, guest_boot_load_one, &ml, err);
out:
	free(text);
	close(fd);
	return rc;
}

/* Containers share the VM's network namespace; they expect localhost. */
static void guest_boot_loopback(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			guest_diag("bringing up lo: %s", strerror(errno));
	}
	close(s);
}

int guest_boot(struct pv_err *err)
{
	int rc;

	umask(022);
	rc = guest_boot_reroot(err);
	if (rc < 0)
		return rc;
	rc = guest_boot_mount_api(err);
	if (rc < 0)
		return rc;
	guest_console_open();
	/* Ctrl-Alt-Del becomes SIGINT to us instead of an instant reboot. */
	reboot(RB_DISABLE_CAD);
	if (sethostname("podvm", 5) < 0)
		guest_diag("sethostname: %s", strerror(errno));
	rc = guest_boot_modules(err);
	if (rc < 0)
		return rc;
	guest_boot_loopback();
	return 0;
}
