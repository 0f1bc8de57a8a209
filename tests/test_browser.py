"""The dashboard in a real browser: every page, meeting mode, county links. Screenshots go to screenshots/."""
from __future__ import annotations

import re

import pytest

from fiscal.demo import DEMO_END, build_frames
from fiscal.lake import Lake
from tests.browser_support import running_app, screenshot, wait_for_app, wait_for_heading

pytestmark = pytest.mark.browser

PAGES = [("overview", "总览"), ("payroll", "工资保障"), ("treasury", "库款保障"), ("revenue", "收入进度"),
         ("risk", "风险分级"), ("county", "县区详情")]
CHART_PAGES = {"payroll", "treasury", "revenue", "risk", "county"}


def assert_healthy(page, title: str) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator("body").inner_text()[:2000]
    assert page.locator("h1", has_text=title).first.is_visible()


def test_shared_county_link(app_server, demo_lake, page):
    """First in the file, so that on a fresh server the first request is this deep link."""
    counties = Lake(demo_lake).read("counties").sort_values("county_code")
    code, name = counties.iloc[5][["county_code", "county_name"]]
    page.goto(f"{app_server.url}/county?county={code}&as_of=2026-10-31")
    wait_for_heading(page, "县区详情")
    assert_healthy(page, "县区详情")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert name in main and "截至 2026-10-31" in main
    assert f"county={code}" in page.url


def test_every_page_renders(app_server, page):
    page.goto(app_server.url)
    wait_for_heading(page, "总览")
    for slug, title in PAGES:
        page.locator('[data-testid="stSidebarNavLink"]', has_text=title).click()
        wait_for_heading(page, title)
        assert_healthy(page, title)
        assert f"截至 {DEMO_END:%Y-%m-%d}" in page.locator('[data-testid="stMain"]').inner_text()
        if slug in CHART_PAGES:
            page.locator(".js-plotly-plot").first.wait_for()
        screenshot(page, slug)


def test_the_chosen_date_and_city_hold_from_page_to_page(app_server, page):
    """截至日期 and 地市 are in a popover, drawn only when opened: the choices of a link hold on every
    page the reader then moves to, and the view button names them."""
    page.goto(f"{app_server.url}/?as_of=2026-10-31&city=演示甲市")
    wait_for_heading(page, "总览")
    for title in ("工资保障", "库款保障", "风险分级", "总览"):
        page.locator('[data-testid="stSidebarNavLink"]', has_text=title).click()
        wait_for_heading(page, title)
        wait_for_app(page)
        assert page.locator(".view-line").inner_text().startswith("截至 2026-10-31 · 演示甲市"), title
        assert page.get_by_role("button", name="截至 2026-10-31 · 演示甲市").is_visible()


def test_meeting_mode_hides_the_sidebar_and_keeps_the_choices(app_server, page):
    page.goto(f"{app_server.url}/risk?as_of=2026-10-31")
    wait_for_heading(page, "风险分级")
    page.get_by_role("switch", name="会议模式").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="退出会议模式").wait_for()
    wait_for_app(page)
    assert "meeting=1" in page.url
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.locator('[data-testid="stTopNav"]').is_visible()
    for slug, title in PAGES:
        page.locator('[data-testid="stTopNav"] a', has_text=title).first.click()
        wait_for_heading(page, title)
        assert_healthy(page, title)
        assert "截至 2026-10-31" in page.locator('[data-testid="stMain"]').inner_text()
        assert "meeting=1" in page.url and "as_of=2026-10-31" in page.url
        screenshot(page, f"{slug}_meeting")
    page.get_by_role("button", name="退出会议模式").click()
    page.locator('[data-testid="stSidebar"]').wait_for()
    wait_for_app(page)
    assert "meeting=1" not in page.url


def test_county_link_opens_county_detail(app_server, page):
    page.goto(app_server.url)
    wait_for_heading(page, "总览")
    link = page.locator(".county-links a", has_text="演示县").first
    name = link.inner_text().split("（")[0].split()[-1]
    link.click()
    wait_for_heading(page, "县区详情")
    assert_healthy(page, "县区详情")
    assert "county=" in page.url
    assert page.locator("h2", has_text=name).first.is_visible()
    screenshot(page, "county_from_link")


@pytest.mark.parametrize("path", ["/", "/overview", "/overview?as_of=2026-10-31&meeting=1", "/?as_of=2026-10-31"])
def test_the_overview_is_the_root_and_keeps_its_old_address(app_server, page, path):
    """The root is the overview; /overview, in links shared before, opens it there with the link's
    choices (no "Page not found" dialog)."""
    page.goto(f"{app_server.url}{path}")
    wait_for_heading(page, "总览")
    page.wait_for_url(re.compile(r"^http://[^/]+/(\?.*)?$"))
    assert "Page not found" not in page.locator("body").inner_text()
    if "as_of" in path:
        assert "截至 2026-10-31" in page.locator('[data-testid="stMain"]').inner_text()
        assert ("meeting=1" in page.url) == ("meeting" in path)


def test_a_long_list_shows_its_first_rows_then_every_row_in_a_grid(tmp_path, page):
    """120 counties: 报送情况 shows the first 50 as an HTML table; 显示全部 draws all 120 in a data
    grid (it scrolls and sorts them), and the page still holds a whole table for paper."""
    root = tmp_path / "wide"
    Lake(root).replace_all(build_frames(counties=120, years=1), user="demo", operation="demo")
    with running_app(root, tmp_path) as server:
        page.goto(f"{server.url}/reporting")
        wait_for_heading(page, "报送情况")
        assert page.locator(".wrapped-table tbody tr").count() == 50
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
        page.get_by_text("显示全部 120 个县区").click()
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
        wait_for_app(page)
        assert page.locator('[data-testid="stDataFrame"] [role="grid"]').first.get_attribute("aria-rowcount") == "121"
        assert page.locator(".wrapped-table").count() == 0
        assert page.locator(".print-table tbody tr").count() == 120
