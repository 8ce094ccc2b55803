/* Internals shared by daemon/exec.c (the session table, the pod thread's
 * side) and daemon/exec_session.c (session threads, starting a session).
 * The locking rules are in exec.c. */
#ifndef PODVM_DAEMON_EXEC_PRIV_H
#define PODVM_DAEMON_EXEC_PRIV_H

#include <pthread.h>

#include "daemon/exec.h"
#include "host/exec_frame.h"
#include "pod/pod.h"
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

struct exec_table {
	pthread_mutex_t lock;          /* everything below and in sessions */
	struct exec_pod *pods;
	int refs;                      /* exec_table_new's and each session thread's */
};

struct exec_session {
	struct exec_table *x;
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

/* Drop a reference and unlock x; the last one frees it. */
void exec_table_unref_locked(struct exec_table *x);
struct exec_pod *exec_pod_find_locked(struct exec_table *x, const char *uid);
struct exec_session *exec_session_find_locked(struct exec_pod *p, uint16_t id);
void exec_session_unref_locked(struct exec_session *s);
/* Queue an item for the pod thread (the session must be on a pod). */
int exec_enqueue_locked(struct exec_session *s, enum exec_item_kind kind,
			const uint8_t *data, size_t len, uint16_t rows,
			uint16_t cols);
/* Off the pod's list: its id is free again, its queued items go. */
void exec_session_remove_locked(struct exec_session *s);
/* The session is over: the exit frame for the client, then off the list. */
void exec_session_finish_locked(struct exec_session *s, int code, int sig,
				const char *error);

#endif
