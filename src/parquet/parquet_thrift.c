/*
 * Thrift compact protocol writer and bounded reader; see parquet_thrift.h for
 * the wire layout. The reader reports every problem as TS_ECORRUPT with the
 * byte offset where decoding stopped.
 */
#include "base/common.h"
#include "parquet/parquet_thrift.h"

/* ---- varints ---- */

int parquet_thrift_get_uvarint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	uint64_t x = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return TS_ECORRUPT;
		x |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80)) {
			*v = x;
			*pp = p;
			return 0;
		}
	}
	return TS_ECORRUPT;
}

int parquet_thrift_put_uvarint(struct dbuf *b, uint64_t v)
{
	uint8_t tmp[10];
	int n = 0;

	do {
		tmp[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			tmp[n] |= 0x80;
		n++;
	} while (v);
	return dbuf_add(b, tmp, (size_t)n);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- writer ---- */

void parquet_thrift_w_init(struct parquet_thrift_w *w, struct dbuf *out)
{
	memset(w, 0, sizeof(*w));
	w->out = out;
}

static void w_byte(struct parquet_thrift_w *w, uint8_t c)
{
	if (!w->rc)
		w->rc = dbuf_add(w->out, &c, 1);
}

static void w_varint(struct parquet_thrift_w *w, uint64_t v)
{
	if (!w->rc)
		w->rc = parquet_thrift_put_uvarint(w->out, v);
}

static void w_field(struct parquet_thrift_w *w, int id, int type)
{
	int delta = id - w->last[w->depth];

	if (delta > 0 && delta <= 15) {
		w_byte(w, (uint8_t)(delta << 4 | type));
	} else {
		w_byte(w, (uint8_t)type);
		w_varint(w, zigzag(id));
	}
	w->last[w->depth] = (int16_t)id;
}

void parquet_thrift_w_i32(struct parquet_thrift_w *w, int id, int32_t v)
{
	w_field(w, id, PQ_T_I32);
	w_varint(w, zigzag(v));
}

void parquet_thrift_w_i64(struct parquet_thrift_w *w, int id, int64_t v)
{
	w_field(w, id, PQ_T_I64);
	w_varint(w, zigzag(v));
}

void parquet_thrift_w_bool(struct parquet_thrift_w *w, int id, bool v)
{
	w_field(w, id, v ? PQ_T_TRUE : PQ_T_FALSE);
}

void parquet_thrift_w_bin(struct parquet_thrift_w *w, int id, const void *p, size_t n)
{
	w_field(w, id, PQ_T_BINARY);
	w_varint(w, n);
	if (!w->rc && n)
		w->rc = dbuf_add(w->out, p, n);
}

void parquet_thrift_w_str(struct parquet_thrift_w *w, int id, const char *s)
{
	parquet_thrift_w_bin(w, id, s, strlen(s));
}

void parquet_thrift_w_begin(struct parquet_thrift_w *w, int id)
{
	if (id > 0)
		w_field(w, id, PQ_T_STRUCT);
	if (w->depth + 1 >= PARQUET_THRIFT_MAX_DEPTH)
		BUG("thrift writer nested too deep");
	w->last[++w->depth] = 0;
}

void parquet_thrift_w_end(struct parquet_thrift_w *w)
{
	if (w->depth <= 0)
		BUG("thrift writer: end without begin");
	w_byte(w, PQ_T_STOP);
	w->depth--;
}

void parquet_thrift_w_list(struct parquet_thrift_w *w, int id, int elem_type, size_t n)
{
	w_field(w, id, PQ_T_LIST);
	if (n < 15) {
		w_byte(w, (uint8_t)(n << 4 | (size_t)elem_type));
	} else {
		w_byte(w, (uint8_t)(0xf0 | elem_type));
		w_varint(w, n);
	}
}

void parquet_thrift_w_i32_elem(struct parquet_thrift_w *w, int32_t v)
{
	w_varint(w, zigzag(v));
}

void parquet_thrift_w_str_elem(struct parquet_thrift_w *w, const char *s)
{
	size_t n = strlen(s);

	w_varint(w, n);
	if (!w->rc && n)
		w->rc = dbuf_add(w->out, s, n);
}

int parquet_thrift_w_finish(struct parquet_thrift_w *w)
{
	w_byte(w, PQ_T_STOP);
	return w->rc;
}

/* ---- reader ---- */

void parquet_thrift_r_init(struct parquet_thrift_r *r, const uint8_t *p, const uint8_t *end,
                           struct ts_err *err)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->end = end;
	r->depth = -1;
	r->err = err;
}

static int corrupt(struct parquet_thrift_r *r, const char *what)
{
	return ts_err_set(r->err, TS_ECORRUPT, "thrift: %s (%td bytes before the end)", what,
	                  r->end - r->p);
}

static int r_varint(struct parquet_thrift_r *r, uint64_t *v)
{
	if (parquet_thrift_get_uvarint(&r->p, r->end, v))
		return corrupt(r, "truncated or overlong varint");
	return 0;
}

int parquet_thrift_r_begin(struct parquet_thrift_r *r)
{
	if (r->depth + 1 >= PARQUET_THRIFT_MAX_DEPTH)
		return corrupt(r, "structures nested too deep");
	r->last[++r->depth] = 0;
	return 0;
}

int parquet_thrift_r_field(struct parquet_thrift_r *r, int *id, int *type)
{
	uint64_t v;
	uint8_t b;

	if (r->p >= r->end)
		return corrupt(r, "truncated structure");
	b = *r->p++;
	*type = b & 0x0f;
	if (*type == PQ_T_STOP) {
		r->depth--;
		return 0;
	}
	if (b >> 4) {
		*id = r->last[r->depth] + (b >> 4);
	} else {
		if (r_varint(r, &v))
			return TS_ECORRUPT;
		*id = (int)unzigzag(v);
	}
	if (*id < -32768 || *id > 32767)
		return corrupt(r, "field id out of range");
	r->last[r->depth] = (int16_t)*id;
	return 0;
}

int parquet_thrift_r_i64(struct parquet_thrift_r *r, int type, int64_t *v)
{
	uint64_t u;

	if (type == PQ_T_I8) {
		if (r->p >= r->end)
			return corrupt(r, "truncated byte");
		*v = (int8_t)*r->p++;
		return 0;
	}
	if (type != PQ_T_I16 && type != PQ_T_I32 && type != PQ_T_I64)
		return corrupt(r, "integer field has another type");
	if (r_varint(r, &u))
		return TS_ECORRUPT;
	*v = unzigzag(u);
	return 0;
}

int parquet_thrift_r_i32(struct parquet_thrift_r *r, int type, int32_t *v)
{
	int64_t x = 0;

	if (parquet_thrift_r_i64(r, type, &x))
		return TS_ECORRUPT;
	if (x < INT32_MIN || x > INT32_MAX)
		return corrupt(r, "32-bit integer out of range");
	*v = (int32_t)x;
	return 0;
}

int parquet_thrift_r_bool(struct parquet_thrift_r *r, int type, bool *v)
{
	if (type != PQ_T_TRUE && type != PQ_T_FALSE)
		return corrupt(r, "boolean field has another type");
	*v = type == PQ_T_TRUE;
	return 0;
}

int parquet_thrift_r_bin(struct parquet_thrift_r *r, int type, const uint8_t **p, size_t *n)
{
	uint64_t len;

	if (type != PQ_T_BINARY)
		return corrupt(r, "binary field has another type");
	if (r_varint(r, &len))
		return TS_ECORRUPT;
	if (len > (uint64_t)(r->end - r->p))
		return corrupt(r, "binary length past the end");
	*p = r->p;
	*n = (size_t)len;
	r->p += len;
	return 0;
}

int parquet_thrift_r_list(struct parquet_thrift_r *r, int type, int *elem_type, size_t *n)
{
	uint64_t size;
	uint8_t b;

	if (type != PQ_T_LIST && type != PQ_T_SET)
		return corrupt(r, "list field has another type");
	if (r->p >= r->end)
		return corrupt(r, "truncated list header");
	b = *r->p++;
	*elem_type = b & 0x0f;
	size = b >> 4;
	if (size == 15 && r_varint(r, &size))
		return TS_ECORRUPT;
	if (size > (uint64_t)(r->end - r->p))
		return corrupt(r, "list longer than the bytes left");
	*n = (size_t)size;
	return 0;
}

static int skip_n(struct parquet_thrift_r *r, size_t n)
{
	if (n > (size_t)(r->end - r->p))
		return corrupt(r, "value past the end");
	r->p += n;
	return 0;
}

static int skip_struct(struct parquet_thrift_r *r)
{
	int id, type, rc = parquet_thrift_r_begin(r);

	while (!rc) {
		rc = parquet_thrift_r_field(r, &id, &type);
		if (rc || type == PQ_T_STOP)
			break;
		rc = parquet_thrift_r_skip(r, type);
	}
	return rc;
}

/* Elements of a list or map: bools are one byte there, not a type nibble. */
static int skip_elem(struct parquet_thrift_r *r, int type)
{
	if (type == PQ_T_TRUE || type == PQ_T_FALSE)
		return skip_n(r, 1);
	return parquet_thrift_r_skip(r, type);
}

static int skip_map(struct parquet_thrift_r *r)
{
	uint64_t size;
	uint8_t kv;
	int rc = 0;

	if (r_varint(r, &size))
		return TS_ECORRUPT;
	if (size == 0)
		return 0;
	if (size > (uint64_t)(r->end - r->p))
		return corrupt(r, "map larger than the bytes left");
	if (r->p >= r->end)
		return corrupt(r, "truncated map header");
	kv = *r->p++;
	for (uint64_t i = 0; !rc && i < size; i++) {
		rc = skip_elem(r, kv >> 4);
		if (!rc)
			rc = skip_elem(r, kv & 0x0f);
	}
	return rc;
}

int parquet_thrift_r_skip(struct parquet_thrift_r *r, int type)
{
	uint64_t v;
	size_t n;
	int et, rc;

	switch (type) {
	case PQ_T_TRUE:
	case PQ_T_FALSE:
		return 0;
	case PQ_T_I8:
		return skip_n(r, 1);
	case PQ_T_I16:
	case PQ_T_I32:
	case PQ_T_I64:
		return r_varint(r, &v);
	case PQ_T_DOUBLE:
		return skip_n(r, 8);
	case PQ_T_BINARY:
		if (r_varint(r, &v))
			return TS_ECORRUPT;
		return v > SIZE_MAX ? corrupt(r, "binary too long") : skip_n(r, (size_t)v);
	case PQ_T_LIST:
	case PQ_T_SET:
		if (r->depth + 1 >= PARQUET_THRIFT_MAX_DEPTH)
			return corrupt(r, "structures nested too deep");
		rc = parquet_thrift_r_list(r, type, &et, &n);
		r->depth++;
		for (size_t i = 0; !rc && i < n; i++)
			rc = skip_elem(r, et);
		r->depth--;
		return rc;
	case PQ_T_MAP:
		if (r->depth + 1 >= PARQUET_THRIFT_MAX_DEPTH)
			return corrupt(r, "structures nested too deep");
		r->depth++;
		rc = skip_map(r);
		r->depth--;
		return rc;
	case PQ_T_STRUCT:
		return skip_struct(r);
	}
	return corrupt(r, "unknown field type");
}
