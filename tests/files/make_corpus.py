"""Write the test corpus: small files shaped like real bureau exports, good and bad.

Run `python tests/files/make_corpus.py` to regenerate; the files are committed so the
tests never depend on this script having run. Every file is written with the real
writer (csv module in the stated encoding, openpyxl, pyarrow), not by pandas, so the
bytes look like what Excel / WPS / a database export produce.
"""
from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent

TREASURY_HEADER = ["区划代码", "日期", "库款余额", "库款流入", "库款流出"]
# The reference treasury data in 万元; continuity holds on every row.
TREASURY = [
    ["330102", "2025-03-01", "1234.5678", "100", "50"],
    ["330102", "2025-03-02", "1284.5678", "60", "10"],
    ["330102", "2025-03-03", "1300", "20", "4.5678"],
    ["330105", "2025-03-01", "80.25", "0", "0"],
    ["330105", "2025-03-02", "70.25", "5", "15"],
]


def write_csv(name: str, rows: list[list], encoding: str = "utf-8", delimiter: str = ",") -> None:
    with open(HERE / name, "w", encoding=encoding, newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)


def treasury_csvs() -> None:
    write_csv("treasury_wanyuan.csv", [TREASURY_HEADER, *TREASURY])
    # The same data as a GBK export in 元: title, unit line, blank line, a 序号 column,
    # 2025/3/1 dates, thousands separators (one full-width), a trailing note.
    write_csv("treasury_gbk_yuan.csv", [
        ["示例市2025年3月库款日报表"],
        ["", "", "", "", "单位：元"],
        [],
        ["序号", "区划代码", "日期", "期末库款余额", "本期库款流入", "本期库款流出"],
        ["1", "330102", "2025/3/1", "12,345,678.00", "1,000,000.00", "500,000.00"],
        ["2", "330102", "2025/3/2", "12,845,678.00", "600,000.00", "100,000.00"],
        ["3", "330102", "2025/3/3", "13,000,000.00", "200,000.00", "45,678.00"],
        ["4", "330105", "2025/3/1", "802,500.00", "0", "0"],
        ["5", "330105", "2025/3/2", "702,500.00", "50，000.00", "150,000.00"],
        ["注：本表由各县区财政局每日填报"],
    ], encoding="gbk")
    # The reference data in 元 with no unit line at all: read as 万元 it is 10,000× too large.
    write_csv("treasury_yuan_no_unit.csv", [
        TREASURY_HEADER, *[[c, d, f"{float(b) * 1e4:.2f}", f"{float(i) * 1e4:.2f}", f"{float(o) * 1e4:.2f}"]
                           for c, d, b, i, o in TREASURY]])
    write_csv("treasury_missing_column.csv", [TREASURY_HEADER[:4], *[r[:4] for r in TREASURY]])
    write_csv("treasury_bad_values.csv", [
        TREASURY_HEADER,
        ["330102", "2025-03-01", "1234.5678", "100", "50"],
        ["330102", "2025-02-30", "abc", "1,000.5", ""],  # line 3: bad date, text amount, missing
        ["33010", "2025-03-02", "-5", "0", "0"],  # line 4: 5-digit code, negative balance
        ["330105", "1999-12-31", "80", "0", "0"],  # line 5: implausible date
    ])
    write_csv("treasury_duplicates.csv", [
        TREASURY_HEADER,
        ["330102", "2025-03-01", "10", "0", "0"],
        ["330105", "2025-03-01", "20", "0", "0"],
        ["330102", "2025/3/1", "11", "0", "0"],  # line 4 repeats line 2 (same date, other spelling)
        ["330102", "2025-03-02", "10", "0", "0"],
        ["330102", "2025-03-01", "12", "0", "0"],  # line 6 repeats line 2 again
    ])
    # Line 3 breaks continuity (10 + 5 − 1 = 14, not 20); line 4 is after "today" (2025-03-31 in tests).
    write_csv("treasury_warnings.csv", [
        TREASURY_HEADER,
        ["330102", "2025-03-01", "10", "0", "0"],
        ["330102", "2025-03-02", "20", "5", "1"],
        ["330102", "2025-04-01", "20", "0", "0"],
    ])
    write_csv("treasury_header_only.csv", [["示例市库款日报"], TREASURY_HEADER])
    (HERE / "empty.csv").write_bytes(b"")


def payroll_files() -> None:
    # UTF-8 with BOM (Excel's "CSV UTF-8"), unit in the header, optional headcount.
    write_csv("payroll_schedule_bom.csv", [
        ["区划代码", "工资发放日", "应发工资（元）", "供养人数"],
        ["330102", "2025年3月5日", "8,000,000", "1,200"],
        ["330105", "2025年3月5日", "2500000.5", ""],
    ], encoding="utf-8-sig")
    # The same schedule as Parquet in 万元 with Chinese column names.
    table = pa.table({
        "区划代码": pa.array(["330102", "330105"]),
        "发薪日": pa.array([dt.date(2025, 3, 5)] * 2, pa.date32()),
        "应发工资": pa.array([800.0, 250.00005]),
        "供养人数": pa.array([1200, None], pa.int32()),
    })
    pq.write_table(table, HERE / "payroll_schedule.parquet")


def counties_parquet() -> None:
    # Codes as integers, as a database export might store them.
    pq.write_table(pa.table({
        "county_code": pa.array([330102, 330105, 330106], pa.int64()),
        "county_name": ["上城区", "拱墅区", "西湖区"],
        "city_name": ["示例市"] * 3,
        "population": [1.2e6, None, 1.1e6],
    }), HERE / "counties.parquet")


def treasury_xlsx() -> None:
    """The reference treasury data in a two-sheet workbook with every cell style seen in practice."""
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "填报说明"
    notes.append(["填报说明"])
    notes.append(["1. 金额单位为万元；2. 日期填写为 2025-03-01 格式。"])
    ws = wb.create_sheet("库款日报")
    ws.append(["示例市2025年3月库款日报表"])
    ws.append([None, None, None, None, None, "金额单位：万元"])
    ws.append([])
    ws.append(["序号", "区划代码", "日期", "库款余额", "库款流入", "库款流出"])
    ws.append([1, 330102, 45717, 1234.5678, 100, 50])  # code as number, date as a bare serial
    ws.append([2, 330102.0, "2025/3/2", "1,284.5678", "60", 10])  # code as float, text amount
    ws.append([3, "330102", dt.datetime(2025, 3, 3), "1，300.00", 20, 4.5678])  # real date, full-width comma
    ws.append([4, "330105 ", "2025年3月1日", 80.25, 0, 0])
    ws.append([5, 330105, "2025-03-02", 70.25, 5, 15])
    wb.save(HERE / "treasury_sheets.xlsx")


def revenue_files() -> None:
    header = ["县区代码", "年度", "月份", "收入类别", "年初预算（万元）", "累计完成（万元）"]
    write_csv("revenue.csv", [
        header,
        ["330102", "2025", "1", "税收收入", "1200", "100"],
        ["330102", "2025", "2", "税收收入", "1200", "90"],  # line 3: cumulative falls 100 → 90
        ["330102", "2025年", "3月", "非税收入", "300", "75"],
        ["330105", "2025", "13", "税收收入", "0", "10"],  # line 5: month 13, budget not > 0
    ])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "收入进度"
    ws.append(["示例市2025年收入进度表"])
    ws.append(header)
    ws.append(["330102", 2025, 3, "税收收入", 1200, 300])
    ws.append(["330102", 2025, 3, "非税收入", 300, 75])
    ws.append(["330102", 2025, 3, "合计", 1500, 375])  # row 5: a category total
    ws.append(["330105", 2025, 3, "一般公共预算收入小计", 800, 200])  # row 6: a named subtotal
    ws.append(["合计", None, None, None, 2300, 575])  # row 7: the city total
    wb.save(HERE / "revenue_totals.xlsx")


def corrupt_xlsx() -> None:
    (HERE / "corrupt.xlsx").write_bytes(random.Random(20250301).randbytes(2048))


if __name__ == "__main__":
    treasury_csvs()
    payroll_files()
    counties_parquet()
    treasury_xlsx()
    revenue_files()
    corrupt_xlsx()
