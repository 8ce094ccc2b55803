/* Commits, the in-memory event ring, watches and the outbox reads.
 *
 * Every change gets the next resourceVersion and exactly one event; the
 * ring keeps the last max_events of them (each with the object before the
 * change, so a watcher whose selector stopped matching gets DELETED, as
 * Kubernetes' watch cache does). Watchers only remember the last rv they
 * saw, so they cannot miss or repeat an event, and a watcher that falls
 * behind the ring gets a 410 Expired ERROR event, as in Kubernetes. */
#include "daemon/podsvc_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

struct podsvc_watch {
	struct podsvc *s;
	struct podsvc_sel sel;
	uint64_t last;                 /* last rv looked at */
	char **init;                   /* synthetic ADDED events (rv unset) */
	size_t n_init, i_init;
	bool done;                     /* ERROR sent: closed */
};

const char *podsvc_evtype_name(enum podsvc_evtype t)
{
	switch (t) {
	case PODSVC_MODIFIED: return "MODIFIED";
	case PODSVC_DELETED: return "DELETED";
	case PODSVC_ADDED: break;
	}
	return "ADDED";
}

static char *watch_event_text(const char *type, const char *obj_text)
{
	char *t = NULL;

	if (asprintf(&t, "{\"type\":\"%s\",\"object\":%s}", type, obj_text) < 0)
		return NULL;
	return t;
}

static void ring_clear_slot(struct podsvc_evt *e)
{
	free(e->obj_text);
	json_object_put(e->obj);
	json_object_put(e->prev);
	memset(e, 0, sizeof(*e));
}

int podsvc_ring_push(struct podsvc *s, uint64_t rv, enum podsvc_evtype type,
		     char *obj_text, struct json_object *obj,
		     struct json_object *prev)
{
	struct podsvc_evt *e;

	if (s->ev_n == s->max_events) {
		ring_clear_slot(&s->ev[s->ev_head]);
		s->ev_head = (s->ev_head + 1) % s->max_events;
		s->ev_n--;
	}
	e = &s->ev[(s->ev_head + s->ev_n) % s->max_events];
	e->rv = rv;
	e->type = type;
	e->obj_text = obj_text;
	e->obj = json_object_get(obj);
	e->prev = prev ? json_object_get(prev) : NULL;
	s->ev_n++;
	return 0;
}

void podsvc_ring_free(struct podsvc *s)
{
	for (size_t i = 0; i < s->ev_n; i++)
		ring_clear_slot(&s->ev[(s->ev_head + i) % s->max_events]);
	s->ev_n = 0;
	free(s->ev);
	s->ev = NULL;
}

uint64_t podsvc_ring_oldest(const struct podsvc *s)
{
	return s->ev_n ? s->ev[s->ev_head].rv : 0;
}

static struct podsvc_evt *ring_at(struct podsvc *s, size_t i)
{
	return &s->ev[(s->ev_head + i) % s->max_events];
}

/* Index of the first event with rv > after (ev_n when none). */
static size_t ring_after(struct podsvc *s, uint64_t after)
{
	size_t lo = 0, hi = s->ev_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ring_at(s, mid)->rv <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int podsvc_commit(struct podsvc *s, struct podsvc_rec *r,
		  enum podsvc_evtype type, struct json_object *draft,
		  const char *uid, struct pv_err *err)
{
	uint64_t rv = s->rv + 1;
	struct json_object *obj = podsvc_json_with_rv(draft, rv);
	char *otext = NULL, *etext = NULL, ename[32], pname[UUID_STR_LEN + 8];
	int ret;

	snprintf(ename, sizeof(ename), "%" PRIu64 ".json", rv);
	if (util_fmt(pname, sizeof(pname), "%s.json", uid) < 0) {
		ret = pv_err_set(err, EINVAL, "bad uid");
		goto out;
	}
	if (!obj || !(otext = podsvc_json_text(obj)) ||
	    !(etext = watch_event_text(podsvc_evtype_name(type), otext))) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* event first: on a crash before the record, loading replays it */
	ret = podsvc_store_write(s->events_dfd, ename, etext, strlen(etext), err);
	if (ret < 0)
		goto out;
	if (type == PODSVC_DELETED) {
		if (unlinkat(s->pods_dfd, pname, 0) < 0 && errno != ENOENT)
			ret = pv_err_sys(err, errno, "remove pod record %s", pname);
	} else {
		ret = podsvc_store_write(s->pods_dfd, pname, otext,
					 strlen(otext), err);
	}
	if (ret < 0) {
		unlinkat(s->events_dfd, ename, 0);
		goto out;
	}
	podsvc_ring_push(s, rv, type, otext, obj, r->obj);
	otext = NULL;
	s->rv = rv;
	json_object_put(r->obj);
	r->obj = obj;
	obj = NULL;
	r->rv = rv;
	r->phase = podsvc_json_phase(r->obj);
	pthread_cond_broadcast(&s->cond);
	podsvc_store_compact(s);
out:
	json_object_put(obj);
	free(otext);
	free(etext);
	return ret;
}

/* ---- watches ---------------------------------------------------------- */

static void deadline_after(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* rv text -> number; false for anything but an unsigned decimal. */
static bool watch_parse_rv(const char *rv, uint64_t *out)
{
	char *end;

	if (!rv || !*rv || strspn(rv, "0123456789") != strlen(rv) ||
	    strlen(rv) > 19)
		return false;
	errno = 0;
	*out = strtoull(rv, &end, 10);
	return errno == 0 && !*end;
}

static void watch_free(struct podsvc_watch *w)
{
	if (!w)
		return;
	for (size_t i = w->i_init; i < w->n_init; i++)
		free(w->init[i]);
	free(w->init);
	podsvc_sel_free(&w->sel);
	free(w);
}

/* Under lock: the current matching pods as ADDED events. */
static int watch_snapshot(struct podsvc *s, struct podsvc_watch *w)
{
	if (!s->n_recs)
		return 0;
	w->init = calloc(s->n_recs, sizeof(*w->init));
	if (!w->init)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_recs; i++) {
		struct podsvc_rec *r = s->recs[i];
		const char *t;

		if (!podsvc_sel_match(&w->sel, r->obj))
			continue;
		t = json_object_to_json_string_ext(r->obj,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!t || !(w->init[w->n_init] = watch_event_text("ADDED", t)))
			return -ENOMEM;
		w->n_init++;
	}
	return 0;
}

int podsvc_watch_open(struct podsvc *s, const struct podsvc_selector *sel,
		      const char *rv, struct podsvc_watch **out,
		      struct podsvc_status *st)
{
	struct podsvc_watch *w = calloc(1, sizeof(*w));
	bool from_now = !rv || !*rv || !strcmp(rv, "0");
	uint64_t n = 0, oldest;
	int ret = -1;

	*out = NULL;
	if (!w) {
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
		return -1;
	}
	if (podsvc_sel_parse(sel, &w->sel, st) < 0)
		goto out;
	if (!from_now && !watch_parse_rv(rv, &n)) {
		podsvc_st_set(st, 400, "BadRequest", NULL, "invalid resource "
			      "version \"%.64s\": must be an unsigned integer", rv);
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	if (s->closing) {
		pthread_mutex_unlock(&s->lock);
		podsvc_st_set(st, 503, "ServiceUnavailable", NULL,
			      "podvmd is shutting down");
		goto out;
	}
	if (from_now) {
		if (watch_snapshot(s, w) < 0) {
			pthread_mutex_unlock(&s->lock);
			podsvc_st_set(st, 500, "InternalError", NULL,
				      "out of memory");
			goto out;
		}
		w->last = s->rv;
	} else {
		/* resumable when every event after n is still in the ring */
		oldest = podsvc_ring_oldest(s);
		if (oldest ? n + 1 < oldest : n < s->rv) {
			pthread_mutex_unlock(&s->lock);
			podsvc_st_set(st, 410, "Expired", NULL, "too old "
				      "resource version: %" PRIu64 " (%" PRIu64 ")",
				      n, oldest ? oldest - 1 : s->rv);
			goto out;
		}
		w->last = n;
	}
	w->s = s;
	s->refs++;
	pthread_mutex_unlock(&s->lock);
	*out = w;
	w = NULL;
	ret = 0;
out:
	watch_free(w);
	return ret;
}

/* The type this watcher sees for e, or NULL to skip it. */
static const char *watch_type(struct podsvc_watch *w,
			      const struct podsvc_evt *e)
{
	bool now = podsvc_sel_match(&w->sel, e->obj);
	bool before = e->prev ? podsvc_sel_match(&w->sel, e->prev) : now;

	if (e->type != PODSVC_MODIFIED)
		return now ? podsvc_evtype_name(e->type) : NULL;
	if (now)
		return before ? "MODIFIED" : "ADDED";
	return before ? "DELETED" : NULL;
}

static char *watch_expired(uint64_t last, uint64_t oldest)
{
	char *t = NULL;

	if (asprintf(&t, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
		     "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
		     "\"Failure\",\"message\":\"too old resource version: %"
		     PRIu64 " (%" PRIu64 ")\",\"reason\":\"Expired\","
		     "\"code\":410}}", last, oldest - 1) < 0)
		return NULL;
	return t;
}

int podsvc_watch_next(struct podsvc_watch *w, int timeout_ms, char **event)
{
	struct podsvc *s = w->s;
	struct timespec dl;
	int ret = 0;

	*event = NULL;
	if (w->i_init < w->n_init) {
		*event = w->init[w->i_init];
		w->init[w->i_init++] = NULL;
		return 1;
	}
	if (w->done)
		return -1;
	if (timeout_ms >= 0)
		deadline_after(&dl, timeout_ms);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint64_t oldest = podsvc_ring_oldest(s);
		size_t i;

		if (s->closing) {
			ret = -1;
			break;
		}
		if (oldest && w->last + 1 < oldest) {
			/* fell behind the ring: Kubernetes ends the watch
			 * with 410 and the client relists */
			*event = watch_expired(w->last, oldest);
			w->done = true;
			ret = *event ? 1 : -1;
			break;
		}
		for (i = ring_after(s, w->last); i < s->ev_n; i++) {
			struct podsvc_evt *e = ring_at(s, i);
			const char *type = watch_type(w, e);

			if (!type) {
				w->last = e->rv;
				continue;
			}
			*event = watch_event_text(type, e->obj_text);
			if (*event)
				w->last = e->rv;
			break;   /* on ENOMEM: retry this event next call */
		}
		if (*event) {
			ret = 1;
			break;
		}
		if (i < s->ev_n || timeout_ms == 0)
			break;
		if (timeout_ms < 0)
			pthread_cond_wait(&s->cond, &s->lock);
		else if (pthread_cond_timedwait(&s->cond, &s->lock, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void podsvc_watch_close(struct podsvc_watch *w)
{
	struct podsvc *s;

	if (!w)
		return;
	s = w->s;
	pthread_mutex_lock(&s->lock);
	s->refs--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	watch_free(w);
}

/* ---- outbox ------------------------------------------------------------ */

size_t podsvc_events_after(struct podsvc *s, uint64_t after,
			   struct podsvc_event *out, size_t max)
{
	size_t k = 0, i;
	uint64_t oldest, rv;

	pthread_mutex_lock(&s->lock);
	oldest = podsvc_ring_oldest(s);
	if (!oldest)
		oldest = s->rv + 1;
	/* older than the ring: still on disk while undelivered */
	rv = after + 1 > s->disk_oldest ? after + 1 : s->disk_oldest;
	for (; rv < oldest && k < max; rv++) {
		char *t = podsvc_store_read_event(s, rv);

		if (t)
			out[k++] = (struct podsvc_event){ .rv = rv, .json = t };
	}
	for (i = ring_after(s, after); i < s->ev_n && k < max; i++) {
		struct podsvc_evt *e = ring_at(s, i);
		char *t = watch_event_text(podsvc_evtype_name(e->type),
					   e->obj_text);

		if (!t)
			break;   /* the caller asks again later */
		out[k++] = (struct podsvc_event){ .rv = e->rv, .json = t };
	}
	pthread_mutex_unlock(&s->lock);
	return k;
}

void podsvc_events_free(struct podsvc_event *ev, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ev[i].json);
		ev[i].json = NULL;
	}
}

int podsvc_events_wait(struct podsvc *s, uint64_t after, int timeout_ms)
{
	struct timespec dl;
	int ret;

	deadline_after(&dl, timeout_ms < 0 ? 0 : timeout_ms);
	pthread_mutex_lock(&s->lock);
	s->refs++;
	while (s->rv <= after && !s->closing && timeout_ms > 0 &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &dl) != ETIMEDOUT)
		;
	ret = s->rv > after;
	s->refs--;
	pthread_cond_broadcast(&s->idle);
	pthread_mutex_unlock(&s->lock);
	return ret;
}
