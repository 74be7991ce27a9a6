/*
 * The api's Prometheus metrics: requests by route and status, the produce
 * latency histogram (request complete -> every record acknowledged), the
 * producer queue depth and rejects by reason. Lock-free counters: any thread
 * may record, any thread may render.
 */
#ifndef API_API_METRICS_H
#define API_API_METRICS_H

#include <stdint.h>

#include "base/dbuf.h"

enum api_route_id {
	ROUTE_PLAY,
	ROUTE_PLAYS,
	ROUTE_HEALTHZ,
	ROUTE_READYZ,
	ROUTE_METRICS,
	ROUTE_API,    /* the read API, GET /api/... */
	ROUTE_STATIC, /* the dashboard's files */
	ROUTE_OTHER,
	ROUTE_COUNT
};

enum api_reject {
	REJECT_INVALID_JSON,
	REJECT_INVALID_FIELD,
	REJECT_TOO_LARGE,
	REJECT_MEDIA_TYPE,
	REJECT_OVERLOADED,
	REJECT_BROKER,
	REJECT_METHOD,
	REJECT_NOT_FOUND,
	REJECT_BAD_FRAMING, /* ambiguous Content-Length / Transfer-Encoding */
	REJECT_SHED,        /* api.max-inflight requests already in flight */
	REJECT_COUNT
};

/* Names as they appear in labels. */
const char *api_route_name(enum api_route_id r);

void api_metrics_request(enum api_route_id route, int status);
void api_metrics_reject(enum api_reject reason, uint64_t n);
void api_metrics_events(uint64_t accepted);
void api_metrics_produce_latency(int64_t us);

/* Appends the text exposition format; gauges are passed in by the caller. */
int api_metrics_render(struct dbuf *out, int64_t queue_depth, int64_t pending, int64_t connections,
                       int64_t inflight, int ready);

#endif
