/*
 * See progress.h. The state is process-wide because a terminal has one
 * cursor: whoever draws last owns the line.
 */
#include "base/common.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/timeutil.h"

#include <stdarg.h>
#include <unistd.h>

#define INTERVAL_US 250000

static int g_on;    /* progress_setup(1) on a terminal with text logs */
static int g_shown; /* a line is on the screen now */

int progress_setup(int wanted)
{
	g_on = wanted && isatty(STDERR_FILENO) && log_format_get() == LOG_FORMAT_TEXT;
	return g_on;
}

int progress_enabled(void)
{
	return g_on;
}

void progress_begin(struct progress *p, const char *what, uint64_t total)
{
	p->what = what;
	p->total = total;
	p->t0_us = time_mono_us();
	p->last_us = 0;
}

void progress_format(const char *what, uint64_t done, uint64_t total, double elapsed_s,
                     const char *detail, char *out, size_t size)
{
	int n;

	if (total) {
		double f = done >= total ? 1.0 : (double)done / (double)total;

		n = snprintf(out, size, "%s: %llu/%llu (%.0f%%", what, (unsigned long long)done,
		             (unsigned long long)total, f * 100.0);
		/* An ETA from the first few percent is noise; wait for 2 %. */
		if (n > 0 && (size_t)n < size && f >= 0.02 && f < 1.0)
			n += snprintf(out + n, size - (size_t)n, ", ETA %.0fs",
			              elapsed_s / f - elapsed_s);
		if (n > 0 && (size_t)n < size)
			n += snprintf(out + n, size - (size_t)n, ")");
	} else {
		n = snprintf(out, size, "%s: %llu", what, (unsigned long long)done);
	}
	if (n > 0 && (size_t)n < size && detail && *detail)
		snprintf(out + n, size - (size_t)n, " %s", detail);
}

static void draw(const char *text)
{
	char line[512];
	int n = snprintf(line, sizeof(line), "\r\033[K%s", text);
	ssize_t w;

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
	g_shown = 1;
}

void progress_show(const char *text)
{
	if (g_on)
		draw(text);
}

void progress_update(struct progress *p, uint64_t done, const char *fmt, ...)
{
	char detail[256] = "", line[512];
	int64_t now;
	va_list ap;

	if (!g_on)
		return;
	now = time_mono_us();
	if (p->last_us && now - p->last_us < INTERVAL_US && !(p->total && done >= p->total))
		return;
	p->last_us = now;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(detail, sizeof(detail), fmt, ap);
		va_end(ap);
	}
	progress_format(p->what, done, p->total, (double)(now - p->t0_us) / 1e6, detail, line,
	                sizeof(line));
	draw(line);
}

void progress_erase(void)
{
	ssize_t w;

	if (!g_shown)
		return;
	w = write(STDERR_FILENO, "\r\033[K", 4);
	(void)w;
	g_shown = 0;
}

void progress_end(struct progress *p)
{
	(void)p;
	progress_erase();
}
