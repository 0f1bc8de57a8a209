"""Running the SQL files in fiscal/sql against a lake snapshot.

One DuckDB connection per process and lake directory; every query runs on its own
`cursor()` (a connection is not safe to share across threads). The connection can read
only the lake directory and the empty-table stand-ins, and its configuration is locked, so
nothing run through it can touch other files. Queries are our own SQL; every value in them
is a bound parameter, including the list of parquet files of each table.

The SQL files name the lake's tables (`counties`, `treasury`, …) as if they existed: each
query gets them bound here, once, as common table expressions over the snapshot's parquet
files. They are not materialised, so every use reads only the columns and rows it needs.
"""
from __future__ import annotations

import datetime as dt
import tempfile
import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from . import vocabulary
from .lake import TABLE_ORDER, Snapshot, table_column_types

if TYPE_CHECKING:
    import pandas as pd

SQL_DIR = Path(__file__).resolve().parent / "sql"
_SOURCES = ",\n".join(
    f"{kind} AS NOT MATERIALIZED (FROM read_parquet(${kind}, union_by_name := true))" for kind in TABLE_ORDER)

_SQL_TYPES = {"string": "VARCHAR", "date32": "DATE", "float64": "DOUBLE", "int32": "INTEGER", "int64": "BIGINT",
              "binary": "BLOB", "timestamp_utc": "TIMESTAMPTZ"}

_connections: dict[Path, duckdb.DuckDBPyConnection] = {}
_lock = threading.Lock()

# Monthly treasury flows (treasury_months.sql) kept in the process's own database, one set
# of rows per treasury version and month range: the dashboard's indicator panels for any
# as-of date of a month share them instead of summing a million daily rows each time.
_TREASURY_MONTHS_TABLE = """CREATE TABLE treasury_months (key VARCHAR, county_code VARCHAR, month DATE,
                                                      inflow HUGEINT, outflow HUGEINT)"""  # in 1e-6 万元
_TREASURY_MONTHS_KEPT = 8
_treasury_months_keys: dict[Path, list[str]] = {}
_treasury_months_lock = threading.Lock()  # one summing at a time; the others then find it kept


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@cache
def statement(name: str) -> tuple[str, frozenset[str]]:
    """fiscal/sql/<name>.sql with the lake's tables bound, and the named parameters it takes
    (as DuckDB's parser sees them: a `$name` in a comment or a string is not one)."""
    body = sql_text(name)
    [parsed] = duckdb.extract_statements(body)  # exactly one statement per file
    query = parsed.query.strip()
    if query[:4].upper() == "WITH" and query[4:5].isspace():
        sql = f"WITH\n{_SOURCES},\n{query[5:]}"
    else:
        sql = f"WITH\n{_SOURCES}\n{query}"
    # the sources add one parameter per table ($treasury, …) and nothing else
    return sql, frozenset(parsed.named_parameters) | frozenset(TABLE_ORDER)


@cache
def _empty_tables_dir() -> Path:
    """Schema-only parquet files, one per table, so a table without data still has columns."""
    folder = Path(tempfile.mkdtemp(prefix="fiscal-empty-"))
    # Written by DuckDB from SQL types: importing pyarrow, or handing DuckDB an Arrow table
    # (which imports pandas), would cost `fiscal metrics` more than its query.
    with duckdb.connect(":memory:") as con:
        for kind in TABLE_ORDER:
            columns = ", ".join(f'NULL::{_SQL_TYPES[type_name]} AS "{name}"' for name, type_name in table_column_types(kind))
            con.execute(f"COPY (SELECT {columns} LIMIT 0) TO '{folder / kind}.parquet' (FORMAT parquet)")
    return folder


def connection(root: Path) -> duckdb.DuckDBPyConnection:
    with _lock:
        if root not in _connections:
            con = duckdb.connect(":memory:")
            con.execute("SET allowed_directories = $dirs", {"dirs": [f"{root}/", f"{_empty_tables_dir()}/"]})
            con.execute("SET enable_external_access = false")
            con.execute(sql_text("macros"))
            con.execute(vocabulary.sql_macros())  # the label macros, from the one vocabulary
            con.execute(_TREASURY_MONTHS_TABLE)
            con.execute("SET lock_configuration = true")
            _connections[root] = con
        return _connections[root]


def treasury_months(snapshot: Snapshot, first_month: dt.date, end_month: dt.date) -> str:
    """The key of the monthly treasury flows of [first_month, end_month) of this snapshot in
    the `treasury_months` table (summed now unless kept from an earlier call)."""
    key = "|".join([*snapshot.files["treasury"], first_month.isoformat(), end_month.isoformat()])
    with _treasury_months_lock:
        con = connection(snapshot.root)
        kept = _treasury_months_keys.setdefault(snapshot.root, [])
        if key in kept:
            kept.remove(key)
        else:
            insert = f"INSERT INTO treasury_months SELECT $key, * FROM ({statement('treasury_months')[0]})"
            with _executed("treasury_months", snapshot, {"first_month": first_month, "end_month": end_month},
                           sql=insert, extra={"key": key}):
                pass
            with con.cursor() as cursor:
                for old in kept[:-_TREASURY_MONTHS_KEPT + 1]:
                    cursor.execute("DELETE FROM treasury_months WHERE key = $key", {"key": old})
            del kept[:-_TREASURY_MONTHS_KEPT + 1]
        kept.append(key)
    return key


def source_params(snapshot: Snapshot) -> dict[str, list[str]]:
    empty = _empty_tables_dir()
    return {kind: [*snapshot.files[kind], str(empty / f"{kind}.parquet")] for kind in TABLE_ORDER}


def run(name: str, snapshot: Snapshot, *, frames: dict | None = None, **params) -> pd.DataFrame:
    """Run fiscal/sql/<name>.sql with the snapshot's tables and the given parameters bound.

    `frames` are registered as views on the query's own cursor (e.g. tiers computed by an
    earlier query, joined with a record table)."""
    with _executed(name, snapshot, params, frames) as cursor:
        return cursor.df()


def records(name: str, snapshot: Snapshot, **params) -> list[dict]:
    """Like `run`, as plain Python rows (dates, floats, lists, None): no pandas needed."""
    with _executed(name, snapshot, params) as cursor:
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def json_objects(name: str, snapshot: Snapshot, keys: tuple[str, ...], order_by: str, **params) -> list[str]:
    """The rows of fiscal/sql/<name>.sql as JSON object texts with exactly `keys`, in that
    order, sorted by `order_by` (column names of ours): written by DuckDB (ISO dates, lists
    as arrays, a NaN as null like a missing value), so there is no Python call per value."""
    sql, _ = statement(name)
    with _executed(name, snapshot, params, describe=True) as cursor:
        types = dict((column, kind) for column, kind, *_ in cursor.fetchall())
    fields = ", ".join(
        f"{key} := CASE WHEN isnan({key}) THEN NULL ELSE {key} END" if types[key] == "DOUBLE" else f"{key} := {key}"
        for key in keys)
    wrapped = f"SELECT to_json(struct_pack({fields})) FROM ({sql}) ORDER BY {order_by}"
    with _executed(name, snapshot, params, sql=wrapped) as cursor:
        return [text for (text,) in cursor.fetchall()]


@contextmanager
def _executed(name: str, snapshot: Snapshot, params: dict, frames: dict | None = None, *, describe: bool = False,
              sql: str | None = None, extra: dict | None = None):
    """A cursor that has run fiscal/sql/<name>.sql (or `sql`, a statement built around it: its
    parameters and those in `extra`), or only described its columns."""
    own_sql, wanted = statement(name)
    sql = ("DESCRIBE " if describe else "") + (sql or own_sql)
    available = {**source_params(snapshot), **params}
    missing = sorted(p for p in wanted if p not in available)
    if missing:
        raise KeyError(f"{name}.sql needs parameters {missing}")
    cursor = connection(snapshot.root).cursor()
    try:
        for view_name, frame in (frames or {}).items():
            cursor.register(view_name, frame)
        yield cursor.execute(sql, {**{p: available[p] for p in wanted}, **(extra or {})})
    finally:
        cursor.close()
