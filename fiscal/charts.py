"""Plotly figures for the dashboard. Pure builders: data frames in, figures out.

One colour language everywhere: every label and colour of a tier, coverage band or payday
status comes from `fiscal.vocabulary`; whether a value is flagged, and how badly, comes from
the severities the indicator SQL computed with the policy (never recomputed here), so a
chart cannot disagree with a tier. Charts that would list thousands of counties (national
scale) show the most relevant `max_rows` and say so in a note under the title.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import unicodedata
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .policy import Policy
from .reports import payday_matrix
from .vocabulary import (COVERAGE_BANDS, GREEN, LIGHT_GREEN, NO_DATA, NO_DATA_TIER, PAYDAY_STATUS_COLORS,
                         PAYDAY_STATUS_LABELS, PAYDAY_STATUS_ORDER, SHOWN_TIER_COLORS, SHOWN_TIER_LABELS, TIER_COLORS,
                         TIER_LABELS,
                         by_code)

FONT_FAMILY = '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
FONT_SIZE = 13  # pixels; axis titles are drawn 1.2 times larger
MAX_ROWS = 40  # counties per chart before it only shows the most relevant ones
MAX_CITIES = 20  # boxes per distribution chart
ROW_HEIGHT = 24  # pixels per county in bar charts and heat-maps
BAND_LABEL_MARGIN = 56  # pixels right of the plot for the coverage band labels

INFLOW_COLOR = "#2e7d32"
OUTFLOW_COLOR = "#c62828"
BALANCE_COLOR = "#1565c0"
ACCOUNT_COLOR = "#6a1b9a"
MUTED_COLOR = "#616161"
# Lines of individual counties: dark, distinct, and none of them a tier or band colour.
COUNTY_COLORWAY = ["#4e342e", "#6a1b9a", "#00838f", "#ad1457", "#283593", "#558b2f", "#0277bd", "#8e24aa"]


def coverage_bands(policy: Policy) -> list[tuple[str, float, float | None, str]]:
    """(label, lower, upper, colour) of the four 库款保障水平 bands of the policy."""
    lines = {
        "warning": (0.0, policy.coverage_warning),
        "low": (policy.coverage_warning, policy.coverage_prompt),
        "normal": (policy.coverage_prompt, policy.coverage_idle),
        "idle": (policy.coverage_idle, None),
    }
    bands = by_code(COVERAGE_BANDS)
    return [(bands[code].label, low, high, bands[code].colour) for code, (low, high) in lines.items()]


def revenue_gap_color(gap_pp: float, severity: int) -> str:
    """A county's revenue-gap colour: its tier colour when the SQL flagged the gap (severity ≥ 1),
    else green when ahead of 序时进度 and light green when behind it within the prompt line."""
    if severity:
        return TIER_COLORS[severity]
    return GREEN if gap_pp >= 0 else LIGHT_GREEN


def revenue_gap_legend(policy: Policy) -> dict[str, str]:
    prompt, warning = -policy.revenue_prompt_pp, -policy.revenue_warning_pp
    return {
        "快于序时": GREEN,
        f"慢于序时 {prompt:g} 个百分点以内": LIGHT_GREEN,
        f"落后 {prompt:g}–{warning:g} 个百分点（{TIER_LABELS[policy.sev_revenue_prompt]}）":
            TIER_COLORS[policy.sev_revenue_prompt],
        f"落后超过 {warning:g} 个百分点（{TIER_LABELS[policy.sev_revenue_warning]}）":
            TIER_COLORS[policy.sev_revenue_warning],
    }


# ---- coverage -------------------------------------------------------------------------
def coverage_trend(policy: Policy, trend: pd.DataFrame | None = None,
                   counties: pd.DataFrame | None = None) -> go.Figure:
    """库款保障水平 at month-ends over the policy bands.

    trend: as_of, median, q25, q75 (from `reports.coverage_trend`), drawn as the median
    line in its interquartile range; counties: as_of, county_name, coverage_months.
    """
    fig = go.Figure()
    values, dates = [], []
    if trend is not None and not trend.empty:
        x = _date_labels(trend["as_of"])
        dates += x
        fig.add_scatter(x=x, y=trend["q75"], mode="lines", line_width=0, hoverinfo="skip", showlegend=False)
        fig.add_scatter(x=x, y=trend["q25"], mode="lines", line_width=0, fill="tonexty",
                        fillcolor="rgba(97,97,97,0.15)", name="四分位区间", hoverinfo="skip")
        fig.add_scatter(x=x, y=trend["median"], mode="lines+markers", name="中位数",
                        line=dict(color=MUTED_COLOR, width=3),
                        hovertemplate="%{x}<br>中位数 %{y:.2f} 个月<extra></extra>")
        values += [trend["q75"].max()]
    if counties is not None and not counties.empty:
        for name, rows in counties.groupby("county_name", sort=False):
            x = _date_labels(rows["as_of"])
            dates += x
            fig.add_scatter(x=x, y=rows["coverage_months"], mode="lines+markers",
                            name=str(name), line_width=2,
                            hovertemplate="%{fullData.name}<br>%{x}<br>%{y:.2f} 个月<extra></extra>")
        values += [counties["coverage_months"].max()]
    top = _top(values, policy)
    _shade_coverage_bands(fig, policy, top)
    fig.update_yaxes(title_text="库款保障水平（月）", rangemode="tozero")
    fig.update_xaxes(type="category")
    return _finish(fig, height=400, right_margin=BAND_LABEL_MARGIN, y_labels=_number_labels([0, top], ".1f"),
                   turned_x_labels=dates)


def coverage_by_city(metrics: pd.DataFrame, policy: Policy, max_rows: int = MAX_CITIES) -> go.Figure:
    """Distribution of coverage_months by city (box with every county as a point), lowest median first."""
    rows = metrics.dropna(subset=["coverage_months"])
    medians = rows.groupby("city_name")["coverage_months"].median().sort_values()
    shown = medians.index[:max_rows]
    fig = go.Figure()
    by_city = dict(list(rows[rows["city_name"].isin(shown)].groupby("city_name", sort=False)))  # one pass over the rows
    for city in shown:
        city_rows = by_city[city]
        fig.add_box(y=city_rows["coverage_months"], name=str(city), boxpoints="all", jitter=0.4, pointpos=0,
                    marker=dict(color=MUTED_COLOR, size=6, opacity=0.7), line_color="#37474f",
                    fillcolor="rgba(255,255,255,0)", customdata=city_rows[["county_name"]],
                    hovertemplate="%{customdata[0]}<br>%{y:.2f} 个月<extra>%{fullData.name}</extra>",
                    showlegend=False)
    top = _top([rows["coverage_months"].max()], policy)
    _shade_coverage_bands(fig, policy, top)
    fig.update_yaxes(title_text="库款保障水平（月）", rangemode="tozero")
    note = f"显示中位数最低的 {len(shown)} 个市（共 {len(medians)} 个）" if len(medians) > len(shown) else None
    return _finish(fig, height=400, note=note, right_margin=BAND_LABEL_MARGIN,
                   y_labels=_number_labels([0, top], ".1f"), turned_x_labels=shown)


def _shade_coverage_bands(fig: go.Figure, policy: Policy, top: float) -> None:
    for label, low, high, colour in coverage_bands(policy):
        upper = top if high is None else high
        fig.add_hrect(y0=low, y1=upper, fillcolor=colour, opacity=0.10, line_width=0, layer="below")
        fig.add_annotation(x=1.005, xref="paper", xanchor="left", y=(low + upper) / 2, yref="y",
                           text=label, showarrow=False, font=dict(color=colour))
    fig.update_yaxes(range=[0, top])


def _top(values: list[float], policy: Policy) -> float:
    finite = [v for v in values if v is not None and pd.notna(v)]
    return max([policy.coverage_idle * 1.4, *(v * 1.08 for v in finite)])


# ---- treasury of one county -------------------------------------------------------------
def daily_treasury(daily: pd.DataFrame, reference_lines: dict[str, float] | None = None) -> go.Figure:
    """Daily 库款余额 (top) and inflow/outflow bars (bottom) of one county.

    reference_lines: label → balance, drawn dashed (e.g. the balance that a coverage of
    the warning line would mean).
    """
    rows = daily.dropna(subset=["treasury_balance"])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.62, 0.38], vertical_spacing=0.06)
    fig.add_scatter(x=rows["date"], y=rows["treasury_balance"], name="库款余额", mode="lines",
                    line=dict(color=BALANCE_COLOR, width=2), fill="tozeroy", fillcolor="rgba(21,101,192,0.10)",
                    hovertemplate="%{x|%Y-%m-%d}<br>余额 %{y:,.2f} 万元<extra></extra>", row=1, col=1)
    for label, amount in (reference_lines or {}).items():
        if amount is not None and pd.notna(amount):
            fig.add_hline(y=amount, line=dict(color=TIER_COLORS[2], dash="dash", width=1), row=1, col=1,
                          annotation_text=label, annotation_position="top left",
                          annotation_font=dict(color=TIER_COLORS[2], size=12))
    fig.add_bar(x=rows["date"], y=rows["inflow"], name="流入", marker_color=INFLOW_COLOR,
                hovertemplate="%{x|%Y-%m-%d}<br>流入 %{y:,.2f} 万元<extra></extra>", row=2, col=1)
    fig.add_bar(x=rows["date"], y=-rows["outflow"], name="流出", marker_color=OUTFLOW_COLOR,
                customdata=rows["outflow"],
                hovertemplate="%{x|%Y-%m-%d}<br>流出 %{customdata:,.2f} 万元<extra></extra>", row=2, col=1)
    fig.update_layout(barmode="relative", bargap=0.1)
    fig.update_yaxes(title_text="余额（万元）", tickformat=",.0f", row=1, col=1)
    fig.update_yaxes(title_text="流入 / 流出（万元）", tickformat=",.0f", row=2, col=1)
    fig.update_xaxes(tickformat="%Y-%m-%d")
    amounts = [*rows["treasury_balance"], *rows["inflow"], *-rows["outflow"], *(reference_lines or {}).values()]
    return _finish(fig, height=460, y_labels=_number_labels(amounts, ",.0f"))


# ---- payroll ----------------------------------------------------------------------------
def payday_heatmap(history: pd.DataFrame, policy: Policy, max_rows: int = MAX_ROWS) -> go.Figure:
    """County × month of payday statuses; counties with the most trouble first (by the policy's severities)."""
    matrix = payday_matrix(history)
    # each cell as its status's position in PAYDAY_STATUS_ORDER (-1: no payday that month), for
    # all cells at once; the last entry of each lookup array answers for -1
    codes = pd.Categorical(matrix.to_numpy().ravel(), categories=PAYDAY_STATUS_ORDER).codes.reshape(matrix.shape)
    severities = payday_severities(policy)
    severity = np.array([severities[s] for s in PAYDAY_STATUS_ORDER] + [0])[codes]
    order = pd.DataFrame({"worst": severity.max(axis=1), "total": severity.sum(axis=1)}) \
        .sort_values(["worst", "total"], ascending=False, kind="stable").index[:max_rows]
    shown, shown_codes = matrix.iloc[order], codes[order]
    z = np.where(shown_codes >= 0, shown_codes, np.nan)
    labels = np.array([PAYDAY_STATUS_LABELS[s] for s in PAYDAY_STATUS_ORDER] + ["无发薪"], dtype=object)[shown_codes]
    colourscale = _discrete_scale([PAYDAY_STATUS_COLORS[s] for s in PAYDAY_STATUS_ORDER])
    y = [name for _, name, _ in shown.index]
    x = [f"{m:%Y-%m}" for m in shown.columns]
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=y, customdata=labels, zmin=-0.5, zmax=len(PAYDAY_STATUS_ORDER) - 0.5,
        colorscale=colourscale, showscale=False, xgap=2, ygap=2,
        hovertemplate="%{y}<br>%{x}<br>%{customdata}<extra></extra>"))
    _legend_entries(fig, {PAYDAY_STATUS_LABELS[s]: PAYDAY_STATUS_COLORS[s] for s in PAYDAY_STATUS_ORDER})
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    note = f"显示问题最多的 {len(shown)} 个县区（共 {len(matrix)} 个）" if len(matrix) > len(shown) else None
    return _finish(fig, height=_rows_height(len(shown)), note=note, legend_bottom=True, y_labels=y)


def payday_severities(policy: Policy) -> dict[str, int]:
    """Severity of each payday status in the policy (a past payday's: shortfall, funded late)."""
    return {"shortfall": policy.sev_last_shortfall, "overdue": policy.sev_next_overdue,
            "funded_late": policy.sev_last_late, "pending": 0, "funded_on_time": 0}


def county_paydays(daily: pd.DataFrame, paydays: pd.DataFrame) -> go.Figure:
    """One county's payroll-account balance (step line) against each payday's requirement.

    Each payday is drawn as a bar from its cutoff to the payday at the amount due, in its
    status colour: the account line should be on or above it from the cutoff on.
    """
    fig = go.Figure()
    account = daily.dropna(subset=["account_balance"])
    fig.add_scatter(x=account["date"], y=account["account_balance"], name="工资专户余额", mode="lines",
                    line=dict(color=ACCOUNT_COLOR, width=2, shape="hv"),
                    hovertemplate="%{x|%Y-%m-%d}<br>专户余额 %{y:,.2f} 万元<extra></extra>")
    shown_status = set()
    for row in paydays.itertuples():
        colour = PAYDAY_STATUS_COLORS[row.status]
        label = PAYDAY_STATUS_LABELS[row.status]
        fig.add_scatter(
            x=[row.cutoff, row.payday], y=[row.amount_due, row.amount_due], mode="lines+markers",
            line=dict(color=colour, width=6), marker=dict(size=[4, 11], color=colour),
            name=label, legendgroup=row.status, showlegend=row.status not in shown_status,
            hovertemplate=(f"发薪日 {row.payday:%Y-%m-%d}<br>截止日 {row.cutoff:%Y-%m-%d}<br>"
                           f"应发 {row.amount_due:,.2f} 万元<br>{label}，截止日存入比例 {row.ratio:.1%}<extra></extra>"))
        shown_status.add(row.status)
    fig.update_yaxes(title_text="万元", tickformat=",.0f", rangemode="tozero")
    fig.update_xaxes(tickformat="%Y-%m-%d")
    return _finish(fig, height=360,
                   y_labels=_number_labels([0, *account["account_balance"], *paydays["amount_due"]], ",.0f"))


def forward_cover_bars(forward: pd.DataFrame, policy: Policy, max_rows: int = MAX_ROWS) -> go.Figure:
    """未来三个月工资保障倍数 per county, lowest first, against the warning line."""
    rows = forward.dropna(subset=["payroll_cover_3m"]).sort_values("payroll_cover_3m")
    shown = rows.head(max_rows)
    colours = [TIER_COLORS[s] for s in shown["sev_forward"]]  # as the indicator SQL flagged it
    fig = go.Figure(go.Bar(
        x=shown["payroll_cover_3m"], y=shown["county_name"], orientation="h", marker_color=colours,
        text=[f"{v:.2f}" for v in shown["payroll_cover_3m"]], textposition="outside", cliponaxis=False,
        customdata=shown[["forward_need", "available"]],
        hovertemplate=("%{y}<br>保障倍数 %{x:.2f}<br>未来应发 %{customdata[0]:,.2f} 万元"
                       "<br>可用资金 %{customdata[1]:,.2f} 万元<extra></extra>"),
        showlegend=False))
    fig.add_vline(x=policy.forward_warning, line=dict(color=TIER_COLORS[3], dash="dash", width=2),
                  annotation_text=f"预警线 {policy.forward_warning:.2f}", annotation_position="top",
                  annotation_font=dict(color=TIER_COLORS[3]))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title_text=f"未来{policy.forward_months}个月工资保障倍数", rangemode="tozero")
    note = f"显示保障倍数最低的 {len(shown)} 个县区（共 {len(rows)} 个）" if len(rows) > len(shown) else None
    return _finish(fig, height=_rows_height(len(shown)), note=note, y_labels=shown["county_name"])


# ---- revenue ----------------------------------------------------------------------------
def revenue_progress_bars(by_county: pd.DataFrame, policy: Policy, max_rows: int = MAX_ROWS) -> go.Figure:
    """收入进度 per county as bars, coloured by the gap to 序时进度 (marked per county). The figure sits
    at the start of its bar, away from the 序时 mark near the bar's end that would cross it."""
    rows = by_county.sort_values("revenue_gap_pp")
    shown = rows.head(max_rows)
    fig = go.Figure()
    fig.add_bar(
        x=shown["revenue_progress"], y=shown["county_name"], orientation="h",
        marker_color=[revenue_gap_color(g, s) for g, s in zip(shown["revenue_gap_pp"], shown["sev_revenue"])],
        text=[f"{p:.1%}" for p in shown["revenue_progress"]], textposition="inside", insidetextanchor="start",
        textfont_color="#ffffff", customdata=shown[["time_progress", "revenue_gap_pp"]],
        hovertemplate="%{y}<br>收入进度 %{x:.1%}<br>序时进度 %{customdata[0]:.1%}"
                      "<br>差距 %{customdata[1]:.1f} 个百分点<extra></extra>",
        showlegend=False)
    fig.add_scatter(x=shown["time_progress"], y=shown["county_name"], mode="markers", name="序时进度",
                    marker=dict(symbol="line-ns", size=ROW_HEIGHT - 2, line=dict(width=3, color="#212121")),
                    hovertemplate="序时进度 %{x:.1%}<extra></extra>")
    _legend_entries(fig, revenue_gap_legend(policy))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title_text="收入进度（累计完成 / 年初预算）", tickformat=".0%", rangemode="tozero")
    note = f"显示落后序时最多的 {len(shown)} 个县区（共 {len(rows)} 个）" if len(rows) > len(shown) else None
    return _finish(fig, height=_rows_height(len(shown)) + 40, note=note, y_labels=shown["county_name"])


def revenue_by_category(by_category: pd.DataFrame) -> go.Figure:
    """Progress per revenue category this year and at the same month last year, against 序时."""
    month = int(by_category["month"].iloc[0])
    fig = go.Figure()
    fig.add_bar(x=by_category["category"], y=by_category["revenue_progress"], name=f"本年 1–{month} 月",
                marker_color=BALANCE_COLOR, text=[f"{v:.1%}" for v in by_category["revenue_progress"]],
                textposition="inside", insidetextanchor="middle", textfont_color="#ffffff",
                hovertemplate="%{x}<br>本年 %{y:.1%}<extra></extra>")
    fig.add_bar(x=by_category["category"], y=by_category["prev_progress"], name="上年同期",
                marker_color="#90a4ae", text=[_percent(v) for v in by_category["prev_progress"]],
                textposition="inside", insidetextanchor="middle", textfont_color="#ffffff",
                hovertemplate="%{x}<br>上年同期 %{y:.1%}<extra></extra>")
    fig.add_hline(y=month / 12, line=dict(color="#212121", dash="dash", width=2),
                  annotation_text=f"序时进度 {month / 12:.1%}", annotation_position="top right",
                  annotation_bgcolor="rgba(255,255,255,0.85)")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="收入进度")
    fig.update_layout(barmode="group")
    progress = [month / 12, *by_category["revenue_progress"], *by_category["prev_progress"]]
    return _finish(fig, height=380, y_labels=_number_labels(progress, ".0%"))


def county_revenue(monthly: pd.DataFrame, year: int) -> go.Figure:
    """One county's cumulative revenue progress by month: this year, last year, 序时."""
    fig = go.Figure()
    months = list(range(1, 13))
    fig.add_scatter(x=months, y=[m / 12 for m in months], mode="lines", name="序时进度",
                    line=dict(color="#212121", dash="dash", width=2), hovertemplate="%{x} 月 序时 %{y:.1%}<extra></extra>")
    for shown_year, colour, width in ((year - 1, "#90a4ae", 2), (year, BALANCE_COLOR, 3)):
        rows = monthly[monthly["year"] == shown_year]
        if not rows.empty:
            fig.add_scatter(x=rows["month"], y=rows["revenue_progress"], mode="lines+markers", name=f"{shown_year} 年",
                            line=dict(color=colour, width=width),
                            hovertemplate=f"{shown_year} 年 %{{x}} 月<br>收入进度 %{{y:.1%}}<extra></extra>")
    fig.update_xaxes(tickvals=months, ticktext=[f"{m}月" for m in months], range=[0.5, 12.5])
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="收入进度")
    return _finish(fig, height=360, y_labels=_number_labels([1, *monthly["revenue_progress"]], ".0%"))


# ---- risk tiers ---------------------------------------------------------------------------
def tier_heatmap(matrix: pd.DataFrame, max_rows: int = MAX_ROWS) -> go.Figure:
    """County × history date of tiers, in tier colours (from `reports.tier_matrix`)."""
    date_columns = [c for c in matrix.columns if isinstance(c, (dt.date, pd.Timestamp))]
    shown = matrix.head(max_rows)
    z = shown[date_columns].astype(float).to_numpy()
    labels = shown[date_columns].apply(lambda col: col.map(SHOWN_TIER_LABELS)).fillna(NO_DATA.label).to_numpy()
    x = [*(f"{d:%Y-%m}" for d in date_columns[:-1]), f"截至 {date_columns[-1]:%m-%d}"]
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=shown["county_name"], customdata=labels, zmin=NO_DATA_TIER - 0.5, zmax=3.5,
        colorscale=_discrete_scale([SHOWN_TIER_COLORS[t] for t in range(NO_DATA_TIER, 4)]), showscale=False,
        xgap=2, ygap=2,
        hovertemplate="%{y}<br>%{x}<br>%{customdata}<extra></extra>"))
    _legend_entries(fig, {SHOWN_TIER_LABELS[t]: SHOWN_TIER_COLORS[t] for t in range(NO_DATA_TIER, 4)})
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    note = f"显示当前风险最高的 {len(shown)} 个县区（共 {len(matrix)} 个）" if len(matrix) > len(shown) else None
    return _finish(fig, height=_rows_height(len(shown)), note=note, legend_bottom=True, y_labels=shown["county_name"])


# ---- shared ---------------------------------------------------------------------------------
def _discrete_scale(colours: list[str]) -> list[list]:
    """A colourscale mapping integer z = 0 … n−1 (with zmin −0.5, zmax n − 0.5) to colours."""
    n = len(colours)
    scale = []
    for i, colour in enumerate(colours):
        scale += [[i / n, colour], [(i + 1) / n, colour]]
    return scale


def _legend_entries(fig: go.Figure, entries: dict[str, str]) -> None:
    """Legend items for colours used inside a trace (heat-map cells, bar colours)."""
    for label, colour in entries.items():
        fig.add_scatter(x=[None], y=[None], mode="markers", name=label,
                        marker=dict(symbol="square", size=12, color=colour), hoverinfo="skip")


def _date_labels(dates: pd.Series) -> list[str]:
    """Month-ends as 2025-11; a date that is not a month-end (the as-of date) in full."""
    labels = []
    for d in pd.to_datetime(dates):
        labels.append(f"{d:%Y-%m}" if d.is_month_end else f"{d:%Y-%m-%d}")
    return labels


def _percent(value) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.1%}"


def _rows_height(rows: int) -> int:
    return max(170, rows * ROW_HEIGHT + 120)


def _finish(fig: go.Figure, *, height: int, note: str | None = None, legend_bottom: bool = False,
            right_margin: int = 20, y_labels: Iterable = (), turned_x_labels: Iterable = ()) -> go.Figure:
    """The shared look, and margins that hold the chart's text (see `_margins`).

    y_labels: the tick labels of the left axis (category names, or `_number_labels` of a numeric
    axis); turned_x_labels: the labels of a category x axis that Plotly turns when they do not fit
    side by side."""
    legend = dict(orientation="h", x=0, xanchor="left", title_text="")
    legend.update(y=-0.02, yanchor="top") if legend_bottom else legend.update(y=1.0, yanchor="bottom")
    fig.update_layout(
        template="plotly_white",
        colorway=COUNTY_COLORWAY,
        height=height,
        margin=_margins(fig, height=height, note=bool(note), legend_bottom=legend_bottom, right=right_margin,
                        y_labels=y_labels, turned_x_labels=turned_x_labels),
        font=dict(family=FONT_FAMILY, size=FONT_SIZE),
        hoverlabel=dict(font_family=FONT_FAMILY),
        legend=legend,
        separators=".,",
    )
    # Plotly's automatic margins measure the drawn labels and then lay the chart out a second
    # time; the margins above already hold them, so every chart is laid out once.
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    _inert_user_text(fig)
    if note:
        fig.update_layout(title=dict(text=note, font=dict(size=12, color=MUTED_COLOR), x=0, xanchor="left",
                                     y=1, yanchor="top", pad=dict(t=6)))
    return fig


EDGE = 4  # pixels between the outermost text and the chart's edge
TICK_GAP = 6  # pixels between the plot and its tick labels
LINE = 1.4  # a line of text is this many font sizes high
TITLE_SIZE = FONT_SIZE * 1.2
TURN = math.radians(30)  # the angle Plotly turns category labels by when they do not fit side by side


def _margins(fig: go.Figure, *, height: int, note: bool, legend_bottom: bool, right: int, y_labels: Iterable,
             turned_x_labels: Iterable) -> dict:
    """Margins worked out from the text they hold, in pixels at the base font size (`scaled` scales them).

    Left: the widest tick label of the left axis, then its title turned along the axis. Bottom: one
    row of tick labels (or the widest category label turned), the axis title, the legend when it is
    below. Top: 44 holds one row above the plot (the legend, a line's label or the ticks of a top
    axis), a note 16 more."""
    y_axes, x_axes = list(fig.select_yaxes()), list(fig.select_xaxes())
    title_room = LINE * TITLE_SIZE + TICK_GAP
    left = EDGE + TICK_GAP + max((_text_width(label) for label in y_labels), default=0)
    left += title_room if any(axis.title.text for axis in y_axes) else 0
    bottom = EDGE
    if not any(axis.side == "top" for axis in x_axes):
        turned = max((_text_width(label) for label in turned_x_labels), default=0)
        bottom += TICK_GAP + max(LINE * FONT_SIZE, turned * math.sin(TURN) + LINE * FONT_SIZE * math.cos(TURN))
    bottom += title_room if any(axis.title.text for axis in x_axes) else 0
    if legend_bottom:  # the legend hangs 2 % of the plot's height below it
        bottom += 0.02 * height + 3 * FONT_SIZE
    return dict(l=math.ceil(left), r=right, t=60 if note else 44, b=math.ceil(bottom))


def _text_width(text, size: float = FONT_SIZE) -> float:
    """Pixels a label takes at `size`: a wide (CJK) character or % one em, a separator (,.) 0.3 em, any
    other at most 0.6 em."""
    return size * sum(1.0 if c == "%" or unicodedata.east_asian_width(c) in "WF" else 0.3 if c in ",." else 0.6
                      for c in str(text))


def _number_labels(values, spec: str) -> list[str]:
    """The longest tick labels a numeric axis over `values` can show, written with the axis's format
    (Python's format mini-language matches Plotly's d3 formats ",.0f" and ".0%"). Plotly pads the
    range by a few percent, so a tick can pass the extremes: take them 10 % further out."""
    numbers = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").dropna()
    return [format(value * 1.1, spec) for value in (numbers.min(), numbers.max())] if len(numbers) else []


def scaled(fig: go.Figure, factor: float) -> go.Figure:
    """A copy of the figure for the projector: every text (axis ticks and titles, legend, notes,
    line labels, text on bars) and the height `factor` times larger, the margins that hold
    text (all four: they are worked out from the text) too. Sizes left unset follow the base font."""
    spec = fig.to_dict()
    _scale_font_sizes(spec, factor)
    layout = spec["layout"]
    layout["height"] = round((layout.get("height") or 450) * factor)
    margin = layout.setdefault("margin", {})
    for side in ("l", "r", "t", "b"):
        if side in margin:
            margin[side] = round(margin[side] * factor)
    return go.Figure(spec)


def _scale_font_sizes(node, factor: float, in_font: bool = False) -> None:
    """Multiply every `size` inside a font (font, tickfont, textfont, title.font, …) in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "size" and in_font and isinstance(value, (int, float)):
                node[key] = value * factor
            elif isinstance(value, (dict, list)):
                _scale_font_sizes(value, factor, key.endswith("font"))
    elif isinstance(node, list):
        for item in node:
            _scale_font_sizes(item, factor, in_font)


# ---- dispatch (SPEC §9.1) ---------------------------------------------------------------------
FLOOR_COLOR = TIER_COLORS[2]


def dispatch_bars(suggestions: pd.DataFrame, policy: Policy, max_rows: int = MAX_ROWS) -> go.Figure:
    """What each county needs (库款底线 + 工资待补足, stacked) against the cash it has (a marker);
    the gap is the suggestion. Largest suggestion first."""
    rows = suggestions[suggestions["dispatch_need"] > 0]
    shown = rows.head(max_rows)
    names = shown["county_name"]
    balance = shown["treasury_balance"].fillna(0)
    fig = go.Figure()
    fig.add_bar(x=shown["cash_floor"], y=names, orientation="h", name=f"库款底线（预警线 {policy.coverage_warning:.2f} 个月支出）",
                marker_color=FLOOR_COLOR, hovertemplate="%{y}<br>库款底线 %{x:,.2f} 万元<extra></extra>")
    fig.add_bar(x=shown["payroll_topup"], y=names, orientation="h",
                name=f"工资待补足（未来 {policy.dispatch_horizon_days} 天）", marker_color=ACCOUNT_COLOR,
                hovertemplate="%{y}<br>工资待补足 %{x:,.2f} 万元<extra></extra>")
    fig.add_scatter(x=balance, y=names, mode="markers", name="现有库款",
                    marker=dict(symbol="line-ns", size=ROW_HEIGHT - 2, line=dict(width=4, color=BALANCE_COLOR)),
                    hovertemplate="%{y}<br>现有库款 %{x:,.2f} 万元<extra></extra>")
    fig.add_scatter(x=shown["cash_floor"] + shown["payroll_topup"], y=names, mode="text", showlegend=False,
                    text=[f"  缺 {v:,.0f}" for v in shown["dispatch_need"]], textposition="middle right",
                    hoverinfo="skip", cliponaxis=False)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title_text="万元", tickformat=",.0f", rangemode="tozero")  # 5,000, not "5k"
    note = f"显示建议调度最多的 {len(shown)} 个县区（共 {len(rows)} 个）" if len(rows) > len(shown) else None
    return _finish(fig, height=_rows_height(len(shown)), note=note, right_margin=90, y_labels=names)
# Plotly draws a subset of HTML in every label (<a href> becomes a live link, <b>, <br>):
# the data a chart shows — county, city and category names among it — is escaped so it
# appears exactly as typed. Our own markup lives in templates, titles and annotations only.
_DATA_TEXT = ("x", "y", "text", "customdata", "name")


def _inert_user_text(fig: go.Figure) -> None:
    for trace in fig.data:
        for attribute in _DATA_TEXT:
            value = getattr(trace, attribute, None)
            if isinstance(value, str):
                trace[attribute] = html.escape(value, quote=False)
            elif value is not None and not isinstance(value, dict):
                array = np.asarray(value, dtype=object)
                if array.size and any(isinstance(v, str) for v in array.flat):
                    escape = np.frompyfunc(lambda v: html.escape(v, quote=False) if isinstance(v, str) else v, 1, 1)
                    trace[attribute] = escape(array)
