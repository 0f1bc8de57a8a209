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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import numpy as np
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
DATE_RANGE = f"日期不在合理范围（{YEARS[0]}–{YEARS[1]} 年）"
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
    unit_stated: bool = True  # False: no argument, unit line or header suffix named it (万元 assumed)


def check_file(path, *, kind: str | None = None, unit: str | None = None,
               known_counties: set[str] | None = None, today: dt.date | None = None,
               max_bytes: int = MAX_UPLOAD_BYTES, source_name: str | None = None,
               on_stage: Callable[[str], None] | None = None) -> tuple[Extract | None, list[Problem]]:
    """Read, type and check an upload; accept it iff no problem has level "error".

    `on_stage` hears "read" when reading starts and "check" when typing and the rules start."""
    on_stage = on_stage or (lambda stage: None)
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
    on_stage("read")
    try:
        table = reading.locate(reading.read_sheets(path, source_name), kind)
    except reading.ReadError as exc:
        return None, [Problem("error", exc.rule)]
    if not table.data:
        return None, [Problem("error", "只有表头，没有数据行")]

    on_stage("check")
    label = KINDS[table.kind].label
    problems = [Problem("warning", f"工作表「{name}」看起来也是{label}，未读取；只读取了工作表「{table.sheet}」")
                for name in table.other_sheets]
    units = _units(table, unit, problems)
    parsed = _parse(table, units, problems)
    if parsed.frame.empty and not any(p.level == "error" for p in problems):
        problems.append(Problem("error", "只有表头，没有数据行"))
    problems += _rules(parsed, known_counties)
    warnings, unlisted = _warnings(parsed, today or dt.date.today())
    problems += warnings

    amount_columns = KINDS[table.kind].amount_columns
    extract = Extract(
        kind=table.kind, frame=parsed.frame, rows=parsed.rows, source_name=source_name,
        sheet=table.sheet, unit=units[amount_columns[0]] if amount_columns else (unit or "万元"),
        header_row=table.header_row,
        unit_stated=bool(unit or table.unit_line or table.column_units) or not amount_columns,
    )
    column_order = {parsed.header(column.name): i for i, column in enumerate(KINDS[table.kind].columns)}
    return extract, _capped(_grouped(problems), column_order, unlisted)


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
    cells: dict[str, list]  # the kept rows' cells per column, as read (shown in messages)
    rows: pd.Series

    def header(self, column: str) -> str:
        return self.table.headers.get(column) or KINDS[self.table.kind].column(column).label

    def shown(self, index: int, column: str) -> str | None:
        """A cell as the user typed it (None when blank)."""
        cell = self.cells[column][index]
        return None if is_blank(cell) else _display(cell)

    def problem(self, level: str, rule: str, index: int, column: str) -> Problem:
        return Problem(level, rule, int(self.rows[index]), self.header(column), self.shown(index, column))

    def problems(self, level: str, rules, indexes, column: str) -> list[Problem]:
        """`problem` for many rows at once: rules[k] on row indexes[k]."""
        indexes = np.asarray(indexes, dtype="int64")
        numbers = self.rows.to_numpy()[indexes].tolist()
        cells = self.cells[column]
        if isinstance(cells, _ArrowCells):
            cells = cells.array.take(indexes).to_pylist()
        else:
            cells = [cells[i] for i in indexes.tolist()]
        header = self.header(column)
        return [Problem(level, rule, number, header, None if is_blank(cell) else _display(cell))
                for rule, number, cell in zip(rules, numbers, cells)]


def _parse(table: reading.Table, units: dict[str, str], problems: list[Problem]) -> _Parsed:
    """Type every column; a cell the quick parser of its kind does not take goes through
    the full rules of `_parse_cell`, which give the same value or name what is wrong."""
    spec = KINDS[table.kind]
    data, columns = _data_columns(table, problems)
    rows = data.records if isinstance(data, reading.COLUMNAR) else data
    cells_by_column, frame = {}, {}
    for column in spec.columns:
        index = table.columns.get(column.name)
        cells = [None] * len(rows) if index is None else columns(index)
        if not isinstance(cells, list):
            cells = _ArrowCells(cells)
        unit = units.get(column.name)
        if column.kind in ("amount", "number"):
            values, slow = _quick_numbers(cells, UNITS[unit] if column.kind == "amount" else None)
        elif column.kind == "date" and isinstance(cells, _ArrowCells) and cells.is_date():
            values, slow = cells.dates()
        elif column.kind == "date" and (cells.is_text() if isinstance(cells, _ArrowCells) else _all_text(cells)):
            values, slow = _quick_text_dates(cells)
        elif column.kind == "code" and (isinstance(cells, _ArrowCells) or _all_text(cells)):
            values, slow = _quick_codes(cells)
            if slow and not isinstance(values, list):  # the full rules fill in these cells
                values = values.to_pylist()
        else:
            cells = cells.to_list() if isinstance(cells, _ArrowCells) else cells
            quick = _QUICK[column.kind]
            values = [quick(cell) for cell in cells]
            slow = [i for i, value in enumerate(values) if value is _SLOW]

        def report(position: int, rule: str) -> None:
            cell = cells[position]
            problems.append(Problem("error", rule, rows[position], table.headers.get(column.name, column.label),
                                    None if is_blank(cell) else _display(cell)))

        for position in slow:
            value, rule = _parse_cell(cells[position], column, unit)
            values[position] = value
            if rule:
                report(position, rule)
        if column.kind == "date":
            # Checked before the frame is built: its timestamps cannot hold years like 1500 or 9999.
            values = np.asarray(values, dtype="datetime64[D]")
            far = np.flatnonzero(_outside_years(values))
            for position in far:
                report(position, DATE_RANGE)
            values[far] = np.datetime64("NaT")
        cells_by_column[column.name] = cells
        frame[column.name] = pd.Series(values, dtype=DTYPES[column.kind])  # None/NaN where unparseable
    # Within a row, `_capped` puts these problems and those of the rules in the columns' order.
    return _Parsed(table, pd.DataFrame(frame), cells_by_column, pd.Series(rows, dtype="int64", name="row"))


def _data_rows_kept(table: reading.Table, problems: list[Problem], irregular: list[int], count: int) -> list[int]:
    """Positions of the data rows; total rows and notes are reported and left out. Only the
    rows whose code is not a plain 6-digit code (`irregular`) are looked at closely."""
    dropped = set()
    for position in irregular:
        number, cells = table.data[position]
        skipped = _skipped_row(table, number, cells)
        if skipped:
            problems.append(skipped)
            dropped.add(position)
    return [i for i in range(count) if i not in dropped] if dropped else list(range(count))


def _data_columns(table: reading.Table, problems: list[Problem]):
    """The data rows, and a function giving column i's cells (a list, or for a columnar
    file its Arrow array)."""
    import pyarrow as pa

    data, code_index = table.data, table.columns["county_code"]
    if isinstance(data, reading.COLUMNAR):
        kept = _data_rows_kept(table, problems, _irregular_codes(data.column(code_index)), len(data))
        if len(kept) < len(data):
            data = data.take(kept)
        return data, data.column
    codes = [cells[code_index] if code_index < len(cells) else None for _, cells in data]
    try:
        irregular = _irregular_codes(pa.array(codes))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # codes stored as numbers and text (XLSX)
        irregular = list(range(len(codes)))
    kept = _data_rows_kept(table, problems, irregular, len(codes))
    data = data if len(kept) == len(data) else [data[i] for i in kept]
    return [number for number, _ in data], lambda index: [cells[index] if index < len(cells) else None
                                                           for _, cells in data]


def _irregular_codes(codes) -> list[int]:
    """Positions of the cells of a code column that are not plain 6-digit text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_string(codes.type):
        return list(range(len(codes)))
    plain = pc.fill_null(pc.match_substring_regex(codes, "^[0-9]{6}$"), False).to_numpy(zero_copy_only=False)
    return np.flatnonzero(~plain).tolist()


def _quick_codes(cells) -> tuple[list, list[int]]:
    """Plain 6-digit codes as they are, the whole column at once; others to the full rules.
    (For a columnar file the codes stay an Arrow array.)"""
    import pyarrow as pa

    if isinstance(cells, _ArrowCells):
        return cells.array, _irregular_codes(cells.array)
    return list(cells), _irregular_codes(pa.array(cells, pa.string()))


def _all_text(cells: list) -> bool:
    return all(type(c) is str for c in cells)


def _quick_text_dates(cells) -> tuple[np.ndarray, list[int]]:
    """Dates written 2025-03-01 or 2025/3/1, the whole column at once; others to the full rules."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = cells.array if isinstance(cells, _ArrowCells) else pa.array(cells, pa.string())
    parts = pc.extract_regex(text, r"^(?P<y>[0-9]{4})[-/](?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})$")
    plain = parts.is_valid().to_numpy(zero_copy_only=False)
    fields = {name: pc.cast(pc.fill_null(pc.struct_field(parts, name), "1"), pa.int32()).to_numpy()
              for name in ("y", "m", "d")}
    days = pd.to_datetime(pd.DataFrame({"year": fields["y"], "month": fields["m"], "day": fields["d"]}),
                          errors="coerce").to_numpy().astype("datetime64[D]")
    plain &= ~np.isnat(days)  # 2025-02-30 and the like: the full rules name them
    return np.where(plain, days, np.datetime64("NaT")), np.flatnonzero(~plain).tolist()


def _outside_years(days: np.ndarray) -> np.ndarray:
    """Which dates (datetime64[D]) fall outside the plausible years; missing ones do not."""
    first, after_last = np.datetime64(f"{YEARS[0]}-01-01", "D"), np.datetime64(f"{YEARS[1] + 1}-01-01", "D")
    return ~np.isnat(days) & ((days < first) | (days >= after_last))


class _ArrowCells:
    """A typed column of a columnar file, read cell by cell only where a message needs it."""

    def __init__(self, array):
        self.array = array

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, index: int):
        return self.array[index].as_py()

    def to_list(self) -> list:
        return self.array.to_pylist()

    def is_date(self) -> bool:
        import pyarrow as pa

        return pa.types.is_date32(self.array.type)

    def is_text(self) -> bool:
        import pyarrow as pa

        return pa.types.is_string(self.array.type) or pa.types.is_large_string(self.array.type)

    def dates(self) -> tuple[np.ndarray, list[int]]:
        """Dates as datetime64 (missing ones left to the full rules, which report them)."""
        valid = self.array.is_valid().to_numpy(zero_copy_only=False)
        days = self.array.to_numpy(zero_copy_only=False).astype("datetime64[D]")
        return days, np.flatnonzero(~valid).tolist()


# ---- quick parsers: the common, unambiguous cells; _SLOW sends a cell to `_parse_cell`
_SLOW = object()
_PLAIN_NUMBER = r"^-?[0-9]+(?:\.[0-9]+)?$"  # what a bank system writes; anything else goes to float()
_PLAIN_DATE = re.compile(r"(\d{4})([-/])(\d{1,2})\2(\d{1,2})")


def _quick_numbers(cells: list, factor: float | None) -> tuple[np.ndarray, list[int]]:
    """Plain decimals ("1234.5", "1,234.50") and numbers, the whole column at once (Arrow
    parses text exactly as float() does: correctly rounded), in 万元 to 1e-6 like `_parse_cell`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        column = cells.array if isinstance(cells, _ArrowCells) else pa.array(cells, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed text and numbers (XLSX): the cells one by one
        column = pa.array([str(c) if type(c) in (int, float) else c for c in cells], type=pa.string(), from_pandas=True) \
            if all(c is None or type(c) in (str, int, float) for c in cells) else None
        if column is None:
            return np.full(len(cells), np.nan), list(range(len(cells)))
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = pc.replace_substring(column, ",", "")
        plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_NUMBER), False)
        numbers = pc.cast(pc.if_else(plain, text, "0"), pa.float64()).to_numpy(zero_copy_only=False)
        plain = plain.to_numpy(zero_copy_only=False)
    elif pa.types.is_floating(column.type) or pa.types.is_integer(column.type) or pa.types.is_null(column.type):
        numbers = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        plain = column.is_valid().to_numpy(zero_copy_only=False)
        if pa.types.is_integer(column.type):  # float() of a huge integer rounds; leave those to the full rules
            plain &= np.abs(numbers) < 2.0**53
    else:
        return np.full(len(cells), np.nan), list(range(len(cells)))
    plain &= np.isfinite(numbers)
    if factor is not None:
        numbers, doubtful = _round_6(numbers * factor)
        plain &= ~doubtful
    return np.where(plain, numbers, np.nan), np.flatnonzero(~plain).tolist()


def _round_6(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """numpy's round to 6 decimals, and where it may differ from Python's round(x, 6).

    numpy rounds x·10⁶ to an integer k and returns k / 10⁶; Python rounds the exact x.
    Both then give the double nearest k / 10⁶; they choose the same k unless x·10⁶ lies
    within its own rounding error of a half (or is too large for an exact integer)."""
    scaled = values * 1e6
    half = np.abs(np.abs(scaled - np.trunc(scaled)) - 0.5)
    doubtful = ~(half > 4e-16 * np.abs(scaled) + 1e-12) | ~(np.abs(scaled) < 2.0**52)
    return np.round(values, 6), doubtful


def _quick_code(cell):
    return cell if type(cell) is str and len(cell) == 6 and cell.isdigit() and cell.isascii() else _SLOW


def _quick_text(cell):
    if type(cell) is str:
        text = cell.strip()
        if text:
            return text
    return _SLOW


def _quick_date(cell):
    kind = type(cell)
    if kind is dt.date:
        return cell
    if kind is dt.datetime:  # an Excel date cell
        return cell.date()
    if kind is str and cell.isascii():
        match = _PLAIN_DATE.fullmatch(cell)
        if match:
            try:
                return dt.date(int(match[1]), int(match[3]), int(match[4]))
            except ValueError:
                return _SLOW
    return _SLOW


def _quick_int(cell):
    kind = type(cell)
    if kind is int and abs(cell) < 2**53:  # beyond that the full rules' float would round it
        return cell
    if kind is str and cell.isascii() and cell.isdigit() and len(cell) < 16:
        return int(cell)
    return _SLOW


_QUICK = {"code": _quick_code, "text": _quick_text, "date": _quick_date, "int": _quick_int}


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
        return []  # the range of years is checked while typing (see `_parse`)
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
                "，".join(str(parsed.shown(i, k)) for k in keys))
        for i in indexes if i in first.index
    ]


# ---------------------------------------------------------------- warnings

def _warnings(parsed: _Parsed, today: dt.date) -> tuple[list[Problem], int]:
    """The warnings, and how many more (past what `_capped` lists) were counted but not written out."""
    frame, problems, unlisted = parsed.frame, [], 0
    # Paydays are excluded: a payroll schedule lists future paydays by design.
    if "date" in frame:
        late = np.flatnonzero((frame["date"] > pd.Timestamp(today)).to_numpy())
        problems += parsed.problems("warning", [f"日期晚于今天（{today}）"] * len(late), late, "date")
    if "month" in frame:
        month = frame["month"].where(frame["month"].between(1, 12))  # an invalid month is an error already
        late = np.flatnonzero(((frame["year"] * 100 + month) > today.year * 100 + today.month).fillna(False)
                              .astype(bool).to_numpy())
        years, months = (frame[c].to_numpy(dtype=object)[late].tolist() for c in ("year", "month"))
        problems += parsed.problems("warning", [f"{y} 年 {m} 月晚于本月（{today:%Y-%m}）" for y, m in zip(years, months)],
                                    late, "month")
    for kind, warn in (("treasury", _continuity), ("revenue", _ytd_falling)):
        if parsed.table.kind == kind:
            written, more = warn(parsed)
            problems += written
            unlisted += more
    return problems, unlisted


def _with_previous(frame: pd.DataFrame, by: list[str], order: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Complete rows sorted by `order` within `by`, and each row's predecessor aligned to it.

    Rows whose key is duplicated are left out: they are errors already and their order is
    ambiguous. The predecessor's frame index is in column "_index" (NaN for the first row).
    """
    rows = frame.dropna()
    rows = rows[~rows.duplicated([*by, order], keep=False)].sort_values([*by, order], kind="stable")
    rows = rows.assign(_index=rows.index)
    return rows, rows.groupby(by, sort=False).shift()


def _flagged(rows: pd.DataFrame, before: pd.DataFrame, flags: pd.Series, parsed: _Parsed):
    """The flagged rows to write a warning for, their frame indexes, their predecessors' row
    numbers in the file, a getter of their values as Python lists, and how many flagged rows
    are left unwritten.

    Each of these warnings names its own predecessor row, so no two read alike (`_grouped`
    never merges them) and a row has at most one: only the MAX_PROBLEMS of the first rows in
    the file can be among the problems `_capped` lists; the others are counted, not written."""
    flags = flags.to_numpy().copy()
    numbers = parsed.rows.to_numpy()[rows.index.to_numpy()]
    flagged = np.flatnonzero(flags)
    unlisted = max(len(flagged) - MAX_PROBLEMS, 0)
    if unlisted:
        flags[flagged[np.argsort(numbers[flagged], kind="stable")[MAX_PROBLEMS:]]] = False
    indexes = rows.index.to_numpy()[flags]
    previous = parsed.rows.to_numpy()[before["_index"].to_numpy()[flags].astype("int64")].tolist()
    return flags, indexes, previous, lambda series: series.iloc[flags].to_numpy(dtype=object).tolist(), unlisted


def _continuity(parsed: _Parsed) -> list[Problem]:
    rows, before = _with_previous(parsed.frame[["county_code", "date", "balance", "inflow", "outflow"]],
                                  ["county_code"], "date")
    expected = before["balance"] + rows["inflow"] - rows["outflow"]
    gap = (rows["balance"] - expected).abs()
    flagged, indexes, previous, values, unlisted = _flagged(
        rows, before, gap > CONTINUITY_TOLERANCE + _FLOAT_NOISE, parsed)
    days = before["date"][flagged].dt.strftime("%Y-%m-%d").tolist()
    rules = [f"库款余额不衔接：上一日 {day}（第 {row} 行）余额 {_fmt(last)} + 本日流入 {_fmt(inflow)} − 本日流出 "
             f"{_fmt(outflow)} = {_fmt(sum_)}，与本日余额 {_fmt(balance)} 相差 {_fmt(diff)} 万元"
             for day, row, last, inflow, outflow, sum_, balance, diff in zip(
                 days, previous, values(before["balance"]), values(rows["inflow"]), values(rows["outflow"]),
                 values(expected), values(rows["balance"]), values(gap))]
    return parsed.problems("warning", rules, indexes, "balance"), unlisted


def _ytd_falling(parsed: _Parsed) -> list[Problem]:
    rows, before = _with_previous(parsed.frame[["county_code", "year", "category", "month", "actual_ytd"]],
                                  ["county_code", "year", "category"], "month")
    drop = before["actual_ytd"] - rows["actual_ytd"]
    flagged, indexes, previous, values, unlisted = _flagged(rows, before, drop > _FLOAT_NOISE, parsed)
    rules = [f"累计完成比 {month} 月（第 {row} 行）的 {_fmt(last)} 减少了 {_fmt(fall)} 万元，累计数不应逐月减少"
             for month, row, last, fall in zip(values(before["month"]), previous, values(before["actual_ytd"]),
                                                values(drop))]
    return parsed.problems("warning", rules, indexes, "actual_ytd"), unlisted


# ---------------------------------------------------------------- presentation

GROUP_AT = 4  # the same warning on this many rows or more is shown once, with its rows listed


def _grouped(problems: list[Problem]) -> list[Problem]:
    """Warnings whose rule is word for word the same on many rows (dates after today, say) become
    one line — "150 行：日期晚于今天（…）（第 2、3、… 行）" — instead of 150 identical lines."""
    counts: dict[tuple[str, str | None], list[Problem]] = {}
    for problem in problems:
        if problem.level == "warning" and problem.row is not None:
            counts.setdefault((problem.rule, problem.column), []).append(problem)
    grouped = {key: rows for key, rows in counts.items() if len(rows) >= GROUP_AT}
    if not grouped:
        return problems
    kept = [p for p in problems if (p.rule, p.column) not in grouped or p.level != "warning" or p.row is None]
    for (rule, column), rows in grouped.items():
        numbers = sorted(p.row for p in rows)
        shown = "、".join(map(str, numbers[:10])) + ("…" if len(numbers) > 10 else "")
        kept.append(Problem("warning", f"{len(numbers)} 行{rule}（第 {shown} 行）", None, column))
    return kept


def _capped(problems: list[Problem], column_order: dict[str, int], unlisted: int = 0) -> list[Problem]:
    """Errors first (so a capped list still shows them), then by row and, within a row, by
    column (problems found while typing and by the rules interleave); at most MAX_PROBLEMS.
    `unlisted` warnings were counted without being written out (they would come later)."""
    last = len(column_order)
    ordered = sorted(problems, key=lambda p: (p.level != "error", p.row is not None, p.row or 0,
                                              column_order.get(p.column, last)))
    if len(ordered) + unlisted <= MAX_PROBLEMS:
        return ordered
    rest = len(ordered) - MAX_PROBLEMS + unlisted
    errors = sum(p.level == "error" for p in ordered[MAX_PROBLEMS:])
    summary = Problem("error" if errors else "warning", f"另有 {rest} 个问题未列出（其中错误 {errors} 个）")
    return ordered[:MAX_PROBLEMS] + [summary]


def _fmt(number: float) -> str:
    return f"{number:,.6f}".rstrip("0").rstrip(".")


def human_size(n: int) -> str:
    """A file size as people read it: 字节, KB or MB (1 MB = 1024 × 1024 bytes)."""
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{n / 1024:.1f} KB" if n >= 1024 else f"{n} 字节"
