"""Any table as CSV or Excel bytes, safe to open in Excel.

- CSV is UTF-8 with a BOM (without it Excel reads the Chinese as GBK mojibake) and CRLF
  line ends.
- Text cells that Excel would take for a formula (starting with = + - @, tab or CR)
  are neutralised: in CSV by a leading single quote; in Excel by storing them as text
  with the quote-prefix flag (what typing a leading ' does in Excel). Numbers are never
  touched, so real negative numbers stay numeric.
- Excel keeps the colours of the dashboard: `fills` maps a column to {value: colour}
  (the tier colours for a 风险等级 column, the status colours for payday statuses).
"""
from __future__ import annotations

import codecs
import datetime as dt
import io
import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "；"
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_MAX_COLUMN_WIDTH = 60


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def neutralise(value):
    """A text value made inert for spreadsheets; anything that is not text is returned as is."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The table as UTF-8-with-BOM CSV, formula-like text neutralised, lists joined with ；."""
    table = frame.copy()
    table.columns = [neutralise(str(c)) for c in table.columns]
    for column in table.columns:
        if not (pd.api.types.is_numeric_dtype(table[column]) or pd.api.types.is_datetime64_any_dtype(table[column])):
            table[column] = table[column].map(lambda v: neutralise(_plain(v)))
    # CRLF line ends (what Excel writes) also make the csv module quote fields holding a lone CR.
    return table.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\r\n").encode("utf-8-sig")


def to_excel_bytes(frame: pd.DataFrame, *, sheet_name: str = "数据",
                   fills: Mapping[str, Mapping[object, str]] | None = None,
                   number_formats: Mapping[str, str] | None = None) -> bytes:
    """The table as an .xlsx workbook with a bold frozen header and the given cell colours.

    fills: column → {cell value: "#rrggbb"}; number_formats: column → Excel number format
    (defaults: dates yyyy-mm-dd, other floats #,##0.00).
    """
    return to_excel_workbook({sheet_name: frame}, fills=fills, number_formats=number_formats)


def to_excel_workbook(sheets: Mapping[str, pd.DataFrame], *,
                      fills: Mapping[str, Mapping[object, str]] | None = None,
                      number_formats: Mapping[str, str] | None = None) -> bytes:
    """Several tables as one .xlsx workbook, a sheet each (in the mapping's order)."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(_SHEET_FORBIDDEN.sub("_", name)[:31] or "数据")
        _write_sheet(sheet, frame, fills or {}, number_formats or {})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_sheet(sheet, frame: pd.DataFrame, fills: Mapping[str, Mapping[object, str]],
                 number_formats: Mapping[str, str]) -> None:
    header_fill = PatternFill("solid", fgColor="ECEFF1")
    for col, name in enumerate(frame.columns, start=1):
        cell = sheet.cell(row=1, column=col)
        _set_value(cell, str(name))
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.freeze_panes = "A2"

    styles = {name: _fill_styles(fills[name]) for name in frame.columns if name in fills}
    widths = [_display_width(str(name)) for name in frame.columns]
    for col, name in enumerate(frame.columns, start=1):
        values = frame[name]
        number_format = number_formats.get(name) or _default_format(values)
        for row, value in enumerate(values.tolist(), start=2):
            cell = sheet.cell(row=row, column=col)
            written = _set_value(cell, _plain(value))
            if number_format and isinstance(written, (int, float, dt.date)):
                cell.number_format = number_format
            if name in styles and isinstance(written, str) and written in styles[name]:
                cell.fill, cell.font = styles[name][written]
            if isinstance(written, str):
                widths[col - 1] = max(widths[col - 1], _display_width(written))
    for col, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = min(_MAX_COLUMN_WIDTH, max(8, width + 2))


def _plain(value):
    """A cell value as a plain Python value: None for missing, lists joined, numpy unwrapped."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, np.generic):
        return _plain(value.item())
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _set_value(cell, value):
    """Write a value; text is always stored as text, formula-like text with Excel's quote prefix."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
        if is_formula_like(value):
            cell.quotePrefix = True
    return value


def _fill_styles(colours: Mapping[object, str]) -> dict[object, tuple[PatternFill, Font]]:
    styles = {}
    for value, colour in colours.items():
        hex_colour = colour.lstrip("#").upper()
        styles[value] = (PatternFill("solid", fgColor=hex_colour), Font(color=_text_colour(hex_colour), bold=True))
    return styles


def _text_colour(hex_colour: str) -> str:
    """Black on light fills, white on dark ones (relative luminance)."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return "000000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.55 else "FFFFFF"


def _default_format(values: pd.Series) -> str | None:
    if pd.api.types.is_datetime64_any_dtype(values) or values.map(lambda v: isinstance(v, dt.date)).any():
        return "yyyy-mm-dd"
    if pd.api.types.is_float_dtype(values):
        return "#,##0.00"
    return None


def _display_width(text: str) -> int:
    """Column width in Excel units: CJK characters are about twice as wide."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# ---- a table with its context ----------------------------------------------------------------
def with_context_csv(frame: pd.DataFrame, context: Mapping[str, str], *, percent_columns: list[str] = ()) -> bytes:
    """The context lines (截至日期, 金额单位, …), a blank line, then the table as CSV.

    `percent_columns` hold fractions; in CSV they are written as percentages (×100, header
    "（%）") so the file reads like the screen. Excel keeps fractions with a % number format.
    """
    table = frame.copy()
    for column in percent_columns:
        table[column] = (table[column] * 100).round(4)
    table = table.rename(columns={c: f"{c}（%）" for c in percent_columns})
    preamble = to_csv_bytes(pd.DataFrame(list(context.items()), columns=["说明", "内容"]))
    return preamble + b"\r\n" + to_csv_bytes(table)[len(codecs.BOM_UTF8):]


def with_context_excel(frame: pd.DataFrame, context: Mapping[str, str], *, sheet_name: str,
                       fills: Mapping[str, Mapping[object, str]] | None = None,
                       number_formats: Mapping[str, str] | None = None) -> bytes:
    """The table on its sheet and the context lines on a second sheet named 说明."""
    about = pd.DataFrame(list(context.items()), columns=["说明", "内容"])
    return to_excel_workbook({sheet_name: frame, "说明": about}, fills=fills, number_formats=number_formats)
