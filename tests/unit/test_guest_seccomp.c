/* Seccomp filters as the kernel runs them: each case forks, installs a
 * compiled filter in the child and makes real syscalls there. The
 * RuntimeDefault profile (containerd's, with runc's ENOSYS stub) and
 * Localhost profiles (OCI JSON) go through the same compiler. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/seccomp.h"

#define SYS_FCHMODAT2 452   /* Linux 6.6; newer than libseccomp 2.5.4's tables */

/* A failed check in the child: say which, exit with its line. */
#define CHILD_CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "child check failed: %s (errno %d)\n", #cond, errno); \
	_exit(__LINE__ % 250 + 1); } } while (0)

/* The errno of a syscall that is expected to fail, else 0. */
#define ERRNO_OF(call) ((call) < 0 ? errno : 0)

static int run_child(const struct guest_bpf *b, void (*fn)(void))
{
	struct pv_err err;
	pid_t pid;
	int st;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (guest_seccomp_install(b, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(255);
		}
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 300 + WTERMSIG(st);
}

static void *thread_fn(void *arg)
{
	return arg;
}

static void default_checks(void)
{
	static int marker;
	pthread_t t;
	void *ret = NULL;
	int fd;

	CHILD_CHECK(getpid() > 0);
	/* glibc >= 2.34 tries clone3 first and falls back on ENOSYS */
	CHILD_CHECK(ERRNO_OF(syscall(SYS_clone3, NULL, 0)) == ENOSYS);
	CHILD_CHECK(pthread_create(&t, NULL, thread_fn, &marker) == 0);
	CHILD_CHECK(pthread_join(t, &ret) == 0 && ret == &marker);
	/* not in the profile: EPERM, containerd's default action */
	CHILD_CHECK(ERRNO_OF(syscall(SYS_keyctl, 0, 0, 0, 0, 0)) == EPERM);
	CHILD_CHECK(ERRNO_OF(syscall(SYS_kexec_load, 0, 0, 0, 0)) == EPERM);
	CHILD_CHECK(ERRNO_OF(syscall(SYS_io_uring_setup, 1, NULL)) == EPERM);
	/* capability-gated: no CAP_SYS_ADMIN in this set */
	CHILD_CHECK(ERRNO_OF(unshare(CLONE_NEWUSER)) == EPERM);
	CHILD_CHECK(ERRNO_OF(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0))
		    == EPERM);
	/* allowed if this libseccomp knows it, else newer than the profile
	 * as libseccomp sees it: ENOSYS from the stub; never EPERM */
	errno = 0;
	fd = (int)syscall(SYS_FCHMODAT2, AT_FDCWD, "/nonexistent", 0755, 0);
	CHILD_CHECK(fd < 0 && (errno == ENOENT || errno == ENOSYS));
	/* argument rules */
	CHILD_CHECK(ERRNO_OF(socket(AF_VSOCK, SOCK_STREAM, 0)) == EPERM);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHILD_CHECK(fd >= 0);
	close(fd);
	CHILD_CHECK(personality(0xffffffff) >= 0);
	CHILD_CHECK(ERRNO_OF(personality(0x0400000)) == EPERM);   /* READ_IMPLIES_EXEC */
}

static void test_default_profile(void **state)
{
	struct guest_sc_profile def;
	struct guest_bpf b;
	struct pv_err err;

	(void)state;
	guest_seccomp_default(guest_caps_default(), &def);
	assert_int_equal(guest_seccomp_compile(&def.p, &b, &err), 0);
	assert_true(b.len > 10);
	print_message("RuntimeDefault filter, default caps: %u BPF instructions\n", b.len);
	assert_int_equal(run_child(&b, default_checks), 0);
	guest_bpf_free(&b);
}

static void admin_checks(void)
{
	/* clone3 reaches the kernel, which refuses the empty arguments */
	CHILD_CHECK(ERRNO_OF(syscall(SYS_clone3, NULL, 0)) == EINVAL);
	CHILD_CHECK(unshare(CLONE_NEWUTS) == 0);
	CHILD_CHECK(ERRNO_OF(syscall(SYS_keyctl, 0, 0, 0, 0, 0)) == EPERM);
}

static void test_default_admin(void **state)
{
	struct guest_sc_profile def;
	struct guest_bpf b;
	struct pv_err err;

	(void)state;
	guest_seccomp_default(guest_caps_default() | (1ULL << CAP_SYS_ADMIN), &def);
	assert_int_equal(guest_seccomp_compile(&def.p, &b, &err), 0);
	assert_int_equal(run_child(&b, admin_checks), 0);
	guest_bpf_free(&b);
}

/* No profile rule ever allows what the refusal table lists. */
static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; guest_sc_refused[i].name; i++) {
		assert_non_null(guest_sc_refused[i].why);
		assert_int_equal(guest_seccomp_default_verdict(guest_sc_refused[i].name,
							       ~0ULL), EPERM);
	}
}

static void local_checks(void)
{
	char buf[64];

	CHILD_CHECK(ERRNO_OF(getcwd(buf, sizeof(buf)) ? 0 : -1) == EACCES);
	CHILD_CHECK(getpid() > 0);
	/* two conditions on argument 0: either matches (runc splits them) */
	CHILD_CHECK(personality(0xffffffff) >= 0);
	CHILD_CHECK(ERRNO_OF(personality(0x0008)) == 0);
	CHILD_CHECK(personality(0) >= 0);
	CHILD_CHECK(ERRNO_OF(personality(0x20000)) == EPERM);
}

static void test_localhost_profile(void **state)
{
	static const char text[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":"
		"[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_AARCH64\"],"
		"\"syscalls\":[{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"errnoRet\":13},"
		"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"args\":[{\"index\":0,\"value\":131072,\"op\":\"SCMP_CMP_EQ\"},"
		"{\"index\":0,\"value\":131080,\"op\":\"SCMP_CMP_EQ\"}]},"
		"{\"names\":[\"no_such_syscall\",\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
	struct seccomp_profile *p = NULL;
	struct guest_bpf b;
	struct pv_err err;

	(void)state;
	assert_int_equal(seccomp_profile_parse(text, strlen(text), &p, &err), 0);
	assert_int_equal(guest_seccomp_compile(p, &b, &err), 0);
	assert_int_equal(run_child(&b, local_checks), 0);
	guest_bpf_free(&b);
	seccomp_profile_free(p);
}

static void stub_checks(void)
{
	/* below the highest named syscall (openat2, 437) and not named */
	CHILD_CHECK(ERRNO_OF(syscall(SYS_close_range, 1000, 1001, 0)) == EPERM);
	/* above it: ENOSYS, for x86-64 and for i386 alike */
	CHILD_CHECK(ERRNO_OF(syscall(SYS_faccessat2, AT_FDCWD, "/", 0, 0)) == ENOSYS);
	CHILD_CHECK(getpid() > 0);
}

/* runc's stub: ENOSYS above the highest syscall the profile names. */
static void test_enosys_stub(void **state)
{
	static const char text[] =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":"
		"[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],"
		"\"syscalls\":[{\"names\":[\"openat2\",\"read\",\"write\","
		"\"exit_group\",\"exit\",\"getpid\",\"rt_sigreturn\",\"mmap\","
		"\"munmap\",\"brk\",\"futex\",\"rt_sigprocmask\","
		"\"rt_sigaction\",\"sigaltstack\",\"close\",\"fstat\","
		"\"newfstatat\",\"madvise\",\"mprotect\",\"prctl\",\"gettid\","
		"\"tgkill\",\"prlimit64\",\"getrlimit\",\"sched_yield\"],"
		"\"action\":\"SCMP_ACT_ALLOW\"}]}";   /* what ASan needs too */
	struct seccomp_profile *p = NULL;
	struct guest_bpf b;
	struct pv_err err;

	(void)state;
	assert_int_equal(seccomp_profile_parse(text, strlen(text), &p, &err), 0);
	assert_int_equal(guest_seccomp_compile(p, &b, &err), 0);
	assert_int_equal(run_child(&b, stub_checks), 0);
	guest_bpf_free(&b);
	seccomp_profile_free(p);
}

static void kill_checks(void)
{
	char buf[16];

	if (getcwd(buf, sizeof(buf)))   /* killed here */
		_exit(42);
	_exit(43);
}

static void test_localhost_kill(void **state)
{
	static const char text[] =
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
		"[\"getcwd\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}";
	struct seccomp_profile *p = NULL;
	struct guest_bpf b;
	struct pv_err err;

	(void)state;
	assert_int_equal(seccomp_profile_parse(text, strlen(text), &p, &err), 0);
	assert_int_equal(guest_seccomp_compile(p, &b, &err), 0);
	assert_int_equal(run_child(&b, kill_checks), 300 + SIGSYS);
	guest_bpf_free(&b);
	seccomp_profile_free(p);
}

/* prepare shares one compiled filter between equal inputs. */
static void test_prepare_cache(void **state)
{
	struct guest_sec a, b2, c;
	struct pv_err err;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.seccomp = true;
	a.caps = guest_caps_default();
	b2 = a;
	c = a;
	c.caps |= 1ULL << CAP_SYS_ADMIN;
	assert_int_equal(guest_seccomp_prepare(&a, NULL, &err), 0);
	assert_int_equal(guest_seccomp_prepare(&b2, NULL, &err), 0);
	assert_int_equal(guest_seccomp_prepare(&c, NULL, &err), 0);
	assert_non_null(a.bpf);
	assert_ptr_equal(a.bpf, b2.bpf);
	assert_ptr_not_equal(a.bpf, c.bpf);
	/* Localhost without the profile in the runtime */
	c.seccomp_localhost = true;
	assert_int_equal(guest_seccomp_prepare(&c, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "Localhost"));
	/* Unconfined: nothing */
	a.seccomp = false;
	assert_int_equal(guest_seccomp_prepare(&a, NULL, &err), 0);
	assert_null(a.bpf);
	assert_int_equal(guest_seccomp_load(&a, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_profile),
		cmocka_unit_test(test_default_admin),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_localhost_profile),
		cmocka_unit_test(test_localhost_kill),
		cmocka_unit_test(test_enosys_stub),
		cmocka_unit_test(test_prepare_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
