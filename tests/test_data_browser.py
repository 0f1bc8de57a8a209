"""数据管理 in a real browser: Debian's Chromium against a live `streamlit run dashboard.py`.

One server for the module, on its own copy of the demo lake, with two analyst accounts
(one of them gets locked), the audit log in a temporary folder and a 64 KiB upload limit
(so that "over the limit" needs no 50 MB file). Each test states the lake it expects
relative to what it finds, so the tests do not depend on their order. Screenshots go to
screenshots/ (git-ignored).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from fiscal.lake import Lake
from tests.browser_support import APP_TIMEOUT_MS, VIEWPORT, running_app, screenshot, wait_for_app, wait_for_heading
from tests.upload_support import ANALYST, PASSWORD, UPLOADS, add_analyst, build_demo, fingerprint

pytestmark = pytest.mark.browser

LOCKED_USER, LOCKED_PASSWORD = "待锁定", "another-password-9"
LIMIT = 64 * 1024
UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("data-browser")
    lake = build_demo(tmp / "lake")
    secrets = tmp / "secrets.toml"
    add_analyst(secrets)
    add_analyst(secrets, LOCKED_USER, LOCKED_PASSWORD)
    env = {"FISCAL_SECRETS": str(secrets), "FISCAL_AUDIT": str(tmp / "audit"), "FISCAL_MAX_UPLOAD_BYTES": str(LIMIT)}
    with running_app(lake, tmp, extra_env=env) as server:
        server.lake = Lake(lake)
        server.tmp = tmp
        yield server


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    context.set_default_timeout(APP_TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def open_data_page(page, site) -> None:
    """Start on 总览 (the dashboard's own entry) and follow its navigation to 数据管理."""
    page.goto(site.url)
    page.locator("h1", has_text="总览").wait_for()
    wait_for_app(page)
    nav(page, "数据管理")


def nav(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()
    page.locator("h1", has_text=title).first.wait_for()
    wait_for_app(page)


def sign_in(page, name: str = ANALYST, password: str = PASSWORD) -> None:
    page.get_by_label("用户名").fill(name)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


def upload(page, path: Path, expect: str) -> None:
    page.locator(UPLOAD_INPUT).set_input_files(str(path))
    page.get_by_text(expect).first.wait_for()
    wait_for_app(page)


def view_line(page) -> str:
    return page.locator(".view-line").first.inner_text()


def test_a_viewer_sees_versions_but_cannot_upload_or_roll_back(site, page):
    open_data_page(page, site)
    page.get_by_text("上传和导入需要分析员登录。", exact=True).wait_for()
    assert page.locator(UPLOAD_INPUT).count() == 0
    screenshot(page, "data_signed_out")
    page.get_by_role("tab", name="版本与回滚").click()
    page.get_by_text("回滚需要分析员登录。", exact=True).wait_for()
    assert page.get_by_role("button", name="回滚到所选版本…").count() == 0
    assert page.get_by_role("button", name="下载", exact=True).is_visible()
    page.get_by_role("tab", name="操作日志").click()
    page.get_by_text("操作日志仅对已登录的分析员显示。", exact=True).wait_for()


def test_wrong_password_then_lockout_that_a_new_session_still_sees(site, page, browser):  # noqa: F811
    open_data_page(page, site)
    sign_in(page, LOCKED_USER, "wrong-1")
    page.get_by_text("用户名或密码错误（再错 4 次将锁定 15 分钟）").wait_for()
    for attempt in range(2, 4):
        sign_in(page, LOCKED_USER, f"wrong-{attempt}")
        page.get_by_text(f"再错 {5 - attempt} 次").wait_for()
    sign_in(page, LOCKED_USER, "wrong-4")  # this browser is throttled; the account is not locked by it alone
    page.get_by_text(re.compile("本机登录失败次数过多，已暂停登录，请于 .*再试")).wait_for()
    other = browser.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
    try:
        other.set_default_timeout(APP_TIMEOUT_MS)
        open_data_page(other, site)
        sign_in(other, LOCKED_USER, "wrong-5")  # a second client: the fifth failure locks the account
        other.get_by_text("连续 5 次登录失败，账户已锁定 15 分钟").wait_for()
        screenshot(other, "data_locked")
        sign_in(other, LOCKED_USER, LOCKED_PASSWORD)
        other.get_by_text(re.compile("账户已锁定，请于 .*再试")).wait_for()
        assert other.locator(UPLOAD_INPUT).count() == 0
    finally:
        other.context.close()


def test_good_upload_preview_commit_and_the_dashboards_show_it(site, page):
    page.goto(site.url)
    page.locator("h1", has_text="总览").wait_for()
    wait_for_app(page)
    before_line = view_line(page)
    latest_before = site.lake.snapshot()
    nav(page, "数据管理")
    sign_in(page)
    page.get_by_text(f"已登录分析员：{ANALYST}").wait_for()
    screenshot(page, "data_signed_in")
    before = fingerprint(site.lake.root)
    upload(page, UPLOADS / "good_treasury.csv", "导入前预览")
    page.get_by_text("日期范围：2026-11-20 至 2026-11-21").wait_for()
    screenshot(page, "data_preview")
    assert fingerprint(site.lake.root) == before  # the preview wrote nothing
    page.get_by_role("button", name="确认导入（生成新版本）").click()
    page.get_by_text(re.compile(r"已导入「good_treasury.csv」：库款日报 3 行.*新版本 \d+")).wait_for()
    wait_for_app(page)
    assert site.lake.snapshot().key != latest_before.key
    nav(page, "总览")
    page.wait_for_function("() => document.querySelector('.view-line')?.innerText.includes('截至 2026-11-21')")
    assert "截至 2026-11-20" in before_line and "截至 2026-11-21" in view_line(page)
    assert "库款日报 2026-11-21" in page.locator(".freshness").first.inner_text()
    screenshot(page, "data_overview_after_upload")


@pytest.mark.parametrize("name, message", [
    ("text_amount.csv", "不是有效的数字"),
    ("corrupt.xlsx", "文件已损坏或不是有效的 Excel（.xlsx）文件，无法打开"),
])
def test_bad_upload_lists_the_errors_and_leaves_the_lake_byte_identical(site, page, name, message):
    open_data_page(page, site)
    sign_in(page)
    page.get_by_text(f"已登录分析员：{ANALYST}").wait_for()
    before = fingerprint(site.lake.root)
    upload(page, UPLOADS / name, "发现 1 个错误，整个文件不能导入")
    grid = page.locator('[data-testid="stDataFrame"]').first
    assert grid.is_visible()
    assert page.get_by_role("button", name="确认导入（生成新版本）").count() == 0
    assert page.get_by_role("button", name="下载检查报告（CSV）").is_visible()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载检查报告（CSV）").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert message in report and report.splitlines()[0] == "级别,行,列,值,问题"
    if name == "text_amount.csv":
        screenshot(page, "data_error_report")
    assert fingerprint(site.lake.root) == before


def test_a_file_over_the_limit_is_refused_by_the_server(site, page):
    open_data_page(page, site)
    sign_in(page)
    page.get_by_text(f"已登录分析员：{ANALYST}").wait_for()
    # The uploader speaks Chinese: its English texts are replaced (shown through ::after).
    page.locator('[data-testid="stFileUploaderDropzoneInstructions"] span').first.wait_for()
    shown = page.evaluate("""() => [
        '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] p',
        '[data-testid="stFileUploaderDropzoneInstructions"] span'].map(s => {
            const e = document.querySelector(s);
            return [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content];
        })""")
    assert shown == [["0px", '"选择文件"'], ["0px", '"或将文件拖放到此处"']]
    before = fingerprint(site.lake.root)
    big = site.tmp / "big.csv"
    big.write_bytes((UPLOADS / "good_treasury.csv").read_bytes() + b"\n" * (LIMIT + 1000))
    upload(page, big, "发现 1 个错误，整个文件不能导入")
    # The report grid draws on a canvas; its accessible cells carry the text.
    page.locator('[data-testid="stDataFrame"]').first.scroll_into_view_if_needed()
    cell = page.locator('[role="gridcell"]', has_text="文件大小 65.2 KB，超过上限 64.0 KB，请拆分后分批上传")
    assert cell.count() == 1
    assert fingerprint(site.lake.root) == before


def payroll_account_freshness(page) -> str:
    """"工资专户余额 YYYY-MM-DD" from 总览's data-freshness line."""
    text = page.locator(".freshness").first.inner_text()
    return re.search(r"工资专户余额 \S+", text)[0]


def test_rollback_needs_confirmation_and_the_dashboards_follow(site, page):
    page.goto(site.url)
    page.locator("h1", has_text="总览").wait_for()
    wait_for_app(page)
    before = payroll_account_freshness(page)
    assert before != "工资专户余额 2026-11-21"
    nav(page, "数据管理")
    sign_in(page)
    page.get_by_text(f"已登录分析员：{ANALYST}").wait_for()
    upload(page, UPLOADS / "payroll_account.csv", "导入前预览")
    page.get_by_role("button", name="确认导入（生成新版本）").click()
    page.get_by_text("已导入「payroll_account.csv」").wait_for()
    wait_for_app(page)
    committed = site.lake.lake_version()
    nav(page, "总览")
    assert payroll_account_freshness(page) == "工资专户余额 2026-11-21"
    nav(page, "数据管理")
    page.get_by_role("tab", name="版本与回滚").click()
    page.get_by_role("button", name="回滚到所选版本…").click()
    page.get_by_text(f"确认回滚：各类上报数据将恢复到版本 {committed - 1}").wait_for()
    wait_for_app(page)
    screenshot(page, "data_rollback_confirm")
    assert site.lake.lake_version() == committed  # not before the confirmation
    page.get_by_role("button", name="确认回滚", exact=True).click()
    page.get_by_text(f"已回滚到版本 {committed - 1}，新版本 {committed + 1}").wait_for()
    wait_for_app(page)
    assert site.lake.lake_version() == committed + 1
    page.get_by_role("tab", name="版本与回滚").click()
    screenshot(page, "data_versions")
    page.get_by_role("tab", name="操作日志").click()
    screenshot(page, "data_audit_log")
    nav(page, "总览")
    assert payroll_account_freshness(page) == before


def test_a_fresh_server_opened_at_data_runs_through_the_router(tmp_path, page):
    """The first request of a new server is a deep link to /data: the page must still get the
    dashboard's shared sidebar and navigation, not run alone as a pages-folder script."""
    with running_app(build_demo(tmp_path / "lake"), tmp_path, extra_env={"FISCAL_AUDIT": str(tmp_path / "audit")}) as fresh:
        page.goto(f"{fresh.url}/data")
        wait_for_heading(page, "数据管理")
        assert page.locator('[data-testid="stSidebarNav"] a', has_text="总览").count() == 1
        assert page.get_by_role("button", name="截至 2026-11-20 · 全部地市").first.is_visible()  # the view's choices
        assert page.locator('[data-testid="stException"]').count() == 0
