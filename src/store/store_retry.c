/*
 * Backoff schedule and retry classification of store requests; see
 * store_retry.h.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "store/store_retry.h"

void store_retry_init(struct store_retry *r, int max_retries, int64_t budget_ms, uint64_t seed)
{
	r->max_attempts = max_retries < 0 ? 1 : max_retries + 1;
	r->base_ms = STORE_RETRY_BASE_MS;
	r->cap_ms = STORE_RETRY_CAP_MS;
	r->budget_ms = budget_ms > 0 ? budget_ms : 0;
	r->rng = seed ? seed : (uint64_t)time_mono_us() * 0x9E3779B97F4A7C15ull + 1;
}

static uint64_t next_rand(struct store_retry *r)
{
	uint64_t x = r->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->rng = x;
	return x;
}

int64_t store_retry_delay_ms(struct store_retry *r, int attempt)
{
	int64_t d = r->base_ms;

	for (int i = 1; i < attempt && d < r->cap_ms; i++)
		d *= 2;
	if (d > r->cap_ms)
		d = r->cap_ms;
	if (d < 2)
		return d;
	return d / 2 + (int64_t)(next_rand(r) % (uint64_t)(d - d / 2 + 1));
}

int store_retry_again(const struct store_retry *r, int attempt, int64_t elapsed_ms,
                      int64_t delay_ms)
{
	if (attempt >= r->max_attempts)
		return 0;
	return !r->budget_ms || elapsed_ms + delay_ms < r->budget_ms;
}

int store_retry_retryable(int transport_failed, long http_status, const char *s3_code)
{
	static const char *const codes[] = {"SlowDown", "InternalError", "ServiceUnavailable",
	                                    "RequestTimeout"};

	if (transport_failed)
		return 1;
	/* 499: MinIO's answer to requests it drops while it shuts down. */
	if (http_status >= 500 || http_status == 429 || http_status == 499)
		return 1;
	for (size_t i = 0; s3_code && i < ARRAY_SIZE(codes); i++)
		if (!strcmp(s3_code, codes[i]))
			return 1;
	return 0;
}
