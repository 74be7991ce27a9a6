/*
 * Flow `enrich`. Not built yet: the run fails with TS_EFAILED.
 */
#include "flow/flow_impl.h"

int flow_enrich_run(struct db *db, const struct flow_args *args, struct flow_stats *stats,
                    struct ts_err *err)
{
	(void)db;
	(void)args;
	(void)stats;
	return ts_err_set(err, TS_EFAILED, "flow enrich: not built yet");
}
