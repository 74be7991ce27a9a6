/*
 * `topsongs parquet inspect FILE` and `topsongs parquet cat FILE`: a look
 * inside any Parquet file with a flat schema (ours, pyarrow's, DuckDB's,
 * Spark's) — schema, row groups, per-column encodings, compression, sizes and
 * statistics — and its rows as JSON lines; and `topsongs parquet write FILE
 * --schema ...`, which turns JSON lines on stdin into a Parquet file (used by
 * the cross-validation tests and handy for converting NDJSON).
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/timeutil.h"
#include "cli/commands.h"
#include "parquet/parquet_chunk.h"
#include "parquet/parquet_compress.h"
#include "parquet/parquet_json.h"
#include "parquet/parquet_reader.h"
#include "parquet/parquet_writer.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <strings.h>

#define OUT_FLUSH (64u << 10)

const struct cli_opt cmd_parquet_opts[] = {
    {"columns", "A,B", "cat: only these columns, in this order"},
    {"limit", "N", "cat: at most N rows"},
    {"schema", "SPEC",
     "write: name:type[?],... (type: bool int32 int64 float double string "
     "binary date timestamp_ms timestamp_us; ? = optional)"},
    {"codec", "NAME", "write: none, snappy, gzip or zstd (default zstd)"},
    {"level", "N", "write: compression level (0 = codec default)"},
    {"row-group-rows", "N", "write: rows per row group (default 1048576)"},
    {"page-rows", "N", "write: at most N values a page (default 20000)"},
    {"no-dictionary", NULL, "write: PLAIN encoding only"},
    {"dict-max-bytes", "N", "write: dictionary size before falling back to PLAIN"},
    {"page-v2", NULL, "write: DATA_PAGE_V2 pages"},
    {NULL, NULL, NULL},
};

const char cmd_parquet_details[] =
    "inspect FILE  prints the schema, key-value metadata and, per row group and\n"
    "              column, the codec, encodings, sizes, value and null counts and\n"
    "              min/max statistics.\n"
    "cat FILE      prints the rows as JSON lines: strings as strings, dates as\n"
    "              \"YYYY-MM-DD\", timestamps as RFC 3339 UTC, nulls as null.\n"
    "write FILE    reads JSON lines (one object a row, in the form cat prints) from\n"
    "              stdin and writes them to FILE with the --schema given.\n"
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

/* ---- write ---- */

#define MAX_LINE (16u << 20)

static const struct {
	const char *name;
	int type, logical;
} wtypes[] = {
    {"bool", PARQUET_BOOLEAN, PARQUET_LT_NONE},
    {"int32", PARQUET_INT32, PARQUET_LT_NONE},
    {"int64", PARQUET_INT64, PARQUET_LT_NONE},
    {"float", PARQUET_FLOAT, PARQUET_LT_NONE},
    {"double", PARQUET_DOUBLE, PARQUET_LT_NONE},
    {"string", PARQUET_BYTE_ARRAY, PARQUET_LT_STRING},
    {"binary", PARQUET_BYTE_ARRAY, PARQUET_LT_NONE},
    {"date", PARQUET_INT32, PARQUET_LT_DATE},
    {"timestamp_ms", PARQUET_INT64, PARQUET_LT_TIMESTAMP_MILLIS},
    {"timestamp_us", PARQUET_INT64, PARQUET_LT_TIMESTAMP_MICROS},
};

static int parse_field(char *spec, struct parquet_writer_column *c)
{
	char *colon = strrchr(spec, ':');
	size_t tl;

	if (!colon || colon == spec)
		return TS_EINVAL;
	*colon = '\0';
	c->name = spec;
	spec = colon + 1;
	tl = strlen(spec);
	c->optional = tl && spec[tl - 1] == '?';
	if (c->optional)
		spec[--tl] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(wtypes); i++) {
		if (!strcmp(spec, wtypes[i].name)) {
			c->type = wtypes[i].type;
			c->logical = wtypes[i].logical;
			return 0;
		}
	}
	return TS_EINVAL;
}

/* Splits SPEC (modified in place) into columns. */
static int parse_schema(struct cli_ctx *ctx, char *spec, struct parquet_writer_column *cols,
                        int max, int *n)
{
	char *save = NULL;

	*n = 0;
	for (char *f = strtok_r(spec, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (*n >= max || parse_field(f, &cols[*n])) {
			cli_error(ctx, "--schema: bad column '%s' (want name:type[?])", f);
			return TS_EINVAL;
		}
		(*n)++;
	}
	if (!*n)
		cli_error(ctx, "--schema: no columns");
	return *n ? 0 : TS_EINVAL;
}

static int write_opts(struct cli_ctx *ctx, struct parquet_writer_opts *o)
{
	long long rg, pr, lvl, dmax;
	const char *codec = cli_opt(ctx, "codec");

	parquet_writer_opts_init(o);
	if (codec && parquet_compress_parse(codec, &o->codec)) {
		cli_error(ctx, "--codec: none, snappy, gzip or zstd, not '%s'", codec);
		return TS_EINVAL;
	}
	if (cli_opt_int(ctx, "row-group-rows", o->row_group_rows, 1, INT64_MAX, &rg) ||
	    cli_opt_int(ctx, "page-rows", o->page_rows, 1, 1 << 20, &pr) ||
	    cli_opt_int(ctx, "level", 0, -100, 22, &lvl) ||
	    cli_opt_int(ctx, "dict-max-bytes", (long long)o->dict_max_bytes, 0, 64 << 20, &dmax))
		return TS_EINVAL;
	o->row_group_rows = rg;
	o->page_rows = (uint32_t)pr;
	o->level = (int)lvl;
	o->dict_max_bytes = (size_t)dmax;
	o->dictionary = !cli_flag(ctx, "no-dictionary");
	o->page_v2 = cli_flag(ctx, "page-v2");
	return 0;
}

static int put_double(struct parquet_writer *w, int i, int type, json_t *v)
{
	double d;
	const char *s = json_string_value(v);

	if (json_is_number(v))
		d = json_number_value(v);
	else if (s && !strcmp(s, "NaN"))
		d = NAN;
	else if (s && (!strcmp(s, "Infinity") || !strcmp(s, "-Infinity")))
		d = s[0] == '-' ? -INFINITY : INFINITY;
	else
		return TS_EINVAL;
	return type == PARQUET_FLOAT ? parquet_writer_put_float(w, i, (float)d)
	                             : parquet_writer_put_double(w, i, d);
}

static int put_date(struct parquet_writer *w, int i, json_t *v)
{
	const char *s = json_string_value(v);
	int y, m, d, used = 0;

	if (json_is_integer(v))
		return parquet_writer_put_i32(w, i, (int32_t)json_integer_value(v));
	if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || s[used] || m < 1 ||
	    m > 12 || d < 1 || d > 31)
		return TS_EINVAL;
	return parquet_writer_put_i32(w, i, (int32_t)time_days_from_civil(y, m, d));
}

static int put_timestamp(struct parquet_writer *w, int i, int logical, json_t *v)
{
	const char *why;
	int64_t us;

	if (json_is_integer(v))
		return parquet_writer_put_i64(w, i, json_integer_value(v));
	if (!json_is_string(v) ||
	    time_parse_rfc3339(json_string_value(v), json_string_length(v), &us, &why))
		return TS_EINVAL;
	if (logical == PARQUET_LT_TIMESTAMP_MILLIS)
		us = us / 1000 - (us % 1000 < 0);
	return parquet_writer_put_i64(w, i, us);
}

static int put_json(struct parquet_writer *w, int i, const struct parquet_writer_column *c,
                    json_t *v)
{
	if (!v || json_is_null(v))
		return parquet_writer_put_null(w, i);
	switch (c->type) {
	case PARQUET_BOOLEAN:
		return json_is_boolean(v) ? parquet_writer_put_bool(w, i, json_is_true(v))
		                          : TS_EINVAL;
	case PARQUET_INT32:
		if (c->logical == PARQUET_LT_DATE)
			return put_date(w, i, v);
		return json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
		               json_integer_value(v) <= INT32_MAX
		           ? parquet_writer_put_i32(w, i, (int32_t)json_integer_value(v))
		           : TS_EINVAL;
	case PARQUET_INT64:
		if (c->logical != PARQUET_LT_NONE)
			return put_timestamp(w, i, c->logical, v);
		return json_is_integer(v) ? parquet_writer_put_i64(w, i, json_integer_value(v))
		                          : TS_EINVAL;
	case PARQUET_FLOAT:
	case PARQUET_DOUBLE:
		return put_double(w, i, c->type, v);
	}
	return json_is_string(v)
	           ? parquet_writer_put_bytes(w, i, json_string_value(v), json_string_length(v))
	           : TS_EINVAL;
}

static int write_line(struct parquet_writer *w, const struct parquet_writer_column *cols, int n,
                      const char *line, size_t len, int64_t lineno, struct ts_err *err)
{
	json_error_t jerr;
	json_t *row = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	int rc = 0;

	if (!json_is_object(row)) {
		json_decref(row);
		return ts_err_set(err, TS_EINVAL, "stdin line %" PRId64 ": not a JSON object",
		                  lineno);
	}
	for (int i = 0; !rc && i < n; i++) {
		rc = put_json(w, i, &cols[i], json_object_get(row, cols[i].name));
		if (rc)
			ts_err_set(err, rc, "stdin line %" PRId64 ": bad value for '%s'", lineno,
			           cols[i].name);
	}
	json_decref(row);
	return rc ? rc : parquet_writer_end_row(w, err);
}

static int write_rows(struct parquet_writer *w, const struct parquet_writer_column *cols, int n,
                      struct ts_err *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int64_t lineno = 0;
	int rc = 0;

	while (!rc && (len = getline(&line, &cap, stdin)) >= 0) {
		lineno++;
		if (len > (ssize_t)MAX_LINE)
			rc = ts_err_set(err, TS_ETOOBIG, "stdin line %" PRId64 " is over %u bytes",
			                lineno, MAX_LINE);
		else if (strspn(line, " \t\r\n") != (size_t)len)
			rc = write_line(w, cols, n, line, (size_t)len, lineno, err);
	}
	free(line);
	return rc;
}

static int write_file(struct cli_ctx *ctx, const char *path, struct ts_err *err)
{
	struct parquet_writer_column cols[PARQUET_MAX_COLUMNS / 16];
	struct parquet_writer_opts o;
	struct parquet_writer *w = NULL;
	const char *spec = cli_opt(ctx, "schema");
	char *copy;
	int n = 0, rc;

	if (!spec) {
		cli_error(ctx, "write needs --schema");
		return TS_EINVAL;
	}
	copy = strdup(spec);
	if (!copy)
		return TS_ENOMEM;
	memset(cols, 0, sizeof(cols));
	rc = parse_schema(ctx, copy, cols, (int)ARRAY_SIZE(cols), &n);
	if (!rc)
		rc = write_opts(ctx, &o);
	if (!rc && !(rc = parquet_writer_new_file(path, cols, n, &o, &w, err))) {
		rc = write_rows(w, cols, n, err);
		if (!rc)
			rc = parquet_writer_close(w, err);
		parquet_writer_free(w);
	}
	free(copy);
	return rc;
}

int cmd_parquet(struct cli_ctx *ctx)
{
	const char *verb = ctx->args.pos[0], *path = ctx->args.pos[1];
	struct parquet_reader *r = NULL;
	struct ts_err err = {0};
	int rc;

	if (strcmp(verb, "inspect") && strcmp(verb, "cat") && strcmp(verb, "write")) {
		cli_error(ctx, "unknown action '%s' (inspect, cat or write)", verb);
		return EXIT_USAGE;
	}
	if (!strcmp(verb, "write")) {
		rc = write_file(ctx, path, &err);
		if (rc == TS_EINVAL && !err.msg[0])
			return EXIT_USAGE;
		if (rc)
			cli_error(ctx, "%s: %s", path, err.msg[0] ? err.msg : ts_code_name(rc));
		return rc ? EXIT_FAILURE_ : EXIT_OK;
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
