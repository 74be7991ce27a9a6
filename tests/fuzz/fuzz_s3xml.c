/*
 * libFuzzer target: the S3 XML reply reader (store_s3_xml.h), which reads
 * whatever an S3 endpoint — or something pretending to be one — sends back.
 * Every function must stay inside the reply, refuse what it cannot read
 * with an error, and only ever hand out NUL-terminated text that fits.
 */
#include "base/common.h"
#include "store/store_s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	size_t n;
};

static int on_entry(const char *key, uint64_t size, int64_t mtime_us, void *arg)
{
	struct seen *s = arg;

	(void)size;
	(void)mtime_us;
	if (!key)
		BUG("entry without a key");
	(void)strlen(key); /* must be NUL-terminated: ASan checks the read */
	s->n++;
	return s->n > 100000; /* stopping early is allowed too */
}

static void walk(const char *xml, size_t len)
{
	size_t pos = 0, start, stop;
	int found;

	while ((found = store_s3_xml_next(xml, len, "Contents", &pos, &start, &stop)) == 1)
		if (start > stop || stop > len || pos > len)
			BUG("element outside the reply");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *xml = (const char *)data;
	struct store_s3_list_page page;
	struct store_s3_error e;
	struct seen s = {0};
	struct ts_err err;
	char text[64];
	int rc;

	walk(xml, size);
	rc = store_s3_xml_text(xml, size, "UploadId", text, sizeof(text));
	if (!rc && strnlen(text, sizeof(text)) == sizeof(text))
		BUG("text not terminated");
	if (store_s3_xml_error(xml, size, &e) &&
	    (strnlen(e.code, sizeof(e.code)) == sizeof(e.code) ||
	     strnlen(e.message, sizeof(e.message)) == sizeof(e.message)))
		BUG("error fields not terminated");
	memset(&page, 0, sizeof(page));
	rc = store_s3_xml_list(xml, size, on_entry, &s, &page, &err);
	if (rc == TS_ECORRUPT && !err.msg[0])
		BUG("corrupt without a message");
	if (!rc && page.truncated && strnlen(page.token, sizeof(page.token)) == sizeof(page.token))
		BUG("token not terminated");
	return 0;
}
