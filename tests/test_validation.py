"""fiscal.validation.check_file on real files: typed frames, unit conversion, every rule."""
import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from fiscal.extracts import KINDS
from fiscal.validation import MAX_PROBLEMS, Extract, Problem, check_file

FILES = Path(__file__).parent / "files"
TODAY = dt.date(2025, 3, 31)  # the corpus is March 2025


def check(name: str, **kwargs) -> tuple[Extract | None, list[Problem]]:
    return check_file(FILES / name, today=kwargs.pop("today", TODAY), **kwargs)


def errors(problems: list[Problem]) -> list[tuple]:
    return [(p.row, p.column, p.value, p.rule) for p in problems if p.level == "error"]


def warnings(problems: list[Problem]) -> list[tuple]:
    return [(p.row, p.column, p.value, p.rule) for p in problems if p.level == "warning"]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


TREASURY = pd.DataFrame({
    "county_code": pd.Series(["330102"] * 3 + ["330105"] * 2, dtype="str"),
    "date": pd.to_datetime(["2025-03-01", "2025-03-02", "2025-03-03", "2025-03-01", "2025-03-02"]).astype("datetime64[ns]"),
    "balance": [1234.5678, 1284.5678, 1300.0, 80.25, 70.25],
    "inflow": [100.0, 60.0, 20.0, 0.0, 5.0],
    "outflow": [50.0, 10.0, 4.5678, 0.0, 15.0],
})


# ---------------------------------------------------------------- good files

def test_clean_csv_in_wanyuan():
    extract, problems = check("treasury_wanyuan.csv")
    assert problems == []
    assert (extract.kind, extract.unit, extract.header_row, extract.sheet) == ("treasury", "万元", 1, None)
    assert extract.source_name == "treasury_wanyuan.csv"
    pd.testing.assert_frame_equal(extract.frame, TREASURY)
    assert extract.rows.tolist() == [2, 3, 4, 5, 6]
    assert extract.rows.index.equals(extract.frame.index)


def test_messy_gbk_csv_in_yuan_gives_the_same_frame():
    extract, problems = check("treasury_gbk_yuan.csv", kind="treasury")
    assert errors(problems) == []
    assert warnings(problems) == [(10, None, "注：本表由各县区财政局每日填报", "这一行只有一段文字，已作为说明忽略")]
    assert (extract.unit, extract.header_row) == ("元", 4)
    assert extract.frame.at[0, "balance"] == 1234.5678  # "12,345,678.00" 元
    assert extract.frame.at[4, "inflow"] == 5.0  # "50，000.00" 元, full-width separator
    pd.testing.assert_frame_equal(extract.frame, TREASURY)
    assert extract.rows.tolist() == [5, 6, 7, 8, 9]


def test_xlsx_with_instruction_sheet_title_unit_line_serial_and_text_dates():
    extract, problems = check("treasury_sheets.xlsx")
    assert problems == []
    assert (extract.kind, extract.sheet, extract.unit, extract.header_row) == ("treasury", "库款日报", "万元", 4)
    pd.testing.assert_frame_equal(extract.frame, TREASURY)
    assert extract.rows.tolist() == [5, 6, 7, 8, 9]


def test_bom_csv_with_unit_in_header_matches_parquet_in_wanyuan():
    from_csv, csv_problems = check("payroll_schedule_bom.csv")
    from_parquet, parquet_problems = check("payroll_schedule.parquet", kind="payroll_schedule")
    assert csv_problems == parquet_problems == []
    assert (from_csv.unit, from_parquet.unit) == ("元", "万元")
    assert from_csv.frame["amount_due"].tolist() == [800.0, 250.00005]  # "8,000,000" and "2500000.5" 元
    assert from_csv.frame["headcount"].tolist() == [1200, pd.NA]  # "1,200"; optional and empty
    pd.testing.assert_frame_equal(from_csv.frame, from_parquet.frame)
    assert from_parquet.rows.tolist() == [1, 2]  # Parquet: record numbers
    assert from_parquet.header_row == 0


def test_counties_parquet_with_integer_codes():
    extract, problems = check("counties.parquet", known_counties={"999999"})  # not applied to counties
    assert problems == []
    assert extract.frame["county_code"].tolist() == ["330102", "330105", "330106"]
    assert extract.frame.columns.tolist() == KINDS["counties"].column_names


def test_optional_column_absent_from_file_is_present_and_null(tmp_path):
    path = write(tmp_path, "c.csv", "区划代码,县区名称,所属市\n330102.0,上城区,示例市\n")
    extract, problems = check_file(path)
    assert problems == []
    assert extract.frame.columns.tolist() == ["county_code", "county_name", "city_name", "population"]
    assert extract.frame["population"].isna().all()
    assert extract.frame.at[0, "county_code"] == "330102"


@pytest.mark.parametrize("text, expected", [
    ("2025-03-01", "2025-03-01"), ("2025/3/1", "2025-03-01"), ("2025年3月1日", "2025-03-01"),
    ("2025.3.1", "2025-03-01"), ("20250301", "2025-03-01"), ("45717", "2025-03-01"),
    ("2025-03-01 00:00:00", "2025-03-01"), ("２０２５/３/１", "2025-03-01"),
])
def test_date_spellings(tmp_path, text, expected):
    path = write(tmp_path, "p.csv", f"区划代码,日期,专户余额\n330102,{text},1\n")
    extract, problems = check_file(path, today=TODAY)
    assert problems == []
    assert extract.frame.at[0, "date"] == pd.Timestamp(expected)


def test_source_name_is_the_file_name_only(tmp_path):
    path = write(tmp_path, "upload-1234.tmp", "区划代码,日期,专户余额\n330102,2025-03-01,1\n")
    extract, problems = check_file(path, source_name="C:\\Users\\张三\\桌面\\专户.csv")
    assert problems == []
    assert extract.source_name == "专户.csv"
    extract, _ = check_file(path, source_name="/tmp/uploads/专户.csv")
    assert extract.source_name == "专户.csv"


# ---------------------------------------------------------------- units

def test_explicit_unit_converts_and_agreeing_unit_line_is_fine():
    extract, problems = check("treasury_wanyuan.csv", unit="元")
    assert problems == []
    assert extract.unit == "元"
    assert extract.frame.at[0, "balance"] == 0.123457  # 1234.5678 元, rounded to 1 分
    extract, problems = check("treasury_gbk_yuan.csv", unit="元")
    assert errors(problems) == []


def test_explicit_unit_disagreeing_with_unit_line_is_an_error():
    _, problems = check("treasury_gbk_yuan.csv", unit="万元")
    assert errors(problems) == [
        (2, None, "元", "上传时选择的单位是「万元」，但文件中写明单位为「元」，请确认金额单位后重新上传")]
    assert problems[0].message == (
        "第 2 行，值「元」：上传时选择的单位是「万元」，但文件中写明单位为「元」，请确认金额单位后重新上传")


def test_header_unit_disagreeing_with_explicit_unit_is_an_error():
    _, problems = check("payroll_schedule_bom.csv", unit="万元")
    assert errors(problems) == [
        (None, "应发工资（元）", None, "列名写明单位为「元」，与上传时选择的单位「万元」不一致")]


def test_yiyuan_unit_in_title_and_unsupported_unit(tmp_path):
    body = "区划代码,日期,库款余额,库款流入,库款流出\n330102,2025-03-01,1.5,0.25,0\n"
    extract, problems = check_file(write(tmp_path, "y.csv", "示例市库款日报（单位：亿元）\n" + body))
    assert problems == []
    assert (extract.unit, extract.frame.at[0, "balance"], extract.frame.at[0, "inflow"]) == ("亿元", 15000.0, 2500.0)
    _, problems = check_file(write(tmp_path, "k.csv", "单位：千元\n" + body))
    assert errors(problems) == [(1, None, "千元", "不支持的金额单位，可选：元、万元、亿元")]
    _, problems = check_file(write(tmp_path, "k.csv", body), unit="千元")
    assert errors(problems) == [(None, None, None, "不支持的金额单位「千元」，可选：元、万元、亿元")]


# ---------------------------------------------------------------- file-level errors

@pytest.mark.parametrize("name, kwargs, rule", [
    ("empty.csv", {}, "文件为空"),
    ("treasury_header_only.csv", {}, "只有表头，没有数据行"),
    ("corrupt.xlsx", {}, "文件已损坏或不是有效的 Excel（.xlsx）文件，无法打开"),
    ("treasury_wanyuan.csv", {"max_bytes": 100}, "文件大小 224 字节，超过上限 100 字节"),
    ("treasury_wanyuan.csv", {"kind": "payroll_schedule"},
     "文件看起来是「库款日报」而不是「工资发放计划」，请检查所选的数据类型或上传的文件"),
    ("treasury_sheets.xlsx", {"kind": "revenue"},
     "文件看起来是「库款日报」而不是「收入进度」，请检查所选的数据类型或上传的文件"),
    ("treasury_missing_column.csv", {},
     "无法判断文件的数据类型：第 1 行的列名为「区划代码」「日期」「库款余额」「库款流入」，与任何一类数据的必需列都不匹配；"
     "最接近「库款日报」，缺少：库款流出（可用列名：库款流出、本期库款流出、流出、outflow）"),
])
def test_file_level_errors(name, kwargs, rule):
    extract, problems = check(name, **kwargs)
    assert extract is None
    assert problems == [Problem("error", rule)]
    assert problems[0].message == rule


def test_a_file_over_the_limit_is_rejected_before_reading(tmp_path):
    path = write(tmp_path, "big.xlsx", "not an xlsx at all")  # would be "corrupt" if it were read
    _, problems = check_file(path, max_bytes=10)
    assert [p.rule for p in problems] == ["文件大小 18 字节，超过上限 10 字节"]


def test_unknown_headers_are_named(tmp_path):
    _, problems = check_file(write(tmp_path, "x.csv", "标题\n序号,名称,金额\n1,a,2\n"))
    assert [p.rule for p in problems] == [
        "无法判断文件的数据类型：第 2 行的列名为「序号」「名称」「金额」，与任何一类数据的必需列都不匹配"]


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        check("treasury_wanyuan.csv", kind="budget")


# ---------------------------------------------------------------- row-level errors

def test_the_plausible_years_run_from_the_first_day_of_2000_to_the_last_of_2100(tmp_path):
    text = ("区划代码,日期,库款余额,库款流入,库款流出\n330102,1999-12-31,1,0,0\n330102,2000-01-01,1,0,0\n"
            "330102,2100-12-31,1,0,0\n330102,2101-01-01,1,0,0\n")
    _, problems = check_file(write(tmp_path, "t.csv", text), today=dt.date(2101, 12, 31))
    assert errors(problems) == [(2, "日期", "1999-12-31", "日期不在合理范围（2000–2100 年）"),
                                (5, "日期", "2101-01-01", "日期不在合理范围（2000–2100 年）")]


def test_bad_values_are_all_reported_with_row_column_value_rule():
    extract, problems = check("treasury_bad_values.csv", known_counties={"330102"})
    assert errors(problems) == [
        (3, "日期", "2025-02-30", "无法识别的日期（可用格式：2025-03-01、2025/3/1、2025年3月1日 或 Excel 日期）"),
        (3, "库款余额", "abc", "不是有效的数字"),
        (3, "库款流出", None, "缺少必填值"),
        (4, "区划代码", "33010", "区划代码应为 6 位数字"),
        (4, "库款余额", "-5", "金额不能为负数"),
        (5, "区划代码", "330105", "区划代码不在县区名录中，请先在县区名录中补充该县区"),
        (5, "日期", "1999-12-31", "日期不在合理范围（2000–2100 年）"),
    ]
    assert warnings(problems) == []
    assert extract.frame.at[1, "inflow"] == 1000.5  # the parseable cells of a bad row still parse
    assert next(p for p in problems if p.row == 4 and p.column == "库款余额").message == \
        "第 4 行，列「库款余额」，值「-5」：金额不能为负数"


def test_known_counties_none_skips_the_existence_check():
    _, problems = check("treasury_wanyuan.csv", known_counties=None)
    assert problems == []
    _, problems = check("treasury_wanyuan.csv", known_counties={"330102"})
    assert [(p.row, p.value) for p in problems] == [(5, "330105"), (6, "330105")]


def test_duplicate_keys_name_the_first_row():
    _, problems = check("treasury_duplicates.csv")
    rule = "与第 2 行重复：同一「区划代码、日期」只能有一行"
    assert errors(problems) == [
        (4, "区划代码 + 日期", "330102，2025/3/1", rule),
        (6, "区划代码 + 日期", "330102，2025-03-01", rule),
    ]
    assert warnings(problems) == []  # duplicated days are left out of the continuity check


def test_revenue_rules_and_falling_cumulative():
    extract, problems = check("revenue.csv")
    assert errors(problems) == [
        (5, "月份", "13", "月份应在 1 至 12 之间"),
        (5, "年初预算（万元）", "0", "金额必须大于 0"),
    ]
    assert warnings(problems) == [
        (3, "累计完成（万元）", "90", "累计完成比 1 月（第 2 行）的 100 减少了 10 万元，累计数不应逐月减少")]
    assert extract.frame[["year", "month"]].iloc[2].tolist() == [2025, 3]  # "2025年", "3月"


def test_total_rows_and_total_categories_are_rejected_with_a_hint():
    extract, problems = check("revenue_totals.xlsx")
    category = "收入类别不能是合计/总计/小计：合计数由系统按类别汇总，一并上传会重复计算，请删除此行"
    assert errors(problems) == [
        (5, "收入类别", "合计", category),
        (6, "收入类别", "一般公共预算收入小计", category),
        (7, "县区代码", "合计", "合计行不需要上传：汇总数由系统计算，一并上传会重复计算，请删除此行"),
    ]
    assert extract.rows.tolist() == [3, 4, 5, 6]  # the city total row is not data


def test_total_row_in_treasury(tmp_path):
    path = write(tmp_path, "t.csv", "区划代码,日期,库款余额,库款流入,库款流出\n330102,2025-03-01,1,0,0\n"
                                     "全市合计,2025-03-01,1,0,0\n", encoding="gbk")
    _, problems = check_file(path, today=TODAY)
    assert errors(problems) == [
        (3, "区划代码", "全市合计", "合计行不需要上传：汇总数由系统计算，一并上传会重复计算，请删除此行")]


def test_problem_list_is_capped_with_a_summary(tmp_path):
    rows = "".join(f"330102,2025-03-01,x{i},0,0\n" for i in range(MAX_PROBLEMS + 50))
    _, problems = check_file(write(tmp_path, "many.csv", "区划代码,日期,库款余额,库款流入,库款流出\n" + rows))
    assert len(problems) == MAX_PROBLEMS + 1
    assert problems[0] == Problem("error", "不是有效的数字", 2, "库款余额", "x0")
    # 250 unparseable amounts, and 249 duplicates of row 2
    assert problems[-1] == Problem("error", "另有 299 个问题未列出（其中错误 299 个）")


def test_errors_come_before_warnings():
    _, problems = check("revenue.csv")
    assert [p.level for p in problems] == ["error", "error", "warning"]


# ---------------------------------------------------------------- warnings

def test_continuity_and_future_date_warnings():
    extract, problems = check("treasury_warnings.csv")
    assert errors(problems) == []
    assert warnings(problems) == [
        (3, "库款余额", "20", "库款余额不衔接：上一日 2025-03-01（第 2 行）余额 10 + 本日流入 5 − 本日流出 1 = 14，"
                              "与本日余额 20 相差 6 万元"),
        (4, "日期", "2025-04-01", "日期晚于今天（2025-03-31）"),
    ]


def test_continuity_warnings_of_a_parquet_file_name_its_rows_and_values(tmp_path):
    # Records count from 1 below the column names; rows out of date order are sorted per county.
    frame = pd.DataFrame({"county_code": ["330102", "330105", "330102", "330102"],
                          "date": pd.to_datetime(["2025-03-02", "2025-03-01", "2025-03-01", "2025-03-03"]).date,
                          "balance": [112.5, 7.0, 100.0, 112.5], "inflow": [20.0, 0.0, 0.0, 1.0],
                          "outflow": [7.5, 0.0, 0.0, 1.0]})
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    _, problems = check_file(path, today=TODAY)
    # 330102: 03-01 (record 3) 100 → 03-02 (record 1) 100 + 20 − 7.5 = 112.5 ✓ → 03-03 (record 4)
    # 112.5 + 1 − 1 = 112.5 ✓: no warning. Now break 03-03: 115 instead of 112.5.
    assert warnings(problems) == []
    frame.loc[3, "balance"] = 115.0
    frame.to_parquet(path)
    _, problems = check_file(path, today=TODAY)
    assert warnings(problems) == [
        (4, "balance", "115", "库款余额不衔接：上一日 2025-03-02（第 1 行）余额 112.5 + 本日流入 1 − 本日流出 1 = 112.5，"
                               "与本日余额 115 相差 2.5 万元")]


def test_past_the_cap_continuity_warnings_are_counted_with_the_rest(tmp_path):
    # One county, 251 days, the balance 10 万元 higher every day with no flows: 250 breaks.
    lines = [f"330102,{dt.date(2025, 1, 1) + dt.timedelta(days=i)},{10 * i},0,0" for i in range(251)]
    path = write(tmp_path, "t.csv", "区划代码,日期,库款余额,库款流入,库款流出\n" + "\n".join(lines) + "\n")
    _, problems = check_file(path, today=dt.date(2026, 1, 1))
    assert len(problems) == MAX_PROBLEMS + 1 == 201
    assert [p.row for p in problems[:-1]] == list(range(3, 203))  # rows 3..202, in file order
    assert problems[0].rule == ("库款余额不衔接：上一日 2025-01-01（第 2 行）余额 0 + 本日流入 0 − 本日流出 0 = 0，"
                                "与本日余额 10 相差 10 万元")
    assert problems[-1] == Problem("warning", "另有 50 个问题未列出（其中错误 0 个）")


def test_continuity_tolerance_is_0_01_wanyuan_after_conversion(tmp_path):
    # In 元: a gap of 100 元 = 0.01 万元 is tolerated, 101 元 is not.
    text = ("单位：元\n区划代码,日期,库款余额,库款流入,库款流出\n"
            "330102,2025-03-01,1000000,0,0\n330102,2025-03-02,1000100,0,0\n330102,2025-03-03,1000201,0,0\n")
    _, problems = check_file(write(tmp_path, "t.csv", text), today=TODAY)
    assert [(p.row, p.level) for p in problems] == [(5, "warning")]
    assert problems[0].rule.endswith("相差 0.0101 万元")


def test_future_month_in_monthly_extract(tmp_path):
    text = ("区划代码,年度,月份,暂付款余额,一般公共预算支出累计,政府性基金预算支出累计\n"
            "330102,2025,3,10,\"1,000\",200\n330102,2025,4,10,1100,210\n")
    extract, problems = check_file(write(tmp_path, "a.csv", text), today=TODAY)
    assert extract.kind == "advances"
    assert [(p.level, p.row, p.column, p.value, p.rule) for p in problems] == [
        ("warning", 3, "月份", "4", "2025 年 4 月晚于本月（2025-03）")]


def test_future_paydays_are_normal_in_a_schedule():
    _, problems = check("payroll_schedule_bom.csv", today=dt.date(2025, 1, 1))
    assert problems == []


def test_other_matching_sheet_is_a_warning(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["区划代码", "日期", "专户余额"])
    wb.active.append(["330102", dt.datetime(2025, 3, 1), 1])
    copy = wb.copy_worksheet(wb.active)
    copy.title = "备份"
    path = tmp_path / "a.xlsx"
    wb.save(path)
    extract, problems = check_file(path, today=TODAY)
    assert extract.sheet == "Sheet"
    assert problems == [Problem("warning", "工作表「备份」看起来也是工资专户余额，未读取；只读取了工作表「Sheet」")]


def test_problem_message_formats():
    assert Problem("error", "金额不能为负数", 12, "库款余额", "-5").message == "第 12 行，列「库款余额」，值「-5」：金额不能为负数"
    assert Problem("error", "缺少必填值", 3, "日期").message == "第 3 行，列「日期」：缺少必填值"
    assert Problem("error", "文件为空").message == "文件为空"


def test_the_same_warning_on_many_rows_is_one_line_listing_them(tmp_path):
    path = tmp_path / "future.csv"
    rows = "".join(f"330102,2025-05-{d:02d},10,0,0\n" for d in range(1, 151 // 5 + 1))
    path.write_text("区划代码,日期,库款余额,库款流入,库款流出\n" + rows, encoding="utf-8")
    extract, problems = check_file(path, kind="treasury", today=dt.date(2025, 3, 31))
    [warning] = [p for p in problems if "晚于今天" in p.rule]
    assert warning.rule == "30 行日期晚于今天（2025-03-31）（第 2、3、4、5、6、7、8、9、10、11… 行）"
    assert warning.row is None and warning.column == "日期"


@pytest.mark.parametrize("name, expected", [
    ("date_out_of_range.csv", [(3, "日期", "1500-01-01", "日期不在合理范围（2000–2100 年）"),
                               (4, "日期", "9999-12-31", "日期不在合理范围（2000–2100 年）")]),
    ("date_serial_out_of_range.xlsx", [(2, "日期", "2958465", "日期不在合理范围（2000–2100 年）")]),
])
def test_dates_beyond_what_a_timestamp_holds_are_reported_not_raised(name, expected):
    extract, problems = check(f"uploads/{name}", known_counties={"990101", "990102"})
    assert errors(problems) == expected
    assert extract.frame["date"].isna().sum() == len(expected)  # the far dates are left out, not wrapped around
