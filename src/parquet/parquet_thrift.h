/*
 * The Thrift compact protocol, as much of it as Parquet's footer and page
 * headers use: a writer that appends to a dbuf and a reader over (ptr, end)
 * that never reads past end and can skip any field it does not know, so files
 * from newer writers (with fields added since) still read.
 *
 * Wire layout (all integers are ULEB128 varints; signed ones zigzag first):
 *
 *   field header   1 byte  (id delta << 4) | type, when 0 < delta <= 15
 *                  1 byte  type, then the field id as a zigzag varint
 *   stop           1 byte  0x00 ends a struct
 *   bool field     the type nibble itself: 1 = true, 2 = false
 *   i8             1 byte;  i16/i32/i64: zigzag varint;  double: 8 bytes LE
 *   binary         varint length, then the bytes
 *   list / set     1 byte (size << 4) | elem type when size < 15, else
 *                  0xF0 | elem type followed by a varint size
 *   map            varint size, then (key type << 4 | value type) if size > 0
 *
 * Field ids are deltas against the previous field of the same struct, so the
 * writer and reader keep one "last id" per nesting level. Nesting is capped
 * at PARQUET_THRIFT_MAX_DEPTH: hostile input cannot recurse without bound.
 */
#ifndef PARQUET_THRIFT_H
#define PARQUET_THRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/dbuf.h"
#include "base/error.h"

#define PARQUET_THRIFT_MAX_DEPTH 32

enum parquet_thrift_type {
	PQ_T_STOP = 0,
	PQ_T_TRUE = 1,
	PQ_T_FALSE = 2,
	PQ_T_I8 = 3,
	PQ_T_I16 = 4,
	PQ_T_I32 = 5,
	PQ_T_I64 = 6,
	PQ_T_DOUBLE = 7,
	PQ_T_BINARY = 8,
	PQ_T_LIST = 9,
	PQ_T_SET = 10,
	PQ_T_MAP = 11,
	PQ_T_STRUCT = 12,
};

/* Writer. Errors are sticky: check rc once at the end. */
struct parquet_thrift_w {
	struct dbuf *out;
	int16_t last[PARQUET_THRIFT_MAX_DEPTH];
	int depth;
	int rc;
};

void parquet_thrift_w_init(struct parquet_thrift_w *w, struct dbuf *out);
void parquet_thrift_w_i32(struct parquet_thrift_w *w, int id, int32_t v);
void parquet_thrift_w_i64(struct parquet_thrift_w *w, int id, int64_t v);
void parquet_thrift_w_bool(struct parquet_thrift_w *w, int id, bool v);
void parquet_thrift_w_bin(struct parquet_thrift_w *w, int id, const void *p, size_t n);
void parquet_thrift_w_str(struct parquet_thrift_w *w, int id, const char *s);
/* A struct field (id > 0) or a struct as a list element (id == 0). */
void parquet_thrift_w_begin(struct parquet_thrift_w *w, int id);
void parquet_thrift_w_end(struct parquet_thrift_w *w);
/* A list field header; then write n elements with the *_elem calls. */
void parquet_thrift_w_list(struct parquet_thrift_w *w, int id, int elem_type, size_t n);
void parquet_thrift_w_i32_elem(struct parquet_thrift_w *w, int32_t v);
void parquet_thrift_w_str_elem(struct parquet_thrift_w *w, const char *s);
/* Ends the outermost struct (writes its stop byte). */
int parquet_thrift_w_finish(struct parquet_thrift_w *w);

/* Reader. */
struct parquet_thrift_r {
	const uint8_t *p, *end;
	int16_t last[PARQUET_THRIFT_MAX_DEPTH];
	int depth;
	struct ts_err *err;
};

void parquet_thrift_r_init(struct parquet_thrift_r *r, const uint8_t *p, const uint8_t *end,
                           struct ts_err *err);
/* Enters a struct (the outermost one too). TS_ECORRUPT when too deep. */
int parquet_thrift_r_begin(struct parquet_thrift_r *r);
/* Next field of the current struct; *type == PQ_T_STOP at its end (and the
 * struct is left). */
int parquet_thrift_r_field(struct parquet_thrift_r *r, int *id, int *type);
int parquet_thrift_r_i32(struct parquet_thrift_r *r, int type, int32_t *v);
int parquet_thrift_r_i64(struct parquet_thrift_r *r, int type, int64_t *v);
int parquet_thrift_r_bool(struct parquet_thrift_r *r, int type, bool *v);
/* Points *p into the input; *n is checked against what remains. */
int parquet_thrift_r_bin(struct parquet_thrift_r *r, int type, const uint8_t **p, size_t *n);
/* A list header; *n is checked against the bytes left (each element takes at
 * least one byte), so callers may allocate n elements. */
int parquet_thrift_r_list(struct parquet_thrift_r *r, int type, int *elem_type, size_t *n);
/* Skips a value of the given type, nested structs and containers included. */
int parquet_thrift_r_skip(struct parquet_thrift_r *r, int type);

/* Varint helpers shared with the encodings (ULEB128 / zigzag). */
int parquet_thrift_get_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v);
int parquet_thrift_put_uvarint(struct dbuf *b, uint64_t v);

#endif
