/* `podvm get pods [NAME...] [-n NS | -A] [-o wide|json|yaml|name] [-w]
 * [-l SELECTOR] [--no-headers]`: kubectl get for podvmd's pods.
 *
 * -w prints the table, then one row per watch event, watching from the
 * list's resourceVersion so nothing between list and watch is missed;
 * a watch the server ends is resumed from the last resourceVersion seen,
 * and an expired one (410 Gone) starts over with a fresh list. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/podview.h"
#include "util/util.h"

#define GET_MAX_NAMES 64

enum get_output { GET_OUT_TABLE, GET_OUT_WIDE, GET_OUT_JSON, GET_OUT_YAML,
		  GET_OUT_NAME };

struct get {
	struct cli_env env;
	struct client *c;
	const char *ns;            /* NULL with -A */
	bool all_ns, watch, no_headers;
	enum get_output out;
	const char *selector;
	struct cli_selector sel;
	const char *names[GET_MAX_NAMES];
	size_t n_names;
	struct cli_table table;
	bool header_done;
	size_t printed;            /* objects printed so far */
	char rv[64];               /* resourceVersion to watch from */
	struct pv_err err;
};

static void get_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm get pods [NAME...] [-n NS | -A] "
		"[-o wide|json|yaml|name] [-w] [-l SELECTOR] [--no-headers]\n");
}

static int get_table_header(struct get *g)
{
	const char *cols[CLI_TABLE_MAX_COLS];
	size_t n = 0;

	if (g->header_done || g->no_headers)
		return 0;
	g->header_done = true;
	if (g->all_ns)
		cols[n++] = "NAMESPACE";
	cols[n++] = "NAME";
	cols[n++] = "READY";
	cols[n++] = "STATUS";
	cols[n++] = "RESTARTS";
	cols[n++] = "AGE";
	if (g->out == GET_OUT_WIDE) {
		cols[n++] = "IP";
		cols[n++] = "NODE";
	}
	return cli_table_add(&g->table, cols);
}

static int get_table_row(struct get *g, struct json_object *pod, int64_t now)
{
	struct cli_pod_row row;
	const char *cols[CLI_TABLE_MAX_COLS];
	size_t n = 0;
	int r;

	r = get_table_header(g);
	if (r < 0)
		return r;
	cli_pod_row(pod, now, &row);
	if (g->all_ns)
		cols[n++] = row.namespace;
	cols[n++] = row.name;
	cols[n++] = row.ready;
	cols[n++] = row.status;
	cols[n++] = row.restarts;
	cols[n++] = row.age;
	if (g->out == GET_OUT_WIDE) {
		cols[n++] = row.ip;
		cols[n++] = row.node;
	}
	return cli_table_add(&g->table, cols);
}

/* Print one object in the -o format (tables only buffer; flush after). */
static int get_print(struct get *g, struct json_object *pod, int64_t now)
{
	char name[CLI_CELL_MAX];
	const char *s;

	switch (g->out) {
	case GET_OUT_TABLE:
	case GET_OUT_WIDE:
		return get_table_row(g, pod, now);
	case GET_OUT_NAME:
		cli_sanitize(cli_jstr(pod, "metadata.name"), name, sizeof(name));
		printf("pod/%s\n", name);
		return 0;
	case GET_OUT_JSON:
		/* json-c escapes control characters in strings. */
		s = json_object_to_json_string_ext(pod, JSON_C_TO_STRING_PRETTY |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
		if (!s)
			return -ENOMEM;
		printf("%s\n", s);
		return 0;
	case GET_OUT_YAML:
		if (g->printed && g->watch)
			printf("---\n");
		return cli_print_yaml(stdout, pod, &g->err);
	}
	return 0;
}

static int get_flush(struct get *g)
{
	if (g->out == GET_OUT_TABLE || g->out == GET_OUT_WIDE)
		return cli_table_flush(&g->table, stdout);
	if (fflush(stdout) != 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* Is this object one we asked for? (The server filters too; a server that
 * does not must not make us print other pods.) */
static bool get_wanted(struct get *g, struct json_object *pod)
{
	const char *name = cli_jstr(pod, "metadata.name");
	const char *ns = cli_jstr(pod, "metadata.namespace");

	if (!name || (g->ns && (!ns || strcmp(ns, g->ns))))
		return false;
	if (g->n_names) {
		bool found = false;

		for (size_t i = 0; i < g->n_names && !found; i++)
			found = !strcmp(name, g->names[i]);
		if (!found)
			return false;
	}
	return cli_selector_match(&g->sel, cli_jobj(pod, "metadata.labels"));
}

static void get_set_rv(struct get *g, struct json_object *o, const char *path)
{
	const char *rv = cli_jstr(o, path);

	/* resourceVersion is opaque, but ours are integers: keep it short and
	 * printable so it is safe in a URL either way. */
	if (rv && *rv && strlen(rv) < sizeof(g->rv) &&
	    strspn(rv, "0123456789abcdefABCDEF-_.") == strlen(rv))
		snprintf(g->rv, sizeof(g->rv), "%s", rv);
}

/* {"apiVersion":"v1","kind":"List","items":[]} for pods fetched by name. */
static struct json_object *get_new_list(void)
{
	struct json_object *l = json_object_new_object();
	struct json_object *v[3] = { json_object_new_string("v1"),
				     json_object_new_string("List"),
				     json_object_new_array() };
	static const char *const keys[3] = { "apiVersion", "kind", "items" };
	bool ok = l != NULL;

	for (size_t i = 0; i < 3; i++) {
		if (ok && v[i] && json_object_object_add(l, keys[i], v[i]) == 0)
			continue;
		ok = false;
		json_object_put(v[i]);
	}
	if (!ok) {
		json_object_put(l);
		return NULL;
	}
	return l;
}

/* The named pods, one GET each, as a list in *out; *one: the pod when
 * only one is named. */
static int get_fetch_names(struct get *g, struct json_object **out,
			   struct json_object **one)
{
	struct client_resp resp = { 0 };
	struct json_object *list = get_new_list();
	struct json_object *items = cli_jarr(list, "items");
	int ret = 0;

	*out = list;
	if (!items)
		return pv_err_set(&g->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < g->n_names; i++) {
		ret = client_get_pod(g->c, g->ns ? g->ns : "default", g->names[i],
				     &resp, &g->err);
		if (ret < 0)
			break;
		get_set_rv(g, resp.json, "metadata.resourceVersion");
		if (json_object_array_add(items, json_object_get(resp.json))) {
			json_object_put(resp.json);
			ret = pv_err_set(&g->err, ENOMEM, "out of memory");
			break;
		}
		if (g->n_names == 1)
			*one = resp.json;
		client_resp_free(&resp);
	}
	client_resp_free(&resp);
	return ret;
}

/* The pod list of g->ns (all with -A), -l applied by the server. */
static int get_fetch_list(struct get *g, struct json_object **out)
{
	struct client_resp resp = { 0 };
	char path[CLIENT_URL_MAX];
	int ret;

	if (client_path(path, sizeof(path), g->ns, NULL, NULL) < 0 ||
	    (g->selector && *g->selector &&
	     client_query(path, sizeof(path), "labelSelector", g->selector) < 0))
		return pv_err_set(&g->err, ENAMETOOLONG, "request URL too long");
	ret = client_call(g->c, "GET", path, NULL, 0, &resp, &g->err);
	if (ret == 0) {
		*out = json_object_get(resp.json);
		get_set_rv(g, *out, "metadata.resourceVersion");
	}
	client_resp_free(&resp);
	return ret;
}

/* GET the named pods or the list; print them. relist: again after 410. */
static int get_list(struct get *g, bool relist)
{
	struct json_object *items, *list = NULL, *one = NULL;
	int64_t now = (int64_t)time(NULL);
	size_t shown = 0;
	int ret;

	ret = g->n_names ? get_fetch_names(g, &list, &one)
			 : get_fetch_list(g, &list);
	if (ret < 0)
		goto out;
	items = cli_jarr(list, "items");
	if (!items) {
		ret = pv_err_set(&g->err, EPROTO, "podvmd sent a list without items");
		goto out;
	}
	/* -o json|yaml without -w prints the whole list (or the one pod). */
	if (!g->watch && (g->out == GET_OUT_JSON || g->out == GET_OUT_YAML)) {
		ret = get_print(g, one ? one : list, now);
		if (ret < 0)
			goto out;
		g->printed++;
	} else {
		for (size_t i = 0; i < json_object_array_length(items); i++) {
			struct json_object *pod = json_object_array_get_idx(items, i);

			if (!get_wanted(g, pod))
				continue;
			ret = get_print(g, pod, now);
			if (ret < 0)
				goto out;
			g->printed++;
			shown++;
		}
	}
	ret = get_flush(g);
	if (ret < 0)
		goto out;
	if (!shown && !relist && !g->n_names && !g->watch &&
	    g->out != GET_OUT_JSON && g->out != GET_OUT_YAML) {
		char ns[80];

		cli_sanitize(g->ns, ns, sizeof(ns));
		if (g->ns)
			fprintf(stderr, "No resources found in %s namespace.\n", ns);
		else
			fprintf(stderr, "No resources found\n");
	}
	ret = 0;
out:
	json_object_put(list);
	return ret;
}

/* One watch event line. Returns 0, 2 for "410 Gone: list again", or <0. */
static int get_event(void *opaque, const char *line, size_t len)
{
	struct get *g = opaque;
	struct json_object *ev = NULL, *obj;
	struct client_resp st = { 0 };
	const char *type;
	int64_t code = 0;
	int ret;

	if (len == 0)
		return 0;   /* keep-alive blank line */
	ret = cli_parse_json(line, len, &ev, &g->err);
	if (ret < 0) {
		pv_err_prefix(&g->err, "watch event from podvmd");
		goto out;
	}
	type = cli_jstr(ev, "type");
	obj = cli_jobj(ev, "object");
	if (!type || !obj) {
		ret = pv_err_set(&g->err, EPROTO, "podvmd sent a malformed watch event");
		goto out;
	}
	if (!strcmp(type, "ERROR")) {
		if (cli_jint(obj, "code", &code) && code == 410) {
			ret = 2;
			goto out;
		}
		st.code = code;
		st.json = obj;   /* borrowed: not freed through st */
		client_print_error(&st);
		ret = CLIENT_E_SERVER;
		goto out;
	}
	get_set_rv(g, obj, "metadata.resourceVersion");
	if (!strcmp(type, "BOOKMARK") || !get_wanted(g, obj)) {
		ret = 0;
		goto out;
	}
	if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") &&
	    strcmp(type, "DELETED")) {
		ret = 0;   /* unknown types are skipped, as a reflector does */
		goto out;
	}
	ret = get_print(g, obj, (int64_t)time(NULL));
	if (ret == 0) {
		g->printed++;
		ret = get_flush(g);
	}
out:
	json_object_put(ev);
	return ret;
}

static int get_watch(struct get *g)
{
	struct client_resp resp = { 0 };
	char path[CLIENT_URL_MAX];
	int64_t t0;
	int ret;

	for (;;) {
		if (client_path(path, sizeof(path), g->ns, NULL, NULL) < 0 ||
		    client_query(path, sizeof(path), "watch", "true") < 0 ||
		    (g->rv[0] &&
		     client_query(path, sizeof(path), "resourceVersion", g->rv) < 0) ||
		    (g->selector && *g->selector &&
		     client_query(path, sizeof(path), "labelSelector", g->selector) < 0)) {
			ret = pv_err_set(&g->err, ENAMETOOLONG, "request URL too long");
			goto out;
		}
		if (g->n_names == 1) {
			char fs[512];

			if (util_fmt(fs, sizeof(fs), "metadata.name=%s",
				     g->names[0]) < 0 ||
			    client_query(path, sizeof(path), "fieldSelector", fs) < 0) {
				ret = pv_err_set(&g->err, ENAMETOOLONG, "name too long");
				goto out;
			}
		}
		t0 = util_mono_ms();
		ret = client_stream(g->c, path, CLIENT_LINE_MAX, get_event, g,
				    &resp, &g->err);
		if (ret == 2 || (ret == 0 && resp.code == 410)) {
			/* Too old to resume: list again, then watch from there. */
			client_resp_free(&resp);
			g->rv[0] = '\0';
			ret = get_list(g, true);
			if (ret < 0)
				goto out;
			continue;
		}
		if (ret < 0)
			goto out;
		if (resp.code != 200 && resp.code != 0) {
			client_print_error(&resp);
			ret = CLIENT_E_SERVER;
			goto out;
		}
		client_resp_free(&resp);
		/* The server ended the watch: resume, without spinning. */
		if (util_mono_ms() - t0 < 1000)
			sleep(1);
		if (client_interrupted()) {
			ret = pv_err_set(&g->err, EINTR, "interrupted");
			goto out;
		}
	}
out:
	client_resp_free(&resp);
	return ret;
}

static bool get_opt_output(void *dst, const char *arg)
{
	static const char *const names[] = { [GET_OUT_WIDE] = "wide",
		[GET_OUT_JSON] = "json", [GET_OUT_YAML] = "yaml",
		[GET_OUT_NAME] = "name" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] && !strcmp(arg, names[i])) {
			*(enum get_output *)dst = (enum get_output)i;
			return true;
		}
	fprintf(stderr, "podvm get: unsupported output format "
		"\"%s\" (wide, json, yaml, name)\n", arg);
	return false;
}

static int get_parse(struct get *g, int argc, char **argv)
{
	const struct cli_verb verb = { "get", get_usage, &g->env, &g->ns };
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG('A', "all-namespaces", &g->all_ns),
		CLI_OPT_FN('o', "output", &g->out, get_opt_output, false),
		CLI_OPT_FLAG('w', "watch", &g->watch),
		CLI_OPT_STR('l', "selector", &g->selector),
		CLI_OPT_FLAG(0, "no-headers", &g->no_headers),
		CLI_OPT_END
	};
	const char *type, *slash;
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	if (ret < 0)
		return ret == CLI_OPTS_HELP ? 1 : -EINVAL;
	if (optind >= argc) {
		fprintf(stderr, "podvm get: which resource? only \"pods\" is served\n");
		get_usage(stderr);
		return -EINVAL;
	}
	type = argv[optind++];
	slash = strchr(type, '/');
	if (slash) {   /* pod/NAME */
		if (strncmp(type, "pod/", 4) && strncmp(type, "pods/", 5) &&
		    strncmp(type, "po/", 3))
			goto bad_type;
		g->names[g->n_names++] = slash + 1;
	} else if (strcmp(type, "pods") && strcmp(type, "pod") &&
		   strcmp(type, "po")) {
		goto bad_type;
	}
	for (; optind < argc; optind++) {
		if (g->n_names >= GET_MAX_NAMES) {
			fprintf(stderr, "podvm get: too many names\n");
			return -EINVAL;
		}
		slash = strchr(argv[optind], '/');
		g->names[g->n_names++] = slash && !strncmp(argv[optind], "pod", 3) ?
					 slash + 1 : argv[optind];
	}
	if (g->all_ns && g->n_names) {
		fprintf(stderr, "podvm get: a resource cannot be retrieved by name "
			"across all namespaces\n");
		return -EINVAL;
	}
	if (g->watch && g->n_names > 1) {
		fprintf(stderr, "podvm get: watch is only supported on one pod "
			"or on the list\n");
		return -EINVAL;
	}
	if (cli_selector_parse(g->selector, &g->sel, &g->err) < 0) {
		fprintf(stderr, "podvm get: %s\n", g->err.msg);
		return -EINVAL;
	}
	if (g->n_names && g->selector) {
		fprintf(stderr, "podvm get: names and -l cannot be used together\n");
		return -EINVAL;
	}
	if (g->all_ns)
		g->ns = NULL;
	else if (!g->ns || !*g->ns)
		g->ns = "default";
	return 0;
bad_type:
	fprintf(stderr, "podvm get: the server doesn't have a resource type "
		"\"%.100s\" (podvmd serves pods)\n", type);
	return -EINVAL;
}

static int get_run(struct client *c, void *arg, struct pv_err *err)
{
	struct get *g = arg;
	int ret;

	g->c = c;
	ret = get_list(g, false);
	if (ret == 0 && g->watch)
		ret = get_watch(g);
	g->c = NULL;
	*err = g->err;
	return ret < 0 ? ret : CLIENT_EXIT_OK;
}

int cli_get(const struct cli_env *env, int argc, char **argv)
{
	struct get *g = calloc(1, sizeof(*g));
	int ret;

	if (!g) {
		fprintf(stderr, "podvm: out of memory\n");
		return CLIENT_EXIT_FAIL;
	}
	g->env = *env;
	ret = get_parse(g, argc, argv);
	if (ret != 0) {
		ret = ret > 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_FAIL;
		goto out;
	}
	ret = cli_table_init(&g->table, 5 + (g->all_ns ? 1 : 0) +
			     (g->out == GET_OUT_WIDE ? 2 : 0));
	ret = ret < 0 ? client_fail(ret, &g->err)
		      : client_main(&g->env, get_run, g);
out:
	cli_table_free(&g->table);
	free(g);
	return ret;
}
