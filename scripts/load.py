"""Page times in a real browser, then a load test: concurrent sessions walking every page.

    .venv/bin/python scripts/load.py [--lake build/national] [--sessions 10] [--rounds 1] [--no-warmup]

Copies the lake from --lake to a temporary directory (it gets a new version below; the
original is only read) and starts the server on the copy as `make run` does (app/serve.py:
the warm-up, then `streamlit run dashboard.py`; --no-warmup: FISCAL_WARMUP=0), timing its
start until /_stcore/health answers. Then one Chromium (Debian's, never a downloaded one).
A session opens the app's address (the overview, at the root), then moves from page to
page by the sidebar's links, as a reader does (a rerun of the page in the same session, not
a new session per page). First one session walks every page twice: the first visit after the server started
and a second visit, each with the server's CPU seconds, in the returning reader's browser
(below) just opened. The server is started STARTS times for these two walks (stopped in
between, the browser closed): the figures are the medians, since a single page time on this
machine moves by ±0.3 s from one minute to the next. Then, STARTS times, the command line
commits a new lake version (`fiscal ingest` of one treasury row: the latest day of one
county, its balance 1 % higher); NEW_VERSION_WAIT_S later — or later still, once the
server's log says it has warmed that version — a new session visits every page: the first
visit after a new lake version (medians again). These sessions are a returning reader's:
before the server starts, the same browser (its profile kept on disk) visited every page of
a server on the same address and the small demo lake, as a reader did on an earlier day, so
it holds Streamlit's own files (some 5 MB of JavaScript, cached for a year) and the code
compiled from them. Last, a session in a browser that has never loaded anything walks every
page (the server warm by then): what a reader's very first visit adds. As a baseline from
the same run, before each server start: an app of one heading (`streamlit run` of a two-line
script, the project's settings) on the same address, its first visit in the returning
reader's browser just opened — the least any first visit takes, Streamlit's own start in the
browser. Then --sessions browser contexts (0: none) each open the overview (not counted) and
walk every page --rounds times. A page counts as loaded when its heading is shown,
Streamlit's script is idle (data-test-script-state="notRunning"), its charts and grids are
drawn and no exception box is shown. Everything is bounded: at most 20 sessions, a timeout
per page and one for the whole run; the server and the browser are stopped at the end
whatever happens.

Prints p50 / p95 / max page time, errors, and the server's own CPU seconds per page load
(user + system ticks of the server process from /proc/<pid>/stat, before and after the
walk): on a 2-core machine the browser takes most of the CPU, so the server's share is
the figure the code controls.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fiscal.settings import DEMO_LAKE  # noqa: E402
from tests.browser_support import (CHROMIUM, CHROMIUM_ARGS, PAINTED, VIEWPORT, free_port, start_server,  # noqa: E402
                                   stop_server)

PAGES = {"overview": "总览", "payroll": "工资保障", "treasury": "库款保障", "revenue": "收入进度", "risk": "风险分级",
         "county": "县区详情", "dispatch": "调度建议", "letters": "提示函", "brief": "周调度简报", "reporting": "报送情况",
         "data": "数据管理"}
MAX_SESSIONS = 20
PAGE_TIMEOUT_MS = 120_000
RUN_TIMEOUT_S = 1800
STARTS = 3  # server starts (first and second visits) and new lake versions whose page times give the medians
BASELINE_TITLE = "基线"
BASELINE_APP = f'import streamlit as st\n\nst.title("{BASELINE_TITLE}")\n'
NEW_VERSION_WAIT_S = 5  # "a few seconds" after the commit, as a reader would come back
WARMED_WAIT_S = 180  # the longest wait for the server's warm-up of the new version
WARMED_LINE = "预热完成"  # app/warmup.py logs this once a version is warm


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its waited-for children), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


async def open_app(page, base: str) -> float:
    """Open the app's address, where the overview is (a new session); seconds until it is drawn."""
    start = time.perf_counter()
    await page.goto(base, timeout=PAGE_TIMEOUT_MS)
    await drawn(page, PAGES["overview"])
    return time.perf_counter() - start


async def streamlit_floor(profile: Path, port: int, logs: Path) -> float:
    """Close to the floor under any first visit: an app of one heading served on `port`, opened in
    the returning reader's browser just launched (as the first visit after the server starts)."""
    from playwright.async_api import async_playwright

    script = logs / "baseline_app.py"
    script.write_text(BASELINE_APP, encoding="utf-8")
    server = start_server(None, logs, port=port, script=script)
    try:
        async with async_playwright() as playwright:
            context = await returning_browser(playwright, profile)
            try:
                page = await context.new_page()
                start = time.perf_counter()
                await page.goto(server.url, timeout=PAGE_TIMEOUT_MS)
                await drawn(page, BASELINE_TITLE)
                return time.perf_counter() - start
            finally:
                await context.close()
    finally:
        stop_server(server)


async def first_and_second_visits(server, profile: Path) -> tuple[dict, dict]:
    """One session in the returning reader's browser just opened walks every page twice."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        returning = await returning_browser(playwright, profile)
        try:
            first, second = await walk_every_page(returning, server.url, server.process.pid, walks=2)
        finally:
            await returning.close()
    return first, second


def medians(walks: list[dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    """Per page, the median seconds and the median server CPU seconds of several walks."""
    return {name: (statistics.median(w[name][0] for w in walks), statistics.median(w[name][1] for w in walks))
            for name in walks[0]}


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


async def walk_every_page(context, base: str, server_pid: int, walks: int = 1) -> list[dict[str, tuple[float, float]]]:
    """A new session (a new tab of `context`) opens the app's address (the overview) and visits
    every other page by the sidebar's links, `walks` times over; per walk, each page's seconds
    and server CPU seconds."""
    page = await context.new_page()
    walked = []
    try:
        for walk_number in range(walks):
            visits = {}
            for name in PAGES:
                cpu = cpu_seconds(server_pid)
                opening = walk_number == 0 and name == "overview"
                seconds = await (open_app(page, base) if opening else visit(page, name))
                visits[name] = (seconds, cpu_seconds(server_pid) - cpu)
            walked.append(visits)
    finally:
        await page.close()
    return walked


async def visit_on_an_earlier_day(profile: Path, demo_lake: Path, port: int, logs: Path) -> None:
    """What a returning reader's browser holds: Streamlit's own files (some 5 MB of JavaScript
    that it caches for a year) and the code compiled from them, which Chromium keeps from a
    file's second load on. A server on the same address, on the small demo lake, is visited
    page by page in two sessions one after the other (as on two earlier days) in a browser
    that keeps `profile`, then stopped; the browser is closed too. The measured server starts
    afterwards."""
    from playwright.async_api import async_playwright

    server = start_server(demo_lake, logs, extra_env={"FISCAL_WARMUP": "0"}, port=port)
    try:
        async with async_playwright() as playwright:
            context = await returning_browser(playwright, profile)
            try:
                for _ in range(2):
                    await walk_every_page(context, server.url, server.process.pid)
            finally:
                await context.close()
    finally:
        stop_server(server)


async def returning_browser(playwright, profile: Path):
    return await playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, viewport=VIEWPORT)


async def new_version(lake: Path, server, warming: bool) -> float:
    """Commit a new lake version with the command line; return once the server has warmed it
    (its log says so), and not before NEW_VERSION_WAIT_S. Seconds from the commit to then."""
    warmed_before = server.output().count(WARMED_LINE)
    extract = lake.parent / "库款更正.csv"
    extract.write_text(treasury_correction(lake), encoding="utf-8")
    await asyncio.to_thread(subprocess.run, [
        sys.executable, "-m", "fiscal", "ingest", str(extract), "--kind", "treasury", "--unit", "万元", "--data",
        str(lake), "--user", "load"], cwd=ROOT, check=True, capture_output=True)
    committed = time.perf_counter()
    await asyncio.sleep(NEW_VERSION_WAIT_S)
    while warming and server.output().count(WARMED_LINE) == warmed_before:
        if time.perf_counter() - committed > WARMED_WAIT_S:
            print(f"the server did not warm the new version within {WARMED_WAIT_S} s")
            break
        await asyncio.sleep(0.2)
    return time.perf_counter() - committed


def treasury_correction(lake: Path) -> str:
    """A one-row treasury extract: the latest day of the first county, its balance 1 % higher."""
    import pyarrow.compute as pc
    from deltalake import DeltaTable

    county = DeltaTable(str(lake / "counties")).to_pyarrow_table(columns=["county_code"])["county_code"][0].as_py()
    rows = DeltaTable(str(lake / "treasury")).to_pyarrow_table(filters=[("county_code", "=", county)])
    last = rows.filter(pc.equal(rows["date"], pc.max(rows["date"]))).to_pylist()[0]
    return ("区划代码,日期,库款余额,库款流入,库款流出\n"
            f"{county},{last['date']},{last['balance'] * 1.01:.2f},{last['inflow']:.2f},{last['outflow']:.2f}\n")


def print_visits(first: dict, second: dict, after_commit: dict, fresh_browser: dict) -> None:
    print(f"one session, every page (first and second visit: medians of {STARTS} server starts); a new session "
          f"after a new lake version (medians of {STARTS} versions; both in a browser that holds Streamlit's own "
          f"files); then a browser that "
          f"has never loaded anything, the server warm: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    columns = ((first, "first visit"), (second, "second visit"), (after_commit, "new version"),
               (fresh_browser, "fresh browser"))
    print(f"{'page':<10}" + "".join(f"{title:>14}{'server CPU':>12}" for _, title in columns))
    for name in PAGES:
        print(f"{name:<10}" + "".join(f"{visits[name][0]:>13.2f}s{visits[name][1]:>11.2f}s" for visits, _ in columns))
    print(f"{'max':<10}" + "".join(f"{max(s for s, _ in visits.values()):>13.2f}s{'':>12}" for visits, _ in columns)
          + "\n")


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


async def walk(server, lake: Path, profile: Path, sessions: int, rounds: int, warming: bool,
               earlier_starts: list[tuple[dict, dict]], floors: list[float]) -> None:
    """The last server start: its first and second visits (reported with `earlier_starts`' as
    medians), a new lake version, a fresh browser, then the concurrent sessions."""
    from playwright.async_api import async_playwright

    base, server_pid = server.url, server.process.pid
    times: list[float] = []
    errors: list[str] = []
    async with async_playwright() as playwright:
        returning = await returning_browser(playwright, profile)
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            visits = [*earlier_starts, tuple(await walk_every_page(returning, base, server_pid, walks=2))]
            first, second = medians([v[0] for v in visits]), medians([v[1] for v in visits])
            after_commits = []
            for _ in range(STARTS):
                cpu = cpu_seconds(server_pid)
                waited = await new_version(lake, server, warming)
                print(f"new lake version: visited {waited:.1f} s after its commit "
                      f"({'once the server had warmed it' if warming else 'no warm-up'}; "
                      f"server CPU meanwhile {cpu_seconds(server_pid) - cpu:.1f} s)")
                after_commits += await walk_every_page(returning, base, server_pid)
            after_commit = medians(after_commits)
            fresh = await browser.new_context(viewport=VIEWPORT)
            try:
                [fresh_browser] = await walk_every_page(fresh, base, server_pid)
            finally:
                await fresh.close()
            print_visits(first, second, after_commit, fresh_browser)
            print(f"baseline, Streamlit's own start: an app of one heading on the same address, its first visit in "
                  f"the returning reader's browser just opened: {statistics.median(floors):.2f} s "
                  f"(median of {len(floors)}: {', '.join(f'{f:.2f}' for f in floors)})\n")
            if not sessions:
                return
            warm = asyncio.Barrier(sessions + 1)
            tasks = [asyncio.create_task(session(browser, base, rounds, times, errors, warm)) for _ in range(sessions)]
            await warm.wait()
            cpu_before, start = cpu_seconds(server_pid), time.perf_counter()
            await asyncio.gather(*tasks)
            wall, cpu = time.perf_counter() - start, cpu_seconds(server_pid) - cpu_before
        finally:
            await returning.close()
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
    parser.add_argument("--no-warmup", action="store_true", help="serve with FISCAL_WARMUP=0 (the figures before it)")
    args = parser.parse_args()
    sessions = max(0, min(args.sessions, MAX_SESSIONS))
    with tempfile.TemporaryDirectory(prefix="fiscal-load-") as work:
        lake = Path(work) / "lake"
        shutil.copytree(args.lake, lake)
        logs = Path(work) / "logs"
        logs.mkdir()
        demo, profile, port = Path(work) / "demo", Path(work) / "browser-profile", free_port()
        shutil.copytree(DEMO_LAKE, demo)
        asyncio.run(asyncio.wait_for(visit_on_an_earlier_day(profile, demo, port, logs), RUN_TIMEOUT_S))
        warmup_env = {"FISCAL_WARMUP": "0" if args.no_warmup else "1"}
        earlier_starts, floors, start_times = [], [], []
        for start_number in range(STARTS):
            floors.append(asyncio.run(asyncio.wait_for(streamlit_floor(profile, port, logs), RUN_TIMEOUT_S)))
            start = time.perf_counter()
            server = start_server(lake, logs, extra_env=warmup_env, port=port)
            start_times.append(time.perf_counter() - start)
            try:
                if start_number < STARTS - 1:
                    earlier_starts.append(asyncio.run(asyncio.wait_for(first_and_second_visits(server, profile),
                                                                       RUN_TIMEOUT_S)))
                    continue
                print(f"server start (until /_stcore/health answers): {statistics.median(start_times):.1f} s, median "
                      f"of {STARTS} ({'no warm-up' if args.no_warmup else 'with the warm-up'}); "
                      f"load average {os.getloadavg()[0]:.1f}")
                asyncio.run(asyncio.wait_for(walk(server, lake, profile, sessions, args.rounds, not args.no_warmup,
                                                  earlier_starts, floors), RUN_TIMEOUT_S))
            finally:
                stop_server(server)

if __name__ == "__main__":
    main()
