/* The pod model shared by host and guest: a Kubernetes core/v1 Pod reduced
 * to the fields podvm supports, decoded strictly from JSON (json-c).
 * YAML manifests are turned into the same json-c tree first (cli/manifest.c).
 *
 * Strings are owned by the struct and freed by pod_free(). Optional
 * scalars have a has_ flag. Every limit below is a hard bound that the
 * decoder enforces, so consumers can rely on it. */
#ifndef PODVM_POD_POD_H
#define PODVM_POD_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct json_object;

#define POD_NAME_MAX         253  /* metadata.name: DNS-1123 subdomain */
#define POD_LABEL_NAME_MAX   63   /* container names, namespace: DNS-1123 label */
#define POD_MAX_CONTAINERS   16
#define POD_MAX_ARGS         256  /* command + args entries */
#define POD_MAX_ENV          256
#define POD_MAX_KV           64   /* labels / annotations */
#define POD_MAX_STR          4096 /* any single string value */
#define POD_IMAGE_REF_MAX    512
#define POD_DEFAULT_GRACE    30

struct pod_kv {
	char *key;
	char *value;
};

struct pod_env {
	char *name;
	char *value;           /* "" when not given */
};

enum pod_restart_policy {
	POD_RESTART_ALWAYS = 0, /* Kubernetes' default */
	POD_RESTART_ON_FAILURE,
	POD_RESTART_NEVER,
};

enum pod_pull_policy {
	POD_PULL_DEFAULT = 0,   /* not given */
	POD_PULL_IF_NOT_PRESENT,
	POD_PULL_NEVER,
	POD_PULL_ALWAYS,
};

struct pod_container {
	char *name;            /* DNS-1123 label */
	char *image;           /* reference as written in the manifest */
	char **command;        /* NULL when not given (image Entrypoint applies) */
	size_t n_command;
	bool has_command;
	char **args;           /* NULL when not given (image Cmd applies) */
	size_t n_args;
	bool has_args;
	struct pod_env *env;
	size_t n_env;
	char *working_dir;     /* NULL when not given (image WorkingDir applies) */
	enum pod_pull_policy pull_policy;
	bool tty;
	bool stdin_open;
};

struct pod {
	/* metadata */
	char *name;
	char *namespace;       /* "default" when not given */
	char *uid;             /* NULL when not given; the host assigns one */
	struct pod_kv *labels;
	size_t n_labels;
	struct pod_kv *annotations;
	size_t n_annotations;

	/* spec */
	struct pod_container *containers;
	size_t n_containers;
	enum pod_restart_policy restart_policy;
	int64_t grace_period;  /* terminationGracePeriodSeconds, default 30 */
	char *hostname;        /* spec.hostname, NULL when not given */
};

/* One rejected field, as Kubernetes' StatusCause. */
struct pod_cause {
	char field[256];       /* e.g. "spec.containers[1].foo" */
	char reason[32];       /* FieldValueInvalid, FieldValueRequired,
	                        * FieldValueNotSupported, FieldValueDuplicate,
	                        * FieldValueForbidden, FieldValueTooLong */
	char message[256];     /* e.g. "unknown field" */
};

#define POD_MAX_CAUSES 16

struct pod_causes {
	size_t n;
	struct pod_cause items[POD_MAX_CAUSES];
};

/* Decode a Pod from a json-c tree (apiVersion v1, kind Pod). Unknown or
 * unsupported fields, wrong types, invalid names, missing required fields
 * and duplicates are errors. On error *out is NULL, causes (may be NULL)
 * lists every problem found (up to POD_MAX_CAUSES) and err holds the first
 * as "field.path: message". Returns 0 or -EINVAL / -ENOMEM. */
int pod_decode(struct json_object *obj, struct pod **out,
	       struct pod_causes *causes, struct pv_err *err);

/* Parse JSON text (strict: one object, nothing after it) then pod_decode. */
int pod_decode_json(const char *text, size_t len, struct pod **out,
		    struct pod_causes *causes, struct pv_err *err);

/* Encode back to a json-c tree (a Pod with apiVersion/kind/metadata/spec)
 * that pod_decode accepts. Returns NULL on ENOMEM. */
struct json_object *pod_to_json(const struct pod *pod);

void pod_free(struct pod *pod);

/* Name rules (Kubernetes apimachinery validation). */
bool pod_is_dns1123_label(const char *s);      /* [a-z0-9]([-a-z0-9]*[a-z0-9])?, <= 63 */
bool pod_is_dns1123_subdomain(const char *s);  /* labels joined by '.', <= 253 */
bool pod_is_env_name(const char *s);           /* [-._a-zA-Z][-._a-zA-Z0-9]* */

const struct pod_container *pod_find_container(const struct pod *pod,
					       const char *name);

#endif
