/* VPC objects (podvm.io/v1 VPC) both ways: strict decoding of a POST body
 * or a definition file, and encoding with or without status; the Status
 * helpers the VPC API replies with. The API calls and definition files
 * are in daemon/vpcsvc_api.c. */
#include "daemon/vpcsvc_priv.h"
#include "util/json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "util/util.h"

/* ---- Status helpers ------------------------------------------------------- */

void vpcsvc_st_set(struct podsvc_status *st, int code, const char *reason,
		   const char *name, const char *fmt, ...)
{
	va_list ap;

	memset(st, 0, sizeof(*st));
	st->code = code;
	snprintf(st->reason, sizeof(st->reason), "%s", reason);
	snprintf(st->kind, sizeof(st->kind), "vpcs");
	if (name)
		snprintf(st->name, sizeof(st->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
}

void vpcsvc_st_invalid(struct podsvc_status *st, const char *kind,
		       const char *name, const char *field, const char *reason,
		       const char *fmt, ...)
{
	struct pod_cause *c = &st->causes.items[0];
	va_list ap;

	memset(st, 0, sizeof(*st));
	st->code = 422;
	snprintf(st->reason, sizeof(st->reason), "Invalid");
	snprintf(st->kind, sizeof(st->kind), "%s", !strcmp(kind, "Pod") ? "pods" : "vpcs");
	snprintf(st->name, sizeof(st->name), "%s", name ? name : "");
	st->causes.n = 1;
	snprintf(c->field, sizeof(c->field), "%s", field);
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
	snprintf(st->message, sizeof(st->message), "%s \"%s\" is invalid: %s: %s",
		 kind, name ? name : "", field, c->message);
}

/* ---- decoding ---------------------------------------------------------------- */

/* The top level: apiVersion, kind, metadata, spec, status (ignored). */
static int vpc_decode_top(struct json_object *o, struct json_object **meta,
			  struct json_object **spec, struct podsvc_status *st)
{
	json_object_object_foreach(o, key, val) {
		if (!strcmp(key, "metadata"))
			*meta = val;
		else if (!strcmp(key, "spec"))
			*spec = val;
		else if (!strcmp(key, "apiVersion") &&
			 !(json_object_is_type(val, json_type_string) &&
			   !strcmp(json_object_get_string(val), VPCSVC_API_VERSION))) {
			vpcsvc_st_invalid(st, "VPC", NULL, "apiVersion", "FieldValueNotSupported",
					  "Unsupported value: want \"" VPCSVC_API_VERSION "\"");
			return -1;
		} else if (!strcmp(key, "kind") &&
			   !(json_object_is_type(val, json_type_string) &&
			     !strcmp(json_object_get_string(val), "VPC"))) {
			vpcsvc_st_invalid(st, "VPC", NULL, "kind", "FieldValueNotSupported",
					  "Unsupported value: want \"VPC\"");
			return -1;
		} else if (strcmp(key, "apiVersion") && strcmp(key, "kind") &&
			   strcmp(key, "status")) {
			vpcsvc_st_invalid(st, "VPC", NULL, "", "FieldValueInvalid",
					  "unknown field \"%.64s\"", key);
			return -1;
		}
	}
	return 0;
}

/* metadata: name (required), creationTimestamp (definition files). */
static int vpc_decode_meta(struct json_object *meta, struct netns_vpc_info *info,
			   int64_t *created_ms, struct podsvc_status *st)
{
	struct pv_err err = { 0 };
	struct json_object *v;
	const char *name = NULL, *s;
	struct tm tm;

	if (json_object_is_type(meta, json_type_object) &&
	    json_object_object_get_ex(meta, "name", &v) &&
	    json_object_is_type(v, json_type_string))
		name = json_object_get_string(v);
	if (!name || netns_valid_vpc_name(name, &err) < 0) {
		vpcsvc_st_invalid(st, "VPC", NULL, "metadata.name",
				  name ? "FieldValueInvalid" : "FieldValueRequired",
				  "%s", name ? err.msg : "Required value: name is required");
		return -1;
	}
	memcpy(info->name, name, strlen(name) + 1);
	/* definition files keep the creation time */
	if (created_ms && json_object_object_get_ex(meta, "creationTimestamp", &v) &&
	    json_object_is_type(v, json_type_string)) {
		memset(&tm, 0, sizeof(tm));
		s = strptime(json_object_get_string(v), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (s && !*s)
			*created_ms = (int64_t)timegm(&tm) * 1000;
	}
	return 0;
}

/* spec.dns: at most NETNS_DNS_MAX IPv4 addresses. */
static int vpc_decode_dns(struct json_object *v, struct netns_vpc_info *info,
			  struct podsvc_status *st)
{
	const char *name = info->name;
	size_t n = json_object_array_length(v);

	if (!json_object_is_type(v, json_type_array) || n > NETNS_DNS_MAX) {
		vpcsvc_st_invalid(st, "VPC", name, "spec.dns", "FieldValueInvalid",
				  "Invalid value: want at most %d IPv4 "
				  "addresses", NETNS_DNS_MAX);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(v, i);
		char f[32];

		if (!json_object_is_type(d, json_type_string) ||
		    inet_pton(AF_INET, json_object_get_string(d),
			      &info->dns[i]) != 1) {
			snprintf(f, sizeof(f), "spec.dns[%zu]", i);
			vpcsvc_st_invalid(st, "VPC", name, f, "FieldValueInvalid",
					  "Invalid value: not an IPv4 address");
			return -1;
		}
	}
	info->ndns = n;
	return 0;
}

/* spec: cidr (required), dns, egress ("none" only). */
static int vpc_decode_spec(struct json_object *spec,
			   struct netns_vpc_info *info, struct podsvc_status *st)
{
	struct pv_err err = { 0 };
	const char *name = info->name, *s = NULL;

	json_object_object_foreach(spec, skey, sval) {
		if (!strcmp(skey, "cidr")) {
			s = json_object_is_type(sval, json_type_string)
				? json_object_get_string(sval) : "";
		} else if (!strcmp(skey, "dns")) {
			if (vpc_decode_dns(sval, info, st) < 0)
				return -1;
		} else if (!strcmp(skey, "egress")) {
			const char *e = json_object_get_string(sval);

			if (json_object_is_type(sval, json_type_string) && !strcmp(e, "none"))
				continue;
			vpcsvc_st_invalid(st, "VPC", name, "spec.egress",
					  "FieldValueNotSupported", "%s",
					  json_object_is_type(sval, json_type_string) &&
					  !strcmp(e, "nat")
					  ? "Unsupported value: \"nat\": not supported yet "
					    "(VPCs are isolated: no route out)"
					  : "Unsupported value: want \"none\"");
			return -1;
		} else {
			char f[80];

			snprintf(f, sizeof(f), "spec.%.64s", skey);
			vpcsvc_st_invalid(st, "VPC", name, f, "FieldValueInvalid",
					  "unknown field");
			return -1;
		}
	}
	if (!s || netns_cidr_parse(s, &info->cidr, &err) < 0) {
		vpcsvc_st_invalid(st, "VPC", name, "spec.cidr",
				  s ? "FieldValueInvalid" : "FieldValueRequired",
				  "%s", s ? err.msg : "Required value: cidr is required");
		return -1;
	}
	return 0;
}

/* One VPC object (POST body or definition file) into info; strict about
 * apiVersion, kind and spec, lenient about metadata (clients add fields);
 * status is ignored.  0, or -1 with st = 400/422. */
int vpcsvc_decode(struct json_object *o, struct netns_vpc_info *info,
		  int64_t *created_ms, struct podsvc_status *st)
{
	struct json_object *meta = NULL, *spec = NULL;

	memset(info, 0, sizeof(*info));
	if (!json_object_is_type(o, json_type_object)) {
		vpcsvc_st_set(st, 400, "BadRequest", NULL, "the body must be one "
			      "JSON object (a VPC)");
		return -1;
	}
	if (vpc_decode_top(o, &meta, &spec, st) < 0 ||
	    vpc_decode_meta(meta, info, created_ms, st) < 0)
		return -1;
	if (!json_object_is_type(spec, json_type_object)) {
		vpcsvc_st_invalid(st, "VPC", info->name, "spec", "FieldValueRequired",
				  "Required value: spec.cidr is required");
		return -1;
	}
	return vpc_decode_spec(spec, info, st);
}

/* ---- encoding ------------------------------------------------------------------ */

static struct json_object *vpc_ip(struct in_addr a)
{
	char buf[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, buf, sizeof(buf));
	return json_object_new_string(buf);
}

/* The object; with_status false for the definition file. */
struct json_object *vpcsvc_json(const struct vpcsvc_vpc *v, bool with_status)
{
	struct json_object *o = json_object_new_object(), *meta, *spec, *st, *dns;
	char cidr[NETNS_CIDR_STRLEN], ts[32] = "";
	time_t t = (time_t)(v->created_ms / 1000);
	struct tm tm;

	if (!o)
		return NULL;
	netns_cidr_format(&v->info.cidr, cidr, sizeof(cidr));
	if (v->created_ms && gmtime_r(&t, &tm))
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!util_json_add(o, "apiVersion", json_object_new_string(VPCSVC_API_VERSION)) ||
	    !util_json_add(o, "kind", json_object_new_string("VPC")) ||
	    !util_json_add(o, "metadata", meta = json_object_new_object()) ||
	    !util_json_add(meta, "name", json_object_new_string(v->info.name)) ||
	    (ts[0] && !util_json_add(meta, "creationTimestamp", json_object_new_string(ts))) ||
	    !util_json_add(o, "spec", spec = json_object_new_object()) ||
	    !util_json_add(spec, "cidr", json_object_new_string(cidr)) ||
	    !util_json_add(spec, "dns", dns = json_object_new_array()))
		goto fail;
	for (size_t i = 0; i < v->info.ndns; i++) {
		struct json_object *d = vpc_ip(v->info.dns[i]);

		if (!d || json_object_array_add(dns, d) != 0) {
			json_object_put(d);
			goto fail;
		}
	}
	if (with_status &&
	    (!util_json_add(o, "status", st = json_object_new_object()) ||
	     !util_json_add(st, "gateway", vpc_ip(netns_cidr_gateway(&v->info.cidr))) ||
	     !util_json_add(st, "podCount", json_object_new_int64((int64_t)v->refs)) ||
	     !util_json_add(st, "source", json_object_new_string(v->configured ? "flag" : "api"))))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* Text of o (consumed), or NULL with st = 500. */
char *vpcsvc_text(struct json_object *o, struct podsvc_status *st)
{
	const char *s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;
	char *r = s ? strdup(s) : NULL;

	json_object_put(o);
	if (!r)
		vpcsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
	return r;
}
