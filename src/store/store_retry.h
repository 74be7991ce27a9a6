/*
 * Retries of store requests: which failures are worth another attempt, and
 * how long to wait before it — exponential backoff with "equal jitter" (the
 * n-th wait is uniform in [d/2, d] with d = min(cap, base * 2^(n-1))), within
 * a bounded number of attempts and an optional total time budget. Pure
 * functions over a small state; no sleeping here, so the schedule is unit
 * tested without clocks. One state per call sequence; not shared by threads.
 */
#ifndef STORE_STORE_RETRY_H
#define STORE_STORE_RETRY_H

#include <stdint.h>

#define STORE_RETRY_BASE_MS 100
#define STORE_RETRY_CAP_MS  5000

struct store_retry {
	int max_attempts;  /* at least 1 */
	int64_t base_ms;   /* the first wait's ceiling */
	int64_t cap_ms;    /* no single wait is longer */
	int64_t budget_ms; /* no attempt starts this long after the first; 0 = no budget */
	uint64_t rng;      /* jitter state (xorshift) */
};

/* Attempts = max_retries + 1; seed 0 picks one from the clock. */
void store_retry_init(struct store_retry *r, int max_retries, int64_t budget_ms, uint64_t seed);

/* The wait after failed attempt number `attempt` (1 = the first attempt). */
int64_t store_retry_delay_ms(struct store_retry *r, int attempt);

/* 1 when, after `attempt` failed attempts and elapsed_ms since the first
 * began, another attempt after delay_ms is allowed. */
int store_retry_again(const struct store_retry *r, int attempt, int64_t elapsed_ms,
                      int64_t delay_ms);

/*
 * 1 when a failure is transient: a transport failure (connection refused or
 * reset, a timeout), HTTP 5xx, 429 or 499 (MinIO shutting down), or the S3
 * codes SlowDown, InternalError, ServiceUnavailable, RequestTimeout. s3_code
 * may be NULL.
 */
int store_retry_retryable(int transport_failed, long http_status, const char *s3_code);

#endif
