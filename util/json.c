/* JSON helpers (util/json.h). */
#include "util/json.h"

#include <json-c/json.h>

enum util_json_status util_json_parse(struct util_json_parse *jp,
				      const char *p, size_t n,
				      struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new_ex(jp->depth);
	struct json_object *obj;
	enum json_tokener_error jerr;
	enum util_json_status st = UTIL_JSON_OK;
	size_t end;

	*out = NULL;
	jp->detail = NULL;
	jp->end = 0;
	if (!tok)
		return UTIL_JSON_NOMEM;
	if (jp->tok_flags)
		json_tokener_set_flags(tok, jp->tok_flags);
	obj = json_tokener_parse_ex(tok, p, (int)n);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	jp->detail = json_tokener_error_desc(jerr);
	jp->end = end;
	if (jerr == json_tokener_continue)
		st = UTIL_JSON_TRUNCATED;
	else if (jerr != json_tokener_success ||
		 (!obj && (jp->flags & UTIL_JSON_NOT_NULL)))
		st = UTIL_JSON_SYNTAX;
	while (st == UTIL_JSON_OK && end < n && (p[end] == ' ' || p[end] == '\t' ||
						 p[end] == '\n' || p[end] == '\r'))
		end++;
	if (st == UTIL_JSON_OK && end < n) {
		st = UTIL_JSON_TRAILING;
		jp->end = end;
	}
	json_tokener_free(tok);
	if (st != UTIL_JSON_OK)
		json_object_put(obj);
	else
		*out = obj;
	return st;
}

bool util_json_add(struct json_object *o, const char *key,
		   struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(o, key, val) != 0) {
		json_object_put(val);
		return false;
	}
	return true;
}

bool util_json_push(struct json_object *a, struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_array_add(a, val) != 0) {
		json_object_put(val);
		return false;
	}
	return true;
}
