/* The background collector: every interval it lists the pods the
 * supervisor runs, samples each VM's VMM figures and the pod's tap, and
 * asks each guest for STATS (answered later, on the pod's own thread,
 * through metrics_guest_stats). A scrape never waits for any of this.
 *
 * Tap counters are read from /proc/thread-self/net/dev after setns() into
 * the tap's network namespace: /sys/class/net shows the namespace sysfs
 * was mounted in, not the thread's. setns() changes only this thread. */
#include "daemon/metrics_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host/log.h"
#include "daemon/reporter.h"

#define METRICS_NETDEV_MAX   (8u * 1024 * 1024)
#define METRICS_NETNS_CACHE  8     /* distinct netns read per cycle */

struct metrics_collector {
	struct metrics *m;
	struct metrics_config cfg;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping;
	int self_netns;              /* this thread's own netns, -1: none */
	bool netns_broken;           /* could not switch back: stop using setns */
};

struct netdev_cache {
	char path[METRICS_NETNS_CACHE][METRICS_PATH_MAX];
	char *text[METRICS_NETNS_CACHE];
	size_t n;
};

/* /proc/net/dev of netns path ("" = ours), read at most once per cycle. */
static const char *netdev_text(struct metrics_collector *c, struct netdev_cache *nc,
			       const char *path)
{
	struct pv_err err = { 0 };
	char *text = NULL;
	size_t len, slot;
	int fd = -1;

	for (size_t i = 0; i < nc->n; i++)
		if (!strcmp(nc->path[i], path))
			return nc->text[i];
	if (path[0]) {
		if (c->netns_broken || c->self_netns < 0)
			return NULL;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			goto out;
	}
	if (util_read_file("/proc/thread-self/net/dev", METRICS_NETDEV_MAX,
			   &text, &len, &err) < 0)
		text = NULL;
	if (path[0] && setns(c->self_netns, CLONE_NEWNET) < 0) {
		c->netns_broken = true;
		log_error("metrics: cannot return to the daemon's network "
			  "namespace; pod network figures stop", LOG_END);
	}
out:
	if (fd >= 0)
		close(fd);
	/* cache misses too, so a bad path costs one attempt per cycle */
	if (nc->n < METRICS_NETNS_CACHE) {
		slot = nc->n++;
	} else {
		slot = METRICS_NETNS_CACHE - 1;
		free(nc->text[slot]);
	}
	snprintf(nc->path[slot], sizeof(nc->path[slot]), "%s", path);
	nc->text[slot] = text;
	return text;
}

static void netdev_cache_free(struct netdev_cache *nc)
{
	for (size_t i = 0; i < nc->n; i++)
		free(nc->text[i]);
	nc->n = 0;
}

static void collect_cycle(struct metrics_collector *c)
{
	const struct metrics_source_ops *ops = c->cfg.source;
	struct metrics_target *t = NULL;
	struct netdev_cache nc = { .n = 0 };
	size_t n = 0, vms = 0;

	if (c->cfg.refresh)
		c->cfg.refresh(c->cfg.refresh_opaque, c->m);
	if (!ops || !ops->list || ops->list(c->cfg.source_opaque, &t, &n) < 0)
		return;
	metrics_mark_unseen(c->m);
	for (size_t i = 0; i < n; i++) {
		struct metrics_pod_sample s = { .have = 0 };
		const char *text;

		t[i].uid[sizeof(t[i].uid) - 1] = '\0';
		t[i].ns[sizeof(t[i].ns) - 1] = '\0';
		t[i].name[sizeof(t[i].name) - 1] = '\0';
		t[i].tap[sizeof(t[i].tap) - 1] = '\0';
		t[i].netns[sizeof(t[i].netns) - 1] = '\0';
		if (t[i].has_vm) {
			vms++;
			if (ops->vmm_stats &&
			    ops->vmm_stats(c->cfg.source_opaque, t[i].uid,
					   &s.vm_cpu_ns, &s.vmm_rss_bytes) == 0)
				s.have |= METRICS_POD_VMM;
		}
		if (t[i].tap[0]) {
			text = netdev_text(c, &nc, t[i].netns);
			if (text && metrics_netdev_parse(text, t[i].tap, &s.net) == 0)
				s.have |= METRICS_POD_NET;
		}
		metrics_pod_update(c->m, t[i].uid, t[i].ns, t[i].name, &s);
		if (t[i].has_vm && ops->request_guest)
			ops->request_guest(c->cfg.source_opaque, t[i].uid);
	}
	metrics_drop_unseen(c->m);
	metrics_set_vms(c->m, vms);
	netdev_cache_free(&nc);
	free(t);
}

static void *collector_main(void *arg)
{
	struct metrics_collector *c = arg;
	struct timespec dl;

	c->self_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		pthread_mutex_unlock(&c->mu);
		collect_cycle(c);
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += c->cfg.interval_ms / 1000;
		dl.tv_nsec += (long)(c->cfg.interval_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&c->mu);
		while (!c->stopping &&
		       pthread_cond_timedwait(&c->cv, &c->mu, &dl) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&c->mu);
	if (c->self_netns >= 0)
		close(c->self_netns);
	return NULL;
}

static void collector_free(struct metrics_collector *c)
{
	if (!c)
		return;
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

int metrics_start(struct metrics *m, const struct metrics_config *cfg,
		  struct pv_err *err)
{
	struct metrics_collector *c = NULL;
	pthread_condattr_t ca;
	int ret = 0;

	metrics_registry_config(m, cfg);
	if (!cfg || (!cfg->source && !cfg->refresh))
		return 0;
	if (m->coll)
		return pv_err_set(err, EBUSY, "metrics collector already running");
	c = calloc(1, sizeof(*c));
	if (!c)
		return pv_err_set(err, ENOMEM, "out of memory");
	c->m = m;
	c->cfg = *cfg;
	if (!c->cfg.interval_ms)
		c->cfg.interval_ms = METRICS_DEFAULT_INTERVAL_MS;
	c->self_netns = -1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* interval < 0: no thread, metrics_collect_once() only (tests) */
	if (cfg->interval_ms >= 0) {
		ret = -pthread_create(&c->thread, NULL, collector_main, c);
		if (ret < 0) {
			collector_free(c);
			return pv_err_sys(err, -ret, "metrics collector thread");
		}
		c->started = true;
	}
	m->coll = c;
	return 0;
}

void metrics_stop(struct metrics *m)
{
	struct metrics_collector *c = m ? m->coll : NULL;

	if (!c)
		return;
	m->coll = NULL;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if (c->started)
		pthread_join(c->thread, NULL);
	collector_free(c);
}

void metrics_collect_once(struct metrics *m)
{
	struct metrics_collector *c = m->coll;

	/* Only without a collector thread, which would race this cycle. */
	if (c && !c->started) {
		c->self_netns = open("/proc/thread-self/ns/net",
				     O_RDONLY | O_CLOEXEC);
		collect_cycle(c);
		if (c->self_netns >= 0)
			close(c->self_netns);
		c->self_netns = -1;
	}
}

void metrics_reporter_refresh(void *reporter, struct metrics *m)
{
	struct reporter_stats st;

	if (!reporter)
		return;
	reporter_get_stats(reporter, &st);
	metrics_control_plane(m, st.pending, st.delivered, st.failed_attempts);
}
