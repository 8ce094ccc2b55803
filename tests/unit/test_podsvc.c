/* Pod service (daemon/podsvc*.c): records, errors, status, durability,
 * logs. Watches are in test_podsvc_watch.c. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_podsvc_util.h"

static void test_create_get_list_delete(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status st;
	struct json_object *o, *g;
	char *out = NULL, uid[UUID_STR_LEN];
	const char *ts;

	(void)state;
	o = create_pod(t->s, "default", "web", "{\"app\":\"web\"}");
	assert_string_equal(jstr(o, "apiVersion"), "v1");
	assert_string_equal(jstr(o, "kind"), "Pod");
	assert_string_equal(jstr(o, "metadata.name"), "web");
	assert_string_equal(jstr(o, "metadata.namespace"), "default");
	assert_int_equal(strlen(jstr(o, "metadata.uid")), 36);
	assert_string_equal(jstr(o, "metadata.resourceVersion"), "1");
	assert_string_equal(jstr(o, "metadata.labels.app"), "web");
	ts = jstr(o, "metadata.creationTimestamp");
	assert_int_equal(strlen(ts), 20);
	assert_true(ts[10] == 'T' && ts[19] == 'Z');
	assert_string_equal(jstr(o, "spec.restartPolicy"), "Always");
	assert_string_equal(jstr(o, "spec.terminationGracePeriodSeconds"), "30");
	assert_string_equal(jstr(o, "spec.nodeName"), "node-1");
	assert_string_equal(jstr(o, "spec.containers.0.image"), "busybox");
	assert_string_equal(jstr(o, "status.phase"), "Pending");
	assert_string_equal(jstr(o, "status.conditions.0.type"), "PodScheduled");
	assert_string_equal(jstr(o, "status.conditions.0.status"), "True");
	snprintf(uid, sizeof(uid), "%s", jstr(o, "metadata.uid"));
	assert_int_equal(t->fr.starts, 1);
	assert_string_equal(t->fr.last_start, uid);

	assert_int_equal(podsvc_get(t->s, "default", "web", &out, &st), 0);
	g = json_tokener_parse(out);
	assert_string_equal(jstr(g, "metadata.uid"), uid);
	json_object_put(g);
	free(out);
	assert_int_equal(podsvc_get(t->s, "other", "web", &out, &st), -1);
	assert_int_equal(st.code, 404);
	assert_string_equal(st.reason, "NotFound");
	assert_string_equal(st.message, "pods \"web\" not found");

	assert_int_equal(podsvc_list(t->s, NULL, &out, &st), 0);
	g = json_tokener_parse(out);
	assert_string_equal(jstr(g, "kind"), "PodList");
	assert_string_equal(jstr(g, "metadata.resourceVersion"), "1");
	assert_string_equal(jstr(g, "items.0.metadata.name"), "web");
	json_object_put(g);
	free(out);

	assert_int_equal(podsvc_delete(t->s, "default", "web", -1, &out, &st), 0);
	g = json_tokener_parse(out);
	assert_non_null(jstr(g, "metadata.deletionTimestamp"));
	assert_string_equal(jstr(g, "metadata.deletionGracePeriodSeconds"), "30");
	assert_string_equal(jstr(g, "metadata.resourceVersion"), "2");
	json_object_put(g);
	free(out);
	assert_int_equal(t->fr.stops, 1);
	assert_int_equal(t->fr.last_grace, 30);
	assert_string_equal(t->fr.last_stop, uid);
	/* again: the same object, no second stop */
	assert_int_equal(podsvc_delete(t->s, "default", "web", 0, &out, &st), 0);
	g = json_tokener_parse(out);
	assert_string_equal(jstr(g, "metadata.resourceVersion"), "2");
	json_object_put(g);
	free(out);
	assert_int_equal(t->fr.stops, 1);
	assert_int_equal(podsvc_delete(t->s, "default", "nope", 0, &out, &st), -1);
	assert_int_equal(st.code, 404);

	assert_int_equal(podsvc_finalize_delete(t->s, uid), 0);
	assert_int_equal(podsvc_finalize_delete(t->s, uid), -ENOENT);
	assert_int_equal(podsvc_get(t->s, "default", "web", &out, &st), -1);
	assert_int_equal(st.code, 404);
	assert_int_equal(podsvc_list(t->s, NULL, &out, &st), 0);
	assert_non_null(strstr(out, "\"items\":[]"));
	assert_non_null(strstr(out, "\"resourceVersion\":\"3\""));
	free(out);
	json_object_put(o);
	tsvc_free(t);
}

static void test_create_errors(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status st;
	const char *bad = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
			  "{\"name\":\"bad\"},\"spec\":{\"containers\":[{\"name\":"
			  "\"a\",\"bogus\":1}],\"hostNetwork\":true}}";
	char *out = NULL, *body;
	bool seen_bogus = false, seen_image = false;
	struct json_object *o;

	(void)state;
	assert_int_equal(podsvc_create(t->s, "default", bad, strlen(bad), &out,
				       &st), -1);
	assert_null(out);
	assert_int_equal(st.code, 422);
	assert_string_equal(st.reason, "Invalid");
	assert_string_equal(st.name, "bad");
	assert_true(st.causes.n >= 3);
	for (size_t i = 0; i < st.causes.n; i++) {
		if (!strcmp(st.causes.items[i].field, "spec.containers[0].bogus"))
			seen_bogus = true;
		if (!strcmp(st.causes.items[i].field, "spec.containers[0].image"))
			seen_image = true;
	}
	assert_true(seen_bogus && seen_image);
	assert_non_null(strstr(st.message, "Pod \"bad\" is invalid: ["));
	assert_non_null(strstr(st.message, "spec.hostNetwork"));

	/* not JSON: 400 */
	assert_int_equal(podsvc_create(t->s, "default", "{nope", 5, &out, &st), -1);
	assert_int_equal(st.code, 400);

	/* duplicate: 409 */
	o = create_pod(t->s, "default", "dup", NULL);
	json_object_put(o);
	body = pod_body("dup", NULL, NULL);
	assert_int_equal(podsvc_create(t->s, "default", body, strlen(body), &out,
				       &st), -1);
	assert_int_equal(st.code, 409);
	assert_string_equal(st.reason, "AlreadyExists");
	assert_string_equal(st.message, "pods \"dup\" already exists");
	/* same name in another namespace is fine */
	assert_int_equal(podsvc_create(t->s, "team-a", body, strlen(body), &out,
				       &st), 0);
	o = json_tokener_parse(out);
	assert_string_equal(jstr(o, "metadata.namespace"), "team-a");
	json_object_put(o);
	free(out);
	free(body);

	/* namespace mismatch: 400; matching explicit one is fine */
	body = pod_body("nsp", NULL, "other");
	assert_int_equal(podsvc_create(t->s, "default", body, strlen(body), &out,
				       &st), -1);
	assert_int_equal(st.code, 400);
	assert_string_equal(st.reason, "BadRequest");
	assert_non_null(strstr(st.message, "does not match the namespace"));
	assert_int_equal(podsvc_create(t->s, "other", body, strlen(body), &out,
				       &st), 0);
	free(out);
	free(body);
	assert_int_equal(t->fr.starts, 3);
	tsvc_free(t);
}

static void test_status_update(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status_update u;
	struct podsvc_counts c;
	struct podsvc_status st;
	struct json_object *o, *g;
	char uid[UUID_STR_LEN], *out;
	uint64_t rv;

	(void)state;
	o = create_pod(t->s, "default", "web", NULL);
	snprintf(uid, sizeof(uid), "%s", jstr(o, "metadata.uid"));
	json_object_put(o);
	running_update(&u, "10.1.0.5");
	assert_int_equal(podsvc_update_status(t->s, uid, &u), 0);
	podsvc_counts(t->s, &c);
	rv = c.resource_version;
	assert_int_equal(rv, 2);
	assert_int_equal(c.by_phase[PODSVC_RUNNING_PHASE], 1);
	/* the same report again: no change, no event */
	assert_int_equal(podsvc_update_status(t->s, uid, &u), 0);
	podsvc_counts(t->s, &c);
	assert_int_equal(c.resource_version, rv);

	assert_int_equal(podsvc_get(t->s, "default", "web", &out, &st), 0);
	g = json_tokener_parse(out);
	free(out);
	assert_string_equal(jstr(g, "status.phase"), "Running");
	assert_string_equal(jstr(g, "status.podIP"), "10.1.0.5");
	assert_string_equal(jstr(g, "status.podIPs.0.ip"), "10.1.0.5");
	assert_string_equal(jstr(g, "status.hostIP"), "10.0.0.1");
	assert_non_null(jstr(g, "status.startTime"));
	assert_string_equal(jstr(g, "status.conditions.1.type"), "Ready");
	assert_string_equal(jstr(g, "status.conditions.1.status"), "True");
	assert_null(jstr(g, "status.conditions.1.lastProbeTime"));
	assert_string_equal(jstr(g, "status.containerStatuses.0.name"), "app");
	assert_string_equal(jstr(g, "status.containerStatuses.0.state.running.startedAt"),
			    "2023-11-14T22:13:20Z");
	assert_string_equal(jstr(g, "status.containerStatuses.0.ready"), "true");
	assert_string_equal(jstr(g, "status.containerStatuses.0.started"), "true");
	assert_string_equal(jstr(g, "status.containerStatuses.0.image"), "busybox");
	assert_string_equal(jstr(g, "status.containerStatuses.0.imageID"), "");
	json_object_put(g);

	u.phase = PODSVC_SUCCEEDED;
	u.ctr[0].state = PODSVC_TERMINATED;
	u.ctr[0].ready = false;
	u.ctr[0].finished_ms = 1700000001000LL;
	assert_int_equal(podsvc_update_status(t->s, uid, &u), 0);
	assert_int_equal(podsvc_get(t->s, "default", "web", &out, &st), 0);
	g = json_tokener_parse(out);
	free(out);
	assert_string_equal(jstr(g, "status.phase"), "Succeeded");
	assert_string_equal(jstr(g, "status.containerStatuses.0.state.terminated.exitCode"), "0");
	assert_string_equal(jstr(g, "status.containerStatuses.0.state.terminated.reason"),
			    "Completed");
	assert_string_equal(jstr(g, "status.conditions.1.status"), "False");
	assert_string_equal(jstr(g, "status.conditions.1.reason"), "PodCompleted");
	json_object_put(g);
	assert_int_equal(podsvc_update_status(t->s, "no-such-uid", &u), -ENOENT);
	tsvc_free(t);
}

static void test_delete_during_start(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct json_object *o;

	(void)state;
	/* the runner sees start, then stop, even when DELETE races start */
	t->fr.delete_in_start_ns = "default";
	t->fr.delete_in_start_name = "racy";
	o = create_pod(t->s, "default", "racy", NULL);
	json_object_put(o);
	assert_string_equal(t->fr.order, "ST");
	assert_int_equal(t->fr.last_grace, 5);
	tsvc_free(t);
}

static void test_finalize_in_stop(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status st;
	struct json_object *o;
	char *out;

	(void)state;
	t->fr.finalize_in_stop = true;   /* runner finalizes synchronously */
	o = create_pod(t->s, "default", "quick", NULL);
	json_object_put(o);
	assert_int_equal(podsvc_delete(t->s, "default", "quick", 0, &out, &st), 0);
	free(out);
	assert_int_equal(podsvc_get(t->s, "default", "quick", &out, &st), -1);
	assert_int_equal(st.code, 404);
	tsvc_free(t);
}

struct seen { int n; char uid[4][UUID_STR_LEN]; bool del[4]; };

static void on_pod(void *opaque, const char *uid, const struct pod *pod,
		   bool deleting)
{
	struct seen *s = opaque;

	assert_non_null(pod);
	assert_true(s->n < 4);
	snprintf(s->uid[s->n], UUID_STR_LEN, "%s", uid);
	s->del[s->n++] = deleting;
}

static void test_durability(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status_update u;
	struct podsvc_counts c;
	struct podsvc_status st;
	struct json_object *a, *b, *g;
	struct seen seen = { 0 };
	char path[256], *out, *before;

	(void)state;
	a = create_pod(t->s, "default", "a", "{\"x\":\"1\"}");
	b = create_pod(t->s, "default", "b", NULL);
	running_update(&u, "10.1.0.7");
	assert_int_equal(podsvc_update_status(t->s, jstr(a, "metadata.uid"), &u), 0);
	u.phase = PODSVC_FAILED;
	u.ctr[0].state = PODSVC_TERMINATED;
	u.ctr[0].exit_code = 1;
	assert_int_equal(podsvc_update_status(t->s, jstr(b, "metadata.uid"), &u), 0);
	assert_int_equal(podsvc_list(t->s, NULL, &before, &st), 0);

	snprintf(path, sizeof(path), "%s/daemon/pods", t->dir);
	assert_false(tdir_has_tmp(path));
	assert_int_equal(tdir_count(path, ".json"), 2);
	snprintf(path, sizeof(path), "%s/daemon/events", t->dir);
	assert_false(tdir_has_tmp(path));
	assert_int_equal(tdir_count(path, ".json"), 4);

	tsvc_reopen(t);
	assert_int_equal(podsvc_list(t->s, NULL, &out, &st), 0);
	assert_string_equal(out, before);   /* byte for byte */
	free(out);
	free(before);
	podsvc_counts(t->s, &c);
	assert_int_equal(c.pods, 2);
	assert_int_equal(c.resource_version, 4);
	assert_int_equal(c.by_phase[PODSVC_FAILED], 1);
	/* the runner reattaches unfinished pods only */
	podsvc_foreach(t->s, on_pod, &seen);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.uid[0], jstr(a, "metadata.uid"));
	/* rv continues */
	g = create_pod(t->s, "default", "c", NULL);
	assert_string_equal(jstr(g, "metadata.resourceVersion"), "5");
	json_object_put(g);
	/* names stay taken across the restart */
	g = NULL;
	out = pod_body("a", NULL, NULL);
	assert_int_equal(podsvc_create(t->s, "default", out, strlen(out), &before,
				       &st), -1);
	assert_int_equal(st.code, 409);
	free(out);
	json_object_put(a);
	json_object_put(b);
	tsvc_free(t);
}

static void write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_corrupt_and_replay(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status st;
	struct json_object *a;
	char path[512], *out;

	(void)state;
	a = create_pod(t->s, "default", "a", NULL);
	podsvc_close(t->s);
	t->s = NULL;
	/* garbage record, a leftover temp file, and the crash between the
	 * event write and the record write (record missing) */
	snprintf(path, sizeof(path), "%s/daemon/pods/junk.json", t->dir);
	write_text(path, "{not json");
	snprintf(path, sizeof(path), "%s/daemon/pods/.x.json.tmp", t->dir);
	write_text(path, "half");
	snprintf(path, sizeof(path), "%s/daemon/pods/%s.json", t->dir,
		 jstr(a, "metadata.uid"));
	assert_int_equal(unlink(path), 0);
	tsvc_open(t);
	snprintf(path, sizeof(path), "%s/daemon/pods/junk.json.corrupt", t->dir);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/daemon/pods", t->dir);
	assert_false(tdir_has_tmp(path));
	assert_int_equal(podsvc_get(t->s, "default", "a", &out, &st), 0);
	assert_non_null(strstr(out, jstr(a, "metadata.uid")));
	free(out);
	snprintf(path, sizeof(path), "%s/daemon/pods/%s.json", t->dir,
		 jstr(a, "metadata.uid"));
	assert_int_equal(access(path, F_OK), 0);   /* record rewritten */
	json_object_put(a);
	tsvc_free(t);
}

static void test_compaction(void **state)
{
	struct tsvc *t = tsvc_new(5);
	struct json_object *o;
	char path[256], name[16];

	(void)state;
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		o = create_pod(t->s, "default", name, NULL);
		json_object_put(o);
	}
	snprintf(path, sizeof(path), "%s/daemon/events", t->dir);
	assert_int_equal(tdir_count(path, ".json"), 5);
	snprintf(path, sizeof(path), "%s/daemon/events/8.json", t->dir);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/daemon/events/7.json", t->dir);
	assert_int_equal(access(path, F_OK), -1);
	tsvc_free(t);
}

static char *read_all(const char *path)
{
	char *text = NULL;

	assert_int_equal(util_read_file(path, 1 << 20, &text, NULL, NULL), 0);
	return text;
}

/* The CRI log format: time, stream, P(artial) or F(ull), the line. */
static void expect_cri_lines(const char *path)
{
	char *text = read_all(path), *line2, *line3;

	/* 2026-11-24T23:50:52.123456789Z stdout F hello */
	assert_int_equal(text[10], 'T');
	assert_int_equal(text[19], '.');
	assert_int_equal(text[29], 'Z');
	assert_memory_equal(text + 30, " stdout F hello\n", 16);
	line2 = strchr(text, '\n') + 1;
	assert_memory_equal(line2 + 30, " stdout P wor\n", 14);
	line3 = strchr(line2, '\n') + 1;
	assert_memory_equal(line3 + 30, " stderr F ld\n", 13);
	assert_int_equal(line3[43], '\0');
	free(text);
}

/* Several containers: the log needs a container name. */
static void expect_multi_logs(struct tsvc *t)
{
	const char *multi = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
			    "{\"name\":\"multi\"},\"spec\":{\"containers\":["
			    "{\"name\":\"a\",\"image\":\"x\"},"
			    "{\"name\":\"b\",\"image\":\"y\"}]}}";
	struct podsvc_status st;
	char path[512], *text;
	bool fin;

	assert_int_equal(podsvc_create(t->s, "default", multi, strlen(multi),
				       &text, &st), 0);
	free(text);
	assert_int_equal(podsvc_log_path(t->s, "default", "multi", NULL, false,
					 path, sizeof(path), &fin, &st), -1);
	assert_int_equal(st.code, 400);
	assert_string_equal(st.message, "a container name must be specified for "
			    "pod multi, choose one of: [a b]");
	assert_int_equal(podsvc_log_path(t->s, "default", "multi", "b", false,
					 path, sizeof(path), &fin, &st), 0);
	assert_non_null(strstr(path, "/b.log"));
}

static void test_logs(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status_update u;
	struct podsvc_status st;
	struct json_object *o;
	char uid[UUID_STR_LEN], path[512], *text;
	bool fin;

	(void)state;
	o = create_pod(t->s, "default", "web", NULL);
	snprintf(uid, sizeof(uid), "%s", jstr(o, "metadata.uid"));
	json_object_put(o);
	assert_int_equal(podsvc_append_log(t->s, uid, 0, false,
					   (const uint8_t *)"hello\nwor", 9), 0);
	assert_int_equal(podsvc_append_log(t->s, uid, 0, true,
					   (const uint8_t *)"ld\n", 3), 0);
	assert_int_equal(podsvc_append_log(t->s, uid, 3, false,
					   (const uint8_t *)"x", 1), -EINVAL);
	assert_int_equal(podsvc_append_log(t->s, "nope", 0, false,
					   (const uint8_t *)"x", 1), -ENOENT);

	assert_int_equal(podsvc_log_path(t->s, "default", "web", NULL, false,
					 path, sizeof(path), &fin, &st), 0);
	assert_false(fin);
	assert_non_null(strstr(path, "/daemon/logs/"));
	assert_non_null(strstr(path, "/app.log"));
	expect_cri_lines(path);

	assert_int_equal(podsvc_log_path(t->s, "default", "nope", NULL, false,
					 path, sizeof(path), &fin, &st), -1);
	assert_int_equal(st.code, 404);
	assert_int_equal(podsvc_log_path(t->s, "default", "web", "x", false,
					 path, sizeof(path), &fin, &st), -1);
	assert_int_equal(st.code, 400);
	assert_string_equal(st.message, "container \"x\" is not valid for pod \"web\"");
	assert_int_equal(podsvc_log_path(t->s, "default", "web", "app", true,
					 path, sizeof(path), &fin, &st), -1);
	assert_int_equal(st.code, 400);
	assert_string_equal(st.message, "previous terminated container \"app\" "
			    "in pod \"web\" not found");

	/* restart: the log becomes the previous one */
	running_update(&u, "10.1.0.9");
	u.ctr[0].restart_count = 1;
	assert_int_equal(podsvc_update_status(t->s, uid, &u), 0);
	assert_int_equal(podsvc_log_path(t->s, "default", "web", "app", true,
					 path, sizeof(path), &fin, &st), 0);
	assert_true(fin);
	text = read_all(path);
	assert_non_null(strstr(text, "hello"));
	free(text);
	u.ctr[0].state = PODSVC_TERMINATED;
	assert_int_equal(podsvc_update_status(t->s, uid, &u), 0);
	assert_int_equal(podsvc_log_path(t->s, "default", "web", "", false,
					 path, sizeof(path), &fin, &st), 0);
	assert_true(fin);

	expect_multi_logs(t);

	/* deleting the pod removes its logs */
	snprintf(path, sizeof(path), "%s/daemon/logs/%s", t->dir, uid);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(podsvc_finalize_delete(t->s, uid), 0);
	assert_int_equal(access(path, F_OK), -1);
	tsvc_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_get_list_delete),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_status_update),
		cmocka_unit_test(test_delete_during_start),
		cmocka_unit_test(test_finalize_in_stop),
		cmocka_unit_test(test_durability),
		cmocka_unit_test(test_corrupt_and_replay),
		cmocka_unit_test(test_compaction),
		cmocka_unit_test(test_logs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
