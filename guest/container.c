/* One container process: clone3() into its cgroup and new PID, mount,
 * UTS, IPC and cgroup namespaces (the network is the VM's); volumes and
 * /etc files bind-mounted into the overlay, pivot_root, populate /proc,
 * read-only /sys (+ its own cgroup), /dev, terminationMessagePath,
 * runc's masked and read-only /proc and /sys paths, read-only root if asked, then securityContext and exec.
 *
 * Start errors are reported the way Kubernetes shows them: a CLOEXEC
 * status pipe carries errno and a message from the child; EOF on it means
 * exec succeeded. Everything after pivot_root resolves paths inside the
 * container's root, so hostile symlinks in an image cannot point our
 * mounts outside of it. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>


#define GUEST_CLONE_INTO_CGROUP 0x200000000ULL

struct guest_start_status {
	int32_t errnum;
	int32_t config_error;   /* CreateContainerConfigError, not StartError */
	char msg[900];   /* < PIPE_BUF with errnum: one atomic write */
};

struct guest_child {
	const struct guest_ctr_spawn *s;
	int status_w;
	int devnull;
	int term_fd;     /* detached mount of the termination message file, or -1 */
	int vol_fds[GUEST_MAX_MOUNTS];   /* detached volume mounts, -1 */
	bool config_error;
};

/* linux/sched.h's struct clone_args, without its header clashes */
struct guest_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
		 stack_size, tls, set_tid, set_tid_size, cgroup;
};

const char *guest_env_get(char *const *env, size_t n, const char *key)
{
	size_t i, kl = strlen(key);

	/* The last definition wins, as with a shell's environment. */
	for (i = n; i-- > 0;)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

static int guest_is_exec(const char *path, int *err_out)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		*err_out = errno;
		return 0;
	}
	if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111)) {
		*err_out = S_ISDIR(st.st_mode) ? EISDIR : EACCES;
		return 0;
	}
	return 1;
}

/* Go (and so Kubernetes) spells errno texts in lower case. */
static const char *guest_strerror_lc(int e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

int guest_lookpath(const char *file, const char *path, char *out,
		   size_t outlen, struct pv_err *err)
{
	const char *p = path ? path : GUEST_PATH_DEFAULT;
	char ebuf[128];
	int e = 0, n;

	if (!file || !*file)
		return pv_err_set(err, ENOENT, "exec: \"\": executable file not found in $PATH");
	if (strchr(file, '/')) {
		if (!guest_is_exec(file, &e))
			return pv_err_set(err, e, "exec: \"%s\": stat %s: %s", file, file,
					  guest_strerror_lc(e, ebuf, sizeof(ebuf)));
		n = snprintf(out, outlen, "%s", file);
		if (n < 0 || (size_t)n >= outlen)
			return pv_err_set(err, ENAMETOOLONG, "exec: \"%s\": path too long", file);
		return 0;
	}
	for (;;) {
		const char *colon = strchr(p, ':');
		size_t dl = colon ? (size_t)(colon - p) : strlen(p);

		/* An empty PATH element means the current directory. */
		if (dl == 0)
			n = snprintf(out, outlen, "./%s", file);
		else
			n = snprintf(out, outlen, "%.*s/%s", (int)dl, p, file);
		if (n > 0 && (size_t)n < outlen && guest_is_exec(out, &e))
			return 0;
		if (!colon)
			break;
		p = colon + 1;
	}
	return pv_err_set(err, ENOENT, "exec: \"%s\": executable file not found in $PATH",
			  file);
}

/* Child side: report and exit. Never returns. */
__attribute__((noreturn))
static void guest_child_fail(struct guest_child *c, const struct pv_err *err)
{
	struct guest_start_status st;
	ssize_t n;

	memset(&st, 0, sizeof(st));
	st.errnum = err->errnum ? err->errnum : EINVAL;
	st.config_error = c->config_error;
	/* Truncation is fine here: the message is a diagnostic. */
	memcpy(st.msg, err->msg, strnlen(err->msg, sizeof(st.msg) - 1));
	n = write(c->status_w, &st, sizeof(st));
	(void)n;
	_exit(127);
}

int guest_child_mount(const char *src, const char *dst, const char *type,
		      unsigned long flags, const char *data, mode_t mode,
		      struct pv_err *err)
{
	if (mkdir(dst, mode) < 0 && errno != EEXIST)
		return pv_err_sys(err, errno, "mkdir %s", dst);
	if (mount(src, dst, type, flags, data) < 0)
		return pv_err_sys(err, errno, "mount %s on %s", type, dst);
	return 0;
}

static int guest_child_dev(struct pv_err *err)
{
	static const struct { const char *name; unsigned maj, min; } nodes[] = {
		{ "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
		{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
	};
	static const struct { const char *target, *link; } links[] = {
		{ "pts/ptmx", "/dev/ptmx" }, { "/proc/self/fd", "/dev/fd" },
		{ "/proc/self/fd/0", "/dev/stdin" }, { "/proc/self/fd/1", "/dev/stdout" },
		{ "/proc/self/fd/2", "/dev/stderr" },
	};
	size_t i;
	int rc;

	rc = guest_child_mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
			       "mode=755,size=65536k", 0755, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		if (mknod(nodes[i].name, S_IFCHR | 0666,
			  makedev(nodes[i].maj, nodes[i].min)) < 0)
			return pv_err_sys(err, errno, "mknod %s", nodes[i].name);
		/* mknod honours the umask; containers expect 0666. */
		if (chmod(nodes[i].name, 0666) < 0)
			return pv_err_sys(err, errno, "chmod %s", nodes[i].name);
	}
	rc = guest_child_mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
			       "newinstance,ptmxmode=0666,mode=0620,gid=5", 0755, err);
	if (rc < 0)
		return rc;
	rc = guest_child_mount("shm", "/dev/shm", "tmpfs",
			       MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k",
			       01777, err);
	if (rc < 0)
		return rc;
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (symlink(links[i].target, links[i].link) < 0)
			return pv_err_sys(err, errno, "symlink %s", links[i].link);
	return 0;
}

/* terminationMessagePath: a file of ours bind-mounted at the path, so
 * that what the container writes survives its mount namespace. */
static int guest_child_termlog(struct guest_child *c, struct pv_err *err)
{
	const char *path = c->s->pc && c->s->pc->term_msg_path ?
			   c->s->pc->term_msg_path : "/dev/termination-log";
	int root = -1, dst = -1, rc;

	if (c->term_fd < 0)
		return 0;
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return pv_err_sys(err, errno, "open /");
	dst = guest_path_in_root(root, path, true, true, 0666, err);
	if (dst < 0) {
		rc = dst;
		goto out;
	}
	rc = 0;
	if (move_mount(c->term_fd, "", dst, "",
		       MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		rc = pv_err_sys(err, errno, "terminationMessagePath %s: mount", path);
out:
	if (dst >= 0)
		close(dst);
	close(root);
	return rc < 0 ? rc : 0;
}

/* In the child: clean signals and stdio, a session, then into the
 * container's root (pivot_root), with the volumes, /etc files and the
 * termination message detached from the VM's tree on the way. */
static int guest_child_pivot(struct guest_child *c, struct pv_err *err)
{
	const struct guest_ctr_spawn *s = c->s;
	int rc, sig;
	sigset_t none;

	/* Undo what PID 1 set up for itself: blocked signals (signalfd) and
	 * ignored ones survive exec. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	if (dup2(c->devnull, 0) < 0 || dup2(s->out_w, 1) < 0 || dup2(s->err_w, 2) < 0)
		return pv_err_sys(err, errno, "setting up stdio");
	if (setsid() < 0)
		return pv_err_sys(err, errno, "setsid");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return pv_err_sys(err, errno, "make / rprivate");
	/* Still seeing the VM's tree: volumes and /etc files go in now. */
	rc = guest_etc_mount(s->rootfs, err);
	if (rc < 0)
		return rc;
	if (s->pc && s->pod) {
		if (s->pc->n_mounts > GUEST_MAX_MOUNTS)
			return pv_err_set(err, E2BIG, "too many volumeMounts");
		rc = guest_volumes_detach(s->pod, s->pc, c->vol_fds, err);
		if (rc < 0)
			return rc;
	}
	/* The termination message file lives outside the new root: take a
	 * detached copy of its mount now, attach it once /dev exists. */
	if (s->term_file) {
		c->term_fd = open_tree(AT_FDCWD, s->term_file,
				       OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (c->term_fd < 0)
			return pv_err_sys(err, errno, "open_tree %s", s->term_file);
	}
	if (chdir(s->rootfs) < 0)
		return pv_err_sys(err, errno, "chdir to the container root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return pv_err_sys(err, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return pv_err_sys(err, errno, "detach the old root");
	if (chdir("/") < 0)
		return pv_err_sys(err, errno, "chdir /");
	return 0;
}

/* The container's /proc, /sys, its cgroup, /dev, volumes, termlog, and
 * runc's masks over them last. */
static int guest_child_fs(struct guest_child *c, struct pv_err *err)
{
	const struct guest_ctr_spawn *s = c->s;
	int rc;

	rc = guest_child_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			       NULL, 0555, err);
	if (rc < 0)
		return rc;
	rc = guest_child_mount("sysfs", "/sys", "sysfs",
			       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 0555, err);
	if (rc < 0)
		return rc;
	/* Its own cgroup, read-only (cgroup namespace root = its group). */
	if (s->cgroup_fd >= 0 &&
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2",
		  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return pv_err_sys(err, errno, "mount cgroup2 in the container");
	rc = guest_child_dev(err);
	if (rc < 0)
		return rc;
	if (s->pc) {
		rc = guest_volumes_attach(s->pc, c->vol_fds, err);
		if (rc < 0)
			return rc;
	}
	rc = guest_child_termlog(c, err);
	if (rc < 0)
		return rc;
	/* last mounts: nothing may cover the masks */
	rc = guest_mask_paths(err);
	if (rc < 0)
		return rc;
	return 0;
}

static int guest_child_setup(struct guest_child *c, struct guest_user *user,
			     struct pv_err *err)
{
	const struct guest_ctr_spawn *s = c->s;
	const struct runtime_container *rc_ = s->rc;
	const char *cwd = rc_->cwd && *rc_->cwd ? rc_->cwd : "/";
	size_t hl;
	int rc;

	rc = guest_child_pivot(c, err);
	if (rc == 0)
		rc = guest_child_fs(c, err);
	if (rc < 0)
		return rc;
	hl = s->hostname ? strlen(s->hostname) : 0;
	if (hl && sethostname(s->hostname, hl) < 0)
		return pv_err_sys(err, errno, "sethostname");

	rc = guest_sec_user(s->sec, rc_->user, user, err);
	if (rc == -EPERM) {
		c->config_error = true;   /* runAsNonRoot */
		return rc;
	}
	if (rc < 0)
		return rc;
	/* Like container runtimes: a missing working directory is created. */
	if (cwd[0] != '/')
		return pv_err_set(err, EINVAL, "working directory %s is not absolute", cwd);
	rc = guest_mkdir_p(cwd, 0755);
	if (rc < 0)
		return pv_err_sys(err, -rc, "mkdir %s", cwd);
	if (chdir(cwd) < 0)
		return pv_err_sys(err, errno, "chdir to %s", cwd);
	/* Last: mkdir of the working directory needed a writable root. */
	if (s->sec->read_only_root &&
	    mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		return pv_err_sys(err, errno, "remount the root read-only");
	return 0;
}

static int guest_ctr_child(void *arg)
{
	struct guest_child *c = arg;
	const struct runtime_container *rc_ = c->s->rc;
	struct guest_user user;
	struct pv_err err;
	char path[4096];
	char **envp, **argv;

	pv_err_clear(&err);
	if (guest_child_setup(c, &user, &err) < 0)
		guest_child_fail(c, &err);
	if (guest_lookpath(rc_->argv[0],
			   guest_env_get(rc_->env, rc_->n_env, "PATH"),
			   path, sizeof(path), &err) < 0)
		guest_child_fail(c, &err);
	envp = calloc(rc_->n_env + 1, sizeof(*envp));
	argv = calloc(rc_->argc + 1, sizeof(*argv));
	if (!envp || !argv) {
		pv_err_set(&err, ENOMEM, "out of memory");
		guest_child_fail(c, &err);
	}
	if (rc_->n_env)
		memcpy(envp, rc_->env, rc_->n_env * sizeof(*envp));
	memcpy(argv, rc_->argv, rc_->argc * sizeof(*argv));
	/* Last before exec: seccomp may forbid what setup needed. */
	if (guest_sec_apply(c->s->sec, &user, &err) < 0)
		guest_child_fail(c, &err);
	execve(path, argv, envp);
	pv_err_sys(&err, errno, "exec: \"%s\"", rc_->argv[0]);
	guest_child_fail(c, &err);
}

int guest_ctr_spawn(const struct guest_ctr_spawn *s, pid_t *pid,
		    bool *config_error, struct pv_err *err)
{
	struct guest_start_status st;
	struct guest_child c = { .s = s, .status_w = -1, .devnull = -1, .term_fd = -1 };
	size_t i;

	for (i = 0; i < GUEST_MAX_MOUNTS; i++)
		c.vol_fds[i] = -1;   /* the child's copies close with it */
	struct guest_clone_args ca;
	int status_p[2] = { -1, -1 };
	ssize_t n;
	int rc;

	*pid = -1;
	*config_error = false;
	if (!s->rc->argc || !s->rc->argv || !s->rc->argv[0]) {
		rc = pv_err_set(err, EINVAL, "no command to run");
		goto out;
	}
	if (pipe2(status_p, O_CLOEXEC) < 0) {
		rc = pv_err_sys(err, errno, "pipe");
		goto out;
	}
	c.status_w = status_p[1];
	c.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (c.devnull < 0) {
		rc = pv_err_sys(err, errno, "open /dev/null");
		goto out;
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
	if (s->cgroup_fd >= 0) {
		/* born in its group; the cgroup namespace is rooted there */
		ca.flags |= GUEST_CLONE_INTO_CGROUP | CLONE_NEWCGROUP;
		ca.cgroup = (uint64_t)s->cgroup_fd;
	}
	ca.exit_signal = SIGCHLD;
	*pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (*pid == 0)
		_exit(guest_ctr_child(&c));   /* never returns */
	if (*pid < 0) {
		rc = pv_err_sys(err, errno, "clone3");
		goto out;
	}
	close(status_p[1]);
	status_p[1] = -1;
	do {
		n = read(status_p[0], &st, sizeof(st));
	} while (n < 0 && errno == EINTR);
	if (n == 0) {
		rc = 0;  /* EOF: exec closed the CLOEXEC pipe */
		goto out;
	}
	if (n == (ssize_t)sizeof(st)) {
		st.msg[sizeof(st.msg) - 1] = '\0';
		*config_error = st.config_error != 0;
		rc = pv_err_set(err, st.errnum > 0 ? st.errnum : EINVAL, "%s", st.msg);
	} else {
		rc = pv_err_sys(err, n < 0 ? errno : EPROTO, "container start status");
	}
	/* The child is exiting; reap it here so it never looks like a
	 * container exit to the main loop. */
	while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
		;
	*pid = -1;
out:
	if (status_p[0] >= 0)
		close(status_p[0]);
	if (status_p[1] >= 0)
		close(status_p[1]);
	if (c.devnull >= 0)
		close(c.devnull);
	if (c.term_fd >= 0)
		close(c.term_fd);
	return rc;
}
