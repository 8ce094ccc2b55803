/* Named network namespaces: a namespace lives as long as its bind mount at
 * DIR/NAME (the `ip netns` convention, so `ip netns exec` and nsenter work
 * on ours).  Namespace changes happen on short-lived threads: the calling
 * thread never leaves its namespace, so a failed setns back can never
 * leave a daemon thread stranded in a VPC. */
#include "netns/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util/util.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int netns_ns_dir_prepare(const char *dir, struct pv_err *err)
{
	int ret = util_mkdir_p(dir, 0755, err);

	if (ret < 0)
		return ret;
	/* Privileged (CAP_SYS_ADMIN): a shared mount, so that a namespace
	 * mounted here shows in mount namespaces cloned later and is
	 * unmounted in them too (else they would pin it forever). */
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return pv_err_sys(err, errno, "make %s a shared mount", dir);
	/* not a mount point yet: bind it onto itself first, as ip netns does */
	if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
		return pv_err_sys(err, errno, "bind mount %s", dir);
	if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0)
		return pv_err_sys(err, errno, "make %s a shared mount", dir);
	return 0;
}

struct ns_thread {
	int nsfd;
	int (*fn)(void *arg, struct pv_err *err);
	void *arg;
	struct pv_err *err;
	int ret;
};

static void *ns_thread_main(void *p)
{
	struct ns_thread *t = p;

	/* Privileged (CAP_SYS_ADMIN): join the namespace for this thread only. */
	if (t->nsfd >= 0 && setns(t->nsfd, CLONE_NEWNET) < 0) {
		t->ret = pv_err_sys(t->err, errno, "setns");
		return NULL;
	}
	t->ret = t->fn(t->arg, t->err);
	return NULL;
}

int netns_ns_run_in(int nsfd, int (*fn)(void *arg, struct pv_err *err), void *arg,
	      struct pv_err *err)
{
	struct ns_thread t = { .nsfd = nsfd, .fn = fn, .arg = arg, .err = err };
	pthread_t th;
	int rc;

	rc = pthread_create(&th, NULL, ns_thread_main, &t);
	if (rc)
		return pv_err_sys(err, rc, "create namespace thread");
	pthread_join(th, NULL);
	return t.ret;
}

static int ns_create_fn(void *arg, struct pv_err *err)
{
	const char *path = arg;

	/* Privileged (CAP_SYS_ADMIN): a new network namespace for this thread. */
	if (unshare(CLONE_NEWNET) < 0)
		return pv_err_sys(err, errno, "unshare(CLONE_NEWNET)");
	/* Privileged: the bind mount keeps the namespace alive after the
	 * thread exits. */
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		return pv_err_sys(err, errno, "bind mount namespace on %s", path);
	return 0;
}

int netns_ns_create(const char *path, struct pv_err *err)
{
	int fd, ret;

	ret = NETNS_STEP("create namespace", err);
	if (ret < 0)
		return ret;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return pv_err_sys(err, errno, "create %s", path);
	close(fd);
	ret = netns_ns_run_in(-1, ns_create_fn, (void *)path, err);
	if (ret < 0)
		unlink(path);
	return ret;
}

int netns_ns_delete(const char *path, struct pv_err *err)
{
	int ret = NETNS_STEP("delete namespace", err);

	if (ret < 0)
		return ret;
	/* Privileged (CAP_SYS_ADMIN): dropping the last mount frees the
	 * namespace; the kernel then deletes all its links in one batch.
	 * MNT_DETACH: a process still inside keeps it, we don't wait. */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return pv_err_sys(err, errno, "unmount %s", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return pv_err_sys(err, errno, "unlink %s", path);
	return 0;
}

int netns_ns_is_mounted(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return -errno;
	return sf.f_type == NSFS_MAGIC;
}

int netns_ns_open(const char *path, int *out, struct pv_err *err)
{
	struct statfs sf;
	int fd;

	*out = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_err_sys(err, errno, "open namespace %s", path);
	if (fstatfs(fd, &sf) < 0 || sf.f_type != NSFS_MAGIC) {
		close(fd);
		return pv_err_set(err, ENOENT, "%s: not a mounted namespace", path);
	}
	*out = fd;
	return 0;
}
