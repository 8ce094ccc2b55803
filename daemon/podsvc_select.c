/* Label and field selectors (Kubernetes' equality-based grammar).
 *
 *   labelSelector  a=b  a==b  a!=b  a  !a     (comma = AND)
 *   fieldSelector  KEY=V  KEY==V  KEY!=V      for the fields below
 *
 * Set-based label requirements (in, notin) and other fields are refused
 * with 400 naming what is not supported, rather than silently ignored: a
 * watcher that filters on something we ignore would get wrong events. */
#include "daemon/podsvc_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* Field selectors a pod supports here, with their JSON paths. */
static const struct {
	const char *key, *a, *b;
} podsvc_fields[] = {
	{ "metadata.name", "metadata", "name" },
	{ "metadata.namespace", "metadata", "namespace" },
	{ "status.phase", "status", "phase" },
	{ "status.podIP", "status", "podIP" },
	{ "spec.nodeName", "spec", "nodeName" },
	{ "spec.restartPolicy", "spec", "restartPolicy" },
};

#define PODSVC_NFIELDS (sizeof(podsvc_fields) / sizeof(podsvc_fields[0]))

static void sel_trim(char **s)
{
	char *p = *s, *e;

	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	*s = p;
}

static bool sel_key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > 317)   /* prefix (253) + '/' + name (63) */
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || strchr("._/-", *k)))
			return false;
	return true;
}

static bool sel_value_ok(const char *v)
{
	if (strlen(v) > 63)
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || strchr("._-", *v)))
			return false;
	return true;
}

static int sel_add(struct podsvc_sel *sel, bool is_field,
		   enum podsvc_sel_op op, const char *key, const char *value)
{
	struct podsvc_req *n = realloc(sel->reqs, (sel->n + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	sel->reqs = n;
	n[sel->n] = (struct podsvc_req){ .is_field = is_field, .op = op };
	n[sel->n].key = strdup(key);
	n[sel->n].value = strdup(value ? value : "");
	sel->n++;
	if (!n[sel->n - 1].key || !n[sel->n - 1].value)
		return -ENOMEM;
	return 0;
}

/* One term "k=v" / "k==v" / "k!=v" (and "k" / "!k" for labels). */
static int sel_term(struct podsvc_sel *sel, bool is_field, char *t,
		    struct podsvc_status *st)
{
	const char *what = is_field ? "field" : "label";
	enum podsvc_sel_op op;
	char *eq, *key = t, *value = NULL;
	size_t i;

	sel_trim(&t);
	key = t;
	if (!*t) {
		podsvc_st_set(st, 400, "BadRequest", NULL, "invalid %s selector: "
			      "empty requirement", what);
		return -1;
	}
	if (!is_field && (strchr(t, '(') || strstr(t, " in ") ||
			  strstr(t, " notin "))) {
		podsvc_st_set(st, 400, "BadRequest", NULL, "unsupported label "
			      "selector \"%s\": only equality-based "
			      "requirements (=, ==, !=, key, !key) are "
			      "supported", t);
		return -1;
	}
	if ((eq = strstr(t, "!=")) != NULL) {
		op = PODSVC_SEL_NE;
		*eq = '\0';
		value = eq + 2;
	} else if ((eq = strchr(t, '=')) != NULL) {
		op = PODSVC_SEL_EQ;
		*eq = '\0';
		value = eq + 1 + (eq[1] == '=');
	} else if (is_field) {
		podsvc_st_set(st, 400, "BadRequest", NULL, "invalid field "
			      "selector \"%s\": expected KEY=VALUE or "
			      "KEY!=VALUE", t);
		return -1;
	} else if (*t == '!') {
		op = PODSVC_SEL_NOT_EXISTS;
		key = t + 1;
	} else {
		op = PODSVC_SEL_EXISTS;
	}
	sel_trim(&key);
	if (value)
		sel_trim(&value);
	if (is_field) {
		for (i = 0; i < PODSVC_NFIELDS; i++)
			if (!strcmp(key, podsvc_fields[i].key))
				break;
		if (i == PODSVC_NFIELDS) {
			podsvc_st_set(st, 400, "BadRequest", NULL,
				      "field label not supported: %s", key);
			return -1;
		}
	} else if (!sel_key_ok(key) || (value && (strchr(value, '=') ||
						  strchr(value, '!') ||
						  !sel_value_ok(value)))) {
		podsvc_st_set(st, 400, "BadRequest", NULL, "unable to parse "
			      "requirement: invalid label selector \"%s%s%s\"",
			      key, value ? " " : "", value ? value : "");
		return -1;
	}
	if (sel_add(sel, is_field, op, key, value) < 0) {
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
		return -1;
	}
	return 0;
}

static int sel_list(struct podsvc_sel *sel, bool is_field, const char *text,
		    struct podsvc_status *st)
{
	char *copy, *p, *comma;
	int ret = 0;

	if (!text || !*text)
		return 0;
	copy = strdup(text);
	if (!copy) {
		podsvc_st_set(st, 500, "InternalError", NULL, "out of memory");
		return -1;
	}
	for (p = copy; p; p = comma ? comma + 1 : NULL) {
		comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		ret = sel_term(sel, is_field, p, st);
		if (ret < 0)
			break;
	}
	free(copy);
	return ret;
}

int podsvc_sel_parse(const struct podsvc_selector *in, struct podsvc_sel *out,
		     struct podsvc_status *st)
{
	memset(out, 0, sizeof(*out));
	if (!in)
		return 0;
	if (in->namespace && *in->namespace) {
		out->namespace = strdup(in->namespace);
		if (!out->namespace) {
			podsvc_st_set(st, 500, "InternalError", NULL,
				      "out of memory");
			return -1;
		}
	}
	if (sel_list(out, false, in->label, st) < 0 ||
	    sel_list(out, true, in->field, st) < 0) {
		podsvc_sel_free(out);
		return -1;
	}
	return 0;
}

static const char *sel_field_value(struct json_object *pod, const char *key)
{
	for (size_t i = 0; i < PODSVC_NFIELDS; i++)
		if (!strcmp(key, podsvc_fields[i].key)) {
			const char *v = podsvc_json_str(pod, podsvc_fields[i].a,
							podsvc_fields[i].b);
			return v ? v : "";
		}
	return "";
}

bool podsvc_sel_match(const struct podsvc_sel *sel, struct json_object *pod)
{
	struct json_object *meta = NULL, *labels = NULL, *lv;
	const char *ns, *v;

	if (!pod)
		return false;
	if (sel->namespace) {
		ns = podsvc_json_str(pod, "metadata", "namespace");
		if (!ns || strcmp(ns, sel->namespace))
			return false;
	}
	if (json_object_object_get_ex(pod, "metadata", &meta))
		json_object_object_get_ex(meta, "labels", &labels);
	for (size_t i = 0; i < sel->n; i++) {
		const struct podsvc_req *r = &sel->reqs[i];
		bool has;

		if (r->is_field) {
			v = sel_field_value(pod, r->key);
			has = true;
		} else {
			has = labels &&
			      json_object_object_get_ex(labels, r->key, &lv);
			v = has ? json_object_get_string(lv) : NULL;
		}
		switch (r->op) {
		case PODSVC_SEL_EQ:
			if (!has || strcmp(v, r->value))
				return false;
			break;
		case PODSVC_SEL_NE:   /* a missing label matches != */
			if (has && !strcmp(v, r->value))
				return false;
			break;
		case PODSVC_SEL_EXISTS:
			if (!has)
				return false;
			break;
		case PODSVC_SEL_NOT_EXISTS:
			if (has)
				return false;
			break;
		}
	}
	return true;
}

void podsvc_sel_free(struct podsvc_sel *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		free(sel->reqs[i].key);
		free(sel->reqs[i].value);
	}
	free(sel->reqs);
	free(sel->namespace);
	memset(sel, 0, sizeof(*sel));
}
