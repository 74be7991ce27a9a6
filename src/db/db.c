/*
 * libpq connection handling and the migration table. Each migration is a
 * SQL script with a version number; `schema_migrations` records what ran.
 * Migrations are append-only: a released one is never edited.
 */
#include "base/common.h"
#include "base/log.h"
#include "db/db.h"

static void on_notice(void *arg, const char *msg);

struct db {
	PGconn *conn;
};

struct migration {
	int version;
	const char *name;
	const char *sql;
};

/* The one table of schema versions. */
static const struct migration migrations[] = {
    {1, "ingest bookkeeping",
     "CREATE TABLE ingest_offsets ("
     "  topic text NOT NULL,"
     "  kafka_partition int NOT NULL,"
     "  next_offset bigint NOT NULL,"
     "  updated_at timestamptz NOT NULL DEFAULT now(),"
     "  PRIMARY KEY (topic, kafka_partition));"
     "CREATE TABLE ingest_files ("
     "  path text PRIMARY KEY,"
     "  staged_path text NOT NULL,"
     "  topic text NOT NULL,"
     "  kafka_partition int NOT NULL,"
     "  first_offset bigint NOT NULL,"
     "  last_offset bigint NOT NULL,"
     "  region text NOT NULL,"
     "  day date NOT NULL,"
     "  hour int NOT NULL CHECK (hour BETWEEN 0 AND 23),"
     "  rows bigint NOT NULL,"
     "  published boolean NOT NULL DEFAULT false,"
     "  committed_at timestamptz NOT NULL DEFAULT now());"
     "CREATE INDEX ingest_files_unpublished ON ingest_files (topic, kafka_partition)"
     "  WHERE NOT published;"
     "CREATE INDEX ingest_files_partition ON ingest_files (region, day, hour);"},
    {2, "watermarks and lake hours",
     "ALTER TABLE ingest_offsets ADD COLUMN watermark timestamptz;"
     "CREATE TABLE lake_hours ("
     "  region text NOT NULL,"
     "  day date NOT NULL,"
     "  hour int NOT NULL CHECK (hour BETWEEN 0 AND 23),"
     "  rows bigint NOT NULL DEFAULT 0,"
     "  files int NOT NULL DEFAULT 0,"
     "  closed_at timestamptz,"
     "  late_rows bigint NOT NULL DEFAULT 0,"
     "  needs_recompute boolean NOT NULL DEFAULT false,"
     "  updated_at timestamptz NOT NULL DEFAULT now(),"
     "  PRIMARY KEY (region, day, hour));"},
    {3, "compaction",
     "ALTER TABLE ingest_files ADD COLUMN compacted_into text;"
     "ALTER TABLE lake_hours ADD COLUMN compacted_at timestamptz;"},
    /* The charts (docs/flows.md): per-song counts of every period, and the
     * top 10 with the chart facts. Region 'ALL' is the global chart. */
    {4, "songs and charts",
     "CREATE TABLE songs ("
     "  song_id text PRIMARY KEY,"
     "  title text NOT NULL,"
     "  artist text NOT NULL,"
     "  genre text NOT NULL,"
     "  duration_ms int,"
     "  loaded_at timestamptz NOT NULL DEFAULT now());"
     "CREATE TABLE plays_hourly ("
     "  region text NOT NULL,"
     "  hour_start timestamptz NOT NULL,"
     "  song_id text NOT NULL,"
     "  plays bigint NOT NULL CHECK (plays > 0),"
     "  PRIMARY KEY (region, hour_start, song_id));"
     "CREATE TABLE top_songs_hourly ("
     "  region text NOT NULL,"
     "  hour_start timestamptz NOT NULL,"
     "  rank int NOT NULL CHECK (rank BETWEEN 1 AND 10),"
     "  song_id text NOT NULL,"
     "  title text,"
     "  artist text,"
     "  genre text,"
     "  plays bigint NOT NULL,"
     "  previous_rank int,"
     "  movement int,"
     "  peak_rank int NOT NULL,"
     "  periods_on_chart int NOT NULL,"
     "  entry text CHECK (entry IN ('NEW', 'RE-ENTRY')),"
     "  is_final boolean NOT NULL DEFAULT false,"
     "  updated_at timestamptz NOT NULL DEFAULT now(),"
     "  PRIMARY KEY (region, hour_start, rank));"
     "CREATE INDEX top_songs_hourly_song ON top_songs_hourly (song_id, hour_start);"
     "CREATE TABLE top_songs_daily ("
     "  region text NOT NULL,"
     "  day date NOT NULL,"
     "  rank int NOT NULL CHECK (rank BETWEEN 1 AND 10),"
     "  song_id text NOT NULL,"
     "  title text,"
     "  artist text,"
     "  genre text,"
     "  plays bigint NOT NULL,"
     "  previous_rank int,"
     "  movement int,"
     "  peak_rank int NOT NULL,"
     "  periods_on_chart int NOT NULL,"
     "  entry text CHECK (entry IN ('NEW', 'RE-ENTRY')),"
     "  is_final boolean NOT NULL DEFAULT false,"
     "  updated_at timestamptz NOT NULL DEFAULT now(),"
     "  PRIMARY KEY (region, day, rank));"
     "CREATE INDEX top_songs_daily_song ON top_songs_daily (song_id, day);"},
    /* The scheduler's run history and liveness (docs/scheduler.md). */
    {5, "flow runs",
     "CREATE TABLE flow_runs ("
     "  id bigserial PRIMARY KEY,"
     "  flow text NOT NULL,"
     "  scope text NOT NULL,"
     "  trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'retry', 'catch-up')),"
     "  state text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'abandoned')),"
     "  attempt int NOT NULL DEFAULT 1,"
     "  owner text NOT NULL,"
     "  started_at timestamptz NOT NULL DEFAULT now(),"
     "  finished_at timestamptz,"
     "  lease_until timestamptz,"
     "  rows_in bigint,"
     "  rows_out bigint,"
     "  error text);"
     "CREATE INDEX flow_runs_recent ON flow_runs (started_at DESC);"
     "CREATE INDEX flow_runs_running ON flow_runs (flow, scope) WHERE state = 'running';"
     "CREATE TABLE scheduler_heartbeats ("
     "  instance text PRIMARY KEY,"
     "  host text NOT NULL,"
     "  pid int NOT NULL,"
     "  started_at timestamptz NOT NULL DEFAULT now(),"
     "  beat_at timestamptz NOT NULL DEFAULT now());"},
    /* The flows' exactly-once bookkeeping (docs/flows.md): which raw files
     * enrich has read, the enriched files it wrote, and which of those
     * aggregate has counted into plays_hourly. */
    {6, "flow bookkeeping",
     "CREATE TABLE flow_enriched_files ("
     "  path text PRIMARY KEY,"
     "  staged_path text NOT NULL,"
     "  region text NOT NULL,"
     "  day date NOT NULL,"
     "  hour int NOT NULL CHECK (hour BETWEEN 0 AND 23),"
     "  rows bigint NOT NULL,"
     "  duplicates bigint NOT NULL,"
     "  unknown_songs bigint NOT NULL,"
     "  published boolean NOT NULL DEFAULT false,"
     "  aggregated boolean NOT NULL DEFAULT false,"
     "  created_at timestamptz NOT NULL DEFAULT now());"
     "CREATE INDEX flow_enriched_files_hour ON flow_enriched_files (region, day, hour);"
     "CREATE INDEX flow_enriched_files_pending ON flow_enriched_files (region, day, hour)"
     "  WHERE NOT published OR NOT aggregated;"
     "CREATE TABLE flow_enrich_inputs ("
     "  raw_path text PRIMARY KEY,"
     "  enriched_path text NOT NULL REFERENCES flow_enriched_files (path) ON DELETE CASCADE,"
     "  rows_read bigint NOT NULL);"
     "CREATE INDEX flow_enrich_inputs_output ON flow_enrich_inputs (enriched_path);"},
    /* Retention (docs/operations.md): the hours whose bookkeeping was
     * deleted; files_deleted_at stays NULL until their files are gone too,
     * so a retention run killed half way is finished by the next one. */
    {7, "lake retention",
     "CREATE TABLE lake_pruned ("
     "  region text NOT NULL,"
     "  day date NOT NULL,"
     "  hour int NOT NULL CHECK (hour BETWEEN 0 AND 23),"
     "  raw_rows bigint NOT NULL DEFAULT 0,"
     "  pruned_at timestamptz NOT NULL DEFAULT now(),"
     "  files_deleted_at timestamptz,"
     "  PRIMARY KEY (region, day, hour));"},
    /* The ledger (docs/ledger.md): the api's 202s per (region, event hour),
     * flushed every second by each api instance, whose liveness tells a
     * crash (counts of its last second lost) from an orderly stop; and the
     * records ingest consumed without filing them (dead letters), counted
     * per batch in the transaction that commits the batch's offsets. */
    {8, "ledger",
     "CREATE TABLE api_accepted ("
     "  region text NOT NULL,"
     "  hour_start timestamptz NOT NULL,"
     "  accepted bigint NOT NULL CHECK (accepted >= 0),"
     "  updated_at timestamptz NOT NULL DEFAULT now(),"
     "  PRIMARY KEY (region, hour_start));"
     "CREATE TABLE api_instances ("
     "  instance text PRIMARY KEY,"
     "  host text NOT NULL,"
     "  pid int NOT NULL,"
     "  started_at timestamptz NOT NULL DEFAULT now(),"
     "  flushed_at timestamptz NOT NULL DEFAULT now(),"
     "  stopped_at timestamptz);"
     "CREATE TABLE ingest_dead_letters ("
     "  topic text NOT NULL,"
     "  kafka_partition int NOT NULL,"
     "  first_offset bigint NOT NULL,"
     "  last_offset bigint NOT NULL,"
     "  records bigint NOT NULL CHECK (records > 0),"
     "  committed_at timestamptz NOT NULL DEFAULT now(),"
     "  PRIMARY KEY (topic, kafka_partition, first_offset));"},
    /* The api's journal of 202s (src/api/api_journal.h): the last journal
     * segment each instance's flushes cover, and when an api recovered the
     * counts of a gone instance from its journal. */
    {9, "api journal",
     "ALTER TABLE api_instances ADD COLUMN journal_seq bigint NOT NULL DEFAULT 0,"
     "  ADD COLUMN recovered_at timestamptz;"},
    /* A run started because the flow it follows wrote rows (flow_def.after). */
    {10, "flow run trigger after",
     "ALTER TABLE flow_runs DROP CONSTRAINT flow_runs_trigger_check,"
     "  ADD CONSTRAINT flow_runs_trigger_check"
     "  CHECK (trigger IN ('schedule', 'manual', 'retry', 'catch-up', 'after'));"},
    /* The last flush of 202 counts each api instance committed, so a flush
     * whose COMMIT answer was lost is not added twice (api_accepted.c). */
    {11, "api flush sequence",
     "ALTER TABLE api_instances ADD COLUMN flush_seq bigint NOT NULL DEFAULT 0;"},
    /* The per-song counts of a (region, hour) packed into one row of two
     * parallel arrays (in no set order): aggregate writes a few hundred
     * rows where it wrote a million, each with its index entry
     * (docs/flows.md, "State"). plays_hourly stays, as a view, for every
     * reader. Arrays of tens of kilobytes are stored uncompressed. */
    {12, "packed hourly counts",
     "CREATE TABLE plays_hourly_packed ("
     "  region text NOT NULL,"
     "  hour_start timestamptz NOT NULL,"
     "  song_ids text[] NOT NULL,"
     "  plays bigint[] NOT NULL,"
     "  PRIMARY KEY (region, hour_start),"
     "  CHECK (cardinality(song_ids) = cardinality(plays) AND 0 < ALL (plays)));"
     "ALTER TABLE plays_hourly_packed ALTER song_ids SET STORAGE EXTERNAL,"
     "  ALTER plays SET STORAGE EXTERNAL;"
     "INSERT INTO plays_hourly_packed SELECT region, hour_start,"
     "  array_agg(song_id ORDER BY song_id COLLATE \"C\"),"
     "  array_agg(plays ORDER BY song_id COLLATE \"C\") FROM plays_hourly GROUP BY 1, 2;"
     "DROP TABLE plays_hourly;"
     "CREATE VIEW plays_hourly AS SELECT p.region, p.hour_start, u.song_id, u.plays"
     "  FROM plays_hourly_packed p CROSS JOIN LATERAL unnest(p.song_ids, p.plays)"
     "  AS u (song_id, plays);"},
    /* Aggregate's finality check looks up the raw files of a few hours of
     * every region; ingest_files_partition leads with the region, so it
     * scanned the whole table each run (about 0.45 s at 600,000 files,
     * docs/flows.md "Finality"). */
    {13, "raw files by hour", "CREATE INDEX ingest_files_hour ON ingest_files (day, hour);"},
    /* enrich looked for pending raw files with an anti-join of all of
     * ingest_files against flow_enrich_inputs, every run (docs/flows.md,
     * "Pending files"). flow_raw_pending holds exactly the raw files that
     * have no flow_enrich_inputs row, kept so by triggers, whoever writes
     * either table (ingest, enrich, retention, a reset by hand). Its rows
     * are written by ingest's commit and by enrich, never by compaction,
     * so enrich takes no lock on ingest_files rows. */
    {14, "pending raw files",
     "CREATE TABLE flow_raw_pending ("
     "  path text PRIMARY KEY REFERENCES ingest_files (path) ON DELETE CASCADE);"
     "INSERT INTO flow_raw_pending SELECT path FROM ingest_files f WHERE NOT EXISTS"
     "  (SELECT 1 FROM flow_enrich_inputs i WHERE i.raw_path = f.path);"
     "CREATE FUNCTION flow_raw_pending_add() RETURNS trigger LANGUAGE plpgsql AS $$"
     "BEGIN"
     "  INSERT INTO flow_raw_pending VALUES (NEW.path);"
     "  RETURN NULL;"
     "END $$;"
     "CREATE TRIGGER ingest_files_pending AFTER INSERT ON ingest_files"
     "  FOR EACH ROW EXECUTE FUNCTION flow_raw_pending_add();"
     "CREATE FUNCTION flow_raw_pending_follow() RETURNS trigger LANGUAGE plpgsql AS $$"
     "BEGIN"
     "  IF TG_OP = 'TRUNCATE' THEN"
     "    INSERT INTO flow_raw_pending SELECT path FROM ingest_files ON CONFLICT DO NOTHING;"
     "    RETURN NULL;"
     "  END IF;"
     "  IF TG_OP IN ('UPDATE', 'DELETE') THEN"
     "    INSERT INTO flow_raw_pending SELECT path FROM ingest_files WHERE path = OLD.raw_path"
     "      ON CONFLICT DO NOTHING;"
     "  END IF;"
     "  IF TG_OP IN ('INSERT', 'UPDATE') THEN"
     "    DELETE FROM flow_raw_pending WHERE path = NEW.raw_path;"
     "  END IF;"
     "  RETURN NULL;"
     "END $$;"
     "CREATE TRIGGER flow_enrich_inputs_pending AFTER INSERT OR UPDATE OR DELETE ON"
     "  flow_enrich_inputs FOR EACH ROW EXECUTE FUNCTION flow_raw_pending_follow();"
     "CREATE TRIGGER flow_enrich_inputs_truncate AFTER TRUNCATE ON flow_enrich_inputs"
     "  FOR EACH STATEMENT EXECUTE FUNCTION flow_raw_pending_follow();"},
    /* Compressed with lz4, the packed counts cost PostgreSQL less to write
     * (fewer TOAST chunks and WAL) than stored plain: about 0.1 s of a
     * 0.8 s back-fill of 10 million plays (docs/flows.md, "State"). pglz
     * would cost more than it saves, so a server built without lz4 keeps
     * them plain. */
    {15, "packed counts compressed",
     "DO $$ BEGIN"
     "  EXECUTE 'ALTER TABLE plays_hourly_packed ALTER song_ids SET COMPRESSION lz4,"
     "    ALTER plays SET COMPRESSION lz4, ALTER song_ids SET STORAGE EXTENDED,"
     "    ALTER plays SET STORAGE EXTENDED';"
     "EXCEPTION WHEN feature_not_supported OR syntax_error THEN"
     "  RAISE NOTICE 'no lz4 in this server: packed counts stay uncompressed';"
     "END $$;"},
};

int db_schema_version(void)
{
	return migrations[ARRAY_SIZE(migrations) - 1].version;
}

/* The first line of a libpq message, without "ERROR:  ". */
static void pq_reason(const char *msg, char *out, size_t size)
{
	if (!strncmp(msg, "ERROR:  ", 8))
		msg += 8;
	snprintf(out, size, "%.*s", (int)strcspn(msg, "\n"), msg);
}

int db_connect(const struct ts_config *cfg, int timeout_ms, struct db **out, struct ts_err *err)
{
	const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
	char timeout[16], reason[300];
	const char *vals[] = {cfg->pg_url, timeout, "topsongs", NULL};
	struct db *db = calloc(1, sizeof(*db));

	if (!db)
		return ts_err_set(err, TS_ENOMEM, "out of memory");
	snprintf(timeout, sizeof(timeout), "%d", timeout_ms < 1000 ? 1 : timeout_ms / 1000);
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
		pq_reason(db->conn ? PQerrorMessage(db->conn) : "out of memory", reason,
		          sizeof(reason));
		db_free(db);
		return ts_err_set(err, TS_EUNAVAIL, "postgresql: %s", reason);
	}
	PQsetNoticeProcessor(db->conn, on_notice, NULL);
	*out = db;
	return 0;
}

/* Server notices ("relation already exists, skipping") go to the debug log. */
static void on_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("postgresql notice", "%.*s", (int)strcspn(msg, "\n"), msg);
}

PGconn *db_conn(struct db *db)
{
	return db->conn;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db);
}

static int check_result(struct db *db, PGresult *r, struct ts_err *err)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	char reason[400];

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	pq_reason(r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn), reason, sizeof(reason));
	return ts_err_set(err, PQstatus(db->conn) == CONNECTION_OK ? TS_EFAILED : TS_EUNAVAIL,
	                  "postgresql: %s", reason);
}

int db_exec(struct db *db, const char *sql, struct ts_err *err)
{
	PGresult *r = PQexec(db->conn, sql);
	int rc = check_result(db, r, err);

	PQclear(r);
	return rc;
}

int db_execp(struct db *db, const char *sql, int nparams, const char *const *params, PGresult **res,
             struct ts_err *err)
{
	PGresult *r = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	int rc = check_result(db, r, err);

	if (rc || !res)
		PQclear(r);
	else
		*res = r;
	return rc;
}

int db_array_add(struct dbuf *b, const char *item)
{
	int rc = dbuf_addc(b, b->len ? ',' : '{');

	rc = rc ? rc : dbuf_addc(b, '"');
	for (const char *c = item; !rc && *c; c++) {
		if (*c == '"' || *c == '\\') /* escaped inside the quotes */
			rc = dbuf_addc(b, '\\');
		rc = rc ? rc : dbuf_addc(b, *c);
	}
	return rc ? rc : dbuf_addc(b, '"');
}

int db_array_end(struct dbuf *b)
{
	return b->len ? dbuf_addc(b, '}') : dbuf_addstr(b, "{}");
}

static int applied_version(struct db *db, int *version, struct ts_err *err)
{
	PGresult *r = NULL;
	int rc = db_execp(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL,
	                  &r, err);

	if (!rc)
		*version = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return rc;
}

static int apply_one(struct db *db, const struct migration *m, struct ts_err *err)
{
	char version[16];
	const char *params[] = {version, m->name};
	int rc;

	snprintf(version, sizeof(version), "%d", m->version);
	rc = db_exec(db, "BEGIN", err);
	rc = rc ? rc : db_exec(db, m->sql, err);
	rc = rc ? rc
	        : db_execp(db, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 2,
	                   params, NULL, err);
	rc = rc ? rc : db_exec(db, "COMMIT", err);
	if (rc) {
		db_exec(db, "ROLLBACK", NULL);
		return ts_err_wrap(err, "migration %d (%s)", m->version, m->name);
	}
	log_info("schema migrated", "version=%d name=\"%s\"", m->version, m->name);
	return 0;
}

int db_migrate(struct db *db, int *applied, struct ts_err *err)
{
	int rc, version = 0;

	*applied = 0;
	rc = db_exec(db, "SELECT pg_advisory_lock(hashtext('topsongs.migrate'))", err);
	if (rc)
		return rc;
	rc = db_exec(db,
	             "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY,"
	             " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
	             err);
	rc = rc ? rc : applied_version(db, &version, err);
	if (!rc && version > db_schema_version())
		rc = ts_err_set(err, TS_EFAILED,
		                "the database is at schema version %d, newer than this binary's %d",
		                version, db_schema_version());
	for (size_t i = 0; !rc && i < ARRAY_SIZE(migrations); i++) {
		if (migrations[i].version <= version)
			continue;
		rc = apply_one(db, &migrations[i], err);
		*applied += !rc;
	}
	db_exec(db, "SELECT pg_advisory_unlock(hashtext('topsongs.migrate'))", NULL);
	return rc;
}
