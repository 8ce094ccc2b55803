/* Pure parts of podvm-init: load.list parsing, exit status mapping,
 * user resolution, PATH lookup, disk serial validation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest/guest.h"

#define S_(x) (x), sizeof(x) - 1

struct names {
	int n;
	char v[8][64];
};

static int collect(const char *name, void *arg)
{
	struct names *ns = arg;

	if (ns->n >= 8)
		return -E2BIG;
	snprintf(ns->v[ns->n++], 64, "%s", name);
	return 0;
}

static void test_modlist(void **state)
{
	static const char text[] = "# comment\nvirtio_ring.ko\n\n  virtio.ko \r\n"
				   "\tvirtio_mmio.ko\n#x.ko\nlast.ko";
	struct names ns = { 0 };
	struct pv_err err;

	(void)state;
	assert_int_equal(guest_modlist_parse(text, sizeof(text) - 1, collect, &ns, &err), 0);
	assert_int_equal(ns.n, 4);
	assert_string_equal(ns.v[0], "virtio_ring.ko");
	assert_string_equal(ns.v[1], "virtio.ko");
	assert_string_equal(ns.v[2], "virtio_mmio.ko");
	assert_string_equal(ns.v[3], "last.ko");
	ns.n = 0;
	assert_int_equal(guest_modlist_parse(S_("../evil.ko\n"), collect, &ns, &err), -EINVAL);
	assert_int_equal(guest_modlist_parse(S_("a/b.ko\n"), collect, &ns, &err), -EINVAL);
	assert_int_equal(guest_modlist_parse(S_(".."), collect, &ns, &err), -EINVAL);
	assert_int_equal(guest_modlist_parse("", 0, collect, &ns, &err), 0);
	{
		char big[300];

		memset(big, 'a', sizeof(big));
		assert_int_equal(guest_modlist_parse(big, sizeof(big), collect, &ns, &err),
				 -ENAMETOOLONG);
	}
}

static void test_exit_status(void **state)
{
	struct guest_exit e;

	(void)state;
	guest_exit_from_status(0, &e);
	assert_int_equal(e.exit_code, 0);
	assert_int_equal(e.signal, 0);
	assert_string_equal(e.reason, "Completed");
	guest_exit_from_status(3 << 8, &e);
	assert_int_equal(e.exit_code, 3);
	assert_string_equal(e.reason, "Error");
	guest_exit_from_status(SIGKILL, &e);
	assert_int_equal(e.exit_code, 137);
	assert_int_equal(e.signal, SIGKILL);
	assert_string_equal(e.reason, "Error");
	guest_exit_from_status(SIGTERM | 0x80, &e);  /* core dumped */
	assert_int_equal(e.exit_code, 143);
}

static char tmpdir[64];
static char pw_path[128], gr_path[128];

static int setup_db(void **state)
{
	FILE *f;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pvguestXXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(pw_path, sizeof(pw_path), "%s/passwd", tmpdir);
	snprintf(gr_path, sizeof(gr_path), "%s/group", tmpdir);
	f = fopen(pw_path, "w");
	if (!f)
		return -1;
	fputs("root:x:0:0:root:/root:/bin/sh\nbroken line\n"
	      "alice:x:1000:1001::/home/alice:/bin/sh\nbob:x:99999999999:1:::\n", f);
	fclose(f);
	f = fopen(gr_path, "w");
	if (!f)
		return -1;
	fputs("root:x:0:\nstaff:x:50:bob,alice\nwheel:x:10:alice\nusers:x:100\n", f);
	fclose(f);
	return 0;
}

static int teardown_db(void **state)
{
	(void)state;
	unlink(pw_path);
	unlink(gr_path);
	rmdir(tmpdir);
	return 0;
}

static void test_user(void **state)
{
	struct guest_user u;
	struct pv_err err;

	(void)state;
	assert_int_equal(guest_user_resolve(NULL, pw_path, gr_path, &u, &err), 0);
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);
	assert_int_equal(guest_user_resolve("1234", pw_path, gr_path, &u, &err), 0);
	assert_int_equal(u.uid, 1234);
	assert_int_equal(u.gid, 0);
	assert_int_equal(guest_user_resolve("1234:77", pw_path, gr_path, &u, &err), 0);
	assert_int_equal(u.gid, 77);
	assert_int_equal(guest_user_resolve("alice", pw_path, gr_path, &u, &err), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1001);
	assert_int_equal(u.n_groups, 2);
	assert_int_equal(u.groups[0], 50);
	assert_int_equal(u.groups[1], 10);
	assert_int_equal(guest_user_resolve("1000", pw_path, gr_path, &u, &err), 0);
	assert_int_equal(u.gid, 1001);
	assert_int_equal(u.n_groups, 2);
	assert_int_equal(guest_user_resolve("alice:wheel", pw_path, gr_path, &u, &err), 0);
	assert_int_equal(u.gid, 10);
	assert_int_equal(u.n_groups, 0);
	assert_int_equal(guest_user_resolve("carol", pw_path, gr_path, &u, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "unable to find user carol"));
	assert_int_equal(guest_user_resolve("bob", pw_path, gr_path, &u, &err), -ENOENT);
	assert_int_equal(guest_user_resolve("0:nogroup", pw_path, gr_path, &u, &err), -ENOENT);
	assert_int_equal(guest_user_resolve("0:", pw_path, gr_path, &u, &err), -EINVAL);
	assert_int_equal(guest_user_resolve(":0", pw_path, gr_path, &u, &err), -EINVAL);
	assert_int_equal(guest_user_resolve("-1", pw_path, gr_path, &u, &err), -ENOENT);
	assert_int_equal(guest_user_resolve("4294967295", pw_path, gr_path, &u, &err), -ENOENT);
	/* Numeric users work without any passwd file. */
	assert_int_equal(guest_user_resolve("5:6", "/nonexistent", "/nonexistent", &u, &err), 0);
	assert_int_equal(u.uid, 5);
	assert_int_equal(u.gid, 6);
}

static void test_lookpath(void **state)
{
	char out[256], exe[128], noexec[128];
	struct pv_err err;
	FILE *f;
	char *env[] = { "A=1", "PATH=/x", "PATH=/y:/z" };

	(void)state;
	snprintf(exe, sizeof(exe), "%s/prog", tmpdir);
	snprintf(noexec, sizeof(noexec), "%s/data", tmpdir);
	f = fopen(exe, "w");
	assert_non_null(f);
	fclose(f);
	chmod(exe, 0755);
	f = fopen(noexec, "w");
	assert_non_null(f);
	fclose(f);
	chmod(noexec, 0644);

	assert_int_equal(guest_lookpath("prog", "/nonexistent:", out, sizeof(out), &err), -ENOENT);
	assert_string_equal(err.msg, "exec: \"prog\": executable file not found in $PATH");
	{
		char path[200];

		snprintf(path, sizeof(path), "/nonexistent:%s", tmpdir);
		assert_int_equal(guest_lookpath("prog", path, out, sizeof(out), &err), 0);
		assert_string_equal(out, exe);
		assert_int_equal(guest_lookpath("data", path, out, sizeof(out), &err), -ENOENT);
	}
	assert_int_equal(guest_lookpath(exe, NULL, out, sizeof(out), &err), 0);
	assert_int_equal(guest_lookpath("/no/such", NULL, out, sizeof(out), &err), -ENOENT);
	assert_string_equal(err.msg, "exec: \"/no/such\": stat /no/such: no such file or directory");
	assert_int_equal(guest_lookpath("", NULL, out, sizeof(out), &err), -ENOENT);
	unlink(exe);
	unlink(noexec);

	assert_string_equal(guest_env_get(env, 3, "PATH"), "/y:/z");
	assert_string_equal(guest_env_get(env, 3, "A"), "1");
	assert_null(guest_env_get(env, 3, "PAT"));
}

static void test_serial(void **state)
{
	(void)state;
	assert_true(guest_serial_valid("podvm-img0"));
	assert_true(guest_serial_valid("12345678901234567890"));
	assert_false(guest_serial_valid("123456789012345678901"));
	assert_false(guest_serial_valid(""));
	assert_false(guest_serial_valid(NULL));
	assert_false(guest_serial_valid(".."));
	assert_false(guest_serial_valid("a/b"));
	assert_false(guest_serial_valid("a b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modlist),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test_setup_teardown(test_user, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_lookpath, setup_db, teardown_db),
		cmocka_unit_test(test_serial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
