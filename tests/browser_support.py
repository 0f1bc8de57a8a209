"""A live `streamlit run dashboard.py` and Debian's Chromium, for the browser tests.

Fixtures (import them into a test module: `from tests.browser_support import app_server, browser, page`):
- `demo_lake`: a 30-county demo lake in a temporary directory (built once per session);
- `app_server`: the dashboard serving `demo_lake` on a free localhost port;
- `browser` / `page`: Chromium (never a downloaded browser) and a fresh 1440×900 page.

`start_server(data_dir, …)` is there for tests that need their own lake (e.g. uploads).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STARTUP_TIMEOUT_S = 180  # the warm-up of a national-scale lake on a busy machine, then Streamlit's start
APP_TIMEOUT_MS = 60_000  # a cold national-scale page can take several seconds
VIEWPORT = {"width": 1440, "height": 900}


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path | None, log_dir: Path, *, policy: Path | None = None,
                 extra_env: dict[str, str] | None = None, port: int | None = None, script: Path | None = None) -> Server:
    """Start the dashboard on `port` (default: a free one) and wait until /_stcore/health
    answers ok (after the warm-up); or, given `script`, `streamlit run script` in the project's
    settings (a baseline app)."""
    port = port or free_port()
    env = {**os.environ, **(extra_env or {})}
    if data_dir is not None:
        env["FISCAL_DATA"] = str(data_dir)
    if policy is not None:
        env["FISCAL_POLICY"] = str(policy)
    log = log_dir / f"streamlit-{port}.log"
    # the server as `make run` starts it: warm-up first, then `streamlit run dashboard.py` (app/serve.py)
    launcher = ["app.serve"] if script is None else ["streamlit", "run", str(script)]
    command = [sys.executable, "-m", *launcher, "--server.port", str(port), "--server.headless=true",
               "--server.fileWatcherType=none", "--browser.gatherUsageStats=false", "--server.address=127.0.0.1"]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{server.output()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                if response.read().strip() == b"ok":
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise TimeoutError(f"streamlit did not become healthy within {STARTUP_TIMEOUT_S}s:\n{server.output()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


@contextmanager
def running_app(data_dir: Path | None, log_dir: Path, **options):
    server = start_server(data_dir, log_dir, **options)
    try:
        yield server
    finally:
        stop_server(server)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# True once nothing is still loading: no skeleton, every shown chart (app/chart.js) has drawn its SVG
# and every shown data grid its canvas and the accessible table behind it, which carries the
# cells' text (grids in a closed expander are not drawn).
PAINTED = """() => {
    const shown = id => [...document.querySelectorAll(`[data-testid="${id}"]`)].filter(e => e.checkVisibility());
    return !document.querySelector('[data-testid="stSkeleton"]')
        && shown('stBidiComponentRegular').every(c => c.querySelector('.fiscal-chart .main-svg'))
        && shown('stDataFrame').every(g => g.querySelector('canvas') && g.querySelector('table [role="columnheader"]'));
}"""

# Resolves once the main area's height is the same over two animation frames (charts resized).
_SETTLED = """async () => {
    const frame = () => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const height = () => document.querySelector('[data-testid="stMain"]')?.scrollHeight ?? 0;
    for (let last = -1, i = 0; height() !== last && i < 100; i++) { last = height(); await frame(); }
}"""


def wait_for_app(page, timeout: int = APP_TIMEOUT_MS) -> None:
    """Until the app is mounted, its script has finished running and its charts and grids are drawn."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_function(PAINTED, timeout=timeout)


def wait_for_heading(page, title: str, timeout: int = APP_TIMEOUT_MS) -> None:
    """Until the page's h1 reads `title` and the script has finished (after a navigation)."""
    page.locator("h1", has_text=title).first.wait_for(timeout=timeout)
    wait_for_app(page, timeout)


def screenshot(page, name: str) -> Path:
    """A screenshot of the whole page (the app scrolls inside its own container, so grow the viewport)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    height = page.evaluate(
        "() => Math.max(document.body.scrollHeight, ...[...document.querySelectorAll("
        "'[data-testid=\"stMain\"], [data-testid=\"stAppViewContainer\"]')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": min(int(height) + 40, 12_000)})
    page.evaluate(_SETTLED)
    page.wait_for_function(PAINTED, timeout=APP_TIMEOUT_MS)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)
    return path


# ---- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def demo_lake(tmp_path_factory) -> Path:
    from fiscal.demo import build_frames
    from fiscal.lake import Lake

    root = tmp_path_factory.mktemp("browser-lake") / "demo"
    Lake(root).replace_all(build_frames(counties=30, years=3), user="demo", operation="demo", note="演示数据")
    return root


@pytest.fixture(scope="session")
def app_server(demo_lake, tmp_path_factory):
    with running_app(demo_lake, tmp_path_factory.mktemp("streamlit-logs")) as server:
        yield server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()
