/* Image GC at kubelet's thresholds (images/gc.c): nothing below the
 * high-water mark; above it, unused images go least recently used first
 * until the low mark; held images and images pods need are kept. The
 * filesystem's usage is the store's own bytes against a fake capacity. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "images/layer.h"
#include "images/store.h"

static char g_root[256];
static uint64_t g_used;

static int add_size(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path;
	(void)f;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		g_used += (uint64_t)st->st_size;
	return 0;
}

/* Capacity: 100 units of 100 kB; used: the store's bytes. */
#define CAP (100 * 100000ull)
static int fake_usage(void *opaque, uint64_t *cap, uint64_t *avail)
{
	(void)opaque;
	g_used = 0;
	nftw(g_root, add_size, 16, FTW_PHYS);
	*cap = CAP;
	*avail = g_used >= CAP ? 0 : CAP - g_used;
	return 0;
}

/* A rootfs of `kb` kB of incompressible data, imported as ref. */
static void import(struct image_store *s, const char *dir, const char *ref, size_t kb,
		   unsigned seed)
{
	char p[512];
	struct image_config cfg = { 0 };
	struct pv_err err;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, "rootfs");
	layer_remove_tree(p, NULL);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/rootfs/data", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	srand(seed);
	for (size_t i = 0; i < kb * 1024; i++)
		fputc(rand() & 0xff, f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/rootfs", dir);
	if (image_store_import_dir(s, p, ref, &cfg, &err) < 0)
		fail_msg("import %s: %s", ref, err.msg);
}

static void set_used(struct image_store *s, const char *ref, time_t when)
{
	struct image *img = NULL;
	struct timespec ts[2] = { { when, 0 }, { when, 0 } };
	char p[512];
	int fd;

	assert_int_equal(image_store_resolve(s, ref, &img, NULL), 0);
	assert_int_equal(image_store_hold(s, img->manifest_digest, &fd, NULL), 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/images/inuse/%s.lock", g_root, img->manifest_digest + 7);
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	image_free(img);
}

static bool present(struct image_store *s, const char *ref)
{
	struct image *img = NULL;
	int ret = image_store_resolve(s, ref, &img, NULL);

	image_free(img);
	return ret == 0;
}

static void test_gc_thresholds(void **state)
{
	char dir[] = "/tmp/podvm-test-gc.XXXXXX";
	struct image_store *s = NULL;
	struct image_gc_result res;
	struct image_gc_policy pol = { .high_pct = 85, .low_pct = 80, .usage = fake_usage };
	struct image *keep = NULL;
	const char *keep_list[1];
	struct pv_err err;
	time_t now = time(NULL);
	int hold = -1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(g_root, sizeof(g_root), "%s/state", dir);
	assert_int_equal(image_store_open(g_root, &s, &err), 0);
	/* five images of ~1.7 MB (17 % each): oldest used first */
	import(s, dir, "t/a:1", 1700, 1);
	import(s, dir, "t/b:1", 1700, 2);
	import(s, dir, "t/c:1", 1700, 3);
	import(s, dir, "t/d:1", 1700, 4);
	set_used(s, "t/a:1", now - 500);
	set_used(s, "t/b:1", now - 400);
	set_used(s, "t/c:1", now - 300);
	set_used(s, "t/d:1", now - 200);

	/* ~70 %: below the high mark, nothing happens */
	assert_int_equal(image_store_gc(s, &pol, &res, &err), 0);
	assert_int_equal(res.removed, 0);
	assert_true(res.used_pct_before < 85);

	import(s, dir, "t/e:1", 1700, 5);   /* ~87 % */
	set_used(s, "t/e:1", now - 100);
	/* a is held by a running pod, b is needed by a pod (keep list) */
	assert_int_equal(image_store_resolve(s, "t/a:1", &keep, NULL), 0);
	assert_int_equal(image_store_hold(s, keep->manifest_digest, &hold, NULL), 0);
	image_free(keep);
	assert_int_equal(image_store_resolve(s, "t/b:1", &keep, NULL), 0);
	keep_list[0] = keep->manifest_digest;
	pol.keep = keep_list;
	pol.n_keep = 1;
	assert_int_equal(image_store_gc(s, &pol, &res, &err), 0);
	assert_true(res.used_pct_before >= 85);
	assert_true(res.used_pct_after <= 80);
	assert_int_equal(res.removed, 1);           /* one image is enough */
	assert_true(res.freed > 1000000);
	assert_true(present(s, "t/a:1"));           /* held */
	assert_true(present(s, "t/b:1"));           /* kept */
	assert_false(present(s, "t/c:1"));          /* the least recently used free one */
	assert_true(present(s, "t/d:1"));
	assert_true(present(s, "t/e:1"));

	/* everything held or kept: GC stops without error */
	pol.high_pct = 1;
	pol.low_pct = 0;
	close(hold);
	assert_int_equal(image_store_hold(s, keep->manifest_digest, &hold, NULL), 0);
	assert_int_equal(image_store_gc(s, &pol, &res, &err), 0);
	assert_true(present(s, "t/b:1"));
	assert_false(present(s, "t/a:1"));
	close(hold);
	image_free(keep);

	/* imported images are pinned when asked: nothing goes */
	import(s, dir, "t/f:1", 100, 6);
	pol.keep = NULL;
	pol.n_keep = 0;
	pol.keep_local = true;
	assert_int_equal(image_store_gc(s, &pol, &res, &err), 0);
	assert_int_equal(res.removed, 0);
	assert_true(present(s, "t/f:1"));
	assert_true(present(s, "t/b:1"));

	/* bad thresholds */
	pol.high_pct = 50;
	pol.low_pct = 60;
	assert_int_equal(image_store_gc(s, &pol, &res, &err), -EINVAL);
	image_store_close(s);
	assert_int_equal(layer_remove_tree(dir, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gc_thresholds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
