"""An upload, all or nothing: check the file, preview what changes, commit one lake version."""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import pandas as pd
import pyarrow as pa

from . import magnitude
from .extracts import KINDS
from .lake import Lake, LakeChanged, arrow_table
from .validation import UNKNOWN_COUNTY, Extract, Problem, check_file


@dataclass
class Preview:
    """What a commit would change in the lake."""

    new_rows: int
    replaced_rows: int
    counties: list[str]
    first_date: dt.date | None
    last_date: dt.date | None


@dataclass
class Checked:
    extract: Extract | None
    problems: list[Problem]
    sha256: str
    preview: Preview | None = None
    lake_version: int | None = None  # the lake version the rules and the preview were checked against

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    @property
    def ok(self) -> bool:
        return self.extract is not None and not self.errors


@dataclass
class Ingested(Checked):
    version: int | None = None
    messages: list[str] = field(default_factory=list)


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check(lake: Lake, path: str | Path, *, kind: str | None = None, unit: str | None = None,
          source_name: str | None = None, today: dt.date | None = None,
          max_bytes: int | None = None, on_stage: Callable[[str], None] | None = None) -> Checked:
    """Validate a file against the rules and the lake's counties; preview the change if it is acceptable.
    `on_stage` hears the stages of the check ("read", "check")."""
    options = {} if max_bytes is None else {"max_bytes": max_bytes}
    lake_version = lake.lake_version()
    extract, problems = check_file(path, kind=kind, unit=unit, known_counties=lake.county_codes(), today=today,
                                   source_name=source_name or Path(path).name, on_stage=on_stage, **options)
    if extract is not None and not any(p.level == "error" for p in problems):
        problems = [*magnitude.check(extract, magnitude.lake_levels(lake.snapshot(), extract)), *problems]
    checked = Checked(extract, problems, file_sha256(path), lake_version=lake_version)
    if checked.ok:
        checked.preview = preview(lake, extract)
    return checked


def preview(lake: Lake, extract: Extract) -> Preview:
    spec = KINDS[extract.kind]
    keys = list(spec.keys)
    incoming = extract.frame[keys]
    # An accepted file has each key once: the rows it replaces are those whose key the lake has.
    schema = spec.arrow_schema()
    keyed = pa.Table.from_pandas(incoming, schema=pa.schema([schema.field(k) for k in keys]), preserve_index=False)
    # Keys are unique on both sides, so the replaced rows are the keys both have. Arrow builds its
    # hash table on the right input: the smaller one (a weekly upload; the lake, when it is empty).
    smaller, larger = sorted((lake.key_table(extract.kind), keyed), key=lambda table: table.num_rows)
    replaced = larger.join(smaller, keys=keys, join_type="left semi").num_rows if smaller.num_rows else 0
    dates = pd.to_datetime(incoming[spec.date_key]) if spec.date_key else None
    return Preview(
        new_rows=len(incoming) - replaced,
        replaced_rows=replaced,
        counties=sorted(incoming["county_code"].unique()),
        first_date=dates.min().date() if dates is not None and len(dates) else None,
        last_date=dates.max().date() if dates is not None and len(dates) else None,
    )


def replaced_values(lake: Lake, extract: Extract, limit: int = 20) -> pd.DataFrame:
    """Up to `limit` rows the upload would replace, in the file's order: keys, then each value
    column now (现值) and from the file (新值), headed with the Chinese labels — what an
    analyst checks before committing. Matched in Arrow against only the lake's rows within the
    upload's range of keys (a daily table's dates), not the whole table in pandas."""
    import pyarrow.compute as pc

    spec = KINDS[extract.kind]
    keys = list(spec.keys)
    values = [c.name for c in spec.columns if c.name not in keys]
    incoming = arrow_table(extract.frame, spec)
    incoming = incoming.append_column("_row", pa.array(range(incoming.num_rows), pa.int64()))
    between = None
    if spec.date_key and incoming.num_rows:
        bounds = pc.min_max(incoming[spec.date_key])
        between = (spec.date_key, bounds["min"].as_py(), bounds["max"].as_py())
    existing = lake.rows(extract.kind, between)
    both = incoming.join(existing, keys=keys, join_type="inner", left_suffix="_new", right_suffix="_old")
    first = both.take(pc.sort_indices(both["_row"])[:limit]).to_pandas()
    columns = {k: spec.column(k).label for k in keys}
    for name in values:
        columns[f"{name}_old"] = f"{spec.column(name).label}（现值）"
        columns[f"{name}_new"] = f"{spec.column(name).label}（新值）"
    return first[list(columns)].rename(columns=columns)


def ingest(lake: Lake, path: str | Path, *, user: str, kind: str | None = None, unit: str | None = None,
           source_name: str | None = None, today: dt.date | None = None, max_bytes: int | None = None) -> Ingested:
    """Check the file; if it has no errors, upsert it as one new lake version."""
    checked = check(lake, path, kind=kind, unit=unit, source_name=source_name, today=today, max_bytes=max_bytes)
    return commit(lake, checked, user=user, recheck=False)


def commit(lake: Lake, checked: Checked, *, user: str, recheck: bool = True) -> Ingested:
    """Commit an extract that `check` accepted, without reading the file again.

    If the lake got a new version since the check (another analyst committed or rolled
    back), nothing is written: the county codes are checked again and the preview is
    recomputed against the lake as it is now, and the result says so in `messages`, so
    that the user confirms what will really change. Commit it again to go ahead.
    """
    result = Ingested(**{f.name: getattr(checked, f.name) for f in fields(Checked)})
    result.problems = list(checked.problems)
    if not checked.ok:
        return result
    extract = checked.extract
    try:
        result.version = lake.upsert(
            extract.kind, extract.frame, user=user, operation="ingest",
            file_name=extract.source_name, sha256=checked.sha256,
            note=f"{KINDS[extract.kind].label}，单位{extract.unit}",
            expected_version=checked.lake_version if recheck else None,
        )
    except LakeChanged as changed:
        result.lake_version = changed.current
        missing = _unknown_counties(lake, extract)
        if missing:
            result.problems = [*checked.problems, *missing]
            result.preview = None
            result.messages.append(f"检查之后数据湖已更新到版本 {changed.current}，按最新的县区名录重新核对后不能导入")
        else:
            result.preview = preview(lake, extract)
            result.messages.append(f"检查之后数据湖已更新到版本 {changed.current}，已按最新数据重新计算变更预览，请确认后再导入")
    return result


def _unknown_counties(lake: Lake, extract: Extract) -> list[Problem]:
    if extract.kind == "counties":
        return []
    known = lake.county_codes()
    column = KINDS[extract.kind].column("county_code").label
    return [Problem("error", UNKNOWN_COUNTY, int(extract.rows[i]), column, code)
            for i, code in extract.frame["county_code"].items() if code not in known]
