/* cgroup v2: one group per container under GUEST_CGROUP_PODVM, with
 * cpu.max from limits.cpu, memory.max from limits.memory (no swap) and
 * pids.max (GUEST_PIDS_MAX_DEFAULT: a fork bomb must not take the VM
 * down with the pod's other containers; Kubernetes has no per-container
 * field for it). The child is cloned straight into its group
 * (CLONE_INTO_CGROUP) with a new cgroup namespace rooted there. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int guest_cg_write(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd, n;
	ssize_t w;

	n = snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, val, strlen(val));
	n = w < 0 ? -errno : 0;
	close(fd);
	return n;
}

int guest_cgroup_init(struct pv_err *err)
{
	int rc;

	if (mount("cgroup2", GUEST_CGROUP_ROOT, "cgroup2",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, "nsdelegate") < 0 && errno != EBUSY)
		return pv_err_sys(err, errno, "mount cgroup2 on %s", GUEST_CGROUP_ROOT);
	rc = guest_cg_write(GUEST_CGROUP_ROOT, "cgroup.subtree_control",
			    "+cpu +memory +pids");
	if (rc < 0)
		return pv_err_sys(err, -rc, "enabling cpu, memory, pids controllers");
	if (mkdir(GUEST_CGROUP_PODVM, 0755) < 0 && errno != EEXIST)
		return pv_err_sys(err, errno, "mkdir %s", GUEST_CGROUP_PODVM);
	rc = guest_cg_write(GUEST_CGROUP_PODVM, "cgroup.subtree_control",
			    "+cpu +memory +pids");
	if (rc < 0)
		return pv_err_sys(err, -rc, "enabling controllers in %s", GUEST_CGROUP_PODVM);
	return 0;
}

void guest_cgroup_cpu_max(int64_t millicores, char *buf, size_t len)
{
	/* quota per 100 ms period: 1 CPU = 100000 us; at least 1 ms */
	if (millicores <= 0)
		snprintf(buf, len, "max 100000");
	else
		snprintf(buf, len, "%" PRId64 " 100000",
			 millicores * 100 < 1000 ? 1000 : millicores * 100);
}

int guest_cgroup_prepare(const char *name, const struct pod_resources *res,
			 int *dirfd, struct pv_err *err)
{
	char dir[300], val[64];
	int n, rc;

	*dirfd = -1;
	n = snprintf(dir, sizeof(dir), GUEST_CGROUP_PODVM "/%s", name);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return pv_err_set(err, ENAMETOOLONG, "cgroup path too long");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return pv_err_sys(err, errno, "mkdir %s", dir);
	guest_cgroup_cpu_max(res && res->has_lim_cpu ? res->lim_cpu_m : 0, val,
			     sizeof(val));
	rc = guest_cg_write(dir, "cpu.max", val);
	if (rc < 0)
		return pv_err_sys(err, -rc, "cgroup %s: cpu.max %s", name, val);
	if (res && res->has_lim_mem && res->lim_mem > 0)
		snprintf(val, sizeof(val), "%" PRId64, res->lim_mem);
	else
		snprintf(val, sizeof(val), "max");
	rc = guest_cg_write(dir, "memory.max", val);
	if (rc < 0)
		return pv_err_sys(err, -rc, "cgroup %s: memory.max %s", name, val);
	guest_cg_write(dir, "memory.swap.max", "0");   /* absent without swap */
	/* Kubernetes (cgroup v2): an OOM kills the whole container. */
	guest_cg_write(dir, "memory.oom.group", "1");
	snprintf(val, sizeof(val), "%d", GUEST_PIDS_MAX_DEFAULT);
	rc = guest_cg_write(dir, "pids.max", val);
	if (rc < 0)
		return pv_err_sys(err, -rc, "cgroup %s: pids.max", name);
	*dirfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (*dirfd < 0)
		return pv_err_sys(err, errno, "open %s", dir);
	return 0;
}

uint64_t guest_cgroup_oom_kills(const char *name)
{
	char path[320], buf[1024], *p;
	uint64_t v = 0;
	ssize_t n;
	int fd, k;

	k = snprintf(path, sizeof(path), GUEST_CGROUP_PODVM "/%s/memory.events", name);
	if (k < 0 || (size_t)k >= sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "oom_kill ");
	if (p)
		v = strtoull(p + 9, NULL, 10);
	return v;
}
