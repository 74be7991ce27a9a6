/*
 * Configuration: one declarative table (config.c, `config_keys`) is the single
 * source of truth for every setting — its key, type, default, bounds and help
 * text. The `--help` output, the environment variable names and the
 * reference in docs/configuration.md are all derived from it.
 *
 * Precedence, lowest to highest: built-in default < `.env` file <
 * environment variable TOPSONGS_<KEY> < command-line flag --<key>.
 * Unknown keys are an error at every level. Keys marked secret are shown as
 * "<redacted>" by config_dump and never logged.
 *
 * A struct ts_config is filled once at start-up by the command entry point
 * and read-only afterwards, so threads may share it.
 */
#ifndef BASE_CONFIG_H
#define BASE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "base/dbuf.h"
#include "base/error.h"

struct ts_config {
	char *log_level;
	char *log_format;
	char *api_listen;
	int64_t api_threads;
	int64_t api_max_body;
	int64_t api_max_batch;
	int64_t api_max_connections;
	int64_t api_idle_timeout_s;
	int64_t api_max_pending;
	int64_t api_max_inflight;
	int64_t api_max_buffered;
	int64_t api_drain_timeout_ms;
	char *api_web_dir;
	char *api_journal_dir;
	char *kafka_brokers;
	char *kafka_topic;
	char *kafka_compression;
	int64_t kafka_linger_ms;
	int64_t kafka_produce_timeout_ms;
	int64_t kafka_queue_max_messages;
	char *kafka_security_protocol;
	char *kafka_sasl_mechanism;
	char *kafka_sasl_username;
	char *kafka_sasl_password;
	char *pg_url;
	char *lake_url;
	char *ingest_group;
	char *ingest_dlq_topic;
	char *ingest_instance_id;
	char *ingest_metrics_listen;
	int64_t ingest_flush_ms;
	int64_t ingest_quiet_ms;
	int64_t flows_aggregate_max_counts;
	int64_t ingest_max_rows;
	int64_t ingest_max_bytes;
	int64_t ingest_buffer_kbytes;
	int64_t ingest_fetch_queue_kbytes;
	int64_t ingest_max_open_files;
	int64_t ingest_max_age_s;
	int64_t ingest_max_future_s;
	int64_t ingest_session_timeout_ms;
	int64_t ingest_lateness_s;
	int64_t ingest_compact_interval_s;
	int64_t ingest_compact_target_kbytes;
	int64_t ingest_idle_timeout_s;
	int64_t ingest_unavailable_retry_s;
	char *regions;
	int64_t event_max_age_s;
	int64_t event_max_future_s;
	int64_t check_timeout_ms;
	char *check_required;
	char *s3_endpoint;
	char *s3_region;
	char *s3_access_key;
	char *s3_secret_key;
	int64_t s3_path_style;
	int64_t s3_timeout_ms;
	int64_t s3_max_retries;
	int64_t s3_part_size;
	char *scheduler_schedules;
	char *scheduler_instance_id;
	int64_t scheduler_heartbeat_ms;
	int64_t scheduler_lease_ms;
	int64_t scheduler_max_attempts;
	int64_t scheduler_retry_base_ms;
	int64_t scheduler_retry_max_ms;
	char *scheduler_catch_up;
	int64_t scheduler_catch_up_max;
	int64_t scheduler_stop_timeout_ms;
};

enum config_type { CONFIG_STR, CONFIG_INT };

struct config_key {
	const char *name; /* "api.listen"; flag --api-listen; env TOPSONGS_API_LISTEN */
	enum config_type type;
	size_t offset;
	const char *def;
	int64_t min, max; /* CONFIG_INT only */
	int secret;
	/* Optional check of a string value; returns 0 or TS_EINVAL with *why set. */
	int (*validate)(const char *value, const char **why);
	const char *help;
};

/* The table, and its length. */
extern const struct config_key config_keys[];
extern const size_t config_nkeys;

/* Sets the environment variable of every key (TOPSONGS_API_LISTEN, ...) to
 * its effective value, so child processes see the same configuration,
 * flags included. Secrets too: the environment is the child's, not a log. */
int config_export_env(const struct ts_config *cfg, struct ts_err *err);

/* Fills cfg with defaults only. Returns 0 or TS_ENOMEM. */
int config_init(struct ts_config *cfg);
void config_release(struct ts_config *cfg);

/*
 * Applies `.env` (path, or "./.env" when path is NULL and that file exists;
 * a missing explicit path is an error) and then the TOPSONGS_* variables of
 * envp. Errors name the file and line, or the variable.
 */
int config_load(struct ts_config *cfg, const char *path, char *const *envp, struct ts_err *err);

/* Applies KEY=VALUE lines (the .env syntax: blank lines, # comments,
 * optional "export ", optional matching quotes) read from f; `name` goes
 * into errors as "name:line". */
int config_load_stream(struct ts_config *cfg, FILE *f, const char *name, struct ts_err *err);

/* Sets one key by its name ("api.listen"), its flag form ("api-listen") or
 * its environment name ("TOPSONGS_API_LISTEN"). `origin` goes into errors. */
int config_set(struct ts_config *cfg, const char *name, const char *value, const char *origin,
               struct ts_err *err);

/* The key for a flag name without dashes ("api-listen"), or NULL. */
const struct config_key *config_find_flag(const char *flag);

/* Writes "key = value" lines, secrets redacted. */
int config_dump(const struct ts_config *cfg, struct dbuf *out);

/* Writes the Markdown reference table (docs/configuration.md). */
void config_write_reference(FILE *out);

/* Redacts the password of a libpq URL or key=value conninfo into out. */
void config_redact_url(const char *url, char *out, size_t size);

/* The environment name of a key: "TOPSONGS_API_LISTEN". */
void config_env_name(const struct config_key *k, char *out, size_t size);
/* The flag name of a key, without dashes: "api-listen". */
void config_flag_name(const struct config_key *k, char *out, size_t size);

/* Splits a region list ("NA SA EU", spaces or commas) and tells whether code
 * is one of them. */
int config_has_region(const struct ts_config *cfg, const char *code, size_t len);
/* The configured regions, in order, into out: at most max codes, each in
 * a slot of size bytes (a code that does not fit is skipped). Returns the
 * count. */
int config_regions(const struct ts_config *cfg, char *out, size_t size, int max);

#endif
