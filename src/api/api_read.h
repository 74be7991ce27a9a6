/*
 * The read API behind the dashboard (docs/api.md, "Read API"):
 * GET /api/regions, /api/top, /api/top.csv, /api/trend, /api/pipeline and
 * /api/openapi.json. Every parameter is checked against the endpoint's
 * rules before anything touches the database (400 with a JSON body naming
 * the parameter); the database is read with prepared statements only
 * (api_pool.h); PostgreSQL being down answers 503 + Retry-After, never a
 * hang, and never affects the ingest routes.
 *
 * Threads: api_read_handle from any HTTP worker thread.
 */
#ifndef API_API_READ_H
#define API_API_READ_H

#include <stdint.h>

#include "base/config.h"
#include "base/error.h"

enum api_read_ep {
	READ_NONE,
	READ_REGIONS,
	READ_TOP,
	READ_TOP_CSV,
	READ_TREND,
	READ_PIPELINE,
	READ_OPENAPI,
	READ_LEDGER, /* answered by api_ledger.c */
};

struct api_read;
struct api_request;
struct api_reply;
struct api_query;

/* threads: the api's worker threads (the pool size). cfg must outlive it.
 * Does not need the database to be up. */
int api_read_new(const struct ts_config *cfg, int threads, struct api_read **out,
                 struct ts_err *err);
/* NULL is a no-op. */
void api_read_free(struct api_read *r);

/* Answers one GET of endpoint ep (req->query holds the raw query string). */
void api_read_handle(struct api_read *r, enum api_read_ep ep, struct api_request *req,
                     struct api_reply *reply);

/* Parses an `at`/`from`/`to` value: YYYY-MM-DD, YYYY-MM-DDTHH or RFC 3339
 * with offset, between 2000-01-01 and 2100-01-01. Returns 0 or TS_EINVAL
 * with *why set. */
int api_read_parse_time(const char *s, int64_t *us, const char **why);

/* Parses req's query into q and refuses unknown or repeated parameters
 * with a 400 naming the parameter: `allowed` lists the names, `repeatable`
 * the one that may repeat (or NULL). Returns 0, or -1 with *reply set. */
int api_read_check_query(const struct api_request *req, struct api_query *q,
                         const char *const *allowed, size_t nallowed, const char *repeatable,
                         struct api_reply *reply);

/* 0 when v is ALL or a configured region, else -1 with a 400 in *reply. */
int api_read_check_region(const struct ts_config *cfg, const char *v, struct api_reply *reply);

/* Sets *reply to a 400 naming the parameter, with detail. */
void api_read_bad_param(struct api_reply *reply, const char *param, const char *detail);

#endif
