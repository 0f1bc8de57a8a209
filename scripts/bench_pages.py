"""Timing of the dashboard's read side on a lake: every report function, then every page.

    .venv/bin/python scripts/bench_pages.py build/national [--as-of 2026-11-20] [--repeat 3]

Report functions: cold = first call in this process, warm = best of the following calls
(no Streamlit cache involved: this is the DuckDB/pandas cost). Pages: run through
streamlit.testing AppTest; cold = first run after clearing every st.cache_data, warm =
best of the reruns that follow (what a user waits for when changing a widget or coming
back to the page).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

PAGES = ["overview", "payroll", "treasury", "revenue", "risk", "county"]


def timed(function, repeat: int) -> tuple[float, float]:
    start = time.perf_counter()
    function()
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        warm.append(time.perf_counter() - start)
    return cold, min(warm)


def bench_reports(lake_dir: Path, as_of: dt.date | None, repeat: int) -> list[tuple[str, float, float]]:
    from fiscal import reports
    from fiscal.indicators import tier_moves
    from fiscal import focus
    from fiscal.lake import Lake
    from fiscal.policy import load_policy

    policy = load_policy()
    snapshot_cold, snapshot_warm = timed(lambda: Lake(lake_dir).snapshot(), repeat)
    snapshot = Lake(lake_dir).snapshot()
    as_of = as_of or reports.latest_date(snapshot)
    panel = reports.indicator_panel(snapshot, as_of, policy)
    metrics = reports.at_date(panel, as_of)
    rows = reports.revenue_rows(snapshot, as_of)
    county = metrics["county_code"].iloc[0]
    start = as_of - dt.timedelta(days=183)
    history = reports.payday_history(snapshot, as_of, policy)
    cases = {
        "Lake.snapshot": None,
        "latest_date": lambda: reports.latest_date(snapshot),
        "freshness": lambda: reports.freshness(snapshot, as_of, policy.stale_days),
        "county_list": lambda: reports.county_list(snapshot),
        "indicator_panel": lambda: reports.indicator_panel(snapshot, as_of, policy),
        "payday_history": lambda: reports.payday_history(snapshot, as_of, policy),
        "revenue_rows": lambda: reports.revenue_rows(snapshot, as_of),
        "county_daily": lambda: reports.county_daily(snapshot, county, start, as_of),
        "revenue_monthly": lambda: reports.revenue_monthly(snapshot, county, as_of),
        "at_date (pandas)": lambda: reports.at_date(panel, as_of),
        "tier_moves (pandas)": lambda: tier_moves(panel, reports.week_before(as_of), as_of),
        "tier_matrix (pandas)": lambda: reports.tier_matrix(panel, as_of),
        "focus membership (SQL)": lambda: focus.membership(snapshot, panel),
        "coverage_trend (pandas)": lambda: reports.coverage_trend(panel, as_of),
        "overview (pandas)": lambda: reports.overview(metrics, rows, as_of),
        "payroll_table (pandas)": lambda: reports.payroll_table(metrics, as_of),
        "payday_matrix (pandas)": lambda: reports.payday_matrix(history),
        "revenue_by_county (pandas)": lambda: reports.revenue_by_county(metrics, rows),
    }
    results = [("Lake.snapshot", snapshot_cold, snapshot_warm)]
    for name, function in cases.items():
        if function is not None:
            results.append((name, *timed(function, repeat)))
    return results


def bench_pages(lake_dir: Path, as_of: dt.date | None, repeat: int) -> list[tuple[str, float, float]]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["FISCAL_DATA"] = str(lake_dir)
    results = []
    for page in PAGES:
        app = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
        if as_of:
            app.query_params["as_of"] = as_of.isoformat()
        app.run()  # the entry page registers the navigation; its time is not counted
        app.switch_page(f"pages/{page}.py")
        st.cache_data.clear()
        start = time.perf_counter()
        app.run()
        cold = time.perf_counter() - start
        if app.exception:
            raise SystemExit(f"{page}: {app.exception[0].value}")
        warm = []
        for _ in range(repeat):
            start = time.perf_counter()
            app.run()
            warm.append(time.perf_counter() - start)
        results.append((f"page {page}", cold, min(warm)))
    return results


def print_table(title: str, rows: list[tuple[str, float, float]]) -> None:
    print(f"\n{title}")
    print(f"{'':30} {'cold s':>8} {'warm s':>8}")
    for name, cold, warm in rows:
        print(f"{name:30} {cold:8.3f} {warm:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake", type=Path)
    parser.add_argument("--as-of", type=dt.date.fromisoformat)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-pages", action="store_true")
    args = parser.parse_args()
    lake = args.lake.resolve()
    print_table(f"report functions on {lake}", bench_reports(lake, args.as_of, args.repeat))
    if not args.skip_pages:
        print_table("pages (AppTest)", bench_pages(lake, args.as_of, args.repeat))


if __name__ == "__main__":
    main()
