"""库款保障：保障水平走势与分布、单个县区的库款日报、闲置资金。"""
import datetime as dt

import streamlit as st

from app import formatting as fmt
from app import cache, pickers, state, widgets
from app.widgets import Kpi
from fiscal import charts, reports
from fiscal.vocabulary import BLUE, COVERAGE_BANDS, labels

COMPARE_DEFAULT = 3  # lowest-coverage counties drawn against the median by default
COMPARE_CHOICES = 50  # lowest-coverage counties offered for that comparison
BAND_LABELS = labels(COVERAGE_BANDS)
WINDOWS = {"近 3 个月": 92, "近 6 个月": 183, "近 12 个月": 366}

widgets.page_header("库款保障")
if not widgets.require("counties", "treasury"):
    st.stop()

view = state.view()
policy = view.policy
panel, metrics = cache.panel(), cache.metrics()
bands = metrics["coverage_band"].value_counts()
idle = reports.idle_cash(metrics, policy)
widgets.kpis([
    Kpi("库款保障水平中位数", fmt.months(metrics["coverage_months"].median())),
    Kpi(f"预警（低于 {policy.coverage_warning:.2f} 个月）", fmt.counties(bands.get(BAND_LABELS["warning"], 0))),
    Kpi(f"偏低（低于 {policy.coverage_prompt:.2f} 个月）", fmt.counties(bands.get(BAND_LABELS["low"], 0))),
    Kpi(f"闲置（高于 {policy.coverage_idle:.2f} 个月）", fmt.counties(bands.get(BAND_LABELS["idle"], 0)),
        f"超出闲置线 {fmt.amount(idle['idle_amount'].sum())}", colour=BLUE),
])

by_coverage = metrics.dropna(subset=["coverage_months"]).sort_values("coverage_months")["county_code"].tolist()

st.subheader("库款保障水平走势（月末）")
# The counties worth drawing against the median, not every county: the lowest by coverage, the
# county of the daily report below (any county, chosen by its city) and those already chosen.
compare_choices = [*st.session_state.get("treasury_compare", []), *by_coverage[:COMPARE_CHOICES],
                   st.session_state.get("treasury_county")]
names = fmt.county_labels(metrics[metrics["county_code"].isin(compare_choices)])
compare = st.multiselect("对照县区", [c for c in dict.fromkeys(compare_choices) if c in names],
                         default=by_coverage[:COMPARE_DEFAULT], format_func=names.get, max_selections=8,
                         key="treasury_compare", placeholder="选择县区与中位数对照",
                         help=f"可选库款保障水平最低的 {COMPARE_CHOICES} 个县区和下方库款日报所选的县区")
widgets.chart(lambda: charts.coverage_trend(policy, cache.from_panel(reports.coverage_trend, view.as_of),
                                           reports.county_history(panel, view.as_of, compare)),
              key="coverage_trend", choices=tuple(compare))

st.subheader("各市库款保障水平分布")
widgets.chart(lambda: charts.coverage_by_city(metrics, policy), key="coverage_by_city")

st.subheader("县区库款日报")
city_column, county_column, window = st.columns([2, 2, 3], vertical_alignment="bottom")
county = pickers.county_picker(metrics, key="treasury_county", default=by_coverage[0] if by_coverage else None,
                               columns=(city_column, county_column))
days = WINDOWS[window.segmented_control("时间范围", list(WINDOWS), default="近 6 个月", key="treasury_window")
               or "近 6 个月"]
daily = cache.report(reports.county_daily, county, view.as_of - dt.timedelta(days=days), view.as_of)
outflow = metrics.set_index("county_code").at[county, "avg_monthly_outflow"]
if daily["treasury_balance"].notna().any():
    widgets.chart(lambda: charts.daily_treasury(daily, {
        f"预警线 {policy.coverage_warning:.2f} 个月": policy.coverage_warning * outflow,
        f"提示线 {policy.coverage_prompt:.2f} 个月": policy.coverage_prompt * outflow}),
        key="daily_treasury", choices=(county, days))
else:
    widgets.empty("所选时间范围内该县区没有库款日报数据")

st.subheader(f"闲置资金（库款保障水平高于 {policy.coverage_idle:.2f} 个月）")
if idle.empty:
    widgets.empty("没有库款保障水平高于闲置线的县区")
else:
    widgets.table(widgets.detail_links(idle), [
        "county_name", "city_name", "treasury_balance", "avg_monthly_outflow", "coverage_months", "idle_amount",
        "detail_url"], key="treasury_idle", file_stem="闲置资金")
