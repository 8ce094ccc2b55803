#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t util_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int util_uuid4(char out[UUID_STR_LEN], struct pv_err *err)
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return pv_err_sys(err, errno, "getrandom");
		}
		got += (size_t)n;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);  /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);  /* RFC 4122 variant */
	snprintf(out, UUID_STR_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* Depth-first removal relative to a directory fd; never follows links. */
static int rm_at(int dfd, const char *name, struct pv_err *err, int depth)
{
	struct stat st;
	DIR *d = NULL;
	struct dirent *de;
	int fd = -1, ret = 0;

	if (depth > 64)
		return pv_err_set(err, ELOOP, "%s: tree too deep to remove", name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return pv_err_sys(err, errno, "stat %s", name);
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			return pv_err_sys(err, errno, "unlink %s", name);
		return 0;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "open %s", name);
		goto out;
	}
	d = fdopendir(fd);
	if (!d) {
		ret = pv_err_sys(err, errno, "opendir %s", name);
		goto out;
	}
	fd = -1;  /* owned by d now */
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ret = rm_at(dirfd(d), de->d_name, err, depth + 1);
		if (ret < 0)
			goto out;
	}
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		ret = pv_err_sys(err, errno, "rmdir %s", name);
out:
	if (d)
		closedir(d);
	if (fd >= 0)
		close(fd);
	return ret;
}

int util_rm_rf(const char *path, struct pv_err *err)
{
	return rm_at(AT_FDCWD, path, err, 0);
}

int util_mkdir_p(const char *path, unsigned mode, struct pv_err *err)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return pv_err_set(err, ENAMETOOLONG, "bad directory path");
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, mode) < 0 && errno != EEXIST)
				return pv_err_sys(err, errno, "mkdir %s", buf);
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int util_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int util_read_file(const char *path, size_t max, char **out, size_t *outlen,
		   struct pv_err *err)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, ret = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_err_sys(err, errno, "%s", path);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nb;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= len) {
				ret = pv_err_set(err, EFBIG, "%s: larger than %zu bytes", path, max);
				goto out;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				ret = pv_err_set(err, ENOMEM, "out of memory");
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = pv_err_sys(err, errno, "read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			ret = pv_err_set(err, EFBIG, "%s: larger than %zu bytes", path, max);
			goto out;
		}
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf) {
			ret = pv_err_set(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (outlen)
		*outlen = len;
out:
	free(buf);
	close(fd);
	return ret;
}

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

char *util_abspath(const char *path)
{
	char cwd[4096], *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&out, "%s/%s", cwd, path) < 0)
		return NULL;
	return out;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int util_b64_decode(const char *in, char *out, size_t outlen, size_t *n_out)
{
	uint32_t acc = 0;
	size_t n = 0;
	int bits = 0, v;

	if (outlen == 0)
		return -E2BIG;
	for (; *in && *in != '='; in++) {
		if (*in == '\n' || *in == '\r')
			continue;
		v = b64val((unsigned char)*in);
		if (v < 0)
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= outlen)
				return -E2BIG;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	*n_out = n;
	return 0;
}
