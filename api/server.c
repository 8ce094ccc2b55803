/* The HTTP server: libmicrohttpd in thread-per-connection mode (watch and log streams block in their content
 * callbacks), bearer-token auth, connection and body limits, dispatch
 * through the route table, per-request logging and counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "api/api_priv.h"
#include "host/log.h"
#include "daemon/metrics.h"
#include "util/util.h"

#define API_CONN_SLACK     16     /* MHD's hard limit above ours: room for 503s */
#define API_BODY_DRAIN_MAX 4      /* close after discarding 4x the cap */

/* ---- auth ---- */

/* Constant time in the length of the presented token. */
static bool api_token_equal(const char *want, const char *got)
{
	size_t wl = strlen(want), gl = strnlen(got, API_TOKEN_MAX + 1);
	unsigned char diff = (unsigned char)(wl != gl);

	for (size_t i = 0; i < gl; i++)
		diff |= (unsigned char)(got[i] ^ want[i % (wl ? wl : 1)]);
	return diff == 0 && wl > 0;
}

static bool api_auth_ok(struct api_req *r)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	h += 7;
	while (*h == ' ')
		h++;
	return api_token_equal(r->srv->token, h);
}

/* ---- logging helpers ---- */

struct api_qbuf {
	char buf[1024];
	size_t len;
};

static enum MHD_Result api_collect_arg(void *cls, enum MHD_ValueKind kind,
				       const char *key, const char *value)
{
	struct api_qbuf *q = cls;
	int n;

	if (q->len >= sizeof(q->buf) - 1)
		return MHD_NO;
	n = snprintf(q->buf + q->len, sizeof(q->buf) - q->len, "%s%s=%s",
		     q->len ? "&" : "", key, value ? value : "");
	if (n < 0 || (size_t)n >= sizeof(q->buf) - q->len) {
		q->len = sizeof(q->buf) - 1;
		return MHD_NO;
	}
	q->len += (size_t)n;
	return MHD_YES;
}

static void api_log_arrival(struct api_req *r, const char *method)
{
	struct api_qbuf q = { .len = 0 };

	if (!log_enabled(LOG_DEBUG))
		return;
	q.buf[0] = '\0';
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
				  api_collect_arg, &q);
	log_debug("request", LOG_STR("listener", r->lst->name),
		  LOG_STR("method", method), LOG_STR("path", r->path),
		  LOG_STR("query", q.buf),
		  LOG_STR("accept", MHD_lookup_connection_value(
			  r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT)),
		  LOG_STR("contentType", MHD_lookup_connection_value(
			  r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)),
		  LOG_STR("userAgent", MHD_lookup_connection_value(
			  r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT)),
		  LOG_END);
}

/* ---- streams ---- */

void api_stream_begin(struct api_req *r)
{
	/* A watch may be silent for minutes: no idle timeout while it streams
	 * (it ends on timeoutSeconds, shutdown or the client hanging up). */
	MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
	r->streaming = true;
}

bool api_client_gone(struct MHD_Connection *conn, int wait_ms)
{
	const union MHD_ConnectionInfo *ci;
	struct pollfd pfd;
	struct timespec ts = { wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L };
	int n;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci) {
		nanosleep(&ts, NULL);
		return false;
	}
	pfd.fd = ci->connect_fd;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	n = poll(&pfd, 1, wait_ms);
	if (n > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
		return true;
	if (n > 0) /* readable without hang-up: do not spin on it */
		nanosleep(&ts, NULL);
	return false;
}

/* ---- request body ---- */

static int api_content_length(struct api_req *r, uint64_t *out)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end = NULL;
	unsigned long long x;

	if (!v)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-')
		return -1;
	*out = x;
	return 1;
}

static enum MHD_Result api_count_clen(void *cls, enum MHD_ValueKind kind,
				      const char *key, const char *value)
{
	unsigned *n = cls;

	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		(*n)++;
	return MHD_YES;
}

/* Request smuggling guards: libmicrohttpd lets Transfer-Encoding win over
 * Content-Length and takes the first of several Content-Lengths; both are
 * refused here instead (RFC 9112 6.3 allows either). */
static bool api_framing_ambiguous(struct api_req *r)
{
	unsigned n = 0;

	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, api_count_clen, &n);
	if (n > 1)
		return true;
	return n == 1 && MHD_lookup_connection_value(
		r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* ---- the access handler ---- */

static enum MHD_Result api_first_call(struct api_req *r, const char *url,
				      const char *method)
{
	struct api_server *srv = r->srv;
	uint64_t clen = 0;
	bool known = false;
	int has;

	api_log_arrival(r, method);
	if (api_framing_ambiguous(r))
		return api_reply_status(r, 400, "BadRequest", "conflicting "
					"Content-Length / Transfer-Encoding headers");
	if (atomic_load(&r->lst->connections) > srv->max_connections)
		return api_reply_status(r, 503, "ServiceUnavailable",
					"too many connections (limit %u)",
					srv->max_connections);
	if (r->lst->require_token && !api_auth_ok(r))
		return api_reply_status(r, 401, "Unauthorized", "Unauthorized");
	r->route = api_route_match(method, url, r, &known);
	if (!r->route && known)
		return api_reply_status(r, 405, "MethodNotAllowed",
					"the server does not allow this method "
					"on the requested resource");
	if (!r->route)
		return api_reply_status(r, 404, "NotFound",
					"the server could not find the "
					"requested resource");
	has = api_content_length(r, &clen);
	if (has < 0)
		return api_reply_status(r, 400, "BadRequest",
					"invalid Content-Length");
	/* Refuse before reading: the body never reaches memory. */
	if (has > 0 && clen > srv->max_body)
		return api_reply_status(r, 413, "RequestEntityTooLarge",
					"the request body is larger than %zu bytes",
					srv->max_body);
	return MHD_YES;
}

static enum MHD_Result api_access(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct api_listener *l = cls;
	struct api_req *r = *con_cls;
	int ret;

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->lst = l;
		r->srv = l->srv;
		r->conn = conn;
		r->method = method;
		r->start_ms = util_mono_ms();
		snprintf(r->path, sizeof(r->path), "%s", url ? url : "");
		*con_cls = r;
		return api_first_call(r, url ? url : "", method);
	}
	if (r->replied) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (r->too_large) {
			/* Chunked body over the cap: drain a little, then hang up
			 * rather than read without end. */
			r->body_len += n < r->srv->max_body ? n : r->srv->max_body;
			return r->body_len > API_BODY_DRAIN_MAX * r->srv->max_body
			       ? MHD_NO : MHD_YES;
		}
		ret = api_body_append(&r->body, &r->body_len, &r->body_cap,
				      r->srv->max_body, upload_data, n);
		if (ret < 0)
			return MHD_NO;
		if (ret > 0) {
			r->too_large = true;
			free(r->body);
			r->body = NULL;
			r->body_cap = 0;
		}
		return MHD_YES;
	}
	if (r->too_large)
		return api_reply_status(r, 413, "RequestEntityTooLarge",
					"the request body is larger than %zu bytes",
					r->srv->max_body);
	return r->route->handler(r);
}

static void api_completed(void *cls, struct MHD_Connection *conn,
			  void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct api_req *r = *con_cls;
	int64_t ms;

	if (!r)
		return;
	ms = util_mono_ms() - r->start_ms;
	metrics_api_observe(r->srv->metrics, r->route ? r->route->name : NULL,
			    r->code, (double)ms / 1000.0);
	log_write(r->code >= 500 ? LOG_WARN : LOG_INFO, "request done",
		  LOG_STR("listener", r->lst->name), LOG_STR("method", r->method),
		  LOG_STR("path", r->path),
		  LOG_STR("route", r->route ? r->route->name : ""),
		  LOG_INT("code", r->code), LOG_INT("ms", ms),
		  LOG_INT("aborted", toe != MHD_REQUEST_TERMINATED_COMPLETED_OK),
		  LOG_END);
	free(r->body);
	free(r);
	*con_cls = NULL;
}

static void api_notify_conn(void *cls, struct MHD_Connection *conn,
			    void **socket_context,
			    enum MHD_ConnectionNotificationCode toe)
{
	struct api_listener *l = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&l->connections, 1);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&l->connections, 1);
}

__attribute__((format(printf, 2, 0)))
static void api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_debug("libmicrohttpd", LOG_STR("detail", buf), LOG_END);
}

/* ---- listeners ---- */

int api_listener_start(struct api_server *srv, int fd, bool is_unix, bool v6,
		       bool require_token, struct pv_err *err)
{
	struct api_listener *l;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_UPGRADE;   /* exec (api/exec.c) */

	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	l->srv = srv;
	l->fd = fd;
	l->is_unix = is_unix;
	l->require_token = require_token;
	snprintf(l->name, sizeof(l->name), "%s", is_unix ? "unix" : "tcp");
	atomic_init(&l->connections, 0);
	srv->lst[srv->n_lst++] = l;
	if (v6)
		flags |= MHD_USE_IPv6;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key },
		{ MHD_OPTION_END, 0, NULL },
	};
	bool use_tls = !is_unix && srv->tls_cert;

	if (use_tls)
		flags |= MHD_USE_TLS;
	l->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, api_access, l,
		MHD_OPTION_ARRAY, use_tls ? tls : &tls[2],
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)(srv->max_connections + API_CONN_SLACK),
		MHD_OPTION_CONNECTION_TIMEOUT, srv->timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
		MHD_OPTION_NOTIFY_COMPLETED, api_completed, l,
		MHD_OPTION_NOTIFY_CONNECTION, api_notify_conn, l,
		MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, l,
		MHD_OPTION_END);
	if (!l->mhd)
		return pv_err_set(err, EIO, "cannot start the HTTP server (%s)",
				  l->name);
	return 0;
}
