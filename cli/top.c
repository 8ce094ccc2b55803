/* `podvm top pods [NAME] [-n NS | -A] [--containers]`, like kubectl top
 * pods: CPU(cores) and MEMORY(bytes) per pod (or per container), read
 * from podvmd's GET /metrics. CPU is the rate podvmd's collector computed
 * over its last interval (podvm_container_cpu_usage_cores, or
 * podvm_pod_cpu_usage_cores when the guest sent no container figures);
 * memory is the containers' working set (or the guest's used memory).
 * The exposition text is parsed here with bounds: the server is not
 * trusted more than any other. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/podview.h"
#include "pod/pod.h"

#define TOP_NAME_MAX 253
#define TOP_CTRS_MAX (2 * POD_MAX_CONTAINERS)

struct top_ctr {
	char name[POD_LABEL_NAME_MAX + 1];
	double cores, wset;
	bool has_cores, has_wset;
};

struct top_pod {
	char ns[POD_LABEL_NAME_MAX + 1];
	char name[TOP_NAME_MAX + 1];
	double cores, mem;            /* VM-level figures */
	bool has_cores, has_mem;
	struct top_ctr ctr[TOP_CTRS_MAX];
	size_t n_ctr;
};

struct top_data {
	struct top_pod *pods;
	size_t n, cap;
	size_t last;                  /* series come grouped: try it first */
};

enum top_metric {
	TM_POD_CORES, TM_POD_MEM, TM_CTR_CORES, TM_CTR_WSET, TM_NONE,
};

static const char *const top_names[TM_NONE] = {
	"podvm_pod_cpu_usage_cores", "podvm_pod_memory_guest_used_bytes",
	"podvm_container_cpu_usage_cores", "container_memory_working_set_bytes",
};

/* Parse one label value ("..." with \\ \" \n escapes) into buf; returns
 * the position after the closing quote, or NULL. */
static const char *top_label_value(const char *p, const char *end, char *buf,
				   size_t cap)
{
	size_t n = 0;

	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			if (++p >= end)
				return NULL;
			c = *p == 'n' ? '\n' : *p;
		}
		if (n + 1 >= cap)
			return NULL;   /* longer than any name we keep */
		buf[n++] = c;
	}
	if (p >= end)
		return NULL;
	buf[n] = '\0';
	return p + 1;
}

static struct top_pod *top_pod_get(struct top_data *d, const char *ns,
				   const char *name)
{
	struct top_pod *p;

	if (d->n && !strcmp(d->pods[d->last].ns, ns) &&
	    !strcmp(d->pods[d->last].name, name))
		return &d->pods[d->last];
	for (size_t i = 0; i < d->n; i++) {
		if (!strcmp(d->pods[i].ns, ns) && !strcmp(d->pods[i].name, name)) {
			d->last = i;
			return &d->pods[i];
		}
	}
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 64;
		void *np = realloc(d->pods, ncap * sizeof(*d->pods));

		if (!np)
			return NULL;
		d->pods = np;
		d->cap = ncap;
	}
	p = &d->pods[d->n];
	memset(p, 0, sizeof(*p));
	snprintf(p->ns, sizeof(p->ns), "%s", ns);
	snprintf(p->name, sizeof(p->name), "%s", name);
	d->last = d->n++;
	return p;
}

static struct top_ctr *top_ctr_get(struct top_pod *p, const char *name)
{
	for (size_t i = 0; i < p->n_ctr; i++)
		if (!strcmp(p->ctr[i].name, name))
			return &p->ctr[i];
	if (p->n_ctr >= TOP_CTRS_MAX)
		return NULL;
	memset(&p->ctr[p->n_ctr], 0, sizeof(p->ctr[0]));
	snprintf(p->ctr[p->n_ctr].name, sizeof(p->ctr[0].name), "%s", name);
	return &p->ctr[p->n_ctr++];
}

/* The labels top reads from one sample. */
struct top_labels {
	char ns[POD_LABEL_NAME_MAX + 1];
	char pod[TOP_NAME_MAX + 1];
	char ctr[POD_LABEL_NAME_MAX + 1];
};

/* "{k="v",...}" at p: namespace, pod and container into lb, others
 * skipped. The position after '}', or NULL when malformed. */
static const char *top_labels(const char *p, const char *end,
			      struct top_labels *lb)
{
	char scratch[1024];

	p++;
	while (p < end && *p != '}') {
		const char *k = p;
		size_t kl = 0;
		char *dst = scratch;
		size_t cap = sizeof(scratch);

		while (p < end && *p != '=')
			p++, kl++;
		if (p >= end)
			return NULL;
		if (kl == 9 && !strncmp(k, "namespace", 9))
			dst = lb->ns, cap = sizeof(lb->ns);
		else if (kl == 3 && !strncmp(k, "pod", 3))
			dst = lb->pod, cap = sizeof(lb->pod);
		else if (kl == 9 && !strncmp(k, "container", 9))
			dst = lb->ctr, cap = sizeof(lb->ctr);
		p = top_label_value(p + 1, end, dst, cap);
		if (!p)
			return NULL;
		if (p < end && *p == ',')
			p++;
	}
	return p < end ? p + 1 : NULL;
}

/* Keep the value v of metric m for the pod (or container) of lb. */
static int top_store(struct top_data *d, enum top_metric m,
		     const struct top_labels *lb, double v)
{
	struct top_pod *tp = top_pod_get(d, lb->ns, lb->pod);
	struct top_ctr *tc;

	if (!tp)
		return -ENOMEM;
	switch (m) {
	case TM_POD_CORES: tp->cores = v; tp->has_cores = true; break;
	case TM_POD_MEM: tp->mem = v; tp->has_mem = true; break;
	case TM_CTR_CORES:
	case TM_CTR_WSET:
		if (!lb->ctr[0])
			break;
		tc = top_ctr_get(tp, lb->ctr);
		if (!tc)
			break;
		if (m == TM_CTR_CORES) {
			tc->cores = v;
			tc->has_cores = true;
		} else {
			tc->wset = v;
			tc->has_wset = true;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* One sample line; lines of other families are skipped. */
static int top_line(struct top_data *d, const char *l, const char *end)
{
	struct top_labels lb = { .ns = "" };
	enum top_metric m = TM_NONE;
	const char *p = l;
	size_t n = strcspn(l, "{ ");
	char num[64], *nend;
	double v;

	for (size_t i = 0; i < TM_NONE; i++)
		if (strlen(top_names[i]) == n && !strncmp(l, top_names[i], n))
			m = (enum top_metric)i;
	if (m == TM_NONE || l + n >= end)
		return 0;
	p = l + n;
	if (*p == '{' && !(p = top_labels(p, end, &lb)))
		return -EPROTO;
	while (p < end && *p == ' ')
		p++;
	n = (size_t)(end - p);
	if (!n || n >= sizeof(num))
		return -EPROTO;
	memcpy(num, p, n);
	num[n] = '\0';
	v = strtod(num, &nend);
	if (nend == num || !isfinite(v) || v < 0)
		return -EPROTO;
	if (!lb.ns[0] || !lb.pod[0])
		return 0;
	return top_store(d, m, &lb, v);
}

static int top_parse(const char *text, size_t len, struct top_data *d)
{
	const char *l = text, *end = text + len;

	while (l < end) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end;
		int ret;

		if (le > l && *l != '#') {
			ret = top_line(d, l, le);
			if (ret < 0)
				return ret;
		}
		l = le + 1;
	}
	return 0;
}

static int top_cmp(const void *a, const void *b)
{
	const struct top_pod *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

/* kubectl: MilliValue() rounds up; memory in whole Mi, rounded down. */
static void top_cpu(char *buf, size_t cap, double cores)
{
	snprintf(buf, cap, "%.0fm", ceil(cores * 1000.0 - 1e-9));
}

static void top_mem(char *buf, size_t cap, double bytes)
{
	snprintf(buf, cap, "%.0fMi", floor(bytes / (1024.0 * 1024.0)));
}

/* Format metrics text as `kubectl top pods` would. ns NULL: every
 * namespace (NAMESPACE column); name NULL: every pod. Returns the number
 * of rows, or -errno (-EPROTO: malformed text). Exposed for tests. */
int cli_top_format(const char *text, size_t len, const char *ns,
		   const char *name, bool containers, FILE *fp)
{
	struct top_data d = { 0 };
	struct cli_table t = { 0 };
	char cpu[32], mem[32];
	size_t rows = 0, col0 = ns ? 0 : 1;
	int ret;

	ret = top_parse(text, len, &d);
	if (ret < 0)
		goto out;
	ret = cli_table_init(&t, col0 + (containers ? 4 : 3));
	if (ret < 0)
		goto out;
	{
		const char *h1[] = { "NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)" };
		const char *h2[] = { "NAMESPACE", "POD", "NAME", "CPU(cores)",
				     "MEMORY(bytes)" };

		ret = cli_table_add(&t, containers ? h2 + 1 - col0 : h1 + 1 - col0);
		if (ret < 0)
			goto out;
	}
	if (d.n)
		qsort(d.pods, d.n, sizeof(*d.pods), top_cmp);
	for (size_t i = 0; i < d.n && ret == 0; i++) {
		struct top_pod *p = &d.pods[i];
		double cores = 0, wset = 0;
		bool ccores = false, cwset = false;

		if ((ns && strcmp(p->ns, ns)) || (name && strcmp(p->name, name)))
			continue;
		for (size_t j = 0; j < p->n_ctr; j++) {
			struct top_ctr *c = &p->ctr[j];
			const char *row[] = { p->ns, p->name, c->name, cpu, mem };

			cores += c->cores;
			wset += c->wset;
			ccores |= c->has_cores;
			cwset |= c->has_wset;
			if (!containers || !c->has_cores)
				continue;
			top_cpu(cpu, sizeof(cpu), c->cores);
			top_mem(mem, sizeof(mem), c->wset);
			ret = cli_table_add(&t, row + 1 - col0);
			rows++;
		}
		if (containers || ret < 0)
			continue;
		/* the pod: its containers' sum, else the VM-level figure */
		if (!ccores && !p->has_cores)
			continue;   /* no rate yet: kubectl lists no such pod */
		top_cpu(cpu, sizeof(cpu), ccores ? cores : p->cores);
		top_mem(mem, sizeof(mem), cwset ? wset : p->has_mem ? p->mem : 0);
		{
			const char *row[] = { p->ns, p->name, cpu, mem };

			ret = cli_table_add(&t, row + 1 - col0);
		}
		rows++;
	}
	if (ret < 0)
		goto out;
	if (rows)
		ret = cli_table_flush(&t, fp);
	if (ret == 0)
		ret = (int)rows;
out:
	cli_table_free(&t);
	free(d.pods);
	return ret;
}

static void top_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm top pods [NAME] [-n NS | -A] [--containers]\n"
		"  CPU and memory of pods (or containers) as podvmd last measured "
		"them\n  (a rate over podvmd's ~5 s collector interval).\n");
}

struct top {
	const char *ns, *name;
	bool containers;
};

static int top_run(struct client *c, void *arg, struct pv_err *err)
{
	struct top *t = arg;
	struct client_resp resp = { 0 };
	int ret;

	ret = client_call(c, "GET", "/metrics", NULL, 0, &resp, err);
	if (ret < 0)
		goto out;
	ret = cli_top_format(resp.body ? resp.body : "", resp.len, t->ns,
			     t->name, t->containers, stdout);
	if (ret < 0) {
		fprintf(stderr, "podvm top: %s\n", ret == -EPROTO
			? "podvmd sent malformed metrics" : strerror(-ret));
		ret = CLIENT_EXIT_FAIL;
	} else if (ret == 0) {
		fprintf(stderr, t->name ? "error: metrics not available yet for "
			"pod %s/%s\n" : "error: metrics not available yet\n",
			t->ns ? t->ns : "", t->name ? t->name : "");
		ret = CLIENT_EXIT_FAIL;
	} else {
		ret = CLIENT_EXIT_OK;
	}
out:
	client_resp_free(&resp);
	return ret;
}

int cli_top(const struct cli_env *env_in, int argc, char **argv)
{
	struct cli_env env = *env_in;
	struct top t = { 0 };
	const char *type;
	bool all = false;
	const struct cli_verb verb = { "top", top_usage, &env, &t.ns };
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG('A', "all-namespaces", &all),
		CLI_OPT_FLAG(0, "containers", &t.containers),
		CLI_OPT_END
	};
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	if (ret < 0)
		return ret == CLI_OPTS_HELP ? CLIENT_EXIT_OK : CLIENT_EXIT_FAIL;
	if (optind >= argc) {
		top_usage(stderr);
		return CLIENT_EXIT_FAIL;
	}
	type = argv[optind++];
	if (strcmp(type, "pods") && strcmp(type, "pod") && strcmp(type, "po")) {
		fprintf(stderr, "podvm top: only \"pods\" is served, not \"%.64s\"\n",
			type);
		return CLIENT_EXIT_FAIL;
	}
	if (optind < argc)
		t.name = argv[optind++];
	if (optind < argc || (all && t.name)) {
		top_usage(stderr);
		return CLIENT_EXIT_FAIL;
	}
	if (all)
		t.ns = NULL;
	else if (!t.ns || !*t.ns)
		t.ns = "default";
	return client_main(&env, top_run, &t);
}
