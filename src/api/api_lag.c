/*
 * Broker high watermarks with a short cache; see api_lag.h.
 */
#include "base/common.h"
#include "api/api_lag.h"
#include "base/timeutil.h"
#include "kafka/kafka_watermarks.h"

#include <pthread.h>

struct api_lag {
	struct kafka_watermarks *w;
	pthread_mutex_t lock;
	int64_t fetched_us; /* monotonic; 0 = never */
	int rc;
	char reason[200];
	int n;
	int64_t hw[API_LAG_MAX_PARTITIONS];
};

int api_lag_new(const struct ts_config *cfg, struct api_lag **out, struct ts_err *err)
{
	struct api_lag *lag = calloc(1, sizeof(*lag));
	int rc;

	if (!lag)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	rc = kafka_watermarks_new(cfg, "topsongs-api-lag", API_LAG_TIMEOUT_MS, &lag->w, err);
	if (rc) {
		free(lag);
		return rc;
	}
	pthread_mutex_init(&lag->lock, NULL);
	*out = lag;
	return 0;
}

void api_lag_free(struct api_lag *lag)
{
	if (!lag)
		return;
	kafka_watermarks_free(lag->w);
	pthread_mutex_destroy(&lag->lock);
	free(lag);
}

int api_lag_watermarks(struct api_lag *lag, int64_t *hw, int max, int *n, struct ts_err *err)
{
	int rc;

	pthread_mutex_lock(&lag->lock);
	if (!lag->fetched_us || time_mono_us() - lag->fetched_us > API_LAG_CACHE_MS * 1000LL) {
		struct ts_err e;

		lag->rc =
		    kafka_watermarks_get(lag->w, lag->hw, API_LAG_MAX_PARTITIONS, &lag->n, &e);
		if (lag->rc)
			snprintf(lag->reason, sizeof(lag->reason), "%s", e.msg);
		lag->fetched_us = time_mono_us();
	}
	rc = lag->rc;
	if (rc)
		ts_err_set(err, rc, "%s", lag->reason);
	*n = lag->n;
	memcpy(hw, lag->hw, sizeof(*hw) * (size_t)(lag->n < max ? lag->n : max));
	pthread_mutex_unlock(&lag->lock);
	return rc;
}
