/*
 * The catalog CSV reader; see flow_csv.h. A byte-at-a-time state machine,
 * so a chunk boundary may fall anywhere, even between the two characters of
 * a doubled quote or of a CRLF.
 */
#include "base/common.h"
#include "base/text.h"
#include "flow/flow_csv.h"

enum {
	ST_FIELD_START, /* at the start of a field */
	ST_UNQUOTED,    /* inside an unquoted field */
	ST_QUOTED,      /* inside a quoted field */
	ST_QUOTE,       /* a quote inside a quoted field: doubled, or its end */
	ST_CR,          /* a CR outside quotes: an LF must follow */
};

void flow_csv_init(struct flow_csv *p, flow_csv_fn fn, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->arg = arg;
	p->line = 1;
	p->record_line = 1;
}

static int fail(struct flow_csv *p, struct ts_err *err, const char *fmt, const char *what)
{
	p->failed = 1;
	ts_err_set(err, TS_EINVAL, "line %ld: ", p->record_line);
	if (err) {
		size_t at = strlen(err->msg);
		snprintf(err->msg + at, sizeof(err->msg) - at, fmt, what);
	}
	return TS_EINVAL;
}

static int add_byte(struct flow_csv *p, char c, struct ts_err *err)
{
	if (p->len - p->nfields >= FLOW_CSV_RECORD_MAX)
		return fail(p, err, "record longer than %s bytes", "8192");
	p->buf[p->len++] = c;
	return 0;
}

static int end_field(struct flow_csv *p, struct ts_err *err)
{
	if (p->nfields >= FLOW_CSV_MAX_FIELDS)
		return fail(p, err, "more than 5 fields, expected 4 or 5 (%s)",
		            "song_id,title,artist,genre[,duration_ms]");
	p->buf[p->len++] = '\0';
	p->nfields++;
	p->start[p->nfields] = (uint16_t)p->len;
	return 0;
}

static int check_text(struct flow_csv *p, const char *s, const char *name, size_t max,
                      struct ts_err *err)
{
	size_t n = strlen(s);

	if (n == 0)
		return fail(p, err, "empty %s", name);
	if (n > max)
		return fail(p, err, "%s too long", name);
	if (!text_utf8_ok(s, n))
		return fail(p, err, "%s is not valid UTF-8", name);
	return 0;
}

static int parse_duration(struct flow_csv *p, const char *s, struct flow_csv_song *out,
                          struct ts_err *err)
{
	int64_t v = 0;

	if (!*s)
		return 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9' || v > INT32_MAX / 10)
			return fail(p, err,
			            "duration_ms \"%.40s\" is not an integer in 0..2147483647", s);
		v = v * 10 + (*c - '0');
	}
	if (v > INT32_MAX)
		return fail(p, err, "duration_ms \"%.40s\" is not an integer in 0..2147483647", s);
	out->has_duration = 1;
	out->duration_ms = (int32_t)v;
	return 0;
}

static int check_id(struct flow_csv *p, const char *id, struct ts_err *err)
{
	int rc = check_text(p, id, "song_id", FLOW_CSV_ID_MAX, err);

	for (const unsigned char *c = (const unsigned char *)id; !rc && *c; c++) {
		if (*c < 0x20 || *c == 0x7f)
			return fail(p, err, "song_id has a %s", "control character");
	}
	return rc;
}

static int end_record(struct flow_csv *p, struct ts_err *err)
{
	struct flow_csv_song s = {0};
	const char *f[FLOW_CSV_MAX_FIELDS] = {"", "", "", "", ""};
	int rc;

	for (int i = 0; i < p->nfields; i++)
		f[i] = p->buf + p->start[i];
	if (p->nfields == 1 && !*f[0])
		goto next; /* a blank line */
	if (!p->seen_first++ && (!strcmp(f[0], "song_id") || !strcmp(f[0], "id")))
		goto next; /* the header */
	if (p->nfields < 4) {
		char n[8];
		snprintf(n, sizeof(n), "%d", p->nfields);
		return fail(p, err,
		            "%s fields, expected 4 or 5 (song_id,title,artist,genre[,duration_ms])",
		            n);
	}
	rc = check_id(p, f[0], err);
	rc = rc ? rc : check_text(p, f[1], "title", FLOW_CSV_TEXT_MAX, err);
	rc = rc ? rc : check_text(p, f[2], "artist", FLOW_CSV_TEXT_MAX, err);
	rc = rc ? rc : check_text(p, f[3], "genre", FLOW_CSV_TEXT_MAX, err);
	rc = rc ? rc : p->nfields == 5 ? parse_duration(p, f[4], &s, err) : 0;
	if (rc)
		return rc;
	s.song_id = f[0];
	s.title = f[1];
	s.artist = f[2];
	s.genre = f[3];
	s.line = p->record_line;
	p->records++;
	rc = p->fn ? p->fn(&s, p->arg, err) : 0;
	if (rc) {
		p->failed = 1;
		return rc;
	}
next:
	p->nfields = 0;
	p->len = 0;
	p->record_line = p->line;
	p->state = ST_FIELD_START;
	return 0;
}

/* One byte outside the quoted states. */
static int plain_byte(struct flow_csv *p, char c, struct ts_err *err)
{
	int rc = 0;

	switch (c) {
	case ',':
		rc = end_field(p, err);
		p->state = ST_FIELD_START;
		return rc;
	case '\r':
		p->state = ST_CR;
		return 0;
	case '\n':
		p->line++;
		rc = end_field(p, err);
		return rc ? rc : end_record(p, err);
	case '"':
		if (p->state == ST_FIELD_START) {
			p->state = ST_QUOTED;
			return 0;
		}
		return fail(p, err, "a quote inside an unquoted field (%s)",
		            "quote the whole field and double the quote");
	default:
		if (p->state == ST_QUOTE)
			return fail(p, err, "text after a closing quote (%s)",
			            "double a quote inside a quoted field");
		p->state = ST_UNQUOTED;
		return add_byte(p, c, err);
	}
}

static int step(struct flow_csv *p, char c, struct ts_err *err)
{
	switch (p->state) {
	case ST_QUOTED:
		if (c == '"') {
			p->state = ST_QUOTE;
			return 0;
		}
		if (c == '\n')
			p->line++;
		return add_byte(p, c, err);
	case ST_QUOTE:
		if (c == '"') {
			p->state = ST_QUOTED;
			return add_byte(p, c, err);
		}
		return plain_byte(p, c, err);
	case ST_CR:
		if (c != '\n')
			return fail(p, err, "a carriage return not followed by a %s", "line feed");
		return plain_byte(p, c, err);
	default:
		return plain_byte(p, c, err);
	}
}

int flow_csv_feed(struct flow_csv *p, const char *data, size_t len, struct ts_err *err)
{
	int rc = 0;

	if (p->failed)
		return ts_err_set(err, TS_EINVAL, "line %ld: the reader already failed",
		                  p->record_line);
	for (size_t i = 0; !rc && i < len; i++)
		rc = step(p, data[i], err);
	return rc;
}

int flow_csv_finish(struct flow_csv *p, struct ts_err *err)
{
	int rc;

	if (p->failed)
		return ts_err_set(err, TS_EINVAL, "line %ld: the reader already failed",
		                  p->record_line);
	if (p->state == ST_QUOTED)
		return fail(p, err, "a quoted field is not closed (%s)", "missing '\"'");
	if (p->state == ST_CR)
		return fail(p, err, "a carriage return not followed by a %s", "line feed");
	if (p->state == ST_FIELD_START && p->nfields == 0 && p->len == 0)
		return 0;
	rc = end_field(p, err);
	return rc ? rc : end_record(p, err);
}
