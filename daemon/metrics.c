/* The metrics registry: storage and the update hooks. A registry is a
 * handle (struct metrics) that podvmd makes once and passes to the
 * supervisor and the API; a NULL registry takes every figure and keeps
 * none, so hooks need no "is metrics on" checks. Three locks, so
 * that the frequent API observations never wait behind pod updates:
 *   m->pods_lock    the pod table (hash by uid + list in insertion order)
 *   m->misc_lock    stage histograms, boots, VMs, control plane, build info
 *   m->api_lock     per-route request counters and duration histograms
 * Rendering (daemon/metrics_render.c) copies under these locks and
 * formats outside them. */
#include "daemon/metrics_priv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PODVM_VERSION
#define PODVM_VERSION "0.1.0"
#endif
#ifndef PODVM_COMMIT
#define PODVM_COMMIT ""
#endif

/* Pod starts: 50 ms (KVM, cached image) to 120 s (TCG on a busy host,
 * image conversion). */
const double metrics_stage_bounds[] = {
	0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120,
};
const size_t metrics_stage_nbounds =
	sizeof(metrics_stage_bounds) / sizeof(metrics_stage_bounds[0]);
/* API requests: sub-millisecond lookups to long log reads. */
const double metrics_api_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5, 10,
};
const size_t metrics_api_nbounds =
	sizeof(metrics_api_bounds) / sizeof(metrics_api_bounds[0]);
const char *const metrics_stage_names[METRICS_STAGE_COUNT] = {
	"image_ready", "vm_started", "agent_ready", "containers_started", "total",
};


int metrics_new(struct metrics **out, struct pv_err *err)
{
	struct metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return pv_err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&m->pods_lock, NULL);
	pthread_mutex_init(&m->misc_lock, NULL);
	pthread_mutex_init(&m->api_lock, NULL);
	metrics_registry_config(m, NULL);
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	metrics_stop(m);
	metrics_registry_clear(m);
	pthread_mutex_destroy(&m->pods_lock);
	pthread_mutex_destroy(&m->misc_lock);
	pthread_mutex_destroy(&m->api_lock);
	free(m);
}

/* ---- histograms ---- */

static void hist_observe(struct metrics_hist *h, const double *bounds,
			 size_t nb, double v)
{
	if (!isfinite(v) || v < 0)
		v = 0;   /* a clock step must not poison the sum */
	for (size_t i = 0; i < nb; i++) {
		if (v <= bounds[i]) {
			h->bucket[i]++;
			break;
		}
	}
	h->count++;
	h->sum += v;
}

void metrics_pod_stage(struct metrics *m, enum metrics_stage stage,
		       double seconds)
{
	if (!m)
		return;
	if ((unsigned)stage >= METRICS_STAGE_COUNT)
		return;
	pthread_mutex_lock(&m->misc_lock);
	hist_observe(&m->sc.stage[stage], metrics_stage_bounds,
		     metrics_stage_nbounds, seconds);
	pthread_mutex_unlock(&m->misc_lock);
}

void metrics_pod_stages_ms(struct metrics *m, const int64_t *t, size_t n)
{
	/* t[0] begin, t[1] images, t[2] VM, t[3] agent, t[4] containers */
	if (n < 5 || !t[0])
		return;
	for (size_t i = 1; i <= 4; i++)
		if (t[i] && t[i - 1] && t[i] >= t[i - 1])
			metrics_pod_stage(m, (enum metrics_stage)(i - 1),
					  (double)(t[i] - t[i - 1]) / 1000.0);
	if (t[4] && t[4] >= t[0])
		metrics_pod_stage(m, METRICS_STAGE_TOTAL, (double)(t[4] - t[0]) / 1000.0);
}

void metrics_vm_boot(struct metrics *m, bool success)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->misc_lock);
	if (success)
		m->sc.boots_ok++;
	else
		m->sc.boots_failed++;
	pthread_mutex_unlock(&m->misc_lock);
}

void metrics_set_vms(struct metrics *m, uint64_t n)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->misc_lock);
	m->sc.vms = n;
	pthread_mutex_unlock(&m->misc_lock);
}

void metrics_control_plane(struct metrics *m, uint64_t pending,
			   uint64_t delivered, uint64_t failed)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->misc_lock);
	m->sc.cp_pending = pending;
	m->sc.cp_delivered = delivered;
	m->sc.cp_failed = failed;
	pthread_mutex_unlock(&m->misc_lock);
}

/* ---- API ---- */

static struct metrics_route *route_find_locked(struct metrics *m,
					       const char *route)
{
	struct metrics_route *other = &m->sc.routes[METRICS_ROUTES_MAX];
	size_t n;

	if (!other->name[0])
		snprintf(other->name, sizeof(other->name), "other");
	if (!route || !*route || (n = strnlen(route, METRICS_ROUTE_MAX + 1)) >
	    METRICS_ROUTE_MAX)
		return other;
	for (size_t i = 0; i < m->sc.n_routes; i++)
		if (!strcmp(m->sc.routes[i].name, route))
			return &m->sc.routes[i];
	if (m->sc.n_routes >= METRICS_ROUTES_MAX)
		return other;
	memcpy(m->sc.routes[m->sc.n_routes].name, route, n + 1);
	return &m->sc.routes[m->sc.n_routes++];
}

void metrics_api_observe(struct metrics *m, const char *route, int code,
			 double seconds)
{
	struct metrics_route *r;
	size_t i;

	if (!m)
		return;
	if (code < 100 || code > 599)
		code = 0;
	pthread_mutex_lock(&m->api_lock);
	r = route_find_locked(m, route);
	for (i = 0; i < r->n_codes; i++)
		if (r->code[i] == code)
			break;
	if (i == r->n_codes && r->n_codes < METRICS_CODES_MAX - 1) {
		r->code[r->n_codes++] = code;
	} else if (i == r->n_codes) {
		/* full: every further code counts as "other" (code 0), in the
		 * slot that already holds 0 if any -- one series per label set */
		for (i = 0; i < r->n_codes && r->code[i]; i++)
			;
		if (i == r->n_codes) {
			i = METRICS_CODES_MAX - 1;
			r->code[i] = 0;
			r->n_codes = METRICS_CODES_MAX;
		}
	}
	r->by_code[i]++;
	hist_observe(&r->dur, metrics_api_bounds, metrics_api_nbounds, seconds);
	pthread_mutex_unlock(&m->api_lock);
}

/* ---- pods ---- */

static size_t uid_hash(const char *uid)
{
	uint32_t h = 2166136261u;   /* FNV-1a */

	for (; *uid; uid++)
		h = (h ^ (uint8_t)*uid) * 16777619u;
	return h % METRICS_HASH_BUCKETS;
}

static struct metrics_pod *pod_find_locked(struct metrics *m, const char *uid)
{
	for (struct metrics_pod *p = m->pods_hash[uid_hash(uid)]; p; p = p->hnext)
		if (!strcmp(p->uid, uid))
			return p;
	return NULL;
}

static bool str_fits(const char *s, size_t max)
{
	return s && strnlen(s, max + 1) <= max;
}

int metrics_pod_update(struct metrics *m, const char *uid, const char *ns,
		       const char *name, const struct metrics_pod_sample *s)
{
	struct metrics_pod *p;
	int64_t now = util_mono_ms();
	int ret = 0;

	if (!m)
		return 0;
	if (!str_fits(uid, UUID_STR_LEN - 1) || !*uid ||
	    (ns && !str_fits(ns, METRICS_NS_MAX)) ||
	    (name && !str_fits(name, METRICS_POD_MAX)))
		return -EINVAL;
	pthread_mutex_lock(&m->pods_lock);
	p = pod_find_locked(m, uid);
	if (!p && (!ns || !name)) {
		ret = -ENOENT;   /* update-only call (guest STATS) */
		goto out;
	}
	if (!p) {
		size_t h = uid_hash(uid);

		p = calloc(1, sizeof(*p));
		if (!p) {
			ret = -ENOMEM;
			goto out;
		}
		snprintf(p->uid, sizeof(p->uid), "%s", uid);
		p->hnext = m->pods_hash[h];
		m->pods_hash[h] = p;
		p->prev = m->pods_tail;
		if (m->pods_tail)
			m->pods_tail->next = p;
		else
			m->pods_head = p;
		m->pods_tail = p;
		m->pods_n++;
	}
	p->seen = true;
	if (ns)
		snprintf(p->ns, sizeof(p->ns), "%s", ns);
	if (name)
		snprintf(p->name, sizeof(p->name), "%s", name);
	if (!s)
		goto out;
	if (s->have & METRICS_POD_VMM) {
		/* the rate needs two samples and a counter that did not reset */
		if ((p->have & METRICS_POD_VMM) && now > p->prev_ms &&
		    s->vm_cpu_ns >= p->prev_cpu_ns) {
			p->cores = (double)(s->vm_cpu_ns - p->prev_cpu_ns) /
				   ((double)(now - p->prev_ms) * 1e6);
			p->has_rate = true;
		}
		p->prev_ms = now;
		p->prev_cpu_ns = s->vm_cpu_ns;
		p->s.vm_cpu_ns = s->vm_cpu_ns;
		p->s.vmm_rss_bytes = s->vmm_rss_bytes;
	}
	if (s->have & METRICS_POD_GUEST) {
		p->s.guest_mem_used_bytes = s->guest_mem_used_bytes;
		p->s.guest_mem_total_bytes = s->guest_mem_total_bytes;
	}
	if (s->have & METRICS_POD_NET)
		p->s.net = s->net;
	p->have |= s->have & (METRICS_POD_VMM | METRICS_POD_GUEST | METRICS_POD_NET);
out:
	pthread_mutex_unlock(&m->pods_lock);
	return ret;
}

static void pod_unlink_locked(struct metrics *m, struct metrics_pod *p)
{
	struct metrics_pod **pp = &m->pods_hash[uid_hash(p->uid)];

	while (*pp && *pp != p)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = p->hnext;
	if (p->prev)
		p->prev->next = p->next;
	else
		m->pods_head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	else
		m->pods_tail = p->prev;
	m->pods_n--;
	m->ctrs_n -= p->n_ctr;
	free(p->ctr);
	free(p);
}

void metrics_pod_remove(struct metrics *m, const char *uid)
{
	struct metrics_pod *p;

	if (!m || !uid)
		return;
	pthread_mutex_lock(&m->pods_lock);
	p = pod_find_locked(m, uid);
	if (p)
		pod_unlink_locked(m, p);
	pthread_mutex_unlock(&m->pods_lock);
}

int metrics_container_update(struct metrics *m, const char *uid,
			     const char *ctr, const char *image,
			     const struct metrics_ctr_sample *s)
{
	struct metrics_pod *p;
	struct metrics_ctr *c = NULL;
	int64_t now = util_mono_ms();
	int ret = 0;

	if (!m)
		return 0;
	if (!uid || !str_fits(ctr, METRICS_CTR_MAX) || !*ctr ||
	    (image && !str_fits(image, METRICS_IMAGE_MAX)))
		return -EINVAL;
	pthread_mutex_lock(&m->pods_lock);
	p = pod_find_locked(m, uid);
	if (!p) {
		ret = -ENOENT;
		goto out;
	}
	for (size_t i = 0; i < p->n_ctr; i++)
		if (!strcmp(p->ctr[i].name, ctr))
			c = &p->ctr[i];
	if (!c) {
		struct metrics_ctr *nc;

		if (p->n_ctr >= METRICS_CTRS_MAX) {
			ret = -E2BIG;
			goto out;
		}
		nc = realloc(p->ctr, (p->n_ctr + 1) * sizeof(*nc));
		if (!nc) {
			ret = -ENOMEM;
			goto out;
		}
		p->ctr = nc;
		c = &p->ctr[p->n_ctr++];
		m->ctrs_n++;
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", ctr);
	}
	if (image)
		snprintf(c->image, sizeof(c->image), "%s", image);
	if (!s)
		goto out;
	if (s->have & METRICS_CTR_CPU) {
		if ((c->have & METRICS_CTR_CPU) && now > c->prev_ms &&
		    s->cpu_usec >= c->prev_cpu_usec) {
			c->cores = (double)(s->cpu_usec - c->prev_cpu_usec) /
				   ((double)(now - c->prev_ms) * 1e3);
			c->has_rate = true;
		}
		c->prev_ms = now;
		c->prev_cpu_usec = s->cpu_usec;
		c->s.cpu_usec = s->cpu_usec;
	}
	if (s->have & METRICS_CTR_MEM) {
		c->s.mem_usage_bytes = s->mem_usage_bytes;
		c->s.mem_working_set_bytes = s->mem_working_set_bytes;
	}
	if (s->have & METRICS_CTR_OOM)
		c->s.oom_kills = s->oom_kills;
	if (s->have & METRICS_CTR_RESTARTS)
		c->s.restarts = s->restarts;
	c->have |= s->have & (METRICS_CTR_CPU | METRICS_CTR_MEM | METRICS_CTR_OOM |
			      METRICS_CTR_RESTARTS);
out:
	pthread_mutex_unlock(&m->pods_lock);
	return ret;
}

/* ---- collector bookkeeping ---- */

void metrics_mark_unseen(struct metrics *m)
{
	pthread_mutex_lock(&m->pods_lock);
	for (struct metrics_pod *p = m->pods_head; p; p = p->next)
		p->seen = false;
	pthread_mutex_unlock(&m->pods_lock);
}

void metrics_mark_seen(struct metrics *m, const char *uid)
{
	struct metrics_pod *p;

	pthread_mutex_lock(&m->pods_lock);
	p = pod_find_locked(m, uid);
	if (p)
		p->seen = true;
	pthread_mutex_unlock(&m->pods_lock);
}

void metrics_drop_unseen(struct metrics *m)
{
	struct metrics_pod *p, *next;

	pthread_mutex_lock(&m->pods_lock);
	for (p = m->pods_head; p; p = next) {
		next = p->next;
		if (!p->seen)
			pod_unlink_locked(m, p);
	}
	pthread_mutex_unlock(&m->pods_lock);
}

/* ---- snapshots ---- */

int metrics_snapshot(struct metrics *m, struct metrics_snap *snap)
{
	size_t ci = 0, pi = 0;
	int ret = 0;

	memset(snap, 0, sizeof(*snap));
	pthread_mutex_lock(&m->pods_lock);
	/* Two flat allocations and memcpy: the lock is held for O(pods) copies
	 * only; formatting happens after it is released. */
	if (m->pods_n) {
		snap->pods = malloc(m->pods_n * sizeof(*snap->pods));
		if (!snap->pods) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (m->ctrs_n) {
		snap->ctrs = malloc(m->ctrs_n * sizeof(*snap->ctrs));
		if (!snap->ctrs) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (struct metrics_pod *p = m->pods_head; p; p = p->next) {
		struct metrics_pod *d = &snap->pods[pi++];

		*d = *p;
		d->hnext = d->next = d->prev = NULL;
		d->ctr = p->n_ctr ? &snap->ctrs[ci] : NULL;
		if (p->n_ctr)
			memcpy(&snap->ctrs[ci], p->ctr, p->n_ctr * sizeof(*p->ctr));
		ci += p->n_ctr;
	}
	snap->n_pods = pi;
	snap->n_ctrs = ci;
out:
	pthread_mutex_unlock(&m->pods_lock);
	if (ret < 0)
		metrics_snap_free(snap);
	return ret;
}

void metrics_snap_free(struct metrics_snap *snap)
{
	free(snap->pods);
	free(snap->ctrs);
	memset(snap, 0, sizeof(*snap));
}

void metrics_scalars_get(struct metrics *m, struct metrics_scalars *sc)
{
	pthread_mutex_lock(&m->misc_lock);
	memcpy(sc->stage, m->sc.stage, sizeof(sc->stage));
	sc->boots_ok = m->sc.boots_ok;
	sc->boots_failed = m->sc.boots_failed;
	sc->vms = m->sc.vms;
	sc->cp_pending = m->sc.cp_pending;
	sc->cp_delivered = m->sc.cp_delivered;
	sc->cp_failed = m->sc.cp_failed;
	memcpy(sc->version, m->sc.version, sizeof(sc->version));
	memcpy(sc->commit, m->sc.commit, sizeof(sc->commit));
	memcpy(sc->backend, m->sc.backend, sizeof(sc->backend));
	sc->pod_counts = m->sc.pod_counts;
	sc->pod_counts_opaque = m->sc.pod_counts_opaque;
	pthread_mutex_unlock(&m->misc_lock);
	pthread_mutex_lock(&m->api_lock);
	route_find_locked(m, NULL);   /* names the "other" slot */
	memcpy(sc->routes, m->sc.routes, sizeof(sc->routes));
	sc->n_routes = m->sc.n_routes;
	pthread_mutex_unlock(&m->api_lock);
}

/* ---- configuration (the collector: daemon/metrics_collect.c) ---- */

void metrics_registry_config(struct metrics *m, const struct metrics_config *cfg)
{
	pthread_mutex_lock(&m->misc_lock);
	snprintf(m->sc.version, sizeof(m->sc.version), "%s",
		 cfg && cfg->version ? cfg->version : PODVM_VERSION);
	snprintf(m->sc.commit, sizeof(m->sc.commit), "%s",
		 cfg && cfg->commit ? cfg->commit : PODVM_COMMIT);
	snprintf(m->sc.backend, sizeof(m->sc.backend), "%s",
		 cfg && cfg->backend && !strcmp(cfg->backend, "kvm") ? "kvm" : "tcg");
	m->sc.pod_counts = cfg ? cfg->pod_counts : NULL;
	m->sc.pod_counts_opaque = cfg ? cfg->pod_counts_opaque : NULL;
	pthread_mutex_unlock(&m->misc_lock);
}

void metrics_registry_clear(struct metrics *m)
{
	pthread_mutex_lock(&m->pods_lock);
	while (m->pods_head)
		pod_unlink_locked(m, m->pods_head);
	pthread_mutex_unlock(&m->pods_lock);
	metrics_registry_config(m, NULL);
	pthread_mutex_lock(&m->misc_lock);
	memset(m->sc.stage, 0, sizeof(m->sc.stage));
	m->sc.boots_ok = m->sc.boots_failed = m->sc.vms = 0;
	m->sc.cp_pending = m->sc.cp_delivered = m->sc.cp_failed = 0;
	pthread_mutex_unlock(&m->misc_lock);
	pthread_mutex_lock(&m->api_lock);
	memset(m->sc.routes, 0, sizeof(m->sc.routes));
	m->sc.n_routes = 0;
	pthread_mutex_unlock(&m->api_lock);
}
