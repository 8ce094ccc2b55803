/* Structured JSON logging for podvmd: one object per line on stderr,
 *   {"ts":"2025-01-02T03:04:05.678Z","level":"info","msg":"...", fields...}
 * Thread-safe: each line is built in memory and written with one write(2).
 *
 * Extra fields are typed key/value pairs terminated by LOG_END:
 *   log_info("request done", LOG_STR("path", p), LOG_INT("code", 200), LOG_END);
 * String values are JSON-escaped (json-c) and cut at LOG_VALUE_MAX bytes,
 * so a hostile value (a client's path or header) cannot break the line. */
#ifndef PODVM_HOST_LOG_H
#define PODVM_HOST_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

#define LOG_VALUE_MAX 1024

/* Field type tags (the first word of each pair). */
#define LOG_T_END 0
#define LOG_T_STR 1
#define LOG_T_INT 2

#define LOG_STR(k, v) LOG_T_STR, (const char *)(k), (const char *)(v)
#define LOG_INT(k, v) LOG_T_INT, (const char *)(k), (long long)(v)
#define LOG_END LOG_T_END

/* Minimum level written (default info). */
void log_set_level(enum log_level lvl);
/* "debug", "info", "warn", "error"; -1 when unknown. */
int log_parse_level(const char *s);
bool log_enabled(enum log_level lvl);

/* The variadic part: pairs as above, then LOG_END. */
void log_write(enum log_level lvl, const char *msg, ...);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

#endif
