/* Pods as the podvm CLI shows them: JSON lookups that check types, text
 * made safe for a terminal, kubectl's AGE / STATUS / RESTARTS columns.
 * Label selectors are in cli/selector.c; tables, describe layout and YAML
 * in cli/tabw.c. */
#include "cli/podview.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "pod/pod.h"
#include "util/json.h"

/* --- JSON --- */

int cli_parse_json(const char *buf, size_t len, struct json_object **out,
		   struct pv_err *err)
{
	struct util_json_parse jp = {
		.depth = CLI_JSON_MAX_DEPTH,
		.tok_flags = JSON_TOKENER_ALLOW_TRAILING_CHARS,
	};

	*out = NULL;
	if (len > INT32_MAX)
		return pv_err_set(err, EFBIG, "JSON document too large");
	switch (util_json_parse(&jp, buf, len, out)) {
	case UTIL_JSON_OK:
		return 0;
	case UTIL_JSON_NOMEM:
		return pv_err_set(err, ENOMEM, "out of memory");
	case UTIL_JSON_TRUNCATED:
		return pv_err_set(err, EPROTO, "invalid JSON: unexpected end of input");
	case UTIL_JSON_TRAILING:
		return pv_err_set(err, EPROTO, "invalid JSON: trailing data");
	default:
		return pv_err_set(err, EPROTO, "invalid JSON: %s", jp.detail);
	}
}

struct json_object *cli_jget(struct json_object *o, const char *path)
{
	char key[128];
	const char *dot;
	size_t n;

	while (o && path && *path) {
		if (!json_object_is_type(o, json_type_object))
			return NULL;
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		if (!json_object_object_get_ex(o, key, &o))
			return NULL;
		path = dot ? dot + 1 : NULL;
	}
	return o;
}

const char *cli_jstr(struct json_object *o, const char *path)
{
	o = cli_jget(o, path);
	return json_object_is_type(o, json_type_string) ?
	       json_object_get_string(o) : NULL;
}

struct json_object *cli_jobj(struct json_object *o, const char *path)
{
	o = cli_jget(o, path);
	return json_object_is_type(o, json_type_object) ? o : NULL;
}

struct json_object *cli_jarr(struct json_object *o, const char *path)
{
	o = cli_jget(o, path);
	return json_object_is_type(o, json_type_array) ? o : NULL;
}

bool cli_jint(struct json_object *o, const char *path, int64_t *out)
{
	o = cli_jget(o, path);
	if (!json_object_is_type(o, json_type_int))
		return false;
	*out = json_object_get_int64(o);
	return true;
}

bool cli_jbool(struct json_object *o, const char *path, bool *out)
{
	o = cli_jget(o, path);
	if (!json_object_is_type(o, json_type_boolean))
		return false;
	*out = json_object_get_boolean(o);
	return true;
}

/* --- text --- */

/* Length of the valid UTF-8 sequence at s (1..4) and its code point, or 0
 * when the bytes are not valid UTF-8 (overlong, surrogate, truncated). */
static size_t cli_utf8(const unsigned char *s, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2; c = s[0] & 0x1f; min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3; c = s[0] & 0x0f; min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4; c = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)   /* also stops at the NUL */
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* C0, DEL, C1 (0x9b is CSI on some terminals) and the bidi overrides that
 * can make text display as something else. */
static bool cli_is_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void cli_sanitize(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0, n;
	uint32_t cp;

	if (len == 0)
		return;
	while (*p) {
		n = cli_utf8(p, &cp);
		if (n == 0 || cli_is_unsafe(cp)) {
			n = n ? n : 1;
			if (o + 1 >= len)
				goto trunc;
			buf[o++] = '?';
		} else {
			if (o + n >= len)
				goto trunc;
			memcpy(buf + o, p, n);
			o += n;
		}
		p += n;
	}
	buf[o] = '\0';
	return;
trunc:
	/* Back off to a code point boundary that leaves room for "...". */
	if (len < 4) {
		buf[0] = '\0';
		return;
	}
	if (o > len - 4)
		o = len - 4;
	while (o > 0 && ((unsigned char)buf[o] & 0xc0) == 0x80)
		o--;
	memcpy(buf + o, "...", 4);
}

size_t cli_text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* --- time --- */

static bool cli_digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return true;
}

static bool cli_lit(const char **s, const char *set)
{
	if (!**s || !strchr(set, **s))
		return false;
	(*s)++;
	return true;
}

int cli_time_parse(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	time_t t;

	if (!s)
		return -EINVAL;
	if (!cli_digits(&s, 4, &y) || !cli_lit(&s, "-") ||
	    !cli_digits(&s, 2, &mo) || !cli_lit(&s, "-") ||
	    !cli_digits(&s, 2, &d) || !cli_lit(&s, "Tt ") ||
	    !cli_digits(&s, 2, &h) || !cli_lit(&s, ":") ||
	    !cli_digits(&s, 2, &mi) || !cli_lit(&s, ":") ||
	    !cli_digits(&s, 2, &sec))
		return -EINVAL;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
		if (!cli_digits(&s, 2, &oh) || !cli_lit(&s, ":") ||
		    !cli_digits(&s, 2, &om) || oh > 23 || om > 59)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (int64_t)t - sign * (oh * 3600 + om * 60);
	return 0;
}

/* apimachinery's duration.HumanDuration, to the letter. */
void cli_age_format(int64_t seconds, char *buf, size_t len)
{
	int64_t m, h, days;

	if (seconds < -1) {
		snprintf(buf, len, "<invalid>");
		return;
	}
	if (seconds < 0)
		seconds = 0;
	if (seconds < 60 * 2) {
		snprintf(buf, len, "%" PRId64 "s", seconds);
		return;
	}
	m = seconds / 60;
	if (m < 10) {
		if (seconds % 60 == 0)
			snprintf(buf, len, "%" PRId64 "m", m);
		else
			snprintf(buf, len, "%" PRId64 "m%" PRId64 "s", m,
				 seconds % 60);
		return;
	}
	if (m < 60 * 3) {
		snprintf(buf, len, "%" PRId64 "m", m);
		return;
	}
	h = seconds / 3600;
	if (h < 8) {
		if (m % 60 == 0)
			snprintf(buf, len, "%" PRId64 "h", h);
		else
			snprintf(buf, len, "%" PRId64 "h%" PRId64 "m", h, m % 60);
	} else if (h < 48) {
		snprintf(buf, len, "%" PRId64 "h", h);
	} else if (h < 24 * 8) {
		if (h % 24 == 0)
			snprintf(buf, len, "%" PRId64 "d", h / 24);
		else
			snprintf(buf, len, "%" PRId64 "d%" PRId64 "h", h / 24,
				 h % 24);
	} else if (h < 24 * 365 * 2) {
		snprintf(buf, len, "%" PRId64 "d", h / 24);
	} else if (h < 24 * 365 * 8) {
		days = (h / 24) % 365;
		if (days == 0)
			snprintf(buf, len, "%" PRId64 "y", h / 24 / 365);
		else
			snprintf(buf, len, "%" PRId64 "y%" PRId64 "d",
				 h / 24 / 365, days);
	} else {
		snprintf(buf, len, "%" PRId64 "y", h / 24 / 365);
	}
}

void cli_age_since(const char *ts, int64_t now, char *buf, size_t len)
{
	int64_t t;

	if (!ts || cli_time_parse(ts, &t) < 0)
		snprintf(buf, len, "<unknown>");
	else
		cli_age_format(now - t, buf, len);
}

void cli_time_long(const char *ts, char *buf, size_t len)
{
	struct tm tm;
	int64_t t;
	time_t tt;

	if (!ts || cli_time_parse(ts, &t) < 0) {
		snprintf(buf, len, "<invalid>");
		return;
	}
	tt = (time_t)t;
	if (!localtime_r(&tt, &tm) ||
	    strftime(buf, len, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		snprintf(buf, len, "<invalid>");
}

/* --- pods --- */

static bool cli_has_ready_condition(struct json_object *pod)
{
	struct json_object *conds = cli_jarr(pod, "status.conditions");
	size_t n = conds ? json_object_array_length(conds) : 0;
	const char *type, *st;

	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(conds, i);

		type = cli_jstr(c, "type");
		st = cli_jstr(c, "status");
		if (type && st && !strcmp(type, "Ready") && !strcmp(st, "True"))
			return true;
	}
	return false;
}

/* kubectl's printPod (pkg/printers/internalversion), for pods without
 * init containers. */
static void cli_pod_compute(struct json_object *pod, char *status,
			    size_t slen, int *ready, int64_t *restarts,
			    int64_t *last_restart)
{
	struct json_object *cs = cli_jarr(pod, "status.containerStatuses");
	const char *phase = cli_jstr(pod, "status.phase");
	const char *reason = cli_jstr(pod, "status.reason");
	const char *r, *ts;
	char tmp[64];
	bool has_running = false, running;
	int64_t v, code, sig, t;
	size_t n = cs ? json_object_array_length(cs) : 0;

	cli_sanitize(reason && *reason ? reason : phase, status, slen);
	*ready = 0;
	*restarts = 0;
	*last_restart = 0;
	for (size_t k = n; k-- > 0;) {
		struct json_object *c = json_object_array_get_idx(cs, k);
		struct json_object *term = cli_jobj(c, "state.terminated");
		bool rdy = false;

		if (cli_jint(c, "restartCount", &v) && v > 0 &&
		    *restarts <= INT32_MAX)
			*restarts += v;
		ts = cli_jstr(c, "lastState.terminated.finishedAt");
		if (ts && cli_time_parse(ts, &t) == 0 && t > *last_restart)
			*last_restart = t;
		cli_jbool(c, "ready", &rdy);
		running = cli_jobj(c, "state.running") != NULL;
		if ((r = cli_jstr(c, "state.waiting.reason")) && *r) {
			cli_sanitize(r, status, slen);
		} else if (term && (r = cli_jstr(term, "reason")) && *r) {
			cli_sanitize(r, status, slen);
		} else if (term) {
			if (cli_jint(term, "signal", &sig) && sig != 0)
				snprintf(tmp, sizeof(tmp), "Signal:%" PRId64, sig);
			else
				snprintf(tmp, sizeof(tmp), "ExitCode:%" PRId64,
					 cli_jint(term, "exitCode", &code) ?
					 code : 0);
			cli_sanitize(tmp, status, slen);
		} else if (rdy && running) {
			has_running = true;
			(*ready)++;
		}
	}
	/* A container still running makes a "Completed" pod Running again. */
	if (!strcmp(status, "Completed") && has_running)
		cli_sanitize(cli_has_ready_condition(pod) ? "Running" : "NotReady",
			     status, slen);
	if (cli_jstr(pod, "metadata.deletionTimestamp")) {
		if (reason && !strcmp(reason, "NodeLost"))
			cli_sanitize("Unknown", status, slen);
		else if (!phase || (strcmp(phase, "Succeeded") &&
				    strcmp(phase, "Failed")))
			cli_sanitize("Terminating", status, slen);
	}
}

void cli_pod_status(struct json_object *pod, char *buf, size_t len)
{
	int ready;
	int64_t restarts, last;

	cli_pod_compute(pod, buf, len, &ready, &restarts, &last);
}

static void cli_or_none(const char *s, char *buf, size_t len)
{
	cli_sanitize(s && *s ? s : "<none>", buf, len);
}

void cli_pod_row(struct json_object *pod, int64_t now, struct cli_pod_row *row)
{
	struct json_object *ctrs = cli_jarr(pod, "spec.containers");
	int64_t restarts, last;
	char age[32];
	int ready;

	cli_sanitize(cli_jstr(pod, "metadata.namespace"), row->namespace,
		     sizeof(row->namespace));
	cli_sanitize(cli_jstr(pod, "metadata.name"), row->name,
		     sizeof(row->name));
	cli_pod_compute(pod, row->status, sizeof(row->status), &ready,
			&restarts, &last);
	snprintf(row->ready, sizeof(row->ready), "%d/%zu", ready,
		 ctrs ? json_object_array_length(ctrs) : (size_t)0);
	if (restarts != 0 && last != 0) {
		cli_age_format(now - last, age, sizeof(age));
		snprintf(row->restarts, sizeof(row->restarts),
			 "%" PRId64 " (%s ago)", restarts, age);
	} else {
		snprintf(row->restarts, sizeof(row->restarts), "%" PRId64,
			 restarts);
	}
	cli_age_since(cli_jstr(pod, "metadata.creationTimestamp"), now,
		      row->age, sizeof(row->age));
	cli_or_none(cli_jstr(pod, "status.podIP"), row->ip, sizeof(row->ip));
	cli_or_none(cli_jstr(pod, "spec.nodeName"), row->node, sizeof(row->node));
}
