"""Receiving an uploaded file safely: spooled to a private temp file in chunks, with a size limit.

The user's file name is only ever *displayed* (after `display_name` cleans it) and used
for its extension; it never becomes part of a path. The bytes go to a file created by
`tempfile.mkstemp` (mode 0600, random name) and are removed when the `with` block ends,
whatever happens inside it.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

from .settings import MIB, max_upload_bytes
from .validation import human_size

CHUNK_BYTES = MIB
# .xls is accepted only to explain that it must be saved as .xlsx (reading.py says so).
ACCEPTED_TYPES = ("csv", "txt", "xlsx", "xlsm", "xls", "parquet")
_MAX_NAME = 120


class UploadTooLarge(Exception):
    """The upload exceeds the limit; `str(exc)` is the Chinese message."""


@dataclass(frozen=True)
class Spooled:
    path: Path  # private temp file; valid inside the `with spool(...)` block only
    size: int
    display_name: str


def widget_limit_mb(limit: int) -> int:
    """st.file_uploader's max_upload_size (whole MB, ≥ 1): twice the limit.

    The browser refuses larger files itself — in English and out of the audit log's sight — so
    it lets through up to twice the limit: a file that is merely too large reaches the server,
    is refused there in Chinese and recorded as upload_rejected."""
    return max(1, math.ceil(2 * limit / MIB))


def too_large_message(size: int | None, limit: int) -> str:
    shown = f"文件大小 {human_size(size)}，" if size is not None else "文件"
    return f"{shown}超过上限 {human_size(limit)}，请拆分后分批上传"


_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def display_name(name: str | None) -> str:
    """A file name fit for showing and recording: last path part only (either slash), no control
    or bidi-override characters, no leading dots, at most 120 characters (extension kept)."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = _UNSAFE.sub("", text)
    text = re.split(r"[\\/]", text)[-1].strip().lstrip(".").strip()
    if len(text) > _MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        ext = ext if dot and 0 < len(ext) <= 10 else ""
        text = (stem if ext else text)[: _MAX_NAME - len(ext) - 2] + "…" + ("." + ext if ext else "")
    return text or "未命名文件"


@contextlib.contextmanager
def spool(source: BinaryIO, name: str | None, *, max_bytes: int | None = None, size_hint: int | None = None,
          chunk: int = CHUNK_BYTES, directory: str | Path | None = None) -> Iterator[Spooled]:
    """Copy `source` (any object with .read(n)) to a private temp file, in chunks.

    Raises UploadTooLarge (nothing left on disk) when more than `max_bytes` arrive; the
    temp file is deleted when the block exits."""
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if size_hint is not None and size_hint > limit:
        raise UploadTooLarge(too_large_message(size_hint, limit))
    if hasattr(source, "seek"):
        with contextlib.suppress(OSError, ValueError):
            source.seek(0)
    # Only a whitelisted extension is carried over (openpyxl insists on one); never the name itself.
    extension = Path(display_name(name)).suffix.lower().lstrip(".")
    suffix = f".{extension}" if extension in ACCEPTED_TYPES else ".upload"
    fd, raw_path = tempfile.mkstemp(prefix="fiscal-upload-", suffix=suffix, dir=directory)
    path = Path(raw_path)  # mkstemp: O_EXCL, mode 0600, random name
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            while block := source.read(chunk):
                size += len(block)
                if size > limit:
                    raise UploadTooLarge(too_large_message(size_hint if size_hint and size_hint > limit else None, limit))
                out.write(block)
        yield Spooled(path, size, display_name(name))
    finally:
        path.unlink(missing_ok=True)


# ---------------------------------------------------------------- reports and downloads

PROBLEM_COLUMNS = ["级别", "行", "列", "值", "问题"]
LEVEL_LABELS = {"error": "错误", "warning": "提示"}


def problems_frame(problems) -> "pd.DataFrame":
    """The validation problems as a table: level, row as in the file, column, value, rule."""
    import pandas as pd

    return pd.DataFrame(
        [[LEVEL_LABELS.get(p.level, p.level), p.row, p.column or "", "" if p.value is None else str(p.value), p.rule]
         for p in problems],
        columns=PROBLEM_COLUMNS,
    ).astype({"行": "Int64"})


def version_frames(lake, lake_version: int) -> "dict[str, pd.DataFrame]":
    """Every table as it was at `lake_version`, headed with the Chinese column labels
    (which the upload recognises, so a download can be uploaded again)."""
    from .extracts import KIND_ORDER, KINDS

    frames = {}
    for kind in KIND_ORDER:
        spec = KINDS[kind]
        frame = lake.read(kind, lake_version=lake_version)[spec.column_names]
        frames[kind] = frame.rename(columns={c.name: c.label for c in spec.columns})
    return frames


def version_csv_zip(lake, lake_version: int) -> bytes:
    """A zip of one CSV per table (UTF-8 with BOM, formula-like text neutralised by fiscal.export)."""
    import io
    import zipfile

    from .export import to_csv_bytes
    from .extracts import KINDS

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind, frame in version_frames(lake, lake_version).items():
            archive.writestr(f"{KINDS[kind].label}_{kind}_v{lake_version}.csv", to_csv_bytes(frame))
    return buffer.getvalue()


def version_workbook(lake, lake_version: int) -> bytes:
    """One .xlsx with a sheet per table (named by its Chinese label), formula-like text inert."""
    from .export import to_excel_workbook
    from .extracts import KINDS

    return to_excel_workbook({KINDS[kind].label: frame for kind, frame in version_frames(lake, lake_version).items()})
