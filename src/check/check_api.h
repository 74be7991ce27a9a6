/*
 * The api probe of `topsongs check`: GET http://<api.listen>/healthz with
 * libcurl within the timeout; ok on HTTP 200. A wildcard listen address
 * (0.0.0.0, [::]) is probed on loopback. Proxies from the environment are
 * ignored: the api is checked where it listens. Thread-safe once
 * check_api_prepare has run.
 */
#ifndef CHECK_CHECK_API_H
#define CHECK_CHECK_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "check/check_result.h"

/* curl_global_init, once, before any probe thread starts. */
void check_api_prepare(void);

int check_api_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out);

/* "http://127.0.0.1:8080/healthz" from a listen address "HOST:PORT". */
void check_api_url(const char *listen, char *out, size_t size);

#endif
