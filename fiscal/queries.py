"""Running the SQL files in fiscal/sql against a lake snapshot.

One DuckDB connection per process and lake directory; every query runs on its own
`cursor()` (a connection is not safe to share across threads). The connection can read
only the lake directory and the empty-table stand-ins, and its configuration is locked, so
nothing run through it can touch other files. Queries are our own SQL; every value in them
is a bound parameter, including the list of parquet files of each table.
"""
from __future__ import annotations

import re
import tempfile
import threading
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from . import vocabulary
from .lake import TABLE_ORDER, Snapshot, table_schema

SQL_DIR = Path(__file__).resolve().parent / "sql"
_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")

_connections: dict[Path, duckdb.DuckDBPyConnection] = {}
_lock = threading.Lock()


@cache
def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@cache
def _empty_tables_dir() -> Path:
    """Schema-only parquet files, one per table, so a table without data still has columns."""
    folder = Path(tempfile.mkdtemp(prefix="fiscal-empty-"))
    for kind in TABLE_ORDER:
        pq.write_table(table_schema(kind).empty_table(), folder / f"{kind}.parquet")
    return folder


def connection(root: Path) -> duckdb.DuckDBPyConnection:
    with _lock:
        if root not in _connections:
            con = duckdb.connect(":memory:")
            con.execute("SET allowed_directories = $dirs", {"dirs": [f"{root}/", f"{_empty_tables_dir()}/"]})
            con.execute("SET enable_external_access = false")
            con.execute(sql_text("macros"))
            con.execute(vocabulary.sql_macros())  # the label macros, from the one vocabulary
            con.execute("SET lock_configuration = true")
            _connections[root] = con
        return _connections[root]


def source_params(snapshot: Snapshot) -> dict[str, list[str]]:
    empty = _empty_tables_dir()
    return {kind: [*snapshot.files[kind], str(empty / f"{kind}.parquet")] for kind in TABLE_ORDER}


def run(name: str, snapshot: Snapshot, *, frames: dict | None = None, **params) -> pd.DataFrame:
    """Run fiscal/sql/<name>.sql with the snapshot's tables and the given parameters bound.

    `frames` (name → Arrow table) are registered as views on the query's own cursor, e.g. the
    tiers an earlier query computed, to be joined with a record table."""
    sql = sql_text(name)
    available = {**source_params(snapshot), **params}
    wanted = dict.fromkeys(_PARAM.findall(sql))
    missing = [p for p in wanted if p not in available]
    if missing:
        raise KeyError(f"{name}.sql needs parameters {missing}")
    cursor = connection(snapshot.root).cursor()
    try:
        for view_name, frame in (frames or {}).items():
            cursor.register(view_name, frame)
        return cursor.execute(sql, {p: available[p] for p in wanted}).df()
    finally:
        cursor.close()
