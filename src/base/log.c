/*
 * Log lines: "2026-11-25T13:00:00.123Z INFO api: listening addr=..." on a
 * terminal, {"ts":..,"level":..,"component":..,"msg":..,"detail":..}
 * elsewhere.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/error.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/timeutil.h"

#include <stdarg.h>
#include <unistd.h>

static enum log_level g_level = LOG_INFO;
static enum log_format g_format = LOG_FORMAT_TEXT;
static const char *g_component = "topsongs";

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

int log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (!strcmp(name, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return TS_EINVAL;
}

int log_format_parse(const char *name, enum log_format *out)
{
	if (!strcmp(name, "auto"))
		*out = LOG_FORMAT_AUTO;
	else if (!strcmp(name, "text"))
		*out = LOG_FORMAT_TEXT;
	else if (!strcmp(name, "json"))
		*out = LOG_FORMAT_JSON;
	else
		return TS_EINVAL;
	return 0;
}

void log_setup(enum log_level level, enum log_format format, const char *component)
{
	g_level = level;
	if (format == LOG_FORMAT_AUTO)
		format = isatty(STDERR_FILENO) ? LOG_FORMAT_TEXT : LOG_FORMAT_JSON;
	g_format = format;
	if (component)
		g_component = component;
}

enum log_format log_format_get(void)
{
	return g_format;
}

int log_enabled(enum log_level level)
{
	return level >= g_level && level < LOG_OFF;
}

void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
{
	char ts[40], detail[1024];
	struct dbuf line;
	va_list ap;
	ssize_t n;

	if (!log_enabled(level))
		return;
	time_format_rfc3339_ms(time_now_us(), ts, sizeof(ts));
	detail[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	dbuf_init(&line, 4096);
	if (g_format == LOG_FORMAT_JSON) {
		dbuf_addf(&line, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":", ts,
		          level_names[level]);
		dbuf_add_json_str(&line, g_component);
		dbuf_addstr(&line, ",\"msg\":");
		dbuf_add_json_str(&line, msg);
		if (detail[0]) {
			dbuf_addstr(&line, ",\"detail\":");
			dbuf_add_json_str(&line, detail);
		}
		dbuf_addstr(&line, "}\n");
	} else {
		/* A progress line would run into this one: erase it first. */
		progress_erase();
		dbuf_addf(&line, "%s %-5s %s: %s%s%s\n", ts, level_names[level], g_component, msg,
		          detail[0] ? " " : "", detail);
	}
	n = write(STDERR_FILENO, dbuf_str(&line), line.len);
	(void)n;
	dbuf_release(&line);
}
