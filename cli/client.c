/* HTTP client for podvmd's pod API over libcurl: unix socket
 * (CURLOPT_UNIX_SOCKET_PATH) by default, TCP with --server and a bearer
 * token. Bounded bodies and lines, depth-limited JSON; streaming requests
 * hand data on as it arrives; Ctrl-C ends a transfer through the progress
 * callback so the caller can clean up. */
#include "cli/client.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "cli/podview.h"
#include "util/util.h"

#define CLIENT_ERROR_BODY_MAX (1024u * 1024)  /* an error response's body */
#define CLIENT_TOKEN_MAX      4096
#define CLIENT_CONNECT_S      10
#define CLIENT_REQUEST_S      120   /* a whole non-streaming request */

struct client {
	CURL *curl;
	bool tcp;
	char base[CLIENT_URL_MAX];          /* "http://localhost" or --server */
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char where[CLIENT_URL_MAX];         /* for messages */
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	int64_t deadline;                   /* monotonic ms, 0: none */
};

/* One transfer's state, shared by the write and progress callbacks. */
struct client_xfer {
	bool stream;
	size_t line_max;         /* 0: raw chunks */
	client_data_fn fn;
	void *opaque;
	bool checked_code;
	bool is_error;           /* HTTP status not 2xx: buffer the body */
	CURL *curl;
	char *buf;               /* body, or the current line */
	size_t len, cap;
	int stop;                /* 1: fn said stop; < 0: error (err set) */
	bool timed_out;          /* the client's deadline passed */
	int64_t deadline;
	struct pv_err *err;
};

static volatile sig_atomic_t client_sig;

static void client_on_signal(int sig)
{
	client_sig = sig;
}

void client_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	/* No SA_RESTART: poll() in libcurl wakes up and the progress callback
	 * sees the flag. SA_RESETHAND: a second Ctrl-C kills at once. */
	sa.sa_handler = client_on_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool client_interrupted(void)
{
	return client_sig != 0;
}

/* --- setup --- */

static int client_read_token(const char *path, struct client *c,
			     struct pv_err *err)
{
	char *tok = NULL, *hdr = NULL;
	struct curl_slist *l;
	size_t len = 0;
	int ret;

	ret = util_read_file(path, CLIENT_TOKEN_MAX, &tok, &len, err);
	if (ret < 0) {
		pv_err_prefix(err, "token file");
		goto out;
	}
	while (len > 0 && strchr(" \t\r\n", tok[len - 1]))
		tok[--len] = '\0';
	if (len == 0) {
		ret = pv_err_set(err, EINVAL, "token file %s is empty", path);
		goto out;
	}
	/* Only visible ASCII: nothing that could break the header. */
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)tok[i] < 0x21 || (unsigned char)tok[i] > 0x7e) {
			ret = pv_err_set(err, EINVAL, "token file %s: the token "
					 "must be one line of visible ASCII", path);
			goto out;
		}
	}
	if (asprintf(&hdr, "Authorization: Bearer %s", tok) < 0) {
		hdr = NULL;
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	l = curl_slist_append(c->headers, hdr);
	if (!l) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	c->headers = l;
	ret = 0;
out:
	if (tok)
		explicit_bzero(tok, len);
	if (hdr)
		explicit_bzero(hdr, strlen(hdr));
	free(tok);
	free(hdr);
	return ret;
}

static int client_set_server(struct client *c, const char *url,
			     struct pv_err *err)
{
	size_t n = strlen(url);

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return pv_err_set(err, EINVAL, "--server %.200s: expected "
				  "http://HOST:PORT or https://HOST:PORT", url);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f ||
		    url[i] == '?' || url[i] == '#')
			return pv_err_set(err, EINVAL, "--server: invalid URL");
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n + 1 > sizeof(c->base) - 1024)   /* room for the path */
		return pv_err_set(err, ENAMETOOLONG, "--server: URL too long");
	memcpy(c->base, url, n);
	c->base[n] = '\0';
	snprintf(c->where, sizeof(c->where), "%s", c->base);
	c->tcp = true;
	return 0;
}

int client_open(const struct cli_env *env, struct client **out,
		struct pv_err *err)
{
	const char *sock = env->socket_path;
	struct client *c;
	struct curl_slist *l;
	int ret;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return pv_err_set(err, ENOMEM, "cannot initialise libcurl");
	c = calloc(1, sizeof(*c));
	if (!c) {
		curl_global_cleanup();
		return pv_err_set(err, ENOMEM, "out of memory");
	}
	c->curl = curl_easy_init();
	if (!c->curl) {
		ret = pv_err_set(err, ENOMEM, "cannot initialise libcurl");
		goto out;
	}
	if (env->server && *env->server) {
		ret = client_set_server(c, env->server, err);
		if (ret < 0)
			goto out;
	} else {
		if (!sock || !*sock)
			sock = CLIENT_DEFAULT_SOCKET;
		if (strlen(sock) >= sizeof(c->socket_path)) {
			ret = pv_err_set(err, ENAMETOOLONG, "socket path too long: "
					 "%.200s", sock);
			goto out;
		}
		snprintf(c->socket_path, sizeof(c->socket_path), "%s", sock);
		snprintf(c->where, sizeof(c->where), "%s", sock);
		/* The host part is ignored on a unix socket. */
		snprintf(c->base, sizeof(c->base), "http://localhost");
	}
	l = curl_slist_append(NULL, "Accept: application/json");
	if (!l) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	c->headers = l;
	/* A token only makes sense over TCP; the socket's mode guards it. */
	if (c->tcp && env->token_file && *env->token_file) {
		ret = client_read_token(env->token_file, c, err);
		if (ret < 0)
			goto out;
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	client_close(c);
	return ret;
}

void client_close(struct client *c)
{
	if (!c)
		return;
	curl_slist_free_all(c->headers);
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c);
	curl_global_cleanup();
}

void client_resp_free(struct client_resp *r)
{
	if (!r)
		return;
	free(r->body);
	json_object_put(r->json);
	memset(r, 0, sizeof(*r));
}

/* --- transfer --- */

static int client_buf_add(struct client_xfer *x, const char *data, size_t n,
			  size_t max)
{
	if (n > max || x->len > max - n)
		return -EFBIG;
	if (x->len + n + 1 > x->cap) {
		size_t ncap = x->cap ? x->cap : 16384;
		char *nb;

		while (ncap < x->len + n + 1)
			ncap *= 2;
		nb = realloc(x->buf, ncap);
		if (!nb)
			return -ENOMEM;
		x->buf = nb;
		x->cap = ncap;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return 0;
}

/* Split data into lines; each complete line goes to fn. */
static int client_lines(struct client_xfer *x, const char *data, size_t n)
{
	const char *nl;
	size_t seg;
	int r;

	while (n > 0) {
		nl = memchr(data, '\n', n);
		seg = nl ? (size_t)(nl - data) : n;
		r = client_buf_add(x, data, seg, x->line_max);
		if (r == -EFBIG)
			return pv_err_set(x->err, EMSGSIZE, "podvmd sent a line "
					  "longer than %zu bytes", x->line_max);
		if (r < 0)
			return pv_err_set(x->err, ENOMEM, "out of memory");
		if (!nl)
			return 0;
		data += seg + 1;
		n -= seg + 1;
		if (x->len && x->buf[x->len - 1] == '\r')
			x->buf[--x->len] = '\0';
		r = x->buf ? x->fn(x->opaque, x->buf, x->len) :
			     x->fn(x->opaque, "", 0);
		x->len = 0;
		if (r != 0)
			return r;
	}
	return 0;
}

static size_t client_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct client_xfer *x = ud;
	size_t n = size * nmemb;
	long code = 0;
	int r;

	if (client_sig) {
		x->stop = pv_err_set(x->err, EINTR, "interrupted");
		return 0;
	}
	if (x->stream && !x->checked_code) {
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		x->is_error = code < 200 || code > 299;
		x->checked_code = true;
	}
	if (!x->stream || x->is_error) {
		r = client_buf_add(x, ptr, n, x->is_error ? CLIENT_ERROR_BODY_MAX :
				   CLIENT_BODY_MAX);
		if (r == -EFBIG)
			x->stop = pv_err_set(x->err, EFBIG, "response from podvmd "
					     "too large");
		else if (r < 0)
			x->stop = pv_err_set(x->err, ENOMEM, "out of memory");
		return r < 0 ? 0 : n;
	}
	r = x->line_max ? client_lines(x, ptr, n) : x->fn(x->opaque, ptr, n);
	if (r != 0) {
		x->stop = r;
		return 0;
	}
	return n;
}

static int client_progress_cb(void *ud, curl_off_t dt, curl_off_t dn,
			      curl_off_t ut, curl_off_t un)
{
	struct client_xfer *x = ud;

	(void)dt; (void)dn; (void)ut; (void)un;
	if (x->deadline && util_mono_ms() >= x->deadline) {
		x->timed_out = true;
		return 1;
	}
	return client_sig ? 1 : 0;
}

void client_set_deadline(struct client *c, int64_t mono_ms)
{
	c->deadline = mono_ms;
}

static int client_setup(struct client *c, struct client_xfer *x,
			const char *method, const char *url, const char *body,
			struct curl_slist **hdrs)
{
	CURL *h = c->curl;
	struct curl_slist *l;
	int bad = 0;

	curl_easy_reset(h);
	*hdrs = NULL;
	if (body) {
		/* A private copy: c->headers must stay as it is. */
		for (struct curl_slist *i = c->headers; i; i = i->next) {
			l = curl_slist_append(*hdrs, i->data);
			if (!l)
				return -ENOMEM;
			*hdrs = l;
		}
		l = curl_slist_append(*hdrs, "Content-Type: application/json");
		if (!l)
			return -ENOMEM;
		*hdrs = l;
	}
	bad |= curl_easy_setopt(h, CURLOPT_URL, url);
	if (!c->tcp)
		bad |= curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, *hdrs ? *hdrs : c->headers);
	bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "podvm");
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)CLIENT_CONNECT_S);
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT,
				x->stream ? 0L : (long)CLIENT_REQUEST_S);
	bad |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, client_write_cb);
	bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, client_progress_cb);
	bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	if (strcmp(method, "GET"))
		bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
					(curl_off_t)strlen(body));
	}
	return bad ? -EINVAL : 0;
}

/* What curl_easy_perform's rc means for the caller: 0 when the transfer
 * went through (or fn stopped it), else a negative errno with err set. */
static int client_perform_error(struct client *c, struct client_xfer *x,
				CURLcode rc, struct pv_err *err)
{
	long oserr = 0;

	if (x->stop < 0)
		return x->stop;
	if (x->timed_out)
		return pv_err_set(err, ETIMEDOUT, "timed out");
	if (rc == CURLE_ABORTED_BY_CALLBACK || (rc != CURLE_OK && client_sig))
		return pv_err_set(err, EINTR, "interrupted");
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    (rc == CURLE_OPERATION_TIMEDOUT && !x->checked_code &&
	     x->len == 0 && !x->stream)) {
		curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &oserr);
		return pv_err_set(err, ECONNREFUSED, "cannot connect to podvmd at "
				  "%s: %s (is podvmd running?)", c->where,
				  !c->tcp && oserr ? strerror((int)oserr) :
				  c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
	}
	if (rc != CURLE_OK && x->stop == 0)
		return pv_err_set(err, EIO, "request to podvmd at %s failed: %s",
				  c->where, c->errbuf[0] ? c->errbuf :
				  curl_easy_strerror(rc));
	return 0;
}

/* The response: status, and the body (a JSON object for a 2xx) unless it
 * was streamed; a last line without its '\n' goes to fn first. */
static int client_perform_done(struct client *c, struct client_xfer *x,
			       struct client_resp *resp, struct pv_err *err)
{
	long code = 0;
	int ret;

	if (x->stream && !x->is_error && x->line_max && x->len && x->stop == 0) {
		ret = x->fn(x->opaque, x->buf, x->len);
		x->len = 0;
		if (ret < 0)
			return ret;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
	resp->code = code;
	if (!x->stream || x->is_error) {
		resp->body = x->buf;
		resp->len = x->len;
		x->buf = NULL;
		if (resp->len && cli_parse_json(resp->body, resp->len, &resp->json,
						err) == 0 &&
		    !json_object_is_type(resp->json, json_type_object)) {
			json_object_put(resp->json);
			resp->json = NULL;
		}
		if (!resp->json && code >= 200 && code <= 299)
			return pv_err_set(err, EPROTO, "podvmd sent an invalid "
					  "response (HTTP %ld, not a JSON object)",
					  code);
		pv_err_clear(err);
	}
	return x->stop > 0 ? x->stop : 0;
}

static int client_perform(struct client *c, struct client_xfer *x,
			  const char *method, const char *path,
			  const char *body, struct client_resp *resp,
			  struct pv_err *err)
{
	struct curl_slist *hdrs = NULL;
	char url[CLIENT_URL_MAX];
	CURLcode rc;
	int ret;

	memset(resp, 0, sizeof(*resp));
	x->err = err;
	x->curl = c->curl;
	x->deadline = c->deadline;
	c->errbuf[0] = '\0';
	if (path[0] != '/' || util_fmt(url, sizeof(url), "%s%s", c->base, path) < 0)
		return pv_err_set(err, ENAMETOOLONG, "request URL too long");
	ret = client_setup(c, x, method, url, body, &hdrs);
	if (ret < 0) {
		ret = pv_err_set(err, -ret, "cannot set up the request");
		goto out;
	}
	if (client_sig) {
		ret = pv_err_set(err, EINTR, "interrupted");
		goto out;
	}
	rc = curl_easy_perform(c->curl);
	ret = client_perform_error(c, x, rc, err);
	if (ret == 0)
		ret = client_perform_done(c, x, resp, err);
out:
	curl_slist_free_all(hdrs);
	free(x->buf);
	x->buf = NULL;
	if (ret < 0)
		client_resp_free(resp);
	return ret;
}

int client_request(struct client *c, const char *method, const char *path,
		   const char *body, struct client_resp *resp,
		   struct pv_err *err)
{
	struct client_xfer x = { 0 };

	return client_perform(c, &x, method, path, body, resp, err);
}

int client_stream(struct client *c, const char *path, size_t line_max,
		  client_data_fn fn, void *opaque, struct client_resp *resp,
		  struct pv_err *err)
{
	struct client_xfer x = { .stream = true, .line_max = line_max,
				 .fn = fn, .opaque = opaque };

	return client_perform(c, &x, "GET", path, NULL, resp, err);
}
