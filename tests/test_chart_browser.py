"""Charts in a real browser (app/chart.js): drawn by the page with the vendored plotly.js,
across the whole width of their column, redrawn when it changes, with hover labels."""
from __future__ import annotations

import re
from importlib.metadata import version

import pytest

from app.widgets import CHART_SCRIPT
from app.widgets import PLOTLY_BUNDLE as BUNDLE
from tests.browser_support import wait_for_heading

WIDTHS = """() => [...document.querySelectorAll('.fiscal-chart')].map(c =>
    [c.clientWidth, Number(c.querySelector('.main-svg').getAttribute('width'))])"""


def test_the_vendored_bundle_is_the_plotly_js_the_figures_are_written_for():
    """plotly (Python) writes figures for one plotly.js version; the page draws them with that version."""
    from plotly.offline._plotlyjs_version import __plotlyjs_version__

    assert re.search(r"plotly\.js \(cartesian - minified\) v([\d.]+)", BUNDLE.read_text(encoding="utf-8")[:300])[1] \
        == __plotlyjs_version__ == "4.1.1", f"plotly {version('plotly')}: update static/ and app/chart.js"
    assert BUNDLE.stat().st_size < 2_000_000  # the cartesian bundle, a third of the full one
    assert f"static/{BUNDLE.name}" in CHART_SCRIPT.read_text(encoding="utf-8")


@pytest.mark.browser
def test_charts_fill_their_column_follow_it_and_show_hover_labels(app_server, page):
    page.goto(f"{app_server.url}/treasury")
    wait_for_heading(page, "库款保障")
    widths = page.evaluate(WIDTHS)
    assert len(widths) == 3 and all(drawn == column > 600 for column, drawn in widths), widths
    assert page.evaluate("typeof window.Plotly.newPlot") == "function"  # the vendored bundle, loaded once

    # hovering a point of the trend chart shows its value, in the chart's own label
    trend = page.locator(".fiscal-chart").first
    point = trend.locator(".scatterlayer .trace .points path").last
    point.hover(force=True)
    label = trend.locator(".hoverlayer .hovertext").first
    label.wait_for()
    assert re.search(r"\d\.\d\d", label.text_content())

    # a narrower window narrows the column: every chart is redrawn at the new width
    page.set_viewport_size({"width": 1200, "height": 900})
    page.wait_for_function(f"() => ({WIDTHS})().every(([column, drawn]) => drawn === column && column < {widths[0][0]})")
