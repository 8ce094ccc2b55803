/* The exec stream's frame codec (daemon/exec_frame.h): round trips,
 * truncated input, oversize and unknown frames, strict JSON payloads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/exec_frame.h"

static void test_roundtrip(void **state)
{
	uint8_t buf[64];
	struct exec_frame f;
	size_t used = 0;

	(void)state;
	assert_int_equal(exec_frame_header(buf, EXEC_F_STDOUT, 3), 0);
	memcpy(buf + EXEC_FRAME_HDR, "abc", 3);
	assert_int_equal(exec_frame_next(buf, EXEC_FRAME_HDR + 3, &f, &used), 1);
	assert_int_equal(f.type, EXEC_F_STDOUT);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.payload, "abc", 3);
	assert_int_equal(used, EXEC_FRAME_HDR + 3);
}

static void test_truncated(void **state)
{
	uint8_t buf[16];
	struct exec_frame f;
	size_t used = 0;

	(void)state;
	assert_int_equal(exec_frame_header(buf, EXEC_F_STDIN, 4), 0);
	for (size_t n = 0; n < EXEC_FRAME_HDR + 4; n++)
		assert_int_equal(exec_frame_next(buf, n, &f, &used), 0);
}

static void test_oversize_unknown(void **state)
{
	uint8_t buf[EXEC_FRAME_HDR] = { EXEC_F_STDIN, 0, 1, 0, 1 };   /* 64 KiB + 1 */
	uint8_t unk[EXEC_FRAME_HDR] = { 6, 0, 0, 0, 0 };
	struct exec_frame f;
	size_t used = 0;

	(void)state;
	assert_int_equal(exec_frame_next(buf, sizeof(buf), &f, &used), -EMSGSIZE);
	assert_int_equal(exec_frame_next(unk, sizeof(unk), &f, &used), -EPROTO);
	assert_int_equal(exec_frame_header(buf, 6, 0), -EINVAL);
	assert_int_equal(exec_frame_header(buf, 0, EXEC_FRAME_MAX + 1), -EMSGSIZE);
	assert_int_equal(exec_frame_header(buf, 0, EXEC_FRAME_MAX), 0);
}

static int resize(const char *s, uint16_t *r, uint16_t *c)
{
	return exec_frame_resize_parse((const uint8_t *)s, strlen(s), r, c);
}

static void test_resize(void **state)
{
	uint16_t r = 0, c = 0;
	char *j = exec_frame_resize_json(50, 132);

	(void)state;
	assert_non_null(j);
	assert_int_equal(resize(j, &r, &c), 0);
	assert_int_equal(r, 50);
	assert_int_equal(c, 132);
	free(j);
	assert_int_equal(resize("{\"rows\":0,\"cols\":1}", &r, &c), -EINVAL);
	assert_int_equal(resize("{\"rows\":1,\"cols\":65536}", &r, &c), -EINVAL);
	assert_int_equal(resize("{\"rows\":1}", &r, &c), -EINVAL);
	assert_int_equal(resize("{\"rows\":1,\"cols\":1,\"x\":1}", &r, &c), -EINVAL);
	assert_int_equal(resize("{\"rows\":\"1\",\"cols\":1}", &r, &c), -EINVAL);
	assert_int_equal(resize("{\"rows\":1,\"cols\":1} x", &r, &c), -EINVAL);
	assert_int_equal(resize("[1]", &r, &c), -EINVAL);
}

static void test_exit(void **state)
{
	char err[EXEC_ERROR_MAX];
	int code = -1, sig = -1;
	char *j = exec_frame_exit_json(127, 0, "exec: \"x\": not found");

	(void)state;
	assert_non_null(j);
	assert_int_equal(exec_frame_exit_parse((uint8_t *)j, strlen(j), &code, &sig,
					       err, sizeof(err)), 0);
	assert_int_equal(code, 127);
	assert_int_equal(sig, 0);
	assert_string_equal(err, "exec: \"x\": not found");
	free(j);
	j = "{\"exitCode\":256}";
	assert_int_equal(exec_frame_exit_parse((uint8_t *)j, strlen(j), &code, &sig,
					       err, sizeof(err)), -EINVAL);
	j = "{\"signal\":9}";
	assert_int_equal(exec_frame_exit_parse((uint8_t *)j, strlen(j), &code, &sig,
					       err, sizeof(err)), -EINVAL);
	j = "{\"exitCode\":137,\"signal\":9}";
	assert_int_equal(exec_frame_exit_parse((uint8_t *)j, strlen(j), &code, &sig,
					       err, sizeof(err)), 0);
	assert_int_equal(sig, 9);
	assert_string_equal(err, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_oversize_unknown),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
