/*
 * See lake_key.h.
 */
#include "base/common.h"
#include "base/error.h"
#include "base/timeutil.h"
#include "lake/lake_key.h"

static const char *skip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

static int region_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

int lake_key_parse(const char *key, char region[16], char day[16], int *hour)
{
	const char *p = skip_prefix(key, "raw/region="), *why = NULL;
	char probe[32];
	size_t n = 0;
	int64_t us;

	if (!p)
		p = skip_prefix(key, "enriched/region=");
	if (!p)
		return TS_EINVAL;
	while (n < 16 && region_char(p[n]))
		n++;
	if (n == 0 || n > 15 || !(p = skip_prefix(p + n, "/date=")))
		return TS_EINVAL;
	memcpy(region, p - 6 - n, n);
	region[n] = '\0';
	for (int i = 0; i < 10; i++)
		if (!p[i] || (i == 4 || i == 7 ? p[i] != '-' : (p[i] < '0' || p[i] > '9')))
			return TS_EINVAL;
	snprintf(probe, sizeof(probe), "%.10sT00:00:00Z", p);
	if (time_parse_rfc3339(probe, strlen(probe), &us, &why))
		return TS_EINVAL;
	memcpy(day, p, 10);
	day[10] = '\0';
	p = skip_prefix(p + 10, "/hour=");
	if (!p || p[0] < '0' || p[0] > '2' || p[1] < '0' || p[1] > '9' || p[2] != '/')
		return TS_EINVAL;
	*hour = (p[0] - '0') * 10 + (p[1] - '0');
	return *hour < 24 ? 0 : TS_EINVAL;
}

int64_t lake_key_hour_us(const char *day, int hour)
{
	int y = (int)strtol(day, NULL, 10), m = (int)strtol(day + 5, NULL, 10),
	    d = (int)strtol(day + 8, NULL, 10);

	return (time_days_from_civil(y, m, d) * 24 + hour) * 3600 * TIME_US_PER_SEC;
}
