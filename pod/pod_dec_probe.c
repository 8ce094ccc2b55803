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
	enum { F_NAME, F_VALUE };
	static const struct pod_dec_field fields[] = {
		{ "name", F_NAME, 0 }, { "value", F_VALUE, 0 }, POD_DEC_END
	};
	char ipath[POD_PATH_MAX], fpath[POD_PATH_MAX];
	struct pod_dec_it it;
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
		if (!pod_dec_it_init(&it, d, ipath, json_object_array_get_idx(v, i),
				     fields))
			continue;
		while (pod_dec_it_next(&it)) {
			if (it.id == F_NAME) {
				s = pod_dec_str(d, it.path, it.v, POD_LABEL_NAME_MAX * 4);
				if (s && !dec_header_name_ok(s))
					pod_dec_invalid(d, it.path, s, "a valid HTTP "
							"header must consist of "
							"alphanumeric characters or '-'");
				else if (s && !kv->key)
					kv->key = pod_dec_strdup(d, s);
				continue;
			}
			/* no CR/LF: it goes into a request */
			s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
			if (s && pod_has_ctl(s))
				pod_dec_invalid(d, it.path, s, "must not "
						"contain control characters");
			else if (s && !kv->value)
				kv->value = pod_dec_strdup(d, s);
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
	static const struct pod_dec_field fields[] = {
		{ "command", 0, POD_DEC_NULL }, POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX];
	size_t budget = POD_MAX_ARGS, errs = d->n_errors;
	bool has = false;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	p->kind = POD_PROBE_EXEC;
	while (pod_dec_it_next(&it))
		pod_dec_strv(d, it.path, it.v, &budget, &p->exec_command,
			     &p->n_exec_command, &has);
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
	enum { F_PORT, F_HOST, F_PATH, F_SCHEME, F_HEADERS };
	static const struct pod_dec_field http_fields[] = {
		{ "port", F_PORT, 0 }, { "host", F_HOST, 0 },
		{ "path", F_PATH, 0 }, { "scheme", F_SCHEME, 0 },
		{ "httpHeaders", F_HEADERS, 0 }, POD_DEC_END
	};
	static const struct pod_dec_field tcp_fields[] = {
		{ "port", F_PORT, 0 }, { "host", F_HOST, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;
	char fpath[POD_PATH_MAX];
	const char *s;
	bool has_port = false;

	if (!pod_dec_it_init(&it, d, path, v, http ? http_fields : tcp_fields))
		return;
	p->kind = http ? POD_PROBE_HTTP : POD_PROBE_TCP;
	while (pod_dec_it_next(&it)) {
		switch (it.id) {
		case F_PORT:
			has_port = true;
			dec_port(d, it.path, it.v, p);
			break;
		case F_HOST:
			dec_host(d, it.path, it.v, p);
			break;
		case F_PATH:
			s = pod_dec_str(d, it.path, it.v, POD_MAX_STR);
			if (s && *s && (s[0] != '/' || pod_has_ctl(s) || strchr(s, ' ')))
				pod_dec_invalid(d, it.path, s, "must be an absolute "
						"URL path without spaces");
			else if (s && *s)
				p->http_path = pod_dec_strdup(d, s);
			break;
		case F_SCHEME:
			p->http_https = pod_dec_enum(d, it.path, it.v, schemes) == 1;
			break;
		case F_HEADERS:
			dec_headers(d, it.path, it.v, p);
			break;
		}
	}
	if (!has_port) {
		pod_dec_path(fpath, path, "port");
		pod_dec_fail(d, fpath, R_REQUIRED, "Required value");
	}
	if (http && !p->http_path)
		p->http_path = pod_dec_strdup(d, "/");
}

/* Kubernetes checks the handlers in this order. */
static const char *const probe_handlers[] = { "exec", "httpGet", "tcpSocket",
					      "grpc", "sleep", NULL };

/* The one handler (exec, httpGet, tcpSocket); more than one is refused. */
static size_t dec_handlers(struct pod_dec *d, const char *path,
			   struct json_object *v, struct pod_probe *p, bool hook)
{
	char fpath[POD_PATH_MAX];
	size_t n_handlers = 0;

	for (size_t k = 0; probe_handlers[k]; k++) {
		struct json_object *h = NULL;

		if (!json_object_object_get_ex(v, probe_handlers[k], &h) ||
		    pod_dec_is_null(h))
			continue;
		if ((hook && k == 3) || (!hook && k == 4))
			continue;   /* not a field here: unknown */
		pod_dec_path(fpath, path, probe_handlers[k]);
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
		else if (k == 3)
			pod_dec_unsupp(d, fpath, "podvm probes take exec, "
				       "httpGet or tcpSocket");
		else
			pod_dec_unsupp(d, fpath, "lifecycle hooks take exec or "
				       "httpGet");
	}
	return n_handlers;
}

/* The fields besides the handler: a probe's timings (hooks have none). */
static void dec_probe_fields(struct pod_dec *d, const char *path,
			     struct json_object *v, struct pod_probe *p,
			     bool hook)
{
	enum { F_HANDLER = -2, F_GRACE = 5 };   /* 0..4: the timings */
	static const struct pod_dec_field probe_fields[] = {
		{ "exec", F_HANDLER, POD_DEC_NULL },
		{ "httpGet", F_HANDLER, POD_DEC_NULL },
		{ "tcpSocket", F_HANDLER, POD_DEC_NULL },
		{ "grpc", F_HANDLER, POD_DEC_NULL },
		{ "initialDelaySeconds", 0, 0 }, { "periodSeconds", 1, 0 },
		{ "timeoutSeconds", 2, 0 }, { "successThreshold", 3, 0 },
		{ "failureThreshold", 4, 0 },
		{ "terminationGracePeriodSeconds", F_GRACE, 0 },
		POD_DEC_END
	};
	static const struct pod_dec_field hook_fields[] = {
		{ "exec", F_HANDLER, POD_DEC_NULL },
		{ "httpGet", F_HANDLER, POD_DEC_NULL },
		{ "tcpSocket", F_HANDLER, POD_DEC_NULL },
		{ "sleep", F_HANDLER, POD_DEC_NULL },
		POD_DEC_END
	};
	int32_t *const tv[] = { &p->initial_delay_s, &p->period_s, &p->timeout_s,
				&p->success_threshold, &p->failure_threshold };
	struct pod_dec_it it;
	int64_t n;

	pod_dec_it_init(&it, d, path, v, hook ? hook_fields : probe_fields);
	while (pod_dec_it_next(&it)) {
		if (it.id == F_GRACE)
			pod_dec_unsupp(d, it.path, "the pod's "
				       "terminationGracePeriodSeconds applies");
		else if (it.id >= 0 &&
			 pod_dec_int(d, it.path, it.v, 0, INT32_MAX, &n))
			*tv[it.id] = (int32_t)n;
	}
}

void pod_dec_probe(struct pod_dec *d, const char *path, struct json_object *v,
		   struct pod_probe *p, enum pod_dec_probe_use use)
{
	bool hook = use == POD_DEC_HANDLER;
	char fpath[POD_PATH_MAX];
	size_t n_handlers;

	if (!pod_dec_obj(d, path, v))
		return;
	n_handlers = dec_handlers(d, path, v, p, hook);
	dec_probe_fields(d, path, v, p, hook);
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
	enum { F_POST, F_PRE, F_SIGNAL };
	static const struct pod_dec_field fields[] = {
		{ "postStart", F_POST, 0 }, { "preStop", F_PRE, 0 },
		{ "stopSignal", F_SIGNAL, 0 }, POD_DEC_END
	};
	struct pod_dec_it it;

	if (!pod_dec_it_init(&it, d, path, v, fields))
		return;
	while (pod_dec_it_next(&it)) {
		if (it.id == F_SIGNAL)
			pod_dec_unsupp(d, it.path, "containers stop with SIGTERM");
		else
			pod_dec_probe(d, it.path, it.v, it.id == F_POST ?
				      &c->post_start : &c->pre_stop,
				      POD_DEC_HANDLER);
	}
}
