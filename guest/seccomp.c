/* seccompProfile RuntimeDefault (also when the profile is not set):
 * a deny-list with the same effect, for a container without
 * privileged mode, as containerd's default profile (an allow-list with
 * default action ERRNO(EPERM)). Everything below returns EPERM unless
 * the container holds the capability that containerd's profile checks
 * for that syscall (CAP_SYS_ADMIN re-enables mount, unshare, setns...).
 * Syscalls of other ABIs (i386, x32) get the same rules. Unconfined: no
 * filter at all. */
#include "guest/guest.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

struct guest_sc_rule {
	const char *name;
	int cap;               /* capability that allows it; -1: never */
	const char *why;
};

#define NEVER (-1)
static const struct guest_sc_rule guest_sc_rules[] = {
	/* kernel keyring is not namespaced */
	{ "add_key", NEVER, "keyring is shared with the VM" },
	{ "keyctl", NEVER, "keyring is shared with the VM" },
	{ "request_key", NEVER, "keyring is shared with the VM" },
	/* obsolete or dangerous interfaces */
	{ "create_module", NEVER, "obsolete module interface" },
	{ "get_kernel_syms", NEVER, "obsolete module interface" },
	{ "query_module", NEVER, "obsolete module interface" },
	{ "nfsservctl", NEVER, "removed from the kernel" },
	{ "uselib", NEVER, "obsolete shared library loader" },
	{ "ustat", NEVER, "obsolete, leaks VM filesystem info" },
	{ "sysfs", NEVER, "obsolete filesystem type query" },
	{ "_sysctl", NEVER, "obsolete sysctl interface" },
	{ "vm86", NEVER, "in-kernel emulation, attack surface" },
	{ "vm86old", NEVER, "in-kernel emulation, attack surface" },
	{ "userfaultfd", NEVER, "used to widen kernel race windows" },
	{ "kexec_load", NEVER, "loads a new kernel" },
	{ "kexec_file_load", NEVER, "loads a new kernel" },
	{ "swapon", NEVER, "VM-wide swap" },
	{ "swapoff", NEVER, "VM-wide swap" },
	{ "pivot_root", NEVER, "not in containerd's allow-list even with SYS_ADMIN" },
	{ "io_uring_setup", NEVER, "containerd removed io_uring (bypasses seccomp)" },
	{ "io_uring_enter", NEVER, "containerd removed io_uring (bypasses seccomp)" },
	{ "io_uring_register", NEVER, "containerd removed io_uring (bypasses seccomp)" },
	/* gated by capabilities, as in containerd's profile */
	{ "acct", CAP_SYS_PACCT, "process accounting is VM-wide" },
	{ "bpf", CAP_SYS_ADMIN, "eBPF programs are VM-wide" },
	{ "clone3", CAP_SYS_ADMIN, "flags cannot be filtered (pointer); libc falls back to clone" },
	{ "fanotify_init", CAP_SYS_ADMIN, "watches the whole filesystem" },
	{ "fsconfig", CAP_SYS_ADMIN, "new mount API" },
	{ "fsmount", CAP_SYS_ADMIN, "new mount API" },
	{ "fsopen", CAP_SYS_ADMIN, "new mount API" },
	{ "fspick", CAP_SYS_ADMIN, "new mount API" },
	{ "lookup_dcookie", CAP_SYS_ADMIN, "profiling interface" },
	{ "mount", CAP_SYS_ADMIN, "mount changes" },
	{ "mount_setattr", CAP_SYS_ADMIN, "new mount API" },
	{ "move_mount", CAP_SYS_ADMIN, "new mount API" },
	{ "name_to_handle_at", CAP_SYS_ADMIN, "file handles bypass path checks" },
	{ "open_tree", CAP_SYS_ADMIN, "new mount API" },
	{ "perf_event_open", CAP_SYS_ADMIN, "perf leaks VM-wide data" },
	{ "quotactl", CAP_SYS_ADMIN, "filesystem quotas" },
	{ "quotactl_fd", CAP_SYS_ADMIN, "filesystem quotas" },
	{ "setdomainname", CAP_SYS_ADMIN, "UTS changes" },
	{ "sethostname", CAP_SYS_ADMIN, "UTS changes" },
	{ "setns", CAP_SYS_ADMIN, "joining other namespaces" },
	{ "syslog", CAP_SYS_ADMIN, "kernel log" },
	{ "umount", CAP_SYS_ADMIN, "mount changes" },
	{ "umount2", CAP_SYS_ADMIN, "mount changes" },
	{ "unshare", CAP_SYS_ADMIN, "new namespaces" },
	{ "reboot", CAP_SYS_BOOT, "reboots the VM" },
	{ "delete_module", CAP_SYS_MODULE, "kernel modules" },
	{ "init_module", CAP_SYS_MODULE, "kernel modules" },
	{ "finit_module", CAP_SYS_MODULE, "kernel modules" },
	{ "kcmp", CAP_SYS_PTRACE, "inspects other processes" },
	{ "pidfd_getfd", CAP_SYS_PTRACE, "steals other processes' fds" },
	{ "process_madvise", CAP_SYS_PTRACE, "acts on other processes" },
	{ "process_vm_readv", CAP_SYS_PTRACE, "reads other processes' memory" },
	{ "process_vm_writev", CAP_SYS_PTRACE, "writes other processes' memory" },
	{ "ptrace", CAP_SYS_PTRACE, "inspects other processes" },
	{ "iopl", CAP_SYS_RAWIO, "raw port I/O" },
	{ "ioperm", CAP_SYS_RAWIO, "raw port I/O" },
	{ "settimeofday", CAP_SYS_TIME, "VM clock" },
	{ "stime", CAP_SYS_TIME, "VM clock" },
	{ "clock_settime", CAP_SYS_TIME, "VM clock" },
	{ "clock_settime64", CAP_SYS_TIME, "VM clock" },
	{ "clock_adjtime", CAP_SYS_TIME, "VM clock" },
	{ "clock_adjtime64", CAP_SYS_TIME, "VM clock" },
	{ "vhangup", CAP_SYS_TTY_CONFIG, "hangs up terminals" },
	{ "get_mempolicy", CAP_SYS_NICE, "NUMA policy" },
	{ "mbind", CAP_SYS_NICE, "NUMA policy" },
	{ "set_mempolicy", CAP_SYS_NICE, "NUMA policy" },
	{ "move_pages", CAP_SYS_NICE, "NUMA page moves" },
	{ "open_by_handle_at", CAP_DAC_READ_SEARCH, "file handles bypass path checks (shocker)" },
};

/* clone with any of these needs CAP_SYS_ADMIN in containerd's profile. */
static const unsigned long guest_sc_ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
	CLONE_NEWNET, CLONE_NEWCGROUP,
};

/* personality() values containerd allows (PER_LINUX, UNAME26,
 * PER_LINUX32, PER_LINUX32|UNAME26, query). */
static const unsigned long guest_sc_personas[] = {
	0x0, 0x0008, 0x20000, 0x20008, 0xffffffff,
};

static bool guest_has_cap(uint64_t caps, int cap)
{
	return cap >= 0 && cap < 64 && (caps & (1ULL << cap));
}

bool guest_seccomp_blocks(const char *syscall, uint64_t caps)
{
	size_t i;

	for (i = 0; i < sizeof(guest_sc_rules) / sizeof(guest_sc_rules[0]); i++)
		if (strcmp(guest_sc_rules[i].name, syscall) == 0)
			return !guest_has_cap(caps, guest_sc_rules[i].cap);
	return false;
}

/* The filter for a capability set, built and exported to BPF once by
 * PID 1 (guest_seccomp_prepare) before it forks: every container and
 * every exec, probe and hook only installs it (compiling it costs
 * several ms under TCG). */
#define GUEST_SC_CACHE 8
static struct {
	bool used;
	uint64_t caps;
	struct sock_filter *prog;
	unsigned short len;
} guest_sc_cache[GUEST_SC_CACHE];

static int guest_seccomp_build(uint64_t caps, scmp_filter_ctx *out,
			       struct pv_err *err);

int guest_seccomp_prepare(uint64_t caps, struct pv_err *err)
{
	scmp_filter_ctx ctx = NULL;
	struct sock_filter *prog = NULL;
	struct stat st;
	int fd = -1, rc;
	size_t i;

	for (i = 0; i < GUEST_SC_CACHE; i++)
		if (guest_sc_cache[i].used && guest_sc_cache[i].caps == caps)
			return 0;
	for (i = 0; i < GUEST_SC_CACHE && guest_sc_cache[i].used; i++)
		;
	if (i == GUEST_SC_CACHE)
		return 0;   /* full: children compile their own */
	rc = guest_seccomp_build(caps, &ctx, err);
	if (rc < 0)
		goto out;
	fd = memfd_create("podvm-seccomp", MFD_CLOEXEC);
	if (fd < 0) {
		rc = pv_err_sys(err, errno, "memfd_create");
		goto out;
	}
	rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size % (off_t)sizeof(*prog) != 0 ||
	    st.st_size / (off_t)sizeof(*prog) > 0xffff) {
		rc = pv_err_set(err, EINVAL, "seccomp: exporting the filter");
		goto out;
	}
	prog = malloc((size_t)st.st_size);
	if (!prog) {
		rc = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (pread(fd, prog, (size_t)st.st_size, 0) != st.st_size) {
		rc = pv_err_sys(err, errno, "seccomp: reading the filter");
		goto out;
	}
	guest_sc_cache[i].used = true;
	guest_sc_cache[i].caps = caps;
	guest_sc_cache[i].prog = prog;
	guest_sc_cache[i].len = (unsigned short)(st.st_size / (off_t)sizeof(*prog));
	prog = NULL;
	rc = 0;
out:
	free(prog);
	if (fd >= 0)
		close(fd);
	if (ctx)
		seccomp_release(ctx);
	return rc;
}

int guest_seccomp_load(uint64_t caps, struct pv_err *err)
{
	scmp_filter_ctx ctx = NULL;
	size_t i;
	int rc;

	for (i = 0; i < GUEST_SC_CACHE; i++) {
		struct sock_fprog fp;

		if (!guest_sc_cache[i].used || guest_sc_cache[i].caps != caps)
			continue;
		fp.len = guest_sc_cache[i].len;
		fp.filter = guest_sc_cache[i].prog;
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0) < 0)
			return pv_err_sys(err, errno, "seccomp: installing the filter");
		return 0;
	}
	rc = guest_seccomp_build(caps, &ctx, err);
	if (rc < 0)
		return rc;
	rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return pv_err_set(err, -rc, "seccomp: loading the RuntimeDefault filter: %s",
				  strerror(-rc));
	return 0;
}

static int guest_seccomp_build(uint64_t caps, scmp_filter_ctx *out,
			       struct pv_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
	size_t i;
	int rc;

	if (!ctx)
		return pv_err_set(err, ENOMEM, "seccomp_init");
	/* no_new_privs is the container's choice (allowPrivilegeEscalation),
	 * not libseccomp's: we load while still holding CAP_SYS_ADMIN. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		goto fail;
	/* 32-bit binaries run in containers too: same rules for their ABIs. */
	rc = seccomp_arch_add(ctx, SCMP_ARCH_X86);
	if (rc < 0 && rc != -EEXIST)
		goto fail;
	rc = seccomp_arch_add(ctx, SCMP_ARCH_X32);
	if (rc < 0 && rc != -EEXIST)
		goto fail;
	for (i = 0; i < sizeof(guest_sc_rules) / sizeof(guest_sc_rules[0]); i++) {
		int nr;

		if (guest_has_cap(caps, guest_sc_rules[i].cap))
			continue;
		nr = seccomp_syscall_resolve_name(guest_sc_rules[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue;   /* not on this architecture */
		rc = seccomp_rule_add(ctx, eperm, nr, 0);
		if (rc < 0 && rc != -EDOM && rc != -EOPNOTSUPP)
			goto fail;
	}
	if (!guest_has_cap(caps, CAP_SYS_ADMIN)) {
		/* namespaces: one rule per flag (masked equality ORs them) */
		for (i = 0; i < sizeof(guest_sc_ns_flags) / sizeof(guest_sc_ns_flags[0]); i++) {
			rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(clone), 1,
					      SCMP_A0(SCMP_CMP_MASKED_EQ, guest_sc_ns_flags[i],
						      guest_sc_ns_flags[i]));
			if (rc < 0)
				goto fail;
		}
	}
	/* personality: only the execution domains containerd allows */
	rc = seccomp_rule_add(ctx, eperm, SCMP_SYS(personality), 5,
			      SCMP_A0(SCMP_CMP_NE, guest_sc_personas[0]),
			      SCMP_A0(SCMP_CMP_NE, guest_sc_personas[1]),
			      SCMP_A0(SCMP_CMP_NE, guest_sc_personas[2]),
			      SCMP_A0(SCMP_CMP_NE, guest_sc_personas[3]),
			      SCMP_A0(SCMP_CMP_NE, guest_sc_personas[4]));
	if (rc < 0)
		guest_diag("seccomp: personality filter not supported: %s", strerror(-rc));
	*out = ctx;
	return 0;
fail:
	seccomp_release(ctx);
	return pv_err_set(err, -rc, "seccomp: building the RuntimeDefault filter: %s",
			  strerror(-rc));
}
