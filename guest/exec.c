/* Exec sessions (kubectl exec): EXEC_START names a container and a
 * command; the process enters the container like a probe does (jobs.c).
 * Its stdout/stderr (or the pty master) stream out as EXEC_STDOUT /
 * EXEC_STDERR on channel = exec id; EXEC_STDIN feeds it (empty payload:
 * EOF); EXEC_EXIT ends the session once the process exited and its
 * output was read (or 5 s after the exit). At most GUEST_MAX_EXECS at a
 * time. Output is never dropped: while more than GUEST_EXEC_OUT_CAP
 * bytes wait for the host, the guest stops reading exec pipes (the
 * process blocks, as with a slow terminal). */
#include "guest/guest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define GUEST_EXEC_OUT_CAP   (4u * 1024 * 1024)
#define GUEST_EXEC_IN_CAP    (1u * 1024 * 1024)
#define GUEST_EXEC_DRAIN_MS  5000

struct guest_exec {
	bool used;
	uint16_t id;
	int ctr;
	pid_t pid;
	bool tty;
	int in_w, out_r, err_r;      /* -1 when closed */
	bool exited, paused, in_eof;
	int wstatus;
	int64_t drain_deadline;
	uint8_t *inbuf;              /* stdin not yet written */
	size_t in_len;
	char error[AGENT_MESSAGE_MAX];
};

static struct guest_exec *guest_exec_slot(struct guest_pod *gp, int slot)
{
	if (!gp->execs || slot < 0 || slot >= GUEST_MAX_EXECS || !gp->execs[slot].used)
		return NULL;
	return &gp->execs[slot];
}

static void guest_exec_epoll(struct guest_pod *gp, int fd, uint64_t tag,
			     uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	if (fd < 0)
		return;
	if (epoll_ctl(gp->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		epoll_ctl(gp->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void guest_exec_finish(struct guest_pod *gp, struct guest_outq *q, int slot)
{
	struct guest_exec *x = &gp->execs[slot];
	struct agent_exec_exit ex;
	char *json;

	memset(&ex, 0, sizeof(ex));
	ex.id = x->id;
	if (x->error[0]) {
		ex.exit_code = 126;
		snprintf(ex.error, sizeof(ex.error), "%s", x->error);
	} else if (WIFSIGNALED(x->wstatus)) {
		ex.signal = WTERMSIG(x->wstatus);
		ex.exit_code = 128 + ex.signal > 255 ? 255 : 128 + ex.signal;
	} else {
		ex.exit_code = WIFEXITED(x->wstatus) ? WEXITSTATUS(x->wstatus) : 255;
	}
	json = agent_msg_exec_exit(&ex);
	if (guest_outq_control(q, AGENT_EXEC_EXIT, json) < 0)
		guest_diag("exec %u: out of memory for EXEC_EXIT", x->id);
	free(json);
	guest_pipe_close(gp->epfd, &x->in_w);
	guest_pipe_close(gp->epfd, &x->out_r);
	guest_pipe_close(gp->epfd, &x->err_r);
	free(x->inbuf);
	memset(x, 0, sizeof(*x));
}

static int guest_exec_fail(struct guest_outq *q, uint16_t id, int code,
			   const char *msg)
{
	struct agent_exec_exit ex;
	char *json;
	int rc;

	memset(&ex, 0, sizeof(ex));
	ex.id = id;
	ex.exit_code = code;
	snprintf(ex.error, sizeof(ex.error), "%s", msg);
	json = agent_msg_exec_exit(&ex);
	rc = guest_outq_control(q, AGENT_EXEC_EXIT, json);
	free(json);
	return rc;
}

/* The spawned session in slot: its fds (the pty's, or the pipes' ends
 * that stay with us, taken from *ptm and the pipes) non-blocking and
 * watched; the job knows it is an exec. */
static void guest_exec_track(struct guest_pod *gp, int slot,
			     const struct guest_ctr *c, struct guest_job *j,
			     const struct agent_exec_start *xs, int *ptm,
			     int inp[2], int outp[2], int errp[2])
{
	struct guest_exec *x = &gp->execs[slot];

	memset(x, 0, sizeof(*x));
	x->used = true;
	x->in_w = x->out_r = x->err_r = -1;
	x->id = xs->id;
	x->ctr = c->index;
	x->pid = j->pid;
	x->tty = xs->tty;
	j->kind = GUEST_JOB_EXEC;
	j->ctr = c->index;
	j->exec_slot = slot;
	if (xs->tty) {
		struct winsize ws = { .ws_row = xs->rows, .ws_col = xs->cols };

		if (xs->rows && xs->cols)
			ioctl(*ptm, TIOCSWINSZ, &ws);
		x->out_r = *ptm;
		x->in_w = xs->stdin_open ? fcntl(*ptm, F_DUPFD_CLOEXEC, 3) : -1;
		*ptm = -1;
	} else {
		x->in_w = inp[1];
		x->out_r = outp[0];
		x->err_r = errp[0];
		inp[1] = outp[0] = errp[0] = -1;
	}
	x->in_eof = x->in_w < 0;
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? x->in_w : i == 1 ? x->out_r : x->err_r;

		if (fd >= 0)
			fcntl(fd, F_SETFL, O_NONBLOCK);
		if (fd >= 0 && i > 0)
			guest_exec_epoll(gp, fd, GUEST_TAG_EXEC(slot, i), EPOLLIN);
	}
}

int guest_exec_start(struct guest_pod *gp, struct guest_outq *q,
		     const uint8_t *p, size_t n, struct pv_err *err)
{
	struct agent_exec_start xs;
	struct guest_ctr *c;
	struct guest_job *j;
	struct pv_err e2;
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	int fds[3] = { -1, -1, -1 }, ptm = -1, slot = -1, i, rc;

	rc = agent_parse_exec_start(p, n, &xs, err);
	if (rc < 0)
		return rc;   /* malformed: protocol error */
	pv_err_clear(&e2);
	if (!gp->execs) {
		gp->execs = calloc(GUEST_MAX_EXECS, sizeof(*gp->execs));
		if (!gp->execs) {
			rc = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	for (i = 0; i < GUEST_MAX_EXECS; i++) {
		if (gp->execs[i].used && gp->execs[i].id == xs.id) {
			rc = pv_err_set(err, EPROTO, "EXEC_START: id %u is in use", xs.id);
			goto out;
		}
		if (!gp->execs[i].used && slot < 0)
			slot = i;
	}
	c = guest_pod_find_name(gp, xs.container);
	if (slot < 0 || !c || c->phase != GUEST_CTR_RUNNING) {
		rc = guest_exec_fail(q, xs.id, 126, slot < 0 ? "too many exec sessions"
				     : !c ? "no such container" : "container is not running");
		goto out;
	}
	j = guest_job_alloc(gp);
	if (!j) {
		rc = guest_exec_fail(q, xs.id, 126, "too many helper processes");
		goto out;
	}
	if (!xs.tty) {
		if ((xs.stdin_open && pipe2(inp, O_CLOEXEC) < 0) || pipe2(outp, O_CLOEXEC) < 0 ||
		    pipe2(errp, O_CLOEXEC) < 0) {
			rc = guest_exec_fail(q, xs.id, 126, "out of file descriptors");
			goto out;
		}
		fds[0] = inp[0];
		fds[1] = outp[1];
		fds[2] = errp[1];
	}
	if (guest_enter_spawn(gp, c, xs.command, fds, xs.tty, &ptm, &j->pid, &e2) < 0) {
		j->pid = 0;
		rc = guest_exec_fail(q, xs.id, strstr(e2.msg, "not found") ? 127 : 126,
				     e2.msg);
		goto out;
	}
	guest_exec_track(gp, slot, c, j, &xs, &ptm, inp, outp, errp);
	rc = 0;
out:
	for (i = 0; i < 2; i++) {
		if (inp[i] >= 0)
			close(inp[i]);
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (ptm >= 0)
		close(ptm);
	agent_exec_start_free(&xs);
	return rc;
}

static void guest_exec_write_in(struct guest_pod *gp, int slot)
{
	struct guest_exec *x = &gp->execs[slot];

	while (x->in_len && x->in_w >= 0) {
		ssize_t w = write(x->in_w, x->inbuf, x->in_len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			guest_exec_epoll(gp, x->in_w, GUEST_TAG_EXEC(slot, 0), EPOLLOUT);
			return;
		}
		if (w <= 0) {   /* the process closed its stdin */
			guest_pipe_close(gp->epfd, &x->in_w);
			x->in_len = 0;
			return;
		}
		memmove(x->inbuf, x->inbuf + w, x->in_len - (size_t)w);
		x->in_len -= (size_t)w;
	}
	if (x->in_w >= 0)
		epoll_ctl(gp->epfd, EPOLL_CTL_DEL, x->in_w, NULL);
	if (!x->in_len && x->in_eof && x->in_w >= 0) {
		if (x->tty) {
			ssize_t w = write(x->in_w, "\x04", 1);   /* ^D: EOF on a tty */

			(void)w;
		}
		guest_pipe_close(gp->epfd, &x->in_w);
	}
}

int guest_exec_stdin(struct guest_pod *gp, uint16_t id, const uint8_t *p, size_t n)
{
	int i;

	for (i = 0; gp->execs && i < GUEST_MAX_EXECS; i++) {
		struct guest_exec *x = &gp->execs[i];
		uint8_t *nb;

		if (!x->used || x->id != id)
			continue;
		if (n == 0) {
			x->in_eof = true;
		} else if (x->in_w >= 0 && !x->in_eof) {
			if (x->in_len + n > GUEST_EXEC_IN_CAP) {
				guest_diag("exec %u: stdin over %u bytes behind, dropped",
					   id, GUEST_EXEC_IN_CAP);
				return 0;
			}
			nb = realloc(x->inbuf, x->in_len + n);
			if (!nb)
				return -ENOMEM;
			x->inbuf = nb;
			memcpy(x->inbuf + x->in_len, p, n);
			x->in_len += n;
		}
		guest_exec_write_in(gp, i);
		return 0;
	}
	return 0;   /* a session that already ended: late input is dropped */
}

int guest_exec_resize(struct guest_pod *gp, const uint8_t *p, size_t n,
		      struct pv_err *err)
{
	uint16_t id, rows, cols;
	int i, rc;

	rc = agent_parse_exec_resize(p, n, &id, &rows, &cols, err);
	if (rc < 0)
		return rc;
	for (i = 0; gp->execs && i < GUEST_MAX_EXECS; i++) {
		struct guest_exec *x = &gp->execs[i];
		struct winsize ws = { .ws_row = rows, .ws_col = cols };

		if (x->used && x->id == id && x->tty && x->out_r >= 0)
			ioctl(x->out_r, TIOCSWINSZ, &ws);
	}
	return 0;
}

void guest_exec_io(struct guest_pod *gp, struct guest_outq *q, uint64_t tag)
{
	static uint8_t buf[AGENT_MAX_LOG_CHUNK];
	int slot = (int)((tag - GUEST_TAG_EXEC(0, 0)) / 4), e = (int)(tag & 3), round;
	struct guest_exec *x = guest_exec_slot(gp, slot);
	int *fd;

	if (!x)
		return;
	if (e == 0) {
		guest_exec_write_in(gp, slot);
		return;
	}
	fd = e == 1 ? &x->out_r : &x->err_r;
	for (round = 0; round < 16 && *fd >= 0; round++) {
		ssize_t n;

		if (q->raw_bytes > GUEST_EXEC_OUT_CAP) {
			/* host is slow: stop reading until it catches up */
			if (x->out_r >= 0)
				epoll_ctl(gp->epfd, EPOLL_CTL_DEL, x->out_r, NULL);
			if (x->err_r >= 0)
				epoll_ctl(gp->epfd, EPOLL_CTL_DEL, x->err_r, NULL);
			x->paused = true;
			return;
		}
		n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			guest_outq_raw(q, e == 1 ? AGENT_EXEC_STDOUT : AGENT_EXEC_STDERR,
				       x->id, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		/* EOF, or EIO on a pty master whose slave is gone */
		if (x->tty && x->in_w >= 0)
			guest_pipe_close(gp->epfd, &x->in_w);
		guest_pipe_close(gp->epfd, fd);
	}
}

void guest_exec_exited(struct guest_pod *gp, struct guest_outq *q, int slot,
		       int wstatus)
{
	struct guest_exec *x = guest_exec_slot(gp, slot);

	(void)q;
	if (!x)
		return;
	x->exited = true;
	x->wstatus = wstatus;
	x->drain_deadline = guest_now_ms() + GUEST_EXEC_DRAIN_MS;
}

int guest_exec_progress(struct guest_pod *gp, struct guest_outq *q)
{
	int64_t now = guest_now_ms();
	int i;

	for (i = 0; gp->execs && i < GUEST_MAX_EXECS; i++) {
		struct guest_exec *x = &gp->execs[i];

		if (!x->used)
			continue;
		if (x->paused && q->raw_bytes < GUEST_EXEC_OUT_CAP / 2) {
			x->paused = false;
			guest_exec_epoll(gp, x->out_r, GUEST_TAG_EXEC(i, 1), EPOLLIN);
			guest_exec_epoll(gp, x->err_r, GUEST_TAG_EXEC(i, 2), EPOLLIN);
		}
		if (!x->exited)
			continue;
		if (now >= x->drain_deadline && !x->paused) {
			guest_pipe_close(gp->epfd, &x->out_r);
			guest_pipe_close(gp->epfd, &x->err_r);
		}
		if (x->out_r < 0 && x->err_r < 0)
			guest_exec_finish(gp, q, i);
	}
	return 0;
}

void guest_exec_free(struct guest_pod *gp)
{
	int i;

	for (i = 0; gp->execs && i < GUEST_MAX_EXECS; i++) {
		struct guest_exec *x = &gp->execs[i];

		if (!x->used)
			continue;
		if (x->pid > 0)
			kill(x->pid, SIGKILL);
		if (x->in_w >= 0)
			close(x->in_w);
		if (x->out_r >= 0)
			close(x->out_r);
		if (x->err_r >= 0)
			close(x->err_r);
		free(x->inbuf);
	}
	free(gp->execs);
	gp->execs = NULL;
}
