"""Read an uploaded file into raw cells, keeping the row numbers the user sees.

Nothing here interprets values. This module opens CSV / XLSX / Parquet, finds the sheet
and header row of an extract kind, maps the headers to canonical columns and picks up
unit declarations. Typing and the rules live in validation.py.
"""
from __future__ import annotations

import codecs
import datetime as dt
import csv
import functools
import io
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import python_calamine
import pyarrow as pa
import pyarrow.parquet as pq

from fiscal import archive_guard
from fiscal.extracts import KIND_ORDER, KINDS

# Title and unit lines take a few rows at most; a header further down is not a header.
HEADER_SCAN_ROWS = 50
# Bounds on what one upload may cost the server, whatever its size on disk.
MAX_ROWS = 2_000_000  # all sheets together; a national month of daily rows is ~100,000
MAX_COLUMNS = 256  # cells beyond this are dropped (an extract has a dozen columns)
MAX_READ_SECONDS = 60
# calamine's grid for a sheet costs ~32 bytes a cell: 20 million cells (640 MB) is 1,000,000 rows
# of 20 columns, more than a sheet of the upload limit holds.
MAX_DENSE_CELLS = 20_000_000

_DAMAGED_XLSX = "文件已损坏或不是有效的 Excel（.xlsx）文件，无法打开"
_UNIT = r"(?:人民币)?([千百万亿]*元)"
# "单位：万元", "金额单位:元", also inside a title such as "库款日报（单位：亿元）".
_UNIT_LINE = re.compile(r"单位\s*[:：]\s*" + _UNIT)
# A unit suffix in a normalised header: "库款余额(万元)", "库款余额(单位:元)".
_HEADER_UNIT = re.compile(r"(.+?)\((?:单位:)?" + _UNIT + r"\)")
_OTHER_SUFFIX = re.compile(r"(.+?)\(.*\)")


class ReadError(Exception):
    """The file as a whole cannot be used; `rule` is the Chinese explanation (naming rows itself)."""

    def __init__(self, rule: str):
        super().__init__(rule)
        self.rule = rule


Row = tuple[int, list]  # (row number as the user sees it, cells)


@dataclass
class Sheet:
    name: str | None  # XLSX sheet name; None for CSV and Parquet
    rows: Sequence[Row]  # non-blank rows only (a list, or ColumnRows for Parquet)


@dataclass
class Table:
    kind: str
    sheet: str | None
    header_row: int
    header_cells: list  # the header row as written (for naming unmapped columns)
    columns: dict[str, int]  # canonical column -> cell index
    headers: dict[str, str]  # canonical column -> header as written
    column_units: dict[str, str]  # canonical column -> unit its header declares
    unit_line: tuple[int, str] | None  # (row, unit) of a "单位：万元" line above the header
    data: list[Row]  # rows below the header
    other_sheets: list[str]  # further sheets that also hold this kind (not read)


def norm(text) -> str:
    """Comparable form of a header or marker: NFKC (full-width → half-width), no spaces, no *."""
    return re.sub(r"[\s*]+", "", unicodedata.normalize("NFKC", str(text))).lower()


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------- file formats

def read_sheets(path: str | Path, name: str) -> list[Sheet]:
    """All sheets of the file; `name` (the user's file name) supplies the extension."""
    path = Path(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    suffix = Path(name).suffix.lower()
    # Trust the content over the extension: users rename files.
    if magic.startswith(b"PK\x03\x04"):
        try:
            archive_guard.check_zip(path)
            dense = archive_guard.dense_cells(path)
        except archive_guard.ArchiveRefused as exc:
            raise ReadError(str(exc)) from exc
        except Exception as exc:  # a member that does not inflate: the archive is damaged
            raise ReadError(_DAMAGED_XLSX) from exc
        # calamine keeps a sheet as one dense grid; a sparse one far out goes to the streaming reader.
        return _read_xlsx(path) if dense <= MAX_DENSE_CELLS else _read_xlsx_streaming(path)
    if magic.startswith(b"PAR1"):
        return _read_parquet(path)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError("这是旧版 Excel（.xls）或加密的 Excel 文件，请在 Excel 中另存为不加密的 .xlsx 后再上传")
    if suffix in (".xlsx", ".xlsm"):
        raise ReadError(_DAMAGED_XLSX)
    if suffix == ".parquet":
        raise ReadError("文件已损坏或不是有效的 Parquet 文件，无法打开")
    return [_read_csv(path.read_bytes())]


def _read_csv(data: bytes) -> Sheet:
    text = _decode(data)
    sample = text[:10_000]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    if '"' not in text and "\x00" not in text:  # no quoting: a record is a line, split at the delimiter
        return Sheet(None, TextRows.of(text, delimiter))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, line, budget = [], 1, _Budget()
    try:
        for cells in reader:
            budget.spend()
            if "".join(cells).strip():  # not blank (CSV cells are all text)
                rows.append((line, cells))
            line = reader.line_num + 1  # a quoted cell may span lines; report where the record starts
    except csv.Error as exc:
        raise ReadError(f"第 {line} 行无法按 CSV 格式读取（{exc}）") from exc
    return Sheet(None, rows)


class _Budget:
    """Counts rows read and watches the clock: past either bound the read stops with a message."""

    def __init__(self):
        self.rows = 0
        self.deadline = time.monotonic() + MAX_READ_SECONDS

    def spend(self) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise ReadError(_too_many_rows())
        if self.rows % 10_000 == 0 and time.monotonic() > self.deadline:
            raise ReadError(f"文件读取超过 {MAX_READ_SECONDS} 秒仍未完成，已停止；请导出为 CSV 或拆分后分批上传")


def _too_many_rows() -> str:
    return f"文件超过 {MAX_ROWS:,} 行，超出一次上传的上限，请按月份或地区拆分后分批上传"


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel "Unicode 文本"
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK / GB2312
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReadError("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV 文件")


def _read_xlsx(path: Path) -> list[Sheet]:
    """Every worksheet, read by calamine (a compiled reader, many times faster than openpyxl on
    a large sheet), with the cells as openpyxl gives them: None for empty, whole numbers as int,
    dates as datetime, row and column numbers counted from A1."""
    # calamine raises many exception types on damaged archives; all mean the same to the user.
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise ReadError(_DAMAGED_XLSX) from exc

    def sheets():
        for meta in workbook.sheets_metadata:
            if meta.typ == python_calamine.SheetTypeEnum.WorkSheet:  # chart sheets hold no cells
                sheet = workbook.get_sheet_by_name(meta.name)
                # iter_rows gives every row from the first (row 1), but each from the first used column.
                padding = [None] * (sheet.start or (0, 0))[1]
                yield meta.name, ((number, [*padding, *map(_openpyxl_cell, cells)][:MAX_COLUMNS])
                                  for number, cells in enumerate(sheet.iter_rows(), start=1))

    return _workbook_sheets(workbook, sheets())


def _read_xlsx_streaming(path: Path) -> list[Sheet]:
    """openpyxl's read-only mode: slow, but a sheet's far-out cells cost nothing until reached."""
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ReadError(_DAMAGED_XLSX) from exc

    def sheets():
        for ws in workbook.worksheets:
            ws.reset_dimensions()  # exporters often write a wrong <dimension>, which would cut rows
            yield ws.title, ((number, list(cells)) for number, cells in
                             enumerate(ws.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1))

    return _workbook_sheets(workbook, sheets())


def _workbook_sheets(workbook, sheets) -> list[Sheet]:
    """The non-blank rows of each (name, rows) of an open workbook, within the read budget;
    closes the workbook. Any reader error means a damaged file to the user."""
    try:
        result, budget = [], _Budget()
        for name, numbered in sheets:
            rows = []
            for number, cells in numbered:
                budget.spend()
                if not all(map(is_blank, cells)):
                    rows.append((number, cells))
            result.append(Sheet(name, rows))
        return result
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError("Excel 文件内容已损坏，无法读取") from exc
    finally:
        workbook.close()


def _openpyxl_cell(cell):
    kind = type(cell)
    if kind is str:
        return cell or None
    if kind is float:
        return int(cell) if cell.is_integer() and abs(cell) < 2**53 else cell
    if kind is dt.date:
        return dt.datetime(cell.year, cell.month, cell.day)
    return cell


def _read_parquet(path: Path) -> list[Sheet]:
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise ReadError("文件已损坏或不是有效的 Parquet 文件，无法打开") from exc
    return [Sheet(None, ColumnRows.of(table))]


class ColumnRows(Sequence):
    """The rows of a columnar file (Parquet) without making them: row 0 is the header (the
    column names) and records count from 1, as the user would number them; blank records are
    left out. A row is made only when asked for; `column(i)` gives the typed Arrow column."""

    def __init__(self, table, numbers, start: int = 0, stop: int | None = None):
        self.table, self.numbers = table, numbers  # numbers: header 0, then the kept records
        self.start, self.stop = start, len(numbers) if stop is None else stop

    @classmethod
    def of(cls, table) -> ColumnRows:
        import numpy as np
        import pyarrow.compute as pc

        if any(column.null_count == 0 and not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type))
               for column in table.columns):  # a column that is never empty: no record is blank
            return cls(table, [0, *range(1, table.num_rows + 1)])
        blank = np.ones(table.num_rows, dtype=bool)
        for column in table.columns:
            empty = pc.is_null(column)
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                empty = pc.or_(empty, pc.fill_null(pc.utf8_is_space(column), False))
                empty = pc.or_(empty, pc.equal(pc.utf8_length(column), 0))
            blank &= pc.fill_null(empty, True).to_numpy(zero_copy_only=False)
        kept = np.flatnonzero(~blank)
        return cls(table.take(kept) if len(kept) < table.num_rows else table, [0, *(kept + 1).tolist()])

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return ColumnRows(self.table, self.numbers, self.start + start, self.start + stop)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        position = self.start + index
        if position == 0:
            return 0, list(self.table.column_names)
        return self.numbers[position], [column[position - 1].as_py() for column in self.table.columns]

    def column(self, index: int):
        """The records' cells of column `index` as an Arrow array (header excluded)."""
        first = max(self.start, 1) - 1
        return self.table.column(index).slice(first, self.stop - 1 - first).combine_chunks()

    @property
    def records(self) -> list[int]:
        """Row numbers of the records (header excluded)."""
        return self.numbers[max(self.start, 1):self.stop]

    def take(self, positions: list[int]) -> ColumnRows:
        """The records at `positions` (of the records below the header)."""
        records = self.records
        return ColumnRows(self.table.take(pa.array(positions, pa.int64())), [0, *(records[i] for i in positions)],
                          start=1)


class TextRows(Sequence):
    """The records of a delimited text file without quotes, as the csv module would read them
    (a record per line: \\n, \\r\\n or \\r), without making them: blank records are left out,
    a row is split into cells only when asked for, and `column(i)` gives cell i of every row
    at once as an Arrow string array (null where a row has fewer cells)."""

    def __init__(self, lines, numbers, delimiter: str):
        self.lines, self.numbers, self.delimiter = lines, numbers, delimiter  # Arrow strings; numpy int64

    @classmethod
    def of(cls, text: str, delimiter: str) -> TextRows:
        import numpy as np
        import pyarrow.compute as pc

        text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = pc.split_pattern(pa.array([text.removesuffix("\n")], pa.large_string()), "\n").values
        if len(lines) > MAX_ROWS:
            raise ReadError(_too_many_rows())
        # A line with a letter or digit is not blank; the few others (blank lines, bare
        # delimiters, titles in Chinese) are judged as the csv reader's rows would be.
        kept = pc.match_substring_regex(lines, "[0-9A-Za-z]").to_numpy(zero_copy_only=False)
        others = np.flatnonzero(~kept)
        kept[others] = [bool(line.replace(delimiter, "").strip()) for line in lines.take(others).to_pylist()]
        numbers = np.flatnonzero(kept)
        return cls(lines.take(numbers).cast(pa.string()), numbers + 1, delimiter)

    def __len__(self) -> int:
        return len(self.lines)

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return TextRows(self.lines.slice(start, max(stop - start, 0)), self.numbers[start:stop], self.delimiter)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return int(self.numbers[index]), self.lines[index].as_py().split(self.delimiter)

    def column(self, index: int):
        import numpy as np
        import pyarrow.compute as pc

        cells = self._cells
        offsets = cells.offsets.to_numpy()
        present = np.diff(offsets) > index
        values = cells.values.take(pa.array(np.where(present, offsets[:-1] + index, 0)))
        return pc.if_else(pa.array(present), values, pa.scalar(None, pa.string()))

    @functools.cached_property
    def _cells(self):
        import pyarrow.compute as pc

        return pc.split_pattern(self.lines, self.delimiter)

    @property
    def records(self) -> list[int]:
        return self.numbers.tolist()

    def take(self, positions: list[int]) -> TextRows:
        return TextRows(self.lines.take(pa.array(positions, pa.int64())), self.numbers[positions], self.delimiter)


# The sheets whose rows are kept column by column (Arrow) rather than as lists of cells.
COLUMNAR = (ColumnRows, TextRows)


# ---------------------------------------------------------------- headers

_ALIASES = {
    kind: {norm(a): c.name for c in spec.columns for a in (c.name, c.label, *c.aliases)}
    for kind, spec in KINDS.items()
}


def header_key(cell) -> tuple[str, str | None]:
    """(normalised name, unit declared by a suffix such as "（万元）")."""
    key = norm(cell)
    match = _HEADER_UNIT.fullmatch(key)
    if match:
        return match[1], match[2]
    match = _OTHER_SUFFIX.fullmatch(key)
    return (match[1] if match else key), None


def map_headers(cells: list, kind: str) -> dict[str, list[tuple[int, str, str | None]]]:
    """Canonical column -> [(cell index, header as written, unit)] for every cell naming it."""
    aliases = _ALIASES[kind]
    found: dict[str, list] = {}
    for index, cell in enumerate(cells):
        if is_blank(cell):
            continue
        key, unit = header_key(cell)
        # Try the whole header first: aliases such as "县（市、区）" contain parentheses.
        column = aliases.get(norm(cell)) or aliases.get(key)
        if column:
            found.setdefault(column, []).append((index, str(cell).strip(), unit))
    return found


def _covers(found: dict, kind: str) -> bool:
    return all(c.name in found for c in KINDS[kind].columns if c.required)


# County code and the directory columns (name, city, population) appear in every kind of
# export; only the other columns tell what an extract is.
_DESCRIPTIVE = {c.name for c in KINDS["counties"].columns}


def _specific(found: dict) -> set[int]:
    return {index for column, matches in found.items() if column not in _DESCRIPTIVE for index, _, _ in matches}


def best_kind(cells: list, kinds=KIND_ORDER) -> str | None:
    """Among `kinds`, the one whose required columns the cells cover, with most specific matches."""
    covered = []
    for kind in kinds:
        found = map_headers(cells, kind)
        if _covers(found, kind):
            covered.append((len(_specific(found)), len(found), -KIND_ORDER.index(kind), kind))
    return max(covered)[-1] if covered else None


def detect_kind(headers: list[str]) -> str | None:
    return best_kind(list(headers))


def _find_header(sheet: Sheet, kinds) -> tuple[int, str] | None:
    for index, (_, cells) in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        kind = best_kind(cells, kinds)
        if kind:
            return index, kind
    return None


def _unit_line(rows: list[Row]) -> tuple[int, str] | None:
    for number, cells in rows:
        for cell in cells:
            match = _UNIT_LINE.search(norm(cell)) if isinstance(cell, str) else None
            if match:
                return number, match[1]
    return None


def locate(sheets: list[Sheet], kind: str | None = None) -> Table:
    """Find the sheet and header row of `kind` (any kind if None) and map its columns."""
    if not any(s.rows for s in sheets):
        raise ReadError("文件为空")
    wanted = (kind,) if kind else KIND_ORDER
    hits = [(s, hit) for s in sheets if (hit := _find_header(s, wanted))]
    if not hits:
        raise ReadError(_no_header(sheets, kind))
    sheet, (index, found_kind) = hits[0]
    number, cells = sheet.rows[index]
    # The file is "clearly" another kind when that kind explains every specific column of
    # the requested one and more (canonical names such as `balance` are shared by kinds).
    better = best_kind(cells)
    if kind and better != kind and _specific(map_headers(cells, kind)) < _specific(map_headers(cells, better)):
        raise ReadError(_wrong_kind(better, kind))
    found = map_headers(cells, found_kind)
    for column, matches in found.items():
        if len(matches) > 1:
            names = "」「".join(m[1] for m in matches)
            label = KINDS[found_kind].column(column).label
            raise ReadError(f"第 {number} 行的列「{names}」都对应「{label}」，请只保留一列")
    return Table(
        kind=found_kind,
        sheet=sheet.name,
        header_row=number,
        header_cells=cells,
        columns={c: m[0][0] for c, m in found.items()},
        headers={c: m[0][1] for c, m in found.items()},
        column_units={c: m[0][2] for c, m in found.items() if m[0][2]},
        unit_line=_unit_line(sheet.rows[:index]),
        data=sheet.rows[index + 1:],
        other_sheets=[s.name for s, _ in hits[1:]],
    )


def _wrong_kind(actual: str, wanted: str) -> str:
    return (f"文件看起来是「{KINDS[actual].label}」而不是「{KINDS[wanted].label}」，"
            "请检查所选的数据类型或上传的文件")


def _no_header(sheets: list[Sheet], kind: str | None) -> str:
    """Explain why no header was found, naming the most header-like row."""
    if kind:
        for sheet in sheets:
            hit = _find_header(sheet, KIND_ORDER)
            if hit:
                return _wrong_kind(hit[1], kind)
    candidates = [
        (len(map_headers(cells, k)), sum(not is_blank(c) for c in cells), -n, k, sheet, n, cells)
        for sheet in sheets
        for n, cells in sheet.rows[:HEADER_SCAN_ROWS]
        for k in ((kind,) if kind else KIND_ORDER)
    ]
    matched, _, _, closest, sheet, number, cells = max(candidates, key=lambda c: c[:3])
    where = f"工作表「{sheet.name}」第 {number} 行" if sheet.name else f"第 {number} 行" if number else "文件"
    written = "「" + "」「".join(str(c).strip() for c in cells if not is_blank(c)) + "」"
    found = map_headers(cells, closest)
    missing = [c for c in KINDS[closest].columns if c.required and c.name not in found]
    lacking = "；".join(f"{c.label}（可用列名：{'、'.join(dict.fromkeys((c.label, *c.aliases, c.name)))}）" for c in missing)
    if kind:
        return f"没有找到「{KINDS[kind].label}」的表头：{where}的列名为{written}，缺少必需的列：{lacking}"
    hint = f"；最接近「{KINDS[closest].label}」，缺少：{lacking}" if matched else ""
    return f"无法判断文件的数据类型：{where}的列名为{written}，与任何一类数据的必需列都不匹配{hint}"
