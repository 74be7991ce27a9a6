/*
 * The flow table: every flow, in dependency order, with its default
 * schedule. The scheduler, `topsongs flows` and the docs read it.
 */
#include "flow/flow.h"

#include <string.h>

#include "flow/flow_impl.h"

const struct flow_def flow_table[] = {
    {"enrich", "raw/ -> enriched/: join the catalog, drop duplicate event ids (incremental)",
     "every 2s", flow_enrich_run, NULL},
    {"aggregate",
     "enriched/ -> plays_hourly, top_songs_hourly, top_songs_daily (top 10 and chart facts)",
     "every 2s", flow_aggregate_run, "enrich"},
};

const size_t flow_count = sizeof(flow_table) / sizeof(flow_table[0]);

const struct flow_def *flow_find(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < flow_count; i++) {
		if (strcmp(flow_table[i].name, name) == 0)
			return &flow_table[i];
	}
	return NULL;
}
