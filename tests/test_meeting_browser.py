"""Meeting mode on a 1280×720 projector and the printed page, in a real browser: every page link
in the top bar, no table that loses columns off its right edge, no English or "None" on screen."""
from __future__ import annotations

import pytest

from tests.browser_support import wait_for_app

pytestmark = pytest.mark.browser

PROJECTOR = {"width": 1280, "height": 720}
PAGES = {"": "总览", "payroll": "工资保障", "revenue": "收入进度", "risk": "风险分级", "dispatch": "调度建议",
         "reporting": "报送情况"}

# Tables whose content is wider than their box (a grid scrolls sideways inside its scroller).
_CUT_TABLES = """() => [...document.querySelectorAll('.wrapped-table, [data-testid="stDataFrame"] .dvn-scroller')]
    .filter(t => t.checkVisibility() && t.scrollWidth > t.clientWidth + 1)
    .map(t => [...(t.closest('[data-testid="stDataFrame"]') || t).querySelectorAll('th')].map(h => h.innerText).join(" "))"""


@pytest.mark.parametrize("slug", PAGES)
def test_no_table_loses_columns_on_a_1600_screen(app_server, page, slug):
    page.set_viewport_size({"width": 1600, "height": 1000})
    page.goto(f"{app_server.url}/{slug}")
    page.locator("h1", has_text=PAGES[slug]).first.wait_for()
    wait_for_app(page)
    for grid in page.locator('[data-testid="stDataFrame"]').all():
        grid.scroll_into_view_if_needed()
    wait_for_app(page)
    assert page.evaluate(_CUT_TABLES) == []


@pytest.mark.parametrize("slug", PAGES)
def test_meeting_mode_fits_a_projector(app_server, page, slug):
    page.set_viewport_size(PROJECTOR)
    page.goto(f"{app_server.url}/{slug}?meeting=1")
    page.locator("h1", has_text=PAGES[slug]).first.wait_for()
    wait_for_app(page)
    nav = page.locator('[data-testid="stTopNav"]')
    assert nav.locator('[data-testid="stTopNavLink"]:visible').count() == 11  # every page
    assert nav.locator(".rc-overflow-item-rest:visible").count() == 0  # no overflow menu ("2 more")
    for grid in page.locator('[data-testid="stDataFrame"]').all():
        grid.scroll_into_view_if_needed()
    wait_for_app(page)
    assert page.evaluate(_CUT_TABLES) == []
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert not {"None", "nan", "NaN", "Page not found"} & set(text.split())


def test_printed_overview_holds_every_column_without_the_sidebar(app_server, page):
    page.goto(app_server.url)
    page.locator("h1", has_text="总览").first.wait_for()
    wait_for_app(page)
    counties = page.locator(".wrapped-table", has_text="风险原因").first
    assert counties.locator("th", has_text="详情").is_visible()
    assert not counties.locator("th", has_text="保障水平区间").is_visible()  # a column only printed
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1050, "height": 740})  # about an A4 landscape page
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert counties.locator("th", has_text="保障水平区间").is_visible() and "风险原因" in counties.inner_text()
    assert not counties.locator("th", has_text="详情").is_visible()  # a link means nothing on paper
    box, table = counties.bounding_box(), counties.locator("table").bounding_box()
    assert table["width"] <= box["width"] + 1  # no column cut off at the page edge
