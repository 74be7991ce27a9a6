/*
 * Opening files and decoding footers, and statistics-based row-group
 * pruning; see parquet_reader.h.
 */
#include "base/common.h"
#include "parquet/parquet_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct parquet_reader {
	char *name;
	int fd;
	const uint8_t *mem;
	uint64_t mem_off; /* mem holds the file's bytes from here on (the tail) */
	uint64_t size;
	struct parquet_footer footer;
	parquet_fetch_fn fetch; /* for ranges before mem_off, when set */
	void *fetch_ctx;
};

void parquet_reader_set_fetch(struct parquet_reader *r, parquet_fetch_fn fn, void *ctx)
{
	r->fetch = fn;
	r->fetch_ctx = ctx;
}

const struct parquet_footer *parquet_reader_footer(const struct parquet_reader *r)
{
	return &r->footer;
}

const char *parquet_reader_name(const struct parquet_reader *r)
{
	return r->name;
}

uint64_t parquet_reader_size(const struct parquet_reader *r)
{
	return r->size;
}

int parquet_reader_column(const struct parquet_reader *r, const char *name)
{
	for (int i = 0; i < r->footer.ncols; i++)
		if (!strcmp(r->footer.cols[i].name, name))
			return i;
	return -1;
}

static int read_at(struct parquet_reader *r, uint64_t off, void *buf, size_t len,
                   struct ts_err *err)
{
	for (size_t done = 0; done < len;) {
		ssize_t k = pread(r->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return ts_err_set(err, TS_EIO, "%s: read: %s", r->name, strerror(errno));
		if (k == 0)
			return ts_err_set(err, TS_ECORRUPT, "%s: file shrank while being read",
			                  r->name);
		done += (size_t)k;
	}
	return 0;
}

int parquet_reader_range(struct parquet_reader *r, uint64_t off, uint64_t len, const uint8_t **p,
                         uint8_t **owned, struct ts_err *err)
{
	int rc;

	*owned = NULL;
	if (off > r->size || len > r->size - off)
		return ts_err_set(err, TS_ECORRUPT,
		                  "%s: range of %llu bytes at %llu is past the end of the file",
		                  r->name, (unsigned long long)len, (unsigned long long)off);
	if (r->mem && off < r->mem_off && r->fetch) {
		if (!(*owned = malloc(len ? (size_t)len : 1)))
			return ts_err_set(err, TS_ENOMEM, "%s: out of memory for %llu bytes",
			                  r->name, (unsigned long long)len);
		if ((rc = r->fetch(r->fetch_ctx, off, (size_t)len, *owned, err))) {
			free(*owned);
			*owned = NULL;
			return rc;
		}
		*p = *owned;
		return 0;
	}
	if (r->mem && off < r->mem_off)
		return ts_err_set(err, TS_ECORRUPT,
		                  "%s: range at %llu is before the %llu bytes of the file's end "
		                  "that were read",
		                  r->name, (unsigned long long)off,
		                  (unsigned long long)(r->size - r->mem_off));
	if (r->mem) {
		*p = r->mem + (off - r->mem_off);
		return 0;
	}
	*owned = malloc(len ? (size_t)len : 1);
	if (!*owned)
		return ts_err_set(err, TS_ENOMEM, "%s: out of memory for %llu bytes", r->name,
		                  (unsigned long long)len);
	rc = read_at(r, off, *owned, (size_t)len, err);
	if (rc) {
		free(*owned);
		*owned = NULL;
		return rc;
	}
	*p = *owned;
	return 0;
}

static int load_footer(struct parquet_reader *r, struct ts_err *err)
{
	const uint8_t *p, *tail;
	uint8_t *owned = NULL, *owned_tail = NULL, *head_owned = NULL;
	uint32_t flen;
	int rc;

	if (r->size < 12)
		return ts_err_set(err, TS_ECORRUPT, "%s: %llu bytes is too short for Parquet",
		                  r->name, (unsigned long long)r->size);
	/* (a tail without the file's start cannot show its magic) */
	rc = r->mem_off ? 0 : parquet_reader_range(r, 0, 4, &p, &head_owned, err);
	if (!rc && !r->mem_off && memcmp(p, "PAR1", 4))
		rc = ts_err_set(err, TS_ECORRUPT, "%s: not a Parquet file (no PAR1 at the start)",
		                r->name);
	free(head_owned);
	if (!rc)
		rc = parquet_reader_range(r, r->size - 8, 8, &tail, &owned_tail, err);
	if (rc)
		return rc;
	memcpy(&flen, tail, 4);
	if (memcmp(tail + 4, "PAR1", 4))
		rc =
		    ts_err_set(err, TS_ECORRUPT,
		               "%s: not a Parquet file or truncated (no PAR1 at the end)", r->name);
	else if (flen > r->size - 12 || flen > PARQUET_MAX_FOOTER)
		rc = ts_err_set(err, TS_ECORRUPT,
		                "%s: footer length %u is past the file (%llu bytes) or over %u",
		                r->name, flen, (unsigned long long)r->size, PARQUET_MAX_FOOTER);
	else if (r->size - 8 - flen < r->mem_off)
		rc = ts_err_set(err, TS_ETOOBIG,
		                "%s: footer of %u bytes is longer than the %llu read", r->name,
		                flen, (unsigned long long)(r->size - r->mem_off - 8));
	free(owned_tail);
	if (!rc)
		rc = parquet_reader_range(r, r->size - 8 - flen, flen, &p, &owned, err);
	if (!rc && (rc = parquet_footer_decode(p, p + flen, r->size - 8 - flen, &r->footer, err)))
		ts_err_wrap(err, "%s: footer", r->name);
	free(owned);
	return rc;
}

static int reader_new(const char *name, struct parquet_reader **out, struct ts_err *err)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	(*out)->fd = -1;
	(*out)->name = strdup(name ? name : "(memory)");
	if (!(*out)->name)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	return 0;
}

int parquet_reader_open_file(const char *path, struct parquet_reader **out, struct ts_err *err)
{
	struct parquet_reader *r;
	struct stat st;
	int rc = reader_new(path, out, err);

	r = *out;
	if (!rc) {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0 || fstat(r->fd, &st))
			rc = ts_err_set(err, errno == ENOENT ? TS_ENOTFOUND : TS_EIO, "%s: %s",
			                path, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			rc = ts_err_set(err, TS_EINVAL, "%s: not a regular file", path);
		else
			r->size = (uint64_t)st.st_size;
	}
	if (!rc)
		rc = load_footer(r, err);
	if (rc) {
		parquet_reader_free(r);
		*out = NULL;
	}
	return rc;
}

int parquet_reader_open_mem(const void *buf, size_t len, const char *name,
                            struct parquet_reader **out, struct ts_err *err)
{
	int rc = reader_new(name, out, err);

	if (!rc) {
		(*out)->mem = buf ? buf : (const uint8_t *)"";
		(*out)->size = len;
		rc = load_footer(*out, err);
	}
	if (rc) {
		parquet_reader_free(*out);
		*out = NULL;
	}
	return rc;
}

int parquet_reader_open_tail(const void *tail, size_t tail_len, uint64_t file_size,
                             const char *name, struct parquet_reader **out, struct ts_err *err)
{
	int rc = reader_new(name, out, err);

	if (!rc && tail_len > file_size)
		rc = ts_err_set(err, TS_EINVAL, "%s: %zu bytes of tail for a file of %llu", name,
		                tail_len, (unsigned long long)file_size);
	else if (!rc && tail_len < 8 && tail_len < file_size)
		rc = ts_err_set(err, TS_ETOOBIG, "%s: %zu bytes of tail hold no footer length",
		                name, tail_len);
	if (!rc) {
		(*out)->mem = tail ? tail : (const uint8_t *)"";
		(*out)->mem_off = file_size - tail_len;
		(*out)->size = file_size;
		rc = load_footer(*out, err);
	}
	if (rc) {
		parquet_reader_free(*out);
		*out = NULL;
	}
	return rc;
}

void parquet_reader_free(struct parquet_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	parquet_footer_release(&r->footer);
	free(r->name);
	free(r);
}

/* ---- pruning ---- */

static const struct parquet_stats *usable_stats(const struct parquet_reader *r, int rg, int col)
{
	const struct parquet_chunk_meta *m;

	if (rg < 0 || rg >= r->footer.nrg || col < 0 || col >= r->footer.ncols)
		return NULL;
	m = &r->footer.rgs[rg].chunks[col];
	if (!m->has_stats || !m->stats.has_min || !m->stats.has_max)
		return NULL;
	return &m->stats;
}

static bool stat_int(int type, const uint8_t *p, uint32_t len, int64_t *v)
{
	int32_t i32;

	if (type == PARQUET_INT32 && len == 4) {
		memcpy(&i32, p, 4);
		*v = i32;
		return true;
	}
	if (type == PARQUET_INT64 && len == 8) {
		memcpy(v, p, 8);
		return true;
	}
	return false;
}

bool parquet_reader_rg_may_match_int(const struct parquet_reader *r, int rg, int col, int64_t lo,
                                     int64_t hi)
{
	const struct parquet_stats *s = usable_stats(r, rg, col);
	int64_t min, max;
	int type;

	if (!s)
		return true;
	type = r->footer.cols[col].type;
	if (!stat_int(type, s->min, s->min_len, &min) || !stat_int(type, s->max, s->max_len, &max))
		return true;
	return !(max < lo || min > hi);
}

static int bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

bool parquet_reader_rg_may_match_bytes(const struct parquet_reader *r, int rg, int col,
                                       const void *v, size_t n)
{
	const struct parquet_stats *s = usable_stats(r, rg, col);

	if (!s || r->footer.cols[col].type != PARQUET_BYTE_ARRAY)
		return true;
	return bytes_cmp(v, n, s->min, s->min_len) >= 0 && bytes_cmp(v, n, s->max, s->max_len) <= 0;
}
