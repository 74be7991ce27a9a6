/*
 * `topsongs parquet inspect FILE` and `topsongs parquet cat FILE`: a look
 * inside any Parquet file with a flat schema (ours, pyarrow's, DuckDB's,
 * Spark's) — schema, row groups, per-column encodings, compression, sizes and
 * statistics — and its rows as JSON lines.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "cli/commands.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_json.h"
#include "parquet/parquet_reader.h"

#include <inttypes.h>

#define OUT_FLUSH (64u << 10)

const struct cli_opt cmd_parquet_opts[] = {
    {"columns", "A,B", "cat: only these columns, in this order"},
    {"limit", "N", "cat: at most N rows"},
    {NULL, NULL, NULL},
};

const char cmd_parquet_details[] =
    "inspect FILE  prints the schema, key-value metadata and, per row group and\n"
    "              column, the codec, encodings, sizes, value and null counts and\n"
    "              min/max statistics.\n"
    "cat FILE      prints the rows as JSON lines: strings as strings, dates as\n"
    "              \"YYYY-MM-DD\", timestamps as RFC 3339 UTC, nulls as null.\n"
    "Only flat schemas (no lists, maps or structs) are read; see docs/parquet.md.";

static void flush_out(struct dbuf *out)
{
	fwrite(out->buf ? out->buf : "", 1, out->len, stdout);
	dbuf_reset(out);
}

/* ---- inspect ---- */

static void print_stat(struct dbuf *out, const struct parquet_column *col, const uint8_t *v,
                       uint32_t len)
{
	struct parquet_batch b;
	struct parquet_bytes bytes = {v, len};
	uint64_t fixed = 0;

	memset(&b, 0, sizeof(b));
	b.type = col->type;
	b.n = 1;
	if (col->type == PARQUET_BYTE_ARRAY || col->type == PARQUET_FIXED_LEN_BYTE_ARRAY ||
	    col->type == PARQUET_INT96) {
		b.values = &bytes;
	} else {
		memcpy(&fixed, v, len < 8 ? len : 8);
		b.values = &fixed;
	}
	parquet_json_value(out, col, &b, 0);
}

static void print_encodings(struct dbuf *out, uint32_t mask)
{
	const char *sep = "";

	for (int e = 0; e < 32; e++) {
		if ((mask >> e) & 1) {
			dbuf_addf(out, "%s%s", sep, parquet_footer_encoding_name(e));
			sep = ",";
		}
	}
}

static void print_chunk(struct dbuf *out, const struct parquet_column *col,
                        const struct parquet_chunk_meta *m)
{
	dbuf_addf(out, "    %-20s %-7s ", col->name, parquet_compress_name(m->codec));
	print_encodings(out, m->encodings);
	dbuf_addf(out,
	          "\n      %" PRId64 " values, %" PRId64 " bytes compressed, %" PRId64
	          " uncompressed%s",
	          m->num_values, m->total_compressed, m->total_uncompressed,
	          m->dict_page_offset >= 0 ? ", dictionary page" : "");
	if (m->has_stats && m->stats.has_null_count)
		dbuf_addf(out, ", %" PRId64 " nulls", m->stats.null_count);
	if (m->has_stats && m->stats.has_min) {
		dbuf_addstr(out, "\n      min ");
		print_stat(out, col, m->stats.min, m->stats.min_len);
	}
	if (m->has_stats && m->stats.has_max) {
		dbuf_addstr(out, "  max ");
		print_stat(out, col, m->stats.max, m->stats.max_len);
	}
	dbuf_addc(out, '\n');
}

static void print_schema(struct dbuf *out, const struct parquet_footer *f)
{
	dbuf_addf(out, "schema: %d columns\n", f->ncols);
	for (int i = 0; i < f->ncols; i++) {
		const struct parquet_column *c = &f->cols[i];

		dbuf_addf(
		    out, "  %-20s %-10s %-18s %s\n", c->name, parquet_footer_type_name(c->type),
		    parquet_footer_logical_name(c->logical), c->optional ? "optional" : "required");
	}
}

static int inspect(struct parquet_reader *r)
{
	const struct parquet_footer *f = parquet_reader_footer(r);
	struct dbuf out;

	dbuf_init(&out, SIZE_MAX / 2);
	dbuf_addf(&out, "file: %s\nsize: %" PRIu64 " bytes\ncreated by: %s\nversion: %d\n",
	          parquet_reader_name(r), parquet_reader_size(r),
	          f->created_by ? f->created_by : "?", f->version);
	dbuf_addf(&out, "rows: %" PRId64 "\nrow groups: %d\n", f->num_rows, f->nrg);
	for (int i = 0; i < f->nkv; i++)
		dbuf_addf(&out, "metadata: %s = %.200s%s\n", f->kv[i].key,
		          f->kv[i].value ? f->kv[i].value : "",
		          f->kv[i].value && strlen(f->kv[i].value) > 200 ? "..." : "");
	print_schema(&out, f);
	for (int g = 0; g < f->nrg; g++) {
		dbuf_addf(&out, "row group %d: %" PRId64 " rows, %" PRId64 " bytes\n", g,
		          f->rgs[g].num_rows, f->rgs[g].total_byte_size);
		for (int c = 0; c < f->ncols; c++)
			print_chunk(&out, &f->cols[c], &f->rgs[g].chunks[c]);
		if (out.len > OUT_FLUSH)
			flush_out(&out);
	}
	flush_out(&out);
	dbuf_release(&out);
	return 0;
}

/* ---- cat ---- */

struct cat_col {
	int idx;
	struct parquet_chunk *chunk;
	struct parquet_batch b;
	size_t pos;
	struct dbuf key; /* "\"name\":" */
};

static int pick_columns(struct cli_ctx *ctx, struct parquet_reader *r, struct cat_col *cols, int *n)
{
	const struct parquet_footer *f = parquet_reader_footer(r);
	const char *list = cli_opt(ctx, "columns"), *p = list;
	char name[1024];

	*n = 0;
	if (!list) {
		for (int i = 0; i < f->ncols; i++)
			cols[(*n)++].idx = i;
		return 0;
	}
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len >= sizeof(name) || *n >= f->ncols) {
			cli_error(ctx, "--columns: too many or too long names");
			return TS_EINVAL;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		cols[*n].idx = parquet_reader_column(r, name);
		if (cols[*n].idx < 0) {
			cli_error(ctx, "%s: no column '%s'", parquet_reader_name(r), name);
			return TS_EINVAL;
		}
		(*n)++;
		p += len + (p[len] == ',');
	}
	return *n ? 0 : TS_EINVAL;
}

static int next_value(struct cat_col *c, struct ts_err *err)
{
	int rc;

	if (c->pos < c->b.n)
		return 0;
	c->pos = 0;
	rc = parquet_chunk_next(c->chunk, PARQUET_BATCH_MAX, false, &c->b, err);
	if (!rc && c->b.n == 0)
		rc = ts_err_set(err, TS_ECORRUPT, "column chunk has fewer values than rows");
	return rc;
}

static int cat_rows(const struct parquet_footer *f, struct cat_col *cols, int n, int64_t rows,
                    struct dbuf *out, struct ts_err *err)
{
	int rc = 0;

	for (int64_t row = 0; !rc && row < rows; row++) {
		dbuf_addc(out, '{');
		for (int i = 0; !rc && i < n; i++) {
			struct cat_col *c = &cols[i];

			if ((rc = next_value(c, err)))
				break;
			if (i)
				dbuf_addc(out, ',');
			dbuf_add(out, c->key.buf, c->key.len);
			rc = parquet_json_value(out, &f->cols[c->idx], &c->b, c->pos++);
		}
		if (!rc)
			rc = dbuf_addstr(out, "}\n");
		if (out->len > OUT_FLUSH)
			flush_out(out);
	}
	return rc;
}

static int cat_group(struct parquet_reader *r, int g, struct cat_col *cols, int n, int64_t rows,
                     struct dbuf *out, struct ts_err *err)
{
	const struct parquet_footer *f = parquet_reader_footer(r);
	int rc = 0;

	for (int i = 0; !rc && i < n; i++) {
		cols[i].pos = cols[i].b.n = 0;
		rc = parquet_chunk_open(r, g, cols[i].idx, &cols[i].chunk, err);
	}
	if (!rc)
		rc = cat_rows(f, cols, n, rows, out, err);
	for (int i = 0; i < n; i++) {
		parquet_chunk_free(cols[i].chunk);
		cols[i].chunk = NULL;
	}
	return rc;
}

static int cat(struct cli_ctx *ctx, struct parquet_reader *r, struct ts_err *err)
{
	const struct parquet_footer *f = parquet_reader_footer(r);
	struct cat_col *cols = calloc((size_t)f->ncols + 1, sizeof(*cols));
	long long limit;
	struct dbuf out;
	int n = 0, rc;

	if (!cols)
		return TS_ENOMEM;
	dbuf_init(&out, SIZE_MAX / 2);
	rc = cli_opt_int(ctx, "limit", INT64_MAX, 0, INT64_MAX, &limit);
	if (!rc)
		rc = pick_columns(ctx, r, cols, &n);
	for (int i = 0; !rc && i < n; i++) {
		dbuf_init(&cols[i].key, 1 << 20);
		parquet_json_bytes(&cols[i].key, (const uint8_t *)f->cols[cols[i].idx].name,
		                   strlen(f->cols[cols[i].idx].name));
		dbuf_addc(&cols[i].key, ':');
	}
	for (int g = 0; !rc && g < f->nrg && limit > 0; g++) {
		int64_t rows = f->rgs[g].num_rows < limit ? f->rgs[g].num_rows : limit;

		if (rc == 0 && rows > 0)
			rc = cat_group(r, g, cols, n, rows, &out, err);
		limit -= rows;
	}
	flush_out(&out);
	for (int i = 0; i < n; i++)
		dbuf_release(&cols[i].key);
	dbuf_release(&out);
	free(cols);
	return rc;
}

int cmd_parquet(struct cli_ctx *ctx)
{
	const char *verb = ctx->args.pos[0], *path = ctx->args.pos[1];
	struct parquet_reader *r = NULL;
	struct ts_err err = {0};
	int rc;

	if (strcmp(verb, "inspect") && strcmp(verb, "cat")) {
		cli_error(ctx, "unknown action '%s' (inspect or cat)", verb);
		return EXIT_USAGE;
	}
	rc = parquet_reader_open_file(path, &r, &err);
	if (rc) {
		cli_error(ctx, "%s", err.msg);
		return EXIT_FAILURE_;
	}
	if (!strcmp(verb, "inspect"))
		rc = inspect(r);
	else
		rc = cat(ctx, r, &err);
	fflush(stdout);
	parquet_reader_free(r);
	if (rc == TS_EINVAL && !err.msg[0])
		return EXIT_USAGE;
	if (rc) {
		cli_error(ctx, "%s", err.msg[0] ? err.msg : ts_code_name(rc));
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}
