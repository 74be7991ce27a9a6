/*
 * The OpenAPI 3 document served at GET /api/openapi.json. Its paths are
 * the api's route table itself (api_server.c), each described by an entry
 * of the table in api_openapi.c; a route without a description still
 * appears (with "x-undocumented": true), and a unit test fails on that, so
 * the document cannot lose a route. Integration test 0601 calls every path
 * it lists.
 */
#ifndef API_API_OPENAPI_H
#define API_API_OPENAPI_H

#include "base/dbuf.h"
#include "base/error.h"

/* Appends the document (JSON). Returns 0, TS_ENOMEM or TS_ETOOBIG. */
int api_openapi_build(struct dbuf *out, struct ts_err *err);

#endif
