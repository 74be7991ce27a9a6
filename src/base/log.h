/*
 * Structured logging to stderr: `text` on a terminal, one JSON object per
 * line otherwise (or as configured). Thread-safe: each line is written with a
 * single write(2). Never pass secrets as fields; the config module redacts
 * its secret keys before anything reaches a log.
 */
#ifndef BASE_LOG_H
#define BASE_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };
enum log_format { LOG_FORMAT_AUTO = 0, LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Returns 0, or TS_EINVAL for an unknown name ("debug", "info", ...). */
int log_level_parse(const char *name, enum log_level *out);
int log_format_parse(const char *name, enum log_format *out);

/* Process-wide settings; call before starting threads. */
void log_setup(enum log_level level, enum log_format format, const char *component);

int log_enabled(enum log_level level);

/* The format in effect after log_setup (never LOG_FORMAT_AUTO). */
enum log_format log_format_get(void);

/* msg is a fixed event name or sentence; fmt/... add "key=value" detail. */
void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(msg, ...) log_msg(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...)  log_msg(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...)  log_msg(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_msg(LOG_ERROR, msg, __VA_ARGS__)

#endif
