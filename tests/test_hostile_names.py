"""User text is text: hostile county and city names render literally on every page, chart and export."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from app import formatting as fmt
from fiscal.demo import build_frames
from fiscal.export import to_csv_bytes, to_excel_bytes
from fiscal.lake import Lake
from tests.test_pages_apptest import figures, open_page, view_button

LINK = "[请点击核对库款](http://evil.example) **紧急**"
IMAGE = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","核对")'
PAGES = [None, "payroll", "treasury", "revenue", "risk", "county", "reporting"]
# Live markup: a Markdown link or emphasis, or an HTML tag, not preceded by an escaping backslash.
LIVE = re.compile(r"(?<!\\)\]\(http|(?<!\\)\*\*紧急|(?<!\\)<img|(?<!\\)<a href")
LIVE_IN_CHARTS = re.compile(r"<img|<a ")  # Plotly draws HTML tags, not Markdown
# An HTML block is not read as Markdown either; its only links are the app's own, relative ones.
LIVE_IN_HTML = re.compile(r"<img|<a (?!href=\"county\?county=\d+(&amp;[a-z_]+=[\w-]+)*\" target=\"_self\">)")


def hostile_frames() -> dict[str, pd.DataFrame]:
    frames = build_frames(counties=30, years=3)
    counties = frames["counties"].copy()
    hostile = [f"{LINK}{i}" if i % 3 == 0 else f"{IMAGE}{i}" if i % 3 == 1 else f"{FORMULA}{i}"
               for i in range(len(counties))]
    counties["county_name"] = hostile
    counties["city_name"] = counties["city_name"].where(counties.index % 2 == 0, f"{IMAGE}市")
    frames["counties"] = counties
    return frames


@pytest.fixture(scope="module")
def hostile_lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "lake"
    Lake(root).replace_all(hostile_frames(), user="test")
    return root


def markdown_texts(app) -> list[str]:
    """Every string the page hands to an element that renders Markdown or HTML (st.html: the tables)."""
    texts = []
    for kind in ("markdown", "caption", "title", "subheader", "header", "warning", "info", "error", "success"):
        texts += [str(e.value) for e in getattr(app, kind)]
    return (texts + [view_button(app)] + [str(e.proto.label) for e in app.get("page_link")]
            + [e.proto.body for e in app.get("html")])


def chart_data(app) -> str:
    return json.dumps([f["data"] for f in figures(app)], ensure_ascii=False)


@pytest.mark.parametrize("page", PAGES)
def test_hostile_names_are_literal_on_every_page(hostile_lake, monkeypatch, page):
    app = open_page(hostile_lake, page, monkeypatch)
    # An HTML block (starts with a tag) is not parsed as Markdown: only tags could be live there.
    live = [t for t in markdown_texts(app) if (LIVE_IN_HTML if t.startswith("<") else LIVE).search(t)]
    assert not live, live[:3]
    assert not LIVE_IN_CHARTS.search(chart_data(app))


def test_county_heading_shows_the_name_as_typed(hostile_lake, monkeypatch):
    code = Lake(hostile_lake).read("counties")["county_code"].iloc[0]
    app = open_page(hostile_lake, "county", monkeypatch, county=code)
    heading = next(m.value for m in app.markdown if m.value.startswith("<h2"))
    assert heading.startswith('<h2 class="county-heading">[请点击核对库款](http://evil.example) **紧急**0　<span')


def test_a_hostile_city_name_is_literal_on_the_view_button(hostile_lake, monkeypatch):
    app = open_page(hostile_lake, None, monkeypatch, city=f"{IMAGE}市")
    assert app.multiselect(key="cities").value == [f"{IMAGE}市"]
    [label] = [text for text in markdown_texts(app) if text.startswith("截至")]
    assert label.endswith(fmt.md_text(f"{IMAGE}市")) and not LIVE.search(label)


def test_hostile_url_values_are_literal(hostile_lake, monkeypatch):
    app = open_page(hostile_lake, "county", monkeypatch, county=LINK)
    warning = app.warning[0].value
    assert not LIVE.search(warning) and fmt.md_text(LINK) in warning


def test_charts_escape_names_plotly_would_draw_as_html(hostile_lake, monkeypatch):
    app = open_page(hostile_lake, "risk", monkeypatch)
    data = chart_data(app)
    assert "&lt;img src=x onerror=alert(1)&gt;" in data and "<img" not in data


def test_exports_keep_names_as_text_and_neutralise_formulas():
    table = pd.DataFrame({"县区": [f"{LINK}0", f"{IMAGE}1", f"{FORMULA}2"], "库款余额（万元）": [1.0, 2.0, 3.0]})
    csv = to_csv_bytes(table).decode("utf-8-sig")
    assert f"{LINK}0" in csv and f"{IMAGE}1" in csv and "'=HYPERLINK(" in csv
    sheet = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(table))).active
    cells = [sheet.cell(row=r, column=1) for r in (2, 3, 4)]
    assert [c.value for c in cells[:2]] == [f"{LINK}0", f"{IMAGE}1"]
    assert cells[2].value == FORMULA + "2" and cells[2].data_type == "s" and cells[2].quotePrefix


@pytest.mark.browser
@pytest.mark.parametrize("path", ["overview", "county", "risk", "payroll"])
def test_no_live_link_or_image_in_the_browser(hostile_lake, tmp_path, browser, path):
    from tests.browser_support import running_app, wait_for_heading

    code = Lake(hostile_lake).read("counties")["county_code"].iloc[0]
    titles = {"overview": "总览", "county": "县区详情", "risk": "风险分级", "payroll": "工资保障"}
    with running_app(hostile_lake, tmp_path) as server:
        context = browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
        page = context.new_page()
        try:
            page.goto(f"{server.url}/{path}?county={code}")
            wait_for_heading(page, titles[path])
            if path != "overview":
                page.locator(".js-plotly-plot").first.wait_for()
            assert page.locator('a[href*="evil.example"]').count() == 0
            assert page.locator('img[src="x"]').count() == 0
            main = page.locator('[data-testid="stMain"]').inner_text()
            if path == "county":
                assert page.locator("h2", has_text=f"{LINK}0").count() == 1  # the name exactly as typed
            if path in ("overview", "county"):
                assert f"{LINK}" in main or f"{IMAGE}" in main
        finally:
            context.close()


def test_word_and_excel_documents_keep_hostile_names_as_text(hostile_lake, tmp_path):
    """The weekly brief (.docx, .xlsx, .html) and the prompt letters name counties as typed."""
    import shutil

    import docx

    from fiscal.cli import main

    lake = tmp_path / "lake"
    shutil.copytree(hostile_lake, lake)  # letters are registered in the lake
    assert main(["brief", "--data", str(lake), "--as-of", "2026-11-20", "--out", str(tmp_path / "b.docx")]) == 0
    assert main(["brief", "--data", str(lake), "--as-of", "2026-11-20", "--out", str(tmp_path / "b.xlsx")]) == 0
    assert main(["brief", "--data", str(lake), "--as-of", "2026-11-20", "--out", str(tmp_path / "b.html")]) == 0
    document = docx.Document(str(tmp_path / "b.docx"))
    words = "\n".join(cell.text for table in document.tables for row in table.rows for cell in row.cells)
    assert f"{LINK}" in words or f"{IMAGE}" in words  # literal text, never a field or a link
    assert not any(r.element.xpath(".//w:hyperlink | .//w:fldSimple") for p in document.paragraphs for r in p.runs)
    html_text = (tmp_path / "b.html").read_text(encoding="utf-8")
    assert "<img" not in html_text and "&lt;img src=x" in html_text or LINK in html_text
    cells = [c for row in openpyxl.load_workbook(tmp_path / "b.xlsx").worksheets[0].iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    out = tmp_path / "letters"
    assert main(["letters", "--data", str(lake), "--as-of", "2026-11-20", "--out", str(out)]) == 0
    for path in out.glob("*.docx"):
        text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
        assert any(name in text for name in (LINK, IMAGE, FORMULA))  # the name as typed, plain text
        assert not docx.Document(str(path)).element.xpath(".//w:hyperlink")
