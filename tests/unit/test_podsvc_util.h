/* Helpers shared by the pod service tests (test_podsvc*.c, test_reporter.c):
 * temp state dirs, a fake runner that records calls, Pod bodies. Include
 * after <cmocka.h>. */
#ifndef PODVM_TESTS_TEST_PODSVC_UTIL_H
#define PODVM_TESTS_TEST_PODSVC_UTIL_H

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/podsvc.h"
#include "util/util.h"

struct fake_runner {
	pthread_mutex_t mu;
	int starts, stops;
	char last_start[UUID_STR_LEN];
	char last_stop[UUID_STR_LEN];
	int64_t last_grace;
	char order[64];               /* "S" per start, "T" per stop */
	bool finalize_in_stop;        /* call podsvc_finalize_delete in stop */
	struct podsvc *svc;
	/* delete this pod from inside start (stop_pending path) */
	const char *delete_in_start_ns, *delete_in_start_name;
};

static inline void fake_start(void *runner, const char *uid,
			      const struct pod *pod)
{
	struct fake_runner *f = runner;
	struct podsvc_status st;
	char *out = NULL;

	assert_non_null(pod);
	pthread_mutex_lock(&f->mu);
	f->starts++;
	snprintf(f->last_start, sizeof(f->last_start), "%s", uid);
	strncat(f->order, "S", sizeof(f->order) - strlen(f->order) - 1);
	pthread_mutex_unlock(&f->mu);
	if (f->delete_in_start_name) {
		assert_int_equal(podsvc_delete(f->svc, f->delete_in_start_ns,
					       f->delete_in_start_name, 5, &out,
					       &st), 0);
		free(out);
	}
}

static inline void fake_stop(void *runner, const char *uid, int64_t grace)
{
	struct fake_runner *f = runner;

	pthread_mutex_lock(&f->mu);
	f->stops++;
	f->last_grace = grace;
	snprintf(f->last_stop, sizeof(f->last_stop), "%s", uid);
	strncat(f->order, "T", sizeof(f->order) - strlen(f->order) - 1);
	pthread_mutex_unlock(&f->mu);
	if (f->finalize_in_stop)
		assert_int_equal(podsvc_finalize_delete(f->svc, uid), 0);
}

static const struct podsvc_runner_ops fake_ops = {
	.start = fake_start,
	.stop = fake_stop,
};

struct tsvc {
	char dir[64];
	struct fake_runner fr;
	struct podsvc *s;
	size_t max_events;
};

static inline void tsvc_open(struct tsvc *t)
{
	struct podsvc_config cfg = {
		.state_dir = t->dir, .host_ip = "10.0.0.1",
		.node_name = "node-1", .max_events = t->max_events,
	};
	struct pv_err err = { 0 };
	int rc = podsvc_open(&cfg, &fake_ops, &t->fr, &t->s, &err);

	if (rc)
		fprintf(stderr, "podsvc_open: %s\n", err.msg);
	assert_int_equal(rc, 0);
	t->fr.svc = t->s;
}

static inline struct tsvc *tsvc_new(size_t max_events)
{
	struct tsvc *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/podvm-test-podsvc.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	pthread_mutex_init(&t->fr.mu, NULL);
	t->max_events = max_events;
	tsvc_open(t);
	return t;
}

static inline void tsvc_reopen(struct tsvc *t)
{
	podsvc_close(t->s);
	t->s = NULL;
	tsvc_open(t);
}

static inline void tsvc_free(struct tsvc *t)
{
	podsvc_close(t->s);
	assert_int_equal(util_rm_rf(t->dir, NULL), 0);
	pthread_mutex_destroy(&t->fr.mu);
	free(t);
}

/* A Pod body; labels is a JSON object text or NULL. */
static inline char *pod_body(const char *name, const char *labels,
			     const char *ns_field)
{
	char *b = NULL;

	assert_true(asprintf(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
			     "\"metadata\":{\"name\":\"%s\"%s%s%s%s%s},"
			     "\"spec\":{\"containers\":[{\"name\":\"app\","
			     "\"image\":\"busybox\"}]}}", name,
			     labels ? ",\"labels\":" : "", labels ? labels : "",
			     ns_field ? ",\"namespace\":\"" : "",
			     ns_field ? ns_field : "", ns_field ? "\"" : "") > 0);
	return b;
}

/* Create; returns the stored object parsed (caller puts). */
static inline struct json_object *create_pod(struct podsvc *s, const char *ns,
					     const char *name,
					     const char *labels)
{
	struct podsvc_status st;
	char *body = pod_body(name, labels, NULL), *out = NULL;
	struct json_object *o;
	int rc = podsvc_create(s, ns, body, strlen(body), &out, &st);

	if (rc)
		fprintf(stderr, "create: %d %s\n", st.code, st.message);
	assert_int_equal(rc, 0);
	o = json_tokener_parse(out);
	assert_non_null(o);
	free(out);
	free(body);
	return o;
}

static inline const char *jstr(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL, *tok;
	struct json_object *v = o;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(v, json_type_array))
			v = json_object_array_get_idx(v, (size_t)atoi(tok));
		else if (!json_object_object_get_ex(v, tok, &v))
			return NULL;
		if (!v)
			return NULL;
	}
	return json_object_get_string(v);
}

static inline bool tdir_has_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp"))
			found = true;
	closedir(d);
	return found;
}

static inline size_t tdir_count(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, sl = strlen(suffix);

	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] != '.' && l >= sl &&
		    !strcmp(de->d_name + l - sl, suffix))
			n++;
	}
	closedir(d);
	return n;
}

static inline void running_update(struct podsvc_status_update *u,
				  const char *ip)
{
	memset(u, 0, sizeof(*u));
	u->phase = PODSVC_RUNNING_PHASE;
	u->vm_started = true;
	snprintf(u->pod_ip, sizeof(u->pod_ip), "%s", ip);
	u->n_containers = 1;
	u->ctr[0].state = PODSVC_RUNNING;
	u->ctr[0].started_ms = 1700000000000LL;
	u->ctr[0].ready = true;
}

#endif
