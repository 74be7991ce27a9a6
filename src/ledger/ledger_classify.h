/*
 * Classifying the differences between the stages of a ledger report
 * (docs/ledger.md, "Differences"): pure, no I/O, unit tested.
 */
#ifndef LEDGER_LEDGER_CLASSIFY_H
#define LEDGER_LEDGER_CLASSIFY_H

#include "ledger/ledger.h"

/* Fills every hour's diffs, the global ones, the counters, balanced and
 * status of r. Idempotent. */
void ledger_classify(struct ledger_report *r);

#endif
