/* Pulling images from registries (OCI distribution spec, over libcurl).
 *
 *   image_ref_parse      reference -> registry, repository, tag, digest
 *   registry_*           configuration: credentials (auth.json), plain
 *                        HTTP for loopback and --insecure-registry hosts,
 *                        mirrors; a token cache shared by concurrent pulls
 *   image_pull           manifest (index -> linux/amd64), config, layers
 *                        (3 at once), each blob verified while it streams,
 *                        then committed to the store in one step
 *
 * Credentials never appear in messages or logs. */
#ifndef PODVM_IMAGES_REGISTRY_H
#define PODVM_IMAGES_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "images/store.h"
#include "util/err.h"

#define IMAGE_HOST_MAX 256
#define IMAGE_REPO_MAX 256
#define IMAGE_TAG_MAX  129

struct image_ref {
	char name[IMAGE_REF_MAX];          /* normalized, e.g. docker.io/library/busybox:latest */
	char registry[IMAGE_HOST_MAX];     /* "docker.io", "127.0.0.1:5000" */
	char repo[IMAGE_REPO_MAX];         /* "library/busybox" */
	char tag[IMAGE_TAG_MAX];           /* "" with a digest only */
	char digest[IMAGE_DIGEST_MAX];     /* "" unless pinned */
};

int image_ref_parse(const char *ref, struct image_ref *out, struct pv_err *err);

/* Kubernetes' default pull policy for a reference as written: ":latest"
 * or no tag (and no digest) -> true (Always), else false (IfNotPresent). */
bool image_ref_defaults_to_always(const char *ref);

/* --- credentials ------------------------------------------------------ */

struct registry_cred {
	char key[IMAGE_HOST_MAX + IMAGE_REPO_MAX];   /* "host" or "host/repo..." */
	char *user;
	char *pass;
};

struct registry_creds {
	struct registry_cred *v;
	size_t n;
};

/* Add the "auths" of a Docker config.json / Podman auth.json (also the
 * payload of a kubernetes.io/dockerconfigjson Secret). Keys may carry a
 * scheme or path ("https://index.docker.io/v1/"); "auth" is base64
 * "user:pass", or "username"/"password". what names the source in
 * errors. */
int registry_creds_add_json(struct registry_creds *c, const char *text, size_t len,
			    const char *what, struct pv_err *err);
int registry_creds_load_file(struct registry_creds *c, const char *path,
			     struct pv_err *err);
/* Best match for registry/repo: the longest key that is the registry or a
 * path prefix of registry/repo. NULL when none. */
const struct registry_cred *registry_creds_find(const struct registry_creds *c,
						const char *registry,
						const char *repo);
void registry_creds_free(struct registry_creds *c);

/* --- WWW-Authenticate ---------------------------------------------------- */

enum registry_scheme { REG_AUTH_NONE = 0, REG_AUTH_BASIC, REG_AUTH_BEARER };

struct registry_challenge {
	enum registry_scheme scheme;
	char realm[1024];
	char service[256];
	char scope[512];
};

/* Parse one header value (several challenges may share it: Bearer wins
 * over Basic). -EINVAL on malformed input. */
int registry_challenge_parse(const char *value, struct registry_challenge *out,
			     struct pv_err *err);

/* --- configuration ------------------------------------------------------ */

struct registry_config {
	const char *auth_file;              /* NULL: $REGISTRY_AUTH_FILE if set */
	const char *const *insecure;        /* "HOST[:PORT]": plain HTTP */
	size_t n_insecure;
	const char *const *mirrors;         /* "URL" (for docker.io) or "REGISTRY=URL" */
	size_t n_mirrors;
	int stall_seconds;                  /* 0: 60 s without a byte aborts */
	int max_attempts;                   /* 0: 4 tries per request */
};

struct registry;

int registry_open(const struct registry_config *cfg, struct registry **out,
		  struct pv_err *err);
void registry_close(struct registry *r);

/* --- pulling ------------------------------------------------------------ */

enum image_pull_event_kind {
	PULL_EV_RESOLVED,      /* manifest known: n_layers, total bytes */
	PULL_EV_LAYER_CACHED,  /* layer already in the store */
	PULL_EV_LAYER_START,
	PULL_EV_LAYER_PROGRESS,
	PULL_EV_LAYER_DONE,
	PULL_EV_LAYER_RETRY,
	PULL_EV_DONE,
};

struct image_pull_event {
	enum image_pull_event_kind kind;
	size_t layer;              /* index in the manifest */
	size_t n_layers;
	const char *digest;
	uint64_t bytes;            /* so far (progress) or total (done) */
	uint64_t total;
};

struct image_pull_progress {
	/* Called from the pull's worker threads, serialised by the pull. */
	void (*event)(void *opaque, const struct image_pull_event *ev);
	void *opaque;
};

struct image_pull_result {
	char ref[IMAGE_REF_MAX];                 /* normalized */
	char manifest_digest[IMAGE_DIGEST_MAX];  /* the linux/amd64 manifest */
	char repo_digest[IMAGE_REF_MAX];         /* REGISTRY/REPO@sha256:... (what the tag named) */
	uint64_t size;                           /* compressed bytes of its blobs */
	uint64_t fetched;                        /* bytes downloaded by this pull */
	int64_t ms;
	bool shared;                             /* another pull did the work */
};

/* Pull ref into the store. extra: credentials that take precedence over
 * the configured file (a pod's imagePullSecrets); may be NULL. */
int image_pull(struct image_store *s, struct registry *r, const char *ref,
	       const struct registry_creds *extra,
	       const struct image_pull_progress *prog,
	       struct image_pull_result *res, struct pv_err *err);

#endif
