"""Word documents in the layout of official documents (党政机关公文格式, GB/T 9704-2012).

A4 with the standard margins (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm), body in
3号仿宋 (16 pt) at a fixed 28 pt line pitch, titles in 2号小标宋, level-one headings in 黑体
and lead-ins in 楷体, page numbers "— n —" in 4号宋体. The red heading is the letter form
(信函格式): the sender's full name in red, a red double rule, the number (文号) at the right.

Fonts are named as a bureau's Word has them (仿宋_GB2312, 方正小标宋简体, 楷体_GB2312); the
font table names an alternative for each (仿宋, 宋体, 楷体), which Word and WPS use on
machines without the GB2312 fonts; Latin text and figures are in Times New Roman.

How it is built: python-docx makes the package once per page orientation (styles, font
table, settings, the footer with the page number, the section's page size and margins);
each document then only writes its body as WordprocessingML and its properties, and the
package's other parts are copied in already compressed. A month of letters (hundreds)
or a brief with thousands of table cells takes well under a second per document.

Every text is inserted as plain text (control characters dropped, XML-escaped), never as
markup. The bytes are reproducible: the same content gives the same file (fixed zip
timestamps and document properties), so a file's SHA-256 identifies its content.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from functools import cache
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

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
HEADING_ORGAN_PT = 26
TABLE_PT = 10.5  # 五号
PAGE_NUMBER_PT = 14  # 4号
LINE_PITCH_PT = 28
RED = "FF0000"
HEADER_FILL = "E7E6E6"
TWIPS_PER_MM = 1440 / 25.4

PORTRAIT_MARGINS_MM = (37, 35, 28, 26)  # top, bottom, left, right
LANDSCAPE_MARGINS_MM = (28, 26, 37, 35)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FIGURE = re.compile(r"[-+]?[\d,]+(\.\d+)?%?")
_DOCUMENT = "word/document.xml"
_CORE = "docProps/core.xml"


def plain(text: object) -> str:
    """Text as it may appear in a document: a string without control characters."""
    return _CONTROL.sub("", "" if text is None else str(text))


def chinese_date(day: dt.date) -> str:
    """成文日期 as official documents write it: 2026年11月20日."""
    return f"{day.year}年{day.month}月{day.day}日"


def is_dark(hex_colour: str) -> bool:
    """Whether a fill needs white text (relative luminance)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b <= 0.55


# ---- WordprocessingML pieces ---------------------------------------------------------------
def _run(text: object, *, font: str = FANGSONG, size: float = BODY_PT, colour: str | None = None,
         spacing_pt: float | None = None, line_break: bool = False) -> str:
    props = (f'<w:rFonts w:ascii="{LATIN}" w:hAnsi="{LATIN}" w:cs="{LATIN}" w:eastAsia="{font}"/>'
             + (f'<w:color w:val="{colour}"/>' if colour else "")
             + (f'<w:spacing w:val="{int(spacing_pt * 20)}"/>' if spacing_pt else "")
             + f'<w:sz w:val="{int(size * 2)}"/><w:szCs w:val="{int(size * 2)}"/>')
    end = "<w:br/>" if line_break else ""
    return f'<w:r><w:rPr>{props}</w:rPr><w:t xml:space="preserve">{escape(plain(text))}</w:t>{end}</w:r>'


def _paragraph(runs: str = "", *, align: str = "both", indent_pt: float = 0, line_pt: float | None = LINE_PITCH_PT,
               before_pt: float = 0, after_pt: float = 0, keep_next: bool = False, rule: bool = False,
               right_pt: float = 0) -> str:
    props = "<w:keepNext/>" if keep_next else ""
    if rule:  # the red double rule under the heading (上粗下细)
        props += f'<w:pBdr><w:bottom w:val="thickThinSmallGap" w:sz="24" w:space="6" w:color="{RED}"/></w:pBdr>'
    line = f'w:line="{int(line_pt * 20)}" w:lineRule="exact"' if line_pt else 'w:line="240" w:lineRule="auto"'
    props += f'<w:spacing w:before="{int(before_pt * 20)}" w:after="{int(after_pt * 20)}" {line}/>'
    if indent_pt or right_pt:
        props += f'<w:ind w:firstLine="{int(indent_pt * 20)}" w:right="{int(right_pt * 20)}"/>'
    props += f'<w:jc w:val="{align}"/>'
    return f"<w:p><w:pPr>{props}</w:pPr>{runs}</w:p>"


def _cell(text: str, width: int, size: float, *, header: bool, fill: str | None) -> str:
    if _FIGURE.fullmatch(text):
        align = "right"
    elif header or len(text) <= 8:
        align = "center"
    else:
        align = "left"
    shade = fill or (HEADER_FILL if header else None)
    props = f'<w:tcW w:w="{width}" w:type="dxa"/>'
    if shade:
        props += f'<w:shd w:val="clear" w:color="auto" w:fill="{shade.lstrip("#").upper()}"/>'
    props += '<w:vAlign w:val="center"/>'
    colour = "FFFFFF" if fill and is_dark(fill) else None
    run = _run(text, font=HEITI if header else FANGSONG, size=size, colour=colour)
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{_paragraph(run, align=align, line_pt=size * 1.6)}</w:tc>"


class OfficialDocument:
    """A Word document in 公文 layout; add blocks in reading order, then `to_bytes()`."""

    def __init__(self, *, title: str, author: str, date: dt.date, landscape: bool = False):
        self._title, self._author, self._date = plain(title), plain(author), date
        self._landscape = landscape
        self._body: list[str] = []
        top, bottom, left, right = LANDSCAPE_MARGINS_MM if landscape else PORTRAIT_MARGINS_MM
        self.text_width_mm = (297 if landscape else 210) - left - right

    # ---- blocks ----------------------------------------------------------------------------
    def red_heading(self, organ: str, number: str | None) -> None:
        """信函格式 heading: the organ's name in red, a red double rule, the number at the right."""
        self._body.append(_paragraph(_run(organ, font=XIAOBIAOSONG, size=HEADING_ORGAN_PT, colour=RED, spacing_pt=2),
                                     align="center", line_pt=None, after_pt=6, rule=True))
        if number:
            self._body.append(_paragraph(_run(number), align="right", before_pt=6))
        self.blank()

    def title(self, *lines: str) -> None:
        """The title, centred; several lines where the caller breaks it (词意完整, not mid-word)."""
        runs = "".join(_run(line, font=XIAOBIAOSONG, size=TITLE_PT, line_break=i < len(lines) - 1)
                       for i, line in enumerate(lines))
        self._body.append(_paragraph(runs, align="center", line_pt=35))
        self.blank()

    def addressee(self, text: str) -> None:
        self._body.append(_paragraph(_run(f"{plain(text)}：")))

    def paragraph(self, text: str, *, indent: bool = True, lead: str | None = None, keep_with_next: bool = False) -> None:
        """A body paragraph, first line indented two characters; `lead` is a lead-in in 楷体."""
        runs = (_run(lead, font=KAITI) if lead else "") + _run(text)
        self._body.append(_paragraph(runs, indent_pt=BODY_PT * 2 if indent else 0, keep_next=keep_with_next))

    def heading(self, text: str) -> None:
        """A level-one heading ("一、…") in 黑体, kept on the page of what follows it."""
        self._body.append(_paragraph(_run(text, font=HEITI), indent_pt=BODY_PT * 2, keep_next=True))

    def blank(self) -> None:
        self._body.append(_paragraph())

    def signature(self, organ: str, date: dt.date) -> None:
        """Sender and date at the right (成文日期 with four characters of right indent)."""
        self.blank()
        self.blank()
        for text in (organ, chinese_date(date)):
            self._body.append(_paragraph(_run(text), align="right", right_pt=BODY_PT * 2))

    def note(self, text: str) -> None:
        """附注: in parentheses, indented two characters."""
        self._body.append(_paragraph(_run(f"（{plain(text)}）"), indent_pt=BODY_PT * 2))

    def table(self, header: Sequence[str], rows: Iterable[Sequence[object]], *,
              fills: Sequence[Sequence[str | None]] | None = None, widths_mm: Sequence[float] | None = None,
              size: float = TABLE_PT) -> None:
        """A bordered table: header row shaded and repeated on every page, rows never split.

        `fills` gives a cell's background (hex) or None; `widths_mm` the column widths
        (default: equal, across the text width).
        """
        widths_mm = widths_mm or [self.text_width_mm / len(header)] * len(header)
        widths = [int(w * TWIPS_PER_MM) for w in widths_mm]
        border = 'w:val="single" w:sz="4" w:space="0" w:color="000000"'
        parts = [
            f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/><w:tblBorders>'
            + "".join(f"<w:{side} {border}/>" for side in ("top", "left", "bottom", "right", "insideH", "insideV"))
            + '</w:tblBorders><w:tblLayout w:type="fixed"/>'
            '<w:tblCellMar><w:left w:w="85" w:type="dxa"/><w:right w:w="85" w:type="dxa"/></w:tblCellMar>'
            "</w:tblPr><w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in widths) + "</w:tblGrid>",
            "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"
            + "".join(_cell(plain(h), w, size, header=True, fill=None) for h, w in zip(header, widths)) + "</w:tr>",
        ]
        for r, values in enumerate(rows):
            row_fills = fills[r] if fills else [None] * len(widths)
            parts.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>"
                         + "".join(_cell(plain(v), w, size, header=False, fill=f)
                                   for v, w, f in zip(values, widths, row_fills)) + "</w:tr>")
        parts.append("</w:tbl>")
        self._body.append("".join(parts))
        self._body.append(_paragraph(line_pt=12))

    def page_break(self) -> None:
        self._body.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')

    # ---- output ------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The .docx bytes, the same for the same content."""
        template = _template(self._landscape)
        body = template.document_head + "".join(self._body) + template.document_tail
        return _write_zip(template.parts, {_DOCUMENT: body.encode("utf-8"), _CORE: self._core().encode("utf-8")})

    def _core(self) -> str:
        moment = f"{self._date.isoformat()}T00:00:00Z"
        return ("<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
                ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
                ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                f"<dc:title>{escape(self._title)}</dc:title><dc:creator>{escape(self._author)}</dc:creator>"
                f"<cp:lastModifiedBy>{escape(self._author)}</cp:lastModifiedBy><cp:revision>1</cp:revision>"
                f'<dcterms:created xsi:type="dcterms:W3CDTF">{moment}</dcterms:created>'
                f'<dcterms:modified xsi:type="dcterms:W3CDTF">{moment}</dcterms:modified></cp:coreProperties>')


# ---- the package, made once per orientation by python-docx ------------------------------------
class _Template:
    def __init__(self, parts: list[tuple[str, bytes, int, int]], document_head: str, document_tail: str):
        self.parts = parts  # (name, raw-deflated bytes, crc32, size) of every part but the body and properties
        self.document_head = document_head
        self.document_tail = document_tail


@cache
def _template(landscape: bool) -> _Template:
    doc = Document()
    section = doc.sections[0]
    top, bottom, left, right = LANDSCAPE_MARGINS_MM if landscape else PORTRAIT_MARGINS_MM
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
    else:
        section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.footer_distance = Mm(bottom - 7)
    normal = doc.styles["Normal"]
    normal.font.size = Pt(BODY_PT)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), LATIN)
    fonts.set(qn("w:eastAsia"), FANGSONG)
    _page_numbers(section)
    _declare_fallbacks(doc)
    raw = io.BytesIO()
    doc.save(raw)
    parts = []
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as package:
        for info in package.infolist():
            data = package.read(info.filename)
            if info.filename == _DOCUMENT:
                xml = data.decode("utf-8")
                head_end = xml.index("<w:body>") + len("<w:body>")
                tail_start = xml.index("<w:sectPr")
                head, tail = xml[:head_end], xml[tail_start:]
            elif info.filename not in (_CORE, "docProps/thumbnail.jpeg"):
                parts.append((info.filename, _deflate(data), zlib.crc32(data), len(data)))
    return _Template(_without_thumbnail(parts), head, tail)


def _without_thumbnail(parts: list[tuple[str, bytes, int, int]]) -> list[tuple[str, bytes, int, int]]:
    """The package without python-docx's sample thumbnail (its part is left out; drop its references)."""
    fixed = []
    for name, deflated, crc, size in parts:
        if name in ("[Content_Types].xml", "_rels/.rels"):
            data = zlib.decompress(deflated, -15).decode("utf-8")
            data = re.sub(r'<Default Extension="jpeg"[^>]*/>', "", data)
            data = re.sub(r'<Relationship [^>]*thumbnail[^>]*/>', "", data)
            raw = data.encode("utf-8")
            fixed.append((name, _deflate(raw), zlib.crc32(raw), len(raw)))
        else:
            fixed.append((name, deflated, crc, size))
    return fixed


def _page_numbers(section) -> None:
    """"— n —" centred in the footer, 4号宋体."""
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def run(text: str):
        r = p.add_run(text)
        r.font.size = Pt(PAGE_NUMBER_PT)
        fonts = r._element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:ascii"), LATIN)
        fonts.set(qn("w:hAnsi"), LATIN)
        fonts.set(qn("w:eastAsia"), SONGTI)
        return r

    run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    field.append(run("1")._element)  # the run moves into the field
    p._p.append(field)
    p._p.append(run(" —")._element)


def _declare_fallbacks(doc) -> None:
    part = next(r.target_part for r in doc.part.rels.values() if r.reltype.endswith("/fontTable"))
    blob = part.blob.decode("utf-8")
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{"roman" if name in (SONGTI, XIAOBIAOSONG) else "modern"}"/>'
        f'<w:pitch w:val="variable"/></w:font>'
        for name, alt in FALLBACKS.items() if f'w:name="{name}"' not in blob)
    part._blob = blob.replace("</w:fonts>", entries + "</w:fonts>").encode("utf-8")


# ---- a minimal zip writer: parts compressed once, fixed timestamps ------------------------------
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _write_zip(static: list[tuple[str, bytes, int, int]], fresh: dict[str, bytes]) -> bytes:
    members = [*static, *((name, _deflate(data), zlib.crc32(data), len(data)) for name, data in fresh.items())]
    out = io.BytesIO()
    central = []
    for name, deflated, crc, size in members:
        encoded = name.encode("utf-8")
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, _DOS_TIME, _DOS_DATE, crc, len(deflated), size,
                              len(encoded), 0))
        out.write(encoded)
        out.write(deflated)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, _DOS_TIME, _DOS_DATE, crc,
                                   len(deflated), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), out.tell() - start, start, 0))
    return out.getvalue()
