/*
 * RLE / bit-packed hybrid encoder and streaming decoder; layout in
 * parquet_rle.h.
 */
#include "base/common.h"
#include "base/error.h"
#include "parquet/parquet_rle.h"
#include "parquet/parquet_thrift.h"

/* Bit-packed runs are kept to 63 groups so their header is one byte, which
 * every reader accepts. */
#define MAX_LIT_GROUPS 63

int parquet_rle_bit_width(uint64_t v)
{
	int w = 0;

	while (v) {
		w++;
		v >>= 1;
	}
	return w;
}

uint64_t parquet_rle_unpack(const uint8_t *p, size_t nbytes, uint64_t i, int bit_width)
{
	uint64_t bit = i * (uint64_t)bit_width, v = 0;
	size_t byte = (size_t)(bit >> 3);
	int shift = (int)(bit & 7), got = 0;

	if (bit_width == 0)
		return 0;
	if (byte + 8 <= nbytes && bit_width <= 56) {
		memcpy(&v, p + byte, 8); /* little-endian host assumed, see docs */
		v >>= shift;
		return v & ((UINT64_C(1) << bit_width) - 1);
	}
	while (got < bit_width && byte < nbytes) {
		v |= (uint64_t)(p[byte] >> shift) << got;
		got += 8 - shift;
		shift = 0;
		byte++;
	}
	return bit_width == 64 ? v : v & ((UINT64_C(1) << bit_width) - 1);
}

int parquet_rle_pack(struct dbuf *out, const uint64_t *v, size_t n, int bit_width)
{
	uint64_t acc = 0;
	int bits = 0, rc = 0;

	for (size_t i = 0; !rc && i < n; i++) {
		uint64_t x = v[i];

		for (int done = 0; !rc && done < bit_width;) {
			int take = bit_width - done < 64 - bits ? bit_width - done : 64 - bits;
			uint64_t part = take == 64 ? x : (x >> done) & ((UINT64_C(1) << take) - 1);

			acc |= part << bits;
			bits += take;
			done += take;
			if (bits == 64) {
				rc = dbuf_add(out, &acc, 8);
				acc = 0;
				bits = 0;
			}
		}
	}
	if (!rc && bits)
		rc = dbuf_add(out, &acc, (size_t)(bits + 7) / 8);
	return rc;
}

static int put_rle_run(struct dbuf *out, uint32_t value, size_t count, int bit_width)
{
	int rc = parquet_thrift_put_uvarint(out, (uint64_t)count << 1);

	if (!rc)
		rc = dbuf_add(out, &value, (size_t)(bit_width + 7) / 8);
	return rc;
}

/* Bit-packs n values (a multiple of 8, each below 2^bit_width, bit_width
 * 1..32) into exactly n * bit_width / 8 bytes at dst, 64 bits at a time. */
static void pack32(uint8_t *dst, const uint32_t *v, size_t n, int bit_width)
{
	uint64_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc |= (uint64_t)v[i] << bits;
		bits += bit_width;
		if (bits >= 64) {
			memcpy(dst, &acc, 8);
			dst += 8;
			bits -= 64;
			acc = bits ? (uint64_t)v[i] >> (bit_width - bits) : 0;
		}
	}
	if (bits)
		memcpy(dst, &acc, (size_t)(bits + 7) / 8);
}

static int put_literal(struct dbuf *out, const uint32_t *v, size_t n, int bit_width)
{
	uint32_t last[8] = {0};
	size_t groups = (n + 7) / 8, full = n & ~(size_t)7, bytes = groups * (size_t)bit_width;
	int rc = parquet_thrift_put_uvarint(out, (uint64_t)groups << 1 | 1);

	/* Room for the run (at most 63 groups of 32 bits), then pack into it;
	 * a short last group is padded with zeros. */
	static const uint8_t room[MAX_LIT_GROUPS * 32] = {0};

	if (!rc)
		rc = bytes <= sizeof(room) ? dbuf_add(out, room, bytes) : TS_EINVAL;
	if (rc)
		return rc;
	uint8_t *dst = (uint8_t *)out->buf + out->len - bytes;

	pack32(dst, v, full, bit_width);
	if (full < n) {
		memcpy(last, v + full, (n - full) * sizeof(*v));
		pack32(dst + full / 8 * (size_t)bit_width, last, 8, bit_width);
	}
	return 0;
}

static size_t run_length(const uint32_t *v, size_t i, size_t n)
{
	size_t j = i + 1;

	while (j < n && v[j] == v[i])
		j++;
	return j - i;
}

int parquet_rle_encode(struct dbuf *out, const uint32_t *v, size_t n, int bit_width)
{
	size_t i = 0;
	int rc = 0;

	while (!rc && i < n) {
		size_t run = run_length(v, i, n), start = i;

		if (run >= 8) {
			rc = put_rle_run(out, v[i], run, bit_width);
			i += run;
			continue;
		}
		/* Literal groups of exactly 8 values (only the last may be
		 * short), until a long run starts at a group boundary. */
		while (i < n && i - start < MAX_LIT_GROUPS * 8) {
			if (i > start && run_length(v, i, n) >= 8)
				break;
			i = i + 8 < n ? i + 8 : n;
		}
		rc = put_literal(out, v + start, i - start, bit_width);
	}
	return rc;
}

int parquet_rle_dec_init(struct parquet_rle_dec *d, const uint8_t *p, const uint8_t *end,
                         int bit_width)
{
	memset(d, 0, sizeof(*d));
	if (bit_width < 0 || bit_width > 32)
		return TS_ECORRUPT;
	d->p = p;
	d->end = end;
	d->bit_width = bit_width;
	return 0;
}

static int next_run(struct parquet_rle_dec *d)
{
	uint64_t h, groups, bytes, avail;
	size_t vbytes = (size_t)(d->bit_width + 7) / 8;

	if (parquet_thrift_get_uvarint(&d->p, d->end, &h))
		return TS_ECORRUPT;
	if (!(h & 1)) {
		if (h >> 1 == 0 || h >> 1 > UINT32_MAX || vbytes > (size_t)(d->end - d->p))
			return TS_ECORRUPT;
		d->rle_left = (uint32_t)(h >> 1);
		d->rle_value = 0;
		memcpy(&d->rle_value, d->p, vbytes);
		d->p += vbytes;
		if (d->bit_width < 32 && d->rle_value >> d->bit_width)
			return TS_ECORRUPT;
		return 0;
	}
	groups = h >> 1;
	if (groups == 0 || groups > UINT32_MAX / 8)
		return TS_ECORRUPT;
	bytes = groups * (uint64_t)d->bit_width;
	avail = (uint64_t)(d->end - d->p);
	d->lit = d->p;
	d->lit_bytes = (size_t)(bytes < avail ? bytes : avail);
	d->lit_left = d->bit_width ? (uint32_t)(d->lit_bytes * 8 / (size_t)d->bit_width)
	                           : (uint32_t)(groups * 8);
	if (d->lit_left > groups * 8)
		d->lit_left = (uint32_t)(groups * 8);
	d->lit_next = 0;
	d->p += d->lit_bytes;
	return d->lit_left ? 0 : TS_ECORRUPT;
}

int parquet_rle_dec_get(struct parquet_rle_dec *d, uint32_t *out, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (d->rle_left) {
			size_t k = n - i < d->rle_left ? n - i : d->rle_left;

			for (size_t j = 0; j < k; j++)
				out[i + j] = d->rle_value;
			d->rle_left -= (uint32_t)k;
			i += k;
		} else if (d->lit_left) {
			size_t k = n - i < d->lit_left ? n - i : d->lit_left;
			uint64_t first = d->lit_next;

			for (size_t j = 0; j < k; j++)
				out[i + j] = (uint32_t)parquet_rle_unpack(d->lit, d->lit_bytes,
				                                          first + j, d->bit_width);
			d->lit_next += k;
			d->lit_left -= (uint32_t)k;
			i += k;
		} else if (next_run(d)) {
			return TS_ECORRUPT;
		}
	}
	return 0;
}
