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

/* env[].valueFrom: the host resolves both kinds before the pod reaches the
 * guest (it knows the pod's IP, node and resources). */
enum pod_env_source { POD_ENV_VALUE = 0, POD_ENV_FIELD_REF, POD_ENV_RESOURCE_REF };

struct pod_env {
	char *name;
	char *value;           /* "" when not given */
	enum pod_env_source source;
	char *field_path;      /* fieldRef.fieldPath, e.g. "metadata.labels['app']" */
	char *res_container;   /* resourceFieldRef.containerName (NULL: this one) */
	char *resource;        /* limits.cpu, limits.memory, requests.cpu, requests.memory,
	                        * limits.ephemeral-storage, requests.ephemeral-storage */
	int64_t divisor;       /* resourceFieldRef.divisor in millicores (cpu) or
	                        * bytes (memory); 0 = the default 1 */
};

/* Quantities are parsed (Kubernetes resource.Quantity syntax) into
 * millicores and bytes; 0 with has_ false means not given. */
struct pod_resources {
	int64_t req_cpu_m, lim_cpu_m;        /* millicores */
	int64_t req_mem, lim_mem;            /* bytes */
	bool has_req_cpu, has_lim_cpu, has_req_mem, has_lim_mem;
};

struct pod_volume_mount {
	char *name;
	char *mount_path;      /* absolute, no ".." */
	char *sub_path;        /* relative, no "..", NULL when not given */
	bool read_only;
};

enum pod_probe_kind { POD_PROBE_NONE = 0, POD_PROBE_EXEC, POD_PROBE_HTTP, POD_PROBE_TCP };

/* A probe or a lifecycle handler (handlers use kind + exec/http/tcp only). */
struct pod_probe {
	enum pod_probe_kind kind;
	char **exec_command;   /* NULL-terminated as well */
	size_t n_exec_command;
	char *http_path;       /* default "/" */
	char *http_host;       /* NULL: the pod IP (127.0.0.1 in the VM) */
	bool http_https;       /* scheme HTTPS */
	struct pod_kv *http_headers;
	size_t n_http_headers;
	int port;              /* httpGet / tcpSocket port number */
	char *port_name;       /* named port, resolved against ports[] */
	int32_t initial_delay_s;   /* default 0 */
	int32_t period_s;          /* default 10 */
	int32_t timeout_s;         /* default 1 */
	int32_t success_threshold; /* default 1 */
	int32_t failure_threshold; /* default 3 */
};

enum pod_seccomp { POD_SECCOMP_DEFAULT = 0 /* not set: RuntimeDefault */,
		   POD_SECCOMP_RUNTIME_DEFAULT, POD_SECCOMP_UNCONFINED,
		   POD_SECCOMP_LOCALHOST };

/* Container- and pod-level securityContext (the container's wins). */
struct pod_security {
	int64_t run_as_user, run_as_group;
	bool has_run_as_user, has_run_as_group;
	bool run_as_non_root, has_run_as_non_root;
	bool read_only_root_fs;            /* container only */
	bool allow_priv_escalation, has_allow_priv_escalation;  /* container only */
	char **cap_add;  size_t n_cap_add; /* "NET_ADMIN" or "CAP_NET_ADMIN"; "ALL" */
	char **cap_drop; size_t n_cap_drop;
	enum pod_seccomp seccomp;
	char *localhost_profile;           /* Localhost: relative to the
	                                    * seccomp profile root, no ".." */
	/* pod only */
	int64_t *supplemental_groups; size_t n_supplemental_groups;
	int64_t fs_group; bool has_fs_group;
};

struct pod_port {
	char *name;            /* IANA_SVC_NAME, NULL when not given */
	int32_t container_port;
	char *protocol;        /* TCP (default), UDP, SCTP */
};

enum pod_term_msg_policy { POD_TERM_MSG_FILE = 0, POD_TERM_MSG_FALLBACK_LOGS };

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

	struct pod_resources resources;
	struct pod_port *ports;
	size_t n_ports;
	struct pod_volume_mount *mounts;
	size_t n_mounts;
	struct pod_security security;
	bool has_security;
	struct pod_probe liveness, readiness, startup;  /* kind NONE: not given */
	struct pod_probe post_start, pre_stop;          /* lifecycle handlers */
	char *term_msg_path;   /* default "/dev/termination-log" */
	enum pod_term_msg_policy term_msg_policy;
};

enum pod_volume_kind { POD_VOLUME_EMPTY_DIR = 1 };

struct pod_volume {
	char *name;            /* DNS-1123 label, unique */
	enum pod_volume_kind kind;
	bool memory;           /* emptyDir.medium: Memory (tmpfs) */
	int64_t size_limit;    /* bytes, 0 = none */
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
	struct pod_container *init_containers;   /* run in order, to completion */
	size_t n_init_containers;
	struct pod_volume *volumes;
	size_t n_volumes;
	struct pod_security security;            /* pod-level securityContext */
	bool has_security;
	enum pod_restart_policy restart_policy;
	int64_t grace_period;  /* terminationGracePeriodSeconds, default 30 */
	int64_t active_deadline;  /* activeDeadlineSeconds, 0 = none */
	char *hostname;        /* spec.hostname, NULL when not given */
	char *node_name;       /* spec.nodeName, NULL when not given */
	char *service_account; /* spec.serviceAccountName, NULL when not given */
	char **pull_secrets;   /* spec.imagePullSecrets[].name (Secrets of the
	                        * pod's namespace), in order */
	size_t n_pull_secrets;
};

#define POD_MAX_PULL_SECRETS 32

/* Fargate's sizing: the larger of the biggest init container and the sum of
 * the regular containers (requests, else limits), plus 256 MiB for the
 * system, rounded up to the nearest Fargate configuration (0.25 vCPU /
 * 0.5 GB ... 16 vCPU / 120 GB). */
struct pod_size {
	int64_t cpu_m;         /* provisioned millicores: 250, 500, 1000, ... */
	int64_t mem_mib;       /* provisioned memory */
	unsigned vcpus;        /* VM vCPUs: ceil(cpu_m / 1000) */
	char annotation[32];   /* CapacityProvisioned value, e.g. "0.25vCPU 0.5GB" */
};
int pod_fargate_size(const struct pod *pod, struct pod_size *out,
		     struct pv_err *err);

/* Parse a Kubernetes quantity: cpu to millicores ("500m", "1", "0.5"),
 * memory to bytes ("128Mi", "1G", "1e3"). */
int pod_parse_cpu(const char *s, int64_t *millicores);
int pod_parse_memory(const char *s, int64_t *bytes);

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

/* Containers in the agent's order, [initContainers..., containers...]:
 * how many, and the one at index i (i < pod_n_all_containers). */
static inline size_t pod_n_all_containers(const struct pod *pod)
{
	return pod->n_init_containers + pod->n_containers;
}

static inline const struct pod_container *pod_container_at(const struct pod *pod,
							   size_t i)
{
	return i < pod->n_init_containers ? &pod->init_containers[i]
					  : &pod->containers[i - pod->n_init_containers];
}

/* Add or replace metadata.annotations[key] (e.g. CapacityProvisioned).
 * Returns 0, -E2BIG past POD_MAX_KV, or -ENOMEM. */
int pod_set_annotation(struct pod *pod, const char *key, const char *value);

/* Fargate's node-level ephemeral storage (20 GiB): the node allocatable
 * for limits.ephemeral-storage, which podvm accepts but does not size. */
#define POD_EPHEMERAL_BYTES (20LL << 30)

/* True when s contains a byte below 0x20 or 0x7f. */
bool pod_has_ctl(const char *s);

/* A signal as an image's StopSignal names it ("SIGUSR1", "usr1", "10",
 * "SIGRTMIN+3"): its number, or -EINVAL. */
int pod_signal_parse(const char *s);

#endif
