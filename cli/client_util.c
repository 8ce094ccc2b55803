/* The parts of the client that every verb shares besides the transfer:
 * printing podvmd's Status errors, building escaped request paths and
 * queries, the common options, writing output. The transfer itself is in
 * cli/client.c. */
#include "cli/client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/podview.h"
#include "util/util.h"

/* --- errors --- */

static void client_print_invalid(struct json_object *st, const char *msg)
{
	struct json_object *causes = cli_jarr(st, "details.causes");
	const char *kind = cli_jstr(st, "details.kind");
	const char *name = cli_jstr(st, "details.name");
	size_t n = causes ? json_object_array_length(causes) : 0;
	char k[64], nm[300], f[300], m[600];

	if (!kind && !name) {
		cli_sanitize(msg, m, sizeof(m));
		fprintf(stderr, "The request is invalid: %s\n", m);
		return;
	}
	cli_sanitize(kind, k, sizeof(k));
	cli_sanitize(name, nm, sizeof(nm));
	if (n == 0) {
		cli_sanitize(msg, m, sizeof(m));
		fprintf(stderr, "The %s \"%s\" is invalid: %s\n", k, nm, m);
		return;
	}
	fprintf(stderr, "The %s \"%s\" is invalid: %s", k, nm, n > 1 ? "\n" : "");
	for (size_t i = 0; i < n && i < 64; i++) {
		struct json_object *cause = json_object_array_get_idx(causes, i);
		const char *field = cli_jstr(cause, "field");

		cli_sanitize(field, f, sizeof(f));
		cli_sanitize(cli_jstr(cause, "message"), m, sizeof(m));
		fprintf(stderr, "%s%s%s%s\n", n > 1 ? "* " : "", f,
			field && *field ? ": " : "", m);
	}
}

void client_print_error(const struct client_resp *r)
{
	const char *reason = cli_jstr(r->json, "reason");
	const char *msg = cli_jstr(r->json, "message");
	char rs[64], ms[1024];

	if (reason && !strcmp(reason, "Invalid")) {
		client_print_invalid(r->json, msg);
		return;
	}
	if (!msg || !*msg) {
		/* Not a Status: show the start of the body, made safe. */
		snprintf(ms, sizeof(ms), "the server responded with HTTP %ld", r->code);
		if (!r->json && r->body && *r->body) {
			char snippet[200];

			cli_sanitize(r->body, snippet, sizeof(snippet));
			fprintf(stderr, "Error from server: %s: %s\n", ms, snippet);
			return;
		}
		msg = ms;
	}
	cli_sanitize(msg, ms, sizeof(ms));
	if (reason && *reason) {
		cli_sanitize(reason, rs, sizeof(rs));
		fprintf(stderr, "Error from server (%s): %s\n", rs, ms);
	} else {
		fprintf(stderr, "Error from server: %s\n", ms);
	}
}

int client_fail(int ret, const struct pv_err *err)
{
	if (ret == -EINTR || client_interrupted())
		return CLIENT_EXIT_INTR;
	/* stdout closed (| head), or the server's error already printed */
	if (ret == -EPIPE || ret == CLIENT_E_SERVER)
		return CLIENT_EXIT_FAIL;
	fprintf(stderr, "podvm: %s\n", err && err->msg[0] ? err->msg :
		strerror(-ret));
	return CLIENT_EXIT_FAIL;
}

/* --- requests --- */

int client_call(struct client *c, const char *method, const char *path,
		const char *body, long quiet, struct client_resp *resp,
		struct pv_err *err)
{
	int ret = client_request(c, method, path, body, resp, err);

	if (ret < 0)
		return ret;
	if ((resp->code >= 200 && resp->code < 300) ||
	    (quiet && resp->code == quiet))
		return 0;
	client_print_error(resp);
	return CLIENT_E_SERVER;
}

int client_get_pod(struct client *c, const char *ns, const char *name,
		   struct client_resp *resp, struct pv_err *err)
{
	char path[CLIENT_URL_MAX];

	if (client_path(path, sizeof(path), ns, name, NULL) < 0)
		return pv_err_set(err, ENAMETOOLONG, "%s too long",
				  name ? "name" : "namespace");
	return client_call(c, "GET", path, NULL, 0, resp, err);
}

int client_main(const struct cli_env *env, client_fn fn, void *arg)
{
	struct client *c = NULL;
	struct pv_err err = { 0 };
	int ret;

	client_signals();
	ret = client_open(env, &c, &err);
	if (ret == 0)
		ret = fn(c, arg, &err);
	client_close(c);
	return ret < 0 ? client_fail(ret, &err) : ret;
}

const char *client_pod_name(const char *s)
{
	if (!strncmp(s, "pod/", 4) || !strncmp(s, "pods/", 5))
		return strchr(s, '/') + 1;
	return s;
}

/* --- URLs and options --- */

static int client_escape(char *buf, size_t len, size_t *pos, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || strchr("-._~", ch);

		if (*pos + (plain ? 1 : 3) >= len)
			return -ENAMETOOLONG;
		if (plain) {
			buf[(*pos)++] = (char)ch;
		} else {
			buf[(*pos)++] = '%';
			buf[(*pos)++] = hex[ch >> 4];
			buf[(*pos)++] = hex[ch & 15];
		}
	}
	buf[*pos] = '\0';
	return 0;
}

static int client_lit(char *buf, size_t len, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n >= len)
		return -ENAMETOOLONG;
	memcpy(buf + *pos, s, n + 1);
	*pos += n;
	return 0;
}

int client_path(char *buf, size_t len, const char *ns, const char *name,
		const char *sub)
{
	size_t pos = 0;

	if (len == 0)
		return -ENAMETOOLONG;
	buf[0] = '\0';
	if (client_lit(buf, len, &pos, "/api/v1") < 0)
		return -ENAMETOOLONG;
	if (ns && (client_lit(buf, len, &pos, "/namespaces/") < 0 ||
		   client_escape(buf, len, &pos, ns) < 0))
		return -ENAMETOOLONG;
	if (client_lit(buf, len, &pos, "/pods") < 0)
		return -ENAMETOOLONG;
	if (name && (client_lit(buf, len, &pos, "/") < 0 ||
		     client_escape(buf, len, &pos, name) < 0))
		return -ENAMETOOLONG;
	if (sub && (client_lit(buf, len, &pos, "/") < 0 ||
		    client_escape(buf, len, &pos, sub) < 0))
		return -ENAMETOOLONG;
	return 0;
}

int client_query(char *buf, size_t len, const char *key, const char *value)
{
	size_t pos = strnlen(buf, len);

	if (pos >= len ||
	    client_lit(buf, len, &pos, strchr(buf, '?') ? "&" : "?") < 0 ||
	    client_escape(buf, len, &pos, key) < 0 ||
	    client_lit(buf, len, &pos, "=") < 0 ||
	    client_escape(buf, len, &pos, value) < 0)
		return -ENAMETOOLONG;
	return 0;
}

bool client_common_opt(struct cli_env *env, int c, const char *arg,
		       const char **ns)
{
	switch (c) {
	case 'n':
		*ns = arg;
		return true;
	case CLIENT_OPT_SERVER:
		env->server = arg;
		return true;
	case CLIENT_OPT_TOKEN:
		env->token_file = arg;
		return true;
	default:
		return false;
	}
}

int client_write_out(const char *buf, size_t len)
{
	if (len && fwrite(buf, 1, len, stdout) != len)
		return errno ? -errno : -EIO;
	if (fflush(stdout) != 0)
		return errno ? -errno : -EIO;
	return 0;
}
