"""Running the SQL files in fiscal/sql against a lake snapshot.

One DuckDB connection per process and lake directory; every query runs on its own
`cursor()` (a connection is not safe to share across threads). The connection can reach
only the lake directory and the lake's cache directory, and its configuration is locked,
so nothing run through it can touch other files. Queries are our own SQL; every value in them
is a bound parameter, including the list of parquet files of each table.

The SQL files name the lake's tables (`counties`, `treasury`, …) as if they existed: each
query gets them bound here, once, as common table expressions over the snapshot's parquet
files. They are not materialised, so every use reads only the columns and rows it needs.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
import threading
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from . import settings, vocabulary
from .lake import TABLE_ORDER, Snapshot, table_column_types

if TYPE_CHECKING:
    import pandas as pd

SQL_DIR = Path(__file__).resolve().parent / "sql"
_SQL_TYPES = {"string": "VARCHAR", "date32": "DATE", "float64": "DOUBLE", "int32": "INTEGER", "int64": "BIGINT",
              "binary": "BLOB", "timestamp_utc": "TIMESTAMPTZ"}

_connections: dict[Path, duckdb.DuckDBPyConnection] = {}
_lock = threading.Lock()

# Monthly treasury flows (treasury_months.sql) kept in the process's own database, one set
# of rows per treasury version and month range: the dashboard's indicator panels for any
# as-of date of a month share them instead of summing a million daily rows each time.
_TREASURY_MONTHS_TABLE = """CREATE TABLE treasury_months (key INTEGER, county_code VARCHAR, month DATE,
                                                      inflow HUGEINT, outflow HUGEINT)"""  # in 1e-6 万元
_TREASURY_MONTHS_KEPT = 8
# …and on disk, in the cache directory beside the lake, so that a new process (the command
# line, a restarted server) reads some 34 K summed rows instead of summing 3 M daily ones.
_MONTHS_FILES_KEPT = 16
# per lake: the treasury files and months of each set kept → its key, a small number (the
# files' names repeated on every row would cost more to insert than the rows themselves)
_treasury_months_keys: dict[Path, dict[str, int]] = {}
_treasury_months_numbers = itertools.count()
_treasury_months_lock = threading.Lock()  # one summing at a time; the others then find it kept


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


_COMMENT_OR_TEXT = re.compile(r"--[^\n]*|/\*.*?\*/|'(?:[^']|'')*'", re.DOTALL)
_PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")


def parsed(body: str) -> tuple[str, frozenset[str]]:
    """The one statement of a SQL file (without its leading comments and final semicolon) and
    its named parameters: each `$name` outside comments and quoted text. (The same as DuckDB's
    parser finds, for every file: tests/test_queries.py; parsing there costs a command 50 ms.)"""
    code = _COMMENT_OR_TEXT.sub(" ", body)
    query = re.sub(r"\A(\s*--[^\n]*\n)*", "", body).strip().removesuffix(";").rstrip()
    return query, frozenset(_PARAMETER.findall(code))


@cache
def statement(name: str, empty_tables: frozenset[str] = frozenset()) -> tuple[str, frozenset[str]]:
    """fiscal/sql/<name>.sql with the lake's tables bound, and the named parameters it takes.

    A table reads its parquet files (the parameter named like the table; a Delta table's files
    all have its schema); a table in `empty_tables` has no files yet, only its columns."""
    query, parameters = parsed(sql_text(name))
    sources = ",\n".join(f"{kind} AS NOT MATERIALIZED ({_table_source(kind, kind not in empty_tables)})"
                          for kind in TABLE_ORDER)
    if query[:4].upper() == "WITH" and query[4:5].isspace():
        sql = f"WITH\n{sources},\n{query[5:]}"
    else:
        sql = f"WITH\n{sources}\n{query}"
    # the sources add one parameter per table with files ($treasury, …) and nothing else
    return sql, parameters | (frozenset(TABLE_ORDER) - empty_tables)


def _table_source(kind: str, has_files: bool) -> str:
    if has_files:
        return f"FROM read_parquet(${kind}, union_by_name := true)"
    columns = ", ".join(f'NULL::{_SQL_TYPES[type_name]} AS "{name}"' for name, type_name in table_column_types(kind))
    return f"SELECT {columns} LIMIT 0"


def cache_dir_for(lake_root: Path) -> Path | None:
    """Where derived summaries of a lake are kept: env FISCAL_CACHE, else <lake parent>/cache/<lake
    name>; None when it cannot be written (a read-only deployment) or lies inside the lake."""
    lake_root = Path(lake_root).resolve()
    folder = settings.cache_dir(lake_root)
    if folder.is_relative_to(lake_root):
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK | os.X_OK) else None


def connection(root: Path) -> duckdb.DuckDBPyConnection:
    with _lock:
        if root not in _connections:
            con = duckdb.connect(":memory:")
            cache = cache_dir_for(root)
            con.execute("SET allowed_directories = $dirs", {"dirs": [f"{root}/", *([f"{cache}/"] if cache else [])]})
            con.execute("SET enable_external_access = false")
            con.execute(sql_text("macros"))
            con.execute(vocabulary.sql_macros())  # the label macros, from the one vocabulary
            con.execute(_TREASURY_MONTHS_TABLE)
            con.execute("SET lock_configuration = true")
            _connections[root] = con
        return _connections[root]


def treasury_months(snapshot: Snapshot, first_month: dt.date, end_month: dt.date) -> int:
    """The key of the monthly treasury flows of [first_month, end_month) of this snapshot in
    the `treasury_months` table (summed now unless kept from an earlier call)."""
    sources = "|".join([*snapshot.files["treasury"], first_month.isoformat(), end_month.isoformat()])
    with _treasury_months_lock:
        con = connection(snapshot.root)
        kept = _treasury_months_keys.setdefault(snapshot.root, {})
        key = kept.pop(sources, None)
        if key is None:
            key = next(_treasury_months_numbers)
            _load_treasury_months(snapshot, first_month, end_month, key)
            with con.cursor() as cursor:
                for old in list(kept)[:-_TREASURY_MONTHS_KEPT + 1]:
                    cursor.execute("DELETE FROM treasury_months WHERE key = $key", {"key": kept.pop(old)})
        kept[sources] = key  # the most recently used last
    return key


def _load_treasury_months(snapshot: Snapshot, first_month: dt.date, end_month: dt.date, key: int) -> None:
    """Put the monthly flows under `key`: from the cache file when one was written for exactly
    these treasury files, months and SQL, else summed now and written there (atomically)."""
    cache = cache_dir_for(snapshot.root)
    saved = cache / _months_file_name(snapshot, first_month, end_month) if cache else None
    with connection(snapshot.root).cursor() as cursor:
        if saved is not None and saved.exists():
            try:
                cursor.execute("INSERT INTO treasury_months SELECT $key, * FROM read_parquet($file)",
                               {"key": key, "file": str(saved)})
                return
            except duckdb.Error:  # unreadable (a partial copy, a disk error): sum again
                cursor.execute("DELETE FROM treasury_months WHERE key = $key", {"key": key})
    with _executed("treasury_months", snapshot, {"first_month": first_month, "end_month": end_month},
                   around="INSERT INTO treasury_months SELECT $key, * FROM ({query})", extra={"key": key}):
        pass
    if saved is not None:
        _save_treasury_months(snapshot.root, key, saved)


def _months_file_name(snapshot: Snapshot, first_month: dt.date, end_month: dt.date) -> str:
    """A name that changes with the treasury files (path, size, time written), the months and
    the SQL that sums them: a file found under it holds exactly what summing would give."""
    parts = [sql_text("treasury_months"), first_month.isoformat(), end_month.isoformat()]
    for path in snapshot.files["treasury"]:
        stat = os.stat(path)
        parts.append(f"{path}|{stat.st_size}|{stat.st_mtime_ns}")
    return "treasury-months-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32] + ".parquet"


def _save_treasury_months(root: Path, key: int, saved: Path) -> None:
    """Write the flows kept under `key` to `saved` (a temporary name, then renamed, so no reader
    sees half a file) and drop the oldest files beyond the few kept. A cache: failing is fine."""
    partial = saved.with_name(f"{saved.stem}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        with connection(root).cursor() as cursor:
            # BIGINT: parquet has no 128-bit integer (DuckDB would write a DOUBLE), and a month's
            # flow in 1e-6 万元 (分) is far below 2^63; one that is not fails the cast, and then
            # there is simply no file (DECIMAL(38, 0) would hold it, but reads at half the speed)
            cursor.execute("""COPY (SELECT county_code, month, inflow::BIGINT AS inflow,
                                           outflow::BIGINT AS outflow
                                    FROM treasury_months WHERE key = $key) TO $file (FORMAT parquet)""",
                           {"key": key, "file": str(partial)})
        os.replace(partial, saved)
        older = sorted(saved.parent.glob("treasury-months-*.parquet"), key=lambda p: p.stat().st_mtime)
        for stale in older[:-_MONTHS_FILES_KEPT]:
            stale.unlink(missing_ok=True)
    except (OSError, duckdb.Error):
        partial.unlink(missing_ok=True)


def source_params(snapshot: Snapshot) -> dict[str, list[str]]:
    """The parquet files of each table that has any (the others are read as empty)."""
    return {kind: snapshot.files[kind] for kind in TABLE_ORDER if snapshot.files[kind]}


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
    # The rows go to a temporary table of the query's own cursor (gone when it closes): its
    # column types say which columns can hold a NaN, without binding the query a second time.
    with _executed(name, snapshot, params, around="CREATE TEMP TABLE result AS {query}") as cursor:
        types = {column: kind for column, kind, *_ in cursor.execute("DESCRIBE result").fetchall()}
        fields = ", ".join(
            f"{key} := CASE WHEN isnan({key}) THEN NULL ELSE {key} END" if types[key] == "DOUBLE" else f"{key} := {key}"
            for key in keys)
        return [text for (text,) in cursor.execute(
            f"SELECT to_json(struct_pack({fields})) FROM result ORDER BY {order_by}").fetchall()]


@contextmanager
def _executed(name: str, snapshot: Snapshot, params: dict, frames: dict | None = None, *,
              around: str = "{query}", extra: dict | None = None):
    """A cursor that has run fiscal/sql/<name>.sql (or `around`, a statement built around it
    in place of `{query}`: its parameters and those in `extra`)."""
    sources = source_params(snapshot)
    own_sql, wanted = statement(name, frozenset(TABLE_ORDER).difference(sources))
    sql = around.replace("{query}", own_sql)
    available = {**sources, **params}
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
