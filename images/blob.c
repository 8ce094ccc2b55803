/* Content-addressed blobs: sha256 digests, bounded reads that verify a
 * blob against its name, atomic writes, and lock files. */
#include "images/store_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include "util/util.h"
#include <openssl/evp.h>

int image_digest_valid(const char *digest)
{
	size_t i;

	if (!digest || strncmp(digest, "sha256:", 7) != 0)
		return 0;
	for (i = 7; digest[i]; i++)
		if (!((digest[i] >= '0' && digest[i] <= '9') ||
		      (digest[i] >= 'a' && digest[i] <= 'f')))
			return 0;
	return i == 7 + 64;
}

int image_path(char *buf, size_t len, struct pv_err *err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return pv_err_set(err, ENAMETOOLONG, "path too long: %.64s...", buf);
	return 0;
}

int image_blob_path(const struct image_store *s, const char *digest,
		    char *buf, size_t len, struct pv_err *err)
{
	if (!image_digest_valid(digest))
		return pv_err_set(err, EINVAL, "invalid digest '%.80s'",
				  digest ? digest : "");
	return image_path(buf, len, err, "%s/blobs/sha256/%s", s->root,
			  digest + 7);
}

int image_sha256_digest(const void *data, size_t len,
			char out[IMAGE_DIGEST_MAX], struct pv_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return pv_err_set(err, EIO, "sha256 failed");
	memcpy(out, "sha256:", 7);
	for (i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int image_read_file(const char *path, size_t max, char **out, size_t *outlen,
		    struct pv_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd = -1, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "open %s", path);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		ret = pv_err_sys(err, errno, "stat %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = pv_err_set(err, EINVAL, "%s is not a regular file", path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		ret = pv_err_set(err, EFBIG, "%s is too large (%lld bytes, limit %zu)",
				 path, (long long)st.st_size, max);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = pv_err_set(err, ENOMEM, "out of memory reading %s", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = pv_err_sys(err, errno, "read %s", path);
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*outlen = got;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

int image_blob_read(const struct image_store *s, const char *digest,
		    size_t max, char **out, size_t *outlen, struct pv_err *err)
{
	char path[IMAGE_PATH_MAX], actual[IMAGE_DIGEST_MAX];
	char *buf = NULL;
	size_t len = 0;
	int ret;

	ret = image_blob_path(s, digest, path, sizeof(path), err);
	if (ret < 0)
		goto out;
	ret = image_read_file(path, max, &buf, &len, err);
	if (ret < 0)
		goto out;
	ret = image_sha256_digest(buf, len, actual, err);
	if (ret < 0)
		goto out;
	/* Never trust a blob whose content does not match its name. */
	if (strcmp(actual, digest) != 0) {
		ret = pv_err_set(err, EBADMSG,
				 "blob %s is corrupt: its content hashes to %s",
				 digest, actual);
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
out:
	free(buf);
	return ret;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int image_write_atomic(const char *path, const void *data, size_t len,
		       struct pv_err *err)
{
	char tmp[IMAGE_PATH_MAX];
	int fd = -1, ret, created = 0;

	ret = image_path(tmp, sizeof(tmp), err, "%s.tmp.%s.XXXXXX", path, image_tmp_owner());
	if (ret < 0)
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = pv_err_sys(err, errno, "create %s", tmp);
		goto out;
	}
	created = 1;
	if (fchmod(fd, 0644) < 0) {
		ret = pv_err_sys(err, errno, "chmod %s", tmp);
		goto out;
	}
	ret = write_all(fd, data, len);
	if (ret < 0) {
		ret = pv_err_sys(err, -ret, "write %s", tmp);
		goto out;
	}
	if (fsync(fd) < 0) {
		ret = pv_err_sys(err, errno, "fsync %s", tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		ret = pv_err_sys(err, errno, "rename %s to %s", tmp, path);
		goto out;
	}
	created = 0;
	/* The rename itself must survive a crash (index.json above all). */
	ret = image_fsync_parent(path, err);
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	return ret;
}

int image_blob_write(const struct image_store *s, const void *data,
		     size_t len, char digest_out[IMAGE_DIGEST_MAX],
		     struct pv_err *err)
{
	char path[IMAGE_PATH_MAX];
	int ret;

	ret = image_sha256_digest(data, len, digest_out, err);
	if (ret < 0)
		return ret;
	ret = image_blob_path(s, digest_out, path, sizeof(path), err);
	if (ret < 0)
		return ret;
	/* Same name, same content: an existing blob is already right. */
	if (access(path, F_OK) == 0)
		return 0;
	return image_write_atomic(path, data, len, err);
}

int image_lock(const char *path, int *fd_out, struct pv_err *err)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return pv_err_sys(err, errno, "open lock %s", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;

			close(fd);
			return pv_err_sys(err, e, "lock %s", path);
		}
	}
	*fd_out = fd;
	return 0;
}

const char *image_json_str(struct json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

const char *image_tmp_owner(void)
{
	static __thread char tag[48];
	char *stat = NULL, *p;
	unsigned long long start = 0;

	if (tag[0])
		return tag;
	/* Field 22 of /proc/self/stat: start time, after the ")" of comm. */
	if (util_read_file("/proc/self/stat", 4096, &stat, NULL, NULL) == 0 &&
	    (p = strrchr(stat, ')'))) {
		int field = 2;

		for (p++; *p && field < 22; p++)
			if (*p == ' ')
				field++;
		start = strtoull(p, NULL, 10);
	}
	free(stat);
	snprintf(tag, sizeof(tag), "p%d-%llu", (int)getpid(), start);
	return tag;
}

/* "...p<PID>-<START>..." in name: is that process still the one alive? */
int image_tmp_owner_alive(const char *name)
{
	const char *p = strstr(name, ".p");
	char want[48], path[64];
	char *stat = NULL, *q;
	unsigned long long start;
	int pid, field = 2, alive = 0;

	p = p ? p + 1 : (name[0] == 'p' ? name : NULL);
	if (!p || sscanf(p, "p%d-%llu", &pid, &start) != 2 || pid <= 0)
		return -1;   /* no owner tag */
	snprintf(want, sizeof(want), "p%d-%llu", pid, start);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (util_read_file(path, 4096, &stat, NULL, NULL) < 0)
		return 0;
	q = strrchr(stat, ')');
	if (q) {
		for (q++; *q && field < 22; q++)
			if (*q == ' ')
				field++;
		alive = strtoull(q, NULL, 10) == start;
	}
	free(stat);
	return alive;
}

int image_fsync_parent(const char *path, struct pv_err *err)
{
	char dir[IMAGE_PATH_MAX];
	char *slash;
	int fd, ret = 0;

	if (image_path(dir, sizeof(dir), err, "%s", path) < 0)
		return -ENAMETOOLONG;
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pv_err_sys(err, errno, "open %s", dir);
	if (fsync(fd) < 0)
		ret = pv_err_sys(err, errno, "fsync %s", dir);
	close(fd);
	return ret;
}
