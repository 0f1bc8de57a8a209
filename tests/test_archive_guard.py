"""An .xlsx zip bomb is refused from its zip directory, before any parsing."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from fiscal import archive_guard, reading
from fiscal.validation import check_file

UPLOADS = Path(__file__).parent / "files" / "uploads"


def test_corpus_bomb_is_refused_with_sizes_in_the_message():
    extract, [problem] = check_file(UPLOADS / "zip_bomb.xlsx")
    assert extract is None and problem.level == "error"
    assert problem.rule.startswith("Excel 文件解压后约 30 MB（压缩比")
    assert "已在读取前拒绝" in problem.rule


def test_refusal_happens_before_openpyxl_opens_the_file(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("openpyxl must not be reached")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(reading.ReadError, match="压缩比"):
        reading.read_sheets(UPLOADS / "zip_bomb.xlsx", "库款.xlsx")


def test_large_declared_size_is_refused_even_at_a_modest_ratio(tmp_path, monkeypatch):
    monkeypatch.setattr(archive_guard, "MAX_UNCOMPRESSED", 1024 * 1024)
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # stored: ratio 1
        archive.writestr("xl/worksheets/sheet1.xml", b"x" * (2 * 1024 * 1024))
    with pytest.raises(archive_guard.ArchiveRefused, match="解压后约 2 MB（压缩比 1 倍）"):
        archive_guard.check_zip(path)


def test_ordinary_workbooks_pass(tmp_path):
    wb = openpyxl.Workbook()
    for row in range(2000):
        wb.active.append(["990101", f"2026-01-{row % 28 + 1:02d}", row * 1.5, row, row / 2])
    buffer = io.BytesIO()
    wb.save(buffer)
    path = tmp_path / "ok.xlsx"
    path.write_bytes(buffer.getvalue())
    archive_guard.check_zip(path)  # no exception
    assert len(reading.read_sheets(path, "ok.xlsx")[0].rows) == 2000


def test_row_bound_stops_a_huge_sheet(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 100)
    path = tmp_path / "rows.csv"
    path.write_text("区划代码,日期,库款余额,库款流入,库款流出\n" + "990101,2026-01-01,1,1,1\n" * 200, encoding="utf-8")
    with pytest.raises(reading.ReadError, match="文件超过 100 行"):
        reading.read_sheets(path, "rows.csv")
