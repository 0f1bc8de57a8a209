"""CSV and Excel exports: Chinese survives, formulas are neutralised, numbers stay numbers, colours stay."""
from __future__ import annotations

import csv
import datetime as dt
import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from fiscal.export import is_formula_like, neutralise, to_csv_bytes, to_excel_bytes
from fiscal.vocabulary import TIERS, label_colours

TIER_FILLS = label_colours(TIERS)
DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "\rCR", "=HYPERLINK(\"http://x\")"]


@pytest.fixture
def table():
    return pd.DataFrame({
        "县区": ["演示县01", "=cmd|' /C calc'!A0", "演示县03"],
        "风险等级": ["重点关注", "正常", "提示"],
        "缺口（万元）": [-1234.5, 0.0, np.nan],
        "户数": pd.array([3, -2, None], dtype="Int64"),
        "日期": pd.to_datetime(["2026-11-20", "2026-11-21", None]),
        "原因": [["库款保障水平 0.20 低于预警线 0.30", "-8 个百分点"], [], None],
    })


@pytest.mark.parametrize("text", DANGEROUS)
def test_neutralise_formula_like_text(text):
    assert is_formula_like(text)
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["演示县", "0.5", "", "a=b", -3.5, 7, None])
def test_neutralise_leaves_other_values(value):
    assert neutralise(value) == value


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_is_utf8_with_bom_and_keeps_chinese(table):
    data = to_csv_bytes(table)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = read_csv(data)
    assert rows[0] == ["县区", "风险等级", "缺口（万元）", "户数", "日期", "原因"]
    assert rows[1][:2] == ["演示县01", "重点关注"]


def test_csv_neutralises_formulas_but_keeps_negative_numbers(table):
    rows = read_csv(to_csv_bytes(table))
    assert rows[2][0] == "'=cmd|' /C calc'!A0"
    assert rows[1][2] == "-1234.5"  # a number, not a quoted string
    assert rows[2][3] == "-2"
    assert rows[3][2] == "" and rows[3][3] == ""


def test_csv_joins_lists_and_neutralises_the_joined_text(table):
    rows = read_csv(to_csv_bytes(table))
    assert rows[1][5] == "库款保障水平 0.20 低于预警线 0.30；-8 个百分点"
    assert rows[2][5] == ""
    listed = pd.DataFrame({"原因": [["-8 个百分点"]]})
    assert read_csv(to_csv_bytes(listed))[1][0] == "'-8 个百分点"


def test_csv_dates_are_iso_and_lines_end_in_crlf(table):
    data = to_csv_bytes(table)
    assert read_csv(data)[1][4] == "2026-11-20"
    assert data.count(b"\r\n") == len(table) + 1


def test_csv_neutralises_headers_and_every_trigger():
    frame = pd.DataFrame({"=bad": DANGEROUS})
    rows = read_csv(to_csv_bytes(frame))
    assert rows[0] == ["'=bad"]
    assert [r[0] for r in rows[1:]] == ["'" + t for t in DANGEROUS]


def load(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_excel_keeps_chinese_header_and_tier_colours(table):
    sheet = load(to_excel_bytes(table, sheet_name="各县区指标", fills={"风险等级": TIER_FILLS}))
    assert sheet.title == "各县区指标"
    assert [c.value for c in sheet[1]] == list(table.columns)
    assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
    for row, label in ((2, "重点关注"), (3, "正常"), (4, "提示")):
        cell = sheet.cell(row=row, column=2)
        assert cell.value == label
        assert cell.fill.fgColor.rgb.endswith(TIER_FILLS[label].lstrip("#").upper())
    assert sheet["B2"].font.color.rgb.endswith("FFFFFF")  # white on red
    assert sheet["B4"].font.color.rgb.endswith("000000")  # black on yellow
    assert sheet["A2"].fill.fill_type is None  # other columns are not coloured


def test_excel_neutralises_formulas_as_text(table):
    sheet = load(to_excel_bytes(table))
    cell = sheet["A3"]
    assert cell.data_type == "s" and cell.value == "=cmd|' /C calc'!A0"
    assert cell.quotePrefix  # Excel's own "leading apostrophe": shown and edited as text
    sheet = load(to_excel_bytes(pd.DataFrame({"x": DANGEROUS})))
    for row, text in enumerate(DANGEROUS, start=2):
        written = sheet.cell(row=row, column=1)
        assert written.data_type == "s" and written.quotePrefix
        assert written.value == text  # a CR is stored as a character reference and read back as CR


def test_excel_keeps_numbers_numeric_with_formats(table):
    sheet = load(to_excel_bytes(table, number_formats={"缺口（万元）": "#,##0.00"}))
    assert sheet["C2"].value == -1234.5 and sheet["C2"].data_type == "n"
    assert sheet["C2"].number_format == "#,##0.00"
    assert sheet["D3"].value == -2 and sheet["D3"].data_type == "n"
    assert sheet["C4"].value is None and sheet["D4"].value is None
    assert sheet["E2"].value == dt.datetime(2026, 11, 20) and sheet["E2"].number_format == "yyyy-mm-dd"
    assert sheet["F2"].value == "库款保障水平 0.20 低于预警线 0.30；-8 个百分点"
    assert sheet["F2"].quotePrefix is False


def test_excel_sheet_name_is_made_valid():
    sheet = load(to_excel_bytes(pd.DataFrame({"a": [1]}), sheet_name="a/b:c*?[x]" + "长" * 40))
    assert "/" not in sheet.title and ":" not in sheet.title and len(sheet.title) <= 31


def test_empty_table_exports():
    empty = pd.DataFrame({"县区": pd.Series([], dtype="str")})
    assert read_csv(to_csv_bytes(empty)) == [["县区"]]
    assert load(to_excel_bytes(empty)).max_row == 1


def test_a_download_carries_its_context_and_percentages_read_like_the_screen():
    from fiscal.export import with_context_csv, with_context_excel

    table = pd.DataFrame({"区划代码": ["990101"], "县区": ["演示县01"], "收入进度": [0.91224],
                          "库款余额（万元）": [9991.67]})
    context = {"截至日期": "2026-11-20", "地市": "全部地市", "金额单位": "万元"}
    text = with_context_csv(table, context, percent_columns=["收入进度"]).decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[:5] == ["说明,内容", "截至日期,2026-11-20", "地市,全部地市", "金额单位,万元", ""]
    assert lines[5] == "区划代码,县区,收入进度（%）,库款余额（万元）"
    assert lines[6] == "990101,演示县01,91.224,9991.67"
    workbook = load_workbook(io.BytesIO(with_context_excel(table, context, sheet_name="各县区指标")))
    assert workbook.sheetnames == ["各县区指标", "说明"]
    assert [c.value for c in workbook["说明"]["A"]] == ["说明", "截至日期", "地市", "金额单位"]
    assert workbook["各县区指标"]["C2"].value == 0.91224  # Excel keeps the fraction, shown as %
