/* Small helpers shared by host and guest: time, ids, file system. */
#ifndef PODVM_UTIL_UTIL_H
#define PODVM_UTIL_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/err.h"

#define UUID_STR_LEN 37  /* 36 chars + NUL */

int64_t util_mono_ms(void);      /* CLOCK_MONOTONIC in ms */
int64_t util_wall_ms(void);      /* CLOCK_REALTIME in ms */

/* Random RFC 4122 version-4 UUID text (getrandom). */
int util_uuid4(char out[UUID_STR_LEN], struct pv_err *err);

/* Remove a tree without following symlinks (openat/unlinkat). Missing is
 * not an error. */
int util_rm_rf(const char *path, struct pv_err *err);

/* mkdir -p with mode for each created component. */
int util_mkdir_p(const char *path, unsigned mode, struct pv_err *err);

/* snprintf that reports truncation as -ENAMETOOLONG. */
int util_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Read a whole small file (NUL-terminated, at most max bytes). */
int util_read_file(const char *path, size_t max, char **out, size_t *len,
		   struct pv_err *err);

/* Absolute form of path (relative to the current directory; the path
 * need not exist): malloc'd, NULL on ENOMEM. Paths reach the VMM, which
 * only takes absolute ones. */
char *util_abspath(const char *path);

/* Standard or URL-safe base64, padding optional, into out (NUL added):
 * -EINVAL on a bad character, -E2BIG when out is too small. */
int util_b64_decode(const char *in, char *out, size_t outlen, size_t *n_out);

/* Write all bytes, retrying on EINTR and short writes (blocking fd). */
int util_write_all(int fd, const void *buf, size_t len);

/* Scope-bound release, as crun's cleanup_free/cleanup_close: a variable
 * declared with one of these is released when it goes out of scope, so a
 * function needs no "out:" label only to free it. Start pointers at NULL
 * and fds at -1; hand ownership on with "p = NULL" / "fd = -1". */
struct json_object;
int json_object_put(struct json_object *obj);   /* json-c */
static inline void util_freep(void *p) { free(*(void **)p); }
static inline void util_closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void util_json_putp(struct json_object **o) { json_object_put(*o); }
#define cleanup_free __attribute__((cleanup(util_freep)))
#define cleanup_close __attribute__((cleanup(util_closep)))
#define cleanup_json __attribute__((cleanup(util_json_putp)))

#endif
