/* The podvm CLI as a client of podvmd's Kubernetes-style pod API
 * (cli/client.c): HTTP over libcurl, on podvmd's unix socket by default or
 * TCP with --server (and a bearer token from --token-file).
 *
 * Responses are bounded in size and parsed with depth limits; the server is
 * not trusted. Streaming requests (watch, logs -f) hand data to a callback
 * as it arrives. SIGINT/SIGTERM during a request end it cleanly (-EINTR). */
#ifndef PODVM_CLI_CLIENT_H
#define PODVM_CLI_CLIENT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "util/err.h"

struct json_object;

#define CLIENT_DEFAULT_SOCKET "/run/podvm/podvmd.sock"
#define CLIENT_BODY_MAX  (64u * 1024 * 1024)  /* one response (a PodList) */
#define CLIENT_LINE_MAX  (8u * 1024 * 1024)   /* one watch event */
#define CLIENT_URL_MAX   4096

/* Exit codes of the client commands. */
#define CLIENT_EXIT_OK    0
#define CLIENT_EXIT_FAIL  1
#define CLIENT_EXIT_INTR  130   /* Ctrl-C, as a shell reports SIGINT */
/* A command's internal return value: the server's error was printed
 * already (client_print_error); client_fail says nothing more. */
#define CLIENT_E_SERVER   (-EREMOTEIO)

struct client;

struct client_resp {
	long code;                 /* HTTP status */
	char *body;                /* NUL-terminated, may be NULL */
	size_t len;
	struct json_object *json;  /* body parsed, when it is a JSON object */
};

/* Connect settings from env (socket, --server, --token-file); nothing is
 * sent yet. */
int client_open(const struct cli_env *env, struct client **out,
		struct pv_err *err);
void client_close(struct client *c);

/* One request; path starts with '/' and is already escaped (see
 * client_path). body may be NULL. Returns 0 with resp filled for any HTTP
 * status, or a negative errno: cannot connect (err says so, suggesting
 * podvmd is not running), -EINTR on Ctrl-C, -EPROTO on a bad response. */
int client_request(struct client *c, const char *method, const char *path,
		   const char *body, struct client_resp *resp,
		   struct pv_err *err);
void client_resp_free(struct client_resp *r);

/* Requests end with -ETIMEDOUT once util_mono_ms() passes mono_ms (0: no
 * deadline, the default). */
void client_set_deadline(struct client *c, int64_t mono_ms);

/* Streaming GET. With line_max > 0 fn gets one line at a time (without
 * its '\n'; longer lines end the stream with -EMSGSIZE), else raw chunks.
 * fn returns 0 to go on, > 0 to stop (client_stream returns that value),
 * or a negative errno. An HTTP error status is returned in resp (body
 * buffered, fn not called). Returns 0 when the server ended the stream. */
typedef int (*client_data_fn)(void *opaque, const char *data, size_t len);
int client_stream(struct client *c, const char *path, size_t line_max,
		  client_data_fn fn, void *opaque, struct client_resp *resp,
		  struct pv_err *err);

/* client_request, then the status: 0 when it is 2xx or `quiet` (resp
 * holds the reply; the caller looks at resp->code); any other status is
 * printed (client_print_error) and gives CLIENT_E_SERVER. */
int client_call(struct client *c, const char *method, const char *path,
		const char *body, long quiet, struct client_resp *resp,
		struct pv_err *err);
/* GET the pod ns/name, or the pod list of ns when name is NULL (through
 * client_call). */
int client_get_pod(struct client *c, const char *ns, const char *name,
		   struct client_resp *resp, struct pv_err *err);

/* The part of a verb that talks to podvmd, after its options: returns an
 * exit code, or a negative errno (with err filled) for client_fail. */
typedef int (*client_fn)(struct client *c, void *arg, struct pv_err *err);
/* Signal handlers, a client on env (nothing sent yet), fn(c, arg, err),
 * the client closed: the exit code. */
int client_main(const struct cli_env *env, client_fn fn, void *arg);

/* "pod/NAME" or "pods/NAME" -> NAME; anything else as it is. */
const char *client_pod_name(const char *s);

/* Print a failed response the way kubectl does: "Error from server
 * (Reason): message", or "The Pod "x" is invalid: field: message" for 422. */
void client_print_error(const struct client_resp *r);
/* Print a client-side error: "podvm: message" (nothing for -EINTR or
 * EPIPE), and return the exit code for it. */
int client_fail(int ret, const struct pv_err *err);

/* Install the SIGINT/SIGTERM handlers (a second signal kills at once) and
 * ignore SIGPIPE so a closed stdout is an error, not a death. */
void client_signals(void);
bool client_interrupted(void);

/* "/api/v1[/namespaces/NS]/pods[/NAME[/SUB]]", each part percent-escaped.
 * ns NULL: all namespaces. */
int client_path(char *buf, size_t len, const char *ns, const char *name,
		const char *sub);
/* Append "?key=value" or "&key=value", value percent-escaped. */
int client_query(char *buf, size_t len, const char *key, const char *value);

/* Options every client command takes: -n/--namespace, --server,
 * --token-file. */
#define CLIENT_OPT_SERVER 0x1000
#define CLIENT_OPT_TOKEN  0x1001
#define CLIENT_LONG_OPTS                                                  \
	{ "namespace", required_argument, NULL, 'n' },                    \
	{ "server", required_argument, NULL, CLIENT_OPT_SERVER },         \
	{ "token-file", required_argument, NULL, CLIENT_OPT_TOKEN }
/* Handle one of them into env; false when c is not one of them. */
bool client_common_opt(struct cli_env *env, int c, const char *arg,
		       const char **ns);

/* Write all of buf to stdout and flush (streams); -EPIPE etc. on error. */
int client_write_out(const char *buf, size_t len);

#endif
