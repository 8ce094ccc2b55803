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
int agent_json_keys(struct json_object *obj, const char *what, const char *const *known, struct pv_err *err);
int agent_json_int(struct json_object *obj, const char *what, const char *key, int64_t min, int64_t max, bool required, int64_t *out, struct pv_err *err);
int agent_json_str(struct json_object *obj, const char *what, const char *key, bool required, bool nonempty, char *buf, size_t cap, struct pv_err *err);
/* Serialise obj (consumed) when ok, else free it and return NULL. */
char *agent_json_finish(struct json_object *obj, bool ok);
bool agent_json_add(struct json_object *obj, const char *key, struct json_object *val);
bool agent_json_add_str(struct json_object *obj, const char *key, const char *s);
bool agent_json_add_int(struct json_object *obj, const char *key, int64_t v);
int agent_json_bool(struct json_object *o, const char *what, const char *key, bool *out, struct pv_err *err);

#endif
