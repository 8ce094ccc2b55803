/* Image store (images/): reference normalisation, import/resolve round
 * trip, digest verification, erofs cache, and hostile layers. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>

#include "images/layer.h"
#include "images/store.h"

/* ---- helpers ------------------------------------------------------------ */

struct tmp {
	char dir[64];
};

static void tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/podvm-test-store.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
}

static void tmp_path(const struct tmp *t, const char *rel, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s", t->dir, rel);

	assert_true(n > 0 && (size_t)n < len);
}

static void tmp_rm(struct tmp *t)
{
	assert_int_equal(layer_remove_tree(t->dir, NULL), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int exists(const struct tmp *t, const char *rel)
{
	char p[512];
	struct stat st;

	tmp_path(t, rel, p, sizeof(p));
	return lstat(p, &st) == 0;
}

/* One entry of a hand-made layer. */
struct ent {
	const char *name;
	mode_t type;            /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR */
	const char *data;       /* file content or symlink target */
	const char *hardlink;   /* for hard links */
	mode_t mode;
	int uid, gid;
};

static void make_layer(const char *path, const struct ent *ents, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	size_t i;

	assert_non_null(a);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, ents[i].name);
		archive_entry_set_perm(e, ents[i].mode ? ents[i].mode : 0644);
		archive_entry_set_uid(e, ents[i].uid);
		archive_entry_set_gid(e, ents[i].gid);
		archive_entry_set_mtime(e, 1000000000, 0);
		if (ents[i].hardlink) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, ents[i].hardlink);
		} else {
			archive_entry_set_filetype(e, ents[i].type);
		}
		if (ents[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, ents[i].data);
		if (ents[i].type == AE_IFCHR)
			archive_entry_set_rdev(e, makedev(1, 3));
		if (ents[i].type == AE_IFREG && ents[i].data && !ents[i].hardlink)
			archive_entry_set_size(e, (la_int64_t)strlen(ents[i].data));
		assert_true(archive_write_header(a, e) >= ARCHIVE_WARN);
		if (ents[i].type == AE_IFREG && ents[i].data && !ents[i].hardlink)
			archive_write_data(a, ents[i].data, strlen(ents[i].data));
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static int unpack(const struct tmp *t, const struct ent *ents, size_t n,
		  struct layer_usage *u, struct pv_err *err)
{
	struct layer_limits lim = { LAYER_MAX_BYTES, LAYER_MAX_ENTRIES };
	char layer[512], root[512];

	tmp_path(t, "layer.tar.gz", layer, sizeof(layer));
	tmp_path(t, "root", root, sizeof(root));
	mkdir(root, 0755);
	make_layer(layer, ents, n);
	return layer_unpack(layer, root, &lim, u, err);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- references --------------------------------------------------------- */

static void test_ref_normalize(void **state)
{
	static const char *const ok[][2] = {
		{ "busybox", "docker.io/library/busybox:latest" },
		{ "busybox:1.36", "docker.io/library/busybox:1.36" },
		{ "library/busybox", "docker.io/library/busybox:latest" },
		{ "foo/bar:1", "docker.io/foo/bar:1" },
		{ "docker.io/busybox", "docker.io/library/busybox:latest" },
		{ "index.docker.io/busybox", "docker.io/library/busybox:latest" },
		{ "index.docker.io/foo/bar", "docker.io/foo/bar:latest" },
		{ "quay.io/coreos/etcd:v3.5", "quay.io/coreos/etcd:v3.5" },
		{ "localhost/app", "localhost/app:latest" },
		{ "localhost:5000/app:dev", "localhost:5000/app:dev" },
		{ "reg:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "reg:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ "busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		  "docker.io/library/busybox:1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ "a-b__c/e---f.g", "docker.io/a-b__c/e---f.g:latest" },
		{ "podvm.io/test/entrypoint", "podvm.io/test/entrypoint:latest" },
		{ "Example.com/app", "Example.com/app:latest" },
	};
	static const char *const bad[] = {
		"", "Busybox", "busybox:", ":tag", "busybox@sha256:123", "foo//bar",
		"-foo", "foo-", "foo/Bar", "busybox:-x", "a/b/../c", "reg:/x",
		"foo bar", "busybox@md5:0123", "a_b.c/x",
	};
	char out[IMAGE_REF_MAX];
	struct pv_err err;
	size_t i;

	(void)state;
	for (i = 0; i < N(ok); i++) {
		if (image_ref_normalize(ok[i][0], out, sizeof(out), &err) < 0)
			fail_msg("'%s': %s", ok[i][0], err.msg);
		assert_string_equal(out, ok[i][1]);
	}
	for (i = 0; i < N(bad); i++) {
		if (image_ref_normalize(bad[i], out, sizeof(out), &err) != -EINVAL)
			fail_msg("'%s' was accepted as '%s'", bad[i], out);
		assert_true(err.msg[0] != '\0');
	}
	assert_int_equal(image_ref_normalize("Busybox", out, sizeof(out), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "lowercase"));
	assert_int_equal(image_ref_normalize("busybox", out, 10, &err), -ENAMETOOLONG);
}

/* ---- import / resolve / erofs ------------------------------------------ */

static void make_rootfs(const struct tmp *t)
{
	char p[512];

	tmp_path(t, "rootfs", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	tmp_path(t, "rootfs/bin", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	tmp_path(t, "rootfs/bin/hello", p, sizeof(p));
	write_file(p, "#!/bin/sh\necho hi\n", 0755);
	assert_int_equal(chown(p, 1234, 5678), 0);
	tmp_path(t, "rootfs/bin/hello2", p, sizeof(p));
	{
		char src[512];

		tmp_path(t, "rootfs/bin/hello", src, sizeof(src));
		assert_int_equal(link(src, p), 0);
	}
	tmp_path(t, "rootfs/bin/sh", p, sizeof(p));
	assert_int_equal(symlink("hello", p), 0);
	tmp_path(t, "rootfs/tmp", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chmod(p, 01777), 0);
}

/* erofs: built once, then cached (same inode and mtime), no leftovers. */
static void expect_erofs_cached(struct image_store *s, struct image *img,
				struct tmp *tp)
{
	char path[4096], tmpd[512];
	struct stat st1, st2;
	struct pv_err err;
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (image_store_erofs(s, img, path, sizeof(path), &err) < 0)
		fail_msg("erofs: %s", err.msg);
	assert_int_equal(stat(path, &st1), 0);
	assert_true(st1.st_size > 0);
	sleep(1);
	assert_int_equal(image_store_erofs(s, img, path, sizeof(path), &err), 0);
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_int_equal(st1.st_mtime, st2.st_mtime);
	tmp_path(tp, "state/images/tmp", tmpd, sizeof(tmpd));
	d = opendir(tmpd);
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	assert_int_equal(n, 0);
}

/* Corrupt the manifest: resolve refuses it, naming the blob. Frees img. */
static void expect_corrupt_refused(struct image_store *s, struct image *img,
				   struct tmp *tp)
{
	char p[512], blob[600];
	struct pv_err err;
	int fd;

	tmp_path(tp, "state/images/blobs/sha256/", p, sizeof(p));
	image_free(img);
	img = NULL;
	assert_int_equal(image_store_resolve(s, "example.com/t/app:1", &img, &err), 0);
	snprintf(blob, sizeof(blob), "%s%s", p, img->manifest_digest + 7);
	fd = open(blob, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, " ", 1), 1);
	close(fd);
	image_free(img);
	img = NULL;
	assert_true(image_store_resolve(s, "example.com/t/app:1", &img, &err) < 0);
	assert_null(img);
	assert_non_null(strstr(err.msg, "corrupt"));
}

static void test_import_resolve(void **state)
{
	char *ep[] = { "/bin/hello", NULL }, *cmd[] = { "a", "b c", NULL };
	char *env[] = { "PATH=/bin", "X=1=2", NULL };
	struct image_config cfg = {
		.entrypoint = ep, .n_entrypoint = 1, .cmd = cmd, .n_cmd = 2,
		.env = env, .n_env = 2, .working_dir = "/tmp", .user = "1000:1000",
	};
	struct image_store *s = NULL;
	struct image *img = NULL, *img2 = NULL;
	char state_dir[512], p[512];
	struct pv_err err;
	struct tmp t;
	FILE *fp;

	(void)state;
	tmp_make(&t);
	make_rootfs(&t);
	tmp_path(&t, "state", state_dir, sizeof(state_dir));
	assert_int_equal(image_store_open(state_dir, &s, &err), 0);
	tmp_path(&t, "rootfs", p, sizeof(p));
	if (image_store_import_dir(s, p, "example.com/t/app:1", &cfg, &err) < 0)
		fail_msg("import: %s", err.msg);

	if (image_store_resolve(s, "example.com/t/app:1", &img, &err) < 0)
		fail_msg("resolve: %s", err.msg);
	assert_string_equal(img->ref, "example.com/t/app:1");
	assert_int_equal(strlen(img->manifest_digest), 71);
	assert_int_equal(img->config.n_entrypoint, 1);
	assert_string_equal(img->config.entrypoint[0], "/bin/hello");
	assert_int_equal(img->config.n_cmd, 2);
	assert_string_equal(img->config.cmd[1], "b c");
	assert_int_equal(img->config.n_env, 2);
	assert_string_equal(img->config.env[1], "X=1=2");
	assert_string_equal(img->config.working_dir, "/tmp");
	assert_string_equal(img->config.user, "1000:1000");

	/* By digest, and unknown refs. */
	assert_int_equal(image_store_resolve(s, img->manifest_digest, &img2, &err), 0);
	assert_string_equal(img2->ref, "example.com/t/app:1");
	image_free(img2);
	img2 = NULL;
	assert_int_equal(image_store_resolve(s, "nope", &img2, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "docker.io/library/nope:latest"));

	/* ls */
	fp = tmpfile();
	assert_non_null(fp);
	assert_int_equal(image_store_list(s, fp, &err), 0);
	rewind(fp);
	assert_non_null(fgets(p, sizeof(p), fp));
	assert_true(strncmp(p, "example.com/t/app:1 sha256:", 27) == 0);
	fclose(fp);

	expect_erofs_cached(s, img, &t);

	/* Re-import with the same ref replaces the index entry. */
	cfg.n_cmd = 1;
	tmp_path(&t, "rootfs", p, sizeof(p));
	assert_int_equal(image_store_import_dir(s, p, "example.com/t/app:1", &cfg, &err), 0);
	assert_int_equal(image_store_resolve(s, "example.com/t/app:1", &img2, &err), 0);
	assert_int_equal(img2->config.n_cmd, 1);
	image_free(img2);
	img2 = NULL;
	fp = tmpfile();
	assert_int_equal(image_store_list(s, fp, &err), 0);
	rewind(fp);
	assert_non_null(fgets(p, sizeof(p), fp));
	assert_null(fgets(p, sizeof(p), fp));
	fclose(fp);

	expect_corrupt_refused(s, img, &t);
	image_store_close(s);
	tmp_rm(&t);
}

static void test_empty_image(void **state)
{
	/* An empty rootfs and no config at all still make an image. */
	struct image_store *s = NULL;
	struct image *img = NULL;
	char p[512], path[4096], state_dir[512];
	struct image_config cfg = { 0 };
	struct pv_err err;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	tmp_path(&t, "rootfs", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	tmp_path(&t, "state", state_dir, sizeof(state_dir));
	assert_int_equal(image_store_open(state_dir, &s, &err), 0);
	assert_int_equal(image_store_import_dir(s, p, "empty", &cfg, &err), 0);
	assert_int_equal(image_store_resolve(s, "empty", &img, &err), 0);
	assert_null(img->config.cmd);
	assert_int_equal(image_store_erofs(s, img, path, sizeof(path), &err), 0);
	image_free(img);
	image_store_close(s);
	tmp_rm(&t);
}

/* ---- hostile layers ----------------------------------------------------- */

static void test_layer_dotdot(void **state)
{
	struct ent ents[] = { { "../evil", AE_IFREG, "x", NULL, 0644, 0, 0 } };
	struct layer_usage u = { 0 };
	struct pv_err err;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	assert_int_equal(unpack(&t, ents, 1, &u, &err), -EPERM);
	assert_non_null(strstr(err.msg, "'..' refused"));
	assert_false(exists(&t, "evil"));
	tmp_rm(&t);
}

static void test_layer_absolute(void **state)
{
	struct ent ents[] = { { "/abs", AE_IFREG, "x", NULL, 0644, 0, 0 } };
	struct layer_usage u = { 0 };
	struct pv_err err;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	assert_int_equal(unpack(&t, ents, 1, &u, &err), -EPERM);
	assert_non_null(strstr(err.msg, "absolute"));
	assert_false(exists(&t, "root/abs"));
	tmp_rm(&t);
}

static void test_layer_symlink_escape(void **state)
{
	char victim[512], target[600];
	struct layer_usage u = { 0 };
	struct pv_err err;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	/* "link" points at a directory outside the root. */
	tmp_path(&t, "outside", victim, sizeof(victim));
	assert_int_equal(mkdir(victim, 0755), 0);
	snprintf(target, sizeof(target), "%s/passwd", victim);
	write_file(target, "host\n", 0644);
	{
		struct ent ents[] = {
			{ "link", AE_IFLNK, victim, NULL, 0777, 0, 0 },
			{ "link/passwd", AE_IFREG, "pwned\n", NULL, 0644, 0, 0 },
		};

		assert_int_equal(unpack(&t, ents, N(ents), &u, &err), -EPERM);
		assert_non_null(strstr(err.msg, "symlink"));
	}
	{
		/* A hard link through the symlink would pull in a host file. */
		struct ent ents[] = {
			{ "stolen", AE_IFREG, NULL, "link/passwd", 0644, 0, 0 },
		};

		assert_int_equal(unpack(&t, ents, N(ents), &u, &err), -EPERM);
		assert_false(exists(&t, "root/stolen"));
	}
	{
		/* A whiteout through the symlink must not delete the host file. */
		struct ent ents[] = {
			{ "link/.wh.passwd", AE_IFREG, "", NULL, 0644, 0, 0 },
		};

		assert_int_equal(unpack(&t, ents, N(ents), &u, &err), 0);
	}
	{
		char buf[16] = { 0 };
		int fd = open(target, O_RDONLY);

		assert_true(fd >= 0);
		assert_int_equal(read(fd, buf, sizeof(buf) - 1), 5);
		close(fd);
		assert_string_equal(buf, "host\n");
	}
	tmp_rm(&t);
}

static void test_layer_whiteouts(void **state)
{
	struct ent l1[] = {
		{ "a", AE_IFREG, "a", NULL, 0644, 0, 0 },
		{ "keep", AE_IFREG, "k", NULL, 0644, 0, 0 },
		{ "d/", AE_IFDIR, NULL, NULL, 0755, 0, 0 },
		{ "d/x", AE_IFREG, "x", NULL, 0644, 0, 0 },
		{ "d/y", AE_IFREG, "y", NULL, 0644, 0, 0 },
		{ "o/", AE_IFDIR, NULL, NULL, 0755, 0, 0 },
		{ "o/p", AE_IFREG, "p", NULL, 0644, 0, 0 },
		{ "o/sub/q", AE_IFREG, "q", NULL, 0644, 0, 0 },
		{ "gone/deep/file", AE_IFREG, "f", NULL, 0644, 0, 0 },
		{ "f2d", AE_IFDIR, NULL, NULL, 0755, 0, 0 },
		{ "f2d/inner", AE_IFREG, "i", NULL, 0644, 0, 0 },
	};
	/* The new entries come before the whiteouts on purpose: whiteouts
	 * only hide lower layers. */
	struct ent l2[] = {
		{ "o/new", AE_IFREG, "n", NULL, 0644, 0, 0 },
		{ "./.wh.a", AE_IFREG, "", NULL, 0644, 0, 0 },
		{ "d/.wh.x", AE_IFREG, "", NULL, 0644, 0, 0 },
		{ "o/.wh..wh..opq", AE_IFREG, "", NULL, 0644, 0, 0 },
		{ ".wh.gone", AE_IFREG, "", NULL, 0644, 0, 0 },
		{ "f2d", AE_IFREG, "now a file", NULL, 0600, 0, 0 },
		{ "dev/null", AE_IFCHR, NULL, NULL, 0666, 0, 0 },
		{ "owned", AE_IFREG, "o", NULL, 0640, 1234, 5678 },
	};
	struct layer_usage u = { 0 };
	struct pv_err err;
	char p[512];
	struct stat st;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	if (unpack(&t, l1, N(l1), &u, &err) < 0)
		fail_msg("layer 1: %s", err.msg);
	if (unpack(&t, l2, N(l2), &u, &err) < 0)
		fail_msg("layer 2: %s", err.msg);
	assert_false(exists(&t, "root/a"));
	assert_false(exists(&t, "root/.wh.a"));
	assert_true(exists(&t, "root/keep"));
	assert_false(exists(&t, "root/d/x"));
	assert_true(exists(&t, "root/d/y"));
	assert_false(exists(&t, "root/d/.wh.x"));
	assert_true(exists(&t, "root/o"));
	assert_false(exists(&t, "root/o/p"));
	assert_false(exists(&t, "root/o/sub"));
	assert_true(exists(&t, "root/o/new"));
	assert_false(exists(&t, "root/o/.wh..wh..opq"));
	assert_false(exists(&t, "root/gone"));
	assert_false(exists(&t, "root/dev/null"));
	assert_int_equal(u.skipped_devices, 1);
	tmp_path(&t, "root/f2d", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	tmp_path(&t, "root/owned", p, sizeof(p));
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	assert_int_equal(st.st_mode & 07777, 0640);
	tmp_rm(&t);
}

static void test_layer_limits(void **state)
{
	struct ent ents[] = {
		{ "a", AE_IFREG, "aaaa", NULL, 0644, 0, 0 },
		{ "b", AE_IFREG, "bbbb", NULL, 0644, 0, 0 },
	};
	struct layer_limits lim = { 6, 100 };
	struct layer_usage u = { 0 };
	char layer[512], root[512];
	struct pv_err err;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	tmp_path(&t, "l.tar.gz", layer, sizeof(layer));
	tmp_path(&t, "root", root, sizeof(root));
	assert_int_equal(mkdir(root, 0755), 0);
	make_layer(layer, ents, N(ents));
	assert_int_equal(layer_unpack(layer, root, &lim, &u, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "larger"));
	lim.max_bytes = 100;
	lim.max_entries = 1;
	memset(&u, 0, sizeof(u));
	assert_int_equal(layer_unpack(layer, root, &lim, &u, &err), -EFBIG);
	assert_non_null(strstr(err.msg, "entries"));
	tmp_rm(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_normalize),
		cmocka_unit_test(test_import_resolve),
		cmocka_unit_test(test_empty_image),
		cmocka_unit_test(test_layer_dotdot),
		cmocka_unit_test(test_layer_absolute),
		cmocka_unit_test(test_layer_symlink_escape),
		cmocka_unit_test(test_layer_whiteouts),
		cmocka_unit_test(test_layer_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
