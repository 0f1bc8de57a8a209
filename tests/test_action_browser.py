"""调度建议, 提示函 and 周调度简报 in a real browser: a new user sees who needs cash, an analyst
issues this month's letters and downloads them as one .zip of Word files, and the weekly brief
downloads as Word and Excel. Screenshots go to screenshots/ (git-ignored)."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
from docx import Document
from openpyxl import load_workbook

from fiscal.audit import AuditLog
from fiscal.demo import DEMO_END
from fiscal.lake import Lake
from tests.browser_support import running_app, screenshot, wait_for_app
from tests.test_cli import fiscal
from tests.test_data_browser import nav, page, sign_in  # noqa: F401 (page: a tab with its timeouts)
from tests.upload_support import ANALYST, add_analyst, build_demo

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("action-browser")
    lake = build_demo(tmp / "lake")
    secrets = tmp / "secrets.toml"
    add_analyst(secrets)
    env = {"FISCAL_SECRETS": str(secrets), "FISCAL_AUDIT": str(tmp / "audit")}
    with running_app(lake, tmp, extra_env=env) as server:
        server.lake = Lake(lake)
        server.audit = AuditLog(tmp / "audit")
        yield server


def open_page(page, site, title: str) -> str:
    page.goto(site.url)
    page.locator("h1", has_text="总览").wait_for()
    wait_for_app(page)
    nav(page, title)
    assert page.locator('[data-testid="stException"]').count() == 0
    return page.locator('[data-testid="stMain"]').inner_text()


def download(page, button_name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=button_name).click()
    return open(info.value.path(), "rb").read()


def test_dispatch_page_shows_who_needs_cash(site, page):
    main = open_page(page, site, "调度建议")
    suggestions = json.loads(fiscal("dispatch", "--data", site.lake.root, "--as-of", DEMO_END.isoformat()).stdout)
    needing = [s for s in suggestions if s["dispatch_need"] > 0]
    total = sum(s["dispatch_need"] for s in needing)
    assert f"{len(needing)} 个县区" in main
    assert f"{total:,.2f} 万元" in main  # one unit everywhere
    page.locator(".js-plotly-plot").first.wait_for()
    screenshot(page, "dispatch")


def test_an_analyst_issues_the_letters_and_downloads_them(site, page):
    main = open_page(page, site, "提示函")
    assert "签发提示函（编文号、登记、留痕）需要分析员登录" in main
    sign_in(page)
    page.get_by_role("button", name="签发本月提示函", exact=False).click()
    page.get_by_text("已签发提示函").first.wait_for()
    wait_for_app(page)
    register = site.lake.read("letters")
    assert len(register) > 0 and set(register["user"]) == {ANALYST}
    assert site.audit.read(5)[0]["event"] == "letters_issued" and site.audit.read(5)[0]["via"] == "dashboard"
    screenshot(page, "letters")

    archive = zipfile.ZipFile(io.BytesIO(download(page, "下载全部")))
    assert sorted(archive.namelist()) == sorted(register["file_name"])
    first = register.sort_values("sequence").iloc[0]
    text = [p.text for p in Document(io.BytesIO(archive.read(first["file_name"]))).paragraphs]
    assert first["number"] in text and f"{first['county_name']}财政局：" in text

    # issuing again in the same month with unchanged data adds no number
    page.get_by_role("button", name="签发本月提示函", exact=False).click()
    page.get_by_text("数据未变").first.wait_for()
    assert len(site.lake.read("letters")) == len(register)


def test_the_weekly_brief_downloads_as_word_and_excel(site, page):
    main = open_page(page, site, "周调度简报")
    for title in ("一、风险等级概况", "三、重点关注名单", "七、调度建议", "八、本月提示函"):
        assert title in main
    screenshot(page, "brief")
    word = Document(io.BytesIO(download(page, "Word")))
    assert any("周调度简报" in p.text for p in word.paragraphs)
    workbook = load_workbook(io.BytesIO(download(page, "Excel")))
    assert workbook.sheetnames[:3] == ["概要", "风险等级概况", "本周等级变化"]
