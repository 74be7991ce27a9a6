/*
 * Table and JSON renderings of check results; see check_report.h.
 */
#include "base/common.h"
#include "base/error.h"
#include "check/check.h"
#include "check/check_report.h"

#include <jansson.h>
#include <math.h>

static double latency_ms(const struct check_result *r)
{
	return round((double)r->latency_us / 100.0) / 10.0;
}

/* json_object_set_new that remembers a failure in *bad. */
static void put(json_t *obj, const char *key, json_t *val, int *bad)
{
	if (!val || json_object_set_new(obj, key, val))
		*bad = 1;
}

static json_t *service_json(const struct check_result *r)
{
	json_t *o = json_object();
	int bad = !o;

	if (bad)
		return NULL;
	put(o, "name", json_string(r->name), &bad);
	put(o, "required", json_boolean(r->required), &bad);
	put(o, "status", json_string(check_result_status_name(r->status)), &bad);
	put(o, "latency_ms", json_real(latency_ms(r)), &bad);
	put(o, "target", json_string(r->target), &bad);
	put(o, "reason", json_string(r->reason), &bad);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *report_json(const struct check_result *results, size_t n)
{
	json_t *root = json_object(), *list = json_array();
	int bad = !root || !list;

	for (size_t i = 0; !bad && i < n; i++)
		if (json_array_append_new(list, service_json(&results[i])))
			bad = 1;
	if (!bad) {
		put(root, "ok", json_boolean(check_all_required_ok(results, n)), &bad);
		put(root, "services", list, &bad);
		list = NULL;
	}
	json_decref(list);
	if (bad) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int check_report_json(const struct check_result *results, size_t n, struct dbuf *out)
{
	json_t *root = report_json(results, n);
	char *text;
	int rc;

	if (!root)
		return TS_ENOMEM;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (!text)
		return TS_ENOMEM;
	rc = dbuf_addstr(out, text);
	if (!rc)
		rc = dbuf_addc(out, '\n');
	free(text);
	return rc;
}

/* Display width of a UTF-8 string, counting code points. */
static int width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static int pad(struct dbuf *out, const char *s, int w)
{
	int rc = dbuf_addstr(out, s);

	for (int i = width(s); !rc && i < w; i++)
		rc = dbuf_addc(out, ' ');
	return rc;
}

static int table_row(struct dbuf *out, const char *cells[6], const int w[6])
{
	int rc = 0;

	for (int c = 0; !rc && c < 5; c++) {
		rc = pad(out, cells[c], w[c] + 2);
	}
	if (!rc)
		rc = dbuf_addstr(out, cells[5]);
	return rc ? rc : dbuf_addc(out, '\n');
}

static void cells_of(const struct check_result *r, char *lat, size_t size, const char *cells[6])
{
	snprintf(lat, size, "%.1f ms", latency_ms(r));
	cells[0] = r->name;
	cells[1] = r->required ? "yes" : "no";
	cells[2] = check_result_status_name(r->status);
	cells[3] = lat;
	cells[4] = r->target;
	cells[5] = r->reason;
}

static int summary(const struct check_result *results, size_t n, struct dbuf *out)
{
	int rc = dbuf_addstr(out, check_all_required_ok(results, n)
	                              ? "\nok: every required service is ok\n"
	                              : "\nFAILED: required service(s) not ok:");

	for (size_t i = 0; !rc && i < n && !check_all_required_ok(results, n); i++)
		if (results[i].required && results[i].status != CHECK_OK)
			rc = dbuf_addf(out, " %s", results[i].name);
	if (!rc && !check_all_required_ok(results, n))
		rc = dbuf_addc(out, '\n');
	return rc;
}

int check_report_table(const struct check_result *results, size_t n, struct dbuf *out)
{
	const char *head[6] = {"SERVICE", "REQUIRED", "STATUS", "LATENCY", "TARGET", "REASON"};
	const char *cells[6];
	char lat[32];
	int w[6], rc;

	for (int c = 0; c < 6; c++)
		w[c] = width(head[c]);
	for (size_t i = 0; i < n; i++) {
		cells_of(&results[i], lat, sizeof(lat), cells);
		for (int c = 0; c < 6; c++)
			w[c] = width(cells[c]) > w[c] ? width(cells[c]) : w[c];
	}
	rc = table_row(out, head, w);
	for (size_t i = 0; !rc && i < n; i++) {
		cells_of(&results[i], lat, sizeof(lat), cells);
		rc = table_row(out, cells, w);
	}
	return rc ? rc : summary(results, n, out);
}
