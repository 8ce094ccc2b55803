/* What the netns test driver's files share (tests/integration/
 * netns_helper*.c): the library context, the last error, and helpers. */
#ifndef PODVM_TESTS_NETNS_HELPER_H
#define PODVM_TESTS_NETNS_HELPER_H

#include <stdint.h>

#include "netns/internal.h"

extern struct netns_ctx *ctx;
extern struct pv_err err;

/* Print what failed with err and exit 1. */
int die(const char *what, int ret);
int64_t now_us(void);
/* NAME, CIDR and comma-separated DNS addresses into info (exits on error). */
void vpc_info_of(const char *name, const char *cidr, const char *dns,
		 struct netns_vpc_info *info);

/* netns_helper_faults.c */
int cmd_faults(void);
int cmd_cycles(int n);

#endif
