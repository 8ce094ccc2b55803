#include "host/agent_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void agent_host_init(struct agent_host *h, int fd, const char *spec,
		     size_t spec_len, size_t n_containers,
		     const struct agent_host_cb *cb, void *opaque)
{
	memset(h, 0, sizeof(*h));
	h->fd = fd;
	agent_reader_init(&h->rd, AGENT_MAX_PAYLOAD);
	h->spec = spec;
	h->spec_len = spec_len;
	h->n_containers = n_containers;
	h->cb = cb;
	h->opaque = opaque;
}

void agent_host_free(struct agent_host *h)
{
	agent_reader_free(&h->rd);
}

/* Every frame to the guest goes through here: the one place where a
 * bounded send queue (flushed by the follower on POLLOUT) would go. */
int agent_host_send(struct agent_host *h, uint16_t type, uint16_t chan,
		    const void *payload, size_t len, struct pv_err *err)
{
	int ret = agent_write_frame(h->fd, type, chan, payload, len);

	if (ret < 0)
		return pv_err_sys(err, -ret, "send %s to the guest", agent_type_name(type));
	return 0;
}

static int send_json(struct agent_host *h, uint16_t type, char *json,
		     struct pv_err *err)
{
	int ret;

	if (!json)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = agent_host_send(h, type, 0, json, strlen(json), err);
	free(json);
	return ret;
}

static int on_hello(struct agent_host *h, const struct agent_frame *f,
		    struct pv_err *err)
{
	struct agent_hello hello;
	int ret, proto;

	ret = agent_parse_hello(f->payload, f->len, &hello, err);
	if (ret < 0)
		return ret;
	proto = agent_proto_negotiate(hello.proto_min, hello.proto_max);
	if (proto < 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "no common protocol version: host "
			 "speaks %d-%d, guest %d-%d", AGENT_PROTO_MIN,
			 AGENT_PROTO_MAX, hello.proto_min, hello.proto_max);
		send_json(h, AGENT_ERROR, agent_msg_error(msg), NULL);
		return pv_err_set(err, EPROTO, "%s", msg);
	}
	ret = send_json(h, AGENT_HELLO_ACK, agent_msg_hello_ack(proto), err);
	if (ret < 0)
		return ret;
	/* A guest that already runs the pod (podvmd restarted) resends its
	 * containers' state instead. */
	if (!hello.has_spec) {
		if (!h->spec)
			return pv_err_set(err, EPROTO, "guest wants a pod spec, none to give");
		ret = agent_host_send(h, AGENT_POD_SPEC, 0, h->spec, h->spec_len, err);
		if (ret < 0)
			return ret;
	}
	h->proto = proto;
	if (h->cb->ready)
		h->cb->ready(h->opaque, proto);
	return 0;
}

static int on_ctr_event(struct agent_host *h, const struct agent_frame *f,
			struct pv_err *err)
{
	struct agent_ctr_event ev;
	int ret = agent_parse_ctr_event(f->payload, f->len, &ev, err);

	if (ret < 0)
		return ret;
	if (ev.index >= h->n_containers)
		return pv_err_set(err, EPROTO, "event for unknown container %u",
				  ev.index);
	if (h->cb->container)
		h->cb->container(h->opaque, &ev);
	return 0;
}

static int on_pod_done(struct agent_host *h, const struct agent_frame *f,
		       struct pv_err *err)
{
	struct agent_pod_done *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return pv_err_set(err, ENOMEM, "out of memory");
	ret = agent_parse_pod_done(f->payload, f->len, d, err);
	if (ret == 0) {
		h->done = true;
		if (h->cb->done)
			h->cb->done(h->opaque, d);
	}
	free(d);
	return ret;
}

static int on_exec_exit(struct agent_host *h, const struct agent_frame *f,
			struct pv_err *err)
{
	struct agent_exec_exit x;
	int ret = agent_parse_exec_exit(f->payload, f->len, &x, err);

	if (ret < 0)
		return ret;
	if (h->cb->exec_exit)
		h->cb->exec_exit(h->opaque, &x);
	return 0;
}

static int on_error(struct agent_host *h, const struct agent_frame *f,
		    struct pv_err *err)
{
	char msg[AGENT_MESSAGE_MAX];
	int ret = agent_parse_error(f->payload, f->len, msg, sizeof(msg), err);

	if (ret < 0)
		return ret;
	if (h->cb->error)
		h->cb->error(h->opaque, msg);
	return 0;
}

static int on_frame(struct agent_host *h, const struct agent_frame *f,
		    struct pv_err *err)
{
	if (f->type == AGENT_HELLO) {
		if (h->proto)
			return pv_err_set(err, EPROTO, "guest sent a second HELLO");
		return on_hello(h, f, err);
	}
	if (!h->proto && f->type != AGENT_ERROR)
		return pv_err_set(err, EPROTO, "guest sent %s before HELLO",
				  agent_type_name(f->type));

	switch (f->type) {
	case AGENT_LOG_STDOUT:
	case AGENT_LOG_STDERR:
		if (f->chan >= h->n_containers)
			return pv_err_set(err, EPROTO, "log for unknown container %u",
					  f->chan);
		if (h->cb->log)
			h->cb->log(h->opaque, f->chan,
				   f->type == AGENT_LOG_STDOUT ? AGENT_STREAM_STDOUT
							       : AGENT_STREAM_STDERR,
				   f->payload, f->len);
		return 0;
	case AGENT_CONTAINER:
		return on_ctr_event(h, f, err);
	case AGENT_POD_DONE:
		return on_pod_done(h, f, err);
	case AGENT_STATS:
		if (h->cb->stats)
			h->cb->stats(h->opaque, f->payload, f->len);
		return 0;
	case AGENT_EXEC_STDOUT:
	case AGENT_EXEC_STDERR:
		if (h->cb->exec_output)
			h->cb->exec_output(h->opaque, f->chan,
					   f->type == AGENT_EXEC_STDOUT ? AGENT_STREAM_STDOUT
									: AGENT_STREAM_STDERR,
					   f->payload, f->len);
		return 0;
	case AGENT_EXEC_EXIT:
		return on_exec_exit(h, f, err);
	case AGENT_ERROR:
		return on_error(h, f, err);
	default:
		return pv_err_set(err, EPROTO, "unexpected %s from the guest",
				  agent_type_name(f->type));
	}
}

int agent_host_readable(struct agent_host *h, struct pv_err *err)
{
	struct agent_frame f;
	int ret;

	for (;;) {
		size_t room;
		uint8_t *p = agent_reader_space(&h->rd, &room);
		ssize_t n;

		if (!p)
			return pv_err_set(err, ENOMEM, "out of memory");
		n = read(h->fd, p, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return pv_err_sys(err, errno, "read from agent socket");
		}
		if (n == 0)
			return 1;
		agent_reader_commit(&h->rd, (size_t)n);
		while ((ret = agent_reader_next(&h->rd, &f, err)) == 1) {
			ret = on_frame(h, &f, err);
			if (ret < 0)
				return ret;
		}
		if (ret < 0)
			return ret;
	}
}

int agent_host_stop(struct agent_host *h, int64_t grace_seconds,
		    struct pv_err *err)
{
	return send_json(h, AGENT_STOP, agent_msg_stop(grace_seconds), err);
}

int agent_host_shutdown(struct agent_host *h, struct pv_err *err)
{
	return send_json(h, AGENT_SHUTDOWN, strdup("{}"), err);
}

int agent_host_stats_request(struct agent_host *h, struct pv_err *err)
{
	return send_json(h, AGENT_STATS_REQUEST, strdup("{}"), err);
}

int agent_host_exec_start(struct agent_host *h, const struct agent_exec_start *x,
			  struct pv_err *err)
{
	return send_json(h, AGENT_EXEC_START, agent_msg_exec_start(x), err);
}

int agent_host_exec_stdin(struct agent_host *h, uint16_t id, const void *data,
			  size_t len, struct pv_err *err)
{
	return agent_host_send(h, AGENT_EXEC_STDIN, id, data, len, err);
}

int agent_host_exec_resize(struct agent_host *h, uint16_t id, uint16_t rows,
			   uint16_t cols, struct pv_err *err)
{
	return send_json(h, AGENT_EXEC_RESIZE, agent_msg_exec_resize(id, rows, cols), err);
}
