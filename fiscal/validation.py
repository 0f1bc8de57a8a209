"""Turn an uploaded file into a typed Extract and a list of Chinese problems (SPEC §3).

reading.py finds the table; here the cells are typed (unit conversion included), the
declarative rules run through pandera, and the warnings are computed. Every problem
names the row and column as the user sees them in the file and the value as typed.
"""
from __future__ import annotations

import datetime as dt
import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import pandas as pd
import pandera.pandas as pa
from openpyxl.utils.datetime import from_excel

from fiscal import reading
from fiscal.extracts import KINDS, TOTAL_CATEGORIES, UNITS, Column
from fiscal.settings import MAX_UPLOAD_BYTES
from fiscal.reading import is_blank

__all__ = ["Problem", "Extract", "check_file"]

MAX_PROBLEMS = 200
CONTINUITY_TOLERANCE = 0.01  # 万元
_FLOAT_NOISE = 1e-9  # so that a gap of exactly the tolerance does not warn through rounding
YEARS = (2000, 2100)  # plausible years, for `year` and for dates
DTYPES = {"code": "str", "text": "str", "date": "datetime64[ns]", "amount": "float64",
          "int": "Int64", "number": "float64"}

MISSING = "缺少必填值"
NOT_A_NUMBER = "不是有效的数字"
NOT_AN_INTEGER = "应为整数"
BAD_DATE = "无法识别的日期（可用格式：2025-03-01、2025/3/1、2025年3月1日 或 Excel 日期）"
TOTAL_ROW = "合计行不需要上传：汇总数由系统计算，一并上传会重复计算，请删除此行"
TOTAL_CATEGORY = "收入类别不能是合计/总计/小计：合计数由系统按类别汇总，一并上传会重复计算，请删除此行"
UNKNOWN_COUNTY = "区划代码不在县区名录中，请先在县区名录中补充该县区"

_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")  # 20250301
_SERIAL = re.compile(r"\d{1,5}(?:\.\d+)?")  # an Excel serial date that arrived as text


@dataclass(frozen=True)
class Problem:
    level: str  # "error" or "warning"
    rule: str
    row: int | None = None  # as the user sees it in the file; None for file-level problems
    column: str | None = None  # header as written in the file
    value: str | None = None  # as typed

    @property
    def message(self) -> str:
        parts = []
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"列「{self.column}」")
        if self.value is not None:
            parts.append(f"值「{self.value}」")
        return "，".join(parts) + "：" + self.rule if parts else self.rule


@dataclass
class Extract:
    kind: str
    frame: pd.DataFrame  # canonical columns in KINDS order, typed, amounts in 万元
    rows: pd.Series  # file row number of each frame row (same index)
    source_name: str
    sheet: str | None
    unit: str  # unit applied to the amount columns
    header_row: int


def check_file(path, *, kind: str | None = None, unit: str | None = None,
               known_counties: set[str] | None = None, today: dt.date | None = None,
               max_bytes: int = MAX_UPLOAD_BYTES, source_name: str | None = None,
               ) -> tuple[Extract | None, list[Problem]]:
    """Read, type and check an upload; accept it iff no problem has level "error"."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown extract kind {kind!r}")
    path = Path(path)
    # Display only, never a path; browsers on Windows may send "C:\\…\\file.csv".
    source_name = PureWindowsPath(source_name or path.name).name
    size = path.stat().st_size
    if size == 0:
        return None, [Problem("error", "文件为空")]
    if size > max_bytes:
        return None, [Problem("error", f"文件大小 {human_size(size)}，超过上限 {human_size(max_bytes)}")]
    if unit is not None and unit not in UNITS:
        return None, [Problem("error", f"不支持的金额单位「{unit}」，可选：{'、'.join(UNITS)}")]
    try:
        table = reading.locate(reading.read_sheets(path, source_name), kind)
    except reading.ReadError as exc:
        return None, [Problem("error", exc.rule)]
    if not table.data:
        return None, [Problem("error", "只有表头，没有数据行")]

    label = KINDS[table.kind].label
    problems = [Problem("warning", f"工作表「{name}」看起来也是{label}，未读取；只读取了工作表「{table.sheet}」")
                for name in table.other_sheets]
    units = _units(table, unit, problems)
    parsed = _parse(table, units, problems)
    if parsed.frame.empty and not any(p.level == "error" for p in problems):
        problems.append(Problem("error", "只有表头，没有数据行"))
    problems += _rules(parsed, known_counties)
    problems += _warnings(parsed, today or dt.date.today())

    amount_columns = KINDS[table.kind].amount_columns
    extract = Extract(
        kind=table.kind, frame=parsed.frame, rows=parsed.rows, source_name=source_name,
        sheet=table.sheet, unit=units[amount_columns[0]] if amount_columns else (unit or "万元"),
        header_row=table.header_row,
    )
    return extract, _capped(problems)


# ---------------------------------------------------------------- units

def _units(table: reading.Table, unit: str | None, problems: list[Problem]) -> dict[str, str]:
    """Unit of each amount column: its header suffix, else the argument, else the unit line, else 万元."""
    line_unit = None
    if table.unit_line:
        row, text = table.unit_line
        if text not in UNITS:
            problems.append(Problem("error", f"不支持的金额单位，可选：{'、'.join(UNITS)}", row, None, text))
        elif unit and unit != text:
            problems.append(Problem("error", f"上传时选择的单位是「{unit}」，但文件中写明单位为「{text}」，"
                                             "请确认金额单位后重新上传", row, None, text))
        else:
            line_unit = text
    declared = unit or line_unit
    units = {}
    for column in KINDS[table.kind].amount_columns:
        suffix = table.column_units.get(column)
        header = table.headers.get(column)
        if suffix and suffix not in UNITS:
            problems.append(Problem("error", f"不支持的金额单位「{suffix}」，可选：{'、'.join(UNITS)}", None, header))
        elif suffix and declared and suffix != declared:
            source = "上传时选择" if unit else "文件中写明"
            problems.append(Problem("error", f"列名写明单位为「{suffix}」，与{source}的单位「{declared}」不一致",
                                    None, header))
        units[column] = suffix if suffix in UNITS else (declared or "万元")
    return units


# ---------------------------------------------------------------- typing

@dataclass
class _Parsed:
    table: reading.Table
    frame: pd.DataFrame
    raw: pd.DataFrame  # the cells as typed, for messages
    rows: pd.Series

    def header(self, column: str) -> str:
        return self.table.headers.get(column) or KINDS[self.table.kind].column(column).label

    def problem(self, level: str, rule: str, index: int, column: str) -> Problem:
        return Problem(level, rule, int(self.rows[index]), self.header(column), self.raw.at[index, column])


def _parse(table: reading.Table, units: dict[str, str], problems: list[Problem]) -> _Parsed:
    spec = KINDS[table.kind]
    values: dict[str, list] = {c.name: [] for c in spec.columns}
    raw: dict[str, list] = {c.name: [] for c in spec.columns}
    rows = []
    for number, cells in table.data:
        skipped = _skipped_row(table, number, cells)
        if skipped:
            problems.append(skipped)
            continue
        rows.append(number)
        for column in spec.columns:
            index = table.columns.get(column.name)
            cell = cells[index] if index is not None and index < len(cells) else None
            shown = None if is_blank(cell) else _display(cell)
            value, rule = _parse_cell(cell, column, units.get(column.name))
            if rule:
                problems.append(Problem("error", rule, number, table.headers.get(column.name, column.label), shown))
            values[column.name].append(value)
            raw[column.name].append(shown)
    frame = pd.DataFrame({c.name: pd.Series(values[c.name], dtype=DTYPES[c.kind]) for c in spec.columns})
    return _Parsed(table, frame, pd.DataFrame(raw, dtype=object), pd.Series(rows, dtype="int64", name="row"))


def _skipped_row(table: reading.Table, number: int, cells: list) -> Problem | None:
    """Total rows (an error) and lone notes such as "注：…" (a warning) are not data."""
    index = table.columns["county_code"]
    code = cells[index] if index < len(cells) else None
    if not is_blank(code) and re.fullmatch(r"\d{6}", _code(code)):
        return None
    for position, cell in enumerate(cells):
        if isinstance(cell, str) and any(t in reading.norm(cell) for t in TOTAL_CATEGORIES):
            header = table.header_cells[position] if position < len(table.header_cells) else None
            return Problem("error", TOTAL_ROW, number, None if is_blank(header) else str(header).strip(), cell.strip())
    filled = [c for c in cells if not is_blank(c)]
    if len(filled) == 1 and isinstance(filled[0], str) and re.search(r"[^\W\d_]", filled[0]):
        return Problem("warning", "这一行只有一段文字，已作为说明忽略", number, None, filled[0].strip()[:60])
    return None


def _parse_cell(cell, column: Column, unit: str | None) -> tuple[object, str | None]:
    if is_blank(cell):
        return None, MISSING if column.required else None
    try:
        if column.kind == "amount":
            # Nothing finer than 1 分 (1e-6 万元) is money; rounding also makes a file in 元
            # and the same file in 万元 give identical floats.
            return round(_number(cell) * UNITS[unit], 6), None
        return _PARSERS[column.kind](cell), None
    except ValueError as exc:
        return None, str(exc)


def _nfkc(value) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()  # full-width digits and "，" → ASCII


def _code(cell) -> str:
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return re.sub(r"(?<=\d)\.0+$", "", _nfkc(cell))  # "110101.0": a code stored as a number


def _number(cell) -> float:
    if isinstance(cell, numbers.Number) and not isinstance(cell, bool):
        number = float(cell)
    elif isinstance(cell, str):
        try:
            number = float(re.sub(r"[\s,]", "", _nfkc(cell)))  # thousands separators
        except ValueError:
            raise ValueError(NOT_A_NUMBER) from None
    else:
        raise ValueError(NOT_A_NUMBER)
    if not math.isfinite(number):
        raise ValueError(NOT_A_NUMBER)
    return number


def _integer(cell) -> int:
    if isinstance(cell, str):
        cell = re.sub(r"[年月]$", "", cell.strip())  # "2025年", "3月"
    try:
        number = _number(cell)
    except ValueError:
        raise ValueError(NOT_AN_INTEGER) from None
    if not number.is_integer():
        raise ValueError(NOT_AN_INTEGER)
    return int(number)


def _date(cell) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, numbers.Number) and not isinstance(cell, bool):
        return _serial(float(cell))
    if isinstance(cell, str):
        text = _nfkc(cell)
        match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
        if match:
            try:
                return dt.date(*map(int, match.groups()))
            except ValueError:
                raise ValueError(BAD_DATE) from None
        if _SERIAL.fullmatch(text):
            return _serial(float(text))
    raise ValueError(BAD_DATE)


def _serial(number: float) -> dt.date:
    """Excel serial day (1900 system, as openpyxl reads it) to a date."""
    if not 1 <= number < 2958466:
        raise ValueError(BAD_DATE)
    return from_excel(number).date()


_PARSERS = {"code": _code, "text": lambda cell: str(cell).strip(), "date": _date,
            "int": _integer, "number": _number}


def _display(cell) -> str:
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(sep=" ")
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


# ---------------------------------------------------------------- rules

def _checks(column: Column, kind: str, known_counties: set[str] | None) -> list[pa.Check]:
    if column.kind == "code":
        checks = [pa.Check.str_matches(r"^\d{6}$", error="区划代码应为 6 位数字")]
        if known_counties is not None and kind != "counties":
            known = set(known_counties)
            # A malformed code is reported by the check above; do not report it twice.
            checks.append(pa.Check(lambda s: s.isin(known) | ~s.str.fullmatch(r"\d{6}"), error=UNKNOWN_COUNTY))
        return checks
    if column.kind == "amount":
        return [pa.Check.gt(0, error="金额必须大于 0") if column.positive else pa.Check.ge(0, error="金额不能为负数")]
    if column.kind == "date":
        return [pa.Check(lambda s: s.dt.year.between(*YEARS), error=f"日期不在合理范围（{YEARS[0]}–{YEARS[1]} 年）")]
    if column.name == "year":
        return [pa.Check.in_range(*YEARS, error=f"年度应在 {YEARS[0]} 至 {YEARS[1]} 之间")]
    if column.name == "month":
        return [pa.Check.in_range(1, 12, error="月份应在 1 至 12 之间")]
    if column.kind in ("int", "number"):
        return [pa.Check.ge(0, error=f"{column.label}不能为负数")]
    if column.name == "category":
        return [pa.Check(lambda v: not any(t in reading.norm(v) for t in TOTAL_CATEGORIES),
                         element_wise=True, error=TOTAL_CATEGORY)]
    return []


def _schema(kind: str, known_counties: set[str] | None) -> pa.DataFrameSchema:
    spec = KINDS[kind]
    # nullable: missing and unparseable cells were reported while typing.
    columns = {c.name: pa.Column(checks=_checks(c, kind, known_counties), nullable=True) for c in spec.columns}
    return pa.DataFrameSchema(columns, unique=list(spec.keys), report_duplicates="exclude_first")


def _rules(parsed: _Parsed, known_counties: set[str] | None) -> list[Problem]:
    try:
        _schema(parsed.table.kind, known_counties).validate(parsed.frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.to_dict("records")
    problems, duplicated = [], set()
    for case in cases:
        if "uniqueness" in case["check"]:
            duplicated.add(int(case["index"]))  # one case per key column: collect the rows
        else:
            problems.append(parsed.problem("error", case["check"], int(case["index"]), case["column"]))
    return problems + _duplicates(parsed, sorted(duplicated))


def _duplicates(parsed: _Parsed, indexes: list[int]) -> list[Problem]:
    keys = list(KINDS[parsed.table.kind].keys)
    complete = parsed.frame[keys].dropna()  # a key cell that failed to parse is reported already
    first = complete.index.to_series().groupby([complete[k] for k in keys]).transform("first")
    labels = "、".join(parsed.header(k) for k in keys)
    return [
        Problem("error", f"与第 {parsed.rows[first[i]]} 行重复：同一「{labels}」只能有一行",
                int(parsed.rows[i]), " + ".join(parsed.header(k) for k in keys),
                "，".join(str(parsed.raw.at[i, k]) for k in keys))
        for i in indexes if i in first.index
    ]


# ---------------------------------------------------------------- warnings

def _warnings(parsed: _Parsed, today: dt.date) -> list[Problem]:
    frame, problems = parsed.frame, []
    # Paydays are excluded: a payroll schedule lists future paydays by design.
    if "date" in frame:
        late = frame.index[frame["date"] > pd.Timestamp(today)]
        problems += [parsed.problem("warning", f"日期晚于今天（{today}）", i, "date") for i in late]
    if "month" in frame:
        month = frame["month"].where(frame["month"].between(1, 12))  # an invalid month is an error already
        late = ((frame["year"] * 100 + month) > today.year * 100 + today.month).fillna(False)
        problems += [parsed.problem("warning", f"{frame.at[i, 'year']} 年 {frame.at[i, 'month']} 月晚于本月（{today:%Y-%m}）",
                                    i, "month") for i in frame.index[late.astype(bool)]]
    if parsed.table.kind == "treasury":
        problems += _continuity(parsed)
    if parsed.table.kind == "revenue":
        problems += _ytd_falling(parsed)
    return problems


def _with_previous(frame: pd.DataFrame, by: list[str], order: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete rows sorted by `order` within `by`, and each row's predecessor aligned to it.

    Rows whose key is duplicated are left out: they are errors already and their order is
    ambiguous. The predecessor's frame index is in column "_index" (NaN for the first row).
    """
    rows = frame.dropna()
    rows = rows[~rows.duplicated([*by, order], keep=False)].sort_values([*by, order], kind="stable")
    rows = rows.assign(_index=rows.index)
    return rows, rows.groupby(by, sort=False).shift()


def _continuity(parsed: _Parsed) -> list[Problem]:
    rows, before = _with_previous(parsed.frame[["county_code", "date", "balance", "inflow", "outflow"]],
                                  ["county_code"], "date")
    expected = before["balance"] + rows["inflow"] - rows["outflow"]
    gap = (rows["balance"] - expected).abs()
    problems = []
    for i in rows.index[gap > CONTINUITY_TOLERANCE + _FLOAT_NOISE]:
        j = int(before.at[i, "_index"])
        rule = (f"库款余额不衔接：上一日 {before.at[i, 'date']:%Y-%m-%d}（第 {parsed.rows[j]} 行）余额 "
                f"{_fmt(before.at[i, 'balance'])} + 本日流入 {_fmt(rows.at[i, 'inflow'])} − 本日流出 "
                f"{_fmt(rows.at[i, 'outflow'])} = {_fmt(expected[i])}，与本日余额 {_fmt(rows.at[i, 'balance'])} "
                f"相差 {_fmt(gap[i])} 万元")
        problems.append(parsed.problem("warning", rule, i, "balance"))
    return problems


def _ytd_falling(parsed: _Parsed) -> list[Problem]:
    rows, before = _with_previous(parsed.frame[["county_code", "year", "category", "month", "actual_ytd"]],
                                  ["county_code", "year", "category"], "month")
    drop = before["actual_ytd"] - rows["actual_ytd"]
    problems = []
    for i in rows.index[drop > _FLOAT_NOISE]:
        j = int(before.at[i, "_index"])
        rule = (f"累计完成比 {before.at[i, 'month']} 月（第 {parsed.rows[j]} 行）的 {_fmt(before.at[i, 'actual_ytd'])} "
                f"减少了 {_fmt(drop[i])} 万元，累计数不应逐月减少")
        problems.append(parsed.problem("warning", rule, i, "actual_ytd"))
    return problems


# ---------------------------------------------------------------- presentation

def _capped(problems: list[Problem]) -> list[Problem]:
    """Errors first (so a capped list still shows them), then by row; at most MAX_PROBLEMS."""
    ordered = sorted(problems, key=lambda p: (p.level != "error", p.row is not None, p.row or 0))
    if len(ordered) <= MAX_PROBLEMS:
        return ordered
    rest = ordered[MAX_PROBLEMS:]
    errors = sum(p.level == "error" for p in rest)
    summary = Problem("error" if errors else "warning", f"另有 {len(rest)} 个问题未列出（其中错误 {errors} 个）")
    return ordered[:MAX_PROBLEMS] + [summary]


def _fmt(number: float) -> str:
    return f"{number:,.6f}".rstrip("0").rstrip(".")


def human_size(n: int) -> str:
    """A file size as people read it: 字节, KB or MB (1 MB = 1024 × 1024 bytes)."""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} 字节"
