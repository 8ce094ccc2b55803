/* JSON payloads of the agent protocol (pod/agent_msg.h).
 *
 * Decoders are strict: the payload must be exactly one JSON object (no NUL
 * bytes, nothing but whitespace after it, nesting bounded), every key must
 * be known for the message, every value must have the documented type and
 * range, and strings must fit their fixed-size destination (no silent
 * truncation). Protocol v1 has no optional extensions: a newer peer that
 * adds fields negotiates a newer version first. */
#include "pod/agent_msg.h"
#include "util/json.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/agent.h"
#include "pod/agent_json.h"
#include "util/util.h"


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

static const struct agent_field hello_fields[] = {
	AGENT_FIELD_INT("protoMin", true, 1, UINT16_MAX, struct agent_hello, proto_min),
	AGENT_FIELD_INT("protoMax", true, 1, UINT16_MAX, struct agent_hello, proto_max),
	AGENT_FIELD_STR("agent", true, true, struct agent_hello, agent),
	AGENT_FIELD_BOOL("hasSpec", struct agent_hello, has_spec),
	AGENT_FIELD_END
};

int agent_parse_hello(const uint8_t *p, size_t n, struct agent_hello *h,
		      struct pv_err *err)
{
	int rc;

	memset(h, 0, sizeof(*h));
	rc = agent_json_decode(p, n, "HELLO", hello_fields, h, NULL, err);
	if (rc == 0 && h->proto_min > h->proto_max)
		rc = pv_err_set(err, EBADMSG, "HELLO: protoMin %d > protoMax %d",
				h->proto_min, h->proto_max);
	return rc;
}

char *agent_msg_hello_ack(int proto)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && agent_json_add_int(o, "proto", proto);
	return agent_json_finish(o, ok);
}

struct agent_hello_ack { int proto; };
static const struct agent_field hello_ack_fields[] = {
	AGENT_FIELD_INT("proto", true, 1, UINT16_MAX, struct agent_hello_ack, proto),
	AGENT_FIELD_END
};

int agent_parse_hello_ack(const uint8_t *p, size_t n, int *proto,
			  struct pv_err *err)
{
	struct agent_hello_ack a = { 0 };
	int rc = agent_json_decode(p, n, "HELLO_ACK", hello_ack_fields, &a, NULL, err);

	*proto = rc == 0 ? a.proto : 0;
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
	return util_json_add(o, "lastState", e);
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
		ok = ok && util_json_add(o, "ready", json_object_new_boolean(ev->ready));
	if (ev->has_last)
		ok = ok && agent_json_add_last(o, &ev->last);
	return agent_json_finish(o, ok);
}

static const struct agent_field last_fields[] = {
	AGENT_FIELD_INT("exitCode", true, 0, 255, struct agent_ctr_last, exit_code),
	AGENT_FIELD_INT("signal", false, 0, AGENT_SIGNAL_MAX, struct agent_ctr_last, signal),
	AGENT_FIELD_STR("reason", false, false, struct agent_ctr_last, reason),
	AGENT_FIELD_STR("message", false, false, struct agent_ctr_last, message),
	AGENT_FIELD_INT("startedMs", false, 0, INT64_MAX, struct agent_ctr_last, started_ms),
	AGENT_FIELD_INT("finishedMs", false, 0, INT64_MAX, struct agent_ctr_last, finished_ms),
	AGENT_FIELD_END
};

static const struct agent_field ctr_event_fields[] = {
	AGENT_FIELD_INT("index", true, 0, AGENT_MAX_CTRS - 1, struct agent_ctr_event, index),
	AGENT_FIELD_KEY("state"),
	AGENT_FIELD_KEY("exitCode"),      /* TERMINATED only */
	AGENT_FIELD_INT("signal", false, 0, AGENT_SIGNAL_MAX, struct agent_ctr_event, signal),
	AGENT_FIELD_STR("reason", false, false, struct agent_ctr_event, reason),
	AGENT_FIELD_STR("message", false, false, struct agent_ctr_event, message),
	AGENT_FIELD_INT("timeMs", false, 0, INT64_MAX, struct agent_ctr_event, time_ms),
	AGENT_FIELD_INT("restartCount", false, 0, INT32_MAX, struct agent_ctr_event,
			restart_count),
	AGENT_FIELD_KEY("ready"),         /* RUNNING only */
	AGENT_FIELD_KEY("lastState"),
	AGENT_FIELD_END
};

/* The fields that depend on the state. */
static int agent_parse_ctr_state(struct json_object *o, struct agent_ctr_event *ev,
				 struct pv_err *err)
{
	static const char *const states[] = { [AGENT_CTR_RUNNING] = "RUNNING",
		[AGENT_CTR_TERMINATED] = "TERMINATED", [AGENT_CTR_WAITING] = "WAITING" };
	static const char *const what = "CONTAINER";
	struct json_object *x;
	char state[16];
	int64_t v = 0;
	int rc = agent_json_str(o, what, "state", true, true, state, sizeof(state), err);

	for (size_t i = 1; rc >= 0 && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(state, states[i]) == 0)
			ev->state = (enum agent_ctr_state)i;
	if (rc < 0)
		return rc;
	if (!ev->state)
		return pv_err_set(err, EBADMSG, "%s: unknown state \"%s\"", what, state);
	rc = agent_json_int(o, what, "exitCode", 0, 255,
			    ev->state == AGENT_CTR_TERMINATED, &v, err);
	if (rc < 0)
		return rc;
	if (rc > 0 && ev->state != AGENT_CTR_TERMINATED)
		return pv_err_set(err, EBADMSG, "%s: exitCode on a %s event", what, state);
	ev->exit_code = rc > 0 ? (int)v : 0;
	if (json_object_object_get_ex(o, "ready", &x)) {
		if (!json_object_is_type(x, json_type_boolean) ||
		    ev->state != AGENT_CTR_RUNNING)
			return pv_err_set(err, EBADMSG, "%s: \"ready\" must be a boolean "
					  "on a RUNNING event", what);
		ev->has_ready = true;
		ev->ready = json_object_get_boolean(x);
	}
	if (json_object_object_get_ex(o, "lastState", &x)) {
		rc = agent_json_fields(x, "CONTAINER lastState", last_fields,
				       &ev->last, err);
		if (rc < 0)
			return rc;
		ev->has_last = true;
	}
	return 0;
}

int agent_parse_ctr_event(const uint8_t *p, size_t n,
			  struct agent_ctr_event *ev, struct pv_err *err)
{
	cleanup_json struct json_object *o = NULL;
	int rc;

	memset(ev, 0, sizeof(*ev));
	rc = agent_json_decode(p, n, "CONTAINER", ctr_event_fields, ev, &o, err);
	return rc < 0 ? rc : agent_parse_ctr_state(o, ev, err);
}

char *agent_msg_stop(int64_t grace_seconds)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	if (grace_seconds >= 0)
		ok = ok && agent_json_add_int(o, "gracePeriodSeconds", grace_seconds);
	return agent_json_finish(o, ok);
}

struct agent_stop { int64_t grace; };
static const struct agent_field stop_fields[] = {
	AGENT_FIELD_INT("gracePeriodSeconds", false, 0, AGENT_GRACE_MAX,
			struct agent_stop, grace),
	AGENT_FIELD_END
};

int agent_parse_stop(const uint8_t *p, size_t n, int64_t *grace,
		     struct pv_err *err)
{
	struct agent_stop s = { .grace = AGENT_GRACE_DEFAULT };
	int rc = agent_json_decode(p, n, "STOP", stop_fields, &s, NULL, err);

	*grace = rc == 0 ? s.grace : AGENT_GRACE_DEFAULT;
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

struct agent_error { char message[AGENT_MESSAGE_MAX]; };
static const struct agent_field error_fields[] = {
	AGENT_FIELD_STR("message", true, false, struct agent_error, message),
	AGENT_FIELD_END
};

int agent_parse_error(const uint8_t *p, size_t n, char *msg, size_t msglen,
		      struct pv_err *err)
{
	struct agent_error e = { "" };
	int rc = agent_json_decode(p, n, "ERROR", error_fields, &e, NULL, err);

	if (msglen)   /* the caller chose the size */
		snprintf(msg, msglen, "%s", rc == 0 ? e.message : "");
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
		ok = util_json_add(o, "containers", arr);
		arr = NULL;
	}
	if (ok && d->reason[0])
		ok = agent_json_add_str(o, "reason", d->reason);
	if (ok && d->message[0])
		ok = agent_json_add_str(o, "message", d->message);
	json_object_put(arr);
	return agent_json_finish(o, ok);
}

static const struct agent_field pod_done_fields[] = {
	AGENT_FIELD_KEY("containers"),
	AGENT_FIELD_STR("reason", false, false, struct agent_pod_done, reason),
	AGENT_FIELD_STR("message", false, false, struct agent_pod_done, message),
	AGENT_FIELD_END
};

static const struct agent_field pod_done_ctr_fields[] = {
	AGENT_FIELD_INT("index", true, 0, AGENT_MAX_CTRS - 1, struct agent_pod_done_ctr, index),
	AGENT_FIELD_INT("exitCode", true, 0, 255, struct agent_pod_done_ctr, exit_code),
	AGENT_FIELD_INT("signal", false, 0, AGENT_SIGNAL_MAX, struct agent_pod_done_ctr, signal),
	AGENT_FIELD_STR("reason", false, false, struct agent_pod_done_ctr, reason),
	AGENT_FIELD_KEY("state"),
	AGENT_FIELD_INT("restartCount", false, 0, INT32_MAX, struct agent_pod_done_ctr,
			restart_count),
	AGENT_FIELD_END
};

static int agent_parse_done_ctr(struct json_object *e, size_t i,
				struct agent_pod_done_ctr *c, struct pv_err *err)
{
	static const char *const what = "POD_DONE";
	char state[16];
	int rc;

	if (!json_object_is_type(e, json_type_object))
		return pv_err_set(err, EBADMSG, "%s: containers[%zu] is not an object",
				  what, i);
	rc = agent_json_fields(e, what, pod_done_ctr_fields, c, err);
	if (rc < 0)
		return rc;
	rc = agent_json_str(e, what, "state", false, true, state, sizeof(state), err);
	if (rc < 0)
		return rc;
	if (rc > 0 && strcmp(state, "WAITING") != 0 && strcmp(state, "TERMINATED") != 0)
		return pv_err_set(err, EBADMSG, "%s: unknown state \"%s\"", what, state);
	c->waiting = rc > 0 && strcmp(state, "WAITING") == 0;
	return 0;
}

int agent_parse_pod_done(const uint8_t *p, size_t n, struct agent_pod_done *d,
			 struct pv_err *err)
{
	static const char *const what = "POD_DONE";
	cleanup_json struct json_object *o = NULL;
	struct json_object *arr;
	size_t len;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = agent_json_decode(p, n, what, pod_done_fields, d, &o, err);
	if (rc < 0)
		return rc;
	if (!json_object_object_get_ex(o, "containers", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return pv_err_set(err, EBADMSG, "%s: \"containers\" must be an array", what);
	len = json_object_array_length(arr);
	if (len > AGENT_MAX_CTRS)
		return pv_err_set(err, E2BIG, "%s: more than %d containers", what,
				  AGENT_MAX_CTRS);
	for (size_t i = 0; rc == 0 && i < len; i++)
		rc = agent_parse_done_ctr(json_object_array_get_idx(arr, i), i,
					  &d->containers[i], err);
	if (rc == 0)
		d->n = len;
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
