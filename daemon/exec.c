/* Exec sessions: see daemon/exec.h for who runs what. One mutex guards the
 * pod table, every session's state and every queue; nobody blocks while
 * holding it (socket writes are non-blocking, agent writes happen after
 * the queue was taken). A session is freed when its last reference goes:
 * the pod's list (until EXEC_EXIT), its thread, and each queued item. */
#include "daemon/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "host/exec_frame.h"
#include "host/log.h"
#include "daemon/supervisor_priv.h"
#include "util/util.h"

#define EXEC_LOST_CODE     137     /* ended without the process's status */
#define EXEC_FLUSH_MS      10000   /* after the exit: time to drain output */
#define EXEC_POLL_MS       500     /* notice the API shutting down */

enum exec_item_kind { EXEC_I_START, EXEC_I_STDIN, EXEC_I_EOF, EXEC_I_RESIZE };

struct exec_session;

struct exec_item {
	struct exec_item *next;
	struct exec_session *s;        /* holds a reference */
	enum exec_item_kind kind;
	uint16_t rows, cols;
	size_t len;
	uint8_t data[];
};

struct exec_pod {
	char uid[UUID_STR_LEN];
	int wake_fd;                   /* borrowed: the pod thread's eventfd */
	uint16_t next_id;
	size_t n_sessions;
	struct exec_session *sessions;
	struct exec_item *q_head, **q_tail;
	struct exec_pod *next;
};

struct exec_session {
	struct exec_pod *pod;          /* NULL once off the pod's list */
	struct exec_session *next;
	int refs;
	uint16_t id;
	char container[POD_LABEL_NAME_MAX + 1];
	char **argv;
	size_t n_argv;
	bool tty, stdin_open;
	int fd;                        /* borrowed: MHD's upgraded socket */
	int ev_fd;                     /* wakes the session thread */
	const atomic_bool *stopping;
	void (*done)(void *arg);
	void *done_arg;
	uint8_t *out;                  /* frames for the client */
	size_t out_len, out_off, out_cap;
	size_t in_queued;              /* stdin bytes waiting for the pod thread */
	bool eof_queued, exited, client_gone, dropped;
	int64_t exit_ms;
	uint8_t in[EXEC_FRAME_HDR + EXEC_FRAME_MAX];
	size_t in_len;
};

static pthread_mutex_t exec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct exec_pod *exec_pods;

static void exec_wake(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("exec: cannot wake a thread", LOG_END);
}

static struct exec_pod *exec_pod_find_locked(const char *uid)
{
	for (struct exec_pod *p = exec_pods; p; p = p->next)
		if (!strcmp(p->uid, uid))
			return p;
	return NULL;
}

static struct exec_session *exec_session_find_locked(struct exec_pod *p,
						     uint16_t id)
{
	for (struct exec_session *s = p ? p->sessions : NULL; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

static void exec_session_unref_locked(struct exec_session *s)
{
	if (--s->refs > 0)
		return;
	for (size_t i = 0; i < s->n_argv; i++)
		free(s->argv[i]);
	free(s->argv);
	if (s->ev_fd >= 0)
		close(s->ev_fd);
	free(s->out);
	free(s);
}

static void exec_item_free_locked(struct exec_item *it)
{
	exec_session_unref_locked(it->s);
	free(it);
}

/* Queue an item for the pod thread (the session must be on a pod). */
static int exec_enqueue_locked(struct exec_session *s, enum exec_item_kind kind,
			       const uint8_t *data, size_t len, uint16_t rows,
			       uint16_t cols)
{
	struct exec_item *it = malloc(sizeof(*it) + len);
	struct exec_pod *p = s->pod;

	if (!it)
		return -ENOMEM;
	memset(it, 0, sizeof(*it));
	it->s = s;
	it->kind = kind;
	it->len = len;
	it->rows = rows;
	it->cols = cols;
	if (len)
		memcpy(it->data, data, len);
	s->refs++;
	*p->q_tail = it;
	p->q_tail = &it->next;
	exec_wake(p->wake_fd);
	return 0;
}

/* Append one frame for the client; force: past the bound (the exit). */
static int exec_out_append_locked(struct exec_session *s, unsigned type,
				  const void *data, size_t len, bool force)
{
	size_t pending = s->out_len - s->out_off, need = EXEC_FRAME_HDR + len;
	int ret;

	if (!force && pending + need > EXEC_OUT_MAX)
		return -ENOBUFS;
	if (s->out_off) {
		memmove(s->out, s->out + s->out_off, pending);
		s->out_len = pending;
		s->out_off = 0;
	}
	if (s->out_len + need > s->out_cap) {
		size_t cap = s->out_cap ? s->out_cap : 16 * 1024;
		uint8_t *nb;

		while (cap < s->out_len + need)
			cap *= 2;
		nb = realloc(s->out, cap);
		if (!nb)
			return -ENOMEM;
		s->out = nb;
		s->out_cap = cap;
	}
	ret = exec_frame_header(s->out + s->out_len, type, len);
	if (ret < 0)
		return ret;
	if (len)
		memcpy(s->out + s->out_len + EXEC_FRAME_HDR, data, len);
	s->out_len += need;
	exec_wake(s->ev_fd);
	return 0;
}

/* Off the pod's list: its id is free again, its queued items go. */
static void exec_session_remove_locked(struct exec_session *s)
{
	struct exec_pod *p = s->pod;
	struct exec_item **ip;

	if (!p)
		return;
	for (struct exec_session **sp = &p->sessions; *sp; sp = &(*sp)->next) {
		if (*sp == s) {
			*sp = s->next;
			break;
		}
	}
	for (ip = &p->q_head; *ip; ) {
		struct exec_item *it = *ip;

		if (it->s != s) {
			ip = &it->next;
			continue;
		}
		*ip = it->next;
		exec_item_free_locked(it);
	}
	p->q_tail = &p->q_head;
	while (*p->q_tail)
		p->q_tail = &(*p->q_tail)->next;
	p->n_sessions--;
	s->pod = NULL;
	exec_session_unref_locked(s);   /* the list's reference */
}

/* The session is over: the exit frame for the client, then off the list. */
static void exec_session_finish_locked(struct exec_session *s, int code,
				       int sig, const char *error)
{
	if (!s->exited && !s->client_gone && !s->dropped) {
		char *json = exec_frame_exit_json(code, sig, error);

		if (!json || exec_out_append_locked(s, EXEC_F_EXIT, json,
						    strlen(json), true) < 0)
			s->dropped = true;   /* cannot tell the client: hang up */
		free(json);
	}
	s->exited = true;
	s->exit_ms = util_mono_ms();
	exec_wake(s->ev_fd);
	exec_session_remove_locked(s);
}

/* Pod thread side ------------------------------------------------------- */

void exec_pod_attach(const char *uid, int wake_fd)
{
	struct exec_pod *p = calloc(1, sizeof(*p));
	uint16_t r = 0;

	if (!p) {
		log_warn("exec: out of memory, no exec for this pod",
			 LOG_STR("uid", uid), LOG_END);
		return;
	}
	snprintf(p->uid, sizeof(p->uid), "%s", uid);
	p->wake_fd = wake_fd;
	p->q_tail = &p->q_head;
	/* A random first id: after a podvmd restart the guest may still run
	 * sessions of the old daemon, and a duplicate id is fatal. */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint16_t)util_mono_ms();
	p->next_id = r ? r : 1;
	exec_pod_detach(uid);   /* a stale entry (cannot happen) */
	pthread_mutex_lock(&exec_lock);
	p->next = exec_pods;
	exec_pods = p;
	pthread_mutex_unlock(&exec_lock);
}

void exec_pod_detach(const char *uid)
{
	struct exec_pod *p, **pp;

	pthread_mutex_lock(&exec_lock);
	for (pp = &exec_pods; *pp && strcmp((*pp)->uid, uid); pp = &(*pp)->next)
		;
	p = *pp;
	if (p) {
		*pp = p->next;
		while (p->sessions)
			exec_session_finish_locked(p->sessions, EXEC_LOST_CODE, 0,
						   "the pod's VM went away before "
						   "the command ended");
		while (p->q_head) {
			struct exec_item *it = p->q_head;

			p->q_head = it->next;
			exec_item_free_locked(it);
		}
	}
	pthread_mutex_unlock(&exec_lock);
	free(p);
}

static void exec_item_send(struct agent_host *ah, struct exec_item *it)
{
	struct exec_session *s = it->s;
	struct pv_err err = { 0 };
	int ret = 0;

	switch (it->kind) {
	case EXEC_I_START: {
		struct agent_exec_start x = {
			.id = s->id, .command = s->argv, .n_command = s->n_argv,
			.tty = s->tty, .stdin_open = s->stdin_open,
		};

		snprintf(x.container, sizeof(x.container), "%s", s->container);
		if (ah->done) {
			pthread_mutex_lock(&exec_lock);
			exec_session_finish_locked(s, 126, 0, "container is not running");
			pthread_mutex_unlock(&exec_lock);
			return;
		}
		ret = agent_host_exec_start(ah, &x, &err);
		break;
	}
	case EXEC_I_STDIN:
		ret = agent_host_exec_stdin(ah, s->id, it->data, it->len, &err);
		break;
	case EXEC_I_EOF:
		ret = agent_host_exec_stdin(ah, s->id, NULL, 0, &err);
		break;
	case EXEC_I_RESIZE:
		ret = agent_host_exec_resize(ah, s->id, it->rows, it->cols, &err);
		break;
	}
	if (ret < 0)
		log_warn("exec: cannot send to the guest", LOG_STR("error", err.msg),
			 LOG_INT("id", s->id), LOG_END);
}

void exec_pod_pump(const char *uid, struct agent_host *ah)
{
	struct exec_item *list = NULL;
	struct exec_pod *p;

	pthread_mutex_lock(&exec_lock);
	p = exec_pod_find_locked(uid);
	if (p && ah->proto && p->q_head) {   /* before HELLO: keep them */
		list = p->q_head;
		p->q_head = NULL;
		p->q_tail = &p->q_head;
	}
	pthread_mutex_unlock(&exec_lock);
	while (list) {
		struct exec_item *it = list;
		bool live;

		list = it->next;
		/* only this thread takes sessions off a pod: no race here */
		pthread_mutex_lock(&exec_lock);
		live = it->s->pod != NULL;
		pthread_mutex_unlock(&exec_lock);
		if (live)
			exec_item_send(ah, it);
		pthread_mutex_lock(&exec_lock);
		if (it->kind == EXEC_I_STDIN) {
			it->s->in_queued -= it->len;
			exec_wake(it->s->ev_fd);   /* it may read again */
		}
		exec_item_free_locked(it);
		pthread_mutex_unlock(&exec_lock);
	}
}

void exec_on_output(void *opaque, uint16_t id, enum agent_stream st,
		    const uint8_t *data, size_t len)
{
	struct sv_pod *sp = opaque;
	struct exec_session *s;
	int ret;

	pthread_mutex_lock(&exec_lock);
	s = exec_session_find_locked(exec_pod_find_locked(sp->uid), id);
	/* output for an unknown id or a gone client is dropped */
	if (s && !s->client_gone && !s->dropped && !s->exited) {
		/* the guest sends <= 32 KiB per frame; split to be sure */
		for (size_t off = 0; off < len || len == 0; ) {
			size_t n = len - off > EXEC_FRAME_MAX ? EXEC_FRAME_MAX : len - off;

			ret = exec_out_append_locked(s, st == AGENT_STREAM_STDERR
						     ? EXEC_F_STDERR : EXEC_F_STDOUT,
						     data + off, n, false);
			if (ret < 0) {
				/* never block the pod thread on one client */
				log_warn("exec: client too slow, session dropped",
					 LOG_STR("uid", sp->uid), LOG_INT("id", id),
					 LOG_END);
				s->dropped = true;
				if (s->stdin_open && !s->eof_queued &&
				    exec_enqueue_locked(s, EXEC_I_EOF, NULL, 0, 0, 0) == 0)
					s->eof_queued = true;
				exec_wake(s->ev_fd);
				break;
			}
			off += n;
			if (len == 0)
				break;
		}
	}
	pthread_mutex_unlock(&exec_lock);
}

void exec_on_exit(void *opaque, const struct agent_exec_exit *x)
{
	struct sv_pod *sp = opaque;
	struct exec_session *s;

	pthread_mutex_lock(&exec_lock);
	s = exec_session_find_locked(exec_pod_find_locked(sp->uid), x->id);
	if (s)
		exec_session_finish_locked(s, x->exit_code, x->signal, x->error);
	pthread_mutex_unlock(&exec_lock);
}

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
	bool gone = false;

	pthread_mutex_lock(&exec_lock);
	if (s->in_len && exec_client_input_locked(s) < 0)
		gone = true;
	pthread_mutex_unlock(&exec_lock);
	while (!gone) {
		struct pollfd pfd[2] = {
			{ .fd = s->fd }, { .fd = s->ev_fd, .events = POLLIN },
		};
		bool want_out;

		pthread_mutex_lock(&exec_lock);
		want_out = s->out_len > s->out_off;
		if (s->dropped || (s->exited && !want_out) ||
		    (s->exited && util_mono_ms() - s->exit_ms > EXEC_FLUSH_MS)) {
			pthread_mutex_unlock(&exec_lock);
			break;
		}
		if (atomic_load(s->stopping) && !s->exited)
			exec_session_finish_locked(s, EXEC_LOST_CODE, 0,
						   "podvmd is shutting down");
		if (!s->exited && s->in_queued < EXEC_IN_MAX)
			pfd[0].events |= POLLIN;
		if (want_out)
			pfd[0].events |= POLLOUT;
		pthread_mutex_unlock(&exec_lock);
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
		pthread_mutex_lock(&exec_lock);
		if ((pfd[0].revents & POLLOUT) && exec_flush_locked(s) < 0)
			gone = true;
		if (!gone && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    exec_read_locked(s) < 0)
			gone = true;
		pthread_mutex_unlock(&exec_lock);
	}
	pthread_mutex_lock(&exec_lock);
	if (!s->exited) {
		/* the client left: close the process's stdin; it runs on */
		s->client_gone = true;
		if (s->pod && s->stdin_open && !s->eof_queued &&
		    exec_enqueue_locked(s, EXEC_I_EOF, NULL, 0, 0, 0) == 0)
			s->eof_queued = true;
		log_info("exec: client left before the command ended",
			 LOG_INT("id", s->id), LOG_END);
	}
	pthread_mutex_unlock(&exec_lock);
	s->done(s->done_arg);   /* outside the lock: MHD takes its own */
	pthread_mutex_lock(&exec_lock);
	exec_session_unref_locked(s);
	pthread_mutex_unlock(&exec_lock);
	return NULL;
}

/* API side ---------------------------------------------------------------- */

int exec_pod_check(const char *uid)
{
	struct exec_pod *p;
	int ret;

	pthread_mutex_lock(&exec_lock);
	p = exec_pod_find_locked(uid);
	ret = !p ? -ENOENT : p->n_sessions >= EXEC_MAX_PER_POD ? -EBUSY : 0;
	pthread_mutex_unlock(&exec_lock);
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

int exec_session_start(const struct exec_request *rq, int fd,
		       const char *extra, size_t extra_len,
		       const atomic_bool *stopping,
		       void (*done)(void *arg), void *done_arg,
		       struct pv_err *err)
{
	struct exec_session *s = NULL;
	struct exec_pod *p;
	pthread_attr_t attr;
	pthread_t th;
	int ret, fl;

	if (rq->n_argv == 0 || rq->n_argv > AGENT_EXEC_MAX_ARGS ||
	    !rq->argv[0][0] || strlen(rq->container) > POD_LABEL_NAME_MAX)
		return pv_err_set(err, EINVAL, "invalid exec request");
	if (extra_len > sizeof(s->in))
		return pv_err_set(err, EMSGSIZE, "too much early input");
	s = calloc(1, sizeof(*s));
	if (!s)
		return pv_err_set(err, ENOMEM, "out of memory");
	s->ev_fd = -1;
	s->refs = 1;
	s->argv = calloc(rq->n_argv + 1, sizeof(*s->argv));
	if (!s->argv) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (; s->n_argv < rq->n_argv; s->n_argv++) {
		if (strlen(rq->argv[s->n_argv]) >= AGENT_EXEC_ARG_MAX) {
			ret = pv_err_set(err, E2BIG, "command argument too long");
			goto out;
		}
		s->argv[s->n_argv] = strdup(rq->argv[s->n_argv]);
		if (!s->argv[s->n_argv]) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	snprintf(s->container, sizeof(s->container), "%s", rq->container);
	s->tty = rq->tty;
	s->stdin_open = rq->stdin_open;
	s->fd = fd;
	s->stopping = stopping;
	s->done = done;
	s->done_arg = done_arg;
	memcpy(s->in, extra, extra_len);
	s->in_len = extra_len;
	s->ev_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	fl = fcntl(fd, F_GETFL);
	if (s->ev_fd < 0 || fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		ret = pv_err_sys(err, errno, "exec session setup");
		goto out;
	}

	pthread_mutex_lock(&exec_lock);
	p = exec_pod_find_locked(rq->uid);
	if (!p || p->n_sessions >= EXEC_MAX_PER_POD ||
	    !(s->id = exec_id_alloc_locked(p))) {
		pthread_mutex_unlock(&exec_lock);
		ret = p ? pv_err_set(err, EBUSY, "too many exec sessions in this "
				     "pod (at most %d)", EXEC_MAX_PER_POD)
			: pv_err_set(err, ENOENT, "the pod is not running");
		goto out;
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
		pthread_mutex_unlock(&exec_lock);
		return pv_err_sys(err, -ret, "cannot start exec session");
	}
	log_info("exec session started", LOG_STR("uid", rq->uid),
		 LOG_STR("container", s->container), LOG_INT("id", s->id),
		 LOG_END);
	pthread_mutex_unlock(&exec_lock);
	return 0;
out:
	if (s) {
		pthread_mutex_lock(&exec_lock);
		exec_session_unref_locked(s);
		pthread_mutex_unlock(&exec_lock);
	}
	return ret;
}
