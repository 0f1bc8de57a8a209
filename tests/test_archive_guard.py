"""An .xlsx zip bomb is refused from its zip directory, before any parsing."""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine

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
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", never)
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


def _workbook(tmp_path: Path, cells: dict) -> Path:
    workbook = openpyxl.Workbook()
    for ref, value in cells.items():
        workbook.active[ref] = value
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    return path


def test_the_dense_grid_of_a_sheet_runs_from_a1_to_its_last_row_and_column(tmp_path):
    assert archive_guard.dense_cells(_workbook(tmp_path, {"A1": "x", "C5": 1})) == 5 * 3
    # A few KB on disk, 1,048,576 rows × 16,384 columns as a grid.
    assert archive_guard.dense_cells(_workbook(tmp_path, {"A1": "x", "XFD1048576": 1})) == 1048576 * 16384


def test_cells_read_by_calamine_are_as_openpyxl_gives_them(tmp_path):
    path = _workbook(tmp_path, {"B2": "区划代码", "C2": 3, "D2": 2.5, "E2": True, "F2": dt.date(2025, 3, 1),
                                "B4": "  x ", "C4": dt.datetime(2025, 3, 1, 12, 30)})
    [sheet] = reading.read_sheets(path, "t.xlsx")
    assert sheet.rows == [(2, [None, "区划代码", 3, 2.5, True, dt.datetime(2025, 3, 1)]),
                          (4, [None, "  x ", dt.datetime(2025, 3, 1, 12, 30), None, None, None])]


def test_a_sheet_with_a_cell_far_out_is_read_by_the_streaming_reader(tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("calamine would allocate the whole grid")

    path = _workbook(tmp_path, {"A1": "区划代码", "C5": 7})
    monkeypatch.setattr(reading, "MAX_DENSE_CELLS", 14)  # the grid is 15 cells
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_path", never)
    [sheet] = reading.read_sheets(path, "t.xlsx")
    assert [(number, cells[:3]) for number, cells in sheet.rows] == [(1, ["区划代码", None, None]), (5, [None, None, 7])]
