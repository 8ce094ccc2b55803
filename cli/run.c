/* `podvm run [--verbose] FILE`: run one Pod manifest in its own microVM in
 * the foreground, without a daemon, streaming each container's output
 * prefixed like `kubectl logs --prefix`. Exit status: 0 when every container
 * exited 0, else the exit code of the first container that failed; 125 when
 * podvm itself failed (bad manifest, missing image, VM error). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/image_cli.h"
#include "cli/opts.h"
#include "host/follow.h"
#include "host/launch.h"
#include "pod/pod.h"

#define RUN_EXIT_ERROR   125
#define RUN_LINE_MAX     (64u * 1024)  /* flush a partial line past this */

struct run_line {
	char *buf;
	size_t len;
};

struct run_ctr {
	bool started, terminated;
	int exit_code;             /* of its last termination */
	unsigned term_seq;         /* order of its last termination */
	struct run_line line[2];   /* stdout, stderr */
};

struct run {
	struct launch l;
	struct pod *pod;
	bool verbose;
	struct run_ctr ctr[POD_MAX_CONTAINERS];
	unsigned term_seq;         /* terminations seen so far */
	bool failed;               /* a container failed */
	int exit_code;             /* of the first one that failed */
	bool guest_error;
	int sfd;                   /* signalfd: SIGINT, SIGTERM, SIGHUP */
};

static const char *stage_name[LAUNCH_T_COUNT] = {
	[LAUNCH_T_IMAGES] = "image ready",
	[LAUNCH_T_VM] = "VM started",
	[LAUNCH_T_AGENT] = "agent ready",
	[LAUNCH_T_CONTAINERS] = "containers started",
	[LAUNCH_T_DONE] = "pod done",
};

static void stage(struct run *r, enum launch_stage st)
{
	int64_t prev = r->l.t[LAUNCH_T_BEGIN];

	launch_mark(&r->l, st);
	if (!r->verbose)
		return;
	for (int i = (int)st - 1; i > LAUNCH_T_BEGIN; i--)
		if (r->l.t[i]) {
			prev = r->l.t[i];
			break;
		}
	fprintf(stderr, "podvm: %-19s %7.3fs  (+%" PRId64 " ms)\n", stage_name[st],
		(double)(r->l.t[st] - r->l.t[LAUNCH_T_BEGIN]) / 1000.0,
		r->l.t[st] - prev);
}

/* Print whole lines as "[pod/POD/CONTAINER] line"; keep a partial line
 * until its end arrives (or it grows past RUN_LINE_MAX). */
/* Agent order: [initContainers..., containers...]. */
static const char *ctr_name(const struct run *r, size_t idx)
{
	return pod_container_at(r->pod, idx)->name;
}

static void emit(struct run *r, uint16_t idx, int s, const char *p, size_t n)
{
	FILE *fp = s == 0 ? stdout : stderr;

	fprintf(fp, "[pod/%s/%s] ", r->pod->name, ctr_name(r, idx));
	fwrite(p, 1, n, fp);
	fputc('\n', fp);
	fflush(fp);
}

static void flush_line(struct run *r, uint16_t idx, int s)
{
	struct run_line *ln = &r->ctr[idx].line[s];

	if (ln->len) {
		emit(r, idx, s, ln->buf, ln->len);
		ln->len = 0;
	}
}

static void on_log(void *opaque, uint16_t idx, enum agent_stream stream,
		   const uint8_t *data, size_t len)
{
	struct run *r = opaque;
	int s = stream == AGENT_STREAM_STDOUT ? 0 : 1;
	struct run_line *ln = &r->ctr[idx].line[s];

	while (len > 0) {
		const uint8_t *nl = memchr(data, '\n', len);
		size_t take = nl ? (size_t)(nl - data) : len;

		if (ln->len + take > RUN_LINE_MAX) {
			flush_line(r, idx, s);
			if (take > RUN_LINE_MAX) {
				emit(r, idx, s, (const char *)data, take);
				take = 0;
				goto next;
			}
		}
		if (!ln->buf) {
			ln->buf = malloc(RUN_LINE_MAX);
			if (!ln->buf) {   /* degrade to unbuffered output */
				emit(r, idx, s, (const char *)data, take);
				goto next;
			}
		}
		memcpy(ln->buf + ln->len, data, take);
		ln->len += take;
		if (nl)
			flush_line(r, idx, s);
next:
		if (!nl)
			break;
		data = nl + 1;
		len -= take + 1;
	}
}

static void on_ready(void *opaque, int proto)
{
	struct run *r = opaque;

	(void)proto;
	stage(r, LAUNCH_T_AGENT);
}

static void on_container(void *opaque, const struct agent_ctr_event *ev)
{
	struct run *r = opaque;
	struct run_ctr *c = &r->ctr[ev->index];
	const char *name = ctr_name(r, ev->index);

	switch (ev->state) {
	case AGENT_CTR_RUNNING:
		if (r->verbose && c->started && ev->has_ready)
			fprintf(stderr, "podvm: container %s %s\n", name,
				ev->ready ? "ready" : "not ready");
		else if (r->verbose && ev->restart_count > 0)
			fprintf(stderr, "podvm: container %s restarted (restartCount %d)\n",
				name, ev->restart_count);
		c->started = true;
		c->terminated = false;
		break;
	case AGENT_CTR_WAITING:
		if (r->verbose)
			fprintf(stderr, "podvm: container %s waiting: %s%s%s\n", name,
				ev->reason, ev->message[0] ? ": " : "", ev->message);
		break;
	case AGENT_CTR_TERMINATED:
		c->terminated = true;
		c->exit_code = ev->exit_code;
		c->term_seq = ++r->term_seq;
		flush_line(r, ev->index, 0);
		flush_line(r, ev->index, 1);
		/* provisional, for a pod that never reports POD_DONE */
		if (ev->exit_code != 0 && !r->failed) {
			r->failed = true;
			r->exit_code = ev->exit_code;
		}
		if (ev->exit_code != 0 || r->verbose)
			fprintf(stderr, "podvm: container %s terminated: %s, exit code %d%s%s\n",
				name, ev->reason[0] ? ev->reason
				      : ev->exit_code ? "Error" : "Completed",
				ev->exit_code, ev->message[0] ? ": " : "", ev->message);
		break;
	}
	if (!r->l.t[LAUNCH_T_CONTAINERS]) {
		/* every regular container has started (or failed to) */
		size_t settled = 0;

		for (size_t i = r->pod->n_init_containers;
		     i < r->pod->n_init_containers + r->pod->n_containers; i++)
			settled += r->ctr[i].started || r->ctr[i].terminated;
		if (settled == r->pod->n_containers)
			stage(r, LAUNCH_T_CONTAINERS);
	}
}

/* The pod's exit code: that of the container whose final termination
 * failed first (restarted containers count by their last run). */
static void on_done(void *opaque, const struct agent_pod_done *d)
{
	struct run *r = opaque;
	unsigned best = 0;

	r->failed = false;
	r->exit_code = 0;
	for (size_t i = 0; i < d->n; i++) {
		const struct agent_pod_done_ctr *f = &d->containers[i];
		const struct run_ctr *c;

		if (f->index >= POD_MAX_CONTAINERS || f->waiting || f->exit_code == 0)
			continue;
		c = &r->ctr[f->index];
		if (!r->failed || (c->term_seq && c->term_seq < best)) {
			r->failed = true;
			r->exit_code = f->exit_code;
			best = c->term_seq ? c->term_seq : ~0u;
		}
	}
	if (d->reason[0])
		fprintf(stderr, "podvm: pod %s: %s%s%s\n", r->pod->name, d->reason,
			d->message[0] ? ": " : "", d->message);
	stage(r, LAUNCH_T_DONE);
}

static void on_guest_error(void *opaque, const char *msg)
{
	struct run *r = opaque;

	r->guest_error = true;
	fprintf(stderr, "podvm: guest: %s\n", msg);
}

static void print_console_tail(struct run *r)
{
	char *tail = launch_console_tail(&r->l, 15);

	if (tail && *tail)
		fprintf(stderr, "podvm: last lines of the VM console:\n%s\n", tail);
	free(tail);
}

/* Ctrl-C or SIGTERM: a graceful stop (the guest sends SIGTERM, then
 * SIGKILL after the grace period; the VM is destroyed if the guest does
 * not finish in time); a second one stops the pod at once. */
static enum launch_follow_req on_wake(void *opaque, struct launch *l,
				      int64_t *grace)
{
	struct run *r = opaque;
	struct signalfd_siginfo si;

	if (read(r->sfd, &si, sizeof(si)) != sizeof(si))
		return LAUNCH_REQ_NONE;
	if (l->f.stopping) {
		fprintf(stderr, "podvm: stopping now\n");
		return LAUNCH_REQ_STOP_NOW;
	}
	*grace = r->pod->grace_period;
	return LAUNCH_REQ_STOP;
}

static void on_stopping(void *opaque, struct launch *l, int64_t grace)
{
	struct run *r = opaque;

	fprintf(stderr, "podvm: stopping pod %s (grace period %" PRId64 "s; "
		"interrupt again to kill it now)\n", r->pod->name, grace);
}

static const struct launch_follow_ops run_ops = {
	.agent = {
		.ready = on_ready,
		.log = on_log,
		.container = on_container,
		.done = on_done,
		.error = on_guest_error,
	},
	.wake = on_wake,
	.stopping = on_stopping,
};

/* Follow the pod to its end (host/follow.c). Returns the exit code. */
static int run_follow(struct run *r)
{
	const struct launch_follow *f = &r->l.f;
	enum launch_follow_end end = launch_follow(&r->l, r->sfd, &run_ops, r);

	if (end == LAUNCH_END_AGENT_ERROR || end == LAUNCH_END_ERROR) {
		fprintf(stderr, "podvm: %s%s\n",
			end == LAUNCH_END_AGENT_ERROR ? "agent: " : "", f->err.msg);
		return RUN_EXIT_ERROR;
	}
	if (r->guest_error) {
		print_console_tail(r);
		return RUN_EXIT_ERROR;
	}
	if (!f->ah.done) {
		if (f->stopping && f->ah.proto) {
			fprintf(stderr, "podvm: pod %s did not stop in time: VM destroyed\n",
				r->pod->name);
			return r->failed ? r->exit_code : 137;
		}
		if (!f->ah.proto)
			fprintf(stderr, "podvm: the VM %s before its agent answered\n",
				f->vm_gone ? "stopped" : "did not boot in time");
		else
			fprintf(stderr, "podvm: the VM stopped before the pod finished\n");
		print_console_tail(r);
		return RUN_EXIT_ERROR;
	}
	if (!f->vm_gone && r->verbose)
		fprintf(stderr, "podvm: VM did not power off in time: destroying it\n");
	return r->failed ? r->exit_code : 0;
}

static void usage(FILE *fp)
{
	fprintf(fp, "usage: podvm run [--verbose] [--seccomp-profile-root DIR] FILE\n"
		"Localhost seccomp profiles are read from DIR (default STATE_DIR/seccomp).\n");
}

/* Decode, prepare images, boot, follow: the exit code. */
static int run_pod(struct run *r, const struct cli_env *env, const char *file,
		   struct launch_opts *opts)
{
	struct json_object *doc = NULL;
	struct pv_err err = { 0 };
	int ret = RUN_EXIT_ERROR;

	if (manifest_load(file, &doc, &err) < 0 ||
	    pod_decode(doc, &r->pod, NULL, &err) < 0) {
		fprintf(stderr, "podvm: %s: %s\n", file, err.msg);
		goto out;
	}
	launch_init(&r->l, opts, r->pod);
	/* Images first, as docker run: what is missing comes from its
	 * registry (progress on stderr); "image ready" counts the pull. */
	if (cli_pull_pod(env, r->pod, false, &err) < 0) {
		fprintf(stderr, "podvm: %s: %s\n", file, err.msg);
		goto out;
	}
	if (launch_prepare(&r->l, &err) < 0) {
		fprintf(stderr, "podvm: %s: %s\n", file, err.msg);
		goto out;
	}
	stage(r, LAUNCH_T_IMAGES);
	if (r->verbose)
		fprintf(stderr, "podvm: VM size %s (CapacityProvisioned): %u vCPU, %" PRId64 " MiB\n",
			r->l.size.annotation, r->l.size.vcpus, r->l.size.mem_mib);
	if (launch_boot(&r->l, &err) < 0) {
		fprintf(stderr, "podvm: %s\n", err.msg);
		goto out;
	}
	stage(r, LAUNCH_T_VM);
	ret = run_follow(r);
out:
	json_object_put(doc);
	return ret;
}

static void run_free(struct run *r)
{
	if (!r)
		return;
	if (r->pod)
		launch_teardown(&r->l);
	for (size_t i = 0; i < POD_MAX_CONTAINERS; i++) {
		free(r->ctr[i].line[0].buf);
		free(r->ctr[i].line[1].buf);
	}
	pod_free(r->pod);
	free(r);
}

int cli_run(const struct cli_env *env, int argc, char **argv)
{
	struct launch_opts opts = {
		.state_dir = env->state_dir,
		.run_dir = env->run_dir,
		.guest_dir = env->guest_dir,
		.libvirt_uri = env->libvirt_uri,
	};
	struct run *r = NULL;
	sigset_t mask, old;
	char *sc_root = NULL;
	int sfd, ret = RUN_EXIT_ERROR;
	bool verbose = false;
	const struct cli_verb verb = { "run", usage, NULL, NULL };
	const struct cli_opt vopts[] = {
		CLI_OPT_FLAG('v', "verbose", &verbose),
		CLI_OPT_STR(0, "seccomp-profile-root", &opts.seccomp_root),
		CLI_OPT_END
	};
	int first = cli_opts_parse(&verb, vopts, argc, argv);

	if (first < 0)
		return first == CLI_OPTS_HELP ? 0 : 2;
	if (first + 1 != argc) {
		usage(stderr);
		return 2;
	}
	if (!opts.seccomp_root &&
	    asprintf(&sc_root, "%s/seccomp", env->state_dir) >= 0)
		opts.seccomp_root = sc_root;
	if (!opts.seccomp_root || !(r = calloc(1, sizeof(*r)))) {
		fprintf(stderr, "podvm: out of memory\n");
		free(sc_root);
		return RUN_EXIT_ERROR;
	}
	r->verbose = verbose;
	opts.quiet = !r->verbose;

	/* Signals arrive through signalfd; block them before any thread (the
	 * libvirt event loop) starts so that none of them takes a signal. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, &old);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		fprintf(stderr, "podvm: signalfd: %s\n", strerror(errno));
	} else {
		r->sfd = sfd;
		ret = run_pod(r, env, argv[first], &opts);
	}
	run_free(r);
	free(sc_root);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
