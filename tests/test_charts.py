"""Plotly figure builders: the right traces, the policy lines, the tier colours, the caps."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import pytest

from fiscal import charts, reports
from fiscal.demo import DEMO_END
from fiscal.indicators import metrics as metrics_at
from fiscal.policy import Policy
from fiscal.vocabulary import PAYDAY_STATUS_COLORS, PAYDAY_STATUS_ORDER, TIER_COLORS
from tests.conftest import D

AS_OF = DEMO_END


@pytest.fixture(scope="module")
def metrics(panel):
    return reports.at_date(panel, AS_OF)


@pytest.fixture(scope="module")
def county(metrics) -> str:
    """The riskiest county: it has paydays of every past status in the demo."""
    return metrics["county_code"].iloc[0]


def colour_at(scale: list[list], z: float, zmin: float, zmax: float) -> str:
    position = (z - zmin) / (zmax - zmin)
    for (low, colour), (high, _) in zip(scale[::2], scale[1::2]):
        if low <= position <= high:
            return colour
    raise AssertionError(position)


def band_rects(fig: go.Figure) -> list[tuple[float, float]]:
    return [(s.y0, s.y1) for s in fig.layout.shapes if s.type == "rect"]


def test_coverage_bands_follow_the_policy():
    policy = Policy(coverage_warning=0.25, coverage_prompt=0.45, coverage_idle=0.9)
    labels = [label for label, *_ in charts.coverage_bands(policy)]
    assert labels == ["预警", "偏低", "正常", "闲置"]
    fig = charts.coverage_trend(policy, counties=pd.DataFrame({
        "as_of": pd.to_datetime(["2025-01-31", "2025-02-28"]), "county_name": ["演示县01"] * 2,
        "coverage_months": [0.2, 2.0]}))
    rects = band_rects(fig)
    assert rects[:3] == [(0.0, 0.25), (0.25, 0.45), (0.45, 0.9)]
    assert rects[3][0] == 0.9 and rects[3][1] >= 2.0  # the idle band reaches above the highest value
    assert [a.text for a in fig.layout.annotations] == labels


def test_coverage_trend_median_band_and_counties(panel, policy):
    trend = reports.coverage_trend(panel, AS_OF)
    counties = reports.county_history(panel, AS_OF, list(panel["county_code"].unique()[:2]))
    fig = charts.coverage_trend(policy, trend, counties)
    names = [t.name for t in fig.data]
    assert "中位数" in names and "四分位区间" in names
    assert sum(1 for n in names if n and n.startswith("演示县")) == 2
    median = next(t for t in fig.data if t.name == "中位数")
    assert list(median.x)[-1] == f"{AS_OF:%Y-%m-%d}" and list(median.x)[0] == f"{AS_OF.year - 1}-{AS_OF.month:02d}"
    fig.to_json()


def test_coverage_by_city_one_box_per_city_lowest_first(metrics, policy):
    fig = charts.coverage_by_city(metrics, policy)
    boxes = [t for t in fig.data if t.type == "box"]
    medians = metrics.groupby("city_name")["coverage_months"].median().sort_values()
    assert [b.name for b in boxes] == list(medians.index)
    capped = charts.coverage_by_city(metrics, policy, max_rows=2)
    assert len([t for t in capped.data if t.type == "box"]) == 2
    assert f"共 {metrics['city_name'].nunique()} 个" in capped.layout.title.text


def test_daily_treasury_balance_and_flow_bars(demo, county):
    daily = reports.county_daily(demo, county, AS_OF - dt.timedelta(days=90), AS_OF)
    fig = charts.daily_treasury(daily, {"预警线 0.30 个月": 5000.0, "缺失": None})
    by_name = {t.name: t for t in fig.data}
    assert set(by_name) == {"库款余额", "流入", "流出"}
    assert (pd.Series(by_name["流出"].y) <= 0).all()  # outflow drawn downwards
    assert len([s for s in fig.layout.shapes if s.type == "line"]) == 1  # the missing line is skipped


def test_payday_heatmap_status_colours_and_cap(demo, policy):
    history = reports.payday_history(demo, AS_OF, policy)
    fig = charts.payday_heatmap(history, policy)
    heatmap = fig.data[0]
    codes = {s: i for i, s in enumerate(PAYDAY_STATUS_ORDER)}
    for status, index in codes.items():
        assert colour_at(heatmap.colorscale, index, heatmap.zmin, heatmap.zmax).lower() == \
            PAYDAY_STATUS_COLORS[status].lower()
    assert heatmap.y[0] in set(history.loc[history["status"] == "shortfall", "county_name"])  # worst first
    assert len(heatmap.x) == 12
    capped = charts.payday_heatmap(history, policy, max_rows=5)
    assert len(capped.data[0].y) == 5 and "共 30 个" in capped.layout.title.text


def test_tier_heatmap_uses_tier_colours(panel):
    matrix = reports.tier_matrix(panel, AS_OF)
    fig = charts.tier_heatmap(matrix)
    heatmap = fig.data[0]
    for tier, colour in {**TIER_COLORS, -1: "#78909c"}.items():  # -1: 无数据, grey
        assert colour_at(heatmap.colorscale, tier, heatmap.zmin, heatmap.zmax) == colour
    assert list(heatmap.x)[-1] == f"截至 {AS_OF:%m-%d}" and len(heatmap.x) == 13
    legend = {t.name: t.marker.color for t in fig.data[1:]}
    assert legend == {"无数据": "#78909c", "正常": TIER_COLORS[0], "提示": TIER_COLORS[1], "预警": TIER_COLORS[2],
                      "重点关注": TIER_COLORS[3]}


def test_revenue_chart_and_tier_agree_at_exactly_the_prompt_line(make_lake, policy):
    """Budget 300, actual 101 in May: 101/300 − 5/12 = −0.08, i.e. exactly −8 pp (in floating
    point 100 × (101/300 − 5/12) = −8.000000000000002). Not below the prompt line: tier 正常 and
    a light-green bar. Actual 100 is 8.33 pp behind: tier 提示 and a yellow bar."""
    lake = make_lake(revenue=[("000001", 2025, 5, "税收收入", 300.0, 101.0),
                              ("000002", 2025, 5, "税收收入", 300.0, 100.0)])
    as_of = D(2025, 5, 20)
    snapshot = lake.snapshot()
    tiers = metrics_at(snapshot, as_of, policy).set_index("county_code")
    assert tiers.loc["000001", "revenue_gap_pp"] == -8.0
    assert (tiers.loc["000001", "tier"], tiers.loc["000001", "tier_label"]) == (0, "正常")
    assert (tiers.loc["000002", "tier"], tiers.loc["000002", "tier_label"]) == (1, "提示")

    by_county = reports.revenue_by_county(tiers.reset_index(), reports.revenue_rows(snapshot, as_of))
    bars = charts.revenue_progress_bars(by_county, policy).data[0]
    colours = dict(zip(bars.y, bars.marker.color))
    assert colours == {"测试县01": "#81c784", "测试县02": "#f9a825"}
    assert by_county.set_index("county_code").loc["000001", "revenue_gap_pp"] == -8.0


def test_revenue_bars_worst_first_with_time_progress(demo, policy, metrics):
    by_county = reports.revenue_by_county(metrics, reports.revenue_rows(demo, AS_OF))
    fig = charts.revenue_progress_bars(by_county, policy)
    bars = fig.data[0]
    assert list(bars.y) == list(by_county.sort_values("revenue_gap_pp")["county_name"])
    assert list(bars.marker.color)[0] == TIER_COLORS[2]  # the demo's slump county is > 20 pp behind
    marks = next(t for t in fig.data if t.name == "序时进度")
    assert set(marks.x) == {AS_OF.month / 12}
    assert "落后超过 20 个百分点（预警）" in {t.name for t in fig.data}
    assert bars.insidetextanchor == "start"  # the 序时 mark near the bar's end never crosses the figure


def test_revenue_by_category_and_county_curve(demo, county):
    rows = reports.revenue_rows(demo, AS_OF)
    fig = charts.revenue_by_category(reports.revenue_by_category(rows))
    assert [t.name for t in fig.data] == [f"本年 1–{AS_OF.month} 月", "上年同期"]
    assert fig.layout.shapes[0].y0 == pytest.approx(AS_OF.month / 12)
    curve = charts.county_revenue(reports.revenue_monthly(demo, county, AS_OF), AS_OF.year)
    assert [t.name for t in curve.data] == ["序时进度", "2025 年", "2026 年"]


def test_forward_cover_bars_against_the_warning_line(metrics, policy):
    forward = reports.forward_payroll(metrics)
    fig = charts.forward_cover_bars(forward, policy)
    bars = fig.data[0]
    below = [c for v, c in zip(bars.x, bars.marker.color) if v < policy.forward_warning]
    assert below and set(below) == {TIER_COLORS[2]}
    assert fig.layout.shapes[0].x0 == policy.forward_warning


def test_county_paydays_segments_from_cutoff_to_payday(demo, policy, county):
    daily = reports.county_daily(demo, county, AS_OF - dt.timedelta(days=120), AS_OF)
    history = reports.payday_history(demo, AS_OF, policy)
    paydays = history[(history["county_code"] == county) & (history["cutoff"] >= daily["date"].min())]
    fig = charts.county_paydays(daily, paydays)
    segments = fig.data[1:]
    assert len(segments) == len(paydays)
    first = paydays.iloc[0]
    assert list(segments[0].x) == [first["cutoff"], first["payday"]]
    assert segments[0].line.color == PAYDAY_STATUS_COLORS[first["status"]]
    assert sum(1 for s in segments if s.showlegend) == paydays["status"].nunique()


def test_charts_accept_empty_frames(policy):
    assert charts.coverage_trend(policy).data == ()
    empty = pd.DataFrame(columns=["county_code", "county_name", "city_name", "coverage_months"])
    assert len(charts.coverage_by_city(empty, policy).data) == 0


def test_scaled_enlarges_every_text_and_the_height_for_the_projector(demo, county, metrics, policy):
    daily = reports.county_daily(demo, county, AS_OF - dt.timedelta(days=90), AS_OF)
    fig = charts.daily_treasury(daily, {"预警线 0.30 个月": 5000.0})
    big = charts.scaled(fig, 1.4)
    assert big.layout.font.size == pytest.approx(13 * 1.4)  # ticks, axis titles, legend follow the base font
    assert big.layout.annotations[0].font.size == pytest.approx(12 * 1.4)  # the dashed line's label
    assert big.layout.height == round(460 * 1.4)
    assert fig.layout.font.size == 13 and fig.layout.height == 460  # the original is left as it was
    capped = charts.scaled(charts.coverage_by_city(metrics, policy, max_rows=2), 1.4)
    assert capped.layout.title.font.size == pytest.approx(12 * 1.4)  # the "显示 … 个市" note
    assert capped.layout.margin.r == round(charts.BAND_LABEL_MARGIN * 1.4)  # room for the band labels



def forward_rows(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"county_name": names, "payroll_cover_3m": [0.5 + i for i in range(len(names))],
                         "sev_forward": [0] * len(names), "forward_need": [100.0] * len(names),
                         "available": [80.0] * len(names)})


def test_margins_hold_the_labels_so_plotly_lays_a_chart_out_once(policy):
    # Left of a county bar chart: 4 px edge + 6 px gap + the widest name, a CJK character 13 px wide,
    # a digit 0.6 × 13 = 7.8 px: "演示县01" is 3 × 13 + 2 × 7.8 = 54.6 px, so 64.6 → 65.
    short = charts.forward_cover_bars(forward_rows(["演示县01", "甲县"]), policy)
    assert short.layout.margin.l == 65
    # A ten-character name (130 px) moves the plot right, nothing else: 4 + 6 + 130 = 140.
    long = charts.forward_cover_bars(forward_rows(["演示县01", "镇宁布依族苗族自治县"]), policy)
    assert long.layout.margin.l == 140
    assert long.layout.margin.b == short.layout.margin.b
    # Below: edge 4 + gap 6 + one row of ticks (1.4 × 13 = 18.2) + the axis title, 1.4 × 15.6 + 6 = 27.84.
    assert long.layout.margin.b == 57  # ceil(56.04)
    # Plotly measures nothing and lays out once: no axis grows its margin by itself.
    assert [a.automargin for a in [*long.select_xaxes(), *long.select_yaxes()]] == [False, False]
    # On the projector every text is 1.4 times larger, and so is every margin that holds it.
    big = charts.scaled(long, 1.4)
    assert (big.layout.margin.l, big.layout.margin.b) == (196, 80)  # round(140 × 1.4), round(57 × 1.4)


def test_numeric_tick_labels_set_the_left_margin(policy):
    # 库款余额 up to 12,000 万元: Plotly can show a tick up to 10 % past it, "13,200": five digits of
    # 7.8 px and a comma of 3.9 px = 42.9 px; the axis title "万元" turned along the axis takes
    # 1.4 × 15.6 + 6 = 27.84 px. 4 + 6 + 42.9 + 27.84 = 80.74 → 81.
    daily = pd.DataFrame({"date": pd.to_datetime(["2026-01-01", "2026-01-02"]), "account_balance": [3000.0, 12000.0]})
    paydays = pd.DataFrame(columns=["status", "cutoff", "payday", "amount_due", "ratio"])
    assert charts.county_paydays(daily, paydays).layout.margin.l == 81
    # Ten times the money is one digit more, "132,000": 80.74 + 7.8 = 88.54 → 89; a hundred times
    # two digits and a comma, "1,320,000": 80.74 + 2 × 7.8 + 3.9 = 100.24 → 101.
    daily["account_balance"] *= 10
    assert charts.county_paydays(daily, paydays).layout.margin.l == 89
    daily["account_balance"] *= 10
    assert charts.county_paydays(daily, paydays).layout.margin.l == 101


def test_dispatch_bars_print_amounts_in_full_not_si_suffixes(demo, policy):
    from fiscal.dispatch import dispatch

    fig = charts.dispatch_bars(dispatch(demo, AS_OF, policy), policy)
    assert fig.layout.xaxis.tickformat == ",.0f"  # 15,000, never "15k"
