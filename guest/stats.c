/* STATS payload, guest side: read the container cgroups and meminfo and
 * encode JSON. Everything is read with a fixed buffer and parsed with
 * strtoull; a file that is missing or malformed leaves its figure out
 * rather than failing the whole message. */
#include "guest/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "pod/pod.h"

#define GUEST_STATS_FILE_MAX 8192   /* memory.stat is ~1.5 KiB */

/* Read path into buf (NUL-terminated). Bytes read or -errno. */
static ssize_t gs_read(const char *path, char *buf, size_t len)
{
	ssize_t n, got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1) {
		n = read(fd, buf + got, len - 1 - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	buf[got] = '\0';
	return got;
}

/* One decimal number, then only whitespace. */
static int gs_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int guest_stats_kv(const char *text, const char *key, uint64_t *val)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; ) {
		const char *nl = strchr(l, '\n');

		if (!strncmp(l, key, kl) && l[kl] == ' ') {
			char num[32];
			size_t n = nl ? (size_t)(nl - l) - kl : strlen(l + kl);

			if (n >= sizeof(num))
				return -ERANGE;
			memcpy(num, l + kl, n);
			num[n] = '\0';
			return gs_u64(num, val);
		}
		l = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

/* "MemTotal:       2028436 kB" */
static int gs_meminfo_field(const char *text, const char *key, uint64_t *bytes)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; ) {
		const char *nl = strchr(l, '\n');

		if (!strncmp(l, key, kl) && l[kl] == ':') {
			unsigned long long v;
			char *end;

			errno = 0;
			v = strtoull(l + kl + 1, &end, 10);
			if (errno || end == l + kl + 1)
				return -EINVAL;
			while (*end == ' ')
				end++;
			if (strncmp(end, "kB", 2))
				return -EINVAL;
			if (v > UINT64_MAX / 1024)
				return -ERANGE;
			*bytes = (uint64_t)v * 1024;
			return 0;
		}
		l = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int guest_stats_meminfo(const char *text, uint64_t *total, uint64_t *avail)
{
	int ret = gs_meminfo_field(text, "MemTotal", total);

	return ret < 0 ? ret : gs_meminfo_field(text, "MemAvailable", avail);
}

int guest_stats_read_ctr(const char *root, const char *name,
			 struct guest_stats_ctr *out)
{
	char path[PATH_MAX], buf[GUEST_STATS_FILE_MAX];
	uint64_t inactive = 0;
	struct stat st;
	int n;

	memset(out, 0, sizeof(*out));
	if (!pod_is_dns1123_label(name))
		return -EINVAL;
	n = snprintf(path, sizeof(path), "%s/%s", root, name);
	if (n < 0 || (size_t)n >= sizeof(path) - 32)
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	out->present = true;

	snprintf(path, sizeof(path), "%s/%s/cpu.stat", root, name);
	if (gs_read(path, buf, sizeof(buf)) > 0 &&
	    guest_stats_kv(buf, "usage_usec", &out->cpu_usec) == 0)
		out->has_cpu = true;

	snprintf(path, sizeof(path), "%s/%s/memory.current", root, name);
	if (gs_read(path, buf, sizeof(buf)) > 0 && gs_u64(buf, &out->mem_current) == 0) {
		snprintf(path, sizeof(path), "%s/%s/memory.stat", root, name);
		if (gs_read(path, buf, sizeof(buf)) > 0 &&
		    guest_stats_kv(buf, "inactive_file", &inactive) == 0) {
			/* cAdvisor's working set: usage minus inactive page cache */
			out->mem_working_set = out->mem_current > inactive
				? out->mem_current - inactive : 0;
			out->has_mem = true;
		}
	}

	snprintf(path, sizeof(path), "%s/%s/memory.events", root, name);
	if (gs_read(path, buf, sizeof(buf)) > 0 &&
	    guest_stats_kv(buf, "oom_kill", &out->oom_kills) == 0)
		out->has_oom = true;
	return 0;
}

/* json-c integers are int64: clamp (a cgroup counter never gets there). */
static struct json_object *gs_int(uint64_t v)
{
	return json_object_new_int64(v >= (uint64_t)INT64_MAX ? INT64_MAX - 1
							       : (int64_t)v);
}

static int gs_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int guest_stats_collect(const char *root, const char *meminfo,
			const char *const *names, size_t n, char **out,
			size_t *len, struct pv_err *err)
{
	struct json_object *top = NULL, *arr = NULL, *mem = NULL, *c = NULL;
	char buf[GUEST_STATS_FILE_MAX];
	uint64_t total, avail;
	const char *text;
	int ret = -ENOMEM;

	*out = NULL;
	*len = 0;
	if (n > GUEST_STATS_MAX_CTRS)
		return pv_err_set(err, E2BIG, "stats: %zu containers", n);
	root = root ? root : GUEST_STATS_CGROUP_ROOT;
	meminfo = meminfo ? meminfo : GUEST_STATS_MEMINFO;
	top = json_object_new_object();
	if (!top)
		goto oom;
	if (gs_read(meminfo, buf, sizeof(buf)) > 0 &&
	    guest_stats_meminfo(buf, &total, &avail) == 0) {
		mem = json_object_new_object();
		if (!mem || gs_add(mem, "totalBytes", gs_int(total)) < 0 ||
		    gs_add(mem, "availableBytes", gs_int(avail)) < 0)
			goto oom;
		ret = gs_add(top, "memory", mem);
		mem = NULL;   /* owned by top, or freed by gs_add */
		if (ret < 0)
			goto oom;
	}
	arr = json_object_new_array();
	if (!arr)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct guest_stats_ctr gc;

		ret = guest_stats_read_ctr(root, names[i], &gc);
		if (ret < 0) {
			ret = pv_err_set(err, -ret, "stats: container name \"%.64s\"",
					 names[i]);
			goto out;
		}
		if (!gc.present)
			continue;
		c = json_object_new_object();
		if (!c || gs_add(c, "name", json_object_new_string(names[i])) < 0 ||
		    (gc.has_cpu && gs_add(c, "cpuUsageUsec", gs_int(gc.cpu_usec)) < 0) ||
		    (gc.has_mem && gs_add(c, "memoryUsageBytes", gs_int(gc.mem_current)) < 0) ||
		    (gc.has_mem && gs_add(c, "memoryWorkingSetBytes",
					  gs_int(gc.mem_working_set)) < 0) ||
		    (gc.has_oom && gs_add(c, "oomKills", gs_int(gc.oom_kills)) < 0))
			goto oom;
		if (json_object_array_add(arr, c) < 0)
			goto oom;
		c = NULL;
	}
	ret = gs_add(top, "containers", arr);
	arr = NULL;
	if (ret < 0)
		goto oom;
	text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		goto oom;
	*out = strdup(text);
	if (!*out)
		goto oom;
	*len = strlen(*out);
	ret = 0;
	goto out;
oom:
	ret = pv_err_set(err, ENOMEM, "stats: out of memory");
out:
	json_object_put(c);
	json_object_put(arr);
	json_object_put(mem);
	json_object_put(top);
	return ret;
}
