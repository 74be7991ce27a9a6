/*
 * The run functions of the flows (flow_table's entries) and helpers shared
 * between them. Only flow.c and the flows include this.
 */
#ifndef FLOW_FLOW_IMPL_H
#define FLOW_FLOW_IMPL_H

#include "flow/flow.h"

int flow_enrich_run(struct db *db, const struct flow_args *args, struct flow_stats *stats,
                    struct ts_err *err);
int flow_aggregate_run(struct db *db, const struct flow_args *args, struct flow_stats *stats,
                       struct ts_err *err);

#endif
