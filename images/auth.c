/* Registry credentials (Docker config.json / Podman auth.json, and the
 * payload of kubernetes.io/dockerconfigjson Secrets) and the
 * WWW-Authenticate challenge parser (RFC 7235 as registries use it). */
#include "images/registry.h"
#include "images/store_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "util/util.h"

#define CREDS_MAX      1024       /* entries in one file */
#define CRED_FIELD_MAX 4096       /* user, password */
#define AUTH_FILE_MAX  (1u << 20)

/* "https://index.docker.io/v1/" -> "docker.io"; "http://h:5000/x/" -> "h:5000/x" */
static int cred_key(const char *raw, char *key, size_t len)
{
	const char *p = raw;
	size_t n;

	if (!strncmp(p, "https://", 8))
		p += 8;
	else if (!strncmp(p, "http://", 7))
		p += 7;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n == 0 || n >= len)
		return -EINVAL;
	memcpy(key, p, n);
	key[n] = '\0';
	/* "host/v1", "host/v2": Docker's API-version suffix, not a repo. */
	if (n > 3 && (!strcmp(key + n - 3, "/v1") || !strcmp(key + n - 3, "/v2")))
		key[n - 3] = '\0';
	/* Docker Hub's historical names all mean docker.io. */
	if (!strcmp(key, "index.docker.io/v1") || !strcmp(key, "index.docker.io") ||
	    !strcmp(key, "registry-1.docker.io"))
		snprintf(key, len, "docker.io");
	return 0;
}

static int cred_str(struct json_object *o, const char *k, char **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) == 0)
		return 0;
	if (json_object_get_string_len(v) > CRED_FIELD_MAX)
		return -E2BIG;
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
}

static int cred_one(struct registry_cred *c, const char *host, struct json_object *e,
		    const char *what, struct pv_err *err)
{
	char buf[2 * CRED_FIELD_MAX + 2], *colon;
	struct json_object *v;
	size_t n;
	int ret;

	memset(c, 0, sizeof(*c));
	if (cred_key(host, c->key, sizeof(c->key)) < 0)
		return pv_err_set(err, EINVAL, "%s: auths: bad registry key", what);
	if (!json_object_is_type(e, json_type_object))
		return pv_err_set(err, EINVAL, "%s: auths[\"%s\"]: not an object", what, c->key);
	if (json_object_object_get_ex(e, "auth", &v) && json_object_is_type(v, json_type_string) &&
	    json_object_get_string_len(v) > 0) {
		if (json_object_get_string_len(v) > (int)(sizeof(buf) / 3 * 4) ||
		    util_b64_decode(json_object_get_string(v), buf, sizeof(buf), &n) < 0 ||
		    memchr(buf, '\0', n) || !(colon = strchr(buf, ':')))
			/* never echo the value: it is a credential */
			return pv_err_set(err, EINVAL,
					  "%s: auths[\"%s\"].auth: not base64 of user:password",
					  what, c->key);
		*colon = '\0';
		c->user = strdup(buf);
		c->pass = strdup(colon + 1);
		explicit_bzero(buf, sizeof(buf));
		if (!c->user || !c->pass)
			return pv_err_set(err, ENOMEM, "out of memory");
		return 0;
	}
	if ((ret = cred_str(e, "username", &c->user)) < 0 ||
	    (ret = cred_str(e, "password", &c->pass)) < 0)
		return pv_err_set(err, -ret, "%s: auths[\"%s\"]: bad username or password",
				  what, c->key);
	return 0;
}

static void cred_clear(struct registry_cred *c)
{
	if (c->pass)
		explicit_bzero(c->pass, strlen(c->pass));
	free(c->user);
	free(c->pass);
	c->user = c->pass = NULL;
}

int registry_creds_add_json(struct registry_creds *c, const char *text, size_t len,
			    const char *what, struct pv_err *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL, *auths;
	struct registry_cred *nv;
	size_t n;
	int ret = 0;

	if (len > AUTH_FILE_MAX)
		return pv_err_set(err, EFBIG, "%s: larger than %u bytes", what, AUTH_FILE_MAX);
	tok = json_tokener_new_ex(16);
	if (!tok)
		return pv_err_set(err, ENOMEM, "out of memory");
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(root, json_type_object)) {
		ret = pv_err_set(err, EINVAL, "%s: not a JSON object", what);
		goto out;
	}
	if (!json_object_object_get_ex(root, "auths", &auths))
		goto out;   /* credHelpers/credsStore only: nothing podvm can use */
	if (!json_object_is_type(auths, json_type_object)) {
		ret = pv_err_set(err, EINVAL, "%s: auths: not an object", what);
		goto out;
	}
	n = (size_t)json_object_object_length(auths);
	if (c->n + n > CREDS_MAX) {
		ret = pv_err_set(err, E2BIG, "%s: more than %d registries", what, CREDS_MAX);
		goto out;
	}
	nv = realloc(c->v, (c->n + n + 1) * sizeof(*nv));
	if (!nv) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	c->v = nv;
	json_object_object_foreach(auths, key, val) {
		ret = cred_one(&c->v[c->n], key, val, what, err);
		if (ret < 0) {
			cred_clear(&c->v[c->n]);
			goto out;
		}
		if (!c->v[c->n].user) {   /* identity tokens etc.: skip */
			cred_clear(&c->v[c->n]);
			continue;
		}
		c->n++;
	}
out:
	json_object_put(root);
	json_tokener_free(tok);
	return ret;
}

int registry_creds_load_file(struct registry_creds *c, const char *path,
			     struct pv_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	ret = image_read_file(path, AUTH_FILE_MAX, &text, &len, err);
	if (ret < 0) {
		pv_err_prefix(err, "registry auth file");
		return ret;
	}
	ret = registry_creds_add_json(c, text, len, path, err);
	explicit_bzero(text, len);
	free(text);
	return ret;
}

const struct registry_cred *registry_creds_find(const struct registry_creds *c,
						const char *registry,
						const char *repo)
{
	const struct registry_cred *best = NULL;
	char full[IMAGE_HOST_MAX + IMAGE_REPO_MAX + 2];
	size_t i, blen = 0;

	if (!c)
		return NULL;
	snprintf(full, sizeof(full), "%s/%s", registry, repo);
	for (i = 0; i < c->n; i++) {
		size_t k = strlen(c->v[i].key);

		/* a key matches whole path components only */
		if (strncmp(full, c->v[i].key, k) || (full[k] != '/' && full[k] != '\0'))
			continue;
		if (k > blen) {
			best = &c->v[i];
			blen = k;
		}
	}
	return best;
}

void registry_creds_free(struct registry_creds *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		cred_clear(&c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

/* --- WWW-Authenticate ------------------------------------------------------ */

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~/:", c));
}

/* token or quoted-string into buf; *pp advanced. */
static int chal_value(const char **pp, char *buf, size_t len)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (n + 1 >= len)
				return -E2BIG;
			buf[n++] = *p;
		}
		if (*p != '"')
			return -EINVAL;
		p++;
	} else {
		for (; is_tchar((unsigned char)*p) || *p == '='; p++) {
			if (n + 1 >= len)
				return -E2BIG;
			buf[n++] = *p;
		}
		if (n == 0)
			return -EINVAL;
	}
	buf[n] = '\0';
	*pp = p;
	return 0;
}

static int chal_set(char *dst, size_t len, const char *val)
{
	size_t n = strlen(val);

	if (n >= len)
		return -E2BIG;
	memcpy(dst, val, n + 1);
	return 0;
}

int registry_challenge_parse(const char *value, struct registry_challenge *out,
			     struct pv_err *err)
{
	struct registry_challenge cur, best;
	const char *p = value;
	char name[32], val[1024];
	size_t n;
	int ret;

	memset(&best, 0, sizeof(best));
	memset(&cur, 0, sizeof(cur));
	if (!value)
		return pv_err_set(err, EINVAL, "no WWW-Authenticate challenge");
	p = skip_ws(p);
	while (*p) {
		/* scheme or param name */
		for (n = 0; is_tchar((unsigned char)p[n]) && p[n] != '='; n++)
			;
		if (n == 0 || n >= sizeof(name))
			goto bad;
		memcpy(name, p, n);
		name[n] = '\0';
		p = skip_ws(p + n);
		if (*p == '=') {
			p = skip_ws(p + 1);
			ret = chal_value(&p, val, sizeof(val));
			if (ret < 0)
				goto bad;
			if ((!strcasecmp(name, "realm") &&
			     chal_set(cur.realm, sizeof(cur.realm), val) < 0) ||
			    (!strcasecmp(name, "service") &&
			     chal_set(cur.service, sizeof(cur.service), val) < 0) ||
			    (!strcasecmp(name, "scope") &&
			     chal_set(cur.scope, sizeof(cur.scope), val) < 0))
				goto bad;
			p = skip_ws(p);
			if (*p == ',')
				p = skip_ws(p + 1);
			else if (*p)
				goto bad;
			continue;
		}
		/* a new challenge begins: keep the better one so far */
		if (cur.scheme > best.scheme)
			best = cur;
		memset(&cur, 0, sizeof(cur));
		if (!strcasecmp(name, "Bearer"))
			cur.scheme = REG_AUTH_BEARER;
		else if (!strcasecmp(name, "Basic"))
			cur.scheme = REG_AUTH_BASIC;
		else
			cur.scheme = REG_AUTH_NONE;   /* unknown scheme: ignored */
		if (*p == ',')
			p = skip_ws(p + 1);
	}
	if (cur.scheme > best.scheme)
		best = cur;
	if (best.scheme == REG_AUTH_NONE)
		return pv_err_set(err, ENOTSUP, "registry asks for an unsupported authentication scheme");
	if (best.scheme == REG_AUTH_BEARER && !best.realm[0])
		return pv_err_set(err, EINVAL, "registry's Bearer challenge has no realm");
	*out = best;
	return 0;
bad:
	return pv_err_set(err, EINVAL, "malformed WWW-Authenticate header");
}
