/* Probes (liveness, readiness, startup) and lifecycle hooks (postStart,
 * preStop): exactly one handler each, with Kubernetes' defaults and
 * messages. Hooks take exec and httpGet; grpc, sleep and the deprecated
 * hook tcpSocket are refused. */
#include "pod/pod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod_dec.h"
#include "pod/pod_priv.h"

/* httpGet / tcpSocket port: a number or a named port (checked against
 * the container's ports once they are all read). */
static void dec_port(struct pod_dec *d, const char *path,
		     struct json_object *v, struct pod_probe *p)
{
	const char *s, *why;
	int64_t n;

	if (json_object_is_type(v, json_type_int)) {
		if (pod_dec_int(d, path, v, 1, 65535, &n))
			p->port = (int)n;
		return;
	}
	s = pod_dec_str_check(d, path, v, POD_MAX_STR,
			      "expected integer or string");
	if (!s)
		return;
	if (!pod_is_port_name(s, &why))
		pod_dec_invalid(d, path, s, why);
	else
		p->port_name = pod_dec_strdup(d, s);
}

/* host: a name or an address, nothing that could break a request line. */
static void dec_host(struct pod_dec *d, const char *path,
		     struct json_object *v, struct pod_probe *p)
{
	const char *s = pod_dec_str(d, path, v, POD_NAME_MAX);

	if (!s || !*s)
		return;
	if (pod_has_ctl(s) || strpbrk(s, " /?#@"))
		pod_dec_invalid(d, path, s, "must be a host name or an IP address");
	else
		p->http_host = pod_dec_strdup(d, s);
}

static bool dec_header_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-'))
			return false;
	return true;
}

static void dec_headers(struct pod_dec *d, const char *path,
			struct json_object *v, struct pod_probe *p)
{
	char ipath[POD_PATH_MAX], fpath[POD_PATH_MAX];
	struct json_object *e;
	const char *s;
	size_t n;

	p->http_headers = pod_dec_array(d, path, v, "expected array of objects", POD_MAX_HEADERS,
			   sizeof(*p->http_headers), 0, &n);
	if (!p->http_headers)
		return;
	for (size_t i = 0; i < n; i++) {
		struct pod_kv *kv = &p->http_headers[p->n_http_headers];
		size_t errs = d->n_errors;

		pod_dec_path_idx(ipath, path, i);
		e = json_object_array_get_idx(v, i);
		if (!pod_dec_obj(d, ipath, e))
			continue;
		json_object_object_foreach(e, key, fv) {
			pod_dec_path(fpath, ipath, key);
			if (pod_dec_is_null(fv))
				continue;
			s = NULL;
			if (strcmp(key, "name") == 0) {
				s = pod_dec_str(d, fpath, fv, POD_LABEL_NAME_MAX * 4);
				if (s && !dec_header_name_ok(s))
					pod_dec_invalid(d, fpath, s, "a valid HTTP "
							"header must consist of "
							"alphanumeric characters or '-'");
				else if (s && !kv->key)
					kv->key = pod_dec_strdup(d, s);
			} else if (strcmp(key, "value") == 0) {
				/* no CR/LF: it goes into a request */
				s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
				if (s && pod_has_ctl(s))
					pod_dec_invalid(d, fpath, s, "must not "
							"contain control characters");
				else if (s && !kv->value)
					kv->value = pod_dec_strdup(d, s);
			} else {
				pod_dec_unknown(d, fpath);
			}
		}
		if (!kv->key && d->n_errors == errs) {
			pod_dec_path(fpath, ipath, "name");
			pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
		}
		if (kv->key && !kv->value)
			kv->value = pod_dec_strdup(d, "");
		if (kv->key && kv->value)
			p->n_http_headers++;
		else {
			free(kv->key);
			free(kv->value);
			kv->key = kv->value = NULL;
		}
	}
}

static void dec_exec(struct pod_dec *d, const char *path,
		     struct json_object *v, struct pod_probe *p)
{
	char fpath[POD_PATH_MAX];
	size_t budget = POD_MAX_ARGS, errs = d->n_errors;
	bool has = false;

	if (!pod_dec_obj(d, path, v))
		return;
	p->kind = POD_PROBE_EXEC;
	json_object_object_foreach(v, key, fv) {
		pod_dec_path(fpath, path, key);
		if (strcmp(key, "command") == 0)
			pod_dec_strv(d, fpath, fv, &budget, &p->exec_command,
				     &p->n_exec_command, &has);
		else
			pod_dec_unknown(d, fpath);
	}
	/* missing, null or []: nothing to run */
	if (!has && d->n_errors == errs) {
		pod_dec_path(fpath, path, "command");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
}

/* httpGet (http) or tcpSocket. */
static void dec_net(struct pod_dec *d, const char *path,
		    struct json_object *v, struct pod_probe *p, bool http)
{
	static const char *const schemes[] = { "HTTP", "HTTPS", NULL };
	char fpath[POD_PATH_MAX];
	const char *s;
	bool has_port = false;

	if (!pod_dec_obj(d, path, v))
		return;
	p->kind = http ? POD_PROBE_HTTP : POD_PROBE_TCP;
	json_object_object_foreach(v, key, fv) {
		pod_dec_path(fpath, path, key);
		if (pod_dec_is_null(fv))
			continue;
		if (strcmp(key, "port") == 0) {
			has_port = true;
			dec_port(d, fpath, fv, p);
		} else if (strcmp(key, "host") == 0) {
			dec_host(d, fpath, fv, p);
		} else if (http && strcmp(key, "path") == 0) {
			s = pod_dec_str(d, fpath, fv, POD_MAX_STR);
			if (!s || !*s)
				continue;
			if (s[0] != '/' || pod_has_ctl(s) || strchr(s, ' '))
				pod_dec_invalid(d, fpath, s, "must be an absolute "
						"URL path without spaces");
			else
				p->http_path = pod_dec_strdup(d, s);
		} else if (http && strcmp(key, "scheme") == 0) {
			p->http_https = pod_dec_enum(d, fpath, fv, schemes) == 1;
		} else if (http && strcmp(key, "httpHeaders") == 0) {
			dec_headers(d, fpath, fv, p);
		} else {
			pod_dec_unknown(d, fpath);
		}
	}
	if (!has_port) {
		pod_dec_path(fpath, path, "port");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	if (http && !p->http_path)
		p->http_path = pod_dec_strdup(d, "/");
}

static void dec_timing(struct pod_dec *d, const char *path,
		       struct json_object *v, int32_t *out)
{
	int64_t n;

	if (pod_dec_int(d, path, v, 0, INT32_MAX, &n))
		*out = (int32_t)n;
}

void pod_dec_probe(struct pod_dec *d, const char *path, struct json_object *v,
		   struct pod_probe *p, enum pod_dec_probe_use use)
{
	/* Kubernetes checks the handlers in this order. */
	static const char *const handlers[] = { "exec", "httpGet", "tcpSocket",
						"grpc", "sleep", NULL };
	static const char *const timings[] = { "initialDelaySeconds",
		"periodSeconds", "timeoutSeconds", "successThreshold",
		"failureThreshold", NULL };
	int32_t *const tv[] = { &p->initial_delay_s, &p->period_s, &p->timeout_s,
				&p->success_threshold, &p->failure_threshold };
	bool hook = use == POD_DEC_HANDLER;
	char fpath[POD_PATH_MAX];
	size_t n_handlers = 0, k;

	if (!pod_dec_obj(d, path, v))
		return;
	for (k = 0; handlers[k]; k++) {
		struct json_object *h = NULL;

		if (!json_object_object_get_ex(v, handlers[k], &h) ||
		    pod_dec_is_null(h))
			continue;
		if ((hook && k == 3) || (!hook && k == 4))
			continue;   /* not a field here: unknown below */
		pod_dec_path(fpath, path, handlers[k]);
		if (n_handlers++) {
			pod_dec_fail(d, fpath, R_FORBIDDEN, "Forbidden: may not "
				     "specify more than 1 handler type");
			continue;
		}
		if (k == 0)
			dec_exec(d, fpath, h, p);
		else if (k == 1)
			dec_net(d, fpath, h, p, true);
		else if (k == 2 && !hook)
			dec_net(d, fpath, h, p, false);
		else if (k == 2)
			pod_dec_unsupp(d, fpath, "lifecycle hooks take exec or "
				       "httpGet");
		else if (k == 3)
			pod_dec_unsupp(d, fpath, "podvm probes take exec, "
				       "httpGet or tcpSocket");
		else
			pod_dec_unsupp(d, fpath, "lifecycle hooks take exec or "
				       "httpGet");
	}
	json_object_object_foreach(v, key, fv) {
		pod_dec_path(fpath, path, key);
		for (k = 0; handlers[k]; k++)
			if (strcmp(key, handlers[k]) == 0)
				break;
		if (handlers[k] && !((hook && k == 3) || (!hook && k == 4)))
			continue;   /* done above */
		for (k = 0; !hook && timings[k]; k++)
			if (strcmp(key, timings[k]) == 0)
				break;
		if (!hook && timings[k]) {
			if (!pod_dec_is_null(fv))
				dec_timing(d, fpath, fv, tv[k]);
		} else if (!hook && strcmp(key, "terminationGracePeriodSeconds") == 0) {
			if (!pod_dec_is_null(fv))
				pod_dec_unsupp(d, fpath, "the pod's "
					       "terminationGracePeriodSeconds applies");
		} else {
			pod_dec_unknown(d, fpath);
		}
	}
	if (n_handlers == 0)
		pod_dec_fail(d, path, R_REQUIRED, "Required value: must specify "
			     "a handler type");
	if (hook)
		return;
	/* Kubernetes' defaults: 0 means not given. */
	if (!p->period_s)
		p->period_s = 10;
	if (!p->timeout_s)
		p->timeout_s = 1;
	if (!p->success_threshold)
		p->success_threshold = 1;
	if (!p->failure_threshold)
		p->failure_threshold = 3;
	if (use != POD_DEC_READINESS && p->success_threshold != 1) {
		pod_dec_path(fpath, path, "successThreshold");
		pod_dec_fail(d, fpath, R_INVALID, "Invalid value: %d: must be 1",
			     (int)p->success_threshold);
	}
}

void pod_dec_lifecycle(struct pod_dec *d, const char *path,
		       struct json_object *v, struct pod_container *c)
{
	char fpath[POD_PATH_MAX];

	if (!pod_dec_obj(d, path, v))
		return;
	json_object_object_foreach(v, key, fv) {
		pod_dec_path(fpath, path, key);
		if (pod_dec_is_null(fv))
			continue;
		if (strcmp(key, "postStart") == 0)
			pod_dec_probe(d, fpath, fv, &c->post_start, POD_DEC_HANDLER);
		else if (strcmp(key, "preStop") == 0)
			pod_dec_probe(d, fpath, fv, &c->pre_stop, POD_DEC_HANDLER);
		else if (strcmp(key, "stopSignal") == 0)
			pod_dec_unsupp(d, fpath, "containers stop with SIGTERM");
		else
			pod_dec_unknown(d, fpath);
	}
}
