/* Reaping QEMU promptly.
 *
 * libvirt daemonizes QEMU, so its parent is PID 1, and when a VM ends
 * libvirt waits (polling kill(pid, 0)) until the process is gone, which a
 * zombie is not. A PID 1 that reaps late (as on the container hosts podvm
 * is developed on) adds over a second to every VM's end. So this process
 * becomes a child subreaper: QEMU is re-parented to it and a small thread
 * reaps the daemonized ones (VMs, libvirt's capability probe) at once.
 * libvirt's direct children, which libvirt waits for itself, are only
 * peeked at (WNOWAIT), never reaped here. */
#include "vmm/libvirt/lv.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_once_t lv_reap_once = PTHREAD_ONCE_INIT;
static pid_t lv_our_sid;

/* Reaped here: QEMU processes in a session of their own, i.e. daemonized
 * ones (VMs, and libvirt's capability probe, which daemonizes itself).
 * Left alone: libvirt's direct children, in our session, which libvirt
 * waits for; and its intermediate daemonizing fork, in a new session too
 * but never named qemu. A zombie's stat is still readable. */
static bool lv_daemonized(pid_t pid)
{
	char path[64], buf[512], *open_paren, *p;
	int sid = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return false;
	p = fgets(buf, sizeof(buf), fp) ? strrchr(buf, ')') : NULL;
	fclose(fp);
	open_paren = strchr(buf, '(');
	if (!p || !open_paren || strncmp(open_paren + 1, "qemu-system", 11))
		return false;
	/* ") STATE PPID PGRP SESSION" */
	if (sscanf(p + 1, " %*c %*d %*d %d", &sid) != 1)
		return false;
	return sid != lv_our_sid;
}

static void *lv_reaper(void *arg)
{
	(void)arg;
	for (;;) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0) {
			/* no children right now (ECHILD): look again later */
			usleep(errno == EINTR ? 0 : 100000);
			continue;
		}
		if (si.si_pid > 0 && lv_daemonized(si.si_pid))
			waitpid(si.si_pid, NULL, WNOHANG);
		else
			usleep(10000);  /* libvirt's own child: it will reap it */
	}
	return NULL;
}

static void lv_reap_start(void)
{
	pthread_attr_t attr;
	pthread_t t;

	/* Without the reaper QEMU still ends, only later: failures here are
	 * not fatal. */
	lv_our_sid = getsid(0);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return;
	if (pthread_attr_init(&attr) != 0)
		return;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &attr, lv_reaper, NULL);
	pthread_attr_destroy(&attr);
}

void lv_reaper_start(void)
{
	pthread_once(&lv_reap_once, lv_reap_start);
}
