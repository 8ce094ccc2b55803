/* The STATS payload of the agent protocol (guest -> host), host side:
 * strict, bounded decoding (docs/metrics.md). The guest encodes it in
 * guest/stats.c. Message types for the protocol (to be added to
 * pod/agent.h): STATS_REQUEST host->guest "{}", STATS guest->host. */
#ifndef PODVM_DAEMON_METRICS_STATS_H
#define PODVM_DAEMON_METRICS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/metrics.h"
#include "util/err.h"

#define METRICS_STATS_MAX   (64u * 1024)   /* payload bytes */
#define METRICS_STATS_DEPTH 5              /* {containers:[{...}]} = 3 */

struct metrics_stats_ctr {
	char name[METRICS_CTR_MAX + 1];
	struct metrics_ctr_sample s;           /* have: which keys were present */
};

struct metrics_stats {
	bool has_memory;
	uint64_t mem_total_bytes, mem_available_bytes;
	size_t n_ctrs;
	struct metrics_stats_ctr ctr[METRICS_CTRS_MAX];
};

/* 0, or -EBADMSG / -ERANGE / -EMSGSIZE / -ENOMEM with err naming the
 * problem. Unknown keys, wrong types, negative or oversized integers,
 * invalid or duplicate container names, trailing data: all errors. */
int metrics_stats_decode(const char *payload, size_t len,
			 struct metrics_stats *out, struct pv_err *err);

#endif
