#!/usr/bin/env python3
"""Second half of bench/parquet.sh: the pyarrow and DuckDB runs on the same
rows (read from our file, untimed), the song_id counts, and the report.

  parquet_bench.py OUT_DIR [--md docs/benchmarks.md]
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


REPEAT = 2


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


def write_runs(out, codec, logical):
    ours = json.load(open(f"{out}/ours-write-{codec}.json"))
    table = pq.read_table(f"{out}/ours-{codec}.parquet")
    rows = []
    rows.append(("topsongs", ours["seconds"], ours["file_bytes"]))
    nosync = f"{out}/ours-nosync-{codec}.json"
    if os.path.exists(nosync):
        ns = json.load(open(nosync))
        rows.append(("topsongs, no fsync", ns["seconds"], ns["file_bytes"]))
    path = f"{out}/pyarrow-{codec}.parquet"
    t, _ = timed(lambda: pq.write_table(table, path, compression=codec))
    rows.append(("pyarrow", t, os.path.getsize(path)))
    for label, threads in [("DuckDB 1 thread", 1), ("DuckDB default threads", 0)]:
        con = duck(threads)
        con.register("t", table)
        path = f"{out}/duckdb-{codec}-{threads}.parquet"
        t, _ = timed(lambda: con.execute(
            f"COPY t TO '{path}' (FORMAT parquet, COMPRESSION {codec})"))
        rows.append((label, t, os.path.getsize(path)))
    del table
    return [(name, ours["rows"], t, size, logical) for name, t, size in rows]


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


def report(out):
    logical = json.load(open(f"{out}/ours-write-zstd.json"))["logical_bytes"]
    lines = ["## Parquet", "",
             "Measured by `bench/parquet.sh` (10 million play rows of the raw lake schema: "
             "event fields + Kafka partition, offset and ingest time; Zipf song and listener "
             "popularity; one day of event time). The same rows are written by each engine: "
             "pyarrow and DuckDB get them as an Arrow table read (untimed) from our file. "
             "Our write time includes `fsync` and the atomic rename, as the lake needs; theirs do "
             "not sync, so a second row shows ours without the `fsync` (`no_sync`), like for like. "
             "MB/s is logical data (the values' own bytes) per second; the ratio is logical "
             "bytes over file bytes. Every figure is the best of "
             f"{REPEAT} runs; the machine is shared with other work, and whole runs differ "
             "by about 10 %.", "",
             f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
             f"{platform.python_version()}, pyarrow {pyarrow.__version__}, DuckDB "
             f"{duckdb.__version__}; {time.strftime('%Y-%m-%d', time.gmtime())}.", ""]
    for codec in CODECS:
        lines += [f"### Write, {codec.upper()}", "",
                  "| engine | seconds | rows/s | MB/s | file MB | ratio |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, rows, t, size, lg in write_runs(out, codec, logical):
            lines.append(f"| {name} | {t:.2f} | {rows / t:,.0f} | {lg / t / 1e6:,.0f} | "
                         f"{size / 1e6:.1f} | {lg / size:.2f} |")
        lines.append("")
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
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    global REPEAT
    REPEAT = a.repeat
    section = report(a.out)
    print(section)
    if a.md:
        update_md(a.md, section)


if __name__ == "__main__":
    main()
