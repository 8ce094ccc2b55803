/* Agent protocol framing codec (see pod/agent.h, docs/agent-protocol.md).
 *
 * The reader keeps unconsumed bytes in buf[off, len). It validates a
 * frame's header as soon as the 8 header bytes are there, so a hostile
 * length or type is rejected before we wait for (or buffer) its payload. */
#include "pod/agent.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define AGENT_READER_MIN_CAP (64u * 1024)

void agent_reader_init(struct agent_reader *r, uint32_t max_payload)
{
	memset(r, 0, sizeof(*r));
	if (max_payload == 0 || max_payload > AGENT_MAX_PAYLOAD)
		max_payload = AGENT_MAX_PAYLOAD;
	r->max_payload = max_payload;
}

void agent_reader_free(struct agent_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->off = r->cap = 0;
}

/* Move unconsumed bytes to the start of the buffer. */
static void agent_reader_compact(struct agent_reader *r)
{
	if (r->off == 0)
		return;
	if (r->len > r->off)
		memmove(r->buf, r->buf + r->off, r->len - r->off);
	r->len -= r->off;
	r->off = 0;
}

/* Make room for at least `need` more bytes after len. */
static int agent_reader_reserve(struct agent_reader *r, size_t need)
{
	size_t ncap;
	uint8_t *nbuf;

	if (r->cap - r->len >= need)
		return 0;
	agent_reader_compact(r);
	if (r->cap - r->len >= need)
		return 0;
	if (need > SIZE_MAX / 2 - r->len)
		return -ENOMEM;
	ncap = r->cap ? r->cap : AGENT_READER_MIN_CAP;
	while (ncap - r->len < need)
		ncap *= 2;
	nbuf = realloc(r->buf, ncap);
	if (!nbuf)
		return -ENOMEM;
	r->buf = nbuf;
	r->cap = ncap;
	return 0;
}

int agent_reader_feed(struct agent_reader *r, const void *data, size_t n)
{
	int rc;

	if (n == 0)
		return 0;
	rc = agent_reader_reserve(r, n);
	if (rc < 0)
		return rc;
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	return 0;
}

static uint32_t agent_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint16_t agent_get_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | (unsigned)p[1]);
}

uint8_t *agent_reader_space(struct agent_reader *r, size_t *room)
{
	size_t want = AGENT_READER_MIN_CAP / 2;
	size_t avail = r->len - r->off;

	/* When a header is buffered, offer room for the rest of that frame
	 * in one go (bounded by max_payload: a larger length fails in
	 * agent_reader_next anyway). */
	if (avail >= AGENT_HDR_LEN) {
		uint32_t plen = agent_get_be32(r->buf + r->off);

		if (plen <= r->max_payload &&
		    AGENT_HDR_LEN + (size_t)plen > avail &&
		    AGENT_HDR_LEN + (size_t)plen - avail > want)
			want = AGENT_HDR_LEN + (size_t)plen - avail;
	}
	if (agent_reader_reserve(r, want) < 0)
		return NULL;
	*room = r->cap - r->len;
	return r->buf + r->len;
}

void agent_reader_commit(struct agent_reader *r, size_t n)
{
	if (n > r->cap - r->len)  /* caller bug; never overrun the buffer */
		n = r->cap - r->len;
	r->len += n;
}

int agent_reader_next(struct agent_reader *r, struct agent_frame *f,
		      struct pv_err *err)
{
	size_t avail = r->len - r->off;
	const uint8_t *h;
	uint32_t plen;
	uint16_t type;

	if (avail < AGENT_HDR_LEN) {
		if (avail == 0)
			r->len = r->off = 0;
		return 0;
	}
	h = r->buf + r->off;
	plen = agent_get_be32(h);
	type = agent_get_be16(h + 4);
	if (type == 0 || type > AGENT_TYPE_MAX)
		return pv_err_set(err, EPROTO,
				  "agent: unknown message type %u", type);
	if (plen > r->max_payload)
		return pv_err_set(err, EMSGSIZE,
				  "agent: %s frame of %u bytes exceeds the %u byte limit",
				  agent_type_name(type), plen, r->max_payload);
	if (avail - AGENT_HDR_LEN < plen)
		return 0;
	f->type = type;
	f->chan = agent_get_be16(h + 6);
	f->len = plen;
	f->payload = h + AGENT_HDR_LEN;
	r->off += AGENT_HDR_LEN + plen;
	return 1;
}

int agent_header_encode(uint8_t hdr[AGENT_HDR_LEN], uint16_t type,
			uint16_t chan, size_t payload_len)
{
	if (payload_len > AGENT_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (type == 0)
		return -EINVAL;
	hdr[0] = (uint8_t)(payload_len >> 24);
	hdr[1] = (uint8_t)(payload_len >> 16);
	hdr[2] = (uint8_t)(payload_len >> 8);
	hdr[3] = (uint8_t)payload_len;
	hdr[4] = (uint8_t)(type >> 8);
	hdr[5] = (uint8_t)type;
	hdr[6] = (uint8_t)(chan >> 8);
	hdr[7] = (uint8_t)chan;
	return 0;
}

int agent_frame_build(uint16_t type, uint16_t chan, const void *payload,
		      size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t *buf;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (len > 0 && !payload)
		return -EINVAL;
	if (len > AGENT_MAX_PAYLOAD)
		return -EMSGSIZE;
	buf = malloc(AGENT_HDR_LEN + len);
	if (!buf)
		return -ENOMEM;
	rc = agent_header_encode(buf, type, chan, len);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	if (len)
		memcpy(buf + AGENT_HDR_LEN, payload, len);
	*out = buf;
	*out_len = AGENT_HDR_LEN + len;
	return 0;
}

const char *agent_type_name(uint16_t type)
{
	switch (type) {
	case AGENT_HELLO: return "HELLO";
	case AGENT_HELLO_ACK: return "HELLO_ACK";
	case AGENT_POD_SPEC: return "POD_SPEC";
	case AGENT_LOG_STDOUT: return "LOG_STDOUT";
	case AGENT_LOG_STDERR: return "LOG_STDERR";
	case AGENT_CONTAINER: return "CONTAINER";
	case AGENT_STOP: return "STOP";
	case AGENT_POD_DONE: return "POD_DONE";
	case AGENT_SHUTDOWN: return "SHUTDOWN";
	case AGENT_ERROR: return "ERROR";
	case AGENT_EXEC_START: return "EXEC_START";
	case AGENT_EXEC_STDIN: return "EXEC_STDIN";
	case AGENT_EXEC_STDOUT: return "EXEC_STDOUT";
	case AGENT_EXEC_STDERR: return "EXEC_STDERR";
	case AGENT_EXEC_EXIT: return "EXEC_EXIT";
	case AGENT_EXEC_RESIZE: return "EXEC_RESIZE";
	case AGENT_STATS_REQUEST: return "STATS_REQUEST";
	case AGENT_STATS: return "STATS";
	default: return "UNKNOWN";
	}
}

/* One write attempt. Sockets get MSG_NOSIGNAL so a vanished peer is an
 * EPIPE return, not a SIGPIPE that kills the host process. */
static ssize_t agent_writev_once(int fd, struct iovec *iov, int iovcnt,
				 int *not_sock)
{
	struct msghdr mh;
	ssize_t n;

	if (!*not_sock) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		*not_sock = 1;
	}
	return writev(fd, iov, iovcnt);
}

int agent_write_frame(int fd, uint16_t type, uint16_t chan,
		      const void *payload, size_t len)
{
	uint8_t hdr[AGENT_HDR_LEN];
	struct iovec iov[2];
	int iovcnt = 0, not_sock = 0, rc;
	struct iovec *cur = iov;

	if (len > 0 && !payload)
		return -EINVAL;
	rc = agent_header_encode(hdr, type, chan, len);
	if (rc < 0)
		return rc;
	iov[iovcnt].iov_base = hdr;
	iov[iovcnt++].iov_len = AGENT_HDR_LEN;
	if (len) {
		iov[iovcnt].iov_base = (void *)payload;
		iov[iovcnt++].iov_len = len;
	}
	while (iovcnt > 0) {
		ssize_t n = agent_writev_once(fd, cur, iovcnt, &not_sock);

		if (n < 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			if (poll(&pfd, 1, -1) < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			/* POLLHUP alone: the peer is gone (for virtio-serial,
			 * the host side disconnected). */
			if (!(pfd.revents & POLLOUT) &&
			    (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)))
				return -EPIPE;
			continue;
		}
		while (iovcnt > 0 && (size_t)n >= cur->iov_len) {
			n -= (ssize_t)cur->iov_len;
			cur++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			cur->iov_base = (uint8_t *)cur->iov_base + n;
			cur->iov_len -= (size_t)n;
		}
	}
	return 0;
}
