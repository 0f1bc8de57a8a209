"""Refuse an .xlsx zip bomb before any parsing: the zip directory tells the truth cheaply.

An .xlsx is a zip of XML files. A few MB can declare gigabytes of XML that openpyxl would
spend minutes and gigabytes of memory parsing, blocking everyone else on the server. The
central directory lists each member's compressed and uncompressed size without
decompressing anything, and Python's zipfile never inflates a member past its declared
size, so checking the declared sizes bounds the work of every later step.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

MIB = 1024 * 1024
# Real exports inflate 5–20× (very repetitive sheets up to ~100×); a bomb 1,000× and more.
MAX_RATIO = 200
MAX_UNCOMPRESSED = 300 * MIB  # far above a 50 MB upload of ordinary data
MAX_MEMBERS = 10_000


class ArchiveRefused(Exception):
    """The archive is implausible; `str(exc)` is the Chinese message."""


def check_zip(path: str | Path) -> None:
    """Raise ArchiveRefused when the archive would inflate implausibly; read nothing else."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArchiveRefused("文件已损坏或不是有效的 Excel（.xlsx）文件，无法打开") from exc
    if len(members) > MAX_MEMBERS:
        raise ArchiveRefused(f"Excel 文件内部包含 {len(members):,} 个部件，远超正常文件，已拒绝读取；"
                             "请在 Excel 中另存为新的 .xlsx，或导出为 CSV 后上传")
    inflated = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    ratio = inflated / max(packed, 1)
    if inflated > MAX_UNCOMPRESSED or ratio > MAX_RATIO:
        raise ArchiveRefused(
            f"Excel 文件解压后约 {inflated / MIB:,.0f} MB（压缩比 {ratio:,.0f} 倍），远超正常报表，"
            "可能是损坏或恶意构造的文件，已在读取前拒绝；请导出为 CSV，或只保留所需的工作表后另存再上传")


_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
_CELL_COLUMN = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]+)')


def dense_cells(path: str | Path) -> int:
    """The largest rows × columns rectangle (from A1 to the last row and column used) of any
    worksheet: what a reader that keeps a sheet as one dense grid must allocate. A sheet with a
    cell in A1 and one in XFD1048576 is a few KB on disk and 17 billion cells as a grid.
    Read from the cell references in the XML (bounded by `check_zip`), without parsing it."""
    largest = 0
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if not re.fullmatch(r"xl/worksheets/[^/]+\.xml", member.filename):
                continue
            xml = archive.read(member)
            rows = max(map(int, _ROW.findall(xml)), default=xml.count(b"<row"))
            columns = max((_column_number(c) for c in set(_CELL_COLUMN.findall(xml))), default=1)
            largest = max(largest, rows * columns)
    return largest


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number
