/*
 * Unit tests of the S3 backend at its HTTP seam: a scripted HTTP server on a
 * loopback port answers each request with the next canned response, so the
 * replies MinIO will not give on demand — 503 SlowDown, 500, a failing part,
 * a 200 that carries an <Error> — drive the retry, abort and error paths.
 * The real signature checks are in the integration tests against MinIO.
 */
#include "tests/unit/test.h"

#include "store/store.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKE_MAX 8

struct fake {
	int fd;
	int port;
	char resp[FAKE_MAX][1024];
	int nresp;
	char reqs[FAKE_MAX][512];  /* request lines as received */
	char ranges[FAKE_MAX][64]; /* their Range headers' values, or "" */
	int nreq;
	pthread_t th;
};

/* Queues "HTTP/1.1 STATUS" with extra header lines and a body. */
static void fake_add(struct fake *f, const char *status, const char *headers, const char *body)
{
	snprintf(f->resp[f->nresp++], sizeof(f->resp[0]),
	         "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
	         headers, strlen(body), body);
}

/* Reads one request (headers, then Content-Length bytes of body). */
static void serve_one(struct fake *f, int c)
{
	static char buf[1 << 16];
	size_t len = 0, want = 0;
	char *end = NULL, *cl;

	while (!end && len < sizeof(buf) - 1) {
		ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);

		if (n <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (!end)
		return;
	cl = strcasestr(buf, "\r\nrange: ");
	if (cl && cl < end)
		snprintf(f->ranges[f->nreq], sizeof(f->ranges[0]), "%.*s",
		         (int)strcspn(cl + 9, "\r"), cl + 9);
	snprintf(f->reqs[f->nreq++], sizeof(f->reqs[0]), "%.*s", (int)strcspn(buf, "\r"), buf);
	cl = strcasestr(buf, "\r\ncontent-length:");
	if (cl)
		want = strtoul(cl + 17, NULL, 10);
	if (strcasestr(buf, "\r\nexpect: 100-continue"))
		(void)!write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	want -= len - (size_t)(end + 4 - buf) < want ? len - (size_t)(end + 4 - buf) : want;
	while (want) {
		ssize_t n = read(c, buf, want < sizeof(buf) ? want : sizeof(buf));

		if (n <= 0)
			return;
		want -= (size_t)n;
	}
	(void)!write(c, f->resp[f->nreq - 1], strlen(f->resp[f->nreq - 1]));
}

static void *serve(void *arg)
{
	struct fake *f = arg;

	while (f->nreq < f->nresp) {
		struct pollfd p = {f->fd, POLLIN, 0};
		int c;

		if (poll(&p, 1, 3000) <= 0)
			break; /* the client stopped early: the test's checks will say so */
		c = accept(f->fd, NULL, NULL);
		if (c < 0)
			break;
		serve_one(f, c);
		close(c);
	}
	return NULL;
}

static int fake_start(struct fake *f)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&a, sizeof(a)) || listen(f->fd, 16) ||
	    getsockname(f->fd, (struct sockaddr *)&a, &alen))
		return -1;
	f->port = ntohs(a.sin_port);
	return pthread_create(&f->th, NULL, serve, f);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->th, NULL);
	close(f->fd);
}

static struct store *fake_store(const struct fake *f, int retries, size_t part_size)
{
	char endpoint[64];
	struct store_opts o;
	struct store *s = NULL;
	struct ts_err err;

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", f->port);
	memset(&o, 0, sizeof(o));
	o.endpoint = endpoint;
	o.access_key = "AKIDEXAMPLE";
	o.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	o.path_style = 1;
	o.timeout_ms = 3000;
	o.max_retries = retries;
	o.part_size = part_size;
	if (store_open("s3://bucket/pre", &o, &s, &err))
		fprintf(stderr, "store_open: %s\n", err.msg);
	return s;
}

static const char slow_down[] = "<Error><Code>SlowDown</Code><Message>Please reduce your request "
                                "rate.</Message></Error>";

TEST(store_s3_fake_retries_then_succeeds)
{
	struct fake f;
	struct store *s;
	struct dbuf b;
	struct ts_err err;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "503 Slow Down", "", slow_down);
	fake_add(&f, "500 Internal Server Error", "", "");
	fake_add(&f, "200 OK", "", "payload");
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 4, 0);
	dbuf_init(&b, 1 << 20);
	CHECK_INT(store_get(s, "raw/a b=1", 100, &b, &err), 0);
	CHECK_STR(dbuf_str(&b), "payload");
	CHECK_INT(f.nreq, 3);
	CHECK_STR(f.reqs[0], "GET /bucket/pre/raw/a%20b%3D1 HTTP/1.1");
	dbuf_release(&b);
	store_free(s);
	fake_stop(&f);
}

TEST(store_s3_fake_gives_up_after_retries)
{
	struct fake f;
	struct store *s;
	struct ts_err err;

	memset(&f, 0, sizeof(f));
	for (int i = 0; i < 3; i++)
		fake_add(&f, "503 Slow Down", "", slow_down);
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 2, 0);
	CHECK_INT(store_put(s, "k", "v", 1, &err), TS_EUNAVAIL);
	CHECK(strstr(err.msg, "is unavailable: HTTP 503 SlowDown: Please reduce your request rate. "
	                      "(3 attempts in") != NULL);
	CHECK_INT(f.nreq, 3);
	store_free(s);
	fake_stop(&f);
}

TEST(store_s3_fake_refusals_are_not_retried)
{
	static const char denied[] = "<Error><Code>AccessDenied</Code><Message>Access Denied."
	                             "</Message></Error>";
	static const char nokey[] = "<Error><Code>NoSuchKey</Code><Message>x</Message></Error>";
	struct fake f;
	struct store *s;
	struct dbuf b;
	struct ts_err err;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "403 Forbidden", "", denied);
	fake_add(&f, "404 Not Found", "", nokey);
	fake_add(&f, "404 Not Found", "", nokey);
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 4, 0);
	dbuf_init(&b, 100);
	CHECK_INT(store_put(s, "k", "v", 1, &err), TS_EFAILED);
	CHECK(strstr(err.msg, "s3://bucket/pre: access denied (AccessDenied)") != NULL);
	CHECK_INT(store_get(s, "k", 100, &b, &err), TS_ENOTFOUND);
	CHECK_STR(err.msg, "s3://bucket/pre/k: no such object");
	CHECK_INT(store_delete(s, "k", &err), 0); /* deleting an absent key succeeds */
	CHECK_INT(f.nreq, 3);
	CHECK_STR(f.reqs[2], "DELETE /bucket/pre/k HTTP/1.1");
	dbuf_release(&b);
	store_free(s);
	fake_stop(&f);
}

static const char initiated[] = "<InitiateMultipartUploadResult><UploadId>up/1+x</UploadId>"
                                "</InitiateMultipartUploadResult>";

TEST(store_s3_fake_multipart_failure_aborts)
{
	static const char bad[] = "<Error><Code>InvalidPart</Code><Message>nope</Message></Error>";
	size_t len = (5u << 20) + 10;
	char *data = calloc(1, len);
	struct fake f;
	struct store *s;
	struct ts_err err;

	REQUIRE(data);
	memset(&f, 0, sizeof(f));
	fake_add(&f, "200 OK", "", initiated);
	fake_add(&f, "200 OK", "ETag: \"e1\"\r\n", "");
	fake_add(&f, "400 Bad Request", "", bad);
	fake_add(&f, "204 No Content", "", "");
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 4, 5u << 20);
	CHECK_INT(store_put(s, "big", data, len, &err), TS_EFAILED);
	CHECK(strstr(err.msg, "HTTP 400 InvalidPart: nope") != NULL);
	CHECK_INT(f.nreq, 4);
	CHECK_STR(f.reqs[0], "POST /bucket/pre/big?uploads= HTTP/1.1");
	CHECK_STR(f.reqs[1], "PUT /bucket/pre/big?partNumber=1&uploadId=up%2F1%2Bx HTTP/1.1");
	CHECK_STR(f.reqs[2], "PUT /bucket/pre/big?partNumber=2&uploadId=up%2F1%2Bx HTTP/1.1");
	CHECK_STR(f.reqs[3], "DELETE /bucket/pre/big?uploadId=up%2F1%2Bx HTTP/1.1");
	store_free(s);
	fake_stop(&f);
	free(data);
}

TEST(store_s3_fake_complete_error_in_200)
{
	static const char err200[] = "<Error><Code>InternalError</Code><Message>We encountered an "
	                             "internal error.</Message></Error>";
	static const char done[] = "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag>"
	                           "</CompleteMultipartUploadResult>";
	size_t len = (5u << 20) + 1;
	char *data = calloc(1, len);
	struct fake f;
	struct store *s;
	struct ts_err err;

	REQUIRE(data);
	/* A 200 carrying a retryable error is retried; then it completes. */
	memset(&f, 0, sizeof(f));
	fake_add(&f, "200 OK", "", initiated);
	fake_add(&f, "200 OK", "ETag: \"e1\"\r\n", "");
	fake_add(&f, "200 OK", "ETag: \"e2\"\r\n", "");
	fake_add(&f, "200 OK", "", err200);
	fake_add(&f, "200 OK", "", done);
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 1, 5u << 20);
	CHECK_INT(store_put(s, "big", data, len, &err), 0);
	CHECK_INT(f.nreq, 5);
	CHECK_STR(f.reqs[3], "POST /bucket/pre/big?uploadId=up%2F1%2Bx HTTP/1.1");
	CHECK_STR(f.reqs[4], "POST /bucket/pre/big?uploadId=up%2F1%2Bx HTTP/1.1");
	store_free(s);
	fake_stop(&f);
	/* Without retries left it fails, and the upload is aborted. */
	memset(&f, 0, sizeof(f));
	fake_add(&f, "200 OK", "", initiated);
	fake_add(&f, "200 OK", "ETag: \"e1\"\r\n", "");
	fake_add(&f, "200 OK", "ETag: \"e2\"\r\n", "");
	fake_add(&f, "200 OK", "", err200);
	fake_add(&f, "204 No Content", "", "");
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 0, 5u << 20);
	CHECK_INT(store_put(s, "big", data, len, &err), TS_EUNAVAIL);
	CHECK(strstr(err.msg, "InternalError: We encountered an internal error.") != NULL);
	CHECK_INT(f.nreq, 5);
	CHECK_STR(f.reqs[4], "DELETE /bucket/pre/big?uploadId=up%2F1%2Bx HTTP/1.1");
	store_free(s);
	fake_stop(&f);
	free(data);
}

static int count(const struct store_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
	return 0;
}

TEST(store_s3_fake_list_pages)
{
	static const char p1[] = "<ListBucketResult><Contents><Key>pre/a</Key><Size>1</Size>"
	                         "</Contents><IsTruncated>true</IsTruncated>"
	                         "<NextContinuationToken>t/1=</NextContinuationToken>"
	                         "</ListBucketResult>";
	static const char p2[] = "<ListBucketResult><Contents><Key>pre/b</Key><Size>2</Size>"
	                         "</Contents><IsTruncated>false</IsTruncated></ListBucketResult>";
	struct fake f;
	struct store *s;
	struct ts_err err;
	int n = 0;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "200 OK", "", p1);
	fake_add(&f, "200 OK", "", p2);
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 0, 0);
	CHECK_INT(store_list(s, "raw/", count, &n, &err), 0);
	CHECK_INT(n, 2);
	/* Query parameters sorted and encoded, as libcurl 7.88 signs them as written. */
	CHECK_STR(f.reqs[0], "GET /bucket?list-type=2&max-keys=1000&prefix=pre%2Fraw%2F HTTP/1.1");
	CHECK_STR(f.reqs[1], "GET /bucket?continuation-token=t%2F1%3D&list-type=2&max-keys=1000"
	                     "&prefix=pre%2Fraw%2F HTTP/1.1");
	store_free(s);
	fake_stop(&f);
}

TEST(store_s3_fake_announced_size_over_cap)
{
	char body[200];
	struct fake f;
	struct store *s;
	struct dbuf b;
	struct ts_err err;

	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	memset(&f, 0, sizeof(f));
	fake_add(&f, "200 OK", "", body);
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 4, 0);
	dbuf_init(&b, 1 << 20);
	CHECK_INT(store_get(s, "k", 10, &b, &err), TS_ETOOBIG);
	CHECK_STR(err.msg, "s3://bucket/pre/k is larger than 10 bytes");
	CHECK(b.buf == NULL); /* refused on its Content-Length: nothing was allocated */
	CHECK_INT(b.max, 1 << 20);
	CHECK_INT(f.nreq, 1); /* and not retried */
	dbuf_release(&b);
	store_free(s);
	fake_stop(&f);
}

/* store_get_tail is one GET with a suffix range: a 206 gives the tail and the
 * size from Content-Range, a server that ignores ranges answers 200 with the
 * whole (small) object, an empty object answers 416, and a 206 without a
 * usable Content-Range is refused. */
TEST(store_s3_fake_tail_is_one_ranged_get)
{
	struct fake f;
	struct store *s;
	struct dbuf b;
	struct ts_err err;
	uint64_t size = 7;

	memset(&f, 0, sizeof(f));
	fake_add(&f, "206 Partial Content", "Content-Range: bytes 990-999/1000\r\n", "0123456789");
	fake_add(&f, "200 OK", "", "abcde");
	fake_add(&f, "416 Range Not Satisfiable", "Content-Range: bytes */0\r\n", "");
	fake_add(&f, "206 Partial Content", "", "0123456789");
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 0, 0);
	dbuf_init(&b, 1 << 20);
	CHECK_INT(store_get_tail(s, "k", 10, &b, &size, &err), 0);
	CHECK_STR(f.reqs[0], "GET /bucket/pre/k HTTP/1.1");
	CHECK_STR(f.ranges[0], "bytes=-10");
	CHECK_INT(size, 1000);
	CHECK_STR(dbuf_str(&b), "0123456789");
	CHECK_INT(store_get_tail(s, "k", 10, &b, &size, &err), 0);
	CHECK_INT(size, 5);
	CHECK_STR(dbuf_str(&b), "abcde");
	CHECK_INT(store_get_tail(s, "k", 10, &b, &size, &err), 0);
	CHECK_INT(size, 0);
	CHECK_INT(b.len, 0);
	CHECK_INT(store_get_tail(s, "k", 10, &b, &size, &err), TS_ECORRUPT);
	CHECK(strstr(err.msg, "Content-Range") != NULL);
	CHECK_INT(f.nreq, 4);
	CHECK_INT(b.max, 1 << 20); /* the cap is the caller's again */
	dbuf_release(&b);
	store_free(s);
	fake_stop(&f);
}

/* store_get_range is one GET with "bytes=first-last": a 206 with the bytes
 * is the answer; a 200 (a server that ignored the range) and a short 206
 * are refused, and 416 is past the end. */
TEST(store_s3_fake_range_is_one_ranged_get)
{
	struct fake f;
	struct store *s;
	struct ts_err err;
	char got[16];

	memset(&f, 0, sizeof(f));
	fake_add(&f, "206 Partial Content", "Content-Range: bytes 990-999/1000\r\n", "0123456789");
	fake_add(&f, "200 OK", "", "0123456789");
	fake_add(&f, "206 Partial Content", "Content-Range: bytes 990-994/995\r\n", "01234");
	fake_add(&f, "416 Range Not Satisfiable", "Content-Range: bytes */5\r\n", "");
	REQUIRE(fake_start(&f) == 0);
	s = fake_store(&f, 0, 0);
	memset(got, 0, sizeof(got));
	CHECK_INT(store_get_range(s, "k", 990, 10, got, &err), 0);
	CHECK_STR(f.reqs[0], "GET /bucket/pre/k HTTP/1.1");
	CHECK_STR(f.ranges[0], "bytes=990-999");
	CHECK_STR(got, "0123456789");
	CHECK_INT(store_get_range(s, "k", 0, 10, got, &err), TS_EIO);
	CHECK(strstr(err.msg, "not the range") != NULL);
	CHECK_INT(store_get_range(s, "k", 990, 10, got, &err), TS_ECORRUPT);
	CHECK_INT(store_get_range(s, "k", 990, 10, got, &err), TS_ECORRUPT);
	CHECK(strstr(err.msg, "past its end") != NULL);
	CHECK_INT(f.nreq, 4);
	store_free(s);
	fake_stop(&f);
}
