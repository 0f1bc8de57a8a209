"""Write the upload corpus of the 数据管理 tests: files against the shipped demo lake.

The demo lake (`python -m fiscal demo`, DEMO_END 2026-11-20) has counties 990101…990310;
every file here uses those codes so that each bad file has exactly the fault it is named
after. Run `python tests/files/uploads/make_uploads.py` to regenerate; the files are
committed. Written with the csv module and openpyxl, as real exports are.
"""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
TREASURY_HEADER = ["区划代码", "日期", "库款余额", "库款流入", "库款流出"]

# 990101 ended the demo on 2026-11-20 at 9,854.67 and 990102 at 25,300.43 (万元).
# Line 2 repeats the lake's own 2026-11-20 row (a replaced row); lines 3–4 are new days.
GOOD_TREASURY = [
    ["990101", "2026-11-20", "9854.67", "111.31", "436.14"],
    ["990101", "2026-11-21", "12345.67", "2491.00", "0.00"],
    ["990102", "2026-11-21", "25400.43", "100.00", "0.00"],
]


def write_csv(name: str, rows: list[list], encoding: str = "utf-8") -> None:
    with open(HERE / name, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)


def main() -> None:
    # States its unit: the page refuses to assume one (a file in 元 read as 万元 is 10,000× off).
    write_csv("good_treasury.csv", [["单位：万元"], TREASURY_HEADER, *GOOD_TREASURY])
    # The same rows with no unit anywhere: the analyst must choose one before committing.
    write_csv("treasury_no_unit.csv", [TREASURY_HEADER, *GOOD_TREASURY])
    # The same data as a GBK export in 元 with a title and a unit line.
    write_csv("good_treasury_gbk_yuan.csv", [
        ["演示市2026年11月库款日报表"],
        ["", "", "", "", "单位：元"],
        TREASURY_HEADER,
        ["990101", "2026/11/20", "98,546,700.00", "1,113,100.00", "4,361,400.00"],
        ["990101", "2026/11/21", "123,456,700.00", "24,910,000.00", "0"],
        ["990102", "2026/11/21", "254,004,300.00", "1,000,000.00", "0"],
    ], encoding="gbk")
    # Payroll-account balances: a different kind (uploaded as 库款日报 → wrong kind).
    write_csv("payroll_account.csv", [["单位：万元"], ["区划代码", "日期", "工资专户余额"], ["990101", "2026-11-21", "500"]])
    write_csv("unknown_headers.csv", [["编号", "名称", "金额"], ["1", "甲", "5"]])
    write_csv("missing_column.csv", [TREASURY_HEADER[:4], *[r[:4] for r in GOOD_TREASURY]])
    write_csv("text_amount.csv", [TREASURY_HEADER, GOOD_TREASURY[0], ["990101", "2026-11-21", "一万二", "0", "0"]])
    write_csv("duplicate_keys.csv", [TREASURY_HEADER, GOOD_TREASURY[1], ["990101", "2026/11/21", "12345.67", "0", "0"]])
    write_csv("unknown_county.csv", [TREASURY_HEADER, GOOD_TREASURY[1], ["999999", "2026-11-21", "10", "0", "0"]])
    write_csv("negative_balance.csv", [TREASURY_HEADER, ["990101", "2026-11-21", "-12.5", "0", "0"]])
    (HERE / "empty.csv").write_bytes(b"")
    write_csv("header_only.csv", [["演示市库款日报"], TREASURY_HEADER])
    formula_row = ["990101", "2026-11-21", "=1+2", "0", "0"]  # a formula where an amount belongs
    write_csv("formula_amount.csv", [TREASURY_HEADER, formula_row])

    far_dates()

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "收入进度"
    ws.append(["演示市2026年收入进度表"])
    ws.append(["区划代码", "年度", "月份", "收入类别", "年初预算", "累计完成"])
    ws.append(["990101", 2026, 11, "税收收入", 1200, 1000])
    ws.append(["990101", 2026, 11, "非税收入", 300, 250])
    ws.append(["990101", 2026, 11, "合计", 1500, 1250])  # row 5: a total
    wb.save(HERE / "revenue_totals.xlsx")

    # A real xlsx cut in half: the zip directory is gone.
    buffer = io.BytesIO()
    wb.save(buffer)
    (HERE / "corrupt.xlsx").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    # Not a zip at all, but named .xlsx.
    (HERE / "not_excel.xlsx").write_bytes(b"This is not a spreadsheet.\n" * 20)
    # The OLE header of an old .xls (or an encrypted workbook).
    (HERE / "old_format.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    zip_bomb()


def far_dates() -> None:
    """Dates far outside the plausible years, beyond what a pandas timestamp can hold: typed
    (1500-01-01, 9999-12-31) and as an Excel serial day number (2958465 is 9999-12-31)."""
    write_csv("date_out_of_range.csv", [TREASURY_HEADER, GOOD_TREASURY[1],
                                        ["990101", "1500-01-01", "10", "0", "0"],
                                        ["990102", "9999-12-31", "10", "0", "0"]])
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "库款日报"
    ws.append(TREASURY_HEADER)
    ws.append(["990101", 2958465, 10, 0, 0])
    wb.save(HERE / "date_serial_out_of_range.xlsx")


def zip_bomb() -> None:
    """A real workbook whose sheet XML is padded with 30 MB of blanks: ~30 KB on disk, ~1,000×."""
    buffer = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active.append(TREASURY_HEADER)
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(HERE / "zip_bomb.xlsx", "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (30 * 1024 * 1024))
            out.writestr(item.filename, data, compresslevel=9)


if __name__ == "__main__":
    main()
