/* How the podvm CLI shows pods it got from podvmd (cli/podview.c,
 * cli/tabw.c): type-checked JSON lookups, kubectl's AGE and STATUS
 * columns, aligned tables, terminal-safe text, label selectors, YAML
 * output. Pure functions: no network, so the unit tests cover them.
 *
 * Everything here treats the server's JSON as hostile: lookups check the
 * type before use and every printed string goes through cli_sanitize. */
#ifndef PODVM_CLI_PODVIEW_H
#define PODVM_CLI_PODVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/err.h"

struct json_object;

#define CLI_JSON_MAX_DEPTH 64
#define CLI_CELL_MAX       512   /* bytes of one table cell, truncated past */
#define CLI_TABLE_MAX_COLS 16

/* --- JSON --- */

/* Parse one JSON value (depth-limited, nothing but blanks after it). */
int cli_parse_json(const char *buf, size_t len, struct json_object **out,
		   struct pv_err *err);
/* Dot-separated path of object keys ("status.podIP"); NULL when a step is
 * missing or not an object. */
struct json_object *cli_jget(struct json_object *o, const char *path);
/* The value at path when it has the right type, else NULL / false. */
const char *cli_jstr(struct json_object *o, const char *path);
struct json_object *cli_jobj(struct json_object *o, const char *path);
struct json_object *cli_jarr(struct json_object *o, const char *path);
bool cli_jint(struct json_object *o, const char *path, int64_t *out);
bool cli_jbool(struct json_object *o, const char *path, bool *out);

/* --- text --- */

/* Copy s into buf (len > 4), replacing control characters (C0, DEL, C1
 * as UTF-8, invalid bytes) with '?' so nothing from the server can drive
 * the terminal; truncated with "..." when too long. NULL s gives "". */
void cli_sanitize(const char *s, char *buf, size_t len);
/* Columns s occupies (UTF-8 code points; wide characters count as one). */
size_t cli_text_width(const char *s);

/* --- time --- */

/* RFC 3339 ("2024-01-02T03:04:05Z", fraction and offset allowed) to Unix
 * seconds. */
int cli_time_parse(const char *s, int64_t *out);
/* kubectl's HumanDuration: 45s, 3m12s, 15m, 2h5m, 10h, 3d4h, 30d, 2y10d. */
void cli_age_format(int64_t seconds, char *buf, size_t len);
/* Age of an RFC 3339 timestamp at now (Unix seconds); "<unknown>" when
 * missing or invalid. */
void cli_age_since(const char *ts, int64_t now, char *buf, size_t len);
/* "Mon, 02 Jan 2006 15:04:05 -0700" in local time (Go's RFC1123Z, as
 * kubectl describe prints times); "<invalid>" when unparsable. */
void cli_time_long(const char *ts, char *buf, size_t len);

/* --- pods --- */

/* One row of `podvm get pods`, every field sanitized. */
struct cli_pod_row {
	char namespace[80];
	char name[CLI_CELL_MAX];
	char ready[32];
	char status[96];
	char restarts[64];
	char age[32];
	char ip[80];
	char node[CLI_CELL_MAX];
};

/* kubectl's STATUS column: the pod's reason or phase, overridden by a
 * container's waiting or terminated reason, "Terminating" while deleting. */
void cli_pod_status(struct json_object *pod, char *buf, size_t len);
void cli_pod_row(struct json_object *pod, int64_t now, struct cli_pod_row *row);

/* apply on an existing pod (cli/apply.c): podvm pods are immutable, so
 * "unchanged" only when the stored pod equals the manifest once both are
 * normalised through pod_decode (server-set fields such as spec.nodeName,
 * uid, status and defaults ignored). ns: the namespace applied to. */
int cli_apply_same(struct json_object *stored, struct json_object *manifest,
		   const char *ns, bool *same, struct pv_err *err);

/* A duration flag ("90", "90s", "5m", "1h") in seconds (cli/delete.c). */
int cli_parse_duration(const char *s, int64_t *out);

/* --- label selectors (equality-based, as podvmd supports) --- */

#define CLI_SEL_MAX_TERMS 32

enum cli_sel_op { CLI_SEL_EQ, CLI_SEL_NE, CLI_SEL_EXISTS, CLI_SEL_NOT_EXISTS };

struct cli_sel_term {
	enum cli_sel_op op;
	char key[320];      /* [prefix/]name: 253 + 1 + 63 */
	char value[64];
};

struct cli_selector {
	size_t n;
	struct cli_sel_term terms[CLI_SEL_MAX_TERMS];
};

/* "a=b,c==d,e!=f,g,!h". Set-based forms (in, notin) are refused. */
int cli_selector_parse(const char *s, struct cli_selector *sel,
		       struct pv_err *err);
/* labels: the pod's metadata.labels (NULL: none). */
bool cli_selector_match(const struct cli_selector *sel,
			struct json_object *labels);

/* --- tables (kubectl get) --- */

struct cli_table {
	size_t n_cols;
	size_t widths[CLI_TABLE_MAX_COLS];  /* widest cell so far, per column */
	char **cells;                       /* n_rows * n_cols, sanitized */
	size_t n_rows, cap_rows;
};

int cli_table_init(struct cli_table *t, size_t n_cols);
/* Copies (and sanitizes) n_cols cells. */
int cli_table_add(struct cli_table *t, const char *const *cells);
/* Rows left-aligned, three spaces between columns, the last column not
 * padded (kubectl's tabwriter); the rows are then dropped but the widths
 * kept, so later rows (watch events) stay aligned with the header. */
int cli_table_flush(struct cli_table *t, FILE *fp);
void cli_table_free(struct cli_table *t);

/* --- describe output: Go's text/tabwriter (padding 2), which aligns a
 * column over each run of consecutive lines that have a cell there --- */

struct cli_tabw_line {
	size_t n;           /* cells; all but the last are aligned */
	char **cells;
};

struct cli_tabw {
	struct cli_tabw_line *lines;
	size_t n, cap;
	bool oom;           /* a failed allocation: flush reports -ENOMEM */
};

/* Append one line of n cells (copied; sanitized unless trusted). */
void cli_tabw_line(struct cli_tabw *w, bool trusted, size_t n,
		   const char *const *cells);
int cli_tabw_flush(struct cli_tabw *w, FILE *fp);
void cli_tabw_free(struct cli_tabw *w);

/* --- YAML output (-o yaml): keys sorted, strings that would read back as
 * another type quoted, control characters escaped --- */
int cli_print_yaml(FILE *fp, struct json_object *o, struct pv_err *err);

#endif
