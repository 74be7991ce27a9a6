/*
 * The streaming Parquet writer; see parquet_writer.h for the contract.
 *
 * Each column buffers one page (definition levels, then dictionary indices
 * or PLAIN values) and, for the current row group, its encoded and
 * compressed pages. When a row group closes, every column chunk is written
 * out in schema order: its dictionary page first (the dictionary is only
 * final then), then its data pages. Offsets and statistics collected on the
 * way become the footer.
 */
#include "base/common.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_dict.h"
#include "parquet/parquet_page.h"
#include "parquet/parquet_rle.h"
#include "parquet/parquet_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <math.h>
#include <linux/aio_abi.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TOPSONGS_VERSION
#define TOPSONGS_VERSION "0.0.0-dev"
#endif

#define MAX_PAGE_ROWS (1u << 20)
#define MAX_BUF       ((size_t)4 << 30)
#define DIRECT_ALIGN  4096u      /* O_DIRECT: buffer, offset and length alignment */
#define DIRECT_STAGE  (1u << 20) /* bytes staged per O_DIRECT write */

/* O_DIRECT output: two staging buffers (DIRECT_ALIGN-aligned, DIRECT_STAGE
 * bytes, allocated on first use), the one being filled and the one being
 * written, with the AIO context and requests. */
struct direct_out {
	char *buf[2];
	int cur;
	size_t staged;
	bool busy[2];
	aio_context_t ctx;
	struct iocb cb[2];
	uint64_t extent; /* the file's size as extended ahead of the writes */
	/* Between row groups the buffers are freed (direct_idle); the last
	 * partial block waits here. */
	char tail[DIRECT_ALIGN];
	size_t ntail;
};

/* Running statistics of a page or a chunk. */
struct wstat {
	int64_t nulls;
	bool has, too_long;
	int64_t imin, imax;
	double dmin, dmax;
	uint32_t bmin_len, bmax_len;
	uint8_t bmin[PARQUET_MAX_STAT_BYTES], bmax[PARQUET_MAX_STAT_BYTES];
};

struct wcol {
	char *name;
	int type, logical;
	bool optional;
	bool no_dict; /* set in opts.no_dictionary */
	int vsize;    /* PLAIN width of fixed-width types; 0 for BYTE_ARRAY, BOOLEAN */
	/* the page being filled */
	uint32_t *defs, *idx;
	uint32_t nrows, nvals;
	struct dbuf plain;
	struct wstat pst;
	/* the chunk being filled */
	bool use_dict;
	struct parquet_dict dict;
	uint32_t *stamp;
	size_t stamp_cap;
	uint32_t page_no;
	uint32_t chunk_pages; /* data pages so far in this chunk */
	struct dbuf pages;
	struct dbuf spare; /* the previous chunk's pages, while the worker writes them */
	int64_t chunk_uncompressed;
	uint32_t encodings;
	struct wstat cst;
	int64_t filled; /* values put since the file began */
};

/* A data page on its way into its column chunk. */
struct page_job {
	bool is_write; /* a finished chunk to write out: pre, then c->spare */
	bool idle;     /* the row group's last chunk: direct_idle after it */
	struct dbuf pre;
	struct wcol *c;
	struct parquet_page_header h;
	struct dbuf body; /* uncompressed; v2: levels (lv bytes) first */
	size_t lv;
	struct page_job *next;
};

/* Pages in flight at most: bounds the memory the pipeline adds. */
#define PIPE_DEPTH 8

/* The compression thread and its queue (opts.threads = 1). */
struct writer_pipe {
	bool started, stop;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;  /* for the worker; for the caller */
	bool worker_idle, caller_waiting; /* signal only someone waiting */
	struct page_job *head, *pool;
	int inflight;
	struct page_job sync_job; /* the one job without a thread */
	struct dbuf comp;         /* the worker's compression buffer */
	int rc;
	struct ts_err err;
};

struct parquet_writer {
	struct parquet_writer_opts o;
	struct writer_pipe pipe;
	struct wcol *cols;
	int ncols;
	int64_t rows, rg_rows;
	size_t buffered;
	/* output */
	bool is_mem, closed;
	int fd;
	bool direct;   /* fd is O_DIRECT: output goes through dio */
	uint64_t foff; /* bytes written or requested so far */
	struct direct_out dio;
	char *path, *tmp;
	struct dbuf mem;
	uint64_t offset;
	/* footer */
	struct parquet_row_group *rgs;
	int nrg, rg_cap;
	struct parquet_kv *kv;
	int nkv;
	struct dbuf scratch, comp;
	int rc;
	struct ts_err err;
};

void parquet_writer_opts_init(struct parquet_writer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->codec = PARQUET_ZSTD;
	o->row_group_rows = 1 << 20;
	o->row_group_bytes = 128u << 20;
	o->page_bytes = 1u << 20;
	o->page_rows = 20000;
	o->dictionary = true;
	o->dict_max_bytes = 1u << 20;
	o->mem_max = MAX_BUF;
	o->threads = 1;
	/* Off by default: it is measured only on the benchmark's large files,
	 * its fallbacks are untested, and ingest writes many small files
	 * (docs/parquet.md). */
	o->direct_io = false;
}

/* ---- statistics ---- */

static void stat_reset(struct wstat *s)
{
	s->nulls = 0;
	s->has = false;
	s->too_long = false;
}

static void stat_int(struct wstat *s, int64_t v)
{
	if (!s->has) {
		s->imin = s->imax = v;
		s->has = true;
	} else if (v < s->imin) {
		s->imin = v;
	} else if (v > s->imax) {
		s->imax = v;
	}
}

/* The minimum and maximum of k INT32 (vsize 4) or INT64 values, skipping
 * position j when ok is given and ok[j] is 0, in one pass. */
static void stat_ints(struct wstat *s, int vsize, const void *values, const uint8_t *ok, size_t k)
{
	const uint8_t *p = values;
	int64_t lo = INT64_MAX, hi = INT64_MIN;

	for (size_t j = 0; j < k; j++) {
		int64_t v;
		int32_t v32;

		if (vsize == 8) {
			memcpy(&v, p + j * 8, 8);
		} else {
			memcpy(&v32, p + j * 4, 4);
			v = v32;
		}
		if (ok && !ok[j])
			continue;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	if (lo <= hi) {
		stat_int(s, lo);
		stat_int(s, hi);
	}
}

/* Columns whose dictionary pages take their statistics as values are put
 * (stat_ints), not from the dictionary when the page closes. */
static bool stats_at_put(int type)
{
	return type == PARQUET_INT32 || type == PARQUET_INT64;
}

static void stat_dbl(struct wstat *s, double v)
{
	if (isnan(v))
		return;
	if (!s->has) {
		s->dmin = s->dmax = v;
		s->has = true;
		return;
	}
	/* -0.0 as a min and +0.0 as a max, whichever zero came first. */
	if (v < s->dmin || (v == 0 && s->dmin == 0 && signbit(v)))
		s->dmin = v;
	if (v > s->dmax || (v == 0 && s->dmax == 0 && !signbit(v)))
		s->dmax = v;
}

/* Unsigned lexicographic order. The first 8 bytes, compared as one
 * big-endian word, settle most comparisons without a library call. */
static int bytes_cmp(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	uint32_t n = alen < blen ? alen : blen;
	int c;

	if (n >= 8) {
		uint64_t x, y;

		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if (x != y)
			return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
	}
	c = memcmp(a, b, n);
	return c ? c : (alen > blen) - (alen < blen);
}

static void stat_bytes(struct wstat *s, const uint8_t *p, uint32_t n)
{
	if (n > PARQUET_MAX_STAT_BYTES) {
		s->too_long = true;
		return;
	}
	if (!s->has || bytes_cmp(p, n, s->bmin, s->bmin_len) < 0) {
		memcpy(s->bmin, p, n);
		s->bmin_len = n;
	}
	if (!s->has || bytes_cmp(p, n, s->bmax, s->bmax_len) > 0) {
		memcpy(s->bmax, p, n);
		s->bmax_len = n;
	}
	s->has = true;
}

/* v holds the PLAIN encoding of one value (n bytes; bools as one byte). */
static void stat_value(struct wstat *s, int type, const void *v, uint32_t n)
{
	int32_t i32;
	int64_t i64;
	float f;
	double d;

	switch (type) {
	case PARQUET_BOOLEAN:
		stat_int(s, *(const uint8_t *)v);
		break;
	case PARQUET_INT32:
		memcpy(&i32, v, 4);
		stat_int(s, i32);
		break;
	case PARQUET_INT64:
		memcpy(&i64, v, 8);
		stat_int(s, i64);
		break;
	case PARQUET_FLOAT:
		memcpy(&f, v, 4);
		stat_dbl(s, f);
		break;
	case PARQUET_DOUBLE:
		memcpy(&d, v, 8);
		stat_dbl(s, d);
		break;
	default:
		stat_bytes(s, v, n);
	}
}

static void stat_merge(struct wstat *into, int type, const struct wstat *s)
{
	into->nulls += s->nulls;
	into->too_long |= s->too_long;
	if (!s->has)
		return;
	if (type == PARQUET_BYTE_ARRAY) {
		stat_bytes(into, s->bmin, s->bmin_len);
		stat_bytes(into, s->bmax, s->bmax_len);
	} else if (type == PARQUET_FLOAT || type == PARQUET_DOUBLE) {
		stat_dbl(into, s->dmin);
		stat_dbl(into, s->dmax);
	} else {
		stat_int(into, s->imin);
		stat_int(into, s->imax);
	}
}

static uint32_t plain_of(int type, int64_t i, double d, uint8_t *out)
{
	int32_t i32 = (int32_t)i;
	float f = (float)d;

	switch (type) {
	case PARQUET_BOOLEAN:
		out[0] = (uint8_t)i;
		return 1;
	case PARQUET_INT32:
		memcpy(out, &i32, 4);
		return 4;
	case PARQUET_FLOAT:
		memcpy(out, &f, 4);
		return 4;
	case PARQUET_DOUBLE:
		memcpy(out, &d, 8);
		return 8;
	}
	memcpy(out, &i, 8);
	return 8;
}

static void stat_export(const struct wstat *s, int type, struct parquet_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->has_null_count = true;
	out->null_count = s->nulls;
	if (!s->has || s->too_long)
		return;
	out->has_min = out->has_max = true;
	if (type == PARQUET_BYTE_ARRAY) {
		memcpy(out->min, s->bmin, s->bmin_len);
		out->min_len = s->bmin_len;
		memcpy(out->max, s->bmax, s->bmax_len);
		out->max_len = s->bmax_len;
		return;
	}
	out->min_len = plain_of(type, s->imin, s->dmin, out->min);
	out->max_len = plain_of(type, s->imax, s->dmax, out->max);
}

/* ---- output ---- */

/* Writes n bytes at the file's end so far (w->foff). */
static int fd_write(struct parquet_writer *w, const char *s, size_t n, struct ts_err *err)
{
	for (size_t done = 0; done < n;) {
		ssize_t k = pwrite(w->fd, s + done, n - done, (off_t)w->foff);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EINVAL && w->direct) {
			/* The file system takes O_DIRECT at open but not these
			 * writes: carry on through the page cache. */
			int fl = fcntl(w->fd, F_GETFL);

			w->direct = false;
			if (fl >= 0 && !fcntl(w->fd, F_SETFL, fl & ~O_DIRECT))
				continue;
		}
		if (k < 0)
			return ts_err_set(err, TS_EIO, "write %s: %s", w->tmp, strerror(errno));
		done += (size_t)k;
		w->foff += (uint64_t)k;
	}
	return 0;
}

/*
 * O_DIRECT output. Bytes are staged in two aligned buffers; a full one is
 * written as one asynchronous request (Linux native AIO, raw system calls)
 * while the other fills, so the caller does not wait for the device; a
 * buffer is reused only once its request completed. Writes that would extend
 * the file are synchronous on ext4, so the file is first extended (sparse,
 * 64 MiB at a time) past them and cut to its size at the end. Without AIO,
 * or when a request fails with EINVAL, the buffer is written synchronously.
 */
#define DIRECT_AHEAD ((uint64_t)64 << 20)

static long aio_setup(aio_context_t *ctx)
{
	return syscall(SYS_io_setup, 2, ctx);
}

/* Waits for buffer k's request; falls back to a synchronous write of it if
 * the file system refused it. */
static int direct_wait(struct parquet_writer *w, int k, struct ts_err *err)
{
	struct direct_out *d = &w->dio;
	struct io_event ev;

	while (d->busy[k]) {
		long got = syscall(SYS_io_getevents, d->ctx, 1, 1, &ev, NULL);

		if (got < 0 && errno == EINTR)
			continue;
		if (got != 1)
			return ts_err_set(err, TS_EIO, "write %s: %s", w->tmp, strerror(errno));
		int j = (int)ev.data, rc, fl;
		uint64_t save = w->foff;

		d->busy[j] = false;
		if (ev.res == (int64_t)d->cb[j].aio_nbytes)
			continue;
		if (ev.res != -EINVAL)
			return ts_err_set(err, TS_EIO, "write %s: %s", w->tmp,
			                  ev.res < 0 ? strerror((int)-ev.res) : "short write");
		/* Refused: O_DIRECT off, and this buffer through the page cache. */
		fl = fcntl(w->fd, F_GETFL);
		if (fl >= 0)
			fcntl(w->fd, F_SETFL, fl & ~O_DIRECT);
		w->direct = false;
		w->foff = (uint64_t)d->cb[j].aio_offset;
		rc = fd_write(w, d->buf[j], d->cb[j].aio_nbytes, err);
		w->foff = save;
		if (rc)
			return rc;
	}
	return 0;
}

/* Writes len bytes of buffer k at w->foff: a request if AIO works, else
 * synchronously. */
static int direct_submit(struct parquet_writer *w, int k, size_t len, struct ts_err *err)
{
	struct direct_out *d = &w->dio;
	struct iocb *cbs[1] = {&d->cb[k]};

	if (d->ctx && w->direct && w->foff + len > d->extent) {
		d->extent = w->foff + len + DIRECT_AHEAD;
		if (ftruncate(w->fd, (off_t)d->extent))
			return ts_err_set(err, TS_EIO, "extend %s: %s", w->tmp, strerror(errno));
	}
	if (!d->ctx || !w->direct)
		return fd_write(w, d->buf[k], len, err);
	memset(&d->cb[k], 0, sizeof(d->cb[k]));
	d->cb[k].aio_data = (uint64_t)k;
	d->cb[k].aio_lio_opcode = IOCB_CMD_PWRITE;
	d->cb[k].aio_fildes = (uint32_t)w->fd;
	d->cb[k].aio_buf = (uint64_t)(uintptr_t)d->buf[k];
	d->cb[k].aio_nbytes = len;
	d->cb[k].aio_offset = (int64_t)w->foff;
	if (syscall(SYS_io_submit, d->ctx, 1, cbs) != 1)
		return fd_write(w, d->buf[k], len, err);
	d->busy[k] = true;
	w->foff += len;
	return 0;
}

static int direct_put(struct parquet_writer *w, const char *s, size_t n, struct ts_err *err)
{
	struct direct_out *d = &w->dio;
	int rc = 0;

	if (!d->buf[0]) {
		void *a = NULL, *b = NULL;

		if (posix_memalign(&a, DIRECT_ALIGN, DIRECT_STAGE) ||
		    posix_memalign(&b, DIRECT_ALIGN, DIRECT_STAGE)) {
			free(a);
			return ts_err_set(err, TS_ENOMEM, "write %s: out of memory", w->tmp);
		}
		d->buf[0] = a;
		d->buf[1] = b;
		if (!d->ctx && aio_setup(&d->ctx))
			d->ctx = 0;
		memcpy(d->buf[0], d->tail, d->ntail);
		d->cur = 0;
		d->staged = d->ntail;
		d->ntail = 0;
	}
	while (!rc && n) {
		size_t k = DIRECT_STAGE - d->staged < n ? DIRECT_STAGE - d->staged : n;

		memcpy(d->buf[d->cur] + d->staged, s, k);
		d->staged += k;
		s += k;
		n -= k;
		if (d->staged == DIRECT_STAGE) {
			rc = direct_submit(w, d->cur, DIRECT_STAGE, err);
			d->cur ^= 1;
			d->staged = 0;
			if (!rc)
				rc = direct_wait(w, d->cur, err);
		}
	}
	return rc;
}

/* Waits for the requests in flight and frees the buffers (AIO must be done
 * with them first). */
static int direct_release(struct parquet_writer *w, struct ts_err *err)
{
	struct direct_out *d = &w->dio;
	int rc = 0;

	if (d->ctx) {
		for (int k = 0; k < 2; k++)
			if (!rc)
				rc = direct_wait(w, k, err);
		/* Cancels or waits for whatever an error left in flight. */
		syscall(SYS_io_destroy, d->ctx);
		d->ctx = 0;
	}
	free(d->buf[0]);
	free(d->buf[1]);
	memset(d, 0, sizeof(*d));
	return rc;
}

/* After a row group: its whole blocks written, the partial one kept in
 * tail, the buffers freed — an idle writer (ingest keeps dozens open) holds
 * no staging memory. */
static int direct_idle(struct parquet_writer *w, struct ts_err *err)
{
	struct direct_out *d = &w->dio;
	size_t whole = d->staged & ~(size_t)(DIRECT_ALIGN - 1);
	int rc = 0;

	if (!d->buf[0])
		return 0;
	if (whole)
		rc = direct_submit(w, d->cur, whole, err);
	for (int k = 0; !rc && k < 2; k++)
		rc = direct_wait(w, k, err);
	if (rc)
		return rc;
	d->ntail = d->staged - whole;
	memcpy(d->tail, d->buf[d->cur] + whole, d->ntail);
	free(d->buf[0]);
	free(d->buf[1]);
	d->buf[0] = d->buf[1] = NULL;
	d->staged = 0;
	return 0;
}

/* Writes what is staged — its whole blocks directly, the tail through the
 * page cache (O_DIRECT cannot write a partial block) — and cuts the file to
 * its size. */
static int direct_finish(struct parquet_writer *w, struct ts_err *err)
{
	struct direct_out *d = &w->dio;
	size_t whole;
	int rc = 0, fl;

	if (d->ntail && (rc = direct_put(w, NULL, 0, err)))
		return rc;
	whole = d->staged & ~(size_t)(DIRECT_ALIGN - 1);
	if (!d->buf[0])
		goto out;
	if (whole)
		rc = direct_submit(w, d->cur, whole, err);
	for (int k = 0; !rc && k < 2; k++)
		rc = direct_wait(w, k, err);
	if (!rc && w->direct && d->staged > whole) {
		fl = fcntl(w->fd, F_GETFL);
		if (fl < 0 || fcntl(w->fd, F_SETFL, fl & ~O_DIRECT))
			rc = ts_err_set(err, TS_EIO, "fcntl %s: %s", w->tmp, strerror(errno));
		w->direct = false;
	}
	if (!rc)
		rc = fd_write(w, d->buf[d->cur] + whole, d->staged - whole, err);
out:
	if (!rc && d->extent > w->foff && ftruncate(w->fd, (off_t)w->foff))
		rc = ts_err_set(err, TS_EIO, "truncate %s: %s", w->tmp, strerror(errno));
	int rc2 = direct_release(w, err);

	return rc ? rc : rc2;
}

/* Appends to the output. With a pipeline, row groups are put by the worker
 * thread, which alone touches the output until it is drained. */
static int sink_put(struct parquet_writer *w, const void *p, size_t n, struct ts_err *err)
{
	if (w->is_mem) {
		if (dbuf_add(&w->mem, p, n))
			return ts_err_set(err, TS_ETOOBIG,
			                  "parquet output over its %zu-byte memory cap",
			                  w->mem.max);
		return 0;
	}
	if (w->direct || w->dio.staged || w->dio.ntail)
		return direct_put(w, p, n, err);
	return fd_write(w, p, n, err);
}

/* w->offset is where the next byte will land, whoever writes it. */
static int sink_write(struct parquet_writer *w, const void *p, size_t n)
{
	int rc = sink_put(w, p, n, &w->err);

	if (!rc)
		w->offset += n;
	return rc;
}

/* ---- pages ---- */

static int fail(struct parquet_writer *w, int rc, const char *what)
{
	if (!w->rc) {
		w->rc = rc;
		if (!w->err.msg[0])
			ts_err_set(&w->err, rc, "%s: %s", what, ts_code_name(rc));
	}
	return w->rc;
}

/* The statistics of a dictionary page: each entry the page uses, once. */
static int dict_page_stats(struct wcol *c)
{
	if (stats_at_put(c->type))
		return 0;
	if (c->stamp_cap < c->dict.n) {
		size_t cap = c->dict.n * 2;
		uint32_t *s = realloc(c->stamp, cap * sizeof(*s));

		if (!s)
			return TS_ENOMEM;
		memset(s + c->stamp_cap, 0, (cap - c->stamp_cap) * sizeof(*s));
		c->stamp = s;
		c->stamp_cap = cap;
	}
	c->page_no++;
	for (uint32_t i = 0; i < c->nvals; i++) {
		uint32_t e = c->idx[i], len;
		const uint8_t *v;

		if (c->stamp[e] == c->page_no)
			continue;
		c->stamp[e] = c->page_no;
		v = parquet_dict_value(&c->dict, e, &len);
		stat_value(&c->pst, c->type, v, len);
	}
	return 0;
}

/* Appends the page's values section to out. */
static int encode_values(struct wcol *c, struct dbuf *out)
{
	int rc = 0;

	if (c->use_dict) {
		int bw = parquet_rle_bit_width(c->dict.n ? c->dict.n - 1 : 0);
		uint8_t b;

		bw = bw ? bw : 1;
		b = (uint8_t)bw;
		rc = dbuf_add(out, &b, 1);
		return rc ? rc : parquet_rle_encode(out, c->idx, c->nvals, bw);
	}
	if (c->type == PARQUET_BOOLEAN) {
		uint8_t packed[8192];

		for (size_t i = 0; !rc && i < c->nvals; i += sizeof(packed) * 8) {
			size_t k =
			    c->nvals - i < sizeof(packed) * 8 ? c->nvals - i : sizeof(packed) * 8;

			memset(packed, 0, (k + 7) / 8);
			for (size_t j = 0; j < k; j++)
				packed[j >> 3] |= (uint8_t)(c->plain.buf[i + j] << (j & 7));
			rc = dbuf_add(out, packed, (k + 7) / 8);
		}
		return rc;
	}
	return dbuf_add(out, c->plain.buf, c->plain.len);
}

static int add_levels(struct wcol *c, struct dbuf *out, bool prefix)
{
	size_t at = out->len;
	uint32_t len;
	int rc = 0;

	if (!c->optional)
		return 0;
	if (prefix)
		rc = dbuf_add(out, "\0\0\0\0", 4);
	if (!rc)
		rc = parquet_rle_encode(out, c->defs, c->nrows, 1);
	if (!rc && prefix) {
		len = (uint32_t)(out->len - at - 4);
		memcpy(out->buf + at, &len, 4);
	}
	return rc;
}

/* ---- page jobs: compression and page assembly, maybe on a thread ---- */

/* Compresses a job's body and appends header and page to its column's
 * chunk. With a pipeline this runs on the worker thread, which alone touches
 * the column's pages and chunk_uncompressed until the pipeline is drained. */
static int run_job(struct parquet_writer *w, struct page_job *j, struct dbuf *comp,
                   struct ts_err *err)
{
	struct wcol *c = j->c;
	size_t before;
	int rc;

	if (j->is_write) {
		rc = sink_put(w, j->pre.buf, j->pre.len, err);
		if (!rc)
			rc = sink_put(w, c->spare.buf, c->spare.len, err);
		return rc || !j->idle || w->is_mem ? rc : direct_idle(w, err);
	}
	before = c->pages.len; /* only page jobs may look at the chunk being filled */
	dbuf_reset(comp);
	if (w->o.page_v2) {
		rc = dbuf_add(comp, j->body.buf, j->lv);
		if (!rc)
			rc = parquet_compress(w->o.codec, w->o.level, j->body.buf + j->lv,
			                      j->body.len - j->lv, comp, err);
	} else {
		rc = parquet_compress(w->o.codec, w->o.level, j->body.buf, j->body.len, comp, err);
	}
	if (!rc && (j->body.len > PARQUET_MAX_PAGE || comp->len > PARQUET_MAX_PAGE))
		rc = ts_err_set(err, TS_ETOOBIG, "column '%s': page over %u bytes", c->name,
		                PARQUET_MAX_PAGE);
	if (rc)
		return rc;
	j->h.uncompressed_size = (int32_t)j->body.len;
	j->h.compressed_size = (int32_t)comp->len;
	rc = parquet_page_encode_header(&j->h, &c->pages);
	if (!rc)
		rc = dbuf_add(&c->pages, comp->buf, comp->len);
	if (rc)
		return ts_err_set(err, rc, "column '%s': page buffer", c->name);
	c->chunk_uncompressed +=
	    (int64_t)(c->pages.len - before - comp->len) + j->h.uncompressed_size;
	__atomic_add_fetch(&w->buffered, c->pages.len - before, __ATOMIC_RELAXED);
	return 0;
}

static void *pipe_main(void *arg)
{
	struct parquet_writer *w = arg;
	struct writer_pipe *p = &w->pipe;
	struct page_job *j;
	struct ts_err err = {0};
	int rc;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->stop) {
			p->worker_idle = true;
			pthread_cond_wait(&p->cv_work, &p->mu);
			p->worker_idle = false;
		}
		if (!p->head)
			break;
		j = p->head;
		p->head = j->next;
		pthread_mutex_unlock(&p->mu);
		rc = p->rc ? 0 : run_job(w, j, &p->comp, &err);
		pthread_mutex_lock(&p->mu);
		if (rc && !p->rc) {
			p->rc = rc;
			p->err = err;
		}
		j->next = p->pool;
		p->pool = j;
		p->inflight--;
		if (p->caller_waiting)
			pthread_cond_signal(&p->cv_done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* A free job, waiting while PIPE_DEPTH pages are in flight. */
static struct page_job *job_get(struct parquet_writer *w)
{
	struct writer_pipe *p = &w->pipe;
	struct page_job *j;

	if (!p->started)
		return &p->sync_job;
	pthread_mutex_lock(&p->mu);
	while (p->inflight >= PIPE_DEPTH) {
		p->caller_waiting = true;
		pthread_cond_wait(&p->cv_done, &p->mu);
		p->caller_waiting = false;
	}
	j = p->pool;
	if (j)
		p->pool = j->next;
	pthread_mutex_unlock(&p->mu);
	if (!j) {
		j = calloc(1, sizeof(*j));
		if (j) {
			dbuf_init(&j->body, MAX_BUF);
			dbuf_init(&j->pre, MAX_BUF);
		}
	}
	if (j)
		j->is_write = j->idle = false;
	return j;
}

static int job_submit(struct parquet_writer *w, struct page_job *j)
{
	struct writer_pipe *p = &w->pipe;

	if (!p->started) {
		int rc = run_job(w, j, &w->comp, &w->err);

		return rc ? fail(w, rc, j->c->name) : 0;
	}
	j->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->head) {
		struct page_job *t = p->head;

		while (t->next)
			t = t->next;
		t->next = j;
	} else {
		p->head = j;
	}
	p->inflight++;
	if (p->worker_idle)
		pthread_cond_signal(&p->cv_work);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Waits until every submitted page is in its chunk; reports a worker error. */
static int pipe_drain(struct parquet_writer *w)
{
	struct writer_pipe *p = &w->pipe;

	if (!p->started)
		return w->rc;
	pthread_mutex_lock(&p->mu);
	while (p->inflight) {
		p->caller_waiting = true;
		pthread_cond_wait(&p->cv_done, &p->mu);
		p->caller_waiting = false;
	}
	if (p->rc && !w->rc) {
		w->rc = p->rc;
		w->err = p->err;
	}
	pthread_mutex_unlock(&p->mu);
	return w->rc;
}

static void pipe_start(struct parquet_writer *w)
{
	struct writer_pipe *p = &w->pipe;

	dbuf_init(&p->sync_job.body, MAX_BUF);
	dbuf_init(&p->sync_job.pre, MAX_BUF);
	dbuf_init(&p->comp, MAX_BUF);
	if (!w->o.threads)
		return;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv_work, NULL);
	pthread_cond_init(&p->cv_done, NULL);
	p->started = !pthread_create(&p->thread, NULL, pipe_main, w);
}

static void pipe_stop(struct parquet_writer *w)
{
	struct writer_pipe *p = &w->pipe;

	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = true;
		pthread_cond_signal(&p->cv_work);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv_work);
		pthread_cond_destroy(&p->cv_done);
		p->started = false;
	}
	while (p->pool) {
		struct page_job *j = p->pool;

		p->pool = j->next;
		dbuf_release(&j->body);
		dbuf_release(&j->pre);
		free(j);
	}
	dbuf_release(&p->sync_job.body);
	dbuf_release(&p->sync_job.pre);
	dbuf_release(&p->comp);
}

static int put_plain(struct parquet_writer *w, struct wcol *c, const void *v, size_t n);

/* The first page of a chunk whose values are (nearly) all distinct: a
 * dictionary would only add a page and indices, so the page is turned into
 * PLAIN values and the chunk stays PLAIN (no dictionary page at all). */
static int maybe_drop_dict(struct parquet_writer *w, struct wcol *c)
{
	uint32_t len;
	int rc = 0;

	if (!c->use_dict || c->chunk_pages || c->nvals < 1000 ||
	    (uint64_t)c->dict.n * 100 < (uint64_t)c->nvals * 98)
		return 0;
	for (uint32_t i = 0; !rc && i < c->nvals; i++) {
		const uint8_t *v = parquet_dict_value(&c->dict, c->idx[i], &len);

		rc = put_plain(w, c, v, len);
	}
	c->use_dict = false;
	parquet_dict_reset(&c->dict);
	return rc;
}

static int flush_page(struct parquet_writer *w, struct wcol *c)
{
	struct page_job *j;
	struct parquet_page_header *h;
	int rc;

	if (!c->nrows)
		return 0;
	if ((rc = maybe_drop_dict(w, c)))
		return rc;
	if (c->use_dict && (rc = dict_page_stats(c)))
		return fail(w, rc, c->name);
	c->pst.nulls = c->nrows - c->nvals;
	if (!(j = job_get(w)))
		return fail(w, TS_ENOMEM, c->name);
	j->c = c;
	dbuf_reset(&j->body);
	rc = add_levels(c, &j->body, !w->o.page_v2);
	j->lv = j->body.len;
	if (!rc && !j->lv && !c->use_dict && c->type != PARQUET_BOOLEAN) {
		/* The PLAIN values are the whole body: hand the buffer over. */
		struct dbuf t = j->body;

		j->body = c->plain;
		c->plain = t;
	} else if (!rc) {
		rc = encode_values(c, &j->body);
	}
	if (rc) {
		if (j != &w->pipe.sync_job) {
			dbuf_release(&j->body);
			dbuf_release(&j->pre);
			free(j);
		}
		return fail(w, rc, c->name);
	}
	h = &j->h;
	memset(h, 0, sizeof(*h));
	h->type = w->o.page_v2 ? PARQUET_PAGE_DATA_V2 : PARQUET_PAGE_DATA;
	h->num_values = h->num_rows = (int32_t)c->nrows;
	h->num_nulls = (int32_t)(c->nrows - c->nvals);
	h->def_len = w->o.page_v2 ? (int32_t)j->lv : 0;
	h->encoding = c->use_dict ? PARQUET_ENC_RLE_DICTIONARY : PARQUET_ENC_PLAIN;
	h->def_encoding = h->rep_encoding = PARQUET_ENC_RLE;
	h->is_compressed = w->o.codec != PARQUET_UNCOMPRESSED;
	h->has_stats = true;
	stat_export(&c->pst, c->type, &h->stats);
	c->encodings |= 1u << h->encoding | 1u << PARQUET_ENC_RLE;
	c->chunk_pages++;
	stat_merge(&c->cst, c->type, &c->pst);
	stat_reset(&c->pst);
	c->nrows = c->nvals = 0;
	dbuf_reset(&c->plain);
	return job_submit(w, j);
}

/* ---- putting values ---- */

static int col_check(struct parquet_writer *w, int col, int type)
{
	struct wcol *c;

	if (w->rc)
		return w->rc;
	if (col < 0 || col >= w->ncols)
		return fail(w, ts_err_set(&w->err, TS_EINVAL, "no column %d", col), "put");
	c = &w->cols[col];
	if (c->type != type)
		return fail(w,
		            ts_err_set(&w->err, TS_EINVAL, "column '%s' is %s, not %s", c->name,
		                       parquet_footer_type_name(c->type),
		                       parquet_footer_type_name(type)),
		            "put");
	if (c->filled != w->rows)
		return fail(w,
		            ts_err_set(&w->err, TS_EINVAL,
		                       "column '%s' already has a value in row %" PRId64, c->name,
		                       w->rows),
		            "put");
	return 0;
}

static int null_refused(struct parquet_writer *w, const struct wcol *c)
{
	return fail(w, ts_err_set(&w->err, TS_EINVAL, "null in required column '%s'", c->name),
	            "put");
}

/* The definition levels of the k batch values from the page's next row (ok
 * flags, or none: all present); a null in a required column is refused. */
static int batch_levels(struct parquet_writer *w, struct wcol *c, const uint8_t *ok, size_t k)
{
	if (ok && !c->optional && memchr(ok, 0, k))
		return null_refused(w, c);
	if (c->optional)
		for (size_t j = 0; j < k; j++)
			c->defs[c->nrows + j] = ok ? ok[j] != 0 : 1;
	return 0;
}

static int after_put(struct parquet_writer *w, struct wcol *c)
{
	c->nrows++;
	c->filled++;
	if (c->nrows >= w->o.page_rows || c->plain.len >= w->o.page_bytes)
		return flush_page(w, c);
	return 0;
}

static int put_plain(struct parquet_writer *w, struct wcol *c, const void *v, size_t n)
{
	uint32_t len = (uint32_t)n;
	int rc = 0;

	if (c->type == PARQUET_BYTE_ARRAY)
		rc = dbuf_add(&c->plain, &len, 4);
	if (!rc)
		rc = dbuf_add(&c->plain, v, n);
	if (rc)
		return fail(w, rc, c->name);
	stat_value(&c->pst, c->type, v, len);
	return 0;
}

/* The dictionary is full: close the page it indexes, go PLAIN for the rest
 * of the chunk. */
static int fall_back(struct parquet_writer *w, struct wcol *c)
{
	int rc = flush_page(w, c);

	c->use_dict = false;
	return rc;
}

/* Puts one value. */
static int put_one(struct parquet_writer *w, struct wcol *c, const void *v, size_t n)
{
	uint32_t ix;
	int rc;

	if (c->optional)
		c->defs[c->nrows] = 1;
	if (c->use_dict) {
		rc = c->vsize ? parquet_dict_put_fixed(&c->dict, v, &ix)
		              : parquet_dict_put_bytes(&c->dict, v, n, &ix);
		if (!rc && stats_at_put(c->type))
			stat_ints(&c->pst, c->vsize, v, NULL, 1);
		if (!rc)
			c->idx[c->nvals++] = ix;
		else if (rc != TS_ETOOBIG)
			return fail(w, rc, c->name);
		else if ((rc = fall_back(w, c)))
			return rc;
		else if (c->optional)
			c->defs[c->nrows] = 1;
	}
	if (!c->use_dict) {
		if ((rc = put_plain(w, c, v, n)))
			return rc;
		c->nvals++;
	}
	return after_put(w, c);
}

static int put_value(struct parquet_writer *w, int col, int type, const void *v, size_t n)
{
	int rc = col_check(w, col, type);

	return rc ? rc : put_one(w, &w->cols[col], v, n);
}

static int put_null_one(struct parquet_writer *w, struct wcol *c)
{
	c->defs[c->nrows] = 0;
	return after_put(w, c);
}

int parquet_writer_put_null(struct parquet_writer *w, int col)
{
	struct wcol *c;
	int rc;

	if (w->rc)
		return w->rc;
	if (col < 0 || col >= w->ncols)
		return fail(w, ts_err_set(&w->err, TS_EINVAL, "no column %d", col), "put");
	c = &w->cols[col];
	if ((rc = col_check(w, col, c->type)))
		return rc;
	if (!c->optional)
		return null_refused(w, c);
	return put_null_one(w, c);
}

int parquet_writer_put_bool(struct parquet_writer *w, int col, bool v)
{
	uint8_t b = v;

	return put_value(w, col, PARQUET_BOOLEAN, &b, 1);
}

int parquet_writer_put_i32(struct parquet_writer *w, int col, int32_t v)
{
	return put_value(w, col, PARQUET_INT32, &v, 4);
}

int parquet_writer_put_i64(struct parquet_writer *w, int col, int64_t v)
{
	return put_value(w, col, PARQUET_INT64, &v, 8);
}

int parquet_writer_put_float(struct parquet_writer *w, int col, float v)
{
	return put_value(w, col, PARQUET_FLOAT, &v, 4);
}

int parquet_writer_put_double(struct parquet_writer *w, int col, double v)
{
	return put_value(w, col, PARQUET_DOUBLE, &v, 8);
}

int parquet_writer_put_bytes(struct parquet_writer *w, int col, const void *p, size_t n)
{
	if (n > PARQUET_MAX_PAGE / 2) {
		if (w->rc)
			return w->rc;
		return fail(w,
		            ts_err_set(&w->err, TS_ETOOBIG, "value of %zu bytes is too large", n),
		            "put");
	}
	return put_value(w, col, PARQUET_BYTE_ARRAY, p ? p : "", n);
}

/* Value i of a column batch (not BOOLEAN): its bytes and length. */
static const void *batch_value(const struct wcol *c, const void *values, size_t i, size_t *n)
{
	if (c->type == PARQUET_BYTE_ARRAY) {
		const struct parquet_bytes *b = (const struct parquet_bytes *)values + i;

		*n = b->len;
		return b->len ? (const void *)b->ptr : "";
	}
	*n = (size_t)c->vsize;
	return (const uint8_t *)values + i * *n;
}

/* Puts value i of a batch one at a time: BOOLEAN columns, which have no
 * dictionary and whose PLAIN form is bit-packed at the page's end. */
static int put_batch_value(struct parquet_writer *w, struct wcol *c, const uint8_t *values,
                           const uint8_t *valid, size_t i)
{
	uint8_t b = values[i] != 0;

	if (valid && !valid[i])
		return c->optional ? put_null_one(w, c) : null_refused(w, c);
	return put_one(w, c, &b, 1);
}

/* The dictionary path of parquet_writer_put_column: values i.. of a batch
 * into the page, as many as it takes, through the dictionary's batch put.
 * Returns the values taken in *took; when the dictionary fills up, the page
 * is closed and the chunk goes PLAIN for the rest. */
static int put_dict_batch(struct parquet_writer *w, struct wcol *c, const void *values,
                          const uint8_t *valid, size_t i, size_t n, size_t *took)
{
	size_t k = n - i, stride = c->vsize ? (size_t)c->vsize : sizeof(struct parquet_bytes);
	size_t used, added;
	const uint8_t *ok = valid ? valid + i : NULL;
	int rc;

	if (k > w->o.page_rows - c->nrows)
		k = w->o.page_rows - c->nrows;
	/* Levels for all k: those past what the dictionary takes are
	 * overwritten by the PLAIN path that takes the rest. */
	if ((rc = batch_levels(w, c, ok, k)))
		return rc;
	used = parquet_dict_put_many(&c->dict, (const uint8_t *)values + i * stride, ok, k,
	                             c->idx + c->nvals, &added, &rc);
	if (stats_at_put(c->type))
		stat_ints(&c->pst, c->vsize, (const uint8_t *)values + i * stride, ok, used);
	c->nrows += (uint32_t)used;
	c->nvals += (uint32_t)added;
	c->filled += (int64_t)used;
	*took = used;
	if (rc == TS_ETOOBIG)
		return fall_back(w, c);
	if (rc)
		return fail(w, rc, c->name);
	return c->nrows >= w->o.page_rows ? flush_page(w, c) : 0;
}

/* How many of the k values from i a PLAIN page takes before it is full
 * (the value that reaches page_bytes is the page's last, as with single
 * puts), and their PLAIN size. */
static size_t plain_run(const struct parquet_writer *w, const struct wcol *c, const void *values,
                        const uint8_t *valid, size_t i, size_t k, size_t *bytes)
{
	const struct parquet_bytes *b = values;
	size_t len = c->plain.len, j;

	for (j = 0; j < k && (j == 0 || len < w->o.page_bytes); j++)
		if (!valid || valid[i + j])
			len += c->vsize ? (size_t)c->vsize : 4 + (size_t)b[i + j].len;
	*bytes = len - c->plain.len;
	return j;
}

/* Appends the PLAIN byte array v (n bytes) at out and folds it into the
 * page's statistics; returns the next write position. */
static inline uint8_t *plain_put_bytes(struct wcol *c, uint8_t *out, const void *v, uint32_t n)
{
	memcpy(out, &n, 4);
	memcpy(out + 4, v, n);
	stat_bytes(&c->pst, v, n);
	return out + 4 + n;
}

/* The statistics of k FLOAT or DOUBLE values, skipping position j when ok
 * is given and ok[j] is 0. */
static void stat_floats(struct wstat *s, int type, const uint8_t *p, const uint8_t *ok, size_t k)
{
	for (size_t j = 0; j < k; j++) {
		double d;
		float f;

		if (ok && !ok[j])
			continue;
		if (type == PARQUET_DOUBLE) {
			memcpy(&d, p + j * 8, 8);
		} else {
			memcpy(&f, p + j * 4, 4);
			d = f;
		}
		stat_dbl(s, d);
	}
}

/* put_plain_batch for fixed-width values: the k values from src (k ok
 * flags, or none) copied to out at their own width — a run without nulls
 * in one memcpy — and folded into the page's statistics in one pass.
 * Returns the next write position. */
static uint8_t *plain_fixed_run(struct wcol *c, uint8_t *out, const uint8_t *src, const uint8_t *ok,
                                size_t k)
{
	size_t vs = (size_t)c->vsize;

	if (!ok) {
		memcpy(out, src, k * vs);
		out += k * vs;
	} else if (vs == 8) {
		for (size_t j = 0; j < k; j++)
			if (ok[j]) {
				memcpy(out, src + j * 8, 8);
				out += 8;
			}
	} else {
		for (size_t j = 0; j < k; j++)
			if (ok[j]) {
				memcpy(out, src + j * 4, 4);
				out += 4;
			}
	}
	if (stats_at_put(c->type))
		stat_ints(&c->pst, c->vsize, src, ok, k);
	else
		stat_floats(&c->pst, c->type, src, ok, k);
	return out;
}

/* The PLAIN fast path of parquet_writer_put_column: values i.. of a batch
 * into the page, as many as it takes, in one pass without per-value
 * dictionary or buffer bookkeeping. Returns the values taken in *took. */
static int put_plain_batch(struct parquet_writer *w, struct wcol *c, const void *values,
                           const uint8_t *valid, size_t i, size_t n, size_t *took)
{
	const uint8_t *ok;
	size_t k = n - i, bytes, len;
	uint8_t *out;
	int rc;

	if (k > w->o.page_rows - c->nrows)
		k = w->o.page_rows - c->nrows;
	k = plain_run(w, c, values, valid, i, k, &bytes);
	ok = valid ? valid + i : NULL;
	if ((rc = batch_levels(w, c, ok, k)))
		return rc;
	if ((rc = dbuf_reserve(&c->plain, bytes)))
		return fail(w, rc, c->name);
	out = (uint8_t *)c->plain.buf + c->plain.len;
	if (c->vsize) {
		out =
		    plain_fixed_run(c, out, (const uint8_t *)values + i * (size_t)c->vsize, ok, k);
		c->nvals += (uint32_t)(bytes / (size_t)c->vsize);
	}
	for (size_t j = 0; !c->vsize && j < k; j++) {
		const void *v;

		if (ok && !ok[j])
			continue;
		v = batch_value(c, values, i + j, &len);
		if (len > PARQUET_MAX_PAGE / 2)
			return fail(
			    w,
			    ts_err_set(&w->err, TS_ETOOBIG, "value of %zu bytes is too large", len),
			    c->name);
		c->nvals++;
		out = plain_put_bytes(c, out, v, (uint32_t)len);
	}
	c->nrows += (uint32_t)k;
	c->plain.len = (size_t)((char *)out - c->plain.buf);
	c->plain.buf[c->plain.len] = '\0';
	c->filled += (int64_t)k;
	*took = k;
	if (c->nrows >= w->o.page_rows || c->plain.len >= w->o.page_bytes)
		return flush_page(w, c);
	return 0;
}

int parquet_writer_put_column(struct parquet_writer *w, int col, const void *values,
                              const uint8_t *valid, size_t n)
{
	struct wcol *c;
	size_t took = 0;
	int rc;

	if (w->rc)
		return w->rc;
	if (col < 0 || col >= w->ncols)
		return fail(w, ts_err_set(&w->err, TS_EINVAL, "no column %d", col), "put");
	if ((rc = col_check(w, col, w->cols[col].type)))
		return rc;
	c = &w->cols[col];
	for (size_t i = 0; !rc && i < n; i += took) {
		took = 1;
		if (c->use_dict)
			rc = put_dict_batch(w, c, values, valid, i, n, &took);
		else if (c->type != PARQUET_BOOLEAN)
			rc = put_plain_batch(w, c, values, valid, i, n, &took);
		else
			rc = put_batch_value(w, c, values, valid, i);
	}
	return rc;
}

/* ---- row groups ---- */

/* Appends the chunk's dictionary page (header and body) to out. */
static int build_dict_page(struct parquet_writer *w, struct wcol *c, struct dbuf *out)
{
	struct parquet_page_header h;
	size_t before = out->len;
	int rc;

	memset(&h, 0, sizeof(h));
	dbuf_reset(&w->comp);
	rc = parquet_compress(w->o.codec, w->o.level, c->dict.plain.buf, c->dict.plain.len,
	                      &w->comp, &w->err);
	if (rc)
		return rc;
	h.type = PARQUET_PAGE_DICTIONARY;
	h.uncompressed_size = (int32_t)c->dict.plain.len;
	h.compressed_size = (int32_t)w->comp.len;
	h.num_values = (int32_t)c->dict.n;
	h.encoding = PARQUET_ENC_PLAIN;
	if ((rc = parquet_page_encode_header(&h, out)))
		return rc;
	c->chunk_uncompressed += (int64_t)(out->len - before) + h.uncompressed_size;
	return dbuf_add(out, w->comp.buf, w->comp.len);
}

/* Writes the dictionary page (in pre) and the data pages of a chunk: inline,
 * or by the worker while the caller fills the next row group. */
static int put_chunk_bytes(struct parquet_writer *w, struct wcol *c, bool dict, bool last,
                           uint64_t *data_off)
{
	struct page_job *j = w->pipe.started ? job_get(w) : NULL;
	struct dbuf *pre = j ? &j->pre : &w->scratch;
	struct dbuf t;
	int rc;

	if (w->pipe.started && !j)
		return TS_ENOMEM;
	dbuf_reset(pre);
	if (dict && (rc = build_dict_page(w, c, pre)))
		return rc;
	*data_off = w->offset + pre->len;
	if (!j) {
		rc = sink_write(w, pre->buf, pre->len);
		if (!rc)
			rc = sink_write(w, c->pages.buf, c->pages.len);
		return rc || !last || w->is_mem ? rc : direct_idle(w, &w->err);
	}
	/* The worker writes from c->spare; c->pages starts the next chunk. The
	 * spare is free: the previous row group was drained before this one. */
	t = c->spare;
	c->spare = c->pages;
	c->pages = t;
	w->offset += pre->len + c->spare.len;
	j->is_write = true;
	j->idle = last;
	j->c = c;
	return job_submit(w, j);
}

static int write_chunk(struct parquet_writer *w, struct wcol *c, bool last,
                       struct parquet_chunk_meta *m)
{
	uint64_t start = w->offset, data_off = 0;
	bool dict = (c->encodings >> PARQUET_ENC_RLE_DICTIONARY) & 1;
	int rc;

	memset(m, 0, sizeof(*m));
	m->dict_page_offset = dict ? (int64_t)start : -1;
	if (dict)
		c->encodings |= 1u << PARQUET_ENC_PLAIN;
	if ((rc = put_chunk_bytes(w, c, dict, last, &data_off)))
		return rc;
	m->data_page_offset = (int64_t)data_off;
	m->type = c->type;
	m->codec = w->o.codec;
	m->encodings = c->encodings;
	m->num_values = w->rg_rows;
	m->total_uncompressed = c->chunk_uncompressed;
	m->total_compressed = (int64_t)(w->offset - start);
	m->has_stats = true;
	stat_export(&c->cst, c->type, &m->stats);
	return 0;
}

static void chunk_reset(struct parquet_writer *w, struct wcol *c)
{
	c->use_dict = w->o.dictionary && !c->no_dict && c->type != PARQUET_BOOLEAN;
	parquet_dict_reset(&c->dict);
	dbuf_reset(&c->pages);
	c->chunk_uncompressed = 0;
	c->chunk_pages = 0;
	c->encodings = 0;
	stat_reset(&c->cst);
}

static int flush_row_group(struct parquet_writer *w)
{
	struct parquet_row_group *rg;
	int rc = 0;

	if (w->nrg == w->rg_cap) {
		int cap = w->rg_cap ? w->rg_cap * 2 : 8;
		struct parquet_row_group *p = realloc(w->rgs, (size_t)cap * sizeof(*p));

		if (!p)
			return fail(w, TS_ENOMEM, "row group");
		w->rgs = p;
		w->rg_cap = cap;
	}
	rg = &w->rgs[w->nrg];
	memset(rg, 0, sizeof(*rg));
	rg->chunks = calloc((size_t)w->ncols, sizeof(*rg->chunks));
	if (!rg->chunks)
		return fail(w, TS_ENOMEM, "row group");
	w->nrg++;
	rg->num_rows = w->rg_rows;
	for (int i = 0; !rc && i < w->ncols; i++)
		rc = flush_page(w, &w->cols[i]);
	if (!rc)
		rc = pipe_drain(w);
	for (int i = 0; !rc && i < w->ncols; i++) {
		struct wcol *c = &w->cols[i];

		rc = write_chunk(w, c, i == w->ncols - 1, &rg->chunks[i]);
		rg->total_byte_size += c->chunk_uncompressed;
		chunk_reset(w, c);
	}
	if (rc)
		return fail(w, rc, "row group");
	w->rg_rows = 0;
	__atomic_store_n(&w->buffered, 0, __ATOMIC_RELAXED);
	return 0;
}

int parquet_writer_end_row(struct parquet_writer *w, struct ts_err *err)
{
	return parquet_writer_end_rows(w, 1, err);
}

int parquet_writer_end_rows(struct parquet_writer *w, size_t n, struct ts_err *err)
{
	if (!w->rc) {
		for (int i = 0; i < w->ncols; i++) {
			if (w->cols[i].filled != w->rows + (int64_t)n) {
				fail(w,
				     ts_err_set(&w->err, TS_EINVAL,
				                "row %" PRId64 " has no value for column '%s'",
				                w->rows, w->cols[i].name),
				     "end row");
				break;
			}
		}
	}
	if (!w->rc) {
		w->rows += (int64_t)n;
		w->rg_rows += (int64_t)n;
		if (w->rg_rows >= w->o.row_group_rows ||
		    __atomic_load_n(&w->buffered, __ATOMIC_RELAXED) >= w->o.row_group_bytes)
			flush_row_group(w);
	}
	if (w->rc && err)
		*err = w->err;
	return w->rc;
}

int64_t parquet_writer_rows(const struct parquet_writer *w)
{
	return w->rows;
}

uint64_t parquet_writer_bytes(const struct parquet_writer *w)
{
	return w->offset;
}

/* ---- lifecycle ---- */

static int col_init(struct parquet_writer *w, struct wcol *c, const struct parquet_writer_column *d)
{
	c->name = strdup(d->name ? d->name : "");
	c->type = d->type;
	c->logical = d->logical;
	c->optional = d->optional;
	c->vsize = d->type == PARQUET_INT32 || d->type == PARQUET_FLOAT    ? 4
	           : d->type == PARQUET_INT64 || d->type == PARQUET_DOUBLE ? 8
	                                                                   : 0;
	c->defs = malloc(w->o.page_rows * sizeof(*c->defs));
	c->idx = malloc(w->o.page_rows * sizeof(*c->idx));
	dbuf_init(&c->plain, MAX_BUF);
	dbuf_init(&c->pages, MAX_BUF);
	dbuf_init(&c->spare, MAX_BUF);
	parquet_dict_init(&c->dict, c->vsize, w->o.dict_max_bytes);
	chunk_reset(w, c);
	return c->name && c->defs && c->idx ? 0 : TS_ENOMEM;
}

static int check_column(const struct parquet_writer_column *d, struct ts_err *err)
{
	bool ok;

	switch (d->type) {
	case PARQUET_INT32:
		ok = d->logical == PARQUET_LT_NONE || d->logical == PARQUET_LT_DATE;
		break;
	case PARQUET_INT64:
		ok = d->logical == PARQUET_LT_NONE || d->logical == PARQUET_LT_TIMESTAMP_MILLIS ||
		     d->logical == PARQUET_LT_TIMESTAMP_MICROS;
		break;
	case PARQUET_BYTE_ARRAY:
		ok = d->logical == PARQUET_LT_NONE || d->logical == PARQUET_LT_STRING;
		break;
	case PARQUET_BOOLEAN:
	case PARQUET_FLOAT:
	case PARQUET_DOUBLE:
		ok = d->logical == PARQUET_LT_NONE;
		break;
	default:
		ok = false;
	}
	if (!ok || !d->name || !d->name[0])
		return ts_err_set(err, TS_EINVAL, "column '%s': unsupported type %s/%s",
		                  d->name ? d->name : "", parquet_footer_type_name(d->type),
		                  parquet_footer_logical_name(d->logical));
	return 0;
}

static int check_opts(struct parquet_writer_opts *o, struct ts_err *err)
{
	if (!parquet_compress_supported(o->codec))
		return ts_err_set(err, TS_EINVAL, "cannot write %s",
		                  parquet_compress_name(o->codec));
	if (o->row_group_rows < 1 || o->page_rows < 1 || o->page_rows > MAX_PAGE_ROWS ||
	    o->page_bytes < 1 || o->page_bytes > PARQUET_MAX_PAGE / 4 ||
	    o->dict_max_bytes > PARQUET_MAX_PAGE / 4)
		return ts_err_set(err, TS_EINVAL, "writer options out of range");
	return 0;
}

static int writer_new(const struct parquet_writer_column *cols, int ncols,
                      const struct parquet_writer_opts *o, struct parquet_writer **out,
                      struct ts_err *err)
{
	struct parquet_writer *w;
	int rc;

	*out = NULL;
	if (ncols < 1 || ncols > PARQUET_MAX_COLUMNS)
		return ts_err_set(err, TS_EINVAL, "a file needs 1 to %d columns",
		                  PARQUET_MAX_COLUMNS);
	for (int i = 0; i < ncols; i++)
		if ((rc = check_column(&cols[i], err)))
			return rc;
	w = calloc(1, sizeof(*w));
	if (!w)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	w->fd = -1;
	if (o)
		w->o = *o;
	else
		parquet_writer_opts_init(&w->o);
	*out = w;
	if ((rc = check_opts(&w->o, err)))
		return rc;
	dbuf_init(&w->scratch, MAX_BUF);
	dbuf_init(&w->comp, MAX_BUF);
	dbuf_init(&w->mem, w->o.mem_max);
	w->cols = calloc((size_t)ncols, sizeof(*w->cols));
	if (!w->cols)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	w->ncols = ncols;
	for (int i = 0; i < ncols; i++) {
		w->cols[i].no_dict = i < 64 && (w->o.no_dictionary >> i & 1);
		if (col_init(w, &w->cols[i], &cols[i]))
			return ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	pipe_start(w);
	return 0;
}

int parquet_writer_new_mem(const struct parquet_writer_column *cols, int ncols,
                           const struct parquet_writer_opts *o, struct parquet_writer **out,
                           struct ts_err *err)
{
	int rc = writer_new(cols, ncols, o, out, err);

	if (!rc) {
		(*out)->is_mem = true;
		rc = sink_write(*out, "PAR1", 4);
	}
	if (rc) {
		parquet_writer_free(*out);
		*out = NULL;
	}
	return rc;
}

int parquet_writer_new_file(const char *path, const struct parquet_writer_column *cols, int ncols,
                            const struct parquet_writer_opts *o, struct parquet_writer **out,
                            struct ts_err *err)
{
	struct parquet_writer *w;
	int rc = writer_new(cols, ncols, o, out, err);
	size_t n = strlen(path) + 32;

	w = *out;
	if (!rc) {
		w->path = strdup(path);
		w->tmp = malloc(n);
		if (!w->path || !w->tmp)
			rc = ts_err_set(err, TS_ENOMEM, "out of memory");
	}
	if (!rc) {
		snprintf(w->tmp, n, "%s.tmp-%ld", path, (long)getpid());
		int fl = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;

		w->direct = w->o.direct_io;
		w->fd = open(w->tmp, fl | (w->direct ? O_DIRECT : 0), 0644);
		if (w->fd < 0 && w->direct && errno == EINVAL) {
			w->direct = false; /* e.g. a file system without O_DIRECT */
			w->fd = open(w->tmp, fl, 0644);
		}
		if (w->fd < 0)
			rc = ts_err_set(err, TS_EIO, "create %s: %s", w->tmp, strerror(errno));
	}
	if (!rc && (rc = sink_write(w, "PAR1", 4)))
		ts_err_set(err, rc, "%s", w->err.msg);
	if (rc) {
		parquet_writer_free(w);
		*out = NULL;
	}
	return rc;
}

int parquet_writer_add_kv(struct parquet_writer *w, const char *key, const char *value)
{
	struct parquet_kv *kv;

	if (w->rc)
		return w->rc;
	kv = realloc(w->kv, (size_t)(w->nkv + 1) * sizeof(*kv));
	if (!kv)
		return fail(w, TS_ENOMEM, "key-value");
	w->kv = kv;
	kv[w->nkv].key = strdup(key);
	kv[w->nkv].value = value ? strdup(value) : NULL;
	w->nkv++;
	if (!kv[w->nkv - 1].key || (value && !kv[w->nkv - 1].value))
		return fail(w, TS_ENOMEM, "key-value");
	return 0;
}

static int write_footer(struct parquet_writer *w)
{
	struct parquet_column *cols = calloc((size_t)w->ncols, sizeof(*cols));
	struct parquet_footer f;
	uint32_t len;
	int rc;

	if (!cols)
		return TS_ENOMEM;
	for (int i = 0; i < w->ncols; i++) {
		cols[i].name = w->cols[i].name;
		cols[i].type = w->cols[i].type;
		cols[i].optional = w->cols[i].optional;
		cols[i].logical = w->cols[i].logical;
		cols[i].utc = true;
	}
	memset(&f, 0, sizeof(f));
	f.version = 2;
	f.num_rows = w->rows;
	f.ncols = w->ncols;
	f.cols = cols;
	f.nrg = w->nrg;
	f.rgs = w->rgs;
	f.nkv = w->nkv;
	f.kv = w->kv;
	f.created_by = "topsongs version " TOPSONGS_VERSION;
	dbuf_reset(&w->scratch);
	rc = parquet_footer_encode(&f, &w->scratch);
	free(cols);
	len = (uint32_t)w->scratch.len;
	if (!rc)
		rc = dbuf_add(&w->scratch, &len, 4);
	if (!rc)
		rc = dbuf_add(&w->scratch, "PAR1", 4);
	return rc ? rc : sink_write(w, w->scratch.buf, w->scratch.len);
}

static int commit_file(struct parquet_writer *w)
{
	char *dir = strdup(w->path);
	int dfd, rc = direct_finish(w, &w->err);

	if (!rc && !w->o.no_sync && fsync(w->fd))
		rc = ts_err_set(&w->err, TS_EIO, "fsync %s: %s", w->tmp, strerror(errno));
	if (rc) {
		free(dir);
		return rc; /* parquet_writer_free closes and removes the file */
	}
	if (close(w->fd)) {
		rc = ts_err_set(&w->err, TS_EIO, "close %s: %s", w->tmp, strerror(errno));
		unlink(w->tmp);
	}
	w->fd = -1;
	if (!rc && rename(w->tmp, w->path))
		rc = ts_err_set(&w->err, TS_EIO, "rename %s: %s", w->tmp, strerror(errno));
	if (!rc && dir && !w->o.no_sync) {
		/* The rename is durable once the folder is synced. */
		dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(dir);
	return rc;
}

int parquet_writer_close(struct parquet_writer *w, struct ts_err *err)
{
	if (!w->rc && w->closed)
		fail(w, ts_err_set(&w->err, TS_EINVAL, "writer already closed"), "close");
	if (!w->rc && w->rg_rows)
		flush_row_group(w);
	if (!w->rc)
		pipe_drain(w); /* the last row group's bytes precede the footer */
	if (!w->rc && write_footer(w))
		fail(w, TS_ENOMEM, "footer");
	if (!w->rc && !w->is_mem && commit_file(w))
		fail(w, TS_EIO, "close");
	if (!w->rc)
		w->closed = true;
	if (w->rc && err)
		*err = w->err;
	return w->rc;
}

void *parquet_writer_take(struct parquet_writer *w, size_t *len)
{
	if (!w->is_mem || !w->closed) {
		*len = 0;
		return NULL;
	}
	return dbuf_detach(&w->mem, len);
}

void parquet_writer_free(struct parquet_writer *w)
{
	if (!w)
		return;
	pipe_stop(w);
	direct_release(w, &w->err);
	if (w->fd >= 0) {
		close(w->fd);
		unlink(w->tmp);
	}
	for (int i = 0; w->cols && i < w->ncols; i++) {
		struct wcol *c = &w->cols[i];

		free(c->name);
		free(c->defs);
		free(c->idx);
		free(c->stamp);
		dbuf_release(&c->plain);
		dbuf_release(&c->pages);
		dbuf_release(&c->spare);
		parquet_dict_release(&c->dict);
	}
	free(w->cols);
	for (int i = 0; i < w->nrg; i++)
		free(w->rgs[i].chunks);
	free(w->rgs);
	for (int i = 0; i < w->nkv; i++) {
		free(w->kv[i].key);
		free(w->kv[i].value);
	}
	free(w->kv);
	free(w->path);
	free(w->tmp);
	dbuf_release(&w->scratch);
	dbuf_release(&w->comp);
	dbuf_release(&w->mem);
	free(w);
}
