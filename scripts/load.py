"""Page times in a real browser, then a load test: concurrent sessions walking every page.

    .venv/bin/python scripts/load.py [--lake build/national] [--sessions 10] [--rounds 1]

Starts `streamlit run dashboard.py` on a free localhost port (the lake from --lake), then
one Chromium (Debian's, never a downloaded one). A session opens the overview by its
address, then moves from page to page by the sidebar's links, as a reader does (a rerun of
the page in the same session, not a new session per page). First one session walks every
page twice: the first visit after the server started (nothing computed yet for this lake
version) and a second visit, each with the server's CPU seconds. Then --sessions browser
contexts; every session opens the overview (warm-up, not counted), then walks every page
--rounds times. A page counts as loaded when its heading is shown, Streamlit's
script is idle (data-test-script-state="notRunning"), its charts and grids are drawn and no
exception box is shown. Everything is
bounded: at most 20 sessions, a timeout per page and one for the whole run; the server
and the browser are stopped at the end whatever happens.

Prints p50 / p95 / max page time, errors, and the server's own CPU seconds per page load
(user + system ticks of the server process from /proc/<pid>/stat, before and after the
walk): on a 2-core machine the browser takes most of the CPU, so the server's share is
the figure the code controls.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, PAINTED, VIEWPORT, start_server, stop_server  # noqa: E402

PAGES = {"overview": "总览", "payroll": "工资保障", "treasury": "库款保障", "revenue": "收入进度", "risk": "风险分级",
         "county": "县区详情", "dispatch": "调度建议", "letters": "提示函", "brief": "周调度简报", "reporting": "报送情况",
         "data": "数据管理"}
MAX_SESSIONS = 20
PAGE_TIMEOUT_MS = 120_000
RUN_TIMEOUT_S = 1800


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its waited-for children), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


async def open_app(page, base: str) -> float:
    """Open the overview by its address (a new session); seconds until it is drawn."""
    start = time.perf_counter()
    await page.goto(f"{base}/overview", timeout=PAGE_TIMEOUT_MS)
    await drawn(page, PAGES["overview"])
    return time.perf_counter() - start


async def visit(page, name: str) -> float:
    """Go to a page by its sidebar link; seconds until it is drawn."""
    start = time.perf_counter()
    await page.locator('[data-testid="stSidebarNavLink"]', has_text=PAGES[name]).first.click(timeout=PAGE_TIMEOUT_MS)
    await drawn(page, PAGES[name])
    return time.perf_counter() - start


async def drawn(page, title: str) -> None:
    await page.locator("h1", has_text=title).first.wait_for(timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=PAGE_TIMEOUT_MS)
    await page.wait_for_function(PAINTED, timeout=PAGE_TIMEOUT_MS)
    if await page.locator('[data-testid="stException"]').count():
        raise RuntimeError(f"exception shown on {title}")


async def first_and_second_visits(browser, base: str, server_pid: int) -> None:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    rows = []
    try:
        cpu = cpu_seconds(server_pid)
        opened = await open_app(page, base)
        rows.append(("first", "overview", opened, cpu_seconds(server_pid) - cpu))
        for visit_name in ("first", "second"):
            for name in PAGES:
                if (visit_name, name) == ("first", "overview"):
                    continue
                cpu = cpu_seconds(server_pid)
                seconds = await visit(page, name)
                rows.append((visit_name, name, seconds, cpu_seconds(server_pid) - cpu))
    finally:
        await context.close()
    print(f"one session, every page: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'page':<10}{'first visit':>12}{'server CPU':>12}{'second visit':>14}{'server CPU':>12}")
    first = {name: (s, c) for v, name, s, c in rows if v == "first"}
    second = {name: (s, c) for v, name, s, c in rows if v == "second"}
    for name in PAGES:
        print(f"{name:<10}{first[name][0]:>11.2f}s{first[name][1]:>11.2f}s{second[name][0]:>13.2f}s{second[name][1]:>11.2f}s")
    print(f"{'max':<10}{max(s for s, _ in first.values()):>11.2f}s{'':>12}{max(s for s, _ in second.values()):>13.2f}s\n")


async def session(browser, base: str, rounds: int, times: list[float], errors: list[str], warm: asyncio.Barrier):
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    try:
        try:
            await open_app(page, base)
        except Exception as exc:  # noqa: BLE001 (counted, reported)
            errors.append(f"warm-up: {exc}")
        await warm.wait()  # every session starts walking at once
        walk_order = [*list(PAGES)[1:], "overview"]  # the session starts on the overview
        for _ in range(rounds):
            for name in walk_order:
                try:
                    times.append(await visit(page, name))
                except Exception as exc:  # noqa: BLE001
                    errors.append(f"{name}: {str(exc).splitlines()[0]}")
                    print("error:", errors[-1], flush=True)
    finally:
        await context.close()


async def walk(base: str, sessions: int, rounds: int, server_pid: int) -> None:
    from playwright.async_api import async_playwright

    times: list[float] = []
    errors: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            await first_and_second_visits(browser, base, server_pid)
            warm = asyncio.Barrier(sessions + 1)
            tasks = [asyncio.create_task(session(browser, base, rounds, times, errors, warm)) for _ in range(sessions)]
            await warm.wait()
            cpu_before, start = cpu_seconds(server_pid), time.perf_counter()
            await asyncio.gather(*tasks)
            wall, cpu = time.perf_counter() - start, cpu_seconds(server_pid) - cpu_before
        finally:
            await browser.close()
    loads = len(times) + sum(not e.startswith("warm-up") for e in errors)
    print(f"{sessions} sessions × {rounds} round(s) × {len(PAGES)} pages: {len(times)} page loads in {wall:.1f} s, "
          f"{len(errors)} errors; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if times:
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(f"page time  p50 {statistics.median(ordered):.2f} s  p95 {p95:.2f} s  max {ordered[-1]:.2f} s")
    print(f"server CPU {cpu:.1f} s = {cpu / max(loads, 1):.3f} s per page load")
    for error in errors[:20]:
        print("error:", error)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, default=ROOT / "build" / "national")
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    sessions = max(1, min(args.sessions, MAX_SESSIONS))
    with tempfile.TemporaryDirectory(prefix="fiscal-load-") as logs:
        server = start_server(args.lake.resolve(), Path(logs))
        try:
            asyncio.run(asyncio.wait_for(walk(server.url, sessions, args.rounds, server.process.pid), RUN_TIMEOUT_S))
        finally:
            stop_server(server)


if __name__ == "__main__":
    main()
