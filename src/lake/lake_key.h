/*
 * The hour partitions of lake keys, as ingest and enrich name them
 * ("raw/region=EU/date=2026-11-25/hour=13/<file>"), read back from what a
 * store lists: on S3, whatever the bucket holds. Used by retention and the
 * ledger. Pure.
 */
#ifndef LAKE_LAKE_KEY_H
#define LAKE_LAKE_KEY_H

#include <stdint.h>

/*
 * Parses the hour partition of a lake key under raw/ or enriched/:
 * "raw/region=EU/date=2026-11-25/hour=13/x.parquet" gives region "EU", day
 * "2026-11-25", hour 13. Returns 0, or TS_EINVAL for any other key (region
 * 1..15 bytes of [A-Za-z0-9_-], a valid calendar date, hour 00..23).
 * region and day must hold 16 bytes each.
 */
int lake_key_parse(const char *key, char region[16], char day[16], int *hour);

/* Start of the hour, UTC microseconds, of a day lake_key_parse accepted. */
int64_t lake_key_hour_us(const char *day, int hour);

#endif
