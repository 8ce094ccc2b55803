/* Pod endpoints: create, get, list (all namespaces too), delete. Each
 * handler checks the URL names and query, then calls podsvc, which owns
 * decoding, validation and storage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api_priv.h"

/* podsvc_status is several KiB (16 causes): keep it on the heap. */
static struct podsvc_status *api_st_new(void)
{
	return calloc(1, sizeof(struct podsvc_status));
}

/* Reply with a Pod / PodList, as a Table when the client asked for one. */
static enum MHD_Result api_reply_object(struct api_req *r, int code,
					const char *json,
					const struct api_query *q)
{
	enum MHD_Result ret;
	char *t;

	if (!q->table)
		return api_reply_json(r, code, json);
	t = api_table_from_json(json, q, true);
	if (!t)
		return api_reply_status(r, 500, "InternalError",
					"cannot build the table");
	ret = api_reply_json(r, code, t);
	free(t);
	return ret;
}

static int api_check_dry_run(const struct api_query *q,
			     struct podsvc_status *st)
{
	/* Server-side dry run would need podsvc to validate without storing;
	 * refusing is honest, accepting would create the pod. */
	if (q->dry_run && *q->dry_run) {
		api_status_set(st, 400, "BadRequest", "dryRun is not supported "
			       "by podvmd (use kubectl --dry-run=client)");
		return -1;
	}
	return 0;
}

enum MHD_Result api_h_pods_create(struct api_req *r)
{
	struct podsvc_status *st = api_st_new();
	struct api_query q;
	const char *ns = NULL, *ctype;
	enum MHD_Result ret;
	char *out = NULL;

	if (!st)
		return MHD_NO;
	ctype = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
					    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (api_query_parse(r, &q, st) < 0 || api_check_names(r, &ns, NULL, st) < 0 ||
	    api_check_dry_run(&q, st) < 0 ||
	    api_body_check(ctype, r->body ? r->body : "", r->body_len, st) < 0 ||
	    podsvc_create(r->srv->svc, ns, r->body, r->body_len, &out, st) < 0) {
		ret = api_reply_podsvc(r, st);
		goto out;
	}
	ret = api_reply_object(r, 201, out, &q);
out:
	free(out);
	free(st);
	return ret;
}

enum MHD_Result api_h_pod_get(struct api_req *r)
{
	struct podsvc_status *st = api_st_new();
	struct api_query q;
	const char *ns = NULL, *name = NULL;
	enum MHD_Result ret;
	char *out = NULL;

	if (!st)
		return MHD_NO;
	if (api_query_parse(r, &q, st) < 0 ||
	    api_check_names(r, &ns, &name, st) < 0 ||
	    podsvc_get(r->srv->svc, ns, name, &out, st) < 0) {
		ret = api_reply_podsvc(r, st);
		goto out;
	}
	ret = api_reply_object(r, 200, out, &q);
out:
	free(out);
	free(st);
	return ret;
}

static enum MHD_Result api_list(struct api_req *r, bool all_ns, bool watch)
{
	struct podsvc_status *st = api_st_new();
	struct podsvc_selector sel = { 0 };
	struct api_query q;
	const char *ns = NULL, *name = NULL;
	enum MHD_Result ret;
	char *out = NULL;
	char field[1100];

	if (!st)
		return MHD_NO;
	if (api_query_parse(r, &q, st) < 0 ||
	    (!all_ns && api_check_names(r, &ns, NULL, st) < 0) ||
	    (api_param(r, "name") && api_check_names(r, NULL, &name, st) < 0)) {
		ret = api_reply_podsvc(r, st);
		goto out;
	}
	sel.namespace = ns;
	sel.label = q.label_selector;
	sel.field = q.field_selector;
	if (name) {
		/* /watch/namespaces/NS/pods/NAME: a field selector on the name. */
		if (snprintf(field, sizeof(field), "metadata.name=%s%s%s", name,
			     q.field_selector && *q.field_selector ? "," : "",
			     q.field_selector ? q.field_selector : "") >=
		    (int)sizeof(field)) {
			api_status_set(st, 400, "BadRequest", "fieldSelector: too long");
			ret = api_reply_podsvc(r, st);
			goto out;
		}
		sel.field = field;
	}
	if (watch || q.watch) {
		ret = api_watch(r, &q, &sel);
		goto out;
	}
	if (podsvc_list(r->srv->svc, &sel, &out, st) < 0) {
		ret = api_reply_podsvc(r, st);
		goto out;
	}
	ret = api_reply_object(r, 200, out, &q);
out:
	free(out);
	free(st);
	return ret;
}

enum MHD_Result api_h_pods_list(struct api_req *r)
{
	return api_list(r, false, false);
}

enum MHD_Result api_h_pods_list_all(struct api_req *r)
{
	return api_list(r, true, false);
}

enum MHD_Result api_h_watch_ns(struct api_req *r)
{
	return api_list(r, false, true);
}

enum MHD_Result api_h_watch_all(struct api_req *r)
{
	return api_list(r, true, true);
}

enum MHD_Result api_h_watch_one(struct api_req *r)
{
	return api_list(r, false, true);
}

/* DeleteOptions body: gracePeriodSeconds used; dryRun refused;
 * propagationPolicy, preconditions, orphanDependents accepted and ignored. */
static int api_delete_options(const char *body, size_t len, int64_t *grace,
			      struct podsvc_status *st)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL, *v;
	int ret = -1;

	while (len && (body[len - 1] == ' ' || body[len - 1] == '\n' ||
		       body[len - 1] == '\r' || body[len - 1] == '\t'))
		len--;
	tok = json_tokener_new_ex(16);
	if (!tok) {
		api_status_set(st, 500, "InternalError", "out of memory");
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		api_status_set(st, 400, "BadRequest",
			       "the body is not a JSON DeleteOptions object");
		goto out;
	}
	if (json_object_object_get_ex(o, "gracePeriodSeconds", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		int64_t g = json_object_get_int64(v);

		if (!json_object_is_type(v, json_type_int) || g < 0 ||
		    g > 86400LL * 365) {
			api_status_set(st, 400, "BadRequest", "gracePeriodSeconds: "
				       "must be a non-negative integer");
			goto out;
		}
		*grace = g;
	}
	if (json_object_object_get_ex(o, "dryRun", &v) &&
	    json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) > 0) {
		api_status_set(st, 400, "BadRequest",
			       "dryRun is not supported by podvmd");
		goto out;
	}
	ret = 0;
out:
	json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	return ret;
}

enum MHD_Result api_h_pod_delete(struct api_req *r)
{
	struct podsvc_status *st = api_st_new();
	struct api_query q;
	const char *ns = NULL, *name = NULL;
	enum MHD_Result ret;
	char *out = NULL;
	int64_t grace;

	if (!st)
		return MHD_NO;
	if (api_query_parse(r, &q, st) < 0 ||
	    api_check_names(r, &ns, &name, st) < 0 ||
	    api_check_dry_run(&q, st) < 0) {
		ret = api_reply_podsvc(r, st);
		goto out;
	}
	grace = q.grace;
	if (r->body_len && api_delete_options(r->body, r->body_len, &grace, st) < 0) {
		ret = api_reply_podsvc(r, st);
		goto out;
	}
	if (podsvc_delete(r->srv->svc, ns, name, grace, &out, st) < 0) {
		ret = api_reply_podsvc(r, st);
		goto out;
	}
	ret = api_reply_object(r, 200, out, &q);
out:
	free(out);
	free(st);
	return ret;
}
