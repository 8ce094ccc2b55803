/* Label selectors (-l): equality-based terms (k=v, k==v, k!=v) and
 * existence (k, !k), comma-separated; parsed and checked before any
 * request, and matched against a pod's labels on the client side. */
#include "cli/podview.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "pod/pod.h"

static bool cli_is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* A label name or value: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], <= 63. */
static bool cli_is_label_token(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !cli_is_alnum(s[0]) || !cli_is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!cli_is_alnum(s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

static bool cli_is_label_key(const char *s)
{
	const char *slash = strchr(s, '/');
	char prefix[254];
	size_t plen;

	if (!slash)
		return cli_is_label_token(s, strlen(s));
	plen = (size_t)(slash - s);
	if (plen == 0 || plen >= sizeof(prefix))
		return false;
	memcpy(prefix, s, plen);
	prefix[plen] = '\0';
	return pod_is_dns1123_subdomain(prefix) &&
	       cli_is_label_token(slash + 1, strlen(slash + 1));
}

/* Copy s[0..n) without surrounding blanks. */
static int cli_trim_copy(const char *s, size_t n, char *buf, size_t len)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

static int cli_sel_term_parse(const char *s, size_t n, struct cli_sel_term *t,
			      struct pv_err *err)
{
	char term[512], *op, *val;
	size_t oplen = 1;

	if (cli_trim_copy(s, n, term, sizeof(term)) < 0)
		return pv_err_set(err, EINVAL, "label selector term too long");
	if (!*term)
		return pv_err_set(err, EINVAL, "empty label selector term");
	if (strchr(term, '(') || strstr(term, " in ") || strstr(term, " notin "))
		return pv_err_set(err, EINVAL, "set-based label selectors "
				  "(in, notin) are not supported: \"%.100s\"", term);
	op = strpbrk(term, "=!");
	if (term[0] == '!') {
		t->op = CLI_SEL_NOT_EXISTS;
		op = term;
		val = NULL;
		if (cli_trim_copy(term + 1, strlen(term + 1), t->key,
				  sizeof(t->key)) < 0)
			goto bad_key;
	} else if (!op) {
		t->op = CLI_SEL_EXISTS;
		val = NULL;
		snprintf(t->key, sizeof(t->key), "%.*s", (int)(sizeof(t->key) - 1),
			 term);
		if (strlen(term) >= sizeof(t->key))
			goto bad_key;
	} else {
		if (op[0] == '!' && op[1] == '=') {
			t->op = CLI_SEL_NE;
			oplen = 2;
		} else if (op[0] == '=') {
			t->op = CLI_SEL_EQ;
			oplen = op[1] == '=' ? 2 : 1;
		} else {
			return pv_err_set(err, EINVAL, "invalid label selector "
					  "term \"%.100s\"", term);
		}
		val = op + oplen;
		if (cli_trim_copy(term, (size_t)(op - term), t->key,
				  sizeof(t->key)) < 0)
			goto bad_key;
	}
	if (!cli_is_label_key(t->key))
		goto bad_key;
	t->value[0] = '\0';
	if (val) {
		if (cli_trim_copy(val, strlen(val), t->value, sizeof(t->value)) < 0 ||
		    (*t->value && !cli_is_label_token(t->value, strlen(t->value))))
			return pv_err_set(err, EINVAL, "invalid label value in "
					  "selector term \"%.100s\"", term);
	}
	return 0;
bad_key:
	return pv_err_set(err, EINVAL, "invalid label key in selector term "
			  "\"%.100s\"", term);
}

int cli_selector_parse(const char *s, struct cli_selector *sel,
		       struct pv_err *err)
{
	const char *comma;
	size_t n;
	int r;

	sel->n = 0;
	if (!s || !*s)
		return 0;
	for (;;) {
		comma = strchr(s, ',');
		n = comma ? (size_t)(comma - s) : strlen(s);
		if (sel->n >= CLI_SEL_MAX_TERMS)
			return pv_err_set(err, EINVAL, "label selector has more "
					  "than %d terms", CLI_SEL_MAX_TERMS);
		r = cli_sel_term_parse(s, n, &sel->terms[sel->n], err);
		if (r < 0)
			return r;
		sel->n++;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

bool cli_selector_match(const struct cli_selector *sel,
			struct json_object *labels)
{
	for (size_t i = 0; i < sel->n; i++) {
		const struct cli_sel_term *t = &sel->terms[i];
		const char *v = NULL;
		struct json_object *jv = NULL;

		if (json_object_is_type(labels, json_type_object) &&
		    json_object_object_get_ex(labels, t->key, &jv) &&
		    json_object_is_type(jv, json_type_string))
			v = json_object_get_string(jv);
		switch (t->op) {
		case CLI_SEL_EQ:
			if (!v || strcmp(v, t->value))
				return false;
			break;
		case CLI_SEL_NE:   /* a missing label matches "!=" */
			if (v && !strcmp(v, t->value))
				return false;
			break;
		case CLI_SEL_EXISTS:
			if (!v)
				return false;
			break;
		case CLI_SEL_NOT_EXISTS:
			if (v)
				return false;
			break;
		}
	}
	return true;
}
