"""The 重点关注 list and the 工作台账 in a real browser (Debian's Chromium, live server): an
analyst adds a county with a reason and sees it as 人工, records a measure; a viewer cannot edit;
meeting mode shows the open measures. Screenshots go to screenshots/ (git-ignored)."""
from __future__ import annotations

import datetime as dt

import pytest

from fiscal.audit import AuditLog
from fiscal.lake import Lake
from fiscal.service import WriteService
from tests.browser_support import APP_TIMEOUT_MS, running_app, screenshot, wait_for_app, wait_for_heading
from tests.upload_support import ANALYST, PASSWORD, add_analyst, build_demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bureau-browser")
    lake = build_demo(tmp / "lake")
    secrets = tmp / "secrets.toml"
    add_analyst(secrets)
    service = WriteService(Lake(lake), AuditLog(tmp / "audit"))
    # a tier-3 county's measures, one overdue, for meeting mode
    service.add_measure("990207", "申请省级调度资金", "国库科", dt.date(2099, 1, 15), user="张三")
    service.add_measure("990207", "约谈县财政局主要负责人", "预算科", dt.date(2020, 1, 10), user="张三")
    env = {"FISCAL_SECRETS": str(secrets), "FISCAL_AUDIT": str(tmp / "audit")}
    with running_app(lake, tmp, extra_env=env) as server:
        server.lake = Lake(lake)
        server.log = AuditLog(tmp / "audit")
        yield server


@pytest.fixture(autouse=True)
def patient(page):
    page.set_default_timeout(APP_TIMEOUT_MS)  # a cold page and a write take a few seconds


def nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
    wait_for_heading(page, title)


def choose(page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label."""
    box = page.locator('[data-testid="stSelectbox"]', has=page.get_by_text(label, exact=True)).first
    box.click()
    page.keyboard.type(option)  # long lists are virtualised: filter first
    page.get_by_role("option", name=option).first.click()


def cell(page, text: str):
    """A cell of a list on the page (an HTML table) by its text."""
    return page.locator(".wrapped-table td", has_text=text)


def test_an_analyst_adds_a_county_and_records_a_measure(site, page):
    page.goto(site.url)
    wait_for_heading(page, "总览")
    nav(page, "数据管理")
    page.get_by_label("用户名").fill(ANALYST)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text(f"已登录分析员：{ANALYST}").wait_for()

    nav(page, "风险分级")
    choose(page, "县区", "演示县03（演示甲市）")
    page.get_by_label("理由（必填）").fill("收入大幅下滑，需重点跟踪")
    page.get_by_role("button", name="保存调整").click()
    page.get_by_text("已列入：演示县03（演示甲市）").wait_for()
    wait_for_app(page)
    row = page.locator(".wrapped-table tr", has_text="收入大幅下滑，需重点跟踪").first  # the list: reasons wrap
    row.wait_for()
    assert "人工" in row.inner_text() and ANALYST in row.inner_text()
    screenshot(page, "risk_focus_manual")

    nav(page, "县区详情")
    choose(page, "市", "演示甲市")  # the city first, then one of its counties
    choose(page, "县区", "演示县03")
    wait_for_app(page)
    page.get_by_text("在名单上：人工列入").wait_for()
    page.get_by_label("措施（必填）").fill("压减一般性支出 10%")
    page.get_by_label("责任人（必填）").fill("预算科 王")
    page.get_by_role("button", name="保存措施").click()
    page.get_by_text("已记录措施").wait_for()
    wait_for_app(page)
    cell(page, "压减一般性支出 10%").first.wait_for()
    screenshot(page, "county_ledger")

    events = [(r["event"], r["user"], r["via"]) for r in site.log.read()[:2]]
    assert events == [("ledger_entry", ANALYST, "dashboard"), ("focus_entry", ANALYST, "dashboard")]


def test_a_viewer_cannot_edit(site, page):
    page.goto(f"{site.url}/risk")
    wait_for_heading(page, "风险分级")
    page.get_by_text("修改需要分析员登录。").first.wait_for()
    assert page.get_by_role("button", name="保存调整").count() == 0
    assert page.get_by_label("理由（必填）").count() == 0


def test_meeting_mode_shows_the_open_measures_overdue_first(site, page):
    page.goto(f"{site.url}/risk?meeting=1")
    wait_for_heading(page, "风险分级")
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    overdue = cell(page, "约谈县财政局主要负责人").first
    overdue.wait_for()
    measures = page.locator(".wrapped-table", has_text="约谈县财政局主要负责人").first.locator("tbody tr")
    assert "已逾期" in measures.nth(0).inner_text() and "约谈县财政局主要负责人" in measures.nth(0).inner_text()
    assert "未开始" in measures.filter(has_text="申请省级调度资金").first.inner_text()
    assert page.get_by_role("button", name="保存调整").count() == 0
    screenshot(page, "risk_meeting_ledger")
