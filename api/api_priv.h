/* Internals shared by the api/ files: the request, the route table, reply
 * helpers. */
#ifndef PODVM_API_API_PRIV_H
#define PODVM_API_API_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>
#include <sys/socket.h>

#include "api/api.h"
#include "daemon/podsvc.h"

#define API_MAX_PARAMS    3
#define API_PARAM_MAX     (POD_NAME_MAX + 1)
#define API_PATH_LOG_MAX  256     /* path bytes kept for logs */
#define API_TOKEN_MAX     4096    /* a bearer token */

struct api_server {
	struct podsvc *svc;
	struct vpcsvc *vpcs;         /* NULL: no VPC API */
	struct exec_table *exec;     /* exec sessions */
	struct metrics *metrics;     /* the registry /metrics renders */
	size_t max_body;
	unsigned max_connections;
	unsigned timeout_s;
	char *token;                 /* NULL: no token */
	char *socket_path;
	char *tls_cert, *tls_key;    /* PEM text, NULL: plain HTTP */
	char addr[64];               /* TCP "HOST:PORT" for /api, or "" */
	atomic_bool stopping;        /* streams end when set */
	struct api_listener *lst[2]; /* unix, tcp */
	size_t n_lst;
};

/* One listener (one MHD daemon). */
struct api_listener {
	struct api_server *srv;
	struct MHD_Daemon *mhd;
	int fd;                      /* our listening socket, -1 when none */
	bool require_token;
	bool is_unix;
	atomic_uint connections;     /* open connections (NOTIFY_CONNECTION) */
	char name[8];                /* "unix" / "tcp" for logs */
};

struct api_route;

struct api_param {
	const char *key;             /* the pattern's {key}, not NUL-ended */
	size_t key_len;
	char value[API_PARAM_MAX];
};

/* One request, from the first access-handler call to completion. */
struct api_req {
	struct api_listener *lst;
	struct api_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	char path[API_PATH_LOG_MAX];  /* bounded copy for logs */
	const struct api_route *route;
	struct api_param params[API_MAX_PARAMS];
	size_t n_params;
	char *body;                   /* NUL-terminated */
	size_t body_len, body_cap;
	bool too_large;               /* body over the cap: 413 at the end */
	bool replied;
	bool streaming;               /* watch / follow: exempt from timeout */
	int code;                     /* HTTP status sent, for the counters */
	int64_t start_ms;
};

typedef enum MHD_Result (*api_handler_fn)(struct api_req *r);

struct api_route {
	const char *method;           /* "GET", "POST", "DELETE" */
	const char *pattern;          /* "/api/v1/namespaces/{ns}/pods" */
	api_handler_fn handler;
	const char *name;             /* for counters and logs */
};

/* listen.c: "HOST:PORT" or "[V6]:PORT" (HOST numeric or "localhost",
 * PORT at least min_port) for option opt; *loopback (may be NULL). */
int api_parse_hostport(const char *opt, const char *spec, long min_port,
		       struct sockaddr_storage *ss, socklen_t *sl, bool *loopback,
		       struct pv_err *err);

/* server.c: start one MHD daemon on the listening socket fd (owned from
 * here on, closed by api_stop even on error). */
int api_listener_start(struct api_server *srv, int fd, bool is_unix, bool v6,
		       bool require_token, struct pv_err *err);

/* routes.c */
/* Find the route for method+path. Returns the route, or NULL with
 * *path_known set when the path matches some route with another method. */
const struct api_route *api_route_match(const char *method, const char *path,
					struct api_req *r, bool *path_known);
const char *api_param(const struct api_req *r, const char *key);

/* status.c: replies. All return MHD_YES/NO from MHD_queue_response. */
enum MHD_Result api_reply(struct api_req *r, int code, const char *ctype,
			  const char *body, size_t len);
enum MHD_Result api_reply_json(struct api_req *r, int code, const char *json);
/* A metav1.Status; reason e.g. "NotFound"; message printf-style. */
enum MHD_Result api_reply_status(struct api_req *r, int code,
				 const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
enum MHD_Result api_reply_podsvc(struct api_req *r,
				 const struct podsvc_status *st);
/* The Status JSON text of st (malloc'd), NULL on ENOMEM. */
char *api_status_json(const struct podsvc_status *st);
/* Fill a podsvc_status by hand. */
void api_status_set(struct podsvc_status *st, int code, const char *reason,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The reason Kubernetes uses for an HTTP code. */
const char *api_reason_for(int code);

/* query.c */
struct api_query {
	bool watch;
	bool follow, timestamps, previous;
	bool table;                    /* Accept asks for meta.k8s.io Table */
	const char *table_version;     /* "v1" or "v1beta1" */
	int include_object;            /* 0 None, 1 Metadata (default), 2 Object */
	int64_t grace;                 /* -1: not given */
	int64_t timeout_s;             /* watch timeoutSeconds, -1: not given */
	int64_t tail_lines;            /* -1: all */
	int64_t limit_bytes;           /* -1: no limit */
	int64_t since_ns;              /* logs since (wall clock ns), 0: all */
	const char *rv;                /* resourceVersion */
	const char *label_selector;
	const char *field_selector;
	const char *container;
	const char *dry_run;
};
/* Parse the query parameters and headers; on a bad value fills st (400). */
int api_query_parse(struct api_req *r, struct api_query *q,
		    struct podsvc_status *st);
/* Validate the URL's {ns} and {name}; fills st (400/404) on failure. */
int api_check_names(struct api_req *r, const char **ns, const char **name,
		    struct podsvc_status *st);

/* Body checks shared by POST handlers and the fuzz target:
 * content type, emptiness, NUL bytes. 0 or -1 with st filled. */
int api_body_check(const char *ctype, const char *body, size_t len,
		   struct podsvc_status *st);
/* Append a body chunk under the cap. 0; 1 when over the cap (the chunk is
 * dropped); -ENOMEM. */
int api_body_append(char **body, size_t *len, size_t *cap, size_t max,
		    const char *data, size_t n);

/* Handlers. */
enum MHD_Result api_h_pods_create(struct api_req *r);
enum MHD_Result api_h_pods_list(struct api_req *r);
enum MHD_Result api_h_pods_list_all(struct api_req *r);
enum MHD_Result api_h_pod_get(struct api_req *r);
enum MHD_Result api_h_pod_delete(struct api_req *r);
enum MHD_Result api_h_pod_log(struct api_req *r);
enum MHD_Result api_h_pod_exec(struct api_req *r);   /* exec.c */
enum MHD_Result api_h_watch_ns(struct api_req *r);
enum MHD_Result api_h_watch_all(struct api_req *r);
enum MHD_Result api_h_watch_one(struct api_req *r);
enum MHD_Result api_h_api(struct api_req *r);
enum MHD_Result api_h_api_v1(struct api_req *r);
enum MHD_Result api_h_apis(struct api_req *r);
enum MHD_Result api_h_version(struct api_req *r);
enum MHD_Result api_h_health(struct api_req *r);
enum MHD_Result api_h_openapi(struct api_req *r);
/* vpcs.c: /apis/podvm.io[/v1[/vpcs[/{name}]]] */
#define API_PODVM_GROUP \
	"{\"name\":\"podvm.io\",\"versions\":[{\"groupVersion\":" \
	"\"podvm.io/v1\",\"version\":\"v1\"}],\"preferredVersion\":" \
	"{\"groupVersion\":\"podvm.io/v1\",\"version\":\"v1\"}}"
enum MHD_Result api_h_podvm_group(struct api_req *r);
enum MHD_Result api_h_podvm_v1(struct api_req *r);
enum MHD_Result api_h_vpcs_list(struct api_req *r);
enum MHD_Result api_h_vpcs_create(struct api_req *r);
enum MHD_Result api_h_vpc_get(struct api_req *r);
enum MHD_Result api_h_vpc_delete(struct api_req *r);

/* watch.c: stream events for sel (handlers above call it). */
enum MHD_Result api_watch(struct api_req *r, const struct api_query *q,
			  const struct podsvc_selector *sel);

/* table.c: meta.k8s.io Table for a Pod or PodList JSON text (malloc'd). */
char *api_table_from_json(const char *json, const struct api_query *q,
			  bool with_columns);
/* The same for one watch event line: the object replaced by a Table. */
char *api_table_event(const char *event, const struct api_query *q);

/* query.c: RFC 3339 time to ns since the epoch, -1 when malformed. */
int64_t api_parse_rfc3339_ns(const char *s, size_t len);

/* server.c: for streams. */
void api_stream_begin(struct api_req *r);
/* The client hung up (POLLRDHUP) — checked while a stream waits. */
bool api_client_gone(struct MHD_Connection *conn, int wait_ms);

#endif
