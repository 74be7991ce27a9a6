/*
 * Sending plays to the api over HTTP: libcurl's multi interface, a fixed
 * number of requests in flight (each with its own reused handle, so
 * connections are kept alive), events batched as NDJSON into POST /plays,
 * or one per POST /play when the batch size is 1.
 *
 * Answers are counted per event: 202 accepted; per-item results of a 207
 * (or of a 503 / 400 with a body) split a batch; 503 answers and transport
 * failures are resent after Retry-After (or an exponential back-off), up to
 * max_retries times, then count as failed; other 4xx answers count as
 * rejected. The sender never prints; it reports through its stats.
 *
 * One owner thread; the calls below may block only as documented.
 */
#ifndef SIM_SIM_SEND_H
#define SIM_SIM_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SIM_SEND_MAX_CONCURRENCY 1024

struct sim_send_opts {
	const char *target;   /* base URL: "http://127.0.0.1:8080" */
	int concurrency;      /* requests in flight, 1 ... SIM_SEND_MAX_CONCURRENCY */
	int batch;            /* events per request, >= 1; 1 = POST /play */
	size_t max_body;      /* bytes per request (the api's api.max-body) */
	long timeout_ms;      /* per request */
	int max_retries;      /* resends of one request after 503 or a failure */
	int64_t max_delay_ms; /* ceiling on Retry-After and back-off */
	int64_t linger_ms;    /* how long a partial batch may wait for more */
	/* Optional: once *cancel is non-zero, sim_send_add stops waiting for a
	 * free slot; the batch it could not send counts as failed. */
	const volatile int *cancel;
	/* Optional: a file that gets one line per event once its fate is known:
	 * "A|R|F <TAB> event_id <TAB> region <TAB> ts <TAB> sends" (accepted,
	 * rejected, failed; sends = times it went on the wire). The fault suite
	 * (tests/faults/) balances the pipeline against it. */
	const char *outcome_log;
};

struct sim_send_stats {
	uint64_t sent;     /* events put on the wire, first attempts */
	uint64_t accepted; /* answered 202, or accepted within a batch */
	uint64_t rejected; /* answered 4xx: invalid, too large */
	uint64_t retried;  /* resends of events after 503 or a failure */
	uint64_t failed;   /* given up: retries exhausted, 5xx, transport */
	uint64_t requests;
	uint64_t in_flight;  /* events sent and not yet settled */
	uint64_t log_errors; /* outcome_log lines that could not be written */
	char last_error[256];
};

/* Fills the documented defaults (concurrency 8, batch 100, ...). */
void sim_send_opts_default(struct sim_send_opts *o);

struct sim_send;

/* Returns 0, TS_EINVAL (bad option or URL), TS_EIO (outcome_log cannot be
 * created) or TS_ENOMEM. */
int sim_send_new(const struct sim_send_opts *o, struct sim_send **out, struct ts_err *err);
void sim_send_free(struct sim_send *s);

/* Queues one event: a JSON object of len bytes, no newline. Blocks, driving
 * transfers, while every request slot is busy. Returns 0, TS_ETOOBIG (one
 * event larger than max_body) or TS_ENOMEM. */
int sim_send_add(struct sim_send *s, const char *json, size_t len, struct ts_err *err);

/* Drives transfers for up to wait_ms (0: only what is ready), sends a
 * partial batch older than linger_ms and resends retries that are due. */
int sim_send_poll(struct sim_send *s, int wait_ms, struct ts_err *err);

/* Sends what is queued and waits until every event is settled, or until
 * the monotonic clock passes deadline_us (then returns TS_ETIMEDOUT). */
int sim_send_flush(struct sim_send *s, int64_t deadline_us, struct ts_err *err);

void sim_send_get_stats(const struct sim_send *s, struct sim_send_stats *out);

#endif
