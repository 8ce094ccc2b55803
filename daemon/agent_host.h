/* Host end of the agent protocol (see docs/agent-protocol.md): reads frames
 * from the VM's agent socket, completes the versioned handshake, sends the
 * pod spec, and hands logs and container events to callbacks. Everything
 * the guest sends is checked (types, channels, JSON) before use. */
#ifndef PODVM_DAEMON_AGENT_HOST_H
#define PODVM_DAEMON_AGENT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/agent.h"
#include "pod/agent_msg.h"
#include "util/err.h"

enum agent_stream { AGENT_STREAM_STDOUT = 1, AGENT_STREAM_STDERR = 2 };

struct agent_host_cb {
	void (*ready)(void *opaque, int proto);   /* handshake done, spec sent */
	void (*log)(void *opaque, uint16_t ctr, enum agent_stream s,
		    const uint8_t *data, size_t len);
	void (*container)(void *opaque, const struct agent_ctr_event *ev);
	void (*done)(void *opaque);               /* every container finished */
	void (*error)(void *opaque, const char *msg);  /* guest gave up */
};

struct agent_host {
	int fd;                   /* borrowed, non-blocking */
	struct agent_reader rd;
	int proto;                /* 0 until the handshake completed */
	bool done;
	const char *spec;         /* borrowed POD_SPEC payload */
	size_t spec_len;
	size_t n_containers;
	const struct agent_host_cb *cb;
	void *opaque;
};

void agent_host_init(struct agent_host *h, int fd, const char *spec,
		     size_t spec_len, size_t n_containers,
		     const struct agent_host_cb *cb, void *opaque);
void agent_host_free(struct agent_host *h);

/* Call when fd is readable. Returns 0 (more to come), 1 (peer closed), or
 * <0 on a protocol or I/O error (err says which; drop the connection). */
int agent_host_readable(struct agent_host *h, struct pv_err *err);

int agent_host_stop(struct agent_host *h, int64_t grace_seconds,
		    struct pv_err *err);
int agent_host_shutdown(struct agent_host *h, struct pv_err *err);

#endif
