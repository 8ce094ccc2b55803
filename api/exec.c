/* POST /api/v1/namespaces/NS/pods/NAME/exec?container=C&command=..&stdin=
 * true&tty=true with "Connection: Upgrade", "Upgrade: podvm-exec.v1":
 * 101 Switching Protocols, then exec frames both ways (docs/api.md, "Exec";
 * daemon/exec_frame.h). libmicrohttpd cannot stream a response while it
 * still reads a request body, hence the upgrade (as Kubernetes does).
 * Errors before the upgrade are Status objects; after it, an exit frame
 * with "error". The request is parsed twice: in the handler (to answer
 * errors over HTTP) and in the upgrade callback (nothing has to outlive a
 * request that never upgrades). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "api/api_priv.h"
#include "daemon/exec.h"
#include "host/exec_frame.h"
#include "host/log.h"

struct api_exec_req {
	char uid[64];
	char container[POD_LABEL_NAME_MAX + 1];
	const char *argv[AGENT_EXEC_MAX_ARGS];
	size_t n_argv;
	bool too_many, too_long, tty, stdin_open;
};

static enum MHD_Result api_exec_arg(void *cls, enum MHD_ValueKind kind,
				    const char *key, const char *value)
{
	struct api_exec_req *q = cls;

	(void)kind;
	if (!key || strcmp(key, "command"))
		return MHD_YES;
	if (q->n_argv == AGENT_EXEC_MAX_ARGS) {
		q->too_many = true;
		return MHD_YES;
	}
	if (!value)
		value = "";
	if (strlen(value) >= AGENT_EXEC_ARG_MAX)
		q->too_long = true;
	q->argv[q->n_argv++] = value;
	return MHD_YES;
}

static int api_exec_bool(struct api_req *r, const char *key, bool *out,
			 struct podsvc_status *st)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);

	*out = false;
	if (!v || !strcmp(v, "false") || !strcmp(v, "0"))
		return 0;
	if (!strcmp(v, "true") || !strcmp(v, "1") || !*v) {
		*out = true;
		return 0;
	}
	api_status_set(st, 400, "BadRequest", "%s: want true or false", key);
	return -1;
}

/* Container names of the pod (init containers too) and the phase. */
static int api_exec_pod(struct api_req *r, const char *ns, const char *name,
			struct api_exec_req *q, struct podsvc_status *st)
{
	struct json_object *o = NULL, *v, *spec = NULL, *arr;
	const char *phase = "", *first = NULL;
	char *text = NULL;
	bool found = false;
	int ret = -1;

	if (podsvc_get(r->srv->svc, ns, name, &text, st) < 0)
		return -1;
	o = json_tokener_parse(text);
	if (!o || !json_object_object_get_ex(o, "metadata", &v) ||
	    !json_object_object_get_ex(v, "uid", &v) ||
	    !json_object_object_get_ex(o, "spec", &spec)) {
		api_status_set(st, 500, "InternalError", "cannot read the pod");
		goto out;
	}
	snprintf(q->uid, sizeof(q->uid), "%s", json_object_get_string(v));
	if (json_object_object_get_ex(o, "status", &v) &&
	    json_object_object_get_ex(v, "phase", &v))
		phase = json_object_get_string(v);
	for (int k = 0; k < 2; k++) {
		if (!json_object_object_get_ex(spec, k ? "initContainers" : "containers",
					       &arr) ||
		    !json_object_is_type(arr, json_type_array))
			continue;
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			const char *cn = NULL;

			if (json_object_object_get_ex(json_object_array_get_idx(arr, i),
						      "name", &v))
				cn = json_object_get_string(v);
			if (!cn)
				continue;
			if (!first && !k)
				first = cn;
			found |= q->container[0] && !strcmp(cn, q->container);
		}
	}
	if (!q->container[0] && first) {
		snprintf(q->container, sizeof(q->container), "%s", first);
		found = true;
	}
	if (!found) {
		api_status_set(st, 400, "BadRequest", "container %s is not valid "
			       "for pod %s", q->container, name);
		goto out;
	}
	if (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")) {
		api_status_set(st, 400, "BadRequest", "cannot exec into a container "
			       "in a completed pod; current phase is %s", phase);
		goto out;
	}
	if (strcmp(phase, "Running")) {
		api_status_set(st, 400, "BadRequest", "pod %s is not running "
			       "(phase %s)", name, phase);
		goto out;
	}
	ret = 0;
out:
	json_object_put(o);
	free(text);
	return ret;
}

static int api_exec_parse(struct api_req *r, struct api_exec_req *q,
			  struct podsvc_status *st)
{
	const char *ns, *name, *ctr;

	memset(q, 0, sizeof(*q));
	if (api_check_names(r, &ns, &name, st) < 0)
		return -1;
	ctr = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "container");
	if (ctr && *ctr) {
		if (!pod_is_dns1123_label(ctr)) {
			api_status_set(st, 400, "BadRequest", "container: not a "
				       "valid container name");
			return -1;
		}
		snprintf(q->container, sizeof(q->container), "%s", ctr);
	}
	if (api_exec_bool(r, "stdin", &q->stdin_open, st) < 0 ||
	    api_exec_bool(r, "tty", &q->tty, st) < 0)
		return -1;
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, api_exec_arg, q);
	if (q->n_argv == 0 || !q->argv[0][0] || q->too_many || q->too_long) {
		api_status_set(st, 422, "Invalid", "command: %s",
			       q->n_argv == 0 ? "Required value: at least one "
			       "command argument" : q->too_many ? "at most 256 "
			       "arguments" : q->too_long ? "an argument is 4096 "
			       "bytes or longer" : "the first argument is empty");
		return -1;
	}
	return api_exec_pod(r, ns, name, q, st);
}

static void api_exec_close(void *arg)
{
	MHD_upgrade_action(arg, MHD_UPGRADE_ACTION_CLOSE);
}

/* Tell the client why its session never started (best effort). */
static void api_exec_fail(int fd, int code, const char *msg)
{
	char *json = exec_frame_exit_json(code, 0, msg);
	uint8_t hdr[EXEC_FRAME_HDR];

	if (json && exec_frame_header(hdr, EXEC_F_EXIT, strlen(json)) == 0 &&
	    write(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) &&
	    write(fd, json, strlen(json)) < 0)
		log_debug("exec: client gone before the error", LOG_END);
	free(json);
}

static void api_exec_upgraded(void *cls, struct MHD_Connection *conn,
			      void *req_cls, const char *extra_in,
			      size_t extra_in_size, MHD_socket sock,
			      struct MHD_UpgradeResponseHandle *urh)
{
	struct api_server *srv = cls;
	struct api_req *r = req_cls;
	struct podsvc_status st = { 0 };
	struct pv_err err = { 0 };
	struct api_exec_req q;
	struct exec_request rq;

	(void)conn;
	if (api_exec_parse(r, &q, &st) < 0) {   /* the pod changed meanwhile */
		api_exec_fail(sock, 126, st.message);
		goto fail;
	}
	rq = (struct exec_request){
		.uid = q.uid, .container = q.container,
		.argv = (char *const *)q.argv, .n_argv = q.n_argv,
		.tty = q.tty, .stdin_open = q.stdin_open,
	};
	if (exec_session_start(srv->exec, &rq, sock, extra_in, extra_in_size, &srv->stopping,
			       api_exec_close, urh, &err) < 0) {
		api_exec_fail(sock, 126, err.msg);
		goto fail;
	}
	return;
fail:
	MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

enum MHD_Result api_h_pod_exec(struct api_req *r)
{
	const char *up = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_UPGRADE);
	struct podsvc_status st = { 0 };
	struct MHD_Response *resp;
	struct api_exec_req q;
	enum MHD_Result ret;

	if (!up || strcasecmp(up, EXEC_UPGRADE_PROTO))
		return api_reply_status(r, 400, "BadRequest", "exec needs the "
					"headers Connection: Upgrade and Upgrade: "
					EXEC_UPGRADE_PROTO);
	if (r->body_len)
		return api_reply_status(r, 400, "BadRequest", "exec takes no body");
	if (api_exec_parse(r, &q, &st) < 0)
		return api_reply_podsvc(r, &st);
	switch (exec_pod_check(r->srv->exec, q.uid)) {
	case 0:
		break;
	case -EBUSY:
		return api_reply_status(r, 429, "TooManyRequests", "too many exec "
					"sessions in this pod (at most %d)",
					EXEC_MAX_PER_POD);
	default:
		return api_reply_status(r, 400, "BadRequest", "pod %s is not "
					"running (no agent connection)",
					api_param(r, "name"));
	}
	resp = MHD_create_response_for_upgrade(api_exec_upgraded, r->srv);
	if (!resp)
		return MHD_NO;
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE,
				    EXEC_UPGRADE_PROTO) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	api_stream_begin(r);
	ret = MHD_queue_response(r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	r->code = 101;
	r->replied = true;
	return ret;
}
