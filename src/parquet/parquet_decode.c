/*
 * Streaming value decoders for data page sections; encodings and output
 * layout in parquet_decode.h. Every read is checked against the section's
 * end, and every count against what the page said it holds.
 */
#include "base/common.h"
#include "parquet/parquet_decode.h"
#include "parquet/parquet_footer.h"
#include "parquet/parquet_thrift.h"

#define DBP_MAX_BLOCK (1u << 16)
#define MAX_VALUE     (256u << 20)

static int corrupt(struct ts_err *err, const char *what)
{
	return ts_err_set(err, TS_ECORRUPT, "%s", what);
}

size_t parquet_decode_elem_size(int type)
{
	switch (type) {
	case PARQUET_BOOLEAN:
		return 1;
	case PARQUET_INT32:
	case PARQUET_FLOAT:
		return 4;
	case PARQUET_INT64:
	case PARQUET_DOUBLE:
		return 8;
	}
	return sizeof(struct parquet_bytes);
}

/* ---- DELTA_BINARY_PACKED ---- */

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

int parquet_decode_dbp_init(struct parquet_dbp *s, const uint8_t *p, const uint8_t *end, bool is32)
{
	uint64_t bs, nm, total, first;

	memset(s, 0, sizeof(*s));
	if (parquet_thrift_get_uvarint(&p, end, &bs) || parquet_thrift_get_uvarint(&p, end, &nm) ||
	    parquet_thrift_get_uvarint(&p, end, &total) ||
	    parquet_thrift_get_uvarint(&p, end, &first))
		return TS_ECORRUPT;
	if (bs == 0 || bs % 128 || bs > DBP_MAX_BLOCK || nm == 0 || nm > 256 || bs % nm ||
	    (bs / nm) % 32)
		return TS_ECORRUPT;
	s->p = p;
	s->end = end;
	s->block_size = (uint32_t)bs;
	s->nmini = (uint32_t)nm;
	s->per_mini = (uint32_t)(bs / nm);
	s->left = total;
	s->last = (uint64_t)unzigzag(first);
	s->first_pending = total > 0;
	s->is32 = is32;
	return 0;
}

static int dbp_block(struct parquet_dbp *s)
{
	uint64_t md;

	if (parquet_thrift_get_uvarint(&s->p, s->end, &md))
		return TS_ECORRUPT;
	if (s->nmini > (size_t)(s->end - s->p))
		return TS_ECORRUPT;
	memcpy(s->widths, s->p, s->nmini);
	s->p += s->nmini;
	s->min_delta = (uint64_t)unzigzag(md);
	s->mini_i = 0;
	s->in_block = true;
	return 0;
}

static int dbp_mini(struct parquet_dbp *s)
{
	size_t bytes, avail;
	int w;

	if (!s->in_block || s->mini_i == s->nmini) {
		if (dbp_block(s))
			return TS_ECORRUPT;
	}
	avail = (size_t)(s->end - s->p); /* after the block header, not before */
	w = s->widths[s->mini_i++];
	/* Up to 64 bits even for INT32: some writers compute INT32 deltas in
	 * 64 bits; the result is the same modulo 2^32. */
	if (w > 64)
		return TS_ECORRUPT;
	bytes = (size_t)s->per_mini * (size_t)w / 8;
	s->mini = s->p;
	s->mini_bytes = bytes < avail ? bytes : avail;
	s->p += s->mini_bytes;
	s->in_mini = 0;
	s->mini_open = true;
	return 0;
}

int parquet_decode_dbp_get(struct parquet_dbp *s, uint64_t *out, size_t n)
{
	if (n > s->left)
		return TS_ECORRUPT;
	for (size_t i = 0; i < n; i++) {
		uint64_t v, bit;
		int w;

		if (s->first_pending) {
			s->first_pending = false;
		} else {
			if (!s->mini_open || s->in_mini == s->per_mini) {
				if (dbp_mini(s))
					return TS_ECORRUPT;
			}
			w = s->widths[s->mini_i - 1];
			bit = (uint64_t)s->in_mini * (uint64_t)w;
			if (bit + (uint64_t)w > (uint64_t)s->mini_bytes * 8)
				return TS_ECORRUPT;
			v = parquet_rle_unpack(s->mini, s->mini_bytes, s->in_mini, w);
			s->in_mini++;
			s->last = s->last + s->min_delta + v;
			if (s->is32)
				s->last = (uint64_t)(int64_t)(int32_t)(uint32_t)s->last;
		}
		out[i] = s->last;
		s->left--;
	}
	return 0;
}

int parquet_decode_dbp_end(struct parquet_dbp *s, const uint8_t **endp)
{
	uint64_t tmp[256];

	while (s->left) {
		size_t k = s->left < 256 ? (size_t)s->left : 256;

		if (parquet_decode_dbp_get(s, tmp, k))
			return TS_ECORRUPT;
	}
	*endp = s->p;
	return 0;
}

/* ---- set-up ---- */

static int init_delta_lengths(struct parquet_decode *d, const uint8_t *p, const uint8_t *end,
                              struct parquet_dbp *lens, const uint8_t **data)
{
	struct parquet_dbp skip;

	if (parquet_decode_dbp_init(&skip, p, end, true) || skip.left < d->left)
		return TS_ECORRUPT;
	*lens = skip;
	return parquet_decode_dbp_end(&skip, data);
}

static int init_delta(struct parquet_decode *d, struct ts_err *err)
{
	const uint8_t *mid;

	if (d->encoding == PARQUET_ENC_DELTA_BINARY_PACKED) {
		if (parquet_decode_dbp_init(&d->lens, d->p, d->end, d->type == PARQUET_INT32) ||
		    d->lens.left < d->left)
			return corrupt(err, "bad DELTA_BINARY_PACKED header");
		return 0;
	}
	if (d->encoding == PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY) {
		if (init_delta_lengths(d, d->p, d->end, &d->lens, &d->p))
			return corrupt(err, "bad DELTA_LENGTH_BYTE_ARRAY lengths");
		return 0;
	}
	if (init_delta_lengths(d, d->p, d->end, &d->prefixes, &mid) ||
	    init_delta_lengths(d, mid, d->end, &d->lens, &d->p))
		return corrupt(err, "bad DELTA_BYTE_ARRAY lengths");
	return 0;
}

static int init_rle(struct parquet_decode *d, struct ts_err *err)
{
	uint32_t len;
	int bw;

	if (d->encoding == PARQUET_ENC_RLE) {
		if (d->end - d->p < 4)
			return corrupt(err, "RLE boolean section too short");
		memcpy(&len, d->p, 4);
		if (len > (size_t)(d->end - d->p - 4))
			return corrupt(err, "RLE boolean length past the page");
		return parquet_rle_dec_init(&d->rle, d->p + 4, d->p + 4 + len, 1);
	}
	if (d->p >= d->end)
		return d->left ? corrupt(err, "dictionary page section is empty") : 0;
	bw = *d->p;
	if (bw > 32)
		return ts_err_set(err, TS_ECORRUPT, "dictionary index bit width %d is over 32", bw);
	return parquet_rle_dec_init(&d->rle, d->p + 1, d->end, bw);
}

static bool supported(int type, int enc)
{
	switch (enc) {
	case PARQUET_ENC_PLAIN:
	case PARQUET_ENC_PLAIN_DICTIONARY:
	case PARQUET_ENC_RLE_DICTIONARY:
		return true;
	case PARQUET_ENC_RLE:
		return type == PARQUET_BOOLEAN;
	case PARQUET_ENC_DELTA_BINARY_PACKED:
		return type == PARQUET_INT32 || type == PARQUET_INT64;
	case PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
		return type == PARQUET_BYTE_ARRAY;
	case PARQUET_ENC_DELTA_BYTE_ARRAY:
		return type == PARQUET_BYTE_ARRAY || type == PARQUET_FIXED_LEN_BYTE_ARRAY;
	case PARQUET_ENC_BYTE_STREAM_SPLIT:
		return type == PARQUET_INT32 || type == PARQUET_INT64 || type == PARQUET_FLOAT ||
		       type == PARQUET_DOUBLE || type == PARQUET_FIXED_LEN_BYTE_ARRAY;
	}
	return false;
}

int parquet_decode_init(struct parquet_decode *d, int type, int32_t type_length, int encoding,
                        const uint8_t *p, const uint8_t *end, uint64_t nvalues, struct ts_err *err)
{
	memset(d, 0, sizeof(*d));
	dbuf_init(&d->prev, MAX_VALUE);
	d->type = type;
	d->encoding = encoding;
	d->p = d->start = p;
	d->end = end;
	d->left = nvalues;
	d->width = type == PARQUET_INT96                  ? 12
	           : type == PARQUET_FIXED_LEN_BYTE_ARRAY ? type_length
	           : type == PARQUET_BYTE_ARRAY || type == PARQUET_BOOLEAN
	               ? 0
	               : (int)parquet_decode_elem_size(type);
	if (!supported(type, encoding))
		return ts_err_set(err, TS_EINVAL, "encoding %s is not supported for %s",
		                  parquet_footer_encoding_name(encoding),
		                  parquet_footer_type_name(type));
	switch (encoding) {
	case PARQUET_ENC_RLE:
	case PARQUET_ENC_PLAIN_DICTIONARY:
	case PARQUET_ENC_RLE_DICTIONARY:
		return init_rle(d, err);
	case PARQUET_ENC_BYTE_STREAM_SPLIT:
		if ((size_t)(end - p) % (size_t)d->width ||
		    (d->bss_n = (size_t)(end - p) / (size_t)d->width) < nvalues)
			return corrupt(err, "BYTE_STREAM_SPLIT section size does not match");
		return 0;
	case PARQUET_ENC_DELTA_BINARY_PACKED:
	case PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
	case PARQUET_ENC_DELTA_BYTE_ARRAY:
		return init_delta(d, err);
	}
	return 0;
}

void parquet_decode_release(struct parquet_decode *d)
{
	dbuf_release(&d->prev);
}

bool parquet_decode_is_dict(const struct parquet_decode *d)
{
	return d->encoding == PARQUET_ENC_RLE_DICTIONARY ||
	       d->encoding == PARQUET_ENC_PLAIN_DICTIONARY;
}

int parquet_decode_indices(struct parquet_decode *d, uint32_t *out, size_t n, struct ts_err *err)
{
	if (n > d->left)
		return corrupt(err, "page has fewer values than its levels say");
	if (parquet_rle_dec_get(&d->rle, out, n))
		return corrupt(err, "dictionary indices run past the page");
	d->left -= n;
	return 0;
}

/* ---- decoding ---- */

static int plain_fixed(struct parquet_decode *d, void *out, size_t n, struct ts_err *err)
{
	size_t bytes = n * (size_t)d->width;

	if (bytes > (size_t)(d->end - d->p))
		return corrupt(err, "PLAIN values run past the page");
	memcpy(out, d->p, bytes);
	d->p += bytes;
	return 0;
}

static int plain_bytes(struct parquet_decode *d, struct parquet_bytes *out, size_t n,
                       struct ts_err *err)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t len = (uint32_t)d->width;

		if (!d->width) {
			if (d->end - d->p < 4)
				return corrupt(err, "PLAIN byte array length past the page");
			memcpy(&len, d->p, 4);
			d->p += 4;
		}
		if (len > (size_t)(d->end - d->p))
			return corrupt(err, "PLAIN byte array past the page");
		out[i].ptr = d->p;
		out[i].len = len;
		d->p += len;
	}
	return 0;
}

static int plain_bool(struct parquet_decode *d, uint8_t *out, size_t n, struct ts_err *err)
{
	if (d->bit + n > (uint64_t)(d->end - d->p) * 8)
		return corrupt(err, "PLAIN booleans run past the page");
	for (size_t i = 0; i < n; i++, d->bit++)
		out[i] = (d->p[d->bit >> 3] >> (d->bit & 7)) & 1;
	return 0;
}

static int rle_bool(struct parquet_decode *d, uint8_t *out, size_t n, struct ts_err *err)
{
	uint32_t tmp[512];

	for (size_t i = 0; i < n; i += 512) {
		size_t k = n - i < 512 ? n - i : 512;

		if (parquet_rle_dec_get(&d->rle, tmp, k))
			return corrupt(err, "RLE booleans run past the page");
		for (size_t j = 0; j < k; j++)
			out[i + j] = (uint8_t)tmp[j];
	}
	return 0;
}

static int delta_ints(struct parquet_decode *d, void *out, size_t n, struct ts_err *err)
{
	uint64_t tmp[512];

	for (size_t i = 0; i < n; i += 512) {
		size_t k = n - i < 512 ? n - i : 512;

		if (parquet_decode_dbp_get(&d->lens, tmp, k))
			return corrupt(err, "DELTA_BINARY_PACKED data is corrupt");
		for (size_t j = 0; j < k; j++) {
			if (d->type == PARQUET_INT32)
				((int32_t *)out)[i + j] = (int32_t)(uint32_t)tmp[j];
			else
				((int64_t *)out)[i + j] = (int64_t)tmp[j];
		}
	}
	return 0;
}

static int delta_length(struct parquet_decode *d, struct parquet_bytes *out, size_t n,
                        struct ts_err *err)
{
	uint64_t len;

	for (size_t i = 0; i < n; i++) {
		if (parquet_decode_dbp_get(&d->lens, &len, 1))
			return corrupt(err, "DELTA_LENGTH_BYTE_ARRAY lengths are corrupt");
		if (len > (uint64_t)(d->end - d->p))
			return corrupt(err, "DELTA_LENGTH_BYTE_ARRAY value past the page");
		out[i].ptr = d->p;
		out[i].len = (uint32_t)len;
		d->p += len;
	}
	return 0;
}

static int delta_bytes_one(struct parquet_decode *d, struct dbuf *scratch, size_t *off,
                           uint32_t *vlen, struct ts_err *err)
{
	uint64_t pre, len;

	if (parquet_decode_dbp_get(&d->prefixes, &pre, 1) ||
	    parquet_decode_dbp_get(&d->lens, &len, 1))
		return corrupt(err, "DELTA_BYTE_ARRAY lengths are corrupt");
	if (pre > d->prev.len || len > (uint64_t)(d->end - d->p))
		return corrupt(err, "DELTA_BYTE_ARRAY prefix or suffix out of range");
	d->prev.len = (size_t)pre;
	if (dbuf_add(&d->prev, d->p, (size_t)len))
		return ts_err_set(err, TS_ETOOBIG, "DELTA_BYTE_ARRAY value too large");
	d->p += len;
	if (d->width && d->prev.len != (size_t)d->width)
		return corrupt(err, "DELTA_BYTE_ARRAY value has the wrong fixed length");
	*off = scratch->len;
	*vlen = (uint32_t)d->prev.len;
	if (dbuf_add(scratch, d->prev.buf ? d->prev.buf : "", d->prev.len))
		return ts_err_set(err, TS_ETOOBIG, "DELTA_BYTE_ARRAY batch too large");
	return 0;
}

static int delta_bytes(struct parquet_decode *d, struct parquet_bytes *out, size_t n,
                       struct dbuf *scratch, struct ts_err *err)
{
	size_t base = scratch->len, off = 0;
	uint32_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (delta_bytes_one(d, scratch, &off, &len, err))
			return TS_ECORRUPT;
		out[i].ptr = (const uint8_t *)(uintptr_t)(off - base);
		out[i].len = len;
	}
	/* The scratch buffer may have moved while growing: offsets first. */
	for (size_t i = 0; i < n; i++)
		out[i].ptr = (const uint8_t *)scratch->buf + base + (uintptr_t)out[i].ptr;
	return 0;
}

static int byte_stream_split(struct parquet_decode *d, void *out, size_t n)
{
	size_t w = (size_t)d->width;
	uint8_t *o = out;

	if (d->type == PARQUET_FIXED_LEN_BYTE_ARRAY)
		return TS_EINVAL; /* needs materialising; not written by common writers */
	for (size_t i = 0; i < n; i++, d->bss_i++)
		for (size_t j = 0; j < w; j++)
			o[i * w + j] = d->p[j * d->bss_n + d->bss_i];
	return 0;
}

static int decode_plain(struct parquet_decode *d, void *out, size_t n, struct ts_err *err)
{
	if (d->type == PARQUET_BOOLEAN)
		return plain_bool(d, out, n, err);
	if (d->type == PARQUET_BYTE_ARRAY || d->type == PARQUET_FIXED_LEN_BYTE_ARRAY ||
	    d->type == PARQUET_INT96)
		return plain_bytes(d, out, n, err);
	return plain_fixed(d, out, n, err);
}

int parquet_decode_values(struct parquet_decode *d, void *out, size_t n, struct dbuf *scratch,
                          struct ts_err *err)
{
	int rc;

	if (n > d->left)
		return corrupt(err, "page has fewer values than its levels say");
	switch (d->encoding) {
	case PARQUET_ENC_PLAIN:
		rc = decode_plain(d, out, n, err);
		break;
	case PARQUET_ENC_RLE:
		rc = rle_bool(d, out, n, err);
		break;
	case PARQUET_ENC_DELTA_BINARY_PACKED:
		rc = delta_ints(d, out, n, err);
		break;
	case PARQUET_ENC_DELTA_LENGTH_BYTE_ARRAY:
		rc = delta_length(d, out, n, err);
		break;
	case PARQUET_ENC_DELTA_BYTE_ARRAY:
		rc = delta_bytes(d, out, n, scratch, err);
		break;
	case PARQUET_ENC_BYTE_STREAM_SPLIT:
		rc = byte_stream_split(d, out, n);
		if (rc)
			ts_err_set(err, rc, "BYTE_STREAM_SPLIT of FIXED_LEN_BYTE_ARRAY");
		break;
	default:
		return ts_err_set(err, TS_EINVAL, "values requested from a dictionary page");
	}
	if (!rc)
		d->left -= n;
	return rc;
}
