/*
 * JSON rendering of Parquet values; see parquet_json.h.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "parquet/parquet_json.h"

#include <inttypes.h>
#include <math.h>

#define MIN_SEC (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define MAX_SEC 253402300799LL   /* 9999-12-31T23:59:59Z */

int parquet_json_bytes(struct dbuf *out, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;
	int rc = dbuf_addc(out, '"');

	for (size_t i = 0; !rc && i < n; i++) {
		uint8_t c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		rc = dbuf_add(out, p + run, i - run);
		run = i + 1;
		if (!rc && (c == '"' || c == '\\')) {
			char esc[2] = {'\\', (char)c};
			rc = dbuf_add(out, esc, 2);
		} else if (!rc) {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			rc = dbuf_add(out, esc, 6);
		}
	}
	if (!rc)
		rc = dbuf_add(out, p + run, n - run);
	return rc ? rc : dbuf_addc(out, '"');
}

static int add_double(struct dbuf *out, double d, bool is_float)
{
	if (isnan(d))
		return dbuf_addstr(out, "\"NaN\"");
	if (isinf(d))
		return dbuf_addstr(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	if (d == 0 && signbit(d))
		return dbuf_addstr(out, "-0.0"); /* "-0" would read back as integer 0 */
	return dbuf_addf(out, is_float ? "%.9g" : "%.17g", d);
}

static int add_date(struct dbuf *out, int32_t days)
{
	struct time_civil c;

	if ((int64_t)days * 86400 < MIN_SEC || (int64_t)days * 86400 > MAX_SEC)
		return dbuf_addf(out, "%" PRId32, days);
	time_to_civil((int64_t)days * 86400 * TIME_US_PER_SEC, &c);
	return dbuf_addf(out, "\"%04d-%02d-%02d\"", c.year, c.month, c.day);
}

/* unit: 1000 (millis), 1000000 (micros) or 1000000000 (nanos) per second. */
static int add_timestamp(struct dbuf *out, int64_t v, int64_t unit)
{
	int64_t sec = v / unit, frac = v % unit;
	struct time_civil c;

	if (frac < 0) {
		frac += unit;
		sec--;
	}
	if (sec < MIN_SEC || sec > MAX_SEC)
		return dbuf_addf(out, "%" PRId64, v);
	time_to_civil(sec * TIME_US_PER_SEC, &c);
	return dbuf_addf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d.%0*" PRId64 "Z\"", c.year, c.month,
	                 c.day, c.hour, c.minute, c.second,
	                 unit == 1000      ? 3
	                 : unit == 1000000 ? 6
	                                   : 9,
	                 frac);
}

static int add_int64(struct dbuf *out, const struct parquet_column *col, int64_t v)
{
	switch (col->logical) {
	case PARQUET_LT_TIMESTAMP_MILLIS:
		return add_timestamp(out, v, 1000);
	case PARQUET_LT_TIMESTAMP_MICROS:
		return add_timestamp(out, v, 1000000);
	case PARQUET_LT_TIMESTAMP_NANOS:
		return add_timestamp(out, v, 1000000000);
	}
	return dbuf_addf(out, "%" PRId64, v);
}

int parquet_json_value(struct dbuf *out, const struct parquet_column *col,
                       const struct parquet_batch *b, size_t i)
{
	const struct parquet_bytes *s;

	if ((b->valid && !b->valid[i]) || !b->values)
		return dbuf_addstr(out, "null");
	switch (b->type) {
	case PARQUET_BOOLEAN:
		return dbuf_addstr(out, ((const uint8_t *)b->values)[i] ? "true" : "false");
	case PARQUET_INT32:
		if (col->logical == PARQUET_LT_DATE)
			return add_date(out, ((const int32_t *)b->values)[i]);
		return dbuf_addf(out, "%" PRId32, ((const int32_t *)b->values)[i]);
	case PARQUET_INT64:
		return add_int64(out, col, ((const int64_t *)b->values)[i]);
	case PARQUET_FLOAT:
		return add_double(out, ((const float *)b->values)[i], true);
	case PARQUET_DOUBLE:
		return add_double(out, ((const double *)b->values)[i], false);
	}
	s = &((const struct parquet_bytes *)b->values)[i];
	return parquet_json_bytes(out, s->ptr, s->len);
}
