# The balance of the fault-injection suite: what the simulator was told
# (its --outcome-log) against the lake and the charts, independently of the
# C code (DuckDB over the Parquet files, the PostgreSQL tables as CSV).
#
#   verify.py OUTCOMES LAKE DUMPDIR [SUMMARY.json]
#
# OUTCOMES: lines "A|R|F<TAB>event_id<TAB>region<TAB>ts<TAB>sends" (see
# docs/simulator.md); LAKE: a local folder with raw/ and enriched/ (a mirror
# of the S3 lake); DUMPDIR: the CSV dumps of flows_lib.sh's dump_tables.
#
# The client policy is "retry with the same event_id until 202", so the
# expected set is exactly the accepted set A. Checks:
#  - every accepted play is in raw/ at least once, and at most as many times
#    as it went on the wire (a resend after a lost answer may be in Kafka
#    twice; nothing else may duplicate it);
#  - enriched/ holds exactly the accepted set, each play once;
#  - nothing rejected (4xx) is anywhere; a play given up (F: retries
#    exhausted, its produce may or may not have reached Kafka) is
#    ambiguous and breaks the policy, so it is reported and fails the run;
#  - plays_hourly summed per region and hour (and ALL) equals the accepted
#    plays of that region and hour.
# The top-10 charts against a recomputation are flows_check.py's job.
# Prints one line per finding and a JSON summary; exits 1 on any mismatch.
import csv, json, os, sys

import duckdb

outcomes, lake, dumps = sys.argv[1:4]
summary_path = sys.argv[4] if len(sys.argv) > 4 else None
con = duckdb.connect()
con.execute("set TimeZone = 'UTC'")
mismatches = {}


def q(sql):
    return con.execute(sql).fetchall()


def one(sql):
    return q(sql)[0][0]


def check(name, n, detail_sql=None):
    mismatches[name] = n
    if n:
        detail = q(detail_sql) if detail_sql else ""
        print(f"MISMATCH {name}: {n} {detail[:5] if detail else ''}")


con.execute(f"""create table o as select * from read_csv('{outcomes}', delim='\t', header=false,
    columns={{'tag': 'varchar', 'event_id': 'varchar', 'region': 'varchar', 'ts': 'varchar',
              'sends': 'integer'}}, quote='', escape='')""")
con.execute("""create table acc as select event_id, any_value(region) as region,
    date_trunc('hour', any_value(ts)::timestamptz) as hour_start, count(*) as lines
    from o where tag = 'A' group by event_id""")
con.execute("create table sends as select event_id, sum(sends) as sends from o group by event_id")
con.execute("""create table gaveup as select distinct event_id from o where tag = 'F'
    and event_id not in (select event_id from acc)""")
con.execute("""create table rej as select distinct event_id from o where tag = 'R'
    and event_id not in (select event_id from acc)""")
raw = f"read_parquet('{lake}/raw/**/*.parquet', hive_partitioning=true)"
enr = f"read_parquet('{lake}/enriched/**/*.parquet', hive_partitioning=true)"
con.execute(f"create table r as select event_id, count(*) as n from {raw} group by event_id")
con.execute(f"""create table e as select event_id, region, date::varchar as date, hour::int as hour,
    count(*) as n from {enr} group by all""")

n_acc = one("select count(*) from acc")
n_lines = one("select count(*) from o")
check("accepted plays missing from raw/",
      one("select count(*) from acc where event_id not in (select event_id from r)"),
      "select event_id, region, hour_start from acc where event_id not in (select event_id from r) limit 5")
check("raw/ copies beyond the sends of the play",
      one("select count(*) from r join sends using (event_id) where r.n > sends.sends"),
      "select event_id, r.n, sends from r join sends using (event_id) where r.n > sends.sends limit 5")
check("raw/ rows never sent by the simulator",
      one("select count(*) from r where event_id not in (select event_id from sends)"),
      "select event_id from r where event_id not in (select event_id from sends) limit 5")
check("rejected plays in the lake",
      one("select count(*) from rej where event_id in (select event_id from r)"))
check("plays given up by the client (ambiguous; the policy retries until 202)",
      one("select count(*) from gaveup"),
      "select g.event_id, (select n from r where r.event_id = g.event_id) from gaveup g limit 5")
check("accepted plays missing from enriched/",
      one("select count(*) from acc where event_id not in (select event_id from e)"),
      "select event_id, region, hour_start from acc where event_id not in (select event_id from e) limit 5")
check("plays more than once in enriched/",
      one("select count(*) from (select event_id from e group by event_id having sum(n) > 1)"),
      "select event_id, sum(n) from e group by event_id having sum(n) > 1 limit 5")
check("enriched/ plays that were not accepted",
      one("select count(*) from e where event_id not in (select event_id from acc)"),
      "select event_id from e where event_id not in (select event_id from acc) limit 5")
check("enriched/ plays in another region or hour than sent",
      one("""select count(*) from e join acc using (event_id) where e.region <> acc.region
             or strptime(e.date || ' ' || e.hour, '%Y-%m-%d %H')::timestamptz <> acc.hour_start"""))

# The charts: per-song counts of plays_hourly, summed, against the accepted plays.
con.execute(f"""create table ph as select region, strptime(h, '%Y-%m-%d %H')::timestamptz as hour_start,
    sum(plays) as plays from read_csv('{os.path.join(dumps, "plays_hourly.csv")}', header=false,
    columns={{'region': 'varchar', 'h': 'varchar', 'song_id': 'varchar', 'plays': 'bigint'}})
    group by all""")
con.execute("""create table want as select region, hour_start, count(*) as plays from acc group by all
    union all select 'ALL', hour_start, count(*) from acc group by all""")
diff_sql = """select coalesce(w.region, p.region) as region, coalesce(w.hour_start, p.hour_start) as hour_start,
    coalesce(w.plays, 0) as accepted, coalesce(p.plays, 0) as charted
    from want w full join ph p on w.region = p.region and w.hour_start = p.hour_start
    where coalesce(w.plays, 0) <> coalesce(p.plays, 0)"""
check("region-hours whose plays_hourly sum differs from the accepted plays",
      one(f"select count(*) from ({diff_sql})"), diff_sql + " order by 2, 1 limit 5")
charted = one("select coalesce(sum(plays), 0) from ph where region <> 'ALL'")
check("plays charted minus plays accepted", charted - n_acc)

result = {
    "outcome_lines": n_lines,
    "accepted_plays": n_acc,
    "client_resent_plays": one("select count(*) from acc where lines > 1"),
    "sends_beyond_first": one("select coalesce(sum(sends), 0) from sends") - one("select count(*) from sends"),
    "rejected": one("select count(*) from rej"),
    "given_up": one("select count(*) from gaveup"),
    "raw_rows": one("select coalesce(sum(n), 0) from r"),
    "raw_duplicate_rows": one("select coalesce(sum(n), 0) - count(*) from r"),
    "enriched_rows": one("select coalesce(sum(n), 0) from e"),
    "charted_plays": charted,
    "region_hours": one("select count(*) from want where region <> 'ALL'"),
    "mismatches": {k: v for k, v in mismatches.items() if v},
    "mismatch_total": sum(abs(v) for v in mismatches.values()),
}
print(json.dumps(result))
if summary_path:
    with open(summary_path, "w") as f:
        json.dump(result, f, indent=1)
if n_acc == 0:
    print("MISMATCH: nothing was accepted; the run proves nothing")
    sys.exit(1)
sys.exit(1 if result["mismatch_total"] else 0)
