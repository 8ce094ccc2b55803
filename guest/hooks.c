/* Lifecycle hooks and termination messages.
 *
 * postStart runs right after the container started; if it fails the
 * container is killed (terminated reason FailedPostStartHook). preStop
 * runs when the container is being terminated, before SIGTERM, within
 * the grace period. Both are exec (inside the container) or httpGet /
 * tcpSocket from the VM, like probes.
 *
 * terminationMessagePath is a file of ours (GUEST_TERM_DIR/NAME)
 * bind-mounted into the container; after the exit up to 4096 bytes of it
 * (cut to what the protocol carries) become the terminated message.
 * FallbackToLogsOnError: if it is empty and the container failed, the
 * last 80 lines / 2048 bytes of its output. */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define GUEST_TERM_MSG_MAX   4096
#define GUEST_TAIL_LINES     80

pid_t guest_netcheck_spawn(const struct pod_container *pc, const struct pod_probe *p);

int guest_hook_run(struct guest_pod *gp, struct guest_ctr *c,
		   const struct pod_probe *h, enum guest_job_kind kind,
		   int64_t timeout_ms, pid_t *pid)
{
	struct guest_job *j = guest_job_alloc(gp);
	struct pv_err err;

	*pid = -1;
	if (!j)
		return -EAGAIN;
	pv_err_clear(&err);
	if (h->kind == POD_PROBE_EXEC) {
		if (guest_enter_spawn(gp, c, h->exec_command, NULL, false, NULL, pid,
				      &err) < 0) {
			guest_diag("container %s: %s hook: %s", c->pc->name,
				   kind == GUEST_JOB_PRESTOP ? "preStop" : "postStart",
				   err.msg);
			return -ENOEXEC;
		}
	} else {
		*pid = guest_netcheck_spawn(c->pc, h);
		if (*pid < 0)
			return -errno;
	}
	j->pid = *pid;
	j->kind = kind;
	j->ctr = c->index;
	j->deadline = timeout_ms > 0 ? guest_now_ms() + timeout_ms : 0;
	return 0;
}

int guest_term_path(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, GUEST_TERM_DIR "/%s", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void guest_tail_add(struct guest_ctr *c, const void *data, size_t len)
{
	if (len >= GUEST_TAIL_MAX) {
		memcpy(c->tail, (const char *)data + len - GUEST_TAIL_MAX, GUEST_TAIL_MAX);
		c->tail_len = GUEST_TAIL_MAX;
		return;
	}
	if (c->tail_len + len > GUEST_TAIL_MAX) {
		size_t drop = c->tail_len + len - GUEST_TAIL_MAX;

		memmove(c->tail, c->tail + drop, c->tail_len - drop);
		c->tail_len -= drop;
	}
	memcpy(c->tail + c->tail_len, data, len);
	c->tail_len += len;
}

size_t guest_tail_lines(const char *buf, size_t len, size_t max_lines,
			size_t max_bytes, const char **start)
{
	size_t i = len, lines = 0;

	if (len > 0 && buf[len - 1] == '\n')
		i--;   /* a final newline does not start a line */
	while (i > 0) {
		if (buf[i - 1] == '\n' && ++lines >= max_lines)
			break;
		i--;
	}
	if (len - i > max_bytes)
		i = len - max_bytes;
	*start = buf + i;
	return len - i;
}

void guest_term_message(struct guest_ctr *c)
{
	char path[320], buf[GUEST_TERM_MSG_MAX + 1];
	ssize_t n = 0;
	int fd;

	if (guest_term_path(c->rc->name, path, sizeof(path)) == 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			n = read(fd, buf, GUEST_TERM_MSG_MAX);
			close(fd);
		}
	}
	if (n > 0) {
		/* the protocol carries AGENT_MESSAGE_MAX - 1 bytes of it */
		size_t l = (size_t)n < sizeof(c->message) ? (size_t)n : sizeof(c->message) - 1;

		memcpy(c->message, buf, l);
		c->message[l] = '\0';
		return;
	}
	if (c->pc->term_msg_policy == POD_TERM_MSG_FALLBACK_LOGS &&
	    c->exit.exit_code != 0 && c->tail_len) {
		const char *s;
		size_t l = guest_tail_lines(c->tail, c->tail_len, GUEST_TAIL_LINES,
					    GUEST_TAIL_MAX, &s);

		if (l >= sizeof(c->message))   /* protocol bound: keep the end */
			s += l - (sizeof(c->message) - 1), l = sizeof(c->message) - 1;
		memcpy(c->message, s, l);
		c->message[l] = '\0';
	}
}
