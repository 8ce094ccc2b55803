/* Building blocks of the Pod decoder (pod_decode.c): error causes with
 * Kubernetes reasons, field paths, and typed, bounded field readers. Each
 * reader records what is wrong and lets the caller go on, so one decode
 * reports every problem. Private to pod/. */
#ifndef PODVM_POD_POD_DEC_H
#define PODVM_POD_POD_DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json_object_iterator.h>

#include "pod/pod.h"

struct json_object;

#define R_REQUIRED  "FieldValueRequired"
#define R_INVALID   "FieldValueInvalid"
#define R_UNSUPP    "FieldValueNotSupported"
#define R_DUP       "FieldValueDuplicate"
#define R_FORBIDDEN "FieldValueForbidden"
#define R_TOOLONG   "FieldValueTooLong"
#define R_NOTFOUND  "FieldValueNotFound"

/* Bounds for lists the model leaves open (Kubernetes has none). */
#define POD_MAX_VOLUMES  64   /* spec.volumes */
#define POD_MAX_PORTS    64   /* per container */
#define POD_MAX_MOUNTS   64   /* per container */
#define POD_MAX_CAPS     64   /* capabilities.add / drop */
#define POD_MAX_GROUPS   32   /* supplementalGroups */
#define POD_MAX_HEADERS  32   /* httpGet.httpHeaders */
#define POD_QTY_MAX      64   /* quantity text */

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

/* The prologue of every list field: v must be null (not given) or a JSON
 * array (else type_msg is recorded) of at most max elements (else "Too
 * many"). Returns a calloc'd block of n + extra elements of size bytes
 * with *n set, or NULL with *n = 0 when there is nothing to decode or a
 * problem was recorded (d->oom on allocation failure). */
void *pod_dec_array(struct pod_dec *d, const char *path, struct json_object *v,
		    const char *type_msg, size_t max, size_t size, size_t extra,
		    size_t *n);

/* An object's fields as a table: each known key with the id the decoder
 * switches on. A field's null value counts as "not given" (skipped)
 * unless POD_DEC_NULL is set. The table ends with POD_DEC_END, where a
 * key not in the table is recorded as unknown, or with POD_DEC_OTHER(id),
 * where it comes back with that id (null or not) for the decoder to judge. */
#define POD_DEC_NULL 0x1u
struct pod_dec_field {
	const char *key;
	int id;
	unsigned flags;
};
#define POD_DEC_END        { NULL, -1, 0 }
#define POD_DEC_OTHER(id)  { NULL, id, 0 }

/* Walks an object's fields in its own order (so causes come in the order
 * of the document):
 *
 *	struct pod_dec_it it;
 *
 *	pod_dec_it_init(&it, d, path, v, fields);
 *	while (pod_dec_it_next(&it))
 *		switch (it.id) { case F_NAME: ... it.path, it.v ... }
 */
struct pod_dec_it {
	struct pod_dec *d;
	const char *parent;
	const struct pod_dec_field *fields;
	struct json_object_iterator cur, end;
	const char *key;             /* the field returned */
	struct json_object *v;       /* its value */
	int id;                      /* its id in the table */
	char path[POD_PATH_MAX];     /* its path */
};
/* False (nothing to walk; "expected object" recorded) when v is not an
 * object. */
bool pod_dec_it_init(struct pod_dec_it *it, struct pod_dec *d,
		     const char *path, struct json_object *v,
		     const struct pod_dec_field *fields);
/* The next field to decode, or false at the end. */
bool pod_dec_it_next(struct pod_dec_it *it);

/* A list of objects as a table: its bound, its element and the function
 * that decodes one, and the field whose value must not repeat. */
typedef void pod_dec_elem_fn(struct pod_dec *d, const char *path,
			     struct json_object *v, void *elem);
struct pod_dec_list {
	size_t max, size;            /* at most max elements of size bytes */
	pod_dec_elem_fn *elem;       /* decodes "path[i]" into element i */
	const char *unique;          /* its key, NULL: none */
	size_t unique_off;           /* where its char * is in the element */
	bool unique_invalid;         /* a repeat is Invalid "must be unique"
					(else Duplicate value) */
};
/* pod_dec_array ("expected array of objects"), then each element; the
 * elements (NULL when none) with *n set. */
void *pod_dec_list(struct pod_dec *d, const char *path, struct json_object *v,
		   const struct pod_dec_list *l, size_t *n);

/* Whether element i of arr (elements of size bytes) has a string at off
 * (char *, NULL: none) that an earlier element has too: duplicate names. */
bool pod_dec_repeats(const void *arr, size_t size, size_t off, size_t i);

/* "parent.key" / "parent[i]" into buf[POD_PATH_MAX], cut with "...". */
void pod_dec_path(char *buf, const char *parent, const char *key);
void pod_dec_path_idx(char *buf, const char *parent, size_t i);
/* "parent[key]": a map entry (resources.limits[cpu]). */
void pod_dec_path_key(char *buf, const char *parent, const char *key);

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

/* "not supported: why" (FieldValueNotSupported): a Kubernetes field
 * podvm refuses. */
void pod_dec_unsupp(struct pod_dec *d, const char *path, const char *why);
/* An object, else "expected object" is recorded. */
bool pod_dec_obj(struct pod_dec *d, const char *path, struct json_object *v);
/* An integer in [min, max], else Kubernetes' range message. */
bool pod_dec_int(struct pod_dec *d, const char *path, struct json_object *v,
		 int64_t min, int64_t max, int64_t *out);
/* A quantity (string or JSON number): millicores when cpu, else bytes,
 * rounded up; negative or beyond int64 is Invalid. */
bool pod_dec_quantity(struct pod_dec *d, const char *path,
		      struct json_object *v, bool cpu, int64_t *out);
/* The text of a quantity given as string or number (num: n bytes of
 * scratch), or NULL once a wrong type is recorded. */
const char *pod_dec_qty_text(struct pod_dec *d, const char *path,
			     struct json_object *v, char *num, size_t n);
/* IANA_SVC_NAME (named ports); on false *why is the apimachinery text. */
bool pod_is_port_name(const char *s, const char **why);
/* An absolute path without control characters. */
bool pod_is_abs_path(const char *s);
/* Whether s has ".." as a path component. */
bool pod_has_dotdot(const char *s);

/* Parts of the decoder, one per file. */
void pod_dec_container(struct pod_dec *d, const char *cpath,
		       struct json_object *o, struct pod_container *c,
		       bool is_init);
void pod_dec_env(struct pod_dec *d, const char *path, struct json_object *v,
		 struct pod_container *c);
enum pod_dec_probe_use { POD_DEC_LIVENESS, POD_DEC_READINESS,
			 POD_DEC_STARTUP, POD_DEC_HANDLER };
void pod_dec_probe(struct pod_dec *d, const char *path, struct json_object *v,
		   struct pod_probe *p, enum pod_dec_probe_use use);
void pod_dec_lifecycle(struct pod_dec *d, const char *path,
		       struct json_object *v, struct pod_container *c);
void pod_dec_security(struct pod_dec *d, const char *path,
		      struct json_object *v, struct pod_security *s,
		      bool pod_level);
void pod_dec_volumes(struct pod_dec *d, const char *path,
		     struct json_object *v, struct pod *pod);
/* Checks across the whole pod once every part decoded cleanly: names
 * unique over initContainers and containers, volumeMounts naming a
 * volume, resourceFieldRef naming a container. */
void pod_dec_cross_check(struct pod_dec *d, const struct pod *pod);
/* Frees what the model structs own (pod.c). */
void pod_probe_clear(struct pod_probe *p);
void pod_security_clear(struct pod_security *s);
void pod_env_clear(struct pod_env *e);
void pod_container_clear(struct pod_container *c);

#endif
