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

/* The registry under test, made on first use. */
static struct metrics *tm_registry;

static inline struct metrics *tm(void)
{
	if (!tm_registry)
		assert_int_equal(metrics_new(&tm_registry, NULL), 0);
	return tm_registry;
}

static inline void tm_close(void)
{
	metrics_free(tm_registry);
	tm_registry = NULL;
}

static inline char *render(void)
{
	struct metrics_buf b = { 0 };

	assert_int_equal(metrics_render(tm(), &b), 0);
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

/* A failed assertion skips a test's own tm_close(): reset anyway. */
static inline int reset(void **state)
{
	(void)state;
	tm_close();
	return 0;
}

#endif
