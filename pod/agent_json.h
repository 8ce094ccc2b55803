/* Private to pod/: strict JSON helpers for the agent message codecs. A
 * decoder accepts exactly one JSON object (no NUL, nothing after it,
 * bounded nesting), only known keys, and values of the documented type
 * and range that fit their destination. */
#ifndef PODVM_POD_AGENT_JSON_H
#define PODVM_POD_AGENT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct json_object;

#define AGENT_JSON_DEPTH 8   /* deepest message: POD_DONE = 3 levels */
#define AGENT_SIGNAL_MAX 64

int agent_json_parse(const uint8_t *p, size_t n, const char *what, struct json_object **out, struct pv_err *err);
/* The same with its own nesting limit (POD_SPEC carries a whole Pod). */
int agent_json_parse_depth(const uint8_t *p, size_t n, const char *what, int depth, struct json_object **out, struct pv_err *err);
int agent_json_keys(struct json_object *obj, const char *what, const char *const *known, struct pv_err *err);
int agent_json_int(struct json_object *obj, const char *what, const char *key, int64_t min, int64_t max, bool required, int64_t *out, struct pv_err *err);
int agent_json_str(struct json_object *obj, const char *what, const char *key, bool required, bool nonempty, char *buf, size_t cap, struct pv_err *err);
/* A message's fields as a table: key, type, bounds and where the value
 * goes in the destination struct. AGENT_F_KEY is a known key the caller
 * decodes itself (nested objects, values that depend on another field). */
enum agent_field_kind { AGENT_F_INT = 1, AGENT_F_STR, AGENT_F_BOOL, AGENT_F_KEY };
struct agent_field {
	const char *key;
	enum agent_field_kind kind;
	bool required;
	bool nonempty;            /* STR */
	int64_t min, max;         /* INT */
	size_t off, size;         /* destination: offset, size (STR: capacity) */
};
#define AGENT_FIELD_INT(k, req, lo, hi, T, m) \
	{ k, AGENT_F_INT, req, false, lo, hi, offsetof(T, m), sizeof(((T *)0)->m) }
#define AGENT_FIELD_STR(k, req, ne, T, m) \
	{ k, AGENT_F_STR, req, ne, 0, 0, offsetof(T, m), sizeof(((T *)0)->m) }
#define AGENT_FIELD_BOOL(k, T, m) \
	{ k, AGENT_F_BOOL, false, false, 0, 0, offsetof(T, m), sizeof(((T *)0)->m) }
#define AGENT_FIELD_KEY(k) { k, AGENT_F_KEY, false, false, 0, 0, 0, 0 }
#define AGENT_FIELD_END { NULL, 0, false, false, 0, 0, 0, 0 }

/* Check obj's keys against the table and read every INT/STR/BOOL field
 * into dst (absent optional fields leave dst as it was). */
int agent_json_fields(struct json_object *obj, const char *what,
		      const struct agent_field *f, void *dst, struct pv_err *err);
/* agent_json_parse + agent_json_fields; *out (may be NULL) keeps the
 * object for the caller's AGENT_F_KEY fields. */
int agent_json_decode(const uint8_t *p, size_t n, const char *what,
		      const struct agent_field *f, void *dst,
		      struct json_object **out, struct pv_err *err);

/* Serialise obj (consumed) when ok, else free it and return NULL. */
char *agent_json_finish(struct json_object *obj, bool ok);
bool agent_json_add_str(struct json_object *obj, const char *key, const char *s);
bool agent_json_add_int(struct json_object *obj, const char *key, int64_t v);
int agent_json_bool(struct json_object *o, const char *what, const char *key, bool *out, struct pv_err *err);

#endif
