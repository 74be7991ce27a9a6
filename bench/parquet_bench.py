#!/usr/bin/env python3
"""Second half of bench/parquet.sh: the pyarrow and DuckDB runs on the same
rows (read from our file, untimed), the song_id counts, and the report.

  parquet_bench.py OUT_DIR [--repeat N] [--row-group ROWS] [--md docs/benchmarks.md]
"""
import argparse
import json
import os
import platform
import re
import subprocess
import time

import duckdb
import pyarrow
import pyarrow.parquet as pq

CODECS = ["zstd", "snappy"]


REPEAT = 3
ROW_GROUP = 1048576


def timed(fn):
    """Best of REPEAT runs (the machine is shared)."""
    best, out = None, None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        out = fn()
        t = time.perf_counter() - t0
        best = t if best is None else min(best, t)
    return best, out


def duck(threads):
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    return con


def pyarrow_write(table, path, codec, sync):
    """One pyarrow write like ours: previous file removed first, the same
    row groups, dictionary on; with sync, the file is fsync'd before the clock
    stops. Returns (wall seconds, CPU seconds of this process)."""
    if os.path.exists(path):
        os.remove(path)
    c0, t0 = time.process_time(), time.perf_counter()
    # dictionary_pagesize_limit: pyarrow's default, spelled out (ours: 1 MiB too).
    pq.write_table(table, path, compression=codec, row_group_size=ROW_GROUP,
                   use_dictionary=True, dictionary_pagesize_limit=1 << 20)
    if sync:
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return time.perf_counter() - t0, time.process_time() - c0


def write_runs(out, codec, logical):
    """Rows (engine, threads, fsync, seconds, file bytes), best of REPEAT."""
    res = []
    for v, threads, sync in [("1t", "1", "no"), ("1t-fsync", "1", "yes"),
                             ("2t-fsync", "1 + helper", "yes")]:
        o = json.load(open(f"{out}/ours-{codec}-{v}.json"))
        res.append(("topsongs", threads, sync, o["seconds"], o["file_bytes"]))
    table = pq.read_table(f"{out}/ours-{codec}.parquet")
    path = f"{out}/pyarrow-{codec}.parquet"
    best = {False: None, True: None}
    cpu = None
    for _ in range(REPEAT):  # interleaved, like ours
        for sync in (False, True):
            t, c = pyarrow_write(table, path, codec, sync)
            if best[sync] is None or t < best[sync]:
                best[sync] = t
                if not sync:
                    cpu = c / t
    size = os.path.getsize(path)
    res.append(("pyarrow", "1", "no", best[False], size))
    res.append(("pyarrow", "1", "yes", best[True], size))
    for label, threads in [("DuckDB", 1), ("DuckDB", 0)]:
        con = duck(threads)
        con.register("t", table)
        path = f"{out}/duckdb-{codec}-{threads}.parquet"

        def copy():
            if os.path.exists(path):
                os.remove(path)
            con.execute(f"COPY t TO '{path}' (FORMAT parquet, COMPRESSION {codec}, "
                        f"ROW_GROUP_SIZE {ROW_GROUP})")
        t, _ = timed(copy)
        res.append((label, str(threads) if threads else f"default ({os.cpu_count()})", "no",
                    t, os.path.getsize(path)))
    del table
    return res, cpu


def count_runs(out, codec):
    files = {"ours": f"{out}/ours-{codec}.parquet", "pyarrow's": f"{out}/pyarrow-{codec}.parquet"}
    res = []
    for fname, path in files.items():
        runs = [json.loads(subprocess.run([f"{out}/parquet_bench", "count", path], check=True,
                                          capture_output=True).stdout) for _ in range(REPEAT)]
        got = min(runs, key=lambda r: r["seconds"])
        res.append(("topsongs", fname, got["seconds"], (got["top"], got["top_plays"])))
        t, tab = timed(lambda: pq.read_table(path, columns=["song_id"]).group_by("song_id")
                       .aggregate([("song_id", "count")]))
        top = max(zip(tab.column(0).to_pylist(), tab.column(1).to_pylist()), key=lambda x: x[1])
        res.append(("pyarrow", fname, t, top))
        for label, threads in [("DuckDB 1 thread", 1), ("DuckDB default threads", 0)]:
            con = duck(threads)
            t, top = timed(lambda: con.execute(
                f"SELECT song_id, count(*) c FROM read_parquet('{path}') GROUP BY 1 "
                f"ORDER BY c DESC LIMIT 1").fetchall()[0])
            res.append((label, fname, t, tuple(top)))
    tops = {r[3] for r in res}
    assert len(tops) == 1, f"the engines disagree on the top song: {tops}"
    return res, got["rows"]


def verdict(res, sync):
    ours = next(r[3] for r in res if r[0] == "topsongs" and r[1] == "1" and r[2] == sync)
    theirs = next(r[3] for r in res if r[0] == "pyarrow" and r[2] == sync)
    return ours, theirs


def report(out):
    first = json.load(open(f"{out}/ours-zstd-1t.json"))
    logical, nrows = first["logical_bytes"], first["rows"]
    lines = ["## Parquet", "",
             "Measured by `bench/parquet.sh` (part of `make bench`; `REPEAT=3 bench/parquet.sh`). "
             f"{nrows:,} play rows in the raw lake schema — the columns ingest writes, taken "
             "from `ingest_raw_schema()` — with Zipf song and listener popularity over one day "
             "of event time. The same rows are written by each engine: pyarrow and DuckDB get "
             "them as an Arrow table read (untimed) from our single-thread file; ours gets them "
             "column by column in batches of 65,536 rows, each column's values contiguous like "
             "an Arrow array. Like for like: every engine writes row groups of "
             f"{ROW_GROUP:,} rows (pyarrow's default) with dictionary encoding on (ours and "
             "pyarrow: 1 MiB dictionary pages at most), into the same folder, after removing its previous file. "
             "*threads* is what the writer may use: our writer inline on the calling thread, "
             "and pyarrow (whose `write_table` has no threads option and encodes one column "
             "after the other) are single-threaded; \"1 + helper\" is our lake default, which "
             "compresses and writes on a helper thread. *fsync*: whether the time includes "
             "making the file durable (ours: fsync, rename, fsync of the folder, as the lake "
             "needs; pyarrow: an fsync of the file after `write_table`). MB/s is logical data "
             "(the values' own bytes) per second; the ratio is logical bytes over file bytes. "
             f"Every figure is the best of {REPEAT} runs, the variants interleaved; the "
             "machine is shared with other work.", "",
             f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
             f"{platform.python_version()}, pyarrow {pyarrow.__version__}, DuckDB "
             f"{duckdb.__version__}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", ""]
    verdicts = []
    for codec in CODECS:
        res, cpu = write_runs(out, codec, logical)
        lines += [f"### Write, {codec.upper()}", "",
                  "| engine | threads | fsync | seconds | rows/s | MB/s | file MB | ratio |",
                  "|---|---|---|---:|---:|---:|---:|---:|"]
        for name, threads, sync, t, size in res:
            lines.append(f"| {name} | {threads} | {sync} | {t:.2f} | {nrows / t:,.0f} | "
                         f"{logical / t / 1e6:,.0f} | {size / 1e6:.1f} | {logical / size:.2f} |")
        lines += ["", f"pyarrow's process used {cpu:.2f} s of CPU per second of its best "
                  "unsynced write (1.00 = one thread busy).", ""]
        for sync, what in [("no", "without fsync"), ("yes", "with fsync")]:
            ours, theirs = verdict(res, sync)
            verdicts.append(f"- {codec.upper()}, one thread each, {what}: ours {ours:.2f} s, "
                            f"pyarrow {theirs:.2f} s — pyarrow/ours = **{theirs / ours:.2f}** "
                            f"({'faster: met' if ours < theirs else 'not faster: not met'}).")
    lines += ["### Writing against pyarrow (issue 3: faster than pyarrow)", ""] + verdicts + [""]
    for codec in CODECS:
        res, rows = count_runs(out, codec)
        lines += [f"### Plays per song_id, {codec.upper()} files", "",
                  "| engine | file | seconds | rows/s |", "|---|---|---:|---:|"]
        for name, fname, t, _ in res:
            lines.append(f"| {name} | {fname} | {t:.3f} | {rows / t:,.0f} |")
        lines.append("")
    lines += ["Our count reads dictionary indices (`parquet_chunk_next(..., want_indices)`) "
              "and tallies per index, touching the song strings once per dictionary entry.", ""]
    return "\n".join(lines)


def update_md(path, section):
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    pat = re.compile(r"^## Parquet\n.*?(?=^## |\Z)", re.S | re.M)
    if pat.search(text):
        text = pat.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--md")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--row-group", type=int, default=1048576)
    a = ap.parse_args()
    global REPEAT, ROW_GROUP
    REPEAT = a.repeat
    ROW_GROUP = a.row_group
    section = report(a.out)
    print(section)
    if a.md:
        update_md(a.md, section)


if __name__ == "__main__":
    main()
