/* `podvm delete pod NAME...` / `podvm delete NAME` [--grace-period N]
 * [--now] [--wait=true|false] [--timeout DURATION] [-n NS]: like kubectl,
 * print `pod "NAME" deleted` once podvmd accepted the deletion, then (by
 * default) wait until the pod is gone: a watch on metadata.name=NAME from
 * the resourceVersion the DELETE returned, so the DELETED event cannot
 * slip by; a GET settles it whenever the watch ends. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/opts.h"
#include "cli/podview.h"
#include "pod/pod.h"
#include "util/util.h"

#define DELETE_MAX_NAMES 64
#define DELETE_WAIT_SLACK_S 60   /* beyond the grace period */

struct delete_pod {
	const char *name;
	char uid[128];
	char rv[64];
	int64_t grace;           /* -1: unknown */
	bool gone;               /* no wait needed */
};

struct delete_wait {
	struct delete_pod *p;
	struct pv_err *err;
	bool done;
};

static void delete_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm delete [pod] NAME... [-n NAMESPACE] "
		"[--grace-period N] [--now] [--wait=true|false] [--timeout 60s]\n");
}

/* "90", "90s", "2m", "1h" -> seconds. */
int cli_parse_duration(const char *s, int64_t *out)
{
	char *end;
	long long v;
	int64_t mul = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (!strcmp(end, "m"))
		mul = 60;
	else if (!strcmp(end, "h"))
		mul = 3600;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (v > INT64_MAX / 3600)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

static void delete_copy_id(char *dst, size_t len, const char *s)
{
	/* uid and resourceVersion go into comparisons and a URL: only keep
	 * them when short and plain. */
	if (s && strlen(s) < len &&
	    strspn(s, "0123456789abcdefABCDEF-_.") == strlen(s))
		snprintf(dst, len, "%s", s);
	else
		dst[0] = '\0';
}

static int delete_one(struct client *c, const char *ns, struct delete_pod *p,
		      int64_t grace, struct pv_err *err)
{
	struct client_resp resp = { 0 };
	char path[CLIENT_URL_MAX], g[32], body[160], nm[POD_NAME_MAX + 8];
	const char *kind;
	int64_t v;
	int ret;

	if (client_path(path, sizeof(path), ns, p->name, NULL) < 0)
		return pv_err_set(err, ENAMETOOLONG, "name too long");
	body[0] = '\0';
	if (grace >= 0) {
		/* Both forms Kubernetes accepts: query and DeleteOptions. */
		snprintf(g, sizeof(g), "%" PRId64, grace);
		snprintf(body, sizeof(body), "{\"kind\":\"DeleteOptions\","
			 "\"apiVersion\":\"v1\",\"gracePeriodSeconds\":%" PRId64 "}",
			 grace);
		if (client_query(path, sizeof(path), "gracePeriodSeconds", g) < 0)
			return pv_err_set(err, ENAMETOOLONG, "name too long");
	}
	ret = client_call(c, "DELETE", path, body[0] ? body : NULL, 0, &resp, err);
	if (ret < 0)
		goto out;
	cli_sanitize(p->name, nm, sizeof(nm));
	printf("pod \"%s\" deleted\n", nm);
	fflush(stdout);
	kind = cli_jstr(resp.json, "kind");
	if (kind && !strcmp(kind, "Status")) {
		p->gone = true;   /* deleted at once: nothing to wait for */
		ret = 0;
		goto out;
	}
	delete_copy_id(p->uid, sizeof(p->uid), cli_jstr(resp.json, "metadata.uid"));
	delete_copy_id(p->rv, sizeof(p->rv),
		       cli_jstr(resp.json, "metadata.resourceVersion"));
	p->grace = grace;
	if (grace < 0 && cli_jint(resp.json, "metadata.deletionGracePeriodSeconds", &v))
		p->grace = v;
	if (p->grace < 0 && cli_jint(resp.json, "spec.terminationGracePeriodSeconds", &v))
		p->grace = v;
	ret = 0;
out:
	client_resp_free(&resp);
	return ret;
}

/* Is obj our pod (same name and, when known, same uid)? */
static bool delete_is_ours(const struct delete_pod *p, struct json_object *obj)
{
	const char *name = cli_jstr(obj, "metadata.name");
	const char *uid = cli_jstr(obj, "metadata.uid");

	return name && !strcmp(name, p->name) &&
	       (!p->uid[0] || !uid || !strcmp(uid, p->uid));
}

static int delete_event(void *opaque, const char *line, size_t len)
{
	struct delete_wait *dw = opaque;
	struct json_object *ev = NULL, *obj;
	const char *type;
	int ret = 0;

	if (len == 0)
		return 0;
	if (cli_parse_json(line, len, &ev, dw->err) < 0) {
		pv_err_prefix(dw->err, "watch event from podvmd");
		ret = -EPROTO;
		goto out;
	}
	type = cli_jstr(ev, "type");
	obj = cli_jobj(ev, "object");
	if (!type || !obj)
		goto out;
	if (!strcmp(type, "ERROR")) {
		ret = 2;   /* expired or refused: fall back to GET */
		goto out;
	}
	delete_copy_id(dw->p->rv, sizeof(dw->p->rv),
		       cli_jstr(obj, "metadata.resourceVersion"));
	if (!strcmp(type, "DELETED") && delete_is_ours(dw->p, obj)) {
		dw->done = true;
		ret = 1;
	} else if (cli_jstr(obj, "metadata.name") && !delete_is_ours(dw->p, obj) &&
		   !strcmp(cli_jstr(obj, "metadata.name"), dw->p->name)) {
		dw->done = true;   /* a new pod by that name: ours is gone */
		ret = 1;
	}
out:
	json_object_put(ev);
	return ret;
}

/* GET: 404 or another uid means gone; else refresh rv. 1 gone, 0 not. */
static int delete_check(struct client *c, const char *ns, struct delete_pod *p,
			struct pv_err *err)
{
	struct client_resp resp = { 0 };
	char path[CLIENT_URL_MAX];
	int ret;

	if (client_path(path, sizeof(path), ns, p->name, NULL) < 0)
		return pv_err_set(err, ENAMETOOLONG, "name too long");
	ret = client_call(c, "GET", path, NULL, 404, &resp, err);
	if (ret < 0)
		goto out;
	if (resp.code == 404) {
		ret = 1;
	} else if (!delete_is_ours(p, resp.json)) {
		ret = 1;
	} else {
		delete_copy_id(p->rv, sizeof(p->rv),
			       cli_jstr(resp.json, "metadata.resourceVersion"));
		ret = 0;
	}
out:
	client_resp_free(&resp);
	return ret;
}

static int delete_wait_gone(struct client *c, const char *ns,
			    struct delete_pod *p, struct pv_err *err)
{
	struct delete_wait dw = { .p = p, .err = err };
	struct client_resp resp = { 0 };
	char path[CLIENT_URL_MAX], fs[POD_NAME_MAX + 32];
	int64_t t0;
	int ret;

	for (;;) {
		if (util_fmt(fs, sizeof(fs), "metadata.name=%s", p->name) < 0 ||
		    client_path(path, sizeof(path), ns, NULL, NULL) < 0 ||
		    client_query(path, sizeof(path), "watch", "true") < 0 ||
		    client_query(path, sizeof(path), "fieldSelector", fs) < 0 ||
		    (p->rv[0] &&
		     client_query(path, sizeof(path), "resourceVersion", p->rv) < 0))
			return pv_err_set(err, ENAMETOOLONG, "name too long");
		t0 = util_mono_ms();
		ret = client_stream(c, path, CLIENT_LINE_MAX, delete_event, &dw,
				    &resp, err);
		client_resp_free(&resp);
		if (ret < 0)
			return ret;
		if (dw.done)
			return 0;
		/* The watch ended, expired or was refused: ask directly. */
		ret = delete_check(c, ns, p, err);
		if (ret != 0)
			return ret < 0 ? ret : 0;
		if (util_mono_ms() - t0 < 1000)
			sleep(1);
	}
}

/* --now: grace period 1 (in order with --grace-period) */
static bool delete_opt_now(void *dst, const char *arg)
{
	*(int64_t *)dst = 1;
	return true;
}

static bool delete_opt_wait(void *dst, const char *arg)
{
	if (!arg || !strcmp(arg, "true"))
		*(bool *)dst = true;
	else if (!strcmp(arg, "false"))
		*(bool *)dst = false;
	else {
		fprintf(stderr, "podvm delete: --wait=true|false\n");
		return false;
	}
	return true;
}

static bool delete_opt_timeout(void *dst, const char *arg)
{
	if (cli_parse_duration(arg, dst) < 0) {
		fprintf(stderr, "podvm delete: --timeout: expected "
			"a duration such as 90s, 5m\n");
		return false;
	}
	return true;
}

struct delete {
	const char *ns;
	struct delete_pod pods[DELETE_MAX_NAMES];
	size_t n;
	int64_t grace, timeout;
	bool wait;
};

/* Wait for each deleted pod to be gone (--wait, the default). */
static int delete_wait_all(struct client *c, struct delete *d, bool *failed,
			   struct pv_err *err)
{
	char nm[POD_NAME_MAX + 8];
	int64_t g;
	int ret;

	for (size_t i = 0; d->wait && i < d->n; i++) {
		struct delete_pod *p = &d->pods[i];

		if (p->gone)
			continue;
		g = p->grace >= 0 ? p->grace : POD_DEFAULT_GRACE;
		client_set_deadline(c, util_mono_ms() +
				    1000 * (d->timeout ? d->timeout
						       : g + DELETE_WAIT_SLACK_S));
		ret = delete_wait_gone(c, d->ns, p, err);
		client_set_deadline(c, 0);
		if (ret == -ETIMEDOUT) {
			cli_sanitize(p->name, nm, sizeof(nm));
			fprintf(stderr, "podvm: timed out waiting for the condition "
				"on pods/%s\n", nm);
			*failed = true;
			continue;
		}
		if (ret == CLIENT_E_SERVER) {
			*failed = true;
			continue;
		}
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int delete_run(struct client *c, void *arg, struct pv_err *err)
{
	struct delete *d = arg;
	bool failed = false;
	int ret;

	for (size_t i = 0; i < d->n; i++) {
		ret = delete_one(c, d->ns, &d->pods[i], d->grace, err);
		if (ret == CLIENT_E_SERVER) {
			failed = true;
			d->pods[i].gone = true;   /* nothing to wait for */
			continue;
		}
		if (ret < 0)
			return ret;
	}
	ret = delete_wait_all(c, d, &failed, err);
	if (ret < 0)
		return ret;
	return failed ? CLIENT_E_SERVER : CLIENT_EXIT_OK;
}

/* [pod|pods|po] NAME... or pod/NAME...: 0, or -1 once said. */
static int delete_names(struct delete *d, int argc, char **argv)
{
	if (optind < argc && (!strcmp(argv[optind], "pod") ||
			      !strcmp(argv[optind], "pods") ||
			      !strcmp(argv[optind], "po")))
		optind++;
	for (; optind < argc; optind++) {
		const char *a = client_pod_name(argv[optind]);

		if (d->n >= DELETE_MAX_NAMES || !*a) {
			fprintf(stderr, "podvm delete: %s\n", *a ? "too many names" :
				"empty pod name");
			return -1;
		}
		memset(&d->pods[d->n], 0, sizeof(d->pods[d->n]));
		d->pods[d->n].name = a;
		d->pods[d->n].grace = -1;
		d->n++;
	}
	if (d->n == 0) {
		fprintf(stderr, "podvm delete: resource(s) were provided, but no "
			"name was specified\n");
		delete_usage(stderr);
		return -1;
	}
	return 0;
}

int cli_delete(const struct cli_env *env_in, int argc, char **argv)
{
	struct cli_env env = *env_in;
	struct delete d = { .grace = -1, .wait = true };
	const struct cli_verb verb = { "delete", delete_usage, &env, &d.ns };
	const struct cli_opt opts[] = {
		CLI_OPT_INT(0, "grace-period", &d.grace, -1, "seconds"),
		CLI_OPT_FN(0, "now", &d.grace, delete_opt_now, false),
		CLI_OPT_FN(0, "wait", &d.wait, delete_opt_wait, true),
		CLI_OPT_FN(0, "timeout", &d.timeout, delete_opt_timeout, false),
		CLI_OPT_END
	};
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	if (ret < 0)
		return ret == CLI_OPTS_HELP ? CLIENT_EXIT_OK : CLIENT_EXIT_FAIL;
	if (delete_names(&d, argc, argv) < 0)
		return CLIENT_EXIT_FAIL;
	if (!d.ns || !*d.ns)
		d.ns = "default";
	return client_main(&env, delete_run, &d);
}
