/* A dynamically linked, threaded glibc program for the integration
 * tests (built by them with gcc, its libraries copied into the image).
 * Each argument names a probe; each prints one line:
 *   threads   start and join 4 threads (glibc >= 2.34 tries clone3 first)
 *   keyctl    a syscall no seccomp profile allows: prints its errno
 *   clone3    the raw clone3 syscall: prints its errno
 *   unshare   unshare(CLONE_NEWUSER): "ok" or its errno
 *   getcwd    getcwd(): "ok" or its errno
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *worker(void *arg)
{
	return arg;
}

static const char *res(long rc)
{
	static char buf[32];

	if (rc >= 0)
		return "ok";
	snprintf(buf, sizeof(buf), "%s", strerrorname_np(errno));
	return buf;
}

int main(int argc, char **argv)
{
	char cwd[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		const char *p = argv[i];

		if (!strcmp(p, "threads")) {
			pthread_t t[4];
			int n = 0, rc = 0;

			for (; n < 4 && rc == 0; n++)
				rc = pthread_create(&t[n], NULL, worker, NULL);
			if (rc) {
				printf("threads: pthread_create failed: %s\n", strerror(rc));
				n--;
			}
			for (int k = 0; k < n; k++)
				pthread_join(t[k], NULL);
			if (!rc)
				printf("threads: ok\n");
		} else if (!strcmp(p, "keyctl")) {
			printf("keyctl: %s\n", res(syscall(SYS_keyctl, 0, 0, 0, 0, 0)));
		} else if (!strcmp(p, "clone3")) {
			printf("clone3: %s\n", res(syscall(SYS_clone3, NULL, 0)));
		} else if (!strcmp(p, "unshare")) {
			printf("unshare: %s\n", res(unshare(CLONE_NEWUSER)));
		} else if (!strcmp(p, "getcwd")) {
			printf("getcwd: %s\n", res(getcwd(cwd, sizeof(cwd)) ? 0 : -1));
		} else {
			printf("%s: unknown probe\n", p);
			return 2;
		}
	}
	return 0;
}
