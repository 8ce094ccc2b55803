/* Output layouts of the podvm CLI: kubectl-style tables (get), Go's
 * text/tabwriter column blocks (describe), and YAML (-o yaml). */
#include "cli/podview.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <yaml.h>

#define CLI_TABLE_PAD      3   /* kubectl: tabwriter padding 3, minwidth 6 */
#define CLI_TABLE_MINWIDTH 6
#define CLI_TABW_PAD       2   /* kubectl describe: padding 2 */

/* --- tables --- */

int cli_table_init(struct cli_table *t, size_t n_cols)
{
	memset(t, 0, sizeof(*t));
	if (n_cols == 0 || n_cols > CLI_TABLE_MAX_COLS)
		return -EINVAL;
	t->n_cols = n_cols;
	return 0;
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
	char buf[CLI_CELL_MAX];
	size_t base, w;

	if (t->n_rows == t->cap_rows) {
		size_t ncap = t->cap_rows ? t->cap_rows * 2 : 16;
		char **nc;

		if (ncap > SIZE_MAX / sizeof(char *) / t->n_cols)
			return -ENOMEM;
		nc = realloc(t->cells, ncap * t->n_cols * sizeof(char *));
		if (!nc)
			return -ENOMEM;
		t->cells = nc;
		t->cap_rows = ncap;
	}
	base = t->n_rows * t->n_cols;
	for (size_t i = 0; i < t->n_cols; i++) {
		cli_sanitize(cells[i], buf, sizeof(buf));
		t->cells[base + i] = strdup(buf);
		if (!t->cells[base + i]) {
			while (i-- > 0)
				free(t->cells[base + i]);
			return -ENOMEM;
		}
		w = cli_text_width(buf) + CLI_TABLE_PAD;
		if (w < CLI_TABLE_MINWIDTH)
			w = CLI_TABLE_MINWIDTH;
		if (w > t->widths[i])
			t->widths[i] = w;
	}
	t->n_rows++;
	return 0;
}

static void cli_table_drop_rows(struct cli_table *t)
{
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	t->n_rows = 0;
}

int cli_table_flush(struct cli_table *t, FILE *fp)
{
	for (size_t r = 0; r < t->n_rows; r++) {
		for (size_t c = 0; c < t->n_cols; c++) {
			const char *cell = t->cells[r * t->n_cols + c];

			fputs(cell, fp);
			if (c + 1 == t->n_cols)
				break;
			for (size_t w = cli_text_width(cell); w < t->widths[c]; w++)
				fputc(' ', fp);
		}
		fputc('\n', fp);
	}
	cli_table_drop_rows(t);
	if (fflush(fp) != 0 || ferror(fp))
		return errno ? -errno : -EIO;
	return 0;
}

void cli_table_free(struct cli_table *t)
{
	cli_table_drop_rows(t);
	free(t->cells);
	t->cells = NULL;
	t->cap_rows = 0;
}

/* --- Go's tabwriter --- */

void cli_tabw_line(struct cli_tabw *w, bool trusted, size_t n,
		   const char *const *cells)
{
	char buf[CLI_CELL_MAX * 2];
	struct cli_tabw_line *l;

	if (w->oom || n == 0)
		return;
	if (n > CLI_TABLE_MAX_COLS)
		n = CLI_TABLE_MAX_COLS;
	if (w->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 64;
		struct cli_tabw_line *nl = realloc(w->lines, ncap * sizeof(*nl));

		if (!nl) {
			w->oom = true;
			return;
		}
		w->lines = nl;
		w->cap = ncap;
	}
	l = &w->lines[w->n];
	l->cells = calloc(n, sizeof(char *));
	if (!l->cells) {
		w->oom = true;
		return;
	}
	l->n = n;
	w->n++;
	for (size_t i = 0; i < n; i++) {
		if (trusted)
			l->cells[i] = strdup(cells[i] ? cells[i] : "");
		else {
			cli_sanitize(cells[i], buf, sizeof(buf));
			l->cells[i] = strdup(buf);
		}
		if (!l->cells[i]) {
			w->oom = true;
			return;
		}
	}
}

static void cli_tabw_write(struct cli_tabw *w, FILE *fp, const size_t *widths,
			   size_t n_widths, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		const struct cli_tabw_line *l = &w->lines[i];

		for (size_t j = 0; j < l->n; j++) {
			fputs(l->cells[j], fp);
			if (j < n_widths && j + 1 < l->n)
				for (size_t k = cli_text_width(l->cells[j]);
				     k < widths[j]; k++)
					fputc(' ', fp);
		}
		fputc('\n', fp);
	}
}

/* text/tabwriter's format(): a column block is a run of consecutive lines
 * that have a (non-last) cell in this column; its width is the widest cell
 * plus padding. Recursion depth is bounded by CLI_TABLE_MAX_COLS. */
static void cli_tabw_format(struct cli_tabw *w, FILE *fp, size_t *widths,
			    size_t column, size_t line0, size_t line1)
{
	size_t cur = line0;

	while (cur < line1) {
		size_t width = 0;

		if (column + 1 >= w->lines[cur].n) {
			cur++;
			continue;
		}
		cli_tabw_write(w, fp, widths, column, line0, cur);
		line0 = cur;
		for (; cur < line1 && column + 1 < w->lines[cur].n; cur++) {
			size_t cw = cli_text_width(w->lines[cur].cells[column]) +
				    CLI_TABW_PAD;

			if (cw > width)
				width = cw;
		}
		widths[column] = width;
		cli_tabw_format(w, fp, widths, column + 1, line0, cur);
		line0 = cur;
	}
	cli_tabw_write(w, fp, widths, column, line0, line1);
}

int cli_tabw_flush(struct cli_tabw *w, FILE *fp)
{
	size_t widths[CLI_TABLE_MAX_COLS] = { 0 };

	if (w->oom)
		return -ENOMEM;
	cli_tabw_format(w, fp, widths, 0, 0, w->n);
	if (fflush(fp) != 0 || ferror(fp))
		return errno ? -errno : -EIO;
	return 0;
}

void cli_tabw_free(struct cli_tabw *w)
{
	for (size_t i = 0; i < w->n; i++) {
		for (size_t j = 0; j < w->lines[i].n; j++)
			free(w->lines[i].cells[j]);
		free(w->lines[i].cells);
	}
	free(w->lines);
	memset(w, 0, sizeof(*w));
}

/* --- YAML --- */

/* Would a plain scalar s read back as something other than this string
 * (null, bool in YAML 1.1 or 1.2, a number)? Then it is quoted, as
 * kubectl does. Errs on the side of quoting. */
static bool cli_yaml_needs_quotes(const char *s)
{
	static const char *const words[] = { "null", "~", "true", "false", "yes",
					     "no", "on", "off", "y", "n", NULL };

	if (!*s)
		return true;
	for (size_t i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return true;
	if (strchr("0123456789.", s[0]))
		return true;
	if (strchr("-+", s[0]) && s[1] && strchr("0123456789.", s[1]))
		return true;
	return false;
}

static int cli_yaml_emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int cli_yaml_scalar(yaml_emitter_t *e, const char *s, bool is_string)
{
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	yaml_event_t ev;
	size_t len = strlen(s);

	if (len > INT32_MAX)
		return -EFBIG;
	if (is_string && cli_yaml_needs_quotes(s))
		style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)(uintptr_t)s, (int)len,
					  1, 1, style))
		return -ENOMEM;
	return cli_yaml_emit(e, &ev);
}

static int cli_yaml_keycmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cli_yaml_node(yaml_emitter_t *e, struct json_object *o, int depth)
{
	yaml_event_t ev;
	char num[64];
	const char **keys = NULL;
	size_t n = 0, i;
	int ret;

	if (depth > CLI_JSON_MAX_DEPTH)
		return -ELOOP;
	switch (json_object_get_type(o)) {
	case json_type_null:
		return cli_yaml_scalar(e, "null", false);
	case json_type_boolean:
		return cli_yaml_scalar(e, json_object_get_boolean(o) ? "true" :
				       "false", false);
	case json_type_int:
		if (json_object_get_int64(o) == INT64_MAX)   /* maybe uint64 */
			snprintf(num, sizeof(num), "%" PRIu64,
				 json_object_get_uint64(o));
		else
			snprintf(num, sizeof(num), "%" PRId64,
				 json_object_get_int64(o));
		return cli_yaml_scalar(e, num, false);
	case json_type_double:
		return cli_yaml_scalar(e, json_object_to_json_string(o), false);
	case json_type_string:
		return cli_yaml_scalar(e, json_object_get_string(o), true);
	case json_type_array:
		if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
							  YAML_ANY_SEQUENCE_STYLE))
			return -ENOMEM;
		if ((ret = cli_yaml_emit(e, &ev)) < 0)
			return ret;
		for (i = 0; i < json_object_array_length(o); i++) {
			ret = cli_yaml_node(e, json_object_array_get_idx(o, i),
					    depth + 1);
			if (ret < 0)
				return ret;
		}
		if (!yaml_sequence_end_event_initialize(&ev))
			return -ENOMEM;
		return cli_yaml_emit(e, &ev);
	case json_type_object:
		break;
	}
	/* Keys sorted, as kubectl's JSON -> YAML conversion prints them. */
	keys = calloc((size_t)json_object_object_length(o) + 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	json_object_object_foreach(o, k, v) {
		(void)v;
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), cli_yaml_keycmp);
	ret = -ENOMEM;
	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						 YAML_ANY_MAPPING_STYLE))
		goto out;
	if ((ret = cli_yaml_emit(e, &ev)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((ret = cli_yaml_scalar(e, keys[i], true)) < 0)
			goto out;
		ret = cli_yaml_node(e, json_object_object_get(o, keys[i]),
				    depth + 1);
		if (ret < 0)
			goto out;
	}
	ret = -ENOMEM;
	if (!yaml_mapping_end_event_initialize(&ev))
		goto out;
	ret = cli_yaml_emit(e, &ev);
out:
	free(keys);
	return ret;
}

int cli_print_yaml(FILE *fp, struct json_object *o, struct pv_err *err)
{
	yaml_emitter_t e;
	yaml_event_t ev;
	int ret = -ENOMEM;

	if (!yaml_emitter_initialize(&e))
		return pv_err_set(err, ENOMEM, "out of memory");
	yaml_emitter_set_output_file(&e, fp);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	yaml_emitter_set_indent(&e, 2);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    (ret = cli_yaml_emit(&e, &ev)) < 0)
		goto out;
	ret = -ENOMEM;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    (ret = cli_yaml_emit(&e, &ev)) < 0)
		goto out;
	if ((ret = cli_yaml_node(&e, o, 0)) < 0)
		goto out;
	ret = -ENOMEM;
	if (!yaml_document_end_event_initialize(&ev, 1) ||
	    (ret = cli_yaml_emit(&e, &ev)) < 0)
		goto out;
	ret = -ENOMEM;
	if (!yaml_stream_end_event_initialize(&ev) ||
	    (ret = cli_yaml_emit(&e, &ev)) < 0)
		goto out;
	ret = yaml_emitter_flush(&e) ? 0 : -EIO;
out:
	yaml_emitter_delete(&e);
	if (ret < 0)
		return pv_err_set(err, -ret, "cannot write YAML output");
	return 0;
}
