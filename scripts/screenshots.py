"""Full-page screenshots of every page, on screen (1600×1000) and in meeting mode (1280×720),
plus printed PDFs of chosen pages, from a live dashboard in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py OUT_DIR [--data DIR] [--pages overview risk …] [--print overview risk]

The lake defaults to the shipped demo lake. Look at every file it writes.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.browser_support import launch_chromium, running_app, wait_for_app  # noqa: E402

PAGES = ["overview", "payroll", "treasury", "revenue", "risk", "county", "dispatch", "letters", "brief",
         "reporting", "data"]
SCREEN = {"width": 1600, "height": 1000}
MEETING = {"width": 1280, "height": 720}
MAX_HEIGHT = 16_000

# The app scrolls inside its own container: the page is as tall as the main area's content.
_CONTENT_HEIGHT = """() => Math.max(document.body.scrollHeight, ...[...document.querySelectorAll(
    '[data-testid="stMain"], [data-testid="stAppViewContainer"]')].map(e => e.scrollHeight))"""


def path(slug: str) -> str:
    """The default page (总览) is served at the root (/overview only redirects there)."""
    return "" if slug == PAGES[0] else slug


def shoot(page, url: str, viewport: dict, path: Path) -> None:
    page.set_viewport_size(viewport)
    page.goto(url)
    wait_for_app(page)
    height = min(int(page.evaluate(_CONTENT_HEIGHT)) + 40, MAX_HEIGHT)
    page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
    page.wait_for_timeout(800)  # charts resize to the taller viewport
    wait_for_app(page)
    page.screenshot(path=str(path), full_page=True)


def print_pdf(page, url: str, path: Path) -> None:
    page.set_viewport_size(SCREEN)
    page.goto(url)
    wait_for_app(page)
    # As a browser prints: the print style sheet applies to the page as drawn on screen (switching
    # the media first would let the charts redraw at the wider, sidebar-less width).
    page.pdf(path=str(path), format="A4", landscape=True, print_background=True,
             margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--data", type=Path, default=None, help="the lake (default: the shipped demo lake)")
    parser.add_argument("--pages", nargs="*", default=PAGES)
    parser.add_argument("--print", nargs="*", default=["overview", "risk"], dest="printed")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with running_app(args.data, Path(tempfile.mkdtemp())) as server, sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            page = chromium.new_context(viewport=SCREEN, locale="zh-CN").new_page()
            for slug in args.pages:
                shoot(page, f"{server.url}/{path(slug)}", SCREEN, args.out / f"{slug}.png")
                shoot(page, f"{server.url}/{path(slug)}?meeting=1", MEETING, args.out / f"{slug}-meeting.png")
                print(slug, flush=True)
            for slug in args.printed:
                print_pdf(page, f"{server.url}/{path(slug)}", args.out / f"{slug}-print.pdf")
                print(f"{slug} (print)", flush=True)
        finally:
            chromium.close()


if __name__ == "__main__":
    main()
