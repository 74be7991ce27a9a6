/*
 * FileMetaData encoding and decoding; the field ids and file layout are
 * listed in parquet_footer.h. The decoder keeps what a flat-schema reader
 * needs, skips every other field, and refuses what it cannot represent
 * (nested or repeated columns, encrypted footers, external chunks) with a
 * message naming the construct.
 */
#include "base/common.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_footer.h"
#include "parquet/parquet_thrift.h"

#include <inttypes.h>

/* ConvertedType values we write. */
enum { CT_UTF8 = 0, CT_DATE = 6, CT_TS_MILLIS = 9, CT_TS_MICROS = 10 };

const char *parquet_footer_type_name(int type)
{
	static const char *const n[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
	                                "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};

	return type >= 0 && type < (int)ARRAY_SIZE(n) ? n[type] : "?";
}

const char *parquet_footer_encoding_name(int enc)
{
	static const char *const n[] = {"PLAIN",
	                                "?",
	                                "PLAIN_DICTIONARY",
	                                "RLE",
	                                "BIT_PACKED",
	                                "DELTA_BINARY_PACKED",
	                                "DELTA_LENGTH_BYTE_ARRAY",
	                                "DELTA_BYTE_ARRAY",
	                                "RLE_DICTIONARY",
	                                "BYTE_STREAM_SPLIT"};

	return enc >= 0 && enc < (int)ARRAY_SIZE(n) ? n[enc] : "?";
}

const char *parquet_footer_logical_name(int logical)
{
	static const char *const n[] = {
	    "",     "STRING", "DATE", "TIMESTAMP(MILLIS)", "TIMESTAMP(MICROS)", "TIMESTAMP(NANOS)",
	    "OTHER"};

	return logical >= 0 && logical < (int)ARRAY_SIZE(n) ? n[logical] : "?";
}

void parquet_footer_release(struct parquet_footer *f)
{
	for (int i = 0; f->cols && i < f->ncols; i++)
		free(f->cols[i].name);
	free(f->cols);
	for (int i = 0; f->rgs && i < f->nrg; i++)
		free(f->rgs[i].chunks);
	free(f->rgs);
	for (int i = 0; f->kv && i < f->nkv; i++) {
		free(f->kv[i].key);
		free(f->kv[i].value);
	}
	free(f->kv);
	free(f->created_by);
	free(f->schema_name);
	memset(f, 0, sizeof(*f));
}

/* ---- encoding ---- */

void parquet_footer_encode_stats(struct parquet_thrift_w *w, int id, const struct parquet_stats *s)
{
	parquet_thrift_w_begin(w, id);
	if (s->has_null_count)
		parquet_thrift_w_i64(w, 3, s->null_count);
	if (s->has_distinct)
		parquet_thrift_w_i64(w, 4, s->distinct_count);
	if (s->has_max)
		parquet_thrift_w_bin(w, 5, s->max, s->max_len);
	if (s->has_min)
		parquet_thrift_w_bin(w, 6, s->min, s->min_len);
	parquet_thrift_w_end(w);
}

static void encode_time_unit(struct parquet_thrift_w *w, int logical)
{
	parquet_thrift_w_begin(w, 2);
	parquet_thrift_w_begin(w, logical == PARQUET_LT_TIMESTAMP_MILLIS   ? 1
	                          : logical == PARQUET_LT_TIMESTAMP_MICROS ? 2
	                                                                   : 3);
	parquet_thrift_w_end(w);
	parquet_thrift_w_end(w);
}

static void encode_logical(struct parquet_thrift_w *w, const struct parquet_column *c)
{
	int converted = -1;

	switch (c->logical) {
	case PARQUET_LT_STRING:
		converted = CT_UTF8;
		break;
	case PARQUET_LT_DATE:
		converted = CT_DATE;
		break;
	case PARQUET_LT_TIMESTAMP_MILLIS:
		converted = c->utc ? CT_TS_MILLIS : -1;
		break;
	case PARQUET_LT_TIMESTAMP_MICROS:
		converted = c->utc ? CT_TS_MICROS : -1;
		break;
	case PARQUET_LT_TIMESTAMP_NANOS:
		break;
	default:
		return;
	}
	if (converted >= 0)
		parquet_thrift_w_i32(w, 6, converted);
	parquet_thrift_w_begin(w, 10);
	if (c->logical == PARQUET_LT_STRING || c->logical == PARQUET_LT_DATE) {
		parquet_thrift_w_begin(w, c->logical == PARQUET_LT_STRING ? 1 : 6);
		parquet_thrift_w_end(w);
	} else {
		parquet_thrift_w_begin(w, 8);
		parquet_thrift_w_bool(w, 1, c->utc);
		encode_time_unit(w, c->logical);
		parquet_thrift_w_end(w);
	}
	parquet_thrift_w_end(w);
}

static void encode_schema(struct parquet_thrift_w *w, const struct parquet_footer *f)
{
	parquet_thrift_w_list(w, 2, PQ_T_STRUCT, (size_t)f->ncols + 1);
	parquet_thrift_w_begin(w, 0);
	parquet_thrift_w_str(w, 4, f->schema_name ? f->schema_name : "schema");
	parquet_thrift_w_i32(w, 5, f->ncols);
	parquet_thrift_w_end(w);
	for (int i = 0; i < f->ncols; i++) {
		const struct parquet_column *c = &f->cols[i];

		parquet_thrift_w_begin(w, 0);
		parquet_thrift_w_i32(w, 1, c->type);
		if (c->type == PARQUET_FIXED_LEN_BYTE_ARRAY)
			parquet_thrift_w_i32(w, 2, c->type_length);
		parquet_thrift_w_i32(w, 3, c->optional ? 1 : 0);
		parquet_thrift_w_str(w, 4, c->name);
		encode_logical(w, c);
		parquet_thrift_w_end(w);
	}
}

static void encode_encodings(struct parquet_thrift_w *w, uint32_t mask)
{
	size_t n = 0;

	for (int e = 0; e < 32; e++)
		n += (mask >> e) & 1;
	parquet_thrift_w_list(w, 2, PQ_T_I32, n);
	for (int e = 0; e < 32; e++)
		if ((mask >> e) & 1)
			parquet_thrift_w_i32_elem(w, e);
}

static void encode_chunk(struct parquet_thrift_w *w, const struct parquet_chunk_meta *m,
                         const char *name)
{
	int64_t start = m->dict_page_offset >= 0 ? m->dict_page_offset : m->data_page_offset;

	parquet_thrift_w_begin(w, 0);
	parquet_thrift_w_i64(w, 2, start);
	parquet_thrift_w_begin(w, 3);
	parquet_thrift_w_i32(w, 1, m->type);
	encode_encodings(w, m->encodings);
	parquet_thrift_w_list(w, 3, PQ_T_BINARY, 1);
	parquet_thrift_w_str_elem(w, name);
	parquet_thrift_w_i32(w, 4, m->codec);
	parquet_thrift_w_i64(w, 5, m->num_values);
	parquet_thrift_w_i64(w, 6, m->total_uncompressed);
	parquet_thrift_w_i64(w, 7, m->total_compressed);
	parquet_thrift_w_i64(w, 9, m->data_page_offset);
	if (m->dict_page_offset >= 0)
		parquet_thrift_w_i64(w, 11, m->dict_page_offset);
	if (m->has_stats)
		parquet_footer_encode_stats(w, 12, &m->stats);
	parquet_thrift_w_end(w);
	parquet_thrift_w_end(w);
}

static void encode_row_group(struct parquet_thrift_w *w, const struct parquet_footer *f,
                             const struct parquet_row_group *rg)
{
	int64_t compressed = 0, first = -1;

	parquet_thrift_w_begin(w, 0);
	parquet_thrift_w_list(w, 1, PQ_T_STRUCT, (size_t)f->ncols);
	for (int c = 0; c < f->ncols; c++) {
		const struct parquet_chunk_meta *m = &rg->chunks[c];

		encode_chunk(w, m, f->cols[c].name);
		compressed += m->total_compressed;
		if (first < 0)
			first =
			    m->dict_page_offset >= 0 ? m->dict_page_offset : m->data_page_offset;
	}
	parquet_thrift_w_i64(w, 2, rg->total_byte_size);
	parquet_thrift_w_i64(w, 3, rg->num_rows);
	if (first >= 0)
		parquet_thrift_w_i64(w, 5, first);
	parquet_thrift_w_i64(w, 6, compressed);
	parquet_thrift_w_end(w);
}

int parquet_footer_encode(const struct parquet_footer *f, struct dbuf *out)
{
	struct parquet_thrift_w w;

	parquet_thrift_w_init(&w, out);
	parquet_thrift_w_i32(&w, 1, f->version ? f->version : 2);
	encode_schema(&w, f);
	parquet_thrift_w_i64(&w, 3, f->num_rows);
	parquet_thrift_w_list(&w, 4, PQ_T_STRUCT, (size_t)f->nrg);
	for (int i = 0; i < f->nrg; i++)
		encode_row_group(&w, f, &f->rgs[i]);
	if (f->nkv) {
		parquet_thrift_w_list(&w, 5, PQ_T_STRUCT, (size_t)f->nkv);
		for (int i = 0; i < f->nkv; i++) {
			parquet_thrift_w_begin(&w, 0);
			parquet_thrift_w_str(&w, 1, f->kv[i].key);
			if (f->kv[i].value)
				parquet_thrift_w_str(&w, 2, f->kv[i].value);
			parquet_thrift_w_end(&w);
		}
	}
	if (f->created_by)
		parquet_thrift_w_str(&w, 6, f->created_by);
	parquet_thrift_w_list(&w, 7, PQ_T_STRUCT, (size_t)f->ncols);
	for (int i = 0; i < f->ncols; i++) {
		parquet_thrift_w_begin(&w, 0);
		parquet_thrift_w_begin(&w, 1); /* TYPE_ORDER */
		parquet_thrift_w_end(&w);
		parquet_thrift_w_end(&w);
	}
	return parquet_thrift_w_finish(&w);
}

/* ---- decoding ---- */

/* Iterates the fields of the struct r is about to enter. */
#define FOR_FIELDS(r, id, type, rc)                                                                \
	for (rc = parquet_thrift_r_begin(r);                                                       \
	     !rc && !(rc = parquet_thrift_r_field(r, &id, &type)) && type != PQ_T_STOP;)

static int dup_bin(struct parquet_thrift_r *r, int type, char **out)
{
	const uint8_t *p;
	size_t n;

	if (parquet_thrift_r_bin(r, type, &p, &n))
		return TS_ECORRUPT;
	free(*out);
	*out = malloc(n + 1);
	if (!*out)
		return ts_err_set(r->err, TS_ENOMEM, "out of memory");
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	return 0;
}

static int stat_value(struct parquet_thrift_r *r, int type, uint8_t *dst, uint32_t *len, bool *has)
{
	const uint8_t *p;
	size_t n;

	if (parquet_thrift_r_bin(r, type, &p, &n))
		return TS_ECORRUPT;
	*has = n <= PARQUET_MAX_STAT_BYTES;
	if (*has) {
		memcpy(dst, p, n);
		*len = (uint32_t)n;
	}
	return 0;
}

int parquet_footer_decode_stats(struct parquet_thrift_r *r, struct parquet_stats *s)
{
	int id, type, rc;

	memset(s, 0, sizeof(*s));
	FOR_FIELDS(r, id, type, rc)
	{
		if (id == 3) {
			rc = parquet_thrift_r_i64(r, type, &s->null_count);
			s->has_null_count = true;
		} else if (id == 4) {
			rc = parquet_thrift_r_i64(r, type, &s->distinct_count);
			s->has_distinct = true;
		} else if (id == 5) {
			rc = stat_value(r, type, s->max, &s->max_len, &s->has_max);
		} else if (id == 6) {
			rc = stat_value(r, type, s->min, &s->min_len, &s->has_min);
		} else {
			/* Legacy min/max (1, 2) are in signed order and
			 * ambiguous for byte arrays: not used. */
			rc = parquet_thrift_r_skip(r, type);
		}
	}
	return rc;
}

static int decode_time_unit(struct parquet_thrift_r *r, struct parquet_column *c)
{
	int id, type, rc;

	FOR_FIELDS(r, id, type, rc)
	{
		if (type == PQ_T_STRUCT && id >= 1 && id <= 3)
			c->logical = PARQUET_LT_TIMESTAMP_MILLIS + id - 1;
		rc = parquet_thrift_r_skip(r, type);
	}
	return rc;
}

static int decode_timestamp(struct parquet_thrift_r *r, struct parquet_column *c)
{
	int id, type, rc;

	FOR_FIELDS(r, id, type, rc)
	{
		if (id == 1)
			rc = parquet_thrift_r_bool(r, type, &c->utc);
		else if (id == 2 && type == PQ_T_STRUCT)
			rc = decode_time_unit(r, c);
		else
			rc = parquet_thrift_r_skip(r, type);
	}
	return rc;
}

static int decode_logical(struct parquet_thrift_r *r, struct parquet_column *c)
{
	int id, type, rc;

	c->logical = PARQUET_LT_OTHER;
	FOR_FIELDS(r, id, type, rc)
	{
		if (id == 1)
			c->logical = PARQUET_LT_STRING;
		else if (id == 6)
			c->logical = PARQUET_LT_DATE;
		if (id == 8 && type == PQ_T_STRUCT)
			rc = decode_timestamp(r, c);
		else
			rc = parquet_thrift_r_skip(r, type);
	}
	return rc;
}

struct schema_elem {
	struct parquet_column col;
	int32_t num_children, repetition;
	bool has_type, has_logical;
};

static int decode_schema_elem(struct parquet_thrift_r *r, struct schema_elem *e)
{
	int id, type, rc;
	int32_t v;

	FOR_FIELDS(r, id, type, rc)
	{
		if (id == 4) {
			rc = dup_bin(r, type, &e->col.name);
		} else if (id == 10 && type == PQ_T_STRUCT) {
			rc = decode_logical(r, &e->col);
			e->has_logical = true;
		} else if (id == 1 || id == 2 || id == 3 || id == 5 || id == 6) {
			rc = parquet_thrift_r_i32(r, type, &v);
			if (id == 1)
				e->col.type = v, e->has_type = true;
			else if (id == 2)
				e->col.type_length = v;
			else if (id == 3)
				e->repetition = v;
			else if (id == 5)
				e->num_children = v;
			else
				e->col.converted = v;
		} else {
			rc = parquet_thrift_r_skip(r, type);
		}
	}
	return rc;
}

/* Logical type from the legacy ConvertedType when no LogicalType is given. */
static void logical_from_converted(struct parquet_column *c)
{
	if (c->converted == CT_UTF8)
		c->logical = PARQUET_LT_STRING;
	else if (c->converted == CT_DATE)
		c->logical = PARQUET_LT_DATE;
	else if (c->converted == CT_TS_MILLIS || c->converted == CT_TS_MICROS)
		c->logical = c->converted == CT_TS_MILLIS ? PARQUET_LT_TIMESTAMP_MILLIS
		                                          : PARQUET_LT_TIMESTAMP_MICROS,
		c->utc = true;
	else if (c->converted >= 0)
		c->logical = PARQUET_LT_OTHER;
}

static int check_leaf(struct parquet_thrift_r *r, const struct schema_elem *e)
{
	const char *name = e->col.name ? e->col.name : "?";

	if (e->num_children > 0 || !e->has_type)
		return ts_err_set(r->err, TS_EINVAL,
		                  "column '%s' is a group: nested schemas are not supported", name);
	if (e->repetition == 2)
		return ts_err_set(r->err, TS_EINVAL,
		                  "column '%s' is repeated: lists are not supported", name);
	if (e->col.type < 0 || e->col.type > PARQUET_FIXED_LEN_BYTE_ARRAY)
		return ts_err_set(r->err, TS_ECORRUPT, "column '%s' has unknown type %d", name,
		                  e->col.type);
	if (e->col.type == PARQUET_FIXED_LEN_BYTE_ARRAY &&
	    (e->col.type_length <= 0 || e->col.type_length > (1 << 20)))
		return ts_err_set(r->err, TS_ECORRUPT, "column '%s' has bad type_length %d", name,
		                  e->col.type_length);
	if (!e->col.name)
		return ts_err_set(r->err, TS_ECORRUPT, "a column has no name");
	return 0;
}

static int decode_schema(struct parquet_thrift_r *r, int type, struct parquet_footer *f)
{
	struct schema_elem e;
	int et, rc;
	size_t n;

	if ((rc = parquet_thrift_r_list(r, type, &et, &n)))
		return rc;
	if (et != PQ_T_STRUCT || n < 1)
		return ts_err_set(r->err, TS_ECORRUPT, "schema is empty or not a list of structs");
	if (n - 1 > PARQUET_MAX_COLUMNS || f->cols)
		return ts_err_set(r->err, TS_ETOOBIG, "schema has %zu columns (at most %d)", n - 1,
		                  PARQUET_MAX_COLUMNS);
	f->cols = calloc(n, sizeof(*f->cols));
	if (!f->cols)
		return ts_err_set(r->err, TS_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.col.converted = -1;
		rc = decode_schema_elem(r, &e);
		if (!rc && i == 0) {
			f->schema_name = e.col.name;
			if (e.num_children != (int32_t)(n - 1))
				rc = ts_err_set(r->err, TS_EINVAL,
				                "schema root has %d children for %zu elements: "
				                "nested schemas are not supported",
				                e.num_children, n - 1);
			continue;
		}
		if (!rc)
			rc = check_leaf(r, &e);
		if (!e.has_logical)
			logical_from_converted(&e.col);
		e.col.optional = e.repetition == 1;
		f->cols[f->ncols++] = e.col;
		if (rc)
			break;
	}
	return rc;
}

static int decode_encodings(struct parquet_thrift_r *r, int type, uint32_t *mask)
{
	int et, rc;
	size_t n;
	int32_t e;

	if ((rc = parquet_thrift_r_list(r, type, &et, &n)))
		return rc;
	for (size_t i = 0; !rc && i < n; i++) {
		rc = parquet_thrift_r_i32(r, et, &e);
		if (!rc && e >= 0 && e < 32)
			*mask |= UINT32_C(1) << e;
	}
	return rc;
}

static int decode_col_meta(struct parquet_thrift_r *r, struct parquet_chunk_meta *m)
{
	int id, type, rc;
	int32_t v;

	FOR_FIELDS(r, id, type, rc)
	{
		if (id == 1 || id == 4) {
			rc = parquet_thrift_r_i32(r, type, &v);
			*(id == 1 ? &m->type : &m->codec) = v;
		} else if (id == 2) {
			rc = decode_encodings(r, type, &m->encodings);
		} else if (id == 5) {
			rc = parquet_thrift_r_i64(r, type, &m->num_values);
		} else if (id == 6) {
			rc = parquet_thrift_r_i64(r, type, &m->total_uncompressed);
		} else if (id == 7) {
			rc = parquet_thrift_r_i64(r, type, &m->total_compressed);
		} else if (id == 9) {
			rc = parquet_thrift_r_i64(r, type, &m->data_page_offset);
		} else if (id == 11) {
			rc = parquet_thrift_r_i64(r, type, &m->dict_page_offset);
		} else if (id == 12 && type == PQ_T_STRUCT) {
			rc = parquet_footer_decode_stats(r, &m->stats);
			m->has_stats = true;
		} else {
			rc = parquet_thrift_r_skip(r, type);
		}
	}
	return rc;
}

static int decode_chunk(struct parquet_thrift_r *r, struct parquet_chunk_meta *m)
{
	bool has_meta = false;
	int id, type, rc;

	m->dict_page_offset = -1;
	m->data_page_offset = -1;
	FOR_FIELDS(r, id, type, rc)
	{
		if (id == 1)
			return ts_err_set(r->err, TS_EINVAL,
			                  "column chunks in other files are not supported");
		if (id == 8 || id == 9)
			return ts_err_set(r->err, TS_EINVAL, "encrypted columns are not supported");
		if (id == 3 && type == PQ_T_STRUCT) {
			rc = decode_col_meta(r, m);
			has_meta = true;
		} else {
			rc = parquet_thrift_r_skip(r, type);
		}
	}
	if (!rc && !has_meta)
		rc = ts_err_set(r->err, TS_ECORRUPT, "a column chunk has no metadata");
	return rc;
}

static int check_chunk(struct parquet_thrift_r *r, const struct parquet_footer *f, int c,
                       struct parquet_chunk_meta *m, uint64_t file_size)
{
	const char *name = f->cols[c].name;
	int64_t start;

	if (m->dict_page_offset <= 0 || m->dict_page_offset >= m->data_page_offset)
		m->dict_page_offset = -1;
	start = m->dict_page_offset >= 0 ? m->dict_page_offset : m->data_page_offset;
	if (m->type != f->cols[c].type)
		return ts_err_set(r->err, TS_ECORRUPT, "column '%s': chunk type %d, schema type %d",
		                  name, m->type, f->cols[c].type);
	if (start < 4 || m->total_compressed < 0 || m->num_values < 0 ||
	    m->total_uncompressed < 0 || (uint64_t)start > file_size ||
	    (uint64_t)m->total_compressed > file_size - (uint64_t)start)
		return ts_err_set(r->err, TS_ECORRUPT,
		                  "column '%s': chunk at %" PRId64 " of %" PRId64
		                  " bytes lies outside the file (%" PRIu64 " bytes)",
		                  name, start, m->total_compressed, file_size);
	return 0;
}

static int decode_columns(struct parquet_thrift_r *r, int type, const struct parquet_footer *f,
                          struct parquet_row_group *rg, uint64_t file_size)
{
	int et, rc;
	size_t n;

	if ((rc = parquet_thrift_r_list(r, type, &et, &n)))
		return rc;
	if (n != (size_t)f->ncols || et != PQ_T_STRUCT || rg->chunks)
		return ts_err_set(r->err, TS_ECORRUPT, "row group has %zu columns, schema %d", n,
		                  f->ncols);
	rg->chunks = calloc(n ? n : 1, sizeof(*rg->chunks));
	if (!rg->chunks)
		return ts_err_set(r->err, TS_ENOMEM, "out of memory");
	for (size_t c = 0; !rc && c < n; c++) {
		rc = decode_chunk(r, &rg->chunks[c]);
		if (!rc)
			rc = check_chunk(r, f, (int)c, &rg->chunks[c], file_size);
	}
	return rc;
}

static int decode_row_group(struct parquet_thrift_r *r, const struct parquet_footer *f,
                            struct parquet_row_group *rg, uint64_t file_size)
{
	int id, type, rc;

	FOR_FIELDS(r, id, type, rc)
	{
		if (id == 1)
			rc = decode_columns(r, type, f, rg, file_size);
		else if (id == 2)
			rc = parquet_thrift_r_i64(r, type, &rg->total_byte_size);
		else if (id == 3)
			rc = parquet_thrift_r_i64(r, type, &rg->num_rows);
		else
			rc = parquet_thrift_r_skip(r, type);
	}
	if (!rc && (!rg->chunks || rg->num_rows < 0))
		rc = ts_err_set(r->err, TS_ECORRUPT, "row group without columns or row count");
	return rc;
}

static int decode_row_groups(struct parquet_thrift_r *r, int type, struct parquet_footer *f,
                             uint64_t file_size)
{
	int et, rc;
	size_t n;

	if ((rc = parquet_thrift_r_list(r, type, &et, &n)))
		return rc;
	if (!f->cols)
		return ts_err_set(r->err, TS_ECORRUPT, "row groups come before the schema");
	if (et != PQ_T_STRUCT || f->rgs || n > INT32_MAX)
		return ts_err_set(r->err, TS_ECORRUPT, "bad row group list");
	f->rgs = calloc(n ? n : 1, sizeof(*f->rgs));
	if (!f->rgs)
		return ts_err_set(r->err, TS_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		f->nrg++;
		rc = decode_row_group(r, f, &f->rgs[i], file_size);
	}
	return rc;
}

static int decode_kv(struct parquet_thrift_r *r, int type, struct parquet_footer *f)
{
	int et, id, t, rc;
	size_t n;

	if ((rc = parquet_thrift_r_list(r, type, &et, &n)))
		return rc;
	if (et != PQ_T_STRUCT || f->kv || n > INT32_MAX)
		return ts_err_set(r->err, TS_ECORRUPT, "bad key-value list");
	f->kv = calloc(n ? n : 1, sizeof(*f->kv));
	if (!f->kv)
		return ts_err_set(r->err, TS_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		f->nkv++;
		FOR_FIELDS(r, id, t, rc)
		{
			if (id == 1 || id == 2)
				rc = dup_bin(r, t, id == 1 ? &f->kv[i].key : &f->kv[i].value);
			else
				rc = parquet_thrift_r_skip(r, t);
		}
		if (!rc && !f->kv[i].key)
			rc = ts_err_set(r->err, TS_ECORRUPT, "key-value entry without a key");
	}
	return rc;
}

static int decode_field(struct parquet_thrift_r *r, int id, int type, struct parquet_footer *f,
                        uint64_t file_size)
{
	switch (id) {
	case 1:
		return parquet_thrift_r_i32(r, type, &f->version);
	case 2:
		return decode_schema(r, type, f);
	case 3:
		return parquet_thrift_r_i64(r, type, &f->num_rows);
	case 4:
		return decode_row_groups(r, type, f, file_size);
	case 5:
		return decode_kv(r, type, f);
	case 6:
		return dup_bin(r, type, &f->created_by);
	case 8:
		return ts_err_set(r->err, TS_EINVAL, "encrypted files are not supported");
	}
	return parquet_thrift_r_skip(r, type);
}

int parquet_footer_decode(const uint8_t *p, const uint8_t *end, uint64_t file_size,
                          struct parquet_footer *f, struct ts_err *err)
{
	struct parquet_thrift_r r;
	int id, type, rc;

	memset(f, 0, sizeof(*f));
	parquet_thrift_r_init(&r, p, end, err);
	FOR_FIELDS(&r, id, type, rc)
	rc = decode_field(&r, id, type, f, file_size);
	if (rc)
		return rc;
	if (!f->cols || !f->rgs)
		return ts_err_set(err, TS_ECORRUPT, "footer has no schema or no row group list");
	if (f->num_rows < 0)
		return ts_err_set(err, TS_ECORRUPT, "negative row count");
	return 0;
}
