/*
 * The api probe; see check_api.h.
 */
#include "base/common.h"
#include "base/error.h"
#include "check/check_api.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>

/* The first bytes of the answer, for a reason when the status is not 200. */
struct api_body {
	char text[160];
	size_t len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void check_api_prepare(void)
{
	pthread_once(&curl_once, global_init);
}

void check_api_url(const char *listen, char *out, size_t size)
{
	const char *colon = strrchr(listen, ':');
	size_t hlen = colon ? (size_t)(colon - listen) : strlen(listen);
	const char *host = listen, *port = colon ? colon + 1 : "80";

	if ((hlen == 7 && !memcmp(listen, "0.0.0.0", 7)) || hlen == 0) {
		host = "127.0.0.1";
		hlen = 9;
	} else if ((hlen == 4 && !memcmp(listen, "[::]", 4)) || (hlen == 2 && listen[0] == ':')) {
		host = "[::1]";
		hlen = 5;
	}
	snprintf(out, size, "http://%.*s:%s/healthz", (int)hlen, host, port);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct api_body *b = arg;
	size_t len = size * n, room = sizeof(b->text) - 1 - b->len;

	memcpy(b->text + b->len, data, len < room ? len : room);
	b->len += len < room ? len : room;
	b->text[b->len] = '\0';
	return len;
}

static void set_options(CURL *c, const char *url, int64_t timeout_ms, struct api_body *body,
                        char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* we run on a thread */
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "topsongs-check");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
}

/* "connection refused at 127.0.0.1:8080" from the failed transfer. */
static int fail_transfer(CURL *c, CURLcode code, const char *errbuf, const char *where,
                         int64_t timeout_ms, struct check_result *out)
{
	long oserr = 0;
	char why[CHECK_TEXT_MAX];

	curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	if (code == CURLE_OPERATION_TIMEDOUT)
		return check_result_fail(out, TS_ETIMEDOUT, "no answer from %s within %lld ms",
		                         where, (long long)timeout_ms);
	if (oserr && code == CURLE_COULDNT_CONNECT) {
		snprintf(why, sizeof(why), "%s", strerror((int)oserr));
		why[0] = (char)(why[0] >= 'A' && why[0] <= 'Z' ? why[0] - 'A' + 'a' : why[0]);
		return check_result_fail(out, TS_EUNAVAIL, "%s at %s (is `topsongs api` running?)",
		                         why, where);
	}
	return check_result_fail(out, TS_EUNAVAIL, "%s at %s",
	                         errbuf[0] ? errbuf : curl_easy_strerror(code), where);
}

int check_api_probe(const struct ts_config *cfg, int64_t timeout_ms, struct check_result *out)
{
	char url[CHECK_TEXT_MAX], where[CHECK_TEXT_MAX], errbuf[CURL_ERROR_SIZE] = "";
	struct api_body body = {"", 0};
	CURL *c = NULL;
	CURLcode code;
	long status = 0;
	int rc;

	check_api_url(cfg->api_listen, url, sizeof(url));
	check_result_target(out, "%s", url);
	snprintf(where, sizeof(where), "%.*s", (int)strcspn(url + 7, "/"), url + 7);
	check_api_prepare();
	c = curl_easy_init();
	if (!c)
		return check_result_fail(out, TS_ENOMEM, "cannot create a curl handle");
	set_options(c, url, timeout_ms, &body, errbuf);
	code = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (code != CURLE_OK)
		rc = fail_transfer(c, code, errbuf, where, timeout_ms, out);
	else if (status != 200)
		rc = check_result_fail(out, TS_EFAILED, "GET /healthz answered %ld: %s", status,
		                       body.text);
	else
		rc = check_result_ok(out, "GET /healthz answered 200");
	curl_easy_cleanup(c);
	return rc;
}
