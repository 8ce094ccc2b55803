/* Agent protocol: host (podvm / podvmd) <-> podvm-init over the
 * virtio-serial port "podvm.agent".  See docs/agent-protocol.md.
 *
 * Every message is a frame: a fixed 8-byte header followed by a payload.
 *
 *   offset 0  u32  payload length, big-endian, <= AGENT_MAX_PAYLOAD
 *   offset 4  u16  message type (enum agent_type), big-endian
 *   offset 6  u16  channel, big-endian: the container index for LOG_* frames,
 *                  0 otherwise
 *
 * Control messages carry one JSON object as payload; LOG_STDOUT and
 * LOG_STDERR carry raw bytes (binary-safe, never parsed).
 * The codec is pure (no I/O) so that it can be unit-tested and fuzzed. */
#ifndef PODVM_POD_AGENT_H
#define PODVM_POD_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define AGENT_PORT_NAME      "podvm.agent"
#define AGENT_PROTO_MIN      1
#define AGENT_PROTO_MAX      1
#define AGENT_HDR_LEN        8u
#define AGENT_MAX_PAYLOAD    (2u * 1024 * 1024)  /* pod spec JSON is the largest */
#define AGENT_MAX_LOG_CHUNK  (32u * 1024)        /* producers split log data */

enum agent_type {
	AGENT_HELLO = 1,        /* guest->host {"protoMin","protoMax","agent"} */
	AGENT_HELLO_ACK = 2,    /* host->guest {"proto"} */
	AGENT_POD_SPEC = 3,     /* host->guest {"pod":Pod,"runtime":{...}} */
	AGENT_LOG_STDOUT = 4,   /* guest->host raw bytes, channel = container index */
	AGENT_LOG_STDERR = 5,   /* guest->host raw bytes, channel = container index */
	AGENT_CONTAINER = 6,    /* guest->host container event (started/exited) */
	AGENT_STOP = 7,         /* host->guest {"gracePeriodSeconds":N} */
	AGENT_POD_DONE = 8,     /* guest->host {"containers":[...]} all finished */
	AGENT_SHUTDOWN = 9,     /* host->guest {} : host has everything, power off */
	AGENT_ERROR = 10,       /* either way {"message":"..."}: fatal for the pod */
	/* Exec sessions (still v1: host and guest ship together). The
	 * channel of every exec frame is the exec id (1..65535). */
	AGENT_EXEC_START = 11,  /* host->guest {"id","container","command",...} */
	AGENT_EXEC_STDIN = 12,  /* host->guest raw bytes; empty payload = EOF */
	AGENT_EXEC_STDOUT = 13, /* guest->host raw bytes */
	AGENT_EXEC_STDERR = 14, /* guest->host raw bytes */
	AGENT_EXEC_EXIT = 15,   /* guest->host {"id","exitCode","signal","error"} */
	AGENT_EXEC_RESIZE = 16, /* host->guest {"id","rows","cols"} (tty only) */
	AGENT_STATS_REQUEST = 17, /* host->guest {} : send STATS */
	AGENT_STATS = 18,       /* guest->host per-container cgroup figures
	                         * (docs/metrics.md) */
	AGENT_TYPE_MAX = 18,    /* later protocol versions add types above this */
};

struct agent_frame {
	uint16_t type;
	uint16_t chan;
	uint32_t len;
	const uint8_t *payload;  /* points into the reader's buffer; valid until
	                          * the next agent_reader_* call */
};

/* Incremental decoder for a byte stream. */
struct agent_reader {
	uint8_t *buf;
	size_t len;      /* bytes buffered */
	size_t off;      /* start of the first unconsumed byte */
	size_t cap;
	uint32_t max_payload;
};

void agent_reader_init(struct agent_reader *r, uint32_t max_payload);
void agent_reader_free(struct agent_reader *r);

/* Append bytes read from the transport. Returns 0 or -ENOMEM. */
int agent_reader_feed(struct agent_reader *r, const void *data, size_t n);

/* Space to read() into directly: returns a pointer with at least *room
 * bytes (room >= 1) or NULL on ENOMEM; follow with agent_reader_commit(). */
uint8_t *agent_reader_space(struct agent_reader *r, size_t *room);
void agent_reader_commit(struct agent_reader *r, size_t n);

/* 1: a whole frame is in *f; 0: need more bytes; <0: the stream is
 * corrupt (oversize length, unknown or zero type) and err says why.
 * After an error the stream cannot be resynchronised: drop the peer. */
int agent_reader_next(struct agent_reader *r, struct agent_frame *f,
		      struct pv_err *err);

/* Write the 8-byte header for a frame into hdr. Returns 0 or -EMSGSIZE. */
int agent_header_encode(uint8_t hdr[AGENT_HDR_LEN], uint16_t type,
			uint16_t chan, size_t payload_len);

/* Whole frame in one malloc'd buffer (header + payload). */
int agent_frame_build(uint16_t type, uint16_t chan, const void *payload,
		      size_t len, uint8_t **out, size_t *out_len);

const char *agent_type_name(uint16_t type);

/* Blocking helper for simple peers: write a full frame to fd, retrying on
 * EINTR/EAGAIN (poll). Returns 0 or -errno. */
int agent_write_frame(int fd, uint16_t type, uint16_t chan,
		      const void *payload, size_t len);

#endif
