/* Structured JSON log lines on stderr (see log.h). */
#include "host/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "util/util.h"

static atomic_int log_min_level = LOG_INFO;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level lvl)
{
	atomic_store(&log_min_level, (int)lvl);
}

int log_parse_level(const char *s)
{
	for (size_t i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
		if (s && strcmp(s, log_names[i]) == 0)
			return (int)i;
	return -1;
}

bool log_enabled(enum log_level lvl)
{
	return (int)lvl >= atomic_load(&log_min_level);
}

/* RFC 3339 UTC with milliseconds. */
static void log_timestamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

/* A string cut at LOG_VALUE_MAX bytes (json-c escapes it). */
static struct json_object *log_str(const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	n = strnlen(s, LOG_VALUE_MAX);
	return json_object_new_string_len(s, (int)n);
}

void log_write(enum log_level lvl, const char *msg, ...)
{
	struct json_object *o;
	const char *line;
	char ts[48];
	va_list ap;
	int tag;

	if (!log_enabled(lvl))
		return;
	if ((unsigned)lvl > LOG_ERROR)
		lvl = LOG_ERROR;
	o = json_object_new_object();
	if (!o)
		return;
	log_timestamp(ts, sizeof(ts));
	json_object_object_add(o, "ts", json_object_new_string(ts));
	json_object_object_add(o, "level", json_object_new_string(log_names[lvl]));
	json_object_object_add(o, "msg", log_str(msg ? msg : ""));
	va_start(ap, msg);
	while ((tag = va_arg(ap, int)) != LOG_T_END) {
		const char *key = va_arg(ap, const char *);

		if (tag == LOG_T_STR) {
			const char *v = va_arg(ap, const char *);

			json_object_object_add(o, key, log_str(v));
		} else if (tag == LOG_T_INT) {
			long long v = va_arg(ap, long long);

			json_object_object_add(o, key, json_object_new_int64(v));
		} else {
			break; /* malformed call: stop reading arguments */
		}
	}
	va_end(ap);
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (line) {
		size_t n = strlen(line);
		char *buf = malloc(n + 2);

		/* One write per line keeps lines from threads whole. */
		if (buf) {
			memcpy(buf, line, n);
			buf[n] = '\n';
			(void)util_write_all(STDERR_FILENO, buf, n + 1);
			free(buf);
		}
	}
	json_object_put(o);
}
