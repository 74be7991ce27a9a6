/*
 * See flow_rows.h.
 */
#include "base/common.h"
#include "flow/flow_rows.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_reader.h"

void flow_rows_init(struct flow_rows *t, const struct parquet_writer_column *schema, int ncols,
                    size_t max_rows, size_t max_bytes)
{
	if (ncols > FLOW_ROWS_MAX_COLS)
		BUG("flow_rows: %d columns", ncols);
	memset(t, 0, sizeof(*t));
	t->schema = schema;
	t->ncols = ncols;
	t->max_rows = max_rows;
	dbuf_init(&t->arena, max_bytes < (1ull << 32) ? max_bytes : (1ull << 32) - 1);
}

void flow_rows_release(struct flow_rows *t)
{
	for (int c = 0; c < t->ncols; c++) {
		free(t->valid[c]);
		free(t->slot[c]);
	}
	dbuf_release(&t->arena);
	memset(t->valid, 0, sizeof(t->valid));
	memset(t->slot, 0, sizeof(t->slot));
	t->n = t->cap = 0;
}

void flow_rows_reset(struct flow_rows *t)
{
	t->n = 0;
	dbuf_reset(&t->arena);
}

static int reserve(struct flow_rows *t, size_t more, struct ts_err *err)
{
	size_t want = t->n + more, cap = t->cap ? t->cap : 1024;

	if (want <= t->cap)
		return 0;
	if (want > t->max_rows)
		return ts_err_set(err, TS_ETOOBIG, "more than %zu rows in one lake hour",
		                  t->max_rows);
	while (cap < want)
		cap *= 2;
	if (cap > t->max_rows)
		cap = t->max_rows;
	for (int c = 0; c < t->ncols; c++) {
		uint8_t *v = realloc(t->valid[c], cap);
		uint64_t *s;

		if (v)
			t->valid[c] = v;
		s = v ? realloc(t->slot[c], cap * sizeof(*s)) : NULL;
		if (!s)
			return ts_err_set(err, TS_ENOMEM, "out of memory for %zu rows", cap);
		t->slot[c] = s;
	}
	t->cap = cap;
	return 0;
}

struct parquet_bytes flow_rows_str(const struct flow_rows *t, int col, size_t i)
{
	uint64_t s = t->slot[col][i];
	struct parquet_bytes b = {(const uint8_t *)t->arena.buf + (s >> 32),
	                          (uint32_t)(s & 0xffffffffu)};

	if (!t->valid[col][i] || !t->arena.buf)
		b.ptr = (const uint8_t *)"", b.len = 0;
	return b;
}

static int add_str(struct flow_rows *t, const void *p, uint32_t len, uint64_t *slot,
                   struct ts_err *err)
{
	*slot = (uint64_t)t->arena.len << 32 | len;
	if (dbuf_add(&t->arena, p, len))
		return ts_err_set(err, TS_ETOOBIG, "more than %zu bytes of text in one lake hour",
		                  t->arena.max);
	return 0;
}

/* Values of batch b into column c from row at. */
static int take_batch(struct flow_rows *t, int c, size_t at, const struct parquet_batch *b,
                      struct ts_err *err)
{
	int type = t->schema[c].type, rc = 0;

	for (size_t i = 0; !rc && i < b->n; i++) {
		uint64_t *slot = &t->slot[c][at + i];

		t->valid[c][at + i] = b->valid ? b->valid[i] : 1;
		if (type == PARQUET_INT32)
			*slot = (uint64_t)(int64_t)((const int32_t *)b->values)[i];
		else if (type == PARQUET_INT64)
			*slot = (uint64_t)((const int64_t *)b->values)[i];
		else if (type == PARQUET_DOUBLE)
			memcpy(slot, (const double *)b->values + i, sizeof(double));
		else {
			const struct parquet_bytes *v = (const struct parquet_bytes *)b->values + i;
			rc = add_str(t, v->ptr, v->len, slot, err);
		}
	}
	return rc;
}

static int read_chunk(struct flow_rows *t, struct parquet_reader *r, int rg, int fcol, int c,
                      size_t rows, struct ts_err *err)
{
	struct parquet_chunk *ch = NULL;
	struct parquet_batch b;
	size_t at = 0;
	int rc;

	if (fcol < 0) { /* an optional column the file lacks: nulls */
		memset(t->valid[c] + t->n, 0, rows);
		memset(t->slot[c] + t->n, 0, rows * sizeof(uint64_t));
		return 0;
	}
	rc = parquet_chunk_open(r, rg, fcol, &ch, err);
	while (!rc && !(rc = parquet_chunk_next(ch, PARQUET_BATCH_MAX, false, &b, err)) && b.n) {
		if (at + b.n > rows) {
			rc = ts_err_set(err, TS_ECORRUPT, "%s: column %s has more values than rows",
			                parquet_reader_name(r), t->schema[c].name);
			break;
		}
		rc = take_batch(t, c, t->n + at, &b, err);
		at += b.n;
	}
	parquet_chunk_free(ch);
	if (!rc && at != rows)
		rc = ts_err_set(err, TS_ECORRUPT, "%s: column %s has fewer values than rows",
		                parquet_reader_name(r), t->schema[c].name);
	return rc;
}

static int map_columns(struct flow_rows *t, struct parquet_reader *r, int *map, struct ts_err *err)
{
	const struct parquet_footer *f = parquet_reader_footer(r);

	for (int c = 0; c < t->ncols; c++) {
		map[c] = parquet_reader_column(r, t->schema[c].name);
		if (map[c] < 0 && t->schema[c].optional)
			continue;
		if (map[c] < 0 || f->cols[map[c]].type != t->schema[c].type)
			return ts_err_set(err, TS_ECORRUPT,
			                  "%s: column %s missing or of another type",
			                  parquet_reader_name(r), t->schema[c].name);
		if (f->cols[map[c]].optional && !t->schema[c].optional)
			return ts_err_set(err, TS_ECORRUPT, "%s: column %s may be null",
			                  parquet_reader_name(r), t->schema[c].name);
	}
	return 0;
}

int flow_rows_read(struct flow_rows *t, const void *buf, size_t len, const char *name,
                   struct ts_err *err)
{
	struct parquet_reader *r = NULL;
	const struct parquet_footer *f;
	int map[FLOW_ROWS_MAX_COLS];
	int rc = parquet_reader_open_mem(buf, len, name, &r, err);

	rc = rc ? rc : map_columns(t, r, map, err);
	f = rc ? NULL : parquet_reader_footer(r);
	for (int rg = 0; !rc && rg < f->nrg; rg++) {
		int64_t rows = f->rgs[rg].num_rows;

		if (rows < 0)
			rc = ts_err_set(err, TS_ECORRUPT, "%s: negative row count", name);
		rc = rc ? rc : reserve(t, (size_t)rows, err);
		for (int c = 0; !rc && c < t->ncols; c++)
			rc = read_chunk(t, r, rg, map[c], c, (size_t)rows, err);
		if (!rc)
			t->n += (size_t)rows;
	}
	parquet_reader_free(r);
	if (rc && rc != TS_ETOOBIG && rc != TS_ENOMEM)
		rc = TS_ECORRUPT; /* whatever the decoder said, the file is bad */
	if (rc && !strstr(err ? err->msg : "", name))
		ts_err_wrap(err, "%s", name);
	return rc;
}

int flow_rows_copy_row(struct flow_rows *t, const struct flow_rows *src, size_t i,
                       struct ts_err *err)
{
	int rc = reserve(t, 1, err);

	for (int c = 0; !rc && c < t->ncols; c++) {
		t->valid[c][t->n] = src->valid[c][i];
		if (t->schema[c].type == PARQUET_BYTE_ARRAY) {
			struct parquet_bytes b = flow_rows_str(src, c, i);
			rc = add_str(t, b.ptr, b.len, &t->slot[c][t->n], err);
		} else {
			t->slot[c][t->n] = src->slot[c][i];
		}
	}
	t->n += !rc;
	return rc;
}

int flow_rows_put(const struct flow_rows *t, int col, size_t i, struct parquet_writer *w, int wcol)
{
	double d;

	if (!t->valid[col][i])
		return parquet_writer_put_null(w, wcol);
	switch (t->schema[col].type) {
	case PARQUET_INT32:
		return parquet_writer_put_i32(w, wcol, (int32_t)flow_rows_int(t, col, i));
	case PARQUET_INT64:
		return parquet_writer_put_i64(w, wcol, flow_rows_int(t, col, i));
	case PARQUET_DOUBLE:
		memcpy(&d, &t->slot[col][i], sizeof(d));
		return parquet_writer_put_double(w, wcol, d);
	default: {
		struct parquet_bytes b = flow_rows_str(t, col, i);
		return parquet_writer_put_bytes(w, wcol, b.ptr, b.len);
	}
	}
}
