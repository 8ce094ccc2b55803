/* The RuntimeDefault seccomp profile (also the profile of a container
 * that sets none), as data: an allow-list equivalent to containerd's
 * default profile for x86-64 on a kernel >= 4.8. Anything not allowed
 * gets EPERM (containerd's default action), except:
 *   - clone3 without CAP_SYS_ADMIN gets ENOSYS, so that glibc >= 2.34
 *     falls back to clone (whose flags can be filtered);
 *   - a syscall newer than every syscall the profile names gets ENOSYS
 *     (guest/seccomp.c adds runc's stub), so libcs fall back on kernels
 *     newer than the profile.
 * The syscall list is containerd's interface; names this libseccomp does
 * not know are skipped when the filter is built, as runc does. */
#include "guest/seccomp.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>

#define GUEST_SC_ALWAYS (-1)

/* Allowed for every container. */
static const char *const guest_sc_allow[] = {
	"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk",
	"cachestat", "capget", "capset", "chdir", "chmod", "chown", "chown32",
	"clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64",
	"clock_gettime", "clock_gettime64", "clock_nanosleep",
	"clock_nanosleep_time64", "close", "close_range", "connect",
	"copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
	"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
	"execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2",
	"fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir",
	"fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat",
	"fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock",
	"fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64",
	"fstatfs", "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex",
	"futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
	"futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64",
	"getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
	"getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
	"getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
	"getresgid32", "getresuid", "getresuid32", "getrlimit",
	"get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
	"get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32",
	"getxattr", "getxattrat", "inotify_add_watch", "inotify_init",
	"inotify_init1", "inotify_rm_watch", "io_cancel", "ioctl", "io_destroy",
	"io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
	"ioprio_set", "io_setup", "io_submit", "ipc", "kill",
	"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
	"lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
	"listmount", "listxattr", "listxattrat", "llistxattr", "_llseek",
	"lremovexattr", "lseek", "lsetxattr", "lsm_get_self_attr",
	"lsm_list_modules", "lsm_set_self_attr", "lstat", "lstat64", "madvise",
	"membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
	"mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall",
	"map_shadow_stack", "mmap", "mmap2", "mprotect", "mq_getsetattr",
	"mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
	"mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "mseal",
	"msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
	"munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
	"_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
	"pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
	"pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64",
	"preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
	"pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read",
	"readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
	"recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages",
	"removexattr", "removexattrat", "rename", "renameat", "renameat2",
	"restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
	"rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
	"sched_getaffinity", "sched_getattr", "sched_getparam",
	"sched_get_priority_max", "sched_get_priority_min",
	"sched_getscheduler", "sched_rr_get_interval",
	"sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
	"sched_setparam", "sched_setscheduler", "sched_yield", "seccomp",
	"select", "semctl", "semget", "semop", "semtimedop",
	"semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg",
	"sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32",
	"setgid", "setgid32", "setgroups", "setgroups32", "setitimer",
	"setpgid", "setpriority", "setregid", "setregid32", "setresgid",
	"setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
	"setrlimit", "set_robust_list", "setsid", "setsockopt",
	"set_thread_area", "set_tid_address", "setuid", "setuid32", "setxattr",
	"setxattrat", "shmat", "shmctl", "shmdt", "shmget", "shutdown",
	"sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
	"socketcall", "socketpair", "splice", "stat", "stat64", "statfs",
	"statfs64", "statmount", "statx", "symlink", "symlinkat", "sync",
	"sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
	"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
	"timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create",
	"timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
	"timerfd_settime64", "times", "tkill", "truncate", "truncate64",
	"ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe",
	"utime", "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice",
	"wait4", "waitid", "waitpid", "write", "writev",
	/* containerd allows these on kernels >= 4.8, where ptrace can no
	 * longer be used to bypass seccomp */
	"process_vm_readv", "process_vm_writev", "ptrace",
	/* x86-64 only: TLS setup and 16-bit segments */
	"arch_prctl", "modify_ldt",
};

/* Each capability re-enables what it governs, as in containerd. */
#define NAMES(...) (const char *const[]){ __VA_ARGS__, NULL }
static const struct guest_sc_gate {
	int cap;
	const char *const *names;
	const char *why;
} guest_sc_gates[] = {
	{ CAP_DAC_READ_SEARCH, NAMES("open_by_handle_at"),
	  "file handles bypass path permission checks (the shocker exploit)" },
	{ CAP_SYS_ADMIN, NAMES("bpf", "clone", "clone3", "fanotify_init",
			       "fsconfig", "fsmount", "fsopen", "fspick",
			       "lookup_dcookie", "mount", "mount_setattr",
			       "move_mount", "open_tree", "perf_event_open",
			       "quotactl", "quotactl_fd", "setdomainname",
			       "sethostname", "setns", "syslog", "umount",
			       "umount2", "unshare"),
	  "mounts, namespaces, eBPF, perf and the kernel log are VM-wide" },
	{ CAP_SYS_BOOT, NAMES("reboot"), "reboots the VM" },
	{ CAP_SYS_CHROOT, NAMES("chroot"), "chroot" },
	{ CAP_SYS_MODULE, NAMES("delete_module", "init_module", "finit_module"),
	  "kernel modules" },
	{ CAP_SYS_PACCT, NAMES("acct"), "process accounting is VM-wide" },
	{ CAP_SYS_PTRACE, NAMES("kcmp", "pidfd_getfd", "process_madvise",
				"process_vm_readv", "process_vm_writev", "ptrace"),
	  "acting on other processes" },
	{ CAP_SYS_RAWIO, NAMES("iopl", "ioperm"), "raw port I/O" },
	{ CAP_SYS_TIME, NAMES("settimeofday", "stime", "clock_settime",
			      "clock_settime64"), "the VM's clock" },
	{ CAP_SYS_TTY_CONFIG, NAMES("vhangup"), "hangs up terminals" },
	{ CAP_SYS_NICE, NAMES("get_mempolicy", "mbind", "set_mempolicy",
			      "set_mempolicy_home_node"), "NUMA memory policy" },
	{ CAP_SYSLOG, NAMES("syslog"), "the kernel log" },
	{ CAP_BPF, NAMES("bpf"), "eBPF programs" },
	{ CAP_PERFMON, NAMES("perf_event_open"), "perf events" },
};

/* Not in the profile at all (EPERM even with every capability), with
 * why; the unit tests check that none of them is ever allowed. */
const struct guest_sc_refusal guest_sc_refused[] = {
	{ "add_key", "the kernel keyring is not namespaced" },
	{ "keyctl", "the kernel keyring is not namespaced" },
	{ "request_key", "the kernel keyring is not namespaced" },
	{ "kexec_load", "loads a new kernel" },
	{ "kexec_file_load", "loads a new kernel" },
	{ "io_uring_setup", "io_uring bypasses seccomp (containerd removed it)" },
	{ "io_uring_enter", "io_uring bypasses seccomp (containerd removed it)" },
	{ "io_uring_register", "io_uring bypasses seccomp (containerd removed it)" },
	{ "userfaultfd", "widens kernel race windows for exploits" },
	{ "swapon", "VM-wide swap" },
	{ "swapoff", "VM-wide swap" },
	{ "pivot_root", "changing the root is the runtime's job" },
	{ "create_module", "obsolete module interface" },
	{ "query_module", "obsolete module interface" },
	{ "get_kernel_syms", "obsolete module interface" },
	{ "nfsservctl", "removed from the kernel" },
	{ "uselib", "obsolete library loader" },
	{ "ustat", "obsolete, leaks filesystem information" },
	{ "sysfs", "obsolete filesystem type query" },
	{ "_sysctl", "obsolete sysctl interface" },
	{ "vm86", "in-kernel emulation, attack surface" },
	{ "vm86old", "in-kernel emulation, attack surface" },
	{ "move_pages", "NUMA page moves across processes" },
	{ NULL, NULL },
};

/* clone is allowed when it makes no new namespace (its flags are
 * argument 0 on x86); with CAP_SYS_ADMIN it is allowed outright. */
#define GUEST_SC_NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | \
			   CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
			   CLONE_NEWCGROUP)

static bool guest_sc_has(uint64_t caps, int cap)
{
	return cap >= 0 && cap < 64 && (caps & (1ULL << cap));
}

static struct scp_rule *guest_sc_rule(struct guest_sc_profile *o,
				      enum scp_action act)
{
	struct scp_rule *r = &o->rules[o->p.n_rules++];

	memset(r, 0, sizeof(*r));
	r->action = act;
	return r;
}

static void guest_sc_arg(struct scp_rule *r, enum scp_op op, uint64_t v,
			 uint64_t v2)
{
	r->args[r->n_args++] = (struct scp_arg){ .index = 0, .value = v,
						 .value_two = v2, .op = op };
}

void guest_seccomp_default(uint64_t caps, struct guest_sc_profile *o)
{
	static const char *const socket_name[] = { "socket" };
	static const char *const persona_name[] = { "personality" };
	static const char *const clone_name[] = { "clone" };
	static const char *const clone3_name[] = { "clone3" };
	/* PER_LINUX, UNAME26, PER_LINUX32, PER_LINUX32|UNAME26, query */
	static const uint64_t personas[] = { 0x0, 0x0008, 0x20000, 0x20008,
					     0xffffffff };
	struct scp_rule *r;
	size_t i;

	memset(o, 0, sizeof(*o));
	o->p.default_action = SCP_ACT_ERRNO;   /* EPERM */
	o->p.arches = SCP_ARCH_X86_64 | SCP_ARCH_X86 | SCP_ARCH_X32;
	o->p.rules = o->rules;
	r = guest_sc_rule(o, SCP_ACT_ALLOW);
	r->names = guest_sc_allow;
	r->n_names = sizeof(guest_sc_allow) / sizeof(guest_sc_allow[0]);
	/* vsock reaches the VMM's host side: never from a container */
	r = guest_sc_rule(o, SCP_ACT_ALLOW);
	r->names = socket_name;
	r->n_names = 1;
	guest_sc_arg(r, SCP_OP_NE, AF_VSOCK, 0);
	/* personality: only the execution domains Linux binaries use */
	for (i = 0; i < sizeof(personas) / sizeof(personas[0]); i++) {
		r = guest_sc_rule(o, SCP_ACT_ALLOW);
		r->names = persona_name;
		r->n_names = 1;
		guest_sc_arg(r, SCP_OP_EQ, personas[i], 0);
	}
	for (i = 0; i < sizeof(guest_sc_gates) / sizeof(guest_sc_gates[0]); i++) {
		const struct guest_sc_gate *g = &guest_sc_gates[i];

		if (!guest_sc_has(caps, g->cap))
			continue;
		r = guest_sc_rule(o, SCP_ACT_ALLOW);
		r->names = g->names;
		while (g->names[r->n_names])
			r->n_names++;
	}
	if (!guest_sc_has(caps, CAP_SYS_ADMIN)) {
		r = guest_sc_rule(o, SCP_ACT_ALLOW);
		r->names = clone_name;
		r->n_names = 1;
		guest_sc_arg(r, SCP_OP_MASKED_EQ, GUEST_SC_NS_FLAGS, 0);
		/* clone3's flags are behind a pointer: refuse it in a way
		 * that makes libcs fall back to clone */
		r = guest_sc_rule(o, SCP_ACT_ERRNO);
		r->names = clone3_name;
		r->n_names = 1;
		r->has_errno = true;
		r->errno_ret = ENOSYS;
	}
}

/* For tests and docs: 0 allowed whatever the arguments, -1 depends on
 * them, else the errno the profile answers (ENOSYS for a name it does
 * not mention is the stub's business, reported here as EPERM). */
int guest_seccomp_default_verdict(const char *name, uint64_t caps)
{
	struct guest_sc_profile o;
	int v = EPERM;

	guest_seccomp_default(caps, &o);
	for (size_t i = 0; i < o.p.n_rules; i++) {
		const struct scp_rule *r = &o.p.rules[i];

		for (size_t j = 0; j < r->n_names; j++) {
			if (strcmp(r->names[j], name) != 0)
				continue;
			if (r->action == SCP_ACT_ALLOW && !r->n_args)
				return 0;
			if (r->action == SCP_ACT_ALLOW)
				v = -1;
			else if (v != -1)
				v = (int)seccomp_profile_errno(r->has_errno, r->errno_ret);
		}
	}
	return v;
}
