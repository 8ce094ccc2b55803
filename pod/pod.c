/* Pod model: name rules, lookup and freeing. The JSON codecs are in
 * pod_decode.c and pod_encode.c. */
#include "pod/pod.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pod/pod_dec.h"
#include "pod/pod_priv.h"

static bool pod_is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool pod_is_alnum(char c)
{
	return pod_is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* One DNS-1123 label of length len starting at s (not NUL-terminated). */
static bool pod_label_span_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	if (!pod_is_lower_alnum(s[0]) || !pod_is_lower_alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!pod_is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

bool pod_is_dns1123_label(const char *s)
{
	return s && strlen(s) <= POD_LABEL_NAME_MAX &&
	       pod_label_span_ok(s, strlen(s));
}

bool pod_is_dns1123_subdomain(const char *s)
{
	size_t len;
	const char *p, *dot;

	if (!s)
		return false;
	len = strlen(s);
	if (len == 0 || len > POD_NAME_MAX)
		return false;
	/* apimachinery checks the whole name against label('.'label)* and
	 * only its total length: a part may be longer than 63. */
	for (p = s;; p = dot + 1) {
		dot = strchr(p, '.');
		if (!pod_label_span_ok(p, dot ? (size_t)(dot - p) : strlen(p)))
			return false;
		if (!dot)
			return true;
	}
}

bool pod_is_env_name(const char *s)
{
	if (!s || !*s)
		return false;
	if (*s >= '0' && *s <= '9')
		return false;
	for (; *s; s++)
		if (!pod_is_alnum(*s) && *s != '-' && *s != '.' && *s != '_')
			return false;
	return true;
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, length len. */
static bool pod_qualified_span_ok(const char *s, size_t len)
{
	if (len == 0)
		return false;
	if (!pod_is_alnum(s[0]) || !pod_is_alnum(s[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!pod_is_alnum(s[i]) && s[i] != '-' && s[i] != '_' &&
		    s[i] != '.')
			return false;
	return true;
}

bool pod_is_label_key(const char *s, const char **why)
{
	static const char bad_name[] = "name part must consist of alphanumeric "
		"characters, '-', '_' or '.', and must start and end with an "
		"alphanumeric character";
	const char *slash, *name;
	char prefix[POD_NAME_MAX + 1];
	size_t plen;

	*why = NULL;
	slash = strchr(s, '/');
	name = s;
	if (slash) {
		if (strchr(slash + 1, '/')) {
			*why = "a qualified name must consist of alphanumeric "
				"characters, '-', '_' or '.', and must start and "
				"end with an alphanumeric character, with an "
				"optional DNS subdomain prefix and '/' (e.g. "
				"'example.com/MyName')";
			return false;
		}
		plen = (size_t)(slash - s);
		if (plen == 0) {
			*why = "prefix part must be non-empty";
			return false;
		}
		if (plen > POD_NAME_MAX) {
			*why = "prefix part must be no more than 253 characters";
			return false;
		}
		memcpy(prefix, s, plen);
		prefix[plen] = '\0';
		if (!pod_is_dns1123_subdomain(prefix)) {
			*why = "prefix part " POD_MSG_SUBDOMAIN;
			return false;
		}
		name = slash + 1;
	}
	if (!*name) {
		*why = "name part must be non-empty";
		return false;
	}
	if (strlen(name) > POD_LABEL_NAME_MAX) {
		*why = "name part must be no more than 63 characters";
		return false;
	}
	if (!pod_qualified_span_ok(name, strlen(name))) {
		*why = bad_name;
		return false;
	}
	return true;
}

bool pod_is_label_value(const char *s)
{
	size_t len = strlen(s);

	if (len == 0)
		return true;
	return len <= POD_LABEL_NAME_MAX && pod_qualified_span_ok(s, len);
}

void pod_copy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (n == 0)
		return;
	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

bool pod_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

void pod_quote(char *buf, size_t n, const char *s)
{
	size_t o = 0, shown = 0;
	unsigned char c;

	if (n < 8) {
		if (n)
			buf[0] = '\0';
		return;
	}
	buf[o++] = '"';
	for (; *s; s++, shown++) {
		/* room for the widest escape, "...", quote and NUL */
		if (shown >= 64 || o + 4 + 4 + 1 >= n) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

const struct pod_container *pod_find_container(const struct pod *pod,
					       const char *name)
{
	if (!pod || !name)
		return NULL;
	for (size_t i = 0; i < pod->n_containers; i++)
		if (pod->containers[i].name &&
		    strcmp(pod->containers[i].name, name) == 0)
			return &pod->containers[i];
	return NULL;
}

static void pod_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void pod_kv_free(struct pod_kv *kv, size_t n)
{
	if (!kv)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void pod_probe_clear(struct pod_probe *p)
{
	pod_strv_free(p->exec_command, p->n_exec_command);
	free(p->http_path);
	free(p->http_host);
	pod_kv_free(p->http_headers, p->n_http_headers);
	free(p->port_name);
	memset(p, 0, sizeof(*p));
}

void pod_security_clear(struct pod_security *s)
{
	pod_strv_free(s->cap_add, s->n_cap_add);
	pod_strv_free(s->cap_drop, s->n_cap_drop);
	free(s->supplemental_groups);
	free(s->localhost_profile);
	memset(s, 0, sizeof(*s));
}

void pod_env_clear(struct pod_env *e)
{
	free(e->name);
	free(e->value);
	free(e->field_path);
	free(e->res_container);
	free(e->resource);
	memset(e, 0, sizeof(*e));
}

void pod_container_clear(struct pod_container *c)
{
	free(c->name);
	free(c->image);
	pod_strv_free(c->command, c->n_command);
	pod_strv_free(c->args, c->n_args);
	if (c->env) {
		for (size_t i = 0; i < c->n_env; i++)
			pod_env_clear(&c->env[i]);
		free(c->env);
	}
	free(c->working_dir);
	if (c->ports) {
		for (size_t i = 0; i < c->n_ports; i++) {
			free(c->ports[i].name);
			free(c->ports[i].protocol);
		}
		free(c->ports);
	}
	if (c->mounts) {
		for (size_t i = 0; i < c->n_mounts; i++) {
			free(c->mounts[i].name);
			free(c->mounts[i].mount_path);
			free(c->mounts[i].sub_path);
		}
		free(c->mounts);
	}
	pod_security_clear(&c->security);
	pod_probe_clear(&c->liveness);
	pod_probe_clear(&c->readiness);
	pod_probe_clear(&c->startup);
	pod_probe_clear(&c->post_start);
	pod_probe_clear(&c->pre_stop);
	free(c->term_msg_path);
	memset(c, 0, sizeof(*c));
}

static void pod_ctrs_free(struct pod_container *c, size_t n)
{
	if (!c)
		return;
	for (size_t i = 0; i < n; i++)
		pod_container_clear(&c[i]);
	free(c);
}

void pod_free(struct pod *pod)
{
	if (!pod)
		return;
	free(pod->name);
	free(pod->namespace);
	free(pod->uid);
	pod_kv_free(pod->labels, pod->n_labels);
	pod_kv_free(pod->annotations, pod->n_annotations);
	pod_ctrs_free(pod->containers, pod->n_containers);
	pod_ctrs_free(pod->init_containers, pod->n_init_containers);
	if (pod->volumes) {
		for (size_t i = 0; i < pod->n_volumes; i++)
			free(pod->volumes[i].name);
		free(pod->volumes);
	}
	pod_security_clear(&pod->security);
	free(pod->hostname);
	free(pod->node_name);
	free(pod->service_account);
	for (size_t i = 0; i < pod->n_pull_secrets; i++)
		free(pod->pull_secrets[i]);
	free(pod->pull_secrets);
	free(pod);
}

int pod_set_annotation(struct pod *pod, const char *key, const char *value)
{
	struct pod_kv *kv;
	char *v;

	for (size_t i = 0; i < pod->n_annotations; i++) {
		if (!strcmp(pod->annotations[i].key, key)) {
			v = strdup(value);
			if (!v)
				return -ENOMEM;
			free(pod->annotations[i].value);
			pod->annotations[i].value = v;
			return 0;
		}
	}
	if (pod->n_annotations >= POD_MAX_KV)
		return -E2BIG;
	kv = realloc(pod->annotations, (pod->n_annotations + 1) * sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	pod->annotations = kv;
	kv[pod->n_annotations].key = strdup(key);
	kv[pod->n_annotations].value = strdup(value);
	if (!kv[pod->n_annotations].key || !kv[pod->n_annotations].value) {
		free(kv[pod->n_annotations].key);
		free(kv[pod->n_annotations].value);
		return -ENOMEM;
	}
	pod->n_annotations++;
	return 0;
}
