/*
 * libFuzzer target: the catalog CSV reader (flow_csv.h). Any input must be
 * read or refused with a line number, within the record bound, and the
 * result must not depend on how the input is cut into chunks: the whole
 * input at once and the same input in chunks of a size taken from its first
 * byte give the same records and the same error.
 */
#include "base/common.h"
#include "base/dbuf.h"
#include "base/text.h"
#include "flow/flow_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int collect(const struct flow_csv_song *s, void *arg, struct ts_err *err)
{
	(void)err;
	if (!*s->song_id || !*s->title || !*s->artist || !*s->genre || s->line < 1 ||
	    strlen(s->song_id) > FLOW_CSV_ID_MAX || !text_utf8_ok(s->title, strlen(s->title)))
		BUG("a record that breaks the rules was accepted");
	return dbuf_addf(arg, "%s\x1f%s\x1f%s\x1f%s\x1f%d\x1f%d\x1f%ld\x1e", s->song_id, s->title,
	                 s->artist, s->genre, s->has_duration, s->duration_ms, s->line);
}

static int run(const uint8_t *data, size_t size, size_t step, struct dbuf *out, struct ts_err *err)
{
	struct flow_csv *p = malloc(sizeof(*p));
	int rc = 0;

	if (!p)
		return TS_ENOMEM;
	flow_csv_init(p, collect, out);
	for (size_t at = 0; !rc && at < size; at += step)
		rc = flow_csv_feed(p, (const char *)data + at, size - at < step ? size - at : step,
		                   err);
	rc = rc ? rc : flow_csv_finish(p, err);
	free(p);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_err e1, e2;
	struct dbuf a, b;
	size_t step = size ? (size_t)data[0] % 17 + 1 : 1;
	int r1, r2;

	dbuf_init(&a, 64 << 20);
	dbuf_init(&b, 64 << 20);
	ts_err_clear(&e1);
	ts_err_clear(&e2);
	r1 = run(data, size, size ? size : 1, &a, &e1);
	r2 = run(data, size, step, &b, &e2);
	if (r1 == TS_ENOMEM || r2 == TS_ENOMEM)
		goto out;
	if (r1 != r2 || strcmp(e1.msg, e2.msg) || a.len != b.len ||
	    (a.len && memcmp(a.buf, b.buf, a.len)))
		BUG("chunking changed the result: %d \"%s\" vs %d \"%s\"", r1, e1.msg, r2, e2.msg);
	if (r1 && strncmp(e1.msg, "line ", 5))
		BUG("an error without its line: %s", e1.msg);
out:
	dbuf_release(&a);
	dbuf_release(&b);
	return 0;
}
