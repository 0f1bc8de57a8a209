"""How long Plotly takes to draw each page's charts in Chromium, to compare two versions of the charts.

    .venv/bin/python scripts/chart_draw.py dump OUT.json [--lake build/national]
    .venv/bin/python scripts/chart_draw.py compare A.json B.json [--runs 7]

`dump` opens every page with charts of a live dashboard (on screen, 1600×1000, and in meeting mode,
1280×720) and saves each chart's figure as the page gave it to Plotly, with its drawn width.
`compare` draws the figures of two dumps (e.g. one taken on main, one on a branch) with
`Plotly.newPlot` in one Chromium page, alternating A and B, and prints the median milliseconds
per page: Plotly's own time, without the server, the network or React, with the plotly.js the
dashboard draws with (static/, see app/chart.js).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import launch_chromium, running_app, wait_for_app  # noqa: E402
from app.widgets import PLOTLY_BUNDLE  # noqa: E402

PAGES = ["payroll", "treasury", "revenue", "risk", "county", "dispatch"]
VIEWS = {"": {"width": 1600, "height": 1000}, "?meeting=1": {"width": 1280, "height": 720}}
FIGURES = """() => [...document.querySelectorAll('.js-plotly-plot')].map(g =>
    JSON.stringify({data: g.data, layout: g.layout, width: g._fullLayout.width}))"""
DRAW = """async (figures) => {
    let total = 0;
    for (const figure of figures) {
        const div = document.createElement('div');
        div.style.width = figure.width + 'px';
        document.body.appendChild(div);
        const start = performance.now();
        await Plotly.newPlot(div, figure.data, figure.layout);
        total += performance.now() - start;
        Plotly.purge(div);
        div.remove();
    }
    return total;
}"""


def dump(out: Path, lake: Path) -> None:
    from playwright.sync_api import sync_playwright

    figures = {}
    with running_app(lake, Path(tempfile.mkdtemp())) as server, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            page = chromium.new_context(locale="zh-CN").new_page()
            for slug in PAGES:
                for query, viewport in VIEWS.items():
                    page.set_viewport_size(viewport)
                    page.goto(f"{server.url}/{slug}{query}")
                    wait_for_app(page)
                    figures[slug + query] = [json.loads(f) for f in page.evaluate(FIGURES)]
        finally:
            chromium.close()
    out.write_text(json.dumps(figures), encoding="utf-8")


def compare(first: Path, second: Path, runs: int) -> None:
    from playwright.sync_api import sync_playwright

    a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (first, second))
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            page = chromium.new_page(viewport=VIEWS[""])
            page.set_content("<html><body></body></html>")
            page.add_script_tag(path=str(PLOTLY_BUNDLE))
            print(f"plotly.js {page.evaluate('Plotly.version')}, load average {os.getloadavg()[0]:.1f} "
                  f"on {os.cpu_count()} CPUs")
            print(f"{'page':<20}{first.stem:>14}{second.stem:>14}   ms, median of {runs}")
            for key in [k for k in a if k in b]:
                times_a, times_b = [], []
                for _ in range(runs):  # alternated, so a change of load hits both alike
                    times_a.append(page.evaluate(DRAW, a[key]))
                    times_b.append(page.evaluate(DRAW, b[key]))
                print(f"{key:<20}{statistics.median(times_a):>14.0f}{statistics.median(times_b):>14.0f}", flush=True)
            print(f"load average {os.getloadavg()[0]:.1f} at the end")
        finally:
            chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump")
    dumping.add_argument("out", type=Path)
    dumping.add_argument("--lake", type=Path, default=ROOT / "build" / "national")
    comparing = commands.add_parser("compare")
    comparing.add_argument("first", type=Path)
    comparing.add_argument("second", type=Path)
    comparing.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.lake.resolve())
    else:
        compare(args.first, args.second, args.runs)


if __name__ == "__main__":
    main()
