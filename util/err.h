/* One error idiom for all of podvm (after crun's libcrun_error_t):
 * a function that can fail returns a negative errno and, when the caller
 * passed an error out-parameter, fills it with a one-line message that
 * names the problem.  pv_err_set() returns the negative errno so that
 * "return pv_err_set(err, EINVAL, ...);" is the usual way out. */
#ifndef PODVM_UTIL_ERR_H
#define PODVM_UTIL_ERR_H

#include <stddef.h>

#define PV_ERR_MSG_MAX 1024

struct pv_err {
	int errnum;                 /* positive errno, 0 when no error */
	char msg[PV_ERR_MSG_MAX];   /* one line, no trailing newline */
};

/* Fill err (may be NULL) and return -errnum (-EINVAL when errnum is 0). */
int pv_err_set(struct pv_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like pv_err_set, appending ": strerror(errnum)". */
int pv_err_sys(struct pv_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "prefix: old message". */
void pv_err_prefix(struct pv_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void pv_err_clear(struct pv_err *err);

#endif
