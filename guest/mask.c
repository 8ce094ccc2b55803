/* The container's view of /proc and /sys, hardened as runc's default spec
 * does it (containerd and Docker use the same lists): kernel interfaces
 * that leak host data or act on the whole VM are masked (/dev/null over
 * a file, an empty read-only tmpfs over a directory), and /proc's global
 * knobs are read-only, so that root in a container can neither write
 * /proc/sys/kernel/core_pattern (a pipe there runs as root outside every
 * container) nor trigger sysrq (power off, crash the VM).
 *
 * Runs in the container child after /proc, /sys and /dev are mounted and
 * after pivot_root, so every path is the kernel's own. A path the kernel
 * does not have is skipped (ENOENT), as in runc. */
#include "guest/guest.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static const struct { const char *path, *why; } guest_masked[] = {
	{ "/proc/acpi", "firmware tables and power buttons" },
	{ "/proc/asound", "sound devices" },
	{ "/proc/kcore", "the VM's physical memory" },
	{ "/proc/keys", "every key in the kernel keyring" },
	{ "/proc/latency_stats", "kernel latency of all processes" },
	{ "/proc/timer_list", "timers of all processes (pointers, names)" },
	{ "/proc/timer_stats", "timers of all processes" },
	{ "/proc/sched_debug", "every task of the VM" },
	{ "/proc/scsi", "SCSI devices; writes rescan buses" },
	{ "/sys/firmware", "firmware tables, EFI variables" },
	{ "/sys/devices/virtual/powercap", "RAPL energy counters (side channel)" },
};

static const struct { const char *path, *why; } guest_readonly[] = {
	{ "/proc/bus", "PCI and USB configuration space" },
	{ "/proc/fs", "filesystem tunables" },
	{ "/proc/irq", "interrupt affinity" },
	{ "/proc/sys", "kernel parameters (core_pattern, modprobe, ...)" },
	{ "/proc/sysrq-trigger", "sysrq: reboot, crash or power off the VM" },
};

static int guest_mask_one(const char *path, struct pv_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : pv_err_sys(err, errno, "mask %s", path);
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV |
			  MS_NOEXEC, "mode=0555") < 0)
			return pv_err_sys(err, errno, "mask %s", path);
		return 0;
	}
	if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0)
		return pv_err_sys(err, errno, "mask %s", path);
	return 0;
}

/* Bind the path onto itself, then make that mount read-only, keeping the
 * flags it had (nosuid, nodev, noexec). */
static int guest_readonly_one(const char *path, struct pv_err *err)
{
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
	struct statvfs sv;

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return errno == ENOENT ? 0 : pv_err_sys(err, errno, "bind %s", path);
	if (statvfs(path, &sv) < 0)
		return pv_err_sys(err, errno, "statvfs %s", path);
	if (sv.f_flag & ST_NOSUID)
		flags |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		flags |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		flags |= MS_NOEXEC;
	if (mount(path, path, NULL, flags, NULL) < 0)
		return pv_err_sys(err, errno, "remount %s read-only", path);
	return 0;
}

int guest_mask_paths(struct pv_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < sizeof(guest_readonly) / sizeof(guest_readonly[0]); i++) {
		rc = guest_readonly_one(guest_readonly[i].path, err);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < sizeof(guest_masked) / sizeof(guest_masked[0]); i++) {
		rc = guest_mask_one(guest_masked[i].path, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}
