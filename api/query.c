/* Query parameters, Accept negotiation, URL names and request bodies: the
 * hostile input of every request is checked here before it reaches
 * podsvc, a path or a log line. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_priv.h"
#include "util/util.h"

#define API_QUERY_VALUE_MAX 1024

static const char *api_arg(struct api_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

static int api_parse_bool(const char *key, const char *v, bool *out,
			  struct podsvc_status *st)
{
	if (!v || !*v)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
		*out = false;
		return 0;
	}
	api_status_set(st, 400, "BadRequest", "%s: invalid boolean value", key);
	return -1;
}

static int api_parse_int(const char *key, const char *v, int64_t min,
			 int64_t max, int64_t *out, struct podsvc_status *st)
{
	char *end = NULL;
	long long x;

	if (!v || !*v)
		return 0;
	errno = 0;
	x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < min || x > max) {
		api_status_set(st, 400, "BadRequest",
			       "%s: must be an integer in [%lld, %lld]", key,
			       (long long)min, (long long)max);
		return -1;
	}
	*out = x;
	return 0;
}

/* RFC 3339 ("2006-01-02T15:04:05[.frac](Z|±hh:mm)") to ns since the epoch;
 * -1 when malformed. Also used for CRI log timestamps. */
int64_t api_parse_rfc3339_ns(const char *s, size_t len)
{
	struct tm tm;
	char buf[64];
	const char *p;
	char *rest;
	int64_t ns = 0, scale = 100000000, off = 0;
	time_t t;

	if (len >= sizeof(buf) || len < 20)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(&tm, 0, sizeof(tm));
	rest = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -1;
	p = rest;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			ns += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':' &&
		   isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
		   isdigit((unsigned char)p[4]) && isdigit((unsigned char)p[5])) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		      ((p[4] - '0') * 10 + (p[5] - '0')) * 60;
		if (*p == '-')
			off = -off;
	} else {
		return -1;
	}
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return ((int64_t)t - off) * 1000000000LL + ns;
}

/* Accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
 * — the first acceptable media range wins. */
static void api_parse_accept(const char *acc, struct api_query *q)
{
	char buf[1024];
	char *save = NULL, *range;

	if (!acc || strnlen(acc, sizeof(buf)) >= sizeof(buf))
		return;
	strcpy(buf, acc);
	for (range = strtok_r(buf, ",", &save); range;
	     range = strtok_r(NULL, ",", &save)) {
		bool table = strstr(range, "as=Table") != NULL;

		if (!table)
			return; /* plain JSON (or anything) preferred */
		if (!strstr(range, "g=meta.k8s.io"))
			continue;
		if (strstr(range, "v=v1beta1")) {
			q->table = true;
			q->table_version = "v1beta1";
			return;
		}
		if (strstr(range, "v=v1")) {
			q->table = true;
			q->table_version = "v1";
			return;
		}
	}
}

int api_query_parse(struct api_req *r, struct api_query *q,
		    struct podsvc_status *st)
{
	static const char *const strs[] = { "resourceVersion", "labelSelector",
		"fieldSelector", "container", "dryRun", "sinceTime" };
	const char *v;
	int64_t secs = -1;

	memset(q, 0, sizeof(*q));
	q->grace = q->timeout_s = q->tail_lines = q->limit_bytes = -1;
	q->include_object = 1;
	q->table_version = "v1";
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		v = api_arg(r, strs[i]);
		if (v && strnlen(v, API_QUERY_VALUE_MAX + 1) > API_QUERY_VALUE_MAX) {
			api_status_set(st, 400, "BadRequest", "%s: too long", strs[i]);
			return -1;
		}
	}
	q->rv = api_arg(r, "resourceVersion");
	q->label_selector = api_arg(r, "labelSelector");
	q->field_selector = api_arg(r, "fieldSelector");
	q->container = api_arg(r, "container");
	q->dry_run = api_arg(r, "dryRun");
	if (q->container && *q->container && !pod_is_dns1123_label(q->container)) {
		api_status_set(st, 400, "BadRequest",
			       "container: must be a DNS-1123 label");
		return -1;
	}
	if (api_parse_bool("watch", api_arg(r, "watch"), &q->watch, st) < 0 ||
	    api_parse_bool("follow", api_arg(r, "follow"), &q->follow, st) < 0 ||
	    api_parse_bool("timestamps", api_arg(r, "timestamps"),
			   &q->timestamps, st) < 0 ||
	    api_parse_bool("previous", api_arg(r, "previous"), &q->previous,
			   st) < 0 ||
	    api_parse_int("gracePeriodSeconds", api_arg(r, "gracePeriodSeconds"),
			  0, 86400 * 365, &q->grace, st) < 0 ||
	    api_parse_int("timeoutSeconds", api_arg(r, "timeoutSeconds"), 0,
			  86400, &q->timeout_s, st) < 0 ||
	    api_parse_int("tailLines", api_arg(r, "tailLines"), 0, INT64_MAX / 2,
			  &q->tail_lines, st) < 0 ||
	    api_parse_int("limitBytes", api_arg(r, "limitBytes"), 1,
			  INT64_MAX / 2, &q->limit_bytes, st) < 0 ||
	    api_parse_int("sinceSeconds", api_arg(r, "sinceSeconds"), 1,
			  86400LL * 365 * 100, &secs, st) < 0)
		return -1;
	if (secs > 0)
		q->since_ns = util_wall_ms() * 1000000LL - secs * 1000000000LL;
	v = api_arg(r, "sinceTime");
	if (v && *v) {
		q->since_ns = api_parse_rfc3339_ns(v, strlen(v));
		if (q->since_ns < 0) {
			api_status_set(st, 400, "BadRequest",
				       "sinceTime: not an RFC 3339 time");
			return -1;
		}
	}
	v = api_arg(r, "includeObject");
	if (v && strcmp(v, "None") == 0)
		q->include_object = 0;
	else if (v && strcmp(v, "Object") == 0)
		q->include_object = 2;
	api_parse_accept(MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_ACCEPT), q);
	/* Accepted and ignored: pretty, limit, continue, fieldManager,
	 * fieldValidation, allowWatchBookmarks, propagationPolicy,
	 * orphanDependents, sendInitialEvents (see docs/api.md). */
	return 0;
}

/* A {key} captured from the route pattern, or NULL. */
const char *api_param(const struct api_req *r, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < r->n_params; i++)
		if (r->params[i].key_len == n &&
		    memcmp(r->params[i].key, key, n) == 0)
			return r->params[i].value;
	return NULL;
}

int api_check_names(struct api_req *r, const char **ns, const char **name,
		    struct podsvc_status *st)
{
	const char *n = api_param(r, "ns"), *p = api_param(r, "name");

	/* A name that cannot exist is simply not found; nothing invalid goes
	 * further (paths, logs, podsvc). */
	if (ns) {
		if (!n || !pod_is_dns1123_label(n)) {
			api_status_set(st, 404, "NotFound", "namespace not found: "
				       "not a valid DNS-1123 label");
			snprintf(st->kind, sizeof(st->kind), "namespaces");
			return -1;
		}
		*ns = n;
	}
	if (name) {
		if (!p || !pod_is_dns1123_subdomain(p)) {
			api_status_set(st, 404, "NotFound", "pod not found: "
				       "not a valid DNS-1123 subdomain");
			snprintf(st->kind, sizeof(st->kind), "pods");
			return -1;
		}
		*name = p;
	}
	return 0;
}

/* RFC 3629 UTF-8, no overlongs, no surrogates. */
static bool api_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			n = 1; cp = c & 0x1F; min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2; cp = c & 0x0F; min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3; cp = c & 0x07; min = 0x10000;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

int api_body_check(const char *ctype, const char *body, size_t len,
		   struct podsvc_status *st)
{
	if (ctype && *ctype && strncasecmp(ctype, "application/json", 16) != 0 &&
	    strncasecmp(ctype, "*/*", 3) != 0) {
		api_status_set(st, 415, "UnsupportedMediaType",
			       "the body must be application/json (a Pod; "
			       "convert YAML with the podvm CLI or kubectl)");
		return -1;
	}
	if (len == 0) {
		api_status_set(st, 400, "BadRequest", "the request body is empty");
		return -1;
	}
	if (memchr(body, '\0', len)) {
		api_status_set(st, 400, "BadRequest",
			       "the request body contains a NUL byte");
		return -1;
	}
	if (!api_utf8_valid((const unsigned char *)body, len)) {
		api_status_set(st, 400, "BadRequest",
			       "the request body is not valid UTF-8");
		return -1;
	}
	return 0;
}

int api_body_append(char **body, size_t *len, size_t *cap, size_t max,
		    const char *data, size_t n)
{
	char *nb;
	size_t want;

	if (n > max || *len > max - n)
		return 1;
	if (*len + n + 1 > *cap) {
		want = *cap ? *cap : 4096;
		while (want < *len + n + 1)
			want *= 2;
		if (want > max + 1)
			want = max + 1;
		nb = realloc(*body, want);
		if (!nb)
			return -ENOMEM;
		*body = nb;
		*cap = want;
	}
	memcpy(*body + *len, data, n);
	*len += n;
	(*body)[*len] = '\0';
	return 0;
}
