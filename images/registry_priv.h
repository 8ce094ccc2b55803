/* Private to images/: one registry connection (a curl handle used by one
 * thread at a time) and bounded GETs with auth, mirrors and retries. */
#ifndef PODVM_IMAGES_REGISTRY_PRIV_H
#define PODVM_IMAGES_REGISTRY_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <pthread.h>

#include "images/registry.h"
#include "util/util.h"

#define REG_MAX_MIRRORS  16
#define REG_MAX_INSECURE 64
#define REG_MAX_ENDPOINTS (REG_MAX_MIRRORS + 1)

struct reg_mirror {
	char registry[IMAGE_HOST_MAX];   /* what it mirrors */
	char url[512];                   /* scheme://host[:port][/prefix] */
};

struct reg_token {
	char host[IMAGE_HOST_MAX];
	char scope[512];
	char *token;
	int64_t expires_ms;              /* monotonic */
	struct reg_token *next;
};

struct registry {
	char insecure[REG_MAX_INSECURE][IMAGE_HOST_MAX];
	size_t n_insecure;
	struct reg_mirror mirrors[REG_MAX_MIRRORS];
	size_t n_mirrors;
	struct registry_creds creds;     /* --registry-auth */
	int stall_seconds;
	int max_attempts;
	pthread_mutex_t lock;            /* tokens */
	struct reg_token *tokens;
};

struct reg_endpoint {
	char base[512];                  /* scheme://host[:port][/prefix] */
	char host[IMAGE_HOST_MAX];       /* for credentials and tokens */
	int mirror;                      /* index, -1 for the registry itself */
};

size_t reg_endpoints(const struct registry *r, const char *registry,
		     struct reg_endpoint *out, size_t max);
int reg_token_get(struct registry *r, const char *host, const char *scope, char **out);
void reg_token_put(struct registry *r, const char *host, const char *scope,
		   const char *token, int64_t ttl_s);

/* Where a response body goes. data() returns 0, or a negative errno with
 * *err filled: the transfer stops and that error is the request's
 * (never retried). reset() runs before a retry starts the body again. */
struct reg_sink {
	int (*data)(void *opaque, const void *buf, size_t len, struct pv_err *err);
	void (*reset)(void *opaque);
	void *opaque;
};

struct reg_resp {
	long status;
	char content_type[128];
	char docker_digest[IMAGE_DIGEST_MAX];   /* Docker-Content-Digest, "" if absent */
	int64_t content_length;                 /* -1 when unknown */
};

struct reg_conn {
	struct registry *r;
	const struct image_ref *ref;
	const struct registry_creds *extra;
	void *curl;                  /* CURL *, reused for keep-alive */
	int dead_mirrors;            /* bit i: mirror i failed to connect */
};

void reg_conn_init(struct reg_conn *c, struct registry *r, const struct image_ref *ref,
		   const struct registry_creds *extra);
void reg_conn_fini(struct reg_conn *c);

/* GET /v2/REPO/{kind}/{what} (kind "manifests" or "blobs") into sink.
 * Errors: -ENOENT not found, -EACCES unauthorized, -EHOSTUNREACH unknown
 * host, -ECONNREFUSED, -ETIMEDOUT stalled, -EIO otherwise; the message
 * names the registry and never a credential. */
int reg_get(struct reg_conn *c, const char *kind, const char *what,
	    const char *accept, const struct reg_sink *sink, struct reg_resp *resp,
	    struct pv_err *err);

/* Is host[:port] served over plain HTTP (loopback, or --insecure-registry)? */
bool registry_plain_http(const struct registry *r, const char *hostport);

#endif
