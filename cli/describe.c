/* `podvm describe pod [NAME...] [-n NS]`: kubectl describe's layout for
 * podvmd's pods: metadata, status, each container's image, command, state,
 * readiness, restarts and environment, then the conditions table. Every
 * value from the server is sanitized before it reaches the terminal. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/podview.h"

#define DESCRIBE_MAX_LINES 200   /* of one multi-line command or arg */

/* "<indent>key:" then the value, aligned like kubectl's prefix writer. */
static void dw_kv(struct cli_tabw *w, int level, const char *key,
		  const char *val)
{
	char k[128], v[CLI_CELL_MAX * 2];
	const char *cells[2] = { k, v };

	snprintf(k, sizeof(k), "%*s%s%s", level * 2, "", key, *key ? ":" : "");
	cli_sanitize(val, v, sizeof(v));
	cli_tabw_line(w, true, 2, cells);
}

static void dw_kvf(struct cli_tabw *w, int level, const char *key,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void dw_kvf(struct cli_tabw *w, int level, const char *key,
		   const char *fmt, ...)
{
	char v[CLI_CELL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	dw_kv(w, level, key, v);
}

/* A line with no value: ends the current column block. */
static void dw_line(struct cli_tabw *w, int level, const char *text)
{
	char l[CLI_CELL_MAX * 2 + 16], v[CLI_CELL_MAX * 2];
	const char *cells[1] = { l };

	cli_sanitize(text, v, sizeof(v));
	snprintf(l, sizeof(l), "%*s%s", level * 2, "", v);
	cli_tabw_line(w, true, 1, cells);
}

static void dw_time(struct cli_tabw *w, int level, const char *key,
		    const char *ts)
{
	char t[64];

	cli_time_long(ts, t, sizeof(t));
	dw_kv(w, level, key, t);
}

static int dw_keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Labels (k=v) or annotations (k: v), sorted, one a line. */
static void dw_map(struct cli_tabw *w, const char *key, struct json_object *m,
		   const char *sep)
{
	const char **keys;
	char line[CLI_CELL_MAX * 2];
	size_t n = 0;
	int len = m ? json_object_object_length(m) : 0;

	if (len == 0 || !(keys = calloc((size_t)len, sizeof(*keys)))) {
		dw_kv(w, 0, key, "<none>");
		return;
	}
	json_object_object_foreach(m, k, v) {
		(void)v;
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), dw_keycmp);
	for (size_t i = 0; i < n; i++) {
		struct json_object *jv = json_object_object_get(m, keys[i]);

		snprintf(line, sizeof(line), "%s%s%s", keys[i], sep,
			 json_object_is_type(jv, json_type_string) ?
			 json_object_get_string(jv) : "");
		dw_kv(w, 0, i == 0 ? key : "", line);
	}
	free(keys);
}

/* Command or args: one entry a line, multi-line entries split. */
static void dw_strv(struct cli_tabw *w, const char *key, struct json_object *a)
{
	char part[CLI_CELL_MAX];
	size_t n = json_object_array_length(a), lines = 0;

	dw_line(w, 2, key);
	for (size_t i = 0; i < n && lines < DESCRIBE_MAX_LINES; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		const char *s = json_object_is_type(e, json_type_string) ?
				json_object_get_string(e) : "";

		do {
			const char *nl = strchr(s, '\n');
			size_t len = nl ? (size_t)(nl - s) : strlen(s);

			if (len >= sizeof(part))
				len = sizeof(part) - 1;
			memcpy(part, s, len);
			part[len] = '\0';
			if (!nl || *part || nl[1])   /* no empty last line */
				dw_line(w, 3, part);
			lines++;
			s = nl ? nl + 1 : NULL;
		} while (s && *s && lines < DESCRIBE_MAX_LINES);
	}
}

static void dw_state(struct cli_tabw *w, const char *name,
		     struct json_object *st)
{
	struct json_object *t;
	const char *r;
	int64_t v;

	if (cli_jobj(st, "running")) {
		dw_kv(w, 2, name, "Running");
		dw_time(w, 3, "Started", cli_jstr(st, "running.startedAt"));
	} else if (cli_jobj(st, "waiting")) {
		dw_kv(w, 2, name, "Waiting");
		if ((r = cli_jstr(st, "waiting.reason")) && *r)
			dw_kv(w, 3, "Reason", r);
		if ((r = cli_jstr(st, "waiting.message")) && *r)
			dw_kv(w, 3, "Message", r);
	} else if ((t = cli_jobj(st, "terminated"))) {
		dw_kv(w, 2, name, "Terminated");
		if ((r = cli_jstr(t, "reason")) && *r)
			dw_kv(w, 3, "Reason", r);
		if ((r = cli_jstr(t, "message")) && *r)
			dw_kv(w, 3, "Message", r);
		dw_kvf(w, 3, "Exit Code", "%" PRId64,
		       cli_jint(t, "exitCode", &v) ? v : 0);
		if (cli_jint(t, "signal", &v) && v > 0)
			dw_kvf(w, 3, "Signal", "%" PRId64, v);
		dw_time(w, 3, "Started", cli_jstr(t, "startedAt"));
		dw_time(w, 3, "Finished", cli_jstr(t, "finishedAt"));
	} else {
		dw_kv(w, 2, name, "Waiting");
	}
}

static struct json_object *dw_ctr_status(struct json_object *pod,
					 const char *name)
{
	struct json_object *cs = cli_jarr(pod, "status.containerStatuses");
	size_t n = cs ? json_object_array_length(cs) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(cs, i);
		const char *sn = cli_jstr(s, "name");

		if (sn && !strcmp(sn, name))
			return s;
	}
	return NULL;
}

static void dw_container(struct cli_tabw *w, struct json_object *pod,
			 struct json_object *c)
{
	const char *name = cli_jstr(c, "name");
	struct json_object *st = dw_ctr_status(pod, name ? name : "");
	struct json_object *env = cli_jarr(c, "env"), *a;
	char head[CLI_CELL_MAX];
	const char *s;
	bool b = false;
	int64_t v;
	size_t n;

	cli_sanitize(name, head, sizeof(head) - 1);
	strcat(head, ":");
	dw_line(w, 1, head);
	if (st && (s = cli_jstr(st, "containerID")) && *s)
		dw_kv(w, 2, "Container ID", s);
	dw_kv(w, 2, "Image", cli_jstr(c, "image"));
	if (st && (s = cli_jstr(st, "imageID")))
		dw_kv(w, 2, "Image ID", s);
	if ((a = cli_jarr(c, "command")) && json_object_array_length(a))
		dw_strv(w, "Command:", a);
	if ((a = cli_jarr(c, "args")) && json_object_array_length(a))
		dw_strv(w, "Args:", a);
	if ((s = cli_jstr(c, "workingDir")) && *s)
		dw_kv(w, 2, "Working Dir", s);
	if (st) {
		dw_state(w, "State", cli_jobj(st, "state"));
		if (cli_jobj(st, "lastState.terminated"))
			dw_state(w, "Last State", cli_jobj(st, "lastState"));
		cli_jbool(st, "ready", &b);
		dw_kv(w, 2, "Ready", b ? "True" : "False");
		dw_kvf(w, 2, "Restart Count", "%" PRId64,
		       cli_jint(st, "restartCount", &v) ? v : 0);
	}
	n = env ? json_object_array_length(env) : 0;
	if (n == 0) {
		dw_kv(w, 2, "Environment", "<none>");
		return;
	}
	dw_line(w, 2, "Environment:");
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(env, i);
		const char *ename = cli_jstr(e, "name");
		const char *val = cli_jstr(e, "value");

		dw_kv(w, 3, ename ? ename : "?", val ? val : "");
	}
}

static void describe_pod(struct cli_tabw *w, struct json_object *pod)
{
	const char *phase = cli_jstr(pod, "status.phase");
	const char *node = cli_jstr(pod, "spec.nodeName");
	const char *del = cli_jstr(pod, "metadata.deletionTimestamp");
	struct json_object *ctrs = cli_jarr(pod, "spec.containers");
	struct json_object *conds = cli_jarr(pod, "status.conditions");
	struct json_object *ips = cli_jarr(pod, "status.podIPs");
	char nodebuf[CLI_CELL_MAX], age[32];
	const char *s;
	int64_t t, g;
	size_t n;

	dw_kv(w, 0, "Name", cli_jstr(pod, "metadata.name"));
	dw_kv(w, 0, "Namespace", cli_jstr(pod, "metadata.namespace"));
	if (node && *node) {
		snprintf(nodebuf, sizeof(nodebuf), "%s/%s", node,
			 (s = cli_jstr(pod, "status.hostIP")) ? s : "");
		dw_kv(w, 0, "Node", nodebuf);
	} else {
		dw_kv(w, 0, "Node", "<none>");
	}
	if ((s = cli_jstr(pod, "status.startTime")))
		dw_time(w, 0, "Start Time", s);
	dw_map(w, "Labels", cli_jobj(pod, "metadata.labels"), "=");
	dw_map(w, "Annotations", cli_jobj(pod, "metadata.annotations"), ": ");
	if (del && (!phase || (strcmp(phase, "Succeeded") &&
			       strcmp(phase, "Failed")))) {
		if (cli_time_parse(del, &t) == 0)
			cli_age_format(t - (int64_t)time(NULL), age, sizeof(age));
		else
			snprintf(age, sizeof(age), "<unknown>");
		dw_kvf(w, 0, "Status", "Terminating (lasts %s)", age);
		if (cli_jint(pod, "metadata.deletionGracePeriodSeconds", &g))
			dw_kvf(w, 0, "Termination Grace Period", "%" PRId64 "s", g);
	} else {
		dw_kv(w, 0, "Status", phase ? phase : "");
	}
	if ((s = cli_jstr(pod, "status.reason")) && *s)
		dw_kv(w, 0, "Reason", s);
	if ((s = cli_jstr(pod, "status.message")) && *s)
		dw_kv(w, 0, "Message", s);
	dw_kv(w, 0, "IP", cli_jstr(pod, "status.podIP"));
	n = ips ? json_object_array_length(ips) : 0;
	if (n == 0) {
		dw_kv(w, 0, "IPs", "<none>");
	} else {
		dw_line(w, 0, "IPs:");
		for (size_t i = 0; i < n; i++)
			dw_kv(w, 1, "IP", cli_jstr(json_object_array_get_idx(ips, i),
						   "ip"));
	}
	dw_line(w, 0, "Containers:");
	n = ctrs ? json_object_array_length(ctrs) : 0;
	for (size_t i = 0; i < n; i++)
		dw_container(w, pod, json_object_array_get_idx(ctrs, i));
	n = conds ? json_object_array_length(conds) : 0;
	if (n) {
		const char *hdr[2] = { "  Type", "Status" };

		dw_line(w, 0, "Conditions:");
		cli_tabw_line(w, true, 2, hdr);
		for (size_t i = 0; i < n; i++) {
			struct json_object *c = json_object_array_get_idx(conds, i);
			char ty[128], stv[64];
			const char *row[2] = { ty, stv };

			/* kubectl writes "%v \t%v \n": a trailing blank each. */
			cli_sanitize(cli_jstr(c, "type"), stv, sizeof(stv));
			snprintf(ty, sizeof(ty), "  %s ", stv);
			cli_sanitize(cli_jstr(c, "status"), stv, sizeof(stv) - 1);
			strcat(stv, " ");
			cli_tabw_line(w, true, 2, row);
		}
	}
}

static void describe_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm describe pod [NAME...] [-n NAMESPACE]\n");
}

/* Print one pod's description; between pods, a blank line. */
static int describe_print(struct json_object *pod, bool first)
{
	struct cli_tabw w = { 0 };
	int ret;

	if (!first)
		fputs("\n\n", stdout);
	describe_pod(&w, pod);
	ret = cli_tabw_flush(&w, stdout);
	cli_tabw_free(&w);
	return ret;
}

struct describe {
	const char *ns;
	const char *one;           /* "pod/NAME" given as the type */
	char **names;              /* the other names */
	int n_names;
};

/* No name: every pod in the namespace. */
static int describe_all(struct client *c, const char *ns, struct pv_err *err)
{
	struct client_resp resp = { 0 };
	struct json_object *items;
	bool any = false;
	int ret;

	ret = client_get_pod(c, ns, NULL, &resp, err);
	if (ret < 0)
		goto out;
	items = cli_jarr(resp.json, "items");
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		ret = describe_print(json_object_array_get_idx(items, i), !any);
		if (ret < 0)
			goto out;
		any = true;
	}
	if (!any)
		fprintf(stderr, "No resources found in %s namespace.\n", ns);
out:
	client_resp_free(&resp);
	return ret;
}

static int describe_run(struct client *c, void *arg, struct pv_err *err)
{
	struct describe *d = arg;
	struct client_resp resp = { 0 };
	bool any = false, failed = false;
	int ret = 0;

	if (!d->one && !d->n_names) {
		ret = describe_all(c, d->ns, err);
		return ret < 0 ? ret : CLIENT_EXIT_OK;
	}
	for (int i = d->one ? -1 : 0; i < d->n_names; i++) {
		const char *name = i < 0 ? d->one : d->names[i];

		client_resp_free(&resp);
		ret = client_get_pod(c, d->ns, name, &resp, err);
		if (ret == CLIENT_E_SERVER) {
			failed = true;
			continue;   /* kubectl goes on with the other names */
		}
		if (ret < 0)
			goto out;
		ret = describe_print(resp.json, !any);
		if (ret < 0)
			goto out;
		any = true;
	}
	ret = failed ? CLIENT_E_SERVER : CLIENT_EXIT_OK;
out:
	client_resp_free(&resp);
	return ret;
}

int cli_describe(const struct cli_env *env_in, int argc, char **argv)
{
	struct cli_env env = *env_in;
	struct describe d = { 0 };
	const char *type;
	const struct cli_verb verb = { "describe", describe_usage, &env, &d.ns };
	const struct cli_opt opts[] = { CLI_OPT_END };
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	if (ret < 0)
		return ret == CLI_OPTS_HELP ? CLIENT_EXIT_OK : CLIENT_EXIT_FAIL;
	if (optind >= argc) {
		describe_usage(stderr);
		return CLIENT_EXIT_FAIL;
	}
	type = argv[optind++];
	if (!strncmp(type, "pod/", 4) || !strncmp(type, "pods/", 5)) {
		d.one = strchr(type, '/') + 1;
	} else if (strcmp(type, "pod") && strcmp(type, "pods") &&
		   strcmp(type, "po")) {
		fprintf(stderr, "podvm describe: the server doesn't have a resource "
			"type \"%.100s\" (podvmd serves pods)\n", type);
		return CLIENT_EXIT_FAIL;
	}
	if (!d.ns || !*d.ns)
		d.ns = "default";
	d.names = argv + optind;
	d.n_names = argc - optind;
	return client_main(&env, describe_run, &d);
}
