"""The lake: one Delta table per extract kind, and one per record kind, under a data directory.

Delta's transaction log gives atomic commits, version history and restore. A
*lake version* numbers each lake-wide operation (an ingest, a rollback, the demo load);
it is stored in the commit metadata of every table commit that operation made, so the
lake-wide history and a lake-wide rollback are read back from the Delta logs themselves.
Writers are serialised with a file lock; readers never take it.

Extract tables (extracts.py) are upserted by key and rolled back; record tables
(records.py: the bureau's 重点关注 entries, ledger, letters register) are appended to and
never rolled back — undoing a bad upload must not erase a decision recorded since.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deltalake import CommitProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import TableNotFoundError

from .extracts import ARROW_TYPES, KIND_ORDER, KINDS
from .records import RECORD_KINDS, RECORD_ORDER

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from filelock import FileLock

LOCK_NAME = ".write.lock"
# delta-rs commits on a local file system by writing `<version>.json#<n>` and linking it into place
TEMPORARY_COMMIT = re.compile(r"\d{20}\.json#\d+")
COMMIT_FILE = re.compile(r"\d{20}\.json")
SNAPSHOTS_KEPT = 32
LOCK_TIMEOUT_S = 120
# Row groups of DuckDB's own size rather than the writer's default of a million rows: with a
# daily table stored in date order (ExtractKind.clustered_by), a lookup of a few dates reads
# a few row groups of about six weeks each at national scale instead of the whole table.
ROW_GROUP_ROWS = 122_880
# Files of about this size (some 600,000 daily rows): an upload that rewrites a date range
# rewrites the few files that range touches, not the whole table.
TARGET_FILE_BYTES = 8 * 1024 * 1024

OPERATION_LABELS = {"create": "建立", "ingest": "导入", "rollback": "回滚", "demo": "演示数据"}
RECORD_OPERATION_LABEL = "业务记录"  # an append to a record table (its kind names which)
# Every table of a lake: the extracts first (counties before the kinds that reference it), then the records.
TABLE_ORDER = (*KIND_ORDER, *RECORD_ORDER)


def table_schema(name: str) -> pa.Schema:
    """The arrow schema of an extract or record table."""
    return (KINDS[name] if name in KINDS else RECORD_KINDS[name]).arrow_schema()


def table_column_types(name: str) -> list[tuple[str, str]]:
    """(column, pyarrow type name) of an extract or record table, without importing pyarrow."""
    if name in KINDS:
        return [(c.name, ARROW_TYPES[c.kind]) for c in KINDS[name].columns]
    return [(f.name, f.type) for f in RECORD_KINDS[name].all_fields]


def table_label(name: str) -> str:
    """The Chinese name of an extract or record table."""
    spec = KINDS.get(name) or RECORD_KINDS.get(name)
    return spec.label if spec else name


@dataclass(frozen=True)
class Snapshot:
    """The current version of every table: what readers query, and the cache key."""

    root: Path
    versions: tuple[tuple[str, int], ...]
    files: dict[str, list[str]]

    @property
    def key(self) -> str:
        return f"{self.root}|" + ",".join(f"{k}:{v}" for k, v in self.versions)

    @property
    def extracts_key(self) -> str:
        """The key of the extract tables alone: what the indicators depend on (a list or ledger
        edit must not make the dashboard recompute every indicator)."""
        return f"{self.root}|" + ",".join(f"{k}:{v}" for k, v in self.versions if k in KINDS)


@dataclass(frozen=True)
class Commit:
    lake_version: int
    timestamp: dt.datetime
    operation: str
    user: str
    kinds: tuple[str, ...]
    file_name: str
    sha256: str
    rows: int
    inserted: int
    updated: int
    note: str

    @property
    def operation_label(self) -> str:
        if self.operation in RECORD_KINDS:
            return RECORD_OPERATION_LABEL
        return OPERATION_LABELS.get(self.operation, self.operation)


class LakeError(Exception):
    """A lake operation that cannot be done (message in Chinese, for users)."""


class LakeChanged(LakeError):
    """The lake got a new version after the caller looked at it; nothing was written."""

    def __init__(self, current: int):
        super().__init__(f"数据湖已更新到版本 {current}")
        self.current = current


class Kept:
    """The last few values by key, shared by the threads of a process."""

    def __init__(self, size: int):
        self._size, self._values, self._lock = size, {}, threading.Lock()

    def get(self, key):
        with self._lock:
            return self._values.get(key)

    def put(self, key, value) -> None:
        with self._lock:
            self._values[key] = value
            while len(self._values) > self._size:
                del self._values[next(iter(self._values))]


_snapshots = Kept(size=SNAPSHOTS_KEPT)  # by lake root and latest commit file of every table


def _log_head(table_dir: Path) -> tuple[str, int] | None:
    """A table's latest commit file, by name and time written (None: no table yet). The time
    tells a lake written anew in the same directory from the one read before."""
    try:
        commits = [entry for entry in os.scandir(table_dir / "_delta_log") if COMMIT_FILE.fullmatch(entry.name)]
    except FileNotFoundError:
        return None
    head = max(commits, key=lambda entry: entry.name, default=None)
    return None if head is None else (head.name, head.stat().st_mtime_ns)


def _commit_name(version: int) -> str | None:
    return None if version < 0 else f"{version:020d}.json"


class Lake:
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self._lock: FileLock | None = None

    # ---- reading -------------------------------------------------------------
    def path(self, kind: str) -> Path:
        return self.root / kind

    def table(self, kind: str) -> DeltaTable | None:
        try:
            return DeltaTable(str(self.path(kind)))
        except TableNotFoundError:
            return None

    def snapshot(self) -> Snapshot:
        """The current version of every table. Listing the Delta logs tells whether any table
        has a new commit; if none has, the snapshot taken then is reused (each page run takes
        one, and opening every table would cost it more than the rest of its reading)."""
        heads = tuple(_log_head(self.path(kind)) for kind in TABLE_ORDER)
        known = _snapshots.get((self.root, heads))
        if known is not None:
            return known
        versions, files = [], {}
        for kind in TABLE_ORDER:
            table = self.table(kind)
            versions.append((kind, -1 if table is None else table.version()))
            files[kind] = [] if table is None else [_local(u) for u in table.file_uris()]
        snapshot = Snapshot(self.root, tuple(versions), files)
        if all((head and head[0]) == _commit_name(version) for head, (_, version) in zip(heads, versions)):
            _snapshots.put((self.root, heads), snapshot)  # (not when a commit landed between listing and reading)
        return snapshot

    def read(self, kind: str, lake_version: int | None = None) -> pd.DataFrame:
        """The rows of one table now, or as they were at an earlier lake version."""
        table = self.table(kind)
        if table is not None and lake_version is not None:
            table_version = _table_version_at(table, lake_version)
            table = None if table_version is None else DeltaTable(str(self.path(kind)), version=table_version)
        if table is None:
            return table_schema(kind).empty_table().to_pandas()
        return table.to_pyarrow_table().to_pandas()

    def rows(self, kind: str, between: tuple[str, object, object] | None = None) -> pa.Table:
        """The current rows of one table, as Arrow. `between` (column, low, high): only those with
        the column in [low, high]; the files and row groups outside are skipped (a daily table's,
        kept in date order)."""
        table = self.table(kind)
        return table_schema(kind).empty_table() if table is None else _rows(table, between)

    def key_table(self, kind: str) -> pa.Table:
        """The key columns of one table now, as Arrow: what an upload's keys are matched
        against. Reads only those columns."""
        keys = list(KINDS[kind].keys)
        table = self.table(kind)
        return KINDS[kind].arrow_schema().empty_table().select(keys) if table is None else table.to_pyarrow_table(columns=keys)

    def county_codes(self) -> set[str]:
        return set(self.read("counties")["county_code"])

    def lake_version(self) -> int:
        commits = self.history()
        return commits[0].lake_version if commits else -1

    def history(self) -> list[Commit]:
        """Lake-wide history, newest first; one entry per lake version."""
        by_version: dict[int, list[dict]] = {}
        for kind in TABLE_ORDER:
            table = self.table(kind)
            for entry in [] if table is None else table.history():
                if "lake_version" in entry:
                    by_version.setdefault(int(entry["lake_version"]), []).append({**entry, "kind": kind})
        return [_commit(v, entries) for v, entries in sorted(by_version.items(), reverse=True)]

    # ---- writing -------------------------------------------------------------
    @contextmanager
    def writing(self):
        """Hold the write lock (re-entrant within this Lake object, so a caller can check and
        write under one lock); the outermost holder first clears what a writer killed
        mid-commit left behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._lock is None:
            from filelock import FileLock  # not at import time: reading never takes the lock

            self._lock = FileLock(str(self.root / LOCK_NAME), timeout=LOCK_TIMEOUT_S)
        outermost = not self._lock.is_locked
        with self._lock:
            if outermost:
                for kind in TABLE_ORDER:
                    if (table := self.table(kind)) is not None:
                        _remove_unfinished_writes(table)
            yield

    def upsert(self, kind: str, frame: pd.DataFrame, *, user: str, operation: str = "ingest",
               file_name: str = "", sha256: str = "", note: str = "", expected_version: int | None = None) -> int:
        """Replace rows with the same key and add the others, in one commit. Returns the new lake version.

        With `expected_version`, write only if the lake is still at that version (checked under
        the write lock), else raise LakeChanged: what the caller previewed is what gets changed.
        """
        spec = KINDS[kind]
        data = _stored(frame, spec)
        with self.writing():
            version = self._claim_version(expected_version)
            meta = _metadata(version, operation, user, file_name=file_name, sha256=sha256, rows=len(frame), note=note)
            table = self.table(kind)
            if table is None:  # the first load: nothing to replace, one plain write
                meta |= {"inserted": str(data.num_rows), "updated": "0"}
                write_deltalake(str(self.path(kind)), data, mode="append", writer_properties=_writer(),
                                target_file_size=TARGET_FILE_BYTES,
                                commit_properties=CommitProperties(custom_metadata=meta))
                return version
            if spec.clustered_by and data.num_rows:
                _replace_range(table, data, spec, meta)
                return version
            predicate = " AND ".join(f"t.{k} = s.{k}" for k in spec.keys)
            (
                table.merge(data, predicate=predicate, source_alias="s", target_alias="t", writer_properties=_writer(),
                            commit_properties=CommitProperties(custom_metadata=meta))
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute()
            )
        return version

    def append(self, kind: str, frame: pd.DataFrame, *, user: str, note: str = "",
               expected_version: int | None = None) -> int:
        """Add rows to a record table (records.py) in one commit. Returns the new lake version.

        Use the write service (fiscal.service), which also stamps who/when and audits. With
        `expected_version`, write only if the lake is still at that version (checked under
        the write lock), else raise LakeChanged.
        """
        spec = RECORD_KINDS[kind]
        data = arrow_table(frame, spec)
        with self.writing():
            version = self._claim_version(expected_version)
            meta = _metadata(version, kind, user, rows=len(data), note=note)
            write_deltalake(str(self.path(kind)), data, mode="append",
                            commit_properties=CommitProperties(custom_metadata=meta))
        return version

    def replace_all(self, frames: dict[str, pd.DataFrame], *, user: str, operation: str = "demo", note: str = "") -> int:
        """Overwrite every given table (used to load the demo lake). One lake version."""
        with self.writing():
            version = self._next_version()
            for kind in KIND_ORDER:
                if kind not in frames:
                    continue
                data = _stored(frames[kind], KINDS[kind])
                meta = _metadata(version, operation, user, rows=len(data), note=note)
                write_deltalake(str(self.path(kind)), data, mode="overwrite", writer_properties=_writer(),
                                target_file_size=TARGET_FILE_BYTES,
                                commit_properties=CommitProperties(custom_metadata=meta))
        return version

    def rollback(self, lake_version: int, *, user: str, expected_version: int | None = None) -> int:
        """Bring every extract table back to its state at `lake_version`, as a new lake version.

        Record tables (records.py) are not touched: entries and ledger changes made since
        stay. With `expected_version`, roll back only if the lake is still at that version.
        """
        with self.writing():
            history = self.history()
            if expected_version is not None and history and history[0].lake_version != expected_version:
                raise LakeChanged(history[0].lake_version)
            if lake_version not in {c.lake_version for c in history}:
                raise LakeError(f"没有版本 {lake_version}；可用版本：{', '.join(str(c.lake_version) for c in history)}")
            if lake_version == history[0].lake_version:
                raise LakeError(f"版本 {lake_version} 已是当前版本，无需回滚")
            restores = []
            for kind in KIND_ORDER:
                table = self.table(kind)
                if table is None:
                    continue
                current = int(table.history(1)[0].get("lake_version", -1))
                if current > lake_version:  # changed since then
                    restores.append((table, _table_version_at(table, lake_version)))
            if not restores:
                raise LakeError(f"版本 {lake_version} 之后只有业务记录（名单、台账等）有变化，各类数据与版本 "
                                f"{lake_version} 相同，无需回滚；业务记录不随回滚撤销")
            version = self._next_version()
            meta = _metadata(version, "rollback", user, note=f"回滚到版本 {lake_version}")
            props = CommitProperties(custom_metadata=meta)
            for table, target in restores:
                if target is None:  # the table did not exist yet: empty it
                    table.delete(commit_properties=props)
                else:
                    table.restore(target, commit_properties=props)
        return version

    def _next_version(self) -> int:
        return self.lake_version() + 1

    def _claim_version(self, expected_version: int | None) -> int:
        """The version the caller (holding the write lock) is about to write; LakeChanged when
        `expected_version` is given and the lake is no longer at it."""
        version = self._next_version()
        if expected_version is not None and version - 1 != expected_version:
            raise LakeChanged(version - 1)
        return version


def arrow_table(frame: pd.DataFrame, spec) -> pa.Table:
    """The columns of an extract or record kind from a frame, typed as its table stores them."""
    import pyarrow as pa

    return pa.Table.from_pandas(frame[spec.column_names], schema=spec.arrow_schema(), preserve_index=False)


def _stored(frame: pd.DataFrame, spec) -> pa.Table:
    """An extract as written to its table: in the order of its clustering column, if it has one
    (a stable sort, so rows of one date keep the order they came in)."""
    data = arrow_table(frame, spec)
    return data.sort_by(spec.clustered_by) if spec.clustered_by else data


def _replace_range(table: DeltaTable, data: pa.Table, spec, meta: dict[str, str]) -> None:
    """The upsert of a clustered table, in one commit that keeps it in order. The range of the
    clustering column rewritten is the upload's, widened to whole files (whole_files: the
    writer would copy the rest of a file it cuts, in its own order). That range's rows become
    those the upload does not replace plus the upload, sorted. A merge would give the same
    rows in its join's order, and a table out of order is read whole by every date lookup."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = spec.clustered_by
    bounds = pc.min_max(data[column])
    low, high = whole_files(_file_spans(table, column), bounds["min"].as_py(), bounds["max"].as_py())
    existing = _rows(table, (column, low, high))
    kept = existing.join(data.select(list(spec.keys)), keys=list(spec.keys), join_type="left anti")
    rows = pa.concat_tables([kept.select(data.column_names).cast(data.schema), data]).sort_by(column)
    replaced = existing.num_rows - kept.num_rows
    meta = {**meta, "inserted": str(data.num_rows - replaced), "updated": str(replaced)}
    # typed values of our own (dates), not user text: Delta's predicate has no parameters
    predicate = f"{column} >= '{low.isoformat()}' AND {column} <= '{high.isoformat()}'"
    write_deltalake(table, rows, mode="overwrite", predicate=predicate,
                    writer_properties=_writer(), target_file_size=TARGET_FILE_BYTES,
                    commit_properties=CommitProperties(custom_metadata=meta))


def _rows(table: DeltaTable, between: tuple[str, object, object] | None = None) -> pa.Table:
    import pyarrow.dataset as ds

    if between is None:
        return table.to_pyarrow_table()
    column, low, high = between
    return table.to_pyarrow_dataset().to_table(filter=(ds.field(column) >= low) & (ds.field(column) <= high))


def _file_spans(table: DeltaTable, column: str) -> list[tuple]:
    """(min, max) of `column` in each current file, from the Delta log (None when not recorded)."""
    import pyarrow as pa

    files = pa.table(table.get_add_actions(flatten=True)).select([f"min.{column}", f"max.{column}"])
    return [(f[f"min.{column}"], f[f"max.{column}"]) for f in files.to_pylist()]


def whole_files(spans: list[tuple], low, high) -> tuple:
    """The range of dates to rewrite for an upload of [low, high], given each file's (first,
    last) date: every file the range touches, whole, but no date of a file it does not touch
    (the writer cuts files by size, so neighbours can share a date). A touched file's rows on
    such a shared date stay outside the range, and the writer copies them: a single date at
    either end. A file whose dates are not recorded is taken to span everything."""
    known = [s for s in spans if None not in s]
    floor, ceiling = min([low, *(s[0] for s in known)]), max([high, *(s[1] for s in known)])
    spans = [s if None not in s else (floor, ceiling) for s in spans]
    day = dt.timedelta(days=1)
    while True:  # the range only grows, by whole files: a few passes
        touched = [s for s in spans if s[0] <= high and s[1] >= low]
        others = [s for s in spans if not (s[0] <= high and s[1] >= low)]
        wider_low = max([min([low, *(s[0] for s in touched)]), *(s[1] + day for s in others if s[1] < low)])
        wider_high = min([max([high, *(s[1] for s in touched)]), *(s[0] - day for s in others if s[0] > high)])
        if (wider_low, wider_high) == (low, high):
            return low, high
        low, high = wider_low, wider_high


def _writer() -> WriterProperties:
    return WriterProperties(max_row_group_size=ROW_GROUP_ROWS)


def _local(uri: str) -> str:
    return uri.removeprefix("file://")


def _metadata(version: int, operation: str, user: str, **fields) -> dict[str, str]:
    return {"lake_version": str(version), "operation_kind": operation, "user": user or "",
            **{k: str(v) for k, v in fields.items()}}


def _remove_unfinished_writes(table: DeltaTable) -> None:
    """Delete what a writer killed before its commit left behind (the caller holds the write
    lock, so no commit is in flight): data files that no version of the log mentions — files of older
    versions are kept, so rollback still works — and the log's temporary commit files."""
    root = Path(table.table_uri.removeprefix("file://"))
    leftovers = table.vacuum(retention_hours=0, dry_run=True, enforce_retention_duration=False, full=True,
                             keep_versions=list(range(table.version() + 1)))
    for name in leftovers:
        (root / name).unlink(missing_ok=True)
    for temporary in root.joinpath("_delta_log").iterdir():
        if TEMPORARY_COMMIT.fullmatch(temporary.name):
            temporary.unlink(missing_ok=True)


def _table_version_at(table: DeltaTable, lake_version: int) -> int | None:
    """The table's own version that was current at `lake_version` (None if it had no data yet)."""
    candidates = [int(e["version"]) for e in table.history()
                  if "lake_version" in e and int(e["lake_version"]) <= lake_version]
    return max(candidates) if candidates else None


def _commit(version: int, entries: list[dict]) -> Commit:
    first = entries[0]
    counts = [_inserted_updated(e) for e in entries]
    return Commit(
        lake_version=version,
        timestamp=dt.datetime.fromtimestamp(max(e["timestamp"] for e in entries) / 1000, tz=dt.timezone.utc),
        operation=first.get("operation_kind", ""),
        user=first.get("user", ""),
        kinds=tuple(e["kind"] for e in entries),
        file_name=first.get("file_name", ""),
        sha256=first.get("sha256", ""),
        rows=sum(int(e.get("rows", 0) or 0) for e in entries),
        inserted=sum(inserted for inserted, _ in counts),
        updated=sum(updated for _, updated in counts),
        note=first.get("note", ""),
    )


def _inserted_updated(entry: dict) -> tuple[int, int]:
    """Rows added and rows replaced by one table commit: counted in its metadata by a first load
    or a range replacement; else a merge's own metrics, or a record append's added rows."""
    if "updated" in entry:
        return int(entry["inserted"]), int(entry["updated"])
    metrics = entry.get("operationMetrics", {})
    if entry.get("operation_kind") in RECORD_KINDS:
        return int(metrics.get("num_added_rows", 0)), 0
    return int(metrics.get("num_target_rows_inserted", 0)), int(metrics.get("num_target_rows_updated", 0))
