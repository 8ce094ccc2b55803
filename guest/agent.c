/* The guest side of the agent protocol and podvm-init's event loop: one
 * epoll set over the port, a signalfd and every container's stdout and
 * stderr pipe. States:
 *
 *   HELLO  HELLO sent, waiting for HELLO_ACK
 *   SPEC   waiting for POD_SPEC
 *   RUN    containers running; logs and events stream out
 *   DONE   POD_DONE queued; flush it, then wait <= 5 s for SHUTDOWN
 *
 * If the host end disconnects after the handshake (daemon restart), the
 * pod keeps running, output queues up to the caps and the rest is dropped;
 * when a host connects again the guest sends HELLO first and goes on. */
#include "guest/guest.h"
#include "guest/net.h"
#include "guest/stats.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>


#define GUEST_PORT_FIND_MS     10000
#define GUEST_CONNECT_MS       60000
#define GUEST_HANDSHAKE_MS     60000   /* HELLO to POD_SPEC */
#define GUEST_DONE_FLUSH_MS    60000   /* getting POD_DONE out */
#define GUEST_SHUTDOWN_WAIT_MS 5000
#define GUEST_RECONNECT_POLL_MS 100

enum guest_state { GUEST_S_HELLO, GUEST_S_SPEC, GUEST_S_RUN, GUEST_S_DONE };

struct guest_agent {
	int port, epfd, sigfd;
	bool port_polled;          /* in the epoll set */
	uint32_t port_events;
	bool connected;
	bool awaiting_ack;
	enum guest_state state;
	int64_t handshake_deadline, done_deadline, shutdown_deadline;
	bool power_off;            /* leave the loop */
	struct agent_reader rd;
	struct guest_outq q;
	struct guest_pod gp;
};

static void guest_agent_teardown(struct guest_agent *a)
{
	guest_pod_free(&a->gp);
	guest_outq_free(&a->q);
	agent_reader_free(&a->rd);
	if (a->sigfd >= 0)
		close(a->sigfd);
	if (a->epfd >= 0)
		close(a->epfd);
	if (a->port >= 0)
		close(a->port);
	a->sigfd = a->epfd = a->port = -1;
}

static int guest_port_update(struct guest_agent *a, struct pv_err *err)
{
	struct epoll_event ev = { 0 };
	uint32_t want = EPOLLIN | (guest_outq_empty(&a->q) ? 0 : EPOLLOUT);

	if (!a->connected) {
		if (a->port_polled) {
			epoll_ctl(a->epfd, EPOLL_CTL_DEL, a->port, NULL);
			a->port_polled = false;
		}
		return 0;
	}
	if (a->port_polled && want == a->port_events)
		return 0;
	ev.events = want;
	ev.data.u64 = GUEST_TAG_PORT;
	if (epoll_ctl(a->epfd, a->port_polled ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
		      a->port, &ev) < 0)
		return pv_err_sys(err, errno, "epoll on the agent port");
	a->port_polled = true;
	a->port_events = want;
	return 0;
}

/* Answer STATS_REQUEST with every container's cgroup figures (the host's
 * metrics collector asks every few seconds; never blocks on the host). */
static int guest_send_stats(struct guest_agent *a, struct pv_err *err)
{
	const struct pod *pod = a->gp.pod;
	const char *names[AGENT_MAX_CTRS];
	size_t n = 0, len = 0;
	char *json = NULL;
	int rc;

	for (size_t i = 0; pod && i < pod->n_init_containers && n < AGENT_MAX_CTRS; i++)
		names[n++] = pod->init_containers[i].name;
	for (size_t i = 0; pod && i < pod->n_containers && n < AGENT_MAX_CTRS; i++)
		names[n++] = pod->containers[i].name;
	rc = guest_stats_collect(NULL, NULL, names, n, &json, &len, err);
	if (rc < 0)
		return rc;
	rc = guest_outq_control(&a->q, AGENT_STATS, json);
	free(json);
	return rc < 0 ? pv_err_set(err, -rc, "queue STATS") : 0;
}

static int guest_send_hello(struct guest_agent *a, bool front)
{
	struct agent_hello h = { .proto_min = AGENT_PROTO_MIN,
				 .proto_max = AGENT_PROTO_MAX };
	char *json;
	int rc;

	snprintf(h.agent, sizeof(h.agent), "%s", GUEST_AGENT_NAME);
	/* a reconnecting host must not send the spec again */
	h.has_spec = a->state == GUEST_S_RUN || a->state == GUEST_S_DONE;
	json = agent_msg_hello(&h);
	rc = front ? guest_outq_control_front(&a->q, AGENT_HELLO, json)
		   : guest_outq_control(&a->q, AGENT_HELLO, json);
	free(json);
	a->awaiting_ack = true;
	return rc;
}

/* The host end went away: keep the pod running, stop writing. */
static void guest_host_lost(struct guest_agent *a)
{
	if (!a->connected)
		return;
	guest_diag("host disconnected from the agent port");
	a->connected = false;
	guest_outq_drop_partial(&a->q);     /* framing restarts with HELLO */
	agent_reader_free(&a->rd);
	agent_reader_init(&a->rd, AGENT_MAX_PAYLOAD);
}

/* POD_SPEC (pod/agent_spec.c decodes it), then what only the guest checks:
 * its containers bind to the runtime, names and disk serials are sane. */
static int guest_parse_spec(const uint8_t *p, size_t n, struct guest_pod *gp,
			    struct pv_err *err)
{
	int rc = agent_parse_pod_spec(p, n, &gp->pod, &gp->rt, err);

	if (rc < 0)
		return rc;
	gp->have_rt = true;
	rc = guest_pod_bind(gp, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < gp->n; i++) {
		const struct runtime_container *c = gp->ctrs[i].rc;

		if (!pod_is_dns1123_label(c->name))
			return pv_err_set(err, EINVAL, "POD_SPEC: runtime container %zu name mismatch", i);
		if (!guest_serial_valid(c->disk_serial) || c->argc == 0 || !c->argv)
			return pv_err_set(err, EINVAL, "POD_SPEC: container %s: bad disk serial or argv",
					  c->name);
	}
	return 0;
}

static int guest_enter_done(struct guest_agent *a)
{
	char *json = guest_pod_done_json(&a->gp);
	int rc = guest_outq_control(&a->q, AGENT_POD_DONE, json);

	free(json);
	a->state = GUEST_S_DONE;
	a->done_deadline = guest_now_ms() + GUEST_DONE_FLUSH_MS;
	a->shutdown_deadline = 0;
	return rc;
}

/* The protocol the host chose; after a reconnect the pod's state again. */
static int guest_on_hello_ack(struct guest_agent *a,
			      const struct agent_frame *f, struct pv_err *err)
{
	int proto, rc;

	rc = agent_parse_hello_ack(f->payload, f->len, &proto, err);
	if (rc < 0)
		return rc;
	if (proto < AGENT_PROTO_MIN || proto > AGENT_PROTO_MAX)
		return pv_err_set(err, EPROTO, "host chose protocol %d", proto);
	a->awaiting_ack = false;
	if (a->state == GUEST_S_HELLO)
		a->state = GUEST_S_SPEC;
	else if (a->state == GUEST_S_RUN || a->state == GUEST_S_DONE)
		return guest_pod_snapshot(&a->gp, &a->q);
	return 0;
}

/* The pod: its network, then its containers. */
static int guest_on_spec(struct guest_agent *a, const struct agent_frame *f,
			 struct pv_err *err)
{
	int rc = guest_parse_spec(f->payload, f->len, &a->gp, err);

	if (rc < 0)
		return rc;
	/* lo, and eth0 when the pod has a network (runtime "network") */
	rc = guest_net_setup(a->gp.rt.net, err);
	if (rc < 0)
		return rc;
	a->state = GUEST_S_RUN;
	guest_diag("pod %s/%s: starting %zu init and %zu container(s)",
		   a->gp.pod->namespace ? a->gp.pod->namespace : "default",
		   a->gp.pod->name, a->gp.n_init, a->gp.n - a->gp.n_init);
	rc = guest_pod_start(&a->gp, &a->q, a->epfd);
	if (rc < 0)
		return pv_err_set(err, -rc, "starting containers: out of memory");
	return 0;
}

static int guest_on_frame(struct guest_agent *a, const struct agent_frame *f,
			  struct pv_err *err)
{
	char msg[AGENT_MESSAGE_MAX];
	int64_t grace;
	int rc;

	switch (f->type) {
	case AGENT_HELLO_ACK:
		if (!a->awaiting_ack)
			break;
		return guest_on_hello_ack(a, f, err);
	case AGENT_POD_SPEC:
		if (a->state != GUEST_S_SPEC || a->awaiting_ack)
			break;
		return guest_on_spec(a, f, err);
	case AGENT_STOP:
		rc = agent_parse_stop(f->payload, f->len, &grace, err);
		if (rc < 0)
			return rc;
		if (a->state == GUEST_S_RUN)
			guest_pod_stop(&a->gp, grace, guest_now_ms());
		else if (a->state != GUEST_S_DONE)
			return guest_enter_done(a);   /* nothing started yet */
		return 0;
	case AGENT_EXEC_START:
		if (a->state != GUEST_S_RUN)
			break;
		return guest_exec_start(&a->gp, &a->q, f->payload, f->len, err);
	case AGENT_EXEC_STDIN:
		if (a->state != GUEST_S_RUN && a->state != GUEST_S_DONE)
			break;
		if (guest_exec_stdin(&a->gp, f->chan, f->payload, f->len) < 0)
			return pv_err_set(err, ENOMEM, "out of memory");
		return 0;
	case AGENT_EXEC_RESIZE:
		if (a->state != GUEST_S_RUN && a->state != GUEST_S_DONE)
			break;
		return guest_exec_resize(&a->gp, f->payload, f->len, err);
	case AGENT_STATS_REQUEST:
		rc = agent_parse_empty(f->payload, f->len, err);
		if (rc < 0)
			return rc;
		if (a->state != GUEST_S_RUN && a->state != GUEST_S_DONE)
			break;
		return guest_send_stats(a, err);
	case AGENT_SHUTDOWN:
		rc = agent_parse_empty(f->payload, f->len, err);
		if (rc < 0)
			return rc;
		/* Before POD_DONE this is a hard stop: no grace. */
		guest_pod_kill_all(&a->gp);
		a->power_off = true;
		return 0;
	case AGENT_ERROR:
		rc = agent_parse_error(f->payload, f->len, msg, sizeof(msg), err);
		if (rc < 0)
			return rc;
		return pv_err_set(err, ECONNABORTED, "host sent ERROR: %s", msg);
	default:
		break;
	}
	return pv_err_set(err, EPROTO, "unexpected %s from the host",
			  agent_type_name(f->type));
}

static int guest_port_readable(struct guest_agent *a, struct pv_err *err)
{
	struct agent_frame f;
	int rc;

	for (;;) {
		size_t room;
		uint8_t *p = agent_reader_space(&a->rd, &room);
		ssize_t n;

		if (!p)
			return pv_err_set(err, ENOMEM, "out of memory");
		n = read(a->port, p, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* virtio-serial returns 0 when the host side closed. */
			guest_host_lost(a);
			return 0;
		}
		agent_reader_commit(&a->rd, (size_t)n);
		while ((rc = agent_reader_next(&a->rd, &f, err)) == 1) {
			rc = guest_on_frame(a, &f, err);
			if (rc < 0)
				return rc;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int guest_on_signal(struct guest_agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			guest_pod_reap(&a->gp);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGPWR:
			guest_diag("signal %u: stopping the pod", si.ssi_signo);
			if (a->state == GUEST_S_RUN)
				guest_pod_stop(&a->gp, AGENT_GRACE_DEFAULT, guest_now_ms());
			else if (a->state != GUEST_S_DONE)
				return guest_enter_done(a);
			break;
		default:
			break;
		}
	}
	return 0;
}

static int guest_agent_setup(struct guest_agent *a, struct pv_err *err)
{
	char dev[128];
	sigset_t set;
	struct epoll_event ev = { 0 };
	int rc;

	rc = guest_port_find(AGENT_PORT_NAME, dev, sizeof(dev), GUEST_PORT_FIND_MS, err);
	if (rc < 0)
		return rc;
	rc = guest_port_open(dev, &a->port, err);
	if (rc < 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPWR);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return pv_err_sys(err, errno, "sigprocmask");
	a->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sigfd < 0)
		return pv_err_sys(err, errno, "signalfd");
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0)
		return pv_err_sys(err, errno, "epoll_create1");
	ev.events = EPOLLIN;
	ev.data.u64 = GUEST_TAG_SIG;
	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, a->sigfd, &ev) < 0)
		return pv_err_sys(err, errno, "epoll add signalfd");
	rc = guest_port_wait_host(a->port, GUEST_CONNECT_MS, err);
	if (rc < 0)
		return rc;
	a->connected = true;
	guest_diag("host connected on %s after %lld ms of uptime", dev,
		   (long long)guest_now_ms());
	a->handshake_deadline = guest_now_ms() + GUEST_HANDSHAKE_MS;
	return guest_send_hello(a, false);
}

static int guest_wait_timeout(struct guest_agent *a, int64_t now)
{
	int64_t d = 0, t;

	if (a->state == GUEST_S_HELLO || a->state == GUEST_S_SPEC)
		d = a->handshake_deadline;
	if (a->state == GUEST_S_RUN)
		d = guest_pod_next_deadline(&a->gp);
	if (a->state == GUEST_S_DONE)
		d = a->shutdown_deadline ? a->shutdown_deadline : a->done_deadline;
	t = d ? d - now : -1;
	if (t < 0 && d)
		t = 0;
	if (!a->connected && (t < 0 || t > GUEST_RECONNECT_POLL_MS))
		t = GUEST_RECONNECT_POLL_MS;
	return t > 60000 ? 60000 : (int)t;
}

/* Everything that depends on time or on the state rather than on one
 * event. Returns <0 on a fatal error. */
static int guest_agent_tick(struct guest_agent *a, struct pv_err *err)
{
	int64_t now = guest_now_ms();
	int rc;

	if (!a->connected && guest_port_host_connected(a->port)) {
		guest_diag("host reconnected");
		agent_reader_free(&a->rd);
		agent_reader_init(&a->rd, AGENT_MAX_PAYLOAD);
		a->connected = true;
		rc = guest_send_hello(a, true);
		if (rc < 0)
			return pv_err_set(err, -rc, "out of memory");
	}
	if ((a->state == GUEST_S_HELLO || a->state == GUEST_S_SPEC) &&
	    now >= a->handshake_deadline)
		return pv_err_set(err, ETIMEDOUT, "no %s from the host",
				  a->state == GUEST_S_HELLO ? "HELLO_ACK" : "POD_SPEC");
	if (a->state == GUEST_S_RUN) {
		rc = guest_pod_progress(&a->gp, &a->q, a->epfd, now);
		if (rc < 0)
			return pv_err_set(err, -rc, "out of memory");
		if (guest_pod_all_terminated(&a->gp)) {
			rc = guest_enter_done(a);
			if (rc < 0)
				return pv_err_set(err, -rc, "out of memory");
		}
	}
	if (a->connected) {
		rc = guest_outq_flush(&a->q, a->port);
		if (rc == -EPIPE || rc == -ENODEV)
			guest_host_lost(a);
		else if (rc < 0)
			return pv_err_sys(err, -rc, "writing to the agent port");
	}
	if (a->state == GUEST_S_DONE) {
		if (a->connected && guest_outq_empty(&a->q) && !a->shutdown_deadline)
			a->shutdown_deadline = now + GUEST_SHUTDOWN_WAIT_MS;
		if ((a->shutdown_deadline && now >= a->shutdown_deadline) ||
		    (!a->shutdown_deadline && now >= a->done_deadline))
			a->power_off = true;
	}
	return guest_port_update(a, err);
}

static int guest_agent_loop(struct guest_agent *a, struct pv_err *err)
{
	struct epoll_event evs[32];
	int rc, i, n;

	while (!a->power_off) {
		rc = guest_agent_tick(a, err);
		if (rc < 0)
			return rc;
		if (a->power_off)
			break;
		n = epoll_wait(a->epfd, evs, 32, guest_wait_timeout(a, guest_now_ms()));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pv_err_sys(err, errno, "epoll_wait");
		for (i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == GUEST_TAG_SIG) {
				rc = guest_on_signal(a);
			} else if (tag == GUEST_TAG_PORT) {
				rc = 0;
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					rc = guest_port_readable(a, err);
				/* POLLHUP with nothing left to read: host gone. */
				if (rc == 0 && a->connected &&
				    (evs[i].events & (EPOLLHUP | EPOLLERR)) &&
				    !guest_port_host_connected(a->port))
					guest_host_lost(a);
			} else if (tag >= GUEST_TAG_EXEC(0, 0) &&
				   tag < GUEST_TAG_EXEC(GUEST_MAX_EXECS, 0)) {
				guest_exec_io(&a->gp, &a->q, tag);
				rc = 0;
			} else if (tag >= GUEST_TAG_PIPE(0, 0) &&
				   tag < GUEST_TAG_PIPE(GUEST_MAX_CTRS, 0)) {
				int idx = (int)((tag - GUEST_TAG_PIPE(0, 0)) / 2);

				guest_pipe_read(&a->gp, &a->q, a->epfd, idx, (int)(tag & 1));
				rc = 0;
			} else {
				rc = 0;
			}
			if (rc < 0) {
				if (!err->errnum)
					pv_err_set(err, -rc, "event loop");
				return rc;
			}
			if (a->power_off)
				break;
		}
	}
	return 0;
}

/* Fatal: tell the host if we can (completing any half-written frame
 * first so the ERROR is parseable), within a short bound. */
static void guest_agent_fail(struct guest_agent *a, const struct pv_err *err)
{
	char *json;

	guest_pod_kill_all(&a->gp);
	if (a->port < 0 || !a->connected)
		return;
	if (a->q.head && a->q.head->off > 0 &&
	    guest_port_write_all(a->port, a->q.head->data + a->q.head->off,
				 a->q.head->len - a->q.head->off, 1000) < 0)
		return;
	json = agent_msg_error(err->msg);
	if (json) {
		uint8_t *frame;
		size_t len;

		if (agent_frame_build(AGENT_ERROR, 0, json, strlen(json), &frame, &len) == 0) {
			guest_port_write_all(a->port, frame, len, 1000);
			free(frame);
		}
		free(json);
	}
}

int guest_agent_run(struct pv_err *err)
{
	struct guest_agent a;
	int rc;

	pv_err_clear(err);
	memset(&a, 0, sizeof(a));
	a.port = a.epfd = a.sigfd = -1;
	agent_reader_init(&a.rd, AGENT_MAX_PAYLOAD);
	guest_outq_init(&a.q, GUEST_LOG_CAP_CTR, GUEST_LOG_CAP_TOTAL);
	guest_pod_init(&a.gp);
	a.state = GUEST_S_HELLO;

	rc = guest_agent_setup(&a, err);
	if (rc < 0)
		goto out;
	rc = guest_agent_loop(&a, err);
	if (rc < 0)
		goto out;
	if (a.gp.n && a.q.dropped_total)
		guest_diag("%llu bytes of container output were dropped",
			   (unsigned long long)a.q.dropped_total);
	rc = 0;
out:
	if (rc < 0)
		guest_agent_fail(&a, err);
	guest_agent_teardown(&a);
	return rc;
}
