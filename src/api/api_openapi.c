/*
 * The OpenAPI document: one description per route, joined with the route
 * table by api_openapi_build. Schemas are JSON text, parsed once.
 */
#include "base/common.h"
#include "api/api_openapi.h"
#include "api/api_internal.h"

#include <jansson.h>

#define TIME_FORMATS "YYYY-MM-DD, YYYY-MM-DDTHH, or an RFC 3339 date-time with offset (UTC periods)"

static const char components[] =
    "{\"schemas\":{"
    "\"Error\":{\"type\":\"object\",\"required\":[\"error\"],\"properties\":{"
    "\"error\":{\"type\":\"string\"},\"param\":{\"type\":\"string\"},"
    "\"field\":{\"type\":\"string\"},\"rule\":{\"type\":\"string\"},"
    "\"detail\":{\"type\":\"string\"}}},"
    "\"Region\":{\"type\":\"object\",\"properties\":{\"code\":{\"type\":\"string\"},"
    "\"name\":{\"type\":\"string\"}}},"
    "\"Entry\":{\"type\":\"object\",\"properties\":{"
    "\"rank\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10},"
    "\"song_id\":{\"type\":\"string\"},\"title\":{\"type\":[\"string\",\"null\"]},"
    "\"artist\":{\"type\":[\"string\",\"null\"]},\"genre\":{\"type\":[\"string\",\"null\"]},"
    "\"plays\":{\"type\":\"integer\"},"
    "\"previous_rank\":{\"type\":[\"integer\",\"null\"],\"description\":\"rank in the previous "
    "period, null when not on that chart\"},"
    "\"movement\":{\"type\":[\"integer\",\"null\"],\"description\":\"previous_rank - rank: "
    "positive is up\"},"
    "\"peak_rank\":{\"type\":\"integer\"},\"periods_on_chart\":{\"type\":\"integer\"},"
    "\"entry\":{\"type\":[\"string\",\"null\"],\"enum\":[\"NEW\",\"RE-ENTRY\",null]}}},"
    "\"Chart\":{\"type\":\"object\",\"properties\":{"
    "\"region\":{\"type\":\"string\"},\"period\":{\"type\":\"string\",\"enum\":[\"hour\",\"day\"]},"
    "\"start\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"end\":{\"type\":\"string\",\"format\":\"date-time\"},"
    "\"live\":{\"type\":\"boolean\",\"description\":\"the period contains now\"},"
    "\"final\":{\"type\":\"boolean\",\"description\":\"the flows closed the period\"},"
    "\"updated_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"
    "\"entries\":{\"type\":\"array\",\"maxItems\":10,\"items\":{\"$ref\":\"#/components/schemas/"
    "Entry\"}}}},"
    "\"Trend\":{\"type\":\"object\",\"properties\":{\"region\":{\"type\":\"string\"},"
    "\"from\":{\"type\":\"string\"},\"to\":{\"type\":\"string\"},"
    "\"hours\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"format\":\"date-time\"}},"
    "\"series\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"song_id\":{\"type\":\"string\"},\"title\":{\"type\":[\"string\",\"null\"]},"
    "\"artist\":{\"type\":[\"string\",\"null\"]},"
    "\"plays\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"description\":\"one per "
    "hour of hours\"}}}}}},"
    "\"Pipeline\":{\"type\":\"object\",\"properties\":{"
    "\"generated_at\":{\"type\":\"string\"},"
    "\"kafka\":{\"type\":\"object\",\"properties\":{\"topic\":{\"type\":\"string\"},"
    "\"ok\":{\"type\":\"boolean\"},\"error\":{\"type\":[\"string\",\"null\"]},"
    "\"total_lag\":{\"type\":[\"integer\",\"null\"]},"
    "\"partitions\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"partition\":{\"type\":\"integer\"},\"high_watermark\":{\"type\":\"integer\"},"
    "\"next_offset\":{\"type\":[\"integer\",\"null\"]},"
    "\"committed_at\":{\"type\":[\"string\",\"null\"]},"
    "\"watermark\":{\"type\":[\"string\",\"null\"]},\"lag\":{\"type\":\"integer\"}}}}}},"
    "\"lake\":{\"type\":\"object\",\"properties\":{\"hours\":{\"type\":\"array\",\"items\":{"
    "\"type\":\"object\",\"properties\":{\"region\":{\"type\":\"string\"},"
    "\"date\":{\"type\":\"string\"},\"hour\":{\"type\":\"integer\"},"
    "\"rows\":{\"type\":\"integer\"},\"files\":{\"type\":\"integer\"},"
    "\"closed\":{\"type\":\"boolean\"},\"late_rows\":{\"type\":\"integer\"},"
    "\"updated_at\":{\"type\":\"string\"}}}}}},"
    "\"flow_runs\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"
    "\"id\":{\"type\":\"integer\"},\"flow\":{\"type\":\"string\"},\"scope\":{\"type\":\"string\"},"
    "\"trigger\":{\"type\":\"string\"},\"state\":{\"type\":\"string\",\"enum\":[\"running\","
    "\"succeeded\",\"failed\",\"abandoned\"]},\"attempt\":{\"type\":\"integer\"},"
    "\"owner\":{\"type\":\"string\"},\"started_at\":{\"type\":\"string\"},"
    "\"finished_at\":{\"type\":[\"string\",\"null\"]},\"rows_in\":{\"type\":[\"integer\","
    "\"null\"]},\"rows_out\":{\"type\":[\"integer\",\"null\"]},"
    "\"error\":{\"type\":[\"string\",\"null\"]}}}},"
    "\"freshness\":{\"type\":\"object\",\"properties\":{"
    "\"lake_age_s\":{\"type\":[\"integer\",\"null\"]},"
    "\"chart_age_s\":{\"type\":[\"integer\",\"null\"]},"
    "\"scheduler_age_s\":{\"type\":[\"integer\",\"null\"]}}}}},"
    "\"LedgerDiff\":{\"type\":\"object\",\"properties\":{"
    "\"region\":{\"type\":[\"string\",\"null\"]},\"hour\":{\"type\":[\"string\",\"null\"]},"
    "\"stage\":{\"type\":\"string\",\"enum\":[\"kafka\",\"raw\",\"enriched\",\"hourly\","
    "\"daily\"]},\"kind\":{\"type\":\"string\"},\"class\":{\"type\":\"string\",\"enum\":["
    "\"in_flight\",\"settled\",\"mismatch\"]},\"explained\":{\"type\":\"boolean\"},"
    "\"plays\":{\"type\":\"integer\"},\"detail\":{\"type\":\"string\"}}},"
    "\"Ledger\":{\"type\":\"object\",\"description\":\"docs/ledger.md; the same as "
    "topsongs ledger --json\",\"properties\":{"
    "\"version\":{\"type\":\"integer\"},\"from\":{\"type\":\"string\"},"
    "\"to\":{\"type\":\"string\"},\"region\":{\"type\":[\"string\",\"null\"]},"
    "\"generated_at\":{\"type\":\"string\"},"
    "\"status\":{\"type\":\"string\",\"enum\":[\"balanced\",\"in_flight\",\"mismatch\"]},"
    "\"balanced\":{\"type\":\"boolean\",\"description\":\"nothing in flight and no "
    "mismatch\"},\"lake_checked\":{\"type\":\"boolean\"},"
    "\"counts\":{\"type\":\"object\"},\"totals\":{\"type\":\"object\"},"
    "\"kafka\":{\"type\":\"object\"},\"api\":{\"type\":\"object\"},"
    "\"charts\":{\"type\":\"object\"},"
    "\"differences\":{\"type\":\"array\",\"items\":"
    "{\"$ref\":\"#/components/schemas/"
    "LedgerDiff\"}},\"hours\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}}}}"
    "}}";

#define P_REGION                                                                                   \
	"{\"name\":\"region\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"default\":"       \
	"\"ALL\"},"                                                                                \
	"\"example\":\"EU\",\"description\":\"ALL or a configured region code\"}"
#define ERR_400                                                                                    \
	"\"400\":{\"description\":\"a bad parameter\",\"content\":{\"application/json\":"          \
	"{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}}"
#define ERR_503                                                                                    \
	"\"503\":{\"description\":\"PostgreSQL unavailable (Retry-After)\",\"content\":{"          \
	"\"application/json\":{\"schema\":{\"$ref\":\"#/components/schemas/Error\"}}}}"
#define OK_JSON(schema)                                                                            \
	"\"200\":{\"description\":\"OK (ETag; 304 on If-None-Match)\",\"content\":{"               \
	"\"application/json\":{\"schema\":" schema "}}}"
#define REF(name) "{\"$ref\":\"#/components/schemas/" name "\"}"
#define CHART_PARAMS                                                                               \
	"[" P_REGION ",{\"name\":\"period\",\"in\":\"query\",\"schema\":{\"type\":\"string\","     \
	"\"enum\":[\"hour\",\"day\"],\"default\":\"hour\"},\"example\":\"hour\"},"                 \
	"{\"name\":\"at\",\"in\":\"query\",\"schema\":{\"type\":\"string\",\"default\":\"now\"},"  \
	"\"example\":\"2026-11-25T13\",\"description\":\"now, or " TIME_FORMATS "\"}]"

struct doc {
	const char *method, *path, *summary, *params, *responses, *body;
};

static const struct doc docs[] = {
    {"POST", "/play", "Report one play (the event contract of docs/api.md)", NULL,
     "{\"202\":{\"description\":\"acknowledged by Kafka\"}," ERR_400
     ",\"413\":{\"description\":\"body too large\"},\"415\":{\"description\":\"not JSON\"},"
     "\"503\":{\"description\":\"Kafka unavailable or overloaded (Retry-After)\"}}",
     "{\"required\":true,\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\"}}}}"},
    {"POST", "/plays", "Report a batch of plays (NDJSON or a JSON array)", NULL,
     "{\"202\":{\"description\":\"all accepted\"},\"207\":{\"description\":\"some "
     "accepted\"}," ERR_400 ",\"413\":{\"description\":\"too many plays or bytes\"},"
     "\"503\":{\"description\":\"none acknowledged (Retry-After)\"}}",
     "{\"required\":true,\"content\":{\"application/x-ndjson\":{\"schema\":{\"type\":"
     "\"string\"}},\"application/json\":{\"schema\":{\"type\":\"array\",\"items\":{\"type\":"
     "\"object\"}}}}}"},
    {"GET", "/healthz", "Liveness", "[]", "{\"200\":{\"description\":\"serving\"}}", NULL},
    {"GET", "/readyz", "Readiness (a Kafka broker is reachable)", "[]",
     "{\"200\":{\"description\":\"ready\"},\"503\":{\"description\":\"not ready\"}}", NULL},
    {"GET", "/metrics", "Prometheus metrics", "[]",
     "{\"200\":{\"description\":\"text format 0.0.4\",\"content\":{\"text/plain\":{}}}}", NULL},
    {"GET", "/api/regions", "The chart regions: ALL (global) and the configured codes", "[]",
     "{" OK_JSON("{\"type\":\"object\",\"properties\":{\"regions\":{\"type\":\"array\","
                 "\"items\":" REF("Region") "}}}") "}",
     NULL},
    {"GET", "/api/top", "The top 10 of one region for one hour or day", CHART_PARAMS,
     "{" OK_JSON(REF("Chart")) "," ERR_400 "," ERR_503 "}", NULL},
    {"GET", "/api/top.csv", "The same chart as CSV (a download)", CHART_PARAMS,
     "{\"200\":{\"description\":\"CSV with a header row\",\"content\":{\"text/csv\":{}}}," ERR_400
     "," ERR_503 "}",
     NULL},
    {"GET", "/api/trend", "Plays per hour of up to ten songs over a range (at most 31 days)",
     "[" P_REGION ",{\"name\":\"song\",\"in\":\"query\",\"required\":true,\"style\":\"form\","
     "\"explode\":true,\"schema\":{\"type\":\"array\",\"maxItems\":10,\"items\":{\"type\":"
     "\"string\",\"minLength\":1,\"maxLength\":64}},\"example\":[\"s1\"]},"
     "{\"name\":\"from\",\"in\":\"query\",\"schema\":{\"type\":\"string\"},\"description\":\""
     "default: 24 hours before to; " TIME_FORMATS "\",\"example\":\"2026-11-25\"},"
     "{\"name\":\"to\",\"in\":\"query\",\"schema\":{\"type\":\"string\"},\"description\":\""
     "exclusive, rounded up to the hour; default: the end of the current hour\","
     "\"example\":\"2026-11-26\"}]",
     "{" OK_JSON(REF("Trend")) "," ERR_400 "," ERR_503 "}", NULL},
    {"GET", "/api/pipeline", "Kafka lag, the newest lake hours, recent flow runs, freshness",
     "[{\"name\":\"runs\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,"
     "\"maximum\":100,\"default\":20},\"example\":5}]",
     "{" OK_JSON(REF("Pipeline")) "," ERR_400 "," ERR_503 "}", NULL},
    {"GET", "/api/ledger",
     "The end-to-end ledger: plays at every stage per region and hour, differences explained",
     "[" P_REGION ",{\"name\":\"from\",\"in\":\"query\",\"schema\":{\"type\":\"string\"},"
     "\"description\":\"default: 24 hours before to; " TIME_FORMATS
     "\",\"example\":\"2026-11-25\"},"
     "{\"name\":\"to\",\"in\":\"query\",\"schema\":{\"type\":\"string\"},\"description\":\""
     "exclusive, rounded up to the hour, at most 31 days after from; default: the end of the "
     "current hour\",\"example\":\"2026-11-26\"},"
     "{\"name\":\"lake\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"enum\":[0,1],"
     "\"default\":1},\"description\":\"1: count the lake's rows from its Parquet footers; 0: "
     "trust the bookkeeping\",\"example\":1}]",
     "{\"200\":{\"description\":\"OK\",\"content\":{\"application/json\":{\"schema\":" REF(
         "Ledger") "}}}," ERR_400 ",\"503\":{\"description\":\"PostgreSQL unavailable, or another "
                   "ledger running "
                   "(Retry-After)\",\"content\":{\"application/json\":{\"schema\":" REF(
                       "Error") "}}}}",
     NULL},
    {"GET", "/api/openapi.json", "This document", "[]",
     "{\"200\":{\"description\":\"OpenAPI 3.1\",\"content\":{\"application/json\":{}}}}", NULL},
};

static const struct doc *doc_find(const char *method, const char *path)
{
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++)
		if (!strcmp(docs[i].method, method) && !strcmp(docs[i].path, path))
			return &docs[i];
	return NULL;
}

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		BUG("openapi fragment: %s: %.60s", e.text, text);
	return j;
}

static json_t *operation(const char *method, const char *path)
{
	const struct doc *d = doc_find(method, path);
	json_t *op = json_object();

	if (!d) {
		json_object_set_new(op, "summary", json_string("(undocumented)"));
		json_object_set_new(op, "x-undocumented", json_true());
		json_object_set_new(op, "responses",
		                    parse("{\"default\":{\"description\":\"?\"}}"));
		return op;
	}
	json_object_set_new(op, "summary", json_string(d->summary));
	if (d->params)
		json_object_set_new(op, "parameters", parse(d->params));
	if (d->body)
		json_object_set_new(op, "requestBody", parse(d->body));
	json_object_set_new(op, "responses", parse(d->responses));
	return op;
}

int api_openapi_build(struct dbuf *out, struct ts_err *err)
{
	json_t *doc = json_object(), *paths = json_object();
	char *text;
	int rc;

	json_object_set_new(doc, "openapi", json_string("3.1.0"));
	json_object_set_new(doc, "info",
	                    parse("{\"title\":\"Top Songs\",\"version\":\"" TOPSONGS_VERSION "\","
	                          "\"description\":\"Ingest and read API of topsongs api "
	                          "(docs/api.md). Any other GET path serves the dashboard.\"}"));
	for (size_t i = 0; i < api_route_count(); i++) {
		const char *path, *method;
		char lower[8];
		json_t *item;

		api_route_get(i, &path, &method);
		for (size_t k = 0; k < sizeof(lower); k++) {
			lower[k] = (char)(method[k] >= 'A' && method[k] <= 'Z' ? method[k] + 32
			                                                       : method[k]);
			if (!method[k])
				break;
		}
		lower[sizeof(lower) - 1] = '\0';
		item = json_object_get(paths, path);
		if (!item) {
			item = json_object();
			json_object_set_new(paths, path, item);
		}
		json_object_set_new(item, lower, operation(method, path));
	}
	json_object_set_new(doc, "paths", paths);
	json_object_set_new(doc, "components", parse(components));
	text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	rc = dbuf_addstr(out, text);
	free(text);
	return rc ? ts_err_set(err, rc, "openapi document too large") : 0;
}
