/* podvm image pull, and the pull that `podvm run` does for missing
 * images: registry options from the global flags, and progress on stderr
 * (a line per layer, redrawn, on a terminal; one line per step
 * otherwise). */
#include "cli/cli.h"
#include "cli/image_cli.h"
#include "cli/opts.h"
#include "host/imgpolicy.h"
#include "images/registry.h"
#include "pod/pod.h"
#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG_MAX_LAYERS 128   /* drawn; more layers still pull */

struct prog_layer {
	char digest[20];
	uint64_t bytes, total;
	int64_t start_ms, end_ms;
	enum { L_WAIT, L_CACHED, L_RUN, L_DONE } state;
};

struct prog {
	FILE *fp;
	bool tty;
	size_t n, drawn;
	struct prog_layer l[PROG_MAX_LAYERS];
	int64_t last_draw;
};

void cli_human_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)b;
	size_t u = 0;

	/* decimal units, as docker pull */
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static void draw(struct prog *p, bool force)
{
	int64_t now = util_mono_ms();
	char a[32], b[32], r[32];

	if (!force && now - p->last_draw < 100)
		return;
	p->last_draw = now;
	if (p->drawn)
		fprintf(p->fp, "\033[%zuA", p->drawn);
	for (size_t i = 0; i < p->n && i < PROG_MAX_LAYERS; i++) {
		struct prog_layer *l = &p->l[i];

		fprintf(p->fp, "\033[2K%s: ", l->digest);
		cli_human_bytes(l->bytes, a, sizeof(a));
		cli_human_bytes(l->total, b, sizeof(b));
		switch (l->state) {
		case L_WAIT:
			fprintf(p->fp, "Waiting\n");
			break;
		case L_CACHED:
			fprintf(p->fp, "Already exists\n");
			break;
		case L_RUN: {
			int64_t ms = now - l->start_ms;

			cli_human_bytes(ms > 0 ? l->bytes * 1000 / (uint64_t)ms : 0, r, sizeof(r));
			fprintf(p->fp, "Downloading %s/%s  %s/s\n", a, b, r);
			break;
		}
		case L_DONE:
			fprintf(p->fp, "Pull complete %s\n", b);
			break;
		}
	}
	p->drawn = p->n < PROG_MAX_LAYERS ? p->n : PROG_MAX_LAYERS;
	fflush(p->fp);
}

static void on_event(void *opaque, const struct image_pull_event *ev)
{
	struct prog *p = opaque;
	struct prog_layer *l = ev->layer < PROG_MAX_LAYERS ? &p->l[ev->layer] : NULL;
	char a[32];

	switch (ev->kind) {
	case PULL_EV_RESOLVED:
		p->n = ev->n_layers;
		for (size_t i = 0; i < p->n && i < PROG_MAX_LAYERS; i++)
			p->l[i].state = L_WAIT;
		cli_human_bytes(ev->total, a, sizeof(a));
		fprintf(p->fp, "resolved %s: %zu layers, %s\n", ev->digest, ev->n_layers, a);
		if (p->tty)
			draw(p, true);
		return;
	case PULL_EV_DONE:
		if (p->tty)
			draw(p, true);
		return;
	default:
		break;
	}
	if (!l)
		return;
	snprintf(l->digest, sizeof(l->digest), "%.19s", ev->digest);
	l->total = ev->total;
	l->bytes = ev->bytes;
	if (ev->kind == PULL_EV_LAYER_CACHED)
		l->state = L_CACHED;
	else if (ev->kind == PULL_EV_LAYER_START || ev->kind == PULL_EV_LAYER_RETRY) {
		l->state = L_RUN;
		l->start_ms = util_mono_ms();
	} else if (ev->kind == PULL_EV_LAYER_DONE) {
		l->state = L_DONE;
		l->end_ms = util_mono_ms();
	}
	if (p->tty) {
		draw(p, ev->kind != PULL_EV_LAYER_PROGRESS);
		return;
	}
	/* Plain output: one line per step, no progress ticks. */
	cli_human_bytes(ev->total, a, sizeof(a));
	if (ev->kind == PULL_EV_LAYER_CACHED)
		fprintf(p->fp, "layer %zu/%zu %s: already exists\n", ev->layer + 1, ev->n_layers,
			l->digest);
	else if (ev->kind == PULL_EV_LAYER_START)
		fprintf(p->fp, "layer %zu/%zu %s: downloading %s\n", ev->layer + 1, ev->n_layers,
			l->digest, a);
	else if (ev->kind == PULL_EV_LAYER_RETRY)
		fprintf(p->fp, "layer %zu/%zu %s: retrying\n", ev->layer + 1, ev->n_layers,
			l->digest);
	else if (ev->kind == PULL_EV_LAYER_DONE)
		fprintf(p->fp, "layer %zu/%zu %s: done in %.1f s\n", ev->layer + 1, ev->n_layers,
			l->digest, (double)(l->end_ms - l->start_ms) / 1000.0);
	fflush(p->fp);
}

static void cli_image_pull_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm [REGISTRY OPTIONS] image pull [-q] REF\n"
		"  fetch REF from its registry into the store: a line per layer with\n"
		"  bytes and rate on a terminal, one line per step otherwise\n");
}

int cli_registry_open(const struct cli_env *env, struct registry **out, struct pv_err *err)
{
	struct registry_config cfg = { 0 };
	const char *stall = getenv("PODVM_PULL_STALL_TIMEOUT");

	cfg.auth_file = env->registry_auth;
	cfg.insecure = env->insecure_registries;
	cfg.n_insecure = env->n_insecure_registries;
	cfg.mirrors = env->registry_mirrors;
	cfg.n_mirrors = env->n_registry_mirrors;
	if (stall && *stall)
		cfg.stall_seconds = atoi(stall);
	return registry_open(&cfg, out, err);
}

int cli_pull(const struct cli_env *env, struct image_store *s, struct registry *r,
	     const char *ref, bool quiet, struct pv_err *err)
{
	struct prog *p = calloc(1, sizeof(*p));
	struct image_pull_progress prog = { on_event, p };
	struct image_pull_result res;
	char a[32];
	int ret;

	(void)env;
	if (!p)
		return pv_err_set(err, ENOMEM, "out of memory");
	p->fp = stderr;
	p->tty = !quiet && isatty(STDERR_FILENO);
	if (!quiet)
		fprintf(stderr, "pulling %s\n", ref);
	ret = image_pull(s, r, ref, NULL, quiet ? NULL : &prog, &res, err);
	if (ret == 0 && !quiet) {
		cli_human_bytes(res.fetched, a, sizeof(a));
		fprintf(stderr, "pulled %s (%s) in %.1f s, %s fetched%s\n", res.ref,
			res.repo_digest, (double)res.ms / 1000.0, a,
			res.shared ? " (by a concurrent pull)" : "");
	}
	free(p);
	return ret;
}

int cli_image_pull(const struct cli_env *env, struct image_store *s, int argc, char **argv,
		   struct pv_err *err)
{
	struct registry *r = NULL;
	bool quiet = false;
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG('q', "quiet", &quiet),
		CLI_OPT_END
	};
	const struct cli_verb verb = { "image pull", cli_image_pull_usage, NULL, NULL };
	int i = cli_opts_parse(&verb, opts, argc, argv), ret;

	if (i == CLI_OPTS_HELP)
		return -ECANCELED;
	if (i < 0 || i != argc - 1)
		return pv_err_set(err, EINVAL, "usage: podvm image pull [-q] REF");
	ret = cli_registry_open(env, &r, err);
	if (ret == 0)
		ret = cli_pull(env, s, r, argv[i], quiet, err);
	if (ret == 0) {
		struct image *img = NULL;

		if (image_store_resolve(s, argv[i], &img, NULL) == 0)
			printf("%s\n", img->repo_digest[0] ? img->repo_digest : img->ref);
		image_free(img);
	}
	registry_close(r);
	return ret;
}

int cli_pull_pod(const struct cli_env *env, struct pod *pod, bool quiet, struct pv_err *err)
{
	struct image_store *s = NULL;
	struct registry *r = NULL;
	size_t n_all = pod_n_all_containers(pod);
	char reason[32];
	int ret = 0;

	ret = image_store_open(env->state_dir, &s, err);
	for (size_t i = 0; ret == 0 && i < n_all; i++) {
		const struct pod_container *c = pod_container_at(pod, i);
		const char *list = i < pod->n_init_containers ? "initContainers" : "containers";
		size_t pos = i < pod->n_init_containers ? i : i - pod->n_init_containers;
		bool seen = false;

		/* one pull per image, however many containers use it */
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(pod_container_at(pod, k)->image, c->image);
		if (seen)
			continue;
		ret = imgpolicy_decide(s, c, IMGPOLICY_MISSING, reason, err);
		if (ret == 1 && !r)
			ret = cli_registry_open(env, &r, err) < 0 ? -1 : 1;
		if (ret == 1)
			ret = cli_pull(env, s, r, c->image, quiet, err);
		if (ret < 0)
			pv_err_prefix(err, "spec.%s[%zu].image", list, pos);
	}
	registry_close(r);
	image_store_close(s);
	return ret < 0 ? ret : 0;
}
