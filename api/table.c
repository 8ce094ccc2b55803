/* Server-side printing: a meta.k8s.io Table for pods, so that
 * `kubectl get pods` shows NAME READY STATUS RESTARTS AGE (and IP, NODE
 * with -o wide) the way it does against a real API server. The cells
 * follow Kubernetes' pod printer (pkg/printers/internalversion). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api/api_priv.h"
#include "util/util.h"

static const struct {
	const char *name, *desc;
	int priority;
} api_pod_columns[] = {
	{ "Name", "Name must be unique within a namespace.", 0 },
	{ "Ready", "The aggregate readiness state of this pod for accepting "
		   "traffic.", 0 },
	{ "Status", "The aggregate status of the containers in this pod.", 0 },
	{ "Restarts", "The number of times the containers in this pod have "
		      "been restarted.", 0 },
	{ "Age", "Time since the pod was created.", 0 },
	{ "IP", "IP address allocated to the pod.", 1 },
	{ "Node", "Name of the node where the pod runs.", 1 },
	{ "Nominated Node", "Nominated node (always <none>).", 1 },
	{ "Readiness Gates", "Pod readiness gates (always <none>).", 1 },
};

static const char *api_jget_str(struct json_object *o, const char *path)
{
	char key[64];
	const char *dot;
	struct json_object *v = o;

	while (v && path && *path) {
		dot = strchrnul(path, '.');
		if ((size_t)(dot - path) >= sizeof(key))
			return NULL;
		memcpy(key, path, (size_t)(dot - path));
		key[dot - path] = '\0';
		if (!json_object_object_get_ex(v, key, &v))
			return NULL;
		path = *dot ? dot + 1 : dot;
	}
	return v && json_object_is_type(v, json_type_string)
	       ? json_object_get_string(v) : NULL;
}

static struct json_object *api_jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* Kubernetes' duration.HumanDuration. */
static void api_human_age(int64_t secs, char *buf, size_t len)
{
	int64_t m = secs / 60, h = secs / 3600;

	if (secs < 0)
		snprintf(buf, len, "0s");
	else if (secs < 120)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (m < 10 && secs % 60)
		snprintf(buf, len, "%lldm%llds", (long long)m, (long long)(secs % 60));
	else if (m < 180)
		snprintf(buf, len, "%lldm", (long long)m);
	else if (h < 8 && m % 60)
		snprintf(buf, len, "%lldh%lldm", (long long)h, (long long)(m % 60));
	else if (h < 48)
		snprintf(buf, len, "%lldh", (long long)h);
	else if (h < 24 * 8 && h % 24)
		snprintf(buf, len, "%lldd%lldh", (long long)(h / 24),
			 (long long)(h % 24));
	else if (h < 24 * 365 * 2)
		snprintf(buf, len, "%lldd", (long long)(h / 24));
	else
		snprintf(buf, len, "%lldy", (long long)(h / (24 * 365)));
}

/* STATUS: phase, overridden by container reasons, "Terminating". */
static void api_pod_status_cell(struct json_object *pod, char *buf, size_t len,
				int *ready, int *total, long long *restarts)
{
	struct json_object *cs = api_jget(api_jget(pod, "status"),
					  "containerStatuses");
	const char *reason = api_jget_str(pod, "status.phase");
	const char *pr = api_jget_str(pod, "status.reason");
	bool running = false;
	size_t n = cs && json_object_is_type(cs, json_type_array)
		   ? json_object_array_length(cs) : 0;
	struct json_object *spec_ctrs = api_jget(api_jget(pod, "spec"),
						 "containers");

	*ready = 0;
	*restarts = 0;
	*total = spec_ctrs && json_object_is_type(spec_ctrs, json_type_array)
		 ? (int)json_object_array_length(spec_ctrs) : (int)n;
	snprintf(buf, len, "%s", pr && *pr ? pr : reason ? reason : "Unknown");
	for (size_t i = n; i-- > 0;) {
		struct json_object *c = json_object_array_get_idx(cs, i);
		struct json_object *st = api_jget(c, "state");
		struct json_object *term = api_jget(st, "terminated");
		const char *wr = api_jget_str(st, "waiting.reason");
		const char *tr = api_jget_str(term, "reason");

		*restarts += json_object_get_int64(api_jget(c, "restartCount"));
		if (json_object_get_boolean(api_jget(c, "ready")))
			(*ready)++;
		if (wr && *wr) {
			snprintf(buf, len, "%s", wr);
		} else if (tr && *tr) {
			snprintf(buf, len, "%s", tr);
		} else if (term) {
			int sig = json_object_get_int(api_jget(term, "signal"));

			if (sig)
				snprintf(buf, len, "Signal:%d", sig);
			else
				snprintf(buf, len, "ExitCode:%d", json_object_get_int(
						 api_jget(term, "exitCode")));
		} else if (api_jget(st, "running") &&
			   json_object_get_boolean(api_jget(c, "ready"))) {
			running = true;
		}
	}
	if (running && strcmp(buf, "Completed") == 0)
		snprintf(buf, len, "Running");
	if (api_jget_str(pod, "metadata.deletionTimestamp"))
		snprintf(buf, len, "Terminating");
}

static struct json_object *api_pod_row(struct json_object *pod,
				       const struct api_query *q)
{
	struct json_object *row, *cells, *obj = NULL;
	char status[128], rdy[32], rst[32], age[32];
	const char *name = api_jget_str(pod, "metadata.name");
	const char *ct = api_jget_str(pod, "metadata.creationTimestamp");
	const char *ip = api_jget_str(pod, "status.podIP");
	const char *node = api_jget_str(pod, "spec.nodeName");
	int ready, total;
	long long restarts;
	int64_t t;

	api_pod_status_cell(pod, status, sizeof(status), &ready, &total, &restarts);
	snprintf(rdy, sizeof(rdy), "%d/%d", ready, total);
	snprintf(rst, sizeof(rst), "%lld", restarts);
	t = ct ? api_parse_rfc3339_ns(ct, strlen(ct)) : -1;
	if (t < 0)
		snprintf(age, sizeof(age), "<unknown>");
	else
		api_human_age((util_wall_ms() * 1000000LL - t) / 1000000000LL, age,
			      sizeof(age));
	row = json_object_new_object();
	cells = json_object_new_array();
	if (!row || !cells) {
		json_object_put(cells);
		goto fail;
	}
	json_object_object_add(row, "cells", cells);
	json_object_array_add(cells, json_object_new_string(name ? name : ""));
	json_object_array_add(cells, json_object_new_string(rdy));
	json_object_array_add(cells, json_object_new_string(status));
	json_object_array_add(cells, json_object_new_string(rst));
	json_object_array_add(cells, json_object_new_string(age));
	json_object_array_add(cells, json_object_new_string(ip && *ip ? ip : "<none>"));
	json_object_array_add(cells, json_object_new_string(node && *node ? node
							    : "<none>"));
	json_object_array_add(cells, json_object_new_string("<none>"));
	json_object_array_add(cells, json_object_new_string("<none>"));
	if (q->include_object == 2) {
		obj = json_object_get(pod);
	} else if (q->include_object == 1) {
		obj = json_object_new_object();
		if (!obj)
			goto fail;
		json_object_object_add(obj, "kind",
				       json_object_new_string("PartialObjectMetadata"));
		json_object_object_add(obj, "apiVersion",
				       json_object_new_string("meta.k8s.io/v1"));
		json_object_object_add(obj, "metadata",
				       json_object_get(api_jget(pod, "metadata")));
	}
	if (obj)
		json_object_object_add(row, "object", obj);
	return row;
fail:
	json_object_put(row);
	return NULL;
}

static struct json_object *api_table(struct json_object *in,
				     const struct api_query *q, bool with_columns)
{
	struct json_object *t, *rows, *cols, *meta, *items;
	const char *kind = api_jget_str(in, "kind");
	const char *rv = api_jget_str(in, "metadata.resourceVersion");
	char av[32];

	t = json_object_new_object();
	if (!t)
		return NULL;
	rows = json_object_new_array();
	meta = json_object_new_object();
	if (!rows || !meta) {
		json_object_put(rows);
		json_object_put(meta);
		goto fail;
	}
	snprintf(av, sizeof(av), "meta.k8s.io/%s", q->table_version);
	json_object_object_add(t, "kind", json_object_new_string("Table"));
	json_object_object_add(t, "apiVersion", json_object_new_string(av));
	json_object_object_add(t, "metadata", meta);
	/* rows and meta now belong to t: every failure below frees t only. */
	json_object_object_add(t, "rows", rows);
	if (rv && kind && strcmp(kind, "PodList") == 0)
		json_object_object_add(meta, "resourceVersion",
				       json_object_new_string(rv));
	if (with_columns) {
		cols = json_object_new_array();
		if (!cols)
			goto fail;
		json_object_object_add(t, "columnDefinitions", cols);
		for (size_t i = 0; i < sizeof(api_pod_columns) /
				       sizeof(api_pod_columns[0]); i++) {
			struct json_object *c = json_object_new_object();

			if (!c)
				goto fail;
			json_object_array_add(cols, c);
			json_object_object_add(c, "name", json_object_new_string(
						       api_pod_columns[i].name));
			json_object_object_add(c, "type", json_object_new_string("string"));
			json_object_object_add(c, "format", json_object_new_string(
						       i == 0 ? "name" : ""));
			json_object_object_add(c, "description", json_object_new_string(
						       api_pod_columns[i].desc));
			json_object_object_add(c, "priority", json_object_new_int(
						       api_pod_columns[i].priority));
		}
	}
	items = api_jget(in, "items");
	if (kind && strcmp(kind, "PodList") == 0) {
		size_t n = items && json_object_is_type(items, json_type_array)
			   ? json_object_array_length(items) : 0;

		for (size_t i = 0; i < n; i++) {
			struct json_object *row = api_pod_row(
				json_object_array_get_idx(items, i), q);

			if (!row)
				goto fail;
			json_object_array_add(rows, row);
		}
	} else {
		struct json_object *row = api_pod_row(in, q);

		if (!row)
			goto fail;
		json_object_array_add(rows, row);
	}
	return t;
fail:
	json_object_put(t);
	return NULL;
}

static char *api_dup_json(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return s ? strdup(s) : NULL;
}

char *api_table_from_json(const char *json, const struct api_query *q,
			  bool with_columns)
{
	struct json_object *in = json_tokener_parse(json), *t;
	char *out = NULL;

	if (!in)
		return NULL;
	t = api_table(in, q, with_columns);
	if (t)
		out = api_dup_json(t);
	json_object_put(t);
	json_object_put(in);
	return out;
}

char *api_table_event(const char *event, const struct api_query *q)
{
	struct json_object *ev = json_tokener_parse(event), *obj, *t;
	const char *type;
	char *out = NULL;

	if (!ev)
		return NULL;
	type = api_jget_str(ev, "type");
	obj = api_jget(ev, "object");
	/* ERROR / BOOKMARK events keep their object. */
	if (!type || !obj || strcmp(type, "ERROR") == 0 ||
	    strcmp(type, "BOOKMARK") == 0) {
		out = api_dup_json(ev);
		goto out;
	}
	t = api_table(obj, q, true);
	if (!t)
		goto out;
	json_object_object_add(ev, "object", t);
	out = api_dup_json(ev);
out:
	json_object_put(ev);
	return out;
}
