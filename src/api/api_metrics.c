/*
 * Counters behind GET /metrics (Prometheus text format 0.0.4).
 */
#include "base/common.h"
#include "api/api_metrics.h"

#include <stdatomic.h>

static const int statuses[] = {200, 202, 207, 304, 400, 404, 405, 413, 415, 429, 500, 503};
#define NSTATUS ARRAY_SIZE(statuses)

/* Upper bounds in microseconds. */
static const int64_t buckets_us[] = {500,     1000,    2000,    5000,     10000,
                                     25000,   50000,   100000,  250000,   500000,
                                     1000000, 2500000, 5000000, 10000000, 30000000};
#define NBUCKET ARRAY_SIZE(buckets_us)

static atomic_uint_fast64_t requests[ROUTE_COUNT][NSTATUS + 1];
static atomic_uint_fast64_t rejects[REJECT_COUNT];
static atomic_uint_fast64_t events_accepted;
static atomic_uint_fast64_t latency_bucket[NBUCKET + 1];
static atomic_uint_fast64_t latency_count, latency_sum_us;

static const char *const route_names[] = {"play",    "plays", "healthz", "readyz",
                                          "metrics", "api",   "static",  "other"};
static const char *const reject_names[] = {"invalid_json",       "invalid_field",
                                           "too_large",          "unsupported_media_type",
                                           "overloaded",         "broker_unavailable",
                                           "method_not_allowed", "not_found",
                                           "bad_framing",        "shed"};

const char *api_route_name(enum api_route_id r)
{
	return route_names[r];
}

void api_metrics_request(enum api_route_id route, int status)
{
	size_t i;

	for (i = 0; i < NSTATUS && statuses[i] != status; i++)
		;
	atomic_fetch_add_explicit(&requests[route][i], 1, memory_order_relaxed);
}

void api_metrics_reject(enum api_reject reason, uint64_t n)
{
	atomic_fetch_add_explicit(&rejects[reason], n, memory_order_relaxed);
}

void api_metrics_events(uint64_t accepted)
{
	atomic_fetch_add_explicit(&events_accepted, accepted, memory_order_relaxed);
}

void api_metrics_produce_latency(int64_t us)
{
	size_t i;

	for (i = 0; i < NBUCKET && us > buckets_us[i]; i++)
		;
	atomic_fetch_add_explicit(&latency_bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&latency_sum_us, (uint64_t)(us > 0 ? us : 0),
	                          memory_order_relaxed);
}

static int render_requests(struct dbuf *out)
{
	int rc = dbuf_addstr(out, "# HELP topsongs_api_requests_total HTTP requests by route "
	                          "and status.\n# TYPE topsongs_api_requests_total counter\n");

	for (size_t r = 0; !rc && r < ROUTE_COUNT; r++) {
		for (size_t s = 0; !rc && s <= NSTATUS; s++) {
			uint64_t n = atomic_load(&requests[r][s]);

			if (!n)
				continue;
			if (s == NSTATUS)
				rc = dbuf_addf(out,
				               "topsongs_api_requests_total{route=\"%s\","
				               "status=\"other\"} %llu\n",
				               route_names[r], (unsigned long long)n);
			else
				rc = dbuf_addf(out,
				               "topsongs_api_requests_total{route=\"%s\","
				               "status=\"%d\"} %llu\n",
				               route_names[r], statuses[s], (unsigned long long)n);
		}
	}
	return rc;
}

static int render_rejects(struct dbuf *out)
{
	int rc = dbuf_addstr(out, "# HELP topsongs_api_rejected_events_total Events or requests "
	                          "refused, by reason.\n"
	                          "# TYPE topsongs_api_rejected_events_total counter\n");

	for (size_t i = 0; !rc && i < REJECT_COUNT; i++)
		rc = dbuf_addf(out, "topsongs_api_rejected_events_total{reason=\"%s\"} %llu\n",
		               reject_names[i], (unsigned long long)atomic_load(&rejects[i]));
	return rc;
}

static int render_latency(struct dbuf *out)
{
	uint64_t cum = 0;
	int rc = dbuf_addstr(out, "# HELP topsongs_api_produce_latency_seconds From a complete "
	                          "request to the broker acknowledging all its records.\n"
	                          "# TYPE topsongs_api_produce_latency_seconds histogram\n");

	for (size_t i = 0; !rc && i <= NBUCKET; i++) {
		cum += atomic_load(&latency_bucket[i]);
		if (i == NBUCKET)
			rc = dbuf_addf(out,
			               "topsongs_api_produce_latency_seconds_bucket{le=\"+Inf\"} "
			               "%llu\n",
			               (unsigned long long)cum);
		else
			rc = dbuf_addf(out,
			               "topsongs_api_produce_latency_seconds_bucket{le=\"%g\"} "
			               "%llu\n",
			               (double)buckets_us[i] / 1e6, (unsigned long long)cum);
	}
	if (!rc)
		rc = dbuf_addf(out,
		               "topsongs_api_produce_latency_seconds_sum %.6f\n"
		               "topsongs_api_produce_latency_seconds_count %llu\n",
		               (double)atomic_load(&latency_sum_us) / 1e6,
		               (unsigned long long)atomic_load(&latency_count));
	return rc;
}

int api_metrics_render(struct dbuf *out, int64_t queue_depth, int64_t pending, int64_t connections,
                       int64_t inflight, int ready)
{
	int rc = render_requests(out);

	rc = rc ? rc : render_rejects(out);
	rc = rc ? rc : render_latency(out);
	if (!rc)
		rc = dbuf_addf(
		    out,
		    "# HELP topsongs_api_events_accepted_total Plays acknowledged by Kafka "
		    "and answered 202.\n# TYPE topsongs_api_events_accepted_total counter\n"
		    "topsongs_api_events_accepted_total %llu\n"
		    "# HELP topsongs_api_producer_queue_depth Records in the producer queue.\n"
		    "# TYPE topsongs_api_producer_queue_depth gauge\n"
		    "topsongs_api_producer_queue_depth %lld\n"
		    "# HELP topsongs_api_pending_events Events awaiting acknowledgement.\n"
		    "# TYPE topsongs_api_pending_events gauge\n"
		    "topsongs_api_pending_events %lld\n"
		    "# HELP topsongs_api_open_requests Requests being handled.\n"
		    "# TYPE topsongs_api_open_requests gauge\n"
		    "topsongs_api_open_requests %lld\n"
		    "# HELP topsongs_api_inflight_requests Ingest requests with a whole body "
		    "not yet answered (api.max-inflight caps it).\n"
		    "# TYPE topsongs_api_inflight_requests gauge\n"
		    "topsongs_api_inflight_requests %lld\n"
		    "# HELP topsongs_api_ready 1 when Kafka is reachable.\n"
		    "# TYPE topsongs_api_ready gauge\ntopsongs_api_ready %d\n",
		    (unsigned long long)atomic_load(&events_accepted), (long long)queue_depth,
		    (long long)pending, (long long)connections, (long long)inflight, ready);
	return rc;
}
