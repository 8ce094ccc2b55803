/* Internals of the pod service, shared by daemon/podsvc*.c only.
 *
 *   podsvc.c         records, open/close, create, locking
 *   podsvc_ops.c     get/list/delete, status updates, finalize, counts
 *   podsvc_store.c   durable files: atomic writes, loading, replay,
 *                    event-log compaction, outbox cursor
 *   podsvc_json.c    Pod / PodStatus JSON (Kubernetes core/v1 shapes)
 *   podsvc_watch.c   in-memory event ring, commits, watches, outbox reads
 *   podsvc_select.c  label and field selectors
 *   podsvc_log.c     CRI-format container logs
 *
 * Concurrency: one mutex (s->lock) guards every field below except the
 * log files, which s->log_mu serialises (lock order: log_mu, then lock).
 * JSON trees are immutable once stored in a record or an event: a change
 * builds a new tree. json-c reference counts and its serialisation cache
 * are not thread-safe, so every get/put/serialise happens under s->lock. */
#ifndef PODVM_DAEMON_PODSVC_PRIV_H
#define PODVM_DAEMON_PODSVC_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/podsvc.h"
#include "util/util.h"

struct json_object;

#define PODSVC_PATH_MAX        4096
#define PODSVC_DEFAULT_EVENTS  10000
/* Undelivered outbox events kept on disk at most (beyond max_events). */
#define PODSVC_MAX_PENDING     100000
#define PODSVC_RECORD_MAX      (16u * 1024 * 1024)
#define PODSVC_LOG_ROTATE      (10u * 1024 * 1024)

enum podsvc_evtype { PODSVC_ADDED = 0, PODSVC_MODIFIED, PODSVC_DELETED };

struct podsvc_rec {
	char uid[UUID_STR_LEN];
	struct pod *pod;               /* decoded spec; name/namespace in it */
	struct json_object *obj;       /* the stored Pod, immutable */
	uint64_t rv;
	enum podsvc_phase phase;
	bool deleting;
	bool runner_busy;              /* create is inside runner->start */
	bool stop_pending;             /* delete arrived during start */
	int64_t stop_grace;
	/* last reported container states, for logs' "finished" */
	enum podsvc_ctr_state ctr_state[POD_MAX_CONTAINERS];
	int ctr_restarts[POD_MAX_CONTAINERS];
};

struct podsvc_evt {
	uint64_t rv;
	enum podsvc_evtype type;
	char *obj_text;                /* the object, with resourceVersion */
	struct json_object *obj;       /* same, parsed (for selectors) */
	struct json_object *prev;      /* object before the change, or NULL */
};

struct podsvc {
	char state_dir[PODSVC_PATH_MAX];
	char dir[PODSVC_PATH_MAX];     /* STATE_DIR/daemon */
	char host_ip[64];
	char node_name[POD_NAME_MAX + 1];
	size_t max_events;
	const struct podsvc_runner_ops *ops;
	void *runner;
	int dfd, pods_dfd, events_dfd; /* O_DIRECTORY fds */

	pthread_mutex_t lock;
	pthread_cond_t cond;           /* a new event, or closing */
	pthread_cond_t idle;           /* refs dropped */
	pthread_mutex_t log_mu;
	bool closing;
	size_t refs;                   /* open watches + threads in events_wait */

	struct podsvc_rec **recs;
	size_t n_recs, cap_recs;
	uint64_t rv;                   /* last assigned resourceVersion */

	/* ring of the last max_events events, oldest at ev_head */
	struct podsvc_evt *ev;
	size_t ev_head, ev_n;
	uint64_t disk_oldest;          /* lowest event rv still on disk (0: none) */
	bool outbox_active;            /* a consumer's cursor limits compaction */
	uint64_t outbox_cursor;
};

/* ---- podsvc.c ---- */
struct podsvc_rec *podsvc_find_uid(struct podsvc *s, const char *uid);
struct podsvc_rec *podsvc_find_name(struct podsvc *s, const char *ns,
				    const char *name);
int podsvc_rec_reserve(struct podsvc *s);   /* room for one more */
int podsvc_rec_insert(struct podsvc *s, struct podsvc_rec *r);
/* runner->stop, or finalize at once without a runner; call unlocked. */
void podsvc_do_stop(struct podsvc *s, const char *uid, int64_t grace);
void podsvc_rec_remove(struct podsvc *s, struct podsvc_rec *r);
void podsvc_rec_free(struct podsvc_rec *r);
void podsvc_st_set(struct podsvc_status *st, int code, const char *reason,
		   const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* ---- podsvc_store.c ---- */
/* Atomic replace of dfd/name: temp file, write, fsync, rename, fsync dir. */
int podsvc_store_write(int dfd, const char *name, const char *data,
		       size_t len, struct pv_err *err);
int podsvc_store_open_dirs(struct podsvc *s, struct pv_err *err);
/* Load records, events, cursor; replay events newer than their record. */
int podsvc_store_load(struct podsvc *s, struct pv_err *err);
/* Delete event files no reader needs any more (called under lock). */
void podsvc_store_compact(struct podsvc *s);
/* Read one event file's text (NULL when missing/unreadable). */
char *podsvc_store_read_event(struct podsvc *s, uint64_t rv);
/* Rebuild a record (pod struct, phase...) from a stored Pod object;
 * takes a reference on obj on success. */
int podsvc_rec_from_obj(struct json_object *obj, struct podsvc_rec **out,
			struct pv_err *err);

/* ---- podsvc_json.c ---- */
void podsvc_json_time(int64_t ms, char *buf, size_t len); /* RFC3339 UTC */
/* A new Pod object for a create (no resourceVersion yet). */
struct json_object *podsvc_json_new_pod(const struct pod *pod,
					struct json_object *orig,
					const char *node_name, int64_t now_ms);
/* The status for an update, reusing transition times from prev_status. */
struct json_object *podsvc_json_status(const struct pod *pod,
				       struct json_object *prev_status,
				       const struct podsvc_status_update *up,
				       const char *host_ip, int64_t now_ms);
const char *podsvc_json_phase_name(enum podsvc_phase p);
enum podsvc_phase podsvc_json_phase(struct json_object *pod);
/* obj.a.b string or NULL. */
const char *podsvc_json_str(struct json_object *obj, const char *a,
			    const char *b);
/* Deep copy with metadata.resourceVersion = rv; NULL on ENOMEM. */
struct json_object *podsvc_json_with_rv(struct json_object *obj, uint64_t rv);
/* Serialise to a malloc'd string (call under s->lock). */
char *podsvc_json_text(struct json_object *obj);

/* ---- podsvc_watch.c ---- */
/* Make obj (built with its resourceVersion = s->rv + 1) the record's new
 * state durably and publish the event. r is NULL for nothing before (an
 * ADDED of a new record is inserted by the caller after success). Under
 * lock. On success takes a reference on obj. */
int podsvc_commit(struct podsvc *s, struct podsvc_rec *r,
		  enum podsvc_evtype type, struct json_object *obj,
		  const char *uid, struct pv_err *err);
/* Add an event to the ring (takes references); under lock. */
int podsvc_ring_push(struct podsvc *s, uint64_t rv, enum podsvc_evtype type,
		     char *obj_text, struct json_object *obj,
		     struct json_object *prev);
void podsvc_ring_free(struct podsvc *s);
uint64_t podsvc_ring_oldest(const struct podsvc *s);  /* 0 when empty */
const char *podsvc_evtype_name(enum podsvc_evtype t);

/* ---- podsvc_select.c ---- */
enum podsvc_sel_op { PODSVC_SEL_EQ, PODSVC_SEL_NE, PODSVC_SEL_EXISTS,
		     PODSVC_SEL_NOT_EXISTS };

struct podsvc_req {
	bool is_field;
	enum podsvc_sel_op op;
	char *key;
	char *value;
};

struct podsvc_sel {
	char *namespace;               /* NULL: all */
	struct podsvc_req *reqs;
	size_t n;
};

int podsvc_sel_parse(const struct podsvc_selector *in, struct podsvc_sel *out,
		     struct podsvc_status *st);
bool podsvc_sel_match(const struct podsvc_sel *sel, struct json_object *pod);
void podsvc_sel_free(struct podsvc_sel *sel);

/* ---- podsvc_log.c ---- */
/* Remove STATE_DIR/daemon/logs/UID (takes log_mu). */
void podsvc_log_remove(struct podsvc *s, const char *uid);
/* Container restarted: its log becomes the previous one (takes log_mu). */
void podsvc_log_restarted(struct podsvc *s, const char *uid,
			  const char *ctr);

#endif
