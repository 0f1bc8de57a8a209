"""An upload, all or nothing: check the file, preview what changes, commit one lake version."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .extracts import KINDS
from .lake import Lake
from .validation import Extract, Problem, check_file


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
          max_bytes: int | None = None) -> Checked:
    """Validate a file against the rules and the lake's counties; preview the change if it is acceptable."""
    options = {} if max_bytes is None else {"max_bytes": max_bytes}
    extract, problems = check_file(path, kind=kind, unit=unit, known_counties=lake.county_codes(), today=today,
                                   source_name=source_name or Path(path).name, **options)
    checked = Checked(extract, problems, file_sha256(path))
    if checked.ok:
        checked.preview = preview(lake, extract)
    return checked


def preview(lake: Lake, extract: Extract) -> Preview:
    spec = KINDS[extract.kind]
    keys = list(spec.keys)
    existing = lake.read(extract.kind)[keys]
    incoming = extract.frame[keys]
    for frame in (existing, incoming):
        for key in keys:
            if spec.column(key).kind == "date":
                frame[key] = pd.to_datetime(frame[key]).dt.date
    matched = incoming.merge(existing.drop_duplicates(), on=keys, how="inner")
    date_key = next((k for k in keys if spec.column(k).kind == "date"), None)
    dates = pd.to_datetime(incoming[date_key]) if date_key else None
    return Preview(
        new_rows=len(incoming) - len(matched),
        replaced_rows=len(matched),
        counties=sorted(incoming["county_code"].unique()),
        first_date=dates.min().date() if dates is not None and len(dates) else None,
        last_date=dates.max().date() if dates is not None and len(dates) else None,
    )


def ingest(lake: Lake, path: str | Path, *, user: str, kind: str | None = None, unit: str | None = None,
           source_name: str | None = None, today: dt.date | None = None, max_bytes: int | None = None) -> Ingested:
    """Check the file; if it has no errors, upsert it as one new lake version."""
    checked = check(lake, path, kind=kind, unit=unit, source_name=source_name, today=today, max_bytes=max_bytes)
    result = Ingested(**vars(checked))
    if checked.ok:
        extract = checked.extract
        result.version = lake.upsert(
            extract.kind, extract.frame, user=user, operation="ingest",
            file_name=extract.source_name, sha256=checked.sha256,
            note=f"{KINDS[extract.kind].label}，单位{extract.unit}",
        )
    return result
