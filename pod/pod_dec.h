/* Building blocks of the Pod decoder (pod_decode.c): error causes with
 * Kubernetes reasons, field paths, and typed, bounded field readers. Each
 * reader records what is wrong and lets the caller go on, so one decode
 * reports every problem. Private to pod/. */
#ifndef PODVM_POD_POD_DEC_H
#define PODVM_POD_POD_DEC_H

#include <stdbool.h>
#include <stddef.h>

#include "pod/pod.h"

struct json_object;

#define R_REQUIRED  "FieldValueRequired"
#define R_INVALID   "FieldValueInvalid"
#define R_UNSUPP    "FieldValueNotSupported"
#define R_DUP       "FieldValueDuplicate"
#define R_FORBIDDEN "FieldValueForbidden"
#define R_TOOLONG   "FieldValueTooLong"

#define POD_PATH_MAX 256   /* = sizeof(struct pod_cause.field) */

struct pod_dec {
	struct pod_causes *causes;  /* never NULL */
	struct pv_err *err;
	size_t n_errors;
	bool oom;
};

/* Record a cause; the first one also goes to d->err as "path: msg". */
void pod_dec_fail(struct pod_dec *d, const char *path, const char *reason,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void pod_dec_unknown(struct pod_dec *d, const char *path);
void pod_dec_invalid(struct pod_dec *d, const char *path, const char *val,
		     const char *why);
void pod_dec_too_many(struct pod_dec *d, const char *path, size_t n,
		      size_t max);

/* "parent.key" / "parent[i]" into buf[POD_PATH_MAX], cut with "...". */
void pod_dec_path(char *buf, const char *parent, const char *key);
void pod_dec_path_idx(char *buf, const char *parent, size_t i);

/* JSON null: the field counts as not given. */
bool pod_dec_is_null(struct json_object *v);
/* strdup that sets d->oom on failure. */
char *pod_dec_strdup(struct pod_dec *d, const char *s);

/* A string of at most max bytes without NULs (owned by v), or NULL once
 * the problem is recorded; type_msg is the wrong-type message. */
const char *pod_dec_str_check(struct pod_dec *d, const char *path,
			      struct json_object *v, size_t max,
			      const char *type_msg);
const char *pod_dec_str(struct pod_dec *d, const char *path,
			struct json_object *v, size_t max);
/* Index of v in the NULL-terminated vals, or -1 (NotSupported recorded). */
int pod_dec_enum(struct pod_dec *d, const char *path, struct json_object *v,
		 const char *const *vals);
bool pod_dec_bool(struct pod_dec *d, const char *path, struct json_object *v,
		  bool *out);
/* command / args: *budget is what is left of POD_MAX_ARGS. */
void pod_dec_strv(struct pod_dec *d, const char *path, struct json_object *v,
		  size_t *budget, char ***out, size_t *n_out, bool *has);
/* labels (values checked as label values) or annotations. */
void pod_dec_kv(struct pod_dec *d, const char *path, struct json_object *v,
		bool is_labels, struct pod_kv **out, size_t *n_out);

#endif
