/*
 * Page (de)compression over libsnappy, zlib and libzstd; see
 * parquet_compress.h for the bounded-output contract.
 */
#include "base/common.h"
#include "parquet/parquet_compress.h"

#include <pthread.h>
#include <snappy-c.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                    "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};

const char *parquet_compress_name(int codec)
{
	return codec >= 0 && codec < (int)ARRAY_SIZE(names) ? names[codec] : "?";
}

int parquet_compress_parse(const char *s, int *codec)
{
	if (!strcasecmp(s, "none") || !strcasecmp(s, "uncompressed"))
		*codec = PARQUET_UNCOMPRESSED;
	else if (!strcasecmp(s, "snappy"))
		*codec = PARQUET_SNAPPY;
	else if (!strcasecmp(s, "gzip"))
		*codec = PARQUET_GZIP;
	else if (!strcasecmp(s, "zstd"))
		*codec = PARQUET_ZSTD;
	else
		return TS_EINVAL;
	return 0;
}

int parquet_compress_supported(int codec)
{
	return codec == PARQUET_UNCOMPRESSED || codec == PARQUET_SNAPPY || codec == PARQUET_GZIP ||
	       codec == PARQUET_ZSTD;
}

static int reserve(struct dbuf *out, size_t extra, char **dst)
{
	int rc;

	/* Grow through dbuf so its ceiling applies, then hand back the room. */
	if (extra > out->max || out->len > out->max - extra)
		return TS_ETOOBIG;
	if (out->cap < out->len + extra + 1) {
		size_t len = out->len;

		rc = dbuf_add(out, NULL, 0);
		if (rc)
			return rc;
		char *p = realloc(out->buf, len + extra + 1);
		if (!p)
			return TS_ENOMEM;
		out->buf = p;
		out->cap = len + extra + 1;
	}
	*dst = out->buf + out->len;
	return 0;
}

static int gzip_compress(int level, const void *in, size_t n, struct dbuf *out)
{
	z_stream zs;
	char *dst;
	size_t bound;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
	                 Z_DEFAULT_STRATEGY) != Z_OK)
		return TS_ENOMEM;
	bound = deflateBound(&zs, (uLong)n);
	rc = reserve(out, bound, &dst);
	if (!rc) {
		zs.next_in = (Bytef *)(uintptr_t)in;
		zs.avail_in = (uInt)n;
		zs.next_out = (Bytef *)dst;
		zs.avail_out = (uInt)bound;
		rc = deflate(&zs, Z_FINISH) == Z_STREAM_END ? 0 : TS_EIO;
		if (!rc)
			out->len += zs.total_out;
	}
	deflateEnd(&zs);
	return rc;
}

/*
 * ZSTD contexts kept for reuse. ZSTD_compress and ZSTD_decompress set up a
 * context for every call: a workspace allocated and freed, and libzstd's
 * check for BMI2 instructions, two CPUID instructions, which in a virtual
 * machine each trap to the hypervisor (about 4 % of ingest's CPU in perf,
 * on the instruction after each CPUID). A context made once and reused
 * does both once. Contexts go back to a small pool for whichever thread
 * (de)compresses next; beyond ZCTX_KEPT idle ones of a kind, or past
 * ZCTX_KEPT_BYTES each (a high level's workspace), they are freed, so the
 * memory kept is bounded (a level-1 compression context of a 1 MiB page
 * is 0.6 MB). The output is the same bytes: ZSTD_compressCCtx compresses
 * exactly as ZSTD_compress does.
 */
#define ZCTX_KEPT       4
#define ZCTX_KEPT_BYTES (4u << 20)

struct zctx_pool {
	void *kept[ZCTX_KEPT];
	int n;
};

static pthread_mutex_t zctx_mu = PTHREAD_MUTEX_INITIALIZER;
static struct zctx_pool cctx_pool, dctx_pool;

/* An idle context, or NULL: the caller makes one. */
static void *zctx_take(struct zctx_pool *p)
{
	void *v = NULL;

	pthread_mutex_lock(&zctx_mu);
	if (p->n)
		v = p->kept[--p->n];
	pthread_mutex_unlock(&zctx_mu);
	return v;
}

/* Whether the pool kept v (of size bytes); if not, the caller frees it. */
static bool zctx_keep(struct zctx_pool *p, void *v, size_t size)
{
	bool kept = false;

	if (size > ZCTX_KEPT_BYTES)
		return false;
	pthread_mutex_lock(&zctx_mu);
	if (p->n < ZCTX_KEPT) {
		p->kept[p->n++] = v;
		kept = true;
	}
	pthread_mutex_unlock(&zctx_mu);
	return kept;
}

static int zstd_compress(int level, const void *in, size_t n, struct dbuf *out)
{
	size_t bound = ZSTD_compressBound(n), got;
	ZSTD_CCtx *c;
	char *dst;
	int rc = reserve(out, bound, &dst);

	if (rc)
		return rc;
	if (!(c = zctx_take(&cctx_pool)) && !(c = ZSTD_createCCtx()))
		return TS_ENOMEM;
	got = ZSTD_compressCCtx(c, dst, bound, in, n, level ? level : 1);
	if (!zctx_keep(&cctx_pool, c, ZSTD_sizeof_CCtx(c)))
		ZSTD_freeCCtx(c);
	if (ZSTD_isError(got))
		return TS_EIO;
	out->len += got;
	return 0;
}

int parquet_compress(int codec, int level, const void *in, size_t n, struct dbuf *out,
                     struct ts_err *err)
{
	size_t bound, got;
	char *dst;
	int rc;

	if (n > UINT32_MAX)
		return ts_err_set(err, TS_ETOOBIG, "page of %zu bytes is too large", n);
	switch (codec) {
	case PARQUET_UNCOMPRESSED:
		rc = dbuf_add(out, in, n);
		break;
	case PARQUET_SNAPPY:
		bound = snappy_max_compressed_length(n);
		rc = reserve(out, bound, &dst);
		got = bound;
		if (!rc && snappy_compress(in, n, dst, &got) != SNAPPY_OK)
			rc = TS_EIO;
		if (!rc)
			out->len += got;
		break;
	case PARQUET_ZSTD:
		rc = zstd_compress(level, in, n, out);
		break;
	case PARQUET_GZIP:
		rc = gzip_compress(level, in, n, out);
		break;
	default:
		return ts_err_set(err, TS_EINVAL, "cannot write %s pages",
		                  parquet_compress_name(codec));
	}
	if (rc)
		return ts_err_set(err, rc, "%s compression of %zu bytes failed",
		                  parquet_compress_name(codec), n);
	return 0;
}

static int gzip_undo(const void *in, size_t n, void *out, size_t out_size)
{
	z_stream zs;
	int zrc;

	memset(&zs, 0, sizeof(zs));
	/* 15 + 32: accept gzip or zlib framing. */
	if (inflateInit2(&zs, 15 + 32) != Z_OK)
		return TS_ENOMEM;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)out_size;
	zrc = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	return zrc == Z_STREAM_END && zs.total_out == out_size ? 0 : TS_ECORRUPT;
}

static int snappy_undo(const void *in, size_t n, void *out, size_t out_size)
{
	size_t len;

	if (snappy_uncompressed_length(in, n, &len) != SNAPPY_OK || len != out_size)
		return TS_ECORRUPT;
	return snappy_uncompress(in, n, out, &len) == SNAPPY_OK && len == out_size ? 0
	                                                                           : TS_ECORRUPT;
}

static int zstd_undo(const void *in, size_t n, void *out, size_t out_size)
{
	ZSTD_DCtx *d = zctx_take(&dctx_pool);
	size_t got;

	if (!d && !(d = ZSTD_createDCtx()))
		return TS_ENOMEM;
	got = ZSTD_decompressDCtx(d, out, out_size, in, n);
	if (!zctx_keep(&dctx_pool, d, ZSTD_sizeof_DCtx(d)))
		ZSTD_freeDCtx(d);
	return !ZSTD_isError(got) && got == out_size ? 0 : TS_ECORRUPT;
}

/* deflate cannot do better than about 1032:1. */
#define GZIP_MAX_RATIO 1032

int parquet_compress_check(int codec, const void *in, size_t n, size_t out_size, struct ts_err *err)
{
	unsigned long long zlen;
	size_t len;
	bool ok;

	switch (codec) {
	case PARQUET_SNAPPY:
		ok = snappy_uncompressed_length(in, n, &len) == SNAPPY_OK && len == out_size;
		break;
	case PARQUET_ZSTD:
		zlen = ZSTD_getFrameContentSize(in, n);
		/* One frame declares the page's size; several frames (or
		 * streaming ones) are held to a generous ratio instead. */
		ok = zlen == out_size || ((zlen == ZSTD_CONTENTSIZE_UNKNOWN || zlen < out_size) &&
		                          out_size / 256 <= n + 1024);
		break;
	case PARQUET_GZIP:
		ok = out_size / GZIP_MAX_RATIO <= n + 1;
		break;
	default:
		ok = n == out_size;
	}
	if (!ok)
		return ts_err_set(err, TS_ECORRUPT,
		                  "%s page of %zu bytes cannot hold the %zu bytes it declares",
		                  parquet_compress_name(codec), n, out_size);
	return 0;
}

int parquet_compress_undo(int codec, const void *in, size_t n, void *out, size_t out_size,
                          struct ts_err *err)
{
	int rc;

	if (n > UINT32_MAX || out_size > UINT32_MAX)
		return ts_err_set(err, TS_ETOOBIG, "page too large");
	switch (codec) {
	case PARQUET_UNCOMPRESSED:
		rc = n == out_size ? 0 : TS_ECORRUPT;
		if (!rc && n)
			memcpy(out, in, n);
		break;
	case PARQUET_SNAPPY:
		rc = snappy_undo(in, n, out, out_size);
		break;
	case PARQUET_GZIP:
		rc = gzip_undo(in, n, out, out_size);
		break;
	case PARQUET_ZSTD:
		rc = zstd_undo(in, n, out, out_size);
		break;
	default:
		return ts_err_set(err, TS_EINVAL, "%s compression is not supported",
		                  parquet_compress_name(codec));
	}
	if (rc == TS_ENOMEM)
		return ts_err_set(err, rc, "out of memory for a %s context",
		                  parquet_compress_name(codec));
	if (rc)
		return ts_err_set(err, rc, "%s page does not decompress to its declared %zu bytes",
		                  parquet_compress_name(codec), out_size);
	return 0;
}
