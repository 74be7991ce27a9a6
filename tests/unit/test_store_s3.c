/*
 * Unit tests of the S3 pieces that need no server: the XML replies
 * (store_s3_xml) on canned bodies, hostile ones included; the backoff
 * schedule and retry classification (store_retry); the payload hash and URI
 * encoding libcurl's SigV4 signs (store_s3_req); option checks of store_open.
 * The real server is exercised by tests/integration/03NN-*.sh.
 */
#include "tests/unit/test.h"

#include "store/store.h"
#include "store/store_retry.h"
#include "store/store_s3.h"
#include "store/store_s3_req.h"
#include "store/store_s3_xml.h"

static const char list_page1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>lake</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>p/a&amp;b&#34;c&#x263A;</Key><LastModified>2026-11-25T13:00:00.123Z"
    "</LastModified><ETag>&#34;e1&#34;</ETag><Size>12</Size></Contents>"
    "<Contents><Key>p/raw/x.parquet</Key><Size>1073741824000</Size></Contents>"
    "<NextContinuationToken>1/tok+en==</NextContinuationToken>"
    "</ListBucketResult>";

struct seen {
	char keys[4][64];
	uint64_t sizes[4];
	int64_t mtimes[4];
	int n;
};

static int seen_entry(const char *key, uint64_t size, int64_t mtime_us, void *arg)
{
	struct seen *s = arg;

	if (s->n == 4)
		return -50;
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	s->sizes[s->n] = size;
	s->mtimes[s->n++] = mtime_us;
	return 0;
}

TEST(store_s3_xml_list_page)
{
	struct store_s3_list_page page;
	struct seen seen;
	struct ts_err err;

	memset(&seen, 0, sizeof(seen));
	CHECK_INT(store_s3_xml_list(list_page1, strlen(list_page1), seen_entry, &seen, &page, &err),
	          0);
	REQUIRE(seen.n == 2);
	CHECK_STR(seen.keys[0], "p/a&b\"c\xE2\x98\xBA");
	CHECK_INT(seen.sizes[0], 12);
	CHECK_INT(seen.mtimes[0], 1795611600123000LL);
	CHECK_STR(seen.keys[1], "p/raw/x.parquet");
	CHECK_INT(seen.sizes[1], 1073741824000ULL);
	CHECK_INT(seen.mtimes[1], 0);
	CHECK_INT(page.truncated, 1);
	CHECK_STR(page.token, "1/tok+en==");
}

TEST(store_s3_xml_list_last_and_empty)
{
	static const char last[] = "<ListBucketResult><KeyCount>0</KeyCount>"
	                           "<IsTruncated>false</IsTruncated></ListBucketResult>";
	struct store_s3_list_page page;
	struct seen seen;
	struct ts_err err;

	memset(&seen, 0, sizeof(seen));
	CHECK_INT(store_s3_xml_list(last, strlen(last), seen_entry, &seen, &page, &err), 0);
	CHECK_INT(seen.n, 0);
	CHECK_INT(page.truncated, 0);
}

TEST(store_s3_xml_list_hostile)
{
	static const char *const bad[] = {
	    "",
	    "<Error><Code>x</Code></Error>",
	    "<ListBucketResult><Contents><Key>a</Key><Size>1</Size>", /* unterminated */
	    "<ListBucketResult><Contents><Key>a</Key></Contents>",    /* no size */
	    "<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents>",
	    "<ListBucketResult><Contents><Key>a</Key><Size>99999999999999999999</Size></Contents>",
	    "<ListBucketResult><Contents><Key>a&bogus;</Key><Size>1</Size></Contents>",
	    "<ListBucketResult><Contents><Key>a&#0;</Key><Size>1</Size></Contents>",
	    "<ListBucketResult><Contents><Key>a&#xD800;</Key><Size>1</Size></Contents>",
	    "<ListBucketResult><Contents><Key>a&amp</Key><Size>1</Size></Contents>",
	    "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", /* no token */
	};
	struct store_s3_list_page page;
	struct seen seen;
	struct ts_err err;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&seen, 0, sizeof(seen));
		if (store_s3_xml_list(bad[i], strlen(bad[i]), seen_entry, &seen, &page, &err) !=
		    TS_ECORRUPT)
			test_fail(__FILE__, __LINE__, "hostile listing %zu accepted", i);
	}
}

TEST(store_s3_xml_bounds)
{
	char small[4], key[2000];
	static const char open_only[] = "<Key>abc";
	const char *cut = "<Code>NoSuchKey</Code>";

	/* Never reads past len, even when the bytes after it would complete the element. */
	CHECK_INT(store_s3_xml_text(cut, 10, "Code", small, sizeof(small)), TS_ECORRUPT);
	CHECK_INT(store_s3_xml_text(cut, strlen(cut), "Code", small, sizeof(small)), TS_ETOOBIG);
	CHECK_INT(store_s3_xml_text(open_only, strlen(open_only), "Key", key, sizeof(key)),
	          TS_ECORRUPT);
	CHECK_INT(store_s3_xml_text(cut, strlen(cut), "Nope", key, sizeof(key)), TS_ENOTFOUND);
	/* <Key> is not <KeyCount>. */
	CHECK_INT(
	    store_s3_xml_text("<KeyCount>3</KeyCount><Key>k</Key>", 34, "Key", key, sizeof(key)),
	    0);
	CHECK_STR(key, "k");
}

TEST(store_s3_xml_errors)
{
	static const char nsb[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                          "<Error><Code>NoSuchBucket</Code><Message>The specified bucket "
	                          "does not exist</Message><BucketName>nob</BucketName>"
	                          "<Resource>/nob/k</Resource><RequestId>1</RequestId></Error>";
	struct store_s3_error e;
	char longmsg[1200];

	CHECK_INT(store_s3_xml_error(nsb, strlen(nsb), &e), 1);
	CHECK_STR(e.code, "NoSuchBucket");
	CHECK_STR(e.message, "The specified bucket does not exist");
	CHECK_INT(store_s3_xml_error("<html>bad gateway</html>", 24, &e), 0);
	CHECK_STR(e.code, "");
	/* An over-long message is cut to fit, not lost. */
	snprintf(longmsg, sizeof(longmsg),
	         "<Error><Code>SlowDown</Code><Message>%0900d</Message>"
	         "</Error>",
	         7);
	CHECK_INT(store_s3_xml_error(longmsg, strlen(longmsg), &e), 1);
	CHECK_STR(e.code, "SlowDown");
	CHECK_INT(strlen(e.message), sizeof(e.message) - 1);
}

TEST(store_s3_upload_id)
{
	static const char init[] = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
	                           "<UploadId>VXBsb2FkIElE&amp;x</UploadId>"
	                           "</InitiateMultipartUploadResult>";
	char id[64];

	CHECK_INT(store_s3_xml_text(init, strlen(init), "UploadId", id, sizeof(id)), 0);
	CHECK_STR(id, "VXBsb2FkIElE&x");
}

TEST(store_retry_schedule)
{
	struct store_retry r;
	int64_t lo[] = {50, 100, 200, 400, 800, 1600, 2500, 2500, 2500};
	int64_t hi[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};

	store_retry_init(&r, 4, 0, 42);
	CHECK_INT(r.max_attempts, 5);
	for (int round = 0; round < 200; round++) {
		for (int a = 1; a <= 9; a++) {
			int64_t d = store_retry_delay_ms(&r, a);

			if (d < lo[a - 1] || d > hi[a - 1])
				test_fail(__FILE__, __LINE__, "delay %lld after attempt %d",
				          (long long)d, a);
		}
	}
	/* Jitter: two stores started together do not retry in lock step. */
	{
		struct store_retry x, y;
		int same = 0;

		store_retry_init(&x, 4, 0, 1);
		store_retry_init(&y, 4, 0, 2);
		for (int i = 0; i < 20; i++)
			same += store_retry_delay_ms(&x, 5) == store_retry_delay_ms(&y, 5);
		CHECK(same < 5);
	}
	/* A huge attempt number cannot overflow the doubling. */
	CHECK(store_retry_delay_ms(&r, 1000000) <= 5000);
}

TEST(store_retry_bounds)
{
	struct store_retry r;

	store_retry_init(&r, 2, 0, 7);
	CHECK_INT(store_retry_again(&r, 1, 0, 100), 1);
	CHECK_INT(store_retry_again(&r, 2, 0, 100), 1);
	CHECK_INT(store_retry_again(&r, 3, 0, 100), 0); /* 3 attempts = 1 + 2 retries */
	store_retry_init(&r, 0, 0, 7);
	CHECK_INT(store_retry_again(&r, 1, 0, 1), 0);
	store_retry_init(&r, 10, 1000, 7);
	CHECK_INT(store_retry_again(&r, 1, 800, 150), 1);
	CHECK_INT(store_retry_again(&r, 1, 900, 150), 0); /* would start past the budget */
}

TEST(store_retry_classification)
{
	CHECK_INT(store_retry_retryable(1, 0, NULL), 1);
	CHECK_INT(store_retry_retryable(0, 500, "InternalError"), 1);
	CHECK_INT(store_retry_retryable(0, 503, "SlowDown"), 1);
	CHECK_INT(store_retry_retryable(0, 503, NULL), 1);
	CHECK_INT(store_retry_retryable(0, 429, NULL), 1);
	CHECK_INT(store_retry_retryable(0, 499, NULL), 1); /* MinIO shutting down */
	CHECK_INT(store_retry_retryable(0, 400, "RequestTimeout"), 1);
	CHECK_INT(store_retry_retryable(0, 403, "SignatureDoesNotMatch"), 0);
	CHECK_INT(store_retry_retryable(0, 404, "NoSuchBucket"), 0);
	CHECK_INT(store_retry_retryable(0, 404, "NoSuchKey"), 0);
	CHECK_INT(store_retry_retryable(0, 400, "InvalidArgument"), 0);
}

TEST(store_s3_payload_hash)
{
	char hex[65];

	store_s3_req_sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	store_s3_req_sha256_hex(NULL, 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	store_s3_req_sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(store_s3_uri_encoding)
{
	struct dbuf b;

	dbuf_init(&b, 4096);
	CHECK_INT(store_s3_req_uri_encode("raw/region=EU/a b+c~_-.parquet", 1, &b), 0);
	CHECK_STR(dbuf_str(&b), "raw/region%3DEU/a%20b%2Bc~_-.parquet");
	dbuf_reset(&b);
	CHECK_INT(store_s3_req_uri_encode("1/tok+en==\xE2\x98\xBA", 0, &b), 0);
	CHECK_STR(dbuf_str(&b), "1%2Ftok%2Ben%3D%3D%E2%98%BA");
	dbuf_release(&b);
	dbuf_init(&b, 8);
	CHECK_INT(store_s3_req_uri_encode("=========", 0, &b), TS_ETOOBIG);
	dbuf_release(&b);
}

TEST(store_s3_open_checks)
{
	struct store_opts o;
	struct store *s = NULL;
	struct ts_err err;

	memset(&o, 0, sizeof(o));
	CHECK_INT(store_open("s3://bucket/p", &o, &s, &err), TS_EINVAL);
	CHECK(strstr(err.msg, "s3.access-key and s3.secret-key must be set") != NULL);
	o.access_key = "AKIDEXAMPLE";
	o.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	o.region = "us-east-1:evil";
	CHECK_INT(store_open("s3://bucket/p", &o, &s, &err), TS_EINVAL);
	o.region = NULL;
	o.part_size = 1024;
	CHECK_INT(store_open("s3://bucket/p", &o, &s, &err), TS_EINVAL);
	CHECK(strstr(err.msg, "part size") != NULL);
	o.part_size = 0;
	REQUIRE(store_open("s3://bucket/p/", &o, &s, &err) == 0);
	CHECK_STR(store_describe(s), "s3://bucket/p at https://s3.us-east-1.amazonaws.com");
	CHECK_INT(store_kind(s), STORE_S3);
	CHECK(!strstr(store_describe(s), "EXAMPLEKEY"));
	store_free(s);
}
