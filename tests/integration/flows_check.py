# The flows' exactness check (tests/integration/05xx): recomputes from the
# lake what enrich and aggregate should have produced, independently of the
# C code, and compares row for row with what they did produce.
#
#   flows_check.py LAKE DUMPDIR
#
# LAKE is a local folder with raw/ and enriched/; DUMPDIR holds CSV dumps of
# songs, plays_hourly, top_songs_hourly, top_songs_daily and
# flow_enriched_files (see dump_tables in flows_lib.sh). Exits non-zero with
# the first difference.
import csv, datetime, os, sys
from collections import defaultdict

import duckdb

lake, dumps = sys.argv[1], sys.argv[2]


def load(name):
    with open(os.path.join(dumps, name + ".csv"), newline="") as f:
        return [tuple(None if v == "" else v for v in row) for row in csv.reader(f)]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


con = duckdb.connect()
songs = load("songs")
con.execute("create table songs (song_id varchar, title varchar, artist varchar, genre varchar)")
if songs:
    con.executemany("insert into songs values (?, ?, ?, ?)", songs)
cols = "event_id, song_id, epoch_ms(ts) as ts_ms, region, date::varchar as date, hour::int as hour"
raw = f"read_parquet('{lake}/raw/**/*.parquet', hive_partitioning=true)"
enr = f"read_parquet('{lake}/enriched/**/*.parquet', hive_partitioning=true)"

# 1. enriched/ = raw/ without repeated event ids (per region and hour),
#    joined with the catalog; unknown songs kept with null text.
expect = con.execute(f"""
    with r as (select *, row_number() over (partition by region, date, hour, event_id
                                            order by kafka_partition, kafka_offset) as k
               from {raw})
    select r.event_id, r.song_id, epoch_ms(r.ts), r.region, r.date::varchar, r.hour::int,
           s.title, s.artist, s.genre
    from r left join songs s using (song_id) where k = 1""").fetchall()
got = con.execute(f"select {cols}, title, artist, genre from {enr}").fetchall()
if len(got) != len(set(got)):
    fail("enriched/ holds a row twice")
if sorted(got) != sorted(expect):
    a, b = set(got), set(expect)
    fail(f"enriched/ differs from dedup+join over raw/: {len(got)} rows vs {len(expect)}; "
         f"extra {sorted(a - b)[:3]}, missing {sorted(b - a)[:3]}")
dup = con.execute(f"select count(*) from (select region, date, hour, event_id from {enr} "
              "group by all having count(*) > 1)").fetchall()[0][0]
if dup:
    fail(f"{dup} event ids twice in an hour of enriched/")
nraw = con.execute(f"select count(*) from {raw}").fetchall()[0][0]
unknown = con.execute(f"select count(*) from {enr} where title is null").fetchall()[0][0]
files = load("flow_enriched_files")  # rows, duplicates, unknown_songs
if sum(int(f[1]) for f in files) != len(got) or sum(int(f[2]) for f in files) != nraw - len(got):
    fail("flow_enriched_files rows/duplicates do not add up to the lake")
if sum(int(f[3]) for f in files) != unknown:
    fail(f"flow_enriched_files counts {sum(int(f[3]) for f in files)} unknown plays, lake {unknown}")

# 2. plays per (region, hour, song) and region ALL.
plays = defaultdict(int)
for region, date, hour, song, n in con.execute(
        f"select region, date::varchar, hour::int, song_id, count(*) from {enr} group by all").fetchall():
    h = datetime.datetime.fromisoformat(date) + datetime.timedelta(hours=hour)
    plays[(region, h, song)] += n
    plays[("ALL", h, song)] += n
got_plays = {(r, datetime.datetime.strptime(h, "%Y-%m-%d %H"), s): int(n)
             for r, h, s, n in load("plays_hourly")}
if got_plays != dict(plays):
    a, b = set(got_plays.items()), set(plays.items())
    fail(f"plays_hourly differs: extra {sorted(a - b)[:3]}, missing {sorted(b - a)[:3]}")
title = {s[0]: s[1:] for s in songs}


# 3. the charts: top 10 by plays desc, song_id asc; facts from the history.
def charts(counts, step):
    per = defaultdict(lambda: defaultdict(int))
    for (region, period, song), n in counts.items():
        per[(region, period)][song] += n
    out = []
    history = defaultdict(list)  # (region, song) -> periods charted, in order
    ranks = {}
    for region, period in sorted(per):
        top = sorted(per[(region, period)].items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        for rank, (song, n) in enumerate(top, 1):
            ranks[(region, period, song)] = rank
            past = history[(region, song)]
            prev = ranks.get((region, period - step, song))
            peak = min([ranks[(region, p, song)] for p in past] + [rank])
            entry = None if past and past[-1] == period - step else ("RE-ENTRY" if past else "NEW")
            t = title.get(song, (None, None, None))
            out.append((region, period, rank, song, t[0], t[1], t[2], n, prev,
                        None if prev is None else prev - rank, peak, len(past) + 1, entry))
            past.append(period)
    return out


def typed(rows, parse):
    return [(r[0], parse(r[1]), int(r[2]), r[3], r[4], r[5], r[6], int(r[7]),
             None if r[8] is None else int(r[8]), None if r[9] is None else int(r[9]),
             int(r[10]), int(r[11]), r[12]) for r in rows]


def compare(name, got, want):
    got, want = sorted(got, key=str), sorted(want, key=str)
    if got != want:
        a, b = set(got), set(want)
        fail(f"{name} differs from the recomputation ({len(got)} rows vs {len(want)}): "
             f"extra {sorted(a - b, key=str)[:2]}, missing {sorted(b - a, key=str)[:2]}")


compare("top_songs_hourly", typed(load("top_songs_hourly"), lambda s: datetime.datetime.strptime(s, "%Y-%m-%d %H")),
        charts(plays, datetime.timedelta(hours=1)))
daily = defaultdict(int)
for (region, h, song), n in plays.items():
    daily[(region, h.date(), song)] += n
compare("top_songs_daily", typed(load("top_songs_daily"), datetime.date.fromisoformat),
        charts(daily, datetime.timedelta(days=1)))
print(f"ok: enriched/ {len(got)} rows ({nraw - len(got)} duplicates dropped, {unknown} unknown songs); "
      f"plays_hourly {len(got_plays)} rows; charts equal the recomputation")
