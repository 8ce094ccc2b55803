/* Control-plane reporter: the outbox sender and the node heartbeat
 * (protocol in daemon/reporter.h).
 *
 * The sender never skips an event on failure: it retries the same event
 * with backoff until it is acknowledged, then stores the cursor, so
 * delivery is in order and at least once. Neither thread holds a lock
 * during network I/O; stop wakes sleeps and aborts a transfer in flight
 * through libcurl's progress callback. */
#include "daemon/reporter.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "host/log.h"
#include "util/util.h"

#define REPORTER_BATCH        64
#define REPORTER_CONNECT_MS   2000L
#define REPORTER_TIMEOUT_MS   10000L
#define REPORTER_DEFAULT_PODS 110

struct reporter {
	char *url, *node, *backend;
	unsigned max_pods;
	int heartbeat_ms, backoff_min_ms, backoff_max_ms;
	struct podsvc *svc;
	pthread_t ev_thread, hb_thread;
	bool ev_started, hb_started;

	pthread_mutex_t mu;            /* guards the fields below */
	pthread_cond_t cv;             /* stopping */
	bool stopping;
	struct reporter_stats st;
};

static pthread_once_t reporter_curl_once = PTHREAD_ONCE_INIT;
static CURLcode reporter_curl_rc;

static void reporter_curl_init(void)
{
	reporter_curl_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool reporter_stopping(struct reporter *r)
{
	bool s;

	pthread_mutex_lock(&r->mu);
	s = r->stopping;
	pthread_mutex_unlock(&r->mu);
	return s;
}

/* Sleep ms unless stopped first; false when stopping. */
static bool reporter_sleep(struct reporter *r, int ms)
{
	struct timespec dl;
	bool s;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += ms / 1000;
	dl.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->mu);
	while (!r->stopping &&
	       pthread_cond_timedwait(&r->cv, &r->mu, &dl) != ETIMEDOUT)
		;
	s = r->stopping;
	pthread_mutex_unlock(&r->mu);
	return !s;
}

static int reporter_progress(void *p, curl_off_t dt, curl_off_t dn,
			     curl_off_t ut, curl_off_t un)
{
	(void)dt; (void)dn; (void)ut; (void)un;
	return reporter_stopping(p) ? 1 : 0;   /* non-zero aborts */
}

static size_t reporter_discard(char *ptr, size_t size, size_t n, void *u)
{
	(void)ptr; (void)u;
	return size * n;
}

/* POST body; 0 on a 2xx answer, else -1 with why filled. */
static int reporter_post(struct reporter *r, CURL *h, const char *body,
			 char *why, size_t whylen)
{
	struct curl_slist *hdr = NULL, *nh;
	long code = 0;
	CURLcode rc;
	int ret = -1;

	nh = curl_slist_append(hdr, "Content-Type: application/json");
	if (!nh) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	hdr = nh;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, r->url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, REPORTER_CONNECT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, REPORTER_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);   /* threads: no SIGALRM */
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, reporter_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, reporter_discard);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "podvmd");
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(why, whylen, "%s", curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code > 299) {
		snprintf(why, whylen, "HTTP %ld", code);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(hdr);
	return ret;
}

/* {"type":..,"object":..} -> {"type":..,"object":..,"resourceVersion":"N"} */
static char *reporter_event_body(const struct podsvc_event *ev)
{
	const char *end = strrchr(ev->json, '}');
	char *b = NULL;

	if (!end)
		return NULL;
	if (asprintf(&b, "%.*s,\"resourceVersion\":\"%" PRIu64 "\"}",
		     (int)(end - ev->json), ev->json, ev->rv) < 0)
		return NULL;
	return b;
}

/* Deliver one event, retrying until acknowledged or stopping. */
static bool reporter_deliver(struct reporter *r, CURL *h,
			     const struct podsvc_event *ev)
{
	struct pv_err err = { 0 };
	char *body = reporter_event_body(ev), why[256];
	int backoff = r->backoff_min_ms;
	bool ok = false;

	while (!reporter_stopping(r)) {
		if (body && reporter_post(r, h, body, why, sizeof(why)) == 0) {
			ok = true;
			break;
		}
		if (!body)
			snprintf(why, sizeof(why), "out of memory");
		pthread_mutex_lock(&r->mu);
		r->st.failed_attempts++;
		pthread_mutex_unlock(&r->mu);
		log_warn("control plane delivery failed; retrying",
			 LOG_INT("resourceVersion", (long long)ev->rv),
			 LOG_STR("error", why), LOG_INT("retry_ms", backoff), LOG_END);
		if (!reporter_sleep(r, backoff))
			break;
		if (!body)
			body = reporter_event_body(ev);
		backoff = backoff > r->backoff_max_ms / 2 ? r->backoff_max_ms :
			  backoff * 2;
	}
	free(body);
	if (!ok)
		return false;
	/* a cursor we cannot store only means a re-send after a restart */
	if (podsvc_outbox_ack(r->svc, ev->rv, &err) < 0)
		log_error("cannot store outbox cursor", LOG_STR("error", err.msg), LOG_END);
	pthread_mutex_lock(&r->mu);
	r->st.acked_rv = ev->rv;
	r->st.delivered++;
	pthread_mutex_unlock(&r->mu);
	return true;
}

static void *reporter_events_main(void *arg)
{
	struct reporter *r = arg;
	struct podsvc_event ev[REPORTER_BATCH];
	uint64_t cursor;
	CURL *h = curl_easy_init();
	size_t n, i;

	if (!h) {
		log_error("reporter: cannot create a curl handle", LOG_END);
		return NULL;
	}
	cursor = podsvc_outbox_attach(r->svc);
	pthread_mutex_lock(&r->mu);
	r->st.acked_rv = cursor;
	pthread_mutex_unlock(&r->mu);
	while (!reporter_stopping(r)) {
		n = podsvc_events_after(r->svc, cursor, ev, REPORTER_BATCH);
		if (!n) {
			podsvc_events_wait(r->svc, cursor, 500);
			continue;
		}
		for (i = 0; i < n; i++) {
			if (cursor && ev[i].rv > cursor + 1) {
				/* compacted before delivery (pending bound) */
				pthread_mutex_lock(&r->mu);
				r->st.skipped += ev[i].rv - cursor - 1;
				pthread_mutex_unlock(&r->mu);
				log_error("control plane events lost",
					  LOG_INT("from", (long long)cursor + 1),
					  LOG_INT("to", (long long)ev[i].rv - 1), LOG_END);
			}
			if (!reporter_deliver(r, h, &ev[i]))
				break;
			cursor = ev[i].rv;
		}
		podsvc_events_free(ev, n);
	}
	curl_easy_cleanup(h);
	return NULL;
}

/* MemTotal and MemAvailable in KiB from /proc/meminfo. */
static void reporter_meminfo(uint64_t *total, uint64_t *avail)
{
	char line[256];
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long v;

	*total = *avail = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
			*total = v;
		else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1)
			*avail = v;
	}
	fclose(f);
}

static struct json_object *reporter_resources(long cpu, uint64_t mem_kib,
					      unsigned pods)
{
	struct json_object *o = json_object_new_object();
	char buf[32];

	if (!o)
		return NULL;
	snprintf(buf, sizeof(buf), "%ld", cpu);
	json_object_object_add(o, "cpu", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%" PRIu64 "Ki", mem_kib);
	json_object_object_add(o, "memory", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%u", pods);
	json_object_object_add(o, "pods", json_object_new_string(buf));
	return o;
}

static char *reporter_heartbeat_body(struct reporter *r)
{
	struct podsvc_counts c;
	struct json_object *o = json_object_new_object(), *p;
	uint64_t total, avail;
	long cpu = sysconf(_SC_NPROCESSORS_ONLN);
	time_t now = time(NULL);
	struct tm tm;
	char ts[40] = "", *body = NULL;
	const char *t;

	if (!o)
		return NULL;
	podsvc_counts(r->svc, &c);
	reporter_meminfo(&total, &avail);
	if (gmtime_r(&now, &tm))
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, "kind", json_object_new_string("NodeHeartbeat"));
	json_object_object_add(o, "apiVersion", json_object_new_string("podvm.io/v1"));
	json_object_object_add(o, "nodeName", json_object_new_string(r->node));
	json_object_object_add(o, "time", json_object_new_string(ts));
	json_object_object_add(o, "vmBackend", json_object_new_string(r->backend));
	json_object_object_add(o, "capacity", reporter_resources(cpu < 1 ? 1 : cpu,
								 total, r->max_pods));
	json_object_object_add(o, "allocatable", reporter_resources(cpu < 1 ? 1 : cpu,
								    avail, r->max_pods));
	p = json_object_new_object();
	json_object_object_add(o, "pods", p);
	if (p) {
		json_object_object_add(p, "total", json_object_new_int64((int64_t)c.pods));
		json_object_object_add(p, "pending", json_object_new_int64(
			(int64_t)c.by_phase[PODSVC_PENDING]));
		json_object_object_add(p, "running", json_object_new_int64(
			(int64_t)c.by_phase[PODSVC_RUNNING_PHASE]));
		json_object_object_add(p, "succeeded", json_object_new_int64(
			(int64_t)c.by_phase[PODSVC_SUCCEEDED]));
		json_object_object_add(p, "failed", json_object_new_int64(
			(int64_t)c.by_phase[PODSVC_FAILED]));
	}
	/* a failed allocation above leaves a key out; the receiver sees an
	 * incomplete heartbeat rather than none */
	t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (t)
		body = strdup(t);
	json_object_put(o);
	return body;
}

static void *reporter_heartbeat_main(void *arg)
{
	struct reporter *r = arg;
	CURL *h = curl_easy_init();
	char why[256], *body;
	bool built;
	int rc;

	if (!h) {
		log_error("reporter: cannot create a curl handle", LOG_END);
		return NULL;
	}
	do {
		body = reporter_heartbeat_body(r);
		built = body != NULL;
		rc = built ? reporter_post(r, h, body, why, sizeof(why)) : -1;
		free(body);
		pthread_mutex_lock(&r->mu);
		if (rc == 0)
			r->st.heartbeats++;
		else
			r->st.heartbeat_failures++;
		pthread_mutex_unlock(&r->mu);
		if (rc < 0 && built)
			log_warn("heartbeat failed", LOG_STR("error", why), LOG_END);
	} while (reporter_sleep(r, r->heartbeat_ms));
	curl_easy_cleanup(h);
	return NULL;
}

static void reporter_free(struct reporter *r)
{
	free(r->url);
	free(r->node);
	free(r->backend);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

int reporter_start(const struct reporter_config *cfg, struct podsvc *svc,
		   struct reporter **out, struct pv_err *err)
{
	struct reporter *r;
	pthread_condattr_t ca;
	int ret;

	*out = NULL;
	if (!cfg->url || strncmp(cfg->url, "http", 4))
		return pv_err_set(err, EINVAL, "control-plane URL must be "
				  "http:// or https://");
	pthread_once(&reporter_curl_once, reporter_curl_init);
	if (reporter_curl_rc != CURLE_OK)
		return pv_err_set(err, EIO, "libcurl: %s",
				  curl_easy_strerror(reporter_curl_rc));
	r = calloc(1, sizeof(*r));
	if (!r)
		return pv_err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	r->svc = svc;
	r->url = strdup(cfg->url);
	r->node = strdup(cfg->node_name ? cfg->node_name : "");
	r->backend = strdup(cfg->vm_backend ? cfg->vm_backend : "");
	r->max_pods = cfg->max_pods ? cfg->max_pods : REPORTER_DEFAULT_PODS;
	r->heartbeat_ms = cfg->heartbeat_ms > 0 ? cfg->heartbeat_ms : 5000;
	r->backoff_min_ms = cfg->backoff_min_ms > 0 ? cfg->backoff_min_ms : 500;
	r->backoff_max_ms = cfg->backoff_max_ms > 0 ? cfg->backoff_max_ms : 30000;
	if (!r->url || !r->node || !r->backend) {
		reporter_free(r);
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	ret = pthread_create(&r->ev_thread, NULL, reporter_events_main, r);
	if (ret == 0) {
		r->ev_started = true;
		ret = pthread_create(&r->hb_thread, NULL, reporter_heartbeat_main, r);
		r->hb_started = ret == 0;
	}
	if (ret != 0) {
		reporter_stop(r);
		return pv_err_sys(err, ret, "reporter thread");
	}
	*out = r;
	return 0;
}

void reporter_stop(struct reporter *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (r->ev_started)
		pthread_join(r->ev_thread, NULL);
	if (r->hb_started)
		pthread_join(r->hb_thread, NULL);
	reporter_free(r);
}

void reporter_get_stats(struct reporter *r, struct reporter_stats *st)
{
	struct podsvc_counts c;

	podsvc_counts(r->svc, &c);
	pthread_mutex_lock(&r->mu);
	*st = r->st;
	pthread_mutex_unlock(&r->mu);
	st->pending = c.resource_version > st->acked_rv ?
		      c.resource_version - st->acked_rv : 0;
}
