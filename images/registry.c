/* Registry configuration: credentials, plain-HTTP hosts, mirrors, and the
 * Bearer token cache that concurrent pulls share (images/registry.h). */
#include "images/registry.h"
#include "images/registry_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int add_mirror(struct registry *r, const char *spec, struct pv_err *err)
{
	struct reg_mirror *m = &r->mirrors[r->n_mirrors];
	const char *eq = strchr(spec, '='), *url = eq ? eq + 1 : spec;
	size_t n;

	/* "URL" alone mirrors Docker Hub, as dockerd's --registry-mirror. */
	if (eq) {
		if ((size_t)(eq - spec) >= sizeof(m->registry) || eq == spec)
			return pv_err_set(err, EINVAL, "--registry-mirror '%s': bad registry", spec);
		memcpy(m->registry, spec, (size_t)(eq - spec));
		m->registry[eq - spec] = '\0';
	} else {
		snprintf(m->registry, sizeof(m->registry), "docker.io");
	}
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return pv_err_set(err, EINVAL,
				  "--registry-mirror '%s': want http://HOST[:PORT] or https://...", spec);
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (n >= sizeof(m->url) || strpbrk(url, " \t\r\n?#"))
		return pv_err_set(err, EINVAL, "--registry-mirror '%s': bad URL", spec);
	memcpy(m->url, url, n);
	m->url[n] = '\0';
	r->n_mirrors++;
	return 0;
}

int registry_open(const struct registry_config *cfg, struct registry **out,
		  struct pv_err *err)
{
	struct registry *r;
	const char *auth = cfg->auth_file;
	int ret = 0;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return pv_err_set(err, EIO, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	if (cfg->n_mirrors > REG_MAX_MIRRORS || cfg->n_insecure > REG_MAX_INSECURE)
		return pv_err_set(err, E2BIG, "too many registry mirrors or insecure registries");
	r = calloc(1, sizeof(*r));
	if (!r)
		return pv_err_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&r->lock, NULL);
	r->stall_seconds = cfg->stall_seconds > 0 ? cfg->stall_seconds : 60;
	r->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 4;
	for (size_t i = 0; i < cfg->n_insecure; i++) {
		const char *h = cfg->insecure[i];

		if (!h[0] || strlen(h) >= IMAGE_HOST_MAX || strpbrk(h, "/ \t@")) {
			ret = pv_err_set(err, EINVAL, "--insecure-registry '%s': want HOST[:PORT]", h);
			goto fail;
		}
		snprintf(r->insecure[r->n_insecure++], IMAGE_HOST_MAX, "%s", h);
	}
	for (size_t i = 0; i < cfg->n_mirrors; i++) {
		ret = add_mirror(r, cfg->mirrors[i], err);
		if (ret < 0)
			goto fail;
	}
	if (!auth || !*auth)
		auth = getenv("REGISTRY_AUTH_FILE");
	if (auth && *auth) {
		ret = registry_creds_load_file(&r->creds, auth, err);
		if (ret < 0)
			goto fail;
	}
	*out = r;
	return 0;
fail:
	registry_close(r);
	return ret;
}

void registry_close(struct registry *r)
{
	struct reg_token *t;

	if (!r)
		return;
	while ((t = r->tokens)) {
		r->tokens = t->next;
		explicit_bzero(t->token, strlen(t->token));
		free(t->token);
		free(t);
	}
	registry_creds_free(&r->creds);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* host part of "host[:port]" or "[v6]:port" */
static void host_only(const char *hostport, char *out, size_t len)
{
	const char *end;

	if (hostport[0] == '[') {
		end = strchr(hostport, ']');
		snprintf(out, len, "%.*s", end ? (int)(end - hostport - 1) : 0, hostport + 1);
		return;
	}
	end = strrchr(hostport, ':');
	snprintf(out, len, "%.*s", end ? (int)(end - hostport) : (int)strlen(hostport),
		 hostport);
}

bool registry_plain_http(const struct registry *r, const char *hostport)
{
	char host[IMAGE_HOST_MAX];
	struct in_addr a4;
	struct in6_addr a6;

	host_only(hostport, host, sizeof(host));
	/* Loopback needs no flag, as in Docker. */
	if (!strcmp(host, "localhost"))
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127)
		return true;
	if (inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6))
		return true;
	for (size_t i = 0; r && i < r->n_insecure; i++)
		if (!strcmp(r->insecure[i], hostport) || !strcmp(r->insecure[i], host))
			return true;
	return false;
}

/* The endpoints to try for a registry: its mirrors, then itself. */
size_t reg_endpoints(const struct registry *r, const char *registry,
		     struct reg_endpoint *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_mirrors && n + 1 < max; i++) {
		if (strcmp(r->mirrors[i].registry, registry))
			continue;
		snprintf(out[n].base, sizeof(out[n].base), "%s", r->mirrors[i].url);
		{
			const char *h = strstr(out[n].base, "://") + 3;
			size_t k = strcspn(h, "/");

			snprintf(out[n].host, sizeof(out[n].host), "%.*s", (int)k, h);
		}
		out[n].mirror = (int)i;
		n++;
	}
	/* Docker Hub's API lives on another name than its references. */
	snprintf(out[n].host, sizeof(out[n].host), "%s",
		 strcmp(registry, "docker.io") ? registry : "registry-1.docker.io");
	snprintf(out[n].base, sizeof(out[n].base), "%s://%s",
		 registry_plain_http(r, out[n].host) ? "http" : "https", out[n].host);
	out[n].mirror = -1;
	return n + 1;
}

/* Token cache: keyed by endpoint host and scope; expired tokens are
 * fetched anew. The caller frees *out. */
int reg_token_get(struct registry *r, const char *host, const char *scope, char **out)
{
	int64_t now = util_mono_ms();
	struct reg_token *t;
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	for (t = r->tokens; t; t = t->next) {
		if (strcmp(t->host, host) || strcmp(t->scope, scope) || t->expires_ms <= now)
			continue;
		*out = strdup(t->token);
		ret = *out ? 0 : -ENOMEM;
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void reg_token_put(struct registry *r, const char *host, const char *scope,
		   const char *token, int64_t ttl_s)
{
	struct reg_token *t, **pp;
	size_t n = 0;

	/* Tokens from a hostile realm stay bounded: at most 64 kept. */
	pthread_mutex_lock(&r->lock);
	for (pp = &r->tokens; *pp;) {
		t = *pp;
		if ((!strcmp(t->host, host) && !strcmp(t->scope, scope)) || ++n >= 64) {
			*pp = t->next;
			explicit_bzero(t->token, strlen(t->token));
			free(t->token);
			free(t);
			continue;
		}
		pp = &t->next;
	}
	t = calloc(1, sizeof(*t));
	if (t && (t->token = strdup(token))) {
		snprintf(t->host, sizeof(t->host), "%s", host);
		snprintf(t->scope, sizeof(t->scope), "%s", scope);
		/* Renew a little early; 60 s is the spec's default lifetime. */
		if (ttl_s <= 0)
			ttl_s = 60;
		t->expires_ms = util_mono_ms() + (ttl_s > 30 ? ttl_s - 10 : ttl_s) * 1000;
		t->next = r->tokens;
		r->tokens = t;
	} else {
		free(t);
	}
	pthread_mutex_unlock(&r->lock);
}
