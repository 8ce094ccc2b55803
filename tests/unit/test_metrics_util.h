/* Helpers shared by the metrics tests (test_metrics*.c): rendering the
 * registry and looking for lines in it. Include after <cmocka.h>. */
#ifndef PODVM_TESTS_TEST_METRICS_UTIL_H
#define PODVM_TESTS_TEST_METRICS_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"

#define UID1 "11111111-2222-4333-8444-555555555555"
#define UID2 "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

static inline char *render(void)
{
	struct metrics_buf b = { 0 };

	assert_int_equal(metrics_render(&b), 0);
	assert_non_null(b.data);
	return b.data;
}

static inline void contains(const char *text, const char *want)
{
	if (!strstr(text, want)) {
		fprintf(stderr, "missing: %s\n", want);
		fail();
	}
}

static inline void lacks(const char *text, const char *what)
{
	if (strstr(text, what)) {
		fprintf(stderr, "unexpected: %s\n", what);
		fail();
	}
}

/* A failed assertion skips a test's own metrics_close(): reset anyway. */
static inline int reset(void **state)
{
	(void)state;
	metrics_close();
	return 0;
}

#endif
