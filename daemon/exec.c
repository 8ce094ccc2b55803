/* Exec sessions: see daemon/exec.h for who runs what. One mutex guards the
 * pod table, every session's state and every queue; nobody blocks while
 * holding it (socket writes are non-blocking, agent writes happen after
 * the queue was taken). A session is freed when its last reference goes:
 * the pod's list (until EXEC_EXIT), its thread, and each queued item. */
#include "daemon/exec_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "host/log.h"

static void exec_wake(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("exec: cannot wake a thread", LOG_END);
}

int exec_table_new(struct exec_table **out, struct pv_err *err)
{
	struct exec_table *x = calloc(1, sizeof(*x));

	*out = NULL;
	if (!x)
		return pv_err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&x->lock, NULL);
	x->refs = 1;
	*out = x;
	return 0;
}

void exec_table_unref_locked(struct exec_table *x)
{
	bool last = --x->refs == 0;

	pthread_mutex_unlock(&x->lock);
	if (!last)
		return;
	/* every pod detached before (its thread ended): no pod is left */
	pthread_mutex_destroy(&x->lock);
	free(x);
}

/* A session thread still flushing its client keeps the table alive. */
void exec_table_free(struct exec_table *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	exec_table_unref_locked(x);
}

struct exec_pod *exec_pod_find_locked(struct exec_table *x, const char *uid)
{
	for (struct exec_pod *p = x->pods; p; p = p->next)
		if (!strcmp(p->uid, uid))
			return p;
	return NULL;
}

struct exec_session *exec_session_find_locked(struct exec_pod *p, uint16_t id)
{
	for (struct exec_session *s = p ? p->sessions : NULL; s; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

void exec_session_unref_locked(struct exec_session *s)
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
int exec_enqueue_locked(struct exec_session *s, enum exec_item_kind kind,
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
void exec_session_remove_locked(struct exec_session *s)
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
void exec_session_finish_locked(struct exec_session *s, int code, int sig,
				const char *error)
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

void exec_pod_attach(struct exec_table *x, const char *uid, int wake_fd)
{
	struct exec_pod *p;
	uint16_t r = 0;

	if (!x)
		return;
	p = calloc(1, sizeof(*p));
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
	exec_pod_detach(x, uid);   /* a stale entry (cannot happen) */
	pthread_mutex_lock(&x->lock);
	p->next = x->pods;
	x->pods = p;
	pthread_mutex_unlock(&x->lock);
}

void exec_pod_detach(struct exec_table *x, const char *uid)
{
	struct exec_pod *p, **pp;

	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	for (pp = &x->pods; *pp && strcmp((*pp)->uid, uid); pp = &(*pp)->next)
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
	pthread_mutex_unlock(&x->lock);
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
			pthread_mutex_lock(&s->x->lock);
			exec_session_finish_locked(s, 126, 0, "container is not running");
			pthread_mutex_unlock(&s->x->lock);
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

void exec_pod_pump(struct exec_table *x, const char *uid,
		   struct agent_host *ah)
{
	struct exec_item *list = NULL;
	struct exec_pod *p;

	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	p = exec_pod_find_locked(x, uid);
	if (p && ah->proto && p->q_head) {   /* before HELLO: keep them */
		list = p->q_head;
		p->q_head = NULL;
		p->q_tail = &p->q_head;
	}
	pthread_mutex_unlock(&x->lock);
	while (list) {
		struct exec_item *it = list;
		bool live;

		list = it->next;
		/* only this thread takes sessions off a pod: no race here */
		pthread_mutex_lock(&x->lock);
		live = it->s->pod != NULL;
		pthread_mutex_unlock(&x->lock);
		if (live)
			exec_item_send(ah, it);
		pthread_mutex_lock(&x->lock);
		if (it->kind == EXEC_I_STDIN) {
			it->s->in_queued -= it->len;
			exec_wake(it->s->ev_fd);   /* it may read again */
		}
		exec_item_free_locked(it);
		pthread_mutex_unlock(&x->lock);
	}
}

void exec_on_output(struct exec_table *x, const char *uid, uint16_t id,
		    enum agent_stream st, const uint8_t *data, size_t len)
{
	struct exec_session *s;
	int ret;

	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	s = exec_session_find_locked(exec_pod_find_locked(x, uid), id);
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
					 LOG_STR("uid", uid), LOG_INT("id", id),
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
	pthread_mutex_unlock(&x->lock);
}

void exec_on_exit(struct exec_table *x, const char *uid,
		  const struct agent_exec_exit *e)
{
	struct exec_session *s;

	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	s = exec_session_find_locked(exec_pod_find_locked(x, uid), e->id);
	if (s)
		exec_session_finish_locked(s, e->exit_code, e->signal, e->error);
	pthread_mutex_unlock(&x->lock);
}
