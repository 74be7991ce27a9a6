/*
 * The dashboard's files (the Vite build, web/dist by default, api.web-dir):
 * GET and HEAD of any path that is not a route. Decisions (docs/dashboard.md):
 *
 * - "/" is index.html; a path with a "." or ".." segment, a backslash or a
 *   control character is 400 (after percent-decoding, so %2e%2e and ..%2f
 *   are caught too); a segment starting with "." (hidden files) is 404;
 *   the file's real path must lie inside the folder (no symlink escapes).
 * - Hashed build assets (/assets/...) are "immutable" for a year, index.html
 *   is "no-cache" (revalidated through its ETag), other files an hour.
 * - SPA fallback: a missing path whose last segment has no extension, asked
 *   for by a client that accepts text/html (a browser navigating), gets
 *   index.html; anything else missing is a JSON 404, so API clients and
 *   scripts never mistake the page for data.
 *
 * Threads: api_static_handle from any worker thread.
 */
#ifndef API_API_STATIC_H
#define API_API_STATIC_H

#include "base/error.h"

struct api_static;
struct api_request;
struct api_reply;

/* dir must hold index.html; else TS_ENOTFOUND (the api then serves no
 * page) or TS_ENOMEM. */
int api_static_new(const char *dir, struct api_static **out, struct ts_err *err);
/* NULL is a no-op. */
void api_static_free(struct api_static *s);

/* Answers a GET/HEAD of path (decoded, starting with '/'). */
void api_static_handle(struct api_static *s, struct api_request *req, const char *path,
                       struct api_reply *reply);

/* The Content-Type for a file name (by its extension). */
const char *api_static_mime(const char *name);

/* 0 if a decoded path is acceptable, else the HTTP status (400 or 404). */
int api_static_check_path(const char *path);

#endif
