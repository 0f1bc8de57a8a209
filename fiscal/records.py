"""The bureau's own records: append-only Delta tables kept in the lake beside the extracts.

An *extract* (extracts.py) is data the bureau receives from the counties; it is upserted
by key and can be rolled back. A *record table* is what the bureau itself decides and
writes down — the 重点关注 list entries (SPEC §9.3), the 工作台账 (§9.4), the register
of issued letters (§9.2). Record tables differ from extracts in three ways:

- **append-only**: rows are never updated or deleted; a change is a new row (the ledger
  keeps `measure_id` + `revision`, the list keeps every entry and decides by the latest);
- **who and when on every row**: every kind gets the columns `user` (text) and `at`
  (UTC timestamp) after its own fields, filled in by the write service;
- **kept out of rollbacks**: rolling the lake back to an earlier version restores the
  extracts only, so undoing a bad upload never erases a decision taken since.

They are versioned like every table: each append is one Delta commit carrying the lake
version, so `Lake.read(kind, lake_version=v)` shows a record table as it was at version v,
`Lake.history()` lists each append, and DuckDB queries see the snapshot's files
(`queries.run` binds `$<kind>` for every record kind too; a lake without the table gets
an empty stand-in with the right columns, so old lakes keep working).

Declaring a new record kind — add a `RecordKind` to `RECORD_KINDS` below::

    RecordKind("letters", "提示函登记", (
        RecordField("number", "string", "文号"),
        RecordField("county_code", "string", "区划代码"),
        RecordField("as_of", "date32", "截至日期"),
        RecordField("sha256", "string", "SHA-256"),
    ), event="letter_issued")

`event` is the audit-log event written for every append of that kind (add its Chinese
label to audit.EVENT_LABELS). Rows are appended through the write service
(`fiscal.service.WriteService.append`), never through the lake directly: the service
takes the write lock, checks the expected lake version, stamps `user`/`at` and audits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# Every record row says who wrote it and when (UTC); the service fills these in.
USER_FIELD, AT_FIELD = "user", "at"


@dataclass(frozen=True)
class RecordField:
    name: str
    # a pyarrow type constructor's name, or "timestamp_utc": the arrow schema is built only
    # when a table is written or read, so `fiscal metrics` never imports pyarrow
    type: str
    label: str  # Chinese column label for tables and exports
    required: bool = True  # False: may be null


@dataclass(frozen=True)
class RecordKind:
    name: str  # the table's directory in the lake
    label: str  # Chinese name, shown in the version history
    fields: tuple[RecordField, ...]  # the kind's own fields; `user` and `at` follow
    event: str  # audit-log event of an append

    @property
    def all_fields(self) -> tuple[RecordField, ...]:
        return (*self.fields, RecordField(USER_FIELD, "string", "操作人"),
                RecordField(AT_FIELD, "timestamp_utc", "记录时间"))

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.all_fields]

    @property
    def labels(self) -> dict[str, str]:
        return {f.name: f.label for f in self.all_fields}

    def arrow_schema(self) -> pa.Schema:
        import pyarrow as pa

        def arrow_type(name: str) -> pa.DataType:
            return pa.timestamp("us", tz="UTC") if name == "timestamp_utc" else getattr(pa, name)()

        return pa.schema([pa.field(f.name, arrow_type(f.type)) for f in self.all_fields])


def utc(series: pd.Series) -> pd.Series:
    """A timestamp column a query returned as naive UTC (`timezone('UTC', "at")` in the SQL:
    DuckDB's conversion of zoned timestamps to pandas warns), zoned again."""
    import pandas as pd  # here, not at import: `fiscal metrics` runs without pandas

    return pd.to_datetime(series).dt.tz_localize("UTC")


COUNTY_CODE = RecordField("county_code", "string", "区划代码")

RECORD_KINDS: dict[str, RecordKind] = {
    k.name: k
    for k in (
        # SPEC §9.3: manual entries layered on the computed tier-3 set.
        RecordKind("focus", "重点关注名单调整", (
            COUNTY_CODE,
            RecordField("action", "string", "调整"),  # add | remove
            RecordField("reason", "string", "理由"),
            RecordField("effective_from", "date32", "生效日期"),
            RecordField("until", "date32", "截止日期", required=False),  # null: open-ended
        ), event="focus_entry"),
        # SPEC §9.4: one row per revision of a measure; the highest revision is its current state.
        RecordKind("ledger", "工作台账", (
            RecordField("measure_id", "int64", "措施编号"),
            RecordField("revision", "int64", "修订次数"),
            COUNTY_CODE,
            RecordField("measure", "string", "措施"),
            RecordField("owner", "string", "责任人"),
            RecordField("due", "date32", "完成时限"),
            RecordField("status", "string", "状态"),  # vocabulary.LEDGER_STATUSES code, never `overdue`
            RecordField("note", "string", "备注", required=False),
        ), event="ledger_entry"),
        # SPEC §9.2: the register of issued prompt letters, one row per letter, with the file itself
        # so that a letter can be downloaded again exactly as it was sent.
        RecordKind("letters", "提示函登记", (
            RecordField("number", "string", "文号"),
            RecordField("year", "int64", "年度"),
            RecordField("sequence", "int64", "序号"),
            COUNTY_CODE,
            RecordField("county_name", "string", "县区"),
            RecordField("as_of", "date32", "截至日期"),
            RecordField("batch", "string", "批次"),  # YYYY-MM of as_of: one monthly batch
            RecordField("issued_on", "date32", "成文日期"),
            RecordField("file_name", "string", "文件名"),
            RecordField("sha256", "string", "SHA-256"),
            RecordField("content", "binary", "文件"),
        ), event="letters_issued"),
    )
}
RECORD_ORDER = tuple(RECORD_KINDS)
