/* Internals shared by daemon/vpcsvc.c (registry, pods, flusher),
 * daemon/vpcsvc_api.c (API calls, persisted definitions) and
 * daemon/vpcsvc_json.c (the VPC object's codec). */
#ifndef PODVM_DAEMON_VPCSVC_PRIV_H
#define PODVM_DAEMON_VPCSVC_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include "daemon/vpcsvc.h"

struct json_object;

#define VPCSVC_PATH_MAX 1024

struct vpcsvc_vpc {
	struct netns_vpc_info info;
	bool configured;          /* from --vpc: the API cannot delete it */
	size_t refs;              /* pods bound to it */
	int64_t created_ms;       /* wall clock, 0 = unknown */
	struct vpcsvc_vpc *next;  /* sorted by name */
};

struct vpcsvc {
	char net_dir[VPCSVC_PATH_MAX];     /* STATE_DIR/net: IPAM files */
	char defs_dir[VPCSVC_PATH_MAX];    /* STATE_DIR/vpcs: API definitions */
	char netns_dir[VPCSVC_PATH_MAX];
	/* Registry lock.  Held across netns_vpc_create/destroy (rare, API
	 * rate), never across a pod's prepare/attach/release. */
	pthread_mutex_t lock;
	struct vpcsvc_vpc *vpcs;
	struct netns_ctx *ctx;             /* NULL until the first VPC */
	bool flusher_on;
	bool stop;                         /* under lock */
	pthread_cond_t cond;
	pthread_t flusher;
};

struct vpcsvc_vpc *vpcsvc_find_locked(struct vpcsvc *vs, const char *name);
/* Insert sorted; takes v. */
void vpcsvc_insert_locked(struct vpcsvc *vs, struct vpcsvc_vpc *v);
void vpcsvc_remove_locked(struct vpcsvc *vs, struct vpcsvc_vpc *v);
/* The network context and its flusher, made on first need. */
int vpcsvc_ctx_ensure_locked(struct vpcsvc *vs, struct pv_err *err);

/* vpcsvc_api.c: STATE_DIR/vpcs/NAME.json. */
int vpcsvc_def_write(struct vpcsvc *vs, const struct vpcsvc_vpc *v,
		     struct pv_err *err);
int vpcsvc_def_remove(struct vpcsvc *vs, const char *name, struct pv_err *err);
/* Every definition into the registry (configured ones win). */
int vpcsvc_defs_load(struct vpcsvc *vs, struct pv_err *err);

/* vpcsvc_json.c: one VPC object (POST body or definition file) into info;
 * strict about apiVersion, kind and spec, lenient about metadata; status
 * is ignored. 0, or -1 with st = 400/422. */
int vpcsvc_decode(struct json_object *o, struct netns_vpc_info *info,
		  int64_t *created_ms, struct podsvc_status *st);
/* The object (with status for the API, without for definition files). */
struct json_object *vpcsvc_json(const struct vpcsvc_vpc *v, bool with_status);
/* o (consumed) as text, or NULL with st = 500. */
char *vpcsvc_text(struct json_object *o, struct podsvc_status *st);

/* 422 with one cause. */
void vpcsvc_st_invalid(struct podsvc_status *st, const char *kind,
		       const char *name, const char *field, const char *reason,
		       const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void vpcsvc_st_set(struct podsvc_status *st, int code, const char *reason,
		   const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
