#!/usr/bin/env python3
"""Regenerates the fuzz seed corpus tests/fuzz/corpus/parquet/ (kept small).

  make_corpus.py TOPSONGS_BIN OUT_DIR

Seeds: small files from our writer, pyarrow (dictionary, v2 pages, DELTA_*,
BYTE_STREAM_SPLIT, every codec) and DuckDB; plus raw inputs for the
non-file modes of fuzz_parquet.c (first byte % 3: 0 page header, 1 value
decoder, 2 RLE + Thrift).
"""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck as cc  # noqa: E402
import duckdb  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402


def main():
    binary, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rows = cc.gen_rows(random.Random(5), 24)
    schema = ",".join(f"{n}:{t[1]}{'?' if o else ''}" for n, t, o in cc.columns())
    src = "".join(json.dumps({n: cc.to_json(t[0], r[n]) for n, t, _ in cc.columns()}) + "\n"
                  for r in rows)
    for k, variant in enumerate(cc.WRITE_VARIANTS[:8]):
        subprocess.run([binary, "parquet", "write", f"{out}/ours-{k}.parquet", "--schema",
                        schema, "--row-group-rows", "10"] + variant[:2] + variant[4:],
                       input=src.encode(), check=True)
    table = cc.arrow_table(rows)
    for k, opts in enumerate(cc.pyarrow_variants()):
        if k in (0, 3, 5, 7, 9, 10, 11):
            pq.write_table(table, f"{out}/pyarrow-{k}.parquet", **opts)
    con = duckdb.connect()
    con.register("src", table)
    for k, (codec, version) in enumerate([("snappy", "V1"), ("zstd", "V2")]):
        con.execute(f"COPY src TO '{out}/duckdb-{k}.parquet' (FORMAT parquet, "
                    f"COMPRESSION {codec}, PARQUET_VERSION {version})")
    rng = random.Random(9)
    for k in range(12):
        raw = bytes([k % 3]) + bytes([rng.randrange(256) for _ in range(rng.randrange(8, 64))])
        with open(f"{out}/raw-{k}", "wb") as f:
            f.write(raw)


if __name__ == "__main__":
    main()
