/* Replies: JSON bodies and metav1.Status errors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api_priv.h"
#include "host/log.h"

static const struct {
	int code;
	const char *reason;
} api_reasons[] = {
	{ 400, "BadRequest" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 404, "NotFound" }, { 405, "MethodNotAllowed" },
	{ 406, "NotAcceptable" }, { 409, "AlreadyExists" }, { 410, "Gone" },
	{ 413, "RequestEntityTooLarge" }, { 415, "UnsupportedMediaType" },
	{ 422, "Invalid" }, { 429, "TooManyRequests" },
	{ 500, "InternalError" }, { 503, "ServiceUnavailable" },
	{ 504, "Timeout" },
};

const char *api_reason_for(int code)
{
	for (size_t i = 0; i < sizeof(api_reasons) / sizeof(api_reasons[0]); i++)
		if (api_reasons[i].code == code)
			return api_reasons[i].reason;
	return code >= 500 ? "InternalError" : "BadRequest";
}

void api_status_set(struct podsvc_status *st, int code, const char *reason,
		    const char *fmt, ...)
{
	va_list ap;

	memset(st, 0, sizeof(*st));
	st->code = code;
	snprintf(st->reason, sizeof(st->reason), "%s",
		 reason ? reason : api_reason_for(code));
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
}

/* Strings from podsvc may carry client text (field names): json-c escapes
 * them; strnlen bounds them even if a buffer lost its NUL. */
static struct json_object *api_jstr(const char *s, size_t max)
{
	return json_object_new_string_len(s, (int)strnlen(s, max));
}

char *api_status_json(const struct podsvc_status *st)
{
	struct json_object *o, *det = NULL, *causes;
	char *text = NULL;
	int code = st->code >= 100 && st->code <= 599 ? st->code : 500;
	const char *reason = st->reason[0] ? st->reason : api_reason_for(code);

	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "kind", json_object_new_string("Status"));
	json_object_object_add(o, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(o, "metadata", json_object_new_object());
	json_object_object_add(o, "status", json_object_new_string("Failure"));
	json_object_object_add(o, "message",
			       api_jstr(st->message, sizeof(st->message)));
	json_object_object_add(o, "reason", api_jstr(reason, sizeof(st->reason)));
	if (st->name[0] || st->kind[0] || st->causes.n) {
		det = json_object_new_object();
		if (!det)
			goto out;
		json_object_object_add(o, "details", det);
		if (st->name[0])
			json_object_object_add(det, "name",
					       api_jstr(st->name, sizeof(st->name)));
		if (st->kind[0])
			json_object_object_add(det, "kind",
					       api_jstr(st->kind, sizeof(st->kind)));
	}
	if (det && st->causes.n) {
		size_t n = st->causes.n < POD_MAX_CAUSES ? st->causes.n
							  : POD_MAX_CAUSES;

		causes = json_object_new_array();
		if (!causes)
			goto out;
		json_object_object_add(det, "causes", causes);
		for (size_t i = 0; i < n; i++) {
			const struct pod_cause *c = &st->causes.items[i];
			struct json_object *co = json_object_new_object();

			if (!co)
				goto out;
			json_object_array_add(causes, co);
			json_object_object_add(co, "reason",
					       api_jstr(c->reason, sizeof(c->reason)));
			json_object_object_add(co, "message",
					       api_jstr(c->message, sizeof(c->message)));
			if (c->field[0])
				json_object_object_add(co, "field",
						       api_jstr(c->field, sizeof(c->field)));
		}
	}
	json_object_object_add(o, "code", json_object_new_int(code));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
out:
	json_object_put(o);
	return text;
}

enum MHD_Result api_reply(struct api_req *r, int code, const char *ctype,
			  const char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
	if (code == 503)
		MHD_add_response_header(resp, "Retry-After", "1");
	/* A refused body may still be in flight: do not reuse the connection. */
	if (code == 413 || code == 503 || code == 400)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(r->conn, (unsigned)code, resp);
	MHD_destroy_response(resp);
	r->code = code;
	r->replied = true;
	return ret;
}

enum MHD_Result api_reply_json(struct api_req *r, int code, const char *json)
{
	return api_reply(r, code, "application/json", json, strlen(json));
}

enum MHD_Result api_reply_podsvc(struct api_req *r,
				 const struct podsvc_status *st)
{
	enum MHD_Result ret;
	char *text = api_status_json(st);
	int code = st->code >= 400 && st->code <= 599 ? st->code : 500;

	if (!text) {
		static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
			"\"metadata\":{},\"status\":\"Failure\",\"message\":"
			"\"out of memory\",\"reason\":\"InternalError\",\"code\":500}";
		return api_reply_json(r, 500, oom);
	}
	if (code >= 500)
		log_warn("request failed", LOG_STR("path", r->path),
			 LOG_INT("code", code), LOG_STR("message", st->message),
			 LOG_END);
	ret = api_reply_json(r, code, text);
	free(text);
	return ret;
}

enum MHD_Result api_reply_status(struct api_req *r, int code,
				 const char *reason, const char *fmt, ...)
{
	struct podsvc_status *st;
	enum MHD_Result ret;
	va_list ap;

	/* podsvc_status is ~6 KiB: keep it off connection threads' stacks? It
	 * fits comfortably; heap keeps deep call chains cheap anyway. */
	st = calloc(1, sizeof(*st));
	if (!st)
		return MHD_NO;
	st->code = code;
	snprintf(st->reason, sizeof(st->reason), "%s",
		 reason ? reason : api_reason_for(code));
	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
	ret = api_reply_podsvc(r, st);
	free(st);
	return ret;
}
