/*
 * The file metadata model (parquet.thrift's FileMetaData, flattened to what a
 * flat schema needs) and its Thrift encoding and decoding. The writer fills a
 * struct parquet_footer and encodes it; the reader decodes one from the
 * footer bytes. Unknown fields are skipped; nested schemas and repeated
 * columns are refused with a clear message.
 *
 * File layout:
 *
 *   offset            size  content
 *   0                 4     "PAR1"
 *   4                 ...   column chunks, row group after row group
 *   file_size - 8 - F F     FileMetaData, Thrift compact
 *   file_size - 8     4     F, little-endian uint32
 *   file_size - 4     4     "PAR1"
 *
 * Field ids used (parquet.thrift):
 *
 *   FileMetaData   1 version i32, 2 schema list<SchemaElement>, 3 num_rows i64,
 *                  4 row_groups list<RowGroup>, 5 key_value_metadata,
 *                  6 created_by string, 7 column_orders list<ColumnOrder>
 *   SchemaElement  1 type, 2 type_length, 3 repetition_type, 4 name,
 *                  5 num_children, 6 converted_type, 10 logicalType
 *   LogicalType    1 STRING, 6 DATE, 8 TIMESTAMP{1 isAdjustedToUTC, 2 unit
 *                  {1 MILLIS, 2 MICROS, 3 NANOS}}
 *   RowGroup       1 columns list<ColumnChunk>, 2 total_byte_size, 3 num_rows,
 *                  5 file_offset, 6 total_compressed_size
 *   ColumnChunk    1 file_path, 2 file_offset, 3 meta_data ColumnMetaData
 *   ColumnMetaData 1 type, 2 encodings list<i32>, 3 path_in_schema list<string>,
 *                  4 codec, 5 num_values, 6 total_uncompressed_size,
 *                  7 total_compressed_size, 9 data_page_offset,
 *                  11 dictionary_page_offset, 12 statistics
 *   Statistics     1 max, 2 min (legacy, signed order), 3 null_count,
 *                  4 distinct_count, 5 max_value, 6 min_value
 *   KeyValue       1 key, 2 value
 */
#ifndef PARQUET_FOOTER_H
#define PARQUET_FOOTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"
#include "base/error.h"
#include "parquet/parquet_thrift.h"

/* Caps on what a footer may describe; all far above what real files use. */
#define PARQUET_MAX_COLUMNS    4096
#define PARQUET_MAX_FOOTER     (64u << 20)
#define PARQUET_MAX_STAT_BYTES 128

enum parquet_type {
	PARQUET_BOOLEAN = 0,
	PARQUET_INT32 = 1,
	PARQUET_INT64 = 2,
	PARQUET_INT96 = 3,
	PARQUET_FLOAT = 4,
	PARQUET_DOUBLE = 5,
	PARQUET_BYTE_ARRAY = 6,
	PARQUET_FIXED_LEN_BYTE_ARRAY = 7,
};

/* Logical types we write and interpret; others read as PARQUET_LT_OTHER. */
enum parquet_logical {
	PARQUET_LT_NONE = 0,
	PARQUET_LT_STRING,
	PARQUET_LT_DATE,
	PARQUET_LT_TIMESTAMP_MILLIS,
	PARQUET_LT_TIMESTAMP_MICROS,
	PARQUET_LT_TIMESTAMP_NANOS,
	PARQUET_LT_OTHER,
};

enum parquet_encoding {
	PARQUET_ENC_PLAIN = 0,
	PARQUET_ENC_PLAIN_DICTIONARY = 2,
	PARQUET_ENC_RLE = 3,
	PARQUET_ENC_BIT_PACKED = 4,
	PARQUET_ENC_DELTA_BINARY_PACKED = 5,
	PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
	PARQUET_ENC_DELTA_BYTE_ARRAY = 7,
	PARQUET_ENC_RLE_DICTIONARY = 8,
	PARQUET_ENC_BYTE_STREAM_SPLIT = 9,
};

/* Min/max are PLAIN-encoded values (byte arrays without length prefix).
 * Longer ones are dropped on read and not written: has_min/has_max false. */
struct parquet_stats {
	bool has_min, has_max, has_null_count, has_distinct;
	int64_t null_count, distinct_count;
	uint32_t min_len, max_len;
	uint8_t min[PARQUET_MAX_STAT_BYTES], max[PARQUET_MAX_STAT_BYTES];
};

struct parquet_column {
	char *name;
	int type; /* enum parquet_type */
	int32_t type_length;
	bool optional;
	int logical;   /* enum parquet_logical */
	bool utc;      /* timestamps: isAdjustedToUTC */
	int converted; /* ConvertedType, -1 if absent */
};

struct parquet_chunk_meta {
	int type;
	int codec;
	uint32_t encodings; /* bit (1 << enum parquet_encoding) per encoding */
	int64_t num_values;
	int64_t total_uncompressed, total_compressed;
	int64_t data_page_offset;
	int64_t dict_page_offset; /* -1 when absent */
	bool has_stats;
	struct parquet_stats stats;
};

struct parquet_row_group {
	int64_t num_rows, total_byte_size;
	struct parquet_chunk_meta *chunks; /* ncols of them */
};

struct parquet_kv {
	char *key, *value; /* value may be NULL */
};

struct parquet_footer {
	int32_t version;
	int64_t num_rows;
	int ncols;
	struct parquet_column *cols;
	int nrg;
	struct parquet_row_group *rgs;
	int nkv;
	struct parquet_kv *kv;
	char *created_by;
	char *schema_name;
};

/* Frees everything a decoded footer owns (and does nothing for a footer whose
 * arrays the caller owns: set them to NULL first). */
void parquet_footer_release(struct parquet_footer *f);

/* Appends the Thrift encoding of f (schema root named f->schema_name or
 * "schema", column orders, statistics as min_value/max_value). */
int parquet_footer_encode(const struct parquet_footer *f, struct dbuf *out);

/* Decodes (p, end) into f, which the caller releases even on failure. Checks
 * offsets and sizes against file_size. TS_ECORRUPT / TS_EINVAL with err. */
int parquet_footer_decode(const uint8_t *p, const uint8_t *end, uint64_t file_size,
                          struct parquet_footer *f, struct ts_err *err);

/* Statistics as a Thrift struct field id (shared with page headers). */
void parquet_footer_encode_stats(struct parquet_thrift_w *w, int id, const struct parquet_stats *s);
int parquet_footer_decode_stats(struct parquet_thrift_r *r, struct parquet_stats *s);

const char *parquet_footer_type_name(int type);
const char *parquet_footer_encoding_name(int enc);
const char *parquet_footer_logical_name(int logical);

#endif
