/* libvirt backend: process-wide libvirt setup, the event loop thread, the
 * embedded driver's qemu.conf, and open/close of a connection.
 *
 * Default URI: qemu:///embed?root=STATE_DIR — the QEMU driver runs inside
 * this process (no libvirtd); QEMU processes outlive us and a later
 * connection with the same root reattaches. Only one process may use a
 * root at a time. cfg->uri replaces the URI entirely.
 *
 * libvirt logging: unless LIBVIRT_LOG_OUTPUTS is already set (set it to
 * debug libvirt), libvirt's own log goes to /dev/null — errors reach the
 * caller through struct pv_err instead. */
#include "vmm/libvirt/lv.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#define LV_QEMU_USER "libvirt-qemu"

/* ---- process-wide setup ------------------------------------------------ */

static pthread_once_t lv_once = PTHREAD_ONCE_INIT;
static int lv_once_rc;

static void lv_silent_error(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

static void lv_init_once(void)
{
	/* Must happen before libvirt initializes itself (first API call). */
	if (!getenv("LIBVIRT_LOG_OUTPUTS"))
		setenv("LIBVIRT_LOG_OUTPUTS", "4:file:/dev/null", 0);
	if (virInitialize() < 0) {
		lv_once_rc = -EIO;
		return;
	}
	virSetErrorFunc(NULL, lv_silent_error);
	if (virEventRegisterDefaultImpl() < 0)
		lv_once_rc = -EIO;
}

int lv_last_code(void)
{
	virErrorPtr e = virGetLastError();

	return e ? e->code : VIR_ERR_OK;
}

int lv_err(struct pv_err *err, int errnum, const char *fmt, ...)
{
	char what[512];
	const char *msg = virGetLastErrorMessage();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (errnum <= 0)
		errnum = lv_last_code() == VIR_ERR_NO_DOMAIN ? ENOENT : EIO;
	return pv_err_set(err, errnum, "%s: %s", what, msg ? msg : "libvirt error");
}

/* ---- event loop -------------------------------------------------------- */
/* One thread per process runs libvirt's default event loop (domain events,
 * QEMU monitor I/O of the embedded driver); refcounted by open connections. */

static pthread_mutex_t lv_loop_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned lv_loop_users;
static pthread_t lv_loop_thread;
static atomic_bool lv_loop_quit;

static void *lv_loop_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&lv_loop_quit)) {
		if (virEventRunDefaultImpl() < 0)
			usleep(10000);  /* do not spin on a persistent error */
	}
	return NULL;
}

static void lv_loop_wake(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static int lv_loop_get(struct pv_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&lv_loop_lock);
	if (lv_loop_users == 0) {
		atomic_store(&lv_loop_quit, false);
		rc = pthread_create(&lv_loop_thread, NULL, lv_loop_main, NULL);
		if (rc != 0) {
			rc = pv_err_sys(err, rc, "libvirt event loop thread");
			goto out;
		}
	}
	lv_loop_users++;
out:
	pthread_mutex_unlock(&lv_loop_lock);
	return rc;
}

static void lv_loop_put(void)
{
	int timer;

	pthread_mutex_lock(&lv_loop_lock);
	if (lv_loop_users > 0 && --lv_loop_users == 0) {
		atomic_store(&lv_loop_quit, true);
		/* Adding a timer wakes the loop out of poll(); it then sees quit. */
		timer = virEventAddTimeout(0, lv_loop_wake, NULL, NULL);
		pthread_join(lv_loop_thread, NULL);
		if (timer >= 0)
			virEventRemoveTimeout(timer);
	}
	pthread_mutex_unlock(&lv_loop_lock);
}

/* ---- embed root and qemu.conf ------------------------------------------ */

/* The root goes into a URI unescaped: allow only URI-safe path bytes. */
static bool lv_root_valid(const char *root)
{
	const char *p;

	if (!vmm_path_valid(root))
		return false;
	for (p = root; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_.+-", *p)))
			return false;
	return true;
}

static int lv_mkdir_p(const char *path, mode_t mode, struct pv_err *err)
{
	char tmp[VMM_PATH_MAX];
	size_t i, n = strlen(path);

	if (n >= sizeof(tmp))
		return pv_err_set(err, ENAMETOOLONG, "path too long: %s", path);
	memcpy(tmp, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return pv_err_sys(err, errno, "mkdir %s", tmp);
		tmp[i] = path[i];
	}
	return 0;
}

/* Can user (uid, gid, supplementary groups) read and write path? */
static bool lv_user_can_rw(const struct stat *st, const char *user, uid_t uid,
			   gid_t gid)
{
	gid_t groups[64];
	int ngroups = 64, i;

	if (st->st_uid == uid)
		return (st->st_mode & 0600) == 0600;
	if ((st->st_mode & 0006) == 0006)
		return true;
	if ((st->st_mode & 0060) != 0060)
		return false;
	if (getgrouplist(user, gid, groups, &ngroups) < 0)
		return false;
	for (i = 0; i < ngroups; i++)
		if (groups[i] == st->st_gid)
			return true;
	return false;
}

/* Which user QEMU runs as. libvirt-qemu when it exists, unless /dev/kvm
 * exists but is not usable by it: then libvirt's capability cache turns
 * "invalid" on every lookup ("KVM was enabled when probing, but it is not
 * available now") and it re-probes QEMU for ~50 s on every connect. */
static const char *lv_qemu_user(void)
{
	struct passwd pw, *res = NULL;
	struct stat st;
	char buf[4096];

	if (getpwnam_r(LV_QEMU_USER, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return "root";
	if (stat("/dev/kvm", &st) < 0)
		return errno == ENOENT ? LV_QEMU_USER : "root";
	return lv_user_can_rw(&st, LV_QEMU_USER, pw.pw_uid, pw.pw_gid) ?
	       LV_QEMU_USER : "root";
}

static int lv_write_qemu_conf(const char *root, struct pv_err *err)
{
	char dir[VMM_PATH_MAX], path[VMM_PATH_MAX], tmp[VMM_PATH_MAX];
	char conf[2048];
	const char *user = lv_qemu_user();
	size_t off = 0;
	ssize_t w;
	int fd = -1, rc = 0, n;

	n = snprintf(dir, sizeof(dir), "%s/etc", root);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return pv_err_set(err, ENAMETOOLONG, "state dir too long: %s", root);
	n = snprintf(path, sizeof(path), "%s/qemu.conf", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return pv_err_set(err, ENAMETOOLONG, "state dir too long: %s", root);
	n = snprintf(tmp, sizeof(tmp), "%s/qemu.conf.tmp", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return pv_err_set(err, ENAMETOOLONG, "state dir too long: %s", root);
	n = snprintf(conf, sizeof(conf),
		"# Written by podvm on every open; edits are lost.\n"
		"# No virtlogd: QEMU's stdout/stderr go to ROOT/log/qemu/NAME.log.\n"
		"stdio_handler = \"file\"\n"
		"# No systemd/machined in containers; podvm does its own limits.\n"
		"cgroup_controllers = [ ]\n"
		"# Private /dev per VM needs mount namespaces we may not have.\n"
		"namespaces = [ ]\n"
		"# No AppArmor/SELinux profile handling for embedded roots.\n"
		"security_driver = \"none\"\n"
		"# Never chown kernel/initramfs/image files: they are shared by\n"
		"# many VMs (and embed roots), and an image owned by the QEMU user\n"
		"# would be writable by every VM. libvirt opens the console log and\n"
		"# the agent socket itself and passes fds, so QEMU needs only read\n"
		"# access to kernel, initramfs and read-only disks.\n"
		"dynamic_ownership = 0\n"
		"remember_owner = 0\n"
		"%s"
		"user = \"%s\"\n"
		"group = \"%s\"\n",
		strcmp(user, "root") == 0 ?
		"# root: /dev/kvm exists but the libvirt-qemu user cannot open it.\n" :
		"",
		user, user);
	if (n < 0 || (size_t)n >= sizeof(conf))
		return pv_err_set(err, EOVERFLOW, "qemu.conf too long");

	rc = lv_mkdir_p(dir, 0755, err);
	if (rc < 0)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = pv_err_sys(err, errno, "create %s", tmp);
		goto out;
	}
	while (off < (size_t)n) {
		w = write(fd, conf + off, (size_t)n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = pv_err_sys(err, errno, "write %s", tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = pv_err_sys(err, errno, "close %s", tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		rc = pv_err_sys(err, errno, "rename %s", tmp);
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	return rc;
}

/* ---- open / close ------------------------------------------------------ */

/* Each embedded root would otherwise probe QEMU's capabilities afresh
 * (~4 s): point ROOT/cache/qemu at a cache shared by every root. libvirt
 * revalidates the cache against the QEMU binary itself. */
static int lv_share_cache(const char *root, const char *cache_dir,
			  struct pv_err *err)
{
	char shared[VMM_PATH_MAX + 32], dir[VMM_PATH_MAX + 32], link[VMM_PATH_MAX + 32];
	int rc;

	if (!cache_dir)
		return 0;
	if (!vmm_path_valid(cache_dir))
		return pv_err_set(err, EINVAL, "libvirt: invalid cache dir");
	snprintf(shared, sizeof(shared), "%s/libvirt-qemu", cache_dir);
	snprintf(dir, sizeof(dir), "%s/cache", root);
	snprintf(link, sizeof(link), "%s/cache/qemu", root);
	rc = lv_mkdir_p(shared, 0755, err);
	if (rc == 0)
		rc = lv_mkdir_p(dir, 0755, err);
	if (rc < 0)
		return rc;
	if (symlink(shared, link) < 0 && errno != EEXIST)
		return pv_err_sys(err, errno, "libvirt: symlink %s", link);
	return 0;
}

/* The connection URI: the configured one, else libvirt's embedded QEMU
 * driver rooted in the state dir (made ready: qemu.conf, shared cache). */
static int lv_uri(struct lv_conn *c, const struct vmm_config *cfg, char *uri,
		  size_t len, struct pv_err *err)
{
	int rc, n;

	if (cfg->uri) {
		n = snprintf(uri, len, "%s", cfg->uri);
		if (n < 0 || (size_t)n >= len)
			return pv_err_set(err, EINVAL, "libvirt: URI too long");
		if (strcmp(cfg->uri, "qemu:///system") == 0)
			snprintf(c->pid_dir, sizeof(c->pid_dir), "/run/libvirt/qemu");
	} else {
		if (!cfg->state_dir || !lv_root_valid(cfg->state_dir))
			return pv_err_set(err, EINVAL, "libvirt: state dir must be an "
					  "absolute path of [A-Za-z0-9/_.+-]");
		n = snprintf(c->root, sizeof(c->root), "%s", cfg->state_dir);
		if (n < 0 || (size_t)n >= sizeof(c->root) - 32)
			return pv_err_set(err, ENAMETOOLONG, "libvirt: state dir too long");
		n = snprintf(c->pid_dir, sizeof(c->pid_dir), "%s/run/qemu", c->root);
		if (n < 0 || (size_t)n >= sizeof(c->pid_dir))
			return pv_err_set(err, ENAMETOOLONG, "libvirt: state dir too long");
		rc = lv_mkdir_p(c->root, 0755, err);
		if (rc < 0)
			return rc;
		rc = lv_write_qemu_conf(c->root, err);
		if (rc < 0)
			return rc;
		rc = lv_share_cache(c->root, cfg->cache_dir, err);
		if (rc < 0)
			return rc;
		snprintf(uri, len, "qemu:///embed?root=%s", c->root);
	}
	return 0;
}

/* One line on stderr: which accelerator, and why not KVM. */
static void lv_say_accel(enum vmm_accel accel, enum vmm_accel asked)
{
	const struct vmm_kvm_report *r;

	if (accel == VMM_ACCEL_KVM) {
		fprintf(stderr, "podvm: VMs run on KVM\n");
		return;
	}
	r = asked == VMM_ACCEL_TCG ? NULL : vmm_kvm_report();
	if (!r || r->forced)
		fprintf(stderr, "podvm: VMs run under TCG emulation (%s)\n",
			r ? r->reason : "asked for");
	else
		fprintf(stderr, "podvm: /dev/kvm not usable (%s), VMs run under "
			"TCG emulation (slower)\n", r->reason);
}

int lv_open(const struct vmm_config *cfg, struct vmm **out, struct pv_err *err)
{
	struct lv_conn *c = NULL;
	char uri[VMM_PATH_MAX + 64];
	bool loop = false;
	int rc = 0;

	*out = NULL;
	if (!cfg)
		return pv_err_set(err, EINVAL, "libvirt: no configuration");
	pthread_once(&lv_once, lv_init_once);
	if (lv_once_rc < 0)
		return lv_err(err, -lv_once_rc, "libvirt: initialization failed");
	lv_reaper_start();

	c = calloc(1, sizeof(*c));
	if (!c)
		return pv_err_sys(err, ENOMEM, "libvirt connection");
	c->base.ops = &vmm_libvirt_ops;

	rc = lv_uri(c, cfg, uri, sizeof(uri), err);
	if (rc < 0)
		goto out;

	switch (cfg->accel) {
	case VMM_ACCEL_KVM:
	case VMM_ACCEL_TCG:
		c->accel = cfg->accel;
		break;
	default:
		c->accel = vmm_kvm_usable() ? VMM_ACCEL_KVM : VMM_ACCEL_TCG;
	}
	if (c->accel == VMM_ACCEL_KVM)
		c->cpu_disable = vmm_kvm_report()->cpu_disable;

	/* The embedded driver needs a running event loop while connecting. */
	rc = lv_loop_get(err);
	if (rc < 0)
		goto out;
	loop = true;
	c->conn = virConnectOpen(uri);
	if (!c->conn) {
		rc = lv_err(err, EIO, "libvirt: connect %s", uri);
		goto out;
	}
	if (!cfg->quiet)
		lv_say_accel(c->accel, cfg->accel);
	*out = &c->base;
	c = NULL;
out:
	if (c) {
		if (c->conn)
			virConnectClose(c->conn);
		if (loop)
			lv_loop_put();
		free(c);
	}
	return rc;
}

/* VM handles must be released first. Running VMs keep running. */
void lv_close(struct vmm *v)
{
	struct lv_conn *c = (struct lv_conn *)v;

	if (!c)
		return;
	if (c->conn)
		virConnectClose(c->conn);
	lv_loop_put();
	free(c);
}

enum vmm_accel lv_accel(struct vmm *v)
{
	return ((struct lv_conn *)v)->accel;
}

const struct vmm_ops vmm_libvirt_ops = {
	.name = "libvirt",
	.open = lv_open,
	.close = lv_close,
	.boot = lv_boot,
	.attach = lv_attach,
	.list = lv_list,
	.shutdown = lv_shutdown,
	.destroy = lv_destroy,
	.state = lv_state,
	.stats = lv_stats,
	.exit_fd = lv_exit_fd,
	.pid = lv_pid,
	.release = lv_release,
	.accel = lv_accel,
};
