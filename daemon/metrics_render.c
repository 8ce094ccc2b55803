/* Prometheus text exposition 0.0.4 of the registry. Every family gets
 * HELP and TYPE, even when it has no sample yet, so dashboards and
 * promtool see a stable set of names. Label values are escaped (\\ \"
 * \n) and forced to valid UTF-8: some come from clients (image names)
 * and one bad byte would make Prometheus reject the whole scrape. */
#include "daemon/metrics_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/podsvc.h"

struct mlabel {
	const char *k, *v;
};

/* Length of the valid UTF-8 sequence at s (1..4), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;   /* overlong / surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static void escape(struct metrics_buf *b, const char *v, bool quote)
{
	const unsigned char *s = (const unsigned char *)(v ? v : "");
	const unsigned char *run = s;

	while (*s) {
		const char *rep = NULL;
		size_t n = 1;

		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '\n')
			rep = "\\n";
		else if (*s == '"' && quote)
			rep = "\\\"";
		else if (*s >= 0x80 && !(n = utf8_seq(s))) {
			rep = "\xef\xbf\xbd";   /* U+FFFD */
			n = 1;
		}
		if (rep) {
			metrics_buf_append(b, (const char *)run, (size_t)(s - run));
			metrics_buf_puts(b, rep);
			s += n;
			run = s;
		} else {
			s += n;
		}
	}
	metrics_buf_append(b, (const char *)run, (size_t)(s - run));
}

void metrics_escape_label(struct metrics_buf *b, const char *v)
{
	escape(b, v, true);
}

void metrics_escape_help(struct metrics_buf *b, const char *v)
{
	escape(b, v, false);
}

static void family(struct metrics_buf *b, const char *name, const char *type,
		   const char *help)
{
	metrics_buf_puts(b, "# HELP ");
	metrics_buf_puts(b, name);
	metrics_buf_puts(b, " ");
	metrics_escape_help(b, help);
	metrics_buf_puts(b, "\n# TYPE ");
	metrics_buf_puts(b, name);
	metrics_buf_puts(b, " ");
	metrics_buf_puts(b, type);
	metrics_buf_puts(b, "\n");
}

/* name{k="v",...} (no braces without labels), then the caller's value. */
static void series(struct metrics_buf *b, const char *name, const char *suffix,
		   const struct mlabel *l, size_t n)
{
	metrics_buf_puts(b, name);
	if (suffix)
		metrics_buf_puts(b, suffix);
	if (!n) {
		metrics_buf_puts(b, " ");
		return;
	}
	metrics_buf_puts(b, "{");
	for (size_t i = 0; i < n; i++) {
		if (i)
			metrics_buf_puts(b, ",");
		metrics_buf_puts(b, l[i].k);
		metrics_buf_puts(b, "=\"");
		metrics_escape_label(b, l[i].v);
		metrics_buf_puts(b, "\"");
	}
	metrics_buf_puts(b, "} ");
}

/* The shortest of %.15g / %.17g that reads back as v (as Go's
 * FormatFloat(v, 'g', -1) in client_golang): 201.6, not 201.59999999999999. */
static void put_double(struct metrics_buf *b, double v)
{
	char tmp[40];

	snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		snprintf(tmp, sizeof(tmp), "%.17g", v);
	metrics_buf_puts(b, tmp);
	metrics_buf_puts(b, "\n");
}

static void sample_u64(struct metrics_buf *b, const char *name,
		       const struct mlabel *l, size_t n, uint64_t v)
{
	series(b, name, NULL, l, n);
	metrics_buf_u64(b, v);
	metrics_buf_puts(b, "\n");
}

static void sample_f(struct metrics_buf *b, const char *name,
		     const struct mlabel *l, size_t n, double v)
{
	series(b, name, NULL, l, n);
	put_double(b, v);
}

/* A fixed-point seconds value from an integer count of units per second
 * (1e9 for ns, 1e6 for us): exact, no float rounding. */
static void sample_secs(struct metrics_buf *b, const char *name,
			const struct mlabel *l, size_t n, uint64_t v,
			uint64_t per_s)
{
	series(b, name, NULL, l, n);
	metrics_buf_u64(b, v / per_s);
	metrics_buf_printf(b, per_s == 1000000000ULL ? ".%09llu\n" : ".%06llu\n",
			   (unsigned long long)(v % per_s));
}

/* One histogram series: cumulative buckets, +Inf, _sum, _count. l[n] is
 * scratch for the le label. */
static void hist(struct metrics_buf *b, const char *name, struct mlabel *l,
		 size_t n, const struct metrics_hist *h, const double *bounds,
		 size_t nb)
{
	uint64_t cum = 0;
	char le[32];

	for (size_t i = 0; i < nb; i++) {
		cum += h->bucket[i];
		snprintf(le, sizeof(le), "%g", bounds[i]);
		l[n] = (struct mlabel){ "le", le };
		series(b, name, "_bucket", l, n + 1);
		metrics_buf_u64(b, cum);
		metrics_buf_puts(b, "\n");
	}
	l[n] = (struct mlabel){ "le", "+Inf" };
	series(b, name, "_bucket", l, n + 1);
	metrics_buf_u64(b, h->count);
	metrics_buf_puts(b, "\n");
	series(b, name, "_sum", l, n);
	put_double(b, h->sum);
	series(b, name, "_count", l, n);
	metrics_buf_u64(b, h->count);
	metrics_buf_puts(b, "\n");
}

/* Per-route request counters and durations (the "other" slot last). */
static void render_api(struct metrics_buf *b, const struct metrics_scalars *sc)
{
	struct mlabel l[2];
	char code[16];

	family(b, "podvm_api_requests_total", "counter",
	       "API requests served, by route and HTTP status code.");
	for (size_t i = 0; i <= METRICS_ROUTES_MAX; i++) {
		const struct metrics_route *r = &sc->routes[i];

		if (i >= sc->n_routes && i < METRICS_ROUTES_MAX)
			continue;
		for (size_t j = 0; j < r->n_codes; j++) {
			if (r->code[j])
				snprintf(code, sizeof(code), "%d", r->code[j]);
			else
				snprintf(code, sizeof(code), "other");
			l[0] = (struct mlabel){ "route", r->name };
			l[1] = (struct mlabel){ "code", code };
			sample_u64(b, "podvm_api_requests_total", l, 2, r->by_code[j]);
		}
	}
	family(b, "podvm_api_request_duration_seconds", "histogram",
	       "API request duration, by route (streams count until they end).");
	for (size_t i = 0; i <= METRICS_ROUTES_MAX; i++) {
		const struct metrics_route *r = &sc->routes[i];

		if ((i >= sc->n_routes && i < METRICS_ROUTES_MAX) || !r->dur.count)
			continue;
		l[0] = (struct mlabel){ "route", r->name };
		hist(b, "podvm_api_request_duration_seconds", l, 1, &r->dur,
		     metrics_api_bounds, metrics_api_nbounds);
	}
}

static void render_scalars(struct metrics_buf *b, const struct metrics_scalars *sc)
{
	static const char *const phases[4] = { "Pending", "Running", "Succeeded",
					       "Failed" };
	uint64_t by_phase[4] = { 0 };
	struct mlabel l[3];

	family(b, "podvm_build_info", "gauge",
	       "A metric with a constant '1' value labelled by podvmd's version and commit.");
	l[0] = (struct mlabel){ "version", sc->version };
	l[1] = (struct mlabel){ "commit", sc->commit };
	sample_u64(b, "podvm_build_info", l, sc->commit[0] ? 2 : 1, 1);

	if (sc->pod_counts)
		sc->pod_counts(sc->pod_counts_opaque, by_phase);
	family(b, "podvm_pods", "gauge", "Pods known to podvmd, by phase.");
	for (size_t i = 0; i < 4; i++) {
		l[0] = (struct mlabel){ "phase", phases[i] };
		sample_u64(b, "podvm_pods", l, 1, by_phase[i]);
	}

	family(b, "podvm_vms", "gauge",
	       "Pod microVMs running, by accelerator (all VMs of one podvmd use the same).");
	l[0] = (struct mlabel){ "backend", "kvm" };
	sample_u64(b, "podvm_vms", l, 1, strcmp(sc->backend, "kvm") ? 0 : sc->vms);
	l[0] = (struct mlabel){ "backend", "tcg" };
	sample_u64(b, "podvm_vms", l, 1, strcmp(sc->backend, "kvm") ? sc->vms : 0);

	family(b, "podvm_vm_boots_total", "counter", "VM boots attempted, by result.");
	l[0] = (struct mlabel){ "result", "success" };
	sample_u64(b, "podvm_vm_boots_total", l, 1, sc->boots_ok);
	l[0] = (struct mlabel){ "result", "failure" };
	sample_u64(b, "podvm_vm_boots_total", l, 1, sc->boots_failed);

	family(b, "podvm_pod_start_duration_seconds", "histogram",
	       "Duration of each pod start stage (total: start to containers started).");
	for (size_t i = 0; i < METRICS_STAGE_COUNT; i++) {
		l[0] = (struct mlabel){ "stage", metrics_stage_names[i] };
		hist(b, "podvm_pod_start_duration_seconds", l, 1, &sc->stage[i],
		     metrics_stage_bounds, metrics_stage_nbounds);
	}

	render_api(b, sc);

	family(b, "podvm_control_plane_events", "gauge",
	       "Control-plane outbox events: pending now, delivered and failed "
	       "delivery attempts since podvmd started.");
	l[0] = (struct mlabel){ "state", "pending" };
	sample_u64(b, "podvm_control_plane_events", l, 1, sc->cp_pending);
	l[0] = (struct mlabel){ "state", "delivered" };
	sample_u64(b, "podvm_control_plane_events", l, 1, sc->cp_delivered);
	l[0] = (struct mlabel){ "state", "failed" };
	sample_u64(b, "podvm_control_plane_events", l, 1, sc->cp_failed);
}

/* Per-pod families. Each family is one pass over the snapshot: the format
 * wants a family's samples together. */
enum pod_fig {
	PF_CPU, PF_CORES, PF_RSS, PF_GUEST_USED, PF_GUEST_TOTAL,
	PF_RX_B, PF_RX_P, PF_RX_D, PF_TX_B, PF_TX_P, PF_TX_D,
};

static const struct {
	const char *name, *type, *help;
	unsigned need;
} pod_fams[] = {
	[PF_CPU] = { "podvm_pod_vm_cpu_seconds_total", "counter",
		     "CPU time the pod's VM used (all vCPUs).", METRICS_POD_VMM },
	[PF_CORES] = { "podvm_pod_cpu_usage_cores", "gauge",
		       "CPU cores the pod's VM used over the last collector interval.",
		       METRICS_POD_VMM },
	[PF_RSS] = { "podvm_pod_vmm_resident_memory_bytes", "gauge",
		     "Host resident memory of the pod's VMM process: the per-pod cost on the host.",
		     METRICS_POD_VMM },
	[PF_GUEST_USED] = { "podvm_pod_memory_guest_used_bytes", "gauge",
			    "Memory used inside the pod's VM (MemTotal - MemAvailable).",
			    METRICS_POD_GUEST },
	[PF_GUEST_TOTAL] = { "podvm_pod_memory_guest_total_bytes", "gauge",
			     "Memory the pod's VM kernel manages (MemTotal).",
			     METRICS_POD_GUEST },
	[PF_RX_B] = { "podvm_pod_network_receive_bytes_total", "counter",
		      "Bytes the pod received on its network interface.", METRICS_POD_NET },
	[PF_RX_P] = { "podvm_pod_network_receive_packets_total", "counter",
		      "Packets the pod received.", METRICS_POD_NET },
	[PF_RX_D] = { "podvm_pod_network_receive_drops_total", "counter",
		      "Packets to the pod dropped on the host side.", METRICS_POD_NET },
	[PF_TX_B] = { "podvm_pod_network_transmit_bytes_total", "counter",
		      "Bytes the pod sent on its network interface.", METRICS_POD_NET },
	[PF_TX_P] = { "podvm_pod_network_transmit_packets_total", "counter",
		      "Packets the pod sent.", METRICS_POD_NET },
	[PF_TX_D] = { "podvm_pod_network_transmit_drops_total", "counter",
		      "Packets from the pod dropped on the host side.", METRICS_POD_NET },
};

static void render_pods(struct metrics_buf *b, const struct metrics_snap *s)
{
	struct mlabel l[3];

	for (size_t f = 0; f < sizeof(pod_fams) / sizeof(pod_fams[0]); f++) {
		family(b, pod_fams[f].name, pod_fams[f].type, pod_fams[f].help);
		for (size_t i = 0; i < s->n_pods; i++) {
			const struct metrics_pod *p = &s->pods[i];
			const struct metrics_net *n = &p->s.net;
			const char *nm = pod_fams[f].name;

			if (!(p->have & pod_fams[f].need))
				continue;
			l[0] = (struct mlabel){ "namespace", p->ns };
			l[1] = (struct mlabel){ "pod", p->name };
			l[2] = (struct mlabel){ "uid", p->uid };
			switch ((enum pod_fig)f) {
			case PF_CPU:
				sample_secs(b, nm, l, 3, p->s.vm_cpu_ns, 1000000000ULL);
				break;
			case PF_CORES:
				if (p->has_rate)
					sample_f(b, nm, l, 3, p->cores);
				break;
			case PF_RSS: sample_u64(b, nm, l, 3, p->s.vmm_rss_bytes); break;
			case PF_GUEST_USED:
				sample_u64(b, nm, l, 3, p->s.guest_mem_used_bytes);
				break;
			case PF_GUEST_TOTAL:
				sample_u64(b, nm, l, 3, p->s.guest_mem_total_bytes);
				break;
			case PF_RX_B: sample_u64(b, nm, l, 3, n->rx_bytes); break;
			case PF_RX_P: sample_u64(b, nm, l, 3, n->rx_packets); break;
			case PF_RX_D: sample_u64(b, nm, l, 3, n->rx_drops); break;
			case PF_TX_B: sample_u64(b, nm, l, 3, n->tx_bytes); break;
			case PF_TX_P: sample_u64(b, nm, l, 3, n->tx_packets); break;
			case PF_TX_D: sample_u64(b, nm, l, 3, n->tx_drops); break;
			}
		}
	}
}

enum ctr_fig {
	CF_RESTARTS, CF_OOM, CF_CORES, CF_CPU, CF_WSET, CF_USAGE,
};

static const struct {
	const char *name, *type, *help;
	unsigned need;        /* 0: every known container */
	bool image;           /* cAdvisor family: image label too */
} ctr_fams[] = {
	[CF_RESTARTS] = { "podvm_container_restarts_total", "counter",
			  "Times the container was restarted in its pod.", 0, false },
	[CF_OOM] = { "podvm_container_oom_kills_total", "counter",
		     "Processes of the container killed by the OOM killer (cgroup memory.events).",
		     METRICS_CTR_OOM, false },
	[CF_CORES] = { "podvm_container_cpu_usage_cores", "gauge",
		       "CPU cores the container used over the last collector interval.",
		       METRICS_CTR_CPU, false },
	[CF_CPU] = { "container_cpu_usage_seconds_total", "counter",
		     "Cumulative cpu time consumed in seconds.", METRICS_CTR_CPU, true },
	[CF_WSET] = { "container_memory_working_set_bytes", "gauge",
		      "Current working set in bytes.", METRICS_CTR_MEM, true },
	[CF_USAGE] = { "container_memory_usage_bytes", "gauge",
		       "Current memory usage in bytes, including all memory regardless of when it was accessed.",
		       METRICS_CTR_MEM, true },
};

static void render_ctrs(struct metrics_buf *b, const struct metrics_snap *s)
{
	struct mlabel l[4];

	for (size_t f = 0; f < sizeof(ctr_fams) / sizeof(ctr_fams[0]); f++) {
		const char *nm = ctr_fams[f].name;
		size_t nl = ctr_fams[f].image ? 4 : 3;

		family(b, nm, ctr_fams[f].type, ctr_fams[f].help);
		for (size_t i = 0; i < s->n_pods; i++) {
			const struct metrics_pod *p = &s->pods[i];

			for (size_t j = 0; j < p->n_ctr; j++) {
				const struct metrics_ctr *c = &p->ctr[j];

				if (ctr_fams[f].need && !(c->have & ctr_fams[f].need))
					continue;
				l[0] = (struct mlabel){ "namespace", p->ns };
				l[1] = (struct mlabel){ "pod", p->name };
				l[2] = (struct mlabel){ "container", c->name };
				l[3] = (struct mlabel){ "image", c->image };
				switch ((enum ctr_fig)f) {
				case CF_RESTARTS:
					sample_u64(b, nm, l, nl, c->s.restarts);
					break;
				case CF_OOM: sample_u64(b, nm, l, nl, c->s.oom_kills); break;
				case CF_CORES:
					if (c->has_rate)
						sample_f(b, nm, l, nl, c->cores);
					break;
				case CF_CPU:
					sample_secs(b, nm, l, nl, c->s.cpu_usec, 1000000ULL);
					break;
				case CF_WSET:
					sample_u64(b, nm, l, nl, c->s.mem_working_set_bytes);
					break;
				case CF_USAGE:
					sample_u64(b, nm, l, nl, c->s.mem_usage_bytes);
					break;
				}
			}
		}
	}
}

/* cAdvisor's network families: once per pod (the pod sandbox's view, as
 * the kubelet reports it: no container label, interface="eth0"), so that
 * sum by (pod) does not count a shared interface once per container. */
static void render_ctr_net(struct metrics_buf *b, const struct metrics_snap *s)
{
	static const struct {
		const char *name, *help;
	} fams[] = {
		{ "container_network_receive_bytes_total",
		  "Cumulative count of bytes received" },
		{ "container_network_receive_packets_total",
		  "Cumulative count of packets received" },
		{ "container_network_receive_packets_dropped_total",
		  "Cumulative count of packets dropped while receiving" },
		{ "container_network_transmit_bytes_total",
		  "Cumulative count of bytes transmitted" },
		{ "container_network_transmit_packets_total",
		  "Cumulative count of packets transmitted" },
		{ "container_network_transmit_packets_dropped_total",
		  "Cumulative count of packets dropped while transmitting" },
	};
	struct mlabel l[3];

	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(b, fams[f].name, "counter", fams[f].help);
		for (size_t i = 0; i < s->n_pods; i++) {
			const struct metrics_pod *p = &s->pods[i];
			const struct metrics_net *n = &p->s.net;
			const uint64_t v[6] = { n->rx_bytes, n->rx_packets, n->rx_drops,
						n->tx_bytes, n->tx_packets, n->tx_drops };

			if (!(p->have & METRICS_POD_NET))
				continue;
			l[0] = (struct mlabel){ "namespace", p->ns };
			l[1] = (struct mlabel){ "pod", p->name };
			l[2] = (struct mlabel){ "interface", "eth0" };
			sample_u64(b, fams[f].name, l, 3, v[f]);
		}
	}
}

int metrics_render(struct metrics *m, struct metrics_buf *b)
{
	struct metrics_scalars *sc = calloc(1, sizeof(*sc));
	struct metrics_snap snap = { 0 };
	int ret = 0;

	if (!sc) {
		ret = -ENOMEM;
		goto out;
	}
	metrics_scalars_get(m, sc);
	ret = metrics_snapshot(m, &snap);
	if (ret < 0)
		goto out;
	render_scalars(b, sc);
	render_pods(b, &snap);
	render_ctrs(b, &snap);
	render_ctr_net(b, &snap);
	metrics_render_process(b);
	if (b->oom)
		ret = -ENOMEM;
out:
	metrics_snap_free(&snap);
	free(sc);
	return ret;
}

void metrics_podsvc_counts(void *svc, uint64_t by_phase[4])
{
	struct podsvc_counts c;

	if (!svc)
		return;
	podsvc_counts(svc, &c);
	for (size_t i = 0; i < 4; i++)
		by_phase[i] = c.by_phase[i];
}
