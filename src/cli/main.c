/*
 * topsongs: one binary, one subcommand per role. This file holds only the
 * command table and main(); each command lives in cmd_NAME.c.
 */
#include "base/common.h"
#include "cli/cli.h"
#include "cli/commands.h"

const struct cli_cmd cli_commands[] = {
    {"help", cmd_help, "[COMMAND]", "Show the commands, or one command's help.", NULL, NULL, 0, 1},
    {"version", cmd_version, "", "Print the version.", NULL, NULL, 0, 0},
    {"config", cmd_config, "[--reference]", "Print the effective configuration (secrets redacted).",
     "Values come from built-in defaults, then .env (or $TOPSONGS_ENV_FILE), then\n"
     "TOPSONGS_* environment variables, then flags.",
     cmd_config_opts, 0, 0},
    {"check", cmd_check, "[--json]",
     "Check every configured service: PostgreSQL, Kafka, lake, api, scheduler.",
     "Each service gets ok or failed, its latency and a one-line reason. The exit\n"
     "status is 0 only when every service named in check.required passes.",
     cmd_check_opts, 0, 0},
    {"api", cmd_api, "", "Run the HTTP api: play ingest into Kafka, health and metrics.",
     "POST /play and POST /plays answer 202 only once the broker has acknowledged\n"
     "every record. SIGTERM or SIGINT stops accepting, drains, flushes and exits 0.",
     NULL, 0, 0},
    {"ingest", cmd_ingest, "", "Consume the plays topic into the raw Parquet lake, exactly once.",
     "Files go to <lake>/raw/region=R/date=D/hour=H/ by event time; offsets and the\n"
     "set of committed files change together in PostgreSQL, so a record is in the\n"
     "lake once after any crash. Records that cannot be filed go to ingest.dlq-topic.\n"
     "The lake is a local folder or s3://bucket/prefix (docs/ingest.md).",
     NULL, 0, 0},
    {"simulate", cmd_simulate, "[options]",
     "Generate realistic listener traffic: to the api, to NDJSON, or as a back-fill.",
     cmd_simulate_details, cmd_simulate_opts, 0, 0},
    {"up", cmd_up, "[--no-simulate] [--rate R] [--state DIR]",
     "Run api, ingest, scheduler and the simulator together, supervised.", cmd_up_details,
     cmd_up_opts, 0, 0},
    {"parquet", cmd_parquet, "inspect|cat|write FILE [options]",
     "Inspect a Parquet file, print its rows as JSON lines, or write one.", cmd_parquet_details,
     cmd_parquet_opts, 2, 2},
    {"store", cmd_store, "put|get|ls|rm [KEY] [options]",
     "Put, get, list or remove objects in the lake's store (folder or S3).", cmd_store_details,
     cmd_store_opts, 1, 2},
    {"db", cmd_db, "migrate", "Apply the schema migrations.", cmd_db_details, NULL, 1, 1},
    {"catalog", cmd_catalog, "load [--csv FILE | --songs N --catalog-seed N]",
     "Load the song catalog into the songs table.", cmd_catalog_details, cmd_catalog_opts, 1, 1},
    {"flows", cmd_flows, "list | run NAME [--from T] [--to T] [--region R] | runs [options]",
     "List the flows, run one once (exit 0, 1, 75 retry later, 99 busy), show run history.",
     cmd_flows_details, cmd_flows_opts, 1, 2},
    {"ledger", cmd_ledger, "[--from T] [--to T] [--region R] [--json] [--no-lake]",
     "Count the plays at every stage, api to charts, and explain every difference.",
     cmd_ledger_details, cmd_ledger_opts, 0, 0},
    {"scheduler", cmd_scheduler, "",
     "Run the flows on their schedules, with retries, locks, leases and a heartbeat.",
     cmd_scheduler_details, NULL, 0, 0},
};

const size_t cli_ncommands = ARRAY_SIZE(cli_commands);

int main(int argc, char **argv, char **envp)
{
	return cli_main(argc, argv, envp);
}
