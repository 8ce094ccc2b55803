/* Image reference normalisation, after Docker's distribution/reference:
 *   busybox              -> docker.io/library/busybox:latest
 *   foo/bar:1            -> docker.io/foo/bar:1
 *   index.docker.io/x    -> docker.io/library/x:latest
 *   reg:5000/x@sha256:.. -> kept (a digest needs no tag)
 * The first path component is a registry when it contains '.' or ':', is
 * "localhost", or has an upper-case letter. */
#include "images/registry.h"
#include "images/store_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REF_NAME_MAX 255   /* Docker's NameTotalLengthMax */
#define REF_TAG_MAX  128

static int is_alnum_lower(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int valid_component(const char *s, size_t len)
{
	size_t i = 0, j;

	if (len == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[len - 1]))
		return 0;
	while (i < len) {
		if (is_alnum_lower(s[i])) {
			i++;
			continue;
		}
		j = i;
		while (j < len && !is_alnum_lower(s[j]))
			j++;
		/* separator run s[i..j) */
		if (!((j - i == 1 && (s[i] == '.' || s[i] == '_' || s[i] == '-')) ||
		      (j - i == 2 && s[i] == '_' && s[i + 1] == '_') ||
		      strspn(s + i, "-") >= j - i))
			return 0;
		i = j;
	}
	return 1;
}

/* host[:port], host = dot-separated [A-Za-z0-9-] labels or [IPv6]. */
static int valid_domain(const char *s, size_t len)
{
	size_t i = 0, hostend;

	if (len == 0)
		return 0;
	if (s[0] == '[') {
		while (i < len && s[i] != ']')
			i++;
		if (i >= len || i == 1)
			return 0;
		for (size_t k = 1; k < i; k++)
			if (!isxdigit((unsigned char)s[k]) && s[k] != ':')
				return 0;
		hostend = i + 1;
	} else {
		while (i < len && s[i] != ':') {
			char c = s[i];

			if (!(isalnum((unsigned char)c) || c == '-' || c == '.'))
				return 0;
			if ((c == '.' || c == '-') && (i == 0 || s[i - 1] == '.'))
				return 0;
			i++;
		}
		if (i == 0 || s[i - 1] == '.' || s[i - 1] == '-')
			return 0;
		hostend = i;
	}
	if (hostend == len)
		return 1;
	if (s[hostend] != ':' || hostend + 1 == len)
		return 0;
	for (i = hostend + 1; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static int valid_tag(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > REF_TAG_MAX || s[0] == '.' || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

/* The repository path: '/'-separated components, lowercase. */
static int ref_check_path(const char *ref, const char *path, struct pv_err *err)
{
	if (!*path)
		return pv_err_set(err, EINVAL, "invalid reference '%s': no repository",
				  ref);
	for (const char *p = path;;) {
		const char *end = strchr(p, '/');
		size_t clen = end ? (size_t)(end - p) : strlen(p);

		if (!valid_component(p, clen)) {
			for (size_t k = 0; k < clen; k++)
				if (isupper((unsigned char)p[k]))
					return pv_err_set(err, EINVAL,
							  "invalid reference '%s': repository name must be lowercase",
							  ref);
			return pv_err_set(err, EINVAL,
					  "invalid reference '%s': bad repository name", ref);
		}
		if (!end)
			return 0;
		p = end + 1;
	}
}

int image_ref_normalize(const char *ref, char *out, size_t outlen,
			struct pv_err *err)
{
	char buf[IMAGE_REF_MAX];
	const char *digest = NULL, *tag = NULL, *domain, *path, *slash;
	char *at, *colon, *lastslash;
	size_t domlen, n;
	int library = 0, ret;

	if (!ref || !*ref)
		return pv_err_set(err, EINVAL, "empty image reference");
	n = strlen(ref);
	if (n >= sizeof(buf))
		return pv_err_set(err, ENAMETOOLONG, "image reference too long");
	memcpy(buf, ref, n + 1);

	at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		digest = at + 1;
		if (!image_digest_valid(digest))
			return pv_err_set(err, EINVAL,
					  "invalid reference '%s': digest must be sha256:<64 hex>",
					  ref);
	}
	lastslash = strrchr(buf, '/');
	colon = strrchr(lastslash ? lastslash : buf, ':');
	if (colon) {
		*colon = '\0';
		tag = colon + 1;
		if (!valid_tag(tag))
			return pv_err_set(err, EINVAL, "invalid reference '%s': bad tag '%s'",
					  ref, tag);
	}

	slash = strchr(buf, '/');
	if (slash && (memchr(buf, '.', (size_t)(slash - buf)) ||
		      memchr(buf, ':', (size_t)(slash - buf)) ||
		      (slash - buf == 9 && strncmp(buf, "localhost", 9) == 0) ||
		      strcspn(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") < (size_t)(slash - buf))) {
		domain = buf;
		domlen = (size_t)(slash - buf);
		path = slash + 1;
		if (!valid_domain(domain, domlen))
			return pv_err_set(err, EINVAL,
					  "invalid reference '%s': bad registry '%.*s'",
					  ref, (int)domlen, domain);
	} else {
		domain = "docker.io";
		domlen = 9;
		path = buf;
	}
	if (domlen == 15 && strncmp(domain, "index.docker.io", 15) == 0) {
		domain = "docker.io";
		domlen = 9;
	}
	if (domlen == 9 && strncmp(domain, "docker.io", 9) == 0 && !strchr(path, '/'))
		library = 1;

	ret = ref_check_path(ref, path, err);
	if (ret < 0)
		return ret;
	if (domlen + 1 + (library ? 8 : 0) + strlen(path) > REF_NAME_MAX)
		return pv_err_set(err, EINVAL,
				  "invalid reference '%s': name longer than %d characters",
				  ref, REF_NAME_MAX);
	if (!tag && !digest)
		tag = "latest";
	n = (size_t)snprintf(out, outlen, "%.*s/%s%s%s%s%s%s", (int)domlen, domain,
			     library ? "library/" : "", path, tag ? ":" : "",
			     tag ? tag : "", digest ? "@" : "", digest ? digest : "");
	if (n >= outlen)
		return pv_err_set(err, ENAMETOOLONG, "image reference too long");
	return 0;
}

int image_ref_parse(const char *ref, struct image_ref *out, struct pv_err *err)
{
	char *slash, *at, *colon, *name;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = image_ref_normalize(ref, out->name, sizeof(out->name), err);
	if (ret < 0)
		return ret;
	name = out->name;
	slash = strchr(name, '/');   /* normalized: always "REGISTRY/REPO..." */
	if (!slash || (size_t)(slash - name) >= sizeof(out->registry))
		return pv_err_set(err, EINVAL, "invalid reference '%s'", ref);
	memcpy(out->registry, name, (size_t)(slash - name));
	at = strchr(slash, '@');
	if (at)
		snprintf(out->digest, sizeof(out->digest), "%s", at + 1);
	colon = strchr(strrchr(slash, '/'), ':');
	if (colon && (!at || colon < at))
		snprintf(out->tag, sizeof(out->tag), "%.*s",
			 (int)((at ? at : colon + strlen(colon)) - colon - 1), colon + 1);
	{
		const char *end = colon && (!at || colon < at) ? colon : at ? at
				  : slash + strlen(slash);
		size_t n = (size_t)(end - slash - 1);

		if (n >= sizeof(out->repo))
			return pv_err_set(err, ENAMETOOLONG, "invalid reference '%s': name too long",
					  ref);
		memcpy(out->repo, slash + 1, n);
		out->repo[n] = '\0';
	}
	return 0;
}

bool image_ref_defaults_to_always(const char *ref)
{
	struct image_ref r;

	if (image_ref_parse(ref, &r, NULL) < 0)
		return true;
	/* A digest pins the content: IfNotPresent. */
	if (r.digest[0])
		return false;
	/* The normalizer adds ":latest" when there was no tag. */
	return !strcmp(r.tag, "latest");
}
