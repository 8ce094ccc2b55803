/* The route table: {method, path pattern, handler}. A new endpoint (for
 * example /metrics or /apis/podvm.io/v1/vpcs) is one row here plus its
 * handler. Patterns are '/'-separated; a "{key}" segment matches one
 * non-empty segment and is captured (bounded) into the request. */
#include <string.h>

#include "api/api_priv.h"
#include "api/metrics.h"

static const struct api_route api_routes[] = {
	{ "GET", "/api", api_h_api, "api" },
	{ "GET", "/api/v1", api_h_api_v1, "api_v1" },
	{ "GET", "/apis", api_h_apis, "apis" },
	{ "GET", "/version", api_h_version, "version" },
	{ "GET", "/healthz", api_h_health, "healthz" },
	{ "GET", "/readyz", api_h_health, "readyz" },
	{ "GET", "/livez", api_h_health, "livez" },
	{ "GET", "/metrics", api_h_metrics, "metrics" },
	{ "GET", "/openapi/v2", api_h_openapi, "openapi_v2" },
	{ "GET", "/openapi/v3", api_h_openapi, "openapi_v3" },
	{ "GET", "/api/v1/pods", api_h_pods_list_all, "pods_list_all" },
	{ "GET", "/api/v1/namespaces/{ns}/pods", api_h_pods_list, "pods_list" },
	{ "POST", "/api/v1/namespaces/{ns}/pods", api_h_pods_create, "pods_create" },
	{ "GET", "/api/v1/namespaces/{ns}/pods/{name}", api_h_pod_get, "pod_get" },
	{ "DELETE", "/api/v1/namespaces/{ns}/pods/{name}", api_h_pod_delete,
	  "pod_delete" },
	{ "GET", "/api/v1/namespaces/{ns}/pods/{name}/log", api_h_pod_log,
	  "pod_log" },
	{ "POST", "/api/v1/namespaces/{ns}/pods/{name}/exec", api_h_pod_exec,
	  "pod_exec" },
	{ "GET", "/api/v1/watch/pods", api_h_watch_all, "pods_watch_all" },
	{ "GET", "/api/v1/watch/namespaces/{ns}/pods", api_h_watch_ns,
	  "pods_watch" },
	{ "GET", "/api/v1/watch/namespaces/{ns}/pods/{name}", api_h_watch_one,
	  "pods_watch" },
	{ "GET", "/apis/podvm.io", api_h_podvm_group, "apis_podvm" },
	{ "GET", "/apis/podvm.io/v1", api_h_podvm_v1, "apis_podvm_v1" },
	{ "GET", "/apis/podvm.io/v1/vpcs", api_h_vpcs_list, "vpcs_list" },
	{ "POST", "/apis/podvm.io/v1/vpcs", api_h_vpcs_create, "vpcs_create" },
	{ "GET", "/apis/podvm.io/v1/vpcs/{name}", api_h_vpc_get, "vpc_get" },
	{ "DELETE", "/apis/podvm.io/v1/vpcs/{name}", api_h_vpc_delete, "vpc_delete" },
};

#define API_N_ROUTES (sizeof(api_routes) / sizeof(api_routes[0]))

/* Match one pattern against path; captures go to r (bounded: a too long
 * segment fails the match, which ends as 404). */
static bool api_pattern_match(const char *pat, const char *path,
			      struct api_req *r)
{
	const char *p = pat, *s = path;

	r->n_params = 0;
	while (*p && *s) {
		const char *pe, *se;

		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		pe = strchrnul(p, '/');
		se = strchrnul(s, '/');
		if (*p == '{') {
			struct api_param *prm;
			size_t n = (size_t)(se - s);

			if (n == 0 || n >= API_PARAM_MAX ||
			    r->n_params >= API_MAX_PARAMS)
				return false;
			prm = &r->params[r->n_params++];
			/* The key points into the pattern: "{ns}" -> "ns". */
			prm->key = p + 1;
			prm->key_len = (size_t)(pe - p) - 2;
			memcpy(prm->value, s, n);
			prm->value[n] = '\0';
		} else if ((size_t)(pe - p) != (size_t)(se - s) ||
			   memcmp(p, s, (size_t)(pe - p)) != 0) {
			return false;
		}
		p = pe;
		s = se;
	}
	return *p == '\0' && *s == '\0';
}

const struct api_route *api_route_match(const char *method, const char *path,
					struct api_req *r, bool *path_known)
{
	char buf[1024];
	size_t n = strnlen(path, sizeof(buf));

	*path_known = false;
	if (n >= sizeof(buf) || path[0] != '/')
		return NULL;
	/* One trailing slash is tolerated ("/api/v1/" = "/api/v1"). */
	memcpy(buf, path, n + 1);
	if (n > 1 && buf[n - 1] == '/')
		buf[n - 1] = '\0';
	for (size_t i = 0; i < API_N_ROUTES; i++) {
		if (!api_pattern_match(api_routes[i].pattern, buf, r))
			continue;
		if (strcmp(api_routes[i].method, method) == 0 ||
		    (strcmp(method, "HEAD") == 0 &&
		     strcmp(api_routes[i].method, "GET") == 0))
			return &api_routes[i];
		*path_known = true;
	}
	r->n_params = 0;
	return NULL;
}
