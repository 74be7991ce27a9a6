/*
 * The lake's side of the ledger: every Parquet file under raw/ and
 * enriched/ of the range's (region, day) folders, its row count read from
 * its footer (a local lake reads the footer only; an S3 lake fetches each
 * object's last 64 KiB with one ranged GET, or the whole object, at most
 * LEDGER_LAKE_FILE_MAX bytes, when the footer is longer), summed per hour into
 * raw_lake / enriched_lake of the report. Files outside the layout (no
 * ".parquet", unparsable partition) are ignored, as the flows ignore them.
 */
#ifndef LEDGER_LEDGER_LAKE_H
#define LEDGER_LEDGER_LAKE_H

#include "base/config.h"
#include "base/error.h"
#include "ledger/ledger.h"

#define LEDGER_LAKE_FILE_MAX (1ull << 30)

/* A file whose footer cannot be read is an error naming it (TS_ECORRUPT);
 * one gone between the listing and the read is counted in r->lake_vanished
 * and skipped. */
int ledger_lake_scan(const struct ts_config *cfg, const struct ledger_opts *o,
                     struct ledger_report *r, struct ts_err *err);

/* The hour of region at hour_us in r, added when absent; NULL when full. */
struct ledger_hour *ledger_hour_get(struct ledger_report *r, const char *region, int64_t hour_us);

#endif
