/* GET /metrics: the Prometheus exposition of daemon/metrics.h, served as
 * one route of the API (api_h_metrics, behind the API's auth) and, with
 * podvmd --metrics-listen HOST:PORT, on a separate unauthenticated
 * listener meant for scrapers that serves nothing but GET /metrics. */
#ifndef PODVM_API_METRICS_H
#define PODVM_API_METRICS_H

#include <microhttpd.h>

#include "util/err.h"

struct api_req;
struct metrics;

/* The route handler: { "GET", "/metrics", api_h_metrics, "metrics" }. */
enum MHD_Result api_h_metrics(struct api_req *r);

#define API_METRICS_MAX_CONN  32
#define API_METRICS_TIMEOUT_S 15

struct api_metrics_listener;

/* host_port: "HOST:PORT" or "[V6]:PORT", HOST numeric or "localhost";
 * PORT 0 picks a free port (see api_metrics_listener_port). m: the
 * registry it serves (not NULL). */
int api_metrics_listener_start(const char *host_port, struct metrics *m,
			       struct api_metrics_listener **out,
			       struct pv_err *err);
/* The bound port (useful with port 0). */
int api_metrics_listener_port(const struct api_metrics_listener *l);
void api_metrics_listener_stop(struct api_metrics_listener *l);

#endif
