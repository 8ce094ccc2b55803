/* /metrics over HTTP: the API route handler and the scrape listener.
 * The text is formatted from memory (daemon/metrics.c) into one buffer
 * whose ownership passes to libmicrohttpd: no copy, no guest I/O. */
#include "api/metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api_priv.h"
#include "host/log.h"
#include "daemon/metrics.h"

struct api_metrics_listener {
	struct metrics *m;
	struct MHD_Daemon *mhd;
	int fd;
	int port;
	char addr[64];
};

static double api_metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Queue the exposition on conn; *code gets the status sent. */
static enum MHD_Result api_metrics_reply(struct metrics *m,
					 struct MHD_Connection *conn, int *code)
{
	struct metrics_buf b = { 0 };
	struct MHD_Response *resp;
	enum MHD_Result ret;
	static const char oom[] = "out of memory\n";

	if (metrics_render(m, &b) < 0) {
		metrics_buf_free(&b);
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
		*code = 500;
	} else {
		/* MUST_FREE: libmicrohttpd frees b.data with free() */
		resp = MHD_create_response_from_buffer(b.len, b.data,
						       MHD_RESPMEM_MUST_FREE);
		if (!resp)
			metrics_buf_free(&b);
		*code = 200;
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				*code == 200 ? METRICS_CONTENT_TYPE
					     : "text/plain; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	ret = MHD_queue_response(conn, (unsigned)*code, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result api_h_metrics(struct api_req *r)
{
	int code = 500;
	enum MHD_Result ret = api_metrics_reply(r->srv->metrics, r->conn, &code);

	r->code = code;
	r->replied = true;
	return ret;
}

/* ---- the scrape listener ---- */

static enum MHD_Result api_metrics_plain(struct MHD_Connection *conn, int code,
					 const char *text, bool allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, (unsigned)code, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result api_metrics_access(void *cls, struct MHD_Connection *conn,
					  const char *url, const char *method,
					  const char *version,
					  const char *upload_data,
					  size_t *upload_data_size, void **con_cls)
{
	struct api_metrics_listener *l = cls;
	static int first_marker;
	double t0;
	int code = 0;
	enum MHD_Result ret;

	/* First call: headers only. Any body is read and dropped. */
	if (!*con_cls) {
		*con_cls = &first_marker;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	t0 = api_metrics_now();
	if (!url || (strcmp(url, "/metrics") && strcmp(url, "/metrics/"))) {
		code = 404;
		ret = api_metrics_plain(conn, code, "404 not found: this listener "
					"serves GET /metrics only\n", false);
	} else if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		code = 405;
		ret = api_metrics_plain(conn, code, "405 method not allowed\n", true);
	} else {
		ret = api_metrics_reply(l->m, conn, &code);
	}
	metrics_api_observe(l->m, code == 404 ? NULL : "metrics", code,
			    api_metrics_now() - t0);
	return ret;
}

int api_metrics_listener_start(const char *host_port, struct metrics *m,
			       struct api_metrics_listener **out,
			       struct pv_err *err)
{
	struct api_metrics_listener *l = NULL;
	struct sockaddr_storage ss, bound;
	socklen_t sl = 0, bl = sizeof(bound);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			 MHD_USE_ITC | MHD_USE_ERROR_LOG;
	int one = 1, ret;

	*out = NULL;
	if (!host_port)
		return pv_err_set(err, EINVAL, "--metrics-listen: no address");
	ret = api_parse_hostport("--metrics-listen", host_port, 0, &ss, &sl, NULL,
				 err);
	if (ret < 0)
		return ret;
	l = calloc(1, sizeof(*l));
	if (!l)
		return pv_err_set(err, ENOMEM, "out of memory");
	l->m = m;
	snprintf(l->addr, sizeof(l->addr), "%s", host_port);
	l->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		ret = pv_err_sys(err, errno, "socket");
		goto fail;
	}
	if (setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(l->fd, (struct sockaddr *)&ss, sl) < 0 || listen(l->fd, 64) < 0 ||
	    getsockname(l->fd, (struct sockaddr *)&bound, &bl) < 0) {
		ret = pv_err_sys(err, errno, "--metrics-listen %s", host_port);
		goto fail;
	}
	l->port = ntohs(bound.ss_family == AF_INET6
			? ((struct sockaddr_in6 *)&bound)->sin6_port
			: ((struct sockaddr_in *)&bound)->sin_port);
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	l->mhd = MHD_start_daemon(flags, 0, NULL, NULL, api_metrics_access, l,
				  MHD_OPTION_LISTEN_SOCKET, l->fd,
				  MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned)API_METRICS_MAX_CONN,
				  MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned)API_METRICS_TIMEOUT_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				  (size_t)(32 * 1024),
				  MHD_OPTION_END);
	if (!l->mhd) {
		ret = pv_err_set(err, EIO, "cannot start the metrics listener on %s",
				 host_port);
		goto fail;
	}
	log_info("metrics listening", LOG_STR("addr", host_port),
		 LOG_INT("port", l->port), LOG_END);
	*out = l;
	return 0;
fail:
	api_metrics_listener_stop(l);
	return ret;
}

int api_metrics_listener_port(const struct api_metrics_listener *l)
{
	return l ? l->port : -1;
}

void api_metrics_listener_stop(struct api_metrics_listener *l)
{
	int fd;

	if (!l)
		return;
	fd = l->fd;
	if (l->mhd) {
		/* quiesce hands the socket back; otherwise MHD closes it */
		if (MHD_quiesce_daemon(l->mhd) == MHD_INVALID_SOCKET)
			fd = -1;
		MHD_stop_daemon(l->mhd);
	}
	if (fd >= 0)
		close(fd);
	free(l);
}
