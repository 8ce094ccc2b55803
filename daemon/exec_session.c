/* Exec sessions, the client's side: one thread per session between the
 * API's upgraded socket and the pod's queue, and starting a session. The
 * session table and the pod thread's side are in daemon/exec.c. */
#include "daemon/exec_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/log.h"

/* Session thread ----------------------------------------------------------- */

/* One client frame. <0: the client broke the protocol. */
static int exec_client_frame_locked(struct exec_session *s,
				    const struct exec_frame *f)
{
	uint16_t rows, cols;

	if (!s->pod || s->exited)
		return 0;   /* nobody to give it to any more */
	switch (f->type) {
	case EXEC_F_STDIN:
		if (!s->stdin_open || s->eof_queued)
			return -EPROTO;
		if (f->len == 0)
			return 0;   /* EOF is its own frame type */
		if (exec_enqueue_locked(s, EXEC_I_STDIN, f->payload, f->len, 0, 0) < 0)
			return -ENOMEM;
		s->in_queued += f->len;
		return 0;
	case EXEC_F_STDIN_EOF:
		if (f->len)
			return -EPROTO;
		if (!s->stdin_open || s->eof_queued)
			return 0;
		if (exec_enqueue_locked(s, EXEC_I_EOF, NULL, 0, 0, 0) < 0)
			return -ENOMEM;
		s->eof_queued = true;
		return 0;
	case EXEC_F_RESIZE:
		if (exec_frame_resize_parse(f->payload, f->len, &rows, &cols) < 0)
			return -EPROTO;
		if (!s->tty)
			return 0;
		if (exec_enqueue_locked(s, EXEC_I_RESIZE, NULL, 0, rows, cols) < 0)
			return -ENOMEM;
		return 0;
	default:
		return -EPROTO;   /* output or exit frames come from us */
	}
}

/* Consume the complete frames in s->in. */
static int exec_client_input_locked(struct exec_session *s)
{
	size_t off = 0;
	int ret = 0;

	for (;;) {
		struct exec_frame f;
		size_t used = 0;

		ret = exec_frame_next(s->in + off, s->in_len - off, &f, &used);
		if (ret <= 0)
			break;
		ret = exec_client_frame_locked(s, &f);
		if (ret < 0)
			break;
		off += used;
	}
	memmove(s->in, s->in + off, s->in_len - off);
	s->in_len -= off;
	return ret < 0 ? ret : 0;
}

/* Write what is buffered; -1 when the client is gone. */
static int exec_flush_locked(struct exec_session *s)
{
	while (s->out_len > s->out_off) {
		ssize_t n = write(s->fd, s->out + s->out_off, s->out_len - s->out_off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		s->out_off += (size_t)n;
	}
	return 0;
}

/* Read what the client sent; -1 when it is gone or broke the protocol. */
static int exec_read_locked(struct exec_session *s)
{
	size_t room = sizeof(s->in) - s->in_len;
	ssize_t n;

	if (room == 0)
		return -1;   /* cannot happen: a whole frame always fits */
	n = read(s->fd, s->in + s->in_len, room);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
	if (n == 0)
		return -1;
	s->in_len += (size_t)n;
	if (exec_client_input_locked(s) < 0) {
		log_warn("exec: bad frame from the client, session closed",
			 LOG_INT("id", s->id), LOG_END);
		return -1;
	}
	return 0;
}

static void *exec_session_thread(void *arg)
{
	struct exec_session *s = arg;
	struct exec_table *x;
	bool gone = false;

	pthread_mutex_lock(&s->x->lock);
	if (s->in_len && exec_client_input_locked(s) < 0)
		gone = true;
	pthread_mutex_unlock(&s->x->lock);
	while (!gone) {
		struct pollfd pfd[2] = {
			{ .fd = s->fd }, { .fd = s->ev_fd, .events = POLLIN },
		};
		bool want_out;

		pthread_mutex_lock(&s->x->lock);
		want_out = s->out_len > s->out_off;
		if (s->dropped || (s->exited && !want_out) ||
		    (s->exited && util_mono_ms() - s->exit_ms > EXEC_FLUSH_MS)) {
			pthread_mutex_unlock(&s->x->lock);
			break;
		}
		if (atomic_load(s->stopping) && !s->exited)
			exec_session_finish_locked(s, EXEC_LOST_CODE, 0,
						   "podvmd is shutting down");
		if (!s->exited && s->in_queued < EXEC_IN_MAX)
			pfd[0].events |= POLLIN;
		if (want_out)
			pfd[0].events |= POLLOUT;
		pthread_mutex_unlock(&s->x->lock);
		if (poll(pfd, 2, EXEC_POLL_MS) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents & POLLIN) {
			uint64_t v;

			if (read(s->ev_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				break;
		}
		pthread_mutex_lock(&s->x->lock);
		if ((pfd[0].revents & POLLOUT) && exec_flush_locked(s) < 0)
			gone = true;
		if (!gone && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    exec_read_locked(s) < 0)
			gone = true;
		pthread_mutex_unlock(&s->x->lock);
	}
	pthread_mutex_lock(&s->x->lock);
	if (!s->exited) {
		/* the client left: close the process's stdin; it runs on */
		s->client_gone = true;
		if (s->pod && s->stdin_open && !s->eof_queued &&
		    exec_enqueue_locked(s, EXEC_I_EOF, NULL, 0, 0, 0) == 0)
			s->eof_queued = true;
		log_info("exec: client left before the command ended",
			 LOG_INT("id", s->id), LOG_END);
	}
	pthread_mutex_unlock(&s->x->lock);
	s->done(s->done_arg);   /* outside the lock: MHD takes its own */
	x = s->x;
	pthread_mutex_lock(&x->lock);
	exec_session_unref_locked(s);
	exec_table_unref_locked(x);   /* unlocks; may free x */
	return NULL;
}

/* API side ---------------------------------------------------------------- */

int exec_pod_check(struct exec_table *x, const char *uid)
{
	struct exec_pod *p;
	int ret;

	if (!x)
		return -ENOENT;
	pthread_mutex_lock(&x->lock);
	p = exec_pod_find_locked(x, uid);
	ret = !p ? -ENOENT : p->n_sessions >= EXEC_MAX_PER_POD ? -EBUSY : 0;
	pthread_mutex_unlock(&x->lock);
	return ret;
}

/* A free id (1..65535) on p; 0 when none (cannot happen: <= 16 in use). */
static uint16_t exec_id_alloc_locked(struct exec_pod *p)
{
	for (unsigned tries = 0; tries < 65535; tries++) {
		uint16_t id = p->next_id;

		p->next_id = p->next_id == 65535 ? 1 : p->next_id + 1;
		if (!exec_session_find_locked(p, id))
			return id;
	}
	return 0;
}

/* A new session in *out, not yet on any pod: the request copied, the
 * client's socket made non-blocking. */
static int exec_session_new(struct exec_table *x, const struct exec_request *rq,
			    int fd, struct exec_session **out,
			    struct pv_err *err)
{
	struct exec_session *s = calloc(1, sizeof(*s));
	int ret, fl;

	if (!s)
		return pv_err_set(err, ENOMEM, "out of memory");
	s->x = x;
	s->ev_fd = -1;
	s->refs = 1;
	s->argv = calloc(rq->n_argv + 1, sizeof(*s->argv));
	if (!s->argv) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	for (; s->n_argv < rq->n_argv; s->n_argv++) {
		if (strlen(rq->argv[s->n_argv]) >= AGENT_EXEC_ARG_MAX) {
			ret = pv_err_set(err, E2BIG, "command argument too long");
			goto fail;
		}
		s->argv[s->n_argv] = strdup(rq->argv[s->n_argv]);
		if (!s->argv[s->n_argv]) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto fail;
		}
	}
	snprintf(s->container, sizeof(s->container), "%s", rq->container);
	s->tty = rq->tty;
	s->stdin_open = rq->stdin_open;
	s->fd = fd;
	s->ev_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fl = fcntl(fd, F_GETFL);
	if (s->ev_fd < 0 || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = pv_err_sys(err, errno, "exec session setup");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	pthread_mutex_lock(&x->lock);
	exec_session_unref_locked(s);
	pthread_mutex_unlock(&x->lock);
	return ret;
}

/* Onto the pod's list with a free id, EXEC_START queued, its thread
 * started. Takes s (freed on error). */
static int exec_session_run_locked(struct exec_table *x, const char *uid,
				   struct exec_session *s, struct pv_err *err)
{
	struct exec_pod *p = exec_pod_find_locked(x, uid);
	pthread_attr_t attr;
	pthread_t th;
	int ret;

	if (!p || p->n_sessions >= EXEC_MAX_PER_POD ||
	    !(s->id = exec_id_alloc_locked(p))) {
		exec_session_unref_locked(s);
		return p ? pv_err_set(err, EBUSY, "too many exec sessions in this "
				      "pod (at most %d)", EXEC_MAX_PER_POD)
			 : pv_err_set(err, ENOENT, "the pod is not running");
	}
	s->pod = p;
	s->next = p->sessions;
	p->sessions = s;
	p->n_sessions++;
	s->refs = 2;   /* the pod's list and the thread */
	ret = exec_enqueue_locked(s, EXEC_I_START, NULL, 0, 0, 0);
	if (ret == 0 && (ret = -pthread_attr_init(&attr)) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		ret = -pthread_create(&th, &attr, exec_session_thread, s);
		pthread_attr_destroy(&attr);
	}
	if (ret < 0) {
		exec_session_remove_locked(s);
		exec_session_unref_locked(s);   /* the thread's */
		return pv_err_sys(err, -ret, "cannot start exec session");
	}
	x->refs++;   /* the thread's: it may outlive exec_table_free */
	log_info("exec session started", LOG_STR("uid", uid),
		 LOG_STR("container", s->container), LOG_INT("id", s->id),
		 LOG_END);
	return 0;
}

int exec_session_start(struct exec_table *x, const struct exec_request *rq,
		       int fd, const char *extra, size_t extra_len,
		       const atomic_bool *stopping,
		       void (*done)(void *arg), void *done_arg,
		       struct pv_err *err)
{
	struct exec_session *s = NULL;
	int ret;

	if (!x)
		return pv_err_set(err, ENOENT, "the pod is not running");
	if (rq->n_argv == 0 || rq->n_argv > AGENT_EXEC_MAX_ARGS ||
	    !rq->argv[0][0] || strlen(rq->container) > POD_LABEL_NAME_MAX)
		return pv_err_set(err, EINVAL, "invalid exec request");
	if (extra_len > sizeof(s->in))
		return pv_err_set(err, EMSGSIZE, "too much early input");
	ret = exec_session_new(x, rq, fd, &s, err);
	if (ret < 0)
		return ret;
	s->stopping = stopping;
	s->done = done;
	s->done_arg = done_arg;
	memcpy(s->in, extra, extra_len);
	s->in_len = extra_len;
	pthread_mutex_lock(&x->lock);
	ret = exec_session_run_locked(x, rq->uid, s, err);
	pthread_mutex_unlock(&x->lock);
	return ret;
}
