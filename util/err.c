#include "util/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void strip_newlines(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

int pv_err_set(struct pv_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (errnum <= 0)
		errnum = EINVAL;
	if (err) {
		err->errnum = errnum;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		strip_newlines(err->msg);
	}
	return -errnum;
}

int pv_err_sys(struct pv_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (errnum <= 0)
		errnum = EIO;
	if (err) {
		err->errnum = errnum;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		n = strlen(err->msg);
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(errnum));
		strip_newlines(err->msg);
	}
	return -errnum;
}

void pv_err_prefix(struct pv_err *err, const char *fmt, ...)
{
	char prefix[PV_ERR_MSG_MAX], old[PV_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the message stays one bounded line. */
	{
		size_t n = strnlen(prefix, sizeof(err->msg) - 1);
		memcpy(err->msg, prefix, n);
		if (n + 2 < sizeof(err->msg)) {
			memcpy(err->msg + n, ": ", 2);
			n += 2;
		}
		size_t m = strnlen(old, sizeof(err->msg) - 1 - n);
		memcpy(err->msg + n, old, m);
		err->msg[n + m] = '\0';
	}
	strip_newlines(err->msg);
}

void pv_err_clear(struct pv_err *err)
{
	if (err) {
		err->errnum = 0;
		err->msg[0] = '\0';
	}
}
