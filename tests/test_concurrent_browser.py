"""Several sessions opening the dashboard at once, right after the server starts (as a load test does)."""
from __future__ import annotations

import pytest

from tests.browser_support import APP_TIMEOUT_MS, VIEWPORT, running_app, wait_for_heading

pytestmark = pytest.mark.browser

# The first requests of a fresh server, all at once: the router's pages-folder workaround
# switches a process-wide flag, so only one of them saw it on.
FIRST_VISITS = [("overview", "总览"), ("overview", "总览"), ("risk", "风险分级"), ("", "总览")]


def test_sessions_opening_pages_at_once_on_a_fresh_server_show_no_exception(demo_lake, browser, tmp_path):
    with running_app(demo_lake, tmp_path) as server:
        contexts = [browser.new_context(viewport=VIEWPORT, locale="zh-CN") for _ in FIRST_VISITS]
        try:
            tabs = [context.new_page() for context in contexts]
            for tab, (slug, _) in zip(tabs, FIRST_VISITS):
                tab.goto(f"{server.url}/{slug}", wait_until="commit")  # do not wait: the runs overlap
            for tab, (slug, title) in zip(tabs, FIRST_VISITS):
                tab.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                                      timeout=APP_TIMEOUT_MS)
                assert_no_exception(tab, slug)
                wait_for_heading(tab, title)
                assert_no_exception(tab, slug)
        finally:
            for context in contexts:
                context.close()


def assert_no_exception(tab, slug: str) -> None:
    shown = tab.locator('[data-testid="stException"]')
    assert shown.count() == 0, f"/{slug}: {shown.first.inner_text()}"
