/* JSON payloads of the agent protocol (pod/agent_msg.h).
 *
 * Decoders are strict: the payload must be exactly one JSON object (no NUL
 * bytes, nothing but whitespace after it, nesting bounded), every key must
 * be known for the message, every value must have the documented type and
 * range, and strings must fit their fixed-size destination (no silent
 * truncation). Protocol v1 has no optional extensions: a newer peer that
 * adds fields negotiates a newer version first. */
#include "pod/agent_msg.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/agent.h"
#include "pod/agent_json.h"


char *agent_msg_hello(const struct agent_hello *h)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && agent_json_add_int(o, "protoMin", h->proto_min);
	ok = ok && agent_json_add_int(o, "protoMax", h->proto_max);
	ok = ok && agent_json_add_str(o, "agent", h->agent);
	if (ok && h->has_spec)
		ok = json_object_object_add(o, "hasSpec", json_object_new_boolean(1)) == 0;
	return agent_json_finish(o, ok);
}

int agent_parse_hello(const uint8_t *p, size_t n, struct agent_hello *h,
		      struct pv_err *err)
{
	static const char *const keys[] = { "protoMin", "protoMax", "agent",
					    "hasSpec", NULL };
	struct json_object *hs;
	struct json_object *o = NULL;
	int64_t a = 0, b = 0;
	int rc;

	memset(h, 0, sizeof(*h));
	rc = agent_json_parse(p, n, "HELLO", &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, "HELLO", keys, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, "HELLO", "protoMin", 1, UINT16_MAX, true, &a, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, "HELLO", "protoMax", 1, UINT16_MAX, true, &b, err);
	if (rc < 0)
		goto out;
	if (a > b) {
		rc = pv_err_set(err, EBADMSG, "HELLO: protoMin %" PRId64
				" > protoMax %" PRId64, a, b);
		goto out;
	}
	rc = agent_json_str(o, "HELLO", "agent", true, true, h->agent,
			    sizeof(h->agent), err);
	if (rc < 0)
		goto out;
	if (json_object_object_get_ex(o, "hasSpec", &hs)) {
		if (!json_object_is_type(hs, json_type_boolean)) {
			rc = pv_err_set(err, EBADMSG, "HELLO: hasSpec: expected a boolean");
			goto out;
		}
		h->has_spec = json_object_get_boolean(hs);
	}
	h->proto_min = (int)a;
	h->proto_max = (int)b;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

char *agent_msg_hello_ack(int proto)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && agent_json_add_int(o, "proto", proto);
	return agent_json_finish(o, ok);
}

int agent_parse_hello_ack(const uint8_t *p, size_t n, int *proto,
			  struct pv_err *err)
{
	static const char *const keys[] = { "proto", NULL };
	struct json_object *o = NULL;
	int64_t v = 0;
	int rc;

	*proto = 0;
	rc = agent_json_parse(p, n, "HELLO_ACK", &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, "HELLO_ACK", keys, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, "HELLO_ACK", "proto", 1, UINT16_MAX, true, &v, err);
	if (rc < 0)
		goto out;
	*proto = (int)v;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

static bool agent_json_add_last(struct json_object *o,
				const struct agent_ctr_last *l)
{
	struct json_object *e = json_object_new_object();
	bool ok = e != NULL;

	ok = ok && agent_json_add_int(e, "exitCode", l->exit_code);
	if (l->signal)
		ok = ok && agent_json_add_int(e, "signal", l->signal);
	if (l->reason[0])
		ok = ok && agent_json_add_str(e, "reason", l->reason);
	if (l->message[0])
		ok = ok && agent_json_add_str(e, "message", l->message);
	ok = ok && agent_json_add_int(e, "startedMs", l->started_ms);
	ok = ok && agent_json_add_int(e, "finishedMs", l->finished_ms);
	if (!ok) {
		json_object_put(e);
		return false;
	}
	return agent_json_add(o, "lastState", e);
}

char *agent_msg_ctr_event(const struct agent_ctr_event *ev)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;
	bool term = ev->state == AGENT_CTR_TERMINATED;
	const char *st = term ? "TERMINATED"
		: ev->state == AGENT_CTR_WAITING ? "WAITING" : "RUNNING";

	ok = ok && agent_json_add_int(o, "index", ev->index);
	ok = ok && agent_json_add_str(o, "state", st);
	if (term) {
		ok = ok && agent_json_add_int(o, "exitCode", ev->exit_code);
		if (ev->signal)
			ok = ok && agent_json_add_int(o, "signal", ev->signal);
	}
	if (ev->reason[0])
		ok = ok && agent_json_add_str(o, "reason", ev->reason);
	if (ev->message[0])
		ok = ok && agent_json_add_str(o, "message", ev->message);
	ok = ok && agent_json_add_int(o, "timeMs", ev->time_ms);
	if (ev->restart_count)
		ok = ok && agent_json_add_int(o, "restartCount", ev->restart_count);
	if (ev->state == AGENT_CTR_RUNNING && ev->has_ready)
		ok = ok && agent_json_add(o, "ready", json_object_new_boolean(ev->ready));
	if (ev->has_last)
		ok = ok && agent_json_add_last(o, &ev->last);
	return agent_json_finish(o, ok);
}

static int agent_parse_last(struct json_object *o, struct agent_ctr_last *l,
			    struct pv_err *err)
{
	static const char *const keys[] = { "exitCode", "signal", "reason",
		"message", "startedMs", "finishedMs", NULL };
	static const char *const what = "CONTAINER lastState";
	int64_t v = 0;
	int rc;

	if (!json_object_is_type(o, json_type_object))
		return pv_err_set(err, EBADMSG, "%s: not an object", what);
	rc = agent_json_keys(o, what, keys, err);
	if (rc < 0)
		return rc;
	rc = agent_json_int(o, what, "exitCode", 0, 255, true, &v, err);
	if (rc < 0)
		return rc;
	l->exit_code = (int)v;
	rc = agent_json_int(o, what, "signal", 0, AGENT_SIGNAL_MAX, false, &v, err);
	if (rc < 0)
		return rc;
	l->signal = rc > 0 ? (int)v : 0;
	rc = agent_json_str(o, what, "reason", false, false, l->reason,
			    sizeof(l->reason), err);
	if (rc < 0)
		return rc;
	rc = agent_json_str(o, what, "message", false, false, l->message,
			    sizeof(l->message), err);
	if (rc < 0)
		return rc;
	rc = agent_json_int(o, what, "startedMs", 0, INT64_MAX, false, &v, err);
	if (rc < 0)
		return rc;
	l->started_ms = rc > 0 ? v : 0;
	rc = agent_json_int(o, what, "finishedMs", 0, INT64_MAX, false, &v, err);
	if (rc < 0)
		return rc;
	l->finished_ms = rc > 0 ? v : 0;
	return 0;
}

int agent_parse_ctr_event(const uint8_t *p, size_t n,
			  struct agent_ctr_event *ev, struct pv_err *err)
{
	static const char *const keys[] = { "index", "state", "exitCode", "signal",
		"reason", "message", "timeMs", "restartCount", "ready",
		"lastState", NULL };
	static const char *const what = "CONTAINER";
	struct json_object *o = NULL, *x;
	char state[16];
	int64_t v = 0;
	int rc;

	memset(ev, 0, sizeof(*ev));
	rc = agent_json_parse(p, n, what, &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, what, keys, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, what, "index", 0, AGENT_MAX_CTRS - 1, true, &v, err);
	if (rc < 0)
		goto out;
	ev->index = (uint16_t)v;
	rc = agent_json_str(o, what, "state", true, true, state, sizeof(state), err);
	if (rc < 0)
		goto out;
	if (strcmp(state, "RUNNING") == 0) {
		ev->state = AGENT_CTR_RUNNING;
	} else if (strcmp(state, "TERMINATED") == 0) {
		ev->state = AGENT_CTR_TERMINATED;
	} else if (strcmp(state, "WAITING") == 0) {
		ev->state = AGENT_CTR_WAITING;
	} else {
		rc = pv_err_set(err, EBADMSG, "%s: unknown state \"%s\"", what, state);
		goto out;
	}
	rc = agent_json_int(o, what, "exitCode", 0, 255,
			    ev->state == AGENT_CTR_TERMINATED, &v, err);
	if (rc < 0)
		goto out;
	if (rc > 0 && ev->state != AGENT_CTR_TERMINATED) {
		rc = pv_err_set(err, EBADMSG, "%s: exitCode on a %s event", what, state);
		goto out;
	}
	ev->exit_code = rc > 0 ? (int)v : 0;
	rc = agent_json_int(o, what, "signal", 0, AGENT_SIGNAL_MAX, false, &v, err);
	if (rc < 0)
		goto out;
	ev->signal = rc > 0 ? (int)v : 0;
	rc = agent_json_str(o, what, "reason", false, false, ev->reason,
			    sizeof(ev->reason), err);
	if (rc < 0)
		goto out;
	rc = agent_json_str(o, what, "message", false, false, ev->message,
			    sizeof(ev->message), err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, what, "timeMs", 0, INT64_MAX, false, &v, err);
	if (rc < 0)
		goto out;
	ev->time_ms = rc > 0 ? v : 0;
	rc = agent_json_int(o, what, "restartCount", 0, INT32_MAX, false, &v, err);
	if (rc < 0)
		goto out;
	ev->restart_count = rc > 0 ? (int)v : 0;
	if (json_object_object_get_ex(o, "ready", &x)) {
		if (!json_object_is_type(x, json_type_boolean) ||
		    ev->state != AGENT_CTR_RUNNING) {
			rc = pv_err_set(err, EBADMSG, "%s: \"ready\" must be a boolean "
					"on a RUNNING event", what);
			goto out;
		}
		ev->has_ready = true;
		ev->ready = json_object_get_boolean(x);
	}
	if (json_object_object_get_ex(o, "lastState", &x)) {
		rc = agent_parse_last(x, &ev->last, err);
		if (rc < 0)
			goto out;
		ev->has_last = true;
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

char *agent_msg_stop(int64_t grace_seconds)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	if (grace_seconds >= 0)
		ok = ok && agent_json_add_int(o, "gracePeriodSeconds", grace_seconds);
	return agent_json_finish(o, ok);
}

int agent_parse_stop(const uint8_t *p, size_t n, int64_t *grace,
		     struct pv_err *err)
{
	static const char *const keys[] = { "gracePeriodSeconds", NULL };
	struct json_object *o = NULL;
	int64_t v = 0;
	int rc;

	*grace = AGENT_GRACE_DEFAULT;
	rc = agent_json_parse(p, n, "STOP", &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, "STOP", keys, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, "STOP", "gracePeriodSeconds", 0, AGENT_GRACE_MAX,
			    false, &v, err);
	if (rc < 0)
		goto out;
	if (rc > 0)
		*grace = v;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

char *agent_msg_error(const char *message)
{
	struct json_object *o = json_object_new_object();
	char buf[AGENT_MESSAGE_MAX];
	bool ok = o != NULL;

	/* Keep within what the peer's decoder accepts. */
	snprintf(buf, sizeof(buf), "%s", message ? message : "");
	ok = ok && agent_json_add_str(o, "message", buf);
	return agent_json_finish(o, ok);
}

int agent_parse_error(const uint8_t *p, size_t n, char *msg, size_t msglen,
		      struct pv_err *err)
{
	static const char *const keys[] = { "message", NULL };
	struct json_object *o = NULL;
	char buf[AGENT_MESSAGE_MAX];
	int rc;

	if (msglen)
		msg[0] = '\0';
	rc = agent_json_parse(p, n, "ERROR", &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, "ERROR", keys, err);
	if (rc < 0)
		goto out;
	rc = agent_json_str(o, "ERROR", "message", true, false, buf, sizeof(buf), err);
	if (rc < 0)
		goto out;
	if (msglen)
		snprintf(msg, msglen, "%s", buf);  /* caller chose the size */
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

char *agent_msg_pod_done(const struct agent_pod_done *d)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	bool ok = o && arr;
	size_t i;

	for (i = 0; ok && i < d->n && i < AGENT_MAX_CTRS; i++) {
		const struct agent_pod_done_ctr *c = &d->containers[i];
		struct json_object *e = json_object_new_object();

		ok = e != NULL;
		ok = ok && agent_json_add_int(e, "index", c->index);
		ok = ok && agent_json_add_int(e, "exitCode", c->exit_code);
		if (c->signal)
			ok = ok && agent_json_add_int(e, "signal", c->signal);
		if (c->reason[0])
			ok = ok && agent_json_add_str(e, "reason", c->reason);
		if (c->waiting)
			ok = ok && agent_json_add_str(e, "state", "WAITING");
		if (c->restart_count)
			ok = ok && agent_json_add_int(e, "restartCount", c->restart_count);
		if (e && json_object_array_add(arr, e) != 0) {
			json_object_put(e);
			ok = false;
		} else if (!ok) {
			break;
		}
	}
	if (ok) {
		ok = agent_json_add(o, "containers", arr);
		arr = NULL;
	}
	if (ok && d->reason[0])
		ok = agent_json_add_str(o, "reason", d->reason);
	if (ok && d->message[0])
		ok = agent_json_add_str(o, "message", d->message);
	json_object_put(arr);
	return agent_json_finish(o, ok);
}

int agent_parse_pod_done(const uint8_t *p, size_t n, struct agent_pod_done *d,
			 struct pv_err *err)
{
	static const char *const keys[] = { "containers", "reason", "message", NULL };
	static const char *const ckeys[] = { "index", "exitCode", "signal",
		"reason", "state", "restartCount", NULL };
	static const char *const what = "POD_DONE";
	struct json_object *o = NULL, *arr;
	char state[16];
	size_t i, len;
	int64_t v = 0;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = agent_json_parse(p, n, what, &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, what, keys, err);
	if (rc < 0)
		goto out;
	if (!json_object_object_get_ex(o, "containers", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		rc = pv_err_set(err, EBADMSG, "%s: \"containers\" must be an array", what);
		goto out;
	}
	len = json_object_array_length(arr);
	if (len > AGENT_MAX_CTRS) {
		rc = pv_err_set(err, E2BIG, "%s: more than %d containers", what,
				AGENT_MAX_CTRS);
		goto out;
	}
	for (i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct agent_pod_done_ctr *c = &d->containers[i];

		if (!json_object_is_type(e, json_type_object)) {
			rc = pv_err_set(err, EBADMSG, "%s: containers[%zu] is not an object",
					what, i);
			goto out;
		}
		rc = agent_json_keys(e, what, ckeys, err);
		if (rc < 0)
			goto out;
		rc = agent_json_int(e, what, "index", 0, AGENT_MAX_CTRS - 1, true,
				    &v, err);
		if (rc < 0)
			goto out;
		c->index = (uint16_t)v;
		rc = agent_json_int(e, what, "exitCode", 0, 255, true, &v, err);
		if (rc < 0)
			goto out;
		c->exit_code = (int)v;
		rc = agent_json_int(e, what, "signal", 0, AGENT_SIGNAL_MAX, false, &v, err);
		if (rc < 0)
			goto out;
		c->signal = rc > 0 ? (int)v : 0;
		rc = agent_json_str(e, what, "reason", false, false, c->reason,
				    sizeof(c->reason), err);
		if (rc < 0)
			goto out;
		rc = agent_json_str(e, what, "state", false, true, state,
				    sizeof(state), err);
		if (rc < 0)
			goto out;
		if (rc > 0 && strcmp(state, "WAITING") != 0 &&
		    strcmp(state, "TERMINATED") != 0) {
			rc = pv_err_set(err, EBADMSG, "%s: unknown state \"%s\"", what, state);
			goto out;
		}
		c->waiting = rc > 0 && strcmp(state, "WAITING") == 0;
		rc = agent_json_int(e, what, "restartCount", 0, INT32_MAX, false, &v, err);
		if (rc < 0)
			goto out;
		c->restart_count = rc > 0 ? (int)v : 0;
	}
	d->n = len;
	rc = agent_json_str(o, what, "reason", false, false, d->reason,
			    sizeof(d->reason), err);
	if (rc < 0)
		goto out;
	rc = agent_json_str(o, what, "message", false, false, d->message,
			    sizeof(d->message), err);
	if (rc < 0)
		goto out;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

int agent_parse_empty(const uint8_t *p, size_t n, struct pv_err *err)
{
	static const char *const keys[] = { NULL };
	struct json_object *o = NULL;
	int rc;

	rc = agent_json_parse(p, n, "message", &o, err);
	if (rc == 0)
		rc = agent_json_keys(o, "message", keys, err);
	json_object_put(o);
	return rc;
}

int agent_proto_negotiate(int peer_min, int peer_max)
{
	int hi = peer_max < AGENT_PROTO_MAX ? peer_max : AGENT_PROTO_MAX;
	int lo = peer_min > AGENT_PROTO_MIN ? peer_min : AGENT_PROTO_MIN;

	if (peer_min < 1 || peer_min > peer_max || lo > hi)
		return -1;
	return hi;
}
