/* Host end of the agent protocol (see docs/agent-protocol.md): reads frames
 * from the VM's agent socket, completes the versioned handshake, sends the
 * pod spec, and hands logs and container events to callbacks. Everything
 * the guest sends is checked (types, channels, JSON) before use. */
#ifndef PODVM_HOST_AGENT_HOST_H
#define PODVM_HOST_AGENT_HOST_H

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
	/* no container will run again; d has their final states */
	void (*done)(void *opaque, const struct agent_pod_done *d);
	void (*error)(void *opaque, const char *msg);  /* guest gave up */
	/* STATS payload (decoded by the metrics code, which owns the format) */
	void (*stats)(void *opaque, const uint8_t *json, size_t len);
	/* exec session output and end (channel = exec id) */
	void (*exec_output)(void *opaque, uint16_t id, enum agent_stream s,
			    const uint8_t *data, size_t len);
	void (*exec_exit)(void *opaque, const struct agent_exec_exit *x);
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

/* Send one frame (every write to the guest goes through it). */
int agent_host_send(struct agent_host *h, uint16_t type, uint16_t chan,
		    const void *payload, size_t len, struct pv_err *err);

int agent_host_stop(struct agent_host *h, int64_t grace_seconds,
		    struct pv_err *err);
int agent_host_shutdown(struct agent_host *h, struct pv_err *err);
int agent_host_stats_request(struct agent_host *h, struct pv_err *err);

/* Exec sessions: start one (x->id chosen by the caller, 1..65535), feed
 * its stdin (len 0 = EOF), resize its tty. */
int agent_host_exec_start(struct agent_host *h, const struct agent_exec_start *x,
			  struct pv_err *err);
int agent_host_exec_stdin(struct agent_host *h, uint16_t id, const void *data,
			  size_t len, struct pv_err *err);
int agent_host_exec_resize(struct agent_host *h, uint16_t id, uint16_t rows,
			   uint16_t cols, struct pv_err *err);

#endif
