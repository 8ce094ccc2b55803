/* STATS decoding (host side) and storing its figures. The guest is not
 * trusted: the payload is bounded in size and depth, every key is known,
 * every number is a non-negative integer, container names are DNS-1123
 * labels and appear once. */
#include "daemon/metrics_stats.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod.h"
#include "util/json.h"

#define WHAT "STATS"

static int stats_parse(const char *p, size_t n, struct json_object **out,
		       struct pv_err *err)
{
	struct util_json_parse jp = {
		.depth = METRICS_STATS_DEPTH, .tok_flags = JSON_TOKENER_STRICT,
		.flags = UTIL_JSON_NOT_NULL,
	};

	*out = NULL;
	if (n > METRICS_STATS_MAX)
		return pv_err_set(err, EMSGSIZE, WHAT ": payload larger than %u bytes",
				  METRICS_STATS_MAX);
	if (!p || n == 0)
		return pv_err_set(err, EBADMSG, WHAT ": empty payload");
	if (memchr(p, '\0', n))
		return pv_err_set(err, EBADMSG, WHAT ": NUL byte in payload");
	switch (util_json_parse(&jp, p, n, out)) {
	case UTIL_JSON_OK:
		break;
	case UTIL_JSON_NOMEM:
		return pv_err_set(err, ENOMEM, "out of memory");
	case UTIL_JSON_TRAILING:
		return pv_err_set(err, EBADMSG, WHAT ": trailing data");
	case UTIL_JSON_TRUNCATED:
		return pv_err_set(err, EBADMSG, WHAT ": invalid JSON: truncated");
	default:
		return pv_err_set(err, EBADMSG, WHAT ": invalid JSON: %s",
				  jp.detail);
	}
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return pv_err_set(err, EBADMSG, WHAT ": not a JSON object");
	}
	return 0;
}

/* A non-negative integer below INT64_MAX (json-c saturates there). */
static int stats_u64(struct json_object *v, const char *where, const char *key,
		     uint64_t *out, struct pv_err *err)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return pv_err_set(err, EBADMSG, WHAT ": %s\"%s\" must be an integer",
				  where, key);
	x = json_object_get_int64(v);
	if (x < 0 || x == INT64_MAX)
		return pv_err_set(err, ERANGE, WHAT ": %s\"%s\" out of range",
				  where, key);
	*out = (uint64_t)x;
	return 0;
}

static int stats_memory(struct json_object *m, struct metrics_stats *out,
			struct pv_err *err)
{
	bool total = false, avail = false;
	int ret;

	if (!json_object_is_type(m, json_type_object))
		return pv_err_set(err, EBADMSG, WHAT ": \"memory\" must be an object");
	json_object_object_foreach(m, key, val) {
		if (!strcmp(key, "totalBytes")) {
			ret = stats_u64(val, "memory.", key, &out->mem_total_bytes, err);
			total = true;
		} else if (!strcmp(key, "availableBytes")) {
			ret = stats_u64(val, "memory.", key, &out->mem_available_bytes, err);
			avail = true;
		} else {
			ret = pv_err_set(err, EBADMSG, WHAT ": unknown field "
					 "\"memory.%.64s\"", key);
		}
		if (ret < 0)
			return ret;
	}
	if (!total || !avail)
		return pv_err_set(err, EBADMSG, WHAT ": \"memory\" needs totalBytes "
				  "and availableBytes");
	out->has_memory = true;
	return 0;
}

static int stats_ctr(struct json_object *c, size_t idx, struct metrics_stats *out,
		     struct pv_err *err)
{
	struct metrics_stats_ctr *sc = &out->ctr[idx];
	char where[48];
	bool named = false;
	int ret = 0;

	snprintf(where, sizeof(where), "containers[%zu].", idx);
	if (!json_object_is_type(c, json_type_object))
		return pv_err_set(err, EBADMSG, WHAT ": containers[%zu] must be an "
				  "object", idx);
	json_object_object_foreach(c, key, val) {
		if (!strcmp(key, "name")) {
			const char *s;

			if (!json_object_is_type(val, json_type_string))
				return pv_err_set(err, EBADMSG, WHAT ": %sname must be "
						  "a string", where);
			s = json_object_get_string(val);
			if ((size_t)json_object_get_string_len(val) > METRICS_CTR_MAX ||
			    !pod_is_dns1123_label(s))
				return pv_err_set(err, EBADMSG, WHAT ": %sname is not a "
						  "DNS-1123 label", where);
			snprintf(sc->name, sizeof(sc->name), "%s", s);
			named = true;
		} else if (!strcmp(key, "cpuUsageUsec")) {
			ret = stats_u64(val, where, key, &sc->s.cpu_usec, err);
			sc->s.have |= METRICS_CTR_CPU;
		} else if (!strcmp(key, "memoryUsageBytes")) {
			ret = stats_u64(val, where, key, &sc->s.mem_usage_bytes, err);
			sc->s.have |= METRICS_CTR_MEM;
		} else if (!strcmp(key, "memoryWorkingSetBytes")) {
			ret = stats_u64(val, where, key, &sc->s.mem_working_set_bytes, err);
			sc->s.have |= METRICS_CTR_MEM;
		} else if (!strcmp(key, "oomKills")) {
			ret = stats_u64(val, where, key, &sc->s.oom_kills, err);
			sc->s.have |= METRICS_CTR_OOM;
		} else {
			ret = pv_err_set(err, EBADMSG, WHAT ": unknown field "
					 "\"%s%.64s\"", where, key);
		}
		if (ret < 0)
			return ret;
	}
	if (!named)
		return pv_err_set(err, EBADMSG, WHAT ": %sname is missing", where);
	/* usage and working set travel together */
	if ((sc->s.have & METRICS_CTR_MEM) &&
	    (!json_object_object_get_ex(c, "memoryUsageBytes", NULL) ||
	     !json_object_object_get_ex(c, "memoryWorkingSetBytes", NULL)))
		return pv_err_set(err, EBADMSG, WHAT ": %smemoryUsageBytes and "
				  "memoryWorkingSetBytes go together", where);
	for (size_t i = 0; i < idx; i++)
		if (!strcmp(out->ctr[i].name, sc->name))
			return pv_err_set(err, EBADMSG, WHAT ": container \"%s\" "
					  "appears twice", sc->name);
	return 0;
}

int metrics_stats_decode(const char *payload, size_t len,
			 struct metrics_stats *out, struct pv_err *err)
{
	struct json_object *root = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = stats_parse(payload, len, &root, err);
	if (ret < 0)
		goto out;
	json_object_object_foreach(root, key, val) {
		if (!strcmp(key, "memory")) {
			ret = stats_memory(val, out, err);
		} else if (!strcmp(key, "containers")) {
			size_t n;

			if (!json_object_is_type(val, json_type_array)) {
				ret = pv_err_set(err, EBADMSG, WHAT ": \"containers\" "
						 "must be an array");
				goto out;
			}
			n = json_object_array_length(val);
			if (n > METRICS_CTRS_MAX) {
				ret = pv_err_set(err, ERANGE, WHAT ": more than %d "
						 "containers", METRICS_CTRS_MAX);
				goto out;
			}
			for (size_t i = 0; i < n && ret == 0; i++)
				ret = stats_ctr(json_object_array_get_idx(val, i), i,
						out, err);
			out->n_ctrs = n;
		} else {
			ret = pv_err_set(err, EBADMSG, WHAT ": unknown field "
					 "\"%.64s\"", key);
		}
		if (ret < 0)
			goto out;
	}
out:
	json_object_put(root);
	if (ret < 0)
		memset(out, 0, sizeof(*out));
	return ret;
}

int metrics_guest_stats(struct metrics *m, const char *uid,
			const char *payload, size_t len, struct pv_err *err)
{
	struct metrics_stats *st;
	struct metrics_pod_sample ps = { .have = 0 };
	int ret;

	if (!m)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = metrics_stats_decode(payload, len, st, err);
	if (ret < 0)
		goto out;
	if (st->has_memory) {
		ps.have = METRICS_POD_GUEST;
		ps.guest_mem_total_bytes = st->mem_total_bytes;
		ps.guest_mem_used_bytes = st->mem_available_bytes < st->mem_total_bytes
			? st->mem_total_bytes - st->mem_available_bytes : 0;
	}
	/* ns/name NULL: only a pod the collector already knows */
	ret = metrics_pod_update(m, uid, NULL, NULL, &ps);
	if (ret < 0) {
		ret = pv_err_set(err, -ret, "STATS for an unknown pod");
		goto out;
	}
	for (size_t i = 0; i < st->n_ctrs; i++) {
		ret = metrics_container_update(m, uid, st->ctr[i].name, NULL,
					       &st->ctr[i].s);
		if (ret < 0) {
			ret = pv_err_set(err, -ret, "STATS: container %s",
					 st->ctr[i].name);
			goto out;
		}
	}
	ret = 0;
out:
	free(st);
	return ret;
}
