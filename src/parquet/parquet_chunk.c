/*
 * The column chunk reader: walks the pages of one chunk, loads the
 * dictionary, decompresses each data page once, decodes definition levels
 * and values a batch at a time and spreads them out per row; see
 * parquet_chunk.h. Any inconsistency between what a page says and what it
 * holds is TS_ECORRUPT with the file, column, row group and page offset.
 */
#include "base/common.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_page.h"

#include <inttypes.h>

struct parquet_chunk {
	struct parquet_reader *r;
	const struct parquet_column *col;
	const struct parquet_chunk_meta *meta;
	int rg;
	size_t es; /* output element size */
	uint8_t *owned;
	const uint8_t *base, *p, *end;
	uint64_t base_off, page_off;
	int64_t values_left;
	/* dictionary */
	bool has_dict, data_seen;
	uint8_t *dict_buf;
	uint8_t *dict_vals;
	uint32_t dict_n;
	/* current data page */
	bool in_page, has_defs, dec_live;
	uint32_t page_left;
	uint8_t *page_buf;
	struct parquet_rle_dec defs;
	struct parquet_decode dec;
	/* batch */
	uint32_t cap; /* rows a batch can hold */
	uint32_t *levels, *idx;
	uint8_t *valid, *vals;
	struct dbuf scratch;
};

static int page_err(struct parquet_chunk *c, struct ts_err *err, int rc)
{
	ts_err_wrap(err, "%s: column '%s', row group %d, page at offset %" PRIu64,
	            parquet_reader_name(c->r), c->col->name, c->rg, c->page_off);
	return rc;
}

static int bad(struct parquet_chunk *c, struct ts_err *err, const char *what)
{
	ts_err_set(err, TS_ECORRUPT, "%s", what);
	return page_err(c, err, TS_ECORRUPT);
}

/* Decompressed body of a page: *out points at usize bytes. */
static int inflate_body(struct parquet_chunk *c, const uint8_t *in, size_t n, size_t usize,
                        uint8_t **buf, const uint8_t **out, struct ts_err *err)
{
	int rc;

	free(*buf);
	*buf = NULL;
	if (c->meta->codec == PARQUET_UNCOMPRESSED) {
		if (n != usize)
			return bad(c, err, "uncompressed page sizes disagree");
		*out = in;
		return 0;
	}
	if ((rc = parquet_compress_check(c->meta->codec, in, n, usize, err)))
		return page_err(c, err, rc);
	*buf = malloc(usize ? usize : 1);
	if (!*buf)
		return ts_err_set(err, TS_ENOMEM, "out of memory for a %zu-byte page", usize);
	rc = parquet_compress_undo(c->meta->codec, in, n, *buf, usize, err);
	if (rc)
		return page_err(c, err, rc);
	*out = *buf;
	return 0;
}

static int load_dict(struct parquet_chunk *c, const struct parquet_page_header *h,
                     const uint8_t *body, struct ts_err *err)
{
	struct parquet_decode d;
	const uint8_t *p;
	size_t usize = (size_t)h->uncompressed_size, min_bytes;
	int rc;

	if (c->has_dict || c->data_seen)
		return bad(c, err, "a second dictionary page, or one after data pages");
	if (h->encoding != PARQUET_ENC_PLAIN && h->encoding != PARQUET_ENC_PLAIN_DICTIONARY)
		return bad(c, err, "dictionary page is not PLAIN");
	if (c->col->type == PARQUET_BOOLEAN)
		return bad(c, err, "BOOLEAN columns have no dictionary");
	min_bytes = c->col->type == PARQUET_BYTE_ARRAY ? 4
	            : c->col->type == PARQUET_FIXED_LEN_BYTE_ARRAY
	                ? (size_t)c->col->type_length
	                : (c->col->type == PARQUET_INT96 ? 12 : c->es);
	if ((uint64_t)h->num_values * min_bytes > usize)
		return bad(c, err, "dictionary holds more entries than its page has bytes");
	if ((rc = inflate_body(c, body, (size_t)h->compressed_size, usize, &c->dict_buf, &p, err)))
		return rc;
	c->dict_vals = malloc((size_t)h->num_values * c->es + 1);
	if (!c->dict_vals)
		return ts_err_set(err, TS_ENOMEM, "out of memory for the dictionary");
	rc = parquet_decode_init(&d, c->col->type, c->col->type_length, PARQUET_ENC_PLAIN, p,
	                         p + usize, (uint64_t)h->num_values, err);
	if (!rc)
		rc = parquet_decode_values(&d, c->dict_vals, (size_t)h->num_values, &c->scratch,
		                           err);
	parquet_decode_release(&d);
	if (rc)
		return page_err(c, err, rc);
	c->dict_n = (uint32_t)h->num_values;
	c->has_dict = true;
	return 0;
}

/* Counts the non-null values of the page from a copy of its level decoder. */
static int count_present(struct parquet_chunk *c, uint32_t n, uint64_t *present)
{
	struct parquet_rle_dec d = c->defs;

	*present = 0;
	for (uint32_t i = 0; i < n; i += c->cap) {
		uint32_t k = n - i < c->cap ? n - i : c->cap;

		if (parquet_rle_dec_get(&d, c->levels, k))
			return TS_ECORRUPT;
		for (uint32_t j = 0; j < k; j++) {
			if (c->levels[j] > 1)
				return TS_ECORRUPT;
			*present += c->levels[j];
		}
	}
	return 0;
}

/* Sets up the level decoder over (p, n) and the values section after it. */
static int start_levels(struct parquet_chunk *c, const struct parquet_page_header *h,
                        const uint8_t **p, const uint8_t *end, struct ts_err *err)
{
	uint32_t len;

	c->has_defs = false;
	if (!c->col->optional)
		return 0;
	if (h->type == PARQUET_PAGE_DATA) {
		if (h->def_encoding != PARQUET_ENC_RLE)
			return bad(c, err, "definition levels are not RLE-encoded");
		if (end - *p < 4)
			return bad(c, err, "definition levels past the page");
		memcpy(&len, *p, 4);
		if (len > (size_t)(end - *p - 4))
			return bad(c, err, "definition levels past the page");
		parquet_rle_dec_init(&c->defs, *p + 4, *p + 4 + len, 1);
		*p += 4 + len;
	} else {
		parquet_rle_dec_init(&c->defs, *p + h->rep_len, *p + h->rep_len + h->def_len, 1);
	}
	c->has_defs = true;
	return 0;
}

static int start_page(struct parquet_chunk *c, const struct parquet_page_header *h,
                      const uint8_t *body, struct ts_err *err)
{
	const uint8_t *p, *end;
	size_t lv = 0;
	uint64_t present = (uint64_t)h->num_values;
	int rc;

	if ((int64_t)h->num_values > c->values_left)
		return bad(c, err, "page holds more values than its column chunk");
	if (h->type == PARQUET_PAGE_DATA_V2) {
		lv = (size_t)h->rep_len + (size_t)h->def_len;
		if ((rc = start_levels(c, h, &body, body + lv, err)))
			return rc;
		if (!h->is_compressed) {
			p = body + lv;
			end = body + h->compressed_size;
		} else if ((rc = inflate_body(c, body + lv, (size_t)h->compressed_size - lv,
		                              (size_t)h->uncompressed_size - lv, &c->page_buf, &p,
		                              err))) {
			return rc;
		} else {
			end = p + (size_t)h->uncompressed_size - lv;
		}
	} else {
		if ((rc = inflate_body(c, body, (size_t)h->compressed_size,
		                       (size_t)h->uncompressed_size, &c->page_buf, &p, err)))
			return rc;
		end = p + h->uncompressed_size;
		if ((rc = start_levels(c, h, &p, end, err)))
			return rc;
	}
	if (c->has_defs && count_present(c, (uint32_t)h->num_values, &present))
		return bad(c, err, "definition levels are corrupt");
	if (c->dec_live)
		parquet_decode_release(&c->dec);
	c->dec_live = true;
	rc = parquet_decode_init(&c->dec, c->col->type, c->col->type_length, h->encoding, p, end,
	                         present, err);
	if (rc)
		return page_err(c, err, rc);
	if (parquet_decode_is_dict(&c->dec) && !c->has_dict)
		return bad(c, err, "dictionary-encoded page but the chunk has no dictionary");
	c->page_left = (uint32_t)h->num_values;
	c->in_page = h->num_values > 0;
	c->data_seen = true;
	return 0;
}

/* Moves to the next data page; *done when the chunk has no more. */
static int next_page(struct parquet_chunk *c, bool *done, struct ts_err *err)
{
	struct parquet_page_header h;
	const uint8_t *body;
	int rc;

	*done = false;
	while (!c->in_page) {
		if (c->values_left <= 0 || c->p >= c->end) {
			if (c->values_left > 0)
				return bad(c, err, "column chunk ends before all its values");
			*done = true;
			return 0;
		}
		c->page_off = c->base_off + (uint64_t)(c->p - c->base);
		if ((rc = parquet_page_decode_header(&c->p, c->end, &h, err)))
			return page_err(c, err, rc);
		body = c->p;
		c->p += h.compressed_size;
		if (h.type == PARQUET_PAGE_DICTIONARY)
			rc = load_dict(c, &h, body, err);
		else if (h.type == PARQUET_PAGE_DATA || h.type == PARQUET_PAGE_DATA_V2)
			rc = start_page(c, &h, body, err);
		if (rc)
			return rc;
	}
	return 0;
}

static void spread(uint8_t *v, size_t es, const uint8_t *valid, size_t n, size_t k)
{
	size_t j = k;

	for (size_t i = n; i-- > 0;) {
		if (valid[i])
			memmove(v + i * es, v + --j * es, es);
		else
			memset(v + i * es, 0, es);
	}
}

static void gather(struct parquet_chunk *c, size_t k)
{
	const uint32_t *ix = c->idx;

	switch (c->es) {
	case 4:
		for (size_t i = 0; i < k; i++)
			((uint32_t *)c->vals)[i] = ((const uint32_t *)c->dict_vals)[ix[i]];
		break;
	case 8:
		for (size_t i = 0; i < k; i++)
			((uint64_t *)c->vals)[i] = ((const uint64_t *)c->dict_vals)[ix[i]];
		break;
	default:
		for (size_t i = 0; i < k; i++)
			memcpy(c->vals + i * c->es, c->dict_vals + ix[i] * c->es, c->es);
	}
}

static int read_dict_page(struct parquet_chunk *c, size_t k, bool want_indices,
                          struct parquet_batch *b, struct ts_err *err)
{
	int rc = parquet_decode_indices(&c->dec, c->idx, k, err);

	if (rc)
		return page_err(c, err, rc);
	for (size_t i = 0; i < k; i++) {
		if (c->idx[i] >= c->dict_n) {
			ts_err_set(err, TS_ECORRUPT,
			           "dictionary index %u out of range (%u entries)", c->idx[i],
			           c->dict_n);
			return page_err(c, err, TS_ECORRUPT);
		}
	}
	if (want_indices) {
		b->indices = c->idx;
		b->dict = c->dict_vals;
		b->dict_n = c->dict_n;
	} else {
		gather(c, k);
		b->values = c->vals;
	}
	return 0;
}

static size_t read_levels(struct parquet_chunk *c, size_t n, struct ts_err *err, int *rc)
{
	size_t k = 0;

	*rc = 0;
	if (!c->has_defs)
		return n;
	if (parquet_rle_dec_get(&c->defs, c->levels, n)) {
		*rc = bad(c, err, "definition levels are corrupt");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		c->valid[i] = (uint8_t)c->levels[i];
		k += c->levels[i];
	}
	return k;
}

int parquet_chunk_next(struct parquet_chunk *c, size_t max, bool want_indices,
                       struct parquet_batch *b, struct ts_err *err)
{
	bool done;
	size_t n, k;
	int rc;

	memset(b, 0, sizeof(*b));
	b->type = c->col->type;
	if ((rc = next_page(c, &done, err)) || done)
		return rc;
	max = max < 1 ? 1 : max > c->cap ? c->cap : max;
	n = c->page_left < max ? c->page_left : max;
	k = read_levels(c, n, err, &rc);
	if (rc)
		return rc;
	dbuf_reset(&c->scratch);
	b->encoding = c->dec.encoding;
	if (parquet_decode_is_dict(&c->dec)) {
		rc = read_dict_page(c, k, want_indices, b, err);
	} else {
		rc = parquet_decode_values(&c->dec, c->vals, k, &c->scratch, err);
		b->values = c->vals;
		if (rc)
			rc = page_err(c, err, rc);
	}
	if (rc)
		return rc;
	if (k < n) {
		if (b->indices)
			spread((uint8_t *)c->idx, 4, c->valid, n, k);
		else
			spread(c->vals, c->es, c->valid, n, k);
		b->valid = c->valid;
	}
	b->n = n;
	c->page_left -= (uint32_t)n;
	c->values_left -= (int64_t)n;
	c->in_page = c->page_left > 0;
	return 0;
}

static int chunk_init(struct parquet_chunk *c, struct parquet_reader *r, int rg, int col,
                      struct ts_err *err)
{
	const struct parquet_footer *f = parquet_reader_footer(r);
	int64_t start;
	int rc;

	c->r = r;
	c->rg = rg;
	c->col = &f->cols[col];
	c->meta = &f->rgs[rg].chunks[col];
	c->es = parquet_decode_elem_size(c->col->type);
	c->values_left = c->meta->num_values;
	dbuf_init(&c->scratch, PARQUET_MAX_PAGE);
	if (!parquet_compress_supported(c->meta->codec))
		return ts_err_set(
		    err, TS_EINVAL, "%s: column '%s': %s compression is not supported",
		    parquet_reader_name(r), c->col->name, parquet_compress_name(c->meta->codec));
	/* Batch arrays: no larger than the chunk needs (small files are common). */
	c->cap = c->values_left < PARQUET_BATCH_MAX ? (uint32_t)c->values_left : PARQUET_BATCH_MAX;
	c->cap = c->cap ? c->cap : 1;
	c->levels = malloc(c->cap * sizeof(*c->levels));
	c->idx = malloc(c->cap * sizeof(*c->idx));
	c->valid = malloc(c->cap);
	c->vals = malloc(c->cap * c->es);
	if (!c->levels || !c->idx || !c->valid || !c->vals)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	start =
	    c->meta->dict_page_offset >= 0 ? c->meta->dict_page_offset : c->meta->data_page_offset;
	c->base_off = (uint64_t)start;
	rc = parquet_reader_range(r, (uint64_t)start, (uint64_t)c->meta->total_compressed, &c->base,
	                          &c->owned, err);
	if (rc)
		return rc;
	c->p = c->base;
	c->end = c->base + c->meta->total_compressed;
	return 0;
}

int parquet_chunk_open(struct parquet_reader *r, int rg, int col, struct parquet_chunk **out,
                       struct ts_err *err)
{
	const struct parquet_footer *f = parquet_reader_footer(r);
	int rc;

	*out = NULL;
	if (rg < 0 || rg >= f->nrg || col < 0 || col >= f->ncols)
		return ts_err_set(err, TS_EINVAL, "%s: no column %d in row group %d",
		                  parquet_reader_name(r), col, rg);
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	rc = chunk_init(*out, r, rg, col, err);
	if (rc) {
		parquet_chunk_free(*out);
		*out = NULL;
	}
	return rc;
}

void parquet_chunk_free(struct parquet_chunk *c)
{
	if (!c)
		return;
	if (c->dec_live)
		parquet_decode_release(&c->dec);
	free(c->owned);
	free(c->dict_buf);
	free(c->dict_vals);
	free(c->page_buf);
	free(c->levels);
	free(c->idx);
	free(c->valid);
	free(c->vals);
	dbuf_release(&c->scratch);
	free(c);
}
