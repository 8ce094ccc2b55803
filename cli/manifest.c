/* Kubernetes manifests for the CLI: JSON or YAML (detected by the first
 * non-blank character) into a json-c tree that pod_decode reads.
 *
 * YAML goes through libyaml's event parser with an explicit stack, so
 * nesting costs no C stack and is capped; aliases are refused (no
 * billion-laughs), and scalars are typed the way kubectl's YAML->JSON
 * conversion types them. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <yaml.h>

#include "util/json.h"

#define MANIFEST_MAX_BYTES (1024 * 1024)
#define MANIFEST_MAX_DEPTH 64

struct mf_frame {
	struct json_object *node;   /* object or array being filled */
	char *key;                  /* mapping: key waiting for its value */
};

struct mf_yaml {
	const char *name;
	struct mf_frame stack[MANIFEST_MAX_DEPTH];
	size_t depth;
	struct json_object *root;   /* the one non-null document */
	yaml_mark_t root_mark;      /* where the current document's node began */
	bool have_root;
	struct pv_err *err;
};

static int mf_at(struct mf_yaml *y, const yaml_mark_t *m, int errnum,
		 const char *msg)
{
	return pv_err_set(y->err, errnum, "%s:%zu:%zu: %s", y->name,
			  m->line + 1, m->column + 1, msg);
}

static bool mf_eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static bool mf_is_digits(const char *s, size_t len, size_t *i)
{
	size_t start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9')
		(*i)++;
	return *i > start;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool mf_is_float(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i < len && s[i] == '.') {
		i++;
		if (!mf_is_digits(s, len, &i))
			return false;
	} else {
		if (!mf_is_digits(s, len, &i))
			return false;
		if (i < len && s[i] == '.') {
			i++;
			mf_is_digits(s, len, &i);
		}
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		if (!mf_is_digits(s, len, &i))
			return false;
	}
	return i == len;
}

static bool mf_is_int(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	return mf_is_digits(s, len, &i) && i == len;
}

static bool mf_is_null(const char *s, size_t len)
{
	return len == 0 || mf_eq(s, len, "~") || mf_eq(s, len, "null") ||
	       mf_eq(s, len, "Null") || mf_eq(s, len, "NULL");
}

/* A plain scalar, typed like YAML 1.2's core schema (libyaml
 * NUL-terminates the text). *out stays NULL for a null. */
static int mf_plain(const char *s, size_t len, struct json_object **out)
{
	long long ll;
	double dbl;
	char *end;

	if (mf_is_null(s, len))
		return 0;
	if (mf_eq(s, len, "true") || mf_eq(s, len, "True") ||
	    mf_eq(s, len, "TRUE"))
		*out = json_object_new_boolean(1);
	else if (mf_eq(s, len, "false") || mf_eq(s, len, "False") ||
		 mf_eq(s, len, "FALSE"))
		*out = json_object_new_boolean(0);
	if (*out)
		return 0;
	if (mf_is_int(s, len)) {
		errno = 0;
		ll = strtoll(s, &end, 10);
		/* too big for int64: falls through to float, as kubectl */
		if (errno == 0 && end == s + len) {
			*out = json_object_new_int64(ll);
			return *out ? 0 : -ENOMEM;
		}
	}
	if (mf_is_float(s, len)) {
		errno = 0;
		dbl = strtod(s, &end);
		if (end == s + len && isfinite(dbl)) {
			*out = json_object_new_double(dbl);
			return *out ? 0 : -ENOMEM;
		}
	}
	*out = json_object_new_string_len(s, (int)len);
	return *out ? 0 : -ENOMEM;
}

#define MF_TAG(t) "tag:yaml.org,2002:" t

/* Returns 0 with *out set (NULL is a YAML null), or a negative errno. */
static int mf_scalar(struct mf_yaml *y, const yaml_event_t *ev,
		     struct json_object **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t len = ev->data.scalar.length;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

	*out = NULL;
	if (len > INT_MAX)
		return mf_at(y, &ev->start_mark, EINVAL, "scalar too long");
	if (tag) {
		/* "!" and !!str force a string; the core-schema tags just
		 * ask for the usual resolution; anything else is refused. */
		if (strcmp(tag, "!") == 0 || strcmp(tag, MF_TAG("str")) == 0)
			plain = false;
		else if (strcmp(tag, MF_TAG("null")) == 0 ||
			 strcmp(tag, MF_TAG("bool")) == 0 ||
			 strcmp(tag, MF_TAG("int")) == 0 ||
			 strcmp(tag, MF_TAG("float")) == 0)
			plain = true;
		else
			return mf_at(y, &ev->start_mark, EINVAL,
				     "unsupported YAML tag");
	}
	if (plain) {
		if (mf_plain(s, len, out) < 0)
			return pv_err_set(y->err, ENOMEM, "out of memory");
		return 0;
	}
	*out = json_object_new_string_len(s, (int)len);
	if (!*out)
		return pv_err_set(y->err, ENOMEM, "out of memory");
	return 0;
}

/* A finished value (scalar or closed collection) goes to its parent, or
 * becomes the document root. Takes ownership of val. */
static int mf_attach(struct mf_yaml *y, struct json_object *val)
{
	struct mf_frame *top;
	int r;

	if (y->depth == 0) {
		/* Empty documents (a stray "---") are skipped, as kubectl does. */
		if (!val)
			return 0;
		if (y->have_root) {
			json_object_put(val);
			return mf_at(y, &y->root_mark, EINVAL, "multiple YAML "
				     "documents; podvm runs one Pod");
		}
		y->root = val;
		y->have_root = true;
		return 0;
	}
	top = &y->stack[y->depth - 1];
	if (json_object_is_type(top->node, json_type_array)) {
		r = json_object_array_add(top->node, val);
	} else {
		r = json_object_object_add(top->node, top->key, val);
		free(top->key);
		top->key = NULL;
	}
	if (r != 0) {
		json_object_put(val);
		return pv_err_set(y->err, ENOMEM, "out of memory");
	}
	return 0;
}

/* In a mapping with no pending key, a scalar is the next key. */
static bool mf_wants_key(struct mf_yaml *y)
{
	struct mf_frame *top;

	if (y->depth == 0)
		return false;
	top = &y->stack[y->depth - 1];
	return json_object_is_type(top->node, json_type_object) && !top->key;
}

static int mf_key(struct mf_yaml *y, const yaml_event_t *ev)
{
	struct mf_frame *top = &y->stack[y->depth - 1];
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	char msg[160];

	if (strlen(s) != len)
		return mf_at(y, &ev->start_mark, EINVAL,
			     "mapping key contains a NUL byte");
	if (json_object_object_get_ex(top->node, s, NULL)) {
		snprintf(msg, sizeof(msg), "duplicate key \"%.100s\"", s);
		return mf_at(y, &ev->start_mark, EINVAL, msg);
	}
	top->key = strdup(s);
	if (!top->key)
		return pv_err_set(y->err, ENOMEM, "out of memory");
	return 0;
}

static int mf_push(struct mf_yaml *y, const yaml_event_t *ev, bool map)
{
	struct json_object *node;

	if (mf_wants_key(y))
		return mf_at(y, &ev->start_mark, EINVAL,
			     "mapping keys must be scalars");
	if (y->depth >= MANIFEST_MAX_DEPTH)
		return mf_at(y, &ev->start_mark, EINVAL, "nesting too deep");
	node = map ? json_object_new_object() : json_object_new_array();
	if (!node)
		return pv_err_set(y->err, ENOMEM, "out of memory");
	y->stack[y->depth].node = node;
	y->stack[y->depth].key = NULL;
	y->depth++;
	return 0;
}

static int mf_event(struct mf_yaml *y, const yaml_event_t *ev)
{
	struct json_object *val;
	int r;

	if (y->depth == 0)
		y->root_mark = ev->start_mark;
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return mf_at(y, &ev->start_mark, EINVAL,
			     "YAML aliases are not supported");
	case YAML_MAPPING_START_EVENT:
		return mf_push(y, ev, true);
	case YAML_SEQUENCE_START_EVENT:
		return mf_push(y, ev, false);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		y->depth--;
		free(y->stack[y->depth].key);
		y->stack[y->depth].key = NULL;
		return mf_attach(y, y->stack[y->depth].node);
	case YAML_SCALAR_EVENT:
		if (mf_wants_key(y))
			return mf_key(y, ev);
		r = mf_scalar(y, ev, &val);
		if (r < 0)
			return r;
		return mf_attach(y, val);
	default:
		return 0;
	}
}

static int mf_parse_yaml(const char *text, size_t len, const char *name,
			 struct json_object **out, struct pv_err *err)
{
	struct mf_yaml y = { .name = name, .err = err };
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;
	int ret = 0;

	if (!yaml_parser_initialize(&parser))
		return pv_err_set(err, ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			ret = pv_err_set(err, EINVAL, "%s:%zu:%zu: %s", name,
					 parser.problem_mark.line + 1,
					 parser.problem_mark.column + 1,
					 parser.problem ? parser.problem :
					 "YAML syntax error");
			goto out;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		ret = mf_event(&y, &ev);
		yaml_event_delete(&ev);
		if (ret < 0)
			goto out;
	}
	if (!y.have_root) {
		ret = pv_err_set(err, EINVAL, "%s: no document in manifest", name);
		goto out;
	}
	*out = y.root;
	y.root = NULL;
	ret = 0;
out:
	/* On error, unwind the open collections: each owns its children. */
	while (y.depth > 0) {
		y.depth--;
		free(y.stack[y.depth].key);
		json_object_put(y.stack[y.depth].node);
	}
	json_object_put(y.root);
	yaml_parser_delete(&parser);
	return ret;
}

static void mf_line_col(const char *text, size_t off, size_t *line,
			size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* JSON starting at text[start]; line/column count from text[0]. */
static int mf_parse_json(const char *text, size_t len, size_t start,
			 const char *name, struct json_object **out,
			 struct pv_err *err)
{
	struct util_json_parse jp = {
		.depth = MANIFEST_MAX_DEPTH,
		.tok_flags = JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS,
	};
	enum util_json_status st;
	size_t end, line, col;

	st = util_json_parse(&jp, text + start, len - start, out);
	end = start + jp.end;
	switch (st) {
	case UTIL_JSON_OK:
		return 0;
	case UTIL_JSON_NOMEM:
		return pv_err_set(err, ENOMEM, "out of memory");
	case UTIL_JSON_TRUNCATED:
		mf_line_col(text, len, &line, &col);
		return pv_err_set(err, EINVAL, "%s:%zu:%zu: invalid JSON: "
				  "unexpected end of input", name, line, col);
	case UTIL_JSON_TRAILING:
		mf_line_col(text, end, &line, &col);
		return pv_err_set(err, EINVAL, "%s:%zu:%zu: invalid JSON: "
				  "trailing data", name, line, col);
	default:
		mf_line_col(text, end < len ? end : len, &line, &col);
		return pv_err_set(err, EINVAL, "%s:%zu:%zu: invalid JSON: %s",
				  name, line, col, jp.detail);
	}
}

int manifest_parse(const char *text, size_t len, const char *name,
		   struct json_object **out, struct pv_err *err)
{
	size_t i = 0;

	*out = NULL;
	if (!name)
		name = "<manifest>";
	if (len > MANIFEST_MAX_BYTES)
		return pv_err_set(err, EFBIG, "%s: manifest larger than 1 MiB",
				  name);
	/* A UTF-8 byte order mark is not JSON; libyaml copes with it. */
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
			   text[i] == '\r' || text[i] == '\n'))
		i++;
	if (i < len && text[i] == '{')
		return mf_parse_json(text, len, i, name, out, err);
	return mf_parse_yaml(text, len, name, out, err);
}

int manifest_load(const char *path, struct json_object **out,
		  struct pv_err *err)
{
	const char *name = path;
	char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	struct stat st;
	int fd = -1, ret;

	*out = NULL;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
		name = "<stdin>";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = pv_err_sys(err, errno, "%s", path);
			goto out;
		}
	}
	if (fstat(fd, &st) < 0) {
		ret = pv_err_sys(err, errno, "%s", name);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		ret = pv_err_sys(err, EISDIR, "%s", name);
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size > MANIFEST_MAX_BYTES) {
		ret = pv_err_set(err, EFBIG, "%s: manifest larger than 1 MiB",
				 name);
		goto out;
	}
	/* One byte more than the cap tells a pipe that is too long apart. */
	buf = malloc(MANIFEST_MAX_BYTES + 1);
	if (!buf) {
		ret = pv_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	while (n < MANIFEST_MAX_BYTES + 1) {
		r = read(fd, buf + n, MANIFEST_MAX_BYTES + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = pv_err_sys(err, errno, "%s", name);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > MANIFEST_MAX_BYTES) {
		ret = pv_err_set(err, EFBIG, "%s: manifest larger than 1 MiB",
				 name);
		goto out;
	}
	ret = manifest_parse(buf, n, name, out, err);
out:
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	return ret;
}
