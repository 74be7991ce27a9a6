/*
 * topsongs: one binary, one subcommand per role. This file holds only the
 * command table and main(); each command lives in cmd_NAME.c.
 */
#include "base/common.h"
#include "cli/cli.h"
#include "cli/commands.h"

const struct cli_cmd cli_commands[] = {
    {"help", cmd_help, "[COMMAND]", "Show the commands, or one command's help.", NULL, NULL, 0, 1,
     "  0 shown, 2 no such command"},
    {"version", cmd_version, "", "Print the version.", NULL, NULL, 0, 0, "  0"},
    {"config", cmd_config, "[--reference]", "Print the effective configuration (secrets redacted).",
     "Values come from built-in defaults, then .env (or $TOPSONGS_ENV_FILE), then\n"
     "TOPSONGS_* environment variables, then flags.",
     cmd_config_opts, 0, 0,
     "  0 printed, 2 bad configuration (named with its file and line, variable or flag)"},
    {"check", cmd_check, "[--json]",
     "Check every configured service: PostgreSQL, Kafka, lake, api, scheduler.",
     "Each service gets ok or failed, its latency and a one-line reason. The exit\n"
     "status is 0 only when every service named in check.required passes.",
     cmd_check_opts, 0, 0,
     "  0 every service of check.required is ok, 3 one is not, 2 bad flags or\n"
     "  configuration, 1 the report could not be written"},
    {"api", cmd_api, "", "Run the HTTP api: play ingest into Kafka, health and metrics.",
     "POST /play and POST /plays answer 202 only once the broker has acknowledged\n"
     "every record. SIGTERM or SIGINT stops accepting, drains, flushes and exits 0.",
     NULL, 0, 0,
     "  0 stopped by SIGTERM/SIGINT after draining, 2 bad configuration,\n"
     "  3 cannot listen (address in use) or start its Kafka producer"},
    {"ingest", cmd_ingest, "", "Consume the plays topic into the raw Parquet lake, exactly once.",
     "Files go to <lake>/raw/region=R/date=D/hour=H/ by event time; offsets and the\n"
     "set of committed files change together in PostgreSQL, so a record is in the\n"
     "lake once after any crash. Records that cannot be filed go to ingest.dlq-topic.\n"
     "The lake is a local folder or s3://bucket/prefix (docs/ingest.md).",
     NULL, 0, 0,
     "  0 stopped by SIGTERM/SIGINT after committing, 1 failed (the log says why;\n"
     "  restart it: it resumes from the committed offsets), 2 bad configuration,\n"
     "  3 Kafka, PostgreSQL or the lake unreachable at start"},
    {"simulate", cmd_simulate, "[options]",
     "Generate realistic listener traffic: to the api, to NDJSON, or as a back-fill.",
     cmd_simulate_details, cmd_simulate_opts, 0, 0,
     "  0 every event written or accepted (202), 1 some were rejected or never\n"
     "  answered, 2 usage, 3 the api could not be reached at all"},
    {"up", cmd_up, "[--no-simulate] [--rate R] [--state DIR]",
     "Run api, ingest, scheduler and the simulator together, supervised.", cmd_up_details,
     cmd_up_opts, 0, 0,
     "  0 stopped by Ctrl-C / SIGTERM, every child stopped, 1 failed to start the\n"
     "  pipeline, 2 usage, 3 a service could not be started or reached"},
    {"parquet", cmd_parquet, "inspect|cat|write FILE [options]",
     "Inspect a Parquet file, print its rows as JSON lines, or write one.", cmd_parquet_details,
     cmd_parquet_opts, 2, 2, NULL},
    {"store", cmd_store, "put|get|ls|rm [KEY] [options]",
     "Put, get, list or remove objects in the lake's store (folder or S3).", cmd_store_details,
     cmd_store_opts, 1, 2, NULL},
    {"db", cmd_db, "migrate", "Apply the schema migrations.", cmd_db_details, NULL, 1, 1, NULL},
    {"catalog", cmd_catalog, "load [--csv FILE | --songs N --catalog-seed N]",
     "Load the song catalog into the songs table.", cmd_catalog_details, cmd_catalog_opts, 1, 1,
     NULL},
    {"flows", cmd_flows, "list | run NAME [--from T] [--to T] [--region R] | runs [options]",
     "List the flows, run one once (exit 0, 1, 75 retry later, 99 busy), show run history.",
     cmd_flows_details, cmd_flows_opts, 1, 2,
     "  run: 0 succeeded, 1 the flow failed, 2 usage, 75 temporary failure (retry\n"
     "  later), 99 another run holds the flow's lock (skipped); list, runs: 0, 2, 3"},
    {"retention", cmd_retention, "--keep-days N | --keep-hours N [--dry-run] [--region R]",
     "Delete lake partitions older than N days, with their bookkeeping; keep the charts.",
     cmd_retention_details, cmd_retention_opts, 0, 0,
     "  0 done (hours kept for pending work included), 1 a step failed (run it\n"
     "  again: it resumes), 2 usage, 3 PostgreSQL or the store unreachable"},
    {"ledger", cmd_ledger, "[--from T] [--to T] [--region R] [--json] [--no-lake]",
     "Count the plays at every stage, api to charts, and explain every difference.",
     cmd_ledger_details, cmd_ledger_opts, 0, 0,
     "  0 balanced, or only plays in flight, 1 a mismatch (explained or not: the\n"
     "  report says), 2 usage, 3 PostgreSQL unreachable, 4 the lake or database\n"
     "  unreadable"},
    {"scheduler", cmd_scheduler, "",
     "Run the flows on their schedules, with retries, locks, leases and a heartbeat.",
     cmd_scheduler_details, NULL, 0, 0,
     "  0 stopped by SIGTERM/SIGINT, 1 failed, 2 bad configuration or schedule, or a\n"
     "  live scheduler with the same instance id, 3 PostgreSQL unreachable at start"},
};

const size_t cli_ncommands = ARRAY_SIZE(cli_commands);

int main(int argc, char **argv, char **envp)
{
	return cli_main(argc, argv, envp);
}
