/* The pod follower (host/follow.h): one poll loop, one set of deadlines,
 * shared by `podvm run` (cli/run.c) and the supervisor (daemon/). */
#include "host/follow.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "host/launch.h"
#include "util/util.h"

void launch_follow_free(struct launch_follow *f)
{
	agent_host_free(&f->ah);
	free(f->spec);
	f->spec = NULL;
	f->spec_len = 0;
}

/* A stop request: STOP with the grace period while the guest can take
 * it, else end at once (nothing to be graceful to). Returns true when
 * following should end now. */
static bool follow_stop(struct launch *l, const struct launch_follow_ops *ops,
			void *opaque, int64_t grace_s)
{
	struct launch_follow *f = &l->f;
	struct pv_err err;

	if (f->stopping)
		return false;
	f->stopping = true;
	if (!f->ah.proto || f->ah.done ||
	    agent_host_stop(&f->ah, grace_s, &err) < 0)
		return true;
	f->deadline = util_mono_ms() + grace_s * 1000 + LAUNCH_STOP_SLACK_MS;
	if (ops->stopping)
		ops->stopping(opaque, l, grace_s);
	return false;
}

/* The VM is gone, or has had all the time it gets. */
static enum launch_follow_end follow_verdict(const struct launch_follow *f)
{
	if (f->stopping)
		return LAUNCH_END_STOPPED;
	if (!f->ah.proto)
		return LAUNCH_END_NO_BOOT;
	return f->ah.done ? LAUNCH_END_DONE : LAUNCH_END_LOST;
}

/* The agent socket is readable (or hung up). Returns 0 to go on, 1 to
 * end with *end. */
static int follow_agent(struct launch *l, enum launch_follow_end *end)
{
	struct launch_follow *f = &l->f;
	bool had_proto = f->ah.proto != 0;
	int ret = agent_host_readable(&f->ah, &f->err);

	if (ret < 0) {
		*end = LAUNCH_END_AGENT_ERROR;
		return 1;
	}
	if (!had_proto && f->ah.proto && !f->stopping)
		f->deadline = 0;   /* booted: no timeout while it runs */
	if (ret == 1) {
		enum vmm_state st;

		f->agent_eof = true;
		/* a VM already gone (its exit notification may have been missed:
		 * the backend killed a VM it was still starting) ends it now */
		if (l->vm->ops->state(l->vm, &st, NULL) == 0 &&
		    st == VMM_STATE_STOPPED) {
			f->vm_gone = true;
			*end = follow_verdict(f);
			return 1;
		}
		/* the VM is on its way out; give it a moment */
		if (!f->deadline)
			f->deadline = util_mono_ms() + LAUNCH_POWEROFF_MS;
	}
	if (f->ah.done && !f->shutdown_sent) {
		struct pv_err err;

		f->shutdown_sent = true;
		agent_host_shutdown(&f->ah, &err);   /* it powers off anyway */
		f->deadline = util_mono_ms() + LAUNCH_POWEROFF_MS;
	}
	return 0;
}

/* The wake fd fired. Returns 0 to go on, 1 to end with *end. */
static int follow_wake(struct launch *l, const struct launch_follow_ops *ops,
		       void *opaque, enum launch_follow_end *end)
{
	int64_t grace = 0;

	switch (ops->wake(opaque, l, &grace)) {
	case LAUNCH_REQ_STOP:
		if (!follow_stop(l, ops, opaque, grace))
			return 0;
		*end = LAUNCH_END_STOPPED;
		return 1;
	case LAUNCH_REQ_STOP_NOW:
		l->f.stopping = true;
		*end = LAUNCH_END_STOPPED;
		return 1;
	case LAUNCH_REQ_DETACH:
		*end = LAUNCH_END_DETACHED;
		return 1;
	case LAUNCH_REQ_ERROR:
		pv_err_set(&l->f.err, EIO, "wake-up fd failed");
		*end = LAUNCH_END_ERROR;
		return 1;
	default:
		return 0;
	}
}

static enum launch_follow_end follow_loop(struct launch *l, int wake_fd,
					  const struct launch_follow_ops *ops,
					  void *opaque)
{
	struct launch_follow *f = &l->f;
	int vm_fd = l->vm->ops->exit_fd(l->vm);
	enum launch_follow_end end;

	f->deadline = util_mono_ms() + LAUNCH_BOOT_TIMEOUT_MS;
	for (;;) {
		struct pollfd pfd[3] = {
			{ .fd = f->agent_eof ? -1 : l->agent_fd, .events = POLLIN },
			{ .fd = wake_fd, .events = POLLIN },
			{ .fd = vm_fd, .events = POLLIN },
		};
		int64_t now = util_mono_ms();
		int timeout = -1;

		if (f->deadline) {
			if (now >= f->deadline)
				return follow_verdict(f);
			timeout = (int)(f->deadline - now);
		}
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			pv_err_sys(&f->err, errno, "poll");
			return LAUNCH_END_ERROR;
		}
		if ((pfd[1].revents & POLLIN) && follow_wake(l, ops, opaque, &end))
			return end;
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    follow_agent(l, &end))
			return end;
		if (ops->pump)
			ops->pump(opaque, l);
		if (vm_fd >= 0 && (pfd[2].revents & POLLIN)) {
			struct pv_err err;

			f->vm_gone = true;
			/* what the guest wrote before it went away */
			if (!f->agent_eof)
				agent_host_readable(&f->ah, &err);
			return follow_verdict(f);
		}
		if (f->agent_eof && vm_fd < 0)
			return follow_verdict(f);   /* no exit notification */
	}
}

enum launch_follow_end launch_follow(struct launch *l, int wake_fd,
				     const struct launch_follow_ops *ops,
				     void *opaque)
{
	struct launch_follow *f = &l->f;

	launch_follow_free(f);
	memset(f, 0, sizeof(*f));
	if (agent_msg_pod_spec(l->pod, &l->rt, &f->spec, &f->spec_len, &f->err) < 0 ||
	    launch_connect(l, LAUNCH_CONNECT_TIMEOUT_MS, &f->err) < 0)
		return LAUNCH_END_ERROR;
	agent_host_init(&f->ah, l->agent_fd, f->spec, f->spec_len,
			pod_n_all_containers(l->pod), &ops->agent, opaque);
	return follow_loop(l, wake_fd, ops, opaque);
}
