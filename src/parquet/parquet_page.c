/*
 * Page header encoding and decoding; field ids and page layouts are in
 * parquet_page.h.
 */
#include "base/common.h"
#include "parquet/parquet_page.h"
#include "parquet/parquet_thrift.h"

int parquet_page_encode_header(const struct parquet_page_header *h, struct dbuf *out)
{
	struct parquet_thrift_w w;

	parquet_thrift_w_init(&w, out);
	parquet_thrift_w_i32(&w, 1, h->type);
	parquet_thrift_w_i32(&w, 2, h->uncompressed_size);
	parquet_thrift_w_i32(&w, 3, h->compressed_size);
	if (h->type == PARQUET_PAGE_DICTIONARY) {
		parquet_thrift_w_begin(&w, 7);
		parquet_thrift_w_i32(&w, 1, h->num_values);
		parquet_thrift_w_i32(&w, 2, h->encoding);
		parquet_thrift_w_end(&w);
	} else if (h->type == PARQUET_PAGE_DATA) {
		parquet_thrift_w_begin(&w, 5);
		parquet_thrift_w_i32(&w, 1, h->num_values);
		parquet_thrift_w_i32(&w, 2, h->encoding);
		parquet_thrift_w_i32(&w, 3, h->def_encoding);
		parquet_thrift_w_i32(&w, 4, h->rep_encoding);
		if (h->has_stats)
			parquet_footer_encode_stats(&w, 5, &h->stats);
		parquet_thrift_w_end(&w);
	} else {
		parquet_thrift_w_begin(&w, 8);
		parquet_thrift_w_i32(&w, 1, h->num_values);
		parquet_thrift_w_i32(&w, 2, h->num_nulls);
		parquet_thrift_w_i32(&w, 3, h->num_rows);
		parquet_thrift_w_i32(&w, 4, h->encoding);
		parquet_thrift_w_i32(&w, 5, h->def_len);
		parquet_thrift_w_i32(&w, 6, h->rep_len);
		parquet_thrift_w_bool(&w, 7, h->is_compressed);
		if (h->has_stats)
			parquet_footer_encode_stats(&w, 8, &h->stats);
		parquet_thrift_w_end(&w);
	}
	return parquet_thrift_w_finish(&w);
}

#define FOR_FIELDS(r, id, type, rc)                                                                \
	for (rc = parquet_thrift_r_begin(r);                                                       \
	     !rc && !(rc = parquet_thrift_r_field(r, &id, &type)) && type != PQ_T_STOP;)

/* DataPageHeader (v1), DictionaryPageHeader and DataPageHeaderV2 share
 * field 1 (num_values) and, for v1/dict, 2 (encoding); `kind` tells them apart. */
static int decode_sub(struct parquet_thrift_r *r, int kind, struct parquet_page_header *h)
{
	int id, type, rc;
	int32_t v;

	FOR_FIELDS(r, id, type, rc)
	{
		if ((kind == 5 && id == 5) || (kind == 8 && id == 8)) {
			rc = parquet_footer_decode_stats(r, &h->stats);
			h->has_stats = true;
		} else if (kind == 8 && id == 7) {
			rc = parquet_thrift_r_bool(r, type, &h->is_compressed);
		} else if (type == PQ_T_I32 && id >= 1 && id <= 6) {
			rc = parquet_thrift_r_i32(r, type, &v);
			if (id == 1)
				h->num_values = v;
			else if (kind == 8)
				*(id == 2   ? &h->num_nulls
				  : id == 3 ? &h->num_rows
				  : id == 4 ? &h->encoding
				  : id == 5 ? &h->def_len
				            : &h->rep_len) = v;
			else if (id == 2)
				h->encoding = v;
			else if (kind == 5 && id == 3)
				h->def_encoding = v;
			else if (kind == 5 && id == 4)
				h->rep_encoding = v;
		} else {
			rc = parquet_thrift_r_skip(r, type);
		}
	}
	return rc;
}

static int check_header(const struct parquet_page_header *h, bool has_sub, size_t body_avail,
                        struct ts_err *err)
{
	if (!has_sub)
		return ts_err_set(err, TS_ECORRUPT, "page of type %d has no type-specific header",
		                  h->type);
	if (h->compressed_size < 0 || h->uncompressed_size < 0 || h->num_values < 0 ||
	    h->num_nulls < 0 || h->def_len < 0 || h->rep_len < 0)
		return ts_err_set(err, TS_ECORRUPT, "page header has a negative size or count");
	if ((uint32_t)h->compressed_size > PARQUET_MAX_PAGE ||
	    (uint32_t)h->uncompressed_size > PARQUET_MAX_PAGE)
		return ts_err_set(err, TS_ETOOBIG, "page of %d bytes (%d uncompressed) is over %u",
		                  h->compressed_size, h->uncompressed_size, PARQUET_MAX_PAGE);
	if ((size_t)h->compressed_size > body_avail)
		return ts_err_set(err, TS_ECORRUPT,
		                  "page of %d bytes runs past the end of its column chunk (%zu "
		                  "bytes left)",
		                  h->compressed_size, body_avail);
	if (h->type == PARQUET_PAGE_DATA_V2 &&
	    ((int64_t)h->def_len + h->rep_len > h->compressed_size ||
	     (int64_t)h->def_len + h->rep_len > h->uncompressed_size))
		return ts_err_set(err, TS_ECORRUPT, "v2 page levels are larger than the page");
	return 0;
}

int parquet_page_decode_header(const uint8_t **p, const uint8_t *end, struct parquet_page_header *h,
                               struct ts_err *err)
{
	struct parquet_thrift_r r;
	bool has_sub = false;
	int id, type, rc;
	int32_t v;

	memset(h, 0, sizeof(*h));
	h->is_compressed = true;
	h->type = -1;
	parquet_thrift_r_init(&r, *p, end, err);
	FOR_FIELDS(&r, id, type, rc)
	{
		if (id >= 1 && id <= 3) {
			rc = parquet_thrift_r_i32(&r, type, &v);
			*(id == 1   ? &h->type
			  : id == 2 ? &h->uncompressed_size
			            : &h->compressed_size) = v;
		} else if ((id == 5 || id == 7 || id == 8) && type == PQ_T_STRUCT &&
		           id == (h->type == PARQUET_PAGE_DATA         ? 5
		                  : h->type == PARQUET_PAGE_DICTIONARY ? 7
		                  : h->type == PARQUET_PAGE_DATA_V2    ? 8
		                                                       : -1)) {
			rc = decode_sub(&r, id, h);
			has_sub = true;
		} else {
			rc = parquet_thrift_r_skip(&r, type);
		}
	}
	if (rc)
		return rc;
	if (h->type == PARQUET_PAGE_INDEX || h->type < 0 || h->type > 3)
		has_sub = true; /* skipped by the caller; only sizes matter */
	rc = check_header(h, has_sub, (size_t)(end - r.p), err);
	if (!rc)
		*p = r.p;
	return rc;
}
