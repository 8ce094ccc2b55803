/* Outgoing frames to the host, in order (a container's logs go out before
 * its TERMINATED event because both are queued here in that order).
 *
 * Log back-pressure policy: a container must never block on a slow or
 * absent host, so we always keep reading its pipes. When its queued log
 * bytes reach cap_ctr (or all logs reach cap_total) the newest data is
 * dropped and counted; the container stays in "dropping" state until its
 * queue has drained to half the cap, then one stderr line
 * "podvm: N bytes of output dropped (host too slow)" is queued ahead of
 * any new output. Control frames are never dropped (they are few). */
#include "guest/guest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

void guest_outq_init(struct guest_outq *q, size_t cap_ctr, size_t cap_total)
{
	memset(q, 0, sizeof(*q));
	q->cap_ctr = cap_ctr;
	q->cap_total = cap_total;
}

void guest_outq_free(struct guest_outq *q)
{
	struct guest_outmsg *m = q->head, *next;

	for (; m; m = next) {
		next = m->next;
		free(m);
	}
	q->head = q->tail = NULL;
	q->total_log = 0;
	memset(q->ctr_log, 0, sizeof(q->ctr_log));
	q->raw_bytes = 0;
}

#define GUEST_OUTQ_RAW (-2)   /* ctr of exec output frames */

static struct guest_outmsg *guest_outq_msg(uint16_t type, uint16_t chan,
					   const void *payload, size_t len, int ctr)
{
	struct guest_outmsg *m;

	if (len > AGENT_MAX_PAYLOAD)
		return NULL;
	m = malloc(sizeof(*m) + AGENT_HDR_LEN + len);
	if (!m)
		return NULL;
	if (agent_header_encode(m->data, type, chan, len) < 0) {
		free(m);
		return NULL;
	}
	if (len)
		memcpy(m->data + AGENT_HDR_LEN, payload, len);
	m->next = NULL;
	m->ctr = ctr;
	m->len = AGENT_HDR_LEN + len;
	m->off = 0;
	return m;
}

static void guest_outq_append(struct guest_outq *q, struct guest_outmsg *m)
{
	if (q->tail)
		q->tail->next = m;
	else
		q->head = m;
	q->tail = m;
	if (m->ctr >= 0) {
		q->ctr_log[m->ctr] += m->len;
		q->total_log += m->len;
	}
}

int guest_outq_control(struct guest_outq *q, uint16_t type, const char *json)
{
	struct guest_outmsg *m;

	if (!json)
		return -ENOMEM;
	m = guest_outq_msg(type, 0, json, strlen(json), -1);
	if (!m)
		return -ENOMEM;
	guest_outq_append(q, m);
	return 0;
}

int guest_outq_control_front(struct guest_outq *q, uint16_t type,
			     const char *json)
{
	struct guest_outmsg *m, **at = &q->head;

	if (!json)
		return -ENOMEM;
	m = guest_outq_msg(type, 0, json, strlen(json), -1);
	if (!m)
		return -ENOMEM;
	/* Never split a frame that is partly on the wire. */
	if (q->head && q->head->off > 0)
		at = &q->head->next;
	m->next = *at;
	*at = m;
	if (!m->next)
		q->tail = m;
	return 0;
}

static bool guest_outq_has_room(const struct guest_outq *q, int ctr, size_t n)
{
	return q->ctr_log[ctr] + n <= q->cap_ctr && q->total_log + n <= q->cap_total;
}

static int guest_outq_report_one(struct guest_outq *q, int ctr, bool force)
{
	struct guest_outmsg *m;
	char line[128];
	int n;

	if (!q->dropped[ctr])
		return 0;
	if (!force && (q->ctr_log[ctr] > q->cap_ctr / 2 ||
		       q->total_log > q->cap_total / 2))
		return 0;
	n = snprintf(line, sizeof(line),
		     "podvm: %" PRIu64 " bytes of output dropped (host too slow)\n",
		     q->dropped[ctr]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	m = guest_outq_msg(AGENT_LOG_STDERR, (uint16_t)ctr, line, (size_t)n, -1);
	if (!m)
		return -ENOMEM;
	guest_outq_append(q, m);
	q->dropped[ctr] = 0;
	return 0;
}

int guest_outq_report_drops(struct guest_outq *q)
{
	int i, rc;

	for (i = 0; i < GUEST_MAX_CTRS; i++) {
		rc = guest_outq_report_one(q, i, false);
		if (rc < 0)
			return rc;
	}
	return 0;
}

size_t guest_outq_log(struct guest_outq *q, int ctr, uint16_t type,
		      const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t queued = 0;

	if (ctr < 0 || ctr >= GUEST_MAX_CTRS)
		return 0;
	guest_outq_report_one(q, ctr, false);
	while (len > 0) {
		size_t n = len < AGENT_MAX_LOG_CHUNK ? len : AGENT_MAX_LOG_CHUNK;
		struct guest_outmsg *m = NULL;

		if (!q->dropped[ctr] && guest_outq_has_room(q, ctr, AGENT_HDR_LEN + n))
			m = guest_outq_msg(type, (uint16_t)ctr, p, n, ctr);
		if (!m) {
			/* Over the cap (or out of memory): drop the rest. */
			q->dropped[ctr] += len;
			q->dropped_total += len;
			break;
		}
		guest_outq_append(q, m);
		queued += n;
		p += n;
		len -= n;
	}
	return queued;
}

int guest_outq_report_final(struct guest_outq *q, int ctr)
{
	if (ctr < 0 || ctr >= GUEST_MAX_CTRS)
		return 0;
	return guest_outq_report_one(q, ctr, true);
}

static void guest_outq_pop(struct guest_outq *q)
{
	struct guest_outmsg *m = q->head;

	q->head = m->next;
	if (!q->head)
		q->tail = NULL;
	if (m->ctr >= 0) {
		q->ctr_log[m->ctr] -= m->len;
		q->total_log -= m->len;
	}
	if (m->ctr == GUEST_OUTQ_RAW)
		q->raw_bytes -= m->len;
	free(m);
}

int guest_outq_raw(struct guest_outq *q, uint16_t type, uint16_t chan,
		   const void *data, size_t len)
{
	struct guest_outmsg *m = guest_outq_msg(type, chan, data, len, GUEST_OUTQ_RAW);

	if (!m)
		return -ENOMEM;
	guest_outq_append(q, m);
	q->raw_bytes += m->len;
	return 0;
}

int guest_outq_flush(struct guest_outq *q, int fd)
{
	for (;;) {
		struct iovec iov[16];
		struct guest_outmsg *m = q->head;
		int cnt = 0;
		ssize_t n;

		if (!m) {
			if (guest_outq_report_drops(q) < 0 || !q->head)
				return 0;
			continue;
		}
		for (; m && cnt < 16; m = m->next, cnt++) {
			iov[cnt].iov_base = m->data + m->off;
			iov[cnt].iov_len = m->len - m->off;
		}
		n = writev(fd, iov, cnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 1;
			return -errno;
		}
		while (n > 0 && q->head) {
			size_t left = q->head->len - q->head->off;

			if ((size_t)n >= left) {
				n -= (ssize_t)left;
				guest_outq_pop(q);
			} else {
				q->head->off += (size_t)n;
				n = 0;
			}
		}
	}
}

bool guest_outq_empty(const struct guest_outq *q)
{
	return q->head == NULL;
}

void guest_outq_drop_partial(struct guest_outq *q)
{
	if (q->head && q->head->off > 0)
		guest_outq_pop(q);
}
