#!/usr/bin/env python3
"""Cross-validation of topsongs' Parquet codec with pyarrow and DuckDB.

  crosscheck.py ours TOPSONGS_BIN DIR [--rows N] [--seed S]
      random rows -> `topsongs parquet write` with every codec and encoding
      option -> read back by pyarrow and by DuckDB: values, logical types and
      row-group statistics must match what was written.
  crosscheck.py theirs TOPSONGS_BIN DIR [--rows N] [--seed S]
      the same kind of rows written by pyarrow (dictionary on/off, data page
      v1/v2, every codec, small and large row groups, the DELTA_* and
      BYTE_STREAM_SPLIT encodings) and by DuckDB (every codec, v1 and v2) ->
      `topsongs parquet cat`: values must match.

Exits non-zero, naming the file, column and row, at the first mismatch.
"""
import argparse
import datetime
import json
import math
import os
import random
import struct
import subprocess
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

EPOCH = datetime.date(1970, 1, 1)

# (name, our --schema type, pyarrow type, DuckDB type name)
TYPES = [
    ("b", "bool", pa.bool_(), "BOOLEAN"),
    ("i32", "int32", pa.int32(), "INTEGER"),
    ("i64", "int64", pa.int64(), "BIGINT"),
    ("f32", "float", pa.float32(), "FLOAT"),
    ("f64", "double", pa.float64(), "DOUBLE"),
    ("s", "string", pa.string(), "VARCHAR"),
    ("bin", "binary", pa.binary(), "BLOB"),
    ("d", "date", pa.date32(), "DATE"),
    ("tsm", "timestamp_ms", pa.timestamp("ms", tz="UTC"), "TIMESTAMP WITH TIME ZONE"),
    ("tsu", "timestamp_us", pa.timestamp("us", tz="UTC"), "TIMESTAMP WITH TIME ZONE"),
]
WORDS = ["", "a", "pop", "Beyoncé", "日本語", "naïve café", "x" * 40, "quote\"back\\slash",
         "tab\tnew\nline"]


def columns():
    """Every type, required and optional."""
    cols = []
    for t in TYPES:
        cols.append((t[0] + "_req", t, False))
        cols.append((t[0] + "_opt", t, True))
    return cols


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def gen_value(rng, kind, card):
    pick = rng.randrange(card) if card else None
    r = random.Random(pick) if card else rng
    if kind == "b":
        return r.random() < 0.5
    if kind == "i32":
        return r.randrange(-2**31, 2**31)
    if kind == "i64":
        return r.randrange(-2**63, 2**63) if r.random() < 0.5 else r.randrange(-1000, 1000)
    if kind == "f32":
        return f32(r.uniform(-1e6, 1e6))
    if kind == "f64":
        x = r.random()
        if x < 0.01:
            return r.choice([math.inf, -math.inf, -0.0])
        return r.uniform(-1e12, 1e12)
    if kind == "s":
        w = r.choice(WORDS)
        return w + str(r.randrange(10**6)) if r.random() < 0.5 else w
    if kind == "bin":
        return bytes(r.randrange(32, 127) for _ in range(r.randrange(0, 30)))
    if kind == "d":
        return r.randrange(-20000, 40000)
    if kind == "tsm":
        return r.randrange(-10**12, 4 * 10**12)
    return r.randrange(-10**15, 4 * 10**15)


def gen_rows(rng, n):
    cols = columns()
    cards = {name: rng.choice([0, 3, 50, 1000]) for name, _, _ in cols}
    nullp = {name: (rng.choice([0.0, 0.1, 0.5, 1.0]) if opt else 0.0) for name, _, opt in cols}
    rows = []
    for _ in range(n):
        row = {}
        for name, t, opt in cols:
            row[name] = None if rng.random() < nullp[name] else gen_value(rng, t[0], cards[name])
        rows.append(row)
    return rows


# ---- canonical forms: what must compare equal ----

def canon(kind, v):
    if v is None:
        return None
    if kind == "f32":
        return "nan" if math.isnan(v) else struct.pack("<f", v)
    if kind == "f64":
        return "nan" if math.isnan(v) else struct.pack("<d", v)
    if kind == "bin" and isinstance(v, str):
        return v.encode()
    if kind == "tsm":
        return v * 1000  # microseconds, whatever unit the file uses
    return v


def parse_ts(s):
    """Our RFC 3339 output -> microseconds."""
    date, rest = s[:10], s[11:-1]
    days = (datetime.date.fromisoformat(date) - EPOCH).days
    hms, frac = rest.split(".")
    h, m, sec = (int(x) for x in hms.split(":"))
    us = int((frac + "000000")[:6])
    return ((days * 24 + h) * 60 + m) * 60 * 10**6 + sec * 10**6 + us


def from_ours(kind, v):
    """A value of `topsongs parquet cat` JSON -> canonical."""
    if v is None:
        return None
    if kind in ("f32", "f64"):
        if isinstance(v, str):
            v = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[v]
        return canon(kind, f32(v) if kind == "f32" else float(v))
    if kind == "d":
        return (datetime.date.fromisoformat(v) - EPOCH).days
    if kind in ("tsm", "tsu"):
        return parse_ts(v)
    return canon(kind, v)


def to_json(kind, v):
    """A source value -> what `topsongs parquet write` reads."""
    if v is None:
        return None
    if kind in ("f32", "f64") and (math.isinf(v) or math.isnan(v)):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if kind == "bin":
        return v.decode()
    if kind == "d":
        return (EPOCH + datetime.timedelta(days=v)).isoformat() if v % 2 else v
    return v


def expect_rows(rows):
    out = []
    for row in rows:
        out.append({name: canon(t[0], row[name]) for name, t, _ in columns()})
    return out


def compare(label, want, got, names):
    if len(want) != len(got):
        sys.exit(f"FAIL {label}: {len(got)} rows, expected {len(want)}")
    for i, (w, g) in enumerate(zip(want, got)):
        for name in names:
            if w[name] != g[name] and not (w[name] == "nan" == g[name]):
                sys.exit(f"FAIL {label}: row {i} column {name}: got {g[name]!r}, "
                         f"expected {w[name]!r}")


# ---- readers ----

def read_pyarrow(path):
    t = pq.read_table(path)
    rows = [{} for _ in range(t.num_rows)]
    for name, typ, _ in columns():
        col = t.column(name)
        if pa.types.is_timestamp(col.type):
            col = col.cast(pa.int64()).to_pylist()
            col = [None if v is None else v * (1000 if t.schema.field(name).type.unit == "ms"
                                               else 1) for v in col]
        elif pa.types.is_date32(col.type):
            col = col.cast(pa.int32()).to_pylist()
        else:
            col = [canon(typ[0], v) for v in col.to_pylist()]
        for i, v in enumerate(col):
            rows[i][name] = v
    return t, rows


def read_duckdb(path):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    exprs = []
    for name, typ, _ in columns():
        q = f'"{name}"'
        if typ[0] in ("tsm", "tsu"):
            exprs.append(f"epoch_us({q})")
        elif typ[0] == "d":
            exprs.append(f"({q} - DATE '1970-01-01')")
        else:
            exprs.append(q)
    src = f"read_parquet('{path}')"
    types = dict((r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall())
    data = con.execute(f"SELECT {', '.join(exprs)} FROM {src}").fetchall()
    names = [c[0] for c in columns()]
    rows = []
    for tup in data:
        rows.append({n: v if t[0] in ("tsm", "tsu") else canon(t[0], v)
                     for n, t, v in zip(names, [c[1] for c in columns()], tup)})
    return types, rows


def read_ours(binary, path):
    out = subprocess.run([binary, "parquet", "cat", path], capture_output=True)
    if out.returncode:
        sys.exit(f"FAIL topsongs parquet cat {path}: {out.stderr.decode(errors='replace')}")
    rows = []
    for line in out.stdout.decode().splitlines():
        obj = json.loads(line)
        rows.append({name: from_ours(t[0], obj[name]) for name, t, _ in columns()})
    return rows


# ---- our files, read by them ----

WRITE_VARIANTS = [
    ["--codec", "none"],
    ["--codec", "snappy"],
    ["--codec", "zstd"],
    ["--codec", "gzip"],
    ["--codec", "zstd", "--no-dictionary"],
    ["--codec", "snappy", "--page-v2"],
    ["--codec", "zstd", "--page-v2", "--no-dictionary"],
    ["--codec", "zstd", "--dict-max-bytes", "300"],
    ["--codec", "snappy", "--row-group-rows", "97", "--page-rows", "13"],
    ["--codec", "none", "--row-group-rows", "1", "--page-v2"],
]


def check_types(label, t, dtypes):
    for name, typ, opt in columns():
        field = t.schema.field(name)
        if field.type != typ[2]:
            sys.exit(f"FAIL {label}: pyarrow sees {name} as {field.type}, expected {typ[2]}")
        if field.nullable != opt:
            sys.exit(f"FAIL {label}: pyarrow sees {name} nullable={field.nullable}")
        if dtypes[name] != typ[3]:
            sys.exit(f"FAIL {label}: DuckDB sees {name} as {dtypes[name]}, expected {typ[3]}")


def check_stats(label, path, rows):
    md = pq.ParquetFile(path).metadata
    first = 0
    names = [c[0] for c in columns()]
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        part = rows[first:first + rg.num_rows]
        for j, (name, typ, _) in enumerate(columns()):
            st = rg.column(j).statistics
            vals = [r[name] for r in part if r[name] is not None]
            nulls = len(part) - len(vals)
            if st is None or st.null_count != nulls:
                sys.exit(f"FAIL {label}: row group {g} {name}: null_count "
                         f"{st and st.null_count}, expected {nulls}")
            if typ[0] in ("i32", "i64", "s", "d", "b") and vals:
                if not st.has_min_max:
                    sys.exit(f"FAIL {label}: row group {g} {name}: no min/max")
                lo, hi = min(vals), max(vals)
                smin, smax = st.min, st.max
                if typ[0] == "d":
                    smin, smax = (smin - EPOCH).days, (smax - EPOCH).days
                if typ[0] == "s":
                    lo = min(vals, key=lambda s: s.encode())
                    hi = max(vals, key=lambda s: s.encode())
                if (smin, smax) != (lo, hi):
                    sys.exit(f"FAIL {label}: row group {g} {name}: min/max {smin!r}/{smax!r},"
                             f" expected {lo!r}/{hi!r}")
        first += rg.num_rows
    assert first == len(rows) and names


def run_ours(binary, workdir, rows):
    want = expect_rows(rows)
    names = [c[0] for c in columns()]
    schema = ",".join(f"{n}:{t[1]}{'?' if opt else ''}" for n, t, opt in columns())
    src = "".join(json.dumps({n: to_json(t[0], r[n]) for n, t, _ in columns()}) + "\n"
                  for r in rows)
    for k, variant in enumerate(WRITE_VARIANTS):
        path = os.path.join(workdir, f"ours-{k}.parquet")
        label = f"{path} ({' '.join(variant)})"
        out = subprocess.run([binary, "parquet", "write", path, "--schema", schema] + variant,
                             input=src.encode(), capture_output=True)
        if out.returncode:
            sys.exit(f"FAIL write {label}: {out.stderr.decode(errors='replace')}")
        t, got = read_pyarrow(path)
        compare(label + " by pyarrow", want, got, names)
        dtypes, got = read_duckdb(path)
        compare(label + " by DuckDB", want, got, names)
        check_types(label, t, dtypes)
        check_stats(label, path, rows)
        compare(label + " by topsongs", want, read_ours(binary, path), names)
        print(f"ok   ours -> pyarrow, DuckDB: {' '.join(variant)}")


# ---- their files, read by us ----

def arrow_table(rows):
    arrays, fields = [], []
    for name, typ, opt in columns():
        vals = [r[name] for r in rows]
        if typ[0] == "d":
            vals = [None if v is None else EPOCH + datetime.timedelta(days=v) for v in vals]
        arrays.append(pa.array(vals, type=typ[2]) if typ[0] not in ("tsm", "tsu") else
                      pa.array(vals, type=pa.int64()).cast(typ[2]))
        fields.append(pa.field(name, typ[2], nullable=opt))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def pyarrow_variants():
    delta = {}
    for name, typ, _ in columns():
        enc = {"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
               "tsu": "DELTA_BINARY_PACKED", "d": "DELTA_BINARY_PACKED",
               "s": "DELTA_BYTE_ARRAY", "bin": "DELTA_LENGTH_BYTE_ARRAY",
               "f32": "BYTE_STREAM_SPLIT", "f64": "BYTE_STREAM_SPLIT",
               "tsm": "BYTE_STREAM_SPLIT"}.get(typ[0])
        if enc:
            delta[name] = enc
    out = []
    for codec in ["NONE", "SNAPPY", "GZIP", "ZSTD"]:
        for version in ["1.0", "2.0"]:
            out.append(dict(compression=codec, data_page_version=version, use_dictionary=True,
                            row_group_size=100000))
    out.append(dict(compression="ZSTD", use_dictionary=False, row_group_size=100))
    out.append(dict(compression="SNAPPY", use_dictionary=True, row_group_size=37,
                    data_page_size=512, data_page_version="2.0"))
    out.append(dict(compression="ZSTD", use_dictionary=False, column_encoding=delta,
                    data_page_version="2.0"))
    out.append(dict(compression="NONE", use_dictionary=False, column_encoding=delta,
                    data_page_size=300))
    return out


def run_theirs(binary, workdir, rows):
    want = expect_rows(rows)
    names = [c[0] for c in columns()]
    table = arrow_table(rows)
    for k, opts in enumerate(pyarrow_variants()):
        path = os.path.join(workdir, f"pyarrow-{k}.parquet")
        pq.write_table(table, path, **opts)
        compare(f"{path} {opts}", want, read_ours(binary, path), names)
        print(f"ok   pyarrow -> ours: {opts}")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("src", table)
    for k, (codec, version, rgs) in enumerate([("uncompressed", "V1", 100000),
                                               ("snappy", "V1", 2048),
                                               ("zstd", "V1", 100000), ("gzip", "V1", 100000),
                                               ("zstd", "V2", 2048), ("snappy", "V2", 100000)]):
        path = os.path.join(workdir, f"duckdb-{k}.parquet")
        con.execute(f"COPY src TO '{path}' (FORMAT parquet, COMPRESSION {codec}, "
                    f"ROW_GROUP_SIZE {rgs}, PARQUET_VERSION {version})")
        compare(f"{path} DuckDB {codec} {version}", want, read_ours(binary, path), names)
        print(f"ok   DuckDB -> ours: {codec} {version} row groups of {rgs}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["ours", "theirs"])
    ap.add_argument("binary")
    ap.add_argument("dir")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rows = gen_rows(rng, a.rows)
    os.makedirs(a.dir, exist_ok=True)
    (run_ours if a.mode == "ours" else run_theirs)(a.binary, a.dir, rows)


if __name__ == "__main__":
    main()
