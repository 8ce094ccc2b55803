/* JSON payloads of the agent protocol's exec messages (pod/agent_msg.h):
 * EXEC_START, EXEC_EXIT, EXEC_RESIZE. Same strict rules as agent_msg.c. */
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


void agent_exec_start_free(struct agent_exec_start *x)
{
	size_t i;

	for (i = 0; x->command && i < x->n_command; i++)
		free(x->command[i]);
	free(x->command);
	x->command = NULL;
	x->n_command = 0;
}

char *agent_msg_exec_start(const struct agent_exec_start *x)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	bool ok = o && arr;
	size_t i;

	ok = ok && agent_json_add_int(o, "id", x->id);
	ok = ok && agent_json_add_str(o, "container", x->container);
	for (i = 0; ok && i < x->n_command; i++) {
		struct json_object *s = json_object_new_string(x->command[i]);

		if (!s || json_object_array_add(arr, s) != 0) {
			json_object_put(s);
			ok = false;
		}
	}
	if (ok) {
		ok = agent_json_add(o, "command", arr);
		arr = NULL;
	}
	ok = ok && agent_json_add(o, "tty", json_object_new_boolean(x->tty));
	ok = ok && agent_json_add(o, "stdin", json_object_new_boolean(x->stdin_open));
	if (ok && x->rows && x->cols) {
		ok = agent_json_add_int(o, "rows", x->rows);
		ok = ok && agent_json_add_int(o, "cols", x->cols);
	}
	json_object_put(arr);
	return agent_json_finish(o, ok);
}


int agent_parse_exec_start(const uint8_t *p, size_t n,
			   struct agent_exec_start *x, struct pv_err *err)
{
	static const char *const keys[] = { "id", "container", "command", "tty",
		"stdin", "rows", "cols", NULL };
	static const char *const what = "EXEC_START";
	struct json_object *o = NULL, *arr;
	size_t i, len;
	int64_t v = 0;
	int rc;

	memset(x, 0, sizeof(*x));
	rc = agent_json_parse(p, n, what, &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, what, keys, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, what, "id", 1, UINT16_MAX, true, &v, err);
	if (rc < 0)
		goto out;
	x->id = (uint16_t)v;
	rc = agent_json_str(o, what, "container", true, true, x->container,
			    sizeof(x->container), err);
	if (rc < 0)
		goto out;
	if (!json_object_object_get_ex(o, "command", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    (len = json_object_array_length(arr)) == 0 || len > AGENT_EXEC_MAX_ARGS) {
		rc = pv_err_set(err, EBADMSG, "%s: \"command\" must be an array of 1-%d "
				"strings", what, AGENT_EXEC_MAX_ARGS);
		goto out;
	}
	x->command = calloc(len + 1, sizeof(*x->command));
	if (!x->command) {
		rc = pv_err_set(err, ENOMEM, "%s: out of memory", what);
		goto out;
	}
	for (i = 0; i < len; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		int sl;

		if (!json_object_is_type(s, json_type_string) ||
		    (sl = json_object_get_string_len(s)) < 0 || sl >= AGENT_EXEC_ARG_MAX ||
		    memchr(json_object_get_string(s), '\0', (size_t)sl)) {
			rc = pv_err_set(err, EBADMSG, "%s: command[%zu]: want a string "
					"without NUL, < %d bytes", what, i, AGENT_EXEC_ARG_MAX);
			goto out;
		}
		x->command[i] = strdup(json_object_get_string(s));
		if (!x->command[i]) {
			rc = pv_err_set(err, ENOMEM, "%s: out of memory", what);
			goto out;
		}
		x->n_command = i + 1;
	}
	if (!x->command[0][0]) {
		rc = pv_err_set(err, EBADMSG, "%s: command[0] is empty", what);
		goto out;
	}
	rc = agent_json_bool(o, what, "tty", &x->tty, err);
	if (rc < 0)
		goto out;
	rc = agent_json_bool(o, what, "stdin", &x->stdin_open, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, what, "rows", 0, UINT16_MAX, false, &v, err);
	if (rc < 0)
		goto out;
	x->rows = rc > 0 ? (uint16_t)v : 0;
	rc = agent_json_int(o, what, "cols", 0, UINT16_MAX, false, &v, err);
	if (rc < 0)
		goto out;
	x->cols = rc > 0 ? (uint16_t)v : 0;
	rc = 0;
out:
	if (rc < 0)
		agent_exec_start_free(x);
	json_object_put(o);
	return rc;
}

char *agent_msg_exec_exit(const struct agent_exec_exit *x)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && agent_json_add_int(o, "id", x->id);
	ok = ok && agent_json_add_int(o, "exitCode", x->exit_code);
	if (x->signal)
		ok = ok && agent_json_add_int(o, "signal", x->signal);
	if (x->error[0])
		ok = ok && agent_json_add_str(o, "error", x->error);
	return agent_json_finish(o, ok);
}

int agent_parse_exec_exit(const uint8_t *p, size_t n,
			  struct agent_exec_exit *x, struct pv_err *err)
{
	static const char *const keys[] = { "id", "exitCode", "signal", "error", NULL };
	static const char *const what = "EXEC_EXIT";
	struct json_object *o = NULL;
	int64_t v = 0;
	int rc;

	memset(x, 0, sizeof(*x));
	rc = agent_json_parse(p, n, what, &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, what, keys, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, what, "id", 1, UINT16_MAX, true, &v, err);
	if (rc < 0)
		goto out;
	x->id = (uint16_t)v;
	rc = agent_json_int(o, what, "exitCode", 0, 255, true, &v, err);
	if (rc < 0)
		goto out;
	x->exit_code = (int)v;
	rc = agent_json_int(o, what, "signal", 0, AGENT_SIGNAL_MAX, false, &v, err);
	if (rc < 0)
		goto out;
	x->signal = rc > 0 ? (int)v : 0;
	rc = agent_json_str(o, what, "error", false, false, x->error,
			    sizeof(x->error), err);
	if (rc < 0)
		goto out;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

char *agent_msg_exec_resize(uint16_t id, uint16_t rows, uint16_t cols)
{
	struct json_object *o = json_object_new_object();
	bool ok = o != NULL;

	ok = ok && agent_json_add_int(o, "id", id);
	ok = ok && agent_json_add_int(o, "rows", rows);
	ok = ok && agent_json_add_int(o, "cols", cols);
	return agent_json_finish(o, ok);
}

int agent_parse_exec_resize(const uint8_t *p, size_t n, uint16_t *id,
			    uint16_t *rows, uint16_t *cols, struct pv_err *err)
{
	static const char *const keys[] = { "id", "rows", "cols", NULL };
	static const char *const what = "EXEC_RESIZE";
	struct json_object *o = NULL;
	int64_t v = 0;
	int rc;

	rc = agent_json_parse(p, n, what, &o, err);
	if (rc < 0)
		goto out;
	rc = agent_json_keys(o, what, keys, err);
	if (rc < 0)
		goto out;
	rc = agent_json_int(o, what, "id", 1, UINT16_MAX, true, &v, err);
	if (rc < 0)
		goto out;
	*id = (uint16_t)v;
	rc = agent_json_int(o, what, "rows", 1, UINT16_MAX, true, &v, err);
	if (rc < 0)
		goto out;
	*rows = (uint16_t)v;
	rc = agent_json_int(o, what, "cols", 1, UINT16_MAX, true, &v, err);
	if (rc < 0)
		goto out;
	*cols = (uint16_t)v;
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

