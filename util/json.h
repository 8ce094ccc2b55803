/* JSON helpers shared by every codec: bounded parsing, the one tokenizer
 * loop behind every parser of a whole JSON document in the tree (agent
 * messages, manifests, pods, STATS, the CLI's responses; each caller words
 * its own errors from the status), and adding to objects and arrays. */
#ifndef PODVM_UTIL_JSON_H
#define PODVM_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

enum util_json_status {
	UTIL_JSON_OK = 0,
	UTIL_JSON_NOMEM,       /* no tokenizer */
	UTIL_JSON_TRUNCATED,   /* the input ends inside the document */
	UTIL_JSON_SYNTAX,      /* detail: json-c's words; end: where it stopped */
	UTIL_JSON_TRAILING,    /* end: the first byte after the document that
				* is not whitespace (a NUL byte is not) */
};

#define UTIL_JSON_NOT_NULL 0x1   /* a bare null is a SYNTAX error */

struct util_json_parse {
	int depth;                  /* nesting bound */
	int tok_flags;              /* json-c tokener flags (JSON_TOKENER_*) */
	unsigned flags;             /* UTIL_JSON_* */
	const char *detail;         /* out: json-c's description */
	size_t end;                 /* out: see the status */
};

/* One JSON document from p[0..n) (n at most INT32_MAX); *out on
 * UTIL_JSON_OK (NULL for a bare null), else NULL. */
enum util_json_status util_json_parse(struct util_json_parse *jp,
				      const char *p, size_t n,
				      struct json_object **out);

/* Add val under key / append val to the array a. val is consumed either
 * way (json-c keeps it on success, it is dropped on failure); NULL is a
 * failed allocation upstream. */
bool util_json_add(struct json_object *o, const char *key,
		   struct json_object *val);
bool util_json_push(struct json_object *a, struct json_object *val);

#endif
