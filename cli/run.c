/* `podvm run [--verbose] FILE`: run one Pod manifest in its own microVM in
 * the foreground, without a daemon, streaming each container's output
 * prefixed like `kubectl logs --prefix`. Exit status: 0 when every container
 * exited 0, else the exit code of the first container that failed; 125 when
 * podvm itself failed (bad manifest, missing image, VM error). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "host/agent_host.h"
#include "host/launch.h"
#include "pod/pod.h"

#define RUN_EXIT_ERROR   125
#define RUN_LINE_MAX     (64u * 1024)  /* flush a partial line past this */
#define RUN_BOOT_TIMEOUT_S 180         /* TCG on a loaded host is slow */
#define RUN_STOP_SLACK_S 15            /* beyond the grace period */
#define RUN_POWEROFF_S   15            /* POD_DONE -> VM gone */

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
	struct agent_host ah;
	struct pod *pod;
	bool verbose;
	struct run_ctr ctr[POD_MAX_CONTAINERS];
	unsigned term_seq;         /* terminations seen so far */
	bool failed;               /* a container failed */
	int exit_code;             /* of the first one that failed */
	bool guest_error;
	bool stopping;
	int64_t deadline;          /* monotonic ms; 0 = none */
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

static const struct agent_host_cb run_cb = {
	.ready = on_ready,
	.log = on_log,
	.container = on_container,
	.done = on_done,
	.error = on_guest_error,
};

static void print_console_tail(struct run *r)
{
	char *tail = launch_console_tail(&r->l, 15);

	if (tail && *tail)
		fprintf(stderr, "podvm: last lines of the VM console:\n%s\n", tail);
	free(tail);
}

/* Graceful stop: the guest sends SIGTERM, then SIGKILL after the grace
 * period; podvm destroys the VM if the guest does not finish in time. */
static void begin_stop(struct run *r)
{
	struct pv_err err;

	if (r->stopping) {
		fprintf(stderr, "podvm: stopping now\n");
		r->deadline = util_mono_ms();
		return;
	}
	r->stopping = true;
	r->deadline = util_mono_ms() + (r->pod->grace_period + RUN_STOP_SLACK_S) * 1000;
	if (r->ah.proto && agent_host_stop(&r->ah, r->pod->grace_period, &err) == 0) {
		fprintf(stderr, "podvm: stopping pod %s (grace period %" PRId64 "s; "
			"interrupt again to kill it now)\n", r->pod->name,
			r->pod->grace_period);
		return;
	}
	r->deadline = util_mono_ms();  /* no agent yet: nothing to be graceful to */
}

/* The main loop: agent socket, signals, VM exit. Returns the exit code. */
static int run_loop(struct run *r, int sfd)
{
	struct pv_err err = { 0 };
	int vm_fd = r->l.vm->ops->exit_fd(r->l.vm);
	bool vm_gone = false, agent_eof = false, shutdown_sent = false;

	r->deadline = util_mono_ms() + RUN_BOOT_TIMEOUT_S * 1000;
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = agent_eof ? -1 : r->l.agent_fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = vm_fd, .events = POLLIN },
		};
		int64_t now = util_mono_ms();
		int timeout = -1, n;

		if (r->deadline) {
			if (now >= r->deadline)
				break;
			timeout = (int)(r->deadline - now);
		}
		n = poll(pfd, 3, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "podvm: poll: %s\n", strerror(errno));
			return RUN_EXIT_ERROR;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				begin_stop(r);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			bool had_proto = r->ah.proto != 0;
			int ret = agent_host_readable(&r->ah, &err);

			if (ret < 0) {
				fprintf(stderr, "podvm: agent: %s\n", err.msg);
				return RUN_EXIT_ERROR;
			}
			if (!had_proto && r->ah.proto && !r->stopping)
				r->deadline = 0;   /* booted: no timeout while it runs */
			if (ret == 1) {
				agent_eof = true;
				/* the VM is on its way out; give it a moment */
				if (!r->deadline)
					r->deadline = util_mono_ms() + RUN_POWEROFF_S * 1000;
			}
			if (r->ah.done && !shutdown_sent) {
				shutdown_sent = true;
				if (agent_host_shutdown(&r->ah, &err) < 0 && r->verbose)
					fprintf(stderr, "podvm: %s\n", err.msg);
				r->deadline = util_mono_ms() + RUN_POWEROFF_S * 1000;
			}
		}
		if (vm_fd >= 0 && (pfd[2].revents & POLLIN)) {
			vm_gone = true;
			/* drain what the guest wrote before it went away */
			if (!agent_eof)
				agent_host_readable(&r->ah, &err);
			break;
		}
		if (agent_eof && vm_fd < 0)
			break;
	}

	if (r->guest_error) {
		print_console_tail(r);
		return RUN_EXIT_ERROR;
	}
	if (!r->ah.done) {
		if (r->stopping && r->ah.proto) {
			fprintf(stderr, "podvm: pod %s did not stop in time: VM destroyed\n",
				r->pod->name);
			return r->failed ? r->exit_code : 137;
		}
		if (!r->ah.proto)
			fprintf(stderr, "podvm: the VM %s before its agent answered\n",
				vm_gone ? "stopped" : "did not boot in time");
		else
			fprintf(stderr, "podvm: the VM stopped before the pod finished\n");
		print_console_tail(r);
		return RUN_EXIT_ERROR;
	}
	if (!vm_gone && r->verbose)
		fprintf(stderr, "podvm: VM did not power off in time: destroying it\n");
	return r->failed ? r->exit_code : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: podvm run [--verbose] FILE\n");
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
	struct json_object *doc = NULL;
	struct pv_err err = { 0 };
	const char *file = NULL;
	char *spec = NULL;
	size_t spec_len = 0;
	sigset_t mask, old;
	int sfd = -1, ret = RUN_EXIT_ERROR;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
			opts.quiet = false;
			if (!r && !(r = calloc(1, sizeof(*r)))) {
				fprintf(stderr, "podvm: out of memory\n");
				return RUN_EXIT_ERROR;
			}
			r->verbose = true;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "podvm run: unknown option %s\n", argv[i]);
			usage();
			free(r);
			return 2;
		} else if (!file) {
			file = argv[i];
		} else {
			usage();
			free(r);
			return 2;
		}
	}
	if (!file) {
		usage();
		free(r);
		return 2;
	}
	if (!r && !(r = calloc(1, sizeof(*r)))) {
		fprintf(stderr, "podvm: out of memory\n");
		return RUN_EXIT_ERROR;
	}
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
		goto out;
	}

	if (manifest_load(file, &doc, &err) < 0 ||
	    pod_decode(doc, &r->pod, NULL, &err) < 0) {
		fprintf(stderr, "podvm: %s: %s\n", file, err.msg);
		goto out;
	}
	launch_init(&r->l, &opts, r->pod);
	if (launch_prepare(&r->l, &err) < 0) {
		fprintf(stderr, "podvm: %s: %s\n", file, err.msg);
		goto out;
	}
	stage(r, LAUNCH_T_IMAGES);
	if (r->verbose)
		fprintf(stderr, "podvm: VM size %s (CapacityProvisioned): %u vCPU, %" PRId64 " MiB\n",
			r->l.size.annotation, r->l.size.vcpus, r->l.size.mem_mib);
	if (launch_spec_json(&r->l, &spec, &spec_len, &err) < 0 ||
	    launch_boot(&r->l, &err) < 0) {
		fprintf(stderr, "podvm: %s\n", err.msg);
		goto out;
	}
	stage(r, LAUNCH_T_VM);
	if (launch_connect(&r->l, 10000, &err) < 0) {
		fprintf(stderr, "podvm: %s\n", err.msg);
		goto out;
	}
	agent_host_init(&r->ah, r->l.agent_fd, spec, spec_len,
			r->pod->n_init_containers + r->pod->n_containers,
			&run_cb, r);
	ret = run_loop(r, sfd);
	agent_host_free(&r->ah);
out:
	if (r) {
		if (r->pod)
			launch_teardown(&r->l);
		for (size_t i = 0; i < POD_MAX_CONTAINERS; i++) {
			free(r->ctr[i].line[0].buf);
			free(r->ctr[i].line[1].buf);
		}
		pod_free(r->pod);
		free(r);
	}
	free(spec);
	json_object_put(doc);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return ret;
}
