"""fiscal.reading: raw cells with the row numbers the user sees, header and unit location."""
import datetime as dt
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from fiscal import reading
from fiscal.reading import ReadError, detect_kind, header_key, locate, map_headers, read_sheets

FILES = Path(__file__).parent / "files"


def sheets(name: str) -> list[reading.Sheet]:
    return read_sheets(FILES / name, name)


# ---------------------------------------------------------------- CSV

def test_gbk_csv_keeps_line_numbers_and_skips_blank_lines():
    [sheet] = sheets("treasury_gbk_yuan.csv")
    assert sheet.name is None
    assert [n for n, _ in sheet.rows] == [1, 2, 4, 5, 6, 7, 8, 9, 10]  # line 3 is blank
    assert sheet.rows[0][1] == ["示例市2025年3月库款日报表"]
    assert sheet.rows[2][1][3] == "期末库款余额"
    assert sheet.rows[3][1][3] == "12,345,678.00"  # strings, untouched


def test_utf8_bom_is_not_part_of_the_first_header():
    [sheet] = sheets("payroll_schedule_bom.csv")
    assert sheet.rows[0][1][0] == "区划代码"


def test_tab_delimited_and_utf16_text_exports(tmp_path):
    text = "区划代码\t日期\t库款余额\t库款流入\t库款流出\r\n330102\t2025-03-01\t1,234.5\t0\t0\r\n"
    for encoding in ("utf-8", "utf-16"):  # Excel "文本文件（制表符分隔）" / "Unicode 文本"
        path = tmp_path / f"t_{encoding}.txt"
        path.write_bytes(text.encode(encoding))
        [sheet] = read_sheets(path, path.name)
        assert list(sheet.rows) == [(1, text.split("\r\n")[0].split("\t")),
                              (2, ["330102", "2025-03-01", "1,234.5", "0", "0"])]


def test_quoted_cell_spanning_lines_reports_the_line_where_the_record_starts(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('a,b\n1,"x\ny"\n2,z\n', encoding="utf-8")
    [sheet] = read_sheets(path, path.name)
    assert [n for n, _ in sheet.rows] == [1, 2, 4]


def test_undecodable_bytes_are_a_clear_error(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(b"\x81\x20\xff\x00")
    with pytest.raises(ReadError, match="无法识别文件编码"):
        read_sheets(path, path.name)


# ---------------------------------------------------------------- XLSX and Parquet

def test_xlsx_reads_every_sheet_with_excel_row_numbers_and_native_cells():
    notes, data = sheets("treasury_sheets.xlsx")
    assert (notes.name, data.name) == ("填报说明", "库款日报")
    assert [n for n, _ in data.rows] == [1, 2, 4, 5, 6, 7, 8, 9]  # row 3 is empty
    assert data.rows[3][1][:4] == [1, 330102, 45717, 1234.5678]
    assert data.rows[5][1][2] == dt.datetime(2025, 3, 3)


@pytest.mark.parametrize("name, content, message", [
    ("corrupt.xlsx", None, "不是有效的 Excel"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "旧版 Excel"),
    ("bad.parquet", b"PAR1 not really parquet", "不是有效的 Parquet"),
    ("bad.xlsx", b"PK\x03\x04 a broken zip", "不是有效的 Excel"),
])
def test_damaged_files_raise_read_error_not_a_traceback(tmp_path, name, content, message):
    path = FILES / name if content is None else tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ReadError, match=message):
        read_sheets(path, name)


def test_parquet_header_is_row_0_and_records_count_from_1():
    [sheet] = sheets("counties.parquet")
    assert sheet.rows[0] == (0, ["county_code", "county_name", "city_name", "population"])
    assert sheet.rows[1] == (1, [330102, "上城区", "示例市", 1.2e6])
    assert [n for n, _ in sheet.rows] == [0, 1, 2, 3]


# ---------------------------------------------------------------- headers

@pytest.mark.parametrize("cell, key", [
    ("库款余额（万元）", ("库款余额", "万元")),
    ("库款余额 (单位：元)", ("库款余额", "元")),
    ("期末库款余额\n（亿元）", ("期末库款余额", "亿元")),
    ("库款余额（千元）", ("库款余额", "千元")),
    ("人数（人）", ("人数", None)),
    ("*区划代码", ("区划代码", None)),
    ("County_Code", ("county_code", None)),
])
def test_header_key_normalises_width_spaces_and_unit_suffix(cell, key):
    assert header_key(cell) == key


def test_map_headers_knows_aliases_with_parentheses_and_ignores_other_columns():
    found = map_headers(["序号", "行政区划代码", "县（市、区）", "地市", "人口（人）"], "counties")
    assert found == {
        "county_code": [(1, "行政区划代码", None)],
        "county_name": [(2, "县（市、区）", None)],
        "city_name": [(3, "地市", None)],
        "population": [(4, "人口（人）", None)],
    }


@pytest.mark.parametrize("headers, kind", [
    (["区划代码", "日期", "库款余额", "库款流入", "库款流出"], "treasury"),
    (["county_code", "date", "balance", "inflow", "outflow"], "treasury"),  # not payroll_account
    (["county_code", "date", "balance"], "payroll_account"),
    (["区划代码", "日期", "工资专户余额"], "payroll_account"),
    (["县区代码", "发薪日", "应发工资（元）"], "payroll_schedule"),
    (["区划代码", "年度", "月份", "科目", "预算数", "累计收入"], "revenue"),
    (["区划代码", "年份", "月份", "暂付款余额", "一般公共预算支出累计", "政府性基金预算支出累计"], "advances"),
    (["区划代码", "县区名称", "所属市"], "counties"),
    (["区划代码", "县区名称", "所属市", "日期", "库款余额", "库款流入", "库款流出"], "treasury"),
    (["区划代码", "县区名称", "所属市", "人口", "日期", "专户余额"], "payroll_account"),
    (["区划代码", "日期", "库款余额", "库款流入", "库款流出", "专户余额"], "treasury"),
    (["区划代码", "日期", "库款余额", "库款流入"], None),  # 库款流出 missing
    (["序号", "名称", "金额"], None),
])
def test_detect_kind(headers, kind):
    assert detect_kind(headers) == kind


# ---------------------------------------------------------------- locating the table

def test_locate_finds_title_unit_line_and_header_in_gbk_csv():
    table = locate(sheets("treasury_gbk_yuan.csv"))
    assert (table.kind, table.sheet, table.header_row) == ("treasury", None, 4)
    assert table.unit_line == (2, "元")
    assert table.columns == {"county_code": 1, "date": 2, "balance": 3, "inflow": 4, "outflow": 5}
    assert table.headers["balance"] == "期末库款余额"
    assert [n for n, _ in table.data] == [5, 6, 7, 8, 9, 10]


def test_locate_skips_the_instruction_sheet():
    table = locate(sheets("treasury_sheets.xlsx"), "treasury")
    assert (table.sheet, table.header_row, table.unit_line) == ("库款日报", 4, (2, "万元"))
    assert table.other_sheets == []


def test_locate_reports_other_sheets_of_the_same_kind(tmp_path):
    wb = openpyxl.Workbook()
    for title in ("三月", "四月"):
        ws = wb.create_sheet(title)
        ws.append(["区划代码", "日期", "专户余额"])
        ws.append(["330102", "2025-03-01", 1])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    table = locate(read_sheets(path, path.name))
    assert (table.kind, table.sheet, table.other_sheets) == ("payroll_account", "三月", ["四月"])


def test_header_unit_suffix_is_recorded_per_column():
    table = locate(sheets("payroll_schedule_bom.csv"))
    assert table.column_units == {"amount_due": "元"}
    assert table.headers["amount_due"] == "应发工资（元）"


def test_locate_errors_name_the_problem():
    with pytest.raises(ReadError, match="^文件看起来是「库款日报」而不是「工资发放计划」"):
        locate(sheets("treasury_wanyuan.csv"), "payroll_schedule")
    with pytest.raises(ReadError) as err:
        locate(sheets("treasury_missing_column.csv"), "treasury")
    assert err.value.rule == (
        "没有找到「库款日报」的表头：第 1 行的列名为「区划代码」「日期」「库款余额」「库款流入」，"
        "缺少必需的列：库款流出（可用列名：库款流出、本期库款流出、流出、outflow）")


def test_canonical_treasury_is_not_accepted_as_payroll_account(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"county_code": ["330102"], "date": [dt.date(2025, 3, 1)],
                             "balance": [1.0], "inflow": [0.0], "outflow": [0.0]}), path)
    with pytest.raises(ReadError, match="文件看起来是「库款日报」而不是「工资专户余额」"):
        locate(read_sheets(path, path.name), "payroll_account")


def test_directory_columns_do_not_make_a_data_extract_a_county_list():
    cells = ["区划代码", "县区名称", "所属市", "日期", "库款余额", "库款流入", "库款流出"]
    with pytest.raises(ReadError, match="文件看起来是「库款日报」而不是「县区名录」"):
        locate([reading.Sheet(None, [(1, cells), (2, ["330102"] * 7)])], "counties")


def test_a_combined_export_can_be_read_as_either_kind():
    cells = ["区划代码", "日期", "库款余额", "库款流入", "库款流出", "专户余额"]
    sheet = reading.Sheet(None, [(1, cells), (2, ["330102"] * 6)])
    assert locate([sheet], "payroll_account").columns == {"county_code": 0, "date": 1, "balance": 5}
    assert locate([sheet], "treasury").columns["balance"] == 2


def test_two_columns_for_one_field_is_an_error():
    cells = ["区划代码", "日期", "库款余额", "期末库款余额", "库款流入", "库款流出"]
    with pytest.raises(ReadError, match="第 1 行的列「库款余额」「期末库款余额」都对应「库款余额」"):
        locate([reading.Sheet(None, [(1, cells), (2, ["330102"] * 6)])])


def test_a_text_export_without_quotes_is_kept_column_by_column_with_the_rows_the_user_sees(tmp_path):
    # \r, \r\n and \n all end a record (as for the csv module); blank lines and lines of bare
    # commas are left out but still counted; a short row has no cell where it ends.
    text = "库款日报\r单位：元\r\n\n区划代码,日期,库款余额\n, ,\n330102,2025/3/1,5\n330103,2025/3/2\n"
    path = tmp_path / "plain.csv"
    path.write_text(text, encoding="utf-8")
    [sheet] = read_sheets(path, path.name)
    assert isinstance(sheet.rows, reading.TextRows)
    assert list(sheet.rows) == [(1, ["库款日报"]), (2, ["单位：元"]), (4, ["区划代码", "日期", "库款余额"]),
                                (6, ["330102", "2025/3/1", "5"]), (7, ["330103", "2025/3/2"])]
    data = sheet.rows[3:]
    assert data.records == [6, 7]
    assert data.column(1).to_pylist() == ["2025/3/1", "2025/3/2"]
    assert data.column(2).to_pylist() == ["5", None]
    assert data.take([1]).records == [7] and data.take([1]).column(0).to_pylist() == ["330103"]


def test_quoted_and_plain_exports_of_the_same_table_read_alike(tmp_path):
    plain = "区划代码,日期,库款余额\r\n330102,2025/3/1,5\r\n\r\n330103,2025/3/2,6\r\n"
    quoted = plain.replace("330103", '"330103"')
    sheets = []
    for name, text in (("plain.csv", plain), ("quoted.csv", quoted)):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        [sheet] = read_sheets(path, name)
        sheets.append(sheet)
    assert isinstance(sheets[0].rows, reading.TextRows) and isinstance(sheets[1].rows, list)
    assert list(sheets[0].rows) == sheets[1].rows == [
        (1, ["区划代码", "日期", "库款余额"]), (2, ["330102", "2025/3/1", "5"]), (4, ["330103", "2025/3/2", "6"])]


def test_a_plain_text_export_over_the_row_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    path = tmp_path / "big.csv"
    path.write_text("区划代码,日期\n330102,2025/3/1\n330102,2025/3/2\n\n", encoding="utf-8")  # 4 records, one blank
    with pytest.raises(reading.ReadError, match="文件超过 3 行"):
        read_sheets(path, path.name)
