/*
 * The configuration table and its loaders; see config.h.
 */
#include "base/common.h"
#include "base/config.h"
#include "base/log.h"

#include <ctype.h>
#include <errno.h>

static int check_log_level(const char *v, const char **why)
{
	enum log_level l;

	*why = "expected debug, info, warn, error or off";
	return log_level_parse(v, &l);
}

static int check_log_format(const char *v, const char **why)
{
	enum log_format f;

	*why = "expected auto, text or json";
	return log_format_parse(v, &f);
}

static int check_host_port(const char *v, const char **why)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	*why = "expected HOST:PORT";
	if (!colon || colon == v)
		return TS_EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
		return TS_EINVAL;
	return 0;
}

static int check_compression(const char *v, const char **why)
{
	static const char *const ok[] = {"none", "gzip", "snappy", "lz4", "zstd"};

	*why = "expected none, gzip, snappy, lz4 or zstd";
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (!strcmp(v, ok[i]))
			return 0;
	return TS_EINVAL;
}

static int check_regions(const char *v, const char **why)
{
	int n = 0;

	*why = "expected region codes of 2 to 8 letters A-Z, separated by spaces or commas";
	for (const char *p = v; *p;) {
		size_t len = 0;

		while (*p == ' ' || *p == ',')
			p++;
		while (p[len] >= 'A' && p[len] <= 'Z')
			len++;
		if (!len && !*p)
			break;
		if (len < 2 || len > 8 || (p[len] && p[len] != ' ' && p[len] != ','))
			return TS_EINVAL;
		if (len == 3 && !memcmp(p, "ALL", 3)) {
			*why = "ALL is reserved for the global chart";
			return TS_EINVAL;
		}
		n++;
		p += len;
	}
	return n ? 0 : TS_EINVAL;
}

static int check_required(const char *v, const char **why)
{
	static const char *const ok[] = {"postgres", "kafka", "lake", "api", "scheduler"};

	*why = "expected a comma-separated list of postgres, kafka, lake, api, scheduler";
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ",");
		int found = 0;

		for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
			if (len == strlen(ok[i]) && !memcmp(p, ok[i], len))
				found = 1;
		if (!found && len)
			return TS_EINVAL;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int check_s3_endpoint(const char *v, const char **why)
{
	*why = "expected http://HOST[:PORT] or https://HOST[:PORT], or empty for AWS";
	if (!*v)
		return 0;
	if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
		return TS_EINVAL;
	v += v[4] == 's' ? 8 : 7;
	return *v && !strpbrk(v, "/?#@ ") ? 0 : TS_EINVAL;
}

static int check_catch_up(const char *v, const char **why)
{
	*why = "expected skip, all or none";
	return strcmp(v, "skip") && strcmp(v, "all") && strcmp(v, "none") ? TS_EINVAL : 0;
}

#define STR(field) CONFIG_STR, offsetof(struct ts_config, field)
#define INT(field) CONFIG_INT, offsetof(struct ts_config, field)

const struct config_key config_keys[] = {
    {"log.level", STR(log_level), "info", 0, 0, 0, check_log_level,
     "Least severe log level written: debug, info, warn, error, off."},
    {"log.format", STR(log_format), "auto", 0, 0, 0, check_log_format,
     "Log line format: text, json, or auto (text on a terminal, JSON otherwise)."},
    {"api.listen", STR(api_listen), "127.0.0.1:8080", 0, 0, 0, check_host_port,
     "Address the api listens on, HOST:PORT."},
    {"api.threads", INT(api_threads), "0", 0, 256, 0, NULL,
     "HTTP worker threads; 0 means one per CPU."},
    {"api.max-body", INT(api_max_body), "8388608", 1024, 268435456, 0, NULL,
     "Largest request body accepted, in bytes; larger ones get 413."},
    {"api.max-batch", INT(api_max_batch), "10000", 1, 1000000, 0, NULL,
     "Most events in one POST /plays; more get 413."},
    {"api.max-connections", INT(api_max_connections), "4096", 16, 1000000, 0, NULL,
     "Most concurrent client connections."},
    {"api.idle-timeout-s", INT(api_idle_timeout_s), "30", 1, 3600, 0, NULL,
     "A connection idle this long is closed, and so is one that has not sent a whole "
     "request this long after opening or after its previous response (slow clients)."},
    {"api.max-pending", INT(api_max_pending), "200000", 1, 100000000, 0, NULL,
     "Most events awaiting a broker acknowledgement; past it requests get 503."},
    {"api.max-inflight", INT(api_max_inflight), "1024", 1, 1000000, 0, NULL,
     "Most POST /play and /plays requests being handled at once (body received, not yet "
     "answered); past it requests get 503 with Retry-After at once (load shedding)."},
    {"api.max-buffered", INT(api_max_buffered), "268435456", 65536, 17179869184, 0, NULL,
     "Most request-body bytes buffered across all connections; past it requests get 503."},
    {"api.web-dir", STR(api_web_dir), "web/dist", 0, 0, 0, NULL,
     "Folder of the built dashboard the api serves at / (index.html and assets); "
     "empty = no page."},
    {"api.journal-dir", STR(api_journal_dir), "", 0, 0, 0, NULL,
     "Folder of the api's journal of 202s, so that the ledger's accepted counts survive a "
     "SIGKILL of the api (docs/ledger.md); apis sharing it recover each other's. Empty = "
     "none: a SIGKILL loses the counts of the last second."},
    {"api.drain-timeout-ms", INT(api_drain_timeout_ms), "10000", 0, 600000, 0, NULL,
     "On SIGTERM, how long to wait for in-flight requests and the producer."},
    {"kafka.brokers", STR(kafka_brokers), "127.0.0.1:19092", 0, 0, 0, NULL,
     "Kafka bootstrap servers, comma-separated HOST:PORT."},
    {"kafka.topic", STR(kafka_topic), "plays", 0, 0, 0, NULL, "Topic the plays go to."},
    {"kafka.compression", STR(kafka_compression), "lz4", 0, 0, 0, check_compression,
     "Producer compression: none, gzip, snappy, lz4, zstd."},
    {"kafka.linger-ms", INT(kafka_linger_ms), "2", 0, 1000, 0, NULL,
     "How long the producer waits to fill a batch."},
    {"kafka.produce-timeout-ms", INT(kafka_produce_timeout_ms), "5000", 100, 300000, 0, NULL,
     "Longest wait for a broker acknowledgement before answering 503."},
    {"kafka.queue-max-messages", INT(kafka_queue_max_messages), "500000", 1000, 10000000, 0, NULL,
     "Producer queue bound in messages (memory ceiling of the api)."},
    {"kafka.security-protocol", STR(kafka_security_protocol), "plaintext", 0, 0, 0, NULL,
     "plaintext, ssl, sasl_plaintext or sasl_ssl."},
    {"kafka.sasl-mechanism", STR(kafka_sasl_mechanism), "", 0, 0, 0, NULL,
     "SASL mechanism (PLAIN, SCRAM-SHA-256, ...), empty for none."},
    {"kafka.sasl-username", STR(kafka_sasl_username), "", 0, 0, 0, NULL, "SASL user name."},
    {"kafka.sasl-password", STR(kafka_sasl_password), "", 0, 0, 1, NULL, "SASL password (secret)."},
    {"pg.url", STR(pg_url), "postgresql://topsongs@127.0.0.1:15432/topsongs", 0, 0, 1, NULL,
     "PostgreSQL connection URL or conninfo (secret: its password is never shown)."},
    {"lake.url", STR(lake_url), "var/lake", 0, 0, 0, NULL,
     "The data lake: a local folder, or s3://bucket/prefix."},
    {"ingest.group", STR(ingest_group), "topsongs-ingest", 0, 0, 0, NULL,
     "Kafka consumer group of `topsongs ingest`."},
    {"ingest.instance-id", STR(ingest_instance_id), "", 0, 0, 0, NULL,
     "Static group membership (group.instance.id): a restarted ingest with the same id "
     "gets its partitions back at once; empty for dynamic membership."},
    {"ingest.metrics-listen", STR(ingest_metrics_listen), "127.0.0.1:8081", 0, 0, 0, NULL,
     "Where ingest serves GET /metrics (IPv4:PORT, port 0 = any free one; empty = off)."},
    {"ingest.dlq-topic", STR(ingest_dlq_topic), "plays-dlq", 0, 0, 0, NULL,
     "Topic for records ingest cannot file (unparsable, invalid, too old or new)."},
    {"ingest.flush-ms", INT(ingest_flush_ms), "1000", 50, 3600000, 0, NULL,
     "Longest time a consumed record waits before its file is committed to the lake."},
    {"ingest.quiet-ms", INT(ingest_quiet_ms), "100", 0, 3600000, 0, NULL,
     "A batch whose Kafka partition is caught up and has had no record this long is committed "
     "without waiting for ingest.flush-ms: the end of a burst reaches the lake at once (the end "
     "of a backlog without this wait); 0 = off (docs/ingest.md)."},
    {"ingest.max-rows", INT(ingest_max_rows), "200000", 1, 100000000, 0, NULL,
     "Rows per Kafka partition after which a batch is committed at once."},
    {"ingest.max-bytes", INT(ingest_max_bytes), "67108864", 1024, 4294967296, 0, NULL,
     "Bytes of record values per Kafka partition after which a batch is committed."},
    {"ingest.buffer-kbytes", INT(ingest_buffer_kbytes), "49152", 64, 4194304, 0, NULL,
     "Kilobytes of record values in open batches and in sealed batches whose files are not "
     "written yet, all partitions together, past which the largest open batch is committed "
     "early (or ingest waits for the writers): it bounds ingest's memory (docs/ingest.md)."},
    {"ingest.fetch-queue-kbytes", INT(ingest_fetch_queue_kbytes), "16384", 1024, 2097151, 0, NULL,
     "Kilobytes of records librdkafka prefetches for ingest, all partitions together: more "
     "costs memory, less makes ingest wake the fetcher more often (docs/ingest.md)."},
    {"ingest.max-open-files", INT(ingest_max_open_files), "64", 1, 10000, 0, NULL,
     "Open lake partitions (region, date, hour) per Kafka partition before a commit."},
    {"ingest.max-age-s", INT(ingest_max_age_s), "2592000", 60, 315360000, 0, NULL,
     "Records with an event time older than this go to the dead-letter topic."},
    {"ingest.max-future-s", INT(ingest_max_future_s), "3600", 0, 86400, 0, NULL,
     "Records with an event time further ahead than this go to the dead-letter topic."},
    {"ingest.session-timeout-ms", INT(ingest_session_timeout_ms), "10000", 6000, 300000, 0, NULL,
     "How soon the group gives a dead ingest's partitions to the others."},
    {"ingest.lateness-s", INT(ingest_lateness_s), "300", 0, 604800, 0, NULL,
     "An hour is closed once every partition's watermark passed its end by this much."},
    {"ingest.compact-interval-s", INT(ingest_compact_interval_s), "10", 0, 86400, 0, NULL,
     "How often ingest merges the small files of closed hours; 0 = never."},
    {"ingest.compact-target-kbytes", INT(ingest_compact_target_kbytes), "131072", 1, 1048576, 0,
     NULL,
     "Compaction merges an hour's files into files of about this size: runs of files adding "
     "up to it become one file each; files this large are left as they are."},
    {"ingest.idle-timeout-s", INT(ingest_idle_timeout_s), "60", 0, 86400, 0, NULL,
     "A partition caught up and without records this long stops holding hours open: its "
     "watermark follows the clock, minus this; 0 = never."},
    {"ingest.unavailable-retry-s", INT(ingest_unavailable_retry_s), "300", 0, 86400, 0, NULL,
     "How long ingest restarts itself (backoff with jitter) while PostgreSQL or the object "
     "store is unavailable before it exits with status 3; 0 = exit at once."},
    {"regions", STR(regions), "NA SA EU AF AS OC", 0, 0, 0, check_regions,
     "Region codes plays may carry, separated by spaces or commas."},
    {"event.max-age-s", INT(event_max_age_s), "604800", 60, 315360000, 0, NULL,
     "Plays whose event time is older than this are rejected (400)."},
    {"event.max-future-s", INT(event_max_future_s), "300", 0, 86400, 0, NULL,
     "Plays whose event time is further ahead than this are rejected (400)."},
    {"check.timeout-ms", INT(check_timeout_ms), "3000", 100, 120000, 0, NULL,
     "Deadline of each service probe in `topsongs check`."},
    {"check.required", STR(check_required), "postgres,kafka,lake", 0, 0, 0, check_required,
     "Services `topsongs check` requires for exit status 0."},
    {"s3.endpoint", STR(s3_endpoint), "", 0, 0, 0, check_s3_endpoint,
     "S3 endpoint for s3:// lakes, http(s)://HOST[:PORT]; empty means AWS "
     "(https://s3.REGION.amazonaws.com)."},
    {"s3.region", STR(s3_region), "us-east-1", 0, 0, 0, NULL,
     "Region the S3 requests are signed for (SigV4)."},
    {"s3.access-key", STR(s3_access_key), "", 0, 0, 0, NULL, "S3 access key id."},
    {"s3.secret-key", STR(s3_secret_key), "", 0, 0, 1, NULL, "S3 secret access key (secret)."},
    {"s3.path-style", INT(s3_path_style), "1", 0, 1, 0, NULL,
     "1: http://endpoint/bucket/key (MinIO); 0: http://bucket.endpoint/key (AWS)."},
    {"s3.timeout-ms", INT(s3_timeout_ms), "30000", 100, 3600000, 0, NULL,
     "Deadline of one S3 request attempt, connection included."},
    {"s3.max-retries", INT(s3_max_retries), "4", 0, 20, 0, NULL,
     "Retries of a failed S3 request (connection failure, 5xx, 429, SlowDown), "
     "with exponential backoff and jitter."},
    {"s3.part-size", INT(s3_part_size), "16777216", 5242880, 5368709120, 0, NULL,
     "Objects larger than this go up as a multipart upload of parts this size, in bytes."},
    {"flows.aggregate-max-counts", INT(flows_aggregate_max_counts), "4194304", 1, 268435456, 0,
     NULL,
     "Per-song counts (16 bytes each) one aggregate transaction holds in memory; past it the "
     "files left wait for the next transaction of the same run."},
    {"scheduler.schedules", STR(scheduler_schedules), "", 0, 0, 0, NULL,
     "Schedules that replace the flows' defaults: FLOW=SCHEDULE pairs separated by ';', "
     "e.g. 'enrich=every 5s;aggregate=cron */5 * * * * Europe/Paris' (docs/scheduler.md)."},
    {"scheduler.instance-id", STR(scheduler_instance_id), "", 0, 0, 0, NULL,
     "Name of this scheduler in heartbeats and run owners; empty means HOST:PID."},
    {"scheduler.heartbeat-ms", INT(scheduler_heartbeat_ms), "5000", 100, 600000, 0, NULL,
     "How often the scheduler beats and renews the leases of its runs; `check` calls a "
     "scheduler stale after three intervals without a beat."},
    {"scheduler.lease-ms", INT(scheduler_lease_ms), "30000", 300, 3600000, 0, NULL,
     "Lease of a running flow run; a run not renewed for this long is abandoned and re-run."},
    {"scheduler.max-attempts", INT(scheduler_max_attempts), "5", 1, 100, 0, NULL,
     "Attempts of a scheduled run that fails with a temporary error, the first included."},
    {"scheduler.retry-base-ms", INT(scheduler_retry_base_ms), "1000", 1, 3600000, 0, NULL,
     "Backoff before retry n is random in [0, min(retry-max-ms, retry-base-ms * 2^(n-1))]."},
    {"scheduler.retry-max-ms", INT(scheduler_retry_max_ms), "60000", 1, 86400000, 0, NULL,
     "Longest backoff between two attempts."},
    {"scheduler.catch-up", STR(scheduler_catch_up), "skip", 0, 0, 0, check_catch_up,
     "Fires missed while no scheduler ran: skip (run once now), all (run once per missed "
     "fire, up to catch-up-max) or none (wait for the next fire)."},
    {"scheduler.catch-up-max", INT(scheduler_catch_up_max), "10", 1, 1000, 0, NULL,
     "Most catch-up runs of one flow with scheduler.catch-up=all."},
    {"scheduler.stop-timeout-ms", INT(scheduler_stop_timeout_ms), "30000", 0, 3600000, 0, NULL,
     "On SIGTERM, how long running flows may take to finish before they are abandoned."},
};

const size_t config_nkeys = ARRAY_SIZE(config_keys);

static char **str_slot(struct ts_config *cfg, const struct config_key *k)
{
	return (char **)((char *)cfg + k->offset);
}

static int64_t *int_slot(struct ts_config *cfg, const struct config_key *k)
{
	return (int64_t *)((char *)cfg + k->offset);
}

void config_env_name(const struct config_key *k, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "TOPSONGS_");

	for (const char *p = k->name; *p && n + 1 < size; p++)
		out[n++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
	out[n < size ? n : size - 1] = '\0';
}

void config_flag_name(const struct config_key *k, char *out, size_t size)
{
	size_t n = 0;

	for (const char *p = k->name; *p && n + 1 < size; p++)
		out[n++] = *p == '.' ? '-' : *p;
	out[n] = '\0';
}

static const struct config_key *find_key(const char *name)
{
	char alt[128];

	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];

		if (!strcmp(name, k->name))
			return k;
		config_flag_name(k, alt, sizeof(alt));
		if (!strcmp(name, alt))
			return k;
		config_env_name(k, alt, sizeof(alt));
		if (!strcmp(name, alt))
			return k;
	}
	return NULL;
}

const struct config_key *config_find_flag(const char *flag)
{
	char alt[128];

	for (size_t i = 0; i < config_nkeys; i++) {
		config_flag_name(&config_keys[i], alt, sizeof(alt));
		if (!strcmp(flag, alt))
			return &config_keys[i];
	}
	return NULL;
}

static int set_key(struct ts_config *cfg, const struct config_key *k, const char *value,
                   const char *origin, struct ts_err *err)
{
	const char *why = "";
	char *end, *copy;
	int64_t v;

	if (k->type == CONFIG_INT) {
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno || end == value || *end)
			return ts_err_set(err, TS_EINVAL, "%s: %s: '%s' is not an integer", origin,
			                  k->name, value);
		if (v < k->min || v > k->max)
			return ts_err_set(
			    err, TS_EINVAL, "%s: %s: %lld is out of range [%lld, %lld]", origin,
			    k->name, (long long)v, (long long)k->min, (long long)k->max);
		*int_slot(cfg, k) = v;
		return 0;
	}
	if (k->validate && k->validate(value, &why))
		return ts_err_set(err, TS_EINVAL, "%s: %s: bad value '%s': %s", origin, k->name,
		                  k->secret ? "<redacted>" : value, why);
	copy = strdup(value);
	if (!copy)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	free(*str_slot(cfg, k));
	*str_slot(cfg, k) = copy;
	return 0;
}

int config_set(struct ts_config *cfg, const char *name, const char *value, const char *origin,
               struct ts_err *err)
{
	const struct config_key *k = find_key(name);

	if (!k)
		return ts_err_set(err, TS_EINVAL, "%s: unknown configuration key '%s'", origin,
		                  name);
	return set_key(cfg, k, value, origin, err);
}

int config_init(struct ts_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < config_nkeys; i++)
		if (set_key(cfg, &config_keys[i], config_keys[i].def, "default", NULL))
			BUG("default of %s does not pass its own checks", config_keys[i].name);
	return 0;
}

void config_release(struct ts_config *cfg)
{
	for (size_t i = 0; i < config_nkeys; i++) {
		if (config_keys[i].type == CONFIG_STR) {
			free(*str_slot(cfg, &config_keys[i]));
			*str_slot(cfg, &config_keys[i]) = NULL;
		}
	}
}

/* Strips blanks, an optional "export ", and matching quotes, in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* An upper-case name without our prefix belongs to another tool reading the
 * same .env (docker compose's POSTGRES_PASSWORD, say): not ours to judge.
 * Our own names (TOPSONGS_..., pg.url) are still checked, so typos fail. */
static int foreign_name(const char *key)
{
	if (!strncmp(key, "TOPSONGS_", 9) || !*key)
		return 0;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return 1;
}

static int env_line(struct ts_config *cfg, char *line, const char *origin, struct ts_err *err)
{
	char *eq, *key, *val;
	size_t vlen;

	line = trim(line);
	if (!*line || *line == '#')
		return 0;
	if (!strncmp(line, "export ", 7))
		line = trim(line + 7);
	eq = strchr(line, '=');
	if (!eq)
		return ts_err_set(err, TS_EINVAL, "%s: expected KEY=VALUE", origin);
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (foreign_name(key))
		return 0;
	vlen = strlen(val);
	if (vlen >= 2 && (val[0] == '"' || val[0] == '\'') && val[vlen - 1] == val[0]) {
		val[vlen - 1] = '\0';
		val++;
	}
	return config_set(cfg, key, val, origin, err);
}

int config_load_stream(struct ts_config *cfg, FILE *f, const char *name, struct ts_err *err)
{
	char line[4096], origin[600];
	int rc = 0, lineno = 0;

	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%d", name, lineno);
		if (!strchr(line, '\n') && !feof(f))
			rc = ts_err_set(err, TS_EINVAL, "%s: line too long", origin);
		else if (strlen(line) != strcspn(line, "\n") + (strchr(line, '\n') ? 1 : 0))
			rc = ts_err_set(err, TS_EINVAL, "%s: NUL byte in line", origin);
		else
			rc = env_line(cfg, line, origin, err);
	}
	return rc;
}

static int load_env_file(struct ts_config *cfg, const char *path, int must_exist,
                         struct ts_err *err)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		return ts_err_set(err, TS_EIO, "%s: %s", path, strerror(errno));
	}
	rc = config_load_stream(cfg, f, path, err);
	fclose(f);
	return rc;
}

int config_load(struct ts_config *cfg, const char *path, char *const *envp, struct ts_err *err)
{
	int rc = load_env_file(cfg, path ? path : ".env", path != NULL, err);

	for (char *const *e = envp; !rc && e && *e; e++) {
		char name[128];
		const char *eq = strchr(*e, '=');
		size_t len;

		if (strncmp(*e, "TOPSONGS_", 9) || !eq)
			continue;
		len = (size_t)(eq - *e);
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, *e, len);
		name[len] = '\0';
		/* Not configuration keys: the .env path, and the binary path
		 * that scripts and tests pass around. */
		if (!strcmp(name, "TOPSONGS_ENV_FILE") || !strcmp(name, "TOPSONGS_BIN"))
			continue;
		rc = config_set(cfg, name, eq + 1, "environment", err);
	}
	return rc;
}

/* Copies in[0..n) to out at *o, within size. */
static void put(char *out, size_t size, size_t *o, const char *in, size_t n)
{
	while (n-- && *o + 1 < size)
		out[(*o)++] = *in++;
	out[*o < size ? *o : size - 1] = '\0';
}

/* Length of a conninfo or query value at p: quoted ('...' with \' escapes)
 * or up to a blank or '&'. */
static size_t value_len(const char *p)
{
	size_t n = 0;

	if (*p == '\'') {
		for (n = 1; p[n] && p[n] != '\''; n++)
			if (p[n] == '\\' && p[n + 1])
				n++;
		return p[n] ? n + 1 : n;
	}
	while (p[n] && p[n] != ' ' && p[n] != '&')
		n++;
	return n;
}

/* Hides the user-info password of a URL and every password=... value, in
 * URL queries and in key=value conninfo strings alike. */
void config_redact_url(const char *url, char *out, size_t size)
{
	const char *scheme = strstr(url, "://"), *p = url, *at, *colon;
	size_t o = 0;

	out[0] = '\0';
	if (scheme) {
		at = strchr(scheme + 3, '@');
		colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;
		if (colon) {
			put(out, size, &o, url, (size_t)(colon - url) + 1);
			put(out, size, &o, "<redacted>", 10);
			p = at;
		}
	}
	while (*p) {
		const char *pw = strstr(p, "password");
		const char *eq;

		if (!pw) {
			put(out, size, &o, p, strlen(p));
			break;
		}
		eq = pw + 8;
		while (*eq == ' ')
			eq++;
		put(out, size, &o, p, (size_t)(pw - p) + 8);
		p = pw + 8;
		if (*eq != '=')
			continue;
		eq++;
		while (*eq == ' ')
			eq++;
		put(out, size, &o, "=<redacted>", 11);
		p = eq + value_len(eq);
	}
}

int config_export_env(const struct ts_config *cfg, struct ts_err *err)
{
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];
		char env[128], num[32];
		const char *v = num;

		config_env_name(k, env, sizeof(env));
		if (k->type == CONFIG_INT)
			snprintf(num, sizeof(num), "%lld",
			         (long long)*int_slot((struct ts_config *)cfg, k));
		else
			v = *str_slot((struct ts_config *)cfg, k);
		if (setenv(env, v, 1))
			return ts_err_set(err, TS_ENOMEM, "setenv %s: %s", env, strerror(errno));
	}
	return 0;
}

int config_dump(const struct ts_config *cfg, struct dbuf *out)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];
		char red[1024];

		if (k->type == CONFIG_INT) {
			rc = dbuf_addf(out, "%s = %lld\n", k->name,
			               (long long)*int_slot((struct ts_config *)cfg, k));
			continue;
		}
		const char *v = *str_slot((struct ts_config *)cfg, k);
		if (k->secret && !strcmp(k->name, "pg.url")) {
			config_redact_url(v, red, sizeof(red));
			v = red;
		} else if (k->secret && *v) {
			v = "<redacted>";
		}
		rc = dbuf_addf(out, "%s = %s\n", k->name, v);
	}
	return rc;
}

void config_write_reference(FILE *out)
{
	char env[128], flag[128];

	fprintf(out, "| key | environment | flag | default | meaning |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];

		config_env_name(k, env, sizeof(env));
		config_flag_name(k, flag, sizeof(flag));
		fprintf(out, "| `%s` | `%s` | `--%s` | `%s` | %s |\n", k->name, env, flag,
		        k->def[0] ? k->def : " ", k->help);
	}
}

int config_regions(const struct ts_config *cfg, char *out, size_t size, int max)
{
	int count = 0;

	for (const char *p = cfg->regions; *p && count < max;) {
		size_t n;

		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n && n < size)
			snprintf(out + (size_t)count++ * size, size, "%.*s", (int)n, p);
		p += n;
	}
	return count;
}

int config_has_region(const struct ts_config *cfg, const char *code, size_t len)
{
	for (const char *p = cfg->regions; *p;) {
		size_t n;

		while (*p == ' ' || *p == ',')
			p++;
		n = strcspn(p, " ,");
		if (n && n == len && !memcmp(p, code, len))
			return 1;
		p += n;
	}
	return 0;
}
