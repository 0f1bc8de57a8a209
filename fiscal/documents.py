"""Word documents in the layout of official documents (党政机关公文格式, GB/T 9704-2012).

A4 with the standard margins (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm), body in
3号仿宋 (16 pt) at a fixed 28 pt line pitch, titles in 2号小标宋, level-one headings in 黑体
and level-two in 楷体, page numbers "— n —" in 4号宋体. The red heading is the letter form
(信函格式): the sender's full name in red, a red double rule, the document number (文号)
at the right under it.

Fonts are named as a bureau's Word has them (仿宋_GB2312, 方正小标宋简体, 楷体_GB2312);
the font table names an alternative for each (仿宋, 宋体, 楷体), which Word and WPS use
on machines without the GB2312 fonts, and Latin text falls back to Times New Roman.

Every text is inserted as plain text (control characters dropped), never as markup. The
bytes are reproducible: the same content gives the same file (fixed zip timestamps and
document properties), so a file's SHA-256 identifies its content.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

FANGSONG = "仿宋_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
HEITI = "黑体"
KAITI = "楷体_GB2312"
SONGTI = "宋体"
LATIN = "Times New Roman"
# What Word/WPS use when the named font is not installed (font table altName).
FALLBACKS = {FANGSONG: "仿宋", XIAOBIAOSONG: "宋体", KAITI: "楷体", HEITI: "SimHei", SONGTI: "SimSun"}

BODY_PT = 16  # 3号
TITLE_PT = 22  # 2号
TABLE_PT = 10.5  # 五号
PAGE_NUMBER_PT = 14  # 4号
LINE_PITCH_PT = 28
RED = RGBColor(0xFF, 0x00, 0x00)
_RED_HEX = "FF0000"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FIGURE = re.compile(r"[-+]?[\d,]+(\.\d+)?%?")


def plain(text: object) -> str:
    """Text as it may appear in a document: a string without control characters."""
    return _CONTROL.sub("", "" if text is None else str(text))


class OfficialDocument:
    """A Word document in 公文 layout; add blocks in reading order, then `to_bytes()`."""

    def __init__(self, *, title: str, author: str, date: dt.date, landscape: bool = False):
        self.doc = Document()
        self._title, self._author, self._date = plain(title), plain(author), date
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
            section.top_margin, section.bottom_margin = Mm(28), Mm(26)
            section.left_margin, section.right_margin = Mm(37), Mm(35)
        else:
            section.top_margin, section.bottom_margin = Mm(37), Mm(35)
            section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.footer_distance = Mm(28) if not landscape else Mm(12)
        self._base_style()
        self._page_numbers(section)

    # ---- blocks ----------------------------------------------------------------------------
    def red_heading(self, organ: str, number: str | None) -> None:
        """信函格式 heading: the organ's name in red, a red double rule, the number at the right."""
        name = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, space_after=6, line_pt=None)
        self._run(name, organ, font=XIAOBIAOSONG, size=26, colour=RED, spacing_pt=2)
        _bottom_rule(name)
        if number:
            num = self._paragraph(align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False, space_before=6)
            self._run(num, number)
        self.blank()

    def title(self, *lines: str) -> None:
        """The title, centred; several lines where the caller breaks it (词意完整, not mid-word)."""
        p = self._paragraph(align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, line_pt=35)
        for i, line in enumerate(lines):
            run = self._run(p, line, font=XIAOBIAOSONG, size=TITLE_PT)
            if i < len(lines) - 1:
                run.add_break()
        self.blank()

    def addressee(self, text: str) -> None:
        self._run(self._paragraph(indent=False), f"{plain(text)}：")

    def paragraph(self, text: str, *, indent: bool = True, bold_lead: str | None = None,
                  keep_with_next: bool = False) -> None:
        """A body paragraph; `bold_lead` is a lead-in (e.g. "（一）合理安排支出顺序。") in 楷体."""
        p = self._paragraph(indent=indent)
        p.paragraph_format.keep_with_next = keep_with_next
        if bold_lead:
            self._run(p, bold_lead, font=KAITI)
        self._run(p, text)

    def heading(self, text: str) -> None:
        """A level-one heading ("一、…") in 黑体, kept on the page of what follows it."""
        p = self._paragraph()
        p.paragraph_format.keep_with_next = True
        self._run(p, text, font=HEITI)

    def blank(self) -> None:
        self._paragraph(indent=False)

    def signature(self, organ: str, date: dt.date) -> None:
        """Sender and date at the right (成文日期 with four characters of right indent)."""
        self.blank()
        self.blank()
        for text in (organ, chinese_date(date)):
            p = self._paragraph(align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
            p.paragraph_format.right_indent = Pt(BODY_PT * 2)
            self._run(p, text)

    def note(self, text: str) -> None:
        """附注: in parentheses, indented two characters."""
        self._run(self._paragraph(), f"（{plain(text)}）")

    def table(self, header: Sequence[str], rows: Iterable[Sequence[object]], *,
              fills: Sequence[Sequence[str | None]] | None = None, widths_mm: Sequence[float] | None = None,
              size: float = TABLE_PT) -> None:
        """A bordered table, header row bold, shaded and repeated on every page; rows never split.

        `fills` gives a cell's background (hex) or None; `widths_mm` the column widths.
        Built row by row (linear in the number of cells: a brief may hold thousands).
        """
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = not widths_mm
        if widths_mm:  # the grid (LibreOffice, WPS) and every cell (Word) carry the width
            for col, width in enumerate(widths_mm):
                table.columns[col].width = Mm(width)
        head = table.rows[0]
        _row_flags(head, header=True)
        for col, (cell, text) in enumerate(zip(head.cells, header)):
            _shade(cell, "E7E6E6")
            self._cell_text(cell, text, size, bold=True)
            if widths_mm:
                cell.width = Mm(widths_mm[col])
        for r, values in enumerate(rows):
            row = table.add_row()
            _row_flags(row, header=False)
            for col, (cell, value) in enumerate(zip(row.cells, values)):
                fill = fills[r][col] if fills else None
                if fill:
                    _shade(cell, fill.lstrip("#"))
                self._cell_text(cell, value, size, light=bool(fill) and is_dark(fill))
                if widths_mm:
                    cell.width = Mm(widths_mm[col])
        self._paragraph(indent=False, line_pt=12)

    def page_break(self) -> None:
        self.doc.add_page_break()

    # ---- output ------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The .docx bytes, the same for the same content."""
        props = self.doc.core_properties
        moment = dt.datetime.combine(self._date, dt.time())
        props.title, props.author, props.last_modified_by = self._title, self._author, self._author
        props.created = props.modified = moment
        props.revision = 1
        self._declare_fallbacks()
        raw = io.BytesIO()
        self.doc.save(raw)
        return _reproducible_zip(raw.getvalue())

    # ---- internals -----------------------------------------------------------------------------
    def _base_style(self) -> None:
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(BODY_PT)
        _set_fonts(normal.element.get_or_add_rPr(), FANGSONG)
        fmt = normal.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(LINE_PITCH_PT)
        fmt.widow_control = True

    def _paragraph(self, *, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = True, line_pt: float | None = LINE_PITCH_PT,
                   space_before: float = 0, space_after: float = 0):
        p = self.doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.alignment = align
        if indent:
            fmt.first_line_indent = Pt(BODY_PT * 2)
        if line_pt is None:
            fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        else:
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(line_pt)
        fmt.space_before, fmt.space_after = Pt(space_before), Pt(space_after)
        return p

    def _run(self, paragraph, text: object, *, font: str = FANGSONG, size: float = BODY_PT, bold: bool = False,
             colour: RGBColor | None = None, spacing_pt: float | None = None):
        run = paragraph.add_run(plain(text))
        run.font.size = Pt(size)
        run.font.bold = bold
        if colour is not None:
            run.font.color.rgb = colour
        _set_fonts(run._element.get_or_add_rPr(), font)
        if spacing_pt is not None:
            spacing = OxmlElement("w:spacing")
            spacing.set(qn("w:val"), str(int(spacing_pt * 20)))
            run._element.get_or_add_rPr().append(spacing)
        return run

    def _cell_text(self, cell, value: object, size: float, *, bold: bool = False, light: bool = False) -> None:
        """Header and short labels centred, figures at the right, longer text at the left."""
        p = cell.paragraphs[0]
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        p.paragraph_format.line_spacing = Pt(size * 1.6)
        text = plain(value)
        if _FIGURE.fullmatch(text):
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif bold or len(text) <= 8:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT
        self._run(p, value, font=FANGSONG if not bold else HEITI, size=size,
                  colour=RGBColor(0xFF, 0xFF, 0xFF) if light else None)

    def _page_numbers(self, section) -> None:
        p = section.footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._run(p, "— ", font=SONGTI, size=PAGE_NUMBER_PT)
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), "PAGE")
        number = self._run(p, "1", font=SONGTI, size=PAGE_NUMBER_PT)
        field.append(number._element)  # the run moves into the field
        p._p.append(field)
        self._run(p, " —", font=SONGTI, size=PAGE_NUMBER_PT)

    def _declare_fallbacks(self) -> None:
        part = next(r.target_part for r in self.doc.part.rels.values() if r.reltype.endswith("/fontTable"))
        blob = part.blob.decode("utf-8")
        entries = "".join(
            f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
            f'<w:family w:val="{"roman" if name in (SONGTI, XIAOBIAOSONG) else "modern"}"/>'
            f'<w:pitch w:val="variable"/></w:font>'
            for name, alt in FALLBACKS.items() if f'w:name="{name}"' not in blob)
        part._blob = blob.replace("</w:fonts>", entries + "</w:fonts>").encode("utf-8")


def chinese_date(day: dt.date) -> str:
    """成文日期 as official documents write it: 2026年11月20日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _set_fonts(rpr, east_asian: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN)
    fonts.set(qn("w:eastAsia"), east_asian)


def _bottom_rule(paragraph) -> None:
    """The red double rule under the heading (上粗下细)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "thickThinSmallGap"), ("w:sz", "24"), ("w:space", "6"), ("w:color", _RED_HEX)):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.insert(0, borders)  # first in pPr: the schema puts pBdr before spacing and alignment


def _row_flags(row, *, header: bool) -> None:
    """A row that never breaks across pages; the header row repeats on every page."""
    props = row._tr.get_or_add_trPr()
    props.append(OxmlElement("w:cantSplit"))
    if header:
        props.append(OxmlElement("w:tblHeader"))


def _shade(cell, hex_colour: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), hex_colour.upper())
    cell._tc.get_or_add_tcPr().append(shading)


def is_dark(hex_colour: str) -> bool:
    """Whether a fill needs white text (relative luminance)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b <= 0.55


def _reproducible_zip(data: bytes) -> bytes:
    """The same archive with fixed member timestamps, so equal content gives equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, source.read(info.filename))
    return out.getvalue()
