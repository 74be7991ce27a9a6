/*
 * Bounded parsing of S3's XML replies; see store_s3_xml.h.
 */
#include "base/common.h"
#include "base/timeutil.h"
#include "store/store_s3_xml.h"

#include <errno.h>

#define TAG_MAX 64

/* memmem within [from, len). */
static size_t find(const char *xml, size_t len, size_t from, const char *needle, size_t nlen)
{
	const char *p;

	if (from > len)
		return len;
	p = memmem(xml + from, len - from, needle, nlen);
	return p ? (size_t)(p - xml) : len;
}

int store_s3_xml_next(const char *xml, size_t len, const char *tag, size_t *pos, size_t *start,
                      size_t *stop)
{
	char open[TAG_MAX + 3], close[TAG_MAX + 4];
	int olen = snprintf(open, sizeof(open), "<%s>", tag);
	int clen = snprintf(close, sizeof(close), "</%s>", tag);
	size_t a, b;

	if (olen >= (int)sizeof(open) || clen >= (int)sizeof(close))
		BUG("xml tag %s too long", tag);
	a = find(xml, len, *pos, open, (size_t)olen);
	if (a == len)
		return 0;
	b = find(xml, len, a + (size_t)olen, close, (size_t)clen);
	if (b == len)
		return TS_ECORRUPT;
	*start = a + (size_t)olen;
	*stop = b;
	*pos = b + (size_t)clen;
	return 1;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decodes the entity at s[0..n) (after '&', before ';') into buf; returns
 * the byte count or 0 when it is not one we know. */
static size_t entity(const char *s, size_t n, char buf[4])
{
	static const struct {
		const char *name;
		char c;
	} named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
	char num[12];
	char *end;
	unsigned long cp;

	for (size_t i = 0; i < ARRAY_SIZE(named); i++) {
		if (n == strlen(named[i].name) && !memcmp(s, named[i].name, n)) {
			buf[0] = named[i].c;
			return 1;
		}
	}
	if (n < 2 || n > 9 || s[0] != '#')
		return 0;
	memcpy(num, s + 1, n - 1);
	num[n - 1] = '\0';
	errno = 0;
	cp = (num[0] == 'x') ? strtoul(num + 1, &end, 16) : strtoul(num, &end, 10);
	if (errno || *end || end == num || end == num + 1 || !cp || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return put_utf8(buf, (uint32_t)cp);
}

/* Decodes xml[a..b) into out. */
static int decode(const char *xml, size_t a, size_t b, char *out, size_t size)
{
	size_t o = 0;

	while (a < b) {
		char buf[4];
		size_t n = 1;

		if (xml[a] == '&') {
			size_t semi = find(xml, b, a + 1, ";", 1);

			if (semi == b || !(n = entity(xml + a + 1, semi - a - 1, buf)))
				return TS_ECORRUPT;
			a = semi + 1;
		} else {
			buf[0] = xml[a++];
		}
		if (o + n >= size) {
			out[o] = '\0'; /* what fit, for callers that accept a cut */
			return TS_ETOOBIG;
		}
		memcpy(out + o, buf, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int store_s3_xml_text(const char *xml, size_t len, const char *tag, char *out, size_t size)
{
	size_t pos = 0, a, b;
	int rc = store_s3_xml_next(xml, len, tag, &pos, &a, &b);

	if (rc <= 0)
		return rc ? rc : TS_ENOTFOUND;
	return decode(xml, a, b, out, size);
}

int store_s3_xml_error(const char *xml, size_t len, struct store_s3_error *out)
{
	size_t pos = 0, a, b;
	int rc;

	memset(out, 0, sizeof(*out));
	if (store_s3_xml_next(xml, len, "Error", &pos, &a, &b) != 1)
		return 0;
	if (store_s3_xml_text(xml + a, b - a, "Code", out->code, sizeof(out->code)))
		out->code[0] = '\0';
	/* A long message is cut, not dropped: decode what fits. */
	rc = store_s3_xml_text(xml + a, b - a, "Message", out->message, sizeof(out->message));
	if (rc && rc != TS_ETOOBIG)
		out->message[0] = '\0';
	return 1;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return TS_ECORRUPT;
	*out = strtoull(s, &end, 10);
	return errno || *end ? TS_ECORRUPT : 0;
}

/* One <Contents> element, xml[a..b). */
static int list_entry(const char *xml, size_t a, size_t b, store_s3_xml_entry_fn fn, void *arg,
                      struct ts_err *err)
{
	char key[1100], size[32], mtime[64];
	int64_t us = 0;
	uint64_t n;
	const char *why;

	if (store_s3_xml_text(xml + a, b - a, "Key", key, sizeof(key)) ||
	    store_s3_xml_text(xml + a, b - a, "Size", size, sizeof(size)) || parse_size(size, &n))
		return ts_err_set(err, TS_ECORRUPT,
		                  "S3 listing: a <Contents> without a valid "
		                  "<Key> and <Size>");
	if (!store_s3_xml_text(xml + a, b - a, "LastModified", mtime, sizeof(mtime)) &&
	    time_parse_rfc3339(mtime, strlen(mtime), &us, &why))
		us = 0;
	return fn(key, n, us, arg);
}

int store_s3_xml_list(const char *xml, size_t len, store_s3_xml_entry_fn fn, void *arg,
                      struct store_s3_list_page *page, struct ts_err *err)
{
	char flag[8];
	size_t pos = 0, a, b;
	int rc;

	memset(page, 0, sizeof(*page));
	if (!memmem(xml, len, "<ListBucketResult", 17))
		return ts_err_set(err, TS_ECORRUPT, "S3 listing: not a ListBucketResult");
	while ((rc = store_s3_xml_next(xml, len, "Contents", &pos, &a, &b)) == 1) {
		rc = list_entry(xml, a, b, fn, arg, err);
		if (rc)
			return rc;
	}
	if (rc < 0)
		return ts_err_set(err, rc, "S3 listing: unterminated <Contents>");
	if (!store_s3_xml_text(xml, len, "IsTruncated", flag, sizeof(flag)) &&
	    !strcmp(flag, "true"))
		page->truncated = 1;
	if (page->truncated &&
	    store_s3_xml_text(xml, len, "NextContinuationToken", page->token, sizeof(page->token)))
		return ts_err_set(err, TS_ECORRUPT,
		                  "S3 listing: truncated without a usable NextContinuationToken");
	return 0;
}
