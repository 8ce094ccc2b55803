/* One registry GET over libcurl: mirrors then the registry itself, the
 * 401 -> Basic or Bearer token -> retry flow, retries with back-off on
 * 5xx/429 and dropped connections, a stall timeout, bounded error bodies.
 * A registry's answers are hostile: nothing it says is echoed unbounded,
 * and credentials never reach a message. */
#include "images/registry_priv.h"
#include "images/store_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#define REG_ERRBODY_MAX   4096
#define REG_TOKEN_MAX     (64u << 10)
#define REG_BACKOFF_MS    250
#define REG_BACKOFF_MAX   4000
#define REG_BUFFER        (256 * 1024)

struct xfer {
	const struct reg_sink *sink;
	struct reg_resp *resp;
	char www_auth[2048];
	char errbody[REG_ERRBODY_MAX];
	size_t errlen;
	uint64_t errtotal;
	struct pv_err sink_err;
	int sink_ret;
};

static void trim_copy(char *dst, size_t len, const char *src, size_t n)
{
	while (n > 0 && (src[n - 1] == '\r' || src[n - 1] == '\n' || src[n - 1] == ' '))
		n--;
	while (n > 0 && (*src == ' ' || *src == '\t'))
		src++, n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static size_t hdr_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nitems;
	const char *colon;
	char num[32];

	if (len >= 5 && !strncasecmp(buf, "HTTP/", 5)) {
		/* A new response (after a redirect or a 401): start over. */
		const char *sp = memchr(buf, ' ', len);

		x->resp->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		x->resp->content_type[0] = '\0';
		x->resp->docker_digest[0] = '\0';
		x->resp->content_length = -1;
		x->www_auth[0] = '\0';
		return len;
	}
	colon = memchr(buf, ':', len);
	if (!colon)
		return len;
#define HDR_IS(name) ((size_t)(colon - buf) == strlen(name) && !strncasecmp(buf, name, strlen(name)))
	if (HDR_IS("Content-Type"))
		trim_copy(x->resp->content_type, sizeof(x->resp->content_type), colon + 1,
			  len - (size_t)(colon + 1 - buf));
	else if (HDR_IS("Docker-Content-Digest"))
		trim_copy(x->resp->docker_digest, sizeof(x->resp->docker_digest), colon + 1,
			  len - (size_t)(colon + 1 - buf));
	else if (HDR_IS("WWW-Authenticate") && !x->www_auth[0])
		trim_copy(x->www_auth, sizeof(x->www_auth), colon + 1,
			  len - (size_t)(colon + 1 - buf));
	else if (HDR_IS("Content-Length")) {
		trim_copy(num, sizeof(num), colon + 1, len - (size_t)(colon + 1 - buf));
		x->resp->content_length = strspn(num, "0123456789") == strlen(num) && num[0]
					  ? strtoll(num, NULL, 10) : -1;
	}
#undef HDR_IS
	return len;
}

static size_t body_cb(char *buf, size_t size, size_t nitems, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * nitems;

	if (x->resp->status / 100 == 2) {
		x->sink_ret = x->sink->data(x->sink->opaque, buf, len, &x->sink_err);
		return x->sink_ret < 0 ? 0 : len;
	}
	/* An error body: keep the start for the message, drop the rest, and
	 * give up on one that never ends. */
	x->errtotal += len;
	if (x->errtotal > 16 * REG_ERRBODY_MAX)
		return 0;
	if (x->errlen < sizeof(x->errbody) - 1) {
		size_t k = sizeof(x->errbody) - 1 - x->errlen;

		k = k < len ? k : len;
		memcpy(x->errbody + x->errlen, buf, k);
		x->errlen += k;
		x->errbody[x->errlen] = '\0';
	}
	return len;
}

/* "CODE: message" from a distribution error body, printable and short. */
static void reg_errbody(const char *body, size_t len, char *out, size_t outlen)
{
	struct json_object *root = NULL, *errs, *e, *v;
	size_t i, n = 0;

	out[0] = '\0';
	if (len == 0)
		return;
	root = json_tokener_parse(body);
	if (root && json_object_object_get_ex(root, "errors", &errs) &&
	    json_object_is_type(errs, json_type_array) && json_object_array_length(errs) > 0) {
		e = json_object_array_get_idx(errs, 0);
		if (json_object_object_get_ex(e, "code", &v))
			n += (size_t)snprintf(out, outlen, "%.40s", json_object_get_string(v));
		if (json_object_object_get_ex(e, "message", &v) && n < outlen)
			snprintf(out + n, outlen - n, "%s%.120s", n ? ": " : "",
				 json_object_get_string(v));
	}
	json_object_put(root);
	for (i = 0; out[i]; i++)
		if (!isprint((unsigned char)out[i]))
			out[i] = '?';
}

static void backoff(int attempt)
{
	long ms = REG_BACKOFF_MS << (attempt > 5 ? 5 : attempt - 1);
	struct timespec ts;

	if (ms > REG_BACKOFF_MAX)
		ms = REG_BACKOFF_MAX;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct mem_sink {
	char *buf;
	size_t len, max;
};

static int mem_data(void *opaque, const void *buf, size_t len, struct pv_err *err)
{
	struct mem_sink *m = opaque;
	char *nb;

	if (m->len + len > m->max)
		return pv_err_set(err, EFBIG, "token response larger than %zu bytes", m->max);
	nb = realloc(m->buf, m->len + len + 1);
	if (!nb)
		return pv_err_set(err, ENOMEM, "out of memory");
	m->buf = nb;
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	m->buf[m->len] = '\0';
	return 0;
}

static void mem_reset(void *opaque)
{
	((struct mem_sink *)opaque)->len = 0;
}

/* Options every request shares. plain: this endpoint speaks HTTP. */
static void setup(CURL *h, struct registry *r, const char *url, bool plain,
		  struct xfer *x, struct curl_slist *hdrs)
{
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, plain ? "http,https" : "https");
	/* Blob redirects (object storage) stay on HTTPS unless the registry
	 * itself is plain. Credentials are never sent to another host. */
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, plain ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)r->stall_seconds);
	curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)REG_BUFFER);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "podvm/1");
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, hdr_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
}

static int map_curl_error(CURLcode rc, const char *host, const char *detail,
			  struct pv_err *err)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return pv_err_set(err, EHOSTUNREACH, "unknown host %s", host);
	case CURLE_COULDNT_CONNECT:
		return pv_err_set(err, ECONNREFUSED, "cannot connect to %s: %s", host,
				  detail[0] ? detail : "connection refused");
	case CURLE_OPERATION_TIMEDOUT:
		return pv_err_set(err, ETIMEDOUT, "transfer from %s stalled: %s", host, detail);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
		return pv_err_set(err, EPROTO, "TLS with %s failed: %s", host, detail);
	default:
		return pv_err_set(err, EIO, "request to %s failed: %s", host,
				  detail[0] ? detail : curl_easy_strerror(rc));
	}
}

static bool retryable(CURLcode rc)
{
	return rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_OPERATION_TIMEDOUT ||
	       rc == CURLE_HTTP2 || rc == CURLE_HTTP2_STREAM;
}

/* realm?service=..&scope=..; *plain: the realm may be plain HTTP (it is
 * loopback or an --insecure-registry host); a plain realm elsewhere would
 * carry credentials in the clear and is refused. */
static int token_url(struct reg_conn *c, const struct reg_endpoint *e,
		     const struct registry_challenge *ch, const char *scope, char *url,
		     size_t len, char *hostport, size_t hplen, bool *plain, struct pv_err *err)
{
	char *esc_svc = NULL, *esc_scope = NULL;
	const char *hp;
	int ret = 0;

	if (!strncmp(ch->realm, "https://", 8))
		hp = ch->realm + 8;
	else if (!strncmp(ch->realm, "http://", 7))
		hp = ch->realm + 7;
	else
		return pv_err_set(err, EPROTO, "registry %s: token realm is not an http(s) URL",
				  e->host);
	snprintf(hostport, hplen, "%.*s", (int)strcspn(hp, "/?#"), hp);
	*plain = registry_plain_http(c->r, hostport);
	if (hp == ch->realm + 7 && !*plain)
		return pv_err_set(err, EPROTO,
				  "registry %s: refusing a plain-HTTP token realm on %s", e->host,
				  hostport);
	esc_svc = curl_easy_escape(c->curl, ch->service, 0);
	esc_scope = curl_easy_escape(c->curl, scope, 0);
	if (!esc_svc || !esc_scope)
		ret = pv_err_set(err, ENOMEM, "out of memory");
	else if (util_fmt(url, len, "%s%sservice=%s&scope=%s", ch->realm,
			  strchr(ch->realm, '?') ? "&" : "?", esc_svc, esc_scope) < 0)
		ret = pv_err_set(err, ENAMETOOLONG, "registry %s: token realm too long", e->host);
	curl_free(esc_svc);
	curl_free(esc_scope);
	return ret;
}

/* {"token": T} or {"access_token": T}, optional "expires_in". */
static int token_parse(const char *body, const char *host, char **token, int64_t *ttl,
		       struct pv_err *err)
{
	struct json_object *root = body ? json_tokener_parse(body) : NULL, *v, *exp;
	int ret = 0;

	if (!root || !((json_object_object_get_ex(root, "token", &v) &&
			json_object_is_type(v, json_type_string)) ||
		       (json_object_object_get_ex(root, "access_token", &v) &&
			json_object_is_type(v, json_type_string))) ||
	    json_object_get_string_len(v) == 0 ||
	    strpbrk(json_object_get_string(v), "\r\n")) {
		ret = pv_err_set(err, EPROTO, "token service of %s sent no usable token", host);
	} else if (!(*token = strdup(json_object_get_string(v)))) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
	} else {
		*ttl = json_object_object_get_ex(root, "expires_in", &exp)
		       ? json_object_get_int64(exp) : 0;
	}
	json_object_put(root);
	return ret;
}

/* GET the token the realm hands out for scope; cached on success. */
static int fetch_token(struct reg_conn *c, const struct reg_endpoint *e,
		       const struct registry_challenge *ch, const char *scope,
		       const struct registry_cred *cred, char **token, struct pv_err *err)
{
	struct mem_sink m = { NULL, 0, REG_TOKEN_MAX };
	struct reg_sink sink = { mem_data, mem_reset, &m };
	struct reg_resp resp;
	struct xfer x;
	char url[2048], hostport[IMAGE_HOST_MAX], errbuf[CURL_ERROR_SIZE] = "";
	int64_t ttl = 0;
	CURLcode rc;
	bool plain = false;
	int ret;

	ret = token_url(c, e, ch, scope, url, sizeof(url), hostport, sizeof(hostport), &plain,
			err);
	if (ret < 0)
		return ret;
	memset(&x, 0, sizeof(x));
	memset(&resp, 0, sizeof(resp));
	x.sink = &sink;
	x.resp = &resp;
	setup(c->curl, c->r, url, plain, &x, NULL);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	if (cred) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, cred->user);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, cred->pass ? cred->pass : "");
	}
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		ret = x.sink_ret < 0 ? pv_err_set(err, x.sink_err.errnum, "%s", x.sink_err.msg)
				     : map_curl_error(rc, hostport, errbuf, err);
		pv_err_prefix(err, "token service");
	} else if (resp.status == 401 || resp.status == 403) {
		ret = pv_err_set(err, EACCES, "unauthorized: the token service of %s refused %s",
				 e->host, cred ? "the credentials" : "anonymous access");
	} else if (resp.status / 100 != 2) {
		ret = pv_err_set(err, EIO, "token service of %s answered HTTP %ld", e->host,
				 resp.status);
	} else {
		ret = token_parse(m.buf, e->host, token, &ttl, err);
		if (ret == 0)
			reg_token_put(c->r, e->host, scope, *token, ttl);
	}
	if (m.buf)
		explicit_bzero(m.buf, m.len);
	free(m.buf);
	return ret;
}

void reg_conn_init(struct reg_conn *c, struct registry *r, const struct image_ref *ref,
		   const struct registry_creds *extra)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->ref = ref;
	c->extra = extra;
}

void reg_conn_fini(struct reg_conn *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

/* What one endpoint's requests carry: credentials found for it, the
 * Bearer token (cached or fetched), whether Basic is in use. */
struct auth_state {
	const struct registry_cred *cred;
	char scope[IMAGE_REPO_MAX + 32];
	char *token;
	bool basic, tried;
};

/* One HTTP exchange with the auth state's headers. */
static CURLcode perform_once(struct reg_conn *c, const char *url, bool plain, const char *accept,
			     const struct auth_state *as, struct xfer *x, char *errbuf,
			     struct pv_err *err)
{
	struct curl_slist *hdrs = NULL, *n;
	char hdr[REG_ERRBODY_MAX];
	CURLcode rc;

	if (accept && util_fmt(hdr, sizeof(hdr), "Accept: %s", accept) == 0)
		hdrs = curl_slist_append(hdrs, hdr);
	if (as->token && util_fmt(hdr, sizeof(hdr), "Authorization: Bearer %s", as->token) == 0) {
		n = curl_slist_append(hdrs, hdr);
		explicit_bzero(hdr, sizeof(hdr));
		if (!n) {
			curl_slist_free_all(hdrs);
			pv_err_set(err, ENOMEM, "out of memory");
			return CURLE_OUT_OF_MEMORY;
		}
		hdrs = n;
	}
	errbuf[0] = '\0';
	setup(c->curl, c->r, url, plain, x, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	if (as->basic && as->cred) {
		curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c->curl, CURLOPT_USERNAME, as->cred->user);
		curl_easy_setopt(c->curl, CURLOPT_PASSWORD, as->cred->pass ? as->cred->pass : "");
	}
	rc = curl_easy_perform(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdrs);
	return rc;
}

/* A first 401: answer its challenge (Basic, or a Bearer token). 0: try
 * again; -EACCES: nothing to answer with. */
static int answer_challenge(struct reg_conn *c, const struct reg_endpoint *e,
			    struct auth_state *as, const char *www_auth, struct pv_err *err)
{
	struct registry_challenge ch;
	int ret;

	as->tried = true;
	ret = registry_challenge_parse(www_auth, &ch, err);
	if (ret < 0) {
		pv_err_prefix(err, "registry %s", e->host);
		return ret;
	}
	if (ch.scheme == REG_AUTH_BASIC) {
		if (!as->cred)
			return -EACCES;
		as->basic = true;
		return 0;
	}
	if (as->token)
		explicit_bzero(as->token, strlen(as->token));
	free(as->token);
	as->token = NULL;
	return fetch_token(c, e, &ch, as->scope, as->cred, &as->token, err);
}

/* One endpoint, with auth and retries. */
static int get_from(struct reg_conn *c, const struct reg_endpoint *e, const char *url,
		    const char *accept, const struct reg_sink *sink,
		    struct reg_resp *resp, struct pv_err *err)
{
	const char *cred_reg = e->mirror < 0 ? c->ref->registry : e->host;
	struct auth_state as = { 0 };
	char errbuf[CURL_ERROR_SIZE], what[256];
	bool plain = !strncmp(e->base, "http://", 7);
	struct xfer x;
	CURLcode rc;
	int attempt = 0, ret = 0;

	as.cred = registry_creds_find(c->extra, cred_reg, c->ref->repo);
	if (!as.cred)
		as.cred = registry_creds_find(&c->r->creds, cred_reg, c->ref->repo);
	snprintf(as.scope, sizeof(as.scope), "repository:%s:pull", c->ref->repo);
	reg_token_get(c->r, e->host, as.scope, &as.token);
	for (;;) {
		memset(&x, 0, sizeof(x));
		memset(resp, 0, sizeof(*resp));
		resp->content_length = -1;
		x.sink = sink;
		x.resp = resp;
		attempt++;
		rc = perform_once(c, url, plain, accept, &as, &x, errbuf, err);
		if (rc == CURLE_OUT_OF_MEMORY && err && err->errnum == ENOMEM) {
			ret = -ENOMEM;
			break;
		}
		if (rc != CURLE_OK && x.sink_ret < 0) {
			ret = pv_err_set(err, x.sink_err.errnum, "%s", x.sink_err.msg);
			break;
		}
		if (rc != CURLE_OK && !(retryable(rc) && attempt < c->r->max_attempts)) {
			ret = map_curl_error(rc, e->host, errbuf, err);
			break;
		}
		if (rc == CURLE_OK && resp->status / 100 == 2) {
			ret = 0;
			break;
		}
		if (sink->reset)
			sink->reset(sink->opaque);
		if (rc != CURLE_OK) {   /* dropped or stalled: again */
			backoff(attempt);
			continue;
		}
		if (resp->status == 401 && !as.tried) {
			attempt--;   /* the challenge round is not a failure */
			ret = answer_challenge(c, e, &as, x.www_auth, err);
			if (ret == 0)
				continue;
			if (ret != -EACCES)
				break;
		}
		if (resp->status == 401 || resp->status == 403) {
			ret = pv_err_set(err, EACCES, "unauthorized: %s refused %s to %s", e->host,
					 as.cred ? "the credentials for" : "anonymous access",
					 c->ref->repo);
			break;
		}
		if ((resp->status == 429 || resp->status / 100 == 5) &&
		    attempt < c->r->max_attempts) {
			backoff(attempt);
			continue;
		}
		reg_errbody(x.errbody, x.errlen, what, sizeof(what));
		if (resp->status == 404)
			ret = pv_err_set(err, ENOENT, "not found on %s%s%s", e->host,
					 what[0] ? ": " : "", what);
		else
			ret = pv_err_set(err, EIO, "%s answered HTTP %ld%s%s", e->host, resp->status,
					 what[0] ? ": " : "", what);
		break;
	}
	if (as.token)
		explicit_bzero(as.token, strlen(as.token));
	free(as.token);
	return ret;
}

int reg_get(struct reg_conn *c, const char *kind, const char *what,
	    const char *accept, const struct reg_sink *sink, struct reg_resp *resp,
	    struct pv_err *err)
{
	struct reg_endpoint eps[REG_MAX_ENDPOINTS];
	char url[2048];
	size_t n, i;
	int ret = -EIO;

	if (!c->curl && !(c->curl = curl_easy_init()))
		return pv_err_set(err, ENOMEM, "out of memory (curl)");
	n = reg_endpoints(c->r, c->ref->registry, eps, REG_MAX_ENDPOINTS);
	for (i = 0; i < n; i++) {
		const struct reg_endpoint *e = &eps[i];

		if (e->mirror >= 0 && e->mirror < 32 && (c->dead_mirrors & (1 << e->mirror)))
			continue;
		if (util_fmt(url, sizeof(url), "%s/v2/%s/%s/%s", e->base, c->ref->repo, kind,
			     what) < 0)
			return pv_err_set(err, ENAMETOOLONG, "URL too long");
		ret = get_from(c, e, url, accept, sink, resp, err);
		if (ret == 0 || e->mirror < 0)
			return ret;
		/* A mirror that fails is skipped; the registry itself decides. */
		if ((ret == -ECONNREFUSED || ret == -EHOSTUNREACH) && e->mirror < 32)
			c->dead_mirrors |= 1 << e->mirror;
		if (sink->reset)
			sink->reset(sink->opaque);
	}
	return ret;
}
