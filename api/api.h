/* podvmd's HTTP API: Kubernetes core/v1 REST conventions over
 * libmicrohttpd, on a unix socket and optionally on TCP (docs/api.md). */
#ifndef PODVM_API_API_H
#define PODVM_API_API_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct exec_table;
struct metrics;
struct podsvc;
struct vpcsvc;

#define API_DEFAULT_SOCKET    "/run/podvm/podvmd.sock"
#define API_DEFAULT_MAX_BODY  (1024 * 1024)
#define API_DEFAULT_MAX_CONN  64
#define API_DEFAULT_TIMEOUT_S 30

struct api_config {
	const char *socket_path;   /* unix socket (required) */
	const char *listen;        /* "HOST:PORT" / "[V6]:PORT" or NULL: no TCP */
	const char *token_file;    /* bearer token for TCP; required off loopback */
	const char *tls_cert_file; /* PEM; with tls_key_file: HTTPS on TCP (kubectl
	                            * sends a token only over TLS) */
	const char *tls_key_file;
	size_t max_body;           /* request body cap, bytes (0: default) */
	unsigned max_connections;  /* per listener; above it: 503 (0: default) */
	unsigned timeout_s;        /* idle / slow client timeout (0: default) */
	struct vpcsvc *vpcs;       /* /apis/podvm.io/v1/vpcs; NULL: 404 */
	struct exec_table *exec;   /* .../pods/{name}/exec; NULL: never running */
	struct metrics *metrics;   /* /metrics and request counters */
};

struct api_server;

int api_start(const struct api_config *cfg, struct podsvc *svc,
	      struct api_server **out, struct pv_err *err);
/* Stop listening, end open streams, remove the socket file. */
void api_stop(struct api_server *srv);

#endif
