/*
 * The read API's handlers; see api_read.h. Each handler checks its
 * parameters, borrows a pooled connection, runs prepared statements and
 * writes JSON (or CSV) into the reply, which then gets an entity tag and a
 * Cache-Control fitting how final the data is.
 */
#include "base/common.h"
#include "api/api_read.h"
#include "api/api_cache.h"
#include "api/api_internal.h"
#include "api/api_lag.h"
#include "api/api_openapi.h"
#include "api/api_pool.h"
#include "api/api_query.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <ctype.h>
#include <errno.h>

#define HOUR_US         (3600 * TIME_US_PER_SEC)
#define DAY_US          (24 * HOUR_US)
#define TREND_MAX_HOURS (31 * 24)
#define RUNS_DEFAULT    20
#define RUNS_MAX        100
#define LAKE_HOURS      12

struct api_read {
	const struct ts_config *cfg;
	struct api_pool *pool;
	struct api_lag *lag;     /* NULL when Kafka settings are unusable */
	struct api_cache *cache; /* GET /api/top answers; NULL = none */
	char *openapi;
	size_t openapi_len;
};

void api_read_bad_param(struct api_reply *reply, const char *param, const char *detail)
{
	reply->status = 400;
	dbuf_reset(&reply->body);
	dbuf_addstr(&reply->body, "{\"error\":\"bad parameter\",\"param\":");
	dbuf_add_json_str(&reply->body, param);
	dbuf_addstr(&reply->body, ",\"detail\":");
	dbuf_add_json_str(&reply->body, detail);
	dbuf_addc(&reply->body, '}');
}

static void db_error(struct api_reply *reply, int rc, const struct ts_err *err)
{
	if (rc == TS_EUNAVAIL) {
		reply->retry_after = "2";
		api_reply_error(reply, 503, "database unavailable", err->msg);
	} else {
		log_error("read api", "reason=\"%s\"", err->msg);
		api_reply_error(reply, 500, "internal error", "see the api's log");
	}
}

int api_read_check_query(const struct api_request *req, struct api_query *q,
                         const char *const *allowed, size_t nallowed, const char *repeatable,
                         struct api_reply *reply)
{
	struct ts_err err;

	if (api_query_parse(req->query, req->query_len, q, &err)) {
		api_reply_error(reply, 400, "bad query string", err.msg);
		return -1;
	}
	for (size_t i = 0; i < q->n; i++) {
		size_t k;

		for (k = 0; k < nallowed && strcmp(q->p[i].key, allowed[k]); k++)
			;
		if (k == nallowed) {
			api_read_bad_param(reply, q->p[i].key, "unknown parameter");
			return -1;
		}
		if (api_query_count(q, q->p[i].key) > 1 &&
		    (!repeatable || strcmp(q->p[i].key, repeatable))) {
			api_read_bad_param(reply, q->p[i].key, "given more than once");
			return -1;
		}
	}
	return 0;
}

/* ---- time values ---- */

static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : d[m - 1];
}

/* YYYY-MM-DD at s (10 bytes). */
static int parse_date(const char *s, int64_t *us)
{
	int y, m, d;

	if (s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &m) ||
	    digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*us = time_days_from_civil(y, m, d) * DAY_US;
	return 0;
}

int api_read_parse_time(const char *s, int64_t *us, const char **why)
{
	size_t len = strlen(s);
	int h;

	*why = "expected YYYY-MM-DD, YYYY-MM-DDTHH or an RFC 3339 date-time with offset";
	if (len == 10) {
		if (parse_date(s, us))
			return TS_EINVAL;
	} else if (len == 13) {
		if (parse_date(s, us) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
		    h > 23)
			return TS_EINVAL;
		*us += h * HOUR_US;
	} else if (len < 10 || len > 40 || time_parse_rfc3339(s, len, us, why)) {
		return TS_EINVAL;
	}
	if (*us < time_days_from_civil(2000, 1, 1) * DAY_US ||
	    *us >= time_days_from_civil(2100, 1, 1) * DAY_US) {
		*why = "out of range (2000-01-01 to 2100-01-01)";
		return TS_EINVAL;
	}
	return 0;
}

static int64_t floor_to(int64_t us, int64_t unit)
{
	return us - ((us % unit) + unit) % unit;
}

static void fmt_time(int64_t us, char *out, size_t size)
{
	if (time_format_rfc3339_ms(us, out, size))
		BUG("time buffer too small");
	/* "...:00.000Z" -> "...:00Z": periods start on whole seconds. */
	if (strlen(out) == 24)
		memmove(out + 19, out + 23, 2);
}

static void fmt_date(int64_t us, char *out, size_t size)
{
	struct time_civil c;

	time_to_civil(us, &c);
	snprintf(out, size, "%04d-%02d-%02d", c.year, c.month, c.day);
}

/* ---- regions ---- */

static const struct {
	const char *code, *name;
} region_names[] = {
    {"ALL", "Global"}, {"NA", "North America"}, {"SA", "South America"}, {"EU", "Europe"},
    {"AF", "Africa"},  {"AS", "Asia"},          {"OC", "Oceania"},
};

static void add_region(struct dbuf *b, const char *code, size_t len, int first)
{
	char c[16];
	const char *name = NULL;

	snprintf(c, sizeof(c), "%.*s", (int)len, code);
	for (size_t i = 0; i < ARRAY_SIZE(region_names); i++)
		if (!strcmp(c, region_names[i].code))
			name = region_names[i].name;
	dbuf_addstr(b, first ? "{\"code\":" : ",{\"code\":");
	dbuf_add_json_str(b, c);
	dbuf_addstr(b, ",\"name\":");
	dbuf_add_json_str(b, name ? name : c);
	dbuf_addc(b, '}');
}

/* Calls fn for each configured region code (the list was validated). */
static void each_region(const struct ts_config *cfg,
                        void (*fn)(struct dbuf *, const char *, size_t, int), struct dbuf *b)
{
	int first = 0;

	for (const char *p = cfg->regions; *p;) {
		size_t len;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, " ,");
		if (len)
			fn(b, p, len, first);
		p += len;
	}
}

static void handle_regions(struct api_read *r, struct api_request *req, struct api_reply *reply)
{
	struct api_query q;

	if (api_read_check_query(req, &q, NULL, 0, NULL, reply))
		return;
	reply->status = 200;
	dbuf_addstr(&reply->body, "{\"regions\":[");
	add_region(&reply->body, "ALL", 3, 1);
	each_region(r->cfg, add_region, &reply->body);
	dbuf_addstr(&reply->body, "]}");
	reply->cache_control = "public, max-age=300";
}

int api_read_check_region(const struct ts_config *cfg, const char *v, struct api_reply *reply)
{
	if (!strcmp(v, "ALL") || (strlen(v) <= 8 && config_has_region(cfg, v, strlen(v))))
		return 0;
	api_read_bad_param(reply, "region",
	                   "expected ALL or one of the configured regions (GET /api/regions)");
	return -1;
}

/* ---- the chart ---- */

struct chart_sel {
	char region[16];
	int daily;
	int64_t start_us;
	char start[32], end[32], key[32]; /* key: the SQL parameter */
};

static const char *const top_params[] = {"region", "period", "at"};

static int chart_params(struct api_read *r, struct api_request *req, struct chart_sel *sel,
                        struct api_reply *reply)
{
	struct api_query q;
	const char *region, *period, *at, *why;
	int64_t at_us = time_now_us();

	if (api_read_check_query(req, &q, top_params, ARRAY_SIZE(top_params), NULL, reply))
		return -1;
	region = api_query_get(&q, "region");
	period = api_query_get(&q, "period");
	at = api_query_get(&q, "at");
	if (!region)
		region = "ALL";
	if (api_read_check_region(r->cfg, region, reply))
		return -1;
	snprintf(sel->region, sizeof(sel->region), "%s", region);
	if (period && strcmp(period, "hour") && strcmp(period, "day")) {
		api_read_bad_param(reply, "period", "expected hour or day");
		return -1;
	}
	sel->daily = period && !strcmp(period, "day");
	if (at && strcmp(at, "now") && api_read_parse_time(at, &at_us, &why)) {
		api_read_bad_param(reply, "at", why);
		return -1;
	}
	sel->start_us = floor_to(at_us, sel->daily ? DAY_US : HOUR_US);
	fmt_time(sel->start_us, sel->start, sizeof(sel->start));
	fmt_time(sel->start_us + (sel->daily ? DAY_US : HOUR_US), sel->end, sizeof(sel->end));
	if (sel->daily)
		fmt_date(sel->start_us, sel->key, sizeof(sel->key));
	else
		snprintf(sel->key, sizeof(sel->key), "%s", sel->start);
	return 0;
}

/* Runs the chart query; *res gets up to ten rows. */
static int chart_rows(struct api_read *r, struct chart_sel *sel, PGresult **res,
                      struct api_reply *reply)
{
	const char *params[] = {sel->region, sel->key};
	struct api_conn *c = NULL;
	struct ts_err err;
	int rc = api_pool_get(r->pool, &c, &err);

	rc = rc ? rc
	        : api_pool_exec(c, sel->daily ? STMT_TOP_DAY : STMT_TOP_HOUR, params, res, &err);
	api_pool_put(r->pool, c);
	if (rc)
		db_error(reply, rc, &err);
	return rc;
}

static void add_val(struct dbuf *b, const char *key, PGresult *res, int row, int col, int is_str)
{
	dbuf_addf(b, "%s\"%s\":", b->len && b->buf[b->len - 1] == '{' ? "" : ",", key);
	if (PQgetisnull(res, row, col))
		dbuf_addstr(b, "null");
	else if (is_str == 2) /* boolean */
		dbuf_addstr(b, PQgetvalue(res, row, col)[0] == 't' ? "true" : "false");
	else if (is_str)
		dbuf_add_json_str(b, PQgetvalue(res, row, col));
	else
		dbuf_addstr(b, PQgetvalue(res, row, col));
}

/* Columns of STMT_TOP_*, in order, and whether each is text. */
static const struct {
	const char *name;
	int is_str;
} chart_cols[] = {
    {"rank", 0},  {"song_id", 1},       {"title", 1},    {"artist", 1},    {"genre", 1},
    {"plays", 0}, {"previous_rank", 0}, {"movement", 0}, {"peak_rank", 0}, {"periods_on_chart", 0},
    {"entry", 1},
};
#define COL_FINAL   11
#define COL_UPDATED 12

static void chart_json(const struct chart_sel *sel, PGresult *res, struct dbuf *b, int *final)
{
	int n = PQntuples(res);
	int64_t now = time_now_us();
	int live = now >= sel->start_us && now < sel->start_us + (sel->daily ? DAY_US : HOUR_US);
	const char *updated = NULL;

	*final = n > 0;
	for (int i = 0; i < n; i++) {
		*final &= PQgetvalue(res, i, COL_FINAL)[0] == 't';
		if (!PQgetisnull(res, i, COL_UPDATED) &&
		    (!updated || strcmp(PQgetvalue(res, i, COL_UPDATED), updated) > 0))
			updated = PQgetvalue(res, i, COL_UPDATED);
	}
	dbuf_addstr(b, "{\"region\":");
	dbuf_add_json_str(b, sel->region);
	dbuf_addf(b, ",\"period\":\"%s\",\"start\":\"%s\",\"end\":\"%s\",\"live\":%s,\"final\":%s",
	          sel->daily ? "day" : "hour", sel->start, sel->end, live ? "true" : "false",
	          *final ? "true" : "false");
	dbuf_addstr(b, ",\"updated_at\":");
	if (updated)
		dbuf_add_json_str(b, updated);
	else
		dbuf_addstr(b, "null");
	dbuf_addstr(b, ",\"entries\":[");
	for (int i = 0; i < n; i++) {
		dbuf_addstr(b, i ? ",{" : "{");
		for (size_t k = 0; k < ARRAY_SIZE(chart_cols); k++)
			add_val(b, chart_cols[k].name, res, i, (int)k, chart_cols[k].is_str);
		dbuf_addc(b, '}');
	}
	dbuf_addstr(b, "]}");
}

static void finish_cached(struct api_request *req, struct api_reply *reply, int final)
{
	/* Final charts change only if late plays force a recomputation. */
	reply->cache_control = final ? "public, max-age=300" : "no-cache";
	api_reply_etag(req, reply, text_fnv1a(reply->body.buf, reply->body.len, TEXT_FNV_SEED));
}

static void handle_top(struct api_read *r, struct api_request *req, struct api_reply *reply)
{
	struct chart_sel sel;
	PGresult *res = NULL;
	char key[API_CACHE_MAX_KEY];
	int final;

	if (chart_params(r, req, &sel, reply))
		return;
	snprintf(key, sizeof(key), "top|%s|%d|%s", sel.region, sel.daily, sel.key);
	if (api_cache_get(r->cache, key, &reply->body, &final)) {
		reply->status = 200;
		finish_cached(req, reply, final);
		return;
	}
	if (chart_rows(r, &sel, &res, reply))
		return;
	reply->status = 200;
	chart_json(&sel, res, &reply->body, &final);
	PQclear(res);
	/* A live chart is at most a second old; a final one changes only when
	 * late plays make the flows recompute it. */
	api_cache_put(r->cache, key, reply->body.buf, reply->body.len, final,
	              (final ? 60 : 1) * TIME_US_PER_SEC);
	finish_cached(req, reply, final);
}

/* One CSV field: quoted when needed; a leading = + - @ (a formula to a
 * spreadsheet) is defused with an apostrophe. */
static void csv_field(struct dbuf *b, const char *v, int is_str)
{
	int quote = strpbrk(v, ",\"\r\n") != NULL;

	if (quote)
		dbuf_addc(b, '"');
	if (is_str && strchr("=+-@", v[0]) && v[0])
		dbuf_addc(b, '\'');
	for (; *v; v++) {
		if (*v == '"')
			dbuf_addc(b, '"');
		dbuf_addc(b, *v);
	}
	if (quote)
		dbuf_addc(b, '"');
}

static void handle_top_csv(struct api_read *r, struct api_request *req, struct api_reply *reply)
{
	struct chart_sel sel;
	PGresult *res = NULL;
	int final = 1;

	if (chart_params(r, req, &sel, reply))
		return;
	if (chart_rows(r, &sel, &res, reply))
		return;
	reply->status = 200;
	reply->content_type = "text/csv; charset=utf-8";
	for (size_t k = 0; k < ARRAY_SIZE(chart_cols); k++)
		dbuf_addf(&reply->body, "%s%s", k ? "," : "", chart_cols[k].name);
	dbuf_addstr(&reply->body, "\r\n");
	for (int i = 0; i < PQntuples(res); i++) {
		final &= PQgetvalue(res, i, COL_FINAL)[0] == 't';
		for (size_t k = 0; k < ARRAY_SIZE(chart_cols); k++) {
			if (k)
				dbuf_addc(&reply->body, ',');
			csv_field(&reply->body, PQgetvalue(res, i, (int)k), chart_cols[k].is_str);
		}
		dbuf_addstr(&reply->body, "\r\n");
	}
	final &= PQntuples(res) > 0;
	PQclear(res);
	snprintf(reply->filename, sizeof(reply->filename), "top-%s-%s-%.*s.csv", sel.region,
	         sel.daily ? "day" : "hour", sel.daily ? 10 : 13, sel.start);
	finish_cached(req, reply, final);
}

/* ---- per-song trend ---- */

struct trend_sel {
	const char *region;
	int64_t from_us, to_us;
	char from[32], to[32];
	const char *songs[API_POOL_MAX_SONGS];
	int nsongs;
};

static const char *const trend_params[] = {"region", "song", "from", "to"};

static int check_song_id(const char *v)
{
	/* The event contract's rule: 1-64 characters (UTF-8 checked by the
	 * query parser); count characters, not bytes. */
	size_t chars = 0;

	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		chars += (*p & 0xc0) != 0x80;
	return chars >= 1 && chars <= 64 ? 0 : -1;
}

static int trend_times(const struct api_query *q, struct trend_sel *sel, struct api_reply *reply)
{
	const char *from = api_query_get(q, "from"), *to = api_query_get(q, "to"), *why;

	sel->to_us = floor_to(time_now_us(), HOUR_US) + HOUR_US;
	if (to && api_read_parse_time(to, &sel->to_us, &why)) {
		api_read_bad_param(reply, "to", why);
		return -1;
	}
	sel->to_us = floor_to(sel->to_us + HOUR_US - 1, HOUR_US); /* round up */
	sel->from_us = sel->to_us - DAY_US;
	if (from && api_read_parse_time(from, &sel->from_us, &why)) {
		api_read_bad_param(reply, "from", why);
		return -1;
	}
	sel->from_us = floor_to(sel->from_us, HOUR_US);
	if (sel->from_us >= sel->to_us) {
		api_read_bad_param(reply, "from", "must be before to");
		return -1;
	}
	if (sel->to_us - sel->from_us > TREND_MAX_HOURS * HOUR_US) {
		api_read_bad_param(reply, "to", "the range is longer than 31 days");
		return -1;
	}
	fmt_time(sel->from_us, sel->from, sizeof(sel->from));
	fmt_time(sel->to_us, sel->to, sizeof(sel->to));
	return 0;
}

static int trend_params_check(struct api_read *r, const struct api_query *q, struct trend_sel *sel,
                              struct api_reply *reply)
{
	sel->region = api_query_get(q, "region");
	if (!sel->region)
		sel->region = "ALL";
	if (api_read_check_region(r->cfg, sel->region, reply))
		return -1;
	sel->nsongs = 0;
	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->p[i].key, "song"))
			continue;
		if (sel->nsongs == API_POOL_MAX_SONGS) {
			api_read_bad_param(reply, "song", "at most 10 songs");
			return -1;
		}
		if (check_song_id(q->p[i].value)) {
			api_read_bad_param(reply, "song", "a song id has 1 to 64 characters");
			return -1;
		}
		sel->songs[sel->nsongs++] = q->p[i].value;
	}
	if (!sel->nsongs) {
		api_read_bad_param(reply, "song", "required (up to 10 times)");
		return -1;
	}
	return trend_times(q, sel, reply);
}

static int song_index(const struct trend_sel *sel, const char *id)
{
	for (int i = 0; i < sel->nsongs; i++)
		if (!strcmp(sel->songs[i], id))
			return i;
	return -1;
}

/* plays[song][hour], filled from the rows. */
static void trend_fill(const struct trend_sel *sel, PGresult *res, int64_t *plays, int nhours)
{
	for (int i = 0; i < PQntuples(res); i++) {
		int s = song_index(sel, PQgetvalue(res, i, 0));
		int64_t at = strtoll(PQgetvalue(res, i, 1), NULL, 10) * TIME_US_PER_SEC;
		int64_t h = (at - sel->from_us) / HOUR_US;

		if (s >= 0 && h >= 0 && h < nhours)
			plays[(size_t)s * (size_t)nhours + (size_t)h] =
			    strtoll(PQgetvalue(res, i, 2), NULL, 10);
	}
}

static void trend_json(const struct trend_sel *sel, PGresult *songs, const int64_t *plays,
                       int nhours, struct dbuf *b)
{
	char t[32];

	dbuf_addstr(b, "{\"region\":");
	dbuf_add_json_str(b, sel->region);
	dbuf_addf(b, ",\"from\":\"%s\",\"to\":\"%s\",\"hours\":[", sel->from, sel->to);
	for (int h = 0; h < nhours; h++) {
		fmt_time(sel->from_us + h * HOUR_US, t, sizeof(t));
		dbuf_addf(b, "%s\"%s\"", h ? "," : "", t);
	}
	dbuf_addstr(b, "],\"series\":[");
	for (int s = 0; s < sel->nsongs; s++) {
		int row = -1;

		for (int i = 0; i < PQntuples(songs); i++)
			if (!strcmp(PQgetvalue(songs, i, 0), sel->songs[s]))
				row = i;
		dbuf_addstr(b, s ? ",{\"song_id\":" : "{\"song_id\":");
		dbuf_add_json_str(b, sel->songs[s]);
		if (row >= 0) {
			add_val(b, "title", songs, row, 1, 1);
			add_val(b, "artist", songs, row, 2, 1);
		} else {
			dbuf_addstr(b, ",\"title\":null,\"artist\":null");
		}
		dbuf_addstr(b, ",\"plays\":[");
		for (int h = 0; h < nhours; h++)
			dbuf_addf(b, "%s%lld", h ? "," : "", (long long)plays[s * nhours + h]);
		dbuf_addstr(b, "]}");
	}
	dbuf_addstr(b, "]}");
}

static int trend_query(struct api_read *r, const struct trend_sel *sel, PGresult **rows,
                       PGresult **songs, struct api_reply *reply)
{
	const char *p[3 + API_POOL_MAX_SONGS] = {sel->region, sel->from, sel->to};
	struct api_conn *c = NULL;
	struct ts_err err;
	int rc;

	for (int i = 0; i < sel->nsongs; i++)
		p[3 + i] = sel->songs[i];
	rc = api_pool_get(r->pool, &c, &err);
	rc = rc ? rc : api_pool_exec(c, STMT_TREND, p, rows, &err);
	rc = rc ? rc : api_pool_exec(c, STMT_SONGS, p + 3, songs, &err);
	api_pool_put(r->pool, c);
	if (rc)
		db_error(reply, rc, &err);
	return rc;
}

static void handle_trend(struct api_read *r, struct api_request *req, struct api_reply *reply)
{
	struct api_query q;
	struct trend_sel sel;
	PGresult *rows = NULL, *songs = NULL;
	int64_t *plays;
	int nhours, final;

	if (api_read_check_query(req, &q, trend_params, ARRAY_SIZE(trend_params), "song", reply) ||
	    trend_params_check(r, &q, &sel, reply) || trend_query(r, &sel, &rows, &songs, reply))
		goto out;
	nhours = (int)((sel.to_us - sel.from_us) / HOUR_US);
	plays = calloc((size_t)nhours * (size_t)sel.nsongs, sizeof(*plays));
	if (!plays) {
		api_reply_error(reply, 503, "out of memory", NULL);
		goto out;
	}
	trend_fill(&sel, rows, plays, nhours);
	reply->status = 200;
	trend_json(&sel, songs, plays, nhours, &reply->body);
	free(plays);
	/* Past hours change only through late plays. */
	final = sel.to_us <= floor_to(time_now_us(), HOUR_US);
	finish_cached(req, reply, final);
out:
	PQclear(rows);
	PQclear(songs);
}

/* ---- pipeline ---- */

static const char *const pipeline_params[] = {"runs"};

struct pipeline_rows {
	PGresult *offsets, *lake, *runs, *fresh;
};

static int pipeline_query(struct api_read *r, long runs, struct pipeline_rows *pr,
                          struct api_reply *reply)
{
	char nruns[16], nlake[16];
	const char *p_topic[] = {r->cfg->kafka_topic}, *p_runs[] = {nruns}, *p_lake[] = {nlake};
	struct api_conn *c = NULL;
	struct ts_err err;
	int rc;

	snprintf(nruns, sizeof(nruns), "%ld", runs);
	snprintf(nlake, sizeof(nlake), "%d", LAKE_HOURS);
	rc = api_pool_get(r->pool, &c, &err);
	rc = rc ? rc : api_pool_exec(c, STMT_OFFSETS, p_topic, &pr->offsets, &err);
	rc = rc ? rc : api_pool_exec(c, STMT_LAKE_HOURS, p_lake, &pr->lake, &err);
	rc = rc ? rc : api_pool_exec(c, STMT_RUNS, p_runs, &pr->runs, &err);
	rc = rc ? rc : api_pool_exec(c, STMT_FRESHNESS, NULL, &pr->fresh, &err);
	api_pool_put(r->pool, c);
	if (rc)
		db_error(reply, rc, &err);
	return rc;
}

/* The committed offset of a partition from ingest_offsets, or -1. */
static int64_t committed(PGresult *offsets, int part, int *row)
{
	for (int i = 0; i < PQntuples(offsets); i++) {
		if (strtol(PQgetvalue(offsets, i, 0), NULL, 10) == part) {
			*row = i;
			return strtoll(PQgetvalue(offsets, i, 1), NULL, 10);
		}
	}
	*row = -1;
	return -1;
}

static void kafka_json(struct api_read *r, PGresult *offsets, struct dbuf *b)
{
	static _Thread_local int64_t hw[API_LAG_MAX_PARTITIONS];
	struct ts_err err = {0};
	int n = 0, rc = r->lag ? api_lag_watermarks(r->lag, hw, API_LAG_MAX_PARTITIONS, &n, &err)
	                       : ts_err_set(&err, TS_EUNAVAIL, "kafka: no client");
	long long total = 0;

	dbuf_addstr(b, "\"kafka\":{\"topic\":");
	dbuf_add_json_str(b, r->cfg->kafka_topic);
	dbuf_addf(b, ",\"ok\":%s,\"error\":", rc ? "false" : "true");
	if (rc)
		dbuf_add_json_str(b, err.msg);
	else
		dbuf_addstr(b, "null");
	dbuf_addstr(b, ",\"partitions\":[");
	for (int p = 0; p < n; p++) {
		int row;
		int64_t next = committed(offsets, p, &row), lag = hw[p] - (next < 0 ? 0 : next);

		if (lag < 0)
			lag = 0;
		total += lag;
		dbuf_addf(b, "%s{\"partition\":%d,\"high_watermark\":%lld", p ? "," : "", p,
		          (long long)hw[p]);
		if (row >= 0) {
			add_val(b, "next_offset", offsets, row, 1, 0);
			add_val(b, "committed_at", offsets, row, 2, 1);
			add_val(b, "watermark", offsets, row, 3, 1);
		} else {
			dbuf_addstr(
			    b, ",\"next_offset\":null,\"committed_at\":null,\"watermark\":null");
		}
		dbuf_addf(b, ",\"lag\":%lld}", (long long)lag);
	}
	dbuf_addstr(b, "],\"total_lag\":");
	if (rc)
		dbuf_addstr(b, "null}");
	else
		dbuf_addf(b, "%lld}", total);
}

static void rows_json(struct dbuf *b, PGresult *res, const char *const *names, const int *is_str,
                      size_t ncols)
{
	for (int i = 0; i < PQntuples(res); i++) {
		dbuf_addstr(b, i ? ",{" : "{");
		for (size_t k = 0; k < ncols; k++)
			add_val(b, names[k], res, i, (int)k, is_str[k]);
		dbuf_addc(b, '}');
	}
}

static const char *const lake_cols[] = {"region", "date",   "hour",      "rows",
                                        "files",  "closed", "late_rows", "updated_at"};
/* 0 number, 1 text, 2 boolean */
static const int lake_str[] = {1, 1, 0, 0, 0, 2, 0, 1};
static const char *const run_cols[] = {"id",          "flow",    "scope",    "trigger",
                                       "state",       "attempt", "owner",    "started_at",
                                       "finished_at", "rows_in", "rows_out", "error"};
static const int run_str[] = {0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1};

/* Seconds since an epoch value in column col of the freshness row, or null. */
static void age_json(struct dbuf *b, const char *key, PGresult *fresh, int col)
{
	long long now = strtoll(PQgetvalue(fresh, 0, 0), NULL, 10);

	dbuf_addf(b, "%s\"%s\":", col > 1 ? "," : "", key);
	if (PQgetisnull(fresh, 0, col))
		dbuf_addstr(b, "null");
	else
		dbuf_addf(b, "%lld", now - strtoll(PQgetvalue(fresh, 0, col), NULL, 10));
}

static void handle_pipeline(struct api_read *r, struct api_request *req, struct api_reply *reply)
{
	struct pipeline_rows pr = {0};
	struct api_query q;
	const char *v;
	char now[32];
	long runs = RUNS_DEFAULT;
	char *end;

	if (api_read_check_query(req, &q, pipeline_params, ARRAY_SIZE(pipeline_params), NULL,
	                         reply))
		return;
	v = api_query_get(&q, "runs");
	if (v) {
		errno = 0;
		runs = strtol(v, &end, 10);
		if (errno || end == v || *end || !isdigit((unsigned char)v[0]) || runs < 1 ||
		    runs > RUNS_MAX) {
			api_read_bad_param(reply, "runs", "expected an integer from 1 to 100");
			return;
		}
	}
	if (pipeline_query(r, runs, &pr, reply))
		goto out;
	reply->status = 200;
	fmt_time(time_now_us(), now, sizeof(now));
	dbuf_addf(&reply->body, "{\"generated_at\":\"%s\",", now);
	kafka_json(r, pr.offsets, &reply->body);
	dbuf_addstr(&reply->body, ",\"lake\":{\"hours\":[");
	rows_json(&reply->body, pr.lake, lake_cols, lake_str, ARRAY_SIZE(lake_cols));
	dbuf_addstr(&reply->body, "]},\"flow_runs\":[");
	rows_json(&reply->body, pr.runs, run_cols, run_str, ARRAY_SIZE(run_cols));
	dbuf_addstr(&reply->body, "],\"freshness\":{");
	age_json(&reply->body, "lake_age_s", pr.fresh, 1);
	age_json(&reply->body, "chart_age_s", pr.fresh, 2);
	age_json(&reply->body, "scheduler_age_s", pr.fresh, 3);
	dbuf_addstr(&reply->body, "}}");
	reply->cache_control = "no-cache";
out:
	PQclear(pr.offsets);
	PQclear(pr.lake);
	PQclear(pr.runs);
	PQclear(pr.fresh);
}

/* ---- the document, and dispatch ---- */

static void handle_openapi(struct api_read *r, struct api_request *req, struct api_reply *reply)
{
	struct api_query q;

	if (api_read_check_query(req, &q, NULL, 0, NULL, reply))
		return;
	reply->status = 200;
	dbuf_add(&reply->body, r->openapi, r->openapi_len);
	reply->cache_control = "public, max-age=60";
	api_reply_etag(req, reply, text_fnv1a(r->openapi, r->openapi_len, TEXT_FNV_SEED));
}

int api_read_new(const struct ts_config *cfg, int threads, struct api_read **out,
                 struct ts_err *err)
{
	struct api_read *r = calloc(1, sizeof(*r));
	struct dbuf doc;
	int rc;

	if (!r)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	r->cfg = cfg;
	dbuf_init(&doc, 1u << 20);
	rc = api_openapi_build(&doc, err);
	r->openapi = dbuf_detach(&doc, &r->openapi_len);
	rc = rc ? rc : api_pool_new(cfg, threads, &r->pool, err);
	r->cache = api_cache_new(); /* none is slower, not wrong */
	if (rc) {
		api_read_free(r);
		return rc;
	}
	if (api_lag_new(cfg, &r->lag, err))
		log_warn("read api: no Kafka lag in /api/pipeline", "reason=\"%s\"", err->msg);
	if (api_pool_warm(r->pool, err))
		log_warn("read api: PostgreSQL not reachable yet; reads answer 503 until it is",
		         "reason=\"%s\"", err->msg);
	*out = r;
	return 0;
}

void api_read_free(struct api_read *r)
{
	if (!r)
		return;
	api_lag_free(r->lag);
	api_cache_free(r->cache);
	api_pool_free(r->pool);
	free(r->openapi);
	free(r);
}

void api_read_handle(struct api_read *r, enum api_read_ep ep, struct api_request *req,
                     struct api_reply *reply)
{
	switch (ep) {
	case READ_REGIONS:
		handle_regions(r, req, reply);
		break;
	case READ_TOP:
		handle_top(r, req, reply);
		break;
	case READ_TOP_CSV:
		handle_top_csv(r, req, reply);
		break;
	case READ_TREND:
		handle_trend(r, req, reply);
		break;
	case READ_PIPELINE:
		handle_pipeline(r, req, reply);
		break;
	case READ_OPENAPI:
		handle_openapi(r, req, reply);
		break;
	default:
		BUG("read endpoint %d has no handler", ep);
	}
	if (reply->status == 200 && reply->body.len + 1 >= reply->body.max)
		api_reply_error(reply, 500, "internal error", "reply too large");
}
