/* Pod service watches (daemon/podsvc_watch.c, podsvc_select.c): rv
 * semantics, resume without gap or duplicate, 410, selectors, resumption
 * across a restart, concurrent watchers, shutdown, the outbox reads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_podsvc_util.h"

/* Next event, parsed; type and rv checked when given. */
static struct json_object *next_event(struct podsvc_watch *w,
				      const char *type, const char *rv)
{
	char *ev = NULL;
	struct json_object *o;

	assert_int_equal(podsvc_watch_next(w, 2000, &ev), 1);
	o = json_tokener_parse(ev);
	assert_non_null(o);
	free(ev);
	if (type)
		assert_string_equal(jstr(o, "type"), type);
	if (rv)
		assert_string_equal(jstr(o, "object.metadata.resourceVersion"), rv);
	return o;
}

static void no_event(struct podsvc_watch *w)
{
	char *ev = NULL;

	assert_int_equal(podsvc_watch_next(w, 0, &ev), 0);
	assert_null(ev);
}

static char *uid_of(struct json_object *o)
{
	char *u = strdup(jstr(o, "metadata.uid"));

	assert_non_null(u);
	json_object_put(o);
	return u;
}

static void test_watch_from_now(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_selector sel = { .label = "app=web" };
	struct podsvc_status_update u;
	struct podsvc_status st;
	struct podsvc_watch *w;
	struct json_object *e;
	char *a;

	(void)state;
	a = uid_of(create_pod(t->s, "default", "a", "{\"app\":\"web\"}"));
	json_object_put(create_pod(t->s, "default", "b", "{\"app\":\"db\"}"));
	assert_int_equal(podsvc_watch_open(t->s, &sel, "0", &w, &st), 0);
	e = next_event(w, "ADDED", "1");
	assert_string_equal(jstr(e, "object.metadata.name"), "a");
	json_object_put(e);
	no_event(w);
	running_update(&u, "10.2.0.1");
	assert_int_equal(podsvc_update_status(t->s, a, &u), 0);
	json_object_put(create_pod(t->s, "default", "c", "{\"app\":\"db\"}"));
	e = next_event(w, "MODIFIED", "3");
	assert_string_equal(jstr(e, "object.status.phase"), "Running");
	json_object_put(e);
	no_event(w);   /* c does not match */
	podsvc_watch_close(w);

	/* rv unset behaves as "0" */
	assert_int_equal(podsvc_watch_open(t->s, NULL, NULL, &w, &st), 0);
	for (int i = 0; i < 3; i++)
		json_object_put(next_event(w, "ADDED", NULL));
	no_event(w);
	podsvc_watch_close(w);
	free(a);
	tsvc_free(t);
}

static void test_watch_resume(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status st;
	struct podsvc_watch *w;
	struct json_object *e;
	char *a, *out;

	(void)state;
	a = uid_of(create_pod(t->s, "default", "a", NULL));      /* 1 */
	json_object_put(create_pod(t->s, "default", "b", NULL)); /* 2 */
	json_object_put(create_pod(t->s, "default", "c", NULL)); /* 3 */
	assert_int_equal(podsvc_delete(t->s, "default", "a", 0, &out, &st), 0);
	free(out);                                               /* 4 */
	assert_int_equal(podsvc_finalize_delete(t->s, a), 0);    /* 5 */

	assert_int_equal(podsvc_watch_open(t->s, NULL, "2", &w, &st), 0);
	e = next_event(w, "ADDED", "3");
	assert_string_equal(jstr(e, "object.metadata.name"), "c");
	json_object_put(e);
	e = next_event(w, "MODIFIED", "4");
	assert_non_null(jstr(e, "object.metadata.deletionTimestamp"));
	json_object_put(e);
	e = next_event(w, "DELETED", "5");
	assert_string_equal(jstr(e, "object.metadata.name"), "a");
	json_object_put(e);
	no_event(w);
	json_object_put(create_pod(t->s, "default", "d", NULL)); /* 6 */
	json_object_put(next_event(w, "ADDED", "6"));
	no_event(w);
	podsvc_watch_close(w);

	/* the newest rv: nothing until something happens */
	assert_int_equal(podsvc_watch_open(t->s, NULL, "6", &w, &st), 0);
	no_event(w);
	podsvc_watch_close(w);

	assert_int_equal(podsvc_watch_open(t->s, NULL, "abc", &w, &st), -1);
	assert_int_equal(st.code, 400);
	assert_int_equal(podsvc_watch_open(t->s, NULL, "-1", &w, &st), -1);
	assert_int_equal(st.code, 400);
	free(a);
	tsvc_free(t);
}

static void test_watch_gone(void **state)
{
	struct tsvc *t = tsvc_new(3);
	struct podsvc_status st;
	struct podsvc_watch *w, *slow;
	struct json_object *e;
	char name[16], *ev;

	(void)state;
	json_object_put(create_pod(t->s, "default", "p0", NULL));
	assert_int_equal(podsvc_watch_open(t->s, NULL, "1", &slow, &st), 0);
	for (int i = 1; i < 6; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		json_object_put(create_pod(t->s, "default", name, NULL));
	}
	/* ring holds 4..6: rv 3 resumes, rv 2 is gone */
	assert_int_equal(podsvc_watch_open(t->s, NULL, "3", &w, &st), 0);
	json_object_put(next_event(w, "ADDED", "4"));
	podsvc_watch_close(w);
	assert_int_equal(podsvc_watch_open(t->s, NULL, "2", &w, &st), -1);
	assert_int_equal(st.code, 410);
	assert_string_equal(st.reason, "Expired");
	assert_string_equal(st.message, "too old resource version: 2 (3)");
	/* a watcher that fell behind gets 410 in-band, then the end */
	e = next_event(slow, "ERROR", NULL);
	assert_string_equal(jstr(e, "object.code"), "410");
	json_object_put(e);
	assert_int_equal(podsvc_watch_next(slow, 0, &ev), -1);
	podsvc_watch_close(slow);
	tsvc_free(t);
}

static size_t list_count(struct podsvc *s, const char *ns, const char *label,
			 const char *field, int *code)
{
	struct podsvc_selector sel = { .namespace = ns, .label = label,
				       .field = field };
	struct podsvc_status st;
	struct json_object *o, *items;
	char *out = NULL;
	size_t n;

	*code = 200;
	if (podsvc_list(s, &sel, &out, &st) < 0) {
		*code = st.code;
		return 0;
	}
	o = json_tokener_parse(out);
	free(out);
	assert_true(json_object_object_get_ex(o, "items", &items));
	n = json_object_array_length(items);
	json_object_put(o);
	return n;
}

static void test_selectors(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status_update u;
	struct podsvc_status st;
	struct podsvc_selector sel = { .field = "status.phase=Pending" };
	struct podsvc_watch *w;
	struct json_object *e;
	char *a;
	int code;

	(void)state;
	a = uid_of(create_pod(t->s, "default", "a",
			      "{\"app\":\"web\",\"tier\":\"front\"}"));
	json_object_put(create_pod(t->s, "default", "b", "{\"app\":\"db\"}"));
	json_object_put(create_pod(t->s, "kube", "c", NULL));
	assert_int_equal(list_count(t->s, NULL, NULL, NULL, &code), 3);
	assert_int_equal(list_count(t->s, "default", NULL, NULL, &code), 2);
	assert_int_equal(list_count(t->s, NULL, "app=web", NULL, &code), 1);
	assert_int_equal(list_count(t->s, NULL, "app==web", NULL, &code), 1);
	assert_int_equal(list_count(t->s, NULL, "app!=web", NULL, &code), 2);
	assert_int_equal(list_count(t->s, NULL, "app", NULL, &code), 2);
	assert_int_equal(list_count(t->s, NULL, "!app", NULL, &code), 1);
	assert_int_equal(list_count(t->s, NULL, "app=web, tier=front", NULL,
				    &code), 1);
	assert_int_equal(list_count(t->s, NULL, "app=web,tier=back", NULL,
				    &code), 0);
	assert_int_equal(list_count(t->s, NULL, NULL, "metadata.name=b", &code), 1);
	assert_int_equal(list_count(t->s, NULL, NULL, "metadata.namespace!=kube",
				    &code), 2);
	assert_int_equal(list_count(t->s, "default", "app",
				    "metadata.name==a", &code), 1);
	assert_int_equal(list_count(t->s, NULL, NULL, "spec.nodeName=node-1",
				    &code), 3);
	assert_int_equal(list_count(t->s, NULL, NULL, "spec.bogus=1", &code), 0);
	assert_int_equal(code, 400);
	assert_int_equal(list_count(t->s, NULL, "app in (web)", NULL, &code), 0);
	assert_int_equal(code, 400);
	assert_int_equal(list_count(t->s, NULL, "app=web,", NULL, &code), 0);
	assert_int_equal(code, 400);
	assert_int_equal(list_count(t->s, NULL, "a=b=c", NULL, &code), 0);
	assert_int_equal(code, 400);
	sel.field = "metadata.uid=x";
	assert_int_equal(podsvc_watch_open(t->s, &sel, NULL, &w, &st), -1);
	assert_int_equal(st.code, 400);
	assert_string_equal(st.message, "field label not supported: metadata.uid");

	/* a pod that stops matching leaves the watcher's view: DELETED */
	sel.field = "status.phase=Pending";
	assert_int_equal(podsvc_watch_open(t->s, &sel, "3", &w, &st), 0);
	running_update(&u, "10.3.0.1");
	assert_int_equal(podsvc_update_status(t->s, a, &u), 0);
	e = next_event(w, "DELETED", "4");
	assert_string_equal(jstr(e, "object.status.phase"), "Running");
	json_object_put(e);
	no_event(w);
	podsvc_watch_close(w);
	free(a);
	tsvc_free(t);
}

static void test_resume_across_reopen(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct podsvc_status st;
	struct podsvc_watch *w;

	(void)state;
	json_object_put(create_pod(t->s, "default", "a", NULL));
	json_object_put(create_pod(t->s, "default", "b", NULL));
	json_object_put(create_pod(t->s, "default", "c", NULL));
	tsvc_reopen(t);
	assert_int_equal(podsvc_watch_open(t->s, NULL, "1", &w, &st), 0);
	json_object_put(next_event(w, "ADDED", "2"));
	json_object_put(next_event(w, "ADDED", "3"));
	json_object_put(create_pod(t->s, "default", "d", NULL));
	json_object_put(next_event(w, "ADDED", "4"));
	no_event(w);
	podsvc_watch_close(w);
	tsvc_free(t);
}

#define N_WATCHERS 4
#define N_PODS     20

struct watcher {
	struct podsvc_watch *w;
	int got;
	bool in_order;
	int end;          /* podsvc_watch_next's last result */
};

static void *watcher_main(void *arg)
{
	struct watcher *wt = arg;
	uint64_t last = 0;
	char *ev;

	wt->in_order = true;
	for (;;) {
		int rc = podsvc_watch_next(wt->w, 10000, &ev);
		struct json_object *o;
		uint64_t rv;

		if (rc != 1) {
			wt->end = rc;
			break;
		}
		o = json_tokener_parse(ev);
		rv = strtoull(jstr(o, "object.metadata.resourceVersion"), NULL, 10);
		if (rv != last + 1)
			wt->in_order = false;
		last = rv;
		wt->got++;
		json_object_put(o);
		free(ev);
	}
	podsvc_watch_close(wt->w);
	return NULL;
}

static void test_concurrent_and_close(void **state)
{
	struct tsvc *t = tsvc_new(0);
	struct watcher wt[N_WATCHERS];
	pthread_t th[N_WATCHERS];
	struct podsvc_status st;
	char name[16];

	(void)state;
	memset(wt, 0, sizeof(wt));
	for (int i = 0; i < N_WATCHERS; i++) {
		assert_int_equal(podsvc_watch_open(t->s, NULL, "0", &wt[i].w, &st), 0);
		assert_int_equal(pthread_create(&th[i], NULL, watcher_main, &wt[i]), 0);
	}
	for (int i = 0; i < N_PODS; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		json_object_put(create_pod(t->s, "default", name, NULL));
	}
	/* wait until all watchers have everything, then shut down: the
	 * blocked watchers must wake with -1 */
	for (int tries = 0; tries < 500; tries++) {
		int done = 0;

		for (int i = 0; i < N_WATCHERS; i++)
			done += __atomic_load_n(&wt[i].got, __ATOMIC_SEQ_CST) == N_PODS;
		if (done == N_WATCHERS)
			break;
		usleep(10000);
	}
	podsvc_close(t->s);
	t->s = NULL;
	for (int i = 0; i < N_WATCHERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(wt[i].got, N_PODS);
		assert_true(wt[i].in_order);
		assert_int_equal(wt[i].end, -1);
	}
	tsvc_free(t);
}

static void test_outbox_reads(void **state)
{
	struct tsvc *t = tsvc_new(3);
	struct podsvc_event ev[32];
	struct pv_err err = { 0 };
	char name[16], path[256];
	size_t n;

	(void)state;
	assert_int_equal(podsvc_outbox_attach(t->s), 0);
	assert_int_equal(podsvc_events_wait(t->s, 0, 10), 0);
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		json_object_put(create_pod(t->s, "default", name, NULL));
	}
	assert_int_equal(podsvc_events_wait(t->s, 9, 10), 1);
	/* undelivered events outlive the ring: all 10 still readable */
	n = podsvc_events_after(t->s, 0, ev, 32);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ev[i].rv, i + 1);
		assert_non_null(strstr(ev[i].json, "{\"type\":\"ADDED\",\"object\":"));
	}
	podsvc_events_free(ev, n);
	n = podsvc_events_after(t->s, 4, ev, 2);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].rv, 5);
	podsvc_events_free(ev, n);

	assert_int_equal(podsvc_outbox_ack(t->s, 6, &err), 0);
	snprintf(path, sizeof(path), "%s/daemon/events", t->dir);
	assert_int_equal(tdir_count(path, ".json"), 4);   /* 7..10 */
	/* the cursor survives a restart and keeps limiting compaction */
	tsvc_reopen(t);
	assert_int_equal(podsvc_outbox_attach(t->s), 6);
	n = podsvc_events_after(t->s, 6, ev, 32);
	assert_int_equal(n, 4);
	assert_int_equal(ev[0].rv, 7);
	podsvc_events_free(ev, n);
	tsvc_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_from_now),
		cmocka_unit_test(test_watch_resume),
		cmocka_unit_test(test_watch_gone),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_resume_across_reopen),
		cmocka_unit_test(test_concurrent_and_close),
		cmocka_unit_test(test_outbox_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
