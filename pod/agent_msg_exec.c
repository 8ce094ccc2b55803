/* JSON payloads of the agent protocol's exec messages (pod/agent_msg.h):
 * EXEC_START, EXEC_EXIT, EXEC_RESIZE. Same strict rules as agent_msg.c. */
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
		ok = util_json_add(o, "command", arr);
		arr = NULL;
	}
	ok = ok && util_json_add(o, "tty", json_object_new_boolean(x->tty));
	ok = ok && util_json_add(o, "stdin", json_object_new_boolean(x->stdin_open));
	if (ok && x->rows && x->cols) {
		ok = agent_json_add_int(o, "rows", x->rows);
		ok = ok && agent_json_add_int(o, "cols", x->cols);
	}
	json_object_put(arr);
	return agent_json_finish(o, ok);
}


static const struct agent_field exec_start_fields[] = {
	AGENT_FIELD_INT("id", true, 1, UINT16_MAX, struct agent_exec_start, id),
	AGENT_FIELD_STR("container", true, true, struct agent_exec_start, container),
	AGENT_FIELD_KEY("command"),
	AGENT_FIELD_BOOL("tty", struct agent_exec_start, tty),
	AGENT_FIELD_BOOL("stdin", struct agent_exec_start, stdin_open),
	AGENT_FIELD_INT("rows", false, 0, UINT16_MAX, struct agent_exec_start, rows),
	AGENT_FIELD_INT("cols", false, 0, UINT16_MAX, struct agent_exec_start, cols),
	AGENT_FIELD_END
};

/* "command": 1..AGENT_EXEC_MAX_ARGS strings without NUL, the first not
 * empty. */
static int agent_parse_exec_command(struct json_object *o,
				    struct agent_exec_start *x, struct pv_err *err)
{
	static const char *const what = "EXEC_START";
	struct json_object *arr;
	size_t len;

	if (!json_object_object_get_ex(o, "command", &arr) ||
	    !json_object_is_type(arr, json_type_array) ||
	    (len = json_object_array_length(arr)) == 0 || len > AGENT_EXEC_MAX_ARGS)
		return pv_err_set(err, EBADMSG, "%s: \"command\" must be an array of 1-%d "
				  "strings", what, AGENT_EXEC_MAX_ARGS);
	x->command = calloc(len + 1, sizeof(*x->command));
	if (!x->command)
		return pv_err_set(err, ENOMEM, "%s: out of memory", what);
	for (size_t i = 0; i < len; i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		int sl;

		if (!json_object_is_type(s, json_type_string) ||
		    (sl = json_object_get_string_len(s)) < 0 || sl >= AGENT_EXEC_ARG_MAX ||
		    memchr(json_object_get_string(s), '\0', (size_t)sl))
			return pv_err_set(err, EBADMSG, "%s: command[%zu]: want a string "
					  "without NUL, < %d bytes", what, i, AGENT_EXEC_ARG_MAX);
		x->command[i] = strdup(json_object_get_string(s));
		if (!x->command[i])
			return pv_err_set(err, ENOMEM, "%s: out of memory", what);
		x->n_command = i + 1;
	}
	if (!x->command[0][0])
		return pv_err_set(err, EBADMSG, "%s: command[0] is empty", what);
	return 0;
}

int agent_parse_exec_start(const uint8_t *p, size_t n,
			   struct agent_exec_start *x, struct pv_err *err)
{
	cleanup_json struct json_object *o = NULL;
	int rc;

	memset(x, 0, sizeof(*x));
	rc = agent_json_decode(p, n, "EXEC_START", exec_start_fields, x, &o, err);
	if (rc == 0)
		rc = agent_parse_exec_command(o, x, err);
	if (rc < 0)
		agent_exec_start_free(x);
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

static const struct agent_field exec_exit_fields[] = {
	AGENT_FIELD_INT("id", true, 1, UINT16_MAX, struct agent_exec_exit, id),
	AGENT_FIELD_INT("exitCode", true, 0, 255, struct agent_exec_exit, exit_code),
	AGENT_FIELD_INT("signal", false, 0, AGENT_SIGNAL_MAX, struct agent_exec_exit, signal),
	AGENT_FIELD_STR("error", false, false, struct agent_exec_exit, error),
	AGENT_FIELD_END
};

int agent_parse_exec_exit(const uint8_t *p, size_t n,
			  struct agent_exec_exit *x, struct pv_err *err)
{
	memset(x, 0, sizeof(*x));
	return agent_json_decode(p, n, "EXEC_EXIT", exec_exit_fields, x, NULL, err);
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

struct agent_exec_resize { uint16_t id, rows, cols; };
static const struct agent_field exec_resize_fields[] = {
	AGENT_FIELD_INT("id", true, 1, UINT16_MAX, struct agent_exec_resize, id),
	AGENT_FIELD_INT("rows", true, 1, UINT16_MAX, struct agent_exec_resize, rows),
	AGENT_FIELD_INT("cols", true, 1, UINT16_MAX, struct agent_exec_resize, cols),
	AGENT_FIELD_END
};

int agent_parse_exec_resize(const uint8_t *p, size_t n, uint16_t *id,
			    uint16_t *rows, uint16_t *cols, struct pv_err *err)
{
	struct agent_exec_resize r = { 0 };
	int rc = agent_json_decode(p, n, "EXEC_RESIZE", exec_resize_fields, &r,
				   NULL, err);

	if (rc == 0) {
		*id = r.id;
		*rows = r.rows;
		*cols = r.cols;
	}
	return rc;
}

