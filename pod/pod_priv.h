/* Helpers shared by the pod/ sources; not part of the public model. */
#ifndef PODVM_POD_POD_PRIV_H
#define PODVM_POD_POD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* json_tokener nesting limit: a Pod is at most ~6 levels deep, and a low
 * limit keeps hostile input from costing stack in json-c. */
#define POD_JSON_MAX_DEPTH 32
/* Largest JSON text pod_decode_json / runtime parsing will look at. */
#define POD_JSON_MAX_LEN   (8u * 1024 * 1024)

/* Write s into buf as a double-quoted string, escaping quotes, backslashes
 * and non-printable bytes (\xNN), cut after about 64 characters ("...").
 * Messages quote hostile values with it. */
void pod_quote(char *buf, size_t n, const char *s);

/* Copy src into dst[n], cutting it when too long (for fixed-size
 * message fields where a cut is acceptable). */
void pod_copy(char *dst, size_t n, const char *src);

/* Kubernetes qualified name (label and annotation keys). On false, *why
 * is the apimachinery message. */
bool pod_is_label_key(const char *s, const char **why);
/* Label value: empty, or <= 63 of [A-Za-z0-9._-] starting/ending alnum. */
bool pod_is_label_value(const char *s);

/* Quantity text scaled by 10^unit10 (3: millicores, 0: bytes), rounded
 * up; *exact (may be NULL) is false when rounding happened. -EINVAL on
 * bad syntax, -ERANGE when negative or beyond int64 (quantity.c). */
int pod_quantity_parse(const char *s, int unit10, int64_t *out, bool *exact);
/* Canonical text for a quantity ("500m", "2"; "3Gi", "1G", "100"), the
 * form pod_to_json writes; buf of at least 32 bytes. */
void pod_format_cpu(char *buf, size_t n, int64_t millicores);
void pod_format_memory(char *buf, size_t n, int64_t bytes);

/* Encoder pieces shared by pod_encode.c and pod_enc_container.c. Each
 * returns NULL / false on ENOMEM; util_json_add consumes val either way. */
struct json_object;
struct pod_container;
struct pod_security;
struct pv_err;
struct pod_kv;
bool pod_enc_str(struct json_object *o, const char *key, const char *s);
struct json_object *pod_enc_strv(char *const *v, size_t n);
struct json_object *pod_enc_kv(const struct pod_kv *kv, size_t n);
struct json_object *pod_enc_container(const struct pod_container *c);
struct json_object *pod_enc_security(const struct pod_security *s,
				     bool pod_level);

#define POD_MSG_SUBDOMAIN "a lowercase RFC 1123 subdomain must consist of " \
	"lower case alphanumeric characters, '-' or '.', and must start and " \
	"end with an alphanumeric character"
#define POD_MSG_LABEL "a lowercase RFC 1123 label must consist of lower " \
	"case alphanumeric characters or '-', and must start and end with an " \
	"alphanumeric character"
#define POD_MSG_ENV "a valid environment variable name must consist of " \
	"alphabetic characters, digits, '_', '-', or '.', and must not start " \
	"with a digit"
#define POD_MSG_LABEL_VALUE "a valid label must be an empty string or " \
	"consist of alphanumeric characters, '-', '_' or '.', and must start " \
	"and end with an alphanumeric character"

#endif
