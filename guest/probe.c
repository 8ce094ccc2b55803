/* Probes, Kubernetes semantics: a startup probe gates liveness and
 * readiness; each check runs every periodSeconds after
 * initialDelaySeconds (from the container's start) and may take
 * timeoutSeconds; successThreshold / failureThreshold consecutive
 * results settle it. Failed startup or liveness: the container is
 * killed (preStop, SIGTERM, SIGKILL at the grace period) and restarted
 * per policy. Readiness drives "ready" on RUNNING events.
 *
 * exec checks run inside the container (jobs.c); httpGet and tcpSocket
 * run in a child of PID 1 in the VM, which is the pod's network
 * namespace: 127.0.0.1 reaches the containers. HTTPS is not supported
 * (the check fails, documented). */
#include "guest/guest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const char *const guest_probe_names[GUEST_PROBE_N] = {
	"Startup", "Liveness", "Readiness" };

static const struct pod_probe *guest_probe_of(const struct pod_container *pc,
					      int k)
{
	const struct pod_probe *p = k == GUEST_PROBE_STARTUP ? &pc->startup
		: k == GUEST_PROBE_LIVENESS ? &pc->liveness : &pc->readiness;

	return p->kind == POD_PROBE_NONE ? NULL : p;
}

void guest_probes_reset(struct guest_ctr *c, int64_t now)
{
	int k;

	for (k = 0; k < GUEST_PROBE_N; k++) {
		struct guest_probe_st *st = &c->probes[k];

		if (st->pid > 0)
			kill(st->pid, SIGKILL);   /* its result is ignored */
		memset(st, 0, sizeof(*st));
		st->pid = -1;
		st->p = c->pc && !c->is_init ? guest_probe_of(c->pc, k) : NULL;
		if (st->p)
			st->next_ms = now + (int64_t)st->p->initial_delay_s * 1000;
	}
}

int guest_http_status(const char *resp, size_t len)
{
	int code = 0, i;

	if (len < 12 || strncmp(resp, "HTTP/1.", 7) != 0 || resp[8] != ' ')
		return -1;
	for (i = 9; i < 12; i++) {
		if (resp[i] < '0' || resp[i] > '9')
			return -1;
		code = code * 10 + (resp[i] - '0');
	}
	return code;
}

struct guest_netcheck {
	const struct pod_container *pc;
	const struct pod_probe *p;
};

static int guest_probe_port(const struct guest_netcheck *n)
{
	size_t i;

	if (!n->p->port_name)
		return n->p->port;
	for (i = 0; i < n->pc->n_ports; i++)
		if (n->pc->ports[i].name && strcmp(n->pc->ports[i].name, n->p->port_name) == 0)
			return n->pc->ports[i].container_port;
	return -1;
}

/* Child process: 0 = success. Blocking I/O bounded by the timeout. */
static int guest_netcheck_run(void *arg)
{
	const struct guest_netcheck *n = arg;
	const struct pod_probe *p = n->p;
	struct sockaddr_in sa;
	struct timeval tv = { .tv_sec = p->timeout_s > 0 ? p->timeout_s : 1 };
	char req[4096], resp[64];
	int fd, port = guest_probe_port(n), len, code;
	size_t got = 0, i;

	if (port <= 0 || port > 65535 || p->http_https)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, p->http_host && *p->http_host ? p->http_host : "127.0.0.1",
		      &sa.sin_addr) != 1)
		return 1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 1;
	if (p->kind == POD_PROBE_TCP)
		return 0;
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
		       "User-Agent: kube-probe/1.32\r\nAccept: */*\r\n"
		       "Connection: close\r\n",
		       p->http_path && *p->http_path ? p->http_path : "/",
		       p->http_host && *p->http_host ? p->http_host : "127.0.0.1", port);
	for (i = 0; i < p->n_http_headers && len > 0 && (size_t)len < sizeof(req); i++)
		len += snprintf(req + len, sizeof(req) - (size_t)len, "%s: %s\r\n",
				p->http_headers[i].key, p->http_headers[i].value);
	if (len < 0 || (size_t)len + 3 > sizeof(req))
		return 1;
	len += snprintf(req + len, sizeof(req) - (size_t)len, "\r\n");
	if (write(fd, req, (size_t)len) != len)
		return 1;
	while (got < 12) {
		ssize_t r = read(fd, resp + got, sizeof(resp) - 1 - got);

		if (r <= 0)
			return 1;
		got += (size_t)r;
	}
	code = guest_http_status(resp, got);
	return code >= 200 && code < 400 ? 0 : 1;
}

pid_t guest_netcheck_spawn(const struct pod_container *pc, const struct pod_probe *p)
{
	struct guest_netcheck n = { .pc = pc, .p = p };

	return guest_job_fork_fn(guest_netcheck_run, &n);   /* copied by fork */
}

/* Start one check as a job. */
static void guest_probe_launch(struct guest_pod *gp, struct guest_ctr *c, int k,
			       int64_t now)
{
	struct guest_probe_st *st = &c->probes[k];
	struct guest_job *j = guest_job_alloc(gp);
	struct pv_err err;
	pid_t pid = -1;

	st->next_ms = now + (int64_t)(st->p->period_s > 0 ? st->p->period_s : 10) * 1000;
	if (!j)
		return;   /* too many helpers right now: try next period */
	pv_err_clear(&err);
	if (st->p->kind == POD_PROBE_EXEC) {
		if (guest_enter_spawn(gp, c, st->p->exec_command, NULL, false, NULL,
				      &pid, &err) < 0) {
			guest_diag("container %s: %s probe: %s", c->pc->name,
				   guest_probe_names[k], err.msg);
			guest_probe_result(gp, gp->q, c, k, false);
			return;
		}
	} else {
		pid = guest_netcheck_spawn(c->pc, st->p);
		if (pid < 0)
			return;
	}
	j->pid = pid;
	j->kind = GUEST_JOB_PROBE;
	j->ctr = c->index;
	j->probe = k;
	j->deadline = now + (int64_t)(st->p->timeout_s > 0 ? st->p->timeout_s : 1) * 1000;
	st->pid = pid;
}

int guest_probes_progress(struct guest_pod *gp, struct guest_outq *q,
			  struct guest_ctr *c, int64_t now)
{
	int k;

	(void)q;
	for (k = 0; k < GUEST_PROBE_N; k++) {
		struct guest_probe_st *st = &c->probes[k];

		if (!st->p || st->pid > 0 || now < st->next_ms)
			continue;
		if (k == GUEST_PROBE_STARTUP && c->startup_ok)
			continue;
		if (k != GUEST_PROBE_STARTUP && c->probes[GUEST_PROBE_STARTUP].p &&
		    !c->startup_ok)
			continue;
		guest_probe_launch(gp, c, k, now);
	}
	return 0;
}

int64_t guest_probes_next(const struct guest_ctr *c)
{
	int64_t d = 0;
	int k;

	for (k = 0; k < GUEST_PROBE_N; k++) {
		const struct guest_probe_st *st = &c->probes[k];

		if (!st->p || st->pid > 0)
			continue;
		if (k == GUEST_PROBE_STARTUP && c->startup_ok)
			continue;
		if (k != GUEST_PROBE_STARTUP && c->probes[GUEST_PROBE_STARTUP].p &&
		    !c->startup_ok)
			continue;
		if (!d || st->next_ms < d)
			d = st->next_ms;
	}
	return d;
}

static void guest_set_ready(struct guest_pod *gp, struct guest_outq *q,
			    struct guest_ctr *c, bool ready)
{
	(void)gp;
	if (c->ready == ready)
		return;
	c->ready = ready;
	guest_ctr_event(q, c);
}

void guest_probe_result(struct guest_pod *gp, struct guest_outq *q,
			struct guest_ctr *c, int kind, bool ok)
{
	struct guest_probe_st *st = &c->probes[kind];
	int sthr, fthr;
	int64_t now = guest_now_ms();

	if (!st->p || c->phase != GUEST_CTR_RUNNING || c->terminating)
		return;
	sthr = st->p->success_threshold > 0 ? st->p->success_threshold : 1;
	fthr = st->p->failure_threshold > 0 ? st->p->failure_threshold : 3;
	if (ok) {
		st->successes++;
		st->failures = 0;
	} else {
		st->failures++;
		st->successes = 0;
	}
	if (kind == GUEST_PROBE_READINESS) {
		if (ok && st->successes >= sthr)
			guest_set_ready(gp, q, c, true);
		else if (!ok && st->failures >= fthr)
			guest_set_ready(gp, q, c, false);
		return;
	}
	if (kind == GUEST_PROBE_STARTUP && ok) {
		c->startup_ok = true;
		/* liveness/readiness delays count from the container's start */
		for (int k = GUEST_PROBE_LIVENESS; k < GUEST_PROBE_N; k++)
			if (c->probes[k].next_ms < now)
				c->probes[k].next_ms = now;
		if (!c->probes[GUEST_PROBE_READINESS].p)
			guest_set_ready(gp, q, c, true);
		return;
	}
	if (!ok && st->failures >= fthr) {
		guest_diag("container %s: %s probe failed %d times, killing it",
			   c->pc->name, guest_probe_names[kind], st->failures);
		guest_set_ready(gp, q, c, false);
		guest_ctr_kill(gp, c, gp->pod->grace_period * 1000, now);
	}
}
