/* `podvm logs [-f] [-c CONTAINER] [--tail N] [--timestamps] [-p] NAME`:
 * a container's output from podvmd, written as it arrives.
 *
 * The bytes are the container's own output and are passed through as they
 * are (like kubectl), so colours and binary output survive; redirect when
 * the workload is not trusted with your terminal. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/podview.h"

#define LOGS_DEFAULT_CTR_ANN "kubectl.kubernetes.io/default-container"

static void logs_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm logs [-f] [-c CONTAINER] [--tail N] "
		"[--timestamps] [-p] [-n NAMESPACE] NAME\n");
}

static int logs_write(void *opaque, const char *data, size_t len)
{
	(void)opaque;
	return client_write_out(data, len);
}

/* No -c: the default-container annotation, else the first container,
 * saying so when there are others (kubectl's behaviour). */
static int logs_pick_container(struct client *c, const char *ns,
			       const char *name, char *out, size_t outlen,
			       struct pv_err *err)
{
	struct client_resp resp = { 0 };
	struct json_object *ctrs;
	const char *def, *first = NULL;
	char list[1024], nm[128];
	size_t n, pos = 0;
	int ret;

	ret = client_get_pod(c, ns, name, &resp, err);
	if (ret < 0)
		goto out;
	ctrs = cli_jarr(resp.json, "spec.containers");
	n = ctrs ? json_object_array_length(ctrs) : 0;
	def = cli_jstr(resp.json, "metadata.annotations." LOGS_DEFAULT_CTR_ANN);
	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *cn = cli_jstr(json_object_array_get_idx(ctrs, i), "name");

		if (!cn)
			continue;
		if (def && !strcmp(def, cn))
			first = cn;
		cli_sanitize(cn, nm, sizeof(nm));
		if (pos < sizeof(list))
			pos += (size_t)snprintf(list + pos, sizeof(list) - pos, "%s%s",
						pos ? ", " : "", nm);
	}
	if (!first && n > 0)
		first = cli_jstr(json_object_array_get_idx(ctrs, 0), "name");
	if (!first || strlen(first) >= outlen) {
		ret = pv_err_set(err, EPROTO, "pod has no container to show logs of");
		goto out;
	}
	snprintf(out, outlen, "%s", first);
	if (n > 1 && !(def && !strcmp(def, first))) {
		cli_sanitize(first, nm, sizeof(nm));
		fprintf(stderr, "Defaulted container \"%s\" out of: %s\n", nm, list);
	}
	ret = 0;
out:
	client_resp_free(&resp);
	return ret;
}

struct logs {
	const char *ns, *name, *ctr, *tail;
	bool follow, timestamps, previous;
	char ctrbuf[256];
};

static int logs_run(struct client *c, void *arg, struct pv_err *err)
{
	struct logs *l = arg;
	struct client_resp resp = { 0 };
	char path[CLIENT_URL_MAX];
	int ret;

	if (!l->ctr) {
		ret = logs_pick_container(c, l->ns, l->name, l->ctrbuf,
					  sizeof(l->ctrbuf), err);
		if (ret < 0)
			return ret;
		l->ctr = l->ctrbuf;
	}
	if (client_path(path, sizeof(path), l->ns, l->name, "log") < 0 ||
	    client_query(path, sizeof(path), "container", l->ctr) < 0 ||
	    (l->follow && client_query(path, sizeof(path), "follow", "true") < 0) ||
	    (l->tail && client_query(path, sizeof(path), "tailLines", l->tail) < 0) ||
	    (l->timestamps && client_query(path, sizeof(path), "timestamps", "true") < 0) ||
	    (l->previous && client_query(path, sizeof(path), "previous", "true") < 0))
		return pv_err_set(err, ENAMETOOLONG, "request URL too long");
	ret = client_stream(c, path, 0, logs_write, NULL, &resp, err);
	if (ret == 0 && resp.code != 200 && resp.code != 0) {
		client_print_error(&resp);
		ret = CLIENT_E_SERVER;
	}
	client_resp_free(&resp);
	return ret < 0 ? ret : CLIENT_EXIT_OK;
}

int cli_logs(const struct cli_env *env_in, int argc, char **argv)
{
	struct cli_env env = *env_in;
	struct logs l = { 0 };
	int64_t tl = -1;   /* -1: everything */
	const struct cli_verb verb = { "logs", logs_usage, &env, &l.ns };
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG('f', "follow", &l.follow),
		CLI_OPT_STR('c', "container", &l.ctr),
		CLI_OPT_INT(0, "tail", &tl, -1, "a number"),
		CLI_OPT_FLAG(0, "timestamps", &l.timestamps),
		CLI_OPT_FLAG('p', "previous", &l.previous),
		CLI_OPT_END
	};
	char tlbuf[24];
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	if (ret < 0)
		return ret == CLI_OPTS_HELP ? CLIENT_EXIT_OK : CLIENT_EXIT_FAIL;
	if (tl >= 0) {
		snprintf(tlbuf, sizeof(tlbuf), "%" PRId64, tl);
		l.tail = tlbuf;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "podvm logs: %s\n", optind >= argc ?
			"a pod name is required" : "expected exactly one pod name");
		logs_usage(stderr);
		return CLIENT_EXIT_FAIL;
	}
	l.name = client_pod_name(argv[optind]);
	if (!l.ns || !*l.ns)
		l.ns = "default";
	return client_main(&env, logs_run, &l);
}
