/* `podvm exec [-i] [-t] [-n NS] POD [-c CONTAINER] -- CMD...`: run a
 * command in a running container through podvmd (docs/api.md, "Exec").
 * The connection is opened with libcurl (CONNECT_ONLY: unix socket, TCP or
 * TLS alike), the upgrade request is written by hand, then exec frames
 * (daemon/exec_frame.h) go both ways. Exits with the command's exit code;
 * 126/127 with the error on stderr when it could not start. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/podview.h"
#include "cli/opts.h"
#include "host/exec_frame.h"
#include "util/util.h"

#define CLI_EXEC_HEAD_MAX  (16 * 1024)
#define CLI_EXEC_BODY_MAX  (1024 * 1024)
#define CLI_EXEC_IO_MS     30000       /* one send may wait this long */

struct cli_exec {
	CURL *curl;
	curl_socket_t sock;
	uint8_t in[EXEC_FRAME_HDR + EXEC_FRAME_MAX];
	size_t in_len;
	int exit_code, signal;
	bool have_exit;
	char error[EXEC_ERROR_MAX];
};

static volatile sig_atomic_t cli_exec_winch;

static void cli_exec_on_winch(int sig)
{
	(void)sig;
	cli_exec_winch = 1;
}

static void cli_exec_usage(FILE *fp)
{
	fprintf(fp, "usage: podvm exec [-i] [-t] [-n NAMESPACE] POD [-c CONTAINER] "
		"-- COMMAND [ARG...]\n");
}

static int cli_exec_send(struct cli_exec *x, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int64_t deadline = util_mono_ms() + CLI_EXEC_IO_MS;

	while (len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(x->curl, p, len, &n);

		if (rc == CURLE_AGAIN) {
			struct pollfd pfd = { .fd = x->sock, .events = POLLOUT };

			if (util_mono_ms() > deadline)
				return -ETIMEDOUT;
			if (poll(&pfd, 1, 1000) < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (rc != CURLE_OK)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

static int cli_exec_frame(struct cli_exec *x, unsigned type, const void *p,
			  size_t len)
{
	uint8_t hdr[EXEC_FRAME_HDR];
	int ret = exec_frame_header(hdr, type, len);

	if (ret == 0)
		ret = cli_exec_send(x, hdr, sizeof(hdr));
	if (ret == 0 && len)
		ret = cli_exec_send(x, p, len);
	return ret;
}

static int cli_exec_resize(struct cli_exec *x)
{
	struct winsize ws;
	char *json;
	int ret;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
		return 0;
	json = exec_frame_resize_json(ws.ws_row, ws.ws_col);
	if (!json)
		return -ENOMEM;
	ret = cli_exec_frame(x, EXEC_F_RESIZE, json, strlen(json));
	free(json);
	return ret;
}

/* Read into x->in; 1 data, 0 nothing now, -ECONNRESET closed. */
static int cli_exec_recv(struct cli_exec *x)
{
	size_t n = 0;
	CURLcode rc;

	if (x->in_len == sizeof(x->in))
		return -EPROTO;
	rc = curl_easy_recv(x->curl, x->in + x->in_len, sizeof(x->in) - x->in_len, &n);
	if (rc == CURLE_AGAIN)
		return 0;
	if (rc != CURLE_OK || n == 0)
		return -ECONNRESET;
	x->in_len += n;
	return 1;
}

/* Wait for the response head; leftover bytes stay in x->in. Returns the
 * HTTP status, the head's length in *head_len. */
static int cli_exec_head(struct cli_exec *x, size_t *head_len)
{
	int64_t deadline = util_mono_ms() + CLI_EXEC_IO_MS;
	uint8_t *end;
	int code, ret;

	for (;;) {
		end = memmem(x->in, x->in_len, "\r\n\r\n", 4);
		if (end)
			break;
		if (x->in_len >= CLI_EXEC_HEAD_MAX)
			return -EPROTO;
		ret = cli_exec_recv(x);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			struct pollfd pfd = { .fd = x->sock, .events = POLLIN };

			if (util_mono_ms() > deadline || client_interrupted())
				return client_interrupted() ? -EINTR : -ETIMEDOUT;
			poll(&pfd, 1, 500);
		}
	}
	*head_len = (size_t)(end + 4 - x->in);
	if (x->in_len < 12 || memcmp(x->in, "HTTP/1.", 7) ||
	    sscanf((const char *)x->in + 9, "%3d", &code) != 1)
		return -EPROTO;
	return code;
}

/* A non-101 answer: read its body (Content-Length or until close), print
 * the Status the way kubectl does. */
static int cli_exec_http_error(struct cli_exec *x, int code, size_t head_len)
{
	struct client_resp resp = { .code = code };
	int64_t deadline = util_mono_ms() + CLI_EXEC_IO_MS;
	const char *cl;
	size_t want = CLI_EXEC_BODY_MAX;
	char *body;

	x->in[head_len - 1] = '\0';   /* the head's last '\n' */
	cl = strcasestr((const char *)x->in, "\r\nContent-Length:");
	if (cl)
		want = strtoul(cl + 17, NULL, 10);
	if (want > sizeof(x->in) - head_len)
		want = sizeof(x->in) - head_len;
	while (x->in_len - head_len < want && util_mono_ms() < deadline) {
		struct pollfd pfd = { .fd = x->sock, .events = POLLIN };
		int ret = cli_exec_recv(x);

		if (ret < 0)
			break;
		if (ret == 0)
			poll(&pfd, 1, 500);
	}
	body = strndup((const char *)x->in + head_len, x->in_len - head_len);
	if (!body)
		return -ENOMEM;
	resp.body = body;
	resp.len = strlen(body);
	resp.json = json_tokener_parse(body);
	client_print_error(&resp);
	client_resp_free(&resp);
	return CLIENT_E_SERVER;
}

static int cli_exec_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Handle the complete frames in x->in. 1 once the exit frame came. */
static int cli_exec_frames(struct cli_exec *x)
{
	size_t off = 0;
	int ret = 0;

	while (ret == 0) {
		struct exec_frame f;
		size_t used;

		ret = exec_frame_next(x->in + off, x->in_len - off, &f, &used);
		if (ret <= 0)
			break;
		ret = 0;
		off += used;
		if (f.type == EXEC_F_STDOUT || f.type == EXEC_F_STDERR) {
			/* a closed stdout must not end the session early */
			cli_exec_write_all(f.type == EXEC_F_STDOUT ? STDOUT_FILENO
					   : STDERR_FILENO, f.payload, f.len);
		} else if (f.type == EXEC_F_EXIT) {
			if (exec_frame_exit_parse(f.payload, f.len, &x->exit_code,
						  &x->signal, x->error,
						  sizeof(x->error)) < 0)
				ret = -EPROTO;
			else
				x->have_exit = true, ret = 1;
		} else {
			ret = -EPROTO;
		}
	}
	memmove(x->in, x->in + off, x->in_len - off);
	x->in_len -= off;
	return ret;
}

static int cli_exec_loop(struct cli_exec *x, bool use_stdin, bool tty)
{
	bool stdin_open = use_stdin;
	uint8_t buf[32 * 1024];
	int ret = cli_exec_frames(x);

	if (ret == 0 && tty)
		ret = cli_exec_resize(x);
	while (ret == 0) {
		struct pollfd pfd[2] = {
			{ .fd = x->sock, .events = POLLIN },
			{ .fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
		};

		if (client_interrupted())
			return -EINTR;
		if (cli_exec_winch) {
			cli_exec_winch = 0;
			ret = cli_exec_resize(x);
			if (ret < 0)
				break;
		}
		/* TLS may hold decrypted bytes: drain before polling */
		while ((ret = cli_exec_recv(x)) > 0) {
			ret = cli_exec_frames(x);
			if (ret != 0)
				return ret < 0 ? ret : 0;
		}
		if (ret < 0)
			return ret;
		if (poll(pfd, 2, -1) < 0) {
			ret = errno == EINTR ? 0 : -errno;
			continue;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				stdin_open = false;
				ret = cli_exec_frame(x, EXEC_F_STDIN_EOF, NULL, 0);
			} else {
				ret = cli_exec_frame(x, EXEC_F_STDIN, buf, (size_t)n);
			}
		}
	}
	return ret;
}

static int cli_exec_connect(const struct cli_env *env, struct cli_exec *x,
			    const char *path, struct pv_err *err)
{
	char url[CLIENT_URL_MAX + 64], *tok = NULL, *req = NULL;
	const char *sock = env->socket_path;
	bool tcp = env->server && *env->server;
	size_t toklen = 0;
	int ret, n;

	x->curl = curl_easy_init();
	if (!x->curl)
		return pv_err_set(err, ENOMEM, "cannot initialise libcurl");
	if (!tcp && (!sock || !*sock))
		sock = CLIENT_DEFAULT_SOCKET;
	if (tcp && (strncmp(env->server, "http://", 7) &&
		    strncmp(env->server, "https://", 8)))
		return pv_err_set(err, EINVAL, "--server: expected http(s)://HOST:PORT");
	n = snprintf(url, sizeof(url), "%s%s", tcp ? env->server : "http://localhost",
		     path);
	if (n < 0 || (size_t)n >= sizeof(url))
		return pv_err_set(err, ENAMETOOLONG, "URL too long");
	if (tcp && env->token_file && *env->token_file) {
		ret = util_read_file(env->token_file, 4096, &tok, &toklen, err);
		if (ret < 0)
			goto out;
		while (toklen && strchr(" \t\r\n", tok[toklen - 1]))
			tok[--toklen] = '\0';
		for (size_t i = 0; i < toklen; i++)
			if ((unsigned char)tok[i] < 0x21 || (unsigned char)tok[i] > 0x7e) {
				ret = pv_err_set(err, EINVAL, "bad token file");
				goto out;
			}
	}
	if (curl_easy_setopt(x->curl, CURLOPT_URL, url) ||
	    (!tcp && curl_easy_setopt(x->curl, CURLOPT_UNIX_SOCKET_PATH, sock)) ||
	    curl_easy_setopt(x->curl, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(x->curl, CURLOPT_CONNECT_ONLY, 1L) ||
	    curl_easy_setopt(x->curl, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(x->curl, CURLOPT_CONNECTTIMEOUT, 10L)) {
		ret = pv_err_set(err, EINVAL, "cannot set up libcurl");
		goto out;
	}
	if (curl_easy_perform(x->curl) != CURLE_OK ||
	    curl_easy_getinfo(x->curl, CURLINFO_ACTIVESOCKET, &x->sock) != CURLE_OK) {
		ret = pv_err_set(err, ECONNREFUSED, "cannot connect to podvmd at %s "
				 "(is podvmd running?)", tcp ? env->server : sock);
		goto out;
	}
	/* path is already percent-escaped (client_path, client_query) */
	if (asprintf(&req, "POST %s HTTP/1.1\r\nHost: localhost\r\n"
		     "User-Agent: podvm\r\nConnection: Upgrade\r\nUpgrade: %s\r\n"
		     "Content-Length: 0\r\n%s%s%s\r\n", path, EXEC_UPGRADE_PROTO,
		     tok ? "Authorization: Bearer " : "", tok ? tok : "",
		     tok ? "\r\n" : "") < 0) {
		req = NULL;
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	ret = cli_exec_send(x, req, strlen(req));
	if (ret < 0)
		pv_err_sys(err, -ret, "send the exec request");
out:
	if (tok)
		explicit_bzero(tok, toklen);
	if (req)
		explicit_bzero(req, strlen(req));
	free(tok);
	free(req);
	return ret;
}

/* No -c: the first container, saying so when there are others (kubectl).
 * Also turns a missing pod into kubectl's NotFound error early. */
static int cli_exec_pick(const struct cli_env *env, const char *ns,
			 const char *name, char *out, size_t outlen,
			 struct pv_err *err)
{
	struct client *c = NULL;
	struct client_resp resp = { 0 };
	struct json_object *ctrs;
	char nm[128];
	const char *first;
	size_t n;
	int ret;

	ret = client_open(env, &c, err);
	if (ret < 0)
		goto out;
	ret = client_get_pod(c, ns, name, &resp, err);
	if (ret < 0)
		goto out;
	ctrs = cli_jarr(resp.json, "spec.containers");
	n = ctrs ? json_object_array_length(ctrs) : 0;
	first = n ? cli_jstr(json_object_array_get_idx(ctrs, 0), "name") : NULL;
	if (!first || strlen(first) >= outlen) {
		ret = pv_err_set(err, EPROTO, "pod has no container to exec in");
		goto out;
	}
	snprintf(out, outlen, "%s", first);
	if (n > 1) {
		cli_sanitize(first, nm, sizeof(nm));
		fprintf(stderr, "Defaulted container \"%s\" out of %zu containers\n",
			nm, n);
	}
	ret = 0;
out:
	client_resp_free(&resp);
	client_close(c);
	return ret;
}

/* .../pods/NAME/exec?container=C&command=ARG...[&stdin=true][&tty=true] */
static int cli_exec_path(char *path, size_t len, const char *ns,
			 const char *name, const char *ctr, char **cmd, int n_cmd,
			 bool use_stdin, bool tty, struct pv_err *err)
{
	if (client_path(path, len, ns, name, "exec") < 0 ||
	    client_query(path, len, "container", ctr) < 0)
		return pv_err_set(err, ENAMETOOLONG, "request too long");
	for (int i = 0; i < n_cmd; i++)
		if (client_query(path, len, "command", cmd[i]) < 0)
			return pv_err_set(err, E2BIG, "command too long");
	if ((use_stdin && client_query(path, len, "stdin", "true") < 0) ||
	    (tty && client_query(path, len, "tty", "true") < 0))
		return pv_err_set(err, E2BIG, "command too long");
	return 0;
}

/* Upgrade the connection, then relay (the terminal raw with a tty) until
 * the command exits: its exit code, or a negative errno with err set. */
static int cli_exec_run(const struct cli_env *env, struct cli_exec *x,
			const char *path, bool use_stdin, bool tty,
			struct pv_err *err)
{
	struct termios saved;
	struct sigaction sa;
	size_t head_len = 0;
	bool raw = false;
	int ret, code;

	ret = cli_exec_connect(env, x, path, err);
	if (ret < 0)
		return ret;
	code = cli_exec_head(x, &head_len);
	if (code < 0)
		return pv_err_sys(err, -code, "exec: no answer from podvmd");
	if (code != 101)
		return cli_exec_http_error(x, code, head_len);
	memmove(x->in, x->in + head_len, x->in_len - head_len);
	x->in_len -= head_len;
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios t = saved;

		cfmakeraw(&t);
		raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = cli_exec_on_winch;   /* no SA_RESTART: poll wakes */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGWINCH, &sa, NULL);
	}
	ret = cli_exec_loop(x, use_stdin, tty);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (x->have_exit) {
		if (x->error[0]) {
			char msg[EXEC_ERROR_MAX];

			cli_sanitize(x->error, msg, sizeof(msg));
			fprintf(stderr, "podvm: %s\n", msg);
		}
		return x->exit_code;
	}
	if (ret == 0 || ret == -ECONNRESET)
		ret = pv_err_set(err, ECONNRESET, "connection to podvmd lost "
				 "before the command ended");
	else if (ret != -EINTR)
		pv_err_sys(err, -ret, "exec");
	return ret;
}

int cli_exec(const struct cli_env *env_in, int argc, char **argv)
{
	struct cli_env env = *env_in;
	struct cli_exec *x = NULL;
	struct pv_err err = { 0 };
	const char *ns = NULL, *ctr = NULL, *name;
	bool use_stdin = false, tty = false;
	char path[CLIENT_URL_MAX], ctrbuf[256];
	const struct cli_verb verb = { "exec", cli_exec_usage, &env, &ns };
	const struct cli_opt opts[] = {
		CLI_OPT_FLAG('i', "stdin", &use_stdin),
		CLI_OPT_FLAG('t', "tty", &tty),
		CLI_OPT_STR('c', "container", &ctr),
		CLI_OPT_END
	};
	int ret = cli_opts_parse(&verb, opts, argc, argv);

	if (ret < 0)
		return ret == CLI_OPTS_HELP ? 0 : 2;
	if (argc - optind < 2) {
		cli_exec_usage(stderr);
		return 2;
	}
	name = argv[optind++];
	if (!ns)
		ns = "default";
	if (tty && !(use_stdin && isatty(STDIN_FILENO))) {
		fprintf(stderr, "Unable to use a TTY - input is not a terminal or "
			"the right kind of file\n");
		tty = false;
	}
	client_signals();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return client_fail(-ENOMEM, NULL);
	x = calloc(1, sizeof(*x));
	if (!x) {
		ret = pv_err_set(&err, ENOMEM, "out of memory");
		goto out;
	}
	if (!ctr) {
		ret = cli_exec_pick(&env, ns, name, ctrbuf, sizeof(ctrbuf), &err);
		if (ret < 0)
			goto out;
		ctr = ctrbuf;
	}
	ret = cli_exec_path(path, sizeof(path), ns, name, ctr, argv + optind,
			    argc - optind, use_stdin, tty, &err);
	if (ret == 0)
		ret = cli_exec_run(&env, x, path, use_stdin, tty, &err);
out:
	ret = ret == CLIENT_E_SERVER ? CLIENT_EXIT_FAIL
	      : ret < 0 ? client_fail(ret, &err) : ret;
	if (x && x->curl)
		curl_easy_cleanup(x->curl);
	free(x);
	curl_global_cleanup();
	return ret;
}
